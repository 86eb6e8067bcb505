"""Run several scorers on one customer summary and join their tables."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from relmark.data.summary import CustomerSummary
from relmark.data.table import ScoreTable
from relmark.errors import InvalidInputError
from relmark.scoring.registry import DEFAULT_REGISTRY, ScorerRegistry
from relmark.typing import Scorer

__all__ = ["score"]


def score(
    summary: CustomerSummary,
    scorers: Sequence[str | Scorer],
    *,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    fit: bool = True,
    registry: ScorerRegistry | None = None,
) -> ScoreTable:
    """Fit each scorer on ``summary``, score it, and join the results on customer id.

    Args:
        summary: The customers to score.
        scorers: Registered scorer names (``"rfm"``) and/or scorer objects, in column order.
            Scorer objects are fitted in place (as ``scorer.fit(summary)`` would).
        params: Hyperparameters per scorer *name*, e.g. ``{"rfm": {"ties": "first"}}``.
        fit: Fit every scorer on ``summary`` first (default). With ``False`` every entry must be
            an already fitted scorer object, applied as is (scoring new customers on an old
            scale).
        registry: Where names are looked up; defaults to the default registry.

    Returns:
        One table with the columns of every scorer, rows in summary order.

    Raises:
        InvalidInputError: For an empty ``scorers``, ``params`` for a name not in ``scorers``,
            a name with ``fit=False``, or column names repeated across scorers.
        UnknownScorerError: For a name no registry entry matches.

    Examples:
        >>> from relmark.data.summary import CustomerSummary
        >>> summary = CustomerSummary.from_arrays(
        ...     [0, 1, 3, 5, 8], [0, 5, 20, 30, 38], [40] * 5, monetary=[0, 10, 20, 30, 40]
        ... )
        >>> table = score(summary, ["rfm"], params={"rfm": {"ties": "first"}})
        >>> table["segment"].tolist()
        ['Hibernating', 'Hibernating', 'Need Attention', 'Loyal', 'Champions']
    """
    if isinstance(scorers, str) or not scorers:
        raise InvalidInputError(
            "The 'scorers' parameter of score must be a non-empty list of scorer names or "
            f"objects. Got {scorers!r}."
        )
    params = dict(params or {})
    names = [s for s in scorers if isinstance(s, str)]
    unused = sorted(set(params) - set(names))
    if unused:
        raise InvalidInputError(
            f"The 'params' parameter of score names scorer(s) {unused} that are not in "
            f"'scorers' ({names})."
        )
    source = DEFAULT_REGISTRY if registry is None else registry
    tables: list[ScoreTable] = []
    for entry in scorers:
        if isinstance(entry, str):
            if not fit:
                raise InvalidInputError(
                    f"score(..., fit=False) needs fitted scorer objects; got the name {entry!r}."
                )
            scorer = source.get(entry, **params.get(entry, {}))
        elif isinstance(entry, Scorer):
            scorer = entry
        else:
            raise InvalidInputError(
                f"Each entry of 'scorers' must be a scorer name or an object with fit(summary) "
                f"and score(summary); got {type(entry).__name__}."
            )
        if fit:
            scorer = scorer.fit(summary)
        tables.append(scorer.score(summary))
    return tables[0].join(*tables[1:])
