"""Tests for relmark.profile.derive: stage-2 fields from summaries, score tables, touchpoints."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from relmark.data.summary import CustomerSummary
from relmark.domain import Channel, Direction, Touchpoint, TouchpointId, TouchpointKind
from relmark.errors import InvalidInputError
from relmark.profile import ProfileBuilder, ValueSource
from relmark.rfm import RFMScorer
from relmark.scoring.table import ColumnInfo, ColumnKind, ScoreTable

T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


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
    # terciles of (30, 90): cut points 50 and 70 -> 30 low, 90 high
    assert (c1.value("spend_level"), c3.value("spend_level")) == ("low", "high")
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
    assert (c1.value("clv_tier"), c3.value("clv_tier")) == ("low", "high")
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
    book = b.derive_book(summary(), at=T0)
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
    book = ProfileBuilder().derive_book(cdnow_summary, at=T0)
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
    book = ProfileBuilder().derive_book(some, {"clv": table}, at=T0)
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
