"""The transaction-model registry: every registered model is reachable everywhere a model is offered.

The tests walk ``relmark.clv.registry.TRANSACTION_MODELS``; a new model that misses a step of the
checklist in ``CONTRIBUTING.md`` fails one of them, named after the step.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, cast

import attrs
import numpy as np
import pytest

import relmark
import relmark.clv
import relmark.datasets
from relmark.cli import _parser
from relmark.cli._options import MODELS
from relmark.clv import CLVScorer, RepeatBuyingModel, TransactionModelScorer
from relmark.clv.registry import TRANSACTION_MODELS, available_models, transaction_model
from relmark.data.summary import CustomerSummary
from relmark.datasets.simulate import TRANSACTION_SIMULATORS, simulate_transaction_log
from relmark.errors import InvalidInputError
from relmark.io import from_json, to_json
from relmark.scoring import ScorerRegistry, get_scorer
from relmark.testing import check_scorer
from relmark.typing import TransactionKernels

ROOT = Path(__file__).resolve().parents[2]
NAMES = sorted(TRANSACTION_MODELS)


def _model(name: str) -> type[RepeatBuyingModel]:
    return TRANSACTION_MODELS[name]


def _unit_parameters(name: str) -> dict[str, float]:
    """Every parameter 1.0: valid for any model of positive parameters (one purchase a week)."""
    return dict.fromkeys(_model(name).parameter_names(), 1.0)


@pytest.fixture(scope="module", params=NAMES)
def name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def simulated(name: str) -> CustomerSummary:
    """2,000 customers of the model's own simulator, with Gamma-Gamma-like spend attached."""
    summary = TRANSACTION_SIMULATORS[name](
        2000, *_unit_parameters(name).values(), T=52.0, seed=11, unit="W"
    )
    spend = np.random.default_rng(12).gamma(6.0, 5.0, size=len(summary))
    return CustomerSummary.from_arrays(
        summary.frequency,
        summary.recency,
        summary.T,
        monetary=np.where(summary.frequency > 0, spend, 0.0),
        unit="W",
    )


def test_registry_lists_models_by_their_declared_names() -> None:
    """Keys are the classes' own ``name``; lookups by name work and unknown names are refused."""
    assert available_models() == tuple(TRANSACTION_MODELS)
    assert available_models()[:3] == ("bgnbd", "mbgnbd", "paretonbd")
    for key, model in TRANSACTION_MODELS.items():
        assert model.name == key
        assert transaction_model(key) is model
    with pytest.raises(InvalidInputError, match=r"'model' parameter of relmark must be .* 'bgnbd'"):
        transaction_model("BG/NBD")
    with pytest.raises(TypeError):
        TRANSACTION_MODELS["x"] = RepeatBuyingModel  # type: ignore[index]


def test_model_declares_name_literature_name_parameters_and_kernels(name: str) -> None:
    """The class is a RepeatBuyingModel with a lower-case name, a record and typed kernels."""
    model = _model(name)
    assert issubclass(model, RepeatBuyingModel)
    assert re.fullmatch(r"[a-z][a-z0-9]*", model.name)
    assert model.literature_name
    assert model.literature_name != model.__name__
    assert attrs.has(model._params_type)
    # One starting value per parameter of the record, in the kernels' order.
    assert model()._start(1.0, 10.0).shape == (len(attrs.fields(model._params_type)),)
    kernels = model._kernels
    for kernel in (
        "log_likelihood_and_gradient",
        "conditional_expected_purchases",
        "probability_alive",
        "probability_alive_at",
        "expected_purchases",
        "probability_of_purchases",
    ):
        assert hasattr(TransactionKernels, kernel)
        assert callable(getattr(kernels, kernel)), kernel
    # from_params takes the parameters by name: each model declares its own signature.
    known = cast("Any", model).from_params(**_unit_parameters(name))
    assert known.params_ == model._params_type(**_unit_parameters(name))


def test_scoring_registry_offers_the_model_under_its_name(
    name: str, simulated: CustomerSummary
) -> None:
    """``get_scorer(name)`` is a TransactionModelScorer of that model, passing check_scorer."""
    assert name in ScorerRegistry(entry_point_group=None).available()
    scorer = get_scorer(name, horizon=13)
    assert type(scorer) is TransactionModelScorer
    assert scorer.model == name
    check_scorer(scorer, simulated.take(np.arange(400)))
    fitted = scorer.fit(simulated)
    assert type(fitted.model_) is _model(name)
    description = fitted.score(simulated).info["probability_alive"].description
    assert description.endswith(f"({_model(name).literature_name}).")


def test_clv_scorer_takes_the_model(name: str, simulated: CustomerSummary) -> None:
    """``CLVScorer(transaction_model=name)`` fits that model and scores every customer."""
    scorer = CLVScorer(transaction_model=name).fit(simulated)
    assert type(scorer.transaction_model_) is _model(name)
    table = scorer.score(simulated)
    assert np.isfinite(table["clv"]).all()


def test_cli_offers_the_model_under_its_name(name: str) -> None:
    """``relmark score --model name`` parses, and the CLI shows the literature name."""
    assert MODELS[name] == _model(name).literature_name
    args = _parser().parse_args(["score", "in.csv", "-o", "out.csv", "--model", name])
    assert args.model == name


def test_cli_offers_nothing_else() -> None:
    """The CLI's plain-data copy of the registry has exactly the registered models, in order."""
    assert tuple(MODELS) == available_models()


def test_simulators_cover_the_model(name: str) -> None:
    """``simulate_<name>`` exists, is the registered simulator, and the log simulator takes it."""
    simulator = getattr(relmark.datasets, f"simulate_{name}")
    assert TRANSACTION_SIMULATORS[name] is simulator
    assert set(TRANSACTION_SIMULATORS) == set(TRANSACTION_MODELS)
    log = simulate_transaction_log(
        200, name, _unit_parameters(name), start="2021-01-01", end="2022-01-01", seed=3
    )
    assert log.n_customers == 200


def test_fitted_scorer_round_trips_through_json(name: str, simulated: CustomerSummary) -> None:
    """A scorer holding the fitted model is written and read back exactly, as the same class."""
    scorer = TransactionModelScorer(model=name).fit(simulated.take(np.arange(800)))
    text = to_json(scorer)
    assert json.loads(text)["fitted"]["model_"]["relmark"] == (
        f"{_model(name).__module__}.{_model(name).__qualname__}"
    )
    back = from_json(text, TransactionModelScorer)
    assert type(back.model_) is _model(name)
    assert to_json(back) == text
    assert back.score(simulated) == scorer.score(simulated)


def test_model_is_exported_at_the_top_level(name: str) -> None:
    """``relmark.<Class>`` and ``relmark.clv.<Class>`` are the registered class."""
    model = _model(name)
    for package in (relmark, relmark.clv):
        assert model.__name__ in package.__all__
        assert getattr(package, model.__name__) is model
    assert _model(name)._params_type.__name__ in relmark.__all__


def test_model_has_a_docs_reference_section(name: str) -> None:
    """``docs/reference/clv.md`` renders the model's module."""
    page = (ROOT / "docs" / "reference" / "clv.md").read_text(encoding="utf-8")
    assert f"::: {_model(name).__module__}\n" in page


def _unregistered_subclass() -> Any:
    class Unregistered(_model("bgnbd")):  # type: ignore[misc]
        name = "unregistered"

    return Unregistered


def test_a_model_missing_from_the_registry_is_offered_nowhere() -> None:
    """A subclass that is not registered is refused by the scorers and by the JSON writer."""
    unregistered = _unregistered_subclass()
    with pytest.raises(InvalidInputError, match="registered transaction model"):
        TransactionModelScorer(model=unregistered.name).fit(
            TRANSACTION_SIMULATORS["bgnbd"](50, 1.0, 1.0, 1.0, 1.0, T=10.0, seed=1)
        )
    scorer = TransactionModelScorer()
    scorer.model_ = unregistered.from_params(r=1.0, alpha=1.0, a=1.0, b=1.0)
    with pytest.raises(InvalidInputError, match="Expected an estimator of type BGNBD, MBGNBD"):
        to_json(scorer)
