r"""Scorers built on the CLV models: P(alive), expected purchases, expected spend, CLV and tier.

Each scorer fits its models in ``fit`` and returns a
[`ScoreTable`][relmark.data.table.ScoreTable] from ``score``, so it plugs into
[`relmark.scoring.score`][relmark.scoring.pipeline.score] under its registered name:

| name | class | columns |
|---|---|---|
| ``"bgnbd"`` | [`BGNBDScorer`][relmark.clv.scorers.BGNBDScorer] | ``probability_alive``, ``expected_purchases`` |
| ``"mbgnbd"`` | [`MBGNBDScorer`][relmark.clv.scorers.MBGNBDScorer] | ``probability_alive``, ``expected_purchases`` |
| ``"paretonbd"`` | [`ParetoNBDScorer`][relmark.clv.scorers.ParetoNBDScorer] | ``probability_alive``, ``expected_purchases`` |
| ``"clv"`` | [`CLVScorer`][relmark.clv.scorers.CLVScorer] | ``probability_alive``, ``expected_purchases``, ``expected_spend``, ``clv``, ``clv_tier`` |

The transaction-model scorers share column names on purpose (profiles read
``probability_alive`` whichever model produced it), so two of them cannot be joined into one
table; score them separately to compare models.

The fitted models are kept whole (``model_``, ``transaction_model_``, ``spend_model_``), so
parameters, standard errors and fit statistics stay available, and they travel with the scorer
through [`relmark.io.to_json`][relmark.io.to_json].
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, Literal, Self

import attrs
import numpy as np
from numpy.typing import NDArray

from relmark._estimator import Estimator
from relmark.clv._checks import check_clv_periods, check_real
from relmark.clv.bgnbd import BGNBD
from relmark.clv.gamma_gamma import GammaGamma
from relmark.clv.mbgnbd import MBGNBD
from relmark.clv.paretonbd import ParetoNBD
from relmark.clv.value import _lifetime_value
from relmark.core.quantiles import weighted_quantile
from relmark.data.summary import CustomerSummary
from relmark.data.table import ColumnInfo, ColumnKind, ScoreTable
from relmark.data.units import TimeUnit, parse_unit
from relmark.errors import InvalidInputError, NotFittedError
from relmark.typing import FloatArray

__all__ = [
    "CLV_TIERS",
    "BGNBDScorer",
    "CLVScorer",
    "MBGNBDScorer",
    "ParetoNBDScorer",
]

CLV_TIERS: tuple[str, str, str] = ("low", "medium", "high")
"""Values of the ``clv_tier`` column, lowest first."""

_TRANSACTION_MODELS: dict[str, type[BGNBD | MBGNBD | ParetoNBD]] = {
    "bgnbd": BGNBD,
    "mbgnbd": MBGNBD,
    "paretonbd": ParetoNBD,
}
_LITERATURE_NAMES: dict[type[BGNBD | MBGNBD | ParetoNBD], str] = {
    BGNBD: "BG/NBD",
    MBGNBD: "MBG/NBD",
    ParetoNBD: "Pareto/NBD",
}
"""Names of the transaction models as the literature writes them, for column descriptions."""
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
    allowed = ", ".join(repr(u.value) for u in TimeUnit)
    if not isinstance(value, str) or value not in {u.value for u in TimeUnit}:
        raise InvalidInputError(
            f"The 'unit' parameter of {owner} must be one of {allowed}. Got {value!r}."
        )
    return parse_unit(value)


def _summary(owner: str, method: str, summary: object) -> CustomerSummary:
    if not isinstance(summary, CustomerSummary):
        raise InvalidInputError(
            f"{owner}.{method} expects a CustomerSummary; got {type(summary).__name__}. "
            "Build one with CustomerSummary.from_arrays or TransactionLog.summarize."
        )
    return summary


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


class _TransactionModelScorer(Estimator):
    """Shared lifecycle of the scorers of one transaction model (subclasses set the model)."""

    _model_type: ClassVar[type[BGNBD | MBGNBD | ParetoNBD]]

    model_: BGNBD | MBGNBD | ParetoNBD

    def __init__(
        self,
        *,
        horizon: float = 52.0,
        unit: Literal["D", "W", "M", "Q", "Y"] = "W",
        penalizer: float = 0.0,
    ) -> None:
        self.horizon = horizon
        self.unit = unit
        self.penalizer = penalizer

    def __repr__(self) -> str:
        """Hyperparameters, and whether the scorer is fitted."""
        hyper = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.endswith("_"))
        state = "fitted" if "model_" in vars(self) else "not fitted"
        return f"<{type(self).__name__}({hyper}) {state}>"

    def _config(self) -> tuple[float, TimeUnit]:
        owner = type(self).__name__
        horizon = _number(owner, "horizon", self.horizon, positive=True)
        return horizon, _unit(owner, self.unit)

    def fit(self, summary: CustomerSummary) -> Self:
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
        self._config()
        summary = _summary(owner, "fit", summary)
        penalizer = _number(owner, "penalizer", self.penalizer, positive=False)
        self.model_ = self._model_type(penalizer=penalizer).fit(summary)
        return self

    def score(self, summary: CustomerSummary) -> ScoreTable:
        """P(alive) and expected repeat purchases over ``horizon`` for every customer.

        Args:
            summary: The customers to score (any time unit; converted to the model's).

        Returns:
            Columns ``probability_alive`` and ``expected_purchases``, in summary order.

        Raises:
            NotFittedError: Before ``fit``.
            InvalidInputError: For bad hyperparameters or a non-summary.
        """
        owner = type(self).__name__
        if "model_" not in vars(self):
            raise NotFittedError(f"This {owner} is not fitted yet. Call fit(summary) first.")
        horizon, unit = self._config()
        summary = _summary(owner, "score", summary)
        model = self.model_
        t = np.asarray(horizon * unit.days / model.unit_.days, dtype=np.float64)
        name = _LITERATURE_NAMES[type(model)]
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


class BGNBDScorer(_TransactionModelScorer):
    """P(alive) and expected purchases from a fitted [`BGNBD`][relmark.clv.BGNBD] (name ``"bgnbd"``).

    Args:
        horizon: Length of the window of ``expected_purchases``, in ``unit`` (> 0).
        unit: Time unit of ``horizon`` (``"D"``, ``"W"``, ``"M"``, ``"Q"``, ``"Y"``); by default
            52 weeks. It need not be the summary's unit.
        penalizer: L2 penalizer of the model fit (see [`BGNBD`][relmark.clv.BGNBD]).

    Attributes:
        model_: The fitted model.

    Examples:
        >>> from relmark.datasets import load_cdnow_sample_summary
        >>> s = load_cdnow_sample_summary()
        >>> table = BGNBDScorer(horizon=39).fit(s).score(s)
        >>> table.columns
        ('probability_alive', 'expected_purchases')
        >>> round(float(table["expected_purchases"].sum()))
        1653
    """

    _model_type: ClassVar[type[BGNBD]] = BGNBD

    model_: BGNBD


class MBGNBDScorer(_TransactionModelScorer):
    """P(alive) and expected purchases from a fitted ``relmark.clv.mbgnbd.MBGNBD`` (``"mbgnbd"``).

    Args:
        horizon: Length of the window of ``expected_purchases``, in ``unit`` (> 0).
        unit: Time unit of ``horizon``; by default 52 weeks.
        penalizer: L2 penalizer of the model fit.

    Attributes:
        model_: The fitted model.
    """

    _model_type: ClassVar[type[MBGNBD]] = MBGNBD

    model_: MBGNBD


class ParetoNBDScorer(_TransactionModelScorer):
    """P(alive) and expected purchases from a fitted ``relmark.clv.paretonbd.ParetoNBD`` (``"paretonbd"``).

    Args:
        horizon: Length of the window of ``expected_purchases``, in ``unit`` (> 0).
        unit: Time unit of ``horizon``; by default 52 weeks.
        penalizer: L2 penalizer of the model fit.

    Attributes:
        model_: The fitted model.
    """

    _model_type: ClassVar[type[ParetoNBD]] = ParetoNBD

    model_: ParetoNBD


class CLVScorer(Estimator):
    r"""Discounted customer lifetime value with its ingredients and a value tier (name ``"clv"``).

    ``fit`` fits a transaction model (BG/NBD by default) and a
    [`GammaGamma`][relmark.clv.GammaGamma] spend model on the same summary, then learns the
    tier cut points from the fitted customers' CLV. ``score`` returns per customer:

    - ``probability_alive``: P(alive) at the end of observation;
    - ``expected_purchases``: expected repeat purchases in the next ``horizon`` periods;
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

    Args:
        transaction_model: ``"bgnbd"``, ``"mbgnbd"`` or ``"paretonbd"``.
        horizon: Number of whole periods $K \ge 1$ to value.
        unit: Length of one period (``"D"``, ``"W"``, ``"M"``, ``"Q"``, ``"Y"``).
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

    transaction_model_: BGNBD | MBGNBD | ParetoNBD
    spend_model_: GammaGamma
    clv_tier_cuts_: FloatArray

    def __init__(
        self,
        *,
        transaction_model: Literal["bgnbd", "mbgnbd", "paretonbd"] = "bgnbd",
        horizon: int = 12,
        unit: Literal["D", "W", "M", "Q", "Y"] = "M",
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

    def __repr__(self) -> str:
        """Hyperparameters, and whether the scorer is fitted."""
        hyper = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.endswith("_"))
        state = "fitted" if "clv_tier_cuts_" in vars(self) else "not fitted"
        return f"<CLVScorer({hyper}) {state}>"

    def _config(self) -> tuple[type[BGNBD | MBGNBD | ParetoNBD], int, TimeUnit, float, float]:
        name: object = self.transaction_model
        if not isinstance(name, str) or name not in _TRANSACTION_MODELS:
            allowed = ", ".join(map(repr, _TRANSACTION_MODELS))
            raise InvalidInputError(
                f"The 'transaction_model' parameter of CLVScorer must be one of {allowed}. "
                f"Got {name!r}."
            )
        return (
            _TRANSACTION_MODELS[name],
            check_clv_periods(
                self.horizon, _unit("CLVScorer", self.unit), owner="CLVScorer", role="parameter"
            ),
            _unit("CLVScorer", self.unit),
            _number("CLVScorer", "discount_rate", self.discount_rate, positive=False),
            _number("CLVScorer", "margin", self.margin, positive=False),
        )

    @staticmethod
    def _monetary_summary(summary: object, method: str) -> tuple[CustomerSummary, FloatArray]:
        checked = _summary("CLVScorer", method, summary)
        if checked.monetary is None:
            raise InvalidInputError(
                f"CLVScorer.{method} needs the summary's 'monetary' column (mean repeat-purchase "
                "value) for the Gamma-Gamma spend model, but this summary has none; summarize a "
                "transaction log with amounts or pass monetary= to CustomerSummary.from_arrays."
            )
        return checked, checked.monetary

    def fit(self, summary: CustomerSummary) -> Self:
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
        transaction_model = model_type(penalizer=penalizer).fit(summary)
        canonical = np.lexsort((summary.row_weights, monetary, summary.frequency))
        spend_model = GammaGamma(penalizer=spend_penalizer).fit(summary.take(canonical))
        self.transaction_model_ = transaction_model
        self.spend_model_ = spend_model
        clv = self._clv(summary)[0]
        weights = summary.row_weights
        self.clv_tier_cuts_ = np.array(
            [weighted_quantile(clv, weights, 1 / 3), weighted_quantile(clv, weights, 2 / 3)],
            dtype=np.float64,
        )
        return self

    def _clv(self, summary: CustomerSummary) -> tuple[FloatArray, FloatArray, FloatArray]:
        """CLV per customer, expected purchases over the horizon and spend per customer.

        One compression of ``summary`` and one evaluation of the transaction model per
        distinct row give both the CLV and the ``expected_purchases`` column.
        """
        _, horizon, unit, discount_rate, margin = self._config()
        rows = summary.compress()
        clv, purchases, spend = _lifetime_value(
            self.transaction_model_,
            self.spend_model_,
            summary,
            rows,
            periods=horizon,
            period=unit,
            rate=discount_rate,
            margin=margin,
        )
        return clv, purchases[rows.inverse], spend

    def _tiers(self, clv: FloatArray) -> NDArray[np.str_]:
        low_cut, high_cut = (float(c) for c in self.clv_tier_cuts_)
        tiers: NDArray[np.str_] = np.full(clv.shape, CLV_TIERS[1], dtype="<U6")
        tiers[clv < low_cut] = CLV_TIERS[0]
        tiers[(clv >= high_cut) & (clv > low_cut)] = CLV_TIERS[2]
        return tiers

    def score(self, summary: CustomerSummary) -> ScoreTable:
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
        if "clv_tier_cuts_" not in vars(self):
            raise NotFittedError("This CLVScorer is not fitted yet. Call fit(summary) first.")
        _, horizon, unit, discount_rate, margin = self._config()
        summary, _ = self._monetary_summary(summary, "score")
        model = self.transaction_model_
        name = _LITERATURE_NAMES[type(model)]
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
