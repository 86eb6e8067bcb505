"""BGBB estimator: published donations oracle, standard errors, lifetimes agreement, persistence."""

from __future__ import annotations

import numpy as np
import pytest

from relmark.clv.bgbb import BGBB, BGBBParams
from relmark.core import bgbb as kernels
from relmark.data.summary import CustomerSummary
from relmark.datasets import load_donations
from relmark.datasets.simulate import simulate_bgbb
from relmark.errors import InvalidInputError, NotFittedError

NAMES = ("alpha", "beta", "gamma", "delta")


@pytest.fixture(scope="module")
def donations():
    return load_donations()


@pytest.fixture(scope="module")
def fitted(donations):
    return BGBB().fit(donations)


def test_donations_fit_matches_published_estimates(fitted):
    """Fitting the donations gives FHS (2010): 1.204, 0.750, 0.657, 2.783 and LL = -33,225.6."""
    p = fitted.params_
    assert (p.alpha, p.beta, p.gamma, p.delta) == pytest.approx(
        (1.204, 0.750, 0.657, 2.783), rel=2e-3
    )
    assert fitted.log_likelihood_ == pytest.approx(-33225.6, abs=0.05)
    assert fitted.fit_ is not None
    assert fitted.fit_.n_observations == 11104
    assert fitted.fit_.n_rows == 22


def test_standard_errors_match_natural_parameter_hessian(fitted, donations):
    """The covariance equals the inverse of a value-only finite-difference Hessian."""
    rows = donations.compress()
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


def test_expected_counts_track_the_observed_frequency_distribution(fitted, donations):
    """The fitted model's expected number of donors with x donations is within 6% of the data (the fit of FHS Fig. 2)."""
    observed = np.bincount(donations.frequency, weights=donations.weights, minlength=7)
    expected = fitted.expected_frequency_counts(6, 11104)
    assert expected.sum() == pytest.approx(11104)
    np.testing.assert_allclose(expected, observed, rtol=0.06)


def test_exact_simulation_is_recovered_within_standard_errors():
    """A fit on 20,000 simulated donors over 8 opportunities lands within 3 standard errors of the truth."""
    truth = (1.204, 0.750, 0.657, 2.783)
    model = BGBB().fit(simulate_bgbb(20000, *truth, n_periods=8, seed=9))
    estimate = np.array([getattr(model.params_, n) for n in NAMES])
    se = np.array([model.standard_errors_[n] for n in NAMES])
    assert np.all(np.abs(estimate - truth) < 3 * se)


@pytest.mark.oracle
def test_predictions_agree_with_lifetimes(fitted, donations):
    """P(alive), the conditional expectation and the expected frequency counts agree with lifetimes."""
    import pandas as pd
    from lifetimes import BetaGeoBetaBinomFitter

    oracle = BetaGeoBetaBinomFitter()
    oracle.params_ = pd.Series({n: getattr(fitted.params_, n) for n in NAMES})
    x, t_x, n = donations.frequency, donations.recency, donations.T
    np.testing.assert_allclose(
        fitted.probability_alive_at(2, donations),
        oracle.conditional_probability_alive(2, x, t_x, n),
        rtol=1e-9,
    )
    np.testing.assert_allclose(
        fitted.expected_purchases(5, donations),
        oracle.conditional_expected_number_of_purchases_up_to_time(5, x, t_x, n),
        rtol=1e-9,
    )
    oracle.data = pd.DataFrame({"frequency": x, "weights": donations.weights})
    theirs = oracle.expected_number_of_transactions_in_first_n_periods(6)["model"].to_numpy()
    np.testing.assert_allclose(fitted.expected_frequency_counts(6, 11104), theirs, rtol=1e-9)


def test_conditional_expectation_of_a_perfect_donor_matches_published_value():
    """FHS (2010): a donor who gave in all six years is expected to give 3.75 times in the next five."""
    model = BGBB.from_params(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)
    perfect = CustomerSummary.from_arrays([6], [6], [6], unit="Y")
    assert model.expected_purchases(5, perfect)[0] == pytest.approx(3.75, abs=0.005)


def test_new_customer_expectation_is_the_pmf_mean(fitted):
    """E[X(n)] equals the mean of P(X(n)=x) over x = 0..n."""
    for n in (1, 6, 20):
        pmf = fitted.probability_of_purchases(np.arange(n + 1), n)
        assert np.arange(n + 1) @ pmf == pytest.approx(
            float(fitted.expected_purchases_new_customer(n)), rel=1e-10
        )


def test_methods_before_fit_raise_not_fitted(donations):
    """Predictions need a fitted model."""
    with pytest.raises(NotFittedError, match="not fitted"):
        BGBB().probability_alive(donations)


def test_bad_patterns_and_arguments_are_rejected(fitted):
    """Fractional opportunities, x > t_x and bad counts raise InvalidInputError naming the column."""
    fractional = CustomerSummary.from_arrays([1], [2.5], [6.0], unit="Y")
    with pytest.raises(InvalidInputError, match=r"'recency'.*whole"):
        BGBB().fit(fractional)
    impossible = CustomerSummary.from_arrays([3], [2.0], [6.0], unit="Y")
    with pytest.raises(InvalidInputError, match=r"'frequency'.*<= 'recency'"):
        fitted.probability_alive(impossible)
    with pytest.raises(InvalidInputError, match="'t' argument"):
        fitted.expected_purchases(1.5, CustomerSummary.from_arrays([1], [1.0], [6.0], unit="Y"))
    with pytest.raises(InvalidInputError, match="'t' argument"):
        fitted.probability_alive_at(-1, CustomerSummary.from_arrays([1], [1.0], [6.0], unit="Y"))
    with pytest.raises(InvalidInputError, match="'n_customers'"):
        fitted.expected_frequency_counts(6, 0)


def test_json_round_trip_keeps_fitted_state(fitted, donations):
    """relmark.io writes and reads back parameters, covariance and fit metadata exactly."""
    from relmark.io import from_json, to_json

    back = from_json(to_json(fitted), BGBB)
    assert isinstance(back.params_, BGBBParams)
    assert back.params_ == fitted.params_
    np.testing.assert_array_equal(back.covariance_, fitted.covariance_)
    np.testing.assert_array_equal(
        back.expected_purchases(3, donations), fitted.expected_purchases(3, donations)
    )


@pytest.mark.oracle
def test_probability_alive_is_alive_at_the_end_of_observation(fitted, donations):
    """probability_alive is alive at opportunity n (lifetimes m = 0); FHS eq. 11 is t = 1."""
    import pandas as pd
    from lifetimes import BetaGeoBetaBinomFitter

    oracle = BetaGeoBetaBinomFitter()
    oracle.params_ = pd.Series({n: getattr(fitted.params_, n) for n in NAMES})
    x, t_x, n = donations.frequency, donations.recency, donations.T
    np.testing.assert_allclose(
        fitted.probability_alive(donations),
        oracle.conditional_probability_alive(0, x, t_x, n),
        rtol=1e-9,
    )
    np.testing.assert_allclose(
        fitted.probability_alive_at(1, donations),
        oracle.conditional_probability_alive(1, x, t_x, n),
        rtol=1e-9,
    )
    table = fitted.probability_alive_at_grid([0, 1, 2], donations)
    np.testing.assert_array_equal(table[:, 0], fitted.probability_alive(donations))
    assert np.all(np.diff(table, axis=1) <= 0)
    with pytest.raises(InvalidInputError, match="probability_alive_at_grid"):
        fitted.probability_alive_at([0, 1, 2], donations)


def test_per_customer_opportunities_match_scalar_calls(fitted, donations):
    """One horizon per customer equals the scalar call, customer by customer (lifetimes style)."""
    horizons = np.where(np.arange(len(donations)) % 2 == 0, 1.0, 4.0)
    got = fitted.expected_purchases(horizons, donations)
    np.testing.assert_array_equal(got[::2], fitted.expected_purchases(1, donations)[::2])
    np.testing.assert_array_equal(got[1::2], fitted.expected_purchases(4, donations)[1::2])
    grid = fitted.expected_purchases_grid([1, 4], donations)
    np.testing.assert_array_equal(grid[:, 1], fitted.expected_purchases(4, donations))


def test_a_perfect_donor_is_certainly_alive_at_the_end_of_observation():
    """Who gave at opportunity n was alive then: P(alive at n) = 1 when t_x = n (hand case)."""
    model = BGBB.from_params(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)
    perfect = CustomerSummary.from_arrays([6, 3], [6, 6], [6, 6], unit="Y")
    np.testing.assert_allclose(model.probability_alive(perfect), 1.0, rtol=1e-12)
    assert np.all(model.probability_alive_at(1, perfect) < 1.0)


def test_compressed_patterns_give_one_value_per_pattern(fitted, donations):
    """A CompressedSummary gives per-pattern values that gather back to the per-customer ones."""
    rows = donations.compress()
    for method in ("expected_purchases", "probability_alive_at"):
        per_row = getattr(fitted, method)(3, rows)
        assert per_row.shape == (len(rows),)
        np.testing.assert_array_equal(per_row[rows.inverse], getattr(fitted, method)(3, donations))
    np.testing.assert_array_equal(
        fitted.probability_alive(rows)[rows.inverse], fitted.probability_alive(donations)
    )
    np.testing.assert_array_equal(
        fitted.expected_purchases_grid([1, 2], rows)[rows.inverse],
        fitted.expected_purchases_grid([1, 2], donations),
    )


def test_shared_plumbing_keeps_discrete_time_refusals(fitted, donations):
    """Fractional periods, other units and unfitted use are refused by every prediction."""
    with pytest.raises(InvalidInputError, match=r"BGBB\.expected_purchases_grid must hold whole"):
        fitted.expected_purchases_grid([1, 2.5], donations)
    with pytest.raises(InvalidInputError, match=r"BGBB\.expected_purchases_new_customer must hold"):
        fitted.expected_purchases_new_customer(0.5)
    with pytest.raises(InvalidInputError, match=r"BGBB\.probability_of_purchases must hold whole"):
        fitted.probability_of_purchases(1, 2.5)
    monthly = CustomerSummary.from_arrays([1], [1.0], [6.0], unit="M")
    with pytest.raises(InvalidInputError, match="not converted between units"):
        fitted.probability_alive_at_grid([1], monthly)
    with pytest.raises(InvalidInputError, match=r"'summary' argument of BGBB\.probability_alive"):
        fitted.probability_alive([1, 2])
    with pytest.raises(NotFittedError, match=r"BGBB\.probability_alive_at_grid"):
        BGBB().probability_alive_at_grid([1], donations)
