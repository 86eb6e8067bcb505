"""Tests of relmark.data._periods: calendar bucketing checked against Python's datetime."""

from __future__ import annotations

import datetime as dt

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from relmark.data import TimeUnit
from relmark.data._periods import period_index, period_start_day

EPOCH = dt.date(1970, 1, 1)


def _start(moment: dt.datetime, period: TimeUnit) -> dt.date:
    micros = np.array([np.datetime64(moment, "us").astype(np.int64)])
    day = int(period_start_day(period_index(micros, period), period)[0])
    return EPOCH + dt.timedelta(days=day)


@given(
    moments=st.lists(
        st.datetimes(
            min_value=dt.datetime(1800, 1, 1),  # noqa: DTZ001 - logs hold naive wall-clock times
            max_value=dt.datetime(2200, 12, 31),  # noqa: DTZ001 - idem
        ),
        min_size=1,
        max_size=20,
    )
)
def test_period_starts_match_the_calendar(moments):
    """Each time's period starts on its own day, ISO Monday, first of month/quarter/year."""
    for moment in moments:
        day = moment.date()
        assert _start(moment, TimeUnit.DAY) == day
        monday = day - dt.timedelta(days=day.weekday())
        assert _start(moment, TimeUnit.WEEK) == monday
        assert _start(moment, TimeUnit.MONTH) == day.replace(day=1)
        quarter_month = 3 * ((day.month - 1) // 3) + 1
        assert _start(moment, TimeUnit.QUARTER) == dt.date(day.year, quarter_month, 1)
        assert _start(moment, TimeUnit.YEAR) == dt.date(day.year, 1, 1)


def test_month_lookup_and_direct_paths_agree():
    """Months via the compact lookup table equal months via direct conversion (wide spans)."""
    rng = np.random.default_rng(8)
    days = rng.integers(-200_000, 200_000, 50)  # span far wider than 4x the size: direct path
    compact = rng.integers(10_000, 10_400, 50)  # narrow span: lookup table
    for sample in (days, compact):
        micros = sample * 86_400_000_000
        expected = sample.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
        assert np.array_equal(period_index(micros, TimeUnit.MONTH), expected)


def test_consecutive_periods_are_consecutive_indices():
    """Adjacent calendar periods have adjacent indices (so counts of periods are exact)."""
    micros = (
        np.array(["1999-12-31", "2000-01-01"], dtype="datetime64[D]").astype(np.int64)
        * 86_400_000_000
    )
    for period in (TimeUnit.DAY, TimeUnit.MONTH, TimeUnit.QUARTER, TimeUnit.YEAR):
        first, second = period_index(micros, period)
        assert second - first == 1
