"""ShiftedBetaGeometric estimator: Fader & Hardie (2007) oracles, individual data, persistence."""

from __future__ import annotations

import numpy as np
import pytest

from relmark.clv.sbg import ShiftedBetaGeometric, ShiftedBetaGeometricParams
from relmark.core import sbg as kernels
from relmark.datasets.simulate import simulate_sbg
from relmark.errors import InvalidInputError, NotFittedError

REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241]
HIGH_END = [1000, 869, 743, 653, 593, 551, 517, 491]


@pytest.mark.parametrize(
    ("survivors", "published"), [(REGULAR, (0.704, 1.182)), (HIGH_END, (0.668, 3.806))]
)
def test_cohort_fit_matches_published_estimates(survivors, published):
    """fit_cohort on FH-07's survivor tables gives their alpha and beta."""
    model = ShiftedBetaGeometric().fit_cohort(survivors)
    assert (model.params_.alpha, model.params_.beta) == pytest.approx(published, rel=2e-3)
    assert model.fit_ is not None
    assert model.fit_.n_observations == 1000


def test_standard_errors_match_natural_parameter_hessian():
    """The covariance equals the inverse of a value-only finite-difference Hessian in (alpha, beta)."""
    model = ShiftedBetaGeometric().fit_cohort(REGULAR)
    t, churned, weights = kernels.cohort_rows(np.array(REGULAR, dtype=float))
    theta = np.array([model.params_.alpha, model.params_.beta])

    def total(params):
        return float(weights @ kernels.log_likelihood(t, churned, *params))

    hess = np.empty((2, 2))
    h = 1e-4 * theta
    for i in range(2):
        for j in range(2):
            ei, ej = np.eye(2)[i] * h[i], np.eye(2)[j] * h[j]
            hess[i, j] = (
                total(theta + ei + ej)
                - total(theta + ei - ej)
                - total(theta - ei + ej)
                + total(theta - ei - ej)
            ) / (4 * h[i] * h[j])
    np.testing.assert_allclose(model.covariance_, np.linalg.inv(-hess), rtol=2e-3)


def test_individual_data_give_the_cohort_fit():
    """fit(periods, churned) on the customers behind a survivor table equals fit_cohort on the table."""
    t, churned, weights = kernels.cohort_rows(np.array(REGULAR, dtype=float))
    counts = weights.astype(int)
    individual = ShiftedBetaGeometric().fit(
        np.repeat(t, counts), np.repeat(churned, counts).astype(bool)
    )
    cohort = ShiftedBetaGeometric().fit_cohort(REGULAR)
    assert individual.params_.alpha == pytest.approx(cohort.params_.alpha, rel=1e-6)
    assert individual.params_.beta == pytest.approx(cohort.params_.beta, rel=1e-6)
    assert individual.log_likelihood_ == pytest.approx(cohort.log_likelihood_, rel=1e-10)


def test_exact_simulation_is_recovered_within_standard_errors():
    """A fit on 20,000 simulated subscribers lands within 3 standard errors of the truth."""
    periods, churned = simulate_sbg(20000, 0.704, 1.182, 10, seed=4)
    model = ShiftedBetaGeometric().fit(periods, churned)
    se = model.standard_errors_
    assert abs(model.params_.alpha - 0.704) < 3 * se["alpha"]
    assert abs(model.params_.beta - 1.182) < 3 * se["beta"]


def test_predictions_from_published_parameters():
    """Retention rises with tenure, survival projects the table, DERL and lifetime follow the kernels."""
    model = ShiftedBetaGeometric.from_params(alpha=0.704, beta=1.182)
    retention = model.retention_rate(np.arange(1, 8))
    assert retention[0] == pytest.approx(1.182 / (0.704 + 1.182))
    assert np.all(np.diff(retention) > 0)
    assert np.max(np.abs(1000 * model.survival(np.arange(8)) - REGULAR)) < 10
    assert model.churn_probability(1)[()] == pytest.approx(0.704 / (0.704 + 1.182))
    assert model.expected_lifetime() == float("inf")
    assert ShiftedBetaGeometric.from_params(
        alpha=3.0, beta=2.0
    ).expected_lifetime() == pytest.approx(2.0)
    derl = model.discounted_expected_residual_lifetime([1, 5], 0.1)
    direct = [
        sum(model.survival(t) / model.survival(n - 1) / 1.1 ** (t - n) for t in range(n, n + 3000))
        for n in (1, 5)
    ]
    np.testing.assert_allclose(derl, direct, rtol=1e-10)


def test_methods_before_fit_raise_not_fitted():
    """Predictions need a fitted model."""
    with pytest.raises(NotFittedError, match="not fitted"):
        ShiftedBetaGeometric().survival(3)


def test_bad_inputs_are_rejected():
    """Rising survivors, fractional periods, mismatched lengths and bad rates raise InvalidInputError."""
    with pytest.raises(InvalidInputError, match="non-increasing"):
        ShiftedBetaGeometric().fit_cohort([100, 80, 90])
    with pytest.raises(InvalidInputError, match="'survivors'"):
        ShiftedBetaGeometric().fit_cohort([100])
    with pytest.raises(InvalidInputError, match=r"'periods'.*whole"):
        ShiftedBetaGeometric().fit([1.5, 2.0], [True, False])
    with pytest.raises(InvalidInputError, match=r"'churned' argument .* has 1 values"):
        ShiftedBetaGeometric().fit([1, 2], [True])
    with pytest.raises(InvalidInputError, match=">= 1 for churned"):
        ShiftedBetaGeometric().fit([0, 2], [True, False])
    with pytest.raises(InvalidInputError, match="'penalizer'"):
        ShiftedBetaGeometric(penalizer=-1).fit_cohort(REGULAR)
    model = ShiftedBetaGeometric.from_params(alpha=1.0, beta=1.0)
    with pytest.raises(InvalidInputError, match="'discount_rate'"):
        model.discounted_expected_residual_lifetime(1, 0.0)
    with pytest.raises(InvalidInputError, match="'t' argument"):
        model.retention_rate(0)


def test_json_round_trip_keeps_fitted_state():
    """relmark.io writes and reads back parameters, covariance and fit metadata exactly."""
    from relmark.io import from_json, to_json

    model = ShiftedBetaGeometric().fit_cohort(HIGH_END)
    back = from_json(to_json(model), ShiftedBetaGeometric)
    assert isinstance(back.params_, ShiftedBetaGeometricParams)
    assert back.params_ == model.params_
    np.testing.assert_array_equal(back.covariance_, model.covariance_)
    assert back.fit_ == model.fit_


def test_period_unit_is_recorded_when_given():
    """fit, fit_cohort and from_params store the period length as unit_ (None when not given)."""
    from relmark.data.units import TimeUnit

    survivors = [1000, 631, 468, 382, 326, 289, 262, 241]
    assert ShiftedBetaGeometric().fit_cohort(survivors, unit="M").unit_ is TimeUnit.MONTH
    assert ShiftedBetaGeometric().fit_cohort(survivors).unit_ is None
    periods = np.concatenate([np.arange(1, 8).repeat(-np.diff(survivors)), np.full(241, 7)])
    churned = np.arange(periods.size) < 1000 - 241
    assert ShiftedBetaGeometric().fit(periods, churned, unit="Y").unit_ is TimeUnit.YEAR
    model = ShiftedBetaGeometric.from_params(alpha=0.704, beta=1.182, unit="Q")
    assert model.unit_ is TimeUnit.QUARTER
    with pytest.raises(InvalidInputError, match="unit"):
        ShiftedBetaGeometric.from_params(alpha=0.704, beta=1.182, unit="fortnight")
