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
from scipy.special import gammaln

from relmark.core import paretonbd
from relmark.core.special import log_hyp2f1

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


def _log_likelihood_2f1(
    x: np.ndarray, t_x: np.ndarray, T: np.ndarray, r: float, alpha: float, s: float, beta: float
) -> np.ndarray:
    r"""Reference: the hypergeometric form of FH-05 §3 (relmark's previous kernel), in logs.

    The death integral is $[G(t_x) - G(T)]/(r+s+x)$ with, for $\alpha \ge \beta$,
    $G(t) = (\alpha+t)^{-(r+s+x)}\,{}_2F_1(r+s+x, s+1; r+s+x+1; \frac{\alpha-\beta}{\alpha+t})$
    (mirrored with $\beta$ otherwise), each ${}_2F_1$ from ``log_hyp2f1``.
    """
    a = r + s + x

    def log_g(t: np.ndarray) -> np.ndarray:
        if alpha >= beta:
            base, b = alpha + t, np.full_like(t, s + 1.0)
            log1m_z = np.log(beta + t) - np.log(base)
            z = (alpha - beta) / base
        else:
            base, b = beta + t, r + x + np.zeros_like(t)
            log1m_z = np.log(alpha + t) - np.log(base)
            z = (beta - alpha) / base
        return -a * np.log(base) + log_hyp2f1(a, b, a + 1.0, z, log1m_z=log1m_z)

    upper, lower = log_g(t_x), log_g(T)
    with np.errstate(divide="ignore"):
        log_integral = upper + np.log(-np.expm1(np.minimum(lower - upper, 0.0))) - np.log(a)
    died = np.where(t_x < T, np.log(s) + log_integral, -np.inf)
    alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    front = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    return front + np.logaddexp(alive, died)


def _mp_log_likelihood_2f1(
    x: float, t_x: float, T: float, r: float, alpha: float, s: float, beta: float
) -> float:
    """The hypergeometric form evaluated by mpmath at 60 digits (cancellation-free at that precision)."""
    with mpmath.workdps(60):
        r, alpha, s, beta, x, t_x, T = (mpmath.mpf(v) for v in (r, alpha, s, beta, x, t_x, T))
        a = r + s + x

        def g(t: mpmath.mpf) -> mpmath.mpf:
            if alpha >= beta:
                return (alpha + t) ** (-a) * mpmath.hyp2f1(
                    a, s + 1, a + 1, (alpha - beta) / (alpha + t)
                )
            return (beta + t) ** (-a) * mpmath.hyp2f1(a, r + x, a + 1, (beta - alpha) / (beta + t))

        alive = (alpha + T) ** (-(r + x)) * (beta + T) ** (-s)
        front = mpmath.gamma(r + x) * alpha**r * beta**s / mpmath.gamma(r)
        return float(mpmath.log(front * (alive + s * (g(t_x) - g(T)) / a)))


def _wide_grid(seed: int, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows with x from 0 to 20,000, T from 0.5 to 1,000 and t_x at 0, T, and just off either."""
    rng = np.random.default_rng(seed)
    T = np.exp(rng.uniform(np.log(0.5), np.log(1000.0), size))
    x = rng.choice([0, 1, 2, 3, 5, 10, 30, 100, 1000, 20000], size).astype(np.float64)
    frac = rng.choice([0.0, 1e-9, 0.01, 0.5, 0.99, 1.0 - 1e-9, 1.0], size)
    frac = np.where(rng.random(size) < 0.5, rng.random(size), frac)
    return x, np.where(x > 0, T * frac, 0.0), T


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
    log_params = np.log(CDNOW_PARAMS)
    ll, _ = paretonbd.log_likelihood_and_gradient(log_params, x, t_x, T)
    expected = paretonbd.log_likelihood(x, t_x, T, *np.exp(log_params))
    np.testing.assert_allclose(ll, expected, rtol=1e-15)


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


def test_quadrature_matches_hypergeometric_form_on_wide_grid() -> None:
    """Over 40 random parameter sets (e^-4 to e^4) and extreme rows, ln L agrees with the 2F1 form to 1e-10."""
    rng = np.random.default_rng(11)
    for trial in range(40):
        params = tuple(float(v) for v in np.exp(rng.uniform(-4.0, 4.0, 4)))
        x, t_x, T = _wide_grid(trial, 50)
        ours = paretonbd.log_likelihood(x, t_x, T, *params)
        reference = _log_likelihood_2f1(x, t_x, T, *params)
        certified = np.isfinite(reference)
        assert certified.mean() > 0.9
        np.testing.assert_allclose(
            ours[certified], reference[certified], rtol=1e-10, atol=1e-10, err_msg=str(params)
        )
        assert np.all(np.isfinite(ours))


@pytest.mark.parametrize(
    "params",
    [
        (0.0056, 0.17, 43.6, 175.0),
        (28.1, 0.026, 20.3, 46.5),
        (0.14, 7.2, 0.98, 6e-4),
        (3.6, 0.069, 0.065, 25.8),
        (0.5, 1e6, 0.5, 1e-6),
        (0.5, 1e-3, 0.5, 1e4),
    ],
)
def test_both_quadrature_rules_match_mpmath_at_extreme_scales(params) -> None:
    """Rows on either quadrature rule match mpmath's 2F1 form to 1e-10; gradients match differences."""
    x = np.array([0.0, 0.0, 1.0, 2.0, 5.0, 20.0, 100.0, 1000.0])
    T = np.array([961.0, 20.0, 1.4, 21.5, 53.7, 281.0, 19.6, 39.0])
    t_x = np.array([0.0, 0.0, 1.4e-6, 0.3, 5e-5, 0.5, 19.0, 12.0])
    rows = x, t_x, T
    ours = paretonbd.log_likelihood(*rows, *params)
    expected = [_mp_log_likelihood_2f1(*row, *params) for row in zip(*rows, strict=True)]
    np.testing.assert_allclose(ours, expected, rtol=1e-10, atol=1e-10)
    _, grad = paretonbd.log_likelihood_and_gradient(np.log(params), *rows)
    step = 1e-6
    for j in range(4):
        e = np.zeros(4)
        e[j] = step
        up = paretonbd.log_likelihood(*rows, *np.exp(np.log(params) + e))
        down = paretonbd.log_likelihood(*rows, *np.exp(np.log(params) - e))
        np.testing.assert_allclose(grad[:, j], (up - down) / (2 * step), rtol=1e-6, atol=1e-5)


def test_extreme_grid_uses_both_rules() -> None:
    """The wide grid exercises both quadrature rules (so the tests above cover each)."""
    counts = np.zeros(2, dtype=int)
    rng = np.random.default_rng(11)
    for trial in range(40):
        params = tuple(float(v) for v in np.exp(rng.uniform(-4.0, 4.0, 4)))
        x, t_x, T = _wide_grid(trial, 50)
        active = t_x < T
        _, easy = paretonbd._plan(x[active], t_x[active], T[active], *params)
        counts += [int(easy.sum()), int((~easy).sum())]
    assert counts.min() > 50


def test_recency_equal_to_age_leaves_only_the_alive_term() -> None:
    """With t_x = T the death integral is 0, so ln L is the closed-form alive term exactly."""
    r, alpha, s, beta = CDNOW_PARAMS
    x, T = np.array([0.0, 3.0, 5000.0]), np.array([0.0, 20.0, 38.0])
    ll = paretonbd.log_likelihood(x, T, T, *CDNOW_PARAMS)
    expected = (
        gammaln(r + x)
        - gammaln(r)
        + r * np.log(alpha / (alpha + T))
        + s * np.log(beta / (beta + T))
        - x * np.log(alpha + T)
    )
    np.testing.assert_allclose(ll, expected, rtol=1e-14)
    _, grad = paretonbd.log_likelihood_and_gradient(np.log(CDNOW_PARAMS), x, T, T)
    assert np.all(np.isfinite(grad))


@pytest.mark.parametrize("params", [CDNOW_PARAMS, (0.553, 1.0, 0.606, 30.0), (2.0, 30.0, 0.4, 0.5)])
def test_gradient_matches_mpmath_derivative_of_defining_integral(params) -> None:
    """The analytic gradient equals mpmath's numerical derivative of ln L (defining integral) in ln theta."""
    rows = [(0.0, 0.0, 38.9), (2.0, 30.4, 38.9), (7.0, 5.0, 38.9), (500.0, 37.0, 38.9)]
    x, t_x, T = (np.array(v) for v in zip(*rows, strict=True))
    _, grad = paretonbd.log_likelihood_and_gradient(np.log(params), x, t_x, T)
    with mpmath.workdps(30):
        for i, row in enumerate(rows):
            for j in range(4):

                def ll(u: mpmath.mpf, row=row, j=j) -> mpmath.mpf:
                    theta = [mpmath.mpf(v) for v in params]
                    theta[j] = theta[j] * mpmath.exp(u)
                    return mpmath.log(_mp_likelihood(*row, *theta))

                expected = float(mpmath.diff(ll, 0, h=mpmath.mpf("1e-8")))
                assert grad[i, j] == pytest.approx(expected, rel=1e-8, abs=1e-10), (i, j)


def test_mixed_batch_equals_row_by_row_evaluation() -> None:
    """Rows with t_x = T, short-rule rows and double-exponential rows give the same values batched or alone."""
    params = (0.14, 7.2, 0.98, 6e-4)
    x = np.array([0.0, 2.0, 5.0, 20.0, 3.0, 100.0])
    T = np.array([20.0, 21.5, 53.7, 281.0, 30.0, 19.6])
    t_x = np.array([0.0, 0.3, 5e-5, 0.5, 30.0, 19.0])
    _, easy = paretonbd._plan(x, t_x, T, *params)
    assert easy[t_x < T].any()
    assert not easy[t_x < T].all()
    ll, grad = paretonbd.log_likelihood_and_gradient(np.log(params), x, t_x, T)
    for i in range(x.size):
        one_ll, one_grad = paretonbd.log_likelihood_and_gradient(
            np.log(params), x[i : i + 1], t_x[i : i + 1], T[i : i + 1]
        )
        assert ll[i] == pytest.approx(one_ll[0], rel=1e-14)
        np.testing.assert_allclose(grad[i], one_grad[0], rtol=1e-12, atol=1e-14)
