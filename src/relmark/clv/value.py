r"""Discounted customer lifetime value from a transaction model and a spend model.

For customer $i$, a horizon of $K$ periods of length $\Delta$ (the ``unit``) and a discount rate
$d$ per period:

$$\mathrm{CLV}_i = m \cdot E[M_i] \sum_{k=1}^{K}
\frac{E[X_i(k\Delta)] - E[X_i((k-1)\Delta)]}{(1+d)^k},$$

where $E[X_i(t)]$ is the transaction model's conditional expected number of repeat purchases in
the next $t$ (so the numerator is the expected number in period $k$), $E[M_i]$ the spend model's
expected average transaction value and $m$ the margin. Each period's purchases are discounted as
if they fell at the period's end. Continuous-time discounting (DERT) has no simple closed form for
BG/NBD and is not offered; with short periods (``unit="D"`` or ``"W"``) the discrete sum is close
to it.
"""

from __future__ import annotations

import numpy as np

from relmark._estimator import fitted_attribute
from relmark._validation import check_real
from relmark.clv._base import RepeatBuyingModel
from relmark.clv._checks import check_clv_periods
from relmark.data.summary import CompressedSummary, CustomerSummary, require_summary
from relmark.data.units import TimeUnit, parse_unit
from relmark.errors import InvalidInputError
from relmark.typing import FloatArray, IntArray, SpendModel, TransactionModel

__all__ = ["customer_lifetime_value"]


_OWNER = "customer_lifetime_value"
_BLOCK_ELEMENTS = 1 << 18
"""Rows × periods evaluated at a time (2 MB per float64 temporary): memory stays flat in the
number of rows and periods."""


def discount_schedule(
    model_unit: TimeUnit, *, periods: int, period: TimeUnit, rate: float
) -> tuple[FloatArray, FloatArray]:
    r"""Period ends $t_k$ and weights $w_k$ with discounted purchases $= \sum_k w_k E[X(t_k)]$.

    The factor of the CLV that depends on the transaction model, for the package's fast paths
    (interval draws) as for [`customer_lifetime_value`][relmark.clv.value.customer_lifetime_value]:
    by summation by parts, $\sum_k (E_k - E_{k-1})(1+d)^{-k} = \sum_{k<K} E_k
    \big((1+d)^{-k} - (1+d)^{-k-1}\big) + E_K (1+d)^{-K}$ ($E_0 = 0$), so the expected
    purchases are needed only at the $K$ period ends.

    Args:
        model_unit: The transaction model's time unit (the unit of the returned $t_k$).
        periods: Number of periods $K$ (validated).
        period: Length of one period.
        rate: Discount rate per period (validated).

    Returns:
        ``(horizons, weights)``, each of shape ``(K,)``.

    Examples:
        >>> from relmark.data.units import parse_unit
        >>> t, w = discount_schedule(parse_unit("W"), periods=2, period=parse_unit("W"), rate=0.0)
        >>> t.tolist(), w.tolist()
        ([1.0, 2.0], [0.0, 1.0])
    """
    k = np.arange(1, periods + 1, dtype=np.float64)
    discount = (1.0 + rate) ** -k
    coefficients = discount - np.append(discount[1:], 0.0)
    # (k * days) / unit_days, rounded once after the product: the last period end is then
    # exactly the horizon K * days / unit_days that the scorers report expected purchases for.
    horizons = k * period.days / model_unit.days
    return horizons, coefficients


def lifetime_value_of(discounted: FloatArray, spend: FloatArray, margin: float) -> FloatArray:
    r"""CLV from discounted expected purchases and expected spend (broadcasting): $m\,E[M]\,D$."""
    return np.asarray(margin * spend * discounted, dtype=np.float64)


def _expected_purchases_on_rows(
    transaction_model: TransactionModel, horizons: FloatArray, rows: CompressedSummary
) -> FloatArray:
    """$E[X(t)]$ per row of ``rows`` and horizon, shape ``(len(rows), len(horizons))``."""
    if isinstance(transaction_model, RepeatBuyingModel):
        return transaction_model.expected_purchases_grid(horizons, rows)
    distinct = CustomerSummary.from_arrays(rows.frequency, rows.recency, rows.T, unit=rows.unit)
    return np.asarray(
        transaction_model.expected_purchases_grid(horizons, distinct), dtype=np.float64
    )


def _row_block(rows: CompressedSummary, block: IntArray | slice) -> CompressedSummary:
    """Rows ``block`` of ``rows`` as compressed rows of their own (views for a slice)."""
    frequency = rows.frequency[block]
    return CompressedSummary(
        frequency=frequency,
        recency=rows.recency[block],
        T=rows.T[block],
        weights=rows.weights[block],
        inverse=np.arange(frequency.size, dtype=np.int64),
        unit=rows.unit,
    )


def _discounted_purchases(
    transaction_model: TransactionModel,
    rows: CompressedSummary,
    *,
    periods: int,
    period: TimeUnit,
    rate: float,
) -> tuple[FloatArray, FloatArray]:
    r"""Discounted expected purchases and $E[X(K\Delta)]$, per row of ``rows``.

    One evaluation of the transaction model serves both: the CLV sum needs $E[X]$ at every
    period end anyway, and the last one is the expected purchases over the whole horizon. Rows
    are evaluated in blocks of at most ``_BLOCK_ELEMENTS`` (rows × periods), so memory does not
    grow with rows × periods.

    Returns:
        ``(discounted, total)``, each of shape ``(n_rows,)``: $\sum_k (E_k - E_{k-1})
        (1+d)^{-k}$ and $E[X(K\Delta)]$ with $K\Delta$ = ``periods * period.days /
        unit_.days`` in the model's unit.
    """
    model_unit: TimeUnit = fitted_attribute(
        transaction_model, "unit_", argument="transaction_model", owner=_OWNER
    )
    horizons, coefficients = discount_schedule(
        model_unit, periods=periods, period=period, rate=rate
    )
    discounted = np.empty(len(rows), dtype=np.float64)
    total = np.empty(len(rows), dtype=np.float64)
    step = max(1, _BLOCK_ELEMENTS // periods)
    # Rows with equal x in one block share the models' costly t_x-free terms. Compressed rows
    # come sorted by x: their blocks are then contiguous slices (views, no sort, no copies).
    sorted_by_x = bool(np.all(rows.frequency[1:] >= rows.frequency[:-1]))
    order = None if sorted_by_x else np.lexsort((rows.T, rows.frequency))
    for start in range(0, len(rows), step):
        block = slice(start, start + step) if order is None else order[start : start + step]
        purchases = _expected_purchases_on_rows(
            transaction_model, horizons, _row_block(rows, block)
        )
        discounted[block] = purchases @ coefficients
        total[block] = purchases[:, -1]
    return discounted, total


def _lifetime_value(
    transaction_model: TransactionModel,
    spend_model: SpendModel,
    summary: CustomerSummary,
    rows: CompressedSummary,
    *,
    periods: int,
    period: TimeUnit,
    rate: float,
    margin: float,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    r"""CLV per customer, $E[X(K\Delta)]$ per distinct row and spend per customer.

    The arguments are already validated; ``rows`` is ``summary.compress()``.
    """
    discounted, total = _discounted_purchases(
        transaction_model, rows, periods=periods, period=period, rate=rate
    )
    spend = np.asarray(spend_model.expected_spend(summary), dtype=np.float64)
    clv = lifetime_value_of(discounted[rows.inverse], spend, margin)
    return clv, total, spend


def customer_lifetime_value(
    transaction_model: TransactionModel,
    spend_model: SpendModel,
    summary: CustomerSummary,
    *,
    horizon: int,
    unit: str | TimeUnit,
    discount_rate: float,
    margin: float = 1.0,
) -> FloatArray:
    r"""Discounted value of each customer's purchases over the next ``horizon`` periods.

    Args:
        transaction_model: A fitted transaction model, e.g. [`BGNBD`][relmark.clv.BGNBD].
        spend_model: A fitted spend model, e.g. [`GammaGamma`][relmark.clv.GammaGamma].
        summary: The customers (with ``monetary`` if the spend model needs it).
        horizon: Number of whole periods $K \ge 1$ to value, covering at most 100 years.
        unit: Length of one period (``"D"``, ``"W"``, ``"M"``, ``"Q"``, ``"Y"``): months,
            quarters and years have their mean Gregorian lengths (a month is 30.436875 days).
        discount_rate: Discount rate $d \ge 0$ **per period of** ``unit`` (e.g. 0.01 per month).
        margin: Share of revenue that is profit, $m \ge 0$ (1.0 values revenue).

    Returns:
        One CLV per customer, in the currency of the spend model, in summary order.

    Raises:
        InvalidInputError: For a bad horizon, unit, discount rate or margin, or a transaction
            model without ``expected_purchases_grid``.
        NotFittedError: When ``transaction_model`` is not fitted.

    Examples:
        >>> from relmark import CustomerSummary
        >>> from relmark.clv import BGNBD, GammaGamma
        >>> bgnbd = BGNBD.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426, unit="W")
        >>> spend = GammaGamma.from_params(p=6.25, q=3.74, gamma=15.44)
        >>> s = CustomerSummary.from_arrays([2], [30.43], [38.86], monetary=[22.35], unit="W")
        >>> clv = customer_lifetime_value(bgnbd, spend, s, horizon=12, unit="M", discount_rate=0.01)
        >>> bool(clv[0] > 0)
        True
    """
    period = parse_unit(unit)
    periods = check_clv_periods(horizon, period, owner=_OWNER, role="argument")
    rate = check_real(discount_rate, name="discount_rate", owner=_OWNER, role="argument")
    margin = check_real(margin, name="margin", owner=_OWNER, role="argument")
    require_summary(summary, owner=_OWNER)
    if not callable(getattr(transaction_model, "expected_purchases_grid", None)):
        raise InvalidInputError(
            f"The 'transaction_model' argument of {_OWNER} must be a TransactionModel, with "
            f"expected_purchases_grid(t, summary) returning (customers, horizons) (BGNBD, "
            f"MBGNBD, ParetoNBD). Got {type(transaction_model).__name__}."
        )
    value, _, _ = _lifetime_value(
        transaction_model,
        spend_model,
        summary,
        summary.compress(),
        periods=periods,
        period=period,
        rate=rate,
        margin=margin,
    )
    return value
