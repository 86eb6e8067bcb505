"""Gamma-Gamma kernels against mpmath and a direct integration of the model."""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest

from relmark.core import gamma_gamma


def _mp_log_likelihood(x, zbar, p, q, gamma):
    """Density of the mean of x Gamma(p, nu) values, averaged over nu ~ Gamma(q, gamma), by quadrature."""
    x, zbar, p, q, gamma = map(mp.mpf, (x, zbar, p, q, gamma))

    def integrand(nu):
        # Sum of x iid Gamma(p, nu) is Gamma(px, nu); the mean is Gamma(px, x nu).
        rate = x * nu
        mean_density = (
            rate ** (p * x) * zbar ** (p * x - 1) * mp.exp(-rate * zbar) / mp.gamma(p * x)
        )
        prior = gamma**q * nu ** (q - 1) * mp.exp(-gamma * nu) / mp.gamma(q)
        return mean_density * prior

    return mp.log(mp.quad(integrand, [0, q / gamma, 10 * (q + p * x) / (gamma + x * zbar), mp.inf]))


@pytest.mark.parametrize(
    ("x", "zbar", "p", "q", "gamma"),
    [(1, 10.0, 6.25, 3.74, 15.44), (7, 35.5, 6.25, 3.74, 15.44), (30, 2.0, 0.5, 1.5, 100.0)],
)
def test_log_likelihood_matches_integration_over_the_model(x, zbar, p, q, gamma):
    """Eq. (1a) equals the gamma mixture of the gamma density of the mean, integrated numerically."""
    mp.mp.dps = 30
    got = gamma_gamma.log_likelihood(np.array([x], float), np.array([zbar]), p, q, gamma)[0]
    assert got == pytest.approx(float(_mp_log_likelihood(x, zbar, p, q, gamma)), rel=1e-10)


def test_gradient_matches_central_differences():
    """The analytic log-parameter gradient equals a finite-difference derivative."""
    rng = np.random.default_rng(11)
    x = rng.integers(1, 40, 30).astype(float)
    zbar = rng.gamma(2.0, 20.0, 30)
    log_params = np.log([4.0, 3.0, 12.0])
    _, grad = gamma_gamma.log_likelihood_and_gradient(log_params, x, zbar)
    h = 1e-6
    for k in range(3):
        step = np.zeros(3)
        step[k] = h
        upper = gamma_gamma.log_likelihood_and_gradient(log_params + step, x, zbar)[0]
        lower = gamma_gamma.log_likelihood_and_gradient(log_params - step, x, zbar)[0]
        np.testing.assert_allclose(grad[:, k], (upper - lower) / (2 * h), rtol=1e-6, atol=1e-8)


def test_conditional_expected_spend_is_posterior_mean():
    """E[M | x, zbar] equals p times the posterior mean of 1/nu, computed by quadrature."""
    mp.mp.dps = 30
    p, q, gamma, x, zbar = 6.25, 3.74, 15.44, 4.0, 30.0
    # Posterior of nu is Gamma(q + p x, gamma + x zbar); E[M | nu] = p / nu.
    shape, rate = q + p * x, gamma + x * zbar
    reference = p * mp.quad(
        lambda nu: rate**shape * nu ** (shape - 2) * mp.exp(-rate * nu) / mp.gamma(shape),
        [0, mp.inf],
    )
    got = gamma_gamma.conditional_expected_spend(np.array([x]), np.array([zbar]), p, q, gamma)[0]
    assert got == pytest.approx(float(reference), rel=1e-12)


def test_conditional_expected_spend_falls_back_to_population_mean_and_inf():
    """With no repeat purchases the expectation is p*gamma/(q-1); it is inf when q <= 1."""
    got = gamma_gamma.conditional_expected_spend(np.array([0.0]), np.array([0.0]), 2.0, 3.0, 10.0)
    assert got[0] == pytest.approx(2.0 * 10.0 / 2.0)
    assert np.isinf(
        gamma_gamma.conditional_expected_spend(np.array([0.0]), np.array([0.0]), 2.0, 0.5, 1.0)[0]
    )
