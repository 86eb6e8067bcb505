r"""lifetimes' API over relmark: the fitters and summary utilities of lifetimes 0.11.3.

Code written for [lifetimes](https://github.com/CamDavidsonPilon/lifetimes) runs on relmark
by changing its import lines::

    from relmark.compat.lifetimes import BetaGeoFitter, GammaGammaFitter
    from relmark.compat.lifetimes import summary_data_from_transaction_data

The classes keep lifetimes' names, arguments, return types (pandas Series and DataFrames
indexed like the input) and attributes (``params_``, ``summary``, ``data``); the work is
done by relmark's models ([`BGNBD`][relmark.clv.BGNBD], [`MBGNBD`][relmark.clv.MBGNBD],
[`ParetoNBD`][relmark.clv.ParetoNBD], [`BGBB`][relmark.clv.BGBB],
[`GammaGamma`][relmark.clv.GammaGamma]), summaries
([`TransactionLog`][relmark.data.log.TransactionLog]) and
[`customer_lifetime_value`][relmark.clv.customer_lifetime_value], available after fitting as
``relmark_model_``. Where lifetimes was wrong, relmark's behaviour is kept:

- ``summary``'s standard errors are the delta-method ones from relmark's symmetric covariance
  (lifetimes scales the inverse Hessian by $p_j^2$ column by column, which leaves the
  diagonal right but makes ``variance_matrix_`` asymmetric), and its intervals are Wald
  intervals on the log scale, so they never cross 0;
- ``customer_lifetime_value`` uses the mean Gregorian month (30.436875 days; lifetimes uses 30
  days, or 4.345 weeks with ``freq="W"``);
- ``penalizer_coef`` is relmark's L2 penalty on the log-parameters (lifetimes penalizes the
  parameters themselves), so penalized fits differ; unpenalized ones agree to optimizer
  tolerance.

``initial_params``, ``tol`` and ``verbose`` are accepted for compatibility and do not change
the result: relmark's optimizer picks its own start and converges to the maximum likelihood.
Needs pandas (``pip install 'relmark[pandas]'``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, cast

import numpy as np
from numpy.typing import ArrayLike

from relmark.clv import (
    BGBB,
    BGNBD,
    MBGNBD,
    GammaGamma,
    ParametricModel,
    ParetoNBD,
    customer_lifetime_value,
)
from relmark.data import CustomerSummary, TimeUnit, TransactionLog
from relmark.errors import InvalidInputError, NotFittedError, require
from relmark.typing import FloatArray

__all__ = [
    "BetaGeoBetaBinomFitter",
    "BetaGeoFitter",
    "GammaGammaFitter",
    "ModifiedBetaGeoFitter",
    "ParetoNBDFitter",
    "calibration_and_holdout_data",
    "summary_data_from_transaction_data",
]

_UNIT = TimeUnit.WEEK
"""Unit of the relmark summaries built here; lifetimes' data carry none, and predictions in
the model's own unit do not depend on it (only ``customer_lifetime_value`` needs ``freq``)."""
_FREQUENCIES = ("D", "W", "M", "Q", "Y")


def _pandas() -> Any:
    require("pandas", "pandas")
    import pandas as pd

    return pd


def _index_of(*values: object) -> Any:
    """The index of the first pandas Series among ``values``, else ``None``."""
    pd = _pandas()
    for value in values:
        if isinstance(value, pd.Series):
            return value.index
    return None


def _is_scalar(*values: object) -> bool:
    return all(np.ndim(cast("ArrayLike", v)) == 0 for v in values)


def _as_array(value: object) -> FloatArray:
    return np.atleast_1d(np.asarray(value, dtype=np.float64))


def _wrap(values: FloatArray, index: Any, *, scalar: bool, name: str | None = None) -> Any:
    """The return type lifetimes uses: a float for scalar input, a Series for Series input."""
    if scalar:
        return float(values.reshape(-1)[0])
    if index is not None:
        return _pandas().Series(values, index=index, name=name)
    return values


def _summary(
    frequency: object,
    recency: object,
    T: object,
    monetary: object = None,
    weights: object = None,
    unit: TimeUnit = _UNIT,
) -> CustomerSummary:
    return CustomerSummary.from_arrays(
        _as_array(frequency),
        _as_array(recency),
        _as_array(T),
        monetary=None if monetary is None else _as_array(monetary),
        weights=None if weights is None else _as_array(weights),
        unit=unit,
    )


class _Fitter:
    """What every lifetimes fitter shares: construction, ``params_``, ``summary``, repr."""

    _model_type: ClassVar[type[ParametricModel]]
    _names: ClassVar[tuple[str, ...]]
    """lifetimes' parameter names, in lifetimes' order."""
    _relmark_names: ClassVar[dict[str, str]] = {}
    """lifetimes' name → relmark's, where they differ."""

    def __init__(self, penalizer_coef: float = 0.0) -> None:
        """Store the penalty; see the module docstring for how it differs from lifetimes'.

        Args:
            penalizer_coef: relmark's L2 penalty on the log-parameters (0: plain MLE).
        """
        self.penalizer_coef = penalizer_coef

    @property
    def relmark_model_(self) -> Any:
        """The fitted relmark model doing the work."""
        try:
            return self.__dict__["_model"]
        except KeyError:
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet; call fit(...) first."
            ) from None

    def _store(self, model: ParametricModel, data: Any) -> None:
        pd = _pandas()
        self.__dict__["_model"] = model
        self.data = data
        record = model.params_  # type: ignore[attr-defined]
        values = [float(getattr(record, self._relmark_names.get(n, n))) for n in self._names]
        self.params_ = pd.Series(values, index=list(self._names), dtype="float64")
        table = model.summary()
        errors = dict(zip(table.names, table.standard_error, strict=True))
        lower = dict(zip(table.names, table.lower, strict=True))
        upper = dict(zip(table.names, table.upper, strict=True))
        relmark_names = [self._relmark_names.get(n, n) for n in self._names]
        self.standard_errors_ = pd.Series(
            [float(errors[n]) for n in relmark_names], index=list(self._names)
        )
        self.variance_matrix_ = pd.DataFrame(
            model.covariance_, index=list(self._names), columns=list(self._names)
        )
        self.confidence_intervals_ = pd.DataFrame(
            {
                "lower 95% bound": [float(lower[n]) for n in relmark_names],
                "upper 95% bound": [float(upper[n]) for n in relmark_names],
            },
            index=list(self._names),
        )
        self.log_likelihood_ = float(model.log_likelihood_)

    @property
    def summary(self) -> Any:
        """Estimates, standard errors and 95 % intervals: lifetimes' four columns.

        The intervals are relmark's (Wald on the log scale), not lifetimes' ``coef ± 1.96 se``.
        """
        pd = _pandas()
        self.relmark_model_  # noqa: B018  (raises NotFittedError before fit)
        return pd.DataFrame(
            {
                "coef": self.params_,
                "se(coef)": self.standard_errors_,
                "lower 95% bound": self.confidence_intervals_["lower 95% bound"],
                "upper 95% bound": self.confidence_intervals_["upper 95% bound"],
            }
        )

    def __repr__(self) -> str:
        """The repr lifetimes prints: subjects and parameters, alphabetically."""
        name = f"relmark.compat.lifetimes.{type(self).__name__}"
        if "_model" not in self.__dict__:
            return f"<{name}>"
        subjects = float(self.data["weights"].sum()) if "weights" in self.data else len(self.data)
        shown = ", ".join(f"{k}: {self.params_[k]:.2f}" for k in sorted(self._names))
        return f"<{name}: fitted with {subjects:.0f} subjects, {shown}>"


class _RepeatBuyingFitter(_Fitter):
    """BG/NBD, MBG/NBD and Pareto/NBD: ``fit(frequency, recency, T)`` and their predictions."""

    def fit(
        self,
        frequency: Any,
        recency: Any,
        T: Any,
        weights: Any = None,
        initial_params: Sequence[float] | None = None,  # noqa: ARG002 (accepted, see module doc)
        verbose: bool = False,  # noqa: ARG002
        tol: float = 1e-7,  # noqa: ARG002
        index: Any = None,
        **kwargs: Any,
    ) -> _RepeatBuyingFitter:
        """Fit by maximum likelihood on (frequency, recency, T), as lifetimes' ``fit``.

        Args:
            frequency: Repeat purchases per customer.
            recency: Time of the last purchase after the first.
            T: Time from the first purchase to the end of observation.
            weights: Number of customers each row stands for.
            initial_params: Ignored (accepted for compatibility).
            verbose: Ignored.
            tol: Ignored.
            index: Index of ``data`` (the input's index by default).
            **kwargs: Options of lifetimes' optimizer; any other key raises.

        Returns:
            ``self``, fitted.

        Raises:
            InvalidInputError: For invalid summaries (naming the column and rows) or unknown
                keyword arguments.
            ConvergenceError: When the fit does not converge.
        """
        _no_options(type(self).__name__, kwargs)
        summary = _summary(frequency, recency, T, weights=weights)
        model = self._model_type(penalizer=self.penalizer_coef).fit(summary)  # type: ignore[attr-defined]
        data = {"frequency": summary.frequency, "recency": summary.recency, "T": summary.T}
        if weights is not None:
            data["weights"] = summary.row_weights
        index = _index_of(frequency, recency, T) if index is None else index
        self._store(model, _pandas().DataFrame(data, index=index))
        return self

    def conditional_expected_number_of_purchases_up_to_time(
        self, t: Any, frequency: Any, recency: Any, T: Any
    ) -> Any:
        """Expected repeat purchases in the next ``t`` given each history.

        Args:
            t: A horizon, or one per customer.
            frequency: Repeat purchases per customer (or one number).
            recency: Time of the last purchase after the first.
            T: Time from the first purchase to the end of observation.

        Returns:
            A float for scalar input; a Series indexed like a Series input; else an array.
            With one customer and several horizons, one value per horizon.
        """
        model = self.relmark_model_
        summary = _summary(frequency, recency, T)
        if _is_scalar(frequency, recency, T) and np.ndim(t) > 0:
            values = model.expected_purchases_grid(_as_array(t), summary)[0]
            return _wrap(values, _index_of(t), scalar=False)
        values = model.expected_purchases(t if np.ndim(t) == 0 else _as_array(t), summary)
        index = _index_of(frequency, recency, T, t)
        return _wrap(values, index, scalar=_is_scalar(frequency, recency, T, t))

    predict = conditional_expected_number_of_purchases_up_to_time

    def conditional_probability_alive(
        self, frequency: Any, recency: Any, T: Any, **kwargs: Any
    ) -> Any:
        """Probability that each customer is alive at ``T``.

        Args:
            frequency: Repeat purchases per customer (or one number).
            recency: Time of the last purchase after the first.
            T: Time from the first purchase to the end of observation.
            **kwargs: lifetimes' ``ln_exp_max`` (overflow guard, not needed here).

        Returns:
            A float for scalar input; a Series indexed like a Series input; else an array.
        """
        kwargs.pop("ln_exp_max", None)
        _no_options("conditional_probability_alive", kwargs)
        values = self.relmark_model_.probability_alive(_summary(frequency, recency, T))
        index = _index_of(frequency, recency, T)
        return _wrap(values, index, scalar=_is_scalar(frequency, recency, T))

    def expected_number_of_purchases_up_to_time(self, t: Any) -> Any:
        """Expected repeat purchases of a new customer within ``t``.

        Args:
            t: Horizons (a number, an array or a Series).

        Returns:
            Like ``t``.
        """
        values = self.relmark_model_.expected_purchases_new_customer(_as_array(t))
        return _wrap(values, _index_of(t), scalar=_is_scalar(t))

    def probability_of_n_purchases_up_to_time(self, t: Any, n: Any) -> Any:
        """$P(X(t) = n)$ for a new customer.

        Args:
            t: Horizon(s).
            n: Number(s) of repeat purchases.

        Returns:
            A float for scalar input, else an array.
        """
        values = self.relmark_model_.probability_of_purchases(_as_array(n), _as_array(t))
        return _wrap(np.asarray(values), None, scalar=_is_scalar(t, n))


class BetaGeoFitter(_RepeatBuyingFitter):
    """lifetimes' BG/NBD fitter over [`BGNBD`][relmark.clv.BGNBD]: parameters r, alpha, a, b.

    Examples:
        >>> from relmark.datasets import load_cdnow_sample_summary
        >>> s = load_cdnow_sample_summary()
        >>> bgf = BetaGeoFitter().fit(s.frequency, s.recency, s.T)
        >>> bgf.params_.round(3).to_dict()
        {'r': 0.243, 'alpha': 4.414, 'a': 0.793, 'b': 2.426}
    """

    _model_type = BGNBD
    _names = ("r", "alpha", "a", "b")


class ModifiedBetaGeoFitter(_RepeatBuyingFitter):
    """lifetimes' MBG/NBD fitter over [`MBGNBD`][relmark.clv.MBGNBD]: r, alpha, a, b."""

    _model_type = MBGNBD
    _names = ("r", "alpha", "a", "b")


class ParetoNBDFitter(_RepeatBuyingFitter):
    """lifetimes' Pareto/NBD fitter over [`ParetoNBD`][relmark.clv.ParetoNBD]: r, alpha, s, beta."""

    _model_type = ParetoNBD
    _names = ("r", "alpha", "s", "beta")


class BetaGeoBetaBinomFitter(_Fitter):
    """lifetimes' BG/BB fitter over [`BGBB`][relmark.clv.BGBB]: alpha, beta, gamma, delta.

    Recency and ``n_periods`` count transaction opportunities.
    """

    _model_type = BGBB
    _names = ("alpha", "beta", "gamma", "delta")

    def fit(
        self,
        frequency: Any,
        recency: Any,
        n_periods: Any,
        weights: Any = None,
        initial_params: Sequence[float] | None = None,  # noqa: ARG002 (accepted, see module doc)
        verbose: bool = False,  # noqa: ARG002
        tol: float = 1e-7,  # noqa: ARG002
        index: Any = None,
        **kwargs: Any,
    ) -> BetaGeoBetaBinomFitter:
        """Fit on (frequency, recency, n_periods) patterns, as lifetimes' ``fit``.

        Args:
            frequency: Transactions per pattern.
            recency: Opportunity of the last transaction (0 if none).
            n_periods: Opportunities observed.
            weights: Customers per pattern.
            initial_params: Ignored (accepted for compatibility).
            verbose: Ignored.
            tol: Ignored.
            index: Index of ``data``.
            **kwargs: Options of lifetimes' optimizer; any other key raises.

        Returns:
            ``self``, fitted.
        """
        _no_options(type(self).__name__, kwargs)
        summary = _summary(frequency, recency, n_periods, weights=weights)
        model = BGBB(penalizer=self.penalizer_coef).fit(summary)
        data = {
            "frequency": summary.frequency,
            "recency": summary.recency,
            "n_periods": summary.T,
            "weights": summary.row_weights,
        }
        index = _index_of(frequency, recency, n_periods) if index is None else index
        self._store(model, _pandas().DataFrame(data, index=index))
        return self

    def conditional_expected_number_of_purchases_up_to_time(
        self, m_periods_in_future: Any, frequency: Any, recency: Any, n_periods: Any
    ) -> Any:
        """Expected transactions in the next ``m_periods_in_future`` opportunities.

        Args:
            m_periods_in_future: Whole number of future opportunities.
            frequency: Transactions per customer.
            recency: Opportunity of the last transaction.
            n_periods: Opportunities observed.

        Returns:
            A float for scalar input; a Series indexed like a Series input; else an array.
        """
        values = self.relmark_model_.expected_purchases(
            m_periods_in_future, _summary(frequency, recency, n_periods)
        )
        index = _index_of(frequency, recency, n_periods)
        return _wrap(values, index, scalar=_is_scalar(frequency, recency, n_periods))

    def conditional_probability_alive(
        self, m_periods_in_future: Any, frequency: Any, recency: Any, n_periods: Any
    ) -> Any:
        """Probability of being alive ``m_periods_in_future`` opportunities after ``n_periods``.

        Args:
            m_periods_in_future: Whole number of future opportunities (0: now).
            frequency: Transactions per customer.
            recency: Opportunity of the last transaction.
            n_periods: Opportunities observed.

        Returns:
            A float for scalar input; a Series indexed like a Series input; else an array.
        """
        values = self.relmark_model_.probability_alive_at(
            m_periods_in_future, _summary(frequency, recency, n_periods)
        )
        index = _index_of(frequency, recency, n_periods)
        return _wrap(values, index, scalar=_is_scalar(frequency, recency, n_periods))

    def expected_number_of_transactions_in_first_n_periods(self, n: int) -> Any:
        """Expected number of customers with 0..n transactions in the first ``n`` opportunities.

        Args:
            n: Opportunities.

        Returns:
            A DataFrame indexed by ``frequency`` with one column ``model``, for a cohort the
            size of the fitted data (the sum of its weights).
        """
        pd = _pandas()
        cohort = float(self.data["weights"].sum())
        counts = self.relmark_model_.expected_frequency_counts(n, cohort)
        frame = pd.DataFrame({"model": counts}, index=pd.RangeIndex(len(counts)))
        frame.index.name = "frequency"
        return frame


class GammaGammaFitter(_Fitter):
    """lifetimes' Gamma-Gamma spend fitter over [`GammaGamma`][relmark.clv.GammaGamma]: p, q, v.

    lifetimes' ``v`` is relmark's ``gamma``.
    """

    _model_type = GammaGamma
    _names = ("p", "q", "v")
    _relmark_names: ClassVar[dict[str, str]] = {"v": "gamma"}

    def fit(
        self,
        frequency: Any,
        monetary_value: Any,
        weights: Any = None,
        initial_params: Sequence[float] | None = None,  # noqa: ARG002 (accepted, see module doc)
        verbose: bool = False,  # noqa: ARG002
        tol: float = 1e-7,  # noqa: ARG002
        index: Any = None,
        q_constraint: bool = False,
        **kwargs: Any,
    ) -> GammaGammaFitter:
        """Fit on the repeat customers' frequency and mean spend, as lifetimes' ``fit``.

        Args:
            frequency: Repeat purchases per customer (those without repeats are left out, as
                relmark's fit always does; lifetimes expects the caller to remove them).
            monetary_value: Mean repeat-purchase value per customer.
            weights: Customers per row.
            initial_params: Ignored (accepted for compatibility).
            verbose: Ignored.
            tol: Ignored.
            index: Index of ``data``.
            q_constraint: lifetimes' option to force q > 1; not offered (raises if True).
            **kwargs: Options of lifetimes' optimizer; any other key raises.

        Returns:
            ``self``, fitted.

        Raises:
            InvalidInputError: For ``q_constraint=True``, or invalid columns.
        """
        _no_options(type(self).__name__, kwargs)
        if q_constraint:
            raise InvalidInputError(
                "The 'q_constraint' argument of GammaGammaFitter.fit is not supported: relmark "
                "fits q without constraint. Got True; drop it and check that q_ > 1."
            )
        x = _as_array(frequency)
        # Spend needs no timing: recency and T are placeholders the spend model never reads.
        placeholder = np.zeros(x.size)
        summary = _summary(x, placeholder, placeholder, monetary=monetary_value, weights=weights)
        model = GammaGamma(penalizer=self.penalizer_coef).fit(summary)
        data = {"frequency": summary.frequency, "monetary_value": summary.monetary}
        if weights is not None:
            data["weights"] = summary.row_weights
        index = _index_of(frequency, monetary_value) if index is None else index
        self._store(model, _pandas().DataFrame(data, index=index))
        return self

    def conditional_expected_average_profit(
        self, frequency: Any = None, monetary_value: Any = None
    ) -> Any:
        """Expected average transaction value of each customer (Fader & Hardie 2013, eq. 5).

        Args:
            frequency: Repeat purchases per customer; the fitted data by default.
            monetary_value: Mean repeat-purchase value; the fitted data by default.

        Returns:
            A Series indexed like a Series input (or the fitted data); a float for scalars.
        """
        model = self.relmark_model_
        if frequency is None:
            frequency = self.data["frequency"]
        if monetary_value is None:
            monetary_value = self.data["monetary_value"]
        x = _as_array(frequency)
        placeholder = np.zeros(x.size)
        summary = _summary(x, placeholder, placeholder, monetary=monetary_value)
        values = model.expected_spend(summary)
        index = _index_of(frequency, monetary_value)
        return _wrap(values, index, scalar=_is_scalar(frequency, monetary_value))

    def customer_lifetime_value(
        self,
        transaction_prediction_model: Any,
        frequency: Any,
        recency: Any,
        T: Any,
        monetary_value: Any,
        time: int = 12,
        discount_rate: float = 0.01,
        freq: str = "D",
    ) -> Any:
        """Discounted value of each customer's purchases over the next ``time`` months.

        Args:
            transaction_prediction_model: A fitted ``BetaGeoFitter``,
                ``ModifiedBetaGeoFitter`` or ``ParetoNBDFitter`` of this module.
            frequency: Repeat purchases per customer.
            recency: Time of the last purchase after the first, in ``freq``.
            T: Time from the first purchase to the end of observation, in ``freq``.
            monetary_value: Mean repeat-purchase value.
            time: Whole months to value.
            discount_rate: Discount rate per month.
            freq: Unit of recency and T (and of the transaction model): ``"D"``, ``"W"``,
                ``"M"``, ``"Q"`` or ``"Y"``.

        Returns:
            A Series named ``clv`` (indexed like a Series input).

        Raises:
            InvalidInputError: For another kind of transaction model or an unsupported ``freq``
                (lifetimes' ``"H"``: express recency and T in days instead).
        """
        if not isinstance(transaction_prediction_model, _RepeatBuyingFitter):
            raise InvalidInputError(
                "The 'transaction_prediction_model' argument must be a fitted BetaGeoFitter, "
                "ModifiedBetaGeoFitter or ParetoNBDFitter of relmark.compat.lifetimes. Got "
                f"{type(transaction_prediction_model).__name__}."
            )
        if freq not in _FREQUENCIES:
            raise InvalidInputError(
                f"The 'freq' argument must be one of {list(_FREQUENCIES)} (the unit of recency "
                f"and T). Got {freq!r}."
            )
        fitted = transaction_prediction_model.relmark_model_
        record = fitted.params_
        names = transaction_prediction_model._names  # noqa: SLF001 (a class of this module)
        unit = TimeUnit(freq)
        transactions = type(fitted).from_params(
            **{n: float(getattr(record, n)) for n in names}, unit=unit
        )
        p, q, v = (float(self.params_[n]) for n in self._names)
        spend = GammaGamma.from_params(p=p, q=q, gamma=v)
        summary = _summary(frequency, recency, T, monetary=monetary_value, unit=unit)
        values = customer_lifetime_value(
            transactions, spend, summary, horizon=time, unit="M", discount_rate=discount_rate
        )
        index = _index_of(frequency, recency, T, monetary_value)
        if index is None:
            index = _pandas().RangeIndex(values.size)
        return _wrap(values, index, scalar=False, name="clv")


def _no_options(where: str, kwargs: dict[str, Any]) -> None:
    """Reject extra keywords: lifetimes passed them to its optimizer, relmark has no use for them."""
    if kwargs:
        raise InvalidInputError(
            f"{where} got keyword arguments relmark does not use: {sorted(kwargs)}. lifetimes "
            "passed them to scipy's optimizer; relmark's fit needs no options."
        )


def _unit_of(freq: object, freq_multiplier: object) -> tuple[str, float]:
    if freq not in _FREQUENCIES:
        raise InvalidInputError(
            f"The 'freq' argument must be one of {list(_FREQUENCIES)} (relmark's periods). Got "
            f"{freq!r}."
        )
    try:
        multiplier = float(cast("float", freq_multiplier))
    except (TypeError, ValueError):
        multiplier = float("nan")
    if not (np.isfinite(multiplier) and multiplier > 0):
        raise InvalidInputError(
            f"The 'freq_multiplier' argument must be a number > 0. Got {freq_multiplier!r}."
        )
    return str(freq), multiplier


def _log(
    transactions: Any,
    customer_id_col: str,
    datetime_col: str,
    monetary_value_col: str | None,
    datetime_format: str | None,
) -> TransactionLog:
    return TransactionLog.from_frame(
        transactions,
        customer=customer_id_col,
        time=datetime_col,
        amount=monetary_value_col,
        time_format=datetime_format,
    )


def summary_data_from_transaction_data(
    transactions: Any,
    customer_id_col: str,
    datetime_col: str,
    monetary_value_col: str | None = None,
    datetime_format: str | None = None,
    observation_period_end: Any = None,
    freq: str = "D",
    freq_multiplier: float = 1,
) -> Any:
    """One row per customer (frequency, recency, T, monetary_value), as lifetimes' function.

    Computed by [`TransactionLog.summarize`][relmark.data.log.TransactionLog.summarize] with
    ``period=freq``: purchases in one period count once, durations are in ``freq`` divided
    by ``freq_multiplier`` (``freq="D", freq_multiplier=7`` gives weeks). For ``"D"`` and
    ``"W"`` the values equal lifetimes'; for ``"M"``, ``"Q"`` and ``"Y"`` relmark measures
    durations in mean Gregorian months (quarters, years) between period starts, where lifetimes
    counts whole periods.

    Args:
        transactions: pandas or polars frame (or pyarrow table) of transactions.
        customer_id_col: Customer-id column.
        datetime_col: Time column.
        monetary_value_col: Amount column, if any.
        datetime_format: ``strptime`` format of the time column.
        observation_period_end: End of observation; the latest transaction by default.
        freq: Period: ``"D"``, ``"W"``, ``"M"``, ``"Q"`` or ``"Y"``.
        freq_multiplier: Divisor of the durations.

    Returns:
        A pandas DataFrame indexed by customer id (named ``customer_id_col``), float columns.

    Raises:
        InvalidInputError: For missing columns, bad values or an unsupported ``freq``.

    Examples:
        >>> import pandas as pd
        >>> frame = pd.DataFrame(
        ...     {"id": [1, 1, 2], "date": ["2024-01-01", "2024-01-08", "2024-01-03"]}
        ... )
        >>> s = summary_data_from_transaction_data(
        ...     frame, "id", "date", observation_period_end="2024-01-15"
        ... )
        >>> list(s.columns), s.loc[1].tolist(), s.loc[2].tolist()
        (['frequency', 'recency', 'T'], [1.0, 7.0, 14.0], [0.0, 0.0, 12.0])
    """
    period, multiplier = _unit_of(freq, freq_multiplier)
    log = _log(transactions, customer_id_col, datetime_col, monetary_value_col, datetime_format)
    summary = log.summarize(observation_period_end, period=period, unit=period)
    return _frame(summary, customer_id_col, multiplier, suffix="")


def calibration_and_holdout_data(
    transactions: Any,
    customer_id_col: str,
    datetime_col: str,
    calibration_period_end: Any,
    observation_period_end: Any = None,
    freq: str = "D",
    freq_multiplier: float = 1,
    datetime_format: str | None = None,
    monetary_value_col: str | None = None,
    include_first_transaction: bool = False,
) -> Any:
    """Calibration summary and holdout counts per customer, as lifetimes' function.

    Computed by [`TransactionLog.split`][relmark.data.log.TransactionLog.split]; columns
    ``frequency_cal``, ``recency_cal``, ``T_cal`` (``monetary_value_cal``),
    ``frequency_holdout`` (``monetary_value_holdout``) and ``duration_holdout``.

    Args:
        transactions: pandas or polars frame (or pyarrow table) of transactions.
        customer_id_col: Customer-id column.
        datetime_col: Time column.
        calibration_period_end: Last instant of the calibration period.
        observation_period_end: Last instant of the holdout; the latest transaction by default.
        freq: Period: ``"D"``, ``"W"``, ``"M"``, ``"Q"`` or ``"Y"``.
        freq_multiplier: Divisor of the durations.
        datetime_format: ``strptime`` format of the time column.
        monetary_value_col: Amount column, if any.
        include_first_transaction: Not offered (raises if True): relmark's models need repeat
            counts.

    Returns:
        A pandas DataFrame indexed by customer id.

    Raises:
        InvalidInputError: For bad columns, dates, ``freq`` or ``include_first_transaction``.
    """
    if include_first_transaction:
        raise InvalidInputError(
            "The 'include_first_transaction' argument is not supported: relmark's models count "
            "repeat purchases. Got True."
        )
    period, multiplier = _unit_of(freq, freq_multiplier)
    log = _log(transactions, customer_id_col, datetime_col, monetary_value_col, datetime_format)
    summary = log.split(calibration_period_end, observation_period_end, period=period, unit=period)
    frame = _frame(summary, customer_id_col, multiplier, suffix="_cal")
    frame["frequency_holdout"] = np.asarray(summary.frequency_holdout, dtype=np.float64)
    if summary.monetary_holdout is not None:
        frame["monetary_value_holdout"] = summary.monetary_holdout
    frame["duration_holdout"] = np.asarray(summary.duration_holdout) / multiplier
    return frame


def _frame(summary: CustomerSummary, name: str, multiplier: float, *, suffix: str) -> Any:
    pd = _pandas()
    columns = {
        "frequency" + suffix: summary.frequency.astype(np.float64),
        "recency" + suffix: summary.recency / multiplier,
        "T" + suffix: summary.T / multiplier,
    }
    if summary.monetary is not None:
        columns["monetary_value" + suffix] = summary.monetary
    return pd.DataFrame(columns, index=pd.Index(summary.customer_id, name=name))
