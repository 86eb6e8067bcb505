"""JSON at the edge: exact round trips for records and fitted estimators, never pickle.

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
| numpy array (float64, int64, bool, str) | `{"dtype": "float64", "shape": [2, 2], "values": [...]}` |
| estimator (as a fitted attribute of another estimator) | its estimator payload (below) |

Time zones: a `zoneinfo.ZoneInfo` zone comes back as the same zone (its key is written in
brackets after the offset), a fixed offset (`datetime.timezone`) as the same offset, and
`datetime.timezone.utc` as itself. The instant, the wall time and the offset are always kept (so
the fold of an ambiguous wall time in a DST change survives). Other `tzinfo` implementations
(pytz, dateutil) are refused on writing rather than silently flattened to an offset.

Estimators
----------

A model class or scorer needs no JSON code of its own. [`to_json`][relmark.io.to_json] writes

```json
{"relmark": "<module>.<qualname>", "format": 1,
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
the payload's ``"relmark"`` key names. Only the classes in the annotation are ever built, so a
payload cannot make the reader import or construct anything else.

Bad payloads
------------

Reading never stops at the first problem: a payload with several bad fields raises one
[`InvalidPayloadError`][relmark.errors.InvalidPayloadError] whose ``problems`` lists each of them
with its path (``... @ $.fitted.params_.alpha``), including values that have the right JSON type
but fail a record's validator.
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
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any, Final, TypeVar, get_args, get_origin
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
from cattrs.v import format_exception, transform_error

from relmark.errors import InvalidInputError, InvalidPayloadError

__all__ = ["FORMAT_VERSION", "from_dict", "from_json", "to_dict", "to_json"]

T = TypeVar("T")

FORMAT_VERSION: Final = 1
"""Version of the estimator payload layout written by [`to_json`][relmark.io.to_json]."""

_NON_FINITE: Final = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_ARRAY_DTYPES: Final = {
    "float64": np.dtype(np.float64),
    "int64": np.dtype(np.int64),
    "bool": np.dtype(np.bool_),
}
_ESTIMATOR_KEYS: Final = ("relmark", "format", "hyperparameters", "fitted")
_ZONED = re.compile(r"(?P<stamp>[^\[\]]+)(?:\[(?P<zone>[^\[\]]+)\])?")


def _show(value: object) -> str:
    text = repr(value)
    if len(text) > 80:
        text = text[:77] + "..."
    return f"{text} ({type(value).__name__})"


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
    return float(value)


def _int_out(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InvalidInputError(f"Expected an int; got {_show(value)}.")
    return int(value)


def _int_in(value: object, _: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError(f"Expected an integer; got {_show(value)}.")
    return value


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
        raise InvalidInputError(f"Expected {expected}; got {value!r}.")
    try:
        stamp = datetime.fromisoformat(match["stamp"])
    except ValueError:
        raise InvalidInputError(f"Expected {expected}; got {value!r}.") from None
    offset = stamp.utcoffset()
    if offset is None:
        raise InvalidInputError(f"Expected {expected} with a UTC offset; got {value!r}.")
    key = match["zone"]
    if key is None:
        return stamp
    try:
        zone = ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInputError(f"Unknown time zone {key!r} in {value!r}.") from None
    wall = stamp.replace(tzinfo=zone)
    for fold in (0, 1):
        candidate = wall.replace(fold=fold)
        if candidate.utcoffset() == offset:
            return candidate
    raise InvalidInputError(
        f"The offset of {value!r} does not occur in zone {key!r} at that wall time."
    )


# ---------------------------------------------------------------- enums


def _enum_in_factory(cls: type[enum.Enum]) -> Callable[[object, object], enum.Enum]:
    def structure(value: object, _: object) -> enum.Enum:
        for member in cls:
            if member.value == value and type(member.value) is type(value):
                return member
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


def _dtype_name(dtype: np.dtype[Any]) -> str | None:
    if dtype.kind == "U":
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
        name = _dtype_name(value.dtype)
        if name is None:
            raise InvalidInputError(
                f"Cannot write an array of dtype {value.dtype}; relmark writes float64, int64, "
                "bool and str arrays."
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

    def __init__(self, converter: JsonConverter) -> None:
        self.c = converter

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
            if origin is tuple and args and args[-1] is not Ellipsis:
                return args[index] if index < len(args) else Any
            return args[0] if args else Any

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
                    f"Expected an array of {len(args)} items; got {len(value)}: {_show(value)}."
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
    def record_out(self, cls: Any) -> Callable[[object], dict[str, Any]]:
        hints = typing.get_type_hints(cls)
        names = [f.name for f in attrs.fields(cls) if f.init]

        def unstructure(value: object) -> dict[str, Any]:
            return {name: self.c.unstructure(getattr(value, name), hints[name]) for name in names}

        return unstructure

    def record_in(self, cls: Any) -> Callable[[object, object], Any]:
        hints = typing.get_type_hints(cls)
        fields = [f for f in attrs.fields(cls) if f.init]
        known = {f.name for f in fields}

        def structure(payload: object, _: object) -> Any:
            if not isinstance(payload, dict):
                raise InvalidInputError(
                    f"Expected an object with the fields of {cls.__name__}; got {_show(payload)}."
                )
            errors: list[Exception] = []
            kwargs: dict[str, Any] = {}
            for f in fields:
                note = AttributeValidationNote(f"Structuring {f.name}", f.name, hints[f.name])
                if f.name not in payload:
                    if f.default is attrs.NOTHING:
                        errors.append(_with_note(KeyError(f.name), note))
                    continue
                try:
                    value = self.c.structure(payload[f.name], hints[f.name])
                except Exception as exc:  # noqa: BLE001 - every failure is reported, with its field
                    errors.append(_with_note(exc, note))
                    continue
                kwargs[f.alias] = value
                problem = _field_problem(f, value)
                if problem is not None:
                    errors.append(_with_note(problem, note))
            extra = set(payload) - known
            if extra:
                errors.append(ForbiddenExtraKeysError("", cls, extra))
            if errors:
                raise ClassValidationError(f"While structuring {cls.__name__}", errors, cls)
            try:
                return cls(**kwargs)
            except (InvalidInputError, TypeError, ValueError) as exc:
                raise ClassValidationError(f"While building {cls.__name__}", [exc], cls) from None

        return structure


def _field_problem(field: attrs.Attribute[Any], value: object) -> InvalidInputError | None:
    """Run one field's converter and validator alone, so every bad field gets reported.

    Validators that need the whole instance fail here with an unrelated error; those are left to
    the constructor, which runs every validator again.
    """
    if field.validator is None:
        return None
    try:
        converter: Any = field.converter
        if converter is not None and not isinstance(converter, attrs.Converter):
            value = converter(value)
        field.validator(None, field, value)
    except InvalidInputError as exc:
        return exc
    except (AttributeError, TypeError, ValueError):
        return None
    return None


def _estimator_members(tp: Any) -> tuple[type, ...] | None:
    """The estimator classes of an annotation ``E``, ``E1 | E2 | ...`` (``| None`` allowed)."""
    if _is_estimator_class(tp):
        return (tp,)
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
                f"{sorted(by_name)}; got {_show(name)}."
            )
        return _estimator_from_dict(payload, by_name[name])

    return structure


def _make_converter() -> JsonConverter:
    converter = make_converter()
    hooks = _Hooks(converter)
    converter.register_unstructure_hook(float, _float_out)
    converter.register_structure_hook(float, _float_in)
    converter.register_unstructure_hook(int, _int_out)
    converter.register_structure_hook(int, _int_in)
    converter.register_structure_hook(str, _str_in)
    converter.register_unstructure_hook(bool, _bool_out)
    converter.register_structure_hook(bool, _bool_in)
    converter.register_unstructure_hook(np.generic, _numpy_scalar_out)
    converter.register_unstructure_hook(datetime, _datetime_out)
    converter.register_structure_hook(datetime, _datetime_in)
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
    if "format" in payload and (isinstance(version, bool) or version != FORMAT_VERSION):
        errors.append(
            InvalidInputError(f"Unsupported payload format {version!r}; expected {FORMAT_VERSION}.")
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
    if errors:
        raise ClassValidationError(f"While structuring {owner}", errors, cls)
    estimator = cls(**hyperparameters)
    for name, value in groups["fitted"].items():
        setattr(estimator, name, value)
    return estimator


# ---------------------------------------------------------------- public API


def _format_problem(exc: BaseException, tp: type | None) -> str:
    if isinstance(exc, InvalidInputError):
        return str(exc)
    if isinstance(exc, KeyError):
        return "required field missing"
    if isinstance(exc, ForbiddenExtraKeysError):
        return f"unexpected field(s) {sorted(exc.extra_fields)}"
    return format_exception(exc, tp)


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
    if _is_estimator_class(type(obj)):
        return _estimator_to_dict(obj)
    return _CONVERTER.unstructure(obj)


def from_dict(data: Any, cls: type[T]) -> T:
    """Build an object of type ``cls`` from plain data made by [`to_dict`][relmark.io.to_dict].

    Args:
        data: Plain Python data (as returned by ``json.loads``).
        cls: The class to build (a record, an estimator, or a type such as ``list[Customer]``).

    Returns:
        The object, equal to the one that was written.

    Raises:
        InvalidPayloadError: Listing every bad field with its path.
    """
    try:
        if _is_estimator_class(cls):
            return _estimator_from_dict(data, cls)
        return _CONVERTER.structure(data, cls)
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
    data = to_dict(obj)
    try:
        return json.dumps(data, indent=indent, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"Cannot write a {type(obj).__name__} to JSON: {exc}. relmark writes attrs records, "
            "estimators, and lists, tuples and str-keyed dicts of supported values."
        ) from None


def from_json(text: str | bytes, cls: type[T]) -> T:
    """Read an object of type ``cls`` from JSON written by [`to_json`][relmark.io.to_json].

    Args:
        text: The JSON text.
        cls: The class to build (a record, an estimator, or a type such as ``list[Customer]``).

    Returns:
        The object, equal to the one that was written.

    Raises:
        InvalidPayloadError: When the text is not JSON, names another class, or has bad fields;
            ``problems`` lists every one of them.
    """
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except (json.JSONDecodeError, InvalidInputError, UnicodeDecodeError) as exc:
        raise InvalidPayloadError(_target_name(cls), [f"Not valid JSON: {exc}"]) from None
    return from_dict(data, cls)
