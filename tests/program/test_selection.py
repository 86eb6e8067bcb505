"""Target selection under a budget: limits, optimality checks and reasons."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from relmark.errors import InvalidInputError
from relmark.program import (
    DEFAULT_PLAYBOOK,
    CustomerStates,
    ResponseBeliefs,
    plan_contacts,
    select_contacts,
)

PRIORS = {
    "personalised_email": 0.06,
    "loyalty_reward": 0.10,
    "personal_call": 0.20,
    "winback_offer": 0.08,
    "self_service_digest": 0.05,
    "service_recovery": 0.30,
}


def brute_force(value, cost, who, budget, limit):
    """Best total value over every subset, by enumeration."""
    best = 0.0
    for mask in itertools.product([0, 1], repeat=len(value)):
        chosen = np.flatnonzero(mask)
        if cost[chosen].sum() > budget + 1e-9:
            continue
        if chosen.size and np.bincount(who[chosen]).max() > limit:
            continue
        best = max(best, float(value[chosen].sum()))
    return best


candidates = st.integers(1, 9).flatmap(
    lambda n: st.tuples(
        st.lists(st.floats(-5, 50), min_size=n, max_size=n),
        st.lists(st.floats(0.1, 20), min_size=n, max_size=n),
        st.lists(st.integers(0, 3), min_size=n, max_size=n),
        st.floats(0, 60),
        st.integers(1, 3),
    )
)


@given(candidates)
def test_budget_and_limits_hold_and_bound_is_valid(case):
    """Greedy and exact plans keep the budget and limits; exact is the brute-force optimum."""
    value, cost, who, budget, limit = (
        np.array(case[0]),
        np.array(case[1]),
        np.array(case[2]),
        *case[3:],
    )
    best = brute_force(value, cost, who, budget, limit)
    for method in ("greedy", "exact"):
        chosen, bound = select_contacts(
            value, cost, who, budget=budget, max_contacts_per_customer=limit, method=method
        )
        assert cost[chosen].sum() <= budget * (1 + 1e-9)
        assert len(set(chosen.tolist())) == chosen.size
        if chosen.size:
            assert np.bincount(who[chosen]).max() <= limit
            assert (value[chosen] > 0).all()
        total = float(value[chosen].sum())
        assert total <= bound + 1e-6
        assert best <= bound + 1e-6
        if method == "exact":
            assert total == pytest.approx(best, abs=1e-6)


@given(candidates)
def test_single_contact_greedy_is_within_one_upgrade_of_the_relaxation(case):
    """With one contact per customer, greedy falls short of the LP bound by < one candidate."""
    value, cost, who, budget, _ = (
        np.array(case[0]),
        np.array(case[1]),
        np.array(case[2]),
        *case[3:],
    )
    chosen, bound = select_contacts(value, cost, who, budget=budget, max_contacts_per_customer=1)
    assert bound - float(value[chosen].sum()) <= max(float(value.max()), 0.0) + 1e-6


def test_hand_computed_multiple_choice_case():
    """One customer, three actions: the hull drops the dominated one and upgrades in order."""
    value = np.array([4.0, 5.0, 9.0])  # action 1 costs more than 0 for little more value
    cost = np.array([1.0, 3.0, 4.0])
    who = np.zeros(3, dtype=int)
    assert select_contacts(value, cost, who, budget=3.5)[0].tolist() == [0]
    assert select_contacts(value, cost, who, budget=4.0)[0].tolist() == [2]
    assert select_contacts(value, cost, who, budget=0.5)[0].tolist() == []


def test_bad_parameters_are_named():
    """A negative budget, a zero limit and a free contact are refused by name."""
    with pytest.raises(InvalidInputError, match="'budget'"):
        select_contacts([1.0], [1.0], [0], budget=-1)
    with pytest.raises(InvalidInputError, match="'max_contacts_per_customer'"):
        select_contacts([1.0], [1.0], [0], budget=1, max_contacts_per_customer=0)
    with pytest.raises(InvalidInputError, match="'cost'"):
        select_contacts([1.0], [0.0], [0], budget=1)


def _states(n, seed):
    rng = np.random.default_rng(seed)
    states = CustomerStates.from_columns(
        [f"c{i}" for i in range(n)],
        clv_tier=rng.choice(["low", "medium", "high"], n),
        probability_alive=rng.uniform(size=n),
        segment=rng.choice(["Champions", "Loyal", "At Risk"], n),
        relationship=rng.choice(["reactive", "proactive"], n),
        open_complaint=rng.random(n) < 0.05,
    )
    return states, rng.gamma(2.0, 100.0, n)


def test_plan_respects_budget_limit_and_explains_each_row():
    """The plan spends at most the budget, one action per customer, each with a reason."""
    states, stake = _states(3000, 3)
    beliefs = ResponseBeliefs.from_priors(PRIORS, control=0.04)
    plan = plan_contacts(states, DEFAULT_PLAYBOOK, beliefs, stake, budget=400.0)
    assert plan.spent <= 400.0 + 1e-9
    assert len(set(plan.customer_id.tolist())) == len(plan)
    assert (plan.expected_value > 0).all()
    assert plan.expected_total <= plan.upper_bound + 1e-6
    assert plan.upper_bound - plan.expected_total < plan.expected_value.max()
    assert all("uplift" in r and "at stake" in r for r in plan.reason.tolist())
    np.testing.assert_allclose(
        plan.expected_value, plan.uplift * plan.value_at_stake - plan.cost, rtol=1e-12
    )


def test_plan_is_deterministic_and_thompson_is_seeded():
    """Equal inputs give equal plans; Thompson plans repeat with the seed and differ across seeds."""
    states, stake = _states(500, 4)
    beliefs = ResponseBeliefs.from_priors(PRIORS, control=0.04, strength=5)
    a = plan_contacts(states, DEFAULT_PLAYBOOK, beliefs, stake, budget=50.0)
    b = plan_contacts(states, DEFAULT_PLAYBOOK, beliefs, stake, budget=50.0)
    assert a.customer_id.tolist() == b.customer_id.tolist()
    t1 = plan_contacts(states, DEFAULT_PLAYBOOK, beliefs, stake, budget=50.0, thompson_seed=1)
    t2 = plan_contacts(states, DEFAULT_PLAYBOOK, beliefs, stake, budget=50.0, thompson_seed=1)
    t3 = plan_contacts(states, DEFAULT_PLAYBOOK, beliefs, stake, budget=50.0, thompson_seed=2)
    assert t1.customer_id.tolist() == t2.customer_id.tolist()
    assert t1.uplift.tolist() != t3.uplift.tolist()


def test_plan_rejects_bad_value_at_stake():
    """A value at stake of the wrong length is refused."""
    states, stake = _states(10, 5)
    beliefs = ResponseBeliefs.from_priors(PRIORS, control=0.04)
    with pytest.raises(InvalidInputError, match="'value_at_stake'"):
        plan_contacts(states, DEFAULT_PLAYBOOK, beliefs, stake[:5], budget=10.0)


def test_plan_to_frame_has_one_row_per_contact():
    """The contact list converts to a pandas frame with its reasons."""
    states, stake = _states(200, 6)
    beliefs = ResponseBeliefs.from_priors(PRIORS, control=0.04)
    plan = plan_contacts(states, DEFAULT_PLAYBOOK, beliefs, stake, budget=20.0)
    frame = plan.to_frame("pandas")
    assert len(frame) == len(plan)
    assert list(frame.columns)[:3] == ["customer_id", "state", "action"]
