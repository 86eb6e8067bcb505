r"""Campaigns with control groups: records and a stable, stratified holdout assignment.

A [`Campaign`][relmark.program.campaigns.Campaign] records what was planned: its id, when it
starts, how long responses are counted, the actions (with their costs) and one
[`Contact`][relmark.program.campaigns.Contact] per planned customer × action, each in the
treatment or the control arm. Control customers are *not* contacted; comparing them with the
treated ones of the same stratum measures what the contact added.

**Assignment** ([`assign_holdout`][relmark.program.campaigns.assign_holdout]). Each customer gets
a pseudo-random key, the first 8 bytes of BLAKE2b of ``"<campaign id>\x1f<customer id>"`` (UTF-8)
read as an unsigned integer: the same in every run, process and machine, independent of the
order of the input, and unrelated between campaigns. Within each stratum (the customer's state
and the sorted set of their planned actions) customers are sorted by key and the first
``round(control_share × size)`` go to control, so each stratum's control share is as close to
the target as its size allows (not merely in expectation), and a customer's arm changes only if
the stratum's membership does. The arm belongs to the customer, so a customer planned for two
actions is in the same arm for both: no customer is ever in two arms of one campaign.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray

from relmark.errors import InvalidInputError
from relmark.program.actions import Action
from relmark.program.selection import ContactPlan

__all__ = ["Arm", "Campaign", "Contact", "assign_holdout", "holdout_keys"]


class Arm(enum.Enum):
    """The arm of a campaign a customer is in."""

    TREATMENT = "treatment"
    """Contacted."""
    CONTROL = "control"
    """Held out: planned but not contacted."""


def _check_text(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value:
        raise InvalidInputError(
            f"The {attribute.name!r} field of {type(instance).__name__} must be a non-empty "
            f"string. Got {value!r}."
        )


def _check_finite(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not np.isfinite(value):
        raise InvalidInputError(
            f"The {attribute.name!r} field of {type(instance).__name__} must be finite. "
            f"Got {value!r}."
        )


@attrs.frozen(kw_only=True)
class Contact:
    """One planned customer × action and the customer's arm.

    Attributes:
        customer_id: The customer.
        state: The customer's state value (the stratum's first part).
        action: The planned action.
        arm: Treatment (contacted) or control (held out).
        score: The expected incremental value the selection ranked on (for the Qini curve).
    """

    customer_id: str = attrs.field(validator=_check_text)
    state: str
    action: str = attrs.field(validator=_check_text)
    arm: Arm = attrs.field(validator=attrs.validators.instance_of(Arm))
    score: float = attrs.field(default=0.0, validator=_check_finite)


def _check_aware(instance: Campaign, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise InvalidInputError(
            f"The {attribute.name!r} field of Campaign {instance.campaign_id!r} must be a "
            f"timezone-aware datetime. Got {value!r}."
        )


def _to_tuple(value: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class Campaign:
    """A campaign: planned contacts with their arms, and the response window.

    Attributes:
        campaign_id: Unique id (also the salt of the holdout assignment).
        start: When contacts go out (timezone-aware).
        response_window_days: Responses are counted in ``[start, start + window)``.
        control_share: Target share of held-out customers per stratum, in [0, 1).
        by: The state dimension(s) ``Contact.state`` holds.
        actions: The actions used (costs are read from here).
        contacts: One row per planned customer × action.

    Examples:
        >>> from datetime import datetime, timezone
        >>> c = Campaign(
        ...     campaign_id="spring",
        ...     start=datetime(2024, 3, 1, tzinfo=timezone.utc),
        ...     response_window_days=30,
        ...     control_share=0.5,
        ...     by="segment",
        ...     actions=(),
        ...     contacts=(),
        ... )
        >>> c.end
        datetime.datetime(2024, 3, 31, 0, 0, tzinfo=datetime.timezone.utc)
    """

    campaign_id: str = attrs.field(validator=_check_text)
    start: datetime = attrs.field(validator=_check_aware)
    response_window_days: float = attrs.field(converter=float)
    control_share: float = attrs.field(converter=float)
    by: str
    actions: tuple[Action, ...] = attrs.field(converter=_to_tuple)
    contacts: tuple[Contact, ...] = attrs.field(converter=_to_tuple)

    def __attrs_post_init__(self) -> None:
        """Check the window, the share, the actions named and the one-arm-per-customer rule."""
        if not np.isfinite(self.response_window_days) or self.response_window_days <= 0:
            raise InvalidInputError(
                f"The 'response_window_days' of Campaign {self.campaign_id!r} must be a finite "
                f"number > 0. Got {self.response_window_days!r}."
            )
        if not 0.0 <= self.control_share < 1.0:
            raise InvalidInputError(
                f"The 'control_share' of Campaign {self.campaign_id!r} must be in [0, 1). "
                f"Got {self.control_share!r}."
            )
        known = {a.name for a in self.actions}
        unknown = sorted({c.action for c in self.contacts} - known)
        if unknown:
            raise InvalidInputError(
                f"Campaign {self.campaign_id!r} has contacts for action(s) {unknown} missing "
                f"from its 'actions' ({sorted(known)})."
            )
        arms: dict[str, Arm] = {}
        seen: set[tuple[str, str]] = set()
        for contact in self.contacts:
            if arms.setdefault(contact.customer_id, contact.arm) is not contact.arm:
                raise InvalidInputError(
                    f"Customer {contact.customer_id!r} is in both arms of Campaign "
                    f"{self.campaign_id!r}; a customer belongs to one arm."
                )
            if (contact.customer_id, contact.action) in seen:
                raise InvalidInputError(
                    f"Customer {contact.customer_id!r} is planned twice for action "
                    f"{contact.action!r} in Campaign {self.campaign_id!r}."
                )
            seen.add((contact.customer_id, contact.action))

    @property
    def end(self) -> datetime:
        """End of the response window (exclusive)."""
        return self.start + timedelta(days=self.response_window_days)

    @classmethod
    def from_plan(
        cls,
        plan: ContactPlan,
        *,
        campaign_id: str,
        start: datetime,
        response_window_days: float,
        control_share: float,
        actions: Iterable[Action],
        by: str,
    ) -> Campaign:
        """Record a plan as a campaign, holding out ``control_share`` of each stratum.

        Args:
            plan: The contact list.
            campaign_id: Campaign id (salts the assignment).
            start: When contacts go out (timezone-aware).
            response_window_days: Days responses are counted.
            control_share: Target control share per stratum, in [0, 1).
            actions: The playbook's actions (those in the plan must be among them).
            by: The state dimension(s) of ``plan.state``.

        Raises:
            InvalidInputError: For a bad share, window or start, or an action not in ``actions``.
        """
        used = set(plan.action.tolist())
        chosen = tuple(a for a in actions if a.name in used)
        customers, first = np.unique(plan.customer_id, return_index=True)
        planned: dict[str, list[str]] = {}
        for customer, action in zip(plan.customer_id.tolist(), plan.action.tolist(), strict=True):
            planned.setdefault(customer, []).append(action)
        strata = [
            f"{plan.state[i]}|{'+'.join(sorted(planned[c]))}"
            for c, i in zip(customers.tolist(), first.tolist(), strict=True)
        ]
        control = dict(
            zip(
                customers.tolist(),
                assign_holdout(campaign_id, customers, strata, control_share).tolist(),
                strict=True,
            )
        )
        contacts = tuple(
            Contact(
                customer_id=c,
                state=str(s),
                action=a,
                arm=Arm.CONTROL if control[c] else Arm.TREATMENT,
                score=float(v),
            )
            for c, s, a, v in zip(
                plan.customer_id.tolist(),
                plan.state.tolist(),
                plan.action.tolist(),
                plan.expected_value.tolist(),
                strict=True,
            )
        )
        return cls(
            campaign_id=campaign_id,
            start=start,
            response_window_days=response_window_days,
            control_share=control_share,
            by=by,
            actions=chosen,
            contacts=contacts,
        )

    def treated_customers(self) -> frozenset[str]:
        """Customers in the treatment arm: the ones to contact."""
        return frozenset(c.customer_id for c in self.contacts if c.arm is Arm.TREATMENT)


def holdout_keys(campaign_id: str, customer_id: ArrayLike) -> NDArray[np.uint64]:
    """The stable pseudo-random key of each customer in a campaign (BLAKE2b, 64 bits).

    Examples:
        >>> int(holdout_keys("c1", ["a"])[0]) == int(holdout_keys("c1", ["a"])[0])
        True
    """
    ids = np.asarray(customer_id).astype(np.str_)
    salt = campaign_id.encode("utf-8") + b"\x1f"
    return np.fromiter(
        (
            int.from_bytes(hashlib.blake2b(salt + str(c).encode("utf-8"), digest_size=8).digest())
            for c in ids.tolist()
        ),
        dtype=np.uint64,
        count=ids.size,
    )


def assign_holdout(
    campaign_id: str, customer_id: ArrayLike, strata: ArrayLike, control_share: float
) -> NDArray[np.bool_]:
    """Which customers go to the control arm (stable, stratified; see the module docs).

    Args:
        campaign_id: Campaign id (non-empty).
        customer_id: Unique customer ids.
        strata: Stratum label per customer.
        control_share: Target share in control per stratum, in [0, 1).

    Returns:
        ``True`` for control, per customer, in input order.

    Raises:
        InvalidInputError: For an empty campaign id, duplicate ids, mismatched lengths or a
            share outside [0, 1).

    Examples:
        >>> assign_holdout("c1", ["a", "b", "c", "d"], ["x"] * 4, 0.5).sum()
        np.int64(2)
    """
    if not campaign_id:
        raise InvalidInputError(f"'campaign_id' must be a non-empty string. Got {campaign_id!r}.")
    if not 0.0 <= control_share < 1.0:
        raise InvalidInputError(f"'control_share' must be in [0, 1). Got {control_share!r}.")
    ids = np.asarray(customer_id).astype(np.str_)
    labels = np.asarray(strata).astype(np.str_)
    if ids.ndim != 1 or labels.shape != ids.shape:
        raise InvalidInputError(
            f"'customer_id' and 'strata' must be 1-d of one length; got {ids.shape} and "
            f"{labels.shape}."
        )
    uniq, counts = np.unique(ids, return_counts=True)
    if (counts > 1).any():
        raise InvalidInputError(
            f"'customer_id' must be unique; duplicated: {uniq[counts > 1][:5].tolist()}."
        )
    keys = holdout_keys(campaign_id, ids)
    # Sort by stratum, then key (customer id breaks the astronomically unlikely key tie).
    order = np.lexsort((ids, keys, labels))
    sorted_labels = labels[order]
    starts = np.flatnonzero(np.r_[True, sorted_labels[1:] != sorted_labels[:-1]])
    sizes = np.diff(np.r_[starts, ids.size])
    position = np.arange(ids.size) - np.repeat(starts, sizes)
    quota = np.repeat(np.floor(control_share * sizes + 0.5), sizes)
    out = np.zeros(ids.size, dtype=np.bool_)
    out[order] = position < quota
    return out
