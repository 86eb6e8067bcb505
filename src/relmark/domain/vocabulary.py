"""Closed vocabularies of the domain: stakeholder roles, markets, channels, directions, kinds.

Every vocabulary is an `enum.Enum` whose values are short lower-case strings (the
form they take in JSON). Each has a `parse` class method that turns such a string into a member and
raises [`InvalidInputError`][relmark.errors.InvalidInputError] listing the allowed values otherwise,
which is what loaders of CSV files or forms want.

The six-markets model
---------------------

[`Market`][relmark.domain.vocabulary.Market] follows the *six markets* model of relationship
marketing (Christopher, Payne & Ballantyne, *Relationship Marketing*, 1991; 2nd ed. *Relationship
Marketing: Creating Stakeholder Value*, 2002; Payne, Ballantyne & Christopher, "A stakeholder
approach to relationship marketing strategy", *European Journal of Marketing* 39(7/8), 2005). A
firm builds relationships in six markets, with customer markets at the centre:

| Market | Who is in it | Roles mapped to it |
|---|---|---|
| customer | buyers, intermediaries and final consumers | customer, distributor, intermediary |
| referral | those who recommend the firm to prospective customers | referral source, influencer |
| supplier & alliance | those who supply the firm or collaborate with it | supplier, channel partner, agency |
| recruitment | potential employees and those who give access to them | candidate |
| influence | those who shape the firm's operating environment | shareholder, investor, analyst, journalist, regulator |
| internal | current employees and internal departments | employee |

Two placements are judgement calls, made as follows. *Distributors and intermediaries* that buy and
resell belong to the customer market: the authors' customer-market domain is explicitly "buyers,
intermediaries and consumers" (2002, ch. 3); a partner that co-sells or implements under an
alliance agreement is a *channel partner* instead (supplier & alliance market, the 2002 renaming of
"supplier markets" to cover alliances). *Influencers* (people with an audience who recommend
offers to it) are placed in the referral market, whose function is word-of-mouth recommendation to
prospective customers; the influence market is reserved for those who shape the firm's environment
(the financial community, regulators, the press).
"""

from __future__ import annotations

import enum
from types import MappingProxyType
from typing import Self

from relmark.errors import InvalidInputError

__all__ = [
    "ROLE_MARKETS",
    "Channel",
    "Direction",
    "Market",
    "StakeholderRole",
    "TouchpointKind",
]


class _Vocabulary(enum.Enum):
    """An enum of lower-case string values with a `parse` that raises a helpful error."""

    @classmethod
    def parse(cls, value: str | Self, *, field: str | None = None) -> Self:
        """Return the member whose value is ``value`` (a member is returned unchanged).

        Args:
            value: A member, or its string value such as ``"email"``.
            field: Name of the field or column being parsed, used in the error message.

        Returns:
            The member.

        Raises:
            InvalidInputError: When ``value`` is not one of the allowed values; the message lists
                them.
        """
        if isinstance(value, cls):
            return value
        for member in cls:
            if member.value == value:
                return member
        allowed = ", ".join(repr(m.value) for m in cls)
        where = f"{field} must be" if field else "Expected"
        raise InvalidInputError(f"{where} a {cls.__name__}, one of {allowed}; got {value!r}.")


class Market(_Vocabulary):
    """The six markets of relationship marketing (Christopher, Payne & Ballantyne, 1991).

    See the module documentation for who belongs to each market and how stakeholder roles map to
    them.
    """

    CUSTOMER = "customer"
    """Buyers, intermediaries and final consumers: the central market."""
    REFERRAL = "referral"
    """Those who recommend the firm to prospective customers."""
    SUPPLIER_ALLIANCE = "supplier_alliance"
    """Suppliers and alliance partners."""
    RECRUITMENT = "recruitment"
    """Potential employees and those who give access to them."""
    INFLUENCE = "influence"
    """The financial community, regulators, the press: those who shape the environment."""
    INTERNAL = "internal"
    """Current employees and internal departments."""


class StakeholderRole(_Vocabulary):
    """The role a stakeholder plays for the firm; `market` places it in the six-markets model."""

    CUSTOMER = "customer"
    """Buys the firm's offers for own use."""
    DISTRIBUTOR = "distributor"
    """Buys the firm's offers to resell them (wholesaler, retailer)."""
    INTERMEDIARY = "intermediary"
    """Stands between the firm and final consumers in a sale (broker, dealer, reseller)."""
    SUPPLIER = "supplier"
    """Supplies materials, products or services to the firm."""
    CHANNEL_PARTNER = "channel_partner"
    """Co-sells or implements the firm's offers under an alliance (integrator, affiliate)."""
    AGENCY = "agency"
    """Provides marketing, media or sales services to the firm."""
    REFERRAL_SOURCE = "referral_source"
    """Recommends the firm to prospective customers (an advisor, an advocate customer)."""
    INFLUENCER = "influencer"
    """Recommends offers to an audience of prospective customers."""
    SHAREHOLDER = "shareholder"
    """Holds equity in the firm."""
    INVESTOR = "investor"
    """Provides or may provide capital (lender, venture capitalist, prospective shareholder)."""
    ANALYST = "analyst"
    """Assesses the firm for the financial community or the industry."""
    JOURNALIST = "journalist"
    """Reports on the firm or its market."""
    REGULATOR = "regulator"
    """Sets or enforces rules the firm must follow (government, standards body)."""
    EMPLOYEE = "employee"
    """Currently works for the firm."""
    CANDIDATE = "candidate"
    """A potential employee."""

    @property
    def market(self) -> Market:
        """The market of the six-markets model this role belongs to (see the module docs)."""
        return ROLE_MARKETS[self]


ROLE_MARKETS = MappingProxyType(
    {
        StakeholderRole.CUSTOMER: Market.CUSTOMER,
        StakeholderRole.DISTRIBUTOR: Market.CUSTOMER,
        StakeholderRole.INTERMEDIARY: Market.CUSTOMER,
        StakeholderRole.SUPPLIER: Market.SUPPLIER_ALLIANCE,
        StakeholderRole.CHANNEL_PARTNER: Market.SUPPLIER_ALLIANCE,
        StakeholderRole.AGENCY: Market.SUPPLIER_ALLIANCE,
        StakeholderRole.REFERRAL_SOURCE: Market.REFERRAL,
        StakeholderRole.INFLUENCER: Market.REFERRAL,
        StakeholderRole.SHAREHOLDER: Market.INFLUENCE,
        StakeholderRole.INVESTOR: Market.INFLUENCE,
        StakeholderRole.ANALYST: Market.INFLUENCE,
        StakeholderRole.JOURNALIST: Market.INFLUENCE,
        StakeholderRole.REGULATOR: Market.INFLUENCE,
        StakeholderRole.EMPLOYEE: Market.INTERNAL,
        StakeholderRole.CANDIDATE: Market.RECRUITMENT,
    }
)
"""Read-only mapping of every [`StakeholderRole`][relmark.domain.vocabulary.StakeholderRole] to its
[`Market`][relmark.domain.vocabulary.Market] (the table in the module documentation)."""


class Channel(_Vocabulary):
    """Where a touchpoint or a transaction took place."""

    STORE = "store"
    """A physical shop or branch."""
    WEB = "web"
    """A website, including web shops."""
    APP = "app"
    """A mobile or desktop application."""
    MARKETPLACE = "marketplace"
    """A third-party marketplace."""
    EMAIL = "email"
    PHONE = "phone"
    """Voice calls, including the call centre."""
    SMS = "sms"
    """Text and messenger messages."""
    CHAT = "chat"
    """Live or bot chat."""
    SOCIAL = "social"
    """Social networks."""
    MAIL = "mail"
    """Postal mail."""
    EVENT = "event"
    """Trade fairs, conferences, customer events."""
    FIELD_SALES = "field_sales"
    """Visits by or meetings with the sales force."""
    PARTNER = "partner"
    """Through a distributor or channel partner."""


class Direction(_Vocabulary):
    """Who initiated a touchpoint."""

    INBOUND = "inbound"
    """Initiated by the customer or stakeholder (a complaint, an inquiry, a click)."""
    OUTBOUND = "outbound"
    """Initiated by the firm (a campaign send, a follow-up call, a resolution)."""


class TouchpointKind(_Vocabulary):
    """What happened at a touchpoint."""

    PURCHASE = "purchase"
    RETURN = "return"
    VISIT = "visit"
    """A visit to a store, site or app without a purchase recorded at this touchpoint."""
    INQUIRY = "inquiry"
    SUPPORT = "support"
    """A support request or session."""
    COMPLAINT = "complaint"
    COMPLAINT_RESOLUTION = "complaint_resolution"
    REVIEW = "review"
    SURVEY_RESPONSE = "survey_response"
    CAMPAIGN_SEND = "campaign_send"
    CAMPAIGN_OPEN = "campaign_open"
    CAMPAIGN_CLICK = "campaign_click"
    UNSUBSCRIBE = "unsubscribe"
    REFERRAL = "referral"
    """A recommendation given or received."""
    MEETING = "meeting"

    @property
    def can_be_resolved(self) -> bool:
        """Whether touchpoints of this kind open a case that is later resolved.

        Only complaints, inquiries and support requests carry a ``resolved_at``.
        """
        return self in _RESOLVABLE


_RESOLVABLE = frozenset({TouchpointKind.COMPLAINT, TouchpointKind.INQUIRY, TouchpointKind.SUPPORT})
