"""Campaign records and the holdout assignment: stable, stratified, one arm per customer."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from relmark.errors import InvalidInputError, InvalidPayloadError
from relmark.io import from_json, to_json
from relmark.program import (
    DEFAULT_PLAYBOOK,
    Arm,
    Campaign,
    Contact,
    CustomerStates,
    ResponseBeliefs,
    assign_holdout,
    holdout_keys,
    plan_contacts,
)

START = datetime(2024, 3, 1, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))


def test_keys_are_stable_across_processes():
    """A fresh interpreter computes the same keys (no per-process hash salt)."""
    ids = ["a", "b", "ü-42", "1234567"]
    here = holdout_keys("spring-24", ids).tolist()
    code = (
        "from relmark.program import holdout_keys;"
        f"print(holdout_keys('spring-24', {ids!r}).tolist())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == str(here)


def test_assignment_is_order_independent_and_campaign_specific():
    """Shuffling the input does not change anyone's arm; another campaign id reshuffles."""
    ids = np.array([f"c{i}" for i in range(2000)])
    strata = np.array(["x", "y"])[np.arange(2000) % 2]
    arm = assign_holdout("k1", ids, strata, 0.3)
    perm = np.random.default_rng(0).permutation(2000)
    assert (assign_holdout("k1", ids[perm], strata[perm], 0.3) == arm[perm]).all()
    other = assign_holdout("k2", ids, strata, 0.3)
    assert 0.3 < (arm != other).mean() < 0.55


@pytest.mark.parametrize("share", [0.1, 0.25, 0.5])
def test_control_share_per_stratum_within_rounding(share):
    """Every stratum's control count is round(share × size): well within binomial tolerance."""
    rng = np.random.default_rng(7)
    ids = np.array([f"id{i}" for i in range(5000)])
    strata = rng.choice(["a", "b", "c", "d", "e"], 5000, p=[0.5, 0.2, 0.2, 0.07, 0.03])
    control = assign_holdout("c", ids, strata, share)
    for label in np.unique(strata):
        members = strata == label
        n = members.sum()
        assert control[members].sum() == np.floor(share * n + 0.5)
        assert abs(control[members].mean() - share) <= 3 * np.sqrt(share * (1 - share) / n)


def test_assignment_validation():
    """Duplicates, mismatched strata and shares outside [0, 1) are refused by name."""
    with pytest.raises(InvalidInputError, match="duplicated"):
        assign_holdout("c", ["a", "a"], ["x", "x"], 0.1)
    with pytest.raises(InvalidInputError, match="'control_share'"):
        assign_holdout("c", ["a"], ["x"], 1.0)
    with pytest.raises(InvalidInputError, match="'strata'"):
        assign_holdout("c", ["a", "b"], ["x"], 0.1)


def _campaign(n=1500, share=0.3, cid="spring"):
    rng = np.random.default_rng(11)
    states = CustomerStates.from_columns(
        [f"c{i}" for i in range(n)],
        clv_tier=rng.choice(["low", "medium", "high"], n),
        probability_alive=rng.uniform(size=n),
        segment=rng.choice(["Champions", "Loyal"], n),
    )
    beliefs = ResponseBeliefs.from_priors(
        {a.name: 0.1 for a in DEFAULT_PLAYBOOK.actions}, control=0.04
    )
    plan = plan_contacts(
        states,
        DEFAULT_PLAYBOOK,
        beliefs,
        rng.gamma(2, 100, n),
        budget=1e9,
        max_contacts_per_customer=2,
    )
    return Campaign.from_plan(
        plan,
        campaign_id=cid,
        start=START,
        response_window_days=30,
        control_share=share,
        actions=DEFAULT_PLAYBOOK.actions,
        by="segment",
    )


def test_from_plan_puts_each_customer_in_one_arm():
    """Customers planned for two actions are in the same arm for both; shares are near target."""
    campaign = _campaign()
    arms: dict[str, set[Arm]] = {}
    for c in campaign.contacts:
        arms.setdefault(c.customer_id, set()).add(c.arm)
    assert all(len(a) == 1 for a in arms.values())
    assert any(
        sum(1 for c in campaign.contacts if c.customer_id == k) == 2 for k in list(arms)[:50]
    )
    share = np.mean([Arm.CONTROL in a for a in arms.values()])
    assert abs(share - 0.3) < 0.02
    assert campaign.treated_customers() == {k for k, a in arms.items() if Arm.TREATMENT in a}


def test_campaign_refuses_a_customer_in_two_arms():
    """A record with one customer in both arms cannot be built."""
    action = DEFAULT_PLAYBOOK.actions[0]
    with pytest.raises(InvalidInputError, match="both arms"):
        Campaign(
            campaign_id="x",
            start=START,
            response_window_days=7,
            control_share=0.5,
            by="segment",
            actions=DEFAULT_PLAYBOOK.actions,
            contacts=(
                Contact(customer_id="a", state="s", action=action.name, arm=Arm.TREATMENT),
                Contact(customer_id="a", state="s", action="loyalty_reward", arm=Arm.CONTROL),
            ),
        )


def test_campaign_requires_aware_start():
    """A naive start time is refused, naming the field."""
    with pytest.raises(InvalidInputError, match="'start' field"):
        Campaign(
            campaign_id="x",
            start=datetime(2024, 1, 1),  # noqa: DTZ001 - the naive value under test
            response_window_days=7,
            control_share=0.5,
            by="segment",
            actions=(),
            contacts=(),
        )


def test_campaign_json_round_trip_is_exact():
    """A campaign written with relmark.io reads back equal, zone included."""
    campaign = _campaign(300)
    text = to_json(campaign)
    back = from_json(text, Campaign)
    assert back == campaign
    assert back.start.tzinfo == ZoneInfo("Europe/Berlin")


def test_bad_campaign_payload_lists_problems():
    """A payload with a bad arm and a bad share raises one error listing both."""
    campaign = _campaign(20)
    data = json.loads(to_json(campaign))
    data["control_share"] = 2.0
    data["contacts"][0]["arm"] = "maybe"
    with pytest.raises(InvalidPayloadError):
        from_json(json.dumps(data), Campaign)


def test_end_of_window():
    """The window ends response_window_days after the start."""
    c = Campaign(
        campaign_id="x",
        start=datetime(2024, 1, 1, tzinfo=UTC),
        response_window_days=1.5,
        control_share=0.0,
        by="segment",
        actions=(),
        contacts=(),
    )
    assert c.end == datetime(2024, 1, 2, 12, tzinfo=UTC)
