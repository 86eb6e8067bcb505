"""Tests for relmark.core.quantiles: weighted inverted-CDF quantiles against numpy oracles."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from relmark.core.quantiles import weighted_quantile

VALUES = st.lists(
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False) | st.sampled_from([0.0, 1.0, 2.0]),
    min_size=1,
    max_size=30,
)
PROBABILITIES = st.sampled_from([0.0, 1 / 3, 0.5, 2 / 3, 1.0]) | st.floats(0.0, 1.0)


def test_by_hand() -> None:
    """Small cases computed by hand: the smallest value whose weight share reaches q."""
    v = np.array([10.0, 30.0, 20.0])
    assert weighted_quantile(v, np.ones(3), 1 / 3) == 10.0
    assert weighted_quantile(v, np.ones(3), 0.34) == 20.0
    assert weighted_quantile(v, np.ones(3), 2 / 3) == 20.0
    assert weighted_quantile(v, np.ones(3), 1.0) == 30.0
    # weights 1, 1, 4 (values 10, 30, 20): shares 1/6 at 10, 5/6 at 20, 1 at 30
    assert weighted_quantile(v, np.array([1.0, 1.0, 4.0]), 0.5) == 20.0
    assert weighted_quantile(v, np.array([1.0, 1.0, 4.0]), 0.9) == 30.0
    # zero weight: the value stands for nobody, even at q = 0
    assert weighted_quantile(v, np.array([0.0, 1.0, 1.0]), 0.0) == 20.0


@given(values=VALUES, q=PROBABILITIES)
def test_unit_weights_equal_numpy_inverted_cdf(values: list[float], q: float) -> None:
    """With unit weights the quantile is numpy's inverted_cdf quantile."""
    v = np.asarray(values, dtype=np.float64)
    expected = float(np.quantile(v, q, method="inverted_cdf"))
    assert weighted_quantile(v, np.ones(v.size), q) == expected


@given(
    pairs=st.lists(
        st.tuples(st.floats(-1e3, 1e3, allow_nan=False), st.integers(0, 6)),
        min_size=1,
        max_size=20,
    ).filter(lambda p: sum(w for _, w in p) > 0),
    q=PROBABILITIES,
)
def test_integer_weights_equal_the_expanded_sample(
    pairs: list[tuple[float, int]], q: float
) -> None:
    """Integer weights give the quantile of the sample with each value repeated weight times."""
    v = np.array([x for x, _ in pairs], dtype=np.float64)
    w = np.array([n for _, n in pairs], dtype=np.float64)
    expanded = np.repeat(v, w.astype(np.int64))
    expected = float(np.quantile(expanded, q, method="inverted_cdf"))
    assert weighted_quantile(v, w, q) == expected


@given(values=VALUES, seed=st.integers(0, 2**32 - 1), q=PROBABILITIES)
def test_invariant_to_row_order(values: list[float], seed: int, q: float) -> None:
    """Permuting the rows (values with their weights) does not change the quantile."""
    rng = np.random.default_rng(seed)
    v = np.asarray(values, dtype=np.float64)
    w = rng.uniform(0.1, 3.0, v.size)
    perm = rng.permutation(v.size)
    assert weighted_quantile(v, w, q) == weighted_quantile(v[perm], w[perm], q)


@given(VALUES)
def test_tercile_cuts_are_numpy_inverted_cdf_terciles_for_unit_weights(values: list[float]) -> None:
    """With unit weights the cuts equal numpy's inverted-CDF quantiles at 1/3 and 2/3."""
    from relmark.core.quantiles import tercile_cuts

    v = np.array(values)
    expected = np.quantile(v, [1 / 3, 2 / 3], method="inverted_cdf")
    assert tercile_cuts(v, np.ones(v.size)) == (float(expected[0]), float(expected[1]))


@given(VALUES)
def test_tercile_tiers_are_ordered_and_exhaustive(values: list[float]) -> None:
    """Tiers never decrease with the value; low < cut 1 <= medium; high >= cut 2 (> cut 1)."""
    from relmark.core.quantiles import tercile_cuts, tercile_tiers

    v = np.array(values)
    low, high = tercile_cuts(v, np.ones(v.size))
    tiers = tercile_tiers(v, low, high)
    rank = np.array([{"low": 0, "medium": 1, "high": 2}[t] for t in tiers.tolist()])
    order = np.argsort(v, kind="stable")
    assert (np.diff(rank[order]) >= 0).all()
    assert ((tiers == "low") == (v < low)).all()
    assert ((tiers == "high") == ((v >= high) & (v > low))).all()
