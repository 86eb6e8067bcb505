r"""JSON at the edge: exact round trips for records and fitted estimators, never pickle.

[`to_json`][relmark.io.to_json] and [`from_json`][relmark.io.from_json] convert relmark objects
to standard JSON (no `NaN` literals) and back; [`to_dict`][relmark.io.to_dict] and
[`from_dict`][relmark.io.from_dict] stop at plain Python data (dicts, lists, strings, numbers) for
callers that embed the payload in a larger document. One private cattrs converter does the work;
it is configured once at import and never changed afterwards.

What round-trips, and how it looks in JSON:

| Python value | JSON |
|---|---|
| attrs record (domain records, fitted parameter records) | object of its fields |
| `float` | number (shortest `repr`, read back bit for bit); `"NaN"`, `"Infinity"`, `"-Infinity"` |
| `int`, `str`, `bool`, `None` | number, string, `true`/`false`, `null` |
| enum member | its value |
| `tuple`, `list` / `frozenset`, `set` | array (sets sorted, so the text is deterministic) |
| `dict` with `str` keys | object |
| aware `datetime` | RFC 9557 text: `"2024-03-01T09:30:00+01:00[Europe/Berlin]"` |
| `date` / `timedelta` | `"2024-03-01"` / `{"days": 30, "seconds": 0, "microseconds": 0}` |
| a value type (`FieldSpec.type`) | `"str"`, `"int"`, `"float"`, `"bool"`, `"date"`, `"datetime"`, `"tuple"` or an Enum's `"module.Qualname"` |
| a value annotated `Any` (a profile value, a choice) | as JSON when it is JSON's own; else tagged: `{"$type": "date", "value": "2024-03-01"}` |
| numpy array (float64, int64, bool, str) | `{"dtype": "float64", "shape": [2, 2], "values": [...]}` |
| estimator (as a fitted attribute of another estimator) | its estimator payload (below) |

Integers are 64-bit (from $-2^{63}$ to $2^{63}-1$) both ways. A value type or tagged enum names
a class that must already be defined when reading: relmark looks it up among the built-in value
types and the Enum classes the program has loaded, and never imports a module a payload names.

Time zones: a `zoneinfo.ZoneInfo` zone comes back as the same zone (its key is written in
brackets after the offset), a fixed offset (`datetime.timezone`) as the same offset, and
`datetime.timezone.utc` as itself. The instant, the wall time and the offset are always kept (so
the fold of an ambiguous wall time in a DST change survives). Other `tzinfo` implementations
(pytz, dateutil) are refused on writing rather than silently flattened to an offset.

Estimators
----------

A model class or scorer needs no JSON code of its own. [`to_json`][relmark.io.to_json] writes

```json
{"relmark": "<module>.<qualname>", "format": 2,
 "hyperparameters": {...}, "fitted": {...}}
```

where ``hyperparameters`` holds each keyword-only `__init__` parameter, read from the attribute of
the same name (estimators store them verbatim), and ``fitted`` every public attribute ending in
``_`` present on the instance. Each value is written and read back according to its annotation:
the `__init__` annotation for hyperparameters, the *class-level* annotation for fitted attributes
(``params_: BGNBDParams``, ``covariance_: FloatArray``), so an estimator opts in by annotating
its fitted attributes with the types above. [`from_json`][relmark.io.from_json] checks that the
payload names the requested class, calls ``cls(**hyperparameters)`` and sets the fitted
attributes. A class counts as an estimator when it is not an attrs class and all parameters of its
`__init__` are keyword-only.

Estimators nest: a fitted attribute annotated with an estimator class (``model_: BGNBD``) is
written as that estimator's own payload, and so is one annotated with a union of estimator
classes (``model_: BGNBD | ParetoNBD``, optionally ``| None``), which is read back as the member
the payload's ``"relmark"`` key names. An annotated class may stand for a family: when it has a
classmethod ``_serializable_subclasses()``, the annotation admits exactly the classes it returns
(``model_: RepeatBuyingModel`` admits the transaction models of
[`relmark.clv.registry`][relmark.clv.registry], ``model_: CovariateModel`` the three
covariate models of [`relmark.clv.covariates`][relmark.clv.covariates]; this module, below the
model layer, imports none of them and learns them from the annotated class when first asked).
Only the classes the annotation admits are ever built or written, so a payload cannot make the
reader import or construct anything else, and a model missing from the registry is refused both
ways.

Profiles
--------

A [`Profile`][relmark.profile.records.Profile] is written with every field but its catalogue:
customer id, account opening, resolution policy, every observation with its provenance (values
tagged by type as under ``Any`` above), the consent log, the erasure records and
``next_sequence``. Values erased from the profile are gone from it, so they are not written; the
payload holds the customer's personal data otherwise (it is what a data-subject access request
returns), while error messages about it never quote a value.

The catalogue is configuration shared by every profile, and it decides what a profile may hold
(field types, choices, lawful bases), so it is never read from a profile payload: reading a
profile needs the catalogue to check it against,
``from_json(text, Profile, catalogue=builder.catalogue)`` (also for ``list[Profile]`` and records
holding profiles). The profile is then built by its constructor, exactly as one the builder
makes, and a payload that carries a catalogue of its own is refused. Save the catalogue itself,
if you need to, with ``to_json(builder.catalogue)``.

Load checks
-----------

Loading runs the validation of construction, so a payload cannot smuggle in an object relmark
would refuse to build:

- A [`CustomerSummary`][relmark.data.summary.CustomerSummary] is built through
  [`CustomerSummary.from_arrays`][relmark.data.summary.CustomerSummary.from_arrays] (recency
  within $[0, T]$, whole non-negative frequencies, no NaN, equal lengths, unique ids, ...); its
  holdout columns are checked as a calibration/holdout split makes them. Summaries and profile
  records must carry every field: a missing unit or consent log is an error, never a default.
- A profile is built by its constructor against the catalogue the reader gives (see "Profiles"),
  which checks every value against that catalogue, the recording order of its observations,
  consent events and erasures, and that no value erased since is held.
- An estimator's fitted state is all or nothing: a payload with some fitted attributes must have
  every annotated one (a model without ``params_`` never loads as silently unfitted).
  Hyperparameters named ``penalizer`` or ``*_penalizer`` must be finite and $\ge 0$; a model
  with ``parameter_names()`` must have $k \times k$ ``covariance_`` and ``log_covariance_`` and
  one standard error per parameter; a fitted ``<prefix>model_`` must agree with the estimator
  holding it (a string hyperparameter ``<prefix>model`` names its class: the class's registry
  ``name`` where it has one, else its lower-cased class name; and its hyperparameters equal the
  holder's ``<prefix><name>`` or ``<name>``).
- Every estimator held in a fitted attribute is itself fully fitted (a scorer never loads
  holding an unfitted model).
- Fitted values are what ``fit`` produces: ``covariance_`` and ``log_covariance_`` symmetric with
  a diagonal $\ge 0$, or all NaN (a model built from known parameters); ``standard_errors_``
  $\ge 0$ or NaN; ``fit_.penalizer`` and ``fit_.log_likelihood`` equal to the ``penalizer``
  hyperparameter and ``log_likelihood_``.
- An estimator with a ``_config()`` method (the hyperparameter validation its ``fit`` runs) has
  it called, so a payload's hyperparameters pass the checks of ``fit``. Checks of one class
  beyond these conventions are listed by qualified name in this module (``CLVScorer``: its
  ``interval``, ``interval_draws`` and ``seed``, and two finite, ordered ``clv_tier_cuts_``;
  ``RFMScorer``: its counts, the kind of its tie keys and the seed of random tie keys).
  An estimator adds its own checks in a method ``_check_loaded()``, called last.

Bad payloads
------------

Writing refuses what reading would refuse: data nested deeper than
[`MAX_DEPTH`][relmark.io.MAX_DEPTH] and dicts whose keys are not strings. Error messages name the
path and describe an offending value by its type and size only, never its content (payloads hold
personal data, and messages end up in logs).

Reading never stops at the first problem: a payload with several bad fields raises one
[`InvalidPayloadError`][relmark.errors.InvalidPayloadError] whose ``problems`` lists each of them
with its path (``... @ $.fitted.params_.alpha``), including values that have the right JSON type
but fail a record's validator. Hostile text is an ``InvalidPayloadError`` too: nesting deeper than
[`MAX_DEPTH`][relmark.io.MAX_DEPTH], integers beyond 64 bits or longer than 4,300 digits,
``NaN`` literals, malformed UTF-8.
"""

from __future__ import annotations

import enum
import inspect
import json
import math
import numbers
import re
import types
import typing
from collections.abc import Callable, Hashable, Mapping
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Final, TypeVar, get_args, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs
import numpy as np
from cattrs.errors import (
    AttributeValidationNote,
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
    IterableValidationNote,
)
from cattrs.preconf.json import JsonConverter, make_converter
from cattrs.v import transform_error

from relmark.data.summary import CustomerSummary
from relmark.errors import InvalidInputError, InvalidPayloadError

if TYPE_CHECKING:
    from relmark.profile.catalogue import Catalogue

__all__ = ["FORMAT_VERSION", "MAX_DEPTH", "from_dict", "from_json", "to_dict", "to_json"]

T = TypeVar("T")

FORMAT_VERSION: Final = 2
"""Version of the estimator payload layout written by [`to_json`][relmark.io.to_json].

Version 2 is written by relmark versions whose loads run the checks of fitting ("Load checks"
above). Version 1 payloads were written before those checks existed and are refused with a
message saying so: refit the estimator and save it again.
"""

_NON_FINITE: Final = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_ARRAY_DTYPES: Final = {
    "float64": np.dtype(np.float64),
    "int64": np.dtype(np.int64),
    "bool": np.dtype(np.bool_),
}
_ESTIMATOR_KEYS: Final = ("relmark", "format", "hyperparameters", "fitted")
_INT_RANGE: Final = (-(2**63), 2**63 - 1)
"""Integers relmark reads and writes: the int64 range, so every one fits a numpy column."""
MAX_DEPTH: Final = 64
"""Deepest nesting of arrays and objects [`from_json`][relmark.io.from_json] reads.

relmark's own payloads nest fewer than 15 levels; the limit turns a hostile payload into an
[`InvalidPayloadError`][relmark.errors.InvalidPayloadError] before any recursion can fail.
"""
_ZONED = re.compile(r"(?P<stamp>[^\[\]]+)(?:\[(?P<zone>[^\[\]]+)\])?")


def _show(value: object) -> str:  # noqa: PLR0911 - one return per kind of value
    """Describe a value by its type and size, never its content.

    Payloads carry personal data (names, e-mail addresses, profile values), and error messages
    end up in logs: a problem names the path and what was expected, and the offending value
    only as much as a stranger may see.
    """
    if value is None or isinstance(value, bool):
        return f"{value!r}"
    if isinstance(value, str):
        return f"a string of {len(value)} character(s)"
    if isinstance(value, numbers.Integral):
        return f"an integer of {int(value).bit_length()} bit(s)"
    if isinstance(value, numbers.Real):
        return "a float"
    if isinstance(value, dict):
        return f"an object with {len(value)} key(s)"
    if isinstance(value, list | tuple):
        return f"an array of {len(value)} item(s)"
    return f"a value of type {type(value).__name__}"


def _show_name(value: object) -> str:
    """A class name, tag or version from a payload: schema, not personal data, so quoted."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 10**6:
        return repr(value)
    if not isinstance(value, str):
        return _show(value)
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


# ---------------------------------------------------------------- scalars


def _float_out(value: object) -> float | int | str:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidInputError(f"Expected a float; got {_show(value)}.")
    if isinstance(value, numbers.Integral):
        return int(value)
    number = float(value)
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    return number


def _float_in(value: object, _: object) -> float:
    if isinstance(value, str) and value in _NON_FINITE:
        return _NON_FINITE[value]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInputError(
            f'Expected a number (or "NaN", "Infinity", "-Infinity"); got {_show(value)}.'
        )
    if isinstance(value, int) and not _INT_RANGE[0] <= value <= _INT_RANGE[1]:
        # A float could hold it only rounded (or not at all, beyond 1.8e308): refuse, not round.
        raise InvalidInputError(
            f"Expected a number; got {_show(value)}, outside the range written by "
            "relmark (-2**63 to 2**63 - 1); write large numbers as floats (e.g. 1e30)."
        )
    return float(value)


def _check_int_range(value: int) -> int:
    if not _INT_RANGE[0] <= value <= _INT_RANGE[1]:
        raise InvalidInputError(
            f"Expected an integer from -2**63 to 2**63 - 1; got {_show(value)}."
        )
    return value


def _int_out(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InvalidInputError(f"Expected an int; got {_show(value)}.")
    return _check_int_range(int(value))


def _int_in(value: object, _: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError(f"Expected an integer; got {_show(value)}.")
    return _check_int_range(value)


def _str_in(value: object, _: object) -> str:
    if not isinstance(value, str):
        raise InvalidInputError(f"Expected a string; got {_show(value)}.")
    return value


def _bool_out(value: object) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise InvalidInputError(f"Expected True or False; got {_show(value)}.")
    return bool(value)


def _bool_in(value: object, _: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidInputError(f"Expected true or false; got {_show(value)}.")
    return value


def _numpy_scalar_out(value: np.generic) -> object:
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return _float_out(float(value))
    raise InvalidInputError(f"Cannot write the numpy scalar {_show(value)} to JSON.")


# ---------------------------------------------------------------- datetimes


def _datetime_out(value: datetime) -> str:
    if value.utcoffset() is None:
        raise InvalidInputError(
            f"Cannot write the naive datetime {value} to JSON; relmark stores only "
            "timezone-aware timestamps."
        )
    text = value.isoformat()
    zone = value.tzinfo
    if isinstance(zone, ZoneInfo):
        if zone.key is None:
            raise InvalidInputError(
                f"Cannot write {text}: its ZoneInfo was loaded from a file and has no key to "
                "write down; use ZoneInfo('<Area/City>')."
            )
        return f"{text}[{zone.key}]"
    if isinstance(zone, timezone):
        return text
    raise InvalidInputError(
        f"Cannot write {text} with a tzinfo of type {type(zone).__name__}: only "
        "zoneinfo.ZoneInfo zones and fixed offsets (datetime.timezone) round-trip exactly. "
        "Convert it, e.g. value.astimezone(ZoneInfo('Europe/Berlin'))."
    )


def _datetime_in(value: object, _: object) -> datetime:
    expected = 'a timestamp such as "2024-03-01T09:30:00+01:00[Europe/Berlin]"'
    if not isinstance(value, str):
        raise InvalidInputError(f"Expected {expected}; got {_show(value)}.")
    match = _ZONED.fullmatch(value)
    if match is None:
        raise InvalidInputError(f"Expected {expected}; got {_show(value)}.")
    try:
        stamp = datetime.fromisoformat(match["stamp"])
    except ValueError:
        raise InvalidInputError(f"Expected {expected}; got {_show(value)}.") from None
    offset = stamp.utcoffset()
    if offset is None:
        raise InvalidInputError(f"Expected {expected} with a UTC offset; got {_show(value)}.")
    key = match["zone"]
    if key is None:
        return stamp
    try:
        zone = ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInputError(f"Unknown time zone {key!r} in a timestamp.") from None
    wall = stamp.replace(tzinfo=zone)
    for fold in (0, 1):
        candidate = wall.replace(fold=fold)
        if candidate.utcoffset() == offset:
            return candidate
    raise InvalidInputError(
        f"The UTC offset of a timestamp does not occur in zone {key!r} at its wall time."
    )


def _date_out(value: date) -> str:
    return value.isoformat()


def _date_in(value: object, _: object) -> date:
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise InvalidInputError(f'Expected a date such as "2024-03-01"; got {_show(value)}.')


_DURATION_KEYS: Final = ("days", "seconds", "microseconds")


def _timedelta_out(value: timedelta) -> dict[str, int]:
    return {"days": value.days, "seconds": value.seconds, "microseconds": value.microseconds}


def _timedelta_in(value: object, _: object) -> timedelta:
    expected = 'a duration {"days": ..., "seconds": ..., "microseconds": ...}'
    if not isinstance(value, dict) or set(value) != set(_DURATION_KEYS):
        raise InvalidInputError(f"Expected {expected}; got {_show(value)}.")
    parts = [value[k] for k in _DURATION_KEYS]
    if not all(isinstance(p, int) and not isinstance(p, bool) for p in parts):
        raise InvalidInputError(f"Expected {expected} with integer parts; got {_show(value)}.")
    days, seconds, microseconds = parts
    if not (0 <= seconds < 86_400 and 0 <= microseconds < 1_000_000):
        # The normal form timedelta itself keeps: anything else is not what to_json wrote.
        raise InvalidInputError(
            "Expected seconds in [0, 86400) and microseconds in [0, 1000000) in a duration."
        )
    try:
        return timedelta(days=days, seconds=seconds, microseconds=microseconds)
    except OverflowError:
        raise InvalidInputError("A duration is out of range (beyond 999999999 days).") from None


# ---------------------------------------------------------------- ids


def _hashable_out(value: object) -> int | str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool | np.bool_):
        raise InvalidInputError(f"Expected an identifier (an int or a str); got {_show(value)}.")
    if isinstance(value, numbers.Integral):
        return _check_int_range(int(value))
    raise InvalidInputError(
        f"Expected an identifier (an int or a str); got {_show(value)}. Other id types do not "
        "round-trip through JSON."
    )


def _hashable_in(value: object, _: object) -> int | str:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return _check_int_range(value)
    raise InvalidInputError(f"Expected an identifier (an integer or a string); got {_show(value)}.")


# ---------------------------------------------------------------- value types

_SCALAR_TYPE_NAMES: Final[dict[str, type]] = {
    "str": str,
    "int": int,
    "float": float,
    "bool": bool,
    "date": date,
    "datetime": datetime,
    "tuple": tuple,
}


def _enum_classes(cls: type[enum.Enum]) -> list[type[enum.Enum]]:
    found: list[type[enum.Enum]] = []
    stack = [cls]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(current.__subclasses__())
    return found


def _type_out(value: object) -> str:
    for name, known in _SCALAR_TYPE_NAMES.items():
        if value is known:
            return name
    if isinstance(value, type) and issubclass(value, enum.Enum) and value is not enum.Enum:
        if "<locals>" in value.__qualname__:
            raise InvalidInputError(
                f"Cannot write the value type {value.__qualname__}: an Enum defined inside a "
                "function cannot be found again when reading; define it at module level."
            )
        return _qualified_name(value)
    raise InvalidInputError(
        f"Cannot write the value type {_show(value)}; relmark writes "
        f"{', '.join(_SCALAR_TYPE_NAMES)} and Enum classes."
    )


def _type_in(value: object, _: object) -> type:
    """A value type by name: a built-in scalar type, or an Enum class that is already defined.

    Nothing is imported: the Enum class must have been defined (its module imported) before
    reading, so a payload can name only classes the program itself has loaded.
    """
    if not isinstance(value, str):
        raise InvalidInputError(f"Expected the name of a value type; got {_show(value)}.")
    if value in _SCALAR_TYPE_NAMES:
        return _SCALAR_TYPE_NAMES[value]
    matches = [c for c in _enum_classes(enum.Enum) if _qualified_name(c) == value]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise InvalidInputError(f"The Enum name {value!r} names {len(matches)} classes.")
    raise InvalidInputError(
        f"Unknown value type {value!r}: expected one of {', '.join(_SCALAR_TYPE_NAMES)} or the "
        "module-qualified name of an Enum class. relmark never imports a module named in a "
        "payload: import the module defining the Enum before reading."
    )


_ANY_TAG: Final = "$type"


def _any_out(value: object) -> object:
    """A value annotated ``Any`` as self-describing JSON.

    JSON's own values (str, int, finite float, bool, None, lists, str-keyed dicts) and records
    are written as usual; the rest carries its type, ``{"$type": "date", "value": "2024-03-01"}``,
    so that reading gives back the same type: dates, datetimes (zone kept), durations, tuples,
    enum members (``"class"`` names the Enum) and non-finite floats.
    """
    if isinstance(value, enum.Enum):
        return {_ANY_TAG: "enum", "class": _type_out(type(value)), "value": value.value}
    tagged: tuple[str, object] | None = None
    if isinstance(value, datetime):  # before date: a datetime is a date
        tagged = ("datetime", _datetime_out(value))
    elif isinstance(value, date):
        tagged = ("date", _date_out(value))
    elif isinstance(value, timedelta):
        tagged = ("timedelta", _timedelta_out(value))
    elif isinstance(value, tuple):
        tagged = ("tuple", [_any_out(v) for v in value])
    elif isinstance(value, float) and not math.isfinite(value):
        tagged = ("float", _float_out(value))
    if tagged is None:
        return _CONVERTER.unstructure(value)
    return {_ANY_TAG: tagged[0], "value": tagged[1]}


def _any_enum_in(raw: dict[str, Any]) -> object:
    cls = _type_in(raw["class"], None)
    if not issubclass(cls, enum.Enum):
        raise InvalidInputError(f"Expected the name of an Enum class; got {raw['class']!r}.")
    return _enum_in_factory(cls)(raw["value"], cls)


def _any_tuple_in(raw: dict[str, Any]) -> object:
    items = raw["value"]
    if not isinstance(items, list):
        raise InvalidInputError(f"A tagged tuple holds a list; got {_show(items)}.")
    return tuple(_any_in(item, None) for item in items)


def _any_float_in(raw: dict[str, Any]) -> object:
    if raw["value"] not in _NON_FINITE:
        raise InvalidInputError(
            f'Expected "NaN", "Infinity" or "-Infinity"; got {_show(raw["value"])}.'
        )
    return _NON_FINITE[raw["value"]]


_ANY_READERS: Final[dict[str, Callable[[dict[str, Any]], object]]] = {
    "enum": _any_enum_in,
    "tuple": _any_tuple_in,
    "float": _any_float_in,
    "datetime": lambda raw: _datetime_in(raw["value"], None),
    "date": lambda raw: _date_in(raw["value"], None),
    "timedelta": lambda raw: _timedelta_in(raw["value"], None),
}


def _any_in(raw: object, _: object) -> object:
    """Read a value written by ``_any_out``: tagged objects become their type again."""
    if not isinstance(raw, dict) or _ANY_TAG not in raw:
        return raw
    kind = raw[_ANY_TAG]
    reader = _ANY_READERS.get(kind) if isinstance(kind, str) else None
    if reader is None:
        raise InvalidInputError(
            f"Unknown value tag {kind!r}; expected one of {sorted(_ANY_READERS)}."
        )
    keys = {_ANY_TAG, "class", "value"} if kind == "enum" else {_ANY_TAG, "value"}
    if set(raw) != keys:
        raise InvalidInputError(
            f"A tagged value of type {kind!r} has the keys {sorted(keys)}; got {sorted(raw)}."
        )
    return reader(raw)


# ---------------------------------------------------------------- enums


def _enum_in_factory(cls: type[enum.Enum]) -> Callable[[object, object], enum.Enum]:
    def structure(value: object, _: object) -> enum.Enum:
        for member in cls:
            if member.value == value and type(member.value) is type(value):
                return member
        if issubclass(cls, enum.Flag) and isinstance(value, int) and not isinstance(value, bool):
            # A combination of flags (A | B) is no member of the iteration; its value is the
            # bitwise or, which the class itself turns back into the combination.
            try:
                return cls(value)
            except ValueError:
                pass
        allowed = ", ".join(repr(m.value) for m in cls)
        raise InvalidInputError(f"Expected a {cls.__name__}, one of {allowed}; got {_show(value)}.")

    return structure


def _is_enum(tp: object) -> bool:
    return isinstance(tp, type) and issubclass(tp, enum.Enum)


# ---------------------------------------------------------------- numpy arrays


def _is_array_type(tp: object) -> bool:
    return tp is np.ndarray or get_origin(tp) is np.ndarray


def _declared_dtype(tp: object) -> np.dtype[Any] | None:
    """The dtype an annotation such as ``NDArray[np.float64]`` promises, if it names one."""
    args = get_args(tp)
    if len(args) != 2:
        return None
    scalar = get_args(args[1])
    if len(scalar) != 1 or not isinstance(scalar[0], type) or not issubclass(scalar[0], np.generic):
        return None
    return np.dtype(scalar[0])


def _dtype_name(array: np.ndarray[Any, Any]) -> str | None:
    dtype = array.dtype
    if dtype.kind == "U":
        return "str"
    if dtype.kind == "O" and all(isinstance(v, str) for v in array.ravel(order="C").tolist()):
        # Columns of string ids are object arrays of str (see relmark.data); written as "str".
        return "str"
    for name, known in _ARRAY_DTYPES.items():
        if dtype == known:
            return name
    return None


def _array_out_factory(tp: object) -> Callable[[object], dict[str, Any]]:
    declared = _declared_dtype(tp)

    def unstructure(value: object) -> dict[str, Any]:
        if not isinstance(value, np.ndarray):
            raise InvalidInputError(f"Expected a numpy array; got {_show(value)}.")
        name = _dtype_name(value)
        if name is None:
            raise InvalidInputError(
                f"Cannot write an array of dtype {value.dtype}; relmark writes float64, int64, "
                "bool and str arrays (an object array only when it holds str values)."
            )
        if declared is not None and value.dtype != declared:
            raise InvalidInputError(
                f"The annotation promises an array of dtype {declared}, but it holds {value.dtype}."
            )
        flat = value.ravel(order="C").tolist()
        if name == "float64":
            flat = [_float_out(v) for v in flat]
        return {"dtype": name, "shape": list(value.shape), "values": flat}

    return unstructure


def _array_values(dtype: str, values: list[Any]) -> list[Any]:
    if dtype == "float64":
        return [_float_in(v, None) for v in values]
    if dtype == "int64":
        return [_int_in(v, None) for v in values]
    if dtype == "bool":
        return [_bool_in(v, None) for v in values]
    return [_str_in(v, None) for v in values]


def _array_in_factory(tp: object) -> Callable[[object, object], np.ndarray[Any, Any]]:
    declared = _declared_dtype(tp)

    def structure(payload: object, _: object) -> np.ndarray[Any, Any]:
        if not isinstance(payload, dict) or set(payload) != {"dtype", "shape", "values"}:
            raise InvalidInputError(
                'Expected an array object {"dtype": ..., "shape": [...], "values": [...]}; '
                f"got {_show(payload)}."
            )
        dtype, shape, values = payload["dtype"], payload["shape"], payload["values"]
        if dtype != "str" and dtype not in _ARRAY_DTYPES:
            raise InvalidInputError(
                f"Array dtype must be one of 'float64', 'int64', 'bool', 'str'; got {dtype!r}."
            )
        numpy_dtype = np.dtype(str) if dtype == "str" else _ARRAY_DTYPES[dtype]
        if declared is not None and numpy_dtype != declared:
            raise InvalidInputError(f"Expected an array of dtype {declared}; got dtype {dtype!r}.")
        if not isinstance(shape, list) or not all(
            isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape
        ):
            raise InvalidInputError(
                f"Array shape must be a list of non-negative integers; got {_show(shape)}."
            )
        if not isinstance(values, list) or len(values) != math.prod(shape):
            raise InvalidInputError(
                f"Array of shape {tuple(shape)} needs a list of {math.prod(shape)} values; "
                f"got {_show(values)}."
            )
        converted = _array_values(dtype, values)
        if dtype == "str":
            return np.array(converted, dtype=str).reshape(shape)
        return np.array(converted, dtype=numpy_dtype).reshape(shape)

    return structure


# ---------------------------------------------------------------- containers


def _optional_member(tp: Any) -> Any:
    """``X`` for ``X | None`` (one non-None member), else ``None``."""
    if get_origin(tp) not in (typing.Union, types.UnionType):
        return None
    members = [a for a in get_args(tp) if a is not type(None)]
    if len(members) != 1 or len(get_args(tp)) != 2:
        return None
    return members[0]


def _is_collection(tp: object) -> bool:
    return get_origin(tp) in (tuple, list, frozenset, set) or tp in (tuple, list, frozenset, set)


def _with_note(exc: Exception, note: AttributeValidationNote | IterableValidationNote) -> Exception:
    exc.__notes__ = [*getattr(exc, "__notes__", []), note]
    return exc


class _Hooks:
    """The structure/unstructure hooks that need the converter itself."""

    def __init__(self, converter: JsonConverter, context: Mapping[str, object]) -> None:
        self.c = converter
        self.context = context

    # Optional ------------------------------------------------------------------------------
    def optional_out(self, tp: Any) -> Callable[[object], object]:
        member = _optional_member(tp)

        def unstructure(value: object) -> object:
            return None if value is None else self.c.unstructure(value, member)

        return unstructure

    def optional_in(self, tp: Any) -> Callable[[object, object], object]:
        member = _optional_member(tp)

        def structure(value: object, _: object) -> object:
            return None if value is None else self.c.structure(value, member)

        return structure

    # Collections ---------------------------------------------------------------------------
    def collection_out(self, tp: Any) -> Callable[[object], list[Any]]:
        origin = get_origin(tp) or tp
        args = get_args(tp)

        def element_type(index: int) -> object:
            # None (no annotation) dispatches on each element's own class; only an explicit
            # ``Any`` selects the self-describing encoding of ``_any_out``.
            if origin is tuple and args and args[-1] is not Ellipsis:
                return args[index] if index < len(args) else None
            return args[0] if args else None

        def unstructure(value: object) -> list[Any]:
            if not isinstance(value, tuple | list | frozenset | set):
                raise InvalidInputError(f"Expected a {origin.__name__}; got {_show(value)}.")
            items = [self.c.unstructure(v, element_type(i)) for i, v in enumerate(value)]
            if isinstance(value, frozenset | set):
                items.sort(key=lambda v: json.dumps(v, sort_keys=True))
            return items

        return unstructure

    def collection_in(self, tp: Any) -> Callable[[object, object], object]:
        origin = get_origin(tp) or tp
        args = get_args(tp)
        fixed = origin is tuple and bool(args) and args[-1] is not Ellipsis

        def structure(value: object, _: object) -> object:
            if not isinstance(value, list):
                raise InvalidInputError(f"Expected an array; got {_show(value)}.")
            if fixed and len(value) != len(args):
                raise InvalidInputError(
                    f"Expected an array of {len(args)} items; got {_show(value)}."
                )
            errors: list[Exception] = []
            items: list[Any] = []
            for index, raw in enumerate(value):
                item_type = args[index] if fixed else (args[0] if args else Any)
                try:
                    items.append(self.c.structure(raw, item_type))
                except Exception as exc:  # noqa: BLE001 - every failure is reported, with its index
                    errors.append(_with_note(exc, IterableValidationNote("", index, item_type)))
            if errors:
                raise IterableValidationError("While structuring an array", errors, tp)
            return origin(items)

        return structure

    # attrs records -------------------------------------------------------------------------
    def _context_problem(
        self, cls: type, name: str, payload: Mapping[str, object]
    ) -> InvalidInputError | None:
        """Why the reader's value of context field ``name`` cannot be used, if it cannot."""
        if name in payload:
            return InvalidInputError(
                f"A {cls.__name__} payload must not carry its {name}: it is read against the "
                f"{name} the reader gives, never one from the payload."
            )
        if name not in self.context:
            return InvalidInputError(
                f"Reading a {cls.__name__} needs its {name}: pass {name}= to from_json or "
                f"from_dict (e.g. from_json(text, {cls.__name__}, {name}=builder.{name}))."
            )
        return None

    def record_out(self, cls: Any) -> Callable[[object], dict[str, Any]]:
        hints = typing.get_type_hints(cls)
        given = _CONTEXT_FIELDS.get(_qualified_name(cls))
        names = [f.name for f in attrs.fields(cls) if f.init and f.name != given]

        def unstructure(value: object) -> dict[str, Any]:
            return {name: self.c.unstructure(getattr(value, name), hints[name]) for name in names}

        return unstructure

    def record_in(self, cls: Any) -> Callable[[object, object], Any]:
        hints = typing.get_type_hints(cls)
        fields = [f for f in attrs.fields(cls) if f.init]
        known = {f.name for f in fields}
        every_field = _qualified_name(cls) in _EVERY_FIELD_REQUIRED
        given = _CONTEXT_FIELDS.get(_qualified_name(cls))
        build: Callable[[dict[str, Any]], Any] = _VALIDATED_BUILDERS.get(cls, lambda kw: cls(**kw))

        def structure(payload: object, _: object) -> Any:
            if not isinstance(payload, dict):
                raise InvalidInputError(
                    f"Expected an object with the fields of {cls.__name__}; got {_show(payload)}."
                )
            errors: list[Exception] = []
            kwargs: dict[str, Any] = {}
            for f in fields:
                note = AttributeValidationNote(f"Structuring {f.name}", f.name, hints[f.name])
                if f.name == given:
                    problem = self._context_problem(cls, f.name, payload)
                    if problem is not None:
                        errors.append(_with_note(problem, note))
                    else:
                        kwargs[f.alias] = self.context[f.name]
                    continue
                if f.name not in payload:
                    if f.default is attrs.NOTHING or every_field:
                        errors.append(_with_note(KeyError(f.name), note))
                    continue
                try:
                    value = self.c.structure(payload[f.name], hints[f.name])
                except Exception as exc:  # noqa: BLE001 - every failure is reported, with its field
                    errors.append(_with_note(exc, note))
                    continue
                kwargs[f.alias] = value
                problem = _field_problem(cls, f, value)
                if problem is not None:
                    errors.append(_with_note(problem, note))
            extra = set(payload) - known - ({given} if given is not None else set())
            if extra:
                errors.append(ForbiddenExtraKeysError("", cls, extra))
            if errors:
                raise ClassValidationError(f"While structuring {cls.__name__}", errors, cls)
            try:
                return build(kwargs)
            except (InvalidInputError, TypeError, ValueError) as exc:
                raise ClassValidationError(f"While building {cls.__name__}", [exc], cls) from None

        return structure


# ---------------------------------------------------------------- validated records

_EVERY_FIELD_REQUIRED: Final = frozenset(
    {
        "relmark.data.summary.CustomerSummary",
        "relmark.profile.records.Profile",
        "relmark.profile.records.Provenance",
        "relmark.profile.records.ProvenancedValue",
        "relmark.profile.records.ConsentEvent",
        "relmark.profile.records.ErasureRecord",
        "relmark.program.campaigns.Campaign",
        "relmark.program.campaigns.Contact",
        "relmark.program.learning.ResponseBeliefs",
        "relmark.program.loop.ProgramState",
    }
)
"""Records whose payload must carry every field: a missing consent log, unit or column is an
error, never silently replaced by the default (``to_json`` always writes every field). Named, not
imported: ``relmark.io`` sits below the profile layer."""

_CATALOGUE: Final = "relmark.profile.catalogue.Catalogue"
_CONTEXT_FIELDS: Final = {"relmark.profile.records.Profile": "catalogue"}
"""Record → the field its payload never carries: the reader supplies it (see "Profiles").

A profile is checked against its catalogue (field types, choices, lawful bases); a catalogue
read from the payload would let the payload define the rules it is checked against."""

_HOLDOUT_COLUMNS: Final = ("frequency_holdout", "monetary_holdout", "duration_holdout")


def _rows(mask: np.ndarray[Any, Any]) -> str:
    rows = np.flatnonzero(mask)
    shown = ", ".join(str(r) for r in rows[:5].tolist())
    return f"row(s) {shown}" + (f" and {rows.size - 5} more" if rows.size > 5 else "")


def _check_holdout(summary: CustomerSummary, columns: Mapping[str, Any]) -> None:
    """The holdout columns of a loaded summary, as ``TransactionLog.split`` makes them."""
    frequency, monetary, duration = (columns[name] for name in _HOLDOUT_COLUMNS)
    if (frequency is None) != (duration is None):
        raise InvalidInputError(
            "'frequency_holdout' and 'duration_holdout' come together (a calibration/holdout "
            f"split writes both); got only {'frequency' if duration is None else 'duration'}."
        )
    if frequency is None:
        if monetary is not None:
            raise InvalidInputError("'monetary_holdout' is set but 'frequency_holdout' is not.")
        return
    if (monetary is None) != (summary.monetary is None):
        raise InvalidInputError(
            "'monetary_holdout' must be present exactly when 'monetary' is (both come from the "
            "amounts of the same log)."
        )
    n = len(summary)
    for name, column in zip(_HOLDOUT_COLUMNS, (frequency, monetary, duration), strict=True):
        if column is not None and column.shape != (n,):
            raise InvalidInputError(
                f"Column {name!r} must have one value per customer ({n}); got shape {column.shape}."
            )
    checks = [
        ("frequency_holdout", frequency < 0, "must be >= 0"),
        ("duration_holdout", ~np.isfinite(duration) | (duration <= 0), "must be finite and > 0"),
    ]
    if monetary is not None:
        checks += [
            ("monetary_holdout", ~np.isfinite(monetary) | (monetary < 0), "must be finite, >= 0"),
            ("monetary_holdout", (frequency == 0) & (monetary != 0), "must be 0 without purchases"),
        ]
    for name, bad, rule in checks:
        if bad.any():
            raise InvalidInputError(f"Column {name!r} {rule}; violated at {_rows(bad)}.")


def _summary_from_fields(fields: dict[str, Any]) -> CustomerSummary:
    """A loaded summary runs every check of ``CustomerSummary.from_arrays`` (the one path)."""
    summary = CustomerSummary.from_arrays(
        fields["frequency"],
        fields["recency"],
        fields["T"],
        monetary=fields["monetary"],
        customer_id=fields["customer_id"],
        unit=fields["unit"],
        weights=fields["weights"],
    )
    holdout = {name: fields[name] for name in _HOLDOUT_COLUMNS}
    _check_holdout(summary, holdout)
    excluded = fields["excluded_transactions"]
    if excluded < 0:
        raise InvalidInputError(f"'excluded_transactions' must be >= 0; got {excluded}.")
    return attrs.evolve(summary, excluded_transactions=excluded, **holdout)


_VALIDATED_BUILDERS: Final[dict[type, Callable[[dict[str, Any]], Any]]] = {
    CustomerSummary: _summary_from_fields,
}
"""Records whose constructor trusts its inputs: loading goes through their validating path."""


def _field_problem(
    owner: type, field: attrs.Attribute[Any], value: object
) -> InvalidInputError | None:
    """Run one field's converter and validator alone, so every bad field gets reported.

    Validators that need the whole instance fail here with an unrelated error; those are left to
    the constructor, which runs every validator again.
    """
    if field.validator is None:
        return None
    # A blank instance (no field set) so that a validator naming ``type(instance)`` names the
    # record, not ``NoneType``; one reading another field fails with AttributeError, ignored.
    try:
        blank: object = object.__new__(owner)
    except TypeError:  # a record with its own __new__: validators get None, as attrs allows
        blank = None
    try:
        converter: Any = field.converter
        if converter is not None and not isinstance(converter, attrs.Converter):
            value = converter(value)
        field.validator(blank, field, value)
    except InvalidInputError as exc:
        return exc
    except (AttributeError, TypeError, ValueError):
        return None
    return None


def _family(cls: type) -> tuple[type, ...]:
    """The classes an annotation of estimator class ``cls`` admits (see "Estimators" above)."""
    subclasses = getattr(cls, "_serializable_subclasses", None)
    if not callable(subclasses):
        return (cls,)
    members = tuple(subclasses())
    return members or (cls,)


def _estimator_members(tp: Any) -> tuple[type, ...] | None:
    """The estimator classes of an annotation ``E``, ``E1 | E2 | ...`` (``| None`` allowed)."""
    if _is_estimator_class(tp):
        return _family(tp)
    if get_origin(tp) not in (typing.Union, types.UnionType):
        return None
    members = tuple(a for a in get_args(tp) if a is not type(None))
    if len(members) < 2 or not all(_is_estimator_class(m) for m in members):
        return None
    return members


def _is_estimator_type(tp: Any) -> bool:
    return _estimator_members(tp) is not None


def _estimator_out_factory(tp: Any) -> Callable[[object], object]:
    members = _estimator_members(tp) or ()
    nullable = type(None) in get_args(tp)
    allowed = ", ".join(m.__qualname__ for m in members)

    def unstructure(value: object) -> object:
        if value is None and nullable:
            return None
        # Exact class only: the payload names its class, and reading checks that name.
        if type(value) not in members:
            raise InvalidInputError(f"Expected an estimator of type {allowed}; got {_show(value)}.")
        return _estimator_to_dict(value)

    return unstructure


def _estimator_in_factory(tp: Any) -> Callable[[object, object], object]:
    members = _estimator_members(tp) or ()
    nullable = type(None) in get_args(tp)
    by_name = {_qualified_name(m): m for m in members}

    def structure(payload: object, _: object) -> object:
        if payload is None and nullable:
            return None
        name = payload.get("relmark") if isinstance(payload, dict) else None
        if len(members) == 1:
            return _estimator_from_dict(payload, members[0])
        if name not in by_name:
            raise InvalidInputError(
                f"Expected an estimator payload whose 'relmark' key is one of "
                f"{sorted(by_name)}; got {_show_name(name)}."
            )
        return _estimator_from_dict(payload, by_name[name])

    return structure


def _make_converter(context: Mapping[str, object] | None = None) -> JsonConverter:
    """The converter; ``context`` holds the values of ``_CONTEXT_FIELDS`` a reader supplies."""
    converter = make_converter()
    hooks = _Hooks(converter, context or {})
    converter.register_unstructure_hook(float, _float_out)
    converter.register_structure_hook(float, _float_in)
    converter.register_unstructure_hook(int, _int_out)
    converter.register_structure_hook(int, _int_in)
    converter.register_structure_hook(str, _str_in)
    converter.register_unstructure_hook(bool, _bool_out)
    converter.register_structure_hook(bool, _bool_in)
    # An IntEnum is an int: without its own class hook the int hook above would read its members
    # as bare integers. Class hooks dispatch by the most specific base, so this one wins.
    converter.register_structure_hook(
        enum.IntEnum, lambda value, tp: _enum_in_factory(tp)(value, tp)
    )
    converter.register_unstructure_hook(np.generic, _numpy_scalar_out)
    converter.register_unstructure_hook(datetime, _datetime_out)
    converter.register_structure_hook(datetime, _datetime_in)
    converter.register_unstructure_hook(date, _date_out)
    converter.register_structure_hook(date, _date_in)
    converter.register_unstructure_hook(timedelta, _timedelta_out)
    converter.register_structure_hook(timedelta, _timedelta_in)
    # Predicates, not classes: a class hook for an ABC would also catch every hashable value
    # and every class written under an ``Any`` annotation.
    converter.register_unstructure_hook_factory(lambda tp: tp is Hashable, lambda _: _hashable_out)
    converter.register_structure_hook_factory(lambda tp: tp is Hashable, lambda _: _hashable_in)
    converter.register_unstructure_hook_factory(lambda tp: tp is type, lambda _: _type_out)
    converter.register_structure_hook_factory(lambda tp: tp is type, lambda _: _type_in)
    converter.register_unstructure_hook_factory(lambda tp: tp is Any, lambda _: _any_out)
    converter.register_structure_hook_factory(lambda tp: tp is Any, lambda _: _any_in)
    converter.register_unstructure_hook_factory(_is_enum, lambda _: lambda member: member.value)
    converter.register_structure_hook_factory(_is_enum, _enum_in_factory)
    converter.register_unstructure_hook_factory(_is_array_type, _array_out_factory)
    converter.register_structure_hook_factory(_is_array_type, _array_in_factory)
    converter.register_unstructure_hook_factory(_is_collection, hooks.collection_out)
    converter.register_structure_hook_factory(_is_collection, hooks.collection_in)
    converter.register_unstructure_hook_factory(
        lambda tp: _optional_member(tp) is not None, hooks.optional_out
    )
    converter.register_structure_hook_factory(
        lambda tp: _optional_member(tp) is not None, hooks.optional_in
    )
    converter.register_unstructure_hook_factory(attrs.has, hooks.record_out)
    converter.register_structure_hook_factory(attrs.has, hooks.record_in)
    # Registered last so that it is consulted first: ``E1 | E2 | None`` must not reach the
    # generic union handling.
    converter.register_unstructure_hook_factory(_is_estimator_type, _estimator_out_factory)
    converter.register_structure_hook_factory(_is_estimator_type, _estimator_in_factory)
    return converter


_CONVERTER: Final = _make_converter()


# ---------------------------------------------------------------- estimators


def _is_estimator_class(cls: object) -> bool:
    if not isinstance(cls, type) or attrs.has(cls) or issubclass(cls, enum.Enum):
        return False
    if cls.__module__ == "builtins" or cls.__init__ is object.__init__:
        return False
    try:
        parameters = inspect.signature(cls).parameters.values()
    except (TypeError, ValueError):
        return False
    return all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters)


def _qualified_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _hyperparameters(cls: type) -> dict[str, inspect.Parameter]:
    return dict(inspect.signature(cls).parameters)


def _type_hints(obj: object, owner: str) -> dict[str, Any]:
    try:
        return typing.get_type_hints(obj)
    except NameError as exc:
        raise InvalidInputError(
            f"The annotations of {owner} cannot be resolved at run time ({exc}); import the "
            "annotated types at module level, not under TYPE_CHECKING."
        ) from None


def _is_fitted_name(name: str) -> bool:
    return name.endswith("_") and not name.startswith("_")


def _estimator_to_dict(estimator: object) -> dict[str, Any]:
    cls = type(estimator)
    owner = cls.__qualname__
    init_hints = _type_hints(cls.__init__, f"{owner}.__init__")
    class_hints = _type_hints(cls, owner)
    hyperparameters: dict[str, Any] = {}
    for name in _hyperparameters(cls):
        if not hasattr(estimator, name):
            raise InvalidInputError(
                f"{owner} has no attribute {name!r} holding its hyperparameter {name!r}; "
                "estimators store each keyword-only __init__ argument verbatim under its own name."
            )
        try:
            hyperparameters[name] = _CONVERTER.unstructure(
                getattr(estimator, name), init_hints.get(name, Any)
            )
        except InvalidInputError as exc:
            raise InvalidInputError(f"Cannot write hyperparameter {owner}.{name}: {exc}") from None
    fitted: dict[str, Any] = {}
    for name, value in vars(estimator).items():
        if not _is_fitted_name(name):
            continue
        if name not in class_hints:
            raise InvalidInputError(
                f"The fitted attribute {owner}.{name} has no class-level annotation, so it could "
                f"not be read back; annotate it in the class body (e.g. `{name}: float`)."
            )
        try:
            fitted[name] = _CONVERTER.unstructure(value, class_hints[name])
        except InvalidInputError as exc:
            raise InvalidInputError(f"Cannot write fitted {owner}.{name}: {exc}") from None
    return {
        "relmark": _qualified_name(cls),
        "format": FORMAT_VERSION,
        "hyperparameters": hyperparameters,
        "fitted": fitted,
    }


def _structure_group(
    payload: Mapping[str, Any], types_by_name: Mapping[str, Any], what: str, cls: type
) -> tuple[dict[str, Any], list[Exception]]:
    values: dict[str, Any] = {}
    errors: list[Exception] = []
    for name, raw in payload.items():
        if name not in types_by_name:
            errors.append(InvalidInputError(f"{cls.__qualname__} has no {what} {name!r}."))
            continue
        note = AttributeValidationNote(f"Structuring {name}", name, types_by_name[name])
        try:
            values[name] = _CONVERTER.structure(raw, types_by_name[name])
        except Exception as exc:  # noqa: BLE001 - every failure is reported, with its name
            errors.append(_with_note(exc, note))
    return values, errors


def _estimator_from_dict(payload: object, cls: type[T]) -> T:
    owner = cls.__qualname__
    if not isinstance(payload, dict):
        raise InvalidInputError(f"Expected an object describing a {owner}; got {_show(payload)}.")
    errors: list[Exception] = [
        InvalidInputError(f"The estimator payload has no {key!r} key.")
        for key in _ESTIMATOR_KEYS
        if key not in payload
    ]
    extra = sorted(set(payload) - set(_ESTIMATOR_KEYS))
    if extra:
        errors.append(InvalidInputError(f"Unexpected key(s) in the estimator payload: {extra}."))
    name = payload.get("relmark")
    if "relmark" in payload and name != _qualified_name(cls):
        errors.append(
            InvalidInputError(f"The payload holds a {name!r}, not a {_qualified_name(cls)!r}.")
        )
    version = payload.get("format")
    if "format" in payload and version == 1 and not isinstance(version, bool):
        errors.append(
            InvalidInputError(
                f"The payload has format 1, written by an earlier relmark whose loads did not "
                f"check the fitted state; this relmark reads format {FORMAT_VERSION} only. Refit "
                f"the {owner} on its data and save it again."
            )
        )
    elif "format" in payload and (isinstance(version, bool) or version != FORMAT_VERSION):
        errors.append(
            InvalidInputError(
                f"Unsupported payload format {_show_name(version)}; expected {FORMAT_VERSION}."
            )
        )
    parameters = _hyperparameters(cls)
    init_hints = _type_hints(cls.__init__, f"{owner}.__init__")
    hyperparameter_types = {n: init_hints.get(n, Any) for n in parameters}
    fitted_types = {n: t for n, t in _type_hints(cls, owner).items() if _is_fitted_name(n)}
    groups: dict[str, dict[str, Any]] = {}
    for key, types_by_name, what in (
        ("hyperparameters", hyperparameter_types, "hyperparameter"),
        ("fitted", fitted_types, "annotated fitted attribute"),
    ):
        group = payload.get(key, {})
        if not isinstance(group, dict):
            errors.append(InvalidInputError(f"{key!r} must be an object; got {_show(group)}."))
            continue
        groups[key], group_errors = _structure_group(group, types_by_name, what, cls)
        if group_errors:
            note = AttributeValidationNote(f"Structuring {key}", key, dict)
            errors.append(
                _with_note(
                    ClassValidationError(f"While structuring {key}", group_errors, cls), note
                )
            )
    hyperparameters = groups.get("hyperparameters", {})
    missing = [
        n
        for n, p in parameters.items()
        if p.default is inspect.Parameter.empty and n not in hyperparameters
    ]
    if "hyperparameters" in groups and missing:
        errors.append(InvalidInputError(f"Missing hyperparameter(s) of {owner}: {missing}."))
    fitted = groups.get("fitted", {})
    written = payload.get("fitted")
    absent = sorted(set(fitted_types) - set(written)) if isinstance(written, dict) else []
    if written and absent:
        errors.append(
            InvalidInputError(
                f"The fitted state of {owner} lacks {absent}; a fitted {owner} has all of "
                f"{sorted(fitted_types)}, an unfitted one none (its 'fitted' object is empty)."
            )
        )
    if errors:
        raise ClassValidationError(f"While structuring {owner}", errors, cls)
    estimator = cls(**hyperparameters)
    for name, value in fitted.items():
        setattr(estimator, name, value)
    problems = _estimator_problems(estimator)
    if problems:
        raise ClassValidationError(
            f"While checking {owner}", [InvalidInputError(p) for p in problems], cls
        )
    return estimator


def _estimator_problems(estimator: object) -> list[str]:
    """What contradicts itself in a loaded estimator: the checks ``fit`` would have made.

    The rules follow relmark's estimator conventions, so they hold for any estimator that
    follows them (see "Load checks" in the module documentation); an estimator may add its own
    checks in a method ``_check_loaded`` (no arguments, raises ``InvalidInputError``), called
    when these pass.
    """
    cls = type(estimator)
    owner = cls.__qualname__
    state = vars(estimator)
    hyperparameters = {name: getattr(estimator, name) for name in _hyperparameters(cls)}
    problems = _hyperparameter_problems(owner, hyperparameters)
    problems += _shape_problems(cls, state)
    problems += _fitted_value_problems(owner, state, hyperparameters)
    for attribute, model in state.items():
        if not _is_fitted_name(attribute) or not _is_estimator_class(type(model)):
            continue
        lacking = _unfitted_attributes(model)
        if lacking:
            problems.append(
                f"{owner}.{attribute} holds an unfitted {type(model).__qualname__} (it lacks "
                f"{lacking}); a fitted {owner} holds fitted models only."
            )
        if not attribute.endswith("model_"):
            continue
        prefix = attribute[: -len("model_")]
        named = hyperparameters.get(attribute[:-1])
        registered = getattr(type(model), "name", None)
        if not isinstance(registered, str):
            registered = type(model).__name__.lower()
        if isinstance(named, str) and named != registered:
            problems.append(
                f"{owner} has {attribute[:-1]}={named!r} but holds a fitted "
                f"{type(model).__name__} in {attribute}."
            )
        for name in _hyperparameters(type(model)):
            own_name = prefix + name if prefix + name in hyperparameters else name
            if own_name not in hyperparameters or not hasattr(model, name):
                continue
            own, held = hyperparameters[own_name], getattr(model, name)
            if own != held:
                problems.append(
                    f"{owner} has {own_name}={own!r} but its fitted {attribute} was fitted with "
                    f"{name}={held!r}."
                )
    config = getattr(estimator, "_config", None)
    if callable(config):
        # The hyperparameter validation ``fit`` runs first: a payload passes it too.
        try:
            config()
        except InvalidInputError as exc:
            problems.append(str(exc))
    problems += [
        problem
        for problem in _CLASS_CHECKS.get(_qualified_name(cls), _no_problems)(estimator)
        if problem
    ]
    check = getattr(estimator, "_check_loaded", None)
    if not problems and callable(check):
        check()
    return problems


def _hyperparameter_problems(owner: str, hyperparameters: Mapping[str, Any]) -> list[str]:
    """Penalizers (``penalizer``, ``*_penalizer``) must be finite and >= 0."""
    problems: list[str] = []
    for name, value in hyperparameters.items():
        if (name == "penalizer" or name.endswith("_penalizer")) and not (
            _is_number(value) and math.isfinite(value) and value >= 0
        ):
            problems.append(
                f"The {name!r} parameter of {owner} must be a float >= 0; got {value!r}."
            )
    return problems


def _shape_problems(cls: type, state: Mapping[str, Any]) -> list[str]:
    """A model with ``parameter_names()``: k x k covariances, one standard error per parameter."""
    owner = cls.__qualname__
    names = getattr(cls, "parameter_names", None)
    if not callable(names) or not state:
        return []
    problems: list[str] = []
    k = len(names())
    for name in ("covariance_", "log_covariance_"):
        matrix = state.get(name)
        if isinstance(matrix, np.ndarray) and matrix.shape != (k, k):
            problems.append(
                f"{owner}.{name} must be a {k} x {k} matrix (one row and column per "
                f"parameter); got shape {matrix.shape}."
            )
    errors = state.get("standard_errors_")
    if isinstance(errors, dict) and sorted(errors) != sorted(names()):
        problems.append(
            f"{owner}.standard_errors_ must have one entry per parameter "
            f"{sorted(names())}; got {sorted(errors)}."
        )
    return problems


def _unfitted_attributes(estimator: object) -> list[str]:
    """The annotated fitted attributes ``estimator`` lacks (empty when it is fully fitted)."""
    cls = type(estimator)
    annotated = [n for n in _type_hints(cls, cls.__qualname__) if _is_fitted_name(n)]
    return sorted(set(annotated) - set(vars(estimator)))


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _fitted_value_problems(
    owner: str, state: Mapping[str, Any], hyperparameters: Mapping[str, Any]
) -> list[str]:
    """Fitted values ``fit`` cannot produce: asymmetric covariances, negative errors, ...

    A covariance matrix is symmetric with a non-negative diagonal, or all NaN (a model built
    from known parameters has none); a standard error is >= 0 or NaN; the fit statistics record
    the penalizer and the log-likelihood the estimator holds.
    """
    problems: list[str] = []
    for name in ("covariance_", "log_covariance_"):
        matrix = state.get(name)
        if not isinstance(matrix, np.ndarray) or matrix.ndim != 2:
            continue
        if matrix.shape[0] != matrix.shape[1] or bool(np.isnan(matrix).all()):
            continue
        if bool(np.isnan(matrix).any()):
            problems.append(
                f"{owner}.{name} holds NaN in some entries only; a covariance matrix is either "
                "fully known or all NaN (a model built from known parameters)."
            )
        elif not bool(np.allclose(matrix, matrix.T, rtol=1e-9, atol=0.0)):
            problems.append(f"{owner}.{name} must be symmetric; it is not.")
        elif bool((np.diag(matrix) < 0).any()):
            problems.append(
                f"{owner}.{name} must have a diagonal >= 0 (variances); got "
                f"{np.diag(matrix).tolist()}."
            )
    errors = state.get("standard_errors_")
    if isinstance(errors, dict):
        bad = sorted(
            n for n, v in errors.items() if not (_is_number(v) and (math.isnan(v) or v >= 0))
        )
        if bad:
            problems.append(
                f"{owner}.standard_errors_ must be >= 0 (or NaN when unknown); negative for {bad}."
            )
    fit = state.get("fit_")
    logged: object = getattr(fit, "log_likelihood", None)
    held_log: object = state.get("log_likelihood_")
    if (
        isinstance(logged, int | float)
        and isinstance(held_log, int | float)
        and logged != held_log
        and not (math.isnan(logged) and math.isnan(held_log))
    ):
        problems.append(
            f"{owner}.log_likelihood_ is {held_log!r} but its fit statistics (fit_) record "
            f"{logged!r}; both come from the same fit."
        )
    recorded = getattr(fit, "penalizer", None)
    held = hyperparameters.get("penalizer")
    if _is_number(recorded) and _is_number(held) and recorded != held:
        problems.append(
            f"{owner} has penalizer={held!r} but its fit statistics (fit_) record "
            f"penalizer={recorded!r}; a fitted model keeps the penalizer it was fitted with."
        )
    return problems


def _no_problems(_: object) -> list[str]:
    return []


def _clv_scorer_problems(scorer: object) -> list[str]:
    """``CLVScorer``: hyperparameters ``score`` checks late, and the tier cut points.

    Named, not imported: ``relmark.io`` sits below the CLV layer.
    """
    problems: list[str] = []
    level = getattr(scorer, "interval", None)
    if level is not None and not (_is_number(level) and 0 < level < 1):
        problems.append(
            f"The 'interval' parameter of CLVScorer must be a coverage in (0, 1) or None. "
            f"Got {level!r}."
        )
    draws = getattr(scorer, "interval_draws", None)
    if not (isinstance(draws, int) and not isinstance(draws, bool) and 2 <= draws <= 100_000):
        problems.append(
            "The 'interval_draws' parameter of CLVScorer must be a whole number in [2, 100000]. "
            f"Got {draws!r}."
        )
    seed = getattr(scorer, "seed", None)
    if not (isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0):
        problems.append(
            f"The 'seed' parameter of CLVScorer must be a whole number >= 0. Got {seed!r}."
        )
    cuts = vars(scorer).get("clv_tier_cuts_")
    if isinstance(cuts, np.ndarray) and not (
        cuts.shape == (2,) and bool(np.isfinite(cuts).all()) and cuts[0] <= cuts[1]
    ):
        problems.append(
            "CLVScorer.clv_tier_cuts_ must be two finite cut points, lower first (the 1/3 and "
            f"2/3 quantiles of the fitted CLV); got shape {cuts.shape} with values "
            f"{cuts.ravel()[:4].tolist()}."
        )
    return problems


def _rfm_scorer_problems(scorer: object) -> list[str]:
    """``RFMScorer``: fitted counts and tie keys that ``fit`` could have produced.

    Named, not imported: ``relmark.io`` sits below the RFM layer.
    """
    state = vars(scorer)
    if "thresholds_" not in state:
        return []
    problems: list[str] = []
    n, one_time = state.get("n_customers_"), state.get("n_one_time_buyers_")
    if not (isinstance(n, int) and isinstance(one_time, int) and 0 <= one_time <= n):
        problems.append(
            "RFMScorer.n_customers_ and n_one_time_buyers_ must be counts with "
            f"0 <= n_one_time_buyers_ <= n_customers_; got {n!r} and {one_time!r}."
        )
    ties, kind = getattr(scorer, "ties", None), state.get("id_kind_")
    if kind not in ("", "int", "str") or (kind == "") != (ties == "share"):
        problems.append(
            f"RFMScorer.id_kind_ must be 'int' or 'str' (or '' with ties='share'); got {kind!r} "
            f"with ties={ties!r}."
        )
    if ties == "random" and state.get("seed_") != getattr(scorer, "seed", None):
        problems.append(
            f"RFMScorer has seed={getattr(scorer, 'seed', None)!r} but was fitted with "
            f"seed={state.get('seed_')!r}; random tie keys depend on it."
        )
    return problems


_CLASS_CHECKS: Final[dict[str, Callable[[object], list[str]]]] = {
    "relmark.clv.scorers.CLVScorer": _clv_scorer_problems,
    "relmark.rfm.scorer.RFMScorer": _rfm_scorer_problems,
}
"""Load checks of one estimator class, by qualified name, beyond the conventions above."""


# ---------------------------------------------------------------- public API


def _format_problem(exc: BaseException, tp: type | None) -> str:
    if isinstance(exc, InvalidInputError):
        return str(exc)
    if isinstance(exc, KeyError):
        return "required field missing"
    if isinstance(exc, ForbiddenExtraKeysError):
        return f"unexpected field(s) {sorted(exc.extra_fields)}"
    # Messages of other exceptions (a third-party validator, a constructor) may quote the
    # offending value, which can be personal data: name the failure and the type expected only.
    expected = getattr(tp, "__name__", None)
    if get_origin(tp) is typing.Literal:
        expected = f"one of {', '.join(map(repr, get_args(tp)))}"
    wanted = f", expected {expected}" if expected else ""
    return f"invalid value ({type(exc).__name__}{wanted})"


def to_dict(obj: object) -> Any:
    """Turn a record, an estimator or a container of them into plain JSON-ready Python data.

    Args:
        obj: An attrs record, an estimator, or a list/tuple/dict of supported values.

    Returns:
        Dicts, lists, strings, numbers, booleans and ``None`` only.

    Raises:
        InvalidInputError: For a value that cannot round-trip exactly (a naive datetime, a pytz
            zone, a float32 array, an unannotated fitted attribute, ...), naming it.
    """
    try:
        data = _estimator_to_dict(obj) if _is_estimator_class(type(obj)) else None
        if data is None:
            data = _CONVERTER.unstructure(obj)
    except RecursionError:
        raise InvalidInputError(
            f"Cannot write a {type(obj).__name__}: it nests too deeply (relmark reads at most "
            f"{MAX_DEPTH} levels)."
        ) from None
    _check_readable(data, type(obj).__name__)
    return data


def _check_readable(data: object, what: str) -> None:
    """Refuse to write what ``from_dict`` would refuse to read: deep nesting, non-str keys.

    ``json.dumps`` would turn the key ``1`` into ``"1"`` and so change the data; a payload
    deeper than ``MAX_DEPTH`` is written but never read back.
    """
    stack: list[tuple[object, str, int]] = [(data, "$", 0)]
    while stack:
        item, path, level = stack.pop()
        if not isinstance(item, dict | list | tuple):
            continue
        level += 1
        if level > MAX_DEPTH:
            raise InvalidInputError(
                f"Cannot write a {what}: at {path} it nests deeper than {MAX_DEPTH} levels, "
                "which relmark refuses to read back."
            )
        if isinstance(item, dict):
            for key, value in item.items():
                if not isinstance(key, str):
                    raise InvalidInputError(
                        f"Cannot write a {what}: the object at {path} has a key of type "
                        f"{type(key).__name__}; JSON keys are strings, and relmark writes "
                        "dicts with str keys only (it would read the key back as a string)."
                    )
                stack.append((value, f"{path}.{key}", level))
        else:
            stack.extend((value, f"{path}[{i}]", level) for i, value in enumerate(item))


def from_dict(data: Any, cls: type[T], *, catalogue: Catalogue | None = None) -> T:
    """Build an object of type ``cls`` from plain data made by [`to_dict`][relmark.io.to_dict].

    Args:
        data: Plain Python data (as returned by ``json.loads``).
        cls: The class to build (a record, an estimator, or a type such as ``list[Customer]``).
        catalogue: The catalogue every [`Profile`][relmark.profile.records.Profile] in the
            payload is read against (a builder's ``catalogue``); required to read profiles,
            whose payloads never carry one (see "Profiles" above).

    Returns:
        The object, equal to the one that was written.

    Raises:
        InvalidPayloadError: Listing every bad field with its path.
        InvalidInputError: When ``catalogue`` is not a ``Catalogue``.
    """
    if catalogue is not None and _qualified_name(type(catalogue)) != _CATALOGUE:
        raise InvalidInputError(
            "The 'catalogue' argument must be a relmark.profile.Catalogue (such as a "
            f"ProfileBuilder's catalogue). Got {type(catalogue).__name__}."
        )
    depth = _depth(data)
    if depth > MAX_DEPTH:
        raise InvalidPayloadError(
            _target_name(cls),
            [f"Not read: arrays and objects nest {depth} levels deep (at most {MAX_DEPTH})."],
        )
    try:
        if _is_estimator_class(cls):
            return _estimator_from_dict(data, cls)
        converter = _CONVERTER if catalogue is None else _make_converter({"catalogue": catalogue})
        return converter.structure(data, cls)
    except (
        ClassValidationError,
        IterableValidationError,
        InvalidInputError,
        TypeError,
        ValueError,
        KeyError,
        AttributeError,
    ) as exc:
        problems = [
            _path_first(line) for line in transform_error(exc, format_exception=_format_problem)
        ]
        raise InvalidPayloadError(_target_name(cls), problems) from None


def _depth(data: object) -> int:
    """Nesting depth of plain data (a scalar is 0), measured without recursion.

    Stops counting one level past ``MAX_DEPTH``: deeper data is refused anyway.
    """
    deepest = 0
    stack: list[tuple[object, int]] = [(data, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list | tuple):
            level += 1
            deepest = max(deepest, level)
            if level > MAX_DEPTH:
                return level
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level) for child in children)
    return deepest


def _first_unwritable(data: object) -> str | None:
    """Path (``$.fields[0].type``) of the first value ``json.dumps`` cannot write, if any."""
    stack: list[tuple[object, str]] = [(data, "$")]
    while stack:
        item, path = stack.pop()
        if isinstance(item, dict):
            for key, value in reversed(item.items()):
                if not isinstance(key, str):
                    return f"{path} (key {key!r})"
                stack.append((value, f"{path}.{key}"))
        elif isinstance(item, list | tuple):
            stack.extend((v, f"{path}[{i}]") for i, v in reversed(list(enumerate(item))))
        elif not (item is None or isinstance(item, str | int | float | bool)):
            return path
    return None


def _path_first(line: str) -> str:
    description, _, path = line.rpartition(" @ ")
    return f"{path}: {description}" if description else line


def _target_name(cls: object) -> str:
    return cls.__qualname__ if isinstance(cls, type) else repr(cls)


def _reject_constant(name: str) -> float:
    raise InvalidInputError(
        f"The non-standard JSON constant {name} is not accepted; relmark writes it as the "
        f'string "{name}".'
    )


def to_json(obj: object, *, indent: int | None = None) -> str:
    """Write a record, an estimator or a container of them as standard JSON text.

    Args:
        obj: What to write; see the module documentation for the supported values.
        indent: Indentation for pretty-printing; ``None`` writes one line.

    Returns:
        JSON text without `NaN`/`Infinity` literals (those floats are written as strings).

    Raises:
        InvalidInputError: For a value that cannot round-trip exactly, naming it.

    Examples:
        >>> from datetime import datetime
        >>> from zoneinfo import ZoneInfo
        >>> from relmark.domain import Customer, CustomerId
        >>> ada = Customer(
        ...     customer_id=CustomerId("c-1"),
        ...     opened_at=datetime(2024, 3, 1, 9, 30, tzinfo=ZoneInfo("Europe/Berlin")),
        ... )
        >>> text = to_json(ada)
        >>> text[:80]
        '{"customer_id": "c-1", "opened_at": "2024-03-01T09:30:00+01:00[Europe/Berlin]", '
        >>> from_json(text, Customer) == ada
        True
    """
    data: object = None
    try:
        data = to_dict(obj)
        return json.dumps(data, indent=indent, allow_nan=False)
    except RecursionError:
        raise InvalidInputError(
            f"Cannot write a {type(obj).__name__} to JSON: it nests too deeply (relmark reads "
            f"at most {MAX_DEPTH} levels)."
        ) from None
    except InvalidInputError:
        raise
    except (TypeError, ValueError) as exc:
        where = _first_unwritable(data)
        at = "" if where is None else f" at {where}"
        raise InvalidInputError(
            f"Cannot write a {type(obj).__name__} to JSON{at}: {exc}. relmark writes attrs "
            "records, estimators, and lists, tuples and str-keyed dicts of supported values."
        ) from None


def from_json(text: str | bytes, cls: type[T], *, catalogue: Catalogue | None = None) -> T:
    """Read an object of type ``cls`` from JSON written by [`to_json`][relmark.io.to_json].

    Args:
        text: The JSON text.
        cls: The class to build (a record, an estimator, or a type such as ``list[Customer]``).
        catalogue: The catalogue profiles are read against, as for
            [`from_dict`][relmark.io.from_dict].

    Returns:
        The object, equal to the one that was written.

    Raises:
        InvalidPayloadError: When the text is not JSON, names another class, or has bad fields;
            ``problems`` lists every one of them.
    """
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise InvalidPayloadError(
            _target_name(cls),
            [f"Not read: arrays and objects nest deeper than {MAX_DEPTH} levels."],
        ) from None
    except (ValueError, TypeError) as exc:
        # ValueError covers malformed JSON, bad UTF-8, refused constants and integers longer
        # than Python's digit limit; TypeError a text that is neither str nor bytes.
        problem = f"Not valid JSON: {exc}"
        if "integer string conversion" in str(exc):
            problem = "Not read: the text holds an integer with more than 4300 digits."
        raise InvalidPayloadError(_target_name(cls), [problem]) from None
    return from_dict(data, cls, catalogue=catalogue)
