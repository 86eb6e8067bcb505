"""The conditional purchase distribution of the Pareto/NBD against mpmath and its own identities."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

from relmark.core import paretonbd

CDNOW = (0.553, 10.578, 0.606, 11.669)
ROWS = (
    np.array([2.0, 0.0, 10.0, 40.0, 1.0]),
    np.array([30.43, 0.0, 35.0, 12.0, 1.0]),
    np.array([38.86, 38.86, 38.0, 60.0, 70.0]),
)


def _mp_conditional(k: int, t: float, x: int, t_x: float, T: float, params) -> mpmath.mpf:
    """P(X(T, T+t] = k | history) by integrating the individual model over the gamma priors."""
    r, a, s, b = (mpmath.mpf(v) for v in params)
    t_x, T, t = mpmath.mpf(t_x), mpmath.mpf(T), mpmath.mpf(t)

    def prior(lam, mu):
        return mpmath.exp(
            r * mpmath.log(a) + (r - 1) * mpmath.log(lam) - a * lam - mpmath.loggamma(r)
        ) * mpmath.exp(s * mpmath.log(b) + (s - 1) * mpmath.log(mu) - b * mu - mpmath.loggamma(s))

    def alive(lam, mu):  # history, alive at T (SMC 1987)
        return lam**x * mpmath.exp(-(lam + mu) * T)

    def dead(lam, mu):  # history, died in (t_x, T]
        return (
            lam**x * mu / (lam + mu) * (mpmath.exp(-(lam + mu) * t_x) - mpmath.exp(-(lam + mu) * T))
        )

    def future(lam, mu):  # k purchases in (T, T + t] for a customer alive at T
        still = mpmath.exp(-(lam + mu) * t) * (lam * t) ** k / mpmath.factorial(k)
        died = (
            mu
            * lam**k
            / mpmath.factorial(k)
            * mpmath.gammainc(k + 1, 0, (lam + mu) * t)
            / (lam + mu) ** (k + 1)
        )
        return still + died

    def integral(f):
        return mpmath.quad(
            lambda lam: mpmath.quad(
                lambda mu: prior(lam, mu) * f(lam, mu), [0, 0.05, 1, mpmath.inf]
            ),
            [0, 0.1, 1, mpmath.inf],
        )

    joint = integral(lambda u, v: alive(u, v) * future(u, v) + (dead(u, v) if k == 0 else 0))
    return joint / integral(lambda u, v: alive(u, v) + dead(u, v))


@pytest.mark.slow
@pytest.mark.parametrize("k", [0, 2])
def test_conditional_pmf_matches_mpmath_integral_over_the_priors(k):
    """The derived formula equals a direct 2-D integration of the model over lambda and mu."""
    with mpmath.workdps(15):
        want = _mp_conditional(k, 52.0, 2, 30.43, 38.86, CDNOW)
    got = paretonbd.probability_of_purchases_conditional(
        np.array([float(k)]), 52.0, 2.0, 30.43, 38.86, *CDNOW
    )[0]
    assert got == pytest.approx(float(want), rel=1e-7)


@pytest.mark.parametrize(
    "params", [CDNOW, (0.553, 1.0, 0.606, 30.0), (2.0, 9.0, 1.0, 2.0), (0.3, 5.0, 3.0, 5.0)]
)
@pytest.mark.parametrize("t", [0.5, 10.0, 52.0])
def test_conditional_pmf_sums_to_one_with_mean_equal_to_cet(params, t):
    """Over k the probabilities sum to 1 and their mean is the conditional expectation (1e-10)."""
    k = np.arange(0.0, 250.0)[:, np.newaxis]
    pmf = paretonbd.probability_of_purchases_conditional(k, t, *ROWS, *params)
    assert np.all((pmf >= 0) & (pmf <= 1))
    np.testing.assert_allclose(pmf.sum(axis=0), 1.0, rtol=0, atol=1e-10)
    cet = paretonbd.conditional_expected_purchases(t, *ROWS, *params)
    np.testing.assert_allclose((k * pmf).sum(axis=0), cet, rtol=1e-10)


def test_dead_customers_put_their_mass_on_zero():
    """P(X = 0 | history) is at least 1 - P(alive): a customer dead at T buys nothing."""
    alive = paretonbd.probability_alive(*ROWS, *CDNOW)
    zero = paretonbd.probability_of_purchases_conditional(0.0, 26.0, *ROWS, *CDNOW)
    assert np.all(zero >= 1.0 - alive)


@pytest.mark.parametrize("t", [1e-3, 1.0, 52.0, 1e4])
def test_any_purchase_is_one_minus_no_purchase(t):
    """P(X >= 1) = 1 - P(X = 0) wherever that subtraction keeps its digits."""
    anything = paretonbd.probability_of_any_purchase(t, *ROWS, *CDNOW)
    none = paretonbd.probability_of_purchases_conditional(0.0, t, *ROWS, *CDNOW)
    np.testing.assert_allclose(anything, 1.0 - none, rtol=1e-9, atol=1e-15)


def test_any_purchase_keeps_its_digits_for_tiny_horizons():
    """At t = 1e-9 it equals P(alive) (r+x)/(alpha+T) t to first order (1 - P(0) would not)."""
    t = 1e-9
    x, _, T = ROWS
    r, alpha, _, _ = CDNOW
    first_order = paretonbd.probability_alive(*ROWS, *CDNOW) * (r + x) / (alpha + T) * t
    anything = paretonbd.probability_of_any_purchase(t, *ROWS, *CDNOW)
    np.testing.assert_allclose(anything, first_order, rtol=1e-7)
