"""Turn user-supplied time columns and scalars into wall-clock ``datetime64[us]`` values.

Rules (documented in ``docs/explanation/summaries.md``):

- A column is either entirely naive or entirely aware in one time zone. Aware values are stored as
  their wall-clock time in that zone plus the zone's name, so calendar periods (days, weeks,
  months) are the customer's local periods.
- Zone identity is the zone's *name*: the IANA key of a ``zoneinfo.ZoneInfo`` (or pytz zone),
  otherwise ``str(tzinfo)`` (``"UTC+01:00"`` for a fixed offset). Strings with different UTC
  offsets (``+01:00`` in winter, ``+02:00`` in summer, as daylight saving makes them) name no
  zone, so they need a *target* zone (``timezone=``, ``--timezone``): every aware value is then
  converted to the wall-clock time of that zone. Without one they are refused, with a message
  saying to give one.
- Strings are parsed with an explicit ``time_format`` (``datetime.strptime``) or, without one, as
  ISO 8601 (``datetime.fromisoformat``, which also reads ``20200131``). Integers (``19970101``)
  are accepted only with a ``time_format``.
- Speed: when pyarrow is installed, string columns are first parsed by pyarrow's C parsers
  (ISO 8601 casts, ``strptime``); a column pyarrow cannot parse completely is parsed again the
  Python way above, which decides what is accepted and names the offending rows. Both ways give
  the same result for what both accept.
- Resolution is one microsecond.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import re
import zoneinfo
from typing import Any

import numpy as np
from numpy.typing import NDArray

from relmark._validation import offending_rows
from relmark.errors import InvalidInputError

__all__ = ["mixed_offsets_error", "parse_instant", "parse_time_column", "zone_name"]

_MAX_SHOWN = 5
_ARROW_MIN_ROWS = 10_000
"""numpy inputs shorter than this skip pyarrow (its import costs more than parsing them)."""
_ARROW_ZONE_RULES_END = int(np.datetime64("2037-01-01T00:00:00", "us").astype(np.int64))
"""UTC instants from here on are converted to a zone by zoneinfo, not by pyarrow."""
_OFFSET = re.compile(r"^(?:[Zz]|([+-])(\d{2}):?(\d{2})?)$")
_OFFSET_PATTERN = r"(?P<offset>(?:[Zz]|[+-]\d{2}(?::?\d{2})?))$"
DatetimeArray = NDArray[np.datetime64]


def _format_offset(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def mixed_offsets_error(name: str, offsets: set[dt.timedelta]) -> InvalidInputError:
    """The error for aware times whose UTC offsets differ and no zone to convert them to."""
    shown = [_format_offset(o) for o in sorted(offsets)[:_MAX_SHOWN]]
    return InvalidInputError(
        f"Column {name!r} has times with different UTC offsets ({', '.join(shown)}), as daylight "
        "saving time produces; relmark cannot tell which time zone they belong to.",
        column=name,
        value=shown,
        hint="Give the zone to convert them to: timezone='Europe/Berlin' (an IANA name, or 'UTC').",
        hint_field="timezone",
    )


def zone_name(tz: dt.tzinfo) -> str:
    """Name that identifies a time zone: IANA key when there is one, else ``str(tz)``."""
    for attribute in ("key", "zone"):
        name = getattr(tz, attribute, None)
        if isinstance(name, str):
            return name
    return str(tz)


def _is_aware(value: dt.datetime) -> bool:
    return value.tzinfo is not None and value.tzinfo.utcoffset(value) is not None


def _parse_string(text: str, time_format: str | None) -> dt.datetime:
    if time_format is None:
        return dt.datetime.fromisoformat(text.strip())
    return dt.datetime.strptime(text.strip(), time_format)  # noqa: DTZ007 - zone comes from the text or the column


def _as_datetime(value: object, time_format: str | None) -> dt.datetime | None:
    """Convert one scalar to a ``datetime``; ``None`` when it cannot be understood."""
    result: dt.datetime | None = None
    if isinstance(value, dt.datetime):
        result = value
    elif isinstance(value, dt.date):
        result = dt.datetime(value.year, value.month, value.day)  # noqa: DTZ001 - a date has no zone
    elif isinstance(value, np.datetime64):
        if not np.isnat(value):
            result = _from_datetime64(value)
    elif isinstance(value, str) or (
        time_format is not None
        and isinstance(value, int | np.integer)
        and not isinstance(value, bool)
    ):
        try:
            result = _parse_string(str(value), time_format)
        except ValueError:
            result = None
    return result


def _from_datetime64(value: np.datetime64) -> dt.datetime:
    micros = int(value.astype("datetime64[us]").astype(np.int64))
    return dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=micros)  # noqa: DTZ001 - naive by definition


def _is_missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float | np.floating):
        return bool(np.isnan(value))
    if isinstance(value, np.datetime64):
        return bool(np.isnat(value))
    # pandas.NaT / pandas.NA are the only other "missing" scalars we may meet; they compare
    # unequal to themselves or raise, without us importing pandas.
    return type(value).__name__ in {"NaTType", "NAType"}


def _wall_clock(
    name: str, values: list[dt.datetime], rows: NDArray[np.int64], convert_to: str | None
) -> tuple[DatetimeArray, str | None]:
    """Check zone consistency of parsed values and return wall-clock times and the zone name.

    Aware values are converted to the wall-clock time of ``convert_to`` when it is given.
    """
    aware = np.fromiter((_is_aware(v) for v in values), dtype=bool, count=len(values))
    if aware.any() and not aware.all():
        first_naive = int(rows[np.flatnonzero(~aware)[0]])
        first_aware = int(rows[np.flatnonzero(aware)[0]])
        raise InvalidInputError(
            f"Column {name!r} mixes naive and time-zone-aware times (naive at row {first_naive}, "
            f"aware at row {first_aware}); give all times in one time zone or none.",
            column=name,
            rows=sorted((first_naive, first_aware)),
        )
    zone: str | None = None
    if aware.any() and convert_to is not None:
        target = zoneinfo.ZoneInfo(convert_to)
        converted = [v.astimezone(target).replace(tzinfo=None) for v in values]
        return np.array(converted, dtype="datetime64[us]"), convert_to
    if aware.any():
        names = [zone_name(v.tzinfo) for v in values]  # type: ignore[arg-type]
        zone = names[0]
        other = [i for i, z in enumerate(names) if z != zone]
        if other and all(_fixed_offset(v) for v in values):
            offsets = {v.utcoffset() for v in values}
            raise mixed_offsets_error(name, offsets)  # type: ignore[arg-type]
        if other:
            raise InvalidInputError(
                f"Column {name!r} mixes time zones: row {int(rows[0])} is in {zone!r} but row "
                f"{int(rows[other[0]])} is in {names[other[0]]!r}.",
                column=name,
                value=[zone, names[other[0]]],
                rows=[int(rows[0]), int(rows[other[0]])],
                hint="Convert all times to one time zone first, or give the zone to convert them "
                "to (timezone=).",
                hint_field="timezone",
            )
    wall = np.array(
        [v.replace(tzinfo=None) for v in values] if zone is not None else values,
        dtype="datetime64[us]",
    )
    return wall, zone


def _fixed_offset(value: dt.datetime) -> bool:
    return isinstance(value.tzinfo, dt.timezone)


def parse_time_column(
    name: str,
    values: Any,
    *,
    zone: str | None = None,
    time_format: str | None = None,
    convert_to: str | None = None,
) -> tuple[DatetimeArray, str | None]:
    """Validate a time column and return wall-clock ``datetime64[us]`` values and the zone name.

    Args:
        name: Column name for error messages.
        values: A ``datetime64`` array (already wall-clock when ``zone`` is given), an array of
            strings, an object array of ``datetime`` / ``date`` / ``str`` values, or a pyarrow
            string array.
        zone: Zone name of a ``datetime64`` column that came from a zoned frame column.
        time_format: ``strptime`` format for strings and integers; ISO 8601 when ``None``.
        convert_to: IANA zone to which aware values (strings with a UTC offset, aware
            ``datetime`` objects) are converted; it then becomes the column's zone.

    Raises:
        InvalidInputError: On missing, unparseable or zone-inconsistent values, naming the rows.
    """
    if not isinstance(values, np.ndarray):
        fast = _parse_arrow(name, values, time_format, convert_to)
        if fast is not None:
            return fast
        values = np.asarray(values.to_numpy(zero_copy_only=False), dtype=object)
    elif values.dtype.kind in "UO" and values.size >= _ARROW_MIN_ROWS:
        fast = _parse_numpy_with_arrow(name, values, time_format, convert_to)
        if fast is not None:
            return fast
    if np.issubdtype(values.dtype, np.datetime64):
        bad = np.isnat(values)
        if bad.any():
            raise InvalidInputError(
                f"Column {name!r} has missing times (NaT/null) at {offending_rows(bad)}.",
                column=name,
                rows=np.flatnonzero(bad),
            )
        return values.astype("datetime64[us]"), zone
    kind = values.dtype.kind
    if kind in "iu" and time_format is None:
        raise InvalidInputError(
            f"Column {name!r} holds integers ({values[:3].tolist()}...), not times.",
            column=name,
            value=values[:3].tolist(),
            expected="dates or times",
            hint="Pass time_format (for example '%Y%m%d') to read them as dates.",
            hint_field="time_format",
        )
    if kind in "fcb":
        raise InvalidInputError(
            f"Column {name!r} must hold dates or times; got dtype {values.dtype}.",
            column=name,
            value=str(values.dtype),
            expected="dates or times",
        )
    # Logs repeat the same dates many times: encode each distinct value once, then check and
    # parse only the distinct values.
    uniques, first_rows, inverse = _distinct_values(values)
    missing = np.fromiter((_is_missing(v) for v in uniques), dtype=bool, count=len(uniques))
    if missing.any():
        raise InvalidInputError(
            f"Column {name!r} has missing times (None/NaN/NaT) at "
            f"{offending_rows(missing[inverse])}.",
            column=name,
            rows=np.flatnonzero(missing[inverse]),
        )
    parsed = [_as_datetime(v, time_format) for v in uniques]
    failed = np.array([p is None for p in parsed], dtype=bool)
    if failed.any():
        bad_rows = failed[inverse]
        expected = f"format {time_format!r}" if time_format else "ISO 8601 (e.g. '2024-03-31')"
        shown = values[bad_rows][:_MAX_SHOWN].tolist()
        raise InvalidInputError(
            f"Column {name!r} has values that are not times in {expected} at "
            f"{offending_rows(bad_rows)}: {shown}.",
            column=name,
            value=shown,
            rows=np.flatnonzero(bad_rows),
            expected=f"times in {expected}",
        )
    wall, found_zone = _wall_clock(name, parsed, first_rows, convert_to)  # type: ignore[arg-type]
    return wall[inverse], found_zone


def _parse_numpy_with_arrow(
    name: str, values: NDArray[Any], time_format: str | None, convert_to: str | None
) -> tuple[DatetimeArray, str | None] | None:
    if importlib.util.find_spec("pyarrow") is None:
        return None
    import pyarrow as pa

    try:
        text = pa.array(values, type=pa.string())
    except (pa.ArrowException, TypeError):
        return None  # not all strings: the Python way handles (or refuses) them
    return _parse_arrow(name, text, time_format, convert_to)


def _parse_arrow(
    name: str, text: Any, time_format: str | None, convert_to: str | None
) -> tuple[DatetimeArray, str | None] | None:
    """Parse a pyarrow string array in C; ``None`` when some value needs the Python way.

    The Python way then decides: it accepts what pyarrow's parsers do not (``20200131`` as ISO
    8601, formats with ``%z``) and names the rows it cannot parse.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if (
        not pa.types.is_string(text.type) and not pa.types.is_large_string(text.type)
    ) or text.null_count:
        return None
    trimmed = pc.utf8_trim_whitespace(text)
    if time_format is not None:
        return _arrow_strptime(trimmed, time_format)
    try:
        try:
            return _naive_wall(pc.cast(trimmed, pa.timestamp("us"))), None
        except pa.ArrowInvalid:
            instants = pc.cast(trimmed, pa.timestamp("us", "UTC"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return _aware_wall(name, trimmed, instants, convert_to)


def _arrow_strptime(trimmed: Any, time_format: str) -> tuple[DatetimeArray, str | None] | None:
    import pyarrow as pa
    import pyarrow.compute as pc

    if "%z" in time_format or "%Z" in time_format:
        return None  # offsets and zone names: the Python way applies the zone rules
    try:
        parsed = pc.strptime(trimmed, format=time_format, unit="us", error_is_null=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return None if parsed.null_count else (_naive_wall(parsed), None)


def _naive_wall(parsed: Any) -> DatetimeArray:
    import pyarrow as pa

    micros = parsed.cast(pa.int64()).to_numpy(zero_copy_only=False)
    wall: DatetimeArray = micros.view("datetime64[us]")
    return wall


def _aware_wall(
    name: str, trimmed: Any, instants: Any, convert_to: str | None
) -> tuple[DatetimeArray, str | None] | None:
    """Wall-clock times of UTC instants parsed from strings with offsets."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if convert_to is not None:
        micros = instants.cast(pa.int64())
        if pc.max(micros).as_py() >= _ARROW_ZONE_RULES_END:
            # pyarrow's zone tables stop in 2037 (no daylight saving after); zoneinfo follows
            # the zone's rule for later years, so the Python way converts such times.
            return None
        local = pc.local_timestamp(instants.cast(pa.timestamp("us", convert_to)))
        return _naive_wall(local), convert_to
    found = pc.extract_regex(trimmed, _OFFSET_PATTERN)
    if found.null_count:
        return None
    offsets = pc.unique(pc.struct_field(found, [0])).to_pylist()
    deltas = {_offset_delta(o) for o in offsets}
    if None in deltas:
        return None
    if len(deltas) > 1:
        raise mixed_offsets_error(name, deltas)  # type: ignore[arg-type]
    delta = deltas.pop()
    if delta is None:  # pragma: no cover - excluded above; narrows the type
        return None
    micros = instants.cast(pa.int64()).to_numpy(zero_copy_only=False)
    shift = np.int64(delta // dt.timedelta(microseconds=1))
    wall: DatetimeArray = (micros + shift).view("datetime64[us]")
    return wall, zone_name(dt.timezone(delta))


def _offset_delta(text: str) -> dt.timedelta | None:
    match = _OFFSET.match(text)
    if match is None:
        return None
    sign, hours, minutes = match.groups()
    if sign is None:
        return dt.timedelta(0)
    delta = dt.timedelta(hours=int(hours), minutes=int(minutes or 0))
    return -delta if sign == "-" else delta


def _distinct_values(
    values: NDArray[Any],
) -> tuple[list[object], NDArray[np.int64], NDArray[np.int64]]:
    """Distinct values of a column, the first row of each and each row's index into them.

    Values are encoded with one dictionary pass, much faster than sorting strings. When the
    column holds several types, or aware datetimes, values are keyed by type and zone too: a
    plain dictionary would merge ``1`` with ``1.0``, or the same instant in two zones. Unhashable
    values are kept one per row.
    """
    items = values.tolist()
    types = set(map(type, items))
    plain = len(types) == 1 and not issubclass(next(iter(types)), dt.datetime)
    positions: dict[object, int] = {}
    try:
        if plain:
            codes = [positions.setdefault(v, len(positions)) for v in items]
        else:
            codes = [positions.setdefault(_identity(v), len(positions)) for v in items]
    except TypeError:
        rows = np.arange(len(items), dtype=np.int64)
        return items, rows, rows
    inverse = np.array(codes, dtype=np.int64)
    first_rows = np.empty(len(positions), dtype=np.int64)
    # Assigning in reverse order leaves each distinct value's first row.
    first_rows[inverse[::-1]] = np.arange(inverse.size - 1, -1, -1, dtype=np.int64)
    return [items[row] for row in first_rows.tolist()], first_rows, inverse


def _identity(value: object) -> object:
    """Dictionary key that tells apart values equal across types or time zones."""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return (type(value), value, zone_name(value.tzinfo), value.utcoffset())
    return (type(value), value)


def parse_instant(
    name: str, value: object, *, zone: str | None, time_format: str | None = None
) -> np.datetime64:
    """Parse one point in time (an argument such as ``observation_end``) for a log in ``zone``.

    Naive values are read as wall-clock time of the log; aware values must be in the log's zone.

    Raises:
        InvalidInputError: When the value is not a time or its zone differs from the log's.
    """
    parsed = None if _is_missing(value) else _as_datetime(value, time_format)
    if parsed is None:
        raise InvalidInputError(
            f"The {name!r} parameter must be a date or time (datetime, numpy.datetime64 or ISO "
            f"8601 string). Got {value!r}.",
            field=name,
            value=value,
            expected="a date or time (datetime, numpy.datetime64 or ISO 8601 string)",
        )
    if _is_aware(parsed):
        given = zone_name(parsed.tzinfo)  # type: ignore[arg-type]
        if zone is None or given != zone:
            where = f"in {zone!r}" if zone else "naive (without time zone)"
            raise InvalidInputError(
                f"The {name!r} parameter is in time zone {given!r} but the log's times are "
                f"{where}; give it in the log's zone or without a zone.",
                field=name,
                value=value,
                expected=f"a time in the log's zone ({zone!r}) or without a zone"
                if zone
                else "a time without a zone, as the log's times are",
            )
        parsed = parsed.replace(tzinfo=None)
    return np.datetime64(parsed, "us")
