"""Hypothesis strategies that generate valid relmark domain records, for your own tests.

Every strategy draws only records that pass validation, with deliberately awkward but legal values:
identifiers in any script, timestamps in IANA zones (`zoneinfo.ZoneInfo`), odd fixed offsets and
UTC, amounts from zero to the largest finite float, returns with negative amounts.

Examples:
    ```python
    from hypothesis import given
    from relmark.io import from_json, to_json
    from relmark.testing.strategies import transactions


    @given(transactions())
    def test_round_trip(transaction):
        assert from_json(to_json(transaction), type(transaction)) == transaction
    ```

This module imports ``hypothesis``, which relmark does not install; install it in your test
environment.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import TypeVar

from hypothesis import strategies as st

from relmark.domain import (
    CampaignId,
    Channel,
    Customer,
    CustomerId,
    Direction,
    Stakeholder,
    StakeholderId,
    StakeholderRole,
    Touchpoint,
    TouchpointId,
    TouchpointKind,
    Transaction,
    TransactionId,
)

__all__ = [
    "aware_datetimes",
    "customers",
    "identifiers",
    "stakeholders",
    "touchpoints",
    "transactions",
]

T = TypeVar("T")

# Kept well inside datetime's range so that converting to UTC and adding durations never overflows.
_EARLIEST = datetime(1900, 1, 1)  # noqa: DTZ001 - hypothesis bounds must be naive
_LATEST = datetime(2200, 1, 1)  # noqa: DTZ001 - hypothesis bounds must be naive
_COUNTRIES = ("DE", "FR", "US", "JP", "BR", "NG", "IN", "CH", "AU", "ZA")
_CURRENCIES = ("EUR", "USD", "JPY", "CHF", "GBP", "BRL", "INR", "XAU")


def identifiers() -> st.SearchStrategy[str]:
    """Non-empty strings without leading or trailing whitespace, in any script."""
    return st.text(min_size=1, max_size=24).filter(lambda s: s == s.strip())


def _time_zones() -> st.SearchStrategy[tzinfo]:
    fixed = st.builds(
        timezone,
        st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(
            lambda m: timedelta(minutes=m)
        ),
    )
    return st.one_of(st.just(UTC), fixed, st.timezones())


def aware_datetimes() -> st.SearchStrategy[datetime]:
    """Timezone-aware datetimes between 1900 and 2200 in IANA zones, fixed offsets and UTC."""
    return st.datetimes(min_value=_EARLIEST, max_value=_LATEST, timezones=_time_zones())


def _later_than(start: datetime) -> st.SearchStrategy[datetime]:
    """An aware datetime at or after ``start`` (as an instant), in any time zone."""
    utc_start = start.astimezone(UTC)
    return st.builds(
        lambda delta, zone: (utc_start + delta).astimezone(zone),
        st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3650)),
        _time_zones(),
    )


def _optional(strategy: st.SearchStrategy[T]) -> st.SearchStrategy[T | None]:
    return st.none() | strategy


def _names() -> st.SearchStrategy[str]:
    return st.text(min_size=1, max_size=40).filter(lambda s: s.strip() != "")


def _tags() -> st.SearchStrategy[frozenset[str]]:
    return st.frozensets(identifiers(), max_size=4)


@st.composite
def customers(draw: st.DrawFn) -> Customer:
    """Valid [`Customer`][relmark.domain.records.Customer] records, open or closed."""
    opened_at = draw(aware_datetimes())
    return Customer(
        customer_id=CustomerId(draw(identifiers())),
        opened_at=opened_at,
        closed_at=draw(st.none() | _later_than(opened_at)),
        name=draw(_optional(_names())),
        email=draw(_optional(st.emails())),
        country=draw(_optional(st.sampled_from(_COUNTRIES))),
        tags=draw(_tags()),
    )


@st.composite
def stakeholders(draw: st.DrawFn) -> Stakeholder:
    """Valid [`Stakeholder`][relmark.domain.records.Stakeholder] records of every role."""
    since = draw(aware_datetimes())
    return Stakeholder(
        stakeholder_id=StakeholderId(draw(identifiers())),
        name=draw(_names()),
        role=draw(st.sampled_from(StakeholderRole)),
        since=since,
        until=draw(st.none() | _later_than(since)),
        email=draw(_optional(st.emails())),
        country=draw(_optional(st.sampled_from(_COUNTRIES))),
        tags=draw(_tags()),
    )


@st.composite
def touchpoints(draw: st.DrawFn) -> Touchpoint:
    """Valid [`Touchpoint`][relmark.domain.records.Touchpoint] records with customers or stakeholders.

    Resolvable kinds (complaints, inquiries, support) are sometimes resolved.
    """
    touchpoint_id = draw(identifiers())
    at = draw(aware_datetimes())
    kind = draw(st.sampled_from(TouchpointKind))
    with_customer = draw(st.booleans())
    counterpart = draw(identifiers())
    resolved_at = draw(st.none() | _later_than(at)) if kind.can_be_resolved else None
    in_reply_to = draw(_optional(identifiers().filter(lambda s: s != touchpoint_id)))
    return Touchpoint(
        touchpoint_id=TouchpointId(touchpoint_id),
        at=at,
        channel=draw(st.sampled_from(Channel)),
        direction=draw(st.sampled_from(Direction)),
        kind=kind,
        customer_id=CustomerId(counterpart) if with_customer else None,
        stakeholder_id=None if with_customer else StakeholderId(counterpart),
        resolved_at=resolved_at,
        in_reply_to=None if in_reply_to is None else TouchpointId(in_reply_to),
        transaction_id=draw(_optional(identifiers().map(TransactionId))),
        campaign_id=draw(_optional(identifiers().map(CampaignId))),
    )


def _amounts() -> st.SearchStrategy[float]:
    """Non-negative finite floats, from subnormals to the largest float, plus round money."""
    return st.one_of(
        st.floats(min_value=0.0, max_value=sys.float_info.max, allow_nan=False),
        st.integers(min_value=0, max_value=10**9).map(lambda cents: cents / 100),
    )


@st.composite
def transactions(draw: st.DrawFn) -> Transaction:
    """Valid [`Transaction`][relmark.domain.records.Transaction] records: purchases and returns."""
    transaction_id = draw(identifiers())
    is_return = draw(st.booleans())
    amount = draw(_amounts())
    original = draw(_optional(identifiers().filter(lambda s: s != transaction_id)))
    return Transaction(
        transaction_id=TransactionId(transaction_id),
        customer_id=CustomerId(draw(identifiers())),
        at=draw(aware_datetimes()),
        amount=-amount if is_return else amount,
        currency=draw(st.sampled_from(_CURRENCIES) | st.from_regex(r"\A[A-Z]{3}\Z")),
        is_return=is_return,
        quantity=draw(st.none() | st.integers(min_value=1, max_value=10**6)),
        channel=draw(st.none() | st.sampled_from(Channel)),
        original_transaction_id=None
        if original is None or not is_return
        else TransactionId(original),
    )
