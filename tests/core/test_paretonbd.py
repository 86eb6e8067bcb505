"""Tests of the Pareto/NBD kernels against published estimates, mpmath and lifetimes."""

from __future__ import annotations

import gzip
from pathlib import Path

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.optimize import minimize

from relmark.core import paretonbd

DATA = Path(__file__).parents[2] / "src" / "relmark" / "datasets" / "_data"
CDNOW_PARAMS = (0.553, 10.578, 0.606, 11.669)
# alpha < beta and alpha > beta regimes, and one with alpha almost equal to beta.
PARAM_SETS = [
    CDNOW_PARAMS,
    (0.553, 1.0, 0.606, 30.0),
    (2.0, 0.5, 3.0, 20.0),
    (0.5, 50.0, 0.3, 0.5),
    (1.3, 7.0, 0.8, 7.0 + 1e-9),
]


@pytest.fixture(scope="module")
def cdnow() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    with gzip.open(DATA / "cdnow_sample_summary.csv.gz", "rt") as handle:
        table = np.loadtxt(handle, delimiter=",", skiprows=1)
    return table[:, 1], table[:, 2], table[:, 3]


def _random_rows(seed: int, size: int = 40) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    T = rng.uniform(5.0, 60.0, size)
    x = rng.poisson(rng.gamma(0.8, 4.0, size)).astype(np.float64)
    t_x = np.where(x > 0, T * rng.uniform(0.0, 1.0, size), 0.0)
    return x, t_x, T


def _mp_likelihood(
    x: float, t_x: float, T: float, r: float, alpha: float, s: float, beta: float
) -> mpmath.mpf:
    """L from its definition: alive-at-T term plus the integral over the death time (FH-05)."""
    r, alpha, s, beta = (mpmath.mpf(v) for v in (r, alpha, s, beta))
    x, t_x, T = mpmath.mpf(x), mpmath.mpf(t_x), mpmath.mpf(T)
    front = mpmath.gamma(r + x) * alpha**r * beta**s / mpmath.gamma(r)
    alive = (alpha + T) ** (-(r + x)) * (beta + T) ** (-s)
    if t_x == T:
        return front * alive
    width = (alpha + t_x) / (r + x + 1)
    steps = (1, 5, 25, 100)
    points = [t_x, *[t_x + k * width for k in steps if t_x + k * width < T], T]
    died = s * mpmath.quad(lambda u: (alpha + u) ** (-(r + x)) * (beta + u) ** (-(s + 1)), points)
    return front * (alive + died)


def test_log_likelihood_matches_published_cdnow_value(cdnow) -> None:
    """The total log-likelihood at Fader & Hardie's CDNOW estimates is -9595.0."""
    x, t_x, T = cdnow
    total = paretonbd.log_likelihood(x, t_x, T, *CDNOW_PARAMS).sum()
    assert total == pytest.approx(-9595.0, abs=0.05)


def test_direct_maximization_reproduces_published_cdnow_estimates(cdnow) -> None:
    """Maximizing the kernel likelihood recovers r, alpha, s, beta = 0.553, 10.578, 0.606, 11.669."""
    rows, weights = np.unique(np.column_stack(cdnow), axis=0, return_counts=True)
    x, t_x, T = rows.T

    def objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        ll, grad = paretonbd.log_likelihood_and_gradient(log_params, x, t_x, T)
        return -float(weights @ ll), -(weights @ grad)

    result = minimize(objective, np.log([1.0, 5.0, 1.0, 5.0]), jac=True, method="L-BFGS-B")
    np.testing.assert_allclose(np.exp(result.x), CDNOW_PARAMS, rtol=2e-3)
    assert -result.fun == pytest.approx(-9595.0, abs=0.05)


@pytest.mark.parametrize("params", PARAM_SETS)
def test_likelihood_matches_mpmath_integral(params) -> None:
    """The hypergeometric form equals the likelihood's defining integral evaluated by mpmath."""
    x = np.array([0.0, 1.0, 4.0, 25.0, 120.0])
    t_x = np.array([0.0, 3.0, 20.0, 37.9, 38.8])
    T = np.full(5, 38.86)
    ours = paretonbd.log_likelihood(x, t_x, T, *params)
    with mpmath.workdps(30):
        expected = [
            float(mpmath.log(_mp_likelihood(*row, *params))) for row in zip(x, t_x, T, strict=True)
        ]
    np.testing.assert_allclose(ours, expected, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("params", PARAM_SETS)
def test_gradient_matches_finite_differences(params) -> None:
    """The analytic/stencil gradient agrees with central differences of the log-likelihood."""
    x, t_x, T = _random_rows(1)
    x[:3] = [500.0, 2000.0, 0.0]
    log_params = np.log(params)
    _, grad = paretonbd.log_likelihood_and_gradient(log_params, x, t_x, T)
    step = 1e-6
    for j in range(4):
        e = np.zeros(4)
        e[j] = step
        up = paretonbd.log_likelihood(x, t_x, T, *np.exp(log_params + e))
        down = paretonbd.log_likelihood(x, t_x, T, *np.exp(log_params - e))
        np.testing.assert_allclose(grad[:, j], (up - down) / (2 * step), rtol=1e-6, atol=2e-6)


def test_value_of_gradient_call_equals_log_likelihood() -> None:
    """log_likelihood_and_gradient returns the same values as log_likelihood."""
    x, t_x, T = _random_rows(2)
    ll, _ = paretonbd.log_likelihood_and_gradient(np.log(CDNOW_PARAMS), x, t_x, T)
    np.testing.assert_allclose(ll, paretonbd.log_likelihood(x, t_x, T, *CDNOW_PARAMS), rtol=1e-15)


def test_heavy_buyers_finite_and_mpmath_exact_where_lifetimes_gives_nan() -> None:
    """x = 5000 and 20000 with alpha < beta: finite values equal to mpmath's defining integral.

    (lifetimes returns NaN for these rows; mpmath's own hyp2f1 is also wrong at x = 20000, so
    the reference is the integral over the death time, not the hypergeometric form.)
    """
    params = (0.553, 1.0, 0.606, 30.0)
    x, t_x, T = np.array([5000.0, 20000.0]), np.array([38.8, 30.0]), np.array([38.86, 38.86])
    ll = paretonbd.log_likelihood(x, t_x, T, *params)
    alive = paretonbd.probability_alive(x, t_x, T, *params)
    assert np.all(np.isfinite(ll))
    with mpmath.workdps(40):
        r, alpha, s, beta = (mpmath.mpf(v) for v in params)
        for i in range(2):
            xi, Ti = mpmath.mpf(float(x[i])), mpmath.mpf(float(T[i]))
            likelihood = _mp_likelihood(float(x[i]), float(t_x[i]), float(T[i]), *params)
            alive_term = mpmath.gamma(r + xi) * alpha**r * beta**s / mpmath.gamma(r)
            alive_term *= (alpha + Ti) ** (-(r + xi)) * (beta + Ti) ** (-s)
            assert ll[i] == pytest.approx(float(mpmath.log(likelihood)), rel=1e-12)
            assert alive[i] == pytest.approx(float(alive_term / likelihood), rel=1e-8)


@pytest.mark.oracle
@pytest.mark.parametrize("params", PARAM_SETS[:4])
def test_predictions_match_lifetimes(params) -> None:
    """P(alive), conditional and unconditional expectations and the PMF agree with lifetimes."""
    import pandas as pd
    from lifetimes import ParetoNBDFitter

    fitter = ParetoNBDFitter()
    fitter.params_ = pd.Series(dict(zip(("r", "alpha", "s", "beta"), params, strict=True)))
    x, t_x, T = _random_rows(3)
    np.testing.assert_allclose(
        paretonbd.probability_alive(x, t_x, T, *params),
        fitter.conditional_probability_alive(x, t_x, T),
        rtol=1e-8,
    )
    np.testing.assert_allclose(
        paretonbd.conditional_expected_purchases(10.0, x, t_x, T, *params),
        fitter.conditional_expected_number_of_purchases_up_to_time(10.0, x, t_x, T),
        rtol=1e-8,
    )
    t = np.array([0.5, 5.0, 52.0, 200.0])
    np.testing.assert_allclose(
        paretonbd.expected_purchases(t, *params),
        fitter.expected_number_of_purchases_up_to_time(t),
        rtol=1e-10,
    )
    n = np.arange(6.0)
    expected = [
        fitter.conditional_probability_of_n_purchases_up_to_time(k, 12.0, 0, 0, 0) for k in range(6)
    ]
    np.testing.assert_allclose(
        paretonbd.probability_of_purchases(n, 12.0, *params), expected, rtol=1e-7
    )


def test_pmf_matches_mpmath_integral_and_sums_to_one() -> None:
    """P(X(t)=n) equals its integral definition, sums to 1 and has mean E[X(t)]."""
    r, alpha, s, beta = CDNOW_PARAMS
    t = 30.0
    n = np.arange(400.0)
    pmf = paretonbd.probability_of_purchases(n, t, *CDNOW_PARAMS)
    assert pmf.sum() == pytest.approx(1.0, abs=1e-9)
    assert n @ pmf == pytest.approx(
        paretonbd.expected_purchases(np.array(t), *CDNOW_PARAMS), rel=1e-6
    )
    with mpmath.workdps(30):
        for k in (0, 1, 3, 7):
            nb = mpmath.gamma(r + k) / (mpmath.gamma(r) * mpmath.factorial(k))
            alive = (
                nb * (alpha / (alpha + t)) ** r * (t / (alpha + t)) ** k * (beta / (beta + t)) ** s
            )
            died = mpmath.quad(
                lambda u, k=k, nb=nb: (
                    nb
                    * alpha**r
                    * u**k
                    / (alpha + u) ** (r + k)
                    * s
                    * beta**s
                    / (beta + u) ** (s + 1)
                ),
                [0, t],
            )
            assert pmf[k] == pytest.approx(float(alive + died), rel=1e-9)


def test_expectations_continuous_through_s_equal_one() -> None:
    """E[X(t)] and the conditional expectation use the log limit at s = 1 and are continuous there."""
    t = np.array([1.0, 10.0, 100.0])
    at_one = paretonbd.expected_purchases(t, 0.6, 10.0, 1.0, 12.0)
    assert at_one == pytest.approx(0.6 / 10.0 * 12.0 * np.log1p(t / 12.0), rel=1e-14)
    near = paretonbd.expected_purchases(t, 0.6, 10.0, 1.0 + 1e-9, 12.0)
    np.testing.assert_allclose(near, at_one, rtol=1e-8)
    x, t_x, T = np.array([3.0]), np.array([20.0]), np.array([30.0])
    cond = [
        paretonbd.conditional_expected_purchases(t, x, t_x, T, 0.6, 10.0, s, 12.0)
        for s in (1 - 1e-9, 1.0, 1 + 1e-9)
    ]
    np.testing.assert_allclose(cond[0], cond[1], rtol=1e-8)
    np.testing.assert_allclose(cond[2], cond[1], rtol=1e-8)


def test_probability_alive_at_future_time_matches_mpmath() -> None:
    """P(alive at T+t) is E[lambda^x e^(-lambda T) e^(-mu (T+t))] over the likelihood, by mpmath."""
    r, alpha, s, beta = CDNOW_PARAMS
    x, t_x, T, t = 4.0, 12.0, 38.0, 15.0
    ours = paretonbd.probability_alive_at(
        np.array(t), np.array(x), np.array(t_x), np.array(T), *CDNOW_PARAMS
    )
    with mpmath.workdps(30):
        front = mpmath.gamma(r + x) * alpha**r * beta**s / mpmath.gamma(r)
        joint = front * (alpha + T) ** (-(r + x)) * (beta + T + t) ** (-s)
        expected = joint / _mp_likelihood(x, t_x, T, *CDNOW_PARAMS)
    assert float(ours) == pytest.approx(float(expected), rel=1e-9)
    assert float(
        paretonbd.probability_alive_at(
            np.array(0.0), np.array(x), np.array(t_x), np.array(T), *CDNOW_PARAMS
        )
    ) == pytest.approx(
        float(paretonbd.probability_alive(np.array(x), np.array(t_x), np.array(T), *CDNOW_PARAMS)),
        rel=1e-15,
    )


@given(
    x=st.integers(0, 3000),
    frac=st.floats(0.0, 1.0),
    T=st.floats(0.5, 200.0),
    log_params=st.tuples(*[st.floats(-3.0, 3.0)] * 4),
)
def test_probabilities_bounded_and_expectation_monotone(x, frac, T, log_params) -> None:
    """P(alive) stays in [0, 1] and the conditional expectation is finite and non-decreasing in t."""
    params = tuple(float(v) for v in np.exp(log_params))
    xs, txs, Ts = np.array([float(x)]), np.array([T * frac if x > 0 else 0.0]), np.array([T])
    alive = paretonbd.probability_alive(xs, txs, Ts, *params)
    assert np.all((alive >= 0) & (alive <= 1))
    cet = paretonbd.conditional_expected_purchases(
        np.array([1.0, 10.0, 100.0]), xs, txs, Ts, *params
    )
    assert np.all(np.isfinite(cet))
    assert np.all(np.diff(cet) >= -1e-12 * cet[1:])


@pytest.mark.oracle
def test_lifetimes_is_not_finite_on_the_heavy_buyer_rows() -> None:
    """Documents the motivating failure: lifetimes' likelihood is NaN where ours is finite."""
    from lifetimes import ParetoNBDFitter

    params = [0.553, 1.0, 0.606, 30.0]
    x, t_x, T = np.array([5000.0]), np.array([38.8]), np.array([38.86])
    with np.errstate(all="ignore"):
        theirs = ParetoNBDFitter._conditional_log_likelihood(params, x, t_x, T)
    assert not np.all(np.isfinite(theirs))
    assert np.all(np.isfinite(paretonbd.log_likelihood(x, t_x, T, *params)))


@pytest.mark.parametrize("params", [(0.5, 1e6, 0.5, 1e-6), (0.5, 1e-3, 0.5, 1e4)])
def test_extreme_scale_ratios_match_mpmath_and_keep_pmf_a_probability(params) -> None:
    """With alpha/beta = 1e12 or 1e-7 (argument of 2F1 within 1e-12 of 1) values stay exact."""
    x = np.array([0.0, 2.0, 30.0])
    t_x = np.array([0.0, 5.0, 30.0])
    T = np.full(3, 39.0)
    ours = paretonbd.log_likelihood(x, t_x, T, *params)
    with mpmath.workdps(40):
        expected = [
            float(mpmath.log(_mp_likelihood(*row, *params))) for row in zip(x, t_x, T, strict=True)
        ]
    np.testing.assert_allclose(ours, expected, rtol=1e-9, atol=1e-10)
    pmf = paretonbd.probability_of_purchases(np.arange(3.0), 10.0, *params)
    assert np.all((pmf >= 0) & (pmf <= 1))
    assert pmf.sum() <= 1 + 1e-12
