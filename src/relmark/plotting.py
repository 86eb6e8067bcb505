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

from relmark.clv.diagnostics import (
    CalibrationHoldoutTable,
    FrequencyRecencyMatrix,
    ModelComparison,
    RepeatPurchaseHistogram,
    TrackingCurves,
)
from relmark.errors import InvalidInputError, require

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "plot_calibration_holdout",
    "plot_frequency_recency_matrix",
    "plot_model_comparison",
    "plot_period_transactions",
    "plot_tracking",
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
    matrix: FrequencyRecencyMatrix, *, ax: Axes | None = None
) -> Axes:
    r"""Heat map of a model's score over frequency $x$ (rows) and recency $t_x$ (columns).

    Draws a [`FrequencyRecencyMatrix`][relmark.clv.diagnostics.FrequencyRecencyMatrix] from
    [`frequency_recency_matrix`][relmark.clv.diagnostics.frequency_recency_matrix]: customers of
    age $T$ with every $x \le$ ``max_frequency`` and whole $t_x \le$ ``max_recency``, scored by
    the expected purchases over the next $t$ or the probability of being alive. Frequency grows
    upwards and recency to the right, so the best customers are in the top-right corner.

    Args:
        matrix: The grid and its scores.
        ax: Axes to draw on; a new figure's by default.

    Returns:
        The Axes, holding one image and a colour bar on its figure.

    Raises:
        MissingDependencyError: When matplotlib is not installed.
        InvalidInputError: When ``matrix`` is not a ``FrequencyRecencyMatrix``.

    Examples:
        >>> from relmark.clv import BGNBD, frequency_recency_matrix
        >>> model = BGNBD.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
        >>> grid = frequency_recency_matrix(model, 39, max_frequency=12, kind="probability_alive")
        >>> len(plot_frequency_recency_matrix(grid).images)
        1
    """
    _check("matrix", matrix, FrequencyRecencyMatrix)
    grid = matrix
    kind = grid.kind
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
        vmax=1.0 if kind == "probability_alive" else None,
    )
    unit = grid.unit.name.lower()
    if kind == "probability_alive":
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
