"""Tests of the shifted-beta-geometric kernels against Fader & Hardie (2007), mpmath and direct sums."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.optimize import minimize

from relmark.core import sbg

# Fader & Hardie (2007), survivors per 1,000 customers over 7 years, and their published fits.
REGULAR = np.array([1000, 631, 468, 382, 326, 289, 262, 241], dtype=np.float64)
HIGH_END = np.array([1000, 869, 743, 653, 593, 551, 517, 491], dtype=np.float64)
CASES = [(REGULAR, (0.704, 1.182)), (HIGH_END, (0.668, 3.806))]


def _fit(t: np.ndarray, churned: np.ndarray, weights: np.ndarray) -> np.ndarray:
    def objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        ll, grad = sbg.log_likelihood_and_gradient(log_params, t, churned)
        return -float(weights @ ll), -(weights @ grad)

    result = minimize(objective, np.zeros(2), jac=True, method="L-BFGS-B")
    return np.exp(result.x)


@pytest.mark.parametrize(("survivors", "published"), CASES)
def test_cohort_fit_reproduces_published_estimates(survivors, published) -> None:
    """Maximizing the cohort likelihood recovers FH-07's alpha and beta for both segments."""
    np.testing.assert_allclose(_fit(*sbg.cohort_rows(survivors)), published, rtol=2e-3)


def test_individual_rows_give_the_same_fit_as_the_cohort() -> None:
    """One row per customer (periods observed, churned flag) gives the cohort estimates."""
    t, churned, weights = sbg.cohort_rows(REGULAR)
    counts = weights.astype(np.int64)
    individual_t, individual_churned = np.repeat(t, counts), np.repeat(churned, counts)
    assert individual_t.size == 1000
    np.testing.assert_allclose(
        _fit(individual_t, individual_churned, np.ones(1000)), _fit(t, churned, weights), rtol=1e-6
    )


def test_cohort_rows_split_churners_and_survivors() -> None:
    """Churners per period are successive differences; the last survivors are censored."""
    t, churned, weights = sbg.cohort_rows(REGULAR)
    np.testing.assert_array_equal(t, [1, 2, 3, 4, 5, 6, 7, 7])
    np.testing.assert_array_equal(churned, [1, 1, 1, 1, 1, 1, 1, 0])
    np.testing.assert_array_equal(weights, [369, 163, 86, 56, 37, 27, 21, 241])


@pytest.mark.parametrize("params", [(0.704, 1.182), (0.668, 3.806), (3.0, 0.4)])
def test_gradient_matches_finite_differences(params) -> None:
    """The analytic gradient agrees with central differences, for churned and censored rows."""
    t = np.array([1.0, 2.0, 7.0, 40.0, 0.0, 3.0, 40.0])
    churned = np.array([1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0])
    log_params = np.log(params)
    _, grad = sbg.log_likelihood_and_gradient(log_params, t, churned)
    step = 1e-6
    for j in range(2):
        e = np.zeros(2)
        e[j] = step
        up = sbg.log_likelihood(t, churned, *np.exp(log_params + e))
        down = sbg.log_likelihood(t, churned, *np.exp(log_params - e))
        np.testing.assert_allclose(grad[:, j], (up - down) / (2 * step), rtol=1e-7, atol=1e-8)


def test_probabilities_match_mpmath_mixture() -> None:
    """P(T=t) and S(t) equal E[theta (1-theta)^(t-1)] and E[(1-theta)^t] under Beta by mpmath."""
    alpha, beta = 0.704, 1.182
    t = np.array([1.0, 2.0, 5.0, 12.0])
    with mpmath.workdps(30):
        density = lambda q: q ** (alpha - 1) * (1 - q) ** (beta - 1) / mpmath.beta(alpha, beta)  # noqa: E731
        churn = [mpmath.quad(lambda q, k=k: q * (1 - q) ** (k - 1) * density(q), [0, 1]) for k in t]
        surv = [mpmath.quad(lambda q, k=k: (1 - q) ** k * density(q), [0, 1]) for k in t]
    np.testing.assert_allclose(
        sbg.churn_probability(t, alpha, beta), [float(v) for v in churn], rtol=1e-12
    )
    np.testing.assert_allclose(sbg.survival(t, alpha, beta), [float(v) for v in surv], rtol=1e-12)


def test_published_retention_curve_fits_the_regular_data() -> None:
    """With FH-07's estimates the projected survivors track the observed ones within 1% of the cohort."""
    projected = 1000.0 * sbg.survival(np.arange(8.0), 0.704, 1.182)
    assert np.max(np.abs(projected - REGULAR)) < 10.0


def test_retention_rate_is_ratio_of_survival_and_churn_completes_it() -> None:
    """r_t = S(t)/S(t-1), and S(t) + sum of P(T=k) for k <= t equals 1."""
    alpha, beta = 0.668, 3.806
    t = np.arange(1.0, 30.0)
    s = sbg.survival(np.arange(0.0, 30.0), alpha, beta)
    np.testing.assert_allclose(sbg.retention_rate(t, alpha, beta), s[1:] / s[:-1], rtol=1e-13)
    np.testing.assert_allclose(
        np.cumsum(sbg.churn_probability(t, alpha, beta)) + s[1:], 1.0, rtol=1e-13
    )


def test_expected_lifetime_matches_sum_of_survival() -> None:
    """E[T] = sum of S(t) over t >= 0 for alpha > 1, and is infinite for alpha <= 1."""
    alpha, beta = 3.0, 0.4
    with mpmath.workdps(30):
        total = mpmath.nsum(
            lambda k: mpmath.beta(alpha, beta + k) / mpmath.beta(alpha, beta), [0, mpmath.inf]
        )
    assert sbg.expected_lifetime(alpha, beta) == pytest.approx(float(total), rel=1e-10)
    assert sbg.expected_lifetime(0.704, 1.182) == float("inf")


@pytest.mark.parametrize("params", [(0.704, 1.182), (0.668, 3.806), (3.0, 0.4)])
def test_derl_matches_direct_discounted_sum(params) -> None:
    """DERL (FH-10 eq. 6) equals the sum of S(t)/S(n-1)/(1+d)^(t-n) over t >= n."""
    alpha, beta = params
    d = 0.1
    n = np.array([1.0, 2.0, 5.0, 20.0])
    ours = sbg.discounted_expected_residual_lifetime(n, d, alpha, beta)
    for i, k in enumerate(n):
        t = np.arange(k, k + 2000.0)
        direct = np.sum(
            sbg.survival(t, alpha, beta) / sbg.survival(k - 1.0, alpha, beta) / (1.0 + d) ** (t - k)
        )
        assert ours[i] == pytest.approx(direct, rel=1e-12)


def test_derl_grows_with_tenure() -> None:
    """The longer a customer has stayed, the larger the residual value (the sorting effect of FH-10)."""
    derl = sbg.discounted_expected_residual_lifetime(np.arange(1.0, 12.0), 0.1, 0.704, 1.182)
    assert np.all(np.diff(derl) > 0)


@given(log_params=st.tuples(st.floats(-4.0, 4.0), st.floats(-4.0, 4.0)))
def test_survival_decreasing_and_retention_increasing(log_params) -> None:
    """S(t) decreases from 1, r_t increases, and both stay in [0, 1]."""
    alpha, beta = (float(v) for v in np.exp(log_params))
    t = np.arange(0.0, 50.0)
    s = sbg.survival(t, alpha, beta)
    assert s[0] == pytest.approx(1.0)
    assert np.all(np.diff(s) <= 0)
    r = sbg.retention_rate(t[1:], alpha, beta)
    assert np.all((r >= 0) & (r <= 1))
    assert np.all(np.diff(r) >= 0)
