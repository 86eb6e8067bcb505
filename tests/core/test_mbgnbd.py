"""Tests of the MBG/NBD kernels against published estimates, mpmath and lifetimes."""

from __future__ import annotations

import functools
import gzip
from pathlib import Path

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize

from relmark.core import mbgnbd

DATA = Path(__file__).parents[2] / "src" / "relmark" / "datasets" / "_data"
CDNOW_PARAMS = (0.525, 6.183, 0.891, 1.614)
PARAM_SETS = [
    CDNOW_PARAMS,
    (0.243, 4.414, 0.793, 2.426),
    (2.0, 10.0, 3.5, 8.0),
    (0.7, 2.0, 1.4, 0.3),
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


def _mp_beta_mean(f, a: float, b: float) -> mpmath.mpf:
    """E[f(p)] for p ~ Beta(a, b), by mpmath quadrature."""
    a, b = mpmath.mpf(a), mpmath.mpf(b)
    density = lambda p: p ** (a - 1) * (1 - p) ** (b - 1) / mpmath.beta(a, b)  # noqa: E731
    return mpmath.quad(lambda p: f(p) * density(p), [0, 0.5, 1])


def _mp_gamma_laplace(r: float, alpha: float, x: mpmath.mpf, t: mpmath.mpf) -> mpmath.mpf:
    """E[lambda^x e^(-lambda t)] for lambda ~ Gamma(r, alpha), a closed gamma integral."""
    return mpmath.gamma(r + x) * alpha**r / (mpmath.gamma(r) * (alpha + t) ** (r + x))


def test_direct_maximization_reproduces_published_cdnow_estimates(cdnow) -> None:
    """Maximizing the kernel likelihood recovers r, alpha, a, b = 0.525, 6.183, 0.891, 1.614."""
    x, t_x, T = cdnow

    def objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        ll, grad = mbgnbd.log_likelihood_and_gradient(log_params, x, t_x, T)
        return -float(ll.sum()), -grad.sum(axis=0)

    result = minimize(objective, np.zeros(4), jac=True, method="L-BFGS-B")
    np.testing.assert_allclose(np.exp(result.x), CDNOW_PARAMS, rtol=2e-3)


def test_likelihood_matches_mpmath_double_integral() -> None:
    """BDF's closed form equals the mixture of the (lambda, p)-conditional likelihood by mpmath."""
    r, alpha, a, b = CDNOW_PARAMS
    x = np.array([0.0, 1.0, 6.0])
    t_x = np.array([0.0, 10.0, 30.0])
    T = np.array([38.0, 38.0, 38.0])
    ours = mbgnbd.log_likelihood(x, t_x, T, *CDNOW_PARAMS)
    with mpmath.workdps(25):
        for i in range(3):
            xi, txi, Ti = (mpmath.mpf(float(v[i])) for v in (x, t_x, T))
            lam = functools.partial(_mp_gamma_laplace, r, alpha, xi)
            expected = _mp_beta_mean(
                lambda p, xi=xi, txi=txi, Ti=Ti, lam=lam: (
                    (1 - p) ** (xi + 1) * lam(Ti) + p * (1 - p) ** xi * lam(txi)
                ),
                a,
                b,
            )
            assert ours[i] == pytest.approx(float(mpmath.log(expected)), rel=1e-10)


@pytest.mark.parametrize("params", PARAM_SETS)
def test_gradient_matches_finite_differences(params) -> None:
    """The analytic gradient agrees with central differences of the log-likelihood."""
    x, t_x, T = _random_rows(1)
    x[:2] = [3000.0, 0.0]
    log_params = np.log(params)
    ll, grad = mbgnbd.log_likelihood_and_gradient(log_params, x, t_x, T)
    np.testing.assert_allclose(ll, mbgnbd.log_likelihood(x, t_x, T, *params), rtol=1e-13)
    step = 1e-6
    for j in range(4):
        e = np.zeros(4)
        e[j] = step
        up = mbgnbd.log_likelihood(x, t_x, T, *np.exp(log_params + e))
        down = mbgnbd.log_likelihood(x, t_x, T, *np.exp(log_params - e))
        # Central differences of a log-likelihood of size |ll| carry rounding error ~eps |ll| / step.
        numeric = (up - down) / (2 * step)
        assert np.all(
            np.abs(grad[:, j] - numeric) <= 1e-6 * (1.0 + np.abs(numeric)) + 1e-9 * np.abs(ll)
        )


@pytest.mark.oracle
@pytest.mark.parametrize("params", PARAM_SETS)
def test_predictions_match_lifetimes(params) -> None:
    """P(alive), conditional and unconditional expectations and the PMF agree with lifetimes."""
    import pandas as pd
    from lifetimes import ModifiedBetaGeoFitter

    fitter = ModifiedBetaGeoFitter()
    fitter.params_ = pd.Series(dict(zip(("r", "alpha", "a", "b"), params, strict=True)))
    x, t_x, T = _random_rows(3)
    np.testing.assert_allclose(
        mbgnbd.probability_alive(x, t_x, T, *params),
        fitter.conditional_probability_alive(x, t_x, T),
        rtol=1e-10,
    )
    np.testing.assert_allclose(
        mbgnbd.conditional_expected_purchases(10.0, x, t_x, T, *params),
        fitter.conditional_expected_number_of_purchases_up_to_time(10.0, x, t_x, T),
        rtol=1e-8,
    )
    t = np.array([0.5, 5.0, 52.0])
    np.testing.assert_allclose(
        mbgnbd.expected_purchases(t, *params),
        fitter.expected_number_of_purchases_up_to_time(t),
        rtol=1e-8,
    )
    expected = [fitter.probability_of_n_purchases_up_to_time(12.0, k) for k in range(6)]
    np.testing.assert_allclose(
        mbgnbd.probability_of_purchases(np.arange(6.0), 12.0, *params), expected, rtol=1e-8
    )


def test_pmf_sums_to_one_with_mean_equal_to_expectation() -> None:
    """P(X(t)=n) sums to 1 and its mean is E[X(t)] (two independent formulas)."""
    n = np.arange(600.0)
    for params in PARAM_SETS:
        pmf = mbgnbd.probability_of_purchases(n, 20.0, *params)
        assert pmf.sum() == pytest.approx(1.0, abs=1e-9)
        assert n @ pmf == pytest.approx(
            float(mbgnbd.expected_purchases(np.array(20.0), *params)), rel=1e-7
        )


def test_expected_purchases_for_a_below_one_matches_mpmath() -> None:
    """For a < 1 (outside Pfaff's form) E[X(t)] equals E[(1-p)/p (1-(alpha/(alpha+pt))^r)] by mpmath."""
    r, alpha, a, b = 0.7, 2.0, 0.6, 0.3
    t = 15.0
    ours = float(mbgnbd.expected_purchases(np.array(t), r, alpha, a, b))
    with mpmath.workdps(25):
        expected = _mp_beta_mean(lambda p: (1 - p) / p * (1 - (alpha / (alpha + p * t)) ** r), a, b)
    assert ours == pytest.approx(float(expected), rel=1e-9)


def test_expectations_continuous_through_a_equal_one() -> None:
    """The removable singularity at a = 1 is bridged: the value at 1 is the mean of its neighbours."""
    t = np.array([1.0, 10.0, 100.0])
    at_one = mbgnbd.expected_purchases(t, 0.5, 6.0, 1.0, 1.6)
    below = mbgnbd.expected_purchases(t, 0.5, 6.0, 1.0 - 1e-4, 1.6)
    above = mbgnbd.expected_purchases(t, 0.5, 6.0, 1.0 + 1e-4, 1.6)
    np.testing.assert_allclose(at_one, (below + above) / 2, rtol=1e-7)
    cond = [
        mbgnbd.conditional_expected_purchases(t, 2.0, 10.0, 30.0, 0.5, 6.0, a, 1.6)
        for a in (1.0 - 1e-4, 1.0, 1.0 + 1e-4)
    ]
    np.testing.assert_allclose(cond[1], (cond[0] + cond[2]) / 2, rtol=1e-7)


def test_probability_alive_at_future_time_matches_mpmath() -> None:
    """P(alive at T+t) is P(alive) times E[(1 + p t/(alpha+T))^-(r+x)] under Beta(a, b+x+1)."""
    r, alpha, a, b = CDNOW_PARAMS
    x, t_x, T, t = 3.0, 20.0, 38.0, 25.0
    args = (np.array(x), np.array(t_x), np.array(T))
    ours = float(mbgnbd.probability_alive_at(np.array(t), *args, *CDNOW_PARAMS))
    alive = float(mbgnbd.probability_alive(*args, *CDNOW_PARAMS))
    with mpmath.workdps(25):
        factor = _mp_beta_mean(lambda p: (1 + p * t / (alpha + T)) ** (-(r + x)), a, b + x + 1)
    assert ours == pytest.approx(alive * float(factor), rel=1e-9)


def test_zero_repeat_customer_may_already_be_gone() -> None:
    """Unlike the BG/NBD, P(alive | x = 0) < 1: b/(a+b) at T = 0 (time-0 dropout), falling with T."""
    alive = mbgnbd.probability_alive(
        np.zeros(3), np.zeros(3), np.array([0.0, 5.0, 50.0]), *CDNOW_PARAMS
    )
    _, _, a, b = CDNOW_PARAMS
    assert alive[0] == pytest.approx(b / (a + b), rel=1e-14)
    assert alive[0] > alive[1] > alive[2] > 0


@given(
    x=st.integers(0, 5000),
    frac=st.floats(0.0, 1.0),
    T=st.floats(0.5, 200.0),
    log_params=st.tuples(*[st.floats(-3.0, 3.0)] * 4),
)
def test_probabilities_bounded_and_expectation_monotone(x, frac, T, log_params) -> None:
    """P(alive) stays in [0, 1] and the conditional expectation is finite and non-decreasing in t."""
    params = tuple(float(v) for v in np.exp(log_params))
    xs, txs, Ts = np.array([float(x)]), np.array([T * frac if x > 0 else 0.0]), np.array([T])
    alive = mbgnbd.probability_alive(xs, txs, Ts, *params)
    assert np.all((alive >= 0) & (alive <= 1))
    cet = mbgnbd.conditional_expected_purchases(np.array([1.0, 10.0, 100.0]), xs, txs, Ts, *params)
    assert np.all(np.isfinite(cet))
    assert np.all(np.diff(cet) >= -1e-9 * cet[1:])


# Rows and parameter vectors at the edges of the kernel's branches: a within the bridge of a = 1,
# a > 2 (its own series test), a < 1 (the power-and-series form), extreme values.
STACK_ROWS = np.array(
    [
        (0.0, 0.0, 0.0),
        (0.0, 0.0, 70.0),
        (1.0, 0.5, 70.0),
        (40.0, 70.0, 70.0),
        (300.0, 70.5, 71.0),
        (2.0, 1.0, 1e4),
        (1e4, 9e3, 1e4),
        (5.0, 38.0, 39.0),
    ]
)
STACK_PARAMS = np.array(
    [
        *PARAM_SETS,
        (0.525, 6.18, 1.04, 1.61),
        (0.4, 2.0, 0.95, 0.02),
        (0.525, 6.18, 2.9, 1.61),
        (1e-3, 0.7, 1e3, 1e-3),
        (0.7, 1e-3, 1e-3, 0.7),
    ]
)


def test_stacked_expectation_equals_the_per_vector_kernel() -> None:
    """All parameter vectors at once give each vector's conditional_expected_purchases (1e-13)."""
    x, t_x, T = (STACK_ROWS[:, [k]] for k in range(3))
    horizons = np.array([[0.5, 30.0, 1e4]])
    stacked = mbgnbd.conditional_expected_purchases_stacked(horizons, x, t_x, T, STACK_PARAMS)
    assert stacked.shape == (len(STACK_ROWS), 3, len(STACK_PARAMS))
    for b, params in enumerate(STACK_PARAMS.tolist()):
        one = mbgnbd.conditional_expected_purchases(horizons, x, t_x, T, *params)
        np.testing.assert_allclose(stacked[..., b], one, rtol=1e-13, atol=0, equal_nan=True)
    assert np.isfinite(stacked).mean() > 0.9


@settings(max_examples=25, deadline=None)
@given(
    log_params=st.lists(
        st.tuples(*(st.floats(min_value=-4.0, max_value=4.0) for _ in range(4))),
        min_size=1,
        max_size=6,
    ),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
)
def test_stacked_expectation_equals_per_vector_on_random_vectors(log_params, seed) -> None:
    """For random parameter vectors and histories the stacked kernel is each vector's (1e-13)."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 60, 40).astype(float)
    T = rng.choice([1.0, 30.0, 400.0, 3e3], 40) * rng.uniform(0.5, 1.0, 40)
    t_x = T * rng.uniform(0.0, 1.0, 40) * (x > 0)
    params = np.exp(np.array(log_params))
    stacked = mbgnbd.conditional_expected_purchases_stacked(np.asarray(52.0), x, t_x, T, params)
    for b, vector in enumerate(params.tolist()):
        one = mbgnbd.conditional_expected_purchases(np.asarray(52.0), x, t_x, T, *vector)
        np.testing.assert_allclose(stacked[:, b], one, rtol=1e-13, atol=0, equal_nan=True)
