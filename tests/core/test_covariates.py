"""The BG/NBD covariate kernel against an mpmath integral and its own finite differences."""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest

from relmark.core.covariates import bgnbd_covariate_parameters, bgnbd_log_likelihood_and_gradient


def _mp_log_likelihood(x, t_x, T, r, alpha, a, b):
    """ln ∫∫ L(x, t_x, T | λ, p) dG(λ) dB(p): λ in closed form, p by quadrature (40 digits)."""
    mp.mp.dps = 40
    r, alpha, a, b, t_x, T = (mp.mpf(v) for v in (r, alpha, a, b, t_x, T))

    def lam(horizon):
        return mp.gamma(r + x) / mp.gamma(r) * alpha**r / (alpha + horizon) ** (r + x)

    def integrand(p):
        density = p ** (a - 1) * (1 - p) ** (b - 1) / mp.beta(a, b)
        alive = (1 - p) ** x * lam(T)
        died = p * (1 - p) ** (x - 1) * lam(t_x) if x > 0 else 0
        return density * (alive + died)

    return float(mp.log(mp.quad(integrand, [0, mp.mpf(1) / 2, 1])))


def _params(gamma1, gamma2, gamma3):
    return np.array([np.log(0.7), np.log(5.0), np.log(0.9), np.log(2.2), *gamma1, *gamma2, *gamma3])


def test_per_row_likelihood_matches_mpmath_at_customer_parameters():
    """Each row's likelihood is BG/NBD's at its own (α_i, a_i, b_i), checked by integration."""
    x = np.array([0.0, 1.0, 4.0, 12.0])
    t_x = np.array([0.0, 3.0, 20.0, 35.0])
    T = np.array([10.0, 30.0, 39.0, 40.0])
    z1 = np.array([[0.0], [1.0], [-0.5], [2.0]])
    z2 = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5], [0.0, 0.0]])
    params = _params([0.4], [0.3, -0.2], [-0.1, 0.6])
    ll, _ = bgnbd_log_likelihood_and_gradient(params, x, t_x, T, z1, z2)
    r, alpha, a, b = bgnbd_covariate_parameters(params, z1, z2)
    for i in range(x.size):
        expected = _mp_log_likelihood(x[i], t_x[i], T[i], r, alpha[i], a[i], b[i])
        assert ll[i] == pytest.approx(expected, rel=1e-10)


def test_zero_covariates_leave_the_baseline_model():
    """With z = 0 the coefficients do nothing: the likelihood equals the baseline's."""
    x, t_x, T = np.array([2.0, 0.0]), np.array([10.0, 0.0]), np.array([39.0, 39.0])
    zeros = np.zeros((2, 1))
    with_effects = bgnbd_log_likelihood_and_gradient(
        _params([3.0], [-2.0], [1.5]), x, t_x, T, zeros, zeros
    )
    without = bgnbd_log_likelihood_and_gradient(
        _params([0.0], [0.0], [0.0]), x, t_x, T, zeros, zeros
    )
    np.testing.assert_array_equal(with_effects[0], without[0])
    for i in range(2):
        assert with_effects[0][i] == pytest.approx(
            _mp_log_likelihood(x[i], t_x[i], T[i], 0.7, 5.0, 0.9, 2.2), rel=1e-10
        )


def test_gradient_matches_central_differences():
    """The analytic gradient of every parameter equals a central difference."""
    rng = np.random.default_rng(5)
    n = 20
    x = rng.integers(0, 8, n).astype(float)
    T = rng.uniform(5, 50, n)
    t_x = np.where(x > 0, rng.uniform(0, 1, n) * T, 0.0)
    z1 = rng.normal(size=(n, 2))
    z2 = rng.normal(size=(n, 1))
    params = _params([0.2, -0.3], [0.4], [-0.2])
    _, grad = bgnbd_log_likelihood_and_gradient(params, x, t_x, T, z1, z2)
    h = 1e-6
    for k in range(params.size):
        up, down = params.copy(), params.copy()
        up[k] += h
        down[k] -= h
        numeric = (
            bgnbd_log_likelihood_and_gradient(up, x, t_x, T, z1, z2)[0]
            - bgnbd_log_likelihood_and_gradient(down, x, t_x, T, z1, z2)[0]
        ) / (2 * h)
        np.testing.assert_allclose(grad[:, k], numeric, rtol=1e-6, atol=1e-7)
