"""The MLE driver on models with closed-form estimates and standard errors."""

from __future__ import annotations

import numpy as np
import pytest

from relmark.core.mle import maximize_likelihood, wald_intervals
from relmark.errors import ConvergenceError


def _exponential(log_params, y):
    """Exponential(rate) log-likelihood per row and its log-rate gradient."""
    rate = np.exp(log_params[0])
    return np.log(rate) - rate * y, (1.0 - rate * y)[:, None]


def _normal(log_params, y):
    """Normal(mu, sigma) with mu > 0 parameterised by (log mu, log sigma)."""
    mu, sigma = np.exp(log_params)
    z = (y - mu) / sigma
    ll = -np.log(sigma) - 0.5 * np.log(2 * np.pi) - 0.5 * z**2
    grad = np.column_stack([mu * z / sigma, z**2 - 1.0])
    return ll, grad


def test_exponential_estimate_and_standard_error_are_closed_form():
    """Rate = 1/mean, se = rate/sqrt(n); log-likelihood, AIC and BIC follow their definitions."""
    y = np.random.default_rng(1).exponential(2.0, 500)
    res = maximize_likelihood(_exponential, (y,), np.ones(500), ["rate"], np.array([0.0]))
    rate = 1 / y.mean()
    assert res.params[0] == pytest.approx(rate, rel=1e-9)
    assert res.standard_errors[0] == pytest.approx(rate / np.sqrt(500), rel=1e-6)
    ll = 500 * np.log(rate) - rate * y.sum()
    assert res.log_likelihood == pytest.approx(ll, rel=1e-12)
    assert res.aic == pytest.approx(2 - 2 * ll)
    assert res.bic == pytest.approx(np.log(500) - 2 * ll)


def test_normal_covariance_is_symmetric_delta_method():
    """Cov of (mu, sigma) equals diag(sigma^2/n, sigma^2/(2n)) and is exactly symmetric."""
    y = np.random.default_rng(2).normal(10.0, 3.0, 2000)
    res = maximize_likelihood(_normal, (y,), np.ones(y.size), ["mu", "sigma"], np.zeros(2))
    mu, sigma = y.mean(), y.std()
    np.testing.assert_allclose(res.params, [mu, sigma], rtol=1e-8)
    np.testing.assert_allclose(
        np.diag(res.covariance), [sigma**2 / y.size, sigma**2 / (2 * y.size)], rtol=1e-5
    )
    np.testing.assert_array_equal(res.covariance, res.covariance.T)


def test_weights_equal_repeated_rows():
    """A weighted row counts exactly like that many copies of the row."""
    rng = np.random.default_rng(3)
    y = rng.choice([0.5, 1.0, 4.0], 300)
    values, counts = np.unique(y, return_counts=True)
    full = maximize_likelihood(_normal, (y,), np.ones(y.size), ["mu", "sigma"], np.zeros(2))
    packed = maximize_likelihood(
        _normal, (values,), counts.astype(float), ["mu", "sigma"], np.zeros(2)
    )
    np.testing.assert_allclose(packed.params, full.params, rtol=1e-9)
    np.testing.assert_allclose(packed.covariance, full.covariance, rtol=1e-5, atol=1e-10)
    assert packed.log_likelihood == pytest.approx(full.log_likelihood, rel=1e-12)


def test_penalizer_shrinkage_does_not_depend_on_sample_size():
    """The same penalizer gives the same estimate on a sample and on that sample repeated 100 times."""
    y = np.random.default_rng(4).exponential(5.0, 200)
    small = maximize_likelihood(
        _exponential, (y,), np.ones(200), ["rate"], np.zeros(1), penalizer=0.5
    )
    big = maximize_likelihood(
        _exponential, (y,), np.full(200, 100.0), ["rate"], np.zeros(1), penalizer=0.5
    )
    assert small.params[0] == pytest.approx(big.params[0], rel=1e-9)
    # Penalized score: 1/rate * ... in log space: 1 - rate*mean - 2*lambda*log(rate) = 0.
    rate = small.params[0]
    assert 1 - rate * y.mean() - 2 * 0.5 * np.log(rate) == pytest.approx(0.0, abs=1e-8)
    assert rate > 1 / y.mean()  # pulled from 0.2 towards 1


def test_wald_intervals_are_positive_and_log_symmetric():
    """Intervals are exp(log estimate +- z se): positive, with estimate at their geometric mean."""
    lower, upper = wald_intervals(np.array([0.01]), np.array([[4.0]]), 0.95)
    assert lower[0] > 0
    assert np.sqrt(lower[0] * upper[0]) == pytest.approx(0.01)
    assert upper[0] / 0.01 == pytest.approx(np.exp(1.959963984540054 * 2.0))


def test_non_finite_rows_are_named_in_convergence_error():
    """A row with a non-finite likelihood raises ConvergenceError naming it and what to try."""
    y = np.array([1.0, 2.0, -np.inf, 3.0])
    with pytest.raises(ConvergenceError, match=r"not finite at: row 2.*penalizer"):
        maximize_likelihood(
            _exponential,
            (y,),
            np.ones(4),
            ["rate"],
            np.zeros(1),
            describe_rows=lambda r: f"row {r[0]}",
        )


def test_convergence_error_carries_the_advice_as_attributes():
    """The driver's ConvergenceError holds the advice as hint, penalizer as hint_field."""
    y = np.array([1.0, 2.0, -np.inf, 3.0])
    with pytest.raises(ConvergenceError) as info:
        maximize_likelihood(_exponential, (y,), np.ones(4), ["rate"], np.zeros(1))
    error = info.value
    assert error.hint_field == "penalizer"
    assert error.hint is not None
    assert "penalizer=0.001" in error.hint
    assert "penalizer" not in error.problem
    assert error.problem.startswith("Maximum likelihood did not converge")
    assert str(error) == f"{error.problem} {error.hint}"


def test_unidentified_parameter_raises_convergence_error():
    """A likelihood that increases without bound in a parameter reports the runaway parameter."""
    y = np.zeros(10)  # all-zero waiting times: the exponential rate runs to infinity
    with pytest.raises(ConvergenceError, match="rate="):
        maximize_likelihood(_exponential, (y,), np.ones(10), ["rate"], np.zeros(1))
