"""Diagnostics: calibration/holdout table, repeat-purchase histogram χ², tracking curves, comparison."""

from __future__ import annotations

import warnings

import attrs
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import special, stats

from relmark.clv import BGNBD, MBGNBD
from relmark.clv.diagnostics import (
    _pool_bins,
    calibration_holdout_table,
    compare_models,
    frequency_recency_matrix,
    repeat_purchase_histogram,
    tracking_curves,
)
from relmark.data.log import TransactionLog
from relmark.data.summary import CustomerSummary
from relmark.datasets import load_cdnow, load_cdnow_sample_summary, simulate_bgnbd
from relmark.errors import InvalidInputError, NotFittedError, RelmarkWarning

PARAMS = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}


@pytest.fixture(scope="module")
def log():
    return load_cdnow()


@pytest.fixture(scope="module")
def split(log):
    return log.split("1997-09-30", "1998-06-30")


@pytest.fixture(scope="module")
def model(split):
    return BGNBD().fit(split)


def _simulate_with_holdout(n, T, tau, seed):
    """BG/NBD customers observed for T, with their purchases in the following tau (exact, continuous)."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(PARAMS["r"], 1.0 / PARAMS["alpha"], n)
    dropout = rng.beta(PARAMS["a"], PARAMS["b"], n)
    ages = np.broadcast_to(np.asarray(T, dtype=np.float64), (n,))
    horizon = ages + tau
    events = rng.poisson(rate * horizon)
    made = np.minimum(events, rng.geometric(dropout))
    x = np.zeros(n, dtype=np.int64)
    t_x = np.zeros(n)
    holdout = np.zeros(n, dtype=np.int64)
    for i in range(n):
        times = np.sort(rng.uniform(0.0, horizon[i], events[i]))[: made[i]]
        calibration = times[times <= ages[i]]
        x[i] = calibration.size
        t_x[i] = calibration[-1] if calibration.size else 0.0
        holdout[i] = times.size - calibration.size
    summary = CustomerSummary.from_arrays(x, t_x, ages)
    return attrs.evolve(
        summary,
        frequency_holdout=holdout,
        duration_holdout=np.full(n, float(tau)),
    )


# ---------------------------------------------------------------- calibration/holdout table
def test_calibration_table_matches_plain_groupby_on_cdnow(split, model):
    """Each row equals a dictionary-based groupby of per-customer predictions on the CDNOW split."""
    table = calibration_holdout_table(model, split, max_frequency=7)
    per_customer = model.expected_purchases(39.0, split)
    groups: dict[int, list[tuple[float, float]]] = {}
    for x, actual, predicted in zip(
        split.frequency.tolist(),
        split.frequency_holdout.tolist(),
        per_customer.tolist(),
        strict=True,
    ):
        groups.setdefault(min(x, 7), []).append((actual, predicted))
    for k in range(8):
        rows = np.array(groups[k])
        assert table.n_customers[k] == len(rows)
        assert table.actual[k] == pytest.approx(rows[:, 0].mean(), rel=1e-12)
        assert table.predicted[k] == pytest.approx(rows[:, 1].mean(), rel=1e-12)
    assert table.label.tolist() == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert table.actual_total == split.frequency_holdout.sum() == 19684
    assert table.predicted_total == pytest.approx(per_customer.sum(), rel=1e-12)


def test_calibration_table_on_simulated_data_agrees_within_sampling_error():
    """Under the true model, mean actual and predicted holdout purchases agree within 4 standard errors."""
    summary = _simulate_with_holdout(20_000, np.linspace(27.0, 39.0, 20_000), 39.0, seed=11)
    truth = BGNBD.from_params(**PARAMS)
    table = calibration_holdout_table(truth, summary, max_frequency=5)
    group = np.minimum(summary.frequency, 5)
    for k in range(6):
        held = summary.frequency_holdout[group == k]
        se = held.std(ddof=1) / np.sqrt(held.size)
        assert abs(table.actual[k] - table.predicted[k]) < 4 * se + 1e-9
    assert table.actual_total == pytest.approx(table.predicted_total, rel=0.05)


def test_calibration_table_converts_units_and_respects_weights(split, model):
    """A summary in days gives the same table, and weighted rows count like repeated customers."""
    in_days = attrs.evolve(
        split,
        recency=split.recency * 7,
        T=split.T * 7,
        duration_holdout=split.duration_holdout * 7,
        unit=split.unit.DAY,
    )
    weeks = calibration_holdout_table(model, split)
    days = calibration_holdout_table(model, in_days)
    np.testing.assert_allclose(days.predicted, weeks.predicted, rtol=1e-10)
    np.testing.assert_array_equal(days.actual, weeks.actual)

    small = split.take(np.arange(40))
    weighted = attrs.evolve(small, weights=np.full(40, 3.0))
    repeated = small.take(np.repeat(np.arange(40), 3))
    repeated = attrs.evolve(repeated, customer_id=np.arange(120))
    a = calibration_holdout_table(model, weighted, max_frequency=3)
    b = calibration_holdout_table(model, repeated, max_frequency=3)
    np.testing.assert_allclose(a.n_customers, b.n_customers)
    np.testing.assert_allclose(a.actual, b.actual, equal_nan=True)
    np.testing.assert_allclose(a.predicted, b.predicted, equal_nan=True)


def test_calibration_table_with_mixed_holdout_durations(split, model):
    """Customers with different holdout lengths are each predicted over their own duration."""
    small = split.take(np.arange(200))
    durations = np.where(np.arange(200) % 2 == 0, 39.0, 13.0)
    mixed = attrs.evolve(small, duration_holdout=durations)
    table = calibration_holdout_table(model, mixed, max_frequency=2)
    expected = np.where(
        durations == 39.0,
        model.expected_purchases(39.0, small),
        model.expected_purchases(13.0, small),
    )
    assert table.predicted_total == pytest.approx(expected.sum(), rel=1e-12)


def test_calibration_table_empty_rows_are_nan(model):
    """A frequency with no customers has zero count and NaN means rather than a made-up value."""
    summary = CustomerSummary.from_arrays([0, 3], [0.0, 10.0], [20.0, 20.0])
    summary = attrs.evolve(
        summary, frequency_holdout=np.array([0, 2]), duration_holdout=np.full(2, 10.0)
    )
    table = calibration_holdout_table(model, summary, max_frequency=3)
    assert table.n_customers.tolist() == [1.0, 0.0, 0.0, 1.0]
    assert np.isnan(table.actual[1])
    assert np.isnan(table.predicted[2])


def test_calibration_table_rejects_bad_input(model):
    """No holdout columns, a non-summary or a bad max_frequency are named in the error."""
    plain = load_cdnow_sample_summary()
    with pytest.raises(InvalidInputError, match=r"no holdout columns.*split"):
        calibration_holdout_table(model, plain)
    with pytest.raises(InvalidInputError, match="'summary'"):
        calibration_holdout_table(model, {"frequency": [1]})  # type: ignore[arg-type]
    with_holdout = attrs.evolve(plain, frequency_holdout=plain.frequency, duration_holdout=plain.T)
    with pytest.raises(InvalidInputError, match=r"'max_frequency'.*Got 0"):
        calibration_holdout_table(model, with_holdout, max_frequency=0)
    with pytest.raises(InvalidInputError, match=r"'max_frequency'.*Got True"):
        calibration_holdout_table(model, with_holdout, max_frequency=True)


def test_calibration_table_to_frame(split, model):
    """The table converts to pandas and polars frames with its columns, in order."""
    table = calibration_holdout_table(model, split)
    frame = table.to_frame("pandas")
    assert list(frame.columns) == ["frequency", "label", "n_customers", "actual", "predicted"]
    assert frame["label"].tolist()[-1] == "7+"
    assert table.to_frame("polars").shape == (8, 5)


# ---------------------------------------------------------------- repeat-purchase histogram
def test_histogram_matches_a_per_customer_hand_computation():
    """Expected counts equal a loop over customers of P(X(T)=n); χ² and p equal scipy.stats.chisquare."""
    truth = BGNBD.from_params(**PARAMS)
    rng = np.random.default_rng(3)
    summary = simulate_bgnbd(400, **PARAMS, T=rng.choice([20.0, 30.0, 39.0], 400), seed=4)
    hist = repeat_purchase_histogram(truth, summary, max_frequency=3, min_expected=1e-9, n_params=0)
    expected = np.zeros(4)
    for T in summary.T:
        head = [float(truth.probability_of_purchases(n, T)) for n in range(3)]
        expected[:3] += head
        expected[3] += 1.0 - sum(head)
    np.testing.assert_allclose(hist.expected, expected, rtol=1e-10)
    actual = [(summary.frequency == n).sum() for n in range(3)] + [(summary.frequency >= 3).sum()]
    np.testing.assert_array_equal(hist.actual, actual)
    oracle = stats.chisquare(hist.actual, hist.expected)
    assert hist.chi_square == pytest.approx(oracle.statistic, rel=1e-10)
    assert hist.p_value == pytest.approx(oracle.pvalue, rel=1e-8)
    assert hist.degrees_of_freedom == 3
    assert not hist.pooled


def test_histogram_pools_sparse_tail_bins_for_the_test():
    """Bins expecting fewer than min_expected customers are pooled from the right before the χ² test."""
    truth = BGNBD.from_params(**PARAMS)
    summary = simulate_bgnbd(300, **PARAMS, T=39.0, seed=8)
    hist = repeat_purchase_histogram(truth, summary, max_frequency=10, n_params=0)
    assert hist.pooled
    pools = hist.test_group.max() + 1
    observed = np.bincount(hist.test_group, weights=hist.actual)
    expected = np.bincount(hist.test_group, weights=hist.expected)
    assert (expected >= 5.0).all()
    assert np.all(np.diff(hist.test_group) >= 0)
    oracle = stats.chisquare(observed, expected)
    assert hist.chi_square == pytest.approx(oracle.statistic, rel=1e-10)
    assert hist.p_value == pytest.approx(oracle.pvalue, rel=1e-8)
    assert hist.degrees_of_freedom == pools - 1


def test_histogram_under_the_true_model_is_not_rejected():
    """Fitted to BG/NBD data, the χ² test (df = pooled bins - 1 - 4) does not reject at 1%."""
    rng = np.random.default_rng(21)
    ages = rng.uniform(27.0, 39.0, 8_000)
    summary = simulate_bgnbd(8_000, **PARAMS, T=ages, seed=22)
    fitted = BGNBD().fit(summary)
    hist = repeat_purchase_histogram(fitted, summary)
    assert hist.n_params == 4
    assert hist.degrees_of_freedom == 8 - 1 - 4
    assert hist.p_value > 0.01
    assert hist.actual.sum() == pytest.approx(hist.expected.sum(), rel=1e-9)


def test_histogram_on_cdnow_sample_totals_and_unit_conversion():
    """On the CDNOW sample the bins sum to the 2,357 customers, in weeks or days alike."""
    summary = load_cdnow_sample_summary()
    fitted = BGNBD().fit(summary)
    weeks = repeat_purchase_histogram(fitted, summary)
    days = repeat_purchase_histogram(
        fitted,
        attrs.evolve(summary, recency=summary.recency * 7, T=summary.T * 7, unit=summary.unit.DAY),
    )
    assert weeks.expected.sum() == pytest.approx(2357, rel=1e-9)
    np.testing.assert_allclose(days.expected, weeks.expected, rtol=1e-10)
    assert weeks.actual.tolist()[:2] == [1411, 439]


def test_histogram_without_degrees_of_freedom_warns():
    """Too few pooled bins for the estimated parameters give NaN and a RelmarkWarning."""
    truth = BGNBD.from_params(**PARAMS)
    summary = simulate_bgnbd(50, **PARAMS, T=39.0, seed=2)
    with pytest.warns(RelmarkWarning, match="degrees of freedom"):
        hist = repeat_purchase_histogram(truth, summary, max_frequency=3)
    assert np.isnan(hist.p_value)
    with pytest.raises(InvalidInputError, match="'min_expected'"):
        repeat_purchase_histogram(truth, summary, min_expected=0)
    with pytest.raises(InvalidInputError, match="'n_params'"):
        repeat_purchase_histogram(truth, summary, n_params=-1)


@given(st.lists(st.floats(0.0, 30.0), min_size=1, max_size=12), st.floats(0.5, 10.0))
def test_pooled_bins_are_contiguous_and_large_enough(expected, minimum):
    """Pools are contiguous runs from the left, each expecting >= minimum unless only one pool."""
    values = np.array(expected)
    pool = _pool_bins(values, minimum)
    assert pool[0] == 0
    assert set(np.diff(pool).tolist()) <= {0, 1}
    sums = np.bincount(pool, weights=values)
    if sums.size > 1:
        assert (sums >= minimum).all()


# ---------------------------------------------------------------- tracking curves
def test_tracking_agrees_with_summaries_at_every_period_end(log, model):
    """Cumulative actual = summed summarize().frequency, cumulative expected = Σ E[X(T)] over its T."""
    curves = tracking_curves(model, log)
    assert curves.actual.size == 78
    assert str(curves.period_start[0]) == "1997-01-01"
    assert str(curves.period_end[-1]) == "1998-06-30"
    for k in (0, 11, 38, 77):
        day = curves.period_end[k]
        summary = log.summarize(day)
        assert curves.cumulative_actual[k] == summary.frequency.sum()
        expected = model.expected_purchases_new_customer(summary.T).sum()
        assert curves.cumulative_expected[k] == pytest.approx(expected, rel=1e-10)
    assert curves.cumulative_actual[-1] == 44021


def test_tracking_on_a_hand_made_log_with_a_closed_form_oracle():
    """Two customers, daily periods: counts by hand, expectations from FHL eq. 9 via scipy's 2F1."""
    tiny = TransactionLog.from_arrays(
        [1, 1, 1, 1, 2, 2],
        ["2024-01-01", "2024-01-01", "2024-01-03", "2024-01-08", "2024-01-02", "2024-01-05"],
    )
    truth = BGNBD.from_params(**PARAMS)
    curves = tracking_curves(truth, tiny, period="D")
    assert curves.actual.tolist() == [0, 0, 1, 0, 1, 0, 0, 1]

    def ex(t):
        r, alpha, a, b = PARAMS.values()
        z = t / (alpha + t)
        return (
            (a + b - 1)
            / (a - 1)
            * (1 - (alpha / (alpha + t)) ** r * special.hyp2f1(r, b, a + b - 1, z))
        )

    cumulative = [ex(d / 7) + (ex((d - 1) / 7) if d >= 1 else 0.0) for d in range(8)]
    np.testing.assert_allclose(curves.cumulative_expected, cumulative, rtol=1e-9)

    named = TransactionLog.from_arrays(
        ["b", "b", "b", "b", "a", "a"],
        ["2024-01-01", "2024-01-01", "2024-01-03", "2024-01-08", "2024-01-02", "2024-01-05"],
    )
    same = tracking_curves(truth, named, period="D")
    np.testing.assert_array_equal(same.actual, curves.actual)
    np.testing.assert_allclose(same.expected, curves.expected, rtol=1e-12)

    weekly = tracking_curves(truth, tiny, start="2024-01-02", end="2024-01-10")
    assert weekly.actual.tolist() == [3, 0]
    assert str(weekly.period_end[-1]) == "2024-01-10"
    np.testing.assert_allclose(
        weekly.cumulative_expected,
        [ex(7 / 7) + ex(6 / 7) - ex(0) - 0, ex(9 / 7) + ex(8 / 7) - ex(0)],
        rtol=1e-9,
    )


def test_tracking_does_not_count_returns_as_purchases():
    """A refund on a day without purchases adds no repeat purchase (as summarize counts them)."""
    with_return = TransactionLog.from_arrays(
        [1, 1, 1, 2],
        ["2024-01-01", "2024-01-03", "2024-01-05", "2024-01-02"],
        [20.0, 15.0, -15.0, 8.0],
        allow_returns=True,
    )
    curves = tracking_curves(BGNBD.from_params(**PARAMS), with_return, period="D")
    assert curves.actual.tolist() == [0, 0, 1]  # the refund day is not a purchase period
    assert curves.cumulative_actual[-1] == with_return.summarize(period="D").frequency.sum()


def test_tracking_rejects_bad_arguments(log, model):
    """Calendar months as periods and an end before the start are refused with the argument named."""
    with pytest.raises(InvalidInputError, match=r"'period'.*'D' or 'W'"):
        tracking_curves(model, log, period="M")
    with pytest.raises(InvalidInputError, match="'end'"):
        tracking_curves(model, log, start="1998-01-01", end="1997-01-01")
    with pytest.raises(NotFittedError, match=r"'model' argument of tracking_curves .*not fitted"):
        tracking_curves(BGNBD(), log)
    with pytest.raises(InvalidInputError, match="'calibration_end'"):
        tracking_curves(model, log, calibration_end="not a date")


def test_tracking_to_frame_has_cumulative_columns(log, model):
    """The frame carries incremental and cumulative columns with consistent totals."""
    frame = tracking_curves(model, log, calibration_end="1997-09-30").to_frame("pandas")
    assert frame["cumulative_actual"].iloc[-1] == frame["actual"].sum()
    assert frame.shape == (78, 6)


# ---------------------------------------------------------------- model comparison
def test_compare_models_reports_fit_statistics_and_holdout_error(split, model):
    """Columns come from each fit_, and MAE/RMSE equal a direct computation on holdout purchases."""
    mbg = MBGNBD().fit(split)
    table = compare_models({"bg": model, "mbg": mbg}, split)
    assert table.name.tolist() == ["bg", "mbg"]
    assert table.n_params.tolist() == [4, 4]
    for i, fitted in enumerate((model, mbg)):
        assert table.log_likelihood[i] == fitted.fit_.log_likelihood
        assert table.aic[i] == pytest.approx(8 - 2 * fitted.fit_.log_likelihood)
        assert table.bic[i] == pytest.approx(4 * np.log(23_570) - 2 * fitted.fit_.log_likelihood)
        error = fitted.expected_purchases(39.0, split) - split.frequency_holdout
        assert table.holdout_mae[i] == pytest.approx(np.mean(np.abs(error)), rel=1e-12)
        assert table.holdout_rmse[i] == pytest.approx(np.sqrt(np.mean(error**2)), rel=1e-12)
    assert table.holdout_actual_total == 19684
    assert table.to_frame("polars").shape == (2, 9)


def test_compare_models_without_holdout_and_with_known_parameters(model):
    """Without a summary the holdout errors are NaN; a model built from parameters has NaN fit stats."""
    known = BGNBD.from_params(**PARAMS)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = compare_models({"fitted": model, "known": known})
    assert np.isnan(table.holdout_mae).all()
    assert np.isnan(table.log_likelihood[1])
    assert np.isfinite(table.log_likelihood[0])


def test_compare_models_rejects_ambiguous_or_incomparable_input(split, model):
    """Duplicate class names, no models and no holdout are errors; different data sizes warn."""
    with pytest.raises(InvalidInputError, match="same class"):
        compare_models([model, BGNBD().fit(split)])
    with pytest.raises(InvalidInputError, match="empty"):
        compare_models([])
    with pytest.raises(InvalidInputError, match="no holdout"):
        compare_models([model], load_cdnow_sample_summary())
    other = BGNBD().fit(load_cdnow_sample_summary())
    with pytest.warns(RelmarkWarning, match="different numbers of customers"):
        compare_models({"full": model, "sample": other})


# ---------------------------------------------------------------- frequency × recency grid
def test_frequency_recency_matrix_equals_direct_model_calls(model):
    """Each cell is the model's score of a customer with that (x, t_x) and the given T."""
    grid = frequency_recency_matrix(model, 39.0, max_frequency=4, max_recency=20.0, t=10.0)
    assert grid.values.shape == (5, 21)
    one = CustomerSummary.from_arrays([3], [12.0], [39.0])
    assert grid.values[3, 12] == pytest.approx(model.expected_purchases(10.0, one)[0], rel=1e-12)
    zero = CustomerSummary.from_arrays([0], [0.0], [39.0])
    np.testing.assert_allclose(grid.values[0], model.expected_purchases(10.0, zero)[0], rtol=1e-12)
    alive = frequency_recency_matrix(model, 39.0, max_frequency=4, kind="probability_alive")
    assert alive.values[2, 30] == pytest.approx(
        model.probability_alive(CustomerSummary.from_arrays([2], [30.0], [39.0]))[0], rel=1e-12
    )
    with pytest.raises(InvalidInputError, match=r"'max_recency'.*<= T"):
        frequency_recency_matrix(model, 39.0, max_frequency=4, max_recency=50.0)
    with pytest.raises(InvalidInputError, match="'kind'"):
        frequency_recency_matrix(model, 39.0, max_frequency=4, kind="clv")  # type: ignore[arg-type]
