"""The layer-0 part of [`relmark.typing`][relmark.typing]: array aliases and the MLE contract.

Everything here depends on numpy alone, so the lowest layers (`relmark.core`, `relmark.domain`,
`relmark.data`, `relmark.io` and the layer-0 shared modules) import it without importing the
data layer. [`relmark.typing`][relmark.typing] re-exports every name; users and the packages
above the data layer import them from there.
"""

from __future__ import annotations

from typing import Protocol, TypeAlias, runtime_checkable

import numpy as np
from numpy.typing import NDArray

__all__ = ["BoolArray", "FloatArray", "IntArray", "WeightedLikelihood"]

FloatArray: TypeAlias = NDArray[np.float64]
"""A float64 array: the only dtype the numeric kernels in `relmark.core` accept."""

IntArray: TypeAlias = NDArray[np.int64]
"""An int64 array: counts, codes and indices."""

BoolArray: TypeAlias = NDArray[np.bool_]
"""A boolean mask."""


@runtime_checkable
class WeightedLikelihood(Protocol):
    r"""A log-likelihood prepared once for a data set, evaluated as weighted totals.

    ``total`` returns $\sum_i w_i\ell_i(\theta)$ and its gradient in $\ln\theta$ (and, when asked
    and available, its Hessian in $\ln\theta$; ``None`` otherwise). ``rows`` returns the per-row
    values and gradients; the driver
    ([`maximize_weighted`][relmark.core.mle.maximize_weighted]) calls it only to name the rows
    where the total is not finite.
    """

    @property
    def n_rows(self) -> int:
        """Number of rows the likelihood sums over."""
        ...

    @property
    def total_weight(self) -> float:
        r"""$W = \sum_i w_i$."""
        ...

    def total(
        self, log_params: FloatArray, *, hessian: bool = False
    ) -> tuple[float, FloatArray, FloatArray | None]:
        """Weighted total log-likelihood, its gradient and (optionally) its Hessian."""
        ...

    def rows(self, log_params: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Per-row log-likelihood ``(n,)`` and gradient ``(n, k)``."""
        ...
