"""Checks shared by every relmark package: the bottom layer, public to the package, private to users.

One rule per kind of input, one message shape: a check names the argument or column (by the name
the caller passes, so frame readers report the user's column names) and its owner, what was
expected, and what arrived (the value, or the first offending rows). Everything raises
`InvalidInputError`.

- scalars: `is_int`, `is_real`, `check_real`, `check_whole`, `check_probability`,
  `check_choice` (messages open with `subject`: "The 'penalizer' parameter of BGNBD");
- columns: `float_column`, `id_column`, `validate_ids`, `offending_rows`;
- ids: `row_index` (the row of each id among unique keys);
- records: `array_eq` and its attrs comparison `cmp` for numpy fields of frozen records.

This module sits at layer 0 (it imports numpy, attrs and `relmark.errors` only), so every layer
may use it; checks that need a relmark type (a `CustomerSummary`) live with that type.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from typing import Any, Literal, TypeVar

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray

from relmark.errors import InvalidInputError

__all__ = [
    "MAX_SHOWN",
    "Role",
    "array_eq",
    "check_choice",
    "check_probability",
    "check_real",
    "check_whole",
    "cmp",
    "float_column",
    "id_column",
    "is_int",
    "is_real",
    "offending_rows",
    "row_index",
    "subject",
    "validate_ids",
]

_T = TypeVar("_T")

MAX_SHOWN = 5
"""How many offending rows or values an error message lists."""

Role = Literal["parameter", "argument"]
"""How a message calls the checked input: a hyperparameter of an estimator, or an argument."""


# ---------------------------------------------------------------------------- scalars
def is_int(value: object) -> bool:
    """Whether ``value`` is an integer (Python or NumPy), not a boolean.

    Examples:
        >>> is_int(3), is_int(np.int64(3)), is_int(True), is_int(3.0)
        (True, True, False, False)
    """
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def is_real(value: object) -> bool:
    """Whether ``value`` is a finite real number (int or float, Python or NumPy), not a boolean.

    Examples:
        >>> is_real(0.5), is_real(np.float32(2)), is_real(True), is_real(float("nan"))
        (True, True, False, False)
    """
    if isinstance(value, bool | np.bool_):
        return False
    if not isinstance(value, int | float | np.integer | np.floating):
        return False
    return math.isfinite(value)


def subject(name: str, role: Role, owner: str | None) -> str:
    """How a message opens: "The 'penalizer' parameter of BGNBD" (owner optional)."""
    return f"The {name!r} {role}" + (f" of {owner}" if owner else "")


def check_real(
    value: object,
    *,
    name: str,
    owner: str | None = None,
    role: Role = "parameter",
    lower: float = 0.0,
    strict: bool = False,
) -> float:
    """Validate a finite real number ``>= lower`` (``> lower`` when ``strict``) as a float.

    Raises:
        InvalidInputError: For a non-number (booleans included), a non-finite number or one
            below the bound.

    Examples:
        >>> check_real(-1, name="penalizer", owner="BGNBD")
        Traceback (most recent call last):
        ...
        relmark.errors.InvalidInputError: The 'penalizer' parameter of BGNBD must be a float >= 0. Got -1.
    """
    if not is_real(value) or value < lower or (strict and value == lower):  # type: ignore[operator]
        bound = f"{'>' if strict else '>='} {lower:g}"
        infinite = isinstance(value, float | np.floating) and not math.isfinite(value)
        raise InvalidInputError(
            f"{subject(name, role, owner)} must be a float {bound}. Got {value!r}"
            + (", which is not finite." if infinite else ".")
        )
    return float(value)  # type: ignore[arg-type]


def check_whole(
    value: object,
    *,
    name: str,
    owner: str | None = None,
    role: Role = "parameter",
    minimum: int = 0,
) -> int:
    """Validate a whole number (Python or NumPy integer, not a boolean) ``>= minimum``.

    Raises:
        InvalidInputError: For anything else.

    Examples:
        >>> check_whole(
        ...     0, name="horizon", owner="customer_lifetime_value", role="argument", minimum=1
        ... )
        Traceback (most recent call last):
        ...
        relmark.errors.InvalidInputError: The 'horizon' argument of customer_lifetime_value must be a whole number >= 1. Got 0.
    """
    if isinstance(value, int | np.integer) and is_int(value) and value >= minimum:
        return int(value)
    raise InvalidInputError(
        f"{subject(name, role, owner)} must be a whole number >= {minimum}. Got {value!r}."
    )


def check_probability(
    value: object, *, name: str, owner: str | None = None, role: Role = "parameter"
) -> float:
    """Validate a probability strictly between 0 and 1 (a confidence or significance level).

    Raises:
        InvalidInputError: For a non-number (booleans included), NaN or a value outside (0, 1).

    Examples:
        >>> check_probability(0.95, name="confidence")
        0.95
        >>> check_probability(1, name="confidence")
        Traceback (most recent call last):
        ...
        relmark.errors.InvalidInputError: The 'confidence' parameter must be a float in (0, 1). Got 1.
    """
    if not is_real(value) or not 0.0 < value < 1.0:  # type: ignore[operator]
        raise InvalidInputError(
            f"{subject(name, role, owner)} must be a float in (0, 1). Got {value!r}."
        )
    return float(value)  # type: ignore[arg-type]


def check_choice(
    value: object,
    choices: Collection[_T],
    *,
    name: str,
    owner: str | None = None,
    role: Role = "parameter",
) -> _T:
    """Validate that ``value`` is one of ``choices`` (compared with ``==``); return the choice.

    Returning the matching choice (not ``value``) hands callers the canonical object, e.g. a
    ``str`` rather than a ``numpy.str_``.

    Raises:
        InvalidInputError: Listing the choices (sorted when they sort) and the value given.

    Examples:
        >>> check_choice("polars", ("pandas", "polars"), name="backend")
        'polars'
        >>> check_choice("spark", ("pandas", "polars"), name="backend")
        Traceback (most recent call last):
        ...
        relmark.errors.InvalidInputError: The 'backend' parameter must be one of ['pandas', 'polars']. Got 'spark'.
    """
    for choice in choices:
        # Booleans match only booleans (True == 1 in Python); arrays match nothing.
        same_kind = isinstance(value, bool | np.bool_) == isinstance(choice, bool | np.bool_)
        if same_kind and not isinstance(value, np.ndarray) and choice == value:
            return choice
    try:
        listed: list[Any] = sorted(choices)
    except TypeError:
        listed = list(choices)
    raise InvalidInputError(f"{subject(name, role, owner)} must be one of {listed}. Got {value!r}.")


# ---------------------------------------------------------------------------- records
def array_eq(a: NDArray[Any] | None, b: NDArray[Any] | None) -> bool:
    """Equality of two optional arrays for attrs ``eq``: same shape and values, or both ``None``.

    NaN equals NaN (and NaT equals NaT) so that a record holding a missing value still equals
    itself and its JSON round trip.

    Examples:
        >>> array_eq(np.array([1.0, np.nan]), np.array([1.0, np.nan]))
        True
        >>> array_eq(np.array([1.0]), np.array([[1.0]])), array_eq(None, None)
        (False, True)
    """
    if a is None or b is None:
        return a is b
    missing_comparable = a.dtype.kind in "fcmM" and b.dtype.kind in "fcmM"
    return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=missing_comparable))


cmp = attrs.cmp_using(eq=array_eq)
"""attrs comparison for (optional) numpy array fields: ``attrs.field(eq=cmp)``."""


# ---------------------------------------------------------------------------- columns
def offending_rows(mask: NDArray[np.bool_]) -> str:
    """Describe the first offending rows of ``mask`` (0-based positions) for an error message.

    Examples:
        >>> offending_rows(np.array([False, True, True]))
        'row(s) 1, 2'
    """
    rows = np.flatnonzero(mask)
    shown = ", ".join(str(int(i)) for i in rows[:MAX_SHOWN])
    more = f" (and {rows.size - MAX_SHOWN} more)" if rows.size > MAX_SHOWN else ""
    return f"row(s) {shown}{more}"


def float_column(
    name: str, values: ArrayLike, n: int | None = None, *, what: str = "numbers"
) -> NDArray[np.float64]:
    """``values`` as a one-dimensional float64 column of finite numbers.

    Args:
        name: Column name for error messages.
        values: The column.
        n: Required number of rows, if any.
        what: What the values are, for the message about non-finite values ("finite amounts").

    Raises:
        InvalidInputError: For values that are not numbers (naming their rows), booleans,
            complex numbers, dates or durations (which numpy would silently turn into numbers),
            a column that is not one-dimensional or not ``n`` long, or NaN / infinity (naming
            their rows).

    Examples:
        >>> float_column("amount", np.array([True, False]))
        Traceback (most recent call last):
        ...
        relmark.errors.InvalidInputError: Column 'amount' must hold real numbers; got booleans (dtype bool). Booleans are flags, not numbers: pass a numeric column.
    """
    _refuse_lookalikes(name, values)
    try:
        column = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError, OverflowError) as exc:
        raise InvalidInputError(_non_numeric_message(name, values, exc), column=name) from exc
    if column.ndim != 1 or (n is not None and column.size != n):
        rows = "" if n is None else f" with {n} rows"
        raise InvalidInputError(
            f"Column {name!r} must be one-dimensional{rows}; got shape {column.shape}."
        )
    bad = ~np.isfinite(column)
    if bad.any():
        raise InvalidInputError(
            f"Column {name!r} must hold finite {what}; found NaN or infinity at "
            f"{offending_rows(bad)}: {column[bad][:MAX_SHOWN].tolist()}.",
            column=name,
            value=column[bad][:MAX_SHOWN].tolist(),
            rows=np.flatnonzero(bad),
        )
    return column


_LOOKALIKE_KINDS = {
    "b": "booleans",
    "c": "complex numbers",
    "M": "dates or times",
    "m": "durations (timedelta)",
}
"""numpy kinds that ``astype(float)`` converts without complaint although they are not amounts."""


def _lookalike_kind(value: object) -> str | None:
    if isinstance(value, bool | np.bool_):
        return "b"
    if isinstance(value, complex | np.complexfloating):
        return "c"
    if isinstance(value, np.datetime64):
        return "M"
    if isinstance(value, np.timedelta64):
        return "m"
    return None


def _refuse_lookalikes(name: str, values: ArrayLike) -> None:
    """Refuse booleans, complex numbers, dates and durations where real numbers are expected."""
    if isinstance(values, np.ndarray):
        kind = values.dtype.kind
        if kind in _LOOKALIKE_KINDS:
            raise InvalidInputError(_lookalike_message(name, kind, f"dtype {values.dtype}"))
        if kind != "O":
            return
        items: Any = values.ravel()
    elif isinstance(values, list | tuple):
        items = values
    else:
        kind = np.asarray(values).dtype.kind
        if kind in _LOOKALIKE_KINDS:
            raise InvalidInputError(_lookalike_message(name, kind, type(values).__name__))
        return
    found = [(row, k) for row, v in enumerate(items) if (k := _lookalike_kind(v)) is not None]
    if found:
        rows = np.zeros(len(items), dtype=bool)
        rows[[row for row, _ in found]] = True
        raise InvalidInputError(_lookalike_message(name, found[0][1], offending_rows(rows)))


def _lookalike_message(name: str, kind: str, where: str) -> str:
    what = _LOOKALIKE_KINDS[kind]
    advice = {
        "b": "Booleans are flags, not numbers: pass a numeric column.",
        "c": "Pass the real part if that is what is meant.",
        "M": "Pass numbers; times belong in the time column.",
        "m": "Convert durations to numbers in a stated unit first.",
    }[kind]
    return f"Column {name!r} must hold real numbers; got {what} ({where}). {advice}"


def _non_numeric_message(name: str, values: ArrayLike, exc: Exception) -> str:
    """Name the first rows of a column that do not convert to float, or repeat ``exc``."""
    try:
        column = np.asarray(values, dtype=object)
    except (TypeError, ValueError):
        column = np.empty(0, dtype=object).reshape(0, 0)
    if column.ndim != 1:
        return f"Column {name!r} must be numeric; could not convert it: {exc}"
    bad = np.zeros(column.size, dtype=bool)
    huge = np.zeros(column.size, dtype=bool)
    for row, value in enumerate(column):
        try:
            np.asarray(value, dtype=np.float64)
        except OverflowError:
            huge[row] = True
        except (TypeError, ValueError):
            bad[row] = True
    if huge.any() and not bad.any():
        return (
            f"Column {name!r} must hold numbers within the float range (up to about 1.8e308); "
            f"found integers too large to convert at {offending_rows(huge)}."
        )
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
        The ids: numpy strings as an object array of ``str`` and bytes (a binary column)
        decoded from UTF-8 to ``str``; anything else unchanged.

    Raises:
        InvalidInputError: For missing ids (None, NaN, NaT), mixed types, booleans or a dtype
            that cannot hold ids (complex, void).

    Examples:
        >>> validate_ids("customer_id", np.array(["a", "b"])).dtype
        dtype('O')
    """
    kind = values.dtype.kind
    if kind == "S" or (kind == "O" and values.size and isinstance(values[0], bytes)):
        return _decoded_ids(name, values)
    if kind in "UT":
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


def _decoded_ids(name: str, values: NDArray[Any]) -> NDArray[Any]:
    """Ids stored as bytes (a binary Parquet column) as ``str``, so ``b'1'`` reads as ``'1'``."""
    items = values.tolist()
    bad = np.fromiter((not isinstance(v, bytes) for v in items), dtype=bool, count=len(items))
    if bad.any():
        _check_object_ids(name, values)  # names the missing or mixed-type rows
    decoded = np.empty(len(items), dtype=object)
    undecodable = np.zeros(len(items), dtype=bool)
    for row, value in enumerate(items):
        try:
            decoded[row] = value.decode("utf-8")
        except UnicodeDecodeError:
            undecodable[row] = True
    if undecodable.any():
        raise InvalidInputError(
            f"Column {name!r} holds binary customer ids that are not UTF-8 text at "
            f"{offending_rows(undecodable)}: {values[undecodable][:MAX_SHOWN].tolist()}; store "
            "the ids as integers or text."
        )
    return decoded


def _check_object_ids(name: str, values: NDArray[Any]) -> None:
    bad = np.fromiter(
        (v is None or (isinstance(v, float) and math.isnan(v)) for v in values),
        dtype=bool,
        count=values.size,
    )
    if bad.any():
        raise InvalidInputError(
            f"Column {name!r} has missing customer ids (None/NaN) at {offending_rows(bad)}.",
            column=name,
            rows=np.flatnonzero(bad),
        )
    types = {type(v) for v in values}
    if len(types) > 1:
        raise InvalidInputError(
            f"Column {name!r} mixes id types {sorted(t.__name__ for t in types)}; give every id "
            "the same type (all integers or all strings)."
        )
    if types and issubclass(types.pop(), bool | np.bool_):
        raise InvalidInputError(f"Column {name!r} must hold integer or string ids; got booleans.")


# ---------------------------------------------------------------------------- ids
def row_index(keys: NDArray[Any], ids: NDArray[Any]) -> NDArray[np.int64]:
    """Row of each of ``ids`` in ``keys`` (-1 when absent), by sort and binary search.

    Keys are ids that identify rows (customers, respondents), unique by construction; a duplicated
    key resolves to its last occurrence, as in a ``dict`` built from the keys. Ids of types that
    do not sort together are matched through a hash table instead.

    Examples:
        >>> row_index(np.array(["b", "a"]), np.array(["a", "c", "b"])).tolist()
        [1, -1, 0]
    """
    out = np.full(ids.size, -1, dtype=np.int64)
    if keys.size == 0 or ids.size == 0:
        return out
    try:
        order = np.argsort(keys, kind="stable")
        ordered = keys[order]
        pos = np.maximum(np.searchsorted(ordered, ids, side="right") - 1, 0)
        found = np.asarray(ordered[pos] == ids, dtype=np.bool_)
    except TypeError:
        position = {key: i for i, key in enumerate(keys.tolist())}
        return np.array([position.get(i, -1) for i in ids.tolist()], dtype=np.int64)
    out[found] = order[pos[found]]
    return out
