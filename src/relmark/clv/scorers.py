r"""Scorers built on the CLV models: P(alive), expected purchases, expected spend, CLV and tier.

Each scorer fits its models in ``fit`` and returns a
[`ScoreTable`][relmark.data.table.ScoreTable] from ``score``, so it plugs into
[`relmark.scoring.score`][relmark.scoring.pipeline.score] under its registered name:

| name | scorer | columns |
|---|---|---|
| a transaction model's name (``"bgnbd"``, ``"mbgnbd"``, ``"paretonbd"``) | [`TransactionModelScorer`][relmark.clv.scorers.TransactionModelScorer] with ``model`` preset | ``probability_alive``, ``expected_purchases`` |
| ``"clv"`` | [`CLVScorer`][relmark.clv.scorers.CLVScorer] | ``probability_alive``, ``expected_purchases``, ``expected_spend``, ``clv``, ``clv_tier`` |

Both take ``horizon`` and ``unit`` with one meaning: a window of ``horizon`` units of ``unit``
(a [`TimeUnit`][relmark.data.units.TimeUnit] or its code), whatever the summary's unit. CLV
discounts period by period, so ``CLVScorer`` needs a whole number of periods.

The transaction-model scorers share column names on purpose (profiles read
``probability_alive`` whichever model produced it), so two of them cannot be joined into one
table; score them separately to compare models.

The fitted models are kept whole (``model_``, ``transaction_model_``, ``spend_model_``), so
parameters, standard errors and fit statistics stay available, and they travel with the scorer
through [`relmark.io.to_json`][relmark.io.to_json].
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Self

import attrs
import numpy as np
from numpy.typing import NDArray

from relmark._estimator import Estimator
from relmark._validation import check_real
from relmark.clv._base import RepeatBuyingModel
from relmark.clv._checks import check_clv_periods
from relmark.clv.gamma_gamma import GammaGamma
from relmark.clv.registry import TRANSACTION_MODELS, transaction_model
from relmark.clv.value import _discounted_purchases, _row_block
from relmark.core.quantiles import TIERS, tercile_cuts, tercile_tiers
from relmark.data.summary import CompressedSummary, CustomerSummary, require_summary
from relmark.data.table import ColumnInfo, ColumnKind, ScoreTable
from relmark.data.units import TimeUnit, parse_unit
from relmark.errors import InvalidInputError
from relmark.typing import FloatArray, IntArray

__all__ = ["CLV_TIERS", "CLVScorer", "TransactionModelScorer", "transaction_model_scorers"]

CLV_TIERS: tuple[str, str, str] = TIERS
"""Values of the ``clv_tier`` column, lowest first."""

_UNIT_WORDS = {
    TimeUnit.DAY: "days",
    TimeUnit.WEEK: "weeks",
    TimeUnit.MONTH: "months",
    TimeUnit.QUARTER: "quarters",
    TimeUnit.YEAR: "years",
}
_PROBABILITY = (0.0, 1.0)
_NON_NEGATIVE = (0.0, math.inf)


def _number(owner: str, name: str, value: object, *, positive: bool) -> float:
    """Validate a finite real hyperparameter (> 0 or >= 0)."""
    return check_real(value, name=name, owner=owner, strict=positive)


def _unit(owner: str, value: object) -> TimeUnit:
    """A ``TimeUnit``, or its code ``"D"``, ``"W"``, ``"M"``, ``"Q"``, ``"Y"``."""
    if isinstance(value, TimeUnit):
        return value
    if not isinstance(value, str) or value not in {u.value for u in TimeUnit}:
        allowed = ", ".join(repr(u.value) for u in TimeUnit)
        raise InvalidInputError(
            f"The 'unit' parameter of {owner} must be a TimeUnit or one of {allowed}. "
            f"Got {value!r}."
        )
    return parse_unit(value)


def _horizon_text(horizon: float, unit: TimeUnit) -> str:
    return f"{horizon:g} {_UNIT_WORDS[unit]}"


def _alive_info(model: str) -> ColumnInfo:
    return ColumnInfo(
        description=(
            f"Probability that the customer is still active at the end of observation ({model})."
        ),
        kind=ColumnKind.FLOAT,
        range=_PROBABILITY,
    )


def _purchases_info(model: str, horizon: float, unit: TimeUnit) -> ColumnInfo:
    return ColumnInfo(
        description=(
            f"Expected number of repeat purchases in the next {_horizon_text(horizon, unit)} "
            f"({model})."
        ),
        kind=ColumnKind.FLOAT,
        unit="purchases",
        range=_NON_NEGATIVE,
    )


class TransactionModelScorer(Estimator):
    """P(alive) and expected purchases from any registered transaction model.

    The scoring registry offers it under each model's name (``"bgnbd"``, ``"mbgnbd"``,
    ``"paretonbd"``, see [`relmark.clv.registry`][relmark.clv.registry]) with ``model``
    preset; ``get_scorer("paretonbd")`` equals ``TransactionModelScorer(model="paretonbd")``.

    Args:
        model: Name of the transaction model in [`relmark.clv.registry`][relmark.clv.registry].
        horizon: Length of the window of ``expected_purchases``: a duration of ``horizon``
            units of ``unit`` (> 0, need not be whole).
        unit: Time unit of ``horizon``: a [`TimeUnit`][relmark.data.units.TimeUnit] or its code
            (``"D"``, ``"W"``, ``"M"``, ``"Q"``, ``"Y"``); by default 52 weeks. It need not be
            the summary's unit.
        penalizer: L2 penalizer of the model fit (see [`BGNBD`][relmark.clv.BGNBD]).

    Attributes:
        model_: The fitted model, an instance of the registered class.

    Examples:
        >>> from relmark.datasets import load_cdnow_sample_summary
        >>> s = load_cdnow_sample_summary()
        >>> table = TransactionModelScorer(model="bgnbd", horizon=39).fit(s).score(s)
        >>> table.columns
        ('probability_alive', 'expected_purchases')
        >>> round(float(table["expected_purchases"].sum()))
        1653
    """

    model_: RepeatBuyingModel

    def __init__(
        self,
        *,
        model: str = "bgnbd",
        horizon: float = 52.0,
        unit: TimeUnit | str = "W",
        penalizer: float = 0.0,
    ) -> None:
        self.model = model
        self.horizon = horizon
        self.unit = unit
        self.penalizer = penalizer

    def _config(self) -> tuple[type[RepeatBuyingModel], float, TimeUnit]:
        owner = type(self).__name__
        model_type = transaction_model(self.model, field="model", owner=owner)
        horizon = _number(owner, "horizon", self.horizon, positive=True)
        return model_type, horizon, _unit(owner, self.unit)

    def fit(self, summary: CustomerSummary, /) -> Self:
        """Fit the transaction model on ``summary`` by maximum likelihood.

        Args:
            summary: One row per customer; its unit becomes the model's time unit.

        Returns:
            ``self``, fitted.

        Raises:
            InvalidInputError: For bad hyperparameters, a non-summary or an empty summary.
            ConvergenceError: When the model's optimization fails.
        """
        owner = type(self).__name__
        model_type = self._config()[0]
        summary = require_summary(summary, owner=f"{owner}.fit")
        penalizer = _number(owner, "penalizer", self.penalizer, positive=False)
        self.model_ = model_type(penalizer=penalizer).fit(summary)
        return self

    def score(self, summary: CustomerSummary, /) -> ScoreTable:
        """P(alive) and expected repeat purchases over ``horizon`` for every customer.

        Args:
            summary: The customers to score (any time unit; converted to the model's).

        Returns:
            Columns ``probability_alive`` and ``expected_purchases``, in summary order.

        Raises:
            NotFittedError: Before ``fit``.
            InvalidInputError: For bad hyperparameters or a non-summary.
        """
        self._check_fitted("score")
        _, horizon, unit = self._config()
        summary = require_summary(summary, owner=f"{type(self).__name__}.score")
        model = self.model_
        t = np.asarray(horizon * unit.days / model.unit_.days, dtype=np.float64)
        name = model.literature_name
        # Both columns on the summary's (cached) distinct rows, gathered once each.
        rows = summary.compress()
        alive = model.probability_alive(rows)
        purchases = model.expected_purchases(t, rows)
        return ScoreTable.from_columns(
            summary.customer_id,
            {
                "probability_alive": alive[rows.inverse],
                "expected_purchases": purchases[rows.inverse],
            },
            {
                "probability_alive": _alive_info(name),
                "expected_purchases": _purchases_info(name, horizon, unit),
            },
        )


@attrs.frozen
class _Preset:
    """``TransactionModelScorer`` with ``model`` fixed: the factory behind a model's name."""

    model: str

    def __call__(self, **hyperparameters: Any) -> TransactionModelScorer:
        if "model" in hyperparameters:
            raise InvalidInputError(
                f"The scorer {self.model!r} is a TransactionModelScorer with model="
                f"{self.model!r}; it takes no 'model' parameter (got "
                f"{hyperparameters['model']!r}). Ask for that model's name instead."
            )
        return TransactionModelScorer(model=self.model, **hyperparameters)


def transaction_model_scorers() -> dict[str, Callable[..., TransactionModelScorer]]:
    """One scorer factory per registered transaction model, under the model's name.

    What the scoring registry offers as ``"bgnbd"``, ``"mbgnbd"``, ``"paretonbd"``, ...:
    ``get_scorer("paretonbd", horizon=26)`` builds
    ``TransactionModelScorer(model="paretonbd", horizon=26)``.

    Examples:
        >>> transaction_model_scorers()["mbgnbd"](horizon=26)
        TransactionModelScorer(model='mbgnbd', horizon=26)  # not fitted
    """
    return {name: _Preset(name) for name in TRANSACTION_MODELS}


def _match_rows(known: CompressedSummary, rows: CompressedSummary) -> IntArray:
    """For each row of ``rows``, the index of the equal $(x, t_x, T)$ row of ``known``, or -1.

    Both are distinct rows in one unit; one sort of their union finds the pairs.
    """
    m = len(known)
    x = np.concatenate([known.frequency, rows.frequency])
    t_x = np.concatenate([known.recency, rows.recency])
    T = np.concatenate([known.T, rows.T])
    order = np.lexsort((T, t_x, x))
    x, t_x, T = x[order], t_x[order], T[order]
    starts = np.ones(order.size, dtype=bool)
    starts[1:] = (x[1:] != x[:-1]) | (t_x[1:] != t_x[:-1]) | (T[1:] != T[:-1])
    group = np.empty(order.size, dtype=np.intp)
    group[order] = np.cumsum(starts) - 1
    known_of_group = np.full(int(starts.sum()), -1, dtype=np.intp)
    known_of_group[group[:m]] = np.arange(m)
    matched: IntArray = known_of_group[group[m:]]
    return matched


@attrs.frozen(kw_only=True, eq=False)
class _FittedRows:
    r"""Per distinct row of the fitted summary: discounted purchases and $E[X(K\Delta)]$.

    Computed once in ``fit`` (the tier cut points need every fitted customer's CLV), so scoring
    the fitted customers again, whole or in blocks, does not evaluate the model twice. Valid
    only for the models and CLV settings it was computed with.
    """

    rows: CompressedSummary
    discounted: FloatArray
    total: FloatArray
    models: tuple[object, object]
    config: tuple[object, ...]


class CLVScorer(Estimator):
    r"""Discounted customer lifetime value with its ingredients and a value tier (name ``"clv"``).

    ``fit`` fits a transaction model (BG/NBD by default) and a
    [`GammaGamma`][relmark.clv.GammaGamma] spend model on the same summary, then learns the
    tier cut points from the fitted customers' CLV. ``score`` returns per customer:

    - ``probability_alive``: P(alive) at the end of observation;
    - ``expected_purchases``: expected repeat purchases in the next ``horizon`` units of
      ``unit`` (the same window as
      [`TransactionModelScorer`][relmark.clv.scorers.TransactionModelScorer] with the same
      ``horizon`` and ``unit``);
    - ``expected_spend``: Gamma-Gamma expected average transaction value (the population mean
      for customers without repeat purchases);
    - ``clv``: [`customer_lifetime_value`][relmark.clv.customer_lifetime_value] over ``horizon``
      periods of ``unit``, discounted at ``discount_rate`` per period, times ``margin``;
    - ``clv_tier``: ``"low"``, ``"medium"`` or ``"high"``. With $c_1$ and $c_2$ the weighted
      inverted-CDF terciles of the *fitted* customers' CLV (the smallest CLV whose share of
      customers at or below it reaches 1/3, respectively 2/3), a customer is ``"low"`` when
      $\mathrm{CLV} < c_1$, ``"high"`` when $\mathrm{CLV} \ge c_2$ and $\mathrm{CLV} > c_1$,
      and ``"medium"`` otherwise. The cut points are fixed in ``fit``, so new customers are tiered
      on the same scale.

    The Gamma-Gamma model is fitted on the summary's rows in a canonical order (by frequency,
    then mean spend), so the fit does not depend on how the customers are sorted.

    ``fit`` computes the CLV of every fitted customer (for the cut points) and keeps the
    transaction model's work per distinct row; scoring the fitted customers again (the whole
    summary, or blocks of it taken with ``take``) reuses it instead of evaluating the model a
    second time. Changing a hyperparameter or refitting discards it.

    Args:
        transaction_model: Name of the transaction model in
            [`relmark.clv.registry`][relmark.clv.registry] (``"bgnbd"``, ``"mbgnbd"``,
            ``"paretonbd"``).
        horizon: The window, as for ``TransactionModelScorer``: ``horizon`` units of ``unit``;
            here a whole number $K \ge 1$, since CLV discounts period by period.
        unit: Length of one period: a [`TimeUnit`][relmark.data.units.TimeUnit] or its code
            (``"D"``, ``"W"``, ``"M"``, ``"Q"``, ``"Y"``).
        discount_rate: Discount rate $d \ge 0$ per period of ``unit``.
        margin: Share of revenue that is profit, $m \ge 0$.
        penalizer: L2 penalizer of the transaction-model fit.
        spend_penalizer: L2 penalizer of the Gamma-Gamma fit.
        interval: Coverage in $(0, 1)$ of per-customer prediction intervals, or ``None`` for
            none. When set, ``score`` adds ``<column>_lower`` and ``<column>_upper`` for
            ``probability_alive``, ``expected_purchases``, ``expected_spend`` and ``clv``, from
            parametric draws of both models' log-parameters (see
            [`ParameterDraws`][relmark.clv.uncertainty.ParameterDraws]; use it directly for
            bootstrap intervals).
        interval_draws: Number of parameter draws behind the intervals.
        seed: Seed of the draws, so the same scorer gives the same intervals.

    Attributes:
        transaction_model_: The fitted transaction model.
        spend_model_: The fitted Gamma-Gamma model.
        clv_tier_cuts_: $(c_1, c_2)$.

    Examples:
        >>> from relmark.datasets import load_cdnow_sample_summary
        >>> s = load_cdnow_sample_summary()
        >>> table = CLVScorer(horizon=12, unit="M", discount_rate=0.01).fit(s).score(s)
        >>> table.columns
        ('probability_alive', 'expected_purchases', 'expected_spend', 'clv', 'clv_tier')
        >>> sorted(set(table["clv_tier"].tolist()))
        ['high', 'low', 'medium']
    """

    transaction_model_: RepeatBuyingModel
    spend_model_: GammaGamma
    clv_tier_cuts_: FloatArray

    def __init__(
        self,
        *,
        transaction_model: str = "bgnbd",
        horizon: int = 12,
        unit: TimeUnit | str = "M",
        discount_rate: float = 0.01,
        margin: float = 1.0,
        penalizer: float = 0.0,
        spend_penalizer: float = 0.0,
        interval: float | None = None,
        interval_draws: int = 200,
        seed: int = 0,
    ) -> None:
        self.transaction_model = transaction_model
        self.horizon = horizon
        self.unit = unit
        self.discount_rate = discount_rate
        self.margin = margin
        self.penalizer = penalizer
        self.spend_penalizer = spend_penalizer
        self.interval = interval
        self.interval_draws = interval_draws
        self.seed = seed

    def _is_fitted(self) -> bool:
        return "clv_tier_cuts_" in vars(self)

    def _config(self) -> tuple[type[RepeatBuyingModel], int, TimeUnit, float, float]:
        model_type = transaction_model(
            self.transaction_model, field="transaction_model", owner="CLVScorer"
        )
        unit = _unit("CLVScorer", self.unit)
        return (
            model_type,
            check_clv_periods(self.horizon, unit, owner="CLVScorer", role="parameter"),
            unit,
            _number("CLVScorer", "discount_rate", self.discount_rate, positive=False),
            _number("CLVScorer", "margin", self.margin, positive=False),
        )

    @staticmethod
    def _monetary_summary(summary: object, method: str) -> tuple[CustomerSummary, FloatArray]:
        checked = require_summary(summary, owner=f"CLVScorer.{method}")
        if checked.monetary is None:
            raise InvalidInputError(
                f"CLVScorer.{method} needs the summary's 'monetary' column (mean repeat-purchase "
                "value) for the Gamma-Gamma spend model, but this summary has none; summarize a "
                "transaction log with amounts or pass monetary= to CustomerSummary.from_arrays."
            )
        return checked, checked.monetary

    def fit(self, summary: CustomerSummary, /) -> Self:
        """Fit the transaction and spend models and learn the CLV tier cut points.

        Args:
            summary: One row per customer, with ``monetary``.

        Returns:
            ``self``, fitted.

        Raises:
            InvalidInputError: For bad hyperparameters, a non-summary, a summary without
                ``monetary``, or one the models cannot be fitted on (e.g. fewer than 3 repeat
                customers with positive spend).
            ConvergenceError: When a model's optimization fails.
        """
        model_type = self._config()[0]
        summary, monetary = self._monetary_summary(summary, "fit")
        penalizer = _number("CLVScorer", "penalizer", self.penalizer, positive=False)
        spend_penalizer = _number(
            "CLVScorer", "spend_penalizer", self.spend_penalizer, positive=False
        )
        self.__dict__.pop("_fitted_rows", None)
        transaction_model = model_type(penalizer=penalizer).fit(summary)
        canonical = np.lexsort((summary.row_weights, monetary, summary.frequency))
        spend_model = GammaGamma(penalizer=spend_penalizer).fit(summary.take(canonical))
        self.transaction_model_ = transaction_model
        self.spend_model_ = spend_model
        clv = self._clv(summary, keep=True)[0]
        weights = summary.row_weights
        self.clv_tier_cuts_ = np.array(tercile_cuts(clv, weights), dtype=np.float64)
        return self

    def _row_values(self, rows: CompressedSummary, *, keep: bool) -> tuple[FloatArray, FloatArray]:
        r"""Discounted purchases and $E[X(K\Delta)]$ per distinct row, reusing ``fit``'s work."""
        _, horizon, unit, discount_rate, _ = self._config()
        models = (self.transaction_model_, self.spend_model_)
        config = (horizon, unit, discount_rate)
        fitted: _FittedRows | None = self.__dict__.get("_fitted_rows")
        if (
            fitted is not None
            and fitted.config == config
            and all(a is b for a, b in zip(fitted.models, models, strict=True))
            and fitted.rows.unit is rows.unit
        ):
            if fitted.rows is rows:
                return fitted.discounted, fitted.total
            found = _match_rows(fitted.rows, rows)
            if (found >= 0).all():
                return fitted.discounted[found], fitted.total[found]
            discounted, total = fitted.discounted[found], fitted.total[found]
            new = found < 0
            discounted[new], total[new] = _discounted_purchases(
                self.transaction_model_,
                _row_block(rows, np.flatnonzero(new)),
                periods=horizon,
                period=unit,
                rate=discount_rate,
            )
            return discounted, total
        discounted, total = _discounted_purchases(
            self.transaction_model_, rows, periods=horizon, period=unit, rate=discount_rate
        )
        if keep:
            self.__dict__["_fitted_rows"] = _FittedRows(
                rows=rows, discounted=discounted, total=total, models=models, config=config
            )
        return discounted, total

    def _clv(
        self, summary: CustomerSummary, *, keep: bool = False
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """CLV per customer, expected purchases over the horizon and spend per customer.

        One compression of ``summary`` and one evaluation of the transaction model per
        distinct row (none for rows of the fitted summary) give both the CLV and the
        ``expected_purchases`` column.
        """
        margin = self._config()[4]
        rows = summary.compress()
        discounted, total = self._row_values(rows, keep=keep)
        spend = np.asarray(self.spend_model_.expected_spend(summary), dtype=np.float64)
        clv = np.asarray(margin * spend * discounted[rows.inverse], dtype=np.float64)
        return clv, total[rows.inverse], spend

    def _tiers(self, clv: FloatArray) -> NDArray[np.str_]:
        low_cut, high_cut = (float(c) for c in self.clv_tier_cuts_)
        return tercile_tiers(clv, low_cut, high_cut)

    def score(self, summary: CustomerSummary, /) -> ScoreTable:
        """Score every customer of ``summary`` with the fitted models and tier cut points.

        Args:
            summary: The customers, with ``monetary`` (any time unit).

        Returns:
            Columns ``probability_alive``, ``expected_purchases``, ``expected_spend``, ``clv``,
            ``clv_tier``, in summary order.

        Raises:
            NotFittedError: Before ``fit``.
            InvalidInputError: For bad hyperparameters, a non-summary or one without
                ``monetary``.
        """
        self._check_fitted("score")
        _, horizon, unit, discount_rate, margin = self._config()
        summary, _ = self._monetary_summary(summary, "score")
        model = self.transaction_model_
        name = model.literature_name
        clv, purchases, spend = self._clv(summary)
        window = _horizon_text(horizon, unit)
        info = {
            "probability_alive": _alive_info(name),
            "expected_purchases": _purchases_info(name, horizon, unit),
            "expected_spend": ColumnInfo(
                description=(
                    "Expected average transaction value (Gamma-Gamma; the population mean for "
                    "customers without repeat purchases)."
                ),
                kind=ColumnKind.FLOAT,
                unit="currency",
                range=_NON_NEGATIVE,
            ),
            "clv": ColumnInfo(
                description=(
                    f"Customer lifetime value over the next {window}: {name} purchases times "
                    f"Gamma-Gamma spend times margin {margin:g}, discounted at {discount_rate:g} "
                    f"per {_UNIT_WORDS[unit][:-1]}."
                ),
                kind=ColumnKind.FLOAT,
                unit="currency",
                range=_NON_NEGATIVE,
            ),
            "clv_tier": ColumnInfo(
                description=(
                    "CLV tier: 'low' below the fitted customers' lower CLV tercile, 'high' at or "
                    "above the upper tercile, 'medium' between."
                ),
                kind=ColumnKind.STRING,
            ),
        }
        columns = {
            "probability_alive": model.probability_alive(summary),
            "expected_purchases": purchases,
            "expected_spend": spend,
            "clv": clv,
            "clv_tier": self._tiers(clv),
        }
        if self.interval is not None:
            self._add_intervals(summary, columns, info)
        return ScoreTable.from_columns(summary.customer_id, columns, info)

    def _add_intervals(
        self,
        summary: CustomerSummary,
        columns: dict[str, Any],
        info: dict[str, ColumnInfo],
    ) -> None:
        """Lower and upper interval columns from parametric draws of both models."""
        from relmark.clv.uncertainty import ParameterDraws

        level: object = self.interval
        if isinstance(level, bool) or not (isinstance(level, float | int) and 0 < level < 1):
            raise InvalidInputError(
                f"The 'interval' parameter of CLVScorer must be a coverage in (0, 1) or None. "
                f"Got {level!r}."
            )
        _, horizon, unit, discount_rate, margin = self._config()
        model = self.transaction_model_
        draws = ParameterDraws.parametric(
            model, self.spend_model_, draws=self.interval_draws, seed=self.seed
        )
        t = horizon * unit.days / model.unit_.days
        intervals = {
            "probability_alive": draws.probability_alive(summary, level=float(level)),
            "expected_purchases": draws.expected_purchases(t, summary, level=float(level)),
            "expected_spend": draws.expected_spend(summary, level=float(level)),
            "clv": draws.customer_lifetime_value(
                summary,
                horizon=horizon,
                unit=unit,
                discount_rate=discount_rate,
                margin=margin,
                level=float(level),
            ),
        }
        pct = f"{100 * float(level):g}%"
        for name, interval in intervals.items():
            for end, values in (("lower", interval.lower), ("upper", interval.upper)):
                columns[f"{name}_{end}"] = values
                info[f"{name}_{end}"] = attrs.evolve(
                    info[name],
                    description=(
                        f"{end.capitalize()} end of the {pct} interval of '{name}' over "
                        f"{interval.draws} parametric draws of the models' parameters "
                        "(parameter uncertainty, not the spread of future purchases)."
                    ),
                )
