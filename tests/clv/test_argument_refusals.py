"""Issue 18 class 4 at the model API: values that are not durations, counts or sane horizons are
refused with an InvalidInputError naming the argument and the limit (never a bare Python error)."""

from __future__ import annotations

import numpy as np
import pytest

from relmark.clv import BGBB, BGNBD, CLVScorer, GammaGamma, customer_lifetime_value
from relmark.data import CustomerSummary
from relmark.datasets import load_cdnow_sample_summary
from relmark.errors import InvalidInputError

MODEL = BGNBD.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
SPEND = GammaGamma.from_params(p=6.25, q=3.74, gamma=15.44)
SUMMARY = CustomerSummary.from_arrays([2, 0], [10.0, 0.0], [39.0, 39.0], monetary=[10.0, 0.0])


@pytest.mark.parametrize(
    "t",
    [
        True,
        np.True_,
        [True, False],
        1 + 2j,
        "5",
        np.array(["2020-01-01", "2020-01-02"], dtype="datetime64[D]"),
        np.array([1, 2], dtype="timedelta64[D]"),
        10**400,
    ],
)
def test_horizons_that_are_not_numbers_are_refused(t):
    """Booleans, complex, text, dates, durations and out-of-range integers name 't'."""
    with pytest.raises(InvalidInputError, match="'t' argument"):
        MODEL.expected_purchases(t, SUMMARY)


@pytest.mark.parametrize("horizon", [10**12, 10**400])
def test_clv_horizon_beyond_100_years_is_refused(horizon):
    """A CLV horizon beyond 100 years names 'horizon' and the limit instead of exhausting memory."""
    with pytest.raises(InvalidInputError, match=r"'horizon'.*100 years \(36,524 periods of 'D'\)"):
        customer_lifetime_value(MODEL, SPEND, SUMMARY, horizon=horizon, unit="D", discount_rate=0.0)
    with pytest.raises(InvalidInputError, match=r"'horizon' parameter of CLVScorer.*100 years"):
        CLVScorer(horizon=horizon, unit="D").fit(load_cdnow_sample_summary())


def test_a_100_year_horizon_is_still_accepted():
    """The limit is inclusive: 1,200 months are valued."""
    clv = customer_lifetime_value(MODEL, SPEND, SUMMARY, horizon=1200, unit="M", discount_rate=0.01)
    assert np.all(np.isfinite(clv))


def test_huge_frequency_count_table_is_refused():
    """BG/BB expected_frequency_counts refuses a table of a billion entries by name."""
    bgbb = BGBB.from_params(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)
    with pytest.raises(InvalidInputError, match=r"'t'.*at most 1,000,000"):
        bgbb.expected_frequency_counts(10**9, 100)
