"""Tests for relmark.core.special.evaluate_on_log_panels: shared Chebyshev panels in ln(1 + u)."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from relmark.core import special
from relmark.core.special import evaluate_on_log_panels
from relmark.typing import FloatArray


def _smooth(u: FloatArray, x: FloatArray) -> FloatArray:
    """A positive function with f(u)/u analytic in ln(1 + u), like the BTYD expectations."""
    return np.asarray((1.0 + x) * u / (1.0 + u) ** 0.3, dtype=np.float64)


def _kinked(u: FloatArray, x: FloatArray) -> FloatArray:
    """Positive but with a kink in ln(1 + u): no polynomial converges on the panel holding it."""
    return np.asarray(u * (1.0 + x + np.abs(np.log1p(u) - 0.7)), dtype=np.float64)


_u = hnp.arrays(
    np.float64,
    st.integers(1, 30),
    elements=st.one_of(
        st.floats(0.0, 1e6, allow_nan=False), st.sampled_from([0.0, 1e-12, 1.0, 6.389])
    ),
)


def test_smooth_function_is_reproduced_to_rounding():
    """On a smooth function the interpolants agree with the direct values to 1e-13 relative."""
    rng = np.random.default_rng(11)
    u = np.concatenate([10.0 ** rng.uniform(-9, 6, 4000), [1e-300, 0.5, 6.389056098930650]])
    x = rng.integers(0, 50, u.size).astype(np.float64)
    got = evaluate_on_log_panels(_smooth, u, x)
    np.testing.assert_allclose(got, _smooth(u, x), rtol=1e-13, atol=0.0)


def test_zero_argument_gives_exactly_zero():
    """At u = 0 the value is exactly 0 (f = u e^h), as an expectation over no time must be."""
    got = evaluate_on_log_panels(_smooth, np.array([0.0, 0.0, 2.0]), np.array([0.0, 3.0, 3.0]))
    assert got[0] == 0.0
    assert got[1] == 0.0


@given(_u)
def test_each_value_depends_on_its_own_element_only(u):
    """Every element equals the call on that element alone, bit for bit (fixed panels)."""
    x = np.arange(u.size, dtype=np.float64) % 3
    together = evaluate_on_log_panels(_smooth, u, x)
    for i in range(u.size):
        alone = evaluate_on_log_panels(_smooth, u[i : i + 1], x[i : i + 1])
        assert together[i] == alone[0]


def test_unconverged_panels_fall_back_to_the_direct_function():
    """A panel whose coefficients do not decay (a kink) is evaluated directly, exactly."""
    u = np.expm1(np.linspace(0.01, 3.9, 200))
    x = np.zeros_like(u)
    got = evaluate_on_log_panels(_kinked, u, x)
    kinked_panel = np.log1p(u) < special._PANEL_WIDTH
    np.testing.assert_array_equal(got[kinked_panel], _kinked(u, x)[kinked_panel])
    # The panel without the kink is smooth and interpolated, within rounding of the direct values.
    np.testing.assert_allclose(got[~kinked_panel], _kinked(u, x)[~kinked_panel], rtol=1e-13)


def test_a_node_the_function_cannot_evaluate_sends_its_panel_to_the_direct_path():
    """NaN at a node (an uncertified special function) never leaks into interpolated values."""

    def holes(u: FloatArray, x: FloatArray) -> FloatArray:
        values = _smooth(u, x)
        return np.asarray(np.where((u > 2.0) & (u < 2.5), np.nan, values), dtype=np.float64)

    u = np.array([0.1, 1.0, 3.0, 2.2, 50.0])
    got = evaluate_on_log_panels(holes, u, np.zeros_like(u))
    np.testing.assert_array_equal(got[:4], holes(u[:4], np.zeros(4)))
    assert np.isnan(got[3])
    np.testing.assert_allclose(got[4], _smooth(u[4:], np.zeros(1))[0], rtol=1e-13)


def test_shape_and_broadcasting():
    """A row of u against a column of x returns the broadcast shape; empty input stays empty."""
    got = evaluate_on_log_panels(_smooth, np.array([[0.5, 2.0, 30.0]]), np.array([[0.0], [4.0]]))
    assert got.shape == (2, 3)
    np.testing.assert_allclose(got[1], _smooth(np.array([0.5, 2.0, 30.0]), np.full(3, 4.0)))
    assert evaluate_on_log_panels(_smooth, np.zeros((0, 2)), np.zeros(2)).shape == (0, 2)
