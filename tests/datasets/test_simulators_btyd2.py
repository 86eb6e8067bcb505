"""Tests of the exact Pareto/NBD, MBG/NBD, BG/BB and sBG simulators against the models' own laws."""

from __future__ import annotations

from math import comb

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.stats import chi2

from relmark.core import bgbb, mbgnbd, paretonbd, sbg
from relmark.datasets._simulators_btyd2 import (
    simulate_bgbb,
    simulate_mbgnbd,
    simulate_pareto_nbd,
    simulate_sbg,
    simulate_sbg_cohort,
)
from relmark.errors import InvalidInputError

PNBD = (0.553, 10.578, 0.606, 11.669)
MBG = (0.525, 6.183, 0.891, 1.614)
BGBB = (1.204, 0.750, 0.657, 2.783)


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
