"""Tests for relmark.profile.catalogue: field specs, strict value types, catalogue validation."""

from __future__ import annotations

import datetime as dt
import enum

import pytest

from relmark.domain import Channel
from relmark.errors import InvalidInputError
from relmark.profile.catalogue import (
    Catalogue,
    FieldSpec,
    LawfulBasis,
    Sensitivity,
    Stage,
    default_catalogue,
)


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


def spec(name: str = "f", kind: type = str, **kw: object) -> FieldSpec:
    base: dict[str, object] = {"stage": 1, "purpose": "account"}
    base.update(kw)
    return FieldSpec(name=name, type=kind, **base)  # type: ignore[arg-type]


def test_default_catalogue_covers_four_stages_and_derived_fields_are_not_askable() -> None:
    """The shipped catalogue is valid, spans stages 1-4, and stage-2 fields are derived only."""
    cat = default_catalogue()
    assert {f.stage for f in cat} == set(Stage)
    assert all(not f.askable for f in cat.stage_fields(Stage.TRANSACTIONAL))
    assert all(f.askable for f in cat if f.stage != Stage.TRANSACTIONAL)
    assert [f.name for f in cat.stage_fields(1) if f.required] == ["full_name", "email", "country"]
    assert cat["contact_frequency"].depends_on == ("preferred_contact_channel",)
    assert all(f.lawful_basis is LawfulBasis.CONSENT for f in cat.stage_fields(3))


def test_stage_accepts_int_and_rejects_out_of_range() -> None:
    """Stages are 1-4 given as int or Stage; 5 and True are rejected naming 'stage'."""
    assert spec(stage=3).stage is Stage.NEEDS
    for bad in (0, 5, True, "1"):
        with pytest.raises(InvalidInputError, match="'stage'"):
            spec(stage=bad)


@pytest.mark.parametrize(
    ("kind", "good", "bad"),
    [
        (int, 3, True),
        (int, 3, 3.0),
        (float, 2.5, 2),
        (float, 2.5, False),
        (bool, True, 1),
        (str, "x", b"x"),
        (dt.date, dt.date(2024, 1, 1), dt.datetime(2024, 1, 1, tzinfo=dt.UTC)),
        (dt.datetime, dt.datetime(2024, 1, 1, tzinfo=dt.UTC), dt.datetime(2024, 1, 1)),  # noqa: DTZ001 - naive on purpose
        (tuple, ("a", "b"), ("a", 1)),
        (tuple, (), ["a"]),
        (Colour, Colour.RED, "red"),
    ],
)
def test_check_value_is_strict_and_names_the_field(kind: type, good: object, bad: object) -> None:
    """A value of the right type passes; a near miss (bool for int, naive datetime) names the field."""
    field = spec("answer", kind)
    field.check_value(good)
    with pytest.raises(InvalidInputError, match="'answer'"):
        field.check_value(bad)


def test_nan_is_not_a_float_answer() -> None:
    """NaN is rejected for a float field."""
    with pytest.raises(InvalidInputError, match=r"'score'.*NaN"):
        spec("score", float).check_value(float("nan"))


def test_choices_restrict_values_and_elements() -> None:
    """Choices restrict scalar values and each element of a tuple value."""
    level = spec("level", str, choices=("low", "high"))
    level.check_value("low")
    with pytest.raises(InvalidInputError, match=r"'level' accepts only .*1 other value") as info:
        level.check_value("mid")
    assert "mid" not in str(info.value)  # the offending value may be personal: not shown
    tags = spec("tags", tuple, choices=("a", "b"))
    tags.check_value(("a", "b"))
    with pytest.raises(InvalidInputError, match="'tags'"):
        tags.check_value(("a", "z"))
    with pytest.raises(InvalidInputError, match="'choices'"):
        spec("n", int, choices=(1, "2"))
    with pytest.raises(InvalidInputError, match="repeat"):
        spec("n", int, choices=(1, 1))


def test_answers_are_implied_by_bool_enum_and_choices() -> None:
    """Finite answer sets come from bool, Enum and choices; open types have none."""
    assert spec("b", bool).answers == (False, True)
    assert spec("c", Colour).answers == (Colour.RED, Colour.BLUE)
    assert spec("n", int, choices=(1, 2)).answers == (1, 2)
    assert spec("s", str).answers is None
    assert spec("t", tuple, choices=("a",)).answers is None


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"name": "not an identifier"}, "'name'"),
        ({"kind": list}, "'type' of field 'f'"),
        ({"purpose": " "}, "'purpose' of field 'f'"),
        ({"freshness": dt.timedelta(0)}, "'freshness' of field 'f'"),
        ({"channels": ["email"]}, "'channels' of field 'f'"),
        ({"sensitivity": 2}, "sensitivity"),
    ],
)
def test_bad_specs_are_rejected_with_the_field_named(kw: dict[str, object], match: str) -> None:
    """Each invalid FieldSpec attribute raises an error naming it."""
    name = kw.pop("name", "f")
    kind = kw.pop("kind", str)
    with pytest.raises((InvalidInputError, TypeError), match=match):
        spec(name, kind, **kw)  # type: ignore[arg-type]


def test_channels_are_a_frozenset() -> None:
    """Channels given as a list are stored as a frozenset of Channel members."""
    assert spec(channels=[Channel.EMAIL]).channels == frozenset({Channel.EMAIL})
    assert spec(sensitivity=Sensitivity.HIGH).sensitivity is Sensitivity.HIGH


def test_catalogue_rejects_duplicates_unknown_dependencies_and_cycles() -> None:
    """Duplicate names, dangling dependencies and dependency cycles are errors naming them."""
    with pytest.raises(InvalidInputError, match="'a' more than once"):
        Catalogue(fields=[spec("a"), spec("a")])
    with pytest.raises(InvalidInputError, match=r"'a' depends on \['zz'\]"):
        Catalogue(fields=[spec("a", depends_on=("zz",))])
    with pytest.raises(InvalidInputError, match="a -> b -> c -> a"):
        Catalogue(
            fields=[
                spec("a", depends_on=("b",)),
                spec("b", depends_on=("c",)),
                spec("c", depends_on=("a",)),
            ]
        )
    with pytest.raises(InvalidInputError, match="FieldSpec instances"):
        Catalogue(fields=["a"])  # type: ignore[list-item]


def test_catalogue_lookup_and_unknown_field() -> None:
    """Lookup by name works; an unknown name lists the known ones."""
    cat = Catalogue(fields=[spec("a"), spec("b", depends_on=("a",))])
    assert cat["b"].depends_on == ("a",)
    assert cat.position("b") == 1
    assert "a" in cat
    assert "z" not in cat
    assert len(cat) == 2
    with pytest.raises(InvalidInputError, match=r"Unknown field 'z'.*a, b"):
        cat["z"]
