"""Tests of the BG/BB kernels against the published donations fit, mpmath and lifetimes."""

from __future__ import annotations

from math import comb
from pathlib import Path

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.optimize import minimize

from relmark.core import bgbb

DATA = Path(__file__).parents[2] / "src" / "relmark" / "datasets" / "_data"
DONATION_PARAMS = (1.204, 0.750, 0.657, 2.783)
PARAM_SETS = [DONATION_PARAMS, (0.5, 3.0, 2.5, 1.2), (8.0, 2.0, 0.2, 9.0)]


@pytest.fixture(scope="module")
def donations() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    table = np.loadtxt(DATA / "donations.csv", delimiter=",", skiprows=1)
    return table[:, 0], table[:, 1], table[:, 2], table[:, 3]


def _patterns(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every (x, t_x) pattern for n opportunities, with the number of 0/1 sequences behind it."""
    x, t_x, count = [0.0], [0.0], [1.0]
    for last in range(1, n + 1):
        for k in range(1, last + 1):
            x.append(float(k))
            t_x.append(float(last))
            count.append(float(comb(last - 1, k - 1)))
    return np.array(x), np.array(t_x), np.full(len(x), float(n)), np.array(count)


def test_direct_maximization_reproduces_published_donations_estimates(donations) -> None:
    """Maximizing the kernel likelihood recovers FHS's donation estimates and LL = -33,225.6."""
    x, t_x, n, weights = donations

    def objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        ll, grad = bgbb.log_likelihood_and_gradient(log_params, x, t_x, n)
        return -float(weights @ ll), -(weights @ grad)

    result = minimize(objective, np.zeros(4), jac=True, method="L-BFGS-B")
    np.testing.assert_allclose(np.exp(result.x), DONATION_PARAMS, rtol=2e-3)
    assert -result.fun == pytest.approx(-33225.6, abs=0.05)


@pytest.mark.parametrize("params", PARAM_SETS)
def test_likelihood_of_all_sequences_sums_to_one(params) -> None:
    """Summed over every 0/1 purchase sequence of n opportunities, the likelihood totals 1."""
    for n in (1, 4, 9):
        x, t_x, periods, count = _patterns(n)
        assert count @ np.exp(bgbb.log_likelihood(x, t_x, periods, *params)) == pytest.approx(
            1.0, abs=1e-12
        )


@pytest.mark.parametrize("params", PARAM_SETS)
def test_gradient_matches_finite_differences(params) -> None:
    """The analytic gradient agrees with central differences of the log-likelihood."""
    x, t_x, n, _ = _patterns(7)
    log_params = np.log(params)
    ll, grad = bgbb.log_likelihood_and_gradient(log_params, x, t_x, n)
    np.testing.assert_allclose(ll, bgbb.log_likelihood(x, t_x, n, *params), rtol=1e-13)
    step = 1e-6
    for j in range(4):
        e = np.zeros(4)
        e[j] = step
        up = bgbb.log_likelihood(x, t_x, n, *np.exp(log_params + e))
        down = bgbb.log_likelihood(x, t_x, n, *np.exp(log_params - e))
        np.testing.assert_allclose(grad[:, j], (up - down) / (2 * step), rtol=1e-6, atol=1e-7)


@pytest.mark.oracle
@pytest.mark.parametrize("params", PARAM_SETS)
def test_likelihood_and_predictions_match_lifetimes(params) -> None:
    """Likelihood, P(alive in n+m), conditional expectation and expected counts agree with lifetimes."""
    import pandas as pd
    from lifetimes import BetaGeoBetaBinomFitter

    fitter = BetaGeoBetaBinomFitter()
    fitter.params_ = pd.Series(dict(zip(("alpha", "beta", "gamma", "delta"), params, strict=True)))
    x, t_x, n, _ = _patterns(6)
    np.testing.assert_allclose(
        bgbb.log_likelihood(x, t_x, n, *params),
        BetaGeoBetaBinomFitter._loglikelihood(params, x, t_x, n),
        rtol=1e-9,
    )
    for m in (1.0, 3.0):
        np.testing.assert_allclose(
            bgbb.probability_alive(m, x, t_x, n, *params),
            fitter.conditional_probability_alive(m, x, t_x, n),
            rtol=1e-10,
        )
    np.testing.assert_allclose(
        bgbb.conditional_expected_transactions(5.0, x, t_x, n, *params),
        fitter.conditional_expected_number_of_purchases_up_to_time(5.0, x, t_x, n),
        rtol=1e-10,
    )
    fitter.data = pd.DataFrame({"frequency": np.arange(7), "weights": np.full(7, 100.0)})
    expected = fitter.expected_number_of_transactions_in_first_n_periods(6)["model"].to_numpy()
    ours = 700.0 * bgbb.probability_of_transactions(np.arange(7.0), 6.0, *params)
    np.testing.assert_allclose(ours, expected, rtol=1e-10)


@pytest.mark.parametrize("params", PARAM_SETS)
def test_pmf_sums_to_one_with_mean_equal_to_expectation(params) -> None:
    """P(X(n)=x) (eq. 7) sums to 1 over x and its mean is the closed-form E[X(n)], two separate formulas."""
    for n in (1.0, 6.0, 25.0):
        x = np.arange(n + 1)
        pmf = bgbb.probability_of_transactions(x, n, *params)
        assert pmf.sum() == pytest.approx(1.0, abs=1e-12)
        assert x @ pmf == pytest.approx(
            float(bgbb.expected_transactions(np.array(n), *params)), rel=1e-10
        )


def test_expectation_continuous_through_gamma_equal_one() -> None:
    """Near and at gamma = 1 (a 0/0 in the closed form) E[X(n)] matches mpmath's high-precision value."""
    alpha, beta, delta, n = 1.2, 0.75, 2.8, 10.0

    def reference(gamma: mpmath.mpf) -> mpmath.mpf:
        delta_, n_ = mpmath.mpf(delta), mpmath.mpf(n)
        front = alpha / (alpha + beta) * delta / (gamma - 1)
        ratio = mpmath.gamma(gamma + delta_) * mpmath.gamma(1 + delta_ + n_)
        ratio /= mpmath.gamma(gamma + delta_ + n_) * mpmath.gamma(1 + delta_)
        return front * (1 - ratio)

    with mpmath.workdps(60):
        for gamma in (1.0 - 3e-6, 1.0, 1.0 + 1e-9, 1.0 + 2e-5, 1.3):
            exact = reference(mpmath.mpf(gamma) + (mpmath.mpf(10) ** -40 if gamma == 1.0 else 0))
            ours = float(bgbb.expected_transactions(np.array(n), alpha, beta, gamma, delta))
            assert ours == pytest.approx(float(exact), rel=1e-9)


def test_probability_alive_without_history_is_survival_of_the_death_draws() -> None:
    """With no history (n = 0): alive "in period 0" surely, in period 1 with probability E[1 - theta]."""
    _, _, gamma, delta = DONATION_PARAMS
    zero = np.zeros(1)
    assert bgbb.probability_alive(np.array([0.0]), zero, zero, zero, *DONATION_PARAMS)[
        0
    ] == pytest.approx(1.0)
    got = bgbb.probability_alive(np.array([1.0]), zero, zero, zero, *DONATION_PARAMS)[0]
    assert got == pytest.approx(delta / (gamma + delta), rel=1e-14)


@given(
    n=st.integers(1, 60),
    data=st.data(),
    log_params=st.tuples(*[st.floats(-3.0, 3.0)] * 4),
)
def test_probability_bounded_and_expectation_monotone(n, data, log_params) -> None:
    """P(alive) is in [0, 1] and the conditional expectation is non-decreasing in n*."""
    params = tuple(float(v) for v in np.exp(log_params))
    t_x = data.draw(st.integers(0, n))
    x = data.draw(st.integers(1, t_x)) if t_x > 0 else 0
    args = (np.array([float(x)]), np.array([float(t_x)]), np.array([float(n)]))
    alive = bgbb.probability_alive(np.array([1.0]), *args, *params)
    assert np.all((alive >= 0) & (alive <= 1 + 1e-12))
    cet = bgbb.conditional_expected_transactions(np.array([1.0, 5.0, 50.0]), *args, *params)
    assert np.all(np.isfinite(cet))
    assert np.all(np.diff(cet) >= -1e-12 * cet[1:])


def _mp_conditional_expectation(n_star, x, t_x, n, alpha, beta, gamma, delta) -> mpmath.mpf:
    """FHS eq. (13) with every gamma function in mpmath (60 digits)."""
    a, b, g, d = (mpmath.mpf(v) for v in (alpha, beta, gamma, delta))

    def log_beta(p: mpmath.mpf, q: mpmath.mpf) -> mpmath.mpf:
        return mpmath.loggamma(p) + mpmath.loggamma(q) - mpmath.loggamma(p + q)

    alive = log_beta(a + x, b + n - x) + log_beta(g, d + n)
    terms = [alive] + [
        log_beta(a + x, b + t_x - x + i) + log_beta(g + 1, d + t_x + i) for i in range(n - t_x)
    ]
    likelihood = sum(mpmath.exp(t) for t in terms)  # common 1/B(alpha,beta)B(gamma,delta) cancels
    front = mpmath.exp(log_beta(a + x + 1, b + n - x) + log_beta(g, d)) * d
    if g == 1:
        survival = mpmath.digamma(1 + d + n + n_star) - mpmath.digamma(1 + d + n)
    else:
        ratio = lambda s: mpmath.exp(mpmath.loggamma(1 + d + s) - mpmath.loggamma(g + d + s))  # noqa: E731
        survival = (ratio(n) - ratio(n + n_star)) / (g - 1)
    return front * mpmath.gamma(g + d) / mpmath.gamma(1 + d) * survival / likelihood


@pytest.mark.parametrize(
    "gamma_offset", [0.0, 1e-12, -1e-9, 3e-7, -1e-5, 2e-5, -1e-4, 1e-3, 0.05, -0.3, 0.5, 0.7]
)
def test_conditional_expectation_sweeps_gamma_equal_one_within_1e8(gamma_offset) -> None:
    """Eq. (13) through gamma = 1 (a 0/0) and its cancelling neighbourhood: 1e-8 against mpmath."""
    alpha, beta, delta = 1.2, 0.75, 2.8
    gamma = 1.0 + gamma_offset
    cases = [(1, 1, 1, 6), (10, 3, 8, 10), (52, 20, 30, 30), (5, 0, 0, 12), (1, 40, 150, 200)]
    with mpmath.workdps(60):
        for n_star, x, t_x, n in cases:
            want = _mp_conditional_expectation(n_star, x, t_x, n, alpha, beta, gamma, delta)
            got = bgbb.conditional_expected_transactions(
                np.array([float(n_star)]),
                np.array([float(x)]),
                np.array([float(t_x)]),
                np.array([float(n)]),
                alpha,
                beta,
                gamma,
                delta,
            )[0]
            assert got == pytest.approx(float(want), rel=1e-8), (n_star, x, t_x, n)


def test_probability_alive_never_exceeds_one_where_it_used_to() -> None:
    """A row whose alive term dominates (t_x = n) gave 1 + 1.4e-14; the log is now capped at 0."""
    params = (5.113575528158184, 45.43431596821126, 30.424016785508506, 30.408063418649114)
    alive = bgbb.probability_alive(
        np.zeros(1), np.array([3.0]), np.array([5.0]), np.array([5.0]), *params
    )
    assert alive[0] == 1.0


@given(
    n=st.integers(1, 60),
    data=st.data(),
    log_params=st.tuples(*[st.floats(-4.0, 4.0)] * 4),
    m=st.integers(0, 20),
)
def test_probability_alive_is_at_most_one_exactly(n, data, log_params, m) -> None:
    """P(alive in n + m) lies in [0, 1] with no tolerance for any pattern and parameters."""
    params = tuple(float(v) for v in np.exp(log_params))
    t_x = data.draw(st.integers(0, n))
    x = data.draw(st.integers(1, t_x)) if t_x > 0 else 0
    args = (np.array([float(x)]), np.array([float(t_x)]), np.array([float(n)]))
    alive = bgbb.probability_alive(np.array([float(m)]), *args, *params)
    assert np.all((alive >= 0.0) & (alive <= 1.0))
