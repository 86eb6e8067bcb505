"""relmark.scoring.score: several scorers on one summary, joined into one table."""

from __future__ import annotations

import numpy as np
import pytest

from relmark.data.summary import CustomerSummary
from relmark.data.table import ColumnInfo, ColumnKind, ScoreTable
from relmark.errors import InvalidInputError, UnknownScorerError
from relmark.rfm import RFMScorer
from relmark.scoring.pipeline import score
from relmark.scoring.registry import ScorerRegistry


class PurchaseShare:
    """A tiny scorer: each customer's share of all repeat purchases (fitted total)."""

    total_: float

    def __init__(self) -> None:
        pass

    def fit(self, summary):
        self.total_ = float(summary.frequency.sum())
        return self

    def score(self, summary):
        info = {
            "share": ColumnInfo(description="Share of repeat purchases.", kind=ColumnKind.FLOAT)
        }
        return ScoreTable.from_columns(
            summary.customer_id, {"share": summary.frequency / self.total_}, info
        )


@pytest.fixture
def summary():
    """Eight customers with amounts."""
    return CustomerSummary.from_arrays(
        [0, 1, 2, 3, 0, 5, 8, 1],
        [0, 4, 9, 20, 0, 25, 30, 2],
        [31.0] * 8,
        monetary=[0, 10, 15, 20, 0, 30, 25, 5],
        customer_id=list("abcdefgh"),
    )


def test_single_name_equals_fitting_the_scorer(summary):
    """score(summary, ['rfm'], params=...) equals RFMScorer(**params).fit(summary).score(summary)."""
    got = score(summary, ["rfm"], params={"rfm": {"ties": "first"}})
    assert got == RFMScorer(ties="first").fit(summary).score(summary)


def test_names_and_objects_are_joined_in_order(summary):
    """Columns of every scorer appear in the order given, rows in summary order."""
    got = score(summary, ["rfm", PurchaseShare()])
    assert got.columns[-1] == "share"
    assert got.columns[0] == "recency_score"
    np.testing.assert_allclose(got["share"], summary.frequency / 20)


def test_prefitted_scorers_with_fit_false(summary):
    """With fit=False, fitted scorers are applied as they are (new data on an old scale)."""
    scorer = RFMScorer().fit(summary.take([0, 1, 2, 3]))
    got = score(summary, [scorer], fit=False)
    assert got == scorer.score(summary)
    with pytest.raises(InvalidInputError, match="fit=False"):
        score(summary, ["rfm"], fit=False)


def test_bad_calls(summary):
    """Empty lists, stray params, unknown names, non-scorers and column clashes are reported."""
    with pytest.raises(InvalidInputError, match="non-empty list"):
        score(summary, [])
    with pytest.raises(InvalidInputError, match="non-empty list"):
        score(summary, "rfm")
    with pytest.raises(InvalidInputError, match="\\['bgnbd'\\] that are not in"):
        score(summary, ["rfm"], params={"bgnbd": {}})
    with pytest.raises(UnknownScorerError, match=r"Available scorers: .*rfm"):
        score(summary, ["nope"], registry=ScorerRegistry(entry_point_group=None))
    with pytest.raises(InvalidInputError, match="got int"):
        score(summary, [3])
    with pytest.raises(InvalidInputError, match="already appear"):
        score(summary, ["rfm", RFMScorer()])
