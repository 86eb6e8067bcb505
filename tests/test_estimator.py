"""The sklearn-style estimator conventions: get/set_params, clone and repr."""

from __future__ import annotations

import pytest

from relmark._estimator import Estimator
from relmark.errors import InvalidInputError


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
    assert repr(est) == "Outer(inner=None, level=1)  # not fitted"
    assert repr(est.fit()).endswith("# fitted")


@pytest.mark.parametrize(
    "make",
    [
        "relmark.clv:BGNBD",
        "relmark.clv:ParetoNBD",
        "relmark.clv:GammaGamma",
        "relmark.clv:CLVScorer",
        "relmark.clv:BGNBDScorer",
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
