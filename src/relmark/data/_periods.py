"""Calendar periods: bucket wall-clock times into days, ISO weeks, months, quarters and years.

A period is identified by an integer index counted from the Unix epoch: days since 1970-01-01,
Monday-starting weeks since the week of 1969-12-29, months since January 1970, quarters since
1970-Q1, years since 1970. ``period_start_day`` maps an index back to the day its period begins,
so durations between periods are whole days and calendar-correct.
"""

from __future__ import annotations

import numpy as np

from relmark._typing import IntArray
from relmark.data.units import TimeUnit

__all__ = ["period_index", "period_start_day"]

_MICROS_PER_DAY = 86_400_000_000
# 1970-01-01 was a Thursday: the Monday starting its week is 3 days earlier.
_WEEK_OFFSET_DAYS = 3
_LOOKUP_FACTOR = 4


def _days_to_months(days: IntArray) -> IntArray:
    """Months since 1970-01 of each day (calendar-correct), via a lookup table when compact."""
    lo, hi = int(days.min()), int(days.max())
    span = hi - lo + 1
    if span <= max(_LOOKUP_FACTOR * days.size, 1 << 16):
        table = (np.arange(lo, hi + 1).astype("datetime64[D]").astype("datetime64[M]")).astype(
            np.int64
        )
        months: IntArray = table[days - lo]
        return months
    return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def period_index(micros: IntArray, period: TimeUnit) -> IntArray:
    """Index of the calendar period of each time, given as microseconds since the epoch."""
    days: IntArray = np.floor_divide(micros, _MICROS_PER_DAY)
    if period is TimeUnit.DAY or days.size == 0:
        return days
    if period is TimeUnit.WEEK:
        weeks: IntArray = np.floor_divide(days + _WEEK_OFFSET_DAYS, 7)
        return weeks
    months = _days_to_months(days)
    if period is TimeUnit.MONTH:
        return months
    if period is TimeUnit.QUARTER:
        return np.floor_divide(months, 3)
    return np.floor_divide(months, 12)


def period_start_day(index: IntArray, period: TimeUnit) -> IntArray:
    """Day (since 1970-01-01) on which each period begins."""
    if period is TimeUnit.DAY:
        return index
    if period is TimeUnit.WEEK:
        return index * 7 - _WEEK_OFFSET_DAYS
    months_per_period = {TimeUnit.MONTH: 1, TimeUnit.QUARTER: 3, TimeUnit.YEAR: 12}[period]
    months = (index * months_per_period).astype("datetime64[M]")
    return months.astype("datetime64[D]").astype(np.int64)
