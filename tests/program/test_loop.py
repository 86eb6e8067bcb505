"""The loop end to end: two simulated cycles, learning between them, persistence."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from relmark.errors import InvalidInputError, InvalidPayloadError
from relmark.io import from_json, to_json
from relmark.program import (
    DEFAULT_PLAYBOOK,
    Campaign,
    CustomerStates,
    ProgramState,
    ResponseBeliefs,
    load_state,
    plan_contacts,
    response_report,
    simulate_responses,
)

SEGMENTS = np.array(["Champions", "Loyal", "At Risk", "Hibernating"])
# Champions buy anyway (no uplift); customers at risk respond to being contacted.
CONTROL_RATE = {"Champions": 0.40, "Loyal": 0.20, "At Risk": 0.08, "Hibernating": 0.02}
TRUE_UPLIFT = {
    "Champions": 0.00,
    "Loyal": 0.04,
    "At Risk": 0.15,
    "Hibernating": 0.01,
}
ACTIONS = [a.name for a in DEFAULT_PLAYBOOK.actions]
START = datetime(2024, 1, 8, tzinfo=UTC)


def _truth(segment, action):
    # Personal contact works better than mail, mail better than e-mail, at every segment.
    factor = {"personal_call": 1.5, "loyalty_reward": 1.2, "winback_offer": 1.2}.get(action, 1.0)
    return TRUE_UPLIFT[segment] * factor


def _customers(n=6000, seed=21):
    rng = np.random.default_rng(seed)
    segment = rng.choice(SEGMENTS, n, p=[0.15, 0.25, 0.3, 0.3])
    clv = rng.gamma(2.0, 60.0, n) * np.where(segment == "Champions", 4.0, 1.0)
    tier = np.where(clv > np.quantile(clv, 0.8), "high", np.where(clv > 60, "medium", "low"))
    states = CustomerStates.from_columns(
        [f"c{i}" for i in range(n)],
        clv_tier=tier,
        probability_alive=np.where(np.isin(segment, ["At Risk", "Hibernating"]), 0.3, 0.8),
        segment=segment,
        relationship=rng.choice(["accountable", "proactive"], n),
    )
    return states, clv


def _true_value(states, stake, customers, actions, costs):
    index = {c: i for i, c in enumerate(states.customer_id.tolist())}
    rows = np.array([index[c] for c in customers], dtype=int)
    uplift = np.array(
        [_truth(states.segment[r], a) for r, a in zip(rows, actions, strict=True)], dtype=float
    )
    return float((uplift * stake[rows] - costs).sum())


def _cycle(state, states, stake, budget, cid, start, seed):
    plan = plan_contacts(states, DEFAULT_PLAYBOOK, state.beliefs, stake, budget=budget)
    campaign = Campaign.from_plan(
        plan,
        campaign_id=cid,
        start=start,
        response_window_days=28,
        control_share=0.3,
        actions=DEFAULT_PLAYBOOK.actions,
        by="segment",
    )
    log = simulate_responses(
        campaign,
        control_rate=CONTROL_RATE,
        uplift={(s, a): _truth(s, a) for s in SEGMENTS for a in ACTIONS},
        seed=seed,
    )
    report = response_report(campaign, log)
    return plan, campaign, report, state.record(campaign, report)


def _baselines(states, stake, budget, seed):
    """True value of random and top-CLV-first contact lists with the same budget and playbook."""
    candidate = DEFAULT_PLAYBOOK.candidates(states)
    costs = np.array([a.cost for a in DEFAULT_PLAYBOOK.actions])
    rows, cols = np.nonzero(candidate)
    rng = np.random.default_rng(seed)
    # random: candidates in random order, one per customer, skipping what does not fit
    picked, used, spent = [], set(), 0.0
    for k in rng.permutation(rows.size):
        if rows[k] in used or spent + costs[cols[k]] > budget:
            continue
        used.add(rows[k])
        spent += costs[cols[k]]
        picked.append(k)
    picked = np.array(picked)
    random_value = _true_value(
        states,
        stake,
        states.customer_id[rows[picked]],
        np.array(ACTIONS)[cols[picked]],
        costs[cols[picked]],
    )
    # top CLV first: highest stake first, its costliest (deepest) candidate action
    top = []
    spent = 0.0
    for r in np.argsort(-stake, kind="stable"):
        js = np.flatnonzero(candidate[r])
        if js.size == 0:
            continue
        j = js[np.argmax(costs[js])]
        if spent + costs[j] > budget:
            break
        spent += costs[j]
        top.append((r, j))
    r_, j_ = np.array(top).T
    top_value = _true_value(states, stake, states.customer_id[r_], np.array(ACTIONS)[j_], costs[j_])
    return random_value, top_value


def test_second_cycle_spends_better_than_first_random_and_top_clv():
    """Learning from cycle 1 raises cycle 2's true value above cycle 1, random and top-CLV-first."""
    states, stake = _customers()
    beliefs = ResponseBeliefs.from_priors(
        dict.fromkeys(ACTIONS, 0.1), control=0.05, by="segment", strength=20
    )
    state = ProgramState(beliefs=beliefs)
    budget = 1500.0
    plan1, _, report1, state = _cycle(state, states, stake, budget, "cycle-1", START, 1)
    plan2, _, _, state = _cycle(
        state, states, stake, budget, "cycle-2", START + timedelta(days=35), 2
    )
    value1 = _true_value(states, stake, plan1.customer_id, plan1.action, plan1.cost)
    value2 = _true_value(states, stake, plan2.customer_id, plan2.action, plan2.cost)
    random_value, top_value = _baselines(states, stake, budget, seed=3)
    assert plan2.spent <= budget
    assert plan1.spent <= budget
    assert value2 > value1
    assert value2 >= random_value
    assert value2 >= top_value
    # The learned uplift ranks the segments as the truth does.
    learned = state.beliefs.uplift(SEGMENTS, ["personalised_email"])[:, 0]
    assert learned.argmax() == list(SEGMENTS).index("At Risk")
    assert len(state.campaigns) == 2
    assert len(state.reports) == 2
    assert report1.effect("personalised_email").treated > 0


def test_state_save_load_round_trip_is_exact_and_atomic(tmp_path):
    """A saved state reads back equal, and no temporary file is left behind."""
    states, stake = _customers(800)
    beliefs = ResponseBeliefs.from_priors(dict.fromkeys(ACTIONS, 0.1), control=0.05)
    _, _, _, state = _cycle(ProgramState(beliefs=beliefs), states, stake, 100.0, "c1", START, 1)
    path = tmp_path / "program.json"
    from relmark.program import save_state

    save_state(state, path)
    save_state(state, path)  # replacing works too
    assert load_state(path) == state
    assert [p.name for p in tmp_path.iterdir()] == ["program.json"]


def test_load_rejects_a_corrupt_state(tmp_path):
    """A truncated file raises InvalidPayloadError rather than returning half a state."""
    path = tmp_path / "program.json"
    path.write_text('{"beliefs": {"by": "segment"', encoding="utf-8")
    with pytest.raises(InvalidPayloadError):
        load_state(path)


def test_record_checks_campaign_and_dimension():
    """Recording a report of another campaign, or a campaign per another dimension, is refused."""
    states, stake = _customers(300)
    beliefs = ResponseBeliefs.from_priors(dict.fromkeys(ACTIONS, 0.1), control=0.05)
    _, campaign, report, state = _cycle(
        ProgramState(beliefs=beliefs), states, stake, 50.0, "a", START, 1
    )
    with pytest.raises(InvalidInputError, match="Campaign ids"):
        state.record(campaign, report)
    other = ProgramState(beliefs=ResponseBeliefs.from_priors({}, control=0.1, by="clv_tier"))
    with pytest.raises(InvalidInputError, match="kept per 'clv_tier'"):
        other.record(campaign, report)


def test_state_payload_missing_evidence_is_refused():
    """A state file without the beliefs' evidence is an error, never silently reset to none."""
    beliefs = ResponseBeliefs.from_priors({"mail": 0.1}, control=0.05)
    data = json.loads(to_json(ProgramState(beliefs=beliefs)))
    del data["beliefs"]["evidence"]
    with pytest.raises(InvalidPayloadError, match="evidence"):
        from_json(json.dumps(data), ProgramState)


def test_a_campaign_is_learned_once():
    """A second report for the same campaign is refused, so evidence is never counted twice."""
    states, stake = _customers(300)
    beliefs = ResponseBeliefs.from_priors(dict.fromkeys(ACTIONS, 0.1), control=0.05)
    _, _, report, state = _cycle(ProgramState(beliefs=beliefs), states, stake, 50.0, "a", START, 1)
    with pytest.raises(InvalidInputError, match="already has a report"):
        state.with_report(report)
    with pytest.raises(InvalidInputError, match="No campaign 'zzz'"):
        state.campaign("zzz")
