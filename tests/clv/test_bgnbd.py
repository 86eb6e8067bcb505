"""BGNBD estimator: published CDNOW oracles, lifetimes agreement, properties, persistence."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from relmark.clv import BGNBD, BGNBDParams, ParameterTable
from relmark.core import bgnbd as kernels
from relmark.core.mle import maximize_likelihood
from relmark.data.summary import CustomerSummary
from relmark.datasets import load_cdnow_sample_summary, simulate_bgnbd
from relmark.errors import ConvergenceError, InvalidInputError, NotFittedError

CDNOW_MLE = {"r": 0.242593, "alpha": 4.413532, "a": 0.792886, "b": 2.425752}


@pytest.fixture(scope="module")
def cdnow():
    return load_cdnow_sample_summary()


@pytest.fixture(scope="module")
def fitted(cdnow):
    return BGNBD().fit(cdnow)


def _random_summary(seed, n=300, unit="W"):
    rng = np.random.default_rng(seed)
    x = rng.poisson(rng.gamma(0.8, 4.0, n))
    T = rng.uniform(5.0, 60.0, n)
    t_x = np.where(x > 0, T * rng.uniform(0.0, 1.0, n), 0.0)
    return CustomerSummary.from_arrays(x, t_x, T, unit=unit)


def test_cdnow_fit_matches_published_estimates(fitted):
    """Fitting the CDNOW sample gives FHL (2005): r=.243, alpha=4.414, a=.793, b=2.426, LL=-9582.4."""
    p = fitted.params_
    assert (p.r, p.alpha, p.a, p.b) == pytest.approx((0.243, 4.414, 0.793, 2.426), abs=6e-4)
    assert fitted.log_likelihood_ == pytest.approx(-9582.4, abs=0.05)
    assert fitted.fit_ is not None
    assert fitted.fit_.n_observations == 2357


def test_cdnow_predictions_match_published_values():
    """With the unrounded MLE, E[X(t)] at 1/3/32/78 weeks and the x=2 customer's E[X(39)] match FHL."""
    model = BGNBD.from_params(**CDNOW_MLE)
    np.testing.assert_allclose(
        model.expected_purchases_new_customer([1, 3, 32, 78]),
        [0.0532, 0.1506, 1.0437, 1.858],
        atol=6e-5,
    )
    one = CustomerSummary.from_arrays([2], [30.43], [38.86])
    assert model.expected_purchases(39, one)[0] == pytest.approx(1.226, abs=5e-4)


def test_standard_errors_match_natural_parameter_hessian(fitted, cdnow):
    """Delta-method covariance equals the inverse Hessian computed directly in (r, alpha, a, b)."""
    rows = cdnow.compress()
    theta = np.array([getattr(fitted.params_, n) for n in ("r", "alpha", "a", "b")])

    def total(params):
        ll = kernels.log_likelihood(rows.frequency, rows.recency, rows.T, *params)
        return float(rows.weights @ ll)

    k = 4
    hess = np.empty((k, k))
    h = 1e-4 * theta
    for i in range(k):
        for j in range(k):
            ei, ej = np.eye(k)[i] * h[i], np.eye(k)[j] * h[j]
            hess[i, j] = (
                total(theta + ei + ej)
                - total(theta + ei - ej)
                - total(theta - ei + ej)
                + total(theta - ei - ej)
            ) / (4 * h[i] * h[j])
    np.testing.assert_allclose(fitted.covariance_, np.linalg.inv(-hess), rtol=2e-3)
    np.testing.assert_array_equal(fitted.covariance_, fitted.covariance_.T)
    for i, name in enumerate(("r", "alpha", "a", "b")):
        assert fitted.standard_errors_[name] == pytest.approx(np.sqrt(fitted.covariance_[i, i]))


def test_summary_table_reports_estimates_and_positive_intervals(fitted):
    """The parameter table holds estimates, SEs and log-scale Wald intervals around the estimate."""
    table = fitted.summary()
    assert isinstance(table, ParameterTable)
    assert table.names == ("r", "alpha", "a", "b")
    assert np.all(table.lower > 0)
    assert np.all((table.lower < table.estimate) & (table.estimate < table.upper))
    assert "alpha" in str(table)
    assert table.columns()["parameter"] == ["r", "alpha", "a", "b"]


def test_compressed_and_uncompressed_fits_agree(cdnow):
    """Fitting raw rows with unit weights, or distinct rows with counts, gives the same estimates."""
    model = BGNBD().fit(cdnow)
    x = cdnow.frequency.astype(float)
    raw = maximize_likelihood(
        kernels.log_likelihood_and_gradient,
        (x, cdnow.recency, cdnow.T),
        np.ones(len(cdnow)),
        ("r", "alpha", "a", "b"),
        np.zeros(4),
    )
    fitted = np.array([getattr(model.params_, n) for n in ("r", "alpha", "a", "b")])
    np.testing.assert_allclose(fitted, raw.params, rtol=1e-6)
    rows = cdnow.compress()
    weighted = CustomerSummary.from_arrays(
        rows.frequency, rows.recency, rows.T, weights=rows.weights
    )
    again = BGNBD().fit(weighted)
    assert again.params_.alpha == pytest.approx(model.params_.alpha, rel=1e-8)
    assert again.log_likelihood_ == pytest.approx(model.log_likelihood_, rel=1e-12)


def test_exact_simulation_recovers_parameters_within_standard_errors():
    """A 30,000-customer exact BG/NBD simulation is refitted to within 3 standard errors of the truth."""
    truth = {"r": 0.6, "alpha": 5.0, "a": 0.9, "b": 3.0}
    summary = simulate_bgnbd(30_000, **truth, T=52.0, seed=2024)
    model = BGNBD().fit(summary)
    for name, value in truth.items():
        estimate = getattr(model.params_, name)
        assert abs(estimate - value) <= 3 * model.standard_errors_[name], name


def test_penalizer_shrinks_towards_one_independently_of_size(cdnow):
    """A penalizer moves the estimates; duplicating every customer keeps them unchanged."""
    plain = BGNBD().fit(cdnow)
    penalized = BGNBD(penalizer=0.1).fit(cdnow)
    assert abs(np.log(penalized.params_.alpha)) < abs(np.log(plain.params_.alpha))
    doubled = CustomerSummary.from_arrays(
        cdnow.frequency, cdnow.recency, cdnow.T, weights=np.full(len(cdnow), 2.0)
    )
    again = BGNBD(penalizer=0.1).fit(doubled)
    assert again.params_.alpha == pytest.approx(penalized.params_.alpha, rel=1e-7)


def test_predictions_broadcast_over_horizons(fitted, cdnow):
    """The grid method gives one column per horizon, equal to the scalar calls."""
    grid = fitted.expected_purchases_grid([0.0, 10.0, 52.0], cdnow)
    assert grid.shape == (len(cdnow), 3)
    np.testing.assert_array_equal(grid[:, 0], 0.0)
    np.testing.assert_allclose(grid[:, 2], fitted.expected_purchases(52.0, cdnow), rtol=1e-14)
    probs = fitted.probability_of_purchases(np.arange(4)[:, None], np.array([[10.0, 20.0]]))
    assert probs.shape == (4, 2)


def test_summary_in_another_unit_is_converted(fitted, cdnow):
    """A summary in days gives the same predictions as the same customers in weeks."""
    days = CustomerSummary.from_arrays(cdnow.frequency, cdnow.recency * 7, cdnow.T * 7, unit="D")
    np.testing.assert_allclose(
        fitted.probability_alive(days), fitted.probability_alive(cdnow), rtol=1e-12
    )
    np.testing.assert_allclose(
        fitted.expected_purchases(10.0, days), fitted.expected_purchases(10.0, cdnow), rtol=1e-12
    )


@pytest.mark.oracle
def test_predictions_agree_with_lifetimes_on_random_data():
    """CET, P(alive), E[X(t)] and P(X(t)=n) equal lifetimes' BetaGeoFitter to 1e-6 relative."""
    pd = pytest.importorskip("pandas")
    from lifetimes import BetaGeoFitter

    rng = np.random.default_rng(99)
    summary = _random_summary(5)
    for _ in range(3):
        params = {
            "r": rng.uniform(0.1, 3),
            "alpha": rng.uniform(0.5, 20),
            "a": rng.uniform(0.2, 3),
            "b": rng.uniform(0.5, 8),
        }
        ours = BGNBD.from_params(**params)
        theirs = BetaGeoFitter()
        theirs.params_ = pd.Series(params)
        x, t_x, T = summary.frequency, summary.recency, summary.T
        np.testing.assert_allclose(
            ours.expected_purchases(13.0, summary),
            theirs.conditional_expected_number_of_purchases_up_to_time(13.0, x, t_x, T),
            rtol=1e-6,
        )
        np.testing.assert_allclose(
            ours.probability_alive(summary),
            theirs.conditional_probability_alive(x, t_x, T),
            rtol=1e-6,
        )
        horizons = np.array([1.0, 7.5, 40.0])
        np.testing.assert_allclose(
            ours.expected_purchases_new_customer(horizons),
            theirs.expected_number_of_purchases_up_to_time(horizons),
            rtol=1e-6,
        )
        for n in (0, 1, 4):
            assert ours.probability_of_purchases(n, 20.0) == pytest.approx(
                theirs.probability_of_n_purchases_up_to_time(20.0, n), rel=1e-6
            )


@pytest.mark.oracle
def test_fit_agrees_with_lifetimes_on_cdnow(cdnow, fitted):
    """lifetimes' BetaGeoFitter finds the same CDNOW estimates to 1e-4 relative."""
    from lifetimes import BetaGeoFitter

    theirs = BetaGeoFitter().fit(cdnow.frequency, cdnow.recency, cdnow.T)
    for name in ("r", "alpha", "a", "b"):
        assert getattr(fitted.params_, name) == pytest.approx(theirs.params_[name], rel=1e-4)


customers = st.tuples(
    st.integers(0, 500),
    st.floats(0.0, 1.0),
    st.floats(0.01, 1000.0),
)
parameters = st.tuples(*(st.floats(1e-3, 1e3) for _ in range(4)))


@given(customer=customers, params=parameters)
def test_probability_alive_is_a_probability(customer, params):
    """P(alive) lies in [0, 1] for any history and parameters."""
    x, share, T = customer
    model = BGNBD.from_params(r=params[0], alpha=params[1], a=params[2], b=params[3])
    s = CustomerSummary.from_arrays([x], [share * T if x else 0.0], [T])
    value = model.probability_alive(s)[0]
    assert 0.0 <= value <= 1.0


@given(
    customer=customers, params=parameters, t=st.lists(st.floats(0.0, 1e4), min_size=2, max_size=6)
)
def test_expected_purchases_is_zero_at_zero_and_non_decreasing(customer, params, t):
    """E[X(t) | history] is 0 at t=0, finite, and non-decreasing in t."""
    x, share, T = customer
    model = BGNBD.from_params(r=params[0], alpha=params[1], a=params[2], b=params[3])
    s = CustomerSummary.from_arrays([x], [share * T if x else 0.0], [T])
    horizons = np.sort(np.array([0.0, *t]))
    values = model.expected_purchases_grid(horizons, s)[0]
    assert values[0] == 0.0
    assert np.all(np.isfinite(values))
    assert np.all(np.diff(values) >= -1e-9 * np.abs(values[1:]))


def test_methods_before_fit_raise_not_fitted(cdnow):
    """Predictions and the summary table need a fitted model."""
    with pytest.raises(NotFittedError, match="not fitted"):
        BGNBD().probability_alive(cdnow)
    with pytest.raises(NotFittedError):
        BGNBD().summary()


@pytest.mark.parametrize("penalizer", [-1.0, float("nan"), "0.1", True])
def test_bad_penalizer_is_rejected_at_fit(cdnow, penalizer):
    """The penalizer is validated in fit with the standard message."""
    with pytest.raises(
        InvalidInputError, match="'penalizer' parameter of BGNBD must be a float >= 0"
    ):
        BGNBD(penalizer=penalizer).fit(cdnow)


def test_bad_prediction_arguments_are_rejected(fitted, cdnow):
    """Negative horizons, non-integer counts and non-summaries raise InvalidInputError."""
    with pytest.raises(InvalidInputError, match="'t' argument"):
        fitted.expected_purchases(-1.0, cdnow)
    with pytest.raises(InvalidInputError, match="'n' argument"):
        fitted.probability_of_purchases(1.5, 3.0)
    with pytest.raises(InvalidInputError, match="CustomerSummary"):
        fitted.probability_alive({"frequency": [1]})
    with pytest.raises(InvalidInputError, match="'alpha' parameter of BGNBDParams"):
        BGNBD.from_params(r=1.0, alpha=-2.0, a=1.0, b=1.0)


def test_unidentified_data_raise_convergence_error_with_advice():
    """With no repeat purchases at all the dropout process is not identified: ConvergenceError says what to try."""
    s = CustomerSummary.from_arrays(np.zeros(50), np.zeros(50), np.full(50, 30.0))
    with pytest.raises(ConvergenceError, match="penalizer"):
        BGNBD().fit(s)


def test_json_round_trip_keeps_fitted_state(fitted, cdnow):
    """relmark.io writes and reads back parameters, covariance and fit metadata exactly."""
    from relmark.io import from_json, to_json

    back = from_json(to_json(fitted), BGNBD)
    assert back.params_ == fitted.params_
    assert isinstance(back.params_, BGNBDParams)
    np.testing.assert_array_equal(back.covariance_, fitted.covariance_)
    assert back.fit_ == fitted.fit_
    assert back.unit_ is fitted.unit_
    np.testing.assert_array_equal(back.probability_alive(cdnow), fitted.probability_alive(cdnow))
    known = BGNBD.from_params(**CDNOW_MLE)
    again = from_json(to_json(known), BGNBD)
    assert again.params_ == known.params_
    assert again.fit_ is None
