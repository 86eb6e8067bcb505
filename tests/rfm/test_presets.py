"""The published presets: the R rfm package's segments and the clean recency × frequency grid."""

from __future__ import annotations

import itertools

from relmark.rfm.presets import RF_GRID_SEGMENTS, RFM_PACKAGE_0_3_SEGMENTS, RFM_PACKAGE_SEGMENTS
from relmark.rfm.segments import SegmentRules

# The published vectors of the R rfm package's rfm_segment example, in its order.
R_NAMES = [
    "Champions", "Loyal Customers", "Potential Loyalist", "New Customers", "Promising",
    "Need Attention", "About To Sleep", "At Risk", "Can't Lose Them", "Lost",
]  # fmt: skip
R_LOWER = {"r": [4, 2, 3, 4, 3, 2, 2, 1, 1, 1], "f": [4, 3, 1, 1, 1, 2, 1, 2, 4, 1]}
R_UPPER = {"r": [5, 5, 5, 5, 4, 3, 3, 2, 1, 2], "f": [5, 5, 3, 1, 1, 3, 2, 5, 5, 2]}
R_LOWER["m"], R_UPPER["m"] = R_LOWER["f"], R_UPPER["f"]
CELLS = list(itertools.product(range(1, 6), repeat=3))


def r_claims(cell):
    """Indices of the R segments whose [lower, upper] bounds contain the cell."""
    return [
        i
        for i in range(10)
        if all(R_LOWER[d][i] <= v <= R_UPPER[d][i] for d, v in zip("rfm", cell, strict=True))
    ]


def test_rfm_package_preset_matches_published_bounds():
    """Each preset segment has the published name and lower/upper bounds, in published order."""
    assert [s.name for s in RFM_PACKAGE_SEGMENTS.segments] == R_NAMES
    for i, s in enumerate(RFM_PACKAGE_SEGMENTS.segments):
        for d in "rfm":
            assert getattr(s, d) == (R_LOWER[d][i], R_UPPER[d][i])
    assert RFM_PACKAGE_SEGMENTS.fallback == "Others"


def test_lint_finds_the_overlaps_of_the_rfm_package_preset():
    """39 of 125 cells are claimed by 2+ segments and 36 by none, as a direct count confirms."""
    report = RFM_PACKAGE_SEGMENTS.lint(bins=5)
    overlapping = [c for c in CELLS if len(r_claims(c)) > 1]
    uncovered = [c for c in CELLS if not r_claims(c)]
    assert [o.cell for o in report.overlaps] == overlapping
    assert list(report.gaps) == uncovered
    assert len(overlapping) == 39
    assert len(uncovered) == 36
    for o in report.overlaps:
        assert o.segments == tuple(R_NAMES[i] for i in r_claims(o.cell))
        assert o.winner == R_NAMES[r_claims(o.cell)[0]]
    # Under first-match the later, narrower boxes never win a cell.
    assert report.shadowed == ("New Customers", "Promising", "Can't Lose Them")


def test_reversed_preset_reproduces_the_r_loop():
    """The earliest rfm_segment overwrote in a loop (last match wins); reversed first-match equals it."""
    reversed_rules = SegmentRules(list(reversed(RFM_PACKAGE_SEGMENTS.segments)), fallback="Others")
    r, f, m = zip(*CELLS, strict=True)
    got = reversed_rules.assign(r, f, m).tolist()
    expected = []
    for cell in CELLS:
        label = "Others"
        for i in range(10):  # the R loop: every matching segment overwrites the label
            if i in r_claims(cell):
                label = R_NAMES[i]
        expected.append(label)
    assert got == expected
    forward = RFM_PACKAGE_SEGMENTS.assign(r, f, m).tolist()
    assert sum(a != b for a, b in zip(got, forward, strict=True)) == 39


# The published vectors of the R rfm package 0.3.0's rfm_segment example, in its order.
R03_NAMES = [
    "Champions", "Potential Loyalist", "Loyal Customers", "Promising", "New Customers",
    "Can't Lose Them", "At Risk", "Need Attention", "About To Sleep", "Lost",
]  # fmt: skip
R03_LOWER = {"r": [5, 3, 2, 3, 4, 1, 1, 1, 2, 1], "f": [5, 3, 2, 1, 1, 3, 2, 3, 1, 1],
             "m": [5, 2, 2, 3, 1, 4, 4, 3, 1, 1]}  # fmt: skip
R03_UPPER = {"r": [5, 5, 4, 4, 5, 2, 2, 3, 3, 1], "f": [5, 5, 4, 3, 3, 4, 5, 5, 3, 5],
             "m": [5, 5, 4, 5, 5, 5, 5, 5, 4, 5]}  # fmt: skip


def r03_first_match(cell):
    """The current R loop: a customer keeps the first segment whose bounds contain its cell."""
    for i in range(10):
        if all(R03_LOWER[d][i] <= v <= R03_UPPER[d][i] for d, v in zip("rfm", cell, strict=True)):
            return R03_NAMES[i]
    return "Others"


def test_rfm_0_3_preset_matches_published_bounds_and_r_assignment():
    """The 0.3.0 preset has the published bounds, 58 overlaps and 10 gaps, and assigns as R does."""
    assert [s.name for s in RFM_PACKAGE_0_3_SEGMENTS.segments] == R03_NAMES
    for i, s in enumerate(RFM_PACKAGE_0_3_SEGMENTS.segments):
        for d in "rfm":
            assert getattr(s, d) == (R03_LOWER[d][i], R03_UPPER[d][i])
    report = RFM_PACKAGE_0_3_SEGMENTS.lint(bins=5)
    assert len(report.overlaps) == 58
    assert len(report.gaps) == 10
    r, f, m = zip(*CELLS, strict=True)
    got = RFM_PACKAGE_0_3_SEGMENTS.assign(r, f, m).tolist()
    assert got == [r03_first_match(c) for c in CELLS]


# The grid as usually published, as a map over "rf" score strings.
GRID = {
    "Hibernating": ["11", "12", "21", "22"],
    "At Risk": ["13", "14", "23", "24"],
    "Can't Lose": ["15", "25"],
    "About To Sleep": ["31", "32"],
    "Need Attention": ["33"],
    "Loyal": ["34", "35", "44", "45"],
    "Promising": ["41"],
    "New Customers": ["51"],
    "Potential Loyalists": ["42", "43", "52", "53"],
    "Champions": ["54", "55"],
}


def test_rf_grid_partitions_all_cells_as_published():
    """The grid lint finds no overlap and no gap, and every (r, f) cell has its published name."""
    report = RF_GRID_SEGMENTS.lint(bins=5)
    assert report.is_partition
    assert report.overlaps == ()
    assert report.gaps == ()
    assert report.shadowed == ()
    expected = {rf: name for name, cells in GRID.items() for rf in cells}
    assert len(expected) == 25
    r, f, m = zip(*CELLS, strict=True)
    got = RF_GRID_SEGMENTS.assign(r, f, m).tolist()
    assert got == [expected[f"{c[0]}{c[1]}"] for c in CELLS]
