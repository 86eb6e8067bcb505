"""The shared argument checks of ``relmark.clv``: one rule for numbers, everywhere in the package."""

from __future__ import annotations

import numpy as np
import pytest

from relmark._validation import check_real, check_whole
from relmark.clv import (
    BGBB,
    BGNBD,
    MBGNBD,
    CLVScorer,
    GammaGamma,
    ParetoNBD,
    ShiftedBetaGeometric,
    customer_lifetime_value,
)
from relmark.data.summary import CustomerSummary
from relmark.datasets import load_cdnow_sample_summary
from relmark.errors import InvalidInputError, NotFittedError

CDNOW = load_cdnow_sample_summary()

BUILDERS = {
    "BGNBD": (BGNBD, {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}),
    "MBGNBD": (MBGNBD, {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614}),
    "ParetoNBD": (ParetoNBD, {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}),
    "BGBB": (BGBB, {"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783}),
    "GammaGamma": (GammaGamma, {"p": 6.25, "q": 3.74, "gamma": 15.44}),
    "ShiftedBetaGeometric": (ShiftedBetaGeometric, {"alpha": 0.704, "beta": 1.182}),
}


@pytest.mark.parametrize("name", sorted(BUILDERS))
@pytest.mark.parametrize("bad", ["abc", None, True, np.True_, [1.0], float("nan"), -1.0])
def test_bad_parameter_values_raise_invalid_input_naming_the_field(name, bad):
    """from_params refuses non-numbers, booleans and non-positive values with InvalidInputError."""
    cls, params = BUILDERS[name]
    field = next(iter(params))
    with pytest.raises(InvalidInputError, match=rf"'{field}' parameter of \w+Params"):
        cls.from_params(**(params | {field: bad}))


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_numpy_and_text_parameters_are_converted(name):
    """NumPy scalars, 0-d arrays and numeric text become the same floats as Python numbers."""
    cls, params = BUILDERS[name]
    field = next(iter(params))
    plain = cls.from_params(**params).params_
    for value in (np.float64(params[field]), np.array(params[field]), str(params[field])):
        assert cls.from_params(**(params | {field: value})).params_ == plain


def test_numeric_arguments_accept_numpy_scalars_and_refuse_numpy_booleans():
    """One rule for every number: np.float64 / np.int64 pass, np.bool_ and bool fail."""
    assert check_real(np.float64(0.1), name="x") == 0.1
    assert check_whole(np.int64(3), name="n") == 3
    for flag in (True, np.True_):
        with pytest.raises(InvalidInputError, match="'x'"):
            check_real(flag, name="x")
        with pytest.raises(InvalidInputError, match="'n'"):
            check_whole(flag, name="n")
    with pytest.raises(InvalidInputError, match=r"inf\)?, which is not finite"):
        check_real(np.float64(np.inf), name="x")


def test_penalizer_and_clv_arguments_accept_numpy_scalars():
    """A numpy penalizer fits, and customer_lifetime_value takes numpy horizon/rate/margin."""
    model = BGNBD(penalizer=np.int64(0)).fit(CDNOW)
    assert model.fit_ is not None
    spend = GammaGamma.from_params(p=6.25, q=3.74, gamma=15.44)
    summary = CDNOW.take(np.arange(5))
    plain = customer_lifetime_value(
        model, spend, summary, horizon=3, unit="M", discount_rate=0.01, margin=1.0
    )
    numpy = customer_lifetime_value(
        model,
        spend,
        summary,
        horizon=np.int64(3),
        unit="M",
        discount_rate=np.float64(0.01),
        margin=np.int64(1),
    )
    np.testing.assert_array_equal(numpy, plain)
    with pytest.raises(InvalidInputError, match="'margin'"):
        customer_lifetime_value(
            model, spend, summary, horizon=3, unit="M", discount_rate=0.01, margin=np.True_
        )
    with pytest.raises(InvalidInputError, match="'discount_rate' parameter of CLVScorer"):
        CLVScorer(discount_rate=np.bool_(False)).fit(CDNOW)


def test_clv_of_an_unfitted_transaction_model_is_not_fitted_error():
    """An unfitted transaction model raises NotFittedError, not a bare AttributeError."""
    spend = GammaGamma.from_params(p=6.25, q=3.74, gamma=15.44)
    with pytest.raises(NotFittedError, match="not fitted"):
        customer_lifetime_value(BGNBD(), spend, CDNOW, horizon=3, unit="M", discount_rate=0.01)


@pytest.mark.parametrize("level", ["0.9", None, np.True_, 1.0, 0.0])
def test_summary_level_must_be_a_number_in_the_unit_interval(level):
    """summary(level=...) raises InvalidInputError naming 'level' for text, None, bools, bounds."""
    model = BGNBD.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    with pytest.raises(InvalidInputError, match="'level'"):
        model.summary(level)


def test_summary_accepts_a_numpy_level():
    """A numpy level gives the same table as the float."""
    model = BGNBD().fit(CDNOW)
    assert model.summary(np.float64(0.9)) == model.summary(0.9)


def test_stored_log_covariance_gives_the_same_intervals_as_the_delta_method():
    """log_covariance_ is the driver's Cov(ln theta), and equals Cov(theta)/theta theta^T."""
    model = BGNBD().fit(CDNOW)
    params = np.array([getattr(model.params_, n) for n in model.parameter_names()])
    np.testing.assert_allclose(
        model.log_covariance_, model.covariance_ / np.outer(params, params), rtol=1e-10
    )
    assert np.isnan(BGNBD.from_params(r=1, alpha=1, a=1, b=1).log_covariance_).all()


def test_unit_mismatch_is_refused_by_bgbb():
    """BG/BB counts opportunities; a summary in another unit is an error, not silently reused."""
    model = BGBB.from_params(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783, unit="Y")
    months = CustomerSummary.from_arrays([1], [2.0], [6.0], unit="M")
    with pytest.raises(InvalidInputError, match=r"'M'.*'Y'"):
        model.expected_purchases(1, months)
    with pytest.raises(InvalidInputError, match=r"'M'.*'Y'"):
        model.probability_alive(months)
