"""Tests of relmark.datasets.real: the shipped CDNOW and donations data against published facts."""

from __future__ import annotations

import numpy as np
import pytest

from relmark.data import TimeUnit
from relmark.datasets import load_cdnow, load_cdnow_sample_summary, load_donations


def test_cdnow_master_counts_and_range():
    """CDNOW master: 23,570 customers, 69,659 transactions, 1997-01-01 to 1998-06-30."""
    log = load_cdnow()
    assert len(log) == 69_659
    assert log.n_customers == 23_570
    assert log.start == np.datetime64("1997-01-01")
    assert log.end == np.datetime64("1998-06-30")
    assert log.customer_id.dtype == np.int64
    assert log.customer_id.min() == 1
    assert log.customer_id.max() == 23_570
    assert log.timezone is None


def test_cdnow_master_first_rows_match_the_file():
    """The first rows are those printed in the source file (ids unpadded, dollar values)."""
    log = load_cdnow()
    assert log.customer_id[:4].tolist() == [1, 2, 2, 3]
    assert log.time[:4].astype("datetime64[D]").astype(str).tolist() == [
        "1997-01-01",
        "1997-01-12",
        "1997-01-12",
        "1997-01-02",
    ]
    assert log.amount is not None
    assert log.amount[:4].tolist() == [11.77, 12.0, 77.0, 20.76]


def test_cdnow_cohort_first_purchases_in_first_quarter_1997():
    """Every customer of the cohort made the first purchase in 1997-Q1 (the cohort definition)."""
    summary = load_cdnow().summarize("1998-06-30", unit="D")
    first = np.datetime64("1998-06-30") - summary.T.astype("timedelta64[D]")
    assert first.min() == np.datetime64("1997-01-01")
    assert first.max() <= np.datetime64("1997-03-31")


def test_cdnow_sample_summary():
    """The 2,357-customer sample: 946 repeaters, 2,457 repeat purchases, T up to 38.86 weeks."""
    s = load_cdnow_sample_summary()
    assert len(s) == 2_357
    assert int((s.frequency > 0).sum()) == 946
    assert int(s.frequency.sum()) == 2_457
    assert s.unit is TimeUnit.WEEK
    assert s.T.max() == 38.86
    assert s.customer_id.tolist() == list(range(1, 2_358))
    assert s.monetary is not None
    assert s.monetary[:2].tolist() == [22.35, 11.77]


def test_donations():
    """Donations: 22 patterns of 11,104 donors over 6 opportunities."""
    s = load_donations()
    assert len(s) == 22
    assert s.weights is not None
    assert s.weights.sum() == 11_104
    assert np.all(s.T == 6)
    assert s.unit is TimeUnit.YEAR
    never = s.frequency == 0
    assert s.weights[never].tolist() == [3464.0]


@pytest.mark.oracle
def test_cdnow_sample_refits_to_published_bgnbd_parameters():
    """lifetimes' BG/NBD fit on the shipped sample gives FHL (2005)'s r, α, a, b."""
    lifetimes = pytest.importorskip("lifetimes")
    s = load_cdnow_sample_summary()
    fitted = lifetimes.BetaGeoFitter().fit(s.frequency, s.recency, s.T).params_
    np.testing.assert_allclose(
        [fitted["r"], fitted["alpha"], fitted["a"], fitted["b"]],
        [0.243, 4.414, 0.793, 2.426],
        atol=1e-3,
    )


@pytest.mark.oracle
def test_donations_refit_to_published_bgbb_parameters():
    """lifetimes' BG/BB fit on the shipped donations gives FHS (2010)'s α, β, γ, δ."""
    lifetimes = pytest.importorskip("lifetimes")
    s = load_donations()
    fitted = (
        lifetimes.BetaGeoBetaBinomFitter()
        .fit(s.frequency, s.recency, s.T.astype(int), weights=s.weights)
        .params_
    )
    np.testing.assert_allclose(
        [fitted["alpha"], fitted["beta"], fitted["gamma"], fitted["delta"]],
        [1.204, 0.750, 0.657, 2.783],
        atol=1e-3,
    )
