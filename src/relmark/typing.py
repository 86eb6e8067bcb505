"""Contracts shared across relmark: array aliases and the protocols plug-ins satisfy.

A plug-in is anything that satisfies a protocol here; subclassing a relmark base class is a
convenience, never a requirement.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, Self, TypeAlias, runtime_checkable

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from relmark.data.summary import CustomerSummary
    from relmark.data.table import ScoreTable

__all__ = ["BoolArray", "FloatArray", "IntArray", "Scorer"]

FloatArray: TypeAlias = NDArray[np.float64]
"""A float64 array: the only dtype the numeric kernels in `relmark.core` accept."""

IntArray: TypeAlias = NDArray[np.int64]
"""An int64 array: counts, codes and indices."""

BoolArray: TypeAlias = NDArray[np.bool_]
"""A boolean mask."""


@runtime_checkable
class Scorer(Protocol):
    """Anything that learns from a customer summary and scores customers.

    Lifecycle: configure in ``__init__`` (keyword-only hyperparameters stored verbatim) →
    ``fit(summary)`` returns ``self`` and stores learned state in trailing-underscore attributes →
    ``score(summary)`` returns one row per customer. ``score`` before ``fit`` raises
    [`NotFittedError`][relmark.errors.NotFittedError].
    """

    def fit(self, summary: CustomerSummary, /) -> Self:
        """Learn from ``summary`` and return ``self``."""
        ...

    def score(self, summary: CustomerSummary, /) -> ScoreTable:
        """Score every customer of ``summary``; one row per customer, in summary order."""
        ...
