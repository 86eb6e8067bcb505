"""Column checks shared by the data layer: row-naming messages, numeric columns, customer ids.

Every check raises [`InvalidInputError`][relmark.errors.InvalidInputError] naming the column
(by the name the caller passes, so frame readers report the user's column names), the first
offending rows and what was expected.
"""

from __future__ import annotations

import math
from typing import Any

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray

from relmark.errors import InvalidInputError
from relmark.typing import BoolArray, FloatArray

__all__ = [
    "MAX_SHOWN",
    "array_eq",
    "cmp",
    "float_column",
    "id_column",
    "offending_rows",
    "validate_ids",
]

MAX_SHOWN = 5
"""How many offending rows or values an error message lists."""


def offending_rows(mask: BoolArray) -> str:
    """Describe the first offending rows of ``mask`` (0-based positions) for an error message.

    Examples:
        >>> offending_rows(np.array([False, True, True]))
        'row(s) 1, 2'
    """
    rows = np.flatnonzero(mask)
    shown = ", ".join(str(int(i)) for i in rows[:MAX_SHOWN])
    more = f" (and {rows.size - MAX_SHOWN} more)" if rows.size > MAX_SHOWN else ""
    return f"row(s) {shown}{more}"


def array_eq(a: NDArray[Any] | None, b: NDArray[Any] | None) -> bool:
    """Equality of two optional arrays: same shape and values, or both ``None``."""
    if a is None or b is None:
        return a is b
    return a.shape == b.shape and bool(np.array_equal(a, b))


cmp = attrs.cmp_using(eq=array_eq)
"""attrs comparison for (optional) numpy array fields: ``attrs.field(eq=cmp)``."""


def float_column(
    name: str, values: ArrayLike, n: int | None = None, *, what: str = "numbers"
) -> FloatArray:
    """``values`` as a one-dimensional float64 column of finite numbers.

    Args:
        name: Column name for error messages.
        values: The column.
        n: Required number of rows, if any.
        what: What the values are, for the message about non-finite values ("finite amounts").

    Raises:
        InvalidInputError: For values that are not numbers (naming their rows), a column that is
            not one-dimensional or not ``n`` long, or NaN / infinity (naming their rows).
    """
    try:
        column = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(_non_numeric_message(name, values, exc)) from exc
    if column.ndim != 1 or (n is not None and column.size != n):
        rows = "" if n is None else f" with {n} rows"
        raise InvalidInputError(
            f"Column {name!r} must be one-dimensional{rows}; got shape {column.shape}."
        )
    bad = ~np.isfinite(column)
    if bad.any():
        raise InvalidInputError(
            f"Column {name!r} must hold finite {what}; found NaN or infinity at "
            f"{offending_rows(bad)}: {column[bad][:MAX_SHOWN].tolist()}."
        )
    return column


def _non_numeric_message(name: str, values: ArrayLike, exc: Exception) -> str:
    """Name the first rows of a column that do not convert to float, or repeat ``exc``."""
    try:
        column = np.asarray(values, dtype=object)
    except (TypeError, ValueError):
        column = np.empty(0, dtype=object).reshape(0, 0)
    if column.ndim != 1:
        return f"Column {name!r} must be numeric; could not convert it: {exc}"
    bad = np.zeros(column.size, dtype=bool)
    for row, value in enumerate(column):
        try:
            np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            bad[row] = True
    if not bad.any():
        return f"Column {name!r} must be numeric; could not convert it: {exc}"
    return (
        f"Column {name!r} must be numeric; found values that are not numbers at "
        f"{offending_rows(bad)}: {column[bad][:MAX_SHOWN].tolist()}."
    )


def id_column(name: str, values: ArrayLike, n: int | None = None) -> NDArray[Any]:
    """Read user-given ids (any array-like) as one validated column, see ``validate_ids``.

    numpy turns a Python list mixing strings and numbers into strings (``["a", 1]`` becomes
    ``["a", "1"]``); such input is checked value by value first, so mixed types are refused
    instead of silently converted.

    Raises:
        InvalidInputError: For ragged or nested input, a shape other than ``(n,)``, or ids that
            ``validate_ids`` refuses.
    """
    try:
        ids = np.asarray(values)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"Column {name!r} must be a flat sequence of ids (one per row); it could not be read "
            f"as a column: {exc}"
        ) from exc
    if ids.ndim != 1 or (n is not None and ids.size != n):
        rows = "" if n is None else f" with {n} rows"
        raise InvalidInputError(
            f"Column {name!r} must be one-dimensional{rows}; got shape {ids.shape}."
        )
    if ids.dtype.kind in "US" and not isinstance(values, np.ndarray):
        _check_object_ids(name, np.asarray(values, dtype=object))
    return validate_ids(name, ids)


def validate_ids(name: str, values: NDArray[Any]) -> NDArray[Any]:
    """Check a one-dimensional column of customer ids; strings come back as an object array.

    Ids are integers (any integer dtype) or strings (or other values of one type), none missing.
    Booleans are refused: a flag column is almost always the wrong column.

    Args:
        name: Column name for error messages.
        values: The ids (one-dimensional; callers check the shape).

    Returns:
        The ids: numpy strings as an object array of ``str``, anything else unchanged.

    Raises:
        InvalidInputError: For missing ids (None, NaN, NaT), mixed types, booleans or a dtype
            that cannot hold ids (complex, void).

    Examples:
        >>> validate_ids("customer_id", np.array(["a", "b"])).dtype
        dtype('O')
    """
    kind = values.dtype.kind
    if kind in "UST":
        return values.astype(object)
    if kind == "f":
        bad = np.isnan(values)
        if bad.any():
            raise InvalidInputError(
                f"Column {name!r} has missing customer ids (NaN) at {offending_rows(bad)}."
            )
    elif kind in "mM":
        bad = np.isnat(values)
        if bad.any():
            raise InvalidInputError(
                f"Column {name!r} has missing customer ids (NaT) at {offending_rows(bad)}."
            )
    elif kind == "O":
        _check_object_ids(name, values)
    elif kind not in "iu":
        raise InvalidInputError(
            f"Column {name!r} must hold integer or string ids; got dtype {values.dtype}."
        )
    return values


def _check_object_ids(name: str, values: NDArray[Any]) -> None:
    bad = np.fromiter(
        (v is None or (isinstance(v, float) and math.isnan(v)) for v in values),
        dtype=bool,
        count=values.size,
    )
    if bad.any():
        raise InvalidInputError(
            f"Column {name!r} has missing customer ids (None/NaN) at {offending_rows(bad)}."
        )
    types = {type(v) for v in values}
    if len(types) > 1:
        raise InvalidInputError(
            f"Column {name!r} mixes id types {sorted(t.__name__ for t in types)}; give every id "
            "the same type (all integers or all strings)."
        )
    if types and issubclass(types.pop(), bool | np.bool_):
        raise InvalidInputError(f"Column {name!r} must hold integer or string ids; got booleans.")
