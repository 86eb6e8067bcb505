"""The prepared Gamma-Gamma likelihood: totals, analytic derivatives and the compression it uses."""

from __future__ import annotations

import numpy as np
import pytest

from relmark.core import gamma_gamma
from relmark.core.mle import RowLikelihood, maximize_weighted
from relmark.typing import WeightedLikelihood


def _data(seed: int, n: int = 400) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.integers(1, 30, n).astype(float)
    # Mean spends of whole-cent amounts: many customers share a total spend x * zbar.
    totals = rng.integers(1, 60, n) * 5.0 * x
    weights = rng.integers(1, 4, n).astype(float)
    return x, totals / x, weights


def test_total_equals_weighted_sum_of_rows():
    """total() equals the weighted sum of the per-row kernel (eq. 1a) and of its gradient."""
    x, zbar, w = _data(1)
    prepared = gamma_gamma.GammaGammaLikelihood(x, zbar, w)
    assert isinstance(prepared, WeightedLikelihood)
    for log_params in (np.log([4.0, 3.0, 12.0]), np.log([0.3, 80.0, 900.0])):
        ll, grad, hess = prepared.total(log_params)
        rows_ll, rows_grad = gamma_gamma.log_likelihood_and_gradient(log_params, x, zbar)
        assert hess is None
        assert ll == pytest.approx(float(w @ rows_ll), rel=1e-12)
        np.testing.assert_allclose(grad, w @ rows_grad, rtol=1e-9, atol=1e-7)


def test_compression_on_total_spend_changes_nothing():
    """Rows merged on equal total spend give the same total as the rows kept apart."""
    x, zbar, w = _data(2)
    merged = gamma_gamma.GammaGammaLikelihood(x, zbar, w)
    assert merged._spend.size < x.size  # the data do share totals
    rng = np.random.default_rng(3)
    distinct = zbar * (1.0 + 1e-9 * rng.random(x.size))  # no two totals equal
    apart = gamma_gamma.GammaGammaLikelihood(x, distinct, w)
    assert apart._spend.size == x.size
    log_params = np.log([2.0, 5.0, 40.0])
    got, want = merged.total(log_params, hessian=True), apart.total(log_params, hessian=True)
    assert got[0] == pytest.approx(want[0], rel=1e-8)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-6)
    np.testing.assert_allclose(got[2], want[2], rtol=1e-6)


@pytest.mark.parametrize("point", [(4.0, 3.0, 12.0), (6.25, 420.0, 2400.0), (0.5, 1.5, 100.0)])
def test_analytic_hessian_matches_differences_of_the_gradient(point):
    """The analytic Hessian in log-parameters equals central differences of the analytic gradient."""
    x, zbar, w = _data(4)
    prepared = gamma_gamma.GammaGammaLikelihood(x, zbar, w)
    log_params = np.log(point)
    _, _, hess = prepared.total(log_params, hessian=True)
    assert hess is not None
    h = 1e-5
    numeric = np.array(
        [
            (prepared.total(log_params + h * e)[1] - prepared.total(log_params - h * e)[1])
            / (2 * h)
            for e in np.eye(3)
        ]
    )
    np.testing.assert_allclose(hess, numeric, rtol=1e-6, atol=1e-6 * np.abs(hess).max())
    np.testing.assert_array_equal(hess, hess.T)


def test_newton_fit_equals_row_kernel_fit():
    """The Newton path on the prepared likelihood finds the optimum the BFGS path finds on rows."""
    rng = np.random.default_rng(5)
    x = rng.integers(1, 15, 2000).astype(float)
    nu = rng.gamma(3.7, 1.0 / 15.4, x.size)
    zbar = np.round(rng.gamma(6.25 * x, 1.0 / (x * nu)), 2)
    w = np.ones(x.size)
    names = ("p", "q", "gamma")
    start = np.log([1.0, 1.0, float(np.average(zbar, weights=w))])
    fast = maximize_weighted(gamma_gamma.GammaGammaLikelihood(x, zbar, w), names, start)
    slow = maximize_weighted(
        RowLikelihood(gamma_gamma.log_likelihood_and_gradient, (x, zbar), w), names, start
    )
    assert fast.message.startswith("Newton")
    assert not slow.message.startswith("Newton")
    np.testing.assert_allclose(fast.params, slow.params, rtol=1e-6)
    assert fast.log_likelihood == pytest.approx(slow.log_likelihood, rel=1e-12)
    np.testing.assert_allclose(fast.covariance, slow.covariance, rtol=1e-4)
