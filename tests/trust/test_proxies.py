"""Behavioural proxies from touchpoint logs and summaries, against a per-customer loop oracle."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from relmark.data.summary import CustomerSummary
from relmark.data.touchpoints import TouchpointTable
from relmark.domain import TouchpointKind
from relmark.errors import InvalidInputError
from relmark.trust import (
    behavioural_trust_index,
    summary_proxies,
    touchpoint_proxies,
)
from relmark.trust.proxies import DIALOGUE_KINDS, weighted_percentile

T0 = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)
KINDS = list(TouchpointKind)


def hand_table() -> TouchpointTable:
    day = np.timedelta64(1, "D")
    t0 = np.datetime64("2024-01-01T09:00", "s")
    return TouchpointTable.from_arrays(
        counterpart_id=["a", "a", "a", "b", "b"],
        at=np.array([t0, t0 + day, t0 + 2 * day, t0, t0 + 9 * day]),
        kind=["complaint", "support", "inquiry", "campaign_send", "inquiry"],
        direction=["inbound", "outbound", "inbound", "outbound", "inbound"],
        resolved_at=np.array([t0 + 3 * day, "NaT", "NaT", "NaT", "NaT"], dtype="datetime64[s]"),
    )


def test_proxies_hand_computed():
    """Balance, resolution rate and speed, and responsiveness of a small log match hand values."""
    p = touchpoint_proxies(hand_table())
    assert p.counterpart_id.tolist() == ["a", "b"]
    # a: dialogue in = complaint + inquiry, out = support → 2·1/3; complaint resolved in 3 days
    # (half-life 3 → 0.5); the complaint is answered by the support reply 1 day later, the
    # inquiry by nothing → responsiveness 1/2.
    np.testing.assert_allclose(p.communication_balance, [2 / 3, 0.0])
    np.testing.assert_allclose(p.complaint_resolution_rate, [1.0, np.nan])
    np.testing.assert_allclose(p.resolution_speed, [0.5, np.nan])
    # b: the campaign send is not a reply, so its inquiry is unanswered.
    np.testing.assert_allclose(p.responsiveness, [0.5, 0.0])
    index, count = behavioural_trust_index(p)
    np.testing.assert_allclose(index, [100 * (2 / 3 + 1 + 0.5 + 0.5) / 4, 0.0])
    assert count.tolist() == [4, 2]


def naive_proxies(
    table: TouchpointTable, half_life: float, window: float
) -> dict[str, dict[str, float]]:
    """Straightforward per-customer loops over Python datetimes: the oracle for the vectorized code."""
    out: dict[str, dict[str, float]] = {}
    rows = list(
        zip(
            table.counterpart_id.tolist(),
            table.at.astype("datetime64[us]").astype(object),
            [KINDS[k] for k in table.kind],
            table.inbound.tolist(),
            [None if np.isnat(r) else r.astype(object) for r in table.resolved_at],
            strict=True,
        )
    )
    for cid in sorted(set(table.counterpart_id.tolist())):
        mine = [r for r in rows if r[0] == cid]
        dialogue = [r for r in mine if r[2] in DIALOGUE_KINDS]
        i = sum(r[3] for r in dialogue)
        o = len(dialogue) - i
        complaints = [r for r in mine if r[2] is TouchpointKind.COMPLAINT]
        resolved = [r for r in complaints if r[4] is not None]
        requests = [
            r
            for r in mine
            if r[3]
            and r[2] in (TouchpointKind.INQUIRY, TouchpointKind.SUPPORT, TouchpointKind.COMPLAINT)
        ]
        replies = [
            r[1]
            for r in mine
            if not r[3]
            and r[2]
            not in (
                TouchpointKind.CAMPAIGN_SEND,
                TouchpointKind.CAMPAIGN_OPEN,
                TouchpointKind.CAMPAIGN_CLICK,
                TouchpointKind.UNSUBSCRIBE,
            )
        ]
        w = timedelta(days=window)
        answered = [
            (r[4] is not None and r[4] - r[1] <= w) or any(r[1] <= t <= r[1] + w for t in replies)
            for r in requests
        ]
        out[cid] = {
            "communication_balance": 2 * min(i, o) / (i + o) if i + o else math.nan,
            "complaint_resolution_rate": len(resolved) / len(complaints)
            if complaints
            else math.nan,
            "resolution_speed": (
                float(
                    np.mean(
                        [
                            2 ** (-((r[4] - r[1]).total_seconds() / 86400) / half_life)
                            for r in resolved
                        ]
                    )
                )
                if resolved
                else math.nan
            ),
            "responsiveness": float(np.mean(answered)) if requests else math.nan,
        }
    return out


def random_table(n: int, customers: int, seed: int) -> TouchpointTable:
    rng = np.random.default_rng(seed)
    kinds = rng.choice(KINDS, size=n)
    at = np.datetime64("2024-01-01T00:00", "s") + rng.integers(0, 90 * 86400, n).astype(
        "timedelta64[s]"
    )
    resolvable = np.array([k.can_be_resolved for k in kinds])
    delay = rng.integers(0, 10 * 86400, n).astype("timedelta64[s]")
    resolved = np.where(resolvable & (rng.random(n) < 0.6), at + delay, np.datetime64("NaT"))
    return TouchpointTable.from_arrays(
        counterpart_id=np.array([f"c{i}" for i in rng.integers(0, customers, n)]),
        at=at,
        kind=kinds,
        direction=rng.choice(["inbound", "outbound"], size=n),
        resolved_at=resolved.astype("datetime64[s]"),
    )


def test_vectorized_proxies_match_naive_loops():
    """On a random 3000-touchpoint log the vectorized proxies equal the per-customer loop oracle."""
    table = random_table(3000, 80, seed=1)
    p = touchpoint_proxies(table, resolution_half_life_days=2.5, response_window_days=1.5)
    oracle = naive_proxies(table, 2.5, 1.5)
    for j, cid in enumerate(p.counterpart_id.tolist()):
        for name, value in oracle[cid].items():
            np.testing.assert_allclose(
                getattr(p, name)[j], value, rtol=1e-12, err_msg=f"{cid} {name}"
            )


@given(st.randoms(use_true_random=False))
def test_proxies_invariant_to_row_order(rnd):
    """Shuffling the touchpoint rows leaves every counterpart's proxies unchanged."""
    table = random_table(200, 15, seed=2)
    order = list(range(len(table)))
    rnd.shuffle(order)
    shuffled = TouchpointTable.from_arrays(
        counterpart_id=table.counterpart_id[order],
        at=table.at[order],
        kind=np.array(KINDS)[table.kind[order]],
        direction=np.where(table.inbound[order], "inbound", "outbound"),
        resolved_at=table.resolved_at[order],
    )
    assert touchpoint_proxies(shuffled) == touchpoint_proxies(table)


def test_non_positive_half_life_is_refused():
    """The half-life must be positive."""
    with pytest.raises(InvalidInputError, match="'resolution_half_life_days'"):
        touchpoint_proxies(hand_table(), resolution_half_life_days=0)


def test_weighted_percentile_matches_brute_force():
    """Mid-rank percentiles equal W(X < v) + W(X = v)/2 computed by brute force."""
    rng = np.random.default_rng(3)
    ref = rng.integers(0, 10, 50).astype(float)
    w = rng.uniform(0.5, 2.0, 50)
    values = np.array([-1.0, 0.0, 3.0, 4.5, 9.0, 20.0, np.nan])
    got = weighted_percentile(ref, w, values)
    for v, g in zip(values, got, strict=True):
        if np.isnan(v):
            assert np.isnan(g)
        else:
            expected = (w[ref < v].sum() + 0.5 * w[ref == v].sum()) / w.sum()
            assert g == pytest.approx(expected)


def test_summary_proxies_hand_computed():
    """Tenure and repeat-rate percentiles and continuity t_x/T of three customers."""
    s = CustomerSummary.from_arrays([0, 2, 5], [0, 10, 20], [30, 30, 20])
    p = summary_proxies(s)
    np.testing.assert_allclose(p.repeat_rate, [0, 2 / 30, 5 / 20])
    np.testing.assert_allclose(p.tenure_percentile, [4 / 6, 4 / 6, 1 / 6])
    np.testing.assert_allclose(p.repeat_rate_percentile, [1 / 6, 3 / 6, 5 / 6])
    np.testing.assert_allclose(p.purchase_continuity, [0, 1 / 3, 1])


def test_summary_proxies_zero_age_is_nan():
    """A customer observed for T = 0 has no repeat rate or continuity (NaN, not 0)."""
    s = CustomerSummary.from_arrays([0, 1], [0, 1], [0, 2])
    p = summary_proxies(s)
    assert math.isnan(p.repeat_rate[0])
    assert math.isnan(p.purchase_continuity[0])
