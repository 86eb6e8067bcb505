"""Tests of relmark.datasets.simulate: each exact simulator against its model's closed forms, laws and refits."""

from __future__ import annotations

import datetime as dt
from math import comb

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.special import betaln, gammaln, hyp2f1
from scipy.stats import chi2

from relmark.core import bgbb, mbgnbd, paretonbd, sbg
from relmark.data import TimeUnit, TransactionLog
from relmark.datasets import simulate as simulate_module
from relmark.datasets import (
    simulate_bgbb,
    simulate_bgnbd,
    simulate_mbgnbd,
    simulate_paretonbd,
    simulate_sbg,
    simulate_sbg_cohort,
    simulate_transaction_log,
)
from relmark.errors import InvalidInputError

CDNOW = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PNBD = (0.553, 10.578, 0.606, 11.669)
MBG = (0.525, 6.183, 0.891, 1.614)
BGBB = (1.204, 0.750, 0.657, 2.783)


def expected_purchases(t, r, alpha, a, b):
    """E[X(t)] of BG/NBD, Fader, Hardie & Lee (2005) eq. (9)."""
    z = t / (alpha + t)
    return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, z))


def probability_of_count(x, t, r, alpha, a, b):
    """P(X(t) = x) of BG/NBD, Fader, Hardie & Lee (2005) eq. (8)."""
    log_ratio = r * np.log(alpha / (alpha + t))
    log_z = np.log(t / (alpha + t))

    def log_nb(j):
        return gammaln(r + j) - gammaln(r) - gammaln(j + 1) + log_ratio + j * log_z

    first = np.exp(betaln(a, b + x) - betaln(a, b) + log_nb(x))
    if x == 0:
        return first
    tail = 1 - sum(np.exp(log_nb(j)) for j in range(x))
    return first + np.exp(betaln(a + 1, b + x - 1) - betaln(a, b)) * tail


@pytest.mark.parametrize(
    ("params", "T"),
    [(CDNOW, 39.0), ({"r": 1.5, "alpha": 10.0, "a": 2.0, "b": 5.0}, 52.0)],
)
def test_count_distribution_matches_closed_form(params, T):
    """Mean and P(X = 0, 1, 2) of simulated counts agree with FHL (2005) eqs. (8)-(9)."""
    n = 200_000
    s = simulate_bgnbd(n, T=T, seed=20, **params)
    mean = expected_purchases(T, **params)
    assert abs(s.frequency.mean() - mean) < 4 * s.frequency.std() / np.sqrt(n)
    for x in (0, 1, 2):
        p = probability_of_count(x, T, **params)
        assert abs((s.frequency == x).mean() - p) < 4 * np.sqrt(p * (1 - p) / n)
    assert p > 0.01


def test_closed_form_helper_sums_to_one():
    """The eq. (8) helper used as oracle is a distribution (sanity check of the oracle)."""
    total = sum(probability_of_count(x, 39.0, **CDNOW) for x in range(400))
    assert total == pytest.approx(1.0, abs=1e-9)
    mean = sum(x * probability_of_count(x, 39.0, **CDNOW) for x in range(400))
    assert mean == pytest.approx(expected_purchases(39.0, **CDNOW), rel=1e-8)


def test_cohorts_with_different_T():
    """With one T per customer, counts follow E[X(T_i)] cohort by cohort."""
    n = 150_000
    T = np.repeat([5.0, 20.0, 80.0], n // 3)
    s = simulate_bgnbd(n, T=T, seed=3, **CDNOW)
    assert np.array_equal(s.T, T)
    for t in (5.0, 20.0, 80.0):
        x = s.frequency[np.equal(s.T, t)]
        assert abs(x.mean() - expected_purchases(t, **CDNOW)) < 4 * x.std() / np.sqrt(x.size)


def test_structure_and_reproducibility():
    """Summaries are valid (0 <= t_x <= T, t_x = 0 iff x = 0) and a seed reproduces them."""
    a = simulate_bgnbd(5000, T=10.0, seed=9, unit="D", **CDNOW)
    b = simulate_bgnbd(5000, T=10.0, seed=np.random.default_rng(9), unit="D", **CDNOW)
    assert a == b
    assert a.unit is TimeUnit.DAY
    assert np.all((a.recency >= 0) & (a.recency <= a.T))
    assert np.array_equal(a.recency == 0, a.frequency == 0)
    assert a.customer_id.tolist() == list(range(5000))


def test_extreme_dropout_parameters():
    """Tiny a (p often 0 in floating point) still simulates: such customers never drop out."""
    s = simulate_bgnbd(2000, r=1.0, alpha=1.0, a=1e-3, b=1.0, T=5.0, seed=1)
    assert np.all(s.frequency >= 0)
    assert s.frequency.mean() > 1.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": 0}, r"The 'n' parameter of simulate_bgnbd must be an int >= 1. Got 0."),
        ({"n": 2.5}, r"The 'n' parameter of simulate_bgnbd must be an int >= 1. Got 2.5."),
        ({"r": -1}, r"The 'r' parameter of simulate_bgnbd must be a float > 0. Got -1."),
        ({"alpha": float("nan")}, r"The 'alpha' parameter of simulate_bgnbd must be a float > 0"),
        ({"b": "x"}, r"The 'b' parameter of simulate_bgnbd must be a float > 0. Got 'x'."),
        (
            {"T": [1.0, -2.0, 3.0]},
            r"The 'T' parameter of simulate_bgnbd must be finite and > 0.*\[-2.0\]",
        ),
        ({"T": "x"}, r"The 'T' parameter of simulate_bgnbd must be finite and > 0.*Got 'x'\."),
        (
            {"T": [1.0, 2.0]},
            r"The 'T' parameter of simulate_bgnbd must be a scalar or have one value per customer \(3\); got shape \(2,\)",
        ),
    ],
)
def test_parameter_validation(kwargs, message):
    """Out-of-range parameters raise InvalidInputError with the standard template."""
    arguments = {"n": 3, "T": 1.0, "seed": 0, **CDNOW} | kwargs
    with pytest.raises(InvalidInputError, match=message):
        simulate_bgnbd(**arguments)


@pytest.mark.oracle
def test_refit_recovers_parameters():
    """lifetimes' BG/NBD MLE on 50,000 simulated customers recovers r, α, a, b (within 4 SE).

    lifetimes' own per-period simulator biases r upward (about 0.273 here); an exact simulator
    must not.
    """
    lifetimes = pytest.importorskip("lifetimes")
    s = simulate_bgnbd(50_000, T=38.86, seed=0, **CDNOW)
    fitter = lifetimes.BetaGeoFitter().fit(s.frequency, s.recency, s.T)
    fitted = fitter.params_
    se = fitter.summary["se(coef)"]
    for name, truth in CDNOW.items():
        assert abs(fitted[name] - truth) < 4 * se[name], name
    assert fitted["r"] < 0.26


def _assert_counts_match(observed: np.ndarray, probabilities: np.ndarray, total: int) -> None:
    """Pearson chi-square goodness of fit at the 0.1% level; an extra cell holds the rest."""
    expected = np.append(probabilities, 1.0 - probabilities.sum()) * total
    observed = np.append(observed, total - observed.sum())
    statistic = float(np.sum((observed - expected) ** 2 / expected))
    assert statistic < chi2.ppf(0.999, observed.size - 1)


def _likelihood_ratio_ok(kernel, data, truth) -> None:
    """2 (ll(MLE) - ll(truth)) stays below the 99.9% chi-square quantile: the truth is not rejected."""

    def objective(log_params):
        ll, grad = kernel(log_params, *data)
        return -float(ll.sum()), -grad.sum(axis=0)

    at_truth = -objective(np.log(truth))[0]
    result = minimize(objective, np.log(truth), jac=True, method="L-BFGS-B")
    assert 0.0 <= 2.0 * (-result.fun - at_truth) < chi2.ppf(0.999, len(truth))


def test_pareto_nbd_counts_follow_the_pmf_and_refit_accepts_truth() -> None:
    """Simulated Pareto/NBD purchase counts follow P(X(T)=x) and the truth passes a likelihood-ratio test."""
    summary = simulate_paretonbd(4000, *PNBD, T=39.0, seed=11)
    x = summary.frequency
    assert np.all((summary.recency <= summary.T) & ((x > 0) | (summary.recency == 0)))
    _assert_counts_match(
        np.bincount(x, minlength=8)[:8].astype(float),
        paretonbd.probability_of_purchases(np.arange(8.0), 39.0, *PNBD),
        4000,
    )
    data = (x.astype(float), summary.recency, summary.T)
    _likelihood_ratio_ok(paretonbd.log_likelihood_and_gradient, data, PNBD)


def test_mbgnbd_counts_follow_the_pmf_and_refit_accepts_truth() -> None:
    """Simulated MBG/NBD purchase counts follow P(X(T)=x) and the truth passes a likelihood-ratio test."""
    summary = simulate_mbgnbd(20000, *MBG, T=np.linspace(20.0, 40.0, 20000), seed=12)
    x = summary.frequency
    assert np.all((summary.recency <= summary.T) & ((x > 0) | (summary.recency == 0)))
    data = (x.astype(float), summary.recency, summary.T)
    _likelihood_ratio_ok(mbgnbd.log_likelihood_and_gradient, data, MBG)
    fixed = simulate_mbgnbd(20000, *MBG, T=30.0, seed=13).frequency
    _assert_counts_match(
        np.bincount(fixed, minlength=8)[:8].astype(float),
        mbgnbd.probability_of_purchases(np.arange(8.0), 30.0, *MBG),
        20000,
    )


def test_bgbb_patterns_follow_the_likelihood() -> None:
    """Each (x, t_x) pattern occurs with probability L(x, t_x, n) times its number of histories."""
    n = 5
    summary = simulate_bgbb(30000, *BGBB, n_periods=n, seed=14)
    assert np.array_equal(summary.T, np.full(30000, float(n)))
    x_cells, t_cells, counts = [0.0], [0.0], [1.0]
    for last in range(1, n + 1):
        for k in range(1, last + 1):
            x_cells.append(float(k))
            t_cells.append(float(last))
            counts.append(float(comb(last - 1, k - 1)))
    probabilities = np.array(counts) * np.exp(
        bgbb.log_likelihood(
            np.array(x_cells), np.array(t_cells), np.full(len(counts), float(n)), *BGBB
        )
    )
    observed = np.array(
        [
            np.sum((summary.frequency == xc) & (summary.recency == tc))
            for xc, tc in zip(x_cells, t_cells, strict=True)
        ],
        dtype=float,
    )
    assert observed.sum() == 30000
    _assert_counts_match(observed[:-1], probabilities[:-1], 30000)


def test_sbg_cohort_tracks_survival_and_individual_fit_accepts_truth() -> None:
    """Survivor counts follow n S(t), and individual (periods, churned) data do not reject the truth."""
    counts = simulate_sbg_cohort(20000, 0.704, 1.182, 7, seed=15)
    assert counts[0] == 20000
    assert np.all(np.diff(counts) <= 0)
    churners = -np.diff(counts).astype(float)
    _assert_counts_match(churners, sbg.churn_probability(np.arange(1.0, 8.0), 0.704, 1.182), 20000)
    periods, churned = simulate_sbg(20000, 0.704, 1.182, 7, seed=15)
    assert np.array_equal(np.bincount(periods[churned], minlength=8)[1:], churners)
    data = (periods.astype(float), churned.astype(float))
    _likelihood_ratio_ok(sbg.log_likelihood_and_gradient, data, (0.704, 1.182))


def test_simulators_are_deterministic_given_the_seed() -> None:
    """The same seed gives the same customers."""
    first = simulate_paretonbd(50, *PNBD, T=30.0, seed=3)
    again = simulate_paretonbd(50, *PNBD, T=30.0, seed=3)
    assert np.array_equal(first.frequency, again.frequency)
    assert np.array_equal(first.recency, again.recency)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: simulate_paretonbd(0, *PNBD, T=30.0, seed=1), "'n'"),
        (lambda: simulate_paretonbd(10, -1.0, 1.0, 1.0, 1.0, T=30.0, seed=1), "'r'"),
        (lambda: simulate_mbgnbd(10, *MBG, T=[1.0, 2.0], seed=1), "'T'"),
        (lambda: simulate_mbgnbd(10, 1.0, 1.0, 1.0, float("nan"), T=3.0, seed=1), "'b'"),
        (lambda: simulate_bgbb(10, *BGBB, n_periods=0, seed=1), "'n_periods'"),
        (lambda: simulate_bgbb(10, 1.0, 1.0, 0.0, 1.0, n_periods=3, seed=1), "'gamma'"),
        (lambda: simulate_sbg(10, 1.0, 1.0, 2.5, seed=1), "'n_periods'"),
        (lambda: simulate_sbg_cohort(10, 1.0, -2.0, 3, seed=1), "'beta'"),
    ],
)
def test_bad_arguments_raise_naming_the_argument(call, field) -> None:
    """Invalid sizes and parameters raise InvalidInputError naming the argument."""
    with pytest.raises(InvalidInputError, match=field):
        call()


# ------------------------------------------------------------------ multi-cohort transaction logs
RARE_BUYERS = {"r": 2.0, "alpha": 40.0, "a": 0.793, "b": 2.426}
"""Few purchases per day even for the heaviest buyers: day granularity hardly merges any."""
PNBD_PARAMS = dict(zip(("r", "alpha", "s", "beta"), PNBD, strict=True))
MBG_PARAMS = dict(zip(("r", "alpha", "a", "b"), MBG, strict=True))
SPEND = {"p": 6.25, "q": 3.74, "gamma": 15.44}
START, END = np.datetime64("2021-01-01", "us"), np.datetime64("2024-01-01", "us")
MICROS_PER_WEEK = 7 * 86_400_000_000


def simulate(n: int, params: dict[str, float] = CDNOW, **kwargs: object) -> TransactionLog:
    """A three-year log with the test's defaults (BG/NBD unless ``model`` is given)."""
    arguments: dict[str, object] = {
        "model": "bgnbd",
        "start": "2021-01-01",
        "end": "2024-01-01",
        "seed": 7,
    } | kwargs
    return simulate_transaction_log(n, params=params, **arguments)  # type: ignore[arg-type]


def first_rows(log: TransactionLog) -> np.ndarray:
    """Row index of each customer's first transaction (rows are grouped by customer)."""
    counts = np.bincount(log.customer_id)
    return np.concatenate([[0], np.cumsum(counts)[:-1]])


def bgnbd_log_likelihood(log_params, x, t_x, T):
    """BG/NBD individual log-likelihood, Fader, Hardie & Lee (2005) eq. (6)."""
    r, alpha, a, b = np.exp(log_params)
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) - betaln(a, b)
    alive = betaln(a, b + x) - (r + x) * np.log(alpha + T)
    gone = np.where(
        x > 0, betaln(a + 1, np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(alpha + t_x), -np.inf
    )
    return common + np.logaddexp(alive, gone)


def assert_mean_matches(observed: np.ndarray, expected: np.ndarray) -> None:
    """The mean of ``observed`` is within 4 standard errors of the mean of ``expected``."""
    standard_error = observed.std() / np.sqrt(observed.size)
    assert abs(observed.mean() - expected.mean()) < 4 * standard_error


def test_seed_reproduces_the_log_and_another_seed_changes_it() -> None:
    """The same seed (int or generator) gives an equal log; another seed a different one."""
    first = simulate(3000, spend=SPEND, seed=11)
    again = simulate(3000, spend=SPEND, seed=np.random.default_rng(11))
    other = simulate(3000, spend=SPEND, seed=12)
    assert first == again
    assert len(first) != len(other) or not np.array_equal(first.time, other.time)


def test_log_structure_and_day_granularity() -> None:
    """Ids 0..n-1 in order of acquisition, each customer's rows in time order, all at midnight."""
    log = simulate(5000, spend=SPEND)
    assert log.timezone is None
    assert log.time.dtype == np.dtype("datetime64[us]")
    assert np.array_equal(np.unique(log.customer_id), np.arange(5000))
    assert np.all(np.diff(log.customer_id) >= 0)
    same_customer = np.diff(log.customer_id) == 0
    assert np.all(np.diff(log.time)[same_customer] >= np.timedelta64(0, "us"))
    assert np.all(np.diff(log.time[first_rows(log)]) >= np.timedelta64(0, "us"))
    assert np.all(log.time == log.time.astype("datetime64[D]"))
    assert log.amount is not None
    assert np.all(log.amount > 0)


def test_blocks_stitch_into_one_valid_log(monkeypatch: pytest.MonkeyPatch) -> None:
    """With tiny generation blocks the log keeps its structure and its purchase counts' law."""
    monkeypatch.setattr(simulate_module, "_ROWS_PER_BLOCK", 997)
    log = simulate(20_000, period=None)
    assert np.array_equal(np.unique(log.customer_id), np.arange(20_000))
    same_customer = np.diff(log.customer_id) == 0
    assert np.all(np.diff(log.time)[same_customer] > np.timedelta64(0, "us"))
    first = first_rows(log)
    T = (END - log.time[first]).astype(np.int64) / MICROS_PER_WEEK
    assert_mean_matches(np.bincount(log.customer_id) - 1.0, expected_purchases(T, **CDNOW))


def test_acquisition_span_and_observation_end_are_respected() -> None:
    """First purchases fall in [start, acquisition_end), uniformly; no transaction at or after end."""
    log = simulate(60_000, acquisition_end="2022-01-01", period=None)
    first = log.time[first_rows(log)]
    assert first.min() >= START
    assert first.max() < np.datetime64("2022-01-01", "us")
    assert log.time.max() < END
    assert np.any(log.time >= np.datetime64("2023-06-01", "us"))
    months = first.astype("datetime64[M]").astype(np.int64) - START.astype("datetime64[M]").astype(
        np.int64
    )
    month_starts = np.arange("2021-01", "2022-02", dtype="datetime64[M]").astype("datetime64[D]")
    days_in_month = np.diff(month_starts).astype(np.int64)
    expected = days_in_month.astype(np.float64) / 365.0 * 60_000
    observed = np.bincount(months, minlength=12)
    assert np.sum((observed - expected) ** 2 / expected) < chi2.ppf(0.999, 11)


def test_acquisition_curve_as_array_sets_the_share_of_each_slice() -> None:
    """Intensities (1, 0, 3) over three equal slices: no one in the middle, a 1:3 split otherwise."""
    log = simulate(40_000, acquisition_curve=[1.0, 0.0, 3.0], period=None)
    position = (log.time[first_rows(log)] - START) / (END - START)
    slices = np.floor(position * 3).astype(int)
    assert not np.any(slices == 1)
    share = np.mean(slices == 2)
    assert abs(share - 0.75) < 4 * np.sqrt(0.75 * 0.25 / 40_000)


def test_acquisition_curve_as_callable_shapes_the_density() -> None:
    """A linearly rising intensity u -> u gives the density 2u: mean position 2/3, none reversed."""
    log = simulate(40_000, acquisition_curve=lambda u: u, period=None)
    position = (log.time[first_rows(log)] - START) / (END - START)
    # Piecewise-uniform on 1,024 slices: the mean is 2/3 up to a term of order 1/1024².
    assert abs(position.mean() - 2 / 3) < 4 * np.sqrt(1 / 18 / 40_000)
    assert np.mean(position < 0.5) == pytest.approx(0.25, abs=4 * np.sqrt(0.25 * 0.75 / 40_000))


@pytest.mark.parametrize(
    ("period", "floor"),
    [
        ("W", lambda t: t.astype("datetime64[D]").astype(np.int64) % 7 == 4),  # Mondays
        ("M", lambda t: t == t.astype("datetime64[M]")),
        (
            "Q",
            lambda t: (
                (t.astype("datetime64[M]").astype(np.int64) % 3 == 0)
                & (t == t.astype("datetime64[M]"))
            ),
        ),
        ("Y", lambda t: t == t.astype("datetime64[Y]")),
    ],
)
def test_coarser_granularities_floor_to_the_period_start(period, floor) -> None:
    """Weeks start on Monday, months, quarters and years on their first day."""
    log = simulate(500, period=period, start="2021-03-17")
    assert np.all(floor(log.time))
    assert log.time.min() >= np.datetime64("2021-01-01", "us")


def test_without_granularity_times_keep_sub_day_precision() -> None:
    """``period=None`` keeps the simulated instants (not all at midnight)."""
    log = simulate(500, period=None)
    assert np.any(log.time != log.time.astype("datetime64[D]"))


def test_exact_repeat_counts_follow_the_bgnbd_mean_over_cohorts() -> None:
    """Rows - 1 per customer averages E[X(T_i)] of FHL (2005) eq. (9) over the cohorts' T_i."""
    log = simulate(200_000, period=None, seed=3)
    T = (END - log.time[first_rows(log)]).astype(np.int64) / MICROS_PER_WEEK
    assert_mean_matches(np.bincount(log.customer_id) - 1.0, expected_purchases(T, **CDNOW))


def test_day_summary_counts_purchase_days() -> None:
    """The day summary's frequency is distinct purchase days - 1, so merged days lower it."""
    log = simulate(50_000, seed=4)
    summary = log.summarize("2024-01-01")
    days = log.time.astype("datetime64[D]").astype(np.int64)
    distinct = np.unique(log.customer_id * 100_000 + (days - days.min()))
    assert np.array_equal(summary.frequency, np.bincount(distinct // 100_000) - 1)
    assert summary.frequency.sum() < len(log) - 50_000


def test_day_summary_of_rare_buyers_matches_the_model_mean() -> None:
    """When purchases are rare relative to days, the day summary's mean frequency is E[X(T)]."""
    summary = simulate(200_000, RARE_BUYERS, seed=5).summarize("2024-01-01")
    # T from the summary starts at midnight of the first purchase day: half a day too long.
    T = summary.T - 0.5 / 7
    assert_mean_matches(summary.frequency.astype(float), expected_purchases(T, **RARE_BUYERS))


def exact_summary(log: TransactionLog) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, t_x, T) in weeks from a log with exact times (``period=None``), observed to END."""
    first = first_rows(log)
    counts = np.bincount(log.customer_id)
    last = first + counts - 1
    T = (END - log.time[first]).astype(np.int64) / MICROS_PER_WEEK
    recency = (log.time[last] - log.time[first]).astype(np.int64) / MICROS_PER_WEEK
    return counts - 1.0, recency, T


def refit(x: np.ndarray, recency: np.ndarray, T: np.ndarray, truth: np.ndarray):
    """BG/NBD MLE with the oracle likelihood and the likelihood-ratio statistic of the truth."""
    rows, weights = np.unique(np.stack([x, recency, T]), axis=1, return_counts=True)

    def negative_log_likelihood(log_params: np.ndarray) -> float:
        return -float(weights @ bgnbd_log_likelihood(log_params, *rows))

    best = minimize(negative_log_likelihood, truth, method="L-BFGS-B")
    return np.exp(best.x), 2 * (negative_log_likelihood(truth) - best.fun)


def test_exact_time_refit_does_not_reject_the_truth() -> None:
    """BG/NBD MLE on the exact (x, t_x, T) of 80,000 multi-cohort customers keeps the truth (LR test)."""
    truth = np.log(list(RARE_BUYERS.values()))
    _, statistic = refit(*exact_summary(simulate(80_000, RARE_BUYERS, seed=6, period=None)), truth)
    assert -1e-6 <= statistic < chi2.ppf(0.999, 4)


def test_relmark_bgnbd_fit_on_exact_times_recovers_cdnow_parameters() -> None:
    """relmark's BGNBD fit on 100,000 exact multi-cohort histories is within 4 SE of the truth."""
    from relmark.clv import BGNBD
    from relmark.data import CustomerSummary

    x, recency, T = exact_summary(simulate(100_000, period=None, seed=30))
    summary = CustomerSummary.from_arrays(x.astype(np.int64), recency, T, unit="W")
    table = BGNBD().fit(summary).summary()
    for name, estimate, error in zip(
        table.names, table.estimate, table.standard_error, strict=True
    ):
        assert abs(estimate - CDNOW[name]) < 4 * error, name


def test_day_summary_refit_recovers_the_parameters_up_to_the_day_grid() -> None:
    """BG/NBD MLE on the day summary of 150,000 customers is within 5 % of every parameter.

    Not exact: a continuous-time model fitted to day-granular data sees merged purchase days and
    recency and T on a day grid, which moves alpha by about 2 % here (an LR test at this size
    detects it, the exact-time refit above does not).
    """
    truth = np.log(list(RARE_BUYERS.values()))
    summary = simulate(150_000, RARE_BUYERS, seed=6).summarize("2024-01-01")
    fitted, _ = refit(summary.frequency.astype(float), summary.recency, summary.T, truth)
    assert np.all(np.abs(fitted / np.exp(truth) - 1) < 0.05)


def test_the_likelihood_ratio_test_rejects_wrong_parameters() -> None:
    """The oracle likelihood tells the truth from a nearby wrong value (the refit test can fail)."""
    summary = simulate(50_000, RARE_BUYERS, seed=6).summarize("2024-01-01")
    data = (summary.frequency.astype(float), summary.recency, summary.T)
    truth = np.log(list(RARE_BUYERS.values()))
    wrong = truth + np.log([1.0, 1.15, 1.0, 1.0])
    statistic = 2 * (
        bgnbd_log_likelihood(truth, *data).sum() - bgnbd_log_likelihood(wrong, *data).sum()
    )
    assert statistic > chi2.ppf(0.999, 4)


def test_pareto_nbd_exact_counts_follow_the_model_mean() -> None:
    """Pareto/NBD rows - 1 per customer average E[X(T_i)] over the cohorts (SMC 1987)."""
    log = simulate(200_000, PNBD_PARAMS, model="paretonbd", period=None, seed=8)
    T = (END - log.time[first_rows(log)]).astype(np.int64) / MICROS_PER_WEEK
    expected = paretonbd.expected_purchases(T, *PNBD)
    assert_mean_matches(np.bincount(log.customer_id) - 1.0, expected)


def test_mbgnbd_exact_counts_follow_the_model_mean() -> None:
    """MBG/NBD rows - 1 per customer average E[X(T_i)] over the cohorts (Batislam et al. 2007)."""
    log = simulate(200_000, MBG_PARAMS, model="mbgnbd", period=None, seed=9)
    T = (END - log.time[first_rows(log)]).astype(np.int64) / MICROS_PER_WEEK
    expected = mbgnbd.expected_purchases(T, *MBG)
    assert_mean_matches(np.bincount(log.customer_id) - 1.0, expected)


def test_gamma_gamma_spend_has_the_model_mean_and_per_customer_scale() -> None:
    """Mean transaction value is p γ / (q - 1); a customer's values share one scale 1/ν."""
    log = simulate(100_000, spend=SPEND, seed=10)
    assert log.amount is not None
    p, q, gamma = SPEND.values()
    assert_mean_matches(log.amount, np.array([p * gamma / (q - 1)]))
    first = first_rows(log)
    second = first + 1
    repeat = np.bincount(log.customer_id) > 1
    # Within-customer correlation of spend (from the shared ν) is positive.
    correlation = np.corrcoef(np.log(log.amount[first[repeat]]), np.log(log.amount[second[repeat]]))
    assert correlation[0, 1] > 0.3


def test_a_tiny_dropout_parameter_still_simulates() -> None:
    """With a tiny, p underflows to 0 for some customers; they never drop out."""
    log = simulate(2000, {"r": 1.0, "alpha": 1.0, "a": 1e-3, "b": 1.0}, period=None)
    assert len(log) > 2000 * 10


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": 0}, r"The 'n' parameter of simulate_transaction_log must be an int >= 1. Got 0."),
        (
            {"model": "bg"},
            r"The 'model' .* registered transaction model, one of 'bgnbd', 'mbgnbd', 'paretonbd'\.",
        ),
        (
            {"params": {"r": 1.0}},
            r"The 'params' parameter .* exactly the keys \['r', 'alpha', 'a', 'b'\]",
        ),
        (
            {"params": CDNOW | {"a": -1.0}},
            r"The \"params\['a'\]\" parameter .* must be a float > 0. Got -1.0.",
        ),
        (
            {"spend": {"p": 1.0, "q": 2.0}},
            r"The 'spend' parameter .* exactly the keys \['p', 'q', 'gamma'\]",
        ),
        (
            {"spend": SPEND | {"q": float("nan")}},
            r"The \"spend\['q'\]\" parameter .* must be a float > 0",
        ),
        (
            {"start": "yesterday"},
            r"The 'start' parameter .* must be a naive date or time.*Got 'yesterday'.",
        ),
        (
            {"end": dt.datetime(2024, 1, 1, tzinfo=dt.UTC)},
            r"The 'end' parameter .* must be a naive date",
        ),
        ({"end": "2020-06-01"}, r"must satisfy start < acquisition_end <= end.*end='2020-06-01'"),
        ({"acquisition_end": "2025-01-01"}, r"must satisfy start < acquisition_end <= end"),
        (
            {"acquisition_curve": [1.0, -1.0]},
            r"'acquisition_curve' .* finite intensities >= 0. Got \[-1.0\] at positions \[1\].",
        ),
        (
            {"acquisition_curve": [0.0, 0.0]},
            r"'acquisition_curve' .* some intensity > 0; all 2 are 0.",
        ),
        ({"acquisition_curve": [[1.0]]}, r"'acquisition_curve' .* one-dimensional array"),
        (
            {"acquisition_curve": lambda u: 1.0},
            r"'acquisition_curve' .* one intensity per position \(shape \(1024,\)\); got shape \(\)",
        ),
        ({"period": "H"}, r"The 'period' parameter must be one of"),
        ({"unit": "fortnight"}, r"The 'unit' parameter must be one of"),
    ],
)
def test_bad_log_arguments_raise_naming_the_argument(kwargs, message) -> None:
    """Each bad argument raises InvalidInputError naming it, the value and what was expected."""
    arguments = {
        "n": 10,
        "model": "bgnbd",
        "params": CDNOW,
        "start": "2021-01-01",
        "end": "2024-01-01",
        "seed": 1,
    } | kwargs
    with pytest.raises(InvalidInputError, match=message):
        simulate_transaction_log(**arguments)
