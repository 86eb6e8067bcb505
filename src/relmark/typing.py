r"""Contracts shared across relmark: array aliases and every protocol a plug-in satisfies.

A plug-in is anything that satisfies a protocol here; subclassing a relmark base class is a
convenience, never a requirement. Every `Protocol` of relmark is defined in this module (the
numeric core's contracts in its layer-0 part, `relmark._typing`, re-exported here), so there is
one place to look for what an argument must provide.

Where this module sits: above the data layer and below the model packages. It imports
[`CustomerSummary`][relmark.data.summary.CustomerSummary],
[`ScoreTable`][relmark.data.table.ScoreTable] and [`TimeUnit`][relmark.data.units.TimeUnit] for
real, because a protocol whose method takes a summary must name the summary class itself:
parameters are contravariant, so a structural stand-in for `CustomerSummary` would reject every
real scorer whose ``fit`` accepts only a `CustomerSummary`. Modules below the data layer take the
array aliases and [`WeightedLikelihood`][relmark.typing.WeightedLikelihood] from
`relmark._typing`, which imports nothing from relmark. Contracts over types of a higher layer are
generic in those types ([`QuestionRanker`][relmark.typing.QuestionRanker]) or read them through a
narrower protocol in a return position ([`FitStatistics`][relmark.typing.FitStatistics]), so this
module never imports upward.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable, Sequence
from typing import Protocol, Self, TypeAlias, TypeVar, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from relmark._typing import BoolArray, FloatArray, IntArray, WeightedLikelihood
from relmark.data.summary import CustomerSummary
from relmark.data.table import ScoreTable
from relmark.data.units import TimeUnit

__all__ = [
    "BoolArray",
    "ComparableModel",
    "CountModel",
    "CustomerLike",
    "FitStatistics",
    "FloatArray",
    "HoldoutModel",
    "IntArray",
    "Kernel",
    "MatrixModel",
    "NewCustomerModel",
    "QuestionRanker",
    "Scorer",
    "SpendModel",
    "TransactionKernels",
    "TransactionModel",
    "WeightedLikelihood",
]

_ProfileT_contra = TypeVar("_ProfileT_contra", contravariant=True)
_FieldT_contra = TypeVar("_FieldT_contra", contravariant=True)
_RankedT_co = TypeVar("_RankedT_co", covariant=True)


# ---------------------------------------------------------------------------- scoring
@runtime_checkable
class Scorer(Protocol):
    """Anything that learns from a customer summary and scores customers.

    Lifecycle: configure in ``__init__`` (keyword-only hyperparameters stored verbatim) →
    ``fit(summary)`` returns ``self`` and stores learned state in trailing-underscore attributes →
    ``score(summary)`` returns one row per customer. ``score`` before ``fit`` raises
    [`NotFittedError`][relmark.errors.NotFittedError].
    """

    def fit(self, summary: CustomerSummary, /) -> Self:
        """Learn from ``summary`` and return ``self``."""
        ...

    def score(self, summary: CustomerSummary, /) -> ScoreTable:
        """Score every customer of ``summary``; one row per customer, in summary order."""
        ...


# ---------------------------------------------------------------------------- model kernels
Kernel: TypeAlias = Callable[..., FloatArray]
"""A kernel on clean float64 arrays, the model's parameters last (in ``parameter_names()`` order)."""


class TransactionKernels(Protocol):
    r"""The kernels a transaction model declares: a module of ``relmark.core`` satisfies it.

    Every kernel takes validated float64 arrays that broadcast together, then the model's
    parameters as floats in the order of its parameter record, and never re-validates. The
    arguments, in order:

    - ``log_likelihood_and_gradient(log_params, x, t_x, T)``: per-row log-likelihood and its
      gradient with respect to the log-parameters, shapes ``(n,)`` and ``(n, k)``;
    - ``conditional_expected_purchases(t, x, t_x, T, *params)``: $E[X(T, T+t) \mid x, t_x, T]$;
    - ``probability_alive(x, t_x, T, *params)``: $P(\text{alive at } T \mid x, t_x, T)$;
    - ``probability_alive_at(t, x, t_x, T, *params)``: alive at $T + t$;
    - ``expected_purchases(t, *params)``: $E[X(t)]$ of a new customer;
    - ``probability_of_purchases(n, t, *params)``: $P(X(t) = n)$ of a new customer.

    A model module is checked against this protocol by mypy where the model class assigns it
    (``_kernels: ClassVar[TransactionKernels] = kernels``), so a missing kernel fails type
    checking, and the model calls its kernels as typed attributes, never by name.
    """

    def log_likelihood_and_gradient(
        self, log_params: FloatArray, x: FloatArray, t_x: FloatArray, T: FloatArray, /
    ) -> tuple[FloatArray, FloatArray]:
        """Per-row log-likelihood and gradient with respect to the log-parameters."""
        ...

    @property
    def conditional_expected_purchases(self) -> Kernel:
        """``f(t, x, t_x, T, *params)``."""
        ...

    @property
    def probability_alive(self) -> Kernel:
        """``f(x, t_x, T, *params)``."""
        ...

    @property
    def probability_alive_at(self) -> Kernel:
        """``f(t, x, t_x, T, *params)``."""
        ...

    @property
    def expected_purchases(self) -> Kernel:
        """``f(t, *params)``."""
        ...

    @property
    def probability_of_purchases(self) -> Kernel:
        """``f(n, t, *params)``."""
        ...


# ---------------------------------------------------------------------------- fitted models
@runtime_checkable
class TransactionModel(Protocol):
    """A fitted model that predicts each customer's expected repeat purchases over horizons.

    What [`customer_lifetime_value`][relmark.clv.value.customer_lifetime_value] needs of its
    ``transaction_model``.
    """

    unit_: TimeUnit

    def expected_purchases_grid(self, t: ArrayLike, summary: CustomerSummary) -> FloatArray:
        """Expected purchases in the next ``t[j]`` (in ``unit_``), shape ``(n, len(t))``."""
        ...


@runtime_checkable
class SpendModel(Protocol):
    """A fitted model that predicts each customer's expected average transaction value.

    What [`customer_lifetime_value`][relmark.clv.value.customer_lifetime_value] needs of its
    ``spend_model``.
    """

    def expected_spend(self, summary: CustomerSummary) -> FloatArray:
        """Expected average transaction value per customer."""
        ...


class HoldoutModel(Protocol):
    """A fitted model that predicts each customer's purchases over a future horizon."""

    @property
    def unit_(self) -> TimeUnit:
        """Time unit of every horizon given to the model."""
        ...

    def expected_purchases(self, t: ArrayLike, summary: CustomerSummary) -> NDArray[np.float64]:
        """Expected purchases of each customer in the next ``t``."""
        ...


class CountModel(Protocol):
    """A fitted model that gives the distribution of repeat purchases of a new customer."""

    @property
    def unit_(self) -> TimeUnit:
        """Time unit of every horizon given to the model."""
        ...

    def parameter_names(self) -> tuple[str, ...]:
        """Names of the model's parameters."""
        ...

    def probability_of_purchases(self, n: ArrayLike, t: ArrayLike) -> NDArray[np.float64]:
        """$P(X(t) = n)$ for a newly acquired customer."""
        ...


class NewCustomerModel(Protocol):
    """A fitted model that gives the expected repeat purchases of a newly acquired customer."""

    @property
    def unit_(self) -> TimeUnit:
        """Time unit of every horizon given to the model."""
        ...

    def expected_purchases_new_customer(self, t: ArrayLike) -> NDArray[np.float64]:
        """$E[X(t)]$ for a newly acquired customer."""
        ...


class FitStatistics(Protocol):
    """The fit statistics a model comparison reads.

    [`FitResult`][relmark.clv._base.FitResult], a fitted relmark model's ``fit_``, satisfies it.
    """

    @property
    def log_likelihood(self) -> float:
        """Total log-likelihood at the estimates (without any penalty)."""
        ...

    @property
    def aic(self) -> float:
        """Akaike information criterion."""
        ...

    @property
    def bic(self) -> float:
        """Bayesian information criterion."""
        ...

    @property
    def n_observations(self) -> float:
        """Number of customers (total weight) the model was fitted on."""
        ...


class ComparableModel(Protocol):
    """A fitted parametric model with fit statistics."""

    @property
    def fit_(self) -> FitStatistics | None:
        """Fit statistics, ``None`` for a model built from known parameters."""
        ...

    def parameter_names(self) -> tuple[str, ...]:
        """Names of the model's parameters."""
        ...


class MatrixModel(Protocol):
    r"""A fitted model that scores customers by expected purchases and $P(\text{alive})$."""

    @property
    def unit_(self) -> TimeUnit:
        """Time unit of every horizon given to the model."""
        ...

    def expected_purchases(self, t: ArrayLike, summary: CustomerSummary) -> NDArray[np.float64]:
        """Expected purchases of each customer in the next ``t``."""
        ...

    def probability_alive(self, summary: CustomerSummary) -> NDArray[np.float64]:
        """Probability that each customer is alive at the end of observation."""
        ...


# ---------------------------------------------------------------------------- profiles
@runtime_checkable
class CustomerLike(Protocol):
    """A customer record: an id and when the account was opened (``relmark.domain.Customer``)."""

    @property
    def customer_id(self) -> Hashable:
        """The customer's id."""
        ...

    @property
    def opened_at(self) -> dt.datetime:
        """When the account was opened."""
        ...


@runtime_checkable
class QuestionRanker(Protocol[_ProfileT_contra, _FieldT_contra, _RankedT_co]):
    """Anything that orders candidate questions for a profile.

    Generic in the profile, field and ranked-question types, which live in the profile layer
    above this module: the profile builder's ranker is a
    ``QuestionRanker[Profile, FieldSpec, RankedQuestion]``
    ([`Profile`][relmark.profile.records.Profile],
    [`FieldSpec`][relmark.profile.catalogue.FieldSpec],
    [`RankedQuestion`][relmark.profile.ranking.RankedQuestion]).
    """

    def rank(
        self, profile: _ProfileT_contra, candidates: Sequence[_FieldT_contra], *, now: dt.datetime
    ) -> Sequence[_RankedT_co]:
        """Return ``candidates`` best first (a ranker may leave out fields not worth asking)."""
        ...
