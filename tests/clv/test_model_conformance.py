"""Every CLV model passes the same conformance checks: one lifecycle, one set of guarantees.

Each case names a model, how to fit it on real published data (CDNOW, the donations patterns, the
Fader & Hardie 2007 survivor counts), the same data in another row order, and a prediction to
compare. The checks are the estimator contract of STYLE.md plus the statistical invariants every
maximum-likelihood model owes its users.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import numpy as np
import pytest

import relmark
from relmark.clv import ParametricModel
from relmark.clv.registry import TRANSACTION_MODELS
from relmark.datasets import load_cdnow_sample_summary, load_donations
from relmark.errors import InvalidInputError, NotFittedError
from relmark.io import from_json, to_json

CDNOW = load_cdnow_sample_summary()
DONATIONS = load_donations()
PERMUTATION = np.random.default_rng(20240501).permutation(len(CDNOW))
REGULAR = np.array([1000, 631, 468, 382, 326, 289, 262, 241])
PERIODS = np.concatenate([np.arange(1, 8).repeat(-np.diff(REGULAR)), np.full(241, 7)])
CHURNED = np.concatenate([np.ones(1000 - 241, dtype=bool), np.zeros(241, dtype=bool)])
SBG_ORDER = np.random.default_rng(7).permutation(PERIODS.size)


@attrs.frozen
class Case:
    """How to exercise one model class."""

    model: type[ParametricModel]
    fit: Callable[[Any], Any]
    fit_permuted: Callable[[Any], Any]
    predict: Callable[[Any], np.ndarray]


def _repeat_buying(model: type[ParametricModel]) -> Case:
    return Case(
        model=model,
        fit=lambda m: m.fit(CDNOW),
        fit_permuted=lambda m: m.fit(CDNOW.take(PERMUTATION)),
        predict=lambda m: np.concatenate(
            [m.expected_purchases(39.0, CDNOW), m.probability_alive(CDNOW)]
        ),
    )


CASES: dict[str, Case] = {
    # Every registered transaction model, so a new one is covered without an edit here.
    **{model.__name__: _repeat_buying(model) for model in TRANSACTION_MODELS.values()},
    "GammaGamma": Case(
        model=relmark.GammaGamma,
        fit=lambda m: m.fit(CDNOW),
        fit_permuted=lambda m: m.fit(CDNOW.take(PERMUTATION)),
        predict=lambda m: m.expected_spend(CDNOW),
    ),
    "BGBB": Case(
        model=relmark.BGBB,
        fit=lambda m: m.fit(DONATIONS),
        fit_permuted=lambda m: m.fit(DONATIONS.take(np.arange(len(DONATIONS))[::-1])),
        predict=lambda m: np.concatenate(
            [m.expected_purchases(5, DONATIONS), m.probability_alive(DONATIONS)]
        ),
    ),
    "ShiftedBetaGeometric": Case(
        model=relmark.ShiftedBetaGeometric,
        fit=lambda m: m.fit(PERIODS, CHURNED),
        fit_permuted=lambda m: m.fit(PERIODS[SBG_ORDER], CHURNED[SBG_ORDER]),
        predict=lambda m: np.concatenate(
            [m.survival(np.arange(1, 13)), m.retention_rate(np.arange(1, 13))]
        ),
    ),
}


@pytest.fixture(scope="module", params=sorted(CASES))
def fitted(request: pytest.FixtureRequest) -> tuple[Case, Any]:
    case = CASES[request.param]
    return case, case.fit(case.model())


def _params(model: Any) -> dict[str, float]:
    return attrs.asdict(model.params_)


def test_fit_returns_self_and_names_its_parameters(fitted: tuple[Case, Any]) -> None:
    """``fit`` returns the instance; ``params_`` has exactly the model's positive parameters."""
    case, model = fitted
    fresh = case.model()
    assert case.fit(fresh) is fresh
    params = _params(model)
    assert tuple(params) == case.model.parameter_names()
    assert all(np.isfinite(v) and v > 0 for v in params.values())


def test_methods_need_a_fit_first(fitted: tuple[Case, Any]) -> None:
    """Predictions and the summary table raise ``NotFittedError`` before ``fit``."""
    case, _ = fitted
    with pytest.raises(NotFittedError, match="not fitted"):
        case.predict(case.model())
    with pytest.raises(NotFittedError):
        case.model().summary()


def test_covariance_is_symmetric_positive_definite_with_matching_errors(
    fitted: tuple[Case, Any],
) -> None:
    """The covariance is symmetric (unlike lifetimes'), positive definite, and gives the SEs."""
    _, model = fitted
    cov = model.covariance_
    assert np.array_equal(cov, cov.T)
    assert np.all(np.linalg.eigvalsh(cov) > 0)
    errors = np.array([model.standard_errors_[n] for n in model.parameter_names()])
    np.testing.assert_allclose(errors, np.sqrt(np.diag(cov)), rtol=1e-12)


def test_summary_table_brackets_each_estimate(fitted: tuple[Case, Any]) -> None:
    """Each confidence interval contains its estimate and is positive (log-scale Wald)."""
    _, model = fitted
    table = model.summary(0.9)
    assert table.names == model.parameter_names()
    assert np.all((table.lower > 0) & (table.lower < table.estimate))
    assert np.all(table.upper > table.estimate)


def test_fit_is_invariant_to_row_order(fitted: tuple[Case, Any]) -> None:
    """Reordering customers changes neither the estimates nor the log-likelihood."""
    case, model = fitted
    other = case.fit_permuted(case.model())
    np.testing.assert_allclose(
        list(_params(other).values()), list(_params(model).values()), rtol=1e-7
    )
    assert other.log_likelihood_ == pytest.approx(model.log_likelihood_, rel=1e-10)


def test_from_params_predicts_like_the_fitted_model(fitted: tuple[Case, Any]) -> None:
    """A model rebuilt from its parameters predicts exactly what the fitted one does."""
    case, model = fitted
    kwargs = _params(model)
    if hasattr(model, "unit_"):
        kwargs["unit"] = model.unit_
    rebuilt = case.model.from_params(**kwargs)
    np.testing.assert_array_equal(case.predict(rebuilt), case.predict(model))
    assert np.isnan(rebuilt.log_likelihood_)


def test_json_round_trip_is_exact(fitted: tuple[Case, Any]) -> None:
    """Parameters, covariance, fit metadata and predictions survive JSON exactly."""
    case, model = fitted
    restored = from_json(to_json(model), case.model)
    assert restored.params_ == model.params_
    np.testing.assert_array_equal(restored.covariance_, model.covariance_)
    assert restored.fit_ == model.fit_
    np.testing.assert_array_equal(case.predict(restored), case.predict(model))


def test_bad_penalizer_is_a_clear_error(fitted: tuple[Case, Any]) -> None:
    """A negative penalizer is refused at fit time, naming the parameter and the model."""
    case, _ = fitted
    with pytest.raises(InvalidInputError, match=rf"'penalizer' parameter of {case.model.__name__}"):
        case.fit(case.model(penalizer=-1.0))
