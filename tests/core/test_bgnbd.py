"""BG/NBD kernels against mpmath, closed forms and the published CDNOW values."""

from __future__ import annotations

import itertools

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relmark.core import bgnbd, special

CDNOW_MLE = {"r": 0.242593, "alpha": 4.413532, "a": 0.792886, "b": 2.425752}

# Extreme but admissible inputs: counts and ages up to 1e4, parameters from 1e-3 to 1e3.
_PARAM_GRID = (1e-3, 0.7, 1e3)
_rng = np.random.default_rng(20240511)
EXTREME_CASES = [
    (
        float(_rng.choice([0.5, 30.0, 1e4])),  # t
        float(x),
        float(T),
        *(float(v) for v in _rng.choice(_PARAM_GRID, size=4)),
    )
    for x, T in itertools.product([0, 1, 150, 1e4], [1.0, 1e4])
    for _ in range(3)
]


def _mp_expected_if_alive(t, x, T, r, alpha, a, b):
    """E[purchases in (T, T+t] | alive at T] from the model's definition, by quadrature.

    Given alive at T the rate is Gamma(r+x, alpha+T) and the dropout probability Beta(a, b+x);
    for fixed (lambda, p) the expected count is (1 - exp(-lambda p t))/p, whose gamma average is
    (1 - (1 + p u)^-(r+x))/p with u = t/(alpha+T). Integrating over p needs no hypergeometric.
    The chord through its values at p = 0 and p = 1 is integrated exactly, so the quadrature
    only sees a remainder that vanishes at both ends, where small beta parameters put spikes of
    probability mass.
    """
    t, x, T, r, alpha, a, b = map(mp.mpf, (t, x, T, r, alpha, a, b))
    u, s, bb = t / (alpha + T), r + x, b + x
    log_beta = mp.log(mp.beta(a, bb))
    g0, g1 = s * u, -mp.expm1(-s * mp.log1p(u))
    mean = a / (a + bb)

    def integrand(p):
        log_density = (a - 1) * mp.log(p) + (bb - 1) * mp.log1p(-p) - log_beta
        g = -mp.expm1(-s * mp.log1p(p * u)) / p
        return mp.exp(log_density) * (g - g0 * (1 - p) - g1 * p)

    sd = mp.sqrt(a * bb / ((a + bb) ** 2 * (a + bb + 1)))
    inner = [mean + k * sd for k in (-20, -5, 0, 5, 20)]
    points = sorted({mp.mpf(0), mp.mpf(1), *(p for p in inner if 0 < p < 1)})
    return g0 * (1 - mean) + g1 * mean + mp.quad(integrand, points)


def _mp_probability_alive(x, t_x, T, r, alpha, a, b):
    if x == 0:
        return mp.mpf(1)
    x, t_x, T, r, alpha, a, b = map(mp.mpf, (x, t_x, T, r, alpha, a, b))
    return 1 / (1 + a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x))


def _mp_log_likelihood(x, t_x, T, r, alpha, a, b):
    """FHL (2005) eq. (6) evaluated directly (no log-sum-exp) at high precision."""
    x, t_x, T, r, alpha, a, b = map(mp.mpf, (x, t_x, T, r, alpha, a, b))
    first = mp.beta(a, b + x) / mp.beta(a, b) * mp.gamma(r + x) * alpha**r / mp.gamma(r)
    bracket = (alpha + T) ** -(r + x)
    if x > 0:
        bracket += a / (b + x - 1) * (alpha + t_x) ** -(r + x)
    return mp.log(first * bracket)


def _rel_err(value, reference):
    reference = float(reference)
    return abs(value - reference) / max(abs(reference), 1e-300)


def test_unconditional_expectation_matches_published_cdnow_values():
    """E[X(t)] at 1, 3, 32, 78 weeks matches FHL (2005) for the CDNOW estimates."""
    got = bgnbd.expected_purchases(np.array([1.0, 3.0, 32.0, 78.0]), **CDNOW_MLE)
    np.testing.assert_allclose(got, [0.0532, 0.1506, 1.0437, 1.858], atol=6e-5)


def test_conditional_expectation_matches_published_cdnow_customer():
    """The x=2, t_x=30.43, T=38.86 customer expects 1.226 purchases in 39 weeks (FHL 2005)."""
    got = bgnbd.conditional_expected_purchases(
        np.array([39.0]), np.array([2.0]), np.array([30.43]), np.array([38.86]), **CDNOW_MLE
    )
    assert got[0] == pytest.approx(1.226, abs=5e-4)


@pytest.mark.parametrize(("t", "x", "T", "r", "alpha", "a", "b"), EXTREME_CASES)
def test_conditional_expectation_matches_quadrature_at_extremes(t, x, T, r, alpha, a, b):
    """CET is finite and within 1e-8 of a high-precision integral of the model's definition."""
    mp.mp.dps = 30
    t_x = 0.0 if x == 0 else 0.6 * T
    got = bgnbd.conditional_expected_purchases(
        np.array([t]), np.array([x]), np.array([t_x]), np.array([T]), r, alpha, a, b
    )[0]
    reference = _mp_probability_alive(x, t_x, T, r, alpha, a, b) * _mp_expected_if_alive(
        t, x, T, r, alpha, a, b
    )
    assert np.isfinite(got)
    assert _rel_err(got, reference) <= 1e-8


@pytest.mark.parametrize("a", [1.0, 1.0 + 3e-6, 1.0 - 7e-6])
def test_expectation_is_continuous_through_a_equal_one(a):
    """The removable singularity at a = 1 is bridged: values agree with quadrature to 1e-8."""
    mp.mp.dps = 30
    got = bgnbd.expected_purchases(np.array([5.0, 80.0]), 0.4, 3.0, a, 2.0)
    for value, t in zip(got, [5.0, 80.0], strict=True):
        assert _rel_err(value, _mp_expected_if_alive(t, 0, 0, 0.4, 3.0, a, 2.0)) <= 1e-8


def test_expectations_are_zero_at_time_zero():
    """No time, no purchases: E[X(0)] = 0 conditionally and unconditionally."""
    assert bgnbd.expected_purchases(np.array([0.0]), **CDNOW_MLE)[0] == 0.0
    cet = bgnbd.conditional_expected_purchases(
        np.array([0.0]), np.array([3.0]), np.array([10.0]), np.array([20.0]), **CDNOW_MLE
    )
    assert cet[0] == 0.0


@pytest.mark.parametrize(("t", "x", "T", "r", "alpha", "a", "b"), EXTREME_CASES)
def test_probability_alive_matches_mpmath_at_extremes(t, x, T, r, alpha, a, b):
    """P(alive) is in [0, 1] and equals the direct formula evaluated at high precision."""
    mp.mp.dps = 50
    t_x = 0.0 if x == 0 else 0.3 * T
    got = bgnbd.probability_alive(np.array([x]), np.array([t_x]), np.array([T]), r, alpha, a, b)[0]
    assert 0.0 <= got <= 1.0
    reference = _mp_probability_alive(x, t_x, T, r, alpha, a, b)
    assert abs(got - float(reference)) <= 1e-12 + 1e-12 * float(reference)


@pytest.mark.parametrize(("t", "x", "T", "r", "alpha", "a", "b"), EXTREME_CASES)
def test_log_likelihood_matches_direct_evaluation_at_extremes(t, x, T, r, alpha, a, b):
    """The log-sum-exp form equals eq. (6) evaluated directly in mpmath, where floats overflow."""
    mp.mp.dps = 50
    t_x = 0.0 if x == 0 else 0.5 * T
    got = bgnbd.log_likelihood(np.array([x]), np.array([t_x]), np.array([T]), r, alpha, a, b)[0]
    reference = float(_mp_log_likelihood(x, t_x, T, r, alpha, a, b))
    assert np.isfinite(got)
    assert abs(got - reference) <= 1e-9 * max(1.0, abs(reference))


def test_gradient_matches_central_differences():
    """The analytic log-parameter gradient equals a finite-difference derivative of the log-likelihood."""
    rng = np.random.default_rng(3)
    x = rng.integers(0, 30, 50).astype(float)
    T = rng.uniform(1, 60, 50)
    t_x = np.where(x > 0, T * rng.uniform(0, 1, 50), 0.0)
    log_params = np.log([0.5, 3.0, 0.8, 2.5])
    _, grad = bgnbd.log_likelihood_and_gradient(log_params, x, t_x, T)
    h = 1e-6
    for k in range(4):
        step = np.zeros(4)
        step[k] = h
        upper = bgnbd.log_likelihood_and_gradient(log_params + step, x, t_x, T)[0]
        lower = bgnbd.log_likelihood_and_gradient(log_params - step, x, t_x, T)[0]
        np.testing.assert_allclose(grad[:, k], (upper - lower) / (2 * h), rtol=1e-6, atol=1e-8)


def _mp_probability_of_purchases(n, t, r, alpha, a, b):
    """FHL (2005) eq. (8) with its finite sum, at high precision."""
    n, t, r, alpha, a, b = map(mp.mpf, (n, t, r, alpha, a, b))
    base = alpha / (alpha + t)
    q = t / (alpha + t)

    def nbd(j):
        return mp.gamma(r + j) / (mp.gamma(r) * mp.factorial(j)) * base**r * q**j

    value = mp.beta(a, b + n) / mp.beta(a, b) * nbd(n)
    if n > 0:
        tail = 1 - mp.fsum(nbd(j) for j in range(int(n)))
        value += mp.beta(a + 1, b + n - 1) / mp.beta(a, b) * tail
    return value


@pytest.mark.parametrize(("n", "t"), [(0, 1.0), (1, 10.0), (5, 39.0), (40, 200.0), (7, 0.01)])
def test_probability_of_purchases_matches_mpmath(n, t):
    """P(X(t)=n) equals eq. (8) with its finite sum evaluated at high precision."""
    mp.mp.dps = 50
    got = bgnbd.probability_of_purchases(np.array([n]), np.array([t]), **CDNOW_MLE)[0]
    reference = _mp_probability_of_purchases(n, t, *CDNOW_MLE.values())
    assert _rel_err(got, reference) <= 1e-10


def test_probability_of_purchases_sums_to_one():
    """P(X(t)=n) over n = 0..N is a distribution: it sums to 1 (tail negligible)."""
    total = bgnbd.probability_of_purchases(
        np.arange(2000.0), np.full(2000, 52.0), 1.2, 3.0, 2.0, 4.0
    )
    assert total.sum() == pytest.approx(1.0, abs=1e-10)


def test_mean_of_probability_of_purchases_is_expected_purchases():
    """Sum of n P(X(t)=n) equals E[X(t)]: eq. (8) and eq. (9) agree."""
    n = np.arange(3000.0)
    p = bgnbd.probability_of_purchases(n, np.full(n.size, 30.0), 1.2, 3.0, 2.0, 4.0)
    mean = bgnbd.expected_purchases(np.array([30.0]), 1.2, 3.0, 2.0, 4.0)[0]
    assert float(n @ p) == pytest.approx(mean, rel=1e-10)


def _mp_alive_at_from_likelihood(t, x, t_x, T, r, alpha, a, b):
    """P(alive at T+t | x, t_x, T) as a ratio of two integrals over the dropout probability p.

    Built from the model's definition only (FHL 2005 eq. 3 and the Gamma x Beta prior): the
    numerator is the joint probability of the history alive at T, (1-p)^x lam^x e^(-lam T), and
    of no dropout in (T, T+t], e^(-lam p t); the denominator adds the history that dropped out
    after the last purchase, p (1-p)^(x-1) lam^x e^(-lam t_x). The gamma integral over lam is
    done by hand (Gamma(r+x)/(alpha + rate)^(r+x), a common factor that cancels), the beta
    integral by quadrature; neither P(alive) nor any hypergeometric function enters.
    """
    t, x, t_x, T, r, alpha, a, b = map(mp.mpf, (t, x, t_x, T, r, alpha, a, b))
    s = r + x

    def numerator(p):
        return p ** (a - 1) * (1 - p) ** (b + x - 1) * (alpha + T + p * t) ** -s

    def denominator(p):
        alive = (1 - p) ** x * (alpha + T) ** -s
        dropped = p * (1 - p) ** (x - 1) * (alpha + t_x) ** -s if x > 0 else 0
        return p ** (a - 1) * (1 - p) ** (b - 1) * (alive + dropped)

    return mp.quad(numerator, [0, 1]) / mp.quad(denominator, [0, 1])


@pytest.mark.parametrize(
    ("t", "x", "t_x", "T"),
    [(10.0, 2.0, 30.43, 38.86), (52.0, 0.0, 0.0, 38.86), (5.0, 5.0, 20.0, 39.0), (0.0, 3, 9, 12)],
)
def test_probability_alive_at_matches_a_likelihood_ratio_by_quadrature(t, x, t_x, T):
    """P(alive at T+t) equals the ratio of the two defining integrals (mpmath, 2-D)."""
    params = (1.3, 4.0, 1.7, 2.5)
    got = bgnbd.probability_alive_at(
        np.array([t]), np.array([x]), np.array([t_x]), np.array([T]), *params
    )[0]
    with mp.workdps(20):
        reference = float(_mp_alive_at_from_likelihood(t, x, t_x, T, *params))
    assert got == pytest.approx(reference, rel=1e-8)


def test_probability_alive_at_matches_a_simulation_of_silent_customers():
    """Simulated customers with no repeat purchase by T: the share alive at T+t matches (x = 0)."""
    r, alpha, a, b = CDNOW_MLE.values()
    T, t, n = 20.0, 30.0, 400_000
    rng = np.random.default_rng(20251123)
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    silent = rng.poisson(lam * T) == 0
    # Alive at T (no purchase yet, so no dropout chance yet) and no dropout among the
    # Poisson(lambda t) purchases of (T, T+t]: (1-p)^N.
    survives = rng.random(n) < (1.0 - p) ** rng.poisson(lam * t)
    simulated = survives[silent].mean()
    stderr = np.sqrt(simulated * (1 - simulated) / silent.sum())
    got = bgnbd.probability_alive_at(
        np.array([t]), np.array([0.0]), np.array([0.0]), np.array([T]), r, alpha, a, b
    )[0]
    assert abs(got - simulated) < 4 * stderr


def test_probability_alive_at_zero_is_probability_alive_and_decreases():
    """At t = 0 it is P(alive at T); it never rises with t."""
    r, alpha, a, b = CDNOW_MLE.values()
    x, t_x, T = np.array([0.0, 2, 20]), np.array([0.0, 30.43, 35]), np.array([38.86] * 3)
    at_zero = bgnbd.probability_alive_at(np.zeros(3), x, t_x, T, r, alpha, a, b)
    np.testing.assert_allclose(at_zero, bgnbd.probability_alive(x, t_x, T, r, alpha, a, b))
    grid = np.linspace(0, 500, 51)[:, np.newaxis]
    values = bgnbd.probability_alive_at(grid, x, t_x, T, r, alpha, a, b)
    assert np.all(np.diff(values, axis=0) <= 1e-15)


# Rows at the edges (no repeat purchase, age 0, huge counts and ages) and parameter vectors at
# the edges of the kernel's branches: a within the bridge of a = 1 (two vectors, so the bridge's
# shared nodes serve two draws), a > 2 (its own series test), a + b < 1 (the contiguous relation
# at x = 0), and the extreme grid.
STACK_ROWS = np.array(
    [
        (0.0, 0.0, 0.0),
        (0.0, 0.0, 70.0),
        (1.0, 0.5, 70.0),
        (40.0, 70.0, 70.0),
        (300.0, 70.5, 71.0),
        (2.0, 1.0, 1e4),
        (1e4, 9e3, 1e4),
        (5.0, 3.0, 39.0),
        (5.0, 38.0, 39.0),
    ]
)
STACK_PARAMS = np.array(
    [
        tuple(CDNOW_MLE.values()),
        (0.243, 4.41, 1.03, 2.43),
        (0.4, 2.0, 0.95, 0.02),
        (0.243, 4.41, 2.7, 2.43),
        (0.5, 3.0, 0.3, 0.4),
        (1e-3, 0.7, 1e3, 1e-3),
        (1e3, 1e3, 0.7, 1e3),
        (0.7, 1e-3, 1e-3, 0.7),
    ]
)


def test_stacked_expectation_equals_the_per_vector_kernel() -> None:
    """All parameter vectors at once give each vector's conditional_expected_purchases (1e-13)."""
    x, t_x, T = (STACK_ROWS[:, [k]] for k in range(3))
    horizons = np.array([[0.5, 30.0, 1e4]])
    stacked = bgnbd.conditional_expected_purchases_stacked(horizons, x, t_x, T, STACK_PARAMS)
    assert stacked.shape == (len(STACK_ROWS), 3, len(STACK_PARAMS))
    for b, params in enumerate(STACK_PARAMS.tolist()):
        one = bgnbd.conditional_expected_purchases(horizons, x, t_x, T, *params)
        np.testing.assert_allclose(stacked[..., b], one, rtol=1e-13, atol=0, equal_nan=True)
    assert np.isfinite(stacked).mean() > 0.9


@pytest.mark.parametrize("budget", [1, 5, 20])
def test_stacked_expectation_does_not_depend_on_blocks(monkeypatch, budget) -> None:
    """Small blocks (rows cut, draws sliced) give the values of one block, bit for bit."""
    x, t_x, T = (np.repeat(column, 3) for column in STACK_ROWS.T)
    horizons = np.tile([30.0, 0.5, 400.0], len(STACK_ROWS))
    whole = bgnbd.expected_purchases_if_alive_stacked(horizons, x, T, STACK_PARAMS)
    monkeypatch.setattr(special, "_STACK_BLOCK_ELEMENTS", budget)
    np.testing.assert_array_equal(
        bgnbd.expected_purchases_if_alive_stacked(horizons, x, T, STACK_PARAMS), whole
    )
    alive = np.stack([bgnbd.probability_alive(x, t_x, T, *p) for p in STACK_PARAMS], axis=-1)
    np.testing.assert_array_equal(
        bgnbd.conditional_expected_purchases_stacked(horizons, x, t_x, T, STACK_PARAMS),
        alive * whole,
    )


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
    stacked = bgnbd.conditional_expected_purchases_stacked(np.asarray(52.0), x, t_x, T, params)
    for b, vector in enumerate(params.tolist()):
        one = bgnbd.conditional_expected_purchases(np.asarray(52.0), x, t_x, T, *vector)
        np.testing.assert_allclose(stacked[:, b], one, rtol=1e-13, atol=0, equal_nan=True)
