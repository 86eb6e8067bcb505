"""Time units in which summaries express durations.

A *unit* is a fixed length of time used to express durations (``recency``, ``T``, a CLV horizon).
Months, quarters and years as units have their mean Gregorian lengths (a year is 365.2425 days),
because a duration measured in "months" must be one fixed number. Calendar-correct bucketing of
purchases into periods (a purchase in March is in March whatever its length) is a separate
concept handled by the transaction log.
"""

from __future__ import annotations

import enum

from relmark.errors import InvalidInputError

__all__ = ["TimeUnit", "parse_unit"]

_DAYS_PER_YEAR = 365.2425


class TimeUnit(enum.Enum):
    """A fixed-length time unit; ``.days`` is its length in days."""

    DAY = "D"
    WEEK = "W"
    MONTH = "M"
    QUARTER = "Q"
    YEAR = "Y"

    @property
    def days(self) -> float:
        """Length of the unit in days (months, quarters, years: mean Gregorian lengths)."""
        return _UNIT_DAYS[self]


_UNIT_DAYS: dict[TimeUnit, float] = {
    TimeUnit.DAY: 1.0,
    TimeUnit.WEEK: 7.0,
    TimeUnit.MONTH: _DAYS_PER_YEAR / 12.0,
    TimeUnit.QUARTER: _DAYS_PER_YEAR / 4.0,
    TimeUnit.YEAR: _DAYS_PER_YEAR,
}


def parse_unit(unit: str | TimeUnit, *, field: str = "unit") -> TimeUnit:
    """Turn ``"D"``, ``"W"``, ``"M"``, ``"Q"``, ``"Y"`` (or a `TimeUnit`) into a `TimeUnit`.

    Args:
        unit: The code or the enum member.
        field: Argument name used in the error message.

    Raises:
        InvalidInputError: For any other value.
    """
    if isinstance(unit, TimeUnit):
        return unit
    try:
        return TimeUnit(unit)
    except ValueError:
        allowed = ", ".join(repr(u.value) for u in TimeUnit)
        raise InvalidInputError(
            f"The {field!r} parameter must be one of {allowed}. Got {unit!r}."
        ) from None
