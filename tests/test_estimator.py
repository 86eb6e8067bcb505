"""The sklearn-style estimator conventions: get/set_params, clone and repr."""

from __future__ import annotations

import pytest

from relmark._estimator import Estimator, fitted_attribute
from relmark.errors import InvalidInputError, NotFittedError


class Inner(Estimator):
    def __init__(self, *, rate: float = 0.5) -> None:
        self.rate = rate


class Outer(Estimator):
    def __init__(self, *, inner: Inner | None = None, level: int = 1) -> None:
        self.inner = inner
        self.level = level

    def fit(self):
        self.result_ = 1
        return self


def test_params_round_trip_and_nested_names():
    """get_params returns constructor arguments (nested with '__'); set_params sets them."""
    est = Outer(inner=Inner(rate=0.1), level=3)
    assert est.get_params(deep=False) == {"inner": est.inner, "level": 3}
    assert est.get_params()["inner__rate"] == 0.1
    est.set_params(level=4, inner__rate=0.2)
    assert est.level == 4
    assert est.inner.rate == 0.2


def test_sklearn_clone_rebuilds_an_unfitted_copy():
    """sklearn.base.clone (the real one) copies hyperparameters and drops fitted state."""
    clone = pytest.importorskip("sklearn.base").clone
    est = Outer(inner=Inner(rate=0.3), level=2).fit()
    copy = clone(est)
    assert copy is not est
    assert copy.get_params(deep=False)["level"] == 2
    assert copy.inner.rate == 0.3
    assert not hasattr(copy, "result_")


def test_unknown_parameters_are_named_and_repr_shows_state():
    """A wrong name lists the valid ones; repr shows the call and fitted state."""
    est = Outer()
    with pytest.raises(InvalidInputError, match="'nope' is not a parameter of Outer"):
        est.set_params(nope=1)
    with pytest.raises(InvalidInputError, match="not an estimator"):
        est.set_params(level__x=1)
    assert repr(est) == "Outer()  # not fitted"
    assert repr(est.fit()).endswith("# fitted")


@pytest.mark.parametrize(
    "make",
    [
        "relmark.clv:BGNBD",
        "relmark.clv:ParetoNBD",
        "relmark.clv:GammaGamma",
        "relmark.clv:CLVScorer",
        "relmark.clv:TransactionModelScorer",
        "relmark.rfm:RFMScorer",
        "relmark.trust:CommitmentTrustScorer",
    ],
)
def test_every_model_and_scorer_clones_with_sklearn(make):
    """sklearn.base.clone copies each relmark estimator's hyperparameters exactly."""
    import importlib

    clone = pytest.importorskip("sklearn.base").clone
    module, name = make.split(":")
    estimator = getattr(importlib.import_module(module), name)()
    params = estimator.get_params(deep=False)
    assert params
    copy = clone(estimator)
    assert type(copy) is type(estimator)
    assert copy.get_params(deep=False) == params


class Described(Estimator):
    _fit_hint = "Call fit(summary, covariates) first."

    def __init__(self, *, values: tuple[float, ...] = (1.0,), weights: object = None) -> None:
        self.values = values
        self.weights = weights

    def fit(self):
        self.rate_ = 0.25
        return self

    def _fitted_description(self) -> str:
        return f"rate={self.rate_:g}"


def test_repr_shows_only_changed_hyperparameters_and_a_fitted_description():
    """Defaults are left out (equal values of another type are not); the hook describes the fit."""
    import numpy as np

    assert repr(Described(values=(1.0,))) == "Described()  # not fitted"
    assert repr(Described(values=[1.0])) == "Described(values=[1.0])  # not fitted"
    assert repr(Outer(level=True)) == "Outer(level=True)  # not fitted"
    shown = repr(Described(weights=np.array([1.0, 2.0])))
    assert shown == "Described(weights=array([1., 2.]))  # not fitted"
    assert repr(Described().fit()) == "Described()  # fitted: rate=0.25"


def test_check_fitted_has_one_message_shape_and_the_class_hint():
    """_check_fitted names class, method and the class's own way to get fitted; passes after fit."""
    with pytest.raises(
        NotFittedError,
        match=r"^This Described is not fitted yet: Described\.predict needs its fitted state\. "
        r"Call fit\(summary, covariates\) first\.$",
    ):
        Described()._check_fitted("predict")
    Described().fit()._check_fitted("predict")
    assert issubclass(NotFittedError, ValueError)
    assert issubclass(NotFittedError, AttributeError)


def test_fitted_attribute_names_the_argument_and_its_owner():
    """A function given an unfitted estimator says which argument, of which function, and why."""
    assert fitted_attribute(Described().fit(), "rate_", argument="model", owner="f") == 0.25
    with pytest.raises(
        NotFittedError,
        match=r"^The 'model' argument of plot_x \(a Described\) is not fitted yet: plot_x needs "
        r"its fitted state\. Call fit\(summary, covariates\) first\.$",
    ):
        fitted_attribute(Described(), "rate_", argument="model", owner="plot_x")
    with pytest.raises(NotFittedError, match=r"\(a object\).*Call fit\(summary\) first"):
        fitted_attribute(object(), "unit_", argument="model", owner="f")


@pytest.mark.parametrize(
    ("function", "argument"),
    [
        ("customer_lifetime_value", "transaction_model"),
        ("tracking_curves", "model"),
        ("frequency_recency_matrix", "model"),
        ("repeat_purchase_histogram", "model"),
        ("calibration_holdout_table", "model"),
    ],
)
def test_functions_given_an_unfitted_model_name_the_argument(function, argument):
    """The clv functions taking a model refuse an unfitted one with the shared message."""
    from relmark import clv
    from relmark.data.log import TransactionLog

    log = TransactionLog.from_arrays(
        ["a", "a", "b", "a"], ["2024-01-01", "2024-02-01", "2024-01-15", "2024-04-01"], [5, 6, 7, 8]
    )
    split = log.split("2024-03-01", "2024-05-01")
    calls = {
        "customer_lifetime_value": lambda m: clv.customer_lifetime_value(
            m,
            clv.GammaGamma.from_params(p=6.0, q=4.0, gamma=15.0),
            split,
            horizon=12,
            unit="M",
            discount_rate=0.01,
        ),
        "tracking_curves": lambda m: clv.tracking_curves(m, log),
        "frequency_recency_matrix": lambda m: clv.frequency_recency_matrix(m, 5.0, max_frequency=2),
        "repeat_purchase_histogram": lambda m: clv.repeat_purchase_histogram(m, split),
        "calibration_holdout_table": lambda m: clv.calibration_holdout_table(m, split),
    }
    with pytest.raises(
        NotFittedError,
        match=rf"^The '{argument}' argument of {function} \(a BGNBD\) is not fitted yet: "
        rf"{function} needs its fitted state\.",
    ):
        calls[function](clv.BGNBD())
