"""customer_lifetime_value: closed-form discounting and agreement with lifetimes."""

from __future__ import annotations

import numpy as np
import pytest

from relmark.clv import BGNBD, GammaGamma, customer_lifetime_value
from relmark.data.summary import CustomerSummary
from relmark.data.units import TimeUnit
from relmark.datasets import load_cdnow_sample_summary
from relmark.errors import InvalidInputError


class _LinearPurchases:
    """A transaction model with E[X(t)] = rate * t for every customer (a hand-checkable stub)."""

    unit_ = TimeUnit.DAY

    def __init__(self, rate):
        self.rate = rate

    def expected_purchases_grid(self, t, summary):
        return np.outer(np.ones(len(summary)), self.rate * np.asarray(t))


class _ConstantSpend:
    def __init__(self, value):
        self.value = value

    def expected_spend(self, summary):
        return np.full(len(summary), self.value)


def test_discounting_matches_a_hand_computed_annuity():
    """With E[X(t)] = c t, CLV = m * spend * c * days_per_period * sum_k (1+d)^-k."""
    s = CustomerSummary.from_arrays([0, 3], [0.0, 20.0], [30.0, 40.0], unit="D")
    clv = customer_lifetime_value(
        _LinearPurchases(0.1),
        _ConstantSpend(20.0),
        s,
        horizon=4,
        unit="W",
        discount_rate=0.05,
        margin=0.3,
    )
    annuity = sum(1.05**-k for k in range(1, 5))
    np.testing.assert_allclose(clv, 0.3 * 20.0 * 0.1 * 7.0 * annuity, rtol=1e-13)


def test_zero_discount_is_margin_times_spend_times_expected_purchases():
    """Without discounting, CLV is margin x spend x E[X(horizon)] for each customer."""
    s = load_cdnow_sample_summary()
    bg = BGNBD.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    gg = GammaGamma.from_params(p=6.25, q=3.74, gamma=15.44)
    clv = customer_lifetime_value(bg, gg, s, horizon=52, unit="W", discount_rate=0.0, margin=0.5)
    expected = 0.5 * gg.expected_spend(s) * bg.expected_purchases(52.0, s)
    np.testing.assert_allclose(clv, expected, rtol=1e-12)


@pytest.mark.oracle
def test_agrees_with_lifetimes_customer_lifetime_value():
    """Monthly CLV equals lifetimes' GammaGammaFitter.customer_lifetime_value to 1e-6 relative.

    lifetimes counts a month as 30 of the summary's time units; our month is 30.436875 days. To
    compare like with like, lifetimes gets the same customers with time measured in units of
    1/30 of our month (durations and alpha rescaled), so its 30-unit step is exactly our month.
    """
    pd = pytest.importorskip("pandas")
    from lifetimes import BetaGeoFitter, GammaGammaFitter

    s = load_cdnow_sample_summary()
    params = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    bg = BGNBD.from_params(**params, unit="W")
    gg = GammaGamma.from_params(p=6.25, q=3.74, gamma=15.44)
    ours = customer_lifetime_value(bg, gg, s, horizon=12, unit="M", discount_rate=0.01)

    scale = 30.0 / (TimeUnit.MONTH.days / TimeUnit.WEEK.days)  # lifetimes units per week
    their_bg = BetaGeoFitter()
    their_bg.params_ = pd.Series({**params, "alpha": params["alpha"] * scale})
    their_bg.predict = their_bg.conditional_expected_number_of_purchases_up_to_time
    their_gg = GammaGammaFitter()
    their_gg.params_ = pd.Series({"p": 6.25, "q": 3.74, "v": 15.44})
    theirs = their_gg.customer_lifetime_value(
        their_bg,
        pd.Series(s.frequency),
        pd.Series(s.recency * scale),
        pd.Series(s.T * scale),
        pd.Series(s.monetary),
        time=12,
        discount_rate=0.01,
        freq="D",
    )
    np.testing.assert_allclose(ours, theirs.to_numpy(), rtol=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"horizon": 0}, "'horizon'"),
        ({"horizon": 2.5}, "'horizon'"),
        ({"unit": "months"}, "'unit'"),
        ({"discount_rate": -0.1}, "'discount_rate'"),
        ({"margin": float("inf")}, "'margin'"),
    ],
)
def test_bad_arguments_are_rejected(kwargs, match):
    """Horizon, unit, discount rate and margin are validated with messages naming them."""
    s = CustomerSummary.from_arrays([1], [1.0], [2.0], unit="D")
    args = {"horizon": 3, "unit": "W", "discount_rate": 0.01, "margin": 1.0} | kwargs
    with pytest.raises(InvalidInputError, match=match):
        customer_lifetime_value(_LinearPurchases(1.0), _ConstantSpend(1.0), s, **args)


def test_a_transaction_model_without_a_horizon_grid_is_refused():
    """A model lacking expected_purchases_grid gets an InvalidInputError naming what is needed."""

    class _NoGrid:
        unit_ = TimeUnit.DAY

        def expected_purchases(self, t, summary):
            return np.zeros(len(summary))

    s = CustomerSummary.from_arrays([1], [1.0], [2.0], unit="D")
    with pytest.raises(InvalidInputError, match="expected_purchases_grid"):
        customer_lifetime_value(
            _NoGrid(), _ConstantSpend(1.0), s, horizon=3, unit="W", discount_rate=0.0
        )
