"""The prepared BG/NBD and MBG/NBD likelihoods: totals, analytic derivatives, blocks, the fit."""

from __future__ import annotations

import tracemalloc

import mpmath
import numpy as np
import pytest

from relmark.clv import BGNBD, MBGNBD
from relmark.core import bgnbd, bgnbd_likelihood, mbgnbd
from relmark.core.mle import maximize_likelihood, maximize_weighted
from relmark.datasets import load_cdnow_sample_summary
from relmark.typing import WeightedLikelihood

MODELS = [
    pytest.param(bgnbd_likelihood.BGNBDLikelihood, bgnbd.log_likelihood_and_gradient, id="bgnbd"),
    pytest.param(
        bgnbd_likelihood.MBGNBDLikelihood, mbgnbd.log_likelihood_and_gradient, id="mbgnbd"
    ),
]

PARAM_SETS = [
    (0.243, 4.414, 0.793, 2.426),
    (2.0, 0.5, 5.0, 0.3),
    (0.5, 100.0, 1.0, 1.0),
    (0.05, 3000.0, 0.02, 40.0),
]


def _rows(seed: int, size: int = 3000, *, days: bool) -> tuple[np.ndarray, ...]:
    """Rows of many cohorts: whole-day ages (shared) or continuous ones (not shared)."""
    rng = np.random.default_rng(seed)
    T = rng.integers(0, 400, size).astype(float) if days else rng.uniform(0.0, 60.0, size)
    x = np.where(T > 0, rng.poisson(rng.gamma(0.8, 4.0, size)), 0).astype(float)
    t_x = np.where(x > 0, T * rng.uniform(0.0, 1.0, size), 0.0)
    if days:
        t_x = np.floor(t_x)
    t_x[:5] = np.where(x[:5] > 0, T[:5], 0.0)  # recency equal to age
    weights = rng.integers(1, 5, size).astype(float)
    return x, t_x, T, weights


@pytest.mark.parametrize(("prepared_type", "kernel"), MODELS)
@pytest.mark.parametrize("days", [True, False], ids=["shared-ages", "distinct-ages"])
@pytest.mark.parametrize("block_rows", [7, 16384])
def test_total_equals_weighted_rows(prepared_type, kernel, days, block_rows):
    """total() equals the weighted sum of the per-row kernel and its gradient, in any block size."""
    x, t_x, T, w = _rows(1, days=days)
    prepared = prepared_type(x, t_x, T, w)
    prepared.block_rows = block_rows
    assert isinstance(prepared, WeightedLikelihood)
    assert prepared._ages.shared == days
    assert prepared.n_rows == x.size
    assert prepared.total_weight == float(w.sum())
    for params in PARAM_SETS:
        log_params = np.log(params)
        ll, grad, hess = prepared.total(log_params)
        rows_ll, rows_grad = kernel(log_params, x, t_x, T)
        assert hess is None
        assert ll == pytest.approx(float(w @ rows_ll), rel=1e-12)
        np.testing.assert_allclose(grad, w @ rows_grad, rtol=1e-9, atol=1e-9 * np.abs(ll))
        with_hessian = prepared.total(log_params, hessian=True)
        assert with_hessian[0] == ll
        np.testing.assert_array_equal(with_hessian[1], grad)
        row_ll, row_grad = prepared.rows(log_params)
        np.testing.assert_array_equal(row_ll, rows_ll)
        np.testing.assert_array_equal(row_grad, rows_grad)


@pytest.mark.parametrize(("prepared_type", "kernel"), MODELS)
@pytest.mark.parametrize("params", PARAM_SETS)
def test_analytic_hessian_matches_differences_of_the_gradient(prepared_type, kernel, params):
    """The analytic Hessian in log-parameters equals central differences of the analytic gradient."""
    del kernel
    x, t_x, T, w = _rows(2, days=True)
    prepared = prepared_type(x, t_x, T, w)
    log_params = np.log(params)
    _, _, hess = prepared.total(log_params, hessian=True)
    assert hess is not None
    h = 1e-5
    numeric = np.array(
        [
            (prepared.total(log_params + h * e)[1] - prepared.total(log_params - h * e)[1])
            / (2 * h)
            for e in np.eye(4)
        ]
    )
    np.testing.assert_allclose(hess, numeric, rtol=1e-6, atol=1e-7 * np.abs(hess).max())
    np.testing.assert_array_equal(hess, hess.T)


def _mp_bgnbd(x: float, t_x: float, T: float):
    """FHL (2005) eq. (6) as written in the paper (beta functions, no log-sum trick), in mpmath."""

    def log_l(*log_params: mpmath.mpf) -> mpmath.mpf:
        r, alpha, a, b = (mpmath.exp(v) for v in log_params)
        front = mpmath.beta(a, b + x) / mpmath.beta(a, b) * mpmath.gamma(r + x) / mpmath.gamma(r)
        value = front * alpha**r / (alpha + T) ** (r + x)
        if x > 0:
            value += (
                mpmath.beta(a + 1, b + x - 1)
                / mpmath.beta(a, b)
                * mpmath.gamma(r + x)
                * alpha**r
                / (mpmath.gamma(r) * (alpha + t_x) ** (r + x))
            )
        return mpmath.log(value)

    return log_l


def _mp_mbgnbd(x: float, t_x: float, T: float):
    """BDF (2007)'s MBG/NBD likelihood as written in the paper, in mpmath."""

    def log_l(*log_params: mpmath.mpf) -> mpmath.mpf:
        r, alpha, a, b = (mpmath.exp(v) for v in log_params)
        front = mpmath.gamma(r + x) * alpha**r / mpmath.gamma(r)
        bracket = mpmath.beta(a, b + x + 1) / (mpmath.beta(a, b) * (alpha + T) ** (r + x))
        bracket += mpmath.beta(a + 1, b + x) / (mpmath.beta(a, b) * (alpha + t_x) ** (r + x))
        return mpmath.log(front * bracket)

    return log_l


@pytest.mark.parametrize(
    ("prepared_type", "reference"),
    [
        pytest.param(bgnbd_likelihood.BGNBDLikelihood, _mp_bgnbd, id="bgnbd"),
        pytest.param(bgnbd_likelihood.MBGNBDLikelihood, _mp_mbgnbd, id="mbgnbd"),
    ],
)
@pytest.mark.parametrize(
    ("row", "params"),
    [
        ((0.0, 0.0, 38.86), (0.243, 4.414, 0.793, 2.426)),
        ((1.0, 5.0, 20.0), (0.7, 12.0, 0.9, 3.0)),
        ((2.0, 30.43, 38.86), (0.243, 4.414, 0.793, 2.426)),
        ((40.0, 300.0, 1000.0), (1.5, 30.0, 2.0, 0.4)),
    ],
)
def test_row_value_gradient_and_hessian_match_mpmath(prepared_type, reference, row, params):
    """For one row, the value, gradient and full Hessian equal mpmath's derivatives of the paper's likelihood."""
    mpmath.mp.dps = 30
    x, t_x, T = row
    log_l = reference(x, t_x, T)
    point = [mpmath.log(v) for v in params]
    prepared = prepared_type(np.array([x]), np.array([t_x]), np.array([T]), np.ones(1))
    ll, grad, hess = prepared.total(np.log(params), hessian=True)
    assert hess is not None
    assert ll == pytest.approx(float(log_l(*point)), rel=1e-12)
    for i in range(4):
        order = [0] * 4
        order[i] = 1
        expected = float(mpmath.diff(log_l, point, tuple(order)))
        assert grad[i] == pytest.approx(expected, rel=1e-9, abs=1e-12)
        for j in range(i, 4):
            order = [0] * 4
            order[i] += 1
            order[j] += 1
            expected = float(mpmath.diff(log_l, point, tuple(order)))
            assert hess[i, j] == pytest.approx(expected, rel=1e-8, abs=1e-11)
            assert hess[j, i] == hess[i, j]


@pytest.mark.parametrize(("prepared_type", "kernel"), MODELS)
def test_extreme_rows_stay_finite_and_equal_the_kernel(prepared_type, kernel):
    """Thousands of purchases, ages of a million units and no-repeat-only data stay finite."""
    x = np.array([0.0, 0.0, 5000.0, 3.0, 1.0])
    t_x = np.array([0.0, 0.0, 9.9e5, 1e-9, 1e6])
    T = np.array([0.0, 1e6, 1e6, 1e6, 1e6])
    w = np.array([2.0, 1.0, 1.0, 3.0, 1.0])
    log_params = np.log([0.3, 2.0, 0.7, 1.5])
    for rows in (slice(None), slice(0, 2)):
        prepared = prepared_type(x[rows], t_x[rows], T[rows], w[rows])
        ll, grad, hess = prepared.total(log_params, hessian=True)
        assert hess is not None
        assert np.isfinite(ll)
        assert np.all(np.isfinite(grad))
        assert np.all(np.isfinite(hess))
        rows_ll, rows_grad = kernel(log_params, x[rows], t_x[rows], T[rows])
        assert ll == pytest.approx(float(w[rows] @ rows_ll), rel=1e-12)
        np.testing.assert_allclose(grad, w[rows] @ rows_grad, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize(("prepared_type", "kernel"), MODELS)
def test_temporaries_are_bounded_by_the_block(prepared_type, kernel):
    """An evaluation with the Hessian on 400,000 rows allocates a few blocks, not rows x anything."""
    del kernel
    rng = np.random.default_rng(6)
    n = 400_000
    T = rng.uniform(0.0, 1000.0, n)  # continuous ages: nothing shared, the most per-row work
    x = rng.poisson(3.0, n).astype(float)
    t_x = np.where(x > 0, T * rng.uniform(0.0, 1.0, n), 0.0)
    prepared = prepared_type(x, t_x, T, np.ones(n))
    tracemalloc.start()
    try:
        prepared.total(np.log([0.3, 20.0, 0.8, 2.4]), hessian=True)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # One row array is 3.2 MB; a block's temporaries are about 30 x 128 kB.
    assert peak < 8e6


@pytest.mark.parametrize(("prepared_type", "kernel"), MODELS)
def test_newton_fit_on_cdnow_equals_the_row_kernel_fit(prepared_type, kernel):
    """On CDNOW, Newton on the prepared likelihood finds the optimum BFGS finds on the per-row kernel."""
    rows = load_cdnow_sample_summary().compress()
    data = (rows.frequency, rows.recency, rows.T)
    names = ("r", "alpha", "a", "b")
    start = np.log([1.0, 10.0, 1.0, 1.0])
    fast = maximize_weighted(prepared_type(*data, rows.weights), names, start)
    slow = maximize_likelihood(kernel, data, rows.weights, names, start)
    assert fast.message.startswith("Newton")
    assert not slow.message.startswith("Newton")
    np.testing.assert_allclose(fast.params, slow.params, rtol=1e-6)
    assert fast.log_likelihood == pytest.approx(slow.log_likelihood, rel=1e-12)
    np.testing.assert_allclose(fast.covariance, slow.covariance, rtol=1e-4)
    assert fast.n_iterations < 20


@pytest.mark.parametrize("model_type", [BGNBD, MBGNBD])
def test_models_fit_by_newton_on_the_prepared_likelihood(model_type):
    """BGNBD.fit and MBGNBD.fit take the Newton path and land on the per-row kernel's optimum."""
    summary = load_cdnow_sample_summary()
    model = model_type().fit(summary)
    assert model.fit_ is not None
    assert model.fit_.message.startswith("Newton")
    rows = summary.compress()
    data = (rows.frequency, rows.recency, rows.T)
    w = rows.weights
    start = model._start(float(w @ rows.frequency) / w.sum(), float(w @ rows.T) / w.sum())
    kernel = model_type._kernels.log_likelihood_and_gradient
    reference = maximize_likelihood(kernel, data, w, model.parameter_names(), start)
    got = [getattr(model.params_, name) for name in model.parameter_names()]
    np.testing.assert_allclose(got, reference.params, rtol=1e-6)
