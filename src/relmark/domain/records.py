"""Typed domain records: customers, stakeholders, touchpoints and transactions.

Every record is a frozen, slotted, keyword-only attrs class. Its validators guard the invariants
and raise [`InvalidInputError`][relmark.errors.InvalidInputError] naming the field, what was
expected and what arrived:

```text
Transaction.at must be a timezone-aware datetime; got naive datetime 2024-01-01 00:00:00.
```

Conventions that hold for every record here:

- **Identifiers** are `NewType`s of `str` ([`CustomerId`][relmark.domain.records.CustomerId], ...):
  non-empty, without leading or trailing whitespace (an id `" 42"` that silently fails to match
  `"42"` is a classic data bug, so it is refused rather than stripped).
- **Timestamps** are timezone-aware `datetime`s. Orderings between two timestamps (closing after
  opening, resolution after complaint) compare *instants*, whatever the time zones.
- **Collections** inside a record are immutable (`frozenset`), so a frozen record really is.
  Change a record with `attrs.evolve`, which re-runs every validator.
- **Field validators look only at their own field**; rules that relate several fields run in
  `__attrs_post_init__`. That is what lets [`relmark.io`][relmark.io] report every bad field of a
  payload at once.
- Records know nothing about JSON: [`relmark.io.to_json`][relmark.io.to_json] and
  [`relmark.io.from_json`][relmark.io.from_json] convert them at the edge.

Money is a `float` plus an ISO-4217 currency code. Every model downstream (Gamma-Gamma spend, CLV)
works in float64, so a `Decimal` would be converted at the first use anyway; a float survives the
JSON round trip exactly (its shortest `repr` is written and read back bit for bit); and an `int`
or `Decimal` given by the caller is accepted when a float holds it exactly (`Decimal("19.99")`
becomes `19.99`), refused otherwise, so no amount is silently rounded.
"""

from __future__ import annotations

import enum
import math
import numbers
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, NewType

import attrs

from relmark.domain.vocabulary import Channel, Direction, Market, StakeholderRole, TouchpointKind
from relmark.errors import InvalidInputError

__all__ = [
    "CampaignId",
    "Customer",
    "CustomerId",
    "Stakeholder",
    "StakeholderId",
    "Touchpoint",
    "TouchpointId",
    "Transaction",
    "TransactionId",
]

CustomerId = NewType("CustomerId", str)
"""Identifier of a [`Customer`][relmark.domain.records.Customer]."""
StakeholderId = NewType("StakeholderId", str)
"""Identifier of a [`Stakeholder`][relmark.domain.records.Stakeholder]."""
TouchpointId = NewType("TouchpointId", str)
"""Identifier of a [`Touchpoint`][relmark.domain.records.Touchpoint]."""
TransactionId = NewType("TransactionId", str)
"""Identifier of a [`Transaction`][relmark.domain.records.Transaction]."""
CampaignId = NewType("CampaignId", str)
"""Identifier of a marketing campaign (referenced by campaign touchpoints)."""


# ---------------------------------------------------------------- validators


def _describe(value: object) -> str:
    if isinstance(value, datetime) and value.utcoffset() is None:
        return f"naive datetime {value}"
    if isinstance(value, str):
        return repr(value)
    return f"{value!r} ({type(value).__name__})"


def _masked(value: object) -> str:
    """Repr of a personal value (a name, an e-mail address): its type, never its content."""
    return "None" if value is None else f"<{type(value).__name__}, masked>"


class _Check:
    """An attrs validator: ``test(value)`` must hold, else a message naming the field.

    For a ``personal`` field (a person's name or e-mail address) the message names the type of
    the offending value, never the value: messages end up in logs.
    """

    __slots__ = ("_expected", "_optional", "_owner", "_personal", "_test")

    def __init__(
        self,
        owner: str,
        expected: str,
        test: Callable[[Any], bool],
        *,
        optional: bool = False,
        personal: bool = False,
    ) -> None:
        self._owner = owner
        self._expected = expected
        self._test = test
        self._optional = optional
        self._personal = personal

    def __call__(self, _instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is None and self._optional:
            return
        if not self._test(value):
            alternative = " or None" if self._optional else ""
            got = (
                f"a {type(value).__name__} (not shown: personal data)"
                if self._personal
                else _describe(value)
            )
            raise InvalidInputError(
                f"{self._owner}.{attribute.name} must be {self._expected}{alternative}; got {got}."
            )


def _is_identifier(value: object) -> bool:
    return isinstance(value, str) and value != "" and value == value.strip()


def _identifier(owner: str, *, optional: bool = False) -> _Check:
    return _Check(
        owner,
        "a non-empty string without leading or trailing whitespace",
        _is_identifier,
        optional=optional,
    )


def _aware(owner: str, *, optional: bool = False) -> _Check:
    return _Check(
        owner,
        "a timezone-aware datetime",
        lambda v: isinstance(v, datetime) and v.utcoffset() is not None,
        optional=optional,
    )


def _text(owner: str, *, optional: bool = False) -> _Check:
    return _Check(
        owner,
        "a string with at least one non-space character",
        lambda v: isinstance(v, str) and v.strip() != "",
        optional=optional,
        personal=True,
    )


def _is_email(value: object) -> bool:
    if not isinstance(value, str) or any(c.isspace() for c in value):
        return False
    local, _, domain = value.rpartition("@")
    return local != "" and domain != ""


def _email(owner: str) -> _Check:
    return _Check(
        owner,
        "an e-mail address such as 'ada@example.com' (text, '@', domain; no spaces)",
        _is_email,
        optional=True,
        personal=True,
    )


def _is_code(value: object, length: int) -> bool:
    return (
        isinstance(value, str)
        and len(value) == length
        and value.isascii()
        and value.isalpha()
        and value.isupper()
    )


def _country(owner: str) -> _Check:
    return _Check(
        owner,
        "an ISO 3166-1 alpha-2 country code: two upper-case letters such as 'DE'",
        lambda v: _is_code(v, 2),
        optional=True,
        # Where a person lives is personal data, and a wrong value may be an address.
        personal=True,
    )


def _member(owner: str, vocabulary: type[enum.Enum], *, optional: bool = False) -> _Check:
    example = next(iter(vocabulary)).value
    return _Check(
        owner,
        f"a {vocabulary.__name__} member (from text: {vocabulary.__name__}.parse({example!r}))",
        lambda v: isinstance(v, vocabulary),
        optional=optional,
    )


def _tags(owner: str) -> _Check:
    return _Check(
        owner,
        "a set of non-empty strings without leading or trailing whitespace",
        lambda v: isinstance(v, frozenset) and all(_is_identifier(t) for t in v),
    )


def _to_tag_set(owner: str, value: Iterable[str]) -> frozenset[str]:
    if isinstance(value, str):
        raise InvalidInputError(
            f"{owner}.tags must be a collection of strings; got the single string {value!r} "
            f"(write tags={{{value!r}}} for one tag)."
        )
    try:
        return frozenset(value)
    except TypeError:
        raise InvalidInputError(
            f"{owner}.tags must be a collection of strings; got {_describe(value)}."
        ) from None


def _customer_tags(value: Iterable[str]) -> frozenset[str]:
    return _to_tag_set("Customer", value)


def _stakeholder_tags(value: Iterable[str]) -> frozenset[str]:
    return _to_tag_set("Stakeholder", value)


def _to_amount(value: float | Decimal) -> float:
    """Turn an exactly representable int or Decimal into a float; leave anything else as is.

    What is left unchanged (a bool, a string, an inexact Decimal, ...) is then refused by the
    field's validator with a message naming the field.
    """
    raw: object = value  # the annotation says what callers should pass, not what arrives
    if isinstance(raw, float):
        return raw
    if isinstance(raw, bool):
        return value  # type: ignore[return-value]  # a flag is not money: the validator refuses it
    if isinstance(raw, numbers.Integral):
        as_float = float(raw)
        if math.isfinite(as_float) and int(as_float) == raw:
            return as_float
    elif isinstance(raw, Decimal) and raw.is_finite():
        as_float = float(raw)
        if math.isfinite(as_float) and Decimal(repr(as_float)) == raw:
            return as_float
    # Not a float: returned unchanged so the field's validator refuses it with a message naming
    # the field (a converter does not know the field's name).
    return value  # type: ignore[return-value]


def _instant(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _check_not_before(
    owner: str, earlier_name: str, earlier: datetime, later_name: str, later: datetime | None
) -> None:
    if later is not None and _instant(later) < _instant(earlier):
        raise InvalidInputError(
            f"{owner}.{later_name} must not be before {owner}.{earlier_name}; "
            f"got {later_name}={later.isoformat()} and {earlier_name}={earlier.isoformat()}."
        )


# ---------------------------------------------------------------- records


@attrs.frozen(kw_only=True)
class Customer:
    """A customer account.

    Attributes:
        customer_id: The customer's identifier.
        opened_at: When the account was opened (timezone-aware).
        closed_at: When the account was closed, if it was (not before ``opened_at``). In
            contractual settings this is the churn date.
        name: Display name.
        email: Contact e-mail address (checked for shape only: text, ``@``, domain, no spaces).
        country: ISO 3166-1 alpha-2 code, e.g. ``"DE"``.
        tags: Free labels such as segments (``{"b2b", "vip"}``); any iterable of strings is
            accepted and stored as a ``frozenset``.

    Examples:
        >>> from datetime import datetime, timezone
        >>> ada = Customer(
        ...     customer_id=CustomerId("c-1"),
        ...     opened_at=datetime(2024, 3, 1, tzinfo=timezone.utc),
        ...     tags=["vip"],
        ... )
        >>> ada.tags, ada.is_closed
        (frozenset({'vip'}), False)
    """

    customer_id: CustomerId = attrs.field(validator=_identifier("Customer"))
    opened_at: datetime = attrs.field(validator=_aware("Customer"))
    closed_at: datetime | None = attrs.field(
        default=None, validator=_aware("Customer", optional=True)
    )
    name: str | None = attrs.field(
        default=None, validator=_text("Customer", optional=True), repr=_masked
    )
    email: str | None = attrs.field(default=None, validator=_email("Customer"), repr=_masked)
    country: str | None = attrs.field(default=None, validator=_country("Customer"))
    tags: frozenset[str] = attrs.field(
        default=frozenset(), converter=_customer_tags, validator=_tags("Customer")
    )

    def __attrs_post_init__(self) -> None:
        """Check that the account is not closed before it was opened."""
        _check_not_before("Customer", "opened_at", self.opened_at, "closed_at", self.closed_at)

    @property
    def is_closed(self) -> bool:
        """Whether the account has been closed."""
        return self.closed_at is not None


@attrs.frozen(kw_only=True)
class Stakeholder:
    """A party the firm has a relationship with, in one of the six markets.

    Attributes:
        stakeholder_id: The stakeholder's identifier.
        name: Name of the person or organization.
        role: The role it plays for the firm; ``market`` follows from it.
        since: When the relationship began (timezone-aware).
        until: When it ended, if it did (not before ``since``).
        email: Contact e-mail address.
        country: ISO 3166-1 alpha-2 code.
        tags: Free labels; stored as a ``frozenset``.

    Examples:
        >>> from datetime import datetime, timezone
        >>> fund = Stakeholder(
        ...     stakeholder_id=StakeholderId("s-7"),
        ...     name="Northwind Capital",
        ...     role=StakeholderRole.SHAREHOLDER,
        ...     since=datetime(2020, 1, 1, tzinfo=timezone.utc),
        ... )
        >>> fund.market
        <Market.INFLUENCE: 'influence'>
    """

    stakeholder_id: StakeholderId = attrs.field(validator=_identifier("Stakeholder"))
    name: str = attrs.field(validator=_text("Stakeholder"), repr=_masked)
    role: StakeholderRole = attrs.field(validator=_member("Stakeholder", StakeholderRole))
    since: datetime = attrs.field(validator=_aware("Stakeholder"))
    until: datetime | None = attrs.field(
        default=None, validator=_aware("Stakeholder", optional=True)
    )
    email: str | None = attrs.field(default=None, validator=_email("Stakeholder"), repr=_masked)
    country: str | None = attrs.field(default=None, validator=_country("Stakeholder"))
    tags: frozenset[str] = attrs.field(
        default=frozenset(), converter=_stakeholder_tags, validator=_tags("Stakeholder")
    )

    def __attrs_post_init__(self) -> None:
        """Check that the relationship does not end before it began."""
        _check_not_before("Stakeholder", "since", self.since, "until", self.until)

    @property
    def market(self) -> Market:
        """The six-markets market of this stakeholder's role."""
        return self.role.market


@attrs.frozen(kw_only=True)
class Touchpoint:
    """One interaction between the firm and a customer or another stakeholder.

    Exactly one of ``customer_id`` and ``stakeholder_id`` names the counterpart.

    Attributes:
        touchpoint_id: The touchpoint's identifier.
        at: When it happened (timezone-aware).
        channel: Where it happened.
        direction: Who initiated it: the counterpart (inbound) or the firm (outbound).
        kind: What happened.
        customer_id: The customer involved, for customer touchpoints.
        stakeholder_id: The stakeholder involved, for touchpoints with other stakeholders.
        resolved_at: For complaints, inquiries and support requests: when the case was resolved
            (not before ``at``). Left ``None`` while the case is open.
        in_reply_to: The touchpoint this one answers (a resolution answering a complaint, a click
            on a campaign send).
        transaction_id: The transaction a purchase or return touchpoint records.
        campaign_id: The campaign a campaign touchpoint belongs to.

    Examples:
        >>> from datetime import datetime, timezone
        >>> complaint = Touchpoint(
        ...     touchpoint_id=TouchpointId("t-1"),
        ...     customer_id=CustomerId("c-1"),
        ...     at=datetime(2024, 5, 2, 9, 0, tzinfo=timezone.utc),
        ...     channel=Channel.PHONE,
        ...     direction=Direction.INBOUND,
        ...     kind=TouchpointKind.COMPLAINT,
        ...     resolved_at=datetime(2024, 5, 3, 9, 0, tzinfo=timezone.utc),
        ... )
        >>> complaint.resolution_time
        datetime.timedelta(days=1)
    """

    touchpoint_id: TouchpointId = attrs.field(validator=_identifier("Touchpoint"))
    at: datetime = attrs.field(validator=_aware("Touchpoint"))
    channel: Channel = attrs.field(validator=_member("Touchpoint", Channel))
    direction: Direction = attrs.field(validator=_member("Touchpoint", Direction))
    kind: TouchpointKind = attrs.field(validator=_member("Touchpoint", TouchpointKind))
    customer_id: CustomerId | None = attrs.field(
        default=None, validator=_identifier("Touchpoint", optional=True)
    )
    stakeholder_id: StakeholderId | None = attrs.field(
        default=None, validator=_identifier("Touchpoint", optional=True)
    )
    resolved_at: datetime | None = attrs.field(
        default=None, validator=_aware("Touchpoint", optional=True)
    )
    in_reply_to: TouchpointId | None = attrs.field(
        default=None, validator=_identifier("Touchpoint", optional=True)
    )
    transaction_id: TransactionId | None = attrs.field(
        default=None, validator=_identifier("Touchpoint", optional=True)
    )
    campaign_id: CampaignId | None = attrs.field(
        default=None, validator=_identifier("Touchpoint", optional=True)
    )

    def __attrs_post_init__(self) -> None:
        """Check the rules that relate several fields."""
        if (self.customer_id is None) == (self.stakeholder_id is None):
            got = "neither" if self.customer_id is None else "both"
            raise InvalidInputError(
                "Touchpoint needs exactly one counterpart, customer_id or stakeholder_id; "
                f"got {got} (customer_id={self.customer_id!r}, "
                f"stakeholder_id={self.stakeholder_id!r})."
            )
        if self.resolved_at is not None and not self.kind.can_be_resolved:
            resolvable = ", ".join(repr(k.value) for k in TouchpointKind if k.can_be_resolved)
            raise InvalidInputError(
                f"Touchpoint.resolved_at is only meaningful for kinds {resolvable}; "
                f"got kind {self.kind.value!r} with resolved_at={self.resolved_at.isoformat()}."
            )
        _check_not_before("Touchpoint", "at", self.at, "resolved_at", self.resolved_at)
        if self.in_reply_to is not None and self.in_reply_to == self.touchpoint_id:
            raise InvalidInputError(
                f"Touchpoint.in_reply_to must name another touchpoint; got the touchpoint's own "
                f"id {self.in_reply_to!r}."
            )

    @classmethod
    def from_transaction(
        cls,
        transaction: Transaction,
        *,
        touchpoint_id: TouchpointId,
        channel: Channel | None = None,
        direction: Direction = Direction.INBOUND,
    ) -> Touchpoint:
        """The purchase (or return) touchpoint that records ``transaction`` on the timeline.

        Args:
            transaction: The transaction; its customer, time and channel are used.
            touchpoint_id: Identifier of the new touchpoint.
            channel: The channel, required when the transaction has none; otherwise it must
                agree with the transaction's.
            direction: Who initiated it; a purchase is usually inbound.

        Returns:
            A touchpoint of kind `purchase` (or `return`) linked through ``transaction_id``.

        Raises:
            InvalidInputError: When no channel is known or the two channels disagree.
        """
        if channel is None:
            channel = transaction.channel
        elif transaction.channel is not None and channel is not transaction.channel:
            raise InvalidInputError(
                f"The 'channel' argument ({channel.value!r}) contradicts the transaction's "
                f"channel ({transaction.channel.value!r}); leave it out to use the transaction's."
            )
        if channel is None:
            raise InvalidInputError(
                f"Transaction {transaction.transaction_id!r} records no channel; pass 'channel'."
            )
        return cls(
            touchpoint_id=touchpoint_id,
            at=transaction.at,
            channel=channel,
            direction=direction,
            kind=TouchpointKind.RETURN if transaction.is_return else TouchpointKind.PURCHASE,
            customer_id=transaction.customer_id,
            transaction_id=transaction.transaction_id,
        )

    @property
    def counterpart_id(self) -> CustomerId | StakeholderId:
        """The id of the customer or stakeholder involved (whichever is set)."""
        if self.customer_id is not None:
            return self.customer_id
        if self.stakeholder_id is None:  # pragma: no cover - excluded by __attrs_post_init__
            raise AssertionError
        return self.stakeholder_id

    @property
    def resolution_time(self) -> timedelta | None:
        """Elapsed real time from ``at`` to ``resolved_at``, or ``None`` while unresolved."""
        if self.resolved_at is None:
            return None
        return _instant(self.resolved_at) - _instant(self.at)


@attrs.frozen(kw_only=True)
class Transaction:
    """A purchase, or the return of one.

    The sign of ``amount`` follows the money flow to the firm and must agree with
    ``is_return``: a purchase has ``amount >= 0`` (zero for a free item), a return has
    ``amount <= 0`` (the refund). A negative amount without ``is_return=True`` is refused: in
    exports it is usually a return that lost its flag, or a sign error.

    Attributes:
        transaction_id: The transaction's identifier.
        customer_id: The buying customer.
        at: When it took place (timezone-aware).
        amount: Money value, finite; an ``int`` or ``Decimal`` is accepted when a float holds it
            exactly (see the module documentation for why money is a float).
        currency: ISO-4217 code: three upper-case letters such as ``"EUR"``.
        is_return: Whether this is a return (refund) rather than a purchase.
        quantity: Number of items, a positive int (also positive for returns: items returned).
        channel: Where it took place.
        original_transaction_id: For a return, the purchase being returned.

    Examples:
        >>> from datetime import datetime, timezone
        >>> from decimal import Decimal
        >>> sale = Transaction(
        ...     transaction_id=TransactionId("o-1"),
        ...     customer_id=CustomerId("c-1"),
        ...     at=datetime(2024, 5, 1, 12, 30, tzinfo=timezone.utc),
        ...     amount=Decimal("19.99"),
        ...     currency="EUR",
        ... )
        >>> sale.amount
        19.99
    """

    transaction_id: TransactionId = attrs.field(validator=_identifier("Transaction"))
    customer_id: CustomerId = attrs.field(validator=_identifier("Transaction"))
    at: datetime = attrs.field(validator=_aware("Transaction"))
    amount: float = attrs.field(
        converter=_to_amount,
        validator=_Check(
            "Transaction",
            "a finite float (an int or Decimal is accepted when a float holds it exactly)",
            lambda v: isinstance(v, float) and math.isfinite(v),
        ),
    )
    currency: str = attrs.field(
        validator=_Check(
            "Transaction",
            "an ISO-4217 currency code: three upper-case letters such as 'EUR'",
            lambda v: _is_code(v, 3),
        )
    )
    is_return: bool = attrs.field(
        default=False,
        validator=_Check("Transaction", "True or False", lambda v: isinstance(v, bool)),
    )
    quantity: int | None = attrs.field(
        default=None,
        validator=_Check(
            "Transaction",
            "a positive int",
            lambda v: isinstance(v, int) and not isinstance(v, bool) and v > 0,
            optional=True,
        ),
    )
    channel: Channel | None = attrs.field(
        default=None, validator=_member("Transaction", Channel, optional=True)
    )
    original_transaction_id: TransactionId | None = attrs.field(
        default=None, validator=_identifier("Transaction", optional=True)
    )

    def __attrs_post_init__(self) -> None:
        """Check that the sign of ``amount`` agrees with ``is_return`` and the return link."""
        if self.is_return and self.amount > 0:
            raise InvalidInputError(
                f"Transaction.amount must be <= 0 for a return (is_return=True: the refund flows "
                f"out); got {self.amount!r}."
            )
        if not self.is_return and self.amount < 0:
            raise InvalidInputError(
                f"Transaction.amount must be >= 0 for a purchase; got {self.amount!r}. If this "
                "is a return, set is_return=True."
            )
        if self.original_transaction_id is not None:
            if not self.is_return:
                raise InvalidInputError(
                    "Transaction.original_transaction_id is only meaningful for a return "
                    f"(is_return=True); got {self.original_transaction_id!r} on a purchase."
                )
            if self.original_transaction_id == self.transaction_id:
                raise InvalidInputError(
                    "Transaction.original_transaction_id must name another transaction; got "
                    f"the transaction's own id {self.original_transaction_id!r}."
                )
