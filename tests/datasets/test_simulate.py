"""Tests of relmark.datasets.simulate: each exact simulator against its model's closed forms, laws and refits."""

from __future__ import annotations

from math import comb

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.special import betaln, gammaln, hyp2f1
from scipy.stats import chi2

from relmark.core import bgbb, mbgnbd, paretonbd, sbg
from relmark.data import TimeUnit
from relmark.datasets import (
    simulate_bgbb,
    simulate_bgnbd,
    simulate_mbgnbd,
    simulate_pareto_nbd,
    simulate_sbg,
    simulate_sbg_cohort,
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
    summary = simulate_pareto_nbd(4000, *PNBD, T=39.0, seed=11)
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
    first = simulate_pareto_nbd(50, *PNBD, T=30.0, seed=3)
    again = simulate_pareto_nbd(50, *PNBD, T=30.0, seed=3)
    assert np.array_equal(first.frequency, again.frequency)
    assert np.array_equal(first.recency, again.recency)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: simulate_pareto_nbd(0, *PNBD, T=30.0, seed=1), "'n'"),
        (lambda: simulate_pareto_nbd(10, -1.0, 1.0, 1.0, 1.0, T=30.0, seed=1), "'r'"),
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
