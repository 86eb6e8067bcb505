"""Tests for relmark.profile.ranking: hand-computed expected value of information."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from relmark.errors import InvalidInputError
from relmark.profile import (
    AnswerModel,
    CatalogueOrderRanker,
    ExpectedValueRanker,
    FieldSpec,
    LawfulBasis,
    ProfileBuilder,
    Sensitivity,
    ValueSource,
    default_answer_models,
    default_catalogue,
)

T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def fields(a_sensitivity: Sensitivity = Sensitivity.LOW) -> list[FieldSpec]:
    common: dict[str, object] = {"stage": 1, "purpose": "p", "lawful_basis": LawfulBasis.CONTRACT}
    return [
        FieldSpec(name="a", type=str, choices=("x", "y"), sensitivity=a_sensitivity, **common),  # type: ignore[arg-type]
        FieldSpec(name="b", type=str, choices=("u", "v", "w"), **common),  # type: ignore[arg-type]
        FieldSpec(name="c", type=str, **common),  # type: ignore[arg-type]
        FieldSpec(name="value", type=float, askable=False, **common),  # type: ignore[arg-type]
    ]


MODELS = {
    # mean 1.0, variance 0.5*0.25 + 0.5*0.25 = 0.25
    "a": AnswerModel(answers=("x", "y"), prior=(1, 1), effect=(1.5, 0.5)),
    # mean 0.2*2 + 0.3 + 0.5 = 1.2; variance 0.2*0.64 + 0.3*0.04 + 0.5*0.04 = 0.16
    "b": AnswerModel(answers=("u", "v", "w"), prior=(2, 3, 5), effect=(2.0, 1.0, 1.0)),
}


def test_variance_reduction_by_hand() -> None:
    """Var(E[U|A]) matches the hand computation for both models."""
    assert math.isclose(MODELS["a"].variance_reduction, 0.25)
    assert math.isclose(MODELS["b"].variance_reduction, 0.16)
    assert MODELS["b"].prior == pytest.approx((0.2, 0.3, 0.5))
    flat = AnswerModel(answers=(1, 2, 3), prior=(1, 1, 1), effect=(1.0, 1.0, 1.0))
    assert flat.variance_reduction == 0.0


def test_order_follows_information_and_flips_with_intrusiveness() -> None:
    """a (0.25) beats b (0.16); a HIGH-sensitivity a loses 0.2*0.5 and falls behind b."""
    ranker = ExpectedValueRanker(models=MODELS, penalty=0.2)
    b = ProfileBuilder(catalogue=fields(), ranker=ranker)
    p = b.new("c")
    ranked = b.rank_questions(p, budget=3, now=T0)
    assert [q.field.name for q in ranked] == ["a", "b", "c"]
    assert [q.score for q in ranked] == pytest.approx([0.25, 0.16, 0.0])
    b2 = ProfileBuilder(catalogue=fields(Sensitivity.HIGH), ranker=ranker)
    ranked2 = b2.rank_questions(b2.new("c"), budget=3, now=T0)
    assert [q.field.name for q in ranked2] == ["b", "a", "c"]
    assert [q.score for q in ranked2] == pytest.approx([0.16, 0.15, 0.0])
    assert "no answer model" in ranked2[2].reason


def test_customer_value_weights_information_against_the_penalty() -> None:
    """w = value / reference scales information; a low-value customer's sensitive a drops below c."""
    ranker = ExpectedValueRanker(
        models=MODELS, penalty=0.2, value_field="value", reference_value=100.0, min_score=-0.05
    )
    b = ProfileBuilder(catalogue=fields(Sensitivity.HIGH), ranker=ranker)
    rich = b.observe(b.new("r"), "value", 400.0, source=ValueSource.DERIVED, at=T0)
    poor = b.observe(b.new("p"), "value", 10.0, source=ValueSource.DERIVED, at=T0)
    assert ranker.customer_weight(rich) == 4.0
    rich_scores = {q.field.name: q.score for q in b.rank_questions(rich, budget=3, now=T0)}
    assert rich_scores == pytest.approx({"a": 4 * 0.25 - 0.1, "b": 4 * 0.16, "c": 0.0})
    # poor: a = 0.1*0.25 - 0.1 = -0.075 < min_score, so it is left out
    assert [q.field.name for q in b.rank_questions(poor, budget=3, now=T0)] == ["b", "c"]
    assert ranker.customer_weight(b.new("unknown")) == 1.0


def test_required_fields_come_first() -> None:
    """A required field without information value is still asked before optional ones."""
    cat = fields()
    cat[2] = FieldSpec(name="c", type=str, stage=1, purpose="p", required=True)
    b = ProfileBuilder(catalogue=cat, ranker=ExpectedValueRanker(models=MODELS))
    assert [f.name for f in b.next_questions(b.new("x"), budget=3, now=T0)] == ["c", "a", "b"]


def test_catalogue_order_ranker() -> None:
    """The static ranker asks in catalogue order."""
    b = ProfileBuilder(catalogue=fields(), ranker=CatalogueOrderRanker())
    assert [f.name for f in b.next_questions(b.new("x"), budget=3, now=T0)] == ["a", "b", "c"]


def test_from_profiles_by_hand() -> None:
    """Priors and shrunk effects estimated from four answered profiles match the formulas."""
    b = ProfileBuilder(catalogue=fields())
    data = [("x", 300.0), ("x", 100.0), ("y", 100.0), ("y", None), ("u", None)]
    profiles = []
    for i, (answer, value) in enumerate(data):
        p = b.new(i)
        p = b.observe(p, "a" if answer in "xy" else "b", answer, source=ValueSource.DECLARED, at=T0)
        if value is not None:
            p = b.observe(p, "value", value, source=ValueSource.DERIVED, at=T0)
        profiles.append(p)
    ranker = ExpectedValueRanker.from_profiles(
        profiles, catalogue=b.catalogue, value_field="value", smoothing=1.0, now=T0
    )
    assert ranker.reference_value == pytest.approx(500.0 / 3)
    model = ranker.models["a"]
    # counts x:2, y:2 -> prior (3/6, 3/6); values x: 300+100, y: 100; mean over answered: 500/3
    mean = 500.0 / 3
    assert model.prior == pytest.approx((0.5, 0.5))
    assert model.effect == pytest.approx(((400 + mean) / (3 * mean), (100 + mean) / (2 * mean)))
    assert "b" not in ranker.models  # its only answer has no value
    with pytest.raises(InvalidInputError, match="'smoothing'"):
        ExpectedValueRanker.from_profiles(profiles, catalogue=b.catalogue, smoothing=0, now=T0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"answers": (1, 2), "prior": (1,), "effect": (1, 1)}, "one 'prior'"),
        ({"answers": (1, 2), "prior": (0, 0), "effect": (1, 1)}, "'prior'"),
        ({"answers": (1, 2), "prior": (1, 1), "effect": (1, 0)}, "'effect'"),
        ({"answers": (), "prior": (), "effect": ()}, "one 'prior'"),
    ],
)
def test_answer_model_validation(kwargs: dict[str, tuple[float, ...]], match: str) -> None:
    """Bad answer models are rejected naming the bad part."""
    with pytest.raises(InvalidInputError, match=match):
        AnswerModel(**kwargs)


def test_ranker_parameter_validation() -> None:
    """Penalty, reference value and intrusiveness are validated with the message template."""
    with pytest.raises(
        InvalidInputError,
        match=r"'penalty' parameter of ExpectedValueRanker must be a float >= 0. Got -1",
    ):
        ExpectedValueRanker(penalty=-1)
    with pytest.raises(InvalidInputError, match="'reference_value'"):
        ExpectedValueRanker(reference_value=0.0)
    with pytest.raises(InvalidInputError, match=r"'intrusiveness'.*HIGH"):
        ExpectedValueRanker(intrusiveness={Sensitivity.LOW: 0.0})
    with pytest.raises(InvalidInputError, match="'models'"):
        ExpectedValueRanker(models={"a": 1})  # type: ignore[dict-item]


def test_default_models_cover_askable_default_fields() -> None:
    """Every default answer model names an askable field of the default catalogue, answers matching."""
    cat = default_catalogue()
    for name, model in default_answer_models().items():
        assert cat[name].askable
        assert cat[name].answers == model.answers


def test_from_profiles_ignores_values_without_a_lawful_basis_now() -> None:
    """Answers and customer values kept after a withdrawal or objection are not learnt from."""
    catalogue = [
        FieldSpec(
            name="a",
            type=str,
            choices=("x", "y"),
            stage=1,
            purpose="survey",
            lawful_basis=LawfulBasis.CONSENT,
        ),
        FieldSpec(
            name="value",
            type=float,
            askable=False,
            stage=1,
            purpose="analytics",
            lawful_basis=LawfulBasis.LEGITIMATE_INTEREST,
        ),
    ]
    b = ProfileBuilder(catalogue=catalogue)
    profiles = []
    for i, (answer, value) in enumerate([("x", 300.0), ("y", 100.0), ("x", 900.0), ("y", 700.0)]):
        p = b.grant_consent(b.new(i), "survey", at=T0)
        p = b.observe(p, "a", answer, source=ValueSource.DECLARED, at=T0)
        p = b.observe(p, "value", value, source=ValueSource.DERIVED, at=T0)
        profiles.append(p)
    later = T0 + dt.timedelta(days=1)
    profiles[2] = b.withdraw_consent(profiles[2], "survey", at=later)  # its answer "x" is out
    profiles[3] = b.object_to(profiles[3], "analytics", at=later)  # its value 700 is out
    ranker = ExpectedValueRanker.from_profiles(
        profiles, catalogue=b.catalogue, value_field="value", smoothing=1.0, now=later
    )
    # values used: 300, 100, 900 -> reference 1300/3; answered with a value: x:300, y:100
    assert ranker.reference_value == pytest.approx(1300.0 / 3)
    model = ranker.models["a"]
    # answers counted: x (profile 0), y (1), y (3, its answer is still lawful) -> prior (2/5, 3/5)
    assert model.prior == pytest.approx((2 / 5, 3 / 5))
    mean = 200.0
    assert model.effect == pytest.approx(((300 + mean) / (2 * mean), (100 + mean) / (2 * mean)))
    # Before the withdrawal and the objection every value counts.
    before = ExpectedValueRanker.from_profiles(
        profiles, catalogue=b.catalogue, value_field="value", smoothing=1.0, now=T0
    )
    assert before.reference_value == pytest.approx(2000.0 / 4)


def test_ranker_mappings_are_immutable_and_validated() -> None:
    """``models`` and ``intrusiveness`` are frozen copies; a non-mapping is an InvalidInputError."""
    models = dict(MODELS)
    ranker = ExpectedValueRanker(models=models)
    models.clear()
    assert set(ranker.models) == {"a", "b"}
    with pytest.raises(TypeError):
        ranker.models["c"] = MODELS["a"]  # type: ignore[index]
    with pytest.raises(TypeError):
        ranker.intrusiveness[Sensitivity.LOW] = 9.0  # type: ignore[index]
    with pytest.raises(InvalidInputError, match=r"'models'.*list"):
        ExpectedValueRanker(models=[MODELS["a"]])  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match=r"'intrusiveness'.*list"):
        ExpectedValueRanker(intrusiveness=[0.0, 0.1])  # type: ignore[arg-type]
