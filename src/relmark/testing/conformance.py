"""The scorer conformance kit: one function every scorer, built-in or third-party, should pass.

```python
from relmark.testing import check_scorer


def test_my_scorer_conforms(summary):
    check_scorer(MyScorer(alpha=2.0), summary)
```

[`check_scorer`][relmark.testing.conformance.check_scorer] raises ``AssertionError`` with a message
saying which property failed and how, so it reads well in a pytest report.
"""

from __future__ import annotations

import copy
import inspect
from typing import Any

import numpy as np
from numpy.typing import NDArray

from relmark.data.summary import CustomerSummary
from relmark.data.table import ScoreTable
from relmark.errors import InvalidInputError, NotFittedError
from relmark.typing import Scorer

__all__ = ["check_scorer"]

_MAX_SHOWN = 5


def _fail(scorer: object, check: str, detail: str) -> AssertionError:
    return AssertionError(f"{type(scorer).__name__} fails the {check!r} check: {detail}")


def _clone(scorer: object) -> Any:
    """A new unfitted instance with the same keyword-only hyperparameters (read from attributes)."""
    cls = type(scorer)
    parameters = inspect.signature(cls.__init__).parameters.values()
    hyper: dict[str, Any] = {}
    for p in parameters:
        if p.kind is inspect.Parameter.KEYWORD_ONLY:
            if not hasattr(scorer, p.name):
                raise _fail(
                    scorer,
                    "hyperparameters stored verbatim",
                    f"__init__ takes {p.name!r} but the instance has no attribute of that name.",
                )
            hyper[p.name] = copy.deepcopy(getattr(scorer, p.name))
        elif p.kind is not inspect.Parameter.VAR_KEYWORD and p.name != "self":
            raise _fail(
                scorer,
                "keyword-only hyperparameters",
                f"__init__ parameter {p.name!r} is not keyword-only.",
            )
    return cls(**hyper)


def _columns_differ(a: NDArray[Any], b: NDArray[Any]) -> NDArray[np.bool_]:
    if a.dtype.kind == "f" and b.dtype.kind == "f":
        differ: NDArray[np.bool_] = (a != b) & ~(np.isnan(a) & np.isnan(b))
        return differ
    return np.asarray(a != b, dtype=np.bool_)


def _compare(scorer: object, check: str, expected: ScoreTable, got: ScoreTable) -> None:
    if got.columns != expected.columns:
        raise _fail(scorer, check, f"columns {got.columns} instead of {expected.columns}.")
    if not np.array_equal(got.customer_id, expected.customer_id):
        raise _fail(scorer, check, "the rows are in a different customer order.")
    for name in expected.columns:
        differ = _columns_differ(expected[name], got[name])
        if differ.any():
            rows = np.flatnonzero(differ)[:_MAX_SHOWN]
            raise _fail(
                scorer,
                check,
                f"column {name!r} differs for customer(s) "
                f"{expected.customer_id[rows].tolist()}: {expected[name][rows].tolist()} vs. "
                f"{got[name][rows].tolist()}.",
            )
        if got.info[name] != expected.info[name]:
            raise _fail(scorer, check, f"the metadata of column {name!r} differs.")


def _score_table(scorer: Any, summary: CustomerSummary, check: str) -> ScoreTable:
    table = scorer.score(summary)
    if not isinstance(table, ScoreTable):
        raise _fail(scorer, check, f"score returned {type(table).__name__}, not a ScoreTable.")
    if len(table) != len(summary):
        raise _fail(
            scorer, check, f"score returned {len(table)} rows for {len(summary)} customers."
        )
    if not np.array_equal(table.customer_id, summary.customer_id):
        raise _fail(scorer, check, "score's rows do not follow the summary's customer order.")
    return table


def _expect_error(scorer: object, check: str, error: type[Exception], call: Any, what: str) -> None:
    try:
        call()
    except error:
        return
    except Exception as exc:
        raise _fail(
            scorer, check, f"{what} raised {type(exc).__name__} instead of {error.__name__}: {exc}"
        ) from exc
    raise _fail(scorer, check, f"{what} raised nothing; expected {error.__name__}.")


def check_scorer(scorer: Scorer, summary: CustomerSummary, *, seed: int = 0) -> None:
    """Check that ``scorer`` behaves as every relmark scorer must.

    The checks, each on fresh clones of ``scorer`` (same hyperparameters, unfitted):

    1. it satisfies the [`Scorer`][relmark.typing.Scorer] protocol and its ``__init__`` takes only
       keyword-only hyperparameters stored verbatim as attributes;
    2. ``score`` before ``fit`` raises [`NotFittedError`][relmark.errors.NotFittedError];
    3. ``fit`` returns the scorer itself, and ``score`` returns a
       [`ScoreTable`][relmark.data.table.ScoreTable] with one row per customer, in summary
       order;
    4. determinism: two fits on the same data score identically;
    5. invariance to customer order: fitting and scoring a shuffled copy of ``summary`` gives
       every customer the same row as before, and so does scoring the shuffled copy with the
       first fit;
    6. the fitted scorer survives a JSON round trip through ``relmark.io.to_json`` /
       ``relmark.io.from_json`` and scores identically afterwards;
    7. ``fit`` and ``score`` reject a non-summary with
       [`InvalidInputError`][relmark.errors.InvalidInputError].

    Args:
        scorer: The scorer to check (left untouched; clones are fitted).
        summary: Small data the scorer can fit (a few dozen customers is plenty).
        seed: Seed of the shuffle used by the order-invariance check.

    Raises:
        AssertionError: Naming the first check that failed and how.
    """
    if not isinstance(scorer, Scorer):
        raise _fail(scorer, "Scorer protocol", "it lacks fit(summary) or score(summary).")
    from relmark.io import from_json, to_json

    unfitted = _clone(scorer)
    _expect_error(
        scorer,
        "not fitted",
        NotFittedError,
        lambda: unfitted.score(summary),
        "score before fit",
    )

    fitted = _clone(scorer)
    returned = fitted.fit(summary)
    if returned is not fitted:
        raise _fail(scorer, "fit returns self", f"fit returned {type(returned).__name__}.")
    table = _score_table(fitted, summary, "score table")
    missing = [c for c in table.columns if c not in table.info]
    if missing:
        raise _fail(scorer, "column metadata", f"no ColumnInfo for {missing}.")

    again = _clone(scorer).fit(summary)
    _compare(scorer, "determinism", table, _score_table(again, summary, "determinism"))

    order = np.random.default_rng(seed).permutation(len(summary))
    shuffled = summary.take(order)
    refit = _clone(scorer).fit(shuffled)
    expected = table.take(order)
    _compare(
        scorer,
        "invariance to customer order (fit)",
        expected,
        _score_table(refit, shuffled, "invariance to customer order (fit)"),
    )
    _compare(
        scorer,
        "invariance to customer order (score)",
        expected,
        _score_table(fitted, shuffled, "invariance to customer order (score)"),
    )

    try:
        restored = from_json(to_json(fitted), type(fitted))
    except Exception as exc:
        raise _fail(scorer, "JSON round trip", f"{type(exc).__name__}: {exc}") from exc
    _compare(scorer, "JSON round trip", table, _score_table(restored, summary, "JSON round trip"))

    not_a_summary = {"frequency": [1, 2], "recency": [1.0, 2.0], "T": [3.0, 3.0]}
    _expect_error(
        scorer,
        "bad input (fit)",
        InvalidInputError,
        lambda: _clone(scorer).fit(not_a_summary),
        "fit(<dict>)",
    )
    _expect_error(
        scorer,
        "bad input (score)",
        InvalidInputError,
        lambda: fitted.score(not_a_summary),
        "score(<dict>)",
    )
