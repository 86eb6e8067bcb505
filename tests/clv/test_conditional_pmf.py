"""Model methods for the conditional purchase distribution and per-customer intervals."""

from __future__ import annotations

import numpy as np
import pytest

from relmark.clv import BGNBD, MBGNBD
from relmark.datasets import load_cdnow
from relmark.errors import InvalidInputError


@pytest.fixture(scope="module")
def fitted():
    summary = load_cdnow().split("1997-09-30", "1998-06-30", period="D", unit="W")
    small = summary.take(np.arange(0, len(summary), 37))
    return small, BGNBD().fit(summary), MBGNBD().fit(summary)


@pytest.mark.parametrize("which", [1, 2])
def test_pmf_sums_to_one_and_mean_is_expected_purchases(fitted, which):
    """For every customer the PMF over k sums to 1 and its mean equals expected_purchases."""
    summary, *models = fitted
    model = models[which - 1]
    k = np.arange(0, 400)
    pmf = model.probability_of_purchases_conditional(k, 26.0, summary)
    assert pmf.shape == (len(summary), k.size)
    np.testing.assert_allclose(pmf.sum(axis=1), 1.0, atol=1e-10)
    np.testing.assert_allclose(pmf @ k, model.expected_purchases(26.0, summary), rtol=1e-8)
    single = model.probability_of_purchases_conditional(2, 26.0, summary)
    np.testing.assert_array_equal(single, pmf[:, 2])


def test_any_purchase_is_one_minus_no_purchase_and_keeps_digits(fitted):
    """P(X ≥ 1) = 1 − P(X = 0), and stays positive for a tiny horizon where 1 − P0 rounds to 0."""
    summary, model, _ = fitted
    anything = model.probability_of_any_purchase(13.0, summary)
    none = model.probability_of_purchases_conditional(0, 13.0, summary)
    np.testing.assert_allclose(anything, 1.0 - none, atol=1e-14)
    tiny = model.probability_of_any_purchase(1e-12, summary)
    assert np.all(tiny > 0)
    np.testing.assert_allclose(
        tiny / 1e-12, model.expected_purchases(1e-12, summary) / 1e-12, rtol=1e-6
    )


def test_per_customer_horizons_and_compressed_rows(fitted):
    """One horizon per customer equals the scalar call customer by customer; rows gather back."""
    summary, model, _ = fitted
    horizons = np.where(np.arange(len(summary)) % 2 == 0, 10.0, 30.0)
    got = model.probability_of_any_purchase(horizons, summary)
    np.testing.assert_allclose(got[::2], model.probability_of_any_purchase(10.0, summary)[::2])
    np.testing.assert_allclose(got[1::2], model.probability_of_any_purchase(30.0, summary)[1::2])
    rows = summary.compress()
    per_row = model.probability_of_purchases_conditional(1, 10.0, rows)
    np.testing.assert_array_equal(
        per_row[rows.inverse], model.probability_of_purchases_conditional(1, 10.0, summary)
    )
    with pytest.raises(InvalidInputError, match="'k'"):
        model.probability_of_purchases_conditional(1.5, 10.0, summary)
    with pytest.raises(InvalidInputError, match="one horizon per customer"):
        model.probability_of_any_purchase(np.ones(3), summary)


def test_interval_methods_on_the_model(fitted):
    """Model-level interval methods give the ParameterDraws result for the same seed."""
    from relmark.clv.uncertainty import ParameterDraws

    summary, model, _ = fitted
    iv = model.expected_purchases_interval(26.0, summary, level=0.8, draws=50, seed=3)
    same = ParameterDraws.parametric(model, draws=50, seed=3).expected_purchases(
        26.0, summary, level=0.8
    )
    assert iv == same
    alive = model.probability_alive_interval(summary, draws=30, seed=1)
    assert np.all((alive.lower <= alive.estimate + 1e-12) & (alive.estimate <= alive.upper + 1e-12))
    with pytest.raises(InvalidInputError, match="'method'"):
        model.probability_alive_interval(summary, method="delta")


def test_clv_scorer_adds_interval_columns(fitted):
    """CLVScorer(interval=0.9) adds lower/upper columns that bracket the estimates."""
    from relmark.clv import CLVScorer
    from relmark.errors import InvalidInputError as Invalid

    summary = load_cdnow().split("1997-09-30", "1998-06-30", period="D", unit="W")
    scorer = CLVScorer(horizon=6, unit="M", discount_rate=0.01, interval=0.9, interval_draws=40)
    table = scorer.fit(summary).score(summary.take(np.arange(200)))
    for name in ("probability_alive", "expected_purchases", "expected_spend", "clv"):
        lower, upper = table[f"{name}_lower"], table[f"{name}_upper"]
        assert np.all(lower <= upper)
        assert np.mean((lower <= table[name] + 1e-9) & (table[name] <= upper + 1e-9)) > 0.95
    plain = CLVScorer(horizon=6, unit="M", discount_rate=0.01).fit(summary)
    assert "clv_lower" not in plain.score(summary.take(np.arange(5))).columns
    with pytest.raises(Invalid, match="'interval'"):
        CLVScorer(interval=1.5).fit(summary).score(summary.take(np.arange(5)))
