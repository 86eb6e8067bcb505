"""Actions, states and playbooks: validation, candidates and the lint."""

from __future__ import annotations

import numpy as np
import pytest

from relmark.domain import Channel
from relmark.errors import InvalidInputError
from relmark.io import from_json, to_json
from relmark.program import (
    DEFAULT_PLAYBOOK,
    Action,
    CustomerStates,
    Depth,
    Playbook,
    Rule,
    StateSpace,
    activity_bands,
)

EMAIL = Action(name="email", channel=Channel.EMAIL, cost=0.1, depth=Depth.CUSTOMISE)
CALL = Action(name="call", channel=Channel.PHONE, cost=9.0, depth=Depth.CONNECT)
GIFT = Action(
    name="gift",
    channel=Channel.MAIL,
    cost=3.0,
    depth=Depth.REWARD,
    eligible_lifecycle=("retention", "loyalty"),
)
SMALL = StateSpace(
    clv_tier=("low", "high"),
    activity=("active",),
    segment=("A",),
    lifecycle=("conversion", "retention"),
    complaint=("none",),
    relationship=("basic",),
)


def test_action_rejects_free_or_negative_cost_naming_the_field():
    """A cost <= 0 is refused with a message naming the field and the action."""
    with pytest.raises(InvalidInputError, match=r"'cost' field of Action 'x'"):
        Action(name="x", channel=Channel.EMAIL, cost=0.0, depth=Depth.CUSTOMISE)


def test_rule_must_name_known_actions():
    """A rule naming an action the playbook lacks is refused, listing the known ones."""
    with pytest.raises(InvalidInputError, match=r"unknown action\(s\) \['fax'\]"):
        Playbook(actions=(EMAIL,), rules=(Rule(name="r", actions=("fax",), source="s"),))


def test_lint_finds_uncovered_conflicting_and_unused():
    """Lint reports a state without rule, a state given two depths and a rule that never fires."""
    book = Playbook(
        actions=(EMAIL, CALL),
        rules=(
            Rule(name="low_email", actions=("email",), source="s", clv_tier=("low",)),
            Rule(name="conv_call", actions=("call",), source="s", lifecycle=("conversion",)),
            Rule(name="never", actions=("email",), source="s", segment=("B",)),
        ),
    )
    lint = book.lint(SMALL)
    assert lint.states == 4
    # high tier in retention: no rule.
    assert lint.uncovered == (("high", "active", "A", "retention", "none", "basic"),)
    # low tier in conversion: customise and connect at once.
    assert [c.state[0] for c in lint.conflicts] == ["low"]
    assert lint.conflicts[0].depths == ("connect", "customise")
    assert lint.unused_rules == ("never",)
    assert lint.unknown_values == (("never", "segment", "B"),)
    assert not lint.is_clean


def test_lint_counts_ineligible_only_states_as_uncovered():
    """A state whose only proposed action it is not eligible for gets no action."""
    book = Playbook(actions=(GIFT,), rules=(Rule(name="gift_all", actions=("gift",), source="s"),))
    lint = book.lint(SMALL)
    assert {s[3] for s in lint.uncovered} == {"conversion"}
    assert len(lint.uncovered) == 2


def test_default_playbook_is_clean_and_every_rule_cites_a_source():
    """The default playbook covers every default state without conflicts and cites sources."""
    assert DEFAULT_PLAYBOOK.lint().is_clean
    assert all(len(rule.source) > 20 for rule in DEFAULT_PLAYBOOK.rules)
    depths = {a.depth for a in DEFAULT_PLAYBOOK.actions}
    assert {Depth.CUSTOMISE, Depth.REWARD, Depth.CONNECT, Depth.RECOVER} <= depths


def test_candidates_match_rules_and_eligibility():
    """Candidates are the union of matching rules' actions, filtered by lifecycle eligibility."""
    book = Playbook(
        actions=(EMAIL, GIFT),
        rules=(
            Rule(name="all_email", actions=("email",), source="s"),
            Rule(name="high_gift", actions=("gift",), source="s", clv_tier=("high",)),
        ),
    )
    states = CustomerStates.from_columns(
        ["a", "b", "c"],
        clv_tier=["high", "high", "low"],
        lifecycle=["retention", "conversion", "retention"],
    )
    assert book.candidates(states).tolist() == [[True, True], [True, False], [True, False]]


def test_states_reject_duplicates_and_wrong_lengths():
    """Duplicate ids and columns of the wrong length are refused, naming the column."""
    with pytest.raises(InvalidInputError, match="duplicated"):
        CustomerStates.from_columns(["a", "a"])
    with pytest.raises(InvalidInputError, match="'segment' column"):
        CustomerStates.from_columns(["a", "b"], segment=["x"])


def test_state_column_joins_dimensions():
    """A 'a|b' column joins the two dimensions with '|'."""
    states = CustomerStates.from_columns(["a"], clv_tier=["high"], probability_alive=[0.3])
    assert states.column("clv_tier|activity").tolist() == ["high|at_risk"]
    with pytest.raises(InvalidInputError, match="Unknown state dimension"):
        states.column("colour")


def test_activity_bands_edges_and_errors():
    """Cuts are inclusive at the top band; probabilities outside [0, 1] are refused."""
    assert activity_bands([0.2, 0.5, 0.19999]).tolist() == ["at_risk", "active", "lapsed"]
    with pytest.raises(InvalidInputError, match=r"rows \[1\]"):
        activity_bands([0.5, np.nan])


def test_playbook_json_round_trip():
    """The default playbook survives relmark.io exactly."""
    assert from_json(to_json(DEFAULT_PLAYBOOK), Playbook) == DEFAULT_PLAYBOOK


def test_states_from_a_score_table():
    """from_scores reads clv_tier, probability_alive and segment; missing columns get defaults."""
    from relmark.scoring import ColumnInfo, ColumnKind, ScoreTable

    table = ScoreTable.from_columns(
        ["a", "b"],
        {"clv_tier": np.array(["high", "low"]), "probability_alive": [0.9, 0.1]},
        {
            "clv_tier": ColumnInfo(description="Tier.", kind=ColumnKind.STRING),
            "probability_alive": ColumnInfo(description="P(alive).", kind=ColumnKind.FLOAT),
        },
    )
    states = CustomerStates.from_scores(table, relationship="proactive")
    assert states.key(0) == "high|active|Others|retention|none|proactive"
    assert states.key(1) == "low|lapsed|Others|retention|none|proactive"
