r"""Weighted quantiles by the inverted empirical distribution function.

relmark cuts customers into tiers (``spend_level``, ``clv_tier``) at quantiles of a value over
the customers of a summary. A summary may be compressed or carry row weights (one row standing
for $w_i$ identical customers), so the quantile must be that of the customers, not of the rows:
[`weighted_quantile`][relmark.core.quantiles.weighted_quantile] is the one definition every tier
uses.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from relmark._typing import FloatArray

__all__ = ["TIERS", "tercile_cuts", "tercile_tiers", "weighted_quantile"]

TIERS = ("low", "medium", "high")
"""The three tier labels, lowest first."""


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


def tercile_cuts(values: FloatArray, weights: FloatArray) -> tuple[float, float]:
    """The cut points $(c_1, c_2)$ of three tiers: the weighted 1/3 and 2/3 quantiles.

    A kernel (inputs as for [`weighted_quantile`][relmark.core.quantiles.weighted_quantile]);
    the one definition of the ``clv_tier`` and ``spend_level`` cuts.

    Examples:
        >>> import numpy as np
        >>> tercile_cuts(np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]), np.ones(6))
        (2.0, 4.0)
    """
    return weighted_quantile(values, weights, 1 / 3), weighted_quantile(values, weights, 2 / 3)


def tercile_tiers(values: FloatArray, low_cut: float, high_cut: float) -> NDArray[np.str_]:
    """Each value's tier: ``low`` below $c_1$, ``high`` at or above $c_2$, ``medium`` between.

    When $c_1 = c_2$ (many equal values) ``high`` needs a value above $c_1$, so a value at the
    shared cut is ``medium``, never both low and high.

    Examples:
        >>> import numpy as np
        >>> tercile_tiers(np.array([1.0, 3.0, 4.0, 9.0]), 2.0, 4.0).tolist()
        ['low', 'medium', 'high', 'high']
        >>> tercile_tiers(np.array([1.0, 2.0, 3.0]), 2.0, 2.0).tolist()
        ['low', 'medium', 'high']
    """
    tiers: NDArray[np.str_] = np.full(values.shape, TIERS[1], dtype="<U6")
    tiers[values < low_cut] = TIERS[0]
    tiers[(values >= high_cut) & (values > low_cut)] = TIERS[2]
    return tiers
