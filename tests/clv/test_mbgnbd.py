"""MBGNBD estimator: published CDNOW oracle, standard errors, lifetimes agreement, persistence."""

from __future__ import annotations

import numpy as np
import pytest

from relmark.clv import BGNBDParams
from relmark.clv.mbgnbd import MBGNBD
from relmark.core import mbgnbd as kernels
from relmark.data.summary import CustomerSummary
from relmark.datasets import load_cdnow_sample_summary
from relmark.datasets.simulate import simulate_mbgnbd
from relmark.errors import InvalidInputError, NotFittedError

NAMES = ("r", "alpha", "a", "b")


@pytest.fixture(scope="module")
def cdnow():
    return load_cdnow_sample_summary()


@pytest.fixture(scope="module")
def fitted(cdnow):
    return MBGNBD().fit(cdnow)


def test_cdnow_fit_matches_published_estimates(fitted):
    """Fitting the CDNOW sample gives Batislam et al.'s r=.525, alpha=6.183, a=.891, b=1.614."""
    p = fitted.params_
    assert (p.r, p.alpha, p.a, p.b) == pytest.approx((0.525, 6.183, 0.891, 1.614), rel=2e-3)
    assert fitted.fit_ is not None


def test_standard_errors_match_natural_parameter_hessian(fitted, cdnow):
    """The covariance equals the inverse of a value-only finite-difference Hessian in (r, alpha, a, b)."""
    rows = cdnow.compress()
    theta = np.array([getattr(fitted.params_, n) for n in NAMES])

    def total(params):
        return float(
            rows.weights @ kernels.log_likelihood(rows.frequency, rows.recency, rows.T, *params)
        )

    hess = np.empty((4, 4))
    h = 1e-4 * theta
    for i in range(4):
        for j in range(4):
            ei, ej = np.eye(4)[i] * h[i], np.eye(4)[j] * h[j]
            hess[i, j] = (
                total(theta + ei + ej)
                - total(theta + ei - ej)
                - total(theta - ei + ej)
                + total(theta - ei - ej)
            ) / (4 * h[i] * h[j])
    np.testing.assert_allclose(fitted.covariance_, np.linalg.inv(-hess), rtol=2e-3)
    np.testing.assert_array_equal(fitted.covariance_, fitted.covariance_.T)


def test_exact_simulation_is_recovered_within_standard_errors():
    """A fit on 5,000 exactly simulated customers lands within 3 standard errors of the truth."""
    truth = (0.525, 6.183, 0.891, 1.614)
    model = MBGNBD().fit(simulate_mbgnbd(5000, *truth, T=np.linspace(26.0, 39.0, 5000), seed=8))
    estimate = np.array([getattr(model.params_, n) for n in NAMES])
    se = np.array([model.standard_errors_[n] for n in NAMES])
    assert np.all(np.abs(estimate - truth) < 3 * se)


@pytest.mark.oracle
def test_predictions_agree_with_lifetimes(fitted, cdnow):
    """P(alive), conditional and unconditional expectations and the PMF agree with lifetimes' fitter."""
    import pandas as pd
    from lifetimes import ModifiedBetaGeoFitter

    oracle = ModifiedBetaGeoFitter()
    oracle.params_ = pd.Series({n: getattr(fitted.params_, n) for n in NAMES})
    x, t_x, T = cdnow.frequency, cdnow.recency, cdnow.T
    np.testing.assert_allclose(
        fitted.probability_alive(cdnow), oracle.conditional_probability_alive(x, t_x, T), rtol=1e-10
    )
    np.testing.assert_allclose(
        fitted.expected_purchases(20.0, cdnow),
        oracle.conditional_expected_number_of_purchases_up_to_time(20.0, x, t_x, T),
        rtol=1e-8,
    )
    np.testing.assert_allclose(
        fitted.expected_purchases_new_customer([5.0, 39.0]),
        oracle.expected_number_of_purchases_up_to_time(np.array([5.0, 39.0])),
        rtol=1e-8,
    )
    expected = [oracle.probability_of_n_purchases_up_to_time(10.0, k) for k in range(4)]
    np.testing.assert_allclose(
        fitted.probability_of_purchases(np.arange(4), 10.0), expected, rtol=1e-8
    )


@pytest.mark.oracle
def test_fit_agrees_with_lifetimes_fitter_on_cdnow(fitted, cdnow):
    """lifetimes' own MBG/NBD fit on CDNOW reaches the same estimates."""
    import pandas as pd
    from lifetimes import ModifiedBetaGeoFitter

    oracle = ModifiedBetaGeoFitter().fit(
        pd.Series(cdnow.frequency), pd.Series(cdnow.recency), pd.Series(cdnow.T)
    )
    np.testing.assert_allclose(
        [getattr(fitted.params_, n) for n in NAMES],
        oracle.params_[list(NAMES)].to_numpy(),
        rtol=1e-3,
    )


def test_predictions_broadcast_over_horizons(fitted, cdnow):
    """The grid methods add a column per horizon; P(alive at T + t) starts at P(alive)."""
    both = fitted.expected_purchases_grid([0.0, 10.0], cdnow)
    assert both.shape == (len(cdnow), 2)
    assert np.all(both[:, 0] == 0.0)
    alive_later = fitted.probability_alive_at_grid([0.0, 26.0], cdnow)
    np.testing.assert_allclose(alive_later[:, 0], fitted.probability_alive(cdnow), rtol=1e-14)
    assert np.all(alive_later[:, 1] <= alive_later[:, 0])


def test_methods_before_fit_raise_not_fitted(cdnow):
    """Predictions and the summary table need a fitted model."""
    with pytest.raises(NotFittedError, match="not fitted"):
        MBGNBD().expected_purchases(1.0, cdnow)
    with pytest.raises(NotFittedError):
        MBGNBD().summary()


def test_bad_arguments_are_rejected(fitted, cdnow):
    """Bad penalizer, horizons, counts and parameters raise InvalidInputError naming them."""
    with pytest.raises(
        InvalidInputError, match="'penalizer' parameter of MBGNBD must be a float >= 0"
    ):
        MBGNBD(penalizer=float("nan")).fit(cdnow)
    with pytest.raises(InvalidInputError, match="'t' argument"):
        fitted.probability_alive_at([[1.0]], cdnow)
    with pytest.raises(InvalidInputError, match="'b' parameter of BGNBDParams"):
        MBGNBD.from_params(r=1.0, alpha=1.0, a=1.0, b=-1.0)
    with pytest.raises(InvalidInputError, match="no customers"):
        MBGNBD().fit(CustomerSummary.from_arrays([], [], []))


def test_json_round_trip_keeps_fitted_state(fitted, cdnow):
    """relmark.io writes and reads back parameters, covariance and fit metadata exactly."""
    from relmark.io import from_json, to_json

    back = from_json(to_json(fitted), MBGNBD)
    assert isinstance(back.params_, BGNBDParams)
    assert back.params_ == fitted.params_
    np.testing.assert_array_equal(back.covariance_, fitted.covariance_)
    assert back.fit_ == fitted.fit_
    np.testing.assert_array_equal(back.probability_alive(cdnow), fitted.probability_alive(cdnow))
