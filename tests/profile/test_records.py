"""Tests for relmark.profile.records: history, resolution, freshness, consent timeline, stages."""

from __future__ import annotations

import datetime as dt

import pytest

from relmark.errors import InvalidInputError
from relmark.profile import (
    ConsentAction,
    FieldSpec,
    Profile,
    ProfileBuilder,
    ResolutionPolicy,
    Stage,
    ValueSource,
)

T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
D, OBS, V = ValueSource.DECLARED, ValueSource.OBSERVED, ValueSource.DERIVED


def test_history_is_oldest_first_even_when_observed_out_of_order(fields: list[FieldSpec]) -> None:
    """History sorts by collection time; the current value is the most recent by default."""
    b = ProfileBuilder(catalogue=fields)
    p = b.new("c", opened_at=T0)
    p = b.observe(p, "city", "Bonn", source=D, at=T0 + 5 * DAY)
    p = b.observe(p, "city", "Köln", source=D, at=T0 + 1 * DAY)
    p = b.observe(p, "city", "Kiel", source=D, at=T0 + 3 * DAY)
    assert [v.value for v in p.history("city")] == ["Köln", "Kiel", "Bonn"]
    assert p.value("city") == "Bonn"
    assert p.value("city", as_of=T0 + 4 * DAY) == "Kiel"
    assert p.value("city", as_of=T0) is None
    assert p.value("name") is None


def test_ties_in_time_are_broken_by_source_priority_then_order(fields: list[FieldSpec]) -> None:
    """At the same instant a declared value beats a derived one; equal sources: the later wins."""
    b = ProfileBuilder(catalogue=fields)
    p = b.new("c", opened_at=T0)
    p = b.observe(p, "city", "declared", source=D, at=T0)
    p = b.observe(p, "city", "derived", source=V, at=T0)
    assert p.value("city") == "declared"
    p = b.observe(p, "city", "declared again", source=D, at=T0)
    assert p.value("city") == "declared again"


def test_source_order_prefers_trusted_sources_over_recency(fields: list[FieldSpec]) -> None:
    """With order='source' an older declared value beats a newer third-party one."""
    b = ProfileBuilder(catalogue=fields, resolution=ResolutionPolicy(order="source"))
    p = b.new("c", opened_at=T0)
    p = b.observe(p, "city", "declared", source=D, at=T0)
    p = b.observe(p, "city", "bought", source=ValueSource.THIRD_PARTY, at=T0 + DAY)
    assert p.value("city") == "declared"
    custom = ResolutionPolicy(order="source", source_priority=(ValueSource.THIRD_PARTY, D, OBS, V))
    p2 = ProfileBuilder(catalogue=fields, resolution=custom).new("c")
    p2 = ProfileBuilder(catalogue=fields, resolution=custom).observe_many(
        p2, [("city", "declared")], source=D, at=T0
    )
    assert p2.resolution.order == "source"


def test_resolution_policy_must_list_every_source_once(fields: list[FieldSpec]) -> None:
    """A priority that omits or repeats a source is rejected."""
    with pytest.raises(InvalidInputError, match="'source_priority'"):
        ResolutionPolicy(source_priority=(D, OBS, V))
    with pytest.raises(ValueError, match="'order'"):
        ResolutionPolicy(order="newest")


def test_freshness_boundary(fields: list[FieldSpec]) -> None:
    """A value is fresh strictly before collected_at + freshness and stale from then on."""
    b = ProfileBuilder(catalogue=fields)
    p = b.observe(b.new("c", opened_at=T0), "city", "Bonn", source=D, at=T0)
    assert p.is_fresh("city", T0 + 29 * DAY)
    assert not p.is_fresh("city", T0 + 30 * DAY)
    p = b.observe(p, "name", "Ada", source=D, at=T0)
    assert p.is_fresh("name", T0 + 10_000 * DAY)
    assert not p.is_fresh("likes_jazz", T0)


def test_consent_timeline(fields: list[FieldSpec]) -> None:
    """Consent status follows grant, withdraw and re-grant by timestamp, not recording order."""
    b = ProfileBuilder(catalogue=fields)
    p = b.new("c", opened_at=T0)
    p = b.grant_consent(p, "personalisation", at=T0 + 10 * DAY)
    p = b.withdraw_consent(p, "personalisation", at=T0 + 20 * DAY)
    p = b.grant_consent(p, "personalisation", at=T0 + 5 * DAY)  # recorded late, happened early
    assert not p.has_consent("personalisation", T0)
    assert p.has_consent("personalisation", T0 + 5 * DAY)
    assert p.has_consent("personalisation", T0 + 15 * DAY)
    assert not p.has_consent("personalisation", T0 + 25 * DAY)
    assert p.consent_status("personalisation", T0 + 25 * DAY) is ConsentAction.WITHDRAW
    assert p.consented_purposes(T0 + 6 * DAY) == ("personalisation",)
    with pytest.raises(InvalidInputError, match="Unknown purpose 'marketing'"):
        b.grant_consent(p, "marketing", at=T0)


def test_stage_progression_and_completeness(fields: list[FieldSpec]) -> None:
    """Stage 1 until the required name is known, 2 until visits are derived, then 3."""
    b = ProfileBuilder(catalogue=fields)
    p = b.new("c", opened_at=T0)
    assert p.stage is Stage.IDENTIFICATION
    assert p.completeness(1) == 0.0
    p = b.observe(p, "city", "Bonn", source=D, at=T0)
    assert p.stage is Stage.IDENTIFICATION
    assert p.completeness(1) == 0.5
    p = b.observe(p, "name", "Ada", source=D, at=T0)
    assert p.stage is Stage.TRANSACTIONAL
    p = b.observe(p, "visits", 3, source=V, at=T0)
    assert p.stage is Stage.NEEDS
    assert p.completeness(3) == 0.0
    assert p.completeness(4) == 1.0  # a stage without fields is trivially complete
    assert not p.stage_complete(3)  # all stage-3 fields optional: complete once one is known
    p = b.grant_consent(p, "research", at=T0)
    p = b.observe(p, "income", 50_000.0, source=D, at=T0)
    assert p.stage_complete(3)
    assert p.stage is Stage.PARTNERSHIP


def test_unknown_field_in_queries_is_an_error(fields: list[FieldSpec]) -> None:
    """Asking a profile for a field its catalogue lacks names the field."""
    p = ProfileBuilder(catalogue=fields).new("c")
    assert isinstance(p, Profile)
    with pytest.raises(InvalidInputError, match="Unknown field 'nope'"):
        p.value("nope")
    with pytest.raises(InvalidInputError, match="Unknown field 'nope'"):
        p.history("nope")
