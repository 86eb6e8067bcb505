"""check_scorer: passes a well-behaved scorer and names the check a broken one fails."""

from __future__ import annotations

import numpy as np
import pytest

from relmark.data.summary import CustomerSummary
from relmark.data.table import ColumnInfo, ColumnKind, ScoreTable
from relmark.errors import InvalidInputError, NotFittedError
from relmark.rfm import RFMScorer
from relmark.testing import check_scorer

INFO = {"value": ColumnInfo(description="Frequency over the fitted mean.", kind=ColumnKind.FLOAT)}


class Good:
    """Scores frequency relative to the fitted mean frequency."""

    mean_: float

    def __init__(self, *, offset: float = 0.0) -> None:
        self.offset = offset

    def fit(self, summary):
        if not isinstance(summary, CustomerSummary):
            raise InvalidInputError(
                f"Good.fit expects a CustomerSummary; got {type(summary).__name__}."
            )
        self.mean_ = float(summary.frequency.mean())
        return self

    def score(self, summary):
        if not hasattr(self, "mean_"):
            raise NotFittedError("Good is not fitted.")
        if not isinstance(summary, CustomerSummary):
            raise InvalidInputError("Good.score expects a CustomerSummary.")
        values = summary.frequency / (self.mean_ + 1.0) + self.offset
        return ScoreTable.from_columns(summary.customer_id, {"value": values}, INFO)


class ScoresBeforeFit(Good):
    """Forgets the not-fitted check."""

    def score(self, summary):
        self.mean_ = getattr(self, "mean_", 0.0)
        return super().score(summary)


class RowOrderDependent(Good):
    """Scores by row position: the classic 'rank by input order' bug."""

    def score(self, summary):
        super().score(summary)
        values = np.arange(len(summary), dtype=np.float64)
        return ScoreTable.from_columns(summary.customer_id, {"value": values}, INFO)


class NonDeterministic(Good):
    """Draws from an unseeded generator in fit."""

    def fit(self, summary):
        super().fit(summary)
        self.mean_ += float(np.random.default_rng().random())
        return self


class ForgetsFittedState(Good):
    """Keeps fitted state in an attribute the JSON payload does not carry."""

    def fit(self, summary):
        super().fit(summary)
        self._hidden = self.mean_ * 2
        return self

    def score(self, summary):
        table = super().score(summary)
        values = table["value"] + getattr(self, "_hidden", 1.0)
        return ScoreTable.from_columns(summary.customer_id, {"value": values}, INFO)


class AcceptsAnything(Good):
    """Accepts a dict instead of a summary and fails with a KeyError later."""

    def fit(self, summary):
        if isinstance(summary, dict):
            self.mean_ = float(np.mean(summary["frequency"]))
            return self
        return super().fit(summary)


class ReturnsFrame(Good):
    """Returns a plain dict instead of a ScoreTable."""

    def score(self, summary):
        table = super().score(summary)
        return {"value": table["value"]}


class PositionalInit(Good):
    """Takes a positional hyperparameter."""

    def __init__(self, offset: float = 0.0) -> None:
        self.offset = offset


class RenamesHyperparameter(Good):
    """Stores a hyperparameter under another name."""

    def __init__(self, *, offset: float = 0.0) -> None:
        self.shift = offset


@pytest.fixture
def summary():
    """Thirty customers with ids in scrambled order."""
    rng = np.random.default_rng(2)
    n = 30
    x = rng.integers(0, 5, n)
    t_x = np.where(x > 0, rng.integers(1, 30, n), 0).astype(np.float64)
    return CustomerSummary.from_arrays(
        x,
        t_x,
        np.full(n, 30.0),
        monetary=np.where(x > 0, rng.integers(1, 50, n), 0),
        customer_id=rng.permutation(n) + 100,
    )


def test_good_scorer_passes(summary):
    """A scorer meeting every rule passes, and so does the built-in RFM scorer."""
    check_scorer(Good(offset=1.5), summary)
    check_scorer(RFMScorer(), summary)


@pytest.mark.parametrize(
    ("scorer", "check"),
    [
        (ScoresBeforeFit(), "not fitted"),
        (RowOrderDependent(), "invariance to customer order"),
        (NonDeterministic(), "determinism"),
        (ForgetsFittedState(), "JSON round trip"),
        (AcceptsAnything(), "bad input \\(fit\\)"),
        (ReturnsFrame(), "score table"),
        (PositionalInit(), "keyword-only hyperparameters"),
        (RenamesHyperparameter(), "hyperparameters stored verbatim"),
        (object(), "Scorer protocol"),
    ],
)
def test_broken_scorers_fail_the_named_check(scorer, check, summary):
    """Each deliberately broken scorer fails with an AssertionError naming its check."""
    with pytest.raises(AssertionError, match=f"fails the '{check}"):
        check_scorer(scorer, summary)
