"""Pareto/NBD at the special points of its 2F1 forms, against mpmath integrals of the model.

The PMF's hypergeometric terms ${}_2F_1(r+s+i, s+1; r+s+n+1; z)$ have $c - a - b = n - s - i$,
an integer whenever $s$ is; $z = (\\alpha-\\beta)/\\alpha \\to 1$ as $\\beta/\\alpha \\to 0$ (and
the mirrored form as $\\alpha/\\beta \\to 0$); $z = 0$ at $\\alpha = \\beta$. The expectations
switch formula at $s = 1$. Every value is compared with a direct numerical integration of the
model (not with a 2F1 evaluation) to 1e-8 relative.
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relmark.core import paretonbd

SPECIAL = [
    pytest.param((0.8, 5.0, 1.0, 7.0), id="s=1, c-a-b integer"),
    pytest.param((1.5, 3.0, 2.0, 9.0), id="s=2, c-a-b integer"),
    pytest.param((0.6, 40.0, 1.0, 1e-3), id="s=1, beta/alpha -> 0 (z -> 1)"),
    pytest.param((0.6, 1e-3, 0.7, 40.0), id="alpha/beta -> 0 (mirrored z -> 1)"),
    pytest.param((0.9, 6.0, 0.8, 6.0), id="alpha = beta (z = 0)"),
    pytest.param((0.9, 6.0, 0.8, 6.0 * (1 + 1e-12)), id="alpha ~ beta"),
    pytest.param((0.9, 6.0, 1.0 + 1e-9, 8.0), id="s ~ 1"),
]


def _mp_nbd(n: int, r: mpmath.mpf, alpha: mpmath.mpf, tau: mpmath.mpf) -> mpmath.mpf:
    """P(n purchases in tau) for a gamma-Poisson buyer alive throughout."""
    return (
        mpmath.gamma(r + n)
        / (mpmath.gamma(r) * mpmath.factorial(n))
        * (alpha / (alpha + tau)) ** r
        * (tau / (alpha + tau)) ** n
    )


def _mp_pmf(n: int, t: float, r: float, alpha: float, s: float, beta: float) -> mpmath.mpf:
    """P(X(t) = n): alive at t, or died at tau in (0, t] after n purchases (FH-06 eq. 1)."""
    r, alpha, s, beta, t = (mpmath.mpf(v) for v in (r, alpha, s, beta, t))
    alive = _mp_nbd(n, r, alpha, t) * (beta / (beta + t)) ** s
    # Breakpoints at t / 10^k: the integrand can peak anywhere on a log scale.
    points = [0, *(t * mpmath.mpf(10) ** -k for k in range(16, -1, -2))]
    died = mpmath.quad(
        lambda tau: _mp_nbd(n, r, alpha, tau) * s * beta**s * (beta + tau) ** (-s - 1), points
    )
    return alive + died


@pytest.mark.parametrize("params", SPECIAL)
def test_pmf_at_special_points_matches_mpmath(params):
    """P(X(t) = n) equals the mpmath integral of the model to 1e-8 relative at every special point."""
    mpmath.mp.dps = 30
    n = np.array([0.0, 1.0, 2.0, 5.0, 12.0])
    for t in (0.5, 80.0):
        got = paretonbd.probability_of_purchases(n, np.full(n.size, t), *params)
        want = [float(_mp_pmf(int(k), t, *params)) for k in n]
        np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-300)


@pytest.mark.parametrize("params", SPECIAL)
def test_conditional_expectation_at_special_points_matches_mpmath(params):
    """CET (with P(alive) from the death integral) equals mpmath's posterior integral to 1e-8."""
    mpmath.mp.dps = 30
    r, alpha, s, beta = (mpmath.mpf(v) for v in params)
    x, t_x, T, t = 3, mpmath.mpf(8), mpmath.mpf(20), mpmath.mpf(15)
    alive = (alpha + T) ** (-(r + x)) * (beta + T) ** (-s)
    died = s * mpmath.quad(lambda u: (alpha + u) ** (-(r + x)) * (beta + u) ** (-(s + 1)), [t_x, T])
    p_alive = alive / (alive + died)
    # Given alive at T: rate ~ Gamma(r + x, alpha + T), dropout ~ Gamma(s, beta + T).
    mean_alive_time = mpmath.quad(lambda u: ((beta + T) / (beta + T + u)) ** s, [0, t])
    want = p_alive * (r + x) / (alpha + T) * mean_alive_time
    got = paretonbd.conditional_expected_purchases(
        np.array([float(t)]), np.array([3.0]), np.array([8.0]), np.array([20.0]), *params
    )[0]
    assert got == pytest.approx(float(want), rel=1e-8)


@settings(max_examples=30, deadline=None)
@given(
    log_params=st.tuples(*[st.floats(-5.0, 5.0)] * 4),
    log_t=st.floats(-10.0, 5.0),
)
def test_pmf_is_a_probability_and_sums_to_at_most_one(log_params, log_t):
    """Every PMF value lies in [0, 1] and the values over n sum to at most 1 + 1e-9."""
    params = tuple(float(v) for v in np.exp(log_params))
    t = float(np.exp(log_t))
    n = np.arange(0.0, 60.0)
    pmf = paretonbd.probability_of_purchases(n, np.full(n.size, t), *params)
    assert np.all((pmf >= 0.0) & (pmf <= 1.0))
    assert pmf.sum() <= 1.0 + 1e-9


def test_pmf_where_the_hypergeometric_bracket_cancels_matches_mpmath():
    """Small t and many purchases (B_1 and the B_2 sum nearly equal): still 1e-8 against mpmath."""
    mpmath.mp.dps = 30
    cases = [
        ((0.8, 5.0, 1.0, 7.0), 0.5, 12),
        ((1.3933, 0.20143, 0.53875, 0.022973), 0.02644, 25),
        ((0.42019, 22.696, 0.11273, 2.6791), 0.016978, 11),
        ((0.060946, 0.67214, 10.704, 0.11592), 0.011941, 17),
    ]
    for params, t, n in cases:
        got = paretonbd.probability_of_purchases(np.array([float(n)]), np.array([t]), *params)
        assert got[0] == pytest.approx(float(_mp_pmf(n, t, *params)), rel=1e-8)
