"""The response-tracking report: intervals against statsmodels/scipy, Qini by hand, coverage."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from relmark.data import TransactionLog
from relmark.errors import InvalidInputError
from relmark.io import from_json, to_json
from relmark.program import (
    DEFAULT_ACTIONS,
    Arm,
    Campaign,
    Contact,
    ResponseReport,
    assign_holdout,
    newcombe_interval,
    qini_coefficient,
    qini_curve,
    response_report,
    simulate_responses,
    welch_interval,
    wilson_interval,
)

START = datetime(2024, 3, 1, tzinfo=UTC)
EMAIL = DEFAULT_ACTIONS[0]


def test_wilson_matches_statsmodels():
    """Wilson bounds equal statsmodels' proportion_confint(method='wilson') on many cases."""
    rng = np.random.default_rng(1)
    n = rng.integers(1, 500, 200)
    y = rng.integers(0, n + 1)
    for confidence in (0.9, 0.95, 0.99):
        low, high = wilson_interval(y, n, confidence=confidence)
        ref_low, ref_high = proportion_confint(y, n, alpha=1 - confidence, method="wilson")
        np.testing.assert_allclose(low, ref_low, atol=1e-12)
        np.testing.assert_allclose(high, ref_high, atol=1e-12)


def test_newcombe_matches_statsmodels():
    """Newcombe's hybrid score interval equals statsmodels' method='newcomb' on many cases."""
    rng = np.random.default_rng(2)
    for _ in range(100):
        n1, n2 = rng.integers(1, 400, 2)
        y1, y2 = rng.integers(0, n1 + 1), rng.integers(0, n2 + 1)
        low, high = newcombe_interval(y1, n1, y2, n2)
        ref = confint_proportions_2indep(y1, n1, y2, n2, method="newcomb", compare="diff")
        assert float(low) == pytest.approx(ref[0], abs=1e-12)
        assert float(high) == pytest.approx(ref[1], abs=1e-12)


def test_welch_matches_scipy():
    """Welch's interval equals scipy's ttest_ind(equal_var=False).confidence_interval."""
    rng = np.random.default_rng(3)
    for _ in range(20):
        x = rng.gamma(1.0, 10.0, rng.integers(2, 80)) * (rng.random() < 0.9)
        w = rng.gamma(2.0, 5.0, rng.integers(2, 80))
        diff, low, high = welch_interval(x, w, confidence=0.9)
        ref = stats.ttest_ind(x, w, equal_var=False).confidence_interval(0.9)
        assert diff == pytest.approx(x.mean() - w.mean())
        assert low == pytest.approx(ref.low, rel=1e-9)
        assert high == pytest.approx(ref.high, rel=1e-9)


def test_welch_edge_cases():
    """Empty or single-value groups give NaN bounds; constant groups a zero-width interval."""
    assert np.isnan(welch_interval([], [1.0])[0])
    assert np.isnan(welch_interval([1.0], [1.0, 2.0])[1])
    assert welch_interval([2.0, 2.0], [1.0, 1.0]) == (1.0, 1.0, 1.0)


def test_qini_hand_computed():
    """Qini points and coefficient match a hand computation, ties kept together."""
    x, q = qini_curve([2, 2, 1, 1], [1, 1, 0, 1], [1, 0, 1, 0])
    # after the tied top pair: 1 - 1 * 1/1 = 0; after all: 1 - 2 * 2/2 = -1
    assert x.tolist() == [0.0, 2.0, 4.0]
    assert q.tolist() == [0.0, 0.0, -1.0]
    # area 0 + (0 - 1)/2 * 2 = -1; random line -1 * 4 / 2 = -2; difference 1
    assert qini_coefficient([2, 2, 1, 1], [1, 1, 0, 1], [1, 0, 1, 0]) == 1.0
    # a score that ranks the responders' treatment first beats its reverse
    y, t = [1, 0, 1, 0, 0, 0], [1, 0, 1, 0, 1, 0]
    assert qini_coefficient([6, 5, 4, 3, 2, 1], y, t) > qini_coefficient([1, 2, 3, 4, 5, 6], y, t)


def _campaign(states, n_per_state, share, cid):
    ids = np.array([f"{s}-{i}" for s in states for i in range(n_per_state)])
    strata = np.repeat(states, n_per_state)
    control = assign_holdout(cid, ids, strata, share)
    contacts = [
        Contact(
            customer_id=str(i),
            state=str(s),
            action=EMAIL.name,
            arm=Arm.CONTROL if c else Arm.TREATMENT,
            score=float(k),
        )
        for k, (i, s, c) in enumerate(zip(ids, strata, control, strict=True))
    ]
    return Campaign(
        campaign_id=cid,
        start=START,
        response_window_days=14,
        control_share=share,
        by="segment",
        actions=(EMAIL,),
        contacts=contacts,
    )


def test_report_counts_by_hand():
    """Counts, rates, revenue and ROI of a tiny campaign match a hand computation."""
    contacts = [
        Contact(customer_id="a", state="s", action=EMAIL.name, arm=Arm.TREATMENT),
        Contact(customer_id="b", state="s", action=EMAIL.name, arm=Arm.TREATMENT),
        Contact(customer_id="c", state="s", action=EMAIL.name, arm=Arm.CONTROL),
        Contact(customer_id="d", state="s", action=EMAIL.name, arm=Arm.CONTROL),
    ]
    campaign = Campaign(
        campaign_id="tiny",
        start=START,
        response_window_days=10,
        control_share=0.5,
        by="segment",
        actions=(EMAIL,),
        contacts=contacts,
    )
    log = TransactionLog.from_arrays(
        ["a", "a", "c", "b", "x"],
        ["2024-03-02", "2024-03-05", "2024-03-03", "2024-03-11", "2024-03-02"],
        [10.0, 20.0, 6.0, 99.0, 5.0],
        timezone="UTC",
    )
    report = response_report(campaign, log, margin=0.5)
    effect = report.effect(EMAIL.name, "s")
    # a bought twice (30) in the window, b after it, c once (6), d never.
    assert (effect.treated, effect.control) == (2, 2)
    assert effect.uplift == 0.0
    assert effect.incremental_revenue == pytest.approx(15.0 - 3.0)
    cost = 2 * EMAIL.cost
    assert effect.cost == pytest.approx(cost)
    assert effect.incremental_margin == pytest.approx(0.5 * 12.0 * 2)
    assert effect.roi == pytest.approx((12.0 - cost) / cost)
    treated_row = next(r for r in report.arms if r.arm is Arm.TREATMENT and r.state == "s")
    assert (treated_row.contacts, treated_row.responders) == (2, 1)
    assert treated_row.margin_per_customer == pytest.approx(7.5)
    control_evidence = [e for e in report.evidence if e.action == "control"]
    assert [(e.contacts, e.responders) for e in control_evidence] == [(2, 1)]


def test_report_round_trips_and_converts_to_frames():
    """The report survives relmark.io and becomes pandas and polars frames."""
    campaign = _campaign(np.array(["A", "B"]), 60, 0.5, "rt")
    log = simulate_responses(
        campaign, control_rate={"A": 0.1, "B": 0.2}, uplift={("A", EMAIL.name): 0.1}, seed=4
    )
    report = response_report(campaign, log)
    assert from_json(to_json(report), ResponseReport) == report
    frame = report.to_frame("effects", backend="polars")
    assert frame.height == 3  # A, B and all states
    assert len(report.to_frame("arms")) == 6
    with pytest.raises(InvalidInputError, match="'table'"):
        report.columns("people")


def test_intervals_cover_the_true_uplift_near_nominal():
    """Over seeded replications, 95% Newcombe and Welch intervals cover the truth ~95% of times."""
    states = np.array(["low", "mid", "high", "top"])
    control = {"low": 0.05, "mid": 0.10, "high": 0.20, "top": 0.30}
    uplift = {("low", EMAIL.name): 0.0, ("mid", EMAIL.name): 0.03}
    uplift |= {("high", EMAIL.name): 0.08, ("top", EMAIL.name): 0.15}
    mean_amount = 40.0
    hits_rate = hits_revenue = total = 0
    for replication in range(100):
        campaign = _campaign(states, 500, 0.4, f"cov-{replication}")
        log = simulate_responses(
            campaign,
            control_rate=control,
            uplift=uplift,
            mean_amount=mean_amount,
            seed=replication,
        )
        report = response_report(campaign, log)
        for s in states:
            row = report.effect(EMAIL.name, str(s))
            truth = uplift[(str(s), EMAIL.name)]
            hits_rate += row.uplift_low <= truth <= row.uplift_high
            revenue_truth = truth * mean_amount
            hits_revenue += row.revenue_low <= revenue_truth <= row.revenue_high
            total += 1
    # 400 intervals: binomial sd of the coverage is about 0.011.
    assert 0.92 <= hits_rate / total <= 0.98
    assert 0.92 <= hits_revenue / total <= 0.98


def test_report_rejects_bad_margin_and_confidence():
    """A margin outside (0, 1] or a confidence outside (0, 1) is refused by name."""
    campaign = _campaign(np.array(["A"]), 4, 0.5, "bad")
    log = TransactionLog.from_arrays(["A-0"], ["2024-03-02"], [1.0], timezone="UTC")
    with pytest.raises(InvalidInputError, match="'margin'"):
        response_report(campaign, log, margin=0.0)
    with pytest.raises(InvalidInputError, match="'confidence'"):
        response_report(campaign, log, confidence=1.0)


def test_plot_uplift_draws_one_point_per_state():
    """The uplift plot has one error bar per state plus the pooled row."""
    pytest.importorskip("matplotlib")
    import matplotlib as mpl

    mpl.use("Agg")
    import matplotlib.pyplot as plt

    from relmark.program import plot_uplift

    campaign = _campaign(np.array(["A", "B"]), 40, 0.5, "plot")
    log = simulate_responses(campaign, control_rate={"A": 0.1, "B": 0.2}, uplift={}, seed=1)
    ax = plot_uplift(response_report(campaign, log), EMAIL.name)
    assert len(ax.get_yticklabels()) == 3
    plt.close(ax.figure)


def test_report_of_a_campaign_without_contacts_is_empty():
    """A campaign with no contacts gives a report with no rows rather than an error."""
    campaign = Campaign(
        campaign_id="none",
        start=START,
        response_window_days=7,
        control_share=0.2,
        by="segment",
        actions=(EMAIL,),
        contacts=(),
    )
    log = TransactionLog.from_arrays(["x"], ["2024-03-02"], [1.0], timezone="UTC")
    report = response_report(campaign, log)
    assert (report.arms, report.effects, report.qini, report.evidence) == ((), (), (), ())


def test_touchpoints_in_the_window_count_as_responses():
    """A purchase touchpoint of this campaign (or of none) responds; others' ids or kinds do not."""
    from datetime import timedelta

    from relmark.domain import Channel, Direction, Touchpoint, TouchpointKind

    contacts = [
        Contact(customer_id=c, state="s", action=EMAIL.name, arm=arm)
        for c, arm in (
            ("a", Arm.TREATMENT),
            ("b", Arm.TREATMENT),
            ("c", Arm.CONTROL),
            ("d", Arm.CONTROL),
        )
    ]
    campaign = Campaign(
        campaign_id="tp",
        start=START,
        response_window_days=10,
        control_share=0.5,
        by="segment",
        actions=(EMAIL,),
        contacts=contacts,
    )

    def touch(customer, kind, campaign_id=None, days=1.0):
        return Touchpoint(
            touchpoint_id=f"{customer}-{kind.value}",
            at=START + timedelta(days=days),
            channel=Channel.WEB,
            direction=Direction.INBOUND,
            kind=kind,
            customer_id=customer,
            campaign_id=campaign_id,
        )

    touchpoints = [
        touch("a", TouchpointKind.PURCHASE),
        touch("b", TouchpointKind.PURCHASE, campaign_id="other"),
        touch("c", TouchpointKind.CAMPAIGN_CLICK, campaign_id="tp"),
        touch("d", TouchpointKind.PURCHASE, campaign_id="tp", days=10.0),  # window is half-open
    ]
    log = TransactionLog.from_arrays(["x"], ["2024-03-02"], [1.0], timezone="UTC")
    report = response_report(campaign, log, touchpoints=touchpoints)
    effect = report.effect(EMAIL.name, "s")
    assert effect.uplift == pytest.approx(0.5)  # a of (a, b) against none of (c, d)
    clicks = response_report(
        campaign,
        log,
        touchpoints=touchpoints,
        response_kinds=(TouchpointKind.PURCHASE, TouchpointKind.CAMPAIGN_CLICK),
    )
    assert clicks.effect(EMAIL.name, "s").uplift == pytest.approx(0.0)
    with pytest.raises(InvalidInputError, match="Touchpoint records"):
        response_report(campaign, log, touchpoints=[{"kind": "purchase"}])
