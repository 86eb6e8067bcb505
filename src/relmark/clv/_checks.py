"""Argument checks shared by the ``relmark.clv`` modules (private).

The checks specific to the package: prediction times, per-customer horizons, horizon grids,
CLV periods and the naming of offending compressed rows. Generic checks (numbers, whole numbers,
probabilities) are in `relmark._validation`, whose rule this module
follows: booleans are not numbers, and the message names the argument, its owner, what was
expected and what arrived.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from relmark._validation import Role, check_whole, subject
from relmark.data.summary import CompressedSummary, CustomerSummary
from relmark.data.units import TimeUnit
from relmark.errors import InvalidInputError
from relmark.typing import FloatArray, IntArray

__all__ = [
    "check_clv_periods",
    "check_customer_horizons",
    "check_horizon_grid",
    "check_times",
    "describe_rows",
]

MAX_LISTED = 5
"""How many offending values or rows an error message lists."""


def _not_a_number(values: object) -> bool:
    """Whether ``values`` holds booleans, complex numbers, text, dates or durations."""
    if isinstance(values, bool | np.bool_):
        return True
    if isinstance(values, int | float):
        return False
    raw = np.asarray(values)
    if raw.dtype.kind in "bcmMSU":
        return True
    return raw.dtype.kind == "O" and any(
        isinstance(v, bool | np.bool_ | complex | str) for v in raw.ravel().tolist()
    )


def check_times(name: str, values: ArrayLike, *, integral: bool = False) -> FloatArray:
    """Validate a non-negative time (or count) argument of a prediction method, any shape.

    Booleans, complex numbers, dates and durations (``datetime64``/``timedelta64``) are refused:
    they convert to numbers without meaning one. So are integers beyond float64's range.
    """
    if _not_a_number(values):
        raise InvalidInputError(
            f"The {name!r} argument must hold real numbers (durations or counts in the model's "
            f"unit), not booleans, complex numbers, text, dates or durations. Got {values!r}."
        )
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError, OverflowError) as exc:
        raise InvalidInputError(
            f"The {name!r} argument must be numeric and within float64's range. Got {values!r}."
        ) from exc
    bad = ~np.isfinite(array) | (array < 0)
    if integral:
        bad |= array != np.floor(array)
    if bad.any():
        what = "non-negative whole numbers" if integral else "finite numbers >= 0"
        raise InvalidInputError(
            f"The {name!r} argument must hold {what}. Got {array[bad].ravel()[:MAX_LISTED].tolist()}."
        )
    return array


def check_customer_horizons(t: ArrayLike, n_customers: int, *, owner: str, grid: str) -> FloatArray:
    """Validate ``t`` of a per-customer prediction: one horizon, or one per customer.

    Args:
        t: The horizons as given.
        n_customers: Number of customers (or of rows, for a compressed summary).
        owner: ``Class.method``, for the message.
        grid: Name of the method that evaluates several horizons for every customer.

    Returns:
        A 0-d array (one horizon for all) or a 1-D array of length ``n_customers``.

    Raises:
        InvalidInputError: For negative or non-finite values, or any other shape; the message
            lists the accepted shapes. An array of several horizons is never broadcast against
            the customers, so nothing of size customers × customers is ever built.
    """
    horizons = check_times("t", t)
    if horizons.ndim == 0 or (horizons.ndim == 1 and horizons.size == n_customers):
        return horizons
    raise InvalidInputError(
        f"The 't' argument of {owner} must be one horizon (a number) or one horizon per "
        f"customer (a one-dimensional array of length {n_customers}). Got shape "
        f"{horizons.shape}. For several horizons for every customer use {grid}(t, summary), "
        f"which returns an array of shape (customers, horizons)."
    )


def check_horizon_grid(t: ArrayLike, *, owner: str) -> FloatArray:
    """Validate the horizons of a grid prediction: a number or a 1-D array, as a 1-D array."""
    horizons = check_times("t", t)
    if horizons.ndim > 1:
        raise InvalidInputError(
            f"The 't' argument of {owner} must be a number or a one-dimensional array of "
            f"horizons. Got shape {horizons.shape}."
        )
    return horizons.reshape(-1)


def describe_rows(summary: CustomerSummary | None, rows: CompressedSummary, bad: IntArray) -> str:
    """Name the customers behind offending compressed rows, with their $(x, t_x, T)$.

    ``summary`` is ``None`` when only the compressed rows are known (then rows are named by
    index).
    """
    parts = []
    for i in bad[:MAX_LISTED]:
        if summary is None:
            who = f"row {int(i)}, weight {rows.weights[i]:g}"
        else:
            who = f"customer(s) {summary.customer_id[rows.inverse == i][:3].tolist()}"
        parts.append(f"x={rows.frequency[i]:g}, t_x={rows.recency[i]:g}, T={rows.T[i]:g} ({who})")
    more = f" and {bad.size - MAX_LISTED} more row(s)" if bad.size > MAX_LISTED else ""
    return "; ".join(parts) + more


MAX_HORIZON_DAYS = 100 * 365.2425
"""Longest CLV horizon accepted (100 years, whatever the unit): CLV sums one term per period, so
a horizon beyond any business use would only exhaust memory or time."""


def check_clv_periods(horizon: object, period: TimeUnit, *, owner: str, role: Role) -> int:
    """Validate a CLV horizon: a whole number of periods >= 1 spanning at most 100 years.

    Raises:
        InvalidInputError: Naming the argument and the limit in periods of ``period``.
    """
    periods = check_whole(horizon, name="horizon", owner=owner, role=role, minimum=1)
    if periods > MAX_HORIZON_DAYS / period.days:  # no int-to-float overflow for huge ints
        raise InvalidInputError(
            f"{subject('horizon', role, owner)} must cover at most 100 years "
            f"({int(MAX_HORIZON_DAYS // period.days):,} periods of {period.value!r}). Got "
            f"{horizon!r}."
        )
    return periods
