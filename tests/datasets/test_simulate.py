"""Tests of relmark.datasets.simulate: the BG/NBD simulator against closed forms and refits."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import betaln, gammaln, hyp2f1

from relmark.data import TimeUnit
from relmark.datasets import simulate_bgnbd
from relmark.errors import InvalidInputError

CDNOW = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}


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
