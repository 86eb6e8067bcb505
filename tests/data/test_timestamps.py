"""Time columns: pyarrow's C parsers agree with the Python rules; DST offsets need a zone."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relmark.data._timestamps import parse_time_column
from relmark.errors import InvalidInputError

pa = pytest.importorskip("pyarrow")

_naive = st.datetimes(
    min_value=dt.datetime(1900, 1, 1),  # noqa: DTZ001 - naive on purpose
    max_value=dt.datetime(2200, 12, 31),  # noqa: DTZ001
)
_formats = st.sampled_from(
    ["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S.%f"]
)
_offsets = st.sampled_from(["Z", "+00:00", "+01:00", "-05:00", "+05:30", "+0200", "-03"])


def _python_way(values: list[str], **kwargs: object) -> tuple[np.ndarray, str | None]:
    """The pure-Python parser: a short numpy object column never goes through pyarrow."""
    return parse_time_column("t", np.array(values, dtype=object), **kwargs)  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None)
@given(st.lists(_naive, min_size=1, max_size=20), _formats)
def test_arrow_iso_parsing_equals_python(values: list[dt.datetime], fmt: str) -> None:
    """Naive ISO 8601 strings parse to the same wall-clock times in C and in Python."""
    text = [v.strftime(fmt) for v in values]
    fast, zone = parse_time_column("t", pa.array(text))
    slow, slow_zone = _python_way(text)
    np.testing.assert_array_equal(fast, slow)
    assert zone is slow_zone is None


@settings(max_examples=60, deadline=None)
@given(st.lists(_naive, min_size=1, max_size=20), _offsets)
def test_one_offset_keeps_its_fixed_zone_like_python(
    values: list[dt.datetime], offset: str
) -> None:
    """Strings sharing one UTC offset keep their wall clock and name the same fixed zone."""
    text = [v.strftime("%Y-%m-%dT%H:%M:%S") + offset for v in values]
    fast, zone = parse_time_column("t", pa.array(text))
    slow, slow_zone = _python_way(text)
    np.testing.assert_array_equal(fast, slow)
    assert zone == slow_zone


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(_naive, _offsets), min_size=2, max_size=20),
    st.sampled_from(["Europe/Berlin", "America/New_York", "UTC", "Asia/Kolkata"]),
)
def test_conversion_to_a_zone_equals_python(
    values: list[tuple[dt.datetime, str]], target: str
) -> None:
    """Any offsets convert to a target zone's wall clock exactly as datetime.astimezone does."""
    text = [v.strftime("%Y-%m-%dT%H:%M:%S") + o for v, o in values]
    fast, zone = parse_time_column("t", pa.array(text), convert_to=target)
    slow, slow_zone = _python_way(text, convert_to=target)
    zone_info = zoneinfo.ZoneInfo(target)
    expected = [
        dt.datetime.fromisoformat(t).astimezone(zone_info).replace(tzinfo=None) for t in text
    ]
    np.testing.assert_array_equal(fast, np.array(expected, dtype="datetime64[us]"))
    np.testing.assert_array_equal(slow, fast)
    assert zone == slow_zone == target


def test_daylight_saving_offsets_without_a_zone_are_refused_both_ways() -> None:
    """Winter and summer offsets of one zone name no zone: both parsers ask for a timezone."""
    text = ["2024-03-30T12:00:00+01:00", "2024-04-02T12:00:00+02:00"]
    for column in (pa.array(text), np.array(text, dtype=object)):
        with pytest.raises(InvalidInputError, match=r"different UTC offsets \(\+01:00, \+02:00\)"):
            parse_time_column("when", column)


def test_ambiguous_wall_clock_converts_by_its_offset() -> None:
    """The repeated hour at the end of DST is told apart by the offsets in the strings."""
    text = ["2024-10-27T02:30:00+02:00", "2024-10-27T02:30:00+01:00"]
    wall, zone = parse_time_column("t", pa.array(text), convert_to="UTC")
    assert zone == "UTC"
    assert wall.astype(str).tolist() == ["2024-10-27T00:30:00.000000", "2024-10-27T01:30:00.000000"]


def test_strptime_formats_agree() -> None:
    """An explicit time_format gives the same times through pyarrow's strptime and Python's."""
    text = ["31/12/2023", "01/01/2024", " 29/02/2024 "]
    fast, _ = parse_time_column("t", pa.array(text), time_format="%d/%m/%Y")
    slow, _ = _python_way(text, time_format="%d/%m/%Y")
    np.testing.assert_array_equal(fast, slow)


def test_values_pyarrow_cannot_parse_fall_back_to_python() -> None:
    """Compact ISO dates are read by the Python rules; bad values are named by row."""
    fast, _ = parse_time_column("t", pa.array(["20240131", "2024-02-01"]))
    assert fast.astype("datetime64[D]").astype(str).tolist() == ["2024-01-31", "2024-02-01"]
    with pytest.raises(InvalidInputError, match=r"row\(s\) 1: \['2024-02-30'\]"):
        parse_time_column("t", pa.array(["2024-01-01", "2024-02-30"]))


def test_long_numpy_string_columns_take_the_fast_path() -> None:
    """A long numpy column of strings is parsed in C to the same times as the Python rules."""
    rng = np.random.default_rng(3)
    seconds = rng.integers(0, 3 * 365 * 86_400, 12_000)
    times = np.datetime64("2021-01-01T00:00:00") + seconds.astype("timedelta64[s]")
    text = np.datetime_as_string(times)
    wall, zone = parse_time_column("t", text)
    np.testing.assert_array_equal(wall, times.astype("datetime64[us]"))
    assert zone is None
