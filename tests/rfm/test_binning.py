"""The binning kernels against a pure-Python oracle written from the documented rule."""

from __future__ import annotations

import hashlib
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from relmark.rfm._binning import apply_cuts, quantile_bins, random_tie_keys, realised_sizes


def oracle_bins(values, weights, n_bins, keys=None):
    """bin_i = 1 + floor(n * B_i / W), exact in rationals; B_i = weight placed before i."""
    total = sum(Fraction(w) for w in weights)
    idx = range(len(values))
    out = []
    for i in idx:
        if keys is None:
            before = sum(Fraction(weights[j]) for j in idx if values[j] < values[i])
        else:
            me = (values[i], *keys[i])
            before = sum(Fraction(weights[j]) for j in idx if (values[j], *keys[j]) < me)
        out.append(1 + int(n_bins * before // total))
    return out


def test_shared_ties_hand_case_leaves_empty_bins():
    """Six tied lowest values fill slots 1-2 and empty bins 2 and 3; nothing is relabelled."""
    values = np.array([1, 1, 1, 1, 1, 1, 2, 3, 4, 5], dtype=np.float64)
    bins, openers = quantile_bins(values, np.ones(10), 5, (), share_ties=True)
    assert bins.tolist() == [1, 1, 1, 1, 1, 1, 4, 4, 5, 5]
    # Bins 2, 3 and 4 are all opened by the value 2 (index 6); bin 5 by the value 4 (index 8).
    assert openers.tolist() == [6, 6, 6, 8]
    assert realised_sizes(bins, np.ones(10), 5).tolist() == [6.0, 0.0, 0.0, 2.0, 2.0]


def test_rank_first_hand_case_splits_ties_by_key():
    """With an id tie-break, six tied values are split 2/2/2 by ascending id."""
    values = np.array([1, 1, 1, 1, 1, 1, 2, 3, 4, 5], dtype=np.float64)
    ids = np.array([9, 3, 7, 1, 5, 2, 0, 4, 6, 8], dtype=np.int64)
    bins, _ = quantile_bins(values, np.ones(10), 5, (ids,), share_ties=False)
    # Tied ids in order 1, 2, 3, 5, 7, 9 take positions 0..5: bins 1, 1, 2, 2, 3, 3.
    by_id = dict(zip(ids[:6].tolist(), bins[:6].tolist(), strict=True))
    assert by_id == {1: 1, 2: 1, 3: 2, 5: 2, 7: 3, 9: 3}
    assert bins[6:].tolist() == [4, 4, 5, 5]


@given(
    values=st.lists(st.integers(0, 6), min_size=1, max_size=30),
    n_bins=st.integers(2, 7),
    data=st.data(),
)
def test_quantile_bins_match_oracle(values, n_bins, data):
    """Both tie modes agree with the exact rational oracle, weighted and unweighted."""
    n = len(values)
    weights = data.draw(st.lists(st.integers(1, 4), min_size=n, max_size=n))
    v = np.array(values, dtype=np.float64)
    w = np.array(weights, dtype=np.float64)
    ids = np.arange(n, dtype=np.int64)[::-1].copy()
    shared, _ = quantile_bins(v, w, n_bins, (), share_ties=True)
    assert shared.tolist() == oracle_bins(values, weights, n_bins)
    first, _ = quantile_bins(v, w, n_bins, (ids,), share_ties=False)
    assert first.tolist() == oracle_bins(values, weights, n_bins, [(int(i),) for i in ids])


@given(
    values=st.lists(st.integers(0, 5), min_size=1, max_size=40),
    n_bins=st.integers(2, 6),
    share=st.booleans(),
)
def test_openers_reproduce_the_bins(values, n_bins, share):
    """Applying the fitted break points (value and tie key of each opener) gives back the fit."""
    v = np.array(values, dtype=np.float64)
    ids = np.arange(v.size, dtype=np.int64)
    keys = () if share else (ids,)
    bins, openers = quantile_bins(v, np.ones(v.size), n_bins, keys, share_ties=share)
    cuts = np.where(openers >= 0, v[np.maximum(openers, 0)], np.inf)
    cut_keys = () if share else tuple((ids[max(o, 0)],) for o in openers.tolist())
    assert apply_cuts(v, keys, cuts, cut_keys).tolist() == bins.tolist()


def test_random_keys_depend_only_on_seed_and_id():
    """The key of an id is the keyed BLAKE2b digest, whatever else is hashed alongside."""
    expected = int.from_bytes(
        hashlib.blake2b(b"42", digest_size=8, key=(7).to_bytes(8, "little")).digest(), "little"
    )
    assert int(random_tie_keys(["42"], 7)[0]) == expected
    assert random_tie_keys(["1", "42"], 7)[1] == random_tie_keys(["42"], 7)[0]
    assert random_tie_keys(["42"], 8)[0] != random_tie_keys(["42"], 7)[0]


def test_empty_group_reaches_no_bin():
    """An empty group gets no customers and unreachable break points."""
    bins, openers = quantile_bins(np.empty(0), np.empty(0), 4, (), share_ties=True)
    assert bins.size == 0
    assert openers.tolist() == [-1, -1, -1]


@pytest.mark.parametrize("share", [True, False])
def test_all_equal_values_collapse_to_bin_one_when_shared(share):
    """All-equal values: shared ties put everyone in bin 1; rank-first spreads them evenly."""
    v = np.zeros(10)
    bins, _ = quantile_bins(v, np.ones(10), 5, (np.arange(10),), share_ties=share)
    if share:
        assert bins.tolist() == [1] * 10
    else:
        assert np.bincount(bins).tolist() == [0, 2, 2, 2, 2, 2]
