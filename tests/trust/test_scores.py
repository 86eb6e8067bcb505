"""Construct scores: reverse keying, the missing-item policy, range errors, indices and invariances."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from relmark.errors import InvalidInputError
from relmark.trust import (
    Construct,
    Instrument,
    Item,
    MissingItemPolicy,
    MissingStrategy,
    default_kmv_instrument,
    keyed_responses,
    relationship_quality_instrument,
    reverse_key,
    score_constructs,
)

SMALL = Instrument(
    name="small",
    constructs=[
        Construct(
            name="trust",
            items=[
                Item(code="T1", text="t1"),
                Item(code="T2", text="t2"),
                Item(code="T3", text="t3"),
                Item(code="T4", text="t4 (reversed)", reverse_keyed=True),
            ],
        ),
        Construct(
            name="commitment",
            items=[
                Item(code="C1", text="c1", scale_min=0, scale_max=10),
                Item(code="C2", text="c2", scale_min=0, scale_max=10),
            ],
        ),
    ],
)


@given(
    st.lists(st.floats(-50, 50), min_size=1, max_size=20),
    st.floats(-50, 0),
    st.floats(1, 50),
)
def test_reverse_key_is_an_involution(values, lo, width):
    """Reverse keying twice gives the answers back and maps the scale onto itself."""
    hi = lo + width
    x = np.clip(np.array(values), lo, hi)
    once = reverse_key(x, lo, hi)
    np.testing.assert_allclose(reverse_key(once, lo, hi), x, atol=1e-9)
    assert (once >= lo - 1e-9).all()
    assert (once <= hi + 1e-9).all()


def test_scores_hand_computed():
    """Trust (1-7, T4 reversed) and commitment (0-10) scores and indices equal hand computation."""
    answers = {"T1": [7, 4], "T2": [6, 4], "T3": [5, 4], "T4": [1, 4], "C1": [10, 0], "C2": [5, 0]}
    s = score_constructs(SMALL, answers, respondent_id=["ann", "bob"])
    # ann: trust = (7 + 6 + 5 + (7 + 1 - 1)) / 4 = 6.25; commitment = 7.5
    np.testing.assert_allclose(s.score("trust"), [6.25, 4.0])
    np.testing.assert_allclose(s.score("commitment"), [7.5, 0.0])
    np.testing.assert_allclose(s.index("trust"), [100 * 5.25 / 6, 50.0])
    np.testing.assert_allclose(s.index("commitment"), [75.0, 0.0])
    assert s.respondent_id.tolist() == ["ann", "bob"]


def test_array_and_mapping_inputs_agree():
    """A respondents × items array with permuted item_codes scores like the mapping."""
    rng = np.random.default_rng(1)
    codes = list(SMALL.item_codes)
    data = {c: rng.integers(1, 8, 20).astype(float) for c in codes[:4]}
    data |= {c: rng.integers(0, 11, 20).astype(float) for c in codes[4:]}
    permuted = codes[::-1]
    matrix = np.column_stack([data[c] for c in permuted])
    a = score_constructs(SMALL, data)
    b = score_constructs(SMALL, matrix, item_codes=permuted)
    assert a == b


def test_prorate_policy_and_minimum():
    """Under the default half rule 2 of 4 answered items give their mean; 1 of 4 gives NaN."""
    answers = {
        "T1": [6, 6],
        "T2": [4, np.nan],
        "T3": [np.nan, np.nan],
        "T4": [np.nan, np.nan],
        "C1": [1, 1],
        "C2": [1, 1],
    }
    s = score_constructs(SMALL, answers)
    assert s.score("trust")[0] == 5.0
    assert math.isnan(s.score("trust")[1])
    assert s.answered[:, 0].tolist() == [2, 1]
    assert s.required.tolist() == [2, 1]
    assert s.policy == MissingItemPolicy()
    assert s.missing_scores() == {"trust": 1, "commitment": 0}


def test_drop_policy_needs_every_item():
    """Under DROP any unanswered item leaves the score missing; the policy is recorded."""
    answers = {"T1": [6], "T2": [4], "T3": [5], "T4": [np.nan], "C1": [1], "C2": [1]}
    policy = MissingItemPolicy(strategy="drop")
    s = score_constructs(SMALL, answers, policy=policy)
    assert math.isnan(s.score("trust")[0])
    assert s.policy.strategy is MissingStrategy.DROP
    assert s.required.tolist() == [4, 2]


def test_min_answered_share_must_be_a_share():
    """A minimum share outside (0, 1] is refused."""
    with pytest.raises(InvalidInputError, match="'min_answered'"):
        MissingItemPolicy(min_answered=0)


def test_out_of_range_names_respondent_and_item():
    """An answer off the scale raises an error naming the respondent id and the item code."""
    answers = {"T1": [6, 9], "T2": [4, 4], "T3": [5, 5], "T4": [1, 1], "C1": [1, 1], "C2": [1, 1]}
    with pytest.raises(InvalidInputError, match=r"Item 'T1'.*\[1, 7\].*'bob'.*\[9.0\]"):
        score_constructs(SMALL, answers, respondent_id=["ann", "bob"])


@pytest.mark.parametrize(
    ("responses", "kwargs", "match"),
    [
        ({"T1": [1]}, {}, "lack item column"),
        ({**{c: [1] for c in SMALL.item_codes}, "X": [1]}, {}, "does not define"),
        (np.ones((2, 3)), {}, "3 columns but 6 item codes"),
        (np.ones((2, 6)), {"item_codes": ["T1"] * 6}, "permutation"),
        (np.ones((2, 6)), {"respondent_id": [1, 1]}, "unique"),
        (np.ones(6), {}, "two-dimensional"),
    ],
)
def test_bad_responses_are_refused(responses, kwargs, match):
    """Missing, unknown or misnamed columns and duplicated ids raise InvalidInputError."""
    with pytest.raises(InvalidInputError, match=match):
        score_constructs(SMALL, responses, **kwargs)


answers_strategy = st.lists(
    st.lists(st.one_of(st.integers(1, 7).map(float), st.just(math.nan)), min_size=4, max_size=4),
    min_size=1,
    max_size=15,
)


@given(answers_strategy, st.randoms(use_true_random=False))
def test_indices_bounded_and_order_invariant(rows, rnd):
    """Indices lie in [0, 100] (or NaN), and permuting respondents permutes their scores."""
    inst = Instrument(name="t", constructs=[SMALL.constructs[0]])
    matrix = np.array(rows)
    ids = np.arange(len(rows))
    s = score_constructs(inst, matrix, respondent_id=ids)
    index = s.index("trust")
    finite = index[~np.isnan(index)]
    assert ((finite >= 0) & (finite <= 100)).all()
    order = list(range(len(rows)))
    rnd.shuffle(order)
    shuffled = score_constructs(inst, matrix[order], respondent_id=ids[order])
    np.testing.assert_array_equal(shuffled.index("trust"), index[order])


def test_relationship_quality_index():
    """Relationship quality is the mean of the trust, commitment and satisfaction indices."""
    rq = relationship_quality_instrument()
    answers = {c: [7.0, 4.0] for c in rq.item_codes}
    for code in (
        "TRU4",
        "COM4",
        "SAT3",
    ):  # reverse-keyed: 1 means full agreement with the construct
        answers[code] = [1.0, 4.0]
    s = score_constructs(rq, answers)
    np.testing.assert_allclose(s.relationship_quality_index(), [100.0, 50.0])
    kmv_scores = score_constructs(
        default_kmv_instrument(), {c: [4.0] for c in default_kmv_instrument().item_codes}
    )
    with pytest.raises(InvalidInputError, match="'satisfaction'"):
        kmv_scores.relationship_quality_index()


def test_item_responses_columns_of_unknown_code_is_invalid_input():
    """Asking ItemResponses for an item it does not hold raises InvalidInputError naming it."""
    kmv = default_kmv_instrument()
    keyed = keyed_responses(kmv, {code: [4.0] for code in kmv.item_codes})
    with pytest.raises(InvalidInputError, match="'nope'"):
        keyed.columns(["nope"])
