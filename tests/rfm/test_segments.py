"""Segments and rule sets: validation, first-match assignment, and the linter."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from relmark.errors import InvalidInputError
from relmark.rfm.segments import Segment, SegmentRules


def brute_force_claims(rules, bins):
    """Cell → names of the rules containing it, by looping over boxes/cells in plain Python."""
    out = {}
    for cell in itertools.product(range(1, bins + 1), repeat=3):
        names = []
        for s in rules.segments:
            if s.cells is not None:
                hit = cell in s.cells
            else:
                hit = all(
                    b is None or b[0] <= v <= b[1]
                    for b, v in zip((s.r, s.f, s.m), cell, strict=True)
                )
            if hit:
                names.append(s.name)
        out[cell] = names
    return out


def test_box_matches_inclusive_ranges_and_any_when_omitted():
    """Ranges are inclusive and an omitted dimension matches every score."""
    seg = Segment("Recent", r=(4, 5))
    assert seg.matches([3, 4, 5], [1, 5, 2], [5, 1, 3]).tolist() == [False, True, True]


def test_cells_parse_tuples_and_strings():
    """Explicit cells accept tuples, three-digit strings and r-f-m strings."""
    seg = Segment.from_cells("Top", [(5, 5, 5), "554", "10-1-2"])
    assert seg.cells == ((5, 5, 5), (5, 5, 4), (10, 1, 2))
    assert seg.matches([5, 5, 10, 4], [5, 5, 1, 5], [5, 4, 2, 5]).tolist() == [
        True,
        True,
        True,
        False,
    ]
    assert seg.max_score() == 10


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"r": (0, 2)}, "'r' field of Segment 'S'"),
        ({"f": (3, 2)}, "'f' field of Segment 'S'"),
        ({"m": (1.0, 2.0)}, "'m' field of Segment 'S'"),
        ({"r": (1, 2), "cells": ((1, 1, 1),)}, "either a box"),
        ({"cells": ()}, "non-empty tuple"),
        ({"cells": ("555",)}, "from_cells"),
    ],
)
def test_bad_segment_is_rejected_with_the_field_named(kwargs, fragment):
    """Malformed ranges and cells raise InvalidInputError naming the field."""
    with pytest.raises(InvalidInputError, match=fragment):
        Segment("S", **kwargs)


def test_bad_cell_string_is_rejected():
    """A cell string that is not three scores is rejected with the expected forms."""
    with pytest.raises(InvalidInputError, match="three scores"):
        Segment.from_cells("S", ["55"])


def test_rules_reject_duplicates_and_fallback_clash():
    """Segment names are unique and differ from the fallback; entries must be Segments."""
    with pytest.raises(InvalidInputError, match="repeated"):
        SegmentRules([Segment("A"), Segment("A")])
    with pytest.raises(InvalidInputError, match="fallback"):
        SegmentRules([Segment("Others", r=(1, 1))])
    with pytest.raises(InvalidInputError, match="position"):
        SegmentRules([Segment("A"), "B"])


def test_first_match_wins_and_fallback_catches_the_rest():
    """An overlapping cell goes to the earlier rule; uncovered cells get the fallback name."""
    rules = SegmentRules(
        [Segment("High R", r=(4, 5)), Segment("High F", f=(4, 5))], fallback="Rest"
    )
    got = rules.assign([5, 1, 5, 1], [5, 5, 1, 1], [1, 1, 1, 1]).tolist()
    assert got == ["High R", "High F", "High R", "Rest"]
    flipped = SegmentRules(list(reversed(rules.segments)), fallback="Rest")
    assert flipped.assign([5], [5], [1]).tolist() == ["High F"]


def test_lint_reports_overlaps_gaps_and_shadowed_rules():
    """A hand-built rule set: overlap cells with winner, gaps, and a rule that never wins."""
    rules = SegmentRules(
        [
            Segment("Top", r=(2, 2)),
            Segment("Corner", r=(2, 2), f=(2, 2), m=(2, 2)),
            Segment("Low", r=(1, 1), f=(1, 1)),
        ]
    )
    report = rules.lint(bins=2)
    assert [o.cell for o in report.overlaps] == [(2, 2, 2)]
    assert report.overlaps[0].segments == ("Top", "Corner")
    assert report.overlaps[0].winner == "Top"
    assert report.gaps == ((1, 2, 1), (1, 2, 2))
    assert report.shadowed == ("Corner",)
    assert dict(report.cells_won) == {"Top": 4, "Corner": 0, "Low": 2}
    assert not report.is_partition
    assert "2 claimed by none" in str(report)


def test_lint_flags_rules_beyond_the_bins():
    """Rules mentioning scores above ``bins`` are listed as out of range."""
    report = SegmentRules([Segment("Five", r=(5, 5))]).lint(bins=3)
    assert report.out_of_range == ("Five",)
    with pytest.raises(InvalidInputError, match="'bins' parameter"):
        SegmentRules([]).lint(bins=0)


boxes = st.tuples(st.integers(1, 4), st.integers(1, 4)).map(lambda t: (min(t), max(t)))
segment_lists = st.lists(
    st.tuples(st.none() | boxes, st.none() | boxes, st.none() | boxes), min_size=0, max_size=6
)


@given(spec=segment_lists, scores=st.lists(st.tuples(*[st.integers(1, 4)] * 3), max_size=30))
def test_every_customer_gets_exactly_the_first_matching_segment(spec, scores):
    """assign equals a plain first-match loop, so every customer lands in exactly one segment."""
    rules = SegmentRules(
        [Segment(f"S{i}", r=r, f=f, m=m) for i, (r, f, m) in enumerate(spec)], fallback="None"
    )
    claims = brute_force_claims(rules, 4)
    r, f, m = (np.array([s[k] for s in scores], dtype=np.int64) for k in range(3))
    expected = [claims[s][0] if claims[s] else "None" for s in scores]
    assert rules.assign(r, f, m).tolist() == expected
    report = rules.lint(bins=4)
    assert len(report.overlaps) == sum(len(v) > 1 for v in claims.values())
    assert len(report.gaps) == sum(not v for v in claims.values())
    assert sum(n for _, n in report.cells_won) + len(report.gaps) == 4**3


def test_rules_round_trip_through_json():
    """Rule sets (boxes and explicit cells) are data: to_json/from_json gives them back equal."""
    from relmark.io import from_json, to_json

    rules = SegmentRules(
        [
            Segment("Box", r=(4, 5), m=(1, 2), description="d"),
            Segment.from_cells("Cells", ["555", "112"]),
        ],
        fallback="Rest",
    )
    back = from_json(to_json(rules), SegmentRules)
    assert back == rules
    assert back.assign([5, 1], [1, 1], [1, 2]).tolist() == ["Box", "Cells"]
