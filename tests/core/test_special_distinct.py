"""Tests for relmark.core.special's helpers: distinct values, distinct tuples, bridges, series."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from relmark.core.special import (
    alive_expectation_series,
    bridge_removable_point,
    distinct_codes,
    distinct_tuples,
    evaluate_per_distinct,
)

_values = hnp.arrays(
    np.float64,
    st.integers(0, 40),
    elements=st.one_of(
        st.integers(-5, 60).map(float),
        st.floats(-1e6, 1e6, allow_nan=False),
        st.sampled_from([0.5, 1.25, 3.0]),
    ),
)


@given(_values)
def test_distinct_codes_gather_back_exactly(values):
    """distinct[codes] reproduces the input bit for bit, whole numbers or not."""
    distinct, codes = distinct_codes(values)
    np.testing.assert_array_equal(distinct[codes], values)
    assert codes.dtype == np.intp


def test_distinct_codes_use_offsets_for_counts_and_sort_otherwise():
    """Small whole numbers are coded by their offset; other values go through a sort."""
    distinct, codes = distinct_codes(np.array([7.0, 5.0, 7.0, 9.0]))
    assert distinct.tolist() == [5.0, 6.0, 7.0, 8.0, 9.0]
    assert codes.tolist() == [2, 0, 2, 4]
    distinct, codes = distinct_codes(np.array([0.5, 1e12, 0.5]))
    assert distinct.tolist() == [0.5, 1e12]
    assert codes.tolist() == [0, 1, 0]


@st.composite
def _customers_and_horizons(draw):
    n = draw(st.integers(1, 6))
    column = (n, 1)
    x = draw(hnp.arrays(np.float64, column, elements=st.sampled_from([0.0, 1.0, 2.5])))
    T = draw(hnp.arrays(np.float64, column, elements=st.sampled_from([1.0, 9.0])))
    t = draw(
        hnp.arrays(np.float64, (1, draw(st.integers(1, 4))), elements=st.sampled_from([3.0, 4.0]))
    )
    return t, x, T


@given(_customers_and_horizons())
def test_distinct_tuples_are_distinct_and_cover_every_element(arrays):
    """Representatives are pairwise distinct tuples, and the inverse maps every element back."""
    t, x, T = arrays
    shape = np.broadcast_shapes(x.shape, t.shape)
    first, inverse = distinct_tuples(t, x, T)
    columns = [np.broadcast_to(c, shape) for c in (t, x, T)]
    picked = [c[first] for c in columns]
    for column, chosen in zip(columns, picked, strict=True):
        np.testing.assert_array_equal(chosen[inverse], column.ravel())
    assert len(set(zip(*(p.tolist() for p in picked), strict=True))) == picked[0].size


@pytest.mark.parametrize(
    ("t", "x"),
    [
        (np.asarray(3.0), np.array([1.0, 2.0, 1.0])),
        (np.array([[1.0, 2.0, 5.0]]), np.array([[1.0], [2.0], [1.0]])),
        (np.array([1.0, 2.0, 1.0]), np.array([1.0, 2.0, 1.0])),
        (np.array([[1.0], [2.0]]), np.array([[1.0, 2.0, 1.0]])),
    ],
    ids=["scalar", "grid", "elementwise", "transposed"],
)
def test_evaluate_per_distinct_equals_direct_evaluation(t, x):
    """Deduplicated evaluation returns exactly the direct elementwise values, in their shape."""
    T = np.full_like(x, 4.0)
    calls = []

    def function(tt, xx, TT):
        calls.append(np.broadcast(tt, xx, TT).size)
        return np.sin(tt) * xx + np.log(TT)

    got = evaluate_per_distinct(function, t, x, T)
    np.testing.assert_array_equal(got, np.sin(t) * x + np.log(T))
    assert calls[-1] <= np.broadcast(t, x, T).size


def test_bridge_removable_point_is_exact_for_an_analytic_quotient():
    """(e^(a-1) - 1)/(a - 1) near a = 1 (value 1 at a = 1) is interpolated to 1e-13."""

    def quotient(a):
        return np.array([np.expm1(a - 1.0) / (a - 1.0)])

    for a in (1.0, 1.0 + 1e-12, 1.0 - 3e-7, 1.05, 0.91):
        got = bridge_removable_point(quotient, a, center=1.0, half_width=0.1)[0]
        want = 1.0 if a == 1.0 else float(mpmath.expm1(mpmath.mpf(a) - 1) / (mpmath.mpf(a) - 1))
        assert got == pytest.approx(want, rel=1e-13)


def test_alive_expectation_series_matches_its_mpmath_sum():
    """The small-u series equals the expectation E_p[(1 - (1+pu)^-s)/p] by mpmath quadrature."""
    u, s, a, c = 0.01, 2.5, 0.7, 4.0
    got = float(alive_expectation_series(np.array([u]), np.array([s]), a, np.array([c]))[0])
    with mpmath.workdps(30):
        beta = mpmath.beta(a, c - a)

        def integrand(p):
            density = p ** (a - 1) * (1 - p) ** (c - a - 1) / beta
            return density * -mpmath.expm1(-s * mpmath.log1p(p * u)) / p

        want = mpmath.quad(integrand, [0, 1])
    assert got == pytest.approx(float(want), rel=1e-13)
