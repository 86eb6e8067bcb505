from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest

from relmark.domain import (
    Channel,
    Customer,
    CustomerId,
    Direction,
    Market,
    Stakeholder,
    StakeholderId,
    StakeholderRole,
    Touchpoint,
    TouchpointId,
    TouchpointKind,
    Transaction,
    TransactionId,
)
from relmark.errors import InvalidInputError

T0 = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)
NAIVE = datetime(2024, 1, 1)  # noqa: DTZ001 - deliberately naive


def valid(cls: type) -> dict[str, Any]:
    """Keyword arguments for a valid record of ``cls``."""
    if cls is Customer:
        return {"customer_id": CustomerId("c-1"), "opened_at": T0}
    if cls is Stakeholder:
        return {
            "stakeholder_id": StakeholderId("s-1"),
            "name": "Acme Supplies",
            "role": StakeholderRole.SUPPLIER,
            "since": T0,
        }
    if cls is Touchpoint:
        return {
            "touchpoint_id": TouchpointId("t-1"),
            "customer_id": CustomerId("c-1"),
            "at": T0,
            "channel": Channel.EMAIL,
            "direction": Direction.INBOUND,
            "kind": TouchpointKind.COMPLAINT,
        }
    return {
        "transaction_id": TransactionId("o-1"),
        "customer_id": CustomerId("c-1"),
        "at": T0,
        "amount": 19.99,
        "currency": "EUR",
    }


BAD_FIELDS = [
    (Customer, "customer_id", ""),
    (Customer, "customer_id", " c-1"),
    (Customer, "customer_id", 17),
    (Customer, "opened_at", NAIVE),
    (Customer, "opened_at", "2024-01-01T00:00:00+00:00"),
    (Customer, "closed_at", NAIVE),
    (Customer, "name", "   "),
    (Customer, "email", "ada at example.com"),
    (Customer, "email", "@example.com"),
    (Customer, "country", "de"),
    (Customer, "country", "DEU"),
    (Customer, "tags", "vip"),
    (Customer, "tags", {"vip", ""}),
    (Customer, "tags", 5),
    (Stakeholder, "stakeholder_id", ""),
    (Stakeholder, "name", ""),
    (Stakeholder, "role", "supplier"),
    (Stakeholder, "since", NAIVE),
    (Stakeholder, "until", NAIVE),
    (Stakeholder, "email", "x y@z"),
    (Stakeholder, "country", "U1"),
    (Stakeholder, "tags", "board"),
    (Touchpoint, "touchpoint_id", "t-1\n"),
    (Touchpoint, "at", NAIVE),
    (Touchpoint, "channel", "email"),
    (Touchpoint, "direction", None),
    (Touchpoint, "kind", 3),
    (Touchpoint, "customer_id", ""),
    (Touchpoint, "resolved_at", NAIVE),
    (Touchpoint, "in_reply_to", ""),
    (Touchpoint, "transaction_id", " "),
    (Touchpoint, "campaign_id", ""),
    (Transaction, "transaction_id", ""),
    (Transaction, "customer_id", None),
    (Transaction, "at", NAIVE),
    (Transaction, "amount", float("nan")),
    (Transaction, "amount", float("inf")),
    (Transaction, "amount", "19.99"),
    (Transaction, "amount", True),
    (Transaction, "amount", Decimal("0.1234567890123456789")),
    (Transaction, "amount", 2**60 + 1),
    (Transaction, "currency", "eur"),
    (Transaction, "currency", "EURO"),
    (Transaction, "is_return", 1),
    (Transaction, "quantity", 0),
    (Transaction, "quantity", 1.0),
    (Transaction, "channel", "web"),
    (Transaction, "original_transaction_id", ""),
]


@pytest.mark.parametrize(("cls", "field", "value"), BAD_FIELDS)
def test_invalid_field_is_named(cls: type, field: str, value: object) -> None:
    """Every validated field refuses a bad value with a message naming the field and the value."""
    kwargs = valid(cls) | {field: value}
    with pytest.raises(InvalidInputError) as info:
        cls(**kwargs)
    message = str(info.value)
    assert f"{cls.__name__}.{field}" in message
    assert "must be" in message


def test_naive_datetime_message() -> None:
    """The message says what was expected and shows the naive value that arrived."""
    with pytest.raises(InvalidInputError) as info:
        Transaction(**valid(Transaction) | {"at": NAIVE})
    assert str(info.value) == (
        "Transaction.at must be a timezone-aware datetime; got naive datetime 2024-01-01 00:00:00."
    )


@pytest.mark.parametrize("cls", [Customer, Stakeholder, Touchpoint, Transaction])
def test_valid_baseline_builds(cls: type) -> None:
    """The baseline used above is itself valid, so each failure above is due to its one field."""
    assert cls(**valid(cls)) is not None


@pytest.mark.parametrize("cls", [Customer, Stakeholder, Touchpoint, Transaction])
def test_records_are_frozen_and_keyword_only(cls: type) -> None:
    """Records reject attribute assignment and positional arguments."""
    record = cls(**valid(cls))
    first = attrs.fields(cls)[0].name
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        setattr(record, first, "x")
    with pytest.raises(TypeError):
        cls(*valid(cls).values())


def test_evolve_revalidates() -> None:
    """attrs.evolve runs the validators again."""
    sale = Transaction(**valid(Transaction))
    assert attrs.evolve(sale, amount=5.0).amount == 5.0
    with pytest.raises(InvalidInputError, match=r"Transaction.currency"):
        attrs.evolve(sale, currency="euro")


def test_tags_become_frozenset() -> None:
    """Any iterable of tags is stored as a frozenset, so the record stays immutable."""
    customer = Customer(**valid(Customer) | {"tags": ["vip", "b2b", "vip"]})
    assert customer.tags == frozenset({"vip", "b2b"})
    assert isinstance(customer.tags, frozenset)


@pytest.mark.parametrize(
    ("given", "stored"),
    [(Decimal("19.99"), 19.99), (12, 12.0), (Decimal("-0"), -0.0), (2**53, 2.0**53)],
)
def test_exact_amounts_are_accepted(given: object, stored: float) -> None:
    """Ints and Decimals that a float holds exactly become that float."""
    sale = Transaction(**valid(Transaction) | {"amount": given})
    assert isinstance(sale.amount, float)
    assert sale.amount == stored


def test_closing_before_opening_is_refused() -> None:
    """closed_at must not precede opened_at, compared as instants across time zones."""
    berlin = ZoneInfo("Europe/Berlin")
    # 10:00 in Berlin (UTC+1) is 09:00 UTC: before T0 = 09:30 UTC although the wall clock is later.
    with pytest.raises(InvalidInputError, match=r"Customer.closed_at must not be before"):
        Customer(**valid(Customer) | {"closed_at": datetime(2024, 3, 1, 10, 0, tzinfo=berlin)})
    customer = Customer(
        **valid(Customer) | {"closed_at": datetime(2024, 3, 1, 10, 30, tzinfo=berlin)}
    )
    assert customer.is_closed


def test_stakeholder_until_before_since_is_refused() -> None:
    """A relationship cannot end before it began."""
    with pytest.raises(InvalidInputError, match=r"Stakeholder.until"):
        Stakeholder(**valid(Stakeholder) | {"until": T0 - timedelta(days=1)})


def test_stakeholder_market_follows_role() -> None:
    """A stakeholder's market is its role's market."""
    fund = Stakeholder(**valid(Stakeholder) | {"role": StakeholderRole.INVESTOR})
    assert fund.market is Market.INFLUENCE


@pytest.mark.parametrize(
    "counterpart",
    [
        {"customer_id": None},
        {"stakeholder_id": StakeholderId("s-1")},
    ],
)
def test_touchpoint_needs_exactly_one_counterpart(counterpart: dict[str, Any]) -> None:
    """Neither or both of customer_id and stakeholder_id is refused."""
    with pytest.raises(InvalidInputError, match="exactly one counterpart"):
        Touchpoint(**valid(Touchpoint) | counterpart)


def test_stakeholder_touchpoint() -> None:
    """A touchpoint with a stakeholder reports the stakeholder as its counterpart."""
    touchpoint = Touchpoint(
        **valid(Touchpoint) | {"customer_id": None, "stakeholder_id": StakeholderId("s-9")}
    )
    assert touchpoint.counterpart_id == "s-9"


def test_resolution_only_for_resolvable_kinds() -> None:
    """resolved_at on a purchase touchpoint is refused; on a complaint it is kept."""
    with pytest.raises(InvalidInputError, match=r"Touchpoint.resolved_at is only meaningful"):
        Touchpoint(**valid(Touchpoint) | {"kind": TouchpointKind.PURCHASE, "resolved_at": T0})


def test_resolution_time_is_elapsed_real_time() -> None:
    """resolution_time is measured between instants, across a DST change and zones."""
    new_york = ZoneInfo("America/New_York")
    at = datetime(2024, 3, 9, 12, 0, tzinfo=new_york)  # EST, UTC-5
    resolved = datetime(2024, 3, 10, 12, 0, tzinfo=new_york)  # EDT, UTC-4: 23 real hours later
    touchpoint = Touchpoint(**valid(Touchpoint) | {"at": at, "resolved_at": resolved})
    assert touchpoint.resolution_time == timedelta(hours=23)
    with pytest.raises(InvalidInputError, match=r"Touchpoint.resolved_at must not be before"):
        Touchpoint(**valid(Touchpoint) | {"resolved_at": T0 - timedelta(seconds=1)})


def test_touchpoint_cannot_reply_to_itself() -> None:
    """in_reply_to must name another touchpoint."""
    with pytest.raises(InvalidInputError, match="in_reply_to"):
        Touchpoint(**valid(Touchpoint) | {"in_reply_to": TouchpointId("t-1")})


def test_return_sign_rules() -> None:
    """Purchases are >= 0, returns <= 0, and the link to the original only exists for returns."""
    with pytest.raises(InvalidInputError, match="is_return=True"):
        Transaction(**valid(Transaction) | {"amount": -5.0})
    with pytest.raises(InvalidInputError, match="must be <= 0 for a return"):
        Transaction(**valid(Transaction) | {"is_return": True})
    with pytest.raises(InvalidInputError, match="only meaningful for a return"):
        Transaction(**valid(Transaction) | {"original_transaction_id": TransactionId("o-0")})
    with pytest.raises(InvalidInputError, match="must name another transaction"):
        Transaction(
            **valid(Transaction)
            | {"amount": -1.0, "is_return": True, "original_transaction_id": TransactionId("o-1")}
        )
    refund = Transaction(
        **valid(Transaction)
        | {"amount": -19.99, "is_return": True, "original_transaction_id": TransactionId("o-0")}
    )
    assert refund.amount == -19.99


def test_touchpoint_from_transaction() -> None:
    """from_transaction records a sale on the timeline with its customer, time and channel."""
    sale = Transaction(**valid(Transaction) | {"channel": Channel.STORE})
    touchpoint = Touchpoint.from_transaction(sale, touchpoint_id=TouchpointId("t-9"))
    assert (touchpoint.kind, touchpoint.channel, touchpoint.at) == (
        TouchpointKind.PURCHASE,
        Channel.STORE,
        sale.at,
    )
    assert touchpoint.transaction_id == sale.transaction_id
    assert touchpoint.customer_id == sale.customer_id
    refund = Transaction(**valid(Transaction) | {"amount": -1.0, "is_return": True})
    assert (
        Touchpoint.from_transaction(
            refund, touchpoint_id=TouchpointId("t-10"), channel=Channel.WEB
        ).kind
        is TouchpointKind.RETURN
    )


def test_from_transaction_channel_errors() -> None:
    """A missing or contradicting channel is refused with a message naming the argument."""
    sale = Transaction(**valid(Transaction))
    with pytest.raises(InvalidInputError, match="records no channel"):
        Touchpoint.from_transaction(sale, touchpoint_id=TouchpointId("t-9"))
    in_store = attrs.evolve(sale, channel=Channel.STORE)
    with pytest.raises(InvalidInputError, match="'channel' argument"):
        Touchpoint.from_transaction(
            in_store, touchpoint_id=TouchpointId("t-9"), channel=Channel.WEB
        )


def test_reprs_and_messages_mask_names_and_email_addresses() -> None:
    """Customer and Stakeholder reprs and validation messages never show a name or an e-mail."""
    ada = Customer(
        customer_id=CustomerId("c-1"),
        opened_at=T0,
        name="Ada Lovelace",
        email="ada@example.org",
        country="GB",
    )
    text = repr(ada)
    assert "Ada" not in text
    assert "ada@example.org" not in text
    assert "customer_id='c-1'" in text
    assert "name=<str, masked>" in text
    agent = Stakeholder(
        stakeholder_id=StakeholderId("s-1"),
        name="Grace Hopper",
        role=StakeholderRole.EMPLOYEE,
        since=T0,
        email="grace@example.org",
    )
    assert "Grace" not in repr(agent)
    assert "grace@example.org" not in repr(agent)
    with pytest.raises(InvalidInputError, match=r"Customer\.email must be .*got a str") as info:
        Customer(customer_id=CustomerId("c-2"), opened_at=T0, email="ada at example.org")
    assert "ada at example.org" not in str(info.value)
    with pytest.raises(InvalidInputError, match=r"Stakeholder\.name") as info:
        Stakeholder(
            stakeholder_id=StakeholderId("s"), name="   ", role=StakeholderRole.EMPLOYEE, since=T0
        )
    assert "'   '" not in str(info.value)
