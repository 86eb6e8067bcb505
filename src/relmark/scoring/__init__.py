"""Pluggable scorers: a registry with entry-point discovery, score tables, and a pipeline.

- [`ScoreTable`][relmark.data.table.ScoreTable]: per-customer columns with metadata, joinable
  on customer id and convertible to pandas, polars or pyarrow.
- [`ScorerRegistry`][relmark.scoring.registry.ScorerRegistry] and the default-registry functions
  [`register_scorer`][relmark.scoring.registry.register_scorer],
  [`get_scorer`][relmark.scoring.registry.get_scorer],
  [`available_scorers`][relmark.scoring.registry.available_scorers].
- [`score`][relmark.scoring.pipeline.score]: run several scorers on one summary into one table.

The protocol every scorer satisfies is [`Scorer`][relmark.typing.Scorer].
"""

from typing import TYPE_CHECKING

from relmark._lazy import lazy_exports

if TYPE_CHECKING:
    from relmark.data.table import ColumnInfo, ColumnKind, ScoreTable
    from relmark.scoring.pipeline import score
    from relmark.scoring.registry import (
        ScorerRegistry,
        available_scorers,
        get_scorer,
        register_scorer,
    )

__all__ = [
    "ColumnInfo",
    "ColumnKind",
    "ScoreTable",
    "ScorerRegistry",
    "available_scorers",
    "get_scorer",
    "register_scorer",
    "score",
]

_HOMES = {
    "ColumnInfo": "relmark.data.table",
    "ColumnKind": "relmark.data.table",
    "ScoreTable": "relmark.data.table",
    "ScorerRegistry": "relmark.scoring.registry",
    "available_scorers": "relmark.scoring.registry",
    "get_scorer": "relmark.scoring.registry",
    "register_scorer": "relmark.scoring.registry",
    "score": "relmark.scoring.pipeline",
}
"""Where each public name is defined: imported on first use (see relmark._lazy)."""

__getattr__, __dir__ = lazy_exports(__name__, _HOMES)
