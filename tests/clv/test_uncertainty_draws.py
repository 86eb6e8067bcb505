"""The stacked-draws engine behind ParameterDraws: percentiles and the BG/NBD-family fast path."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relmark.clv import BGNBD, MBGNBD, GammaGamma, _draws, uncertainty
from relmark.clv._draws import interpolate, percentiles, quantile_position
from relmark.clv.uncertainty import ParameterDraws
from relmark.clv.value import customer_lifetime_value
from relmark.data.summary import CustomerSummary
from relmark.datasets import load_cdnow


@pytest.fixture(scope="module")
def cdnow():
    return load_cdnow().split("1997-09-30", "1998-06-30", period="D", unit="W")


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(min_value=2, max_value=300),
    level=st.floats(min_value=0.01, max_value=0.999),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
)
def test_percentiles_equal_numpy_quantile(n, level, seed):
    """Sorted-row percentiles equal np.quantile's default method, NaN rows included."""
    rng = np.random.default_rng(seed)
    values = rng.lognormal(size=(9, n))
    values[4, rng.integers(n)] = np.nan
    lower, upper = percentiles(
        9, n, level, lambda block: values[block], lambda b, part: part[:, b], 5 * n
    )
    expected = np.quantile(values, [(1 - level) / 2, (1 + level) / 2], axis=1)
    np.testing.assert_array_equal(lower, expected[0])
    np.testing.assert_array_equal(upper, expected[1])


def test_quantile_position_ends():
    """The extreme probabilities give the smallest and the largest value."""
    values = np.array([3.0, 5.0, 8.0, 13.0])
    for q, expected in ((0.0, 3.0), (1.0, 13.0), (0.5, 6.5)):
        low, high, weight = quantile_position(values.size, q)
        assert interpolate(values[[low]], values[[high]], weight)[0] == expected


def _direct(draws, summary, quantity, level, t=None):
    """Percentiles by hand: each draw's model evaluated on every customer, then np.quantile."""
    model = draws.model
    per_draw = []
    for row in draws.transaction_draws:
        m = type(model).from_params(
            **dict(zip(model.parameter_names(), row, strict=True)), unit=model.unit_
        )
        per_draw.append(
            m.probability_alive(summary)
            if quantity == "alive"
            else m.expected_purchases(t, summary)
        )
    return np.quantile(np.stack(per_draw), [(1 - level) / 2, (1 + level) / 2], axis=0)


def _with_extremes(summary: CustomerSummary) -> CustomerSummary:
    """Append customers far out in the tails: P(alive) underflows, many purchases, x = 0."""
    extra = CustomerSummary.from_arrays(
        [0, 0, 1, 40, 300, 5], [0.0, 0.0, 0.5, 70.0, 70.5, 1.0], [0.0, 70.0, 70.0, 70.0, 71.0, 78.0]
    )
    return CustomerSummary.from_arrays(
        np.concatenate([summary.frequency, extra.frequency]),
        np.concatenate([summary.recency, extra.recency]),
        np.concatenate([summary.T, extra.T]),
        unit=summary.unit,
    )


@pytest.mark.parametrize("model_type", [BGNBD, MBGNBD])
@pytest.mark.parametrize("budget", [None, 50 * 13])
def test_stacked_path_equals_direct_path(cdnow, monkeypatch, model_type, budget):
    """The all-draws fast path (tiny blocks or one) equals per-draw evaluation and np.quantile."""
    small = _with_extremes(cdnow.take(np.arange(0, len(cdnow), 23)))
    model = model_type().fit(cdnow)
    draws = ParameterDraws.parametric(model, draws=50, seed=8)
    if budget is not None:
        # Several tables of g and many row blocks, each a few rows of 50 draws.
        monkeypatch.setattr(uncertainty, "_BLOCK_ELEMENTS", budget)
        monkeypatch.setattr(_draws, "_ROW_BLOCK_ELEMENTS", 50 * 5)
    alive = draws.probability_alive(small, level=0.8)
    low, high = _direct(draws, small, "alive", 0.8)
    np.testing.assert_allclose(alive.lower, low, rtol=1e-14, atol=0)
    np.testing.assert_allclose(alive.upper, high, rtol=1e-14, atol=0)
    cet = draws.expected_purchases(39.0, small, level=0.8)
    low, high = _direct(draws, small, "cet", 0.8, t=39.0)
    np.testing.assert_allclose(cet.lower, low, rtol=1e-13, atol=0)
    np.testing.assert_allclose(cet.upper, high, rtol=1e-13, atol=0)
    assert np.all(np.isfinite(cet.lower))
    assert np.all(alive.lower >= 0)


def test_stacked_path_converts_the_summary_unit(cdnow):
    """A summary in days scored by a model fitted in weeks gives the weekly summary's intervals."""
    weeks = cdnow.take(np.arange(0, len(cdnow), 51))
    days = CustomerSummary.from_arrays(
        weeks.frequency, weeks.recency * 7.0, weeks.T * 7.0, unit="D"
    )
    draws = ParameterDraws.parametric(BGNBD().fit(cdnow), draws=30, seed=2)
    for weekly, daily in (
        (draws.probability_alive(weeks), draws.probability_alive(days)),
        (draws.expected_purchases(10.0, weeks), draws.expected_purchases(10.0, days)),
    ):
        np.testing.assert_allclose(daily.lower, weekly.lower, rtol=1e-12)
        np.testing.assert_allclose(daily.upper, weekly.upper, rtol=1e-12)


def test_stack_serves_exactly_bgnbd_and_mbgnbd(cdnow):
    """Subclasses and other models take the general per-draw path, not the BG/NBD formulas."""

    class Custom(BGNBD):
        pass

    x, t_x, T = (np.ones(2),) * 3
    draws = np.ones((3, 4))
    assert _draws.DropoutOddsStack.for_model(BGNBD(), draws, x, t_x, T, 100) is not None
    assert _draws.DropoutOddsStack.for_model(MBGNBD(), draws, x, t_x, T, 100) is not None
    assert _draws.DropoutOddsStack.for_model(Custom(), draws, x, t_x, T, 100) is None


def _with_spending_extremes(summary: CustomerSummary) -> CustomerSummary:
    """Append tail customers (as ``_with_extremes``) with mean spends from 0 to 10,000."""
    extra = CustomerSummary.from_arrays(
        [0, 0, 1, 40, 300, 5],
        [0.0, 0.0, 0.5, 70.0, 70.5, 1.0],
        [0.0, 70.0, 70.0, 70.0, 71.0, 78.0],
        monetary=[0.0, 0.0, 25.0, 40.0, 10.0, 1e4],
    )
    return CustomerSummary.from_arrays(
        np.concatenate([summary.frequency, extra.frequency]),
        np.concatenate([summary.recency, extra.recency]),
        np.concatenate([summary.T, extra.T]),
        monetary=np.concatenate([summary.monetary, extra.monetary]),
        unit=summary.unit,
    )


@pytest.mark.parametrize("model_type", [BGNBD, MBGNBD])
@pytest.mark.parametrize("budget", [None, 50 * 12 * 7])
def test_stacked_clv_equals_per_draw_clv(cdnow, monkeypatch, model_type, budget):
    """The all-draws CLV path equals each draw's customer_lifetime_value and np.quantile."""
    small = _with_spending_extremes(cdnow.take(np.arange(0, len(cdnow), 29)))
    draws = ParameterDraws.parametric(
        model_type().fit(cdnow), GammaGamma().fit(cdnow), draws=50, seed=4
    )
    if budget is not None:
        # Tables of seven (x, T) pairs × 12 periods and customer blocks of five.
        monkeypatch.setattr(uncertainty, "_BLOCK_ELEMENTS", budget)
        monkeypatch.setattr(_draws, "_ROW_BLOCK_ELEMENTS", 50 * 5)
    terms = {"horizon": 12, "unit": "M", "discount_rate": 0.01, "margin": 0.3}
    got = draws.customer_lifetime_value(small, level=0.8, **terms)
    per_draw = np.stack(
        [
            customer_lifetime_value(
                draws._transaction_model(b), draws._spend_model(b), small, **terms
            )
            for b in range(draws.draws)
        ]
    )
    low, high = np.quantile(per_draw, [0.1, 0.9], axis=0)
    np.testing.assert_allclose(got.lower, low, rtol=1e-13, atol=0)
    np.testing.assert_allclose(got.upper, high, rtol=1e-13, atol=0)
    np.testing.assert_array_equal(
        got.estimate,
        customer_lifetime_value(draws.model, draws.spend_model, small, **terms),
    )
    assert np.all(np.isfinite(got.lower))


def test_stacked_clv_serves_exactly_the_gamma_gamma(cdnow):
    """A GammaGamma subclass (which may change the spend) takes the general per-draw path."""

    class Custom(GammaGamma):
        pass

    model = BGNBD().fit(cdnow)
    terms = {"horizon": 3, "unit": "M", "discount_rate": 0.01, "margin": 1.0, "level": 0.9}
    plain = ParameterDraws.parametric(model, GammaGamma().fit(cdnow), draws=5, seed=1)
    custom = ParameterDraws.parametric(model, Custom().fit(cdnow), draws=5, seed=1)
    assert plain._stacked_lifetime_value(cdnow, **terms) is not None
    assert custom._stacked_lifetime_value(cdnow, **terms) is None
