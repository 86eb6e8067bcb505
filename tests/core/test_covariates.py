"""Covariate likelihoods: per-row values against mpmath, derivatives, and the plain models at z = 0."""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest

from relmark.core import bgnbd, mbgnbd
from relmark.core.bgnbd_likelihood import BGNBDLikelihood, MBGNBDLikelihood
from relmark.core.covariates import (
    CovariateRoles,
    PatternLikelihood,
    RowCovariateLikelihood,
    beta_geometric_rows,
)
from relmark.core.paretonbd import ParetoNBDLikelihood

BETA_GEOMETRIC = CovariateRoles(parameters=(1, 2, 3), signs=(-1, 1, 1), columns=((0,), (1,), (1,)))
PARETO = CovariateRoles(parameters=(1, 3), signs=(-1, -1), columns=((0,), (1,)))


def _mp_beta_geometric(x, t_x, T, r, alpha, a, b, *, modified):
    """ln ∫∫ L(x, t_x, T | λ, p) dG(λ) dB(p): λ in closed form, p by quadrature (40 digits)."""
    mp.mp.dps = 40
    r, alpha, a, b, t_x, T = (mp.mpf(v) for v in (r, alpha, a, b, t_x, T))

    def lam(horizon):
        return mp.gamma(r + x) / mp.gamma(r) * alpha**r / (alpha + horizon) ** (r + x)

    def integrand(p):
        density = p ** (a - 1) * (1 - p) ** (b - 1) / mp.beta(a, b)
        if modified:  # a dropout chance after every purchase, the first one included
            alive = (1 - p) ** (x + 1) * lam(T)
            died = p * (1 - p) ** x * lam(t_x)
        else:
            alive = (1 - p) ** x * lam(T)
            died = p * (1 - p) ** (x - 1) * lam(t_x) if x > 0 else 0
        return density * (alive + died)

    return float(mp.log(mp.quad(integrand, [0, mp.mpf(1) / 2, 1])))


def _mp_pareto(x, t_x, T, r, alpha, s, beta):
    """FH-05's Pareto/NBD likelihood: alive at T, or died at τ in (t_x, T] (τ integral by mpmath)."""
    mp.mp.dps = 40
    r, alpha, s, beta, t_x, T = (mp.mpf(v) for v in (r, alpha, s, beta, t_x, T))
    front = mp.gamma(r + x) / mp.gamma(r) * alpha**r * beta**s
    alive = 1 / ((alpha + T) ** (r + x) * (beta + T) ** s)
    died = s * mp.quad(lambda u: (alpha + u) ** (-(r + x)) * (beta + u) ** (-(s + 1)), [t_x, T])
    return float(mp.log(front * (alive + died)))


def _rows(seed, n):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 9, n).astype(float)
    T = rng.uniform(5, 50, n)
    t_x = np.where(x > 0, rng.uniform(0, 1, n) * T, 0.0)
    return x, t_x, T, rng


CASES = (
    np.array([0.0, 1.0, 4.0, 12.0]),
    np.array([0.0, 3.0, 20.0, 35.0]),
    np.array([10.0, 30.0, 39.0, 40.0]),
    np.array([[0.0, 1.0], [1.0, 0.0], [-0.5, 0.5], [2.0, 1.0]]),
)


@pytest.mark.parametrize("modified", [False, True])
def test_beta_geometric_rows_match_mpmath_at_each_customers_parameters(modified):
    """Each row's likelihood is the (M)BG/NBD's at its own (α_i, a_i, b_i), checked by integration."""
    x, t_x, T, z = CASES
    coefficients = np.array([np.log(0.7), np.log(5.0), np.log(0.9), np.log(2.2), 0.4, 0.3, -0.6])
    log_theta = BETA_GEOMETRIC.log_parameters(coefficients, z)
    ll, _ = beta_geometric_rows(log_theta, x, t_x, T, modified=modified)
    for i in range(x.size):
        r, alpha, a, b = np.exp(log_theta[i])
        expected = _mp_beta_geometric(x[i], t_x[i], T[i], r, alpha, a, b, modified=modified)
        assert ll[i] == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize(("modified", "plain"), [(False, bgnbd), (True, mbgnbd)])
def test_beta_geometric_rows_at_common_parameters_equal_the_plain_kernel(modified, plain):
    """With every row at the same parameters the values and gradients are the plain kernel's."""
    x, t_x, T, _ = _rows(1, 300)
    log_params = np.log([0.6, 4.0, 0.8, 2.5])
    ll, grad = beta_geometric_rows(np.tile(log_params, (x.size, 1)), x, t_x, T, modified=modified)
    plain_ll, plain_grad = plain.log_likelihood_and_gradient(log_params, x, t_x, T)
    np.testing.assert_allclose(ll, plain_ll, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(grad, plain_grad, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("modified", [False, True])
def test_beta_geometric_rows_gradient_matches_central_differences(modified):
    """The analytic gradient of every log-parameter equals a central difference, row by row."""
    x, t_x, T, rng = _rows(5, 40)
    log_theta = np.log(rng.uniform(0.3, 3.0, (x.size, 4)))
    _, grad = beta_geometric_rows(log_theta, x, t_x, T, modified=modified)
    h = 1e-6
    for k in range(4):
        up, down = log_theta.copy(), log_theta.copy()
        up[:, k] += h
        down[:, k] -= h
        numeric = (
            beta_geometric_rows(up, x, t_x, T, modified=modified)[0]
            - beta_geometric_rows(down, x, t_x, T, modified=modified)[0]
        ) / (2 * h)
        np.testing.assert_allclose(grad[:, k], numeric, rtol=1e-6, atol=1e-7)


def test_roles_map_coefficients_to_log_parameters_and_back():
    """log_parameters is J_i c, and chain is Σ J_i^T g_i, both against the explicit Jacobians."""
    rng = np.random.default_rng(2)
    z = rng.normal(size=(7, 3))
    roles = CovariateRoles(parameters=(1, 2, 3), signs=(-1, 1, 1), columns=((0, 2), (1,), (1, 2)))
    c = rng.normal(size=roles.n_coefficients)
    jac = roles.jacobian(z)
    assert jac.shape == (7, 4, 9)
    np.testing.assert_allclose(roles.log_parameters(c, z), jac @ c, rtol=1e-14)
    g = rng.normal(size=(7, 4))
    np.testing.assert_allclose(roles.chain(g, z), np.einsum("ij,ijk->k", g, jac), rtol=1e-13)


PREPARED = [
    pytest.param(BGNBDLikelihood, BETA_GEOMETRIC, [0.6, 4.0, 0.8, 2.5], id="bgnbd"),
    pytest.param(MBGNBDLikelihood, BETA_GEOMETRIC, [0.6, 4.0, 0.8, 2.5], id="mbgnbd"),
    pytest.param(ParetoNBDLikelihood, PARETO, [0.6, 4.0, 0.7, 9.0], id="paretonbd"),
]


@pytest.mark.parametrize(("prepare", "roles", "base"), PREPARED)
def test_all_zero_covariates_reproduce_the_plain_likelihood_exactly(prepare, roles, base):
    """At z = 0 any coefficients give the plain prepared likelihood, bit for bit, Hessian included."""
    x, t_x, T, rng = _rows(3, 200)
    w = rng.integers(1, 5, x.size).astype(float)
    zero = np.zeros((1, 2))
    likelihood = PatternLikelihood(prepare, x, t_x, T, w, np.zeros(x.size, np.int64), zero, roles)
    coefficients = np.r_[np.log(base), rng.normal(size=roles.n_coefficients - 4)]
    ll, grad, hess = likelihood.total(coefficients, hessian=True)
    plain_ll, plain_grad, plain_hess = prepare(x, t_x, T, w).total(np.log(base), hessian=True)
    assert ll == plain_ll
    np.testing.assert_array_equal(grad[:4], plain_grad)
    np.testing.assert_array_equal(hess[:4, :4], plain_hess)
    np.testing.assert_array_equal(grad[4:], 0.0)


def _patterned(seed, n, n_patterns=3):
    x, t_x, T, rng = _rows(seed, n)
    w = rng.integers(1, 5, n).astype(float)
    patterns = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])[:n_patterns]
    pattern = rng.integers(0, n_patterns, n)
    return x, t_x, T, w, pattern, patterns


@pytest.mark.parametrize(("prepare", "roles", "base"), PREPARED)
def test_pattern_gradient_and_hessian_match_central_differences(prepare, roles, base):
    """Σ_p J_pᵀ g_p and Σ_p J_pᵀ H_p J_p equal central differences of the total and the gradient."""
    x, t_x, T, w, pattern, patterns = _patterned(4, 150)
    likelihood = PatternLikelihood(prepare, x, t_x, T, w, pattern, patterns, roles)
    c = np.r_[np.log(base), np.linspace(-0.4, 0.5, roles.n_coefficients - 4)]
    _, grad, hess = likelihood.total(c, hessian=True)
    h = 1e-5
    for k in range(c.size):
        step = np.zeros(c.size)
        step[k] = h
        value_diff = (likelihood.total(c + step)[0] - likelihood.total(c - step)[0]) / (2 * h)
        grad_diff = (likelihood.total(c + step)[1] - likelihood.total(c - step)[1]) / (2 * h)
        assert grad[k] == pytest.approx(value_diff, rel=1e-6, abs=1e-6)
        np.testing.assert_allclose(hess[:, k], grad_diff, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    ("prepare", "modified"), [(BGNBDLikelihood, False), (MBGNBDLikelihood, True)]
)
def test_pattern_and_row_paths_agree(prepare, modified):
    """Summing plain likelihoods over patterns equals summing per-row kernels row by row."""
    x, t_x, T, w, pattern, patterns = _patterned(6, 300, n_patterns=4)
    c = np.r_[np.log([0.6, 4.0, 0.8, 2.5]), 0.3, -0.2, 0.5]
    by_pattern = PatternLikelihood(prepare, x, t_x, T, w, pattern, patterns, BETA_GEOMETRIC)

    def kernel(log_theta, x, t_x, T):
        return beta_geometric_rows(log_theta, x, t_x, T, modified=modified)

    by_row = RowCovariateLikelihood(kernel, x, t_x, T, w, patterns[pattern], BETA_GEOMETRIC)
    ll_p, grad_p, _ = by_pattern.total(c)
    ll_r, grad_r, hess_r = by_row.total(c, hessian=True)
    assert hess_r is None
    assert ll_p == pytest.approx(ll_r, rel=1e-12)
    np.testing.assert_allclose(grad_p, grad_r, rtol=1e-10, atol=1e-9)
    rows_p, rows_r = by_pattern.rows(c), by_row.rows(c)
    np.testing.assert_allclose(rows_p[0], rows_r[0], rtol=1e-12)
    np.testing.assert_allclose(rows_p[1], rows_r[1], rtol=1e-10, atol=1e-10)


def test_pareto_pattern_rows_match_mpmath_at_each_customers_parameters():
    """Each row's Pareto/NBD likelihood is the model's at (r, α_i, s, β_i), checked by mpmath."""
    x, t_x, T, z = CASES
    patterns, pattern = np.unique(z, axis=0, return_inverse=True)
    likelihood = PatternLikelihood(
        ParetoNBDLikelihood, x, t_x, T, np.ones(4), pattern.ravel(), patterns, PARETO
    )
    c = np.array([np.log(0.6), np.log(4.0), np.log(0.7), np.log(9.0), 0.4, -0.5])
    ll, _ = likelihood.rows(c)
    log_theta = PARETO.log_parameters(c, z)
    for i in range(x.size):
        r, alpha, s, beta = np.exp(log_theta[i])
        assert alpha == pytest.approx(4.0 * np.exp(-0.4 * z[i, 0]), rel=1e-14)
        assert beta == pytest.approx(9.0 * np.exp(0.5 * z[i, 1]), rel=1e-14)
        assert ll[i] == pytest.approx(_mp_pareto(x[i], t_x[i], T[i], r, alpha, s, beta), rel=1e-10)
