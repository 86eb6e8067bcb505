"""Service recovery: the ranked complaint list and the recovery-paradox report."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from relmark.data import TransactionLog
from relmark.data.touchpoints import TouchpointTable
from relmark.errors import InvalidInputError
from relmark.program import complaints_to_recover, recovery_report

NOW = datetime(2024, 6, 10, 12, 0, tzinfo=UTC)


def _dt(day, hour=12):
    return np.datetime64(f"2024-06-{day:02d}T{hour:02d}:00")


def _touchpoints():
    nat = np.datetime64("NaT")
    return TouchpointTable.from_arrays(
        counterpart_id=["open", "slow", "fast", "future", "open", "visit"],
        at=np.array([_dt(1), _dt(2), _dt(3), _dt(20), _dt(4), _dt(5)], dtype="datetime64[us]"),
        kind=["complaint", "complaint", "complaint", "complaint", "inquiry", "visit"],
        direction=["inbound"] * 6,
        resolved_at=np.array([nat, _dt(8), _dt(4), nat, nat, nat], dtype="datetime64[us]"),
    )


def test_list_keeps_open_and_slow_ranked_by_value():
    """Open and slow complaints are listed by value at stake; fast, future and others are not."""
    listing = complaints_to_recover(
        _touchpoints(),
        ["open", "slow", "fast", "future", "visit"],
        [100.0, 500.0, 900.0, 50.0, 1.0],
        now=NOW,
    )
    assert listing.customer_id.tolist() == ["slow", "open"]
    assert listing.status.tolist() == ["slow", "open"]
    # slow: resolved after 6 days; open: 9.0 days to now
    assert listing.days_open.tolist() == [6.0, 9.0]
    assert set(listing.action.tolist()) == {"service_recovery"}
    assert (listing.follow_up_at == np.datetime64("2024-06-17T12:00", "us")).all()
    assert "apologise" in listing.reason[0]
    assert len(listing.to_frame()) == 2


def test_list_errors_name_the_problem():
    """A complainant without value, and a naive 'now', are refused."""
    with pytest.raises(InvalidInputError, match=r"complainant\(s\) \['open'\]"):
        complaints_to_recover(_touchpoints(), ["slow"], [1.0], now=NOW)
    with pytest.raises(InvalidInputError, match="'now'"):
        complaints_to_recover(_touchpoints(), ["slow"], [1.0], now=datetime(2024, 6, 10))  # noqa: DTZ001


def _simulated(n_complainants=3000, n_others=6000, seed=0, rates=(0.6, 0.3, 0.45)):
    rng = np.random.default_rng(seed)
    complainants = np.array([f"k{i}" for i in range(n_complainants)])
    others = np.array([f"o{i}" for i in range(n_others)])
    at = np.datetime64("2024-01-01T00:00", "us") + rng.integers(0, 90, n_complainants).astype(
        "timedelta64[D]"
    )
    fast = rng.random(n_complainants) < 0.5
    resolved = np.where(
        fast,
        at + np.timedelta64(1, "D"),
        np.where(
            rng.random(n_complainants) < 0.5, at + np.timedelta64(10, "D"), np.datetime64("NaT")
        ),
    )
    touchpoints = TouchpointTable.from_arrays(
        counterpart_id=complainants,
        at=at,
        kind=["complaint"] * n_complainants,
        direction=["inbound"] * n_complainants,
        resolved_at=resolved.astype("datetime64[us]"),
    )
    p = np.where(fast, rates[0], rates[1])
    buys = rng.random(n_complainants) < p
    other_buys = rng.random(n_others) < rates[2]
    ids = np.r_[complainants[buys], others[other_buys]]
    # complainants buy 5-60 days after their complaint; others within 2024 (inside any window)
    times = np.r_[
        at[buys] + rng.integers(5, 60, buys.sum()).astype("timedelta64[D]"),
        np.datetime64("2024-05-01T00:00", "us")
        + rng.integers(0, 30, other_buys.sum()).astype("timedelta64[D]"),
    ]
    log = TransactionLog.from_arrays(ids, times, np.ones(ids.size))
    customers = np.r_[complainants, others]
    return touchpoints, log, customers


def test_paradox_report_recovers_known_rates():
    """Simulated repurchase rates 0.6 / 0.3 / 0.45 lie in the groups' Wilson intervals."""
    touchpoints, log, customers = _simulated()
    report = recovery_report(
        touchpoints, log, customers, np.full(customers.size, "all"), horizon_days=365, seed=1
    )
    recovered, not_recovered, matched = report.groups
    assert recovered.low <= 0.6 <= recovered.high
    assert not_recovered.low <= 0.3 <= not_recovered.high
    assert matched.customers == recovered.customers + not_recovered.customers
    assert matched.low <= 0.45 <= matched.high
    diff, low, high = report.recovered_vs_not
    assert low <= 0.3 <= high
    assert diff == pytest.approx(recovered.rate - not_recovered.rate)
    assert report.unmatched == 0


def test_matching_stays_within_strata_and_counts_unmatched():
    """A complainant whose stratum has no never-complained customer is counted as unmatched."""
    touchpoints, log, _ = _simulated(n_complainants=4, n_others=0, seed=2)
    customers = np.array(["k0", "k1", "k2", "k3", "x1"])
    strata = np.array(["a", "a", "b", "c", "a"])
    report = recovery_report(touchpoints, log, customers, strata, horizon_days=30)
    assert report.groups[2].customers == 1
    assert report.unmatched == 3


def test_report_rejects_unknown_complainants():
    """Complainants missing from the customer list are refused by name."""
    touchpoints, log, _ = _simulated(n_complainants=3, n_others=0)
    with pytest.raises(InvalidInputError, match="missing from 'customer_id'"):
        recovery_report(touchpoints, log, ["k0"], ["a"])


def test_purchases_at_the_complaint_or_after_the_horizon_do_not_count():
    """Only purchases strictly after the complaint and within the horizon count."""
    touchpoints = TouchpointTable.from_arrays(
        counterpart_id=["a", "b", "c"],
        at=np.array([_dt(1)] * 3, dtype="datetime64[us]"),
        kind=["complaint"] * 3,
        direction=["inbound"] * 3,
        resolved_at=np.array([_dt(1, 13)] * 3, dtype="datetime64[us]"),
    )
    log = TransactionLog.from_arrays(
        ["a", "b", "c"],
        np.array([_dt(1), _dt(11, 13), _dt(11, 11)], dtype="datetime64[us]"),
        [1.0, 1.0, 1.0],
    )
    report = recovery_report(touchpoints, log, ["a", "b", "c"], ["s"] * 3, horizon_days=10)
    assert report.groups[0].repurchasers == 1  # only c, 9 days 23 hours after
