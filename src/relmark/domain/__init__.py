"""Typed domain records and the closed vocabularies they use.

- [`relmark.domain.records`][relmark.domain.records]: [`Customer`][relmark.domain.records.Customer],
  [`Stakeholder`][relmark.domain.records.Stakeholder],
  [`Touchpoint`][relmark.domain.records.Touchpoint],
  [`Transaction`][relmark.domain.records.Transaction] and their id types.
- [`relmark.domain.vocabulary`][relmark.domain.vocabulary]: the enums
  ([`StakeholderRole`][relmark.domain.vocabulary.StakeholderRole],
  [`Market`][relmark.domain.vocabulary.Market] of the six-markets model,
  [`Channel`][relmark.domain.vocabulary.Channel],
  [`Direction`][relmark.domain.vocabulary.Direction],
  [`TouchpointKind`][relmark.domain.vocabulary.TouchpointKind]).

Records know nothing about JSON; [`relmark.io`][relmark.io] converts them.
"""

from relmark.domain.records import (
    CampaignId,
    Customer,
    CustomerId,
    Stakeholder,
    StakeholderId,
    Touchpoint,
    TouchpointId,
    Transaction,
    TransactionId,
)
from relmark.domain.vocabulary import (
    ROLE_MARKETS,
    Channel,
    Direction,
    Market,
    StakeholderRole,
    TouchpointKind,
)

__all__ = [
    "ROLE_MARKETS",
    "CampaignId",
    "Channel",
    "Customer",
    "CustomerId",
    "Direction",
    "Market",
    "Stakeholder",
    "StakeholderId",
    "StakeholderRole",
    "Touchpoint",
    "TouchpointId",
    "TouchpointKind",
    "Transaction",
    "TransactionId",
]
