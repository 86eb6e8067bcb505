r"""Plots of model diagnostics (needs the optional extra ``relmark[plot]``, i.e. matplotlib).

Each function draws one diagnostic from [`relmark.clv.diagnostics`][relmark.clv.diagnostics]
and returns the matplotlib ``Axes`` it drew on. Pass ``ax=`` to draw into your own figure (for
example one from ``matplotlib.pyplot.subplots``); without it a new standalone
``matplotlib.figure.Figure`` is created, not registered with pyplot, so nothing is shown or
leaked: save it with ``ax.figure.savefig(path)``. No function changes matplotlib's global state
(rcParams, backend, current figure).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import NDArray

from relmark._estimator import fitted_attribute
from relmark.clv.diagnostics import (
    CalibrationHoldoutTable,
    FrequencyRecencyMatrix,
    ModelComparison,
    RepeatPurchaseHistogram,
    TrackingCurves,
    frequency_recency_matrix,
)
from relmark.data.log import TransactionLog
from relmark.data.summary import CustomerSummary, require_summary
from relmark.errors import InvalidInputError, require
from relmark.typing import MatrixModel

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "plot_calibration_holdout",
    "plot_dropout_heterogeneity",
    "plot_frequency_recency_matrix",
    "plot_history_alive",
    "plot_model_comparison",
    "plot_period_transactions",
    "plot_tracking",
    "plot_transaction_rate_heterogeneity",
]

_ACTUAL = "#1f4e79"
_MODEL = "#d9822b"


def _axes(ax: Axes | None) -> Axes:
    """The given Axes, or one on a new standalone Figure (no pyplot state)."""
    require("matplotlib", "plot")
    if ax is not None:
        return ax
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7.0, 4.5), layout="constrained")
    return figure.add_subplot()


def _check(name: str, value: object, expected: type[Any]) -> None:
    if not isinstance(value, expected):
        raise InvalidInputError(
            f"The {name!r} argument must be a {expected.__name__} (from "
            f"relmark.clv.diagnostics). Got {type(value).__name__}."
        )


def plot_frequency_recency_matrix(
    matrix: FrequencyRecencyMatrix | MatrixModel,
    summary: CustomerSummary | None = None,
    *,
    T: float | None = None,
    max_frequency: int | None = None,
    kind: Literal["expected_purchases", "probability_alive"] | None = None,
    t: float | None = None,
    ax: Axes | None = None,
) -> Axes:
    r"""Heat map of a model's score over frequency $x$ (rows) and recency $t_x$ (columns).

    Draws a [`FrequencyRecencyMatrix`][relmark.clv.diagnostics.FrequencyRecencyMatrix] from
    [`frequency_recency_matrix`][relmark.clv.diagnostics.frequency_recency_matrix]: customers of
    age $T$ with every $x \le$ ``max_frequency`` and whole $t_x \le$ ``max_recency``, scored by
    the expected purchases over the next $t$ or the probability of being alive. Frequency grows
    upwards and recency to the right, so the best customers are in the top-right corner.

    Give either a ready matrix, or a fitted model and the grid to score: a ``summary`` (the grid
    then spans its largest $T$ and frequency) or ``T`` and ``max_frequency`` directly.

    Args:
        matrix: The grid and its scores, or a fitted model to score a grid with.
        summary: With a model: customers whose largest $T$ and frequency bound the grid.
        T: With a model: age of the grid customers in the model's unit (overrides ``summary``).
        max_frequency: With a model: largest frequency of the grid (overrides ``summary``).
        kind: With a model: ``"expected_purchases"`` (default) or ``"probability_alive"``.
        t: With a model: horizon of ``expected_purchases`` in the model's unit (default 1).
        ax: Axes to draw on; a new figure's by default.

    Returns:
        The Axes, holding one image and a colour bar on its figure.

    Raises:
        MissingDependencyError: When matplotlib is not installed.
        InvalidInputError: When ``matrix`` is neither a ``FrequencyRecencyMatrix`` nor a model,
            when grid arguments come with a ready matrix, or when a model comes without a grid.

    Examples:
        >>> from relmark.clv import BGNBD, frequency_recency_matrix
        >>> model = BGNBD.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
        >>> grid = frequency_recency_matrix(model, 39, max_frequency=12, kind="probability_alive")
        >>> len(plot_frequency_recency_matrix(grid).images)
        1
        >>> axes = plot_frequency_recency_matrix(model, T=39, max_frequency=12)
        >>> len(axes.images)
        1
    """
    if not isinstance(matrix, FrequencyRecencyMatrix):
        matrix = _matrix_from_model(matrix, summary, T, max_frequency, kind, t)
    else:
        given = {"summary": summary, "T": T, "max_frequency": max_frequency, "kind": kind, "t": t}
        extra = sorted(k for k, v in given.items() if v is not None)
        if extra:
            raise InvalidInputError(
                f"A ready FrequencyRecencyMatrix already fixes its grid; the argument(s) "
                f"{', '.join(repr(k) for k in extra)} apply only when a fitted model is given."
            )
    _check("matrix", matrix, FrequencyRecencyMatrix)
    grid = matrix
    shown = grid.kind
    axes = _axes(ax)
    step = 0.5
    image = axes.imshow(
        grid.values,
        origin="lower",
        aspect="auto",
        cmap="viridis",
        extent=(
            grid.recency[0] - step,
            grid.recency[-1] + step,
            grid.frequency[0] - step,
            grid.frequency[-1] + step,
        ),
        vmin=0.0,
        vmax=1.0 if shown == "probability_alive" else None,
    )
    unit = grid.unit.name.lower()
    if shown == "probability_alive":
        label = "P(alive)"
        title = f"Probability alive, by frequency and recency (T = {grid.T:g} {unit}s)"
    else:
        label = f"Expected purchases in the next {grid.t:g} {unit}(s)"
        title = f"Expected purchases, by frequency and recency (T = {grid.T:g} {unit}s)"
    axes.figure.colorbar(image, ax=axes, label=label)
    from matplotlib.ticker import MaxNLocator

    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlabel(f"Recency $t_x$ ({unit}s from first to last purchase)")
    axes.set_ylabel("Frequency $x$ (repeat purchases)")
    axes.set_title(title)
    return axes


def _matrix_from_model(
    model: object,
    summary: CustomerSummary | None,
    T: float | None,
    max_frequency: int | None,
    kind: Literal["expected_purchases", "probability_alive"] | None,
    t: float | None,
) -> FrequencyRecencyMatrix:
    """Score the grid asked for with a fitted model (see ``plot_frequency_recency_matrix``)."""
    if not all(hasattr(type(model), name) for name in ("expected_purchases", "probability_alive")):
        raise InvalidInputError(
            "The 'matrix' argument must be a FrequencyRecencyMatrix (from relmark.clv.diagnostics) "
            f"or a fitted transaction model such as BGNBD. Got {type(model).__name__}."
        )
    if summary is not None:
        summary = require_summary(summary, owner="plot_frequency_recency_matrix")
    unit = fitted_attribute(
        model, "unit_", argument="matrix", owner="plot_frequency_recency_matrix"
    )
    if summary is not None and len(summary):
        scale = summary.unit.days / unit.days
        T = float(np.max(summary.T)) * scale if T is None else T
        max_frequency = (
            max(int(np.max(summary.frequency)), 1) if max_frequency is None else max_frequency
        )
    if T is None or max_frequency is None:
        raise InvalidInputError(
            "With a model, plot_frequency_recency_matrix needs the grid: pass a non-empty "
            "'summary', or both 'T' and 'max_frequency'."
        )
    return frequency_recency_matrix(
        model,  # type: ignore[arg-type]  # duck-typed above; the function checks the rest
        T,
        max_frequency=max_frequency,
        kind=kind or "expected_purchases",
        t=1.0 if t is None else t,
    )


def plot_period_transactions(histogram: RepeatPurchaseHistogram, *, ax: Axes | None = None) -> Axes:
    r"""Bar chart of actual versus expected customers by repeat purchases in calibration.

    The title reports the $\chi^2$ test of
    [`repeat_purchase_histogram`][relmark.clv.diagnostics.repeat_purchase_histogram].

    Args:
        histogram: The histogram to draw.
        ax: Axes to draw on; a new figure's by default.

    Returns:
        The Axes, holding two bar containers (actual, model) and a legend.

    Raises:
        MissingDependencyError: When matplotlib is not installed.
        InvalidInputError: When ``histogram`` is not a ``RepeatPurchaseHistogram``.
    """
    _check("histogram", histogram, RepeatPurchaseHistogram)
    axes = _axes(ax)
    position = np.arange(histogram.frequency.size, dtype=np.float64)
    width = 0.4
    axes.bar(position - width / 2, histogram.actual, width, label="Actual", color=_ACTUAL)
    axes.bar(position + width / 2, histogram.expected, width, label="Model", color=_MODEL)
    axes.set_xticks(position, histogram.label.tolist())
    axes.set_xlabel("Repeat purchases in the calibration period")
    axes.set_ylabel("Customers")
    p_value = "n/a" if np.isnan(histogram.p_value) else f"{histogram.p_value:.3g}"
    axes.set_title(
        f"Repeat purchases: actual vs model  (χ² = {histogram.chi_square:.2f}, "
        f"df = {histogram.degrees_of_freedom}, p = {p_value})"
    )
    axes.legend()
    return axes


def plot_calibration_holdout(table: CalibrationHoldoutTable, *, ax: Axes | None = None) -> Axes:
    """Mean actual and predicted holdout purchases against calibration frequency.

    Draws [`calibration_holdout_table`][relmark.clv.diagnostics.calibration_holdout_table]
    as two lines (Fader, Hardie & Lee 2005, fig. 3); groups without customers are gaps.

    Args:
        table: The table to draw.
        ax: Axes to draw on; a new figure's by default.

    Returns:
        The Axes, holding two lines (actual, model) and a legend.

    Raises:
        MissingDependencyError: When matplotlib is not installed.
        InvalidInputError: When ``table`` is not a ``CalibrationHoldoutTable``.
    """
    _check("table", table, CalibrationHoldoutTable)
    axes = _axes(ax)
    position = table.frequency.astype(np.float64)
    axes.plot(position, table.actual, marker="o", label="Actual", color=_ACTUAL)
    axes.plot(position, table.predicted, marker="s", linestyle="--", label="Model", color=_MODEL)
    axes.set_xticks(position, table.label.tolist())
    axes.set_xlabel("Repeat purchases in the calibration period")
    axes.set_ylabel("Mean purchases in the holdout period")
    axes.set_title("Conditional expectations: calibration vs holdout")
    axes.legend()
    return axes


def plot_tracking(
    curves: TrackingCurves, *, cumulative: bool = True, ax: Axes | None = None
) -> Axes:
    """Actual and expected repeat transactions per period, cumulative or incremental.

    Draws [`tracking_curves`][relmark.clv.diagnostics.tracking_curves] against the first day
    of each period (Fader, Hardie & Lee 2005, figs. 2 and 4), with a dotted vertical line at
    the end of the calibration period when the curves carry one.

    Args:
        curves: The curves to draw.
        cumulative: Cumulative totals (default) or counts per period.
        ax: Axes to draw on; a new figure's by default.

    Returns:
        The Axes, holding two lines (actual, model), the calibration-end line if any, and a
        legend.

    Raises:
        MissingDependencyError: When matplotlib is not installed.
        InvalidInputError: When ``curves`` is not ``TrackingCurves``.
    """
    _check("curves", curves, TrackingCurves)
    axes = _axes(ax)
    actual = curves.cumulative_actual if cumulative else curves.actual
    expected = curves.cumulative_expected if cumulative else curves.expected
    when = curves.period_start
    axes.plot(when, actual, label="Actual", color=_ACTUAL)
    axes.plot(when, expected, linestyle="--", label="Model", color=_MODEL)
    if curves.calibration_end is not None:
        # Dates go through the axis's unit converter; matplotlib's stubs only admit floats.
        axes.axvline(
            curves.calibration_end,  # type: ignore[arg-type]
            color="grey",
            linestyle=":",
            label="End of calibration",
        )
    period = curves.period.name.lower()
    what = "Cumulative repeat transactions" if cumulative else f"Repeat transactions per {period}"
    axes.set_xlabel(f"{period.capitalize()} starting")
    axes.set_ylabel(what)
    axes.set_title(f"{what}: actual vs model")
    axes.legend()
    axes.figure.autofmt_xdate()
    return axes


def plot_model_comparison(
    comparison: ModelComparison,
    *,
    metric: Literal["aic", "bic", "holdout_mae", "holdout_rmse"] = "bic",
    ax: Axes | None = None,
) -> Axes:
    """Horizontal bars of one comparison metric per model (lower is better for every metric).

    AIC and BIC are drawn as differences from the smallest value, since only differences
    between models fitted to the same data carry meaning.

    Args:
        comparison: The result of [`compare_models`][relmark.clv.diagnostics.compare_models].
        metric: Which column to draw.
        ax: Axes to draw on; a new figure's by default.

    Returns:
        The Axes, holding one bar per model.

    Raises:
        MissingDependencyError: When matplotlib is not installed.
        InvalidInputError: For another type of ``comparison`` or an unknown ``metric``.
    """
    _check("comparison", comparison, ModelComparison)
    columns = {
        "aic": comparison.aic,
        "bic": comparison.bic,
        "holdout_mae": comparison.holdout_mae,
        "holdout_rmse": comparison.holdout_rmse,
    }
    if metric not in columns:
        raise InvalidInputError(
            f"The 'metric' argument must be one of {sorted(columns)}. Got {metric!r}."
        )
    axes = _axes(ax)
    values = columns[metric]
    label = {
        "aic": "AIC",
        "bic": "BIC",
        "holdout_mae": "Holdout MAE",
        "holdout_rmse": "Holdout RMSE",
    }
    name = label[metric]
    if metric in {"aic", "bic"}:
        # Information criteria matter only as differences; bars from 0 would all look equal.
        values = values - np.nanmin(values) if np.isfinite(values).any() else values
        name = f"Δ{name} (from the best model)"
    position = np.arange(comparison.name.size, dtype=np.float64)
    axes.barh(position, values, color=_ACTUAL)
    axes.set_yticks(position, comparison.name.tolist())
    axes.invert_yaxis()
    axes.set_xlabel(f"{name}, lower is better")
    axes.set_title(f"Model comparison: {label[metric]}")
    return axes


def plot_history_alive(
    model: object,
    log: TransactionLog,
    customer_id: object,
    *,
    end: object = None,
    period: str = "D",
    ax: Axes | None = None,
) -> Axes:
    r"""One customer's probability of being alive over time, with their purchases marked.

    At every ``period`` from the customer's first purchase to ``end``, the customer's history
    up to that day is summarized exactly as
    [`TransactionLog.summarize`][relmark.data.log.TransactionLog.summarize] does, and the
    fitted model's $P(\text{alive})$ is evaluated on it: it jumps up at each purchase and decays
    while the customer is silent.

    Args:
        model: A fitted model with ``probability_alive`` and ``unit_`` (BG/NBD, MBG/NBD,
            Pareto/NBD).
        log: Transactions that include the customer's.
        customer_id: The customer to draw (an id of ``log``).
        end: Last day drawn; the log's last transaction time by default.
        period: Purchase bucket and step of the curve, as in ``summarize`` (``"D"`` or ``"W"``).
        ax: Axes to draw on; a new figure's by default.

    Returns:
        The Axes, holding the P(alive) line and one vertical line per purchase period.

    Raises:
        MissingDependencyError: When matplotlib is not installed.
        NotFittedError: When the model is not fitted.
        InvalidInputError: When ``log`` is not a ``TransactionLog``, the customer has no
            purchase in it, or ``period`` is not ``"D"`` or ``"W"``.

    Examples:
        >>> from relmark.clv import BGNBD
        >>> from relmark.data import TransactionLog
        >>> log = TransactionLog.from_arrays(
        ...     [1, 1, 1, 2], ["2024-01-01", "2024-02-01", "2024-02-20", "2024-01-05"]
        ... )
        >>> model = BGNBD.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
        >>> axes = plot_history_alive(model, log, 1, end="2024-06-30")
        >>> len(axes.lines)  # the curve and three purchase markers
        4
    """
    _check("log", log, TransactionLog)
    if period not in {"D", "W"}:
        raise InvalidInputError(f"The 'period' argument must be 'D' or 'W'. Got {period!r}.")
    unit = fitted_attribute(model, "unit_", argument="model", owner="plot_history_alive")
    mine = log.customer_id == np.asarray(customer_id, dtype=log.customer_id.dtype)
    purchase = mine if log.is_return is None else mine & ~log.is_return
    if not np.any(purchase):
        raise InvalidInputError(
            f"The 'customer_id' argument must name a customer with at least one purchase in "
            f"the log. Got {customer_id!r}."
        )
    one = TransactionLog.from_arrays(
        log.customer_id[purchase], log.time[purchase], timezone=log.timezone
    )
    try:
        last: Any = np.asarray(log.end if end is None else end, dtype="datetime64[D]")
    except (TypeError, ValueError):
        raise InvalidInputError(
            f"The 'end' argument must be a date (datetime, numpy.datetime64 or ISO string). "
            f"Got {end!r}."
        ) from None
    step = np.timedelta64(7 if period == "W" else 1, "D")
    first: Any = one.start.astype("datetime64[D]")
    days: NDArray[np.datetime64] = np.arange(first, last + np.timedelta64(1, "D"), step)
    if days.size == 0:
        raise InvalidInputError(
            f"The 'end' argument must not precede the customer's first purchase "
            f"({one.start.astype('datetime64[D]')}). Got {end!r}."
        )
    alive = np.empty(days.size)
    for i, day in enumerate(days):
        history = one.summarize(day, period=period, unit=unit)
        alive[i] = float(model.probability_alive(history)[0])  # type: ignore[attr-defined]
    axes = _axes(ax)
    axes.plot(days, alive, color=_MODEL, label="P(alive)")
    bought = np.unique(one.time.astype("datetime64[D]"))
    for k, day in enumerate(bought):
        axes.axvline(
            day,
            color=_ACTUAL,
            alpha=0.5,
            linestyle=":",
            label="Purchase" if k == 0 else None,
        )
    axes.set_ylim(0.0, 1.05)
    axes.set_xlabel("Date")
    axes.set_ylabel("P(alive)")
    axes.set_title(f"Probability that customer {customer_id} is alive")
    axes.legend()
    axes.figure.autofmt_xdate()
    return axes


def _log_gamma_density(x: Any, shape: float, rate: float) -> Any:
    from scipy.special import gammaln

    return shape * np.log(rate) + (shape - 1.0) * np.log(x) - rate * x - gammaln(shape)


def _log_beta_density(x: Any, a: float, b: float) -> Any:
    from scipy.special import betaln

    return (a - 1.0) * np.log(x) + (b - 1.0) * np.log1p(-x) - betaln(a, b)


def _plot_gamma(axes: Axes, shape: float, rate: float, label: str) -> None:
    """A Gamma(shape, rate) density up to its 99th percentile."""
    from scipy.special import gammaincinv

    top = float(gammaincinv(shape, 0.99)) / rate
    grid = np.linspace(top / 500, top, 500)
    axes.plot(grid, np.exp(_log_gamma_density(grid, shape, rate)), color=_MODEL, label=label)


def plot_transaction_rate_heterogeneity(model: object, *, ax: Axes | None = None) -> Axes:
    r"""Density of the purchase rate $\lambda \sim \text{Gamma}(r, \alpha)$ across customers.

    The mixing distribution of BG/NBD, MBG/NBD and Pareto/NBD (shape $r$, rate $\alpha$, per
    unit of the model; Fader, Hardie & Lee 2005, sec. 2), drawn up to its 99th percentile, with
    its mean $r/\alpha$ in the legend.

    Args:
        model: A fitted model whose ``params_`` has ``r`` and ``alpha``.
        ax: Axes to draw on; a new figure's by default.

    Returns:
        The Axes, holding the density line.

    Raises:
        MissingDependencyError: When matplotlib is not installed.
        NotFittedError: When the model is not fitted.
        InvalidInputError: When the model has no Gamma(r, alpha) purchase-rate mixing.

    Examples:
        >>> from relmark.clv import BGNBD
        >>> model = BGNBD.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
        >>> len(plot_transaction_rate_heterogeneity(model).lines)
        1
    """
    params = fitted_attribute(
        model, "params_", argument="model", owner="plot_transaction_rate_heterogeneity"
    )
    if not all(hasattr(params, n) for n in ("r", "alpha")):
        raise InvalidInputError(
            f"{type(model).__name__} has no Gamma(r, alpha) purchase-rate heterogeneity; use "
            "BGNBD, MBGNBD or ParetoNBD."
        )
    r, alpha = float(params.r), float(params.alpha)
    axes = _axes(ax)
    unit = fitted_attribute(
        model, "unit_", argument="model", owner="plot_transaction_rate_heterogeneity"
    ).name.lower()
    label = f"Gamma(r={r:.3g}, α={alpha:.3g}); mean {r / alpha:.3g} per {unit}"
    _plot_gamma(axes, r, alpha, label)
    axes.set_xlabel(f"Purchase rate λ (purchases per {unit})")
    axes.set_ylabel("Density")
    axes.set_title("Heterogeneity of the purchase rate")
    axes.legend()
    return axes


def plot_dropout_heterogeneity(model: object, *, ax: Axes | None = None) -> Axes:
    r"""Density of the dropout parameter across customers.

    BG/NBD and MBG/NBD: the probability $p \sim \text{Beta}(a, b)$ of dropping out after a
    purchase (Fader, Hardie & Lee 2005, sec. 2); Pareto/NBD: the dropout rate
    $\mu \sim \text{Gamma}(s, \beta)$ (Schmittlein, Morrison & Colombo 1987). The mean is in
    the legend.

    Args:
        model: A fitted BG/NBD, MBG/NBD or Pareto/NBD model.
        ax: Axes to draw on; a new figure's by default.

    Returns:
        The Axes, holding the density line.

    Raises:
        MissingDependencyError: When matplotlib is not installed.
        NotFittedError: When the model is not fitted.
        InvalidInputError: When the model has neither Beta(a, b) nor Gamma(s, beta) dropout.

    Examples:
        >>> from relmark.clv import ParetoNBD
        >>> model = ParetoNBD.from_params(r=0.553, alpha=10.58, s=0.606, beta=11.67)
        >>> len(plot_dropout_heterogeneity(model).lines)
        1
    """
    params = fitted_attribute(
        model, "params_", argument="model", owner="plot_dropout_heterogeneity"
    )
    axes = _axes(ax)
    if all(hasattr(params, n) for n in ("a", "b")):
        a, b = float(params.a), float(params.b)
        grid = np.linspace(0.0, 1.0, 502)[1:-1]
        density = np.exp(_log_beta_density(grid, a, b))
        axes.plot(
            grid, density, color=_MODEL, label=f"Beta(a={a:.3g}, b={b:.3g}); mean {a / (a + b):.3g}"
        )
        axes.set_xlabel("Dropout probability p after each purchase")
        # A density that diverges at 0 or 1 would flatten the rest of the curve.
        axes.set_ylim(0.0, float(np.quantile(density, 0.98)) * 1.1)
    elif all(hasattr(params, n) for n in ("s", "beta")):
        shape, rate = float(params.s), float(params.beta)
        unit = fitted_attribute(
            model, "unit_", argument="model", owner="plot_dropout_heterogeneity"
        ).name.lower()
        label = f"Gamma(s={shape:.3g}, β={rate:.3g}); mean {shape / rate:.3g} per {unit}"
        _plot_gamma(axes, shape, rate, label)
        axes.set_xlabel(f"Dropout rate μ (per {unit})")
    else:
        raise InvalidInputError(
            f"{type(model).__name__} has neither Beta(a, b) nor Gamma(s, beta) dropout "
            "heterogeneity; use BGNBD, MBGNBD or ParetoNBD."
        )
    axes.set_ylabel("Density")
    axes.set_title("Heterogeneity of dropout")
    axes.legend()
    return axes
