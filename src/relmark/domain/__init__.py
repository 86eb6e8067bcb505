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

from typing import TYPE_CHECKING

from relmark._lazy import lazy_exports

if TYPE_CHECKING:
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

_HOMES = {
    "CampaignId": "relmark.domain.records",
    "Channel": "relmark.domain.vocabulary",
    "Customer": "relmark.domain.records",
    "CustomerId": "relmark.domain.records",
    "Direction": "relmark.domain.vocabulary",
    "Market": "relmark.domain.vocabulary",
    "ROLE_MARKETS": "relmark.domain.vocabulary",
    "Stakeholder": "relmark.domain.records",
    "StakeholderId": "relmark.domain.records",
    "StakeholderRole": "relmark.domain.vocabulary",
    "Touchpoint": "relmark.domain.records",
    "TouchpointId": "relmark.domain.records",
    "TouchpointKind": "relmark.domain.vocabulary",
    "Transaction": "relmark.domain.records",
    "TransactionId": "relmark.domain.records",
}
"""Where each public name is defined: imported on first use (see relmark._lazy)."""

__getattr__, __dir__ = lazy_exports(__name__, _HOMES)
