"""Small run-time type tests shared by the profile modules (callers may pass anything)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from relmark.errors import InvalidInputError


def is_int(value: object) -> bool:
    """Whether ``value`` is an integer (Python or numpy), not a bool."""
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def is_real(value: object) -> bool:
    """Whether ``value`` is a finite real number (int or float, Python or numpy), not a bool."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        return False
    return math.isfinite(value)


def frozen_mapping(value: object, owner: str, name: str) -> MappingProxyType[Any, Any]:
    """A read-only copy of the mapping ``value`` (argument ``name`` of ``owner``), or raise.

    Frozen records keep their promise only if the collections they hold cannot change: the copy
    detaches the record from the caller's dict, the proxy stops writes through the record.

    Raises:
        InvalidInputError: When ``value`` is not a mapping.
    """
    if not isinstance(value, Mapping):
        raise InvalidInputError(
            f"The {name!r} argument of {owner} must be a mapping. Got {type(value).__name__}: "
            f"{value!r}."
        )
    return MappingProxyType(dict(value))
