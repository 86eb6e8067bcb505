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

import math
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike

from relmark.data.summary import CustomerSummary
from relmark.data.units import TimeUnit, parse_unit
from relmark.errors import InvalidInputError
from relmark.typing import FloatArray

__all__ = ["SpendModel", "TransactionModel", "customer_lifetime_value"]


@runtime_checkable
class TransactionModel(Protocol):
    """A fitted model that predicts each customer's expected repeat purchases."""

    unit_: TimeUnit

    def expected_purchases(self, t: ArrayLike, summary: CustomerSummary) -> FloatArray:
        """Expected purchases in the next ``t`` (in ``unit_``); ``(n, len(t))`` for an array."""
        ...


@runtime_checkable
class SpendModel(Protocol):
    """A fitted model that predicts each customer's expected average transaction value."""

    def expected_spend(self, summary: CustomerSummary) -> FloatArray:
        """Expected average transaction value per customer."""
        ...


def _check_number(name: str, value: object, *, lower: float) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < lower
    ):
        raise InvalidInputError(
            f"The {name!r} argument of customer_lifetime_value must be a finite number "
            f">= {lower:g}. Got {value!r}."
        )
    return float(value)


def _check_horizon(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise InvalidInputError(
            "The 'horizon' argument of customer_lifetime_value must be a whole number of "
            f"periods >= 1. Got {value!r}."
        )
    return int(value)


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
        horizon: Number of whole periods $K \ge 1$ to value.
        unit: Length of one period (``"D"``, ``"W"``, ``"M"``, ``"Q"``, ``"Y"``): months,
            quarters and years have their mean Gregorian lengths (a month is 30.436875 days).
        discount_rate: Discount rate $d \ge 0$ **per period of** ``unit`` (e.g. 0.01 per month).
        margin: Share of revenue that is profit, $m \ge 0$ (1.0 values revenue).

    Returns:
        One CLV per customer, in the currency of the spend model, in summary order.

    Raises:
        InvalidInputError: For a bad horizon, unit, discount rate or margin.

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
    periods = _check_horizon(horizon)
    period = parse_unit(unit)
    rate = _check_number("discount_rate", discount_rate, lower=0.0)
    margin = _check_number("margin", margin, lower=0.0)
    if not isinstance(summary, CustomerSummary):
        raise InvalidInputError(
            "The 'summary' argument of customer_lifetime_value must be a CustomerSummary. "
            f"Got {type(summary).__name__}."
        )
    k = np.arange(1, periods + 1, dtype=np.float64)
    # Summation by parts: sum_k (E_k - E_{k-1}) v^k = sum_{k<K} E_k (v^k - v^{k+1}) + E_K v^K,
    # so the expected purchases are needed only at the K period ends (E_0 = 0).
    discount = (1.0 + rate) ** -k
    coefficients = discount - np.append(discount[1:], 0.0)
    period_length = period.days / transaction_model.unit_.days
    rows = summary.compress()
    distinct = CustomerSummary.from_arrays(rows.frequency, rows.recency, rows.T, unit=summary.unit)
    purchases = transaction_model.expected_purchases(k * period_length, distinct)
    discounted = (purchases @ coefficients)[rows.inverse]
    spend = np.asarray(spend_model.expected_spend(summary), dtype=np.float64)
    return np.asarray(margin * spend * discounted, dtype=np.float64)
