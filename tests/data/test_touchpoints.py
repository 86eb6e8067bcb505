"""Tests of relmark.data.touchpoints: building, validating and converting a TouchpointTable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relmark.data.touchpoints import TouchpointTable
from relmark.domain import (
    CampaignId,
    Channel,
    CustomerId,
    Direction,
    StakeholderId,
    Touchpoint,
    TouchpointId,
    TouchpointKind,
)
from relmark.errors import InvalidInputError
from relmark.testing.strategies import touchpoints

T0 = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)
BACKENDS = ("pandas", "polars", "pyarrow")


def _records() -> list[Touchpoint]:
    return [
        Touchpoint(
            touchpoint_id=TouchpointId("t1"),
            customer_id=CustomerId("c1"),
            at=T0.astimezone(timezone(timedelta(hours=2))),
            channel=Channel.PHONE,
            direction=Direction.INBOUND,
            kind=TouchpointKind.COMPLAINT,
            resolved_at=T0 + timedelta(hours=5),
        ),
        Touchpoint(
            touchpoint_id=TouchpointId("t2"),
            stakeholder_id=StakeholderId("s1"),
            at=T0,
            channel=Channel.EMAIL,
            direction=Direction.OUTBOUND,
            kind=TouchpointKind.CAMPAIGN_SEND,
            campaign_id=CampaignId("spring"),
        ),
    ]


def test_from_records_equals_the_same_columns_given_as_arrays() -> None:
    """Records become UTC times, enum codes, a stakeholder flag and link columns (unset: None)."""
    table = TouchpointTable.from_records(_records())
    expected = TouchpointTable.from_arrays(
        touchpoint_id=["t1", "t2"],
        counterpart_id=["c1", "s1"],
        is_stakeholder=np.array([False, True]),
        at=np.array(["2024-01-01T09:00", "2024-01-01T09:00"], dtype="datetime64[us]"),
        channel=["phone", "email"],
        kind=["complaint", "campaign_send"],
        direction=["inbound", "outbound"],
        resolved_at=np.array(["2024-01-01T14:00", "NaT"], dtype="datetime64[us]"),
        campaign_id=[None, "spring"],
    )
    assert table == expected
    assert table.kind.tolist() == [
        list(TouchpointKind).index(TouchpointKind.COMPLAINT),
        list(TouchpointKind).index(TouchpointKind.CAMPAIGN_SEND),
    ]
    assert table.channel is not None
    assert table.channel.tolist() == [
        list(Channel).index(Channel.PHONE),
        list(Channel).index(Channel.EMAIL),
    ]
    assert table.inbound.tolist() == [True, False]
    assert table.in_reply_to is None
    assert table.transaction_id is None
    assert table.to_records() == _records()


@settings(max_examples=60, deadline=None)
@given(st.lists(touchpoints(), max_size=6))
def test_records_round_trip_through_the_table(records: list[Touchpoint]) -> None:
    """records → table → records gives equal records (same instants, ids, enums and links)."""
    assert TouchpointTable.from_records(records).to_records() == records


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=25, deadline=None)
@given(records=st.lists(touchpoints(), max_size=6))
def test_table_round_trips_through_every_frame_backend(
    backend: str, records: list[Touchpoint]
) -> None:
    """table → frame → table is exact for pandas, polars and pyarrow, nulls and all."""
    table = TouchpointTable.from_records(records)
    assert TouchpointTable.from_frame(table.to_frame(backend)) == table


def test_frame_columns_are_the_documented_ones() -> None:
    """to_frame writes text enums and naive UTC times, leaving out the columns not held."""
    frame = TouchpointTable.from_records(_records()).to_frame("polars")
    assert frame.columns == [
        "touchpoint_id",
        "counterpart_id",
        "is_stakeholder",
        "at",
        "channel",
        "direction",
        "kind",
        "resolved_at",
        "campaign_id",
    ]
    assert frame["kind"].to_list() == ["complaint", "campaign_send"]
    assert frame["resolved_at"].to_list() == [datetime(2024, 1, 1, 14, 0), None]  # noqa: DTZ001


def test_zoned_frame_times_are_converted_to_utc_and_columns_renamed() -> None:
    """A zoned time column is read as its UTC instants; ``columns`` maps the frame's names."""
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(
        {
            "who": ["a", "b"],
            "when": pd.to_datetime(["2024-03-01 10:00", "2024-07-01 10:00"]).tz_localize(
                "Europe/Berlin"
            ),
            "what": ["inquiry", "visit"],
            "dir": ["inbound", "inbound"],
        }
    )
    table = TouchpointTable.from_frame(
        frame, columns={"counterpart_id": "who", "at": "when", "kind": "what", "direction": "dir"}
    )
    assert table.at.tolist() == [datetime(2024, 3, 1, 9, 0), datetime(2024, 7, 1, 8, 0)]  # noqa: DTZ001
    assert table.counterpart_id.tolist() == ["a", "b"]
    assert table.channel is None


def test_frame_errors_name_the_frames_columns() -> None:
    """A bad value in a renamed column is reported under the frame's own column name."""
    frame = {
        "who": np.array(["a"]),
        "at": np.array(["2024-01-01"], dtype="datetime64[s]"),
        "what": np.array(["hug"]),
        "direction": np.array(["inbound"]),
    }
    with pytest.raises(
        InvalidInputError, match=r"Column 'what' must hold TouchpointKind.*row\(s\) 0"
    ):
        TouchpointTable.from_frame(frame, columns={"counterpart_id": "who", "kind": "what"})
    with pytest.raises(InvalidInputError, match=r"unknown touchpoint columns \['colour'\]"):
        TouchpointTable.from_frame(frame, columns={"colour": "what"})
    with pytest.raises(InvalidInputError, match=r"\['channel_name'\] not found"):
        TouchpointTable.from_frame(
            frame, columns={"counterpart_id": "who", "kind": "what", "channel": "channel_name"}
        )


def test_nulls_are_refused_outside_the_nullable_columns() -> None:
    """A null kind is refused naming its row; a null resolution time is an open case."""
    pl = pytest.importorskip("polars")
    frame = pl.DataFrame(
        {
            "counterpart_id": ["a", "a"],
            "at": [datetime(2024, 1, 1), datetime(2024, 1, 2)],  # noqa: DTZ001
            "kind": ["complaint", "inquiry"],
            "direction": ["inbound", "inbound"],
            "resolved_at": [None, datetime(2024, 1, 3)],  # noqa: DTZ001
        }
    )
    table = TouchpointTable.from_frame(frame)
    assert np.isnat(table.resolved_at).tolist() == [True, False]
    bad = frame.with_columns(pl.Series("kind", ["complaint", None]))
    with pytest.raises(InvalidInputError, match=r"Column 'kind' has missing values.*row\(s\) 1"):
        TouchpointTable.from_frame(bad)


_BASE: dict[str, Any] = {
    "counterpart_id": ["a", "b"],
    "at": [T0, T0],
    "kind": ["complaint", "visit"],
    "direction": ["inbound", "outbound"],
}


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"at": [T0, datetime(2024, 1, 1)]}, r"naive datetime 2024-01-01 00:00:00 at row 1"),  # noqa: DTZ001
        ({"at": [T0, None]}, r"missing at row\(s\) 1"),
        (
            {"kind": ["complaint", "hug"]},
            r"'kind' must hold TouchpointKind.*\['hug'\] at row\(s\) 1",
        ),
        ({"direction": ["up", "inbound"]}, r"'direction'.*\['up'\] at row\(s\) 0"),
        ({"channel": ["email", "pigeon"]}, r"'channel' must hold Channel.*row\(s\) 1"),
        ({"resolved_at": [T0 - timedelta(days=1), None]}, r"before 'at'; violated at row\(s\) 0"),
        ({"resolved_at": [None, T0]}, r"only meaningful.*row\(s\) 1"),
        ({"counterpart_id": ["a"]}, "one value per touchpoint"),
        ({"counterpart_id": ["a", None]}, r"missing customer ids.*row\(s\) 1"),
        ({"touchpoint_id": ["t1", " t2"]}, r"'touchpoint_id'.*whitespace.*row\(s\) 1"),
        ({"touchpoint_id": ["t1", None]}, r"'touchpoint_id' has missing ids at row\(s\) 1"),
        (
            {"touchpoint_id": ["t1", "t2"], "in_reply_to": ["t1", None]},
            r"answers itself at row\(s\) 0",
        ),
        ({"is_stakeholder": [0, 1]}, "one True/False per touchpoint"),
    ],
)
def test_bad_columns_are_refused_naming_rows(change: dict[str, Any], match: str) -> None:
    """Every rule of the Touchpoint record is checked column-wise, naming the offending rows."""
    with pytest.raises(InvalidInputError, match=match):
        TouchpointTable.from_arrays(**(_BASE | change))


def test_from_records_refuses_other_objects() -> None:
    """Only Touchpoint records are accepted, and the position of another object is named."""
    with pytest.raises(InvalidInputError, match="got a dict at position 1"):
        TouchpointTable.from_records([_records()[0], {"kind": "visit"}])  # type: ignore[list-item]
    with pytest.raises(InvalidInputError, match="iterable of Touchpoint records"):
        TouchpointTable.from_records("t1")  # type: ignore[arg-type]


def test_to_records_needs_ids_and_channels() -> None:
    """A table without touchpoint ids or channels cannot become records, and says which it lacks."""
    table = TouchpointTable.from_arrays(**_BASE)
    with pytest.raises(InvalidInputError, match=r"\['touchpoint_id', 'channel'\]"):
        table.to_records()


def test_integer_ids_are_kept_as_integers() -> None:
    """Integer counterpart ids (a CDNOW-style log) stay integers, for matching integer summaries."""
    table = TouchpointTable.from_arrays(**(_BASE | {"counterpart_id": [7, 8]}))
    assert table.counterpart_id.dtype == np.int64


def test_html_repr_shows_text_values_escaped() -> None:
    """The notebook view lists the rows with enum values as text and escapes the ids."""
    table = TouchpointTable.from_arrays(
        **(
            _BASE
            | {"counterpart_id": ["<b>", "b"], "at": [T0.astimezone(ZoneInfo("Asia/Tokyo"))] * 2}
        )
    )
    html = table._repr_html_()
    assert "TouchpointTable: 2 touchpoints" in html
    assert "&lt;b&gt;" in html
    assert '<td class="text"><b></td>' not in html
    assert "complaint" in html
    assert "2024-01-01T09:00:00" in html


@pytest.mark.parametrize(
    "ids", [["b", "a", "b", "c", "a"], [30, 10, 30, 20, 10]], ids=["text", "integer"]
)
def test_counterparts_are_the_sorted_distinct_ids_and_row_codes(ids: list[Any]) -> None:
    """counterparts gives np.unique's answer (sorted ids, inverse codes) for text and integer ids."""
    table = TouchpointTable.from_arrays(
        counterpart_id=ids, at=[T0] * 5, kind=["visit"] * 5, direction=["inbound"] * 5
    )
    distinct, code = table.counterparts
    expected, inverse = np.unique(np.array(ids), return_inverse=True)
    assert distinct.tolist() == expected.tolist()
    assert code.tolist() == inverse.tolist()
    assert distinct[code].tolist() == ids
    assert table.counterparts is table.counterparts  # computed once
