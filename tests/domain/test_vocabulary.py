from __future__ import annotations

import pytest

from relmark.domain import ROLE_MARKETS, Channel, Market, StakeholderRole, TouchpointKind
from relmark.errors import InvalidInputError


def test_every_role_has_a_market() -> None:
    """The role → market mapping is total: every role maps to a Market."""
    assert set(ROLE_MARKETS) == set(StakeholderRole)
    for role in StakeholderRole:
        assert isinstance(role.market, Market)


def test_every_market_is_reached() -> None:
    """Every one of the six markets has at least one role (the mapping is onto)."""
    assert {role.market for role in StakeholderRole} == set(Market)
    assert len(Market) == 6


@pytest.mark.parametrize(
    ("role", "market"),
    [
        (StakeholderRole.CUSTOMER, Market.CUSTOMER),
        (StakeholderRole.DISTRIBUTOR, Market.CUSTOMER),
        (StakeholderRole.SUPPLIER, Market.SUPPLIER_ALLIANCE),
        (StakeholderRole.CHANNEL_PARTNER, Market.SUPPLIER_ALLIANCE),
        (StakeholderRole.SHAREHOLDER, Market.INFLUENCE),
        (StakeholderRole.ANALYST, Market.INFLUENCE),
        (StakeholderRole.REFERRAL_SOURCE, Market.REFERRAL),
        (StakeholderRole.EMPLOYEE, Market.INTERNAL),
        (StakeholderRole.CANDIDATE, Market.RECRUITMENT),
    ],
)
def test_documented_placements(role: StakeholderRole, market: Market) -> None:
    """Roles sit in the market the six-markets table of the module docs gives them."""
    assert role.market is market


def test_role_markets_is_read_only() -> None:
    """ROLE_MARKETS cannot be changed at run time (no global mutable state)."""
    with pytest.raises(TypeError):
        ROLE_MARKETS[StakeholderRole.CUSTOMER] = Market.INTERNAL  # type: ignore[index]


def test_parse_accepts_values_and_members() -> None:
    """parse turns a value string into its member and returns members unchanged."""
    assert Channel.parse("field_sales") is Channel.FIELD_SALES
    assert Channel.parse(Channel.WEB) is Channel.WEB


def test_parse_lists_allowed_values() -> None:
    """parse of an unknown value names the field, the value and the allowed values."""
    with pytest.raises(InvalidInputError, match=r"channel must be a Channel.*'store'.*got 'fax'"):
        Channel.parse("fax", field="channel")


def test_resolvable_kinds() -> None:
    """Only complaints, inquiries and support requests can carry a resolution."""
    resolvable = {k for k in TouchpointKind if k.can_be_resolved}
    assert resolvable == {TouchpointKind.COMPLAINT, TouchpointKind.INQUIRY, TouchpointKind.SUPPORT}
