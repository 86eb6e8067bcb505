from __future__ import annotations

from datetime import datetime

import attrs
from hypothesis import given
from hypothesis import strategies as st

from relmark.domain import Customer, Stakeholder, Touchpoint, Transaction
from relmark.testing.strategies import (
    aware_datetimes,
    customers,
    identifiers,
    stakeholders,
    touchpoints,
    transactions,
)


@given(st.one_of(customers(), stakeholders(), touchpoints(), transactions()))
def test_generated_records_pass_validation(record: object) -> None:
    """Every generated record survives attrs.validate and a rebuild through its constructor."""
    attrs.validate(record)  # type: ignore[arg-type]
    fields = {f.name: getattr(record, f.name) for f in attrs.fields(type(record))}
    assert type(record)(**fields) == record


@given(identifiers())
def test_identifiers_are_valid_ids(value: str) -> None:
    """Identifiers are non-empty and have no surrounding whitespace."""
    assert value
    assert value == value.strip()


@given(aware_datetimes())
def test_datetimes_are_aware(value: datetime) -> None:
    """Generated datetimes always carry a UTC offset."""
    assert value.utcoffset() is not None


@given(transactions())
def test_amount_sign_matches_return_flag(transaction: Transaction) -> None:
    """Purchases are generated with amount >= 0 and returns with amount <= 0."""
    assert (transaction.amount <= 0) if transaction.is_return else (transaction.amount >= 0)


@given(touchpoints())
def test_only_resolvable_touchpoints_are_resolved(touchpoint: Touchpoint) -> None:
    """resolved_at is generated only for complaints, inquiries and support requests."""
    assert touchpoint.resolved_at is None or touchpoint.kind.can_be_resolved


@given(customers(), stakeholders(), touchpoints(), transactions())
def test_record_types(
    customer: object, stakeholder: object, touchpoint: object, transaction: object
) -> None:
    """Each strategy generates its own record type."""
    assert isinstance(customer, Customer)
    assert isinstance(stakeholder, Stakeholder)
    assert isinstance(touchpoint, Touchpoint)
    assert isinstance(transaction, Transaction)
