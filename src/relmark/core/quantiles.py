r"""Weighted quantiles by the inverted empirical distribution function.

relmark cuts customers into tiers (``spend_level``, ``clv_tier``) at quantiles of a value over
the customers of a summary. A summary may be compressed or carry row weights (one row standing
for $w_i$ identical customers), so the quantile must be that of the customers, not of the rows:
[`weighted_quantile`][relmark.core.quantiles.weighted_quantile] is the one definition every tier
uses.
"""

from __future__ import annotations

import numpy as np

from relmark.typing import FloatArray

__all__ = ["weighted_quantile"]


def weighted_quantile(values: FloatArray, weights: FloatArray, q: float) -> float:
    r"""The inverted-CDF $q$-quantile of ``values`` weighted by ``weights``.

    With $W(v) = \sum_{i: v_i \le v} w_i$ the weighted empirical distribution and
    $W_\text{tot} = \sum_i w_i$, the quantile is the smallest value $v_i$ (with $w_i > 0$) such
    that $W(v_i) \ge q\, W_\text{tot}$: definition 1 of Hyndman & Fan (1996), "Sample quantiles
    in statistical packages", *The American Statistician* 50(4), with the counts replaced by
    weights. For integer weights it is the quantile of the sample in which value $v_i$ appears
    $w_i$ times; for unit weights it equals ``numpy.quantile(values, q, method="inverted_cdf")``.
    Rows of zero weight stand for no customer and are ignored. No interpolation: the result is
    always one of the values.

    A kernel: inputs are not validated. ``values`` and ``weights`` must be 1-D float64 arrays of
    the same length, the weights finite and $\ge 0$ with a positive sum, and $0 \le q \le 1$.

    Args:
        values: The values $v_i$.
        weights: The weights $w_i$ (how many customers each value stands for).
        q: The probability $q$.

    Returns:
        The quantile.

    Examples:
        >>> import numpy as np
        >>> weighted_quantile(np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 1.0]), 0.5)
        2.0
        >>> weighted_quantile(np.array([1.0, 2.0, 3.0]), np.array([5.0, 1.0, 1.0]), 0.5)
        1.0
    """
    held = weights > 0
    kept_values = values[held]
    order = np.argsort(kept_values, kind="stable")
    # Cumulative weights are compared with q * total (not cumulative / total with q), so that for
    # integer weights the comparison is exact and matches the expanded sample.
    cumulative = np.cumsum(weights[held][order], dtype=np.float64)
    index = int(np.searchsorted(cumulative, q * cumulative[-1], side="left"))
    return float(kept_values[order][min(index, kept_values.size - 1)])
