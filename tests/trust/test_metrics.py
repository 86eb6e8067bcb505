"""NPS, CSAT and CES against hand computation and simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from relmark.errors import InvalidInputError
from relmark.trust import customer_effort_score, customer_satisfaction_score, net_promoter_score


def test_nps_hand_computed():
    """2 promoters, 2 passives, 2 detractors of 6: NPS 0, Var = (4/6)/6, half-width 100·z·1/3."""
    r = net_promoter_score([10, 9, 8, 7, 6, 0])
    z = stats.norm.ppf(0.975)
    assert r.value == 0.0
    assert r.ci == pytest.approx((-100 * z / 3, 100 * z / 3))
    assert (r.promoters, r.passives, r.detractors) == pytest.approx((1 / 3, 1 / 3, 1 / 3))


def test_nps_all_promoters():
    """All promoters: NPS 100 with a degenerate interval."""
    r = net_promoter_score([9, 10, 10])
    assert r.value == 100.0
    assert r.ci == (100.0, 100.0)


def test_nps_variance_matches_sampling_variance():
    """The multinomial variance formula matches the variance of NPS across simulated samples."""
    rng = np.random.default_rng(1)
    p = np.array([0.3, 0.2, 0.5])  # detractor, passive, promoter
    n, reps = 300, 3000
    counts = rng.multinomial(n, p, size=reps)
    values = 100 * (counts[:, 2] - counts[:, 0]) / n
    formula = 100**2 * (p[2] + p[0] - (p[2] - p[0]) ** 2) / n
    assert values.var(ddof=1) == pytest.approx(formula, rel=0.08)


def test_nps_interval_coverage():
    """The 95% Wald interval covers the true NPS in about 95% of samples of 400."""
    rng = np.random.default_rng(2)
    truth = 100 * (0.45 - 0.25)
    hits = 0
    reps = 800
    for _ in range(reps):
        ratings = rng.choice([3, 8, 10], size=400, p=[0.25, 0.30, 0.45])
        lo, hi = net_promoter_score(ratings).ci
        hits += lo <= truth <= hi
    assert 0.93 <= hits / reps <= 0.97


def test_nps_missing_ratings_are_counted():
    """NaN ratings are left out and counted in n_missing."""
    r = net_promoter_score([10, math.nan, 0])
    assert (r.n, r.n_missing, r.value) == (2, 1, 0.0)


@pytest.mark.parametrize("bad", [[11], [-1], [7.5]])
def test_nps_refuses_ratings_off_scale(bad):
    """Ratings that are not whole numbers 0-10 raise an error naming the position."""
    with pytest.raises(InvalidInputError, match="position"):
        net_promoter_score([5, *bad])


def test_nps_refuses_all_missing():
    """No rating at all is an error, not an NPS of 0."""
    with pytest.raises(InvalidInputError, match="no rating"):
        net_promoter_score([math.nan])


@given(st.lists(st.integers(0, 10), min_size=1, max_size=50))
def test_nps_bounds(ratings):
    """NPS lies in [-100, 100] and its interval, clipped to that range, contains it."""
    r = net_promoter_score(ratings)
    assert -100 <= r.ci[0] <= r.value <= r.ci[1] <= 100


def test_csat_top_two_box_and_mean():
    """On 1-5, ratings 4 and 5 are satisfied; the mean is stated beside the share."""
    r = customer_satisfaction_score([5, 4, 3, 2, 1, 5, math.nan])
    assert r.top_box_share == pytest.approx(100 * 3 / 6)
    assert r.mean == pytest.approx(20 / 6)
    assert (r.scale_min, r.scale_max, r.top_boxes, r.n_missing) == (1, 5, 2, 1)


def test_csat_custom_scale():
    """On a 0-10 scale with one top box only 10s count."""
    r = customer_satisfaction_score([10, 9, 10, 0], scale_min=0, scale_max=10, top_boxes=1)
    assert r.top_box_share == 50.0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"top_boxes": 0}, "'top_boxes'"),
        ({"scale_max": 1}, "'scale_max'"),
        ({"scale_min": 1.5}, "'scale_min'"),
    ],
)
def test_csat_refuses_bad_scales(kwargs, match):
    """A bad scale or top-box count names the parameter."""
    with pytest.raises(InvalidInputError, match=match):
        customer_satisfaction_score([1, 2], **kwargs)


def test_ces_mean_and_t_interval():
    """CES is the mean with the t interval of scipy.stats.t.interval."""
    ratings = [2, 3, 4, 5, 7, 1]
    r = customer_effort_score(ratings)
    expected = stats.t.interval(0.95, 5, loc=np.mean(ratings), scale=stats.sem(ratings))
    assert r.mean == pytest.approx(np.mean(ratings))
    assert r.ci == pytest.approx(expected)
    assert (r.scale_min, r.scale_max) == (1, 7)


def test_ces_single_rating_has_no_interval():
    """One rating gives a mean and a NaN interval."""
    r = customer_effort_score([3])
    assert r.mean == 3.0
    assert all(math.isnan(v) for v in r.ci)


@pytest.mark.parametrize("confidence", ["high", None, float("nan"), 1.0])
def test_bad_confidence_is_invalid_input(confidence):
    """A non-numeric or out-of-range confidence raises InvalidInputError naming the argument."""
    with pytest.raises(InvalidInputError, match="'confidence'"):
        net_promoter_score([9, 10, 3], confidence=confidence)
    with pytest.raises(InvalidInputError, match="'confidence'"):
        customer_effort_score([2, 3, 4], confidence=confidence)
