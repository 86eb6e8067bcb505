"""Argument checks shared by the ``relmark.clv`` modules (private).

One rule for every numeric argument of the package: Python and NumPy real scalars are accepted
(``0.1``, ``np.float64(0.1)``, ``3``, ``np.int64(3)``), booleans are not (``True`` and
``np.True_`` are flags, not numbers), and the message names the argument, its owner, what was
expected and what arrived.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from relmark.data.summary import CompressedSummary, CustomerSummary
from relmark.errors import InvalidInputError
from relmark.typing import FloatArray, IntArray

__all__ = [
    "as_column",
    "check_horizons",
    "check_real",
    "check_times",
    "check_whole",
    "describe_rows",
    "is_real",
]

MAX_LISTED = 5
"""How many offending values or rows an error message lists."""


def is_real(value: object) -> bool:
    """Whether ``value`` is a finite real scalar (Python or NumPy), not a boolean."""
    if isinstance(value, bool | np.bool_):
        return False
    if not isinstance(value, int | float | np.integer | np.floating):
        return False
    return math.isfinite(value)


def _subject(name: str, role: str, owner: str | None) -> str:
    return f"The {name!r} {role}" + (f" of {owner}" if owner else "")


def check_real(
    value: object,
    *,
    name: str,
    owner: str | None = None,
    role: Literal["parameter", "argument"] = "parameter",
    lower: float = 0.0,
    strict: bool = False,
) -> float:
    """Validate a finite real number ``>= lower`` (``> lower`` when ``strict``) as a float.

    Raises:
        InvalidInputError: E.g. "The 'penalizer' parameter of BGNBD must be a float >= 0.
            Got -1." (non-finite values are refused too).
    """
    if not is_real(value) or value < lower or (strict and value == lower):  # type: ignore[operator]
        bound = f"{'>' if strict else '>='} {lower:g}"
        infinite = isinstance(value, float | np.floating) and not math.isfinite(value)
        raise InvalidInputError(
            f"{_subject(name, role, owner)} must be a float {bound}. Got {value!r}"
            + (", which is not finite." if infinite else ".")
        )
    return float(value)  # type: ignore[arg-type]


def check_whole(
    value: object,
    *,
    name: str,
    owner: str | None = None,
    role: Literal["parameter", "argument"] = "parameter",
    minimum: int = 0,
) -> int:
    """Validate a whole number (Python or NumPy integer, not a boolean) ``>= minimum``.

    Raises:
        InvalidInputError: E.g. "The 'horizon' argument of customer_lifetime_value must be a
            whole number >= 1. Got 0."
    """
    if (
        isinstance(value, bool | np.bool_)
        or not isinstance(value, int | np.integer)
        or value < minimum
    ):
        raise InvalidInputError(
            f"{_subject(name, role, owner)} must be a whole number >= {minimum}. Got {value!r}."
        )
    return int(value)


def check_times(name: str, values: ArrayLike, *, integral: bool = False) -> FloatArray:
    """Validate a non-negative time (or count) argument of a prediction method, any shape."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"The {name!r} argument must be numeric. Got {values!r}.") from exc
    bad = ~np.isfinite(array) | (array < 0)
    if integral:
        bad |= array != np.floor(array)
    if bad.any():
        what = "non-negative whole numbers" if integral else "finite numbers >= 0"
        raise InvalidInputError(
            f"The {name!r} argument must hold {what}. Got {array[bad].ravel()[:MAX_LISTED].tolist()}."
        )
    return array


def check_horizons(t: ArrayLike, *, integral: bool = False) -> FloatArray:
    """Validate ``t``: one horizon, or a one-dimensional array of them (``>= 0``)."""
    horizons = check_times("t", t, integral=integral)
    if horizons.ndim > 1:
        raise InvalidInputError(
            f"The 't' argument must be a number or a one-dimensional array of horizons. "
            f"Got shape {horizons.shape}."
        )
    return horizons


def describe_rows(summary: CustomerSummary, rows: CompressedSummary, bad: IntArray) -> str:
    """Name the customers behind offending compressed rows, with their $(x, t_x, T)$."""
    parts = []
    for i in bad[:MAX_LISTED]:
        ids = summary.customer_id[rows.inverse == i][:3].tolist()
        parts.append(
            f"x={rows.frequency[i]:g}, t_x={rows.recency[i]:g}, T={rows.T[i]:g} (customer(s) {ids})"
        )
    more = f" and {bad.size - MAX_LISTED} more row(s)" if bad.size > MAX_LISTED else ""
    return "; ".join(parts) + more


def as_column(values: FloatArray, *, needed: bool) -> FloatArray:
    """``values`` as a column (to broadcast against a row of horizons) when ``needed``."""
    return values[:, np.newaxis] if needed else values
