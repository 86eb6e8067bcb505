"""Instruments as data: validation and the shipped KMV and relationship-quality instruments."""

from __future__ import annotations

import pytest

from relmark.errors import InvalidInputError
from relmark.trust import (
    Construct,
    Instrument,
    Item,
    PathSign,
    StructuralPath,
    default_kmv_instrument,
    relationship_quality_instrument,
)

PLUS, MINUS = PathSign.POSITIVE, PathSign.NEGATIVE

# Morgan & Hunt (1994), Figure 1: the thirteen hypothesised paths and their signs.
MORGAN_HUNT = {
    ("termination_costs", "commitment"): PLUS,
    ("relationship_benefits", "commitment"): PLUS,
    ("shared_values", "commitment"): PLUS,
    ("shared_values", "trust"): PLUS,
    ("communication", "trust"): PLUS,
    ("opportunistic_behaviour", "trust"): MINUS,
    ("trust", "commitment"): PLUS,
    ("commitment", "acquiescence"): PLUS,
    ("commitment", "propensity_to_leave"): MINUS,
    ("commitment", "cooperation"): PLUS,
    ("trust", "cooperation"): PLUS,
    ("trust", "functional_conflict"): PLUS,
    ("trust", "decision_making_uncertainty"): MINUS,
}


def item(code: str, **kw) -> Item:
    return Item(code=code, text=f"Item {code}.", **kw)


def test_kmv_instrument_has_the_published_paths():
    """The default instrument holds exactly Morgan & Hunt's 13 paths with their signs."""
    kmv = default_kmv_instrument()
    assert {(p.source, p.target): p.sign for p in kmv.paths} == MORGAN_HUNT
    assert len(kmv.constructs) == 12
    assert "adapted" in kmv.source.lower()


def test_kmv_items_are_worded_and_on_one_scale():
    """Every construct has at least 3 worded items on 1-7 and a definition; some are reverse-keyed."""
    kmv = default_kmv_instrument()
    for construct in kmv.constructs:
        assert len(construct.items) >= 3
        assert construct.definition
        assert (construct.scale_min, construct.scale_max) == (1.0, 7.0)
    assert any(i.reverse_keyed for c in kmv.constructs for i in c.items)
    assert len(set(kmv.item_codes)) == len(kmv.item_codes)


def test_relationship_quality_instrument():
    """Relationship quality is trust, commitment and satisfaction."""
    rq = relationship_quality_instrument()
    assert rq.construct_names == ("trust", "commitment", "satisfaction")


def test_construct_lookup():
    """construct(name) finds a construct and names the available ones otherwise."""
    kmv = default_kmv_instrument()
    assert kmv.construct("trust").name == "trust"
    with pytest.raises(InvalidInputError, match="no construct 'faith'"):
        kmv.construct("faith")


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: item("A", scale_min=5, scale_max=5), "'scale_max' field of item 'A'"),
        (lambda: item(""), "'code' field"),
        (lambda: Construct(name="c", items=[]), "at least one item"),
        (
            lambda: Construct(name="c", items=[item("A"), item("B", scale_max=5)]),
            "share one response scale",
        ),
        (lambda: Construct(name="c", items=[item("A"), item("A")]), "unique"),
        (
            lambda: Instrument(
                name="i",
                constructs=[
                    Construct(name="c", items=[item("A")]),
                    Construct(name="d", items=[item("A")]),
                ],
            ),
            "duplicated: \\['A'\\]",
        ),
        (
            lambda: Instrument(
                name="i",
                constructs=[Construct(name="c", items=[item("A")])],
                paths=[StructuralPath(source="c", target="z", sign=PLUS)],
            ),
            "construct 'z'",
        ),
        (lambda: StructuralPath(source="c", target="c", sign=PLUS), "two different constructs"),
    ],
)
def test_invalid_instruments_are_refused(build, match):
    """Invalid items, constructs, paths and instruments raise InvalidInputError naming the field."""
    with pytest.raises(InvalidInputError, match=match):
        build()


def test_instrument_json_round_trip():
    """An instrument (records, tuples, enums, optional signs) survives to_json / from_json."""
    from relmark.io import from_json, to_json

    kmv = default_kmv_instrument()
    custom = Instrument(
        name="custom",
        constructs=kmv.constructs[:2],
        paths=[StructuralPath(source=kmv.constructs[0].name, target=kmv.constructs[1].name)],
    )
    for instrument in (kmv, custom, relationship_quality_instrument()):
        assert from_json(to_json(instrument), Instrument) == instrument
