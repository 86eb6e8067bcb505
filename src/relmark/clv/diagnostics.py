r"""Diagnostics of fitted customer-base models, returned as data.

Every function here returns a frozen record of numpy columns (convert one with ``to_frame``;
pandas is never required) that [`relmark.plotting`][relmark.plotting] can draw:

- [`calibration_holdout_table`][relmark.clv.diagnostics.calibration_holdout_table]: mean actual
  versus mean predicted holdout purchases by calibration frequency (Fader, Hardie & Lee 2005,
  fig. 3).
- [`repeat_purchase_histogram`][relmark.clv.diagnostics.repeat_purchase_histogram]: expected
  versus actual number of customers with $0, 1, \dots, k+$ repeat purchases in calibration, with a
  $\chi^2$ goodness-of-fit test (FHL 2005, fig. 1).
- [`tracking_curves`][relmark.clv.diagnostics.tracking_curves]: actual versus expected repeat
  transactions per period of a whole cohort, cumulative and incremental (FHL 2005, figs. 2 and 4).
- [`compare_models`][relmark.clv.diagnostics.compare_models]: log-likelihood, AIC, BIC and holdout
  error of several fitted models side by side.
- [`frequency_recency_matrix`][relmark.clv.diagnostics.frequency_recency_matrix]: expected
  purchases or $P(\text{alive})$ over a grid of $(x, t_x)$ for one $T$.

Times are converted between the summary's unit and the model's ``unit_``, so a summary in days
can be checked against a model fitted in weeks.
"""

from __future__ import annotations

import math
import operator
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal

import attrs
import numpy as np
from numpy.typing import NDArray

from relmark._estimator import fitted_attribute
from relmark._validation import check_real, cmp
from relmark.data.log import TransactionLog
from relmark.data.summary import CustomerSummary, require_summary
from relmark.data.units import TimeUnit, parse_unit
from relmark.errors import InvalidInputError, RelmarkWarning
from relmark.typing import (
    ComparableModel,
    CountModel,
    HoldoutModel,
    MatrixModel,
    NewCustomerModel,
)

__all__ = [
    "CalibrationHoldoutTable",
    "FrequencyRecencyMatrix",
    "ModelComparison",
    "RepeatPurchaseHistogram",
    "TrackingCurves",
    "calibration_holdout_table",
    "compare_models",
    "frequency_recency_matrix",
    "repeat_purchase_histogram",
    "tracking_curves",
]

_MICROS_PER_DAY = 86_400_000_000


# ---------------------------------------------------------------------------- records
class _ColumnRecord:
    """Base of the records that are tables: ``columns`` and ``to_frame`` from ``_COLUMNS``."""

    __slots__ = ()

    _COLUMNS: ClassVar[tuple[str, ...]]

    def columns(self) -> dict[str, NDArray[Any]]:
        """The record's columns, by name."""
        return {name: getattr(self, name) for name in self._COLUMNS}

    def to_frame(self, backend: str | None = None) -> Any:
        """Return the columns as a pandas or polars DataFrame or a pyarrow Table.

        Args:
            backend: ``"pandas"``, ``"polars"`` or ``"pyarrow"``; by default the first of them
                that is installed.

        Raises:
            InvalidInputError: For an unknown backend.
            MissingDependencyError: When the backend's library is not installed.
        """
        from relmark._display import frame_backend
        from relmark._frames import to_native_frame

        return to_native_frame(self.columns(), frame_backend(backend))

    def _repr_html_(self) -> str:
        """The record's columns as an HTML table (Jupyter)."""
        from relmark._display import html_table

        return html_table(self.columns(), title=type(self).__name__, max_rows=12)


def _bin_labels(max_frequency: int) -> NDArray[np.str_]:
    labels = [str(k) for k in range(max_frequency)] + [f"{max_frequency}+"]
    return np.array(labels)


@attrs.frozen(kw_only=True)
class CalibrationHoldoutTable(_ColumnRecord):
    """Mean actual and predicted holdout purchases of customers grouped by calibration frequency.

    Row $k$ holds the customers with $k$ repeat purchases in calibration; the last row holds
    those with ``max_frequency`` or more. Customers count with their summary weights.

    Attributes:
        frequency: Calibration repeat purchases of each row, ``0..max_frequency`` (the last row
            means "``max_frequency`` or more").
        label: Row labels (``"0"``, ``"1"``, …, ``"7+"``).
        n_customers: Number (total weight) of customers in each row.
        actual: Mean actual holdout purchases of the row's customers (NaN for an empty row).
        predicted: Mean conditional expectation of holdout purchases (NaN for an empty row).
        actual_total: Actual holdout purchases of all customers.
        predicted_total: Predicted holdout purchases of all customers.
        max_frequency: Where the calibration frequencies were censored.
    """

    frequency: NDArray[np.int64] = attrs.field(eq=cmp)
    label: NDArray[np.str_] = attrs.field(eq=cmp)
    n_customers: NDArray[np.float64] = attrs.field(eq=cmp)
    actual: NDArray[np.float64] = attrs.field(eq=cmp)
    predicted: NDArray[np.float64] = attrs.field(eq=cmp)
    actual_total: float
    predicted_total: float
    max_frequency: int

    _COLUMNS: ClassVar[tuple[str, ...]] = (
        "frequency",
        "label",
        "n_customers",
        "actual",
        "predicted",
    )


@attrs.frozen(kw_only=True)
class RepeatPurchaseHistogram(_ColumnRecord):
    r"""Expected versus actual number of customers by repeat purchases in calibration.

    The $\chi^2$ test pools adjacent bins, from the right, until every pooled bin expects at least
    ``min_expected`` customers (the usual validity condition of the test); ``test_group`` says
    which pooled bin each bin went into.

    Attributes:
        frequency: Repeat purchases of each bin, ``0..max_frequency`` (the last bin means
            "``max_frequency`` or more").
        label: Bin labels (``"0"``, ``"1"``, …, ``"7+"``).
        actual: Number (total weight) of customers in each bin.
        expected: Expected number of customers in each bin.
        test_group: Index of the pooled bin each bin belongs to in the $\chi^2$ test.
        chi_square: The statistic $\sum_g (O_g - E_g)^2 / E_g$ over pooled bins.
        degrees_of_freedom: Pooled bins $- 1 -$ ``n_params``.
        p_value: Upper tail probability of the statistic; NaN when ``degrees_of_freedom < 1``.
        n_params: Number of parameters estimated from the data, subtracted from the degrees of
            freedom.
        pooled: Whether any bins were pooled for the test.
    """

    frequency: NDArray[np.int64] = attrs.field(eq=cmp)
    label: NDArray[np.str_] = attrs.field(eq=cmp)
    actual: NDArray[np.float64] = attrs.field(eq=cmp)
    expected: NDArray[np.float64] = attrs.field(eq=cmp)
    test_group: NDArray[np.int64] = attrs.field(eq=cmp)
    chi_square: float
    degrees_of_freedom: int
    p_value: float
    n_params: int
    pooled: bool

    _COLUMNS: ClassVar[tuple[str, ...]] = ("frequency", "label", "actual", "expected", "test_group")


@attrs.frozen(kw_only=True)
class TrackingCurves(_ColumnRecord):
    """Actual and expected repeat transactions of a customer base, period by period.

    Period $k$ covers the days ``period_start[k]`` to ``period_end[k]`` (both included; the last
    period may be shorter than the others when the range does not divide evenly).

    Attributes:
        period_start: First day of each period (``datetime64[D]``).
        period_end: Last day of each period (``datetime64[D]``).
        actual: Repeat transactions in each period (distinct purchase days after each customer's
            first, as counted by ``TransactionLog.summarize(period="D")``).
        expected: Expected repeat transactions in each period.
        calibration_end: Last day of the calibration period, or ``None``.
        period: Nominal length of a period.
    """

    period_start: NDArray[np.datetime64] = attrs.field(eq=cmp)
    period_end: NDArray[np.datetime64] = attrs.field(eq=cmp)
    actual: NDArray[np.float64] = attrs.field(eq=cmp)
    expected: NDArray[np.float64] = attrs.field(eq=cmp)
    calibration_end: np.datetime64 | None
    period: TimeUnit

    @property
    def cumulative_actual(self) -> NDArray[np.float64]:
        """Repeat transactions from the first period up to the end of each period."""
        return np.cumsum(self.actual)

    @property
    def cumulative_expected(self) -> NDArray[np.float64]:
        """Expected repeat transactions from the first period up to the end of each period."""
        return np.cumsum(self.expected)

    _COLUMNS: ClassVar[tuple[str, ...]] = (
        "period_start",
        "period_end",
        "actual",
        "expected",
        "cumulative_actual",
        "cumulative_expected",
    )


@attrs.frozen(kw_only=True)
class ModelComparison(_ColumnRecord):
    """Fit statistics and holdout error of several models, one row per model.

    Attributes:
        name: Model names.
        n_params: Number of parameters of each model.
        log_likelihood: Log-likelihood at the estimates (NaN for a model built from known
            parameters).
        aic: Akaike information criterion (lower is better).
        bic: Bayesian information criterion (lower is better).
        n_observations: Number of customers each model was fitted on.
        holdout_mae: Mean absolute error of per-customer holdout purchases (NaN without a
            holdout summary).
        holdout_rmse: Root mean squared error of per-customer holdout purchases.
        holdout_predicted_total: Predicted holdout purchases of all customers.
        holdout_actual_total: Actual holdout purchases of all customers (NaN without a holdout).
    """

    name: NDArray[np.str_] = attrs.field(eq=cmp)
    n_params: NDArray[np.int64] = attrs.field(eq=cmp)
    log_likelihood: NDArray[np.float64] = attrs.field(eq=cmp)
    aic: NDArray[np.float64] = attrs.field(eq=cmp)
    bic: NDArray[np.float64] = attrs.field(eq=cmp)
    n_observations: NDArray[np.float64] = attrs.field(eq=cmp)
    holdout_mae: NDArray[np.float64] = attrs.field(eq=cmp)
    holdout_rmse: NDArray[np.float64] = attrs.field(eq=cmp)
    holdout_predicted_total: NDArray[np.float64] = attrs.field(eq=cmp)
    holdout_actual_total: float

    _COLUMNS: ClassVar[tuple[str, ...]] = (
        "name",
        "n_params",
        "log_likelihood",
        "aic",
        "bic",
        "n_observations",
        "holdout_mae",
        "holdout_rmse",
        "holdout_predicted_total",
    )


@attrs.frozen(kw_only=True)
class FrequencyRecencyMatrix:
    r"""A model's score over a grid of frequency $x$ and recency $t_x$ at one age $T$.

    Attributes:
        frequency: Row values $x = 0, 1, \dots$
        recency: Column values $t_x$, in the model's unit.
        values: ``values[i, j]`` is the score of a customer with ``frequency[i]`` and
            ``recency[j]``; a customer with $x = 0$ has $t_x = 0$ by definition, so the first
            row repeats one value.
        T: Age $T$ of every grid customer, in the model's unit.
        kind: ``"expected_purchases"`` or ``"probability_alive"``.
        t: Horizon of ``expected_purchases`` (NaN for ``probability_alive``).
        unit: The model's time unit.
    """

    frequency: NDArray[np.int64] = attrs.field(eq=cmp)
    recency: NDArray[np.float64] = attrs.field(eq=cmp)
    values: NDArray[np.float64] = attrs.field(eq=cmp)
    T: float
    kind: str
    t: float
    unit: TimeUnit


# ---------------------------------------------------------------------------- validation
def _check_count(name: str, value: object, *, minimum: int) -> int:
    try:
        count = -1 if isinstance(value, bool) else operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        count = minimum - 1
    if count < minimum:
        raise InvalidInputError(
            f"The {name!r} argument must be an int >= {minimum}. Got {value!r}."
        )
    return count


def _check_positive(name: str, value: object) -> float:
    return check_real(value, name=name, role="argument", strict=True)


def _check_summary(summary: object, *, holdout: bool, owner: str) -> CustomerSummary:
    summary = require_summary(summary, owner=owner)
    if len(summary) == 0:
        raise InvalidInputError("The 'summary' argument has no customers.")
    if holdout and not summary.has_holdout:
        raise InvalidInputError(
            "The 'summary' argument has no holdout columns (frequency_holdout, "
            "duration_holdout); build it with TransactionLog.split(calibration_end, "
            "observation_end)."
        )
    return summary


def _scale_to_model(summary: CustomerSummary, model: object, owner: str) -> float:
    unit: TimeUnit = fitted_attribute(model, "unit_", argument="model", owner=owner)
    return summary.unit.days / unit.days


# ---------------------------------------------------------------------------- calibration/holdout
def _holdout_predictions(
    model: HoldoutModel, summary: CustomerSummary, owner: str
) -> NDArray[np.float64]:
    """Each customer's conditional expectation over their own holdout duration (FHL eq. 10).

    One call per distinct holdout duration (usually one), not one per customer.
    """
    scale = _scale_to_model(summary, model, owner)
    durations = summary.duration_holdout
    if durations is None:  # guarded by _check_summary; kept for the type checker
        raise InvalidInputError("The 'summary' argument has no 'duration_holdout' column.")
    distinct, inverse = np.unique(durations, return_inverse=True)
    if distinct.size == 1:
        return np.asarray(
            model.expected_purchases(float(distinct[0]) * scale, summary), dtype=np.float64
        )
    predicted = np.empty(len(summary), dtype=np.float64)
    for code, duration in enumerate(distinct):
        rows = np.flatnonzero(inverse == code)
        predicted[rows] = model.expected_purchases(float(duration) * scale, summary.take(rows))
    return predicted


def calibration_holdout_table(
    model: HoldoutModel, summary: CustomerSummary, *, max_frequency: int = 7
) -> CalibrationHoldoutTable:
    r"""Compare actual with predicted holdout purchases, grouped by calibration frequency.

    For each customer the prediction is the conditional expectation of purchases in their own
    holdout period given their calibration history,
    $E[Y(\tau) \mid x, t_x, T]$ with $\tau$ = ``duration_holdout`` (Fader, Hardie & Lee 2005,
    eq. 10 and fig. 3). Customers are grouped by calibration frequency $x$, censored at
    ``max_frequency`` (FHL's "7+"), and each group reports its mean actual and mean predicted
    holdout purchases.

    Args:
        model: A fitted model with ``expected_purchases(t, summary)`` and ``unit_``.
        summary: A calibration summary with holdout columns
            ([`TransactionLog.split`][relmark.data.log.TransactionLog.split]).
        max_frequency: The last group holds customers with this many repeat purchases or more.

    Returns:
        One row per calibration frequency ``0..max_frequency``.

    Raises:
        InvalidInputError: When ``summary`` has no holdout columns, or ``max_frequency`` < 1.

    Examples:
        >>> from relmark.clv import BGNBD
        >>> from relmark.datasets import load_cdnow
        >>> summary = load_cdnow().split("1997-09-30", "1998-06-30")
        >>> table = calibration_holdout_table(BGNBD().fit(summary), summary)
        >>> table.label.tolist()
        ['0', '1', '2', '3', '4', '5', '6', '7+']
    """
    summary = _check_summary(summary, holdout=True, owner="calibration_holdout_table")
    cap = _check_count("max_frequency", max_frequency, minimum=1)
    predicted = _holdout_predictions(model, summary, "calibration_holdout_table")
    actual = np.asarray(summary.frequency_holdout, dtype=np.float64)
    weights = summary.row_weights
    group = np.minimum(summary.frequency, cap)
    n = np.bincount(group, weights=weights, minlength=cap + 1).astype(np.float64)
    actual_sum = np.bincount(group, weights=weights * actual, minlength=cap + 1)
    predicted_sum = np.bincount(group, weights=weights * predicted, minlength=cap + 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        actual_mean = np.where(n > 0, actual_sum / n, np.nan)
        predicted_mean = np.where(n > 0, predicted_sum / n, np.nan)
    return CalibrationHoldoutTable(
        frequency=np.arange(cap + 1, dtype=np.int64),
        label=_bin_labels(cap),
        n_customers=n,
        actual=actual_mean,
        predicted=predicted_mean,
        actual_total=float(actual_sum.sum()),
        predicted_total=float(predicted_sum.sum()),
        max_frequency=cap,
    )


# ---------------------------------------------------------------------------- histogram and χ²
def _pool_bins(expected: NDArray[np.float64], minimum: float) -> NDArray[np.int64]:
    """Pool adjacent bins from the right until each pool expects at least ``minimum``.

    A left-over pool at the left end that is still short joins its right neighbour. Returns
    the pool index of each bin, numbered from the left.
    """
    k = expected.size
    pool = np.empty(k, dtype=np.int64)
    current, filled = 0, 0.0
    for i in range(k - 1, -1, -1):
        pool[i] = current
        filled += float(expected[i])
        if filled >= minimum:
            current, filled = current + 1, 0.0
    if current > 0 and bool((pool == current).any()):
        pool[pool == current] = current - 1
    renumbered: NDArray[np.int64] = pool.max() - pool
    return renumbered


def repeat_purchase_histogram(
    model: CountModel,
    summary: CustomerSummary,
    *,
    max_frequency: int = 7,
    min_expected: float = 5.0,
    n_params: int | None = None,
) -> RepeatPurchaseHistogram:
    r"""Expected versus actual customers by repeat purchases in calibration, with a $\chi^2$ test.

    A customer observed for $T$ makes $n$ repeat purchases with probability $P(X(T) = n)$
    (FHL 2005, eq. 8 for the BG/NBD), so the expected number of customers with $n$ repeat
    purchases is $\sum_i w_i P(X(T_i) = n)$, and with ``max_frequency`` or more
    $\sum_i w_i \bigl(1 - \sum_{n < k} P(X(T_i) = n)\bigr)$. The probabilities are computed
    once per distinct $T$ (FHL 2005, fig. 1 for the CDNOW cohort, whose customers differ in
    $T$).

    The goodness-of-fit statistic is Pearson's $\chi^2 = \sum_g (O_g - E_g)^2 / E_g$ over bins
    pooled from the right until each expects at least ``min_expected`` customers, with
    (pooled bins $- 1 -$ ``n_params``) degrees of freedom.

    Args:
        model: A fitted model with ``probability_of_purchases(n, t)``, ``parameter_names()`` and
            ``unit_``.
        summary: The calibration summary the model was fitted on.
        max_frequency: The last bin holds customers with this many repeat purchases or more.
        min_expected: Smallest expected count of a pooled bin in the $\chi^2$ test.
        n_params: Parameters estimated from these data; by default the model's number of
            parameters. Pass 0 for a model whose parameters were not estimated from ``summary``.

    Returns:
        One bin per repeat-purchase count ``0..max_frequency``, and the test. When fewer than
        ``n_params + 2`` pooled bins remain the test has no degrees of freedom: ``p_value`` is
        NaN and a [`RelmarkWarning`][relmark.errors.RelmarkWarning] says so.

    Raises:
        InvalidInputError: For a bad argument.

    Examples:
        >>> from relmark.clv import BGNBD
        >>> from relmark.datasets import load_cdnow_sample_summary
        >>> summary = load_cdnow_sample_summary()
        >>> hist = repeat_purchase_histogram(BGNBD().fit(summary), summary)
        >>> int(hist.actual.sum()), hist.degrees_of_freedom
        (2357, 3)
    """
    summary = _check_summary(summary, holdout=False, owner="repeat_purchase_histogram")
    cap = _check_count("max_frequency", max_frequency, minimum=1)
    minimum = _check_positive("min_expected", min_expected)
    k = (
        len(model.parameter_names())
        if n_params is None
        else _check_count("n_params", n_params, minimum=0)
    )
    weights = summary.row_weights
    ages = summary.T * _scale_to_model(summary, model, "repeat_purchase_histogram")
    distinct, inverse = np.unique(ages, return_inverse=True)
    weight_per_age = np.bincount(inverse.reshape(-1), weights=weights, minlength=distinct.size)
    counts = np.arange(cap, dtype=np.float64)
    probability = np.asarray(
        model.probability_of_purchases(counts[np.newaxis, :], distinct[:, np.newaxis]),
        dtype=np.float64,
    )
    head = weight_per_age @ probability
    tail = weight_per_age @ np.clip(1.0 - probability.sum(axis=1), 0.0, None)
    expected = np.append(head, tail)
    actual = np.bincount(
        np.minimum(summary.frequency, cap), weights=weights, minlength=cap + 1
    ).astype(np.float64)
    pool = _pool_bins(expected, minimum)
    n_pools = int(pool.max()) + 1
    observed_pooled = np.bincount(pool, weights=actual, minlength=n_pools)
    expected_pooled = np.bincount(pool, weights=expected, minlength=n_pools)
    chi_square = float(np.sum((observed_pooled - expected_pooled) ** 2 / expected_pooled))
    dof = n_pools - 1 - k
    if dof >= 1:
        from scipy.stats import chi2

        p_value = float(chi2.sf(chi_square, dof))
    else:
        p_value = math.nan
        warnings.warn(
            f"The chi-square test has {dof} degrees of freedom ({n_pools} pooled bins, "
            f"{k} estimated parameters), so it has no p-value. Raise 'max_frequency' or lower "
            "'min_expected' if the data allow.",
            RelmarkWarning,
            stacklevel=2,
        )
    return RepeatPurchaseHistogram(
        frequency=np.arange(cap + 1, dtype=np.int64),
        label=_bin_labels(cap),
        actual=actual,
        expected=expected,
        test_group=pool,
        chi_square=chi_square,
        degrees_of_freedom=dof,
        p_value=p_value,
        n_params=k,
        pooled=n_pools < cap + 1,
    )


# ---------------------------------------------------------------------------- tracking
def _day_of(name: str, value: object, log: TransactionLog) -> int:
    instant = log.instant(value, name=name)
    return int(instant.astype("datetime64[us]").astype(np.int64) // _MICROS_PER_DAY)


def _first_and_repeat_days(
    log: TransactionLog,
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Each customer's first purchase day, and the days of all repeat purchases.

    A repeat purchase is a distinct purchase day after the customer's first, exactly as
    ``TransactionLog.summarize(period="D")`` counts them; returns are not purchases.
    """
    log = log.purchases()
    days = log.time.astype("datetime64[us]").view(np.int64) // _MICROS_PER_DAY
    try:
        _, code = np.unique(log.customer_id, return_inverse=True)
    except TypeError as exc:
        raise InvalidInputError(f"Customer ids cannot be ordered: {exc}") from None
    code = code.reshape(-1).astype(np.int64)
    low = int(days.min())
    span = int(days.max()) - low + 1
    pairs = np.unique(code * span + (days - low))
    pair_code, pair_day = pairs // span, pairs % span + low
    first_of_pair = np.empty(pairs.size, dtype=bool)
    first_of_pair[0] = True
    np.not_equal(pair_code[1:], pair_code[:-1], out=first_of_pair[1:])
    return pair_day[first_of_pair], pair_day[~first_of_pair]


def tracking_curves(
    model: NewCustomerModel,
    log: TransactionLog,
    *,
    period: str | TimeUnit = "W",
    start: object = None,
    end: object = None,
    calibration_end: object = None,
) -> TrackingCurves:
    r"""Actual versus expected repeat transactions of every customer in a log, per period.

    A customer who first bought on day $d_0$ is expected to have made $E[X((d - d_0)/u)]$ repeat
    purchases by the end of day $d$, where $E[X(t)]$ is the model's expectation for a new
    customer (FHL 2005, eq. 9 for the BG/NBD) and $u$ the length of the model's unit in days;
    this is the convention of ``summarize``, whose $T$ runs from the first purchase day to the
    observation-end day. Summed over customers this gives the expected cumulative repeat
    transactions of the whole base, with customers entering as they are acquired (FHL 2005,
    fig. 2). Customers sharing a first-purchase day are handled together, and $E[X]$ is
    evaluated once per distinct lag, never once per customer.

    Periods are consecutive blocks of ``period`` (one day or seven days) starting at ``start``;
    counts in a period are differences of the cumulative curves at its bounds.

    Args:
        model: A fitted model with ``expected_purchases_new_customer(t)`` and ``unit_``.
        log: The transactions of the customers to track (calibration and holdout).
        period: ``"D"`` or ``"W"``: length of a period.
        start: First day of the first period; the log's first day by default.
        end: Last day of the last period; the log's last day by default.
        calibration_end: Last day of the calibration period, kept for plots (optional).

    Returns:
        Incremental curves per period (cumulative ones are properties).

    Raises:
        InvalidInputError: For an empty log, an unsupported period or ``end`` before ``start``.

    Examples:
        >>> from relmark.clv import BGNBD
        >>> from relmark.datasets import load_cdnow
        >>> log = load_cdnow()
        >>> model = BGNBD().fit(log.split("1997-09-30", "1998-06-30"))
        >>> curves = tracking_curves(model, log, calibration_end="1997-09-30")
        >>> curves.actual.size, int(curves.cumulative_actual[-1])
        (78, 44021)
    """
    bucket = parse_unit(period, field="period")
    if bucket not in {TimeUnit.DAY, TimeUnit.WEEK}:
        raise InvalidInputError(
            f"The 'period' argument of tracking_curves must be 'D' or 'W' (periods of fixed "
            f"length). Got {period!r}."
        )
    unit: TimeUnit = fitted_attribute(model, "unit_", argument="model", owner="tracking_curves")
    if len(log) == 0:
        raise InvalidInputError("The 'log' argument is empty; there is nothing to track.")
    first_day, repeat_day = _first_and_repeat_days(log)
    lo = int(first_day.min()) if start is None else _day_of("start", start, log)
    last = int(max(first_day.max(), repeat_day.max(initial=first_day.max())))
    hi = last if end is None else _day_of("end", end, log)
    if hi < lo:
        raise InvalidInputError(
            f"The 'end' argument must not fall before 'start'. Got start={start!r}, end={end!r}."
        )
    length = int(bucket.days)
    n_periods = (hi - lo) // length + 1
    bounds = np.minimum(lo + length * np.arange(1, n_periods + 1) - 1, hi)
    # Cumulative counts at each period's last day, measured from the day before `start`.
    cut = np.concatenate(([lo - 1], bounds))
    actual_cum = np.searchsorted(np.sort(repeat_day), cut, side="right").astype(np.float64)
    entry_days, entrants = np.unique(first_day, return_counts=True)
    lag = cut[np.newaxis, :] - entry_days[:, np.newaxis]
    acquired = lag >= 0
    distinct_lag, lag_code = np.unique(np.where(acquired, lag, 0), return_inverse=True)
    per_lag = np.asarray(
        model.expected_purchases_new_customer(distinct_lag / unit.days), dtype=np.float64
    )
    per_entry = np.where(acquired, per_lag[lag_code.reshape(lag.shape)], 0.0)
    expected_cum = entrants.astype(np.float64) @ per_entry
    starts = np.concatenate(([lo], bounds[:-1] + 1))
    return TrackingCurves(
        period_start=starts.astype("datetime64[D]"),
        period_end=bounds.astype("datetime64[D]"),
        actual=np.diff(actual_cum),
        expected=np.diff(expected_cum),
        calibration_end=None
        if calibration_end is None
        else np.datetime64(_day_of("calibration_end", calibration_end, log), "D"),
        period=bucket,
    )


# ---------------------------------------------------------------------------- model comparison
def _named_models(
    models: Mapping[str, ComparableModel] | Sequence[ComparableModel],
) -> list[tuple[str, ComparableModel]]:
    if isinstance(models, Mapping):
        named = [(str(name), model) for name, model in models.items()]
    else:
        named = [(type(model).__name__, model) for model in models]
        names = [name for name, _ in named]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise InvalidInputError(
                f"The 'models' argument holds several models of the same class {repeated}; pass "
                "a mapping of distinct names to models instead."
            )
    if not named:
        raise InvalidInputError("The 'models' argument is empty; give at least one model.")
    return named


def compare_models(
    models: Mapping[str, ComparableModel] | Sequence[ComparableModel],
    summary: CustomerSummary | None = None,
) -> ModelComparison:
    r"""Compare fitted models by likelihood, information criteria and holdout error.

    AIC $= 2k - 2\ln L$ and BIC $= k \ln N - 2\ln L$ come from each model's ``fit_``; they are
    comparable only between models fitted to the same customers (a
    [`RelmarkWarning`][relmark.errors.RelmarkWarning] is emitted when the models were fitted on
    different numbers of customers). With a holdout summary, each model also predicts each
    customer's holdout purchases (as in
    [`calibration_holdout_table`][relmark.clv.diagnostics.calibration_holdout_table]) and the
    weighted mean absolute and root mean squared errors are reported.

    Args:
        models: Fitted models, as a mapping of name to model, or a sequence (named by class).
        summary: A calibration summary with holdout columns, for the holdout errors (optional).

    Returns:
        One row per model, in the given order.

    Raises:
        InvalidInputError: For no models, duplicate class names in a sequence, a summary
            without holdout columns, or a model that cannot predict holdout purchases.

    Examples:
        >>> from relmark.clv import BGNBD, MBGNBD
        >>> from relmark.datasets import load_cdnow
        >>> summary = load_cdnow().split("1997-09-30", "1998-06-30")
        >>> table = compare_models([BGNBD().fit(summary), MBGNBD().fit(summary)], summary)
        >>> table.name.tolist()
        ['BGNBD', 'MBGNBD']
    """
    named = _named_models(models)
    holdout = (
        None if summary is None else _check_summary(summary, holdout=True, owner="compare_models")
    )
    n = len(named)
    stats = np.full((5, n), np.nan)
    n_params = np.empty(n, dtype=np.int64)
    mae, rmse, total = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    actual_total = math.nan
    for i, (name, model) in enumerate(named):
        n_params[i] = len(model.parameter_names())
        fit = model.fit_
        if fit is not None:
            stats[:, i] = (fit.log_likelihood, fit.aic, fit.bic, fit.n_observations, 0.0)
        if holdout is not None:
            if not callable(getattr(model, "expected_purchases", None)):
                raise InvalidInputError(
                    f"Model {name!r} ({type(model).__name__}) has no expected_purchases(t, "
                    "summary), so it cannot predict holdout purchases; compare it without a "
                    "summary."
                )
            predicted = _holdout_predictions(model, holdout, "compare_models")  # type: ignore[arg-type]
            weights = holdout.row_weights
            error = predicted - np.asarray(holdout.frequency_holdout, dtype=np.float64)
            mae[i] = float(weights @ np.abs(error) / weights.sum())
            rmse[i] = float(np.sqrt(weights @ error**2 / weights.sum()))
            total[i] = float(weights @ predicted)
            actual_total = float(weights @ np.asarray(holdout.frequency_holdout, np.float64))
    sizes = stats[3][np.isfinite(stats[3])]
    if sizes.size and not np.all(sizes == sizes[0]):
        warnings.warn(
            f"The models were fitted on different numbers of customers {sizes.tolist()}; their "
            "log-likelihoods, AIC and BIC are not comparable.",
            RelmarkWarning,
            stacklevel=2,
        )
    return ModelComparison(
        name=np.array([name for name, _ in named]),
        n_params=n_params,
        log_likelihood=stats[0],
        aic=stats[1],
        bic=stats[2],
        n_observations=stats[3],
        holdout_mae=mae,
        holdout_rmse=rmse,
        holdout_predicted_total=total,
        holdout_actual_total=actual_total,
    )


# ---------------------------------------------------------------------------- frequency × recency
def frequency_recency_matrix(
    model: MatrixModel,
    T: float,
    *,
    max_frequency: int,
    max_recency: float | None = None,
    kind: Literal["expected_purchases", "probability_alive"] = "expected_purchases",
    t: float = 1.0,
) -> FrequencyRecencyMatrix:
    r"""Score a grid of customers of age $T$: every $x \le$ ``max_frequency``, $t_x \le$ ``max_recency``.

    Recency runs over whole model units $0, 1, \dots$ up to ``max_recency`` (default $T$); a
    customer with $x = 0$ has $t_x = 0$, so the $x = 0$ row repeats one value.

    Args:
        model: A fitted model with ``expected_purchases``, ``probability_alive`` and ``unit_``.
        T: Age of the grid customers, in the model's unit.
        max_frequency: Largest frequency $x$ of the grid.
        max_recency: Largest recency; $T$ by default, and never more than $T$.
        kind: ``"expected_purchases"`` (over horizon ``t``) or ``"probability_alive"``.
        t: Horizon of ``expected_purchases``, in the model's unit.

    Returns:
        The grid and its scores.

    Raises:
        InvalidInputError: For a bad argument.
    """
    unit: TimeUnit = fitted_attribute(
        model, "unit_", argument="model", owner="frequency_recency_matrix"
    )
    age = _check_positive("T", T)
    cap = _check_count("max_frequency", max_frequency, minimum=1)
    top = age if max_recency is None else _check_positive("max_recency", max_recency)
    if top > age:
        raise InvalidInputError(
            f"The 'max_recency' argument must be <= T ({age:g}); the last purchase cannot fall "
            f"after the end of observation. Got {max_recency!r}."
        )
    if kind not in {"expected_purchases", "probability_alive"}:
        raise InvalidInputError(
            "The 'kind' argument must be 'expected_purchases' or 'probability_alive'. "
            f"Got {kind!r}."
        )
    horizon = _check_positive("t", t) if kind == "expected_purchases" else math.nan
    recency = np.arange(0.0, math.floor(top) + 1.0)
    x, t_x = np.meshgrid(np.arange(cap + 1), recency, indexing="ij")
    t_x = np.where(x == 0, 0.0, t_x)
    grid = CustomerSummary.from_arrays(
        x.ravel(), t_x.ravel(), np.full(x.size, age), unit=unit.value
    )
    if kind == "expected_purchases":
        values = model.expected_purchases(horizon, grid)
    else:
        values = model.probability_alive(grid)
    return FrequencyRecencyMatrix(
        frequency=np.arange(cap + 1, dtype=np.int64),
        recency=recency,
        values=np.asarray(values, dtype=np.float64).reshape(x.shape),
        T=age,
        kind=kind,
        t=horizon,
        unit=unit,
    )
