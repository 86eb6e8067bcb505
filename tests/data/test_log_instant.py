"""TransactionLog.instant: a time argument read in the log's own time zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from relmark.data import TransactionLog
from relmark.errors import InvalidInputError


def test_naive_values_are_wall_clock_times_of_the_log() -> None:
    """A string, a datetime and a datetime64 naming the same wall-clock time give one instant."""
    log = TransactionLog.from_arrays(["a", "b"], ["2024-01-05", "2024-03-01"])
    expected = np.datetime64("2024-02-01T12:30:00", "us")
    naive = dt.datetime(2024, 2, 1, 12, 30)  # noqa: DTZ001 - naive on purpose
    for value in ("2024-02-01T12:30", naive, expected):
        assert log.instant(value) == expected
    assert log.instant(dt.date(2024, 2, 1)) == np.datetime64("2024-02-01", "us")


def test_aware_value_in_the_logs_zone_keeps_its_wall_clock() -> None:
    """An aware value in the log's zone is read as its wall-clock time there."""
    zone = ZoneInfo("Europe/Berlin")
    log = TransactionLog.from_arrays([1], [dt.datetime(2024, 1, 5, tzinfo=zone)])
    at = dt.datetime(2024, 7, 1, 9, 0, tzinfo=zone)
    assert log.instant(at) == np.datetime64("2024-07-01T09:00", "us")


def test_aware_value_in_another_zone_is_refused_with_the_argument_name() -> None:
    """A time in another zone is refused, naming the argument and both zones."""
    log = TransactionLog.from_arrays([1], ["2024-01-05"], timezone="Europe/Berlin")
    other = dt.datetime(2024, 2, 1, tzinfo=ZoneInfo("America/New_York"))
    with pytest.raises(InvalidInputError, match=r"'calibration_end'.*America/New_York.*Berlin"):
        log.instant(other, name="calibration_end")


def test_not_a_time_is_refused_with_the_value() -> None:
    """A value that names no time is refused, showing it."""
    log = TransactionLog.from_arrays([1], ["2024-01-05"])
    with pytest.raises(InvalidInputError, match=r"'start' parameter must be a date.*'soon'"):
        log.instant("soon", name="start")
