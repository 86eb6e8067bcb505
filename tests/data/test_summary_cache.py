"""Tests of CustomerSummary's compression cache: computed once, shared, read-only, exact."""

from __future__ import annotations

import attrs
import numpy as np
import pytest

from relmark.data import CustomerSummary, TimeUnit
from relmark.data.summary import CompressedSummary


def _summary() -> CustomerSummary:
    rng = np.random.default_rng(7)
    x = rng.integers(0, 4, 500)
    T = rng.integers(1, 30, 500).astype(float)
    recency = np.where(x > 0, np.floor(T * rng.random(500)), 0.0)
    return CustomerSummary.from_arrays(x, recency, T, unit="D")


def test_compress_runs_once_and_returns_the_same_object(monkeypatch):
    """Repeated compress() calls do the work once and return the identical cached object."""
    calls = []
    original = CustomerSummary._compress

    def counting(self):
        calls.append(1)
        return original(self)

    monkeypatch.setattr(CustomerSummary, "_compress", counting)
    s = _summary()
    first = s.compress()
    assert s.compress() is first
    assert s.compress() is first
    assert len(calls) == 1


def test_cached_result_equals_a_fresh_compression():
    """The cached rows equal an uncached compression and gather back to every customer."""
    s = _summary()
    cached = s.compress()
    assert cached == s._compress()
    np.testing.assert_array_equal(cached.frequency[cached.inverse], s.frequency)
    np.testing.assert_array_equal(cached.recency[cached.inverse], s.recency)
    np.testing.assert_array_equal(cached.T[cached.inverse], s.T)
    assert cached.weights.sum() == len(s)
    assert cached.unit is TimeUnit.DAY


def test_cached_arrays_are_read_only():
    """No caller can alter the shared cached rows in place."""
    rows = _summary().compress()
    for column in (rows.frequency, rows.recency, rows.T, rows.weights, rows.inverse):
        with pytest.raises(ValueError, match="read-only"):
            column[0] = 1


def test_derived_summaries_compress_afresh():
    """take() and attrs.evolve give new summaries with their own, correct compression."""
    s = _summary()
    rows = s.compress()
    part = s.take(np.arange(10))
    assert part.compress() is not rows
    np.testing.assert_array_equal(
        part.compress().frequency[part.compress().inverse], s.frequency[:10]
    )
    weeks = attrs.evolve(s, unit=TimeUnit.WEEK)
    assert weeks.compress() is not rows
    assert weeks.compress().unit is TimeUnit.WEEK


def test_cache_is_not_part_of_equality_or_repr():
    """A summary that has compressed equals one that has not, and its repr does not change."""
    a, b = _summary(), _summary()
    before = repr(a)
    a.compress()
    assert a == b
    assert repr(a) == before


def test_compressed_summary_unit_defaults_to_weeks():
    """A CompressedSummary built by hand is in weeks unless told otherwise, like a summary."""
    one = np.ones(1)
    rows = CompressedSummary(
        frequency=one, recency=one, T=one, weights=one, inverse=np.zeros(1, dtype=np.int64)
    )
    assert rows.unit is TimeUnit.WEEK
