"""Columnar data layer: transaction logs, customer summaries, units and frame interop."""

from relmark.data.covariates import Covariates
from relmark.data.log import TransactionLog
from relmark.data.summary import CompressedSummary, CustomerSummary
from relmark.data.units import TimeUnit, parse_unit

__all__ = [
    "CompressedSummary",
    "Covariates",
    "CustomerSummary",
    "TimeUnit",
    "TransactionLog",
    "parse_unit",
]
