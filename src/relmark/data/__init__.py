"""Columnar data layer: transaction logs, customer summaries, score tables, units and frame interop."""

from typing import TYPE_CHECKING

from relmark._lazy import lazy_exports

if TYPE_CHECKING:
    from relmark.data.covariates import Covariates
    from relmark.data.log import TransactionLog
    from relmark.data.summary import CompressedSummary, CustomerSummary
    from relmark.data.table import ColumnInfo, ColumnKind, ScoreTable
    from relmark.data.touchpoints import TouchpointTable
    from relmark.data.units import TimeUnit, parse_unit

__all__ = [
    "ColumnInfo",
    "ColumnKind",
    "CompressedSummary",
    "Covariates",
    "CustomerSummary",
    "ScoreTable",
    "TimeUnit",
    "TouchpointTable",
    "TransactionLog",
    "parse_unit",
]

_HOMES = {
    "ColumnInfo": "relmark.data.table",
    "ColumnKind": "relmark.data.table",
    "CompressedSummary": "relmark.data.summary",
    "Covariates": "relmark.data.covariates",
    "CustomerSummary": "relmark.data.summary",
    "ScoreTable": "relmark.data.table",
    "TimeUnit": "relmark.data.units",
    "TouchpointTable": "relmark.data.touchpoints",
    "TransactionLog": "relmark.data.log",
    "parse_unit": "relmark.data.units",
}
"""Where each public name is defined: imported on first use (see relmark._lazy)."""

__getattr__, __dir__ = lazy_exports(__name__, _HOMES)
