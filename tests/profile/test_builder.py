"""Tests for relmark.profile.builder: observation, consent, questions, erasure, JSON."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from relmark.domain import Channel, Customer, CustomerId
from relmark.errors import InvalidInputError, InvalidPayloadError
from relmark.io import from_json, to_json
from relmark.profile import (
    DEFAULT_SCORE_FIELDS,
    Catalogue,
    CatalogueOrderRanker,
    ConsentRequiredError,
    FieldSpec,
    Profile,
    ProfileBuilder,
    RankedQuestion,
    ValueSource,
)

T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
D = ValueSource.DECLARED


@pytest.fixture
def builder(fields: list[FieldSpec]) -> ProfileBuilder:
    return ProfileBuilder(catalogue=fields, ranker=CatalogueOrderRanker())


def names(specs: Sequence[FieldSpec]) -> list[str]:
    return [s.name for s in specs]


def test_observe_rejects_unknown_fields_and_wrong_types(builder: ProfileBuilder) -> None:
    """An unknown field or a value of the wrong type raises, naming the field."""
    p = builder.new("c", opened_at=T0)
    with pytest.raises(InvalidInputError, match="Unknown field 'shoe_size'"):
        builder.observe(p, "shoe_size", 42, source=D, at=T0)
    with pytest.raises(
        InvalidInputError, match=r"'visits' expects a value of type int.*bool"
    ) as info:
        builder.observe(p, "visits", True, source=D, at=T0)
    assert "True" not in str(info.value)  # values are personal data: never in messages
    with pytest.raises(InvalidInputError, match="'at'"):
        builder.observe(p, "name", "Ada", source=D, at=dt.datetime(2024, 1, 1))  # noqa: DTZ001
    with pytest.raises(InvalidInputError, match="'source'"):
        builder.observe(p, "name", "Ada", source="gossip", at=T0)
    assert builder.observe(p, "name", "Ada", source="declared", at=T0).value("name") == "Ada"


def test_consent_fields_need_current_consent(builder: ProfileBuilder) -> None:
    """A consent-based field is stored only while consent for its purpose is granted."""
    p = builder.new("c", opened_at=T0)
    with pytest.raises(ConsentRequiredError, match=r"'likes_jazz'.*'personalisation'"):
        builder.observe(p, "likes_jazz", True, source=D, at=T0)
    p = builder.grant_consent(p, "personalisation", at=T0, channel=Channel.WEB)
    p = builder.observe(p, "likes_jazz", True, source=D, at=T0 + DAY)
    assert p.history("likes_jazz")[0].provenance.consent == ("personalisation",)
    p = builder.withdraw_consent(p, "personalisation", at=T0 + 2 * DAY)
    with pytest.raises(ConsentRequiredError):
        builder.observe(p, "likes_jazz", False, source=D, at=T0 + 3 * DAY)
    assert p.value("likes_jazz") is True  # withdrawal does not delete


def test_objection_blocks_legitimate_interest_fields(builder: ProfileBuilder) -> None:
    """After an objection to 'analytics', the derived-by-legitimate-interest field is refused."""
    p = builder.new("c", opened_at=T0)
    p = builder.observe(p, "visits", 2, source=ValueSource.DERIVED, at=T0)
    p = builder.object_to(p, "analytics", at=T0 + DAY)
    with pytest.raises(ConsentRequiredError, match="objected"):
        builder.observe(p, "visits", 3, source=ValueSource.DERIVED, at=T0 + 2 * DAY)
    p = builder.grant_consent(p, "analytics", at=T0 + 3 * DAY)
    assert builder.observe(p, "visits", 3, source=D, at=T0 + 4 * DAY).value("visits") == 3


def test_observe_many_is_all_or_nothing(builder: ProfileBuilder) -> None:
    """One bad value in a batch stores nothing; a good batch shares one provenance."""
    p = builder.new("c", opened_at=T0)
    with pytest.raises(InvalidInputError, match="'visits'"):
        builder.observe_many(p, {"name": "Ada", "visits": "many"}, source=D, at=T0)
    assert p.observations == ()
    q = builder.observe_many(
        p,
        [("name", "Ada"), ("city", "Bonn")],
        source=D,
        at=T0,
        channel=Channel.STORE,
        collector="clerk 7",
    )
    first, second = q.current("name"), q.current("city")
    assert first is not None
    assert second is not None
    assert first.provenance == second.provenance
    assert first.provenance.channel is Channel.STORE
    assert first.provenance.collector == "clerk 7"
    assert (first.sequence, second.sequence) == (0, 1)


def test_new_from_customer_record_fills_identification(fields: list[FieldSpec]) -> None:
    """A Customer record's name, e-mail and country become declared stage-1 values."""
    b = ProfileBuilder()
    ada = Customer(
        customer_id=CustomerId("c-1"),
        opened_at=T0,
        name="Ada",
        email="ada@example.org",
        country="DE",
    )
    p = b.new(ada)
    assert p.customer_id == "c-1"
    assert p.opened_at == T0
    assert (p.value("full_name"), p.value("email"), p.value("country")) == (
        "Ada",
        "ada@example.org",
        "DE",
    )
    current = p.current("email")
    assert current is not None
    assert current.provenance.collector == "account opening"
    assert int(p.stage) == 2
    assert ProfileBuilder(catalogue=fields).new(ada).observations == ()


def test_next_questions_respects_freshness_stage_dependencies_and_budget(
    builder: ProfileBuilder,
) -> None:
    """Questions follow stage gating, consent, dependencies, freshness and the budget."""
    p = builder.new("c", opened_at=T0)
    assert names(builder.next_questions(p, budget=5, now=T0)) == ["name", "city"]
    assert names(builder.next_questions(p, budget=1, now=T0)) == ["name"]
    assert builder.next_questions(p, budget=0, now=T0) == []
    p = builder.observe_many(p, {"name": "Ada", "city": "Bonn"}, source=D, at=T0)
    assert builder.next_questions(p, budget=5, now=T0 + DAY) == []  # stage 2 is derived
    assert names(builder.next_questions(p, budget=5, now=T0 + 30 * DAY)) == ["city"]  # stale
    p = builder.observe(p, "visits", 4, source=ValueSource.DERIVED, at=T0)
    assert builder.next_questions(p, budget=5, now=T0 + DAY) == []  # no consent yet
    p = builder.grant_consent(p, "personalisation", at=T0)
    assert names(builder.next_questions(p, budget=5, now=T0 + DAY)) == ["likes_jazz"]
    p = builder.observe(p, "likes_jazz", True, source=D, at=T0 + DAY)
    assert names(builder.next_questions(p, budget=5, now=T0 + 2 * DAY)) == ["jazz_artist"]
    assert names(builder.next_questions(p, budget=5, now=T0 + 12 * DAY)) == [
        "likes_jazz",
        "jazz_artist",
    ]
    with pytest.raises(InvalidInputError, match="'budget'"):
        builder.next_questions(p, budget=-1, now=T0)
    with pytest.raises(InvalidInputError, match="'now'"):
        builder.next_questions(p, budget=1, now=dt.datetime(2024, 1, 1))  # noqa: DTZ001


def test_stage_gating_can_be_switched_off(fields: list[FieldSpec]) -> None:
    """With gate_stages=False a consented stage-3 field may be asked at stage 1."""
    gated = ProfileBuilder(catalogue=fields, ranker=CatalogueOrderRanker())
    open_ = attrs.evolve(gated, gate_stages=False)
    p = gated.grant_consent(gated.new("c", opened_at=T0), "personalisation", at=T0)
    assert "likes_jazz" not in names(gated.next_questions(p, budget=9, now=T0))
    assert names(open_.next_questions(p, budget=9, now=T0)) == ["name", "city", "likes_jazz"]


def test_channel_filter(fields: list[FieldSpec]) -> None:
    """A field restricted to some channels is not asked through others."""
    restricted = [
        attrs.evolve(f, channels=[Channel.STORE]) if f.name == "city" else f for f in fields
    ]
    b = ProfileBuilder(catalogue=restricted, ranker=CatalogueOrderRanker())
    p = b.new("c", opened_at=T0)
    assert names(b.next_questions(p, budget=5, now=T0, channel=Channel.EMAIL)) == ["name"]
    assert names(b.next_questions(p, budget=5, now=T0, channel=Channel.STORE)) == ["name", "city"]
    assert names(b.next_questions(p, budget=5, now=T0)) == ["name", "city"]


@attrs.frozen
class RogueRanker:
    """A plug-in that invents fields, repeats one and reverses the order."""

    extra: FieldSpec

    def rank(
        self, profile: Profile, candidates: Sequence[FieldSpec], *, now: dt.datetime
    ) -> list[RankedQuestion]:
        del profile, now
        out = [RankedQuestion(field=self.extra, score=9.0, reason="invented")]
        out += [RankedQuestion(field=f, score=1.0, reason="") for f in reversed(candidates)]
        return [*out, *out]


def test_a_plugin_ranker_cannot_break_the_guarantees(fields: list[FieldSpec]) -> None:
    """Invented or repeated fields from a ranker are dropped; its order is kept."""
    income = next(f for f in fields if f.name == "income")
    b = ProfileBuilder(catalogue=fields, ranker=RogueRanker(income))
    p = b.new("c", opened_at=T0)
    assert names(b.next_questions(p, budget=5, now=T0)) == ["city", "name"]
    with pytest.raises(InvalidInputError, match="'ranker'"):
        ProfileBuilder(ranker=object())  # type: ignore[arg-type]


def test_erase_removes_history_and_keeps_an_audit_record(builder: ProfileBuilder) -> None:
    """Erasure removes every value of the fields and records fields and counts, not values."""
    p = builder.new("c", opened_at=T0)
    p = builder.grant_consent(p, "research", at=T0)
    p = builder.observe(p, "income", 123_456.0, source=D, at=T0)
    p = builder.observe(p, "income", 654_321.0, source=D, at=T0 + DAY)
    p = builder.observe(p, "name", "Ada", source=D, at=T0)
    erased = builder.erase(
        p, ["income"], at=T0 + 2 * DAY, requested_by="customer", reason="Art. 17"
    )
    assert erased.value("income") is None
    assert erased.history("income") == ()
    assert erased.value("name") == "Ada"
    (record,) = erased.erasures
    assert (record.fields, record.values_erased, record.reason) == (("income",), 2, "Art. 17")
    text = to_json(erased)
    assert "123456" not in text
    assert "654321" not in text
    everything = builder.erase(erased, at=T0 + 3 * DAY)
    assert everything.observations == ()
    assert everything.consent_log == p.consent_log
    with pytest.raises(InvalidInputError, match="Unknown field 'nope'"):
        builder.erase(p, ["nope"], at=T0)


def test_profile_json_carries_provenance_and_round_trips(builder: ProfileBuilder) -> None:
    """relmark.io writes full provenance without the catalogue and reads back an equal profile."""
    p = builder.new("c", opened_at=T0)
    p = builder.grant_consent(p, "personalisation", at=T0, note="web form v3")
    p = builder.observe(p, "name", "Ada", source=D, at=T0, channel=Channel.WEB, collector="signup")
    p = builder.observe(p, "name", "Ada L.", source=D, at=T0 + DAY)
    p = builder.observe(p, "likes_jazz", True, source=D, at=T0 + DAY)
    p = builder.erase(p, ["city"], at=T0 + 2 * DAY)
    text = to_json(p)
    payload = json.loads(text)
    assert "catalogue" not in payload
    first = payload["observations"][0]
    assert first == {
        "field": "name",
        "value": "Ada",
        "provenance": {
            "source": "declared",
            "collected_at": "2024-01-01T00:00:00+00:00",
            "collector": "signup",
            "channel": "web",
            "consent": ["personalisation"],
        },
        "sequence": 1,  # the grant was recorded first (sequence 0)
    }
    back = from_json(text, Profile, catalogue=builder.catalogue)
    assert back == p
    assert back.value("name") == "Ada L."
    payload["observations"][1]["value"] = 7
    with pytest.raises(InvalidPayloadError, match=r"\$\.observations\[1\]|Observation 1"):
        from_json(json.dumps(payload), Profile, catalogue=builder.catalogue)


# --------------------------------------------------------------------- properties

FIELD_VALUES = {
    "name": st.text(max_size=5),
    "city": st.text(max_size=5),
    "visits": st.integers(-5, 5),
    "likes_jazz": st.booleans(),
    "jazz_artist": st.text(max_size=5),
    "income": st.floats(allow_nan=False, allow_infinity=False),
}
PURPOSES = ("account", "analytics", "personalisation", "research")


@st.composite
def observations(draw: st.DrawFn) -> list[tuple[str, object, ValueSource, int]]:
    steps = draw(st.lists(st.sampled_from(sorted(FIELD_VALUES)), max_size=25))
    return [
        (
            f,
            draw(FIELD_VALUES[f]),
            draw(st.sampled_from(list(ValueSource))),
            draw(st.integers(0, 40)),
        )
        for f in steps
    ]


def consenting_builder(catalogue: Catalogue) -> tuple[ProfileBuilder, Profile]:
    b = ProfileBuilder(catalogue=catalogue)
    p = b.new("c", opened_at=T0)
    for purpose in ("personalisation", "research"):
        p = b.grant_consent(p, purpose, at=T0)
    return b, p


def apply(
    b: ProfileBuilder, p: Profile, steps: list[tuple[str, object, ValueSource, int]]
) -> Profile:
    for field, value, source, day in steps:
        p = b.observe(p, field, value, source=source, at=T0 + day * DAY)
    return p


@given(steps=observations())
def test_property_history_is_never_lost(
    small_catalogue: Catalogue, steps: list[tuple[str, object, ValueSource, int]]
) -> None:
    """Every observed value is in its field's history with its provenance, oldest first."""
    b, p = consenting_builder(small_catalogue)
    p = apply(b, p, steps)
    for field in FIELD_VALUES:
        history = p.history(field)
        expected = [(v, s, T0 + d * DAY) for f, v, s, d in steps if f == field]
        got = [(h.value, h.provenance.source, h.provenance.collected_at) for h in history]
        assert sorted(got, key=repr) == sorted(expected, key=repr)
        times = [h.provenance.collected_at for h in history]
        assert times == sorted(times)
        if expected:
            assert p.current(field) in history
        else:
            assert p.value(field) is None


@given(
    steps=observations(),
    events=st.lists(
        st.tuples(
            st.sampled_from(PURPOSES),
            st.sampled_from(["grant", "withdraw", "object"]),
            st.integers(0, 40),
        ),
        max_size=8,
    ),
    now_day=st.integers(0, 60),
    budget=st.integers(0, 6),
    gate=st.booleans(),
)
def test_property_next_questions_never_asks_what_it_must_not(
    small_catalogue: Catalogue,
    steps: list[tuple[str, object, ValueSource, int]],
    events: list[tuple[str, str, int]],
    now_day: int,
    budget: int,
    gate: bool,
) -> None:
    """No known fresh field, no field without lawful basis at now, never more than the budget."""
    b, p = consenting_builder(small_catalogue)
    b = attrs.evolve(b, gate_stages=gate)
    p = apply(b, p, steps)
    for purpose, action, day in events:
        method = {"grant": b.grant_consent, "withdraw": b.withdraw_consent, "object": b.object_to}
        p = method[action](p, purpose, at=T0 + day * DAY)
    now = T0 + now_day * DAY
    asked = b.next_questions(p, budget=budget, now=now)
    assert len(asked) <= budget
    assert len({f.name for f in asked}) == len(asked)
    for spec in asked:
        assert not p.is_fresh(spec.name, now)
        assert p.basis_available(spec, now)
        assert spec.askable
        assert all(p.is_known(d) for d in spec.depends_on)
        if gate:
            assert spec.stage <= p.stage


@given(steps=observations(), erase=st.sets(st.sampled_from(sorted(FIELD_VALUES))))
def test_property_erased_values_are_unreachable(
    small_catalogue: Catalogue, steps: list[tuple[str, object, ValueSource, int]], erase: set[str]
) -> None:
    """After erasure no erased value is reachable by value, history or JSON; others survive."""
    b, p = consenting_builder(small_catalogue)
    # Tag every erased-field text value so it can be searched for in the JSON text.
    tagged = [
        (f, f"ERASED{i}" if f in erase and isinstance(v, str) else v, s, d)
        for i, (f, v, s, d) in enumerate(steps)
    ]
    p = apply(b, p, tagged)
    q = b.erase(p, sorted(erase), at=T0 + 100 * DAY)
    text = to_json(q)
    assert "ERASED" not in text
    written = {o["field"] for o in json.loads(text)["observations"]}
    for field in FIELD_VALUES:
        if field in erase:
            assert q.value(field) is None
            assert q.history(field) == ()
            assert field not in written
        else:
            assert q.history(field) == p.history(field)
    assert all(v.field not in erase for v in q.observations)
    assert q.erasures[-1].values_erased == sum(f in erase for f, *_ in steps)


def test_erase_everything_drops_values_of_fields_the_builder_does_not_know(
    fields: list[FieldSpec],
) -> None:
    """``erase(fields=None)`` erases every value held, also of a field outside the catalogue."""
    wide = ProfileBuilder(
        catalogue=[*fields, FieldSpec(name="legacy", type=str, stage=1, purpose="account")]
    )
    p = wide.observe(wide.new("c", opened_at=T0), "legacy", "SECRET", source=D, at=T0)
    p = wide.observe(p, "name", "Ada", source=D, at=T0)
    narrow = ProfileBuilder(catalogue=fields)
    gone = narrow.erase(p, at=T0 + DAY)
    assert gone.observations == ()
    (record,) = gone.erasures
    assert record.values_erased == 2
    assert "legacy" in record.fields
    assert "name" in record.fields


def test_score_fields_are_immutable() -> None:
    """The builder's score-field mapping cannot be changed, neither directly nor via the caller's dict."""
    given_map = {"clv": "clv"}
    b = ProfileBuilder(score_fields=given_map)
    given_map["clv"] = "rfm_cell"
    assert b.score_fields["clv"] == "clv"
    with pytest.raises(TypeError):
        b.score_fields["x"] = "y"  # type: ignore[index]
    with pytest.raises(TypeError):
        DEFAULT_SCORE_FIELDS["x"] = "y"  # type: ignore[index]
    with pytest.raises(InvalidInputError, match="'score_fields'"):
        ProfileBuilder(score_fields=[("clv", "clv")])  # type: ignore[arg-type]
