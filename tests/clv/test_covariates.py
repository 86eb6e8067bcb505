"""CovariateBGNBD: recovery of known effects, the LR test, predictions and refusals."""

from __future__ import annotations

import numpy as np
import pytest

from relmark.clv import BGNBD
from relmark.clv.covariates import CovariateBGNBD
from relmark.data import Covariates, CustomerSummary
from relmark.datasets import simulate_bgnbd
from relmark.errors import InvalidInputError, NotFittedError

BASE = {"r": 0.5, "alpha": 6.0, "a": 0.8, "b": 2.5}
EFFECT = {"purchase": 0.5, "dropout_a": -0.4, "dropout_b": 0.3}


def _two_groups(seed, n=3000, effects=EFFECT):
    """Simulated customers: group 0 at baseline, group 1 with the given coefficient effects."""
    rng = np.random.default_rng(seed)
    T = rng.uniform(20, 60, 2 * n)
    g0 = simulate_bgnbd(n, **BASE, T=T[:n], seed=rng)
    shifted = {
        "r": BASE["r"],
        "alpha": BASE["alpha"] * np.exp(-effects["purchase"]),
        "a": BASE["a"] * np.exp(effects["dropout_a"]),
        "b": BASE["b"] * np.exp(effects["dropout_b"]),
    }
    g1 = simulate_bgnbd(n, **shifted, T=T[n:], seed=rng)
    summary = CustomerSummary.from_arrays(
        np.r_[g0.frequency, g1.frequency], np.r_[g0.recency, g1.recency], np.r_[g0.T, g1.T]
    )
    cov = Covariates.from_columns(np.arange(2 * n), {"group": np.r_[np.zeros(n), np.ones(n)]})
    return summary, cov


def test_known_effects_are_recovered_within_two_standard_errors():
    """Over 12 seeded data sets the true coefficients lie within 2 SE in ≥ 90 % of cases."""
    hits, total = 0, 0
    for seed in range(12):
        summary, cov = _two_groups(seed)
        model = CovariateBGNBD().fit(summary, cov)
        table = model.summary()
        for role, truth in EFFECT.items():
            i = table.names.index(f"{role}:group")
            hits += abs(table.estimate[i] - truth) <= 2 * table.standard_error[i]
            total += 1
    assert hits / total >= 0.9


def test_noise_covariate_gives_small_lr_statistic_and_spread_p_values():
    """A covariate with no effect: LR statistics near χ²₃ scale, p-values not piled up at 0."""
    p_values = []
    for seed in range(16):
        summary, _ = _two_groups(100 + seed, n=1500, effects=dict.fromkeys(EFFECT, 0.0))
        noise = np.random.default_rng(seed).normal(size=len(summary))
        cov = Covariates.from_columns(np.arange(len(summary)), {"noise": noise})
        test = CovariateBGNBD().fit(summary, cov).likelihood_ratio_test()
        assert test.df == 3
        assert test.statistic < 20
        p_values.append(test.p_value)
    p = np.array(p_values)
    assert np.mean(p < 0.05) <= 0.25
    assert 0.25 <= p.mean() <= 0.75


def test_strong_effect_is_detected_by_the_lr_test():
    """The simulated effects give a decisive likelihood-ratio test."""
    summary, cov = _two_groups(7)
    test = CovariateBGNBD().fit(summary, cov).likelihood_ratio_test()
    assert test.p_value < 1e-6


def test_predictions_equal_bgnbd_at_each_customers_parameters():
    """Predictions are BG/NBD's at (r, α_i, a_i, b_i), pattern by pattern, for every customer."""
    summary, cov = _two_groups(3, n=800)
    model = CovariateBGNBD().fit(summary, cov)
    r, alpha, a, b = model.customer_parameters(summary, cov)
    got = model.expected_purchases(10.0, summary, cov)
    alive = model.probability_alive(summary, cov)
    for group in (0, 800):
        one = BGNBD.from_params(r=r, alpha=alpha[group], a=a[group], b=b[group], unit="W")
        part = summary.take(np.arange(group, group + 800))
        np.testing.assert_allclose(
            got[group : group + 800], one.expected_purchases(10.0, part), rtol=1e-14
        )
        np.testing.assert_allclose(
            alive[group : group + 800], one.probability_alive(part), rtol=1e-14
        )
    per_customer = model.expected_purchases(np.full(len(summary), 10.0), summary, cov)
    np.testing.assert_allclose(per_customer, got, rtol=1e-14)


def test_fit_compresses_on_covariate_patterns():
    """Distinct rows are (x, t_x, T, pattern): far fewer than customers for a categorical."""
    summary, cov = _two_groups(4)
    model = CovariateBGNBD().fit(summary, cov, purchase=["group"], dropout=[])
    assert model.n_rows_ <= 2 * len(summary.compress())
    assert set(model.coefficients_["dropout_a"]) == set()


def test_refusals_are_named():
    """Wrong types, unknown columns, no covariates and unfitted use are refused by name."""
    summary, cov = _two_groups(5, n=200)
    with pytest.raises(NotFittedError):
        CovariateBGNBD().summary()
    with pytest.raises(InvalidInputError, match="'covariates'"):
        CovariateBGNBD().fit(summary, {"group": 1})
    with pytest.raises(InvalidInputError, match=r"'purchase' covariates \['nope'\]"):
        CovariateBGNBD().fit(summary, cov, purchase=["nope"])
    with pytest.raises(InvalidInputError, match="at least one covariate"):
        CovariateBGNBD().fit(summary, cov, purchase=[], dropout=[])
    with pytest.raises(InvalidInputError, match="one horizon per customer"):
        CovariateBGNBD().fit(summary, cov).expected_purchases(np.ones(3), summary, cov)
