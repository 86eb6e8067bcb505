"""Plots render to PNG with the Agg canvas and draw the expected artists, without global state."""

from __future__ import annotations

import importlib.util

import matplotlib as mpl
import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from relmark import plotting
from relmark.clv import BGNBD, MBGNBD, GammaGamma, ParetoNBD
from relmark.clv.diagnostics import (
    calibration_holdout_table,
    compare_models,
    frequency_recency_matrix,
    repeat_purchase_histogram,
    tracking_curves,
)
from relmark.data import CustomerSummary, TransactionLog
from relmark.datasets import load_cdnow
from relmark.errors import InvalidInputError, MissingDependencyError, NotFittedError


@pytest.fixture(scope="module")
def log():
    return load_cdnow()


@pytest.fixture(scope="module")
def split(log):
    return log.split("1997-09-30", "1998-06-30")


@pytest.fixture(scope="module")
def model(split):
    return BGNBD().fit(split)


@pytest.fixture
def ax():
    figure = Figure(figsize=(6, 4))
    FigureCanvasAgg(figure)
    return figure.add_subplot()


def _render(axes, path):
    axes.figure.savefig(path)
    assert path.exists()
    assert path.stat().st_size > 5_000


def test_calibration_holdout_plot(split, model, ax, tmp_path):
    """Two lines of 8 points (actual, model) with 7+ as the last tick label and a legend."""
    table = calibration_holdout_table(model, split)
    out = plotting.plot_calibration_holdout(table, ax=ax)
    assert out is ax
    assert len(ax.lines) == 2
    np.testing.assert_allclose(ax.lines[0].get_ydata(), table.actual)
    np.testing.assert_allclose(ax.lines[1].get_ydata(), table.predicted)
    assert [t.get_text() for t in ax.get_xticklabels()][-1] == "7+"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Actual", "Model"]
    _render(ax, tmp_path / "calibration.png")


def test_period_transactions_plot(split, model, ax, tmp_path):
    """Two bar containers of one bar per bin, heights = actual and expected, χ² in the title."""
    hist = repeat_purchase_histogram(model, split)
    plotting.plot_period_transactions(hist, ax=ax)
    assert len(ax.containers) == 2
    heights = [[bar.get_height() for bar in c] for c in ax.containers]
    np.testing.assert_allclose(heights[0], hist.actual)
    np.testing.assert_allclose(heights[1], hist.expected)
    assert "χ²" in ax.get_title()
    _render(ax, tmp_path / "histogram.png")


@pytest.mark.parametrize("cumulative", [True, False])
def test_tracking_plot(log, model, ax, tmp_path, cumulative):
    """Actual and model lines over 78 weeks plus the calibration-end line, cumulative or not."""
    curves = tracking_curves(model, log, calibration_end="1997-09-30")
    plotting.plot_tracking(curves, cumulative=cumulative, ax=ax)
    assert len(ax.lines) == 3
    expected = curves.cumulative_actual if cumulative else curves.actual
    np.testing.assert_allclose(ax.lines[0].get_ydata(), expected)
    assert len(ax.lines[1].get_ydata()) == 78
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["Actual", "Model", "End of calibration"]
    assert ("Cumulative" in ax.get_ylabel()) is cumulative
    _render(ax, tmp_path / "tracking.png")


@pytest.mark.parametrize("kind", ["expected_purchases", "probability_alive"])
def test_frequency_recency_plot(model, ax, tmp_path, kind):
    """One image of (max_frequency + 1) x (T + 1) cells and a colour bar axes on the figure."""
    grid = frequency_recency_matrix(model, 39, max_frequency=12, kind=kind)
    plotting.plot_frequency_recency_matrix(grid, ax=ax)
    assert len(ax.images) == 1
    assert ax.images[0].get_array().shape == (13, 40)
    assert len(ax.figure.axes) == 2
    assert "Frequency" in ax.get_ylabel()
    _render(ax, tmp_path / f"{kind}.png")


def test_model_comparison_plot(split, model, ax, tmp_path):
    """One bar per model; BIC drawn as differences from the best, so the best bar is 0."""
    table = compare_models({"BG/NBD": model, "MBG/NBD": MBGNBD().fit(split)}, split)
    plotting.plot_model_comparison(table, ax=ax)
    widths = [bar.get_width() for bar in ax.patches]
    assert len(widths) == 2
    assert min(widths) == 0.0
    assert max(widths) == pytest.approx(np.ptp(table.bic))
    with pytest.raises(InvalidInputError, match="'metric'"):
        plotting.plot_model_comparison(table, metric="loglik", ax=ax)  # type: ignore[arg-type]
    _render(ax, tmp_path / "comparison.png")


def test_without_ax_a_standalone_figure_is_made_and_global_state_is_untouched(
    split, model, tmp_path
):
    """No ax: a new Figure (saved fine); rcParams and the backend are the same afterwards."""
    before = dict(mpl.rcParams)
    backend = mpl.get_backend()
    axes = plotting.plot_calibration_holdout(calibration_holdout_table(model, split))
    assert isinstance(axes.figure, Figure)
    _render(axes, tmp_path / "standalone.png")
    assert dict(mpl.rcParams) == before
    assert mpl.get_backend() == backend


def test_wrong_record_type_is_refused(model, ax):
    """Passing the wrong diagnostic record names the argument and the expected type."""
    with pytest.raises(InvalidInputError, match=r"'table'.*CalibrationHoldoutTable"):
        plotting.plot_calibration_holdout(model, ax=ax)  # type: ignore[arg-type]


def test_missing_matplotlib_raises_missing_dependency(split, model, monkeypatch):
    """Without matplotlib the plot functions say which extra to install."""
    real = importlib.util.find_spec

    def find_spec(name, *args, **kwargs):
        return None if name == "matplotlib" else real(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    with pytest.raises(MissingDependencyError, match=r"relmark\[plot\]"):
        plotting.plot_calibration_holdout(calibration_holdout_table(model, split))


def test_frequency_recency_plot_from_a_model_needs_a_grid(model, ax):
    """A model without a summary or T/max_frequency is refused with a message naming the grid."""
    with pytest.raises(InvalidInputError, match=r"'summary'.*'T' and 'max_frequency'"):
        plotting.plot_frequency_recency_matrix(model, ax=ax)


def test_frequency_recency_plot_refuses_a_summary_of_another_type(model, ax):
    """A summary that is not a CustomerSummary is refused by the one summary check, named."""
    with pytest.raises(InvalidInputError, match=r"'summary' argument of plot_frequency_recency"):
        plotting.plot_frequency_recency_matrix(model, summary=[1, 2], ax=ax)  # type: ignore[arg-type]


def test_frequency_recency_plot_straight_from_model_and_summary(model, split, ax):
    """Model + summary draws the matrix of the summary's largest T and frequency, unchanged."""
    expected = frequency_recency_matrix(
        model,
        float(split.T.max()),
        max_frequency=int(split.frequency.max()),
        kind="probability_alive",
    )
    plotting.plot_frequency_recency_matrix(model, split, kind="probability_alive", ax=ax)
    np.testing.assert_array_equal(ax.images[0].get_array(), expected.values)


def test_ready_matrix_refuses_grid_arguments(model, ax):
    """Grid arguments next to a ready matrix are refused, never silently ignored."""
    grid = frequency_recency_matrix(model, 39, max_frequency=5)
    with pytest.raises(InvalidInputError, match=r"'kind', 'max_frequency'"):
        plotting.plot_frequency_recency_matrix(grid, max_frequency=3, kind="probability_alive")


def test_history_alive_follows_hand_computed_summaries(ax):
    """P(alive) at each day equals the model on the customer's (x, t_x, T) at that day."""
    log = TransactionLog.from_arrays(
        [5, 5, 5, 5, 9], ["2024-01-01", "2024-01-01", "2024-01-15", "2024-03-01", "2024-02-01"]
    )
    model = BGNBD.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    plotting.plot_history_alive(model, log, 5, end="2024-04-30", ax=ax)
    days, alive = ax.lines[0].get_data()
    assert len(days) == 121  # 2024-01-01 .. 2024-04-30, one per day
    # By hand: purchase days 0, 14, 60 (the two rows of day 0 are one purchase period).
    d = np.arange(121.0)
    x = (d >= 14).astype(float) + (d >= 60)
    t_x = np.where(d >= 60, 60.0, np.where(d >= 14, 14.0, 0.0))
    hand = CustomerSummary.from_arrays(x, t_x / 7, d / 7, unit="W")
    np.testing.assert_allclose(alive, model.probability_alive(hand), rtol=1e-13)
    assert len(ax.lines) == 4  # the curve and three purchase days


def test_history_alive_refuses_unknown_customer(ax):
    """A customer without purchases in the log is named in the error."""
    log = TransactionLog.from_arrays([1], ["2024-01-01"])
    model = BGNBD.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    with pytest.raises(InvalidInputError, match=r"'customer_id'.*42"):
        plotting.plot_history_alive(model, log, 42, ax=ax)


def test_heterogeneity_densities_match_scipy(ax):
    """The drawn densities equal scipy.stats' Gamma and Beta pdfs at the drawn points."""
    from scipy import stats

    bgnbd = BGNBD.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    plotting.plot_transaction_rate_heterogeneity(bgnbd, ax=ax)
    lam, dens = ax.lines[0].get_data()
    np.testing.assert_allclose(dens, stats.gamma.pdf(lam, 0.243, scale=1 / 4.414), rtol=1e-10)
    figure = Figure()
    second = figure.add_subplot()
    plotting.plot_dropout_heterogeneity(bgnbd, ax=second)
    p, dens = second.lines[0].get_data()
    np.testing.assert_allclose(dens, stats.beta.pdf(p, 0.793, 2.426), rtol=1e-10)
    third = figure.add_subplot()
    pareto = ParetoNBD.from_params(r=0.553, alpha=10.58, s=0.606, beta=11.67)
    plotting.plot_dropout_heterogeneity(pareto, ax=third)
    mu, dens = third.lines[0].get_data()
    np.testing.assert_allclose(dens, stats.gamma.pdf(mu, 0.606, scale=1 / 11.67), rtol=1e-10)


def test_heterogeneity_refuses_unfitted_and_unsuitable_models(ax):
    """An unfitted model gets NotFittedError; a spend model has no purchase-rate mixing."""
    with pytest.raises(
        NotFittedError, match=r"'model' argument of plot_transaction_rate_heterogeneity \(a BGNBD\)"
    ):
        plotting.plot_transaction_rate_heterogeneity(BGNBD(), ax=ax)
    spend = GammaGamma.from_params(p=6.25, q=3.74, gamma=15.44)
    with pytest.raises(InvalidInputError, match="purchase-rate"):
        plotting.plot_transaction_rate_heterogeneity(spend, ax=ax)
