"""Private helpers shared by the trust modules: argument checks, array equality, id lookup."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from relmark.errors import InvalidInputError
from relmark.typing import IntArray

__all__ = ["array_eq", "check_level", "row_index"]


def check_level(value: object, name: str) -> float:
    """A probability level (``confidence``, ``significance``) as a float in (0, 1).

    Raises:
        InvalidInputError: For a non-number (bools included), NaN or a value outside (0, 1),
            naming the argument ``name`` and the value given.
    """
    ok = isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )
    level = float(value) if ok else math.nan  # type: ignore[arg-type]  # checked numeric above
    if not (0.0 < level < 1.0):
        raise InvalidInputError(f"The {name!r} parameter must be a float in (0, 1). Got {value!r}.")
    return level


def array_eq(a: NDArray[Any], b: NDArray[Any]) -> bool:
    """Shape and element equality for attrs ``eq``; NaN equals NaN for float/complex/time dtypes."""
    return a.shape == b.shape and bool(
        np.array_equal(a, b, equal_nan=a.dtype.kind in "fcmM" and b.dtype.kind in "fcmM")
    )


def row_index(keys: NDArray[Any], ids: NDArray[Any]) -> IntArray:
    """Row of each of ``ids`` in ``keys`` (-1 when absent), by sort and binary search.

    The callers' keys are respondent or counterpart ids, unique by construction; a duplicated
    key would resolve to its last occurrence, as in a ``dict`` built from the keys.
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
        # Object ids that do not sort together (e.g. mixed types): hash them instead.
        position = {key: i for i, key in enumerate(keys.tolist())}
        return np.array([position.get(i, -1) for i in ids.tolist()], dtype=np.int64)
    out[found] = order[pos[found]]
    return out
