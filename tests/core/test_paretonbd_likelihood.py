"""The prepared Pareto/NBD likelihood: weighted totals, blocks and the analytic Hessian."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

from relmark.core import paretonbd
from relmark.core.mle import RowLikelihood, maximize_weighted
from relmark.typing import WeightedLikelihood

PARAM_SETS = [
    (0.553, 10.578, 0.606, 11.669),
    (2.0, 0.5, 3.0, 20.0),
    (0.5, 50.0, 0.3, 0.5),
    (0.14, 7.2, 0.98, 6e-4),  # extreme scale ratio: rows on the double-exponential rule
    (1.3, 7.0, 0.8, 7.0 + 1e-9),
]


def _rows(seed: int, size: int = 200) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    T = rng.uniform(1.0, 150.0, size)
    x = rng.poisson(rng.gamma(0.8, 4.0, size)).astype(np.float64)
    t_x = np.where(x > 0, T * rng.uniform(0.0, 1.0, size), 0.0)
    t_x[:4] = np.where(x[:4] > 0, T[:4], 0.0)  # recency equal to age: no death integral
    weights = rng.integers(1, 5, size).astype(np.float64)
    return x, t_x, T, weights


@pytest.mark.parametrize("params", PARAM_SETS)
def test_total_equals_weighted_rows_in_any_block_size(params):
    """total() equals the weighted sum of the per-row kernel, whatever the block size."""
    x, t_x, T, w = _rows(1)
    log_params = np.log(params)
    rows_ll, rows_grad = paretonbd.log_likelihood_and_gradient(log_params, x, t_x, T)
    prepared = paretonbd.ParetoNBDLikelihood(x, t_x, T, w)
    assert isinstance(prepared, WeightedLikelihood)
    for block in (7, 64, 10_000):
        prepared.block_rows = block
        ll, grad, _ = prepared.total(log_params)
        assert ll == pytest.approx(float(w @ rows_ll), rel=1e-12)
        np.testing.assert_allclose(grad, w @ rows_grad, rtol=1e-10, atol=1e-8)


@pytest.mark.parametrize("params", PARAM_SETS)
def test_analytic_hessian_matches_differences_of_the_gradient(params):
    """The second-moment Hessian equals central differences of the exact gradient to 1e-6."""
    x, t_x, T, w = _rows(2)
    prepared = paretonbd.ParetoNBDLikelihood(x, t_x, T, w)
    log_params = np.log(params)
    _, _, hess = prepared.total(log_params, hessian=True)
    assert hess is not None
    np.testing.assert_array_equal(hess, hess.T)
    h = 1e-5
    numeric = np.array(
        [
            (prepared.total(log_params + h * e)[1] - prepared.total(log_params - h * e)[1])
            / (2 * h)
            for e in np.eye(4)
        ]
    )
    np.testing.assert_allclose(hess, numeric, rtol=1e-6, atol=1e-6 * np.abs(hess).max())


def test_row_hessian_matches_mpmath_second_derivative():
    """For one row, d2 ln L / d(ln s) d(ln beta) equals mpmath's derivative of the defining integral."""
    r, alpha, s, beta = 0.7, 12.0, 0.9, 20.0
    x, t_x, T = 3.0, 10.0, 40.0
    mpmath.mp.dps = 30

    def log_l(log_s: mpmath.mpf, log_beta: mpmath.mpf) -> mpmath.mpf:
        ss, bb = mpmath.exp(log_s), mpmath.exp(log_beta)
        front = mpmath.loggamma(r + x) - mpmath.loggamma(r) + r * mpmath.log(alpha)
        alive = (alpha + T) ** (-(r + x)) * (bb + T) ** (-ss)
        died = ss * mpmath.quad(
            lambda u: (alpha + u) ** (-(r + x)) * (bb + u) ** (-(ss + 1)), [t_x, T]
        )
        return front + ss * log_beta + mpmath.log(alive + died)

    expected = mpmath.diff(log_l, (mpmath.log(s), mpmath.log(beta)), (1, 1))
    prepared = paretonbd.ParetoNBDLikelihood(
        np.array([x]), np.array([t_x]), np.array([T]), np.ones(1)
    )
    _, _, hess = prepared.total(np.log([r, alpha, s, beta]), hessian=True)
    assert hess is not None
    assert hess[2, 3] == pytest.approx(float(expected), rel=1e-8)


def test_newton_fit_equals_row_kernel_fit():
    """Newton on the prepared likelihood finds the optimum and covariance of BFGS on the rows."""
    rng = np.random.default_rng(4)
    n = 3000
    T = rng.uniform(10.0, 80.0, n)
    lam = rng.gamma(0.55, 1 / 10.6, n)
    death = rng.exponential(1.0 / rng.gamma(0.6, 1 / 11.7, n))
    end = np.minimum(death, T)
    x = rng.poisson(lam * end).astype(np.float64)
    t_x = np.where(x > 0, end * rng.random(n) ** (1.0 / np.maximum(x, 1.0)), 0.0)
    t_x, T = np.round(t_x, 1), np.round(T, 1)
    w = np.ones(n)
    names = ("r", "alpha", "s", "beta")
    start = np.log([0.5, 10.0, 0.5, 20.0])
    fast = maximize_weighted(paretonbd.ParetoNBDLikelihood(x, t_x, T, w), names, start)
    slow = maximize_weighted(
        RowLikelihood(paretonbd.log_likelihood_and_gradient, (x, t_x, T), w), names, start
    )
    assert fast.message.startswith("Newton")
    np.testing.assert_allclose(fast.params, slow.params, rtol=1e-6)
    assert fast.log_likelihood == pytest.approx(slow.log_likelihood, rel=1e-12)
    np.testing.assert_allclose(fast.covariance, slow.covariance, rtol=1e-4)
