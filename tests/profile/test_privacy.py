"""Privacy rules of relmark.profile: recording order, erasure, id matching, masked output."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from typing import Any

import attrs
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relmark.data.summary import CustomerSummary
from relmark.errors import ConsentRequiredError, InvalidInputError, InvalidPayloadError
from relmark.io import from_json, to_json
from relmark.profile import (
    Catalogue,
    ConsentAction,
    FieldSpec,
    LawfulBasis,
    Profile,
    ProfileBuilder,
    ValueSource,
    default_catalogue,
)

T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
D = ValueSource.DECLARED


def summary(ids: list[Any]) -> CustomerSummary:
    return CustomerSummary.from_arrays(
        frequency=[2, 0], recency=[10.0, 0.0], T=[20.0, 5.0], monetary=[30.0, 0.0],
        customer_id=ids, unit="W",
    )  # fmt: skip


# --------------------------------------------------------------------- recording order


def test_grant_dated_in_the_future_does_not_renew_consent(fields: list[FieldSpec]) -> None:
    """A grant recorded after an erasure but dated later has no effect before its date."""
    b = ProfileBuilder(catalogue=fields)
    p = b.grant_consent(b.new("c", opened_at=T0), "research", at=T0)
    p = b.observe(p, "income", 50_000.0, source=D, at=T0)
    p = b.erase(p, ["income"], at=T0 + DAY)
    p = b.grant_consent(p, "research", at=T0 + 365 * DAY)  # dated a year ahead
    with pytest.raises(ConsentRequiredError, match=r"'income'.*erased"):
        b.observe(p, "income", 60_000.0, source=D, at=T0 + 2 * DAY)
    later = b.observe(p, "income", 60_000.0, source=D, at=T0 + 366 * DAY)
    assert later.value("income") == 60_000.0


def test_back_dated_erasure_follows_the_grants_recorded_before_it(
    fields: list[FieldSpec],
) -> None:
    """An erasure back-dated before an existing grant: that grant does not count as renewed."""
    b = ProfileBuilder(catalogue=fields)
    p = b.grant_consent(b.new("c", opened_at=T0), "research", at=T0 + 5 * DAY)
    p = b.observe(p, "income", 50_000.0, source=D, at=T0 + 5 * DAY)
    p = b.erase(p, ["income"], at=T0 + 3 * DAY)  # recorded now, dated before the grant
    with pytest.raises(ConsentRequiredError, match="erased"):
        b.observe(p, "income", 50_000.0, source=D, at=T0 + 6 * DAY)
    p = b.grant_consent(p, "research", at=T0 + 7 * DAY)  # renewed: recorded after the erasure
    assert b.observe(p, "income", 1.0, source=D, at=T0 + 8 * DAY).value("income") == 1.0


def test_back_dated_erasure_blocks_rederivation(fields: list[FieldSpec]) -> None:
    """A derived field erased with a back-dated erasure is not derived again by either path."""
    b = ProfileBuilder(catalogue=fields)
    p = b.grant_consent(b.new("c", opened_at=T0), "analytics", at=T0 + 5 * DAY)
    p = b.observe(p, "visits", 3, source=ValueSource.DERIVED, at=T0 + 5 * DAY)
    p = b.erase(p, ["visits"], at=T0)  # dated before the grant, recorded after it
    assert not p.may_store(b.catalogue["visits"], T0 + 9 * DAY, source=ValueSource.DERIVED)
    with pytest.raises(ConsentRequiredError):
        b.observe(p, "visits", 4, source=ValueSource.DERIVED, at=T0 + 9 * DAY)


def test_latest_recorded_restriction_wins_over_dates(fields: list[FieldSpec]) -> None:
    """A withdrawal back-dated before a grant ends it; a back-dated grant cannot undo a withdrawal."""
    b = ProfileBuilder(catalogue=fields)
    p = b.grant_consent(b.new("c"), "personalisation", at=T0 + 10 * DAY)
    p = b.withdraw_consent(p, "personalisation", at=T0 + 5 * DAY)  # recorded last, dated first
    assert not p.has_consent("personalisation", T0 + 20 * DAY)
    assert p.consent_status("personalisation", T0 + 20 * DAY) is ConsentAction.WITHDRAW
    q = b.withdraw_consent(b.new("c"), "personalisation", at=T0 + 10 * DAY)
    q = b.grant_consent(q, "personalisation", at=T0 + 5 * DAY)  # entered late, back-dated
    assert not q.has_consent("personalisation", T0 + 20 * DAY)
    assert q.has_consent("personalisation", T0 + 6 * DAY)  # before the withdrawal took effect


def test_erased_field_comes_back_only_as_a_fresh_declaration(fields: list[FieldSpec]) -> None:
    """After renewed consent, a declared value is stored; observed, derived, third-party never."""
    b = ProfileBuilder(catalogue=fields)
    p = b.observe(b.new("c", opened_at=T0), "city", "Bonn", source=D, at=T0)
    p = b.erase(p, ["city"], at=T0 + DAY)
    for source in ValueSource:
        with pytest.raises(ConsentRequiredError):
            b.observe(p, "city", "Köln", source=source, at=T0 + 2 * DAY)
    p = b.grant_consent(p, "account", at=T0 + 2 * DAY)
    for source in (ValueSource.OBSERVED, ValueSource.DERIVED, ValueSource.THIRD_PARTY):
        with pytest.raises(ConsentRequiredError, match=f"never from a {source.value} source"):
            b.observe(p, "city", "Köln", source=source, at=T0 + 3 * DAY)
    assert b.observe(p, "city", "Köln", source=D, at=T0 + 3 * DAY).value("city") == "Köln"
    # consent withdrawn again after renewing it: the renewal no longer holds
    gone = b.withdraw_consent(p, "account", at=T0 + 3 * DAY)
    with pytest.raises(ConsentRequiredError):
        b.observe(gone, "city", "Köln", source=D, at=T0 + 4 * DAY)


_ACTIONS = st.lists(
    st.tuples(
        st.sampled_from(["grant", "withdraw", "object", "erase", "declare", "derive"]),
        st.sampled_from(["research", "analytics"]),
        st.integers(-30, 30),
    ),
    max_size=14,
)
_FIELD = {"research": "income", "analytics": "visits"}


@settings(max_examples=150, deadline=None)
@given(actions=_ACTIONS)
def test_no_value_outlives_its_erasure_whatever_the_dates(
    small_catalogue: Catalogue, actions: list[tuple[str, str, int]]
) -> None:
    """Any sequence of consent events, erasures and writes with arbitrary dates keeps the rule.

    Checked on the result, independently of how ``may_store`` decides: every value recorded
    after an erasure of its field was declared, and a grant for its purpose was recorded between
    the erasure and the value, dated no earlier than the erasure and no later than the value.
    """
    b = ProfileBuilder(catalogue=small_catalogue)
    p = b.new("c", opened_at=T0)
    for action, purpose, days in actions:
        at = T0 + days * DAY
        field = _FIELD[purpose]
        if action in ("grant", "withdraw", "object"):
            method = {"grant": b.grant_consent, "withdraw": b.withdraw_consent}.get(
                action, b.object_to
            )
            p = method(p, purpose, at=at)
        elif action == "erase":
            p = b.erase(p, [field], at=at)
        else:
            value: Any = 7 if field == "visits" else 7.0
            source = D if action == "declare" else ValueSource.DERIVED
            with contextlib.suppress(ConsentRequiredError):
                p = b.observe(p, field, value, source=source, at=at)
    for held in p.observations:
        purpose = b.catalogue[held.field].purpose
        for erasure in p.erasures:
            if held.field not in erasure.fields or erasure.sequence > held.sequence:
                continue
            assert held.provenance.source is D
            assert any(
                e.purpose == purpose
                and e.action is ConsentAction.GRANT
                and erasure.sequence < e.sequence < held.sequence
                and erasure.at <= e.at <= held.provenance.collected_at
                for e in p.consent_log
            )
    assert from_json(to_json(p), Profile, catalogue=b.catalogue) == p


# --------------------------------------------------------------------- bulk id matching


@pytest.mark.parametrize("path", ["derive", "book"])
def test_profile_id_of_another_type_than_the_summary_is_refused(path: str) -> None:
    """A profile "1" against integer summary ids (or 1 against "1") raises, never skips."""
    b = ProfileBuilder()
    for summary_ids, profile_id in (([1, 2], "1"), (["1", "2"], 1)):
        objected = b.object_to(b.new(profile_id), "analytics", at=T0)
        data = summary(summary_ids)

        def run(data: CustomerSummary = data, objected: Profile = objected) -> object:
            if path == "derive":
                return b.derive([objected], data, at=T0 + DAY)
            return b.derive_book(data, at=T0 + DAY, profiles=[objected])

        with pytest.raises(InvalidInputError, match=r"id.*summary's customer ids"):
            run()


def test_profile_ids_match_numpy_and_python_integers() -> None:
    """A profile id given as a numpy integer matches the summary's integer id, objection applied."""
    b = ProfileBuilder()
    objected = b.object_to(b.new(np.int64(1)), "analytics", at=T0)
    assert type(objected.customer_id) is int
    book = b.derive_book(summary([1, 2]), at=T0 + DAY, profiles=[objected])
    _, present = book.column("repeat_purchases")
    assert present.tolist() == [False, True]
    (derived,) = b.derive([objected], summary([1, 2]), at=T0 + DAY)
    assert derived.value("repeat_purchases") is None


def test_profile_ids_must_be_int_or_str() -> None:
    """Ids that no summary can hold (bool, float, tuple) are refused when a profile is made."""
    b = ProfileBuilder()
    for bad in (True, 1.0, ("a", 1), None):
        with pytest.raises(InvalidInputError, match="'customer_id' of Profile"):
            b.new(bad)


# --------------------------------------------------------------------- masked output

_SECRET = st.text(alphabet="ÆØÅßÞ", min_size=6, max_size=12)


@settings(max_examples=50, deadline=None)
@given(name=_SECRET, email=_SECRET)
def test_reprs_and_messages_never_show_personal_values(name: str, email: str) -> None:
    """Profile, value and book reprs and every error message mask the customer's values."""
    b = ProfileBuilder()
    p = b.new("c1", opened_at=T0)
    p = b.observe_many(p, {"full_name": name, "email": email}, source=D, at=T0)
    texts = [repr(p), str(p), repr(p.observations), repr(p.current("email")), p._repr_html_()]
    book = b.derive_book(summary(["c1", "c2"]), at=T0 + DAY, profiles=[p])
    texts += [repr(book), repr(book.columns["average_spend"])]
    for bad_value in (email, 5):
        with pytest.raises(InvalidInputError) as info:
            b.observe(p, "household_size", bad_value, source=D, at=T0)
        texts.append(str(info.value))
    p = b.erase(p, ["email"], at=T0 + DAY)
    with pytest.raises(ConsentRequiredError) as refused:
        b.observe(p, "email", email, source=ValueSource.OBSERVED, at=T0 + 2 * DAY)
    texts.append(str(refused.value))
    for text in texts:
        assert name not in text
        assert email not in text
    assert "masked" in repr(p)
    assert "email" in repr(p.observations[0]) or "full_name" in repr(p.observations[0])


def test_default_catalogue_profile_repr_names_fields_not_values() -> None:
    """The repr lists the known fields and the stage, so it stays useful without the values."""
    b = ProfileBuilder(catalogue=default_catalogue())
    p = b.observe(b.new("c7"), "email", "ada@example.org", source=D, at=T0)
    text = repr(p)
    assert "ada@example.org" not in text
    assert "'email'" in text
    assert "customer_id='c7'" in text


@settings(max_examples=50, deadline=None)
@given(secret=_SECRET)
def test_free_text_of_provenance_consent_and_erasure_is_masked(secret: str) -> None:
    """Collector, consent note, erasure reason and requester never appear in reprs."""
    b = ProfileBuilder()
    p = b.new("c1", opened_at=T0)
    p = b.observe(p, "country", "DE", source=D, at=T0, collector=f"agent {secret}")
    p = b.grant_consent(p, "personalisation", at=T0, note=f"{secret} said yes")
    p = b.erase(p, ["email"], at=T0, requested_by=secret, reason=f"letter from {secret}")
    texts = [
        repr(p.current("country")),
        repr(p.observations[-1].provenance),
        repr(p.consent_log),
        repr(p.erasures),
        repr(p),
    ]
    for text in texts:
        assert secret not in text
    assert "masked" in repr(p.erasures[0])


def _load_error(payload: Any, cls: type) -> str:
    from relmark.errors import InvalidPayloadError
    from relmark.io import from_dict

    with pytest.raises(InvalidPayloadError) as info:
        from_dict(payload, cls, catalogue=default_catalogue())
    return str(info.value) + repr(info.value.problems)


@settings(max_examples=50, deadline=None)
@given(secret=_SECRET)
def test_load_errors_never_show_personal_values(secret: str) -> None:
    """A payload whose personal values have the wrong type or form is refused without them."""
    from relmark.domain import Customer

    customer = json.loads(
        to_json(Customer(customer_id="c1", opened_at=T0, name="A", email="a@example.org"))
    )
    b = ProfileBuilder()
    p = b.new("c1", opened_at=T0)
    p = b.observe_many(p, {"full_name": "A", "email": "a@example.org"}, source=D, at=T0)
    profile = json.loads(to_json(p))
    texts = []
    for field, bad in (
        ("name", [secret]),
        ("email", f"{secret} at example"),
        ("email", {"x": secret}),
        ("country", secret),
        ("opened_at", secret),
    ):
        texts.append(_load_error({**customer, field: bad}, Customer))
    for bad in (
        [secret],
        {"$type": "date", "value": secret},
        {"$type": "datetime", "value": secret},
    ):
        payload = json.loads(json.dumps(profile))
        payload["observations"][0]["value"] = bad
        texts.append(_load_error(payload, Profile))
    payload = json.loads(json.dumps(profile))
    payload["observations"][0]["provenance"]["collector"] = [secret]
    texts.append(_load_error(payload, Profile))
    for text in texts:
        assert secret not in text
        assert "$" in text or "full_name" in text  # the path still says where


# --------------------------------------------------------------------- loaded profiles


def _erased_then_declared(b: ProfileBuilder) -> Profile:
    p = b.observe(b.new("c", opened_at=T0), "email", "a@example.org", source=D, at=T0)
    p = b.erase(p, ["email"], at=T0 + DAY)
    p = b.grant_consent(p, "account", at=T0 + 2 * DAY)
    return b.observe(p, "email", "b@example.org", source=D, at=T0 + 3 * DAY)


def test_profile_constructor_refuses_values_recorded_before_their_erasure() -> None:
    """A payload smuggling a value recorded before its field's erasure does not load."""
    b = ProfileBuilder()
    p = _erased_then_declared(b)
    assert from_json(to_json(p), Profile, catalogue=b.catalogue) == p
    payload = json.loads(to_json(p))
    smuggled = {**payload["observations"][0], "value": "a@example.org", "sequence": 0}
    payload["observations"].insert(0, smuggled)
    message = _load_error(payload, Profile)
    assert "recorded before an erasure of its field" in message
    assert "a@example.org" not in message


@pytest.mark.parametrize("source", ["derived", "observed", "third_party"])
def test_profile_constructor_refuses_other_sources_after_an_erasure(source: str) -> None:
    """After an erasure only a fresh declaration is held: other sources do not load."""
    b = ProfileBuilder()
    payload = json.loads(to_json(_erased_then_declared(b)))
    payload["observations"][-1]["provenance"]["source"] = source
    assert "held after the erasure of its field" in _load_error(payload, Profile)


def test_profile_constructor_refuses_a_declaration_without_a_grant_in_between() -> None:
    """A declaration after an erasure needs a grant recorded between them, however it is made."""
    b = ProfileBuilder()
    p = _erased_then_declared(b)
    payload = json.loads(to_json(p))
    payload["consent_log"] = []
    assert "without such a grant" in _load_error(payload, Profile)
    with pytest.raises(InvalidInputError, match="without such a grant"):
        attrs.evolve(p, consent_log=())


def test_refusal_after_an_erasure_does_not_suggest_consent_for_other_sources(
    fields: list[FieldSpec],
) -> None:
    """The hint after an erasure says what would work: nothing for derived data, ask for declared."""
    b = ProfileBuilder(catalogue=fields)
    p = b.grant_consent(b.new("c", opened_at=T0), "research", at=T0)
    p = b.observe(p, "income", 50_000.0, source=D, at=T0)
    p = b.erase(p, ["income"], at=T0 + DAY)
    with pytest.raises(ConsentRequiredError) as derived:
        b.observe(p, "income", 1.0, source=ValueSource.DERIVED, at=T0 + 2 * DAY)
    assert "Record the customer's consent first" not in str(derived.value)
    assert "only the customer can give it again" in str(derived.value)
    with pytest.raises(ConsentRequiredError, match=r"renewed consent.*source='declared'"):
        b.observe(p, "income", 1.0, source=D, at=T0 + 2 * DAY)


def test_erasing_a_required_derived_field_keeps_the_profile_at_stage_2() -> None:
    """The documented consequence: an erased derived field is not re-derived, even after consent."""
    b = ProfileBuilder()
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    p = b.observe_many(
        b.new(1, opened_at=start),
        {"full_name": "A", "email": "a@example.org", "country": "DE"},
        source=D,
        at=start,
    )
    data = summary([1, 2])
    p = b.derive([p], data, at=start + DAY)[0]
    assert p.stage >= 3
    p = b.erase(p, ["repeat_purchases"], at=start + 2 * DAY)
    p = b.grant_consent(p, "analytics", at=start + 3 * DAY)
    p = b.derive([p], data, at=start + 4 * DAY)[0]
    assert not p.is_known("repeat_purchases")
    assert p.stage == 2


# --------------------------------------------------------------------- profiles through relmark.io


def _consenting_profile(b: ProfileBuilder) -> Profile:
    """A profile holding a consent field (household_size) and a legitimate-interest field."""
    p = b.new("c", opened_at=T0)
    p = b.grant_consent(p, "personalisation", at=T0)
    p = b.observe(p, "household_size", 3, source=D, at=T0 + DAY)
    return b.observe(p, "tenure_days", 40.0, source=ValueSource.DERIVED, at=T0 + DAY)


def test_reading_a_profile_needs_the_readers_catalogue() -> None:
    """Without catalogue= a profile is not read; a payload bringing its own catalogue is refused."""
    b = ProfileBuilder()
    p = _consenting_profile(b)
    text = to_json(p)
    assert "catalogue" not in json.loads(text)
    assert from_json(text, Profile, catalogue=b.catalogue) == p
    with pytest.raises(InvalidPayloadError, match=r"\$\.catalogue: Reading a Profile needs"):
        from_json(text, Profile)
    with pytest.raises(InvalidInputError, match="'catalogue' argument must be a relmark"):
        from_json(text, Profile, catalogue=list(b.catalogue))  # type: ignore[arg-type]
    payload = json.loads(text)
    payload["catalogue"] = json.loads(to_json(b.catalogue))
    with pytest.raises(InvalidPayloadError, match=r"\$\.catalogue: A Profile payload must not"):
        from_json(json.dumps(payload), Profile, catalogue=b.catalogue)


def _remove_grant(payload: dict[str, Any]) -> None:
    payload["consent_log"] = []


def _post_date_grant(payload: dict[str, Any]) -> None:
    payload["consent_log"][0]["at"] = "2024-01-05T00:00:00+00:00"


def _turn_grant_into_withdrawal(payload: dict[str, Any]) -> None:
    payload["consent_log"][0]["action"] = "withdraw"


def _insert_objection(payload: dict[str, Any]) -> None:
    """An objection to 'analytics' recorded before the derived value (renumbering the rest)."""
    for observation in payload["observations"]:
        observation["sequence"] += 1
    payload["next_sequence"] += 1
    objection = {**payload["consent_log"][0], "purpose": "analytics", "action": "object"}
    payload["consent_log"].append({**objection, "sequence": 1})


@pytest.mark.parametrize(
    ("tamper", "fragment"),
    [
        (_remove_grant, "'household_size', purpose 'personalisation') needs consent"),
        (_post_date_grant, "'household_size', purpose 'personalisation') needs consent"),
        (_turn_grant_into_withdrawal, "'household_size', purpose 'personalisation') needs consent"),
        (_insert_objection, "legitimate interest, and the customer's word was 'object'"),
    ],
)
def test_tampered_consent_log_is_refused_without_showing_values(tamper: Any, fragment: str) -> None:
    """A payload whose consent log no longer allows a value it holds is refused, value masked."""
    b = ProfileBuilder()
    payload = json.loads(to_json(_consenting_profile(b)))
    tamper(payload)
    message = _load_error(payload, Profile)
    assert fragment in message
    assert "40.0" not in message
    assert ": 3" not in message


def test_the_readers_catalogue_decides_what_a_loaded_profile_may_hold() -> None:
    """A profile is checked against the reader's catalogue: a value it does not allow fails."""
    b = ProfileBuilder()
    text = to_json(_consenting_profile(b))
    stricter = Catalogue(
        fields=[
            attrs.evolve(f, purpose="research", lawful_basis=LawfulBasis.CONSENT)
            if f.name == "tenure_days"
            else f
            for f in default_catalogue()
        ]
    )
    with pytest.raises(InvalidPayloadError, match="'tenure_days', purpose 'research'"):
        from_json(text, Profile, catalogue=stricter)


def test_values_refused_by_consent_never_reach_the_json() -> None:
    """Derived values a customer's objection refuses are absent from the book's profiles' JSON."""
    b = ProfileBuilder()
    objecting = b.object_to(b.new(1, opened_at=T0), "analytics", at=T0)
    book = b.derive_book(summary([1, 2]), at=T0 + DAY, profiles=[objecting])
    first, second = book.to_profiles()
    assert first.observations == ()
    assert "tenure_days" not in to_json(first)
    assert '"field": "tenure_days"' in to_json(second)
    for p in (first, second):
        assert from_json(to_json(p), Profile, catalogue=b.catalogue) == p
