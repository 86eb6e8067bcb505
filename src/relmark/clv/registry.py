"""The transaction models relmark knows, listed once.

Every continuous-time transaction model (a
[`RepeatBuyingModel`][relmark.clv._base.RepeatBuyingModel] subclass declaring its ``name``,
``literature_name``, parameter record and kernels) is listed here and nowhere else. Everything
that offers a choice of transaction model derives it from this list:

- the scorer [`TransactionModelScorer`][relmark.clv.scorers.TransactionModelScorer] and
  [`CLVScorer`][relmark.clv.scorers.CLVScorer] (``model=`` / ``transaction_model=``);
- the scoring registry's built-in names (one scorer per model, under the model's name);
- the simulators' dispatch
  ([`simulate_transaction_log`][relmark.datasets.simulate.simulate_transaction_log]);
- the top-level exports of ``relmark`` and the classes [`relmark.io`][relmark.io] rebuilds
  under a ``RepeatBuyingModel`` annotation.

The CLI's ``--model`` choices are a plain-data copy (``relmark --help`` must not import numpy);
``tests/clv/test_registry.py`` walks this registry and fails when any of these places misses a
model. ``CONTRIBUTING.md`` has the checklist for adding one.

Examples:
    >>> available_models()
    ('bgnbd', 'mbgnbd', 'paretonbd')
    >>> transaction_model("paretonbd").literature_name
    'Pareto/NBD'
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from relmark.clv._base import RepeatBuyingModel
from relmark.clv.bgnbd import BGNBD
from relmark.clv.mbgnbd import MBGNBD
from relmark.clv.paretonbd import ParetoNBD
from relmark.errors import InvalidInputError

__all__ = ["TRANSACTION_MODELS", "available_models", "transaction_model"]

TRANSACTION_MODELS: Mapping[str, type[RepeatBuyingModel]] = MappingProxyType(
    {model.name: model for model in (BGNBD, MBGNBD, ParetoNBD)}
)
"""Registry name → transaction-model class (read-only), in the order models are offered."""


def available_models() -> tuple[str, ...]:
    """Names of the registered transaction models, in registry order."""
    return tuple(TRANSACTION_MODELS)


def transaction_model(
    name: object, *, field: str = "model", owner: str = "relmark"
) -> type[RepeatBuyingModel]:
    """The transaction-model class registered under ``name``.

    Args:
        name: A registry name such as ``"bgnbd"``.
        field: The argument or hyperparameter that gave ``name`` (for the error message).
        owner: Who asked (a class or function name, for the error message).

    Returns:
        The model class (unfitted; instantiate it).

    Raises:
        InvalidInputError: Naming ``field``, the value and the registered names, when ``name``
            is not registered.
    """
    if isinstance(name, str) and name in TRANSACTION_MODELS:
        return TRANSACTION_MODELS[name]
    allowed = ", ".join(map(repr, TRANSACTION_MODELS))
    raise InvalidInputError(
        f"The {field!r} parameter of {owner} must be a registered transaction model, one of "
        f"{allowed}. Got {name!r}."
    )
