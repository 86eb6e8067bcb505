"""Checks of the profile package alone; the generic ones are in ``relmark._validation``."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from relmark.errors import InvalidInputError


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
