"""Tests for relmark.profile.derive: stage-2 fields from summaries, score tables, touchpoints."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relmark.data.summary import CustomerSummary
from relmark.data.table import ColumnInfo, ColumnKind, ScoreTable
from relmark.data.touchpoints import TouchpointTable
from relmark.domain import Channel, Direction, Touchpoint, TouchpointId, TouchpointKind
from relmark.errors import InvalidInputError
from relmark.profile import Profile, ProfileBuilder, ValueSource, default_catalogue
from relmark.profile.derive import derive_columns
from relmark.rfm import RFMScorer
from relmark.testing.strategies import touchpoints

T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def summary() -> CustomerSummary:
    # c1: 2 repeats over 10 of 20 weeks, spend 30; c2: no repeat; c3: 6 repeats, 70 weeks, spend 90
    return CustomerSummary.from_arrays(
        frequency=[2, 0, 6],
        recency=[10.0, 0.0, 60.0],
        T=[20.0, 5.0, 70.0],
        monetary=[30.0, 0.0, 90.0],
        customer_id=["c1", "c2", "c3"],
        unit="W",
    )


def table(ids: list[str], **columns: tuple[ColumnKind, list[object]]) -> ScoreTable:
    return ScoreTable.from_columns(
        ids,
        {k: v for k, (_, v) in columns.items()},
        {k: ColumnInfo(description=k, kind=kind) for k, (kind, _) in columns.items()},
    )


def test_summary_fields_by_hand() -> None:
    """Counts, days, yearly rate, spend and lifecycle follow the documented formulas."""
    b = ProfileBuilder()
    c1, c2, c3 = b.derive(["c1", "c2", "c3"], summary(), at=T0)
    assert c1.value("repeat_purchases") == 2
    assert c1.value("tenure_days") == 140.0
    assert c1.value("days_since_last_purchase") == 70.0
    assert c1.value("purchase_rate_per_year") == pytest.approx(2 / 20 * 365.2425 / 7)
    assert c1.value("average_spend") == 30.0
    assert c2.value("average_spend") is None  # no repeat purchase, no repeat spend
    assert c2.value("spend_level") is None
    assert c2.value("purchase_rate_per_year") == 0.0
    # inverted-CDF terciles of (30, 90): cut points 30 and 90 -> 30 medium (not below 30), 90 high
    assert (c1.value("spend_level"), c3.value("spend_level")) == ("medium", "high")
    assert c1.value("lifecycle_stage") == "retention"  # 3 purchases
    assert c2.value("lifecycle_stage") == "conversion"
    assert c3.value("lifecycle_stage") == "loyalty"  # 7 purchases, 490 days
    current = c1.current("tenure_days")
    assert current is not None
    assert current.provenance.source is ValueSource.DERIVED
    assert current.provenance.collector == "derived by summary"
    assert current.provenance.collected_at == T0


def test_score_tables_map_to_fields_with_scorer_provenance() -> None:
    """Named tables give 'derived by <name>', rows align by id, missing customers get nothing."""
    rfm = table(
        ["c3", "c1", "c2"],
        recency_score=(ColumnKind.INTEGER, [5, 3, 1]),
        rfm_cell=(ColumnKind.STRING, ["555", "322", "111"]),
        segment=(ColumnKind.STRING, ["champions", "potential", "lost"]),
        unmapped=(ColumnKind.FLOAT, [0.0, 0.0, 0.0]),
    )
    clv = table(
        ["c1", "c3"],
        probability_alive=(ColumnKind.FLOAT, [0.9, 0.2]),
        clv=(ColumnKind.FLOAT, [10.0, 500.0]),
    )
    b = ProfileBuilder()
    c1, c2, c3 = b.derive(["c1", "c2", "c3"], summary(), {"rfm": rfm}, {"bgnbd": clv}, at=T0)
    assert (c1.value("rfm_recency_score"), c1.value("rfm_segment")) == (3, "potential")
    assert c3.value("rfm_cell") == "555"
    seg = c1.current("rfm_segment")
    assert seg is not None
    assert seg.provenance.collector == "derived by rfm"
    assert c1.value("probability_alive") == 0.9
    assert c2.value("probability_alive") is None
    # inverted-CDF terciles of (10, 500), as CLVScorer cuts: 10 and 500 -> 10 medium, 500 high
    assert (c1.value("clv_tier"), c3.value("clv_tier")) == ("medium", "high")
    tier = c3.current("clv_tier")
    assert tier is not None
    assert tier.provenance.collector == "derived by bgnbd"
    # P(alive) 0.2 now blocks c3's loyalty: retention, and the provenance says why
    assert c3.value("lifecycle_stage") == "retention"
    stage = c3.current("lifecycle_stage")
    assert stage is not None
    assert stage.provenance.collector == "derived by lifecycle_stage and P(alive)"
    assert c2.value("lifecycle_stage") is None  # not scored, so no P(alive)-based stage
    (unnamed,) = b.derive(["c1"], summary(), rfm, at=T0)
    seg2 = unnamed.current("rfm_segment")
    assert seg2 is not None
    assert seg2.provenance.collector == "derived by score table 0"


def test_type_mismatch_and_bad_tables_are_errors() -> None:
    """A float score for an int field, or a non-table argument, raises naming it."""
    bad = table(["c1", "c2", "c3"], recency_score=(ColumnKind.FLOAT, [1.5, 2.0, 3.0]))
    with pytest.raises(InvalidInputError, match=r"'recency_score'.*'rfm_recency_score'"):
        ProfileBuilder().derive(["c1"], summary(), bad, at=T0)
    with pytest.raises(InvalidInputError, match="argument 0 is a list"):
        ProfileBuilder().derive(["c1"], summary(), [1, 2], at=T0)  # type: ignore[arg-type]


def test_a_summary_of_another_type_is_refused_naming_the_method() -> None:
    """derive and derive_book refuse a non-summary through the one summary check."""
    with pytest.raises(InvalidInputError, match=r"'summary' argument of ProfileBuilder\.derive "):
        ProfileBuilder().derive(["c1"], {"frequency": [1]}, at=T0)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match=r"'summary' argument of .*\.derive_book must"):
        ProfileBuilder().derive_book([1, 2], at=T0, profiles=())  # type: ignore[arg-type]


def test_preferred_channel_from_inbound_touchpoints() -> None:
    """The most used inbound channel wins; ties go to the channel declared first; outbound ignored."""

    def tp(
        i: int, cid: str, channel: Channel, direction: Direction = Direction.INBOUND
    ) -> Touchpoint:
        return Touchpoint(
            touchpoint_id=TouchpointId(f"t{i}"),
            at=T0,
            channel=channel,
            direction=direction,
            kind=TouchpointKind.INQUIRY
            if direction is Direction.INBOUND
            else TouchpointKind.CAMPAIGN_SEND,
            customer_id=cid,
        )

    touches = [
        tp(1, "c1", Channel.EMAIL),
        tp(2, "c1", Channel.PHONE),
        tp(3, "c1", Channel.PHONE),
        tp(4, "c1", Channel.SMS, Direction.OUTBOUND),
        tp(5, "c1", Channel.SMS, Direction.OUTBOUND),
        tp(6, "c1", Channel.SMS, Direction.OUTBOUND),
        tp(7, "c2", Channel.PHONE),
        tp(8, "c2", Channel.WEB),
        tp(9, "zz", Channel.WEB),
    ]
    c1, c2, c3 = ProfileBuilder().derive(["c1", "c2", "c3"], summary(), at=T0, touchpoints=touches)
    assert c1.value("preferred_channel") is Channel.PHONE
    assert c2.value("preferred_channel") is Channel.WEB  # WEB is declared before PHONE
    assert c3.value("preferred_channel") is None


def _hand_log() -> TouchpointTable:
    """Eleven touchpoints whose preferred channels are worked out by hand below."""
    t = np.datetime64("2024-01-01T09:00", "s")
    rows = [
        # counterpart, stakeholder?, channel, direction
        ("c1", False, "email", "inbound"),
        ("c1", False, "phone", "inbound"),
        ("c1", False, "phone", "inbound"),
        ("c1", False, "sms", "outbound"),  # outbound: not counted
        ("c1", False, "sms", "outbound"),
        ("c1", False, "sms", "outbound"),
        ("c2", False, "phone", "inbound"),
        ("c2", False, "web", "inbound"),  # tie 1:1, web is declared before phone
        ("c3", True, "chat", "inbound"),  # a stakeholder "c3", not the customer c3
        ("zz", False, "web", "inbound"),  # not in the summary
        ("c3", False, "mail", "outbound"),
    ]
    ids, stakeholder, channel, direction = zip(*rows, strict=True)
    return TouchpointTable.from_arrays(
        counterpart_id=list(ids),
        is_stakeholder=np.array(stakeholder),
        at=np.full(len(rows), t),
        kind=["inquiry"] * len(rows),
        channel=list(channel),
        direction=list(direction),
    )


def test_preferred_channel_from_a_table_by_hand() -> None:
    """By hand: c1 phone (2 of 3 inbound), c2 web (tie), c3 none (stakeholder, outbound only)."""
    columns = derive_columns(summary(), catalogue=default_catalogue(), touchpoints=_hand_log())
    (column,) = [c for c in columns if c.field == "preferred_channel"]
    assert column.values == [Channel.PHONE, Channel.WEB, None]
    assert column.present.tolist() == [True, True, False]
    assert column.collector == "derived by touchpoints"


def _loop_oracle(ids: list[str], records: list[Touchpoint]) -> list[Channel | None]:
    """The record loop derive.py had before the table: count inbound channels per customer."""
    counts: dict[str, dict[Channel, int]] = {cid: {} for cid in ids}
    for t in records:
        if t.customer_id in counts and t.direction is Direction.INBOUND:
            counts[t.customer_id][t.channel] = counts[t.customer_id].get(t.channel, 0) + 1
    out: list[Channel | None] = []
    for cid in ids:
        seen = counts[cid]
        # max over the declaration order: the first channel with the highest count
        out.append(
            max(Channel, key=lambda c: (seen.get(c, 0), -list(Channel).index(c))) if seen else None
        )
    return out


@settings(max_examples=40, deadline=None)
@given(records=st.lists(touchpoints(), max_size=25), seed=st.integers(0, 2**32 - 1))
def test_vectorized_preferred_channel_equals_the_record_loop(
    records: list[Touchpoint], seed: int
) -> None:
    """On random touchpoints (customers and stakeholders) the table path equals the old loop."""
    rng = np.random.default_rng(seed)
    pool = sorted({t.counterpart_id for t in records} | {"c-absent"})
    ids = [str(i) for i in rng.permutation(pool)]
    data = CustomerSummary.from_arrays(
        frequency=np.zeros(len(ids)), recency=np.zeros(len(ids)), T=np.ones(len(ids)),
        customer_id=ids,
    )  # fmt: skip
    expected = _loop_oracle(ids, records)
    for given_touchpoints in (records, TouchpointTable.from_records(records)):
        columns = derive_columns(data, catalogue=default_catalogue(), touchpoints=given_touchpoints)
        (column,) = [c for c in columns if c.field == "preferred_channel"]
        assert column.values == expected
        assert column.present.tolist() == [v is not None for v in expected]


def test_touchpoints_without_channels_or_of_another_id_type_are_refused() -> None:
    """preferred_channel needs channels, and ids of the summary's type (else none would match)."""
    t = np.datetime64("2024-01-01", "s")
    no_channel = TouchpointTable.from_arrays(
        counterpart_id=["c1"], at=[t], kind=["inquiry"], direction=["inbound"]
    )
    with pytest.raises(InvalidInputError, match="hold no channels"):
        derive_columns(summary(), catalogue=default_catalogue(), touchpoints=no_channel)
    integer_ids = TouchpointTable.from_arrays(
        counterpart_id=[1], at=[t], kind=["inquiry"], direction=["inbound"], channel=["web"]
    )
    with pytest.raises(InvalidInputError, match="different types, so none would match"):
        derive_columns(summary(), catalogue=default_catalogue(), touchpoints=integer_ids)
    with pytest.raises(InvalidInputError, match="must hold Touchpoint records"):
        derive_columns(summary(), catalogue=default_catalogue(), touchpoints=[{"channel": "web"}])  # type: ignore[list-item]


def test_objection_blocks_derivation_and_absent_customers_are_unchanged() -> None:
    """A customer who objected to analytics gets no derived fields; one without purchases is untouched."""
    b = ProfileBuilder()
    objector = b.object_to(b.new("c1"), "analytics", at=T0 - dt.timedelta(days=1))
    stranger = b.new("nobody")
    after, same = b.derive([objector, stranger], summary(), at=T0)
    assert after.observations == ()
    assert same is stranger


def test_book_matches_individual_derivation() -> None:
    """A profile from the columnar book equals the one derived individually."""
    b = ProfileBuilder()
    book = b.derive_book(summary(), at=T0, profiles=())
    assert len(book) == 3
    values, present = book.column("average_spend")
    assert values == [30.0, 0.0, 90.0]
    assert present.tolist() == [True, False, True]
    (single,) = b.derive(["c3"], summary(), at=T0)
    from_book = book.profile("c3")
    assert {f: from_book.value(f) for f in from_book.known_fields} == {
        f: single.value(f) for f in single.known_fields
    }
    assert [p.customer_id for p in book.to_profiles()] == ["c1", "c2", "c3"]
    with pytest.raises(InvalidInputError, match="'clv' was not derived"):
        book.column("clv")
    with pytest.raises(InvalidInputError, match="'zz' is not in this profile book"):
        book.profile("zz")


def test_cdnow_book_matches_an_independent_count(
    cdnow: tuple[np.ndarray, np.ndarray, np.ndarray], cdnow_summary: CustomerSummary
) -> None:
    """For all 23,570 CDNOW customers, repeat purchases and tenure equal a direct numpy count."""
    ids, dates, _ = cdnow
    book = ProfileBuilder().derive_book(cdnow_summary, at=T0, profiles=())
    assert len(book) == 23_570
    # independent oracle: distinct purchase days per customer minus one; days since first purchase
    pairs = np.unique(np.stack([ids, dates.astype(np.int64)], axis=1), axis=0)
    cust, first_idx, per_customer = np.unique(pairs[:, 0], return_index=True, return_counts=True)
    order = np.argsort(np.asarray(book.customer_id))
    repeats, _ = book.column("repeat_purchases")
    assert np.array_equal(np.asarray(book.customer_id)[order], cust)
    assert np.array_equal(np.asarray(repeats)[order], per_customer - 1)
    end = np.datetime64("1998-06-30", "D").astype(np.int64)
    tenure, _ = book.column("tenure_days")
    assert np.allclose(np.asarray(tenure)[order], end - pairs[first_idx, 1])
    stages, _ = book.column("lifecycle_stage")
    assert set(stages) <= {"conversion", "retention", "loyalty"}
    assert stages.count("conversion") == int((per_customer == 1).sum())
    profile = book.profile(int(cust[0]))
    assert profile.value("repeat_purchases") == int(per_customer[0] - 1)


def test_real_rfm_scorer_output_derives_rfm_fields() -> None:
    """The RFM scorer's table fills the rfm_* fields with provenance 'derived by rfm'."""
    s = summary()
    table = RFMScorer().fit(s).score(s)
    profiles = ProfileBuilder().derive(["c1", "c2", "c3"], s, {"rfm": table}, at=T0)
    for row, p in enumerate(profiles):
        assert p.value("rfm_segment") == str(table["segment"][row])
        assert p.value("rfm_cell") == str(table["rfm_cell"][row])
        assert p.value("rfm_frequency_score") == int(table["frequency_score"][row])
        current = p.current("rfm_segment")
        assert current is not None
        assert current.provenance.collector == "derived by rfm"


def test_real_clv_scorer_output_derives_p_alive_clv_and_its_tier() -> None:
    """The CLV scorer's table fills probability_alive, clv and clv_tier (its own fitted tiers)."""
    from relmark.clv.scorers import CLVScorer
    from relmark.datasets import load_cdnow_sample_summary

    cdnow = load_cdnow_sample_summary()
    scorer = CLVScorer().fit(cdnow)
    # Score 60 customers on the scale fitted on all 2,357: their tiers are not their own terciles.
    some = cdnow.take(np.arange(0, 600, 10))
    table = scorer.score(some)
    book = ProfileBuilder().derive_book(some, {"clv": table}, at=T0, profiles=())
    tiers, present = book.column("clv_tier")
    assert present.all()
    assert tiers == table["clv_tier"].tolist()
    own_terciles = np.quantile(table["clv"], [1 / 3, 2 / 3])
    assert (table["clv"] < own_terciles[0]).sum() != (table["clv_tier"] == "low").sum()
    p_alive, _ = book.column("probability_alive")
    assert p_alive == table["probability_alive"].tolist()
    clv, _ = book.column("clv")
    assert clv == table["clv"].tolist()
    first = book.profile(int(some.customer_id[0]))
    stage = first.current("lifecycle_stage")
    assert stage is not None
    assert stage.provenance.collector == "derived by lifecycle_stage and P(alive)"
    tier = first.current("clv_tier")
    assert tier is not None
    assert tier.provenance.collector == "derived by clv"


# ---------------------------------------------------------------- weighted terciles


def weighted_summary() -> CustomerSummary:
    # Four repeat customers, spend 10, 20, 30, 40; the last row stands for 3 customers.
    return CustomerSummary.from_arrays(
        frequency=[1, 1, 1, 1],
        recency=[1.0, 1.0, 1.0, 1.0],
        T=[2.0, 2.0, 2.0, 2.0],
        monetary=[10.0, 20.0, 30.0, 40.0],
        customer_id=["a", "b", "c", "d"],
        weights=[1.0, 1.0, 1.0, 3.0],
    )


def test_spend_level_uses_the_weighted_inverted_cdf_terciles() -> None:
    """Spend levels cut at the customers' terciles (row weights count), as the CLV tiers are."""
    # Six customers 10, 20, 30, 40, 40, 40: cut points are the 2nd and 4th values, 20 and 40.
    levels = [
        p.value("spend_level")
        for p in ProfileBuilder().derive(list("abcd"), weighted_summary(), at=T0)
    ]
    assert levels == ["low", "medium", "medium", "high"]
    # Oracle: the expanded summary (one row per customer) gives the same levels.
    expanded = CustomerSummary.from_arrays(
        frequency=[1] * 6,
        recency=[1.0] * 6,
        T=[2.0] * 6,
        monetary=[10.0, 20.0, 30.0, 40.0, 40.0, 40.0],
        customer_id=["a", "b", "c", "d", "d2", "d3"],
    )
    book = ProfileBuilder().derive_book(expanded, at=T0, profiles=())
    assert book.column("spend_level")[0][:4] == levels


def test_clv_tier_from_a_clv_column_uses_the_weighted_terciles() -> None:
    """A ``clv`` column without tiers is tiered at the weighted terciles of the summary's customers."""
    s = weighted_summary()
    clv = table(["a", "b", "c", "d"], clv=(ColumnKind.FLOAT, [1.0, 2.0, 3.0, 4.0]))
    tiers = [p.value("clv_tier") for p in ProfileBuilder().derive(list("abcd"), s, clv, at=T0)]
    assert tiers == ["low", "medium", "medium", "high"]


# ---------------------------------------------------------------- objections and erasures in bulk

ANALYTICS = (
    "repeat_purchases",
    "tenure_days",
    "days_since_last_purchase",
    "purchase_rate_per_year",
    "average_spend",
    "spend_level",
    "lifecycle_stage",
)


def test_book_respects_an_objection() -> None:
    """A customer who objected to analytics gets no derived value from the book, by any route."""
    b = ProfileBuilder()
    objector = b.object_to(b.new("c1"), "analytics", at=T0 - dt.timedelta(days=1))
    book = b.derive_book(summary(), at=T0, profiles=[objector])
    assert book.profile("c1").observations == ()
    assert book.to_profiles()[0].observations == ()
    assert book.profile("c1").consent_log == objector.consent_log
    for field in ANALYTICS:
        values, present = book.column(field)
        assert not present[0]
        assert values[0] is None
    assert book.profile("c3").value("repeat_purchases") == 6


def test_book_records_the_real_consent_snapshot_and_keeps_held_values() -> None:
    """Book values carry the customer's consented purposes; the profile's own values stay."""
    b = ProfileBuilder()
    p = b.grant_consent(b.new("c3", opened_at=T0 - DAY), "personalisation", at=T0 - DAY)
    p = b.observe(p, "full_name", "Ada", source=ValueSource.DECLARED, at=T0 - DAY)
    book = b.derive_book(summary(), at=T0, profiles=[p])
    from_book = book.profile("c3")
    current = from_book.current("tenure_days")
    assert current is not None
    assert current.provenance.consent == ("personalisation",)
    (single,) = b.derive([p], summary(), at=T0)
    assert from_book == single
    assert from_book.value("full_name") == "Ada"
    other = book.profile("c1").current("tenure_days")
    assert other is not None
    assert other.provenance.consent == ()


def test_book_rejects_duplicate_profiles() -> None:
    """Two profiles of one customer are an error, naming the customer."""
    b = ProfileBuilder()
    with pytest.raises(InvalidInputError, match=r"'profiles'.*'c1'"):
        b.derive_book(summary(), at=T0, profiles=[b.new("c1"), b.new("c1")])


@pytest.mark.parametrize("path", ["derive", "book"])
def test_erased_fields_are_not_rederived(path: str) -> None:
    """An erased field is never derived again, by either path, even after a renewed grant."""
    b = ProfileBuilder()
    (first,) = b.derive(["c1"], summary(), at=T0)
    erased = b.erase(first, ["average_spend", "spend_level"], at=T0 + DAY)

    def again(p: Profile) -> Profile:
        later = T0 + 2 * DAY
        if path == "derive":
            return b.derive([p], summary(), at=later)[0]
        return b.derive_book(summary(), at=later, profiles=[p]).profile("c1")

    after = again(erased)
    assert after.value("average_spend") is None
    assert after.value("spend_level") is None
    assert after.history("average_spend") == ()
    assert after.value("tenure_days") == 140.0  # not erased: derived again
    # a renewed grant lets the customer declare the field again, never a derivation restore it
    granted = b.grant_consent(erased, "analytics", at=T0 + DAY + DAY / 2)
    assert again(granted).value("average_spend") is None
    declared = b.observe(granted, "average_spend", 31.0, source="declared", at=T0 + 2 * DAY)
    assert declared.value("average_spend") == 31.0
    # erasing everything blocks every derived field
    nothing = again(b.erase(first, at=T0 + DAY))
    assert nothing.observations == ()


@settings(max_examples=40, deadline=None)
@given(
    erase=st.sets(st.sampled_from(ANALYTICS)),
    erase_all=st.booleans(),
    objects=st.booleans(),
    path=st.sampled_from(["derive", "book", "to_profiles", "column"]),
)
def test_property_erasures_and_objections_hold_on_every_path(
    erase: set[str], erase_all: bool, objects: bool, path: str
) -> None:
    """After erase + any derive path erased fields are unreachable; after an objection none stored."""
    b = ProfileBuilder()
    (p,) = b.derive(["c1"], summary(), at=T0)
    p = b.erase(p, None if erase_all else sorted(erase), at=T0 + DAY)
    if objects:
        p = b.object_to(p, "analytics", at=T0 + DAY)
    erased = set(ANALYTICS) if erase_all else erase
    blocked = set(ANALYTICS) if objects else erased
    later = T0 + 2 * DAY
    if path == "column":
        book = b.derive_book(summary(), at=later, profiles=[p])
        for field in blocked & set(book.columns):
            values, present = book.column(field)
            assert not present[0]
            assert values[0] is None
        return
    if path == "derive":
        (q,) = b.derive([p], summary(), at=later)
    elif path == "book":
        q = b.derive_book(summary(), at=later, profiles=[p]).profile("c1")
    else:
        q = b.derive_book(summary(), at=later, profiles=[p]).to_profiles()[0]
    # Erased values are unreachable; an objection keeps held values but stores no new ones.
    assert not {v.field for v in q.observations} & erased
    new = q.observations[len(p.observations) :]
    assert not {v.field for v in new} & blocked
    if objects:
        analytics = {f.name for f in b.catalogue if f.purpose == "analytics"}
        assert not {v.field for v in new} & analytics
