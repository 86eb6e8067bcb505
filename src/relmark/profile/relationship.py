r"""How much relationship to offer, and where a customer is in the customer lifecycle.

**Relationship level.** Kotler distinguishes five levels of relationship a firm can build with
its customers — *basic* (sell and move on), *reactive* (sell and invite the customer to call with
problems), *accountable* (call back shortly after the sale to check), *proactive* (contact the
customer from time to time with improvements and new uses) and *partnership* (work continuously
with the customer to deliver more value) — and recommends a level from two facts: how many
customers the firm has and how large the profit margin per customer is (Kotler, *Marketing
Management*, "levels of relationship marketing as a function of profit margin and number of
customers"). [`KOTLER_MATRIX`][relmark.profile.relationship.KOTLER_MATRIX] is that table:

| customers \ margin | high | medium | low |
|---|---|---|---|
| many | accountable | reactive | basic (Kotler: "basic or reactive") |
| medium | proactive | accountable | reactive |
| few | partnership | proactive | accountable |

The class boundaries are configuration, not theory: by default *few* means fewer than 100
customers and *many* at least 10,000; a *low* margin is below 10 % and a *high* one at least 30 %.
Pass your own [`RelationshipMatrix`][relmark.profile.relationship.RelationshipMatrix] to change
boundaries or cells.

**Lifecycle stage.** The customer lifecycle of Sterne & Cutler (*E-Metrics*, 2000) runs
*reach* (the firm has got the person's attention) → *acquisition* (the person has engaged: an
account, an inquiry) → *conversion* (first purchase) → *retention* (repeat purchases) →
*loyalty* (a long, frequent and still active relationship).
[`lifecycle_stage`][relmark.profile.relationship.lifecycle_stage] assigns a stage from behaviour
with the documented thresholds of
[`LifecycleThresholds`][relmark.profile.relationship.LifecycleThresholds] and says why.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray

from relmark._validation import is_int, is_real
from relmark.errors import InvalidInputError
from relmark.profile._checks import frozen_mapping

__all__ = [
    "KOTLER_MATRIX",
    "LifecycleAssessment",
    "LifecycleStage",
    "LifecycleThresholds",
    "RelationshipLevel",
    "RelationshipMatrix",
    "RelationshipRecommendation",
    "lifecycle_stage",
    "lifecycle_stages",
    "recommend_relationship_level",
]


class RelationshipLevel(enum.Enum):
    """Kotler's five levels of relationship marketing, from least to most investment."""

    BASIC = "basic"
    """Sell the product; no follow-up."""
    REACTIVE = "reactive"
    """Sell and invite the customer to call with questions or problems."""
    ACCOUNTABLE = "accountable"
    """Contact the customer soon after the sale to check expectations were met."""
    PROACTIVE = "proactive"
    """Contact the customer from time to time with improvements or new uses."""
    PARTNERSHIP = "partnership"
    """Work continuously with the customer to find ways to deliver more value."""


_CUSTOMER_CLASSES = ("few", "medium", "many")
_MARGIN_CLASSES = ("low", "medium", "high")


def _check_bounds(
    instance: RelationshipMatrix, attribute: attrs.Attribute[Any], value: tuple[float, float]
) -> None:
    del instance
    pair: tuple[object, ...] = tuple(value)
    if len(pair) != 2 or not all(is_real(v) for v in pair) or not value[0] < value[1]:
        raise InvalidInputError(
            f"The {attribute.name!r} of a RelationshipMatrix must be two finite increasing "
            f"boundaries (lower, upper). Got {value!r}."
        )


def _cells(
    value: Mapping[tuple[str, str], RelationshipLevel],
) -> Mapping[tuple[str, str], RelationshipLevel]:
    return frozen_mapping(value, "RelationshipMatrix", "cells")


def _check_cells(
    instance: RelationshipMatrix,
    attribute: attrs.Attribute[Any],
    value: Mapping[object, object],
) -> None:
    del instance
    expected = {(c, m) for c in _CUSTOMER_CLASSES for m in _MARGIN_CLASSES}
    missing = sorted(expected - set(value))
    extra = sorted(map(repr, set(value) - expected))
    bad = [v for v in value.values() if not isinstance(v, RelationshipLevel)]
    if missing or extra or bad:
        raise InvalidInputError(
            f"The {attribute.name!r} of a RelationshipMatrix must map every (customers, margin) "
            f"class pair — customers in {_CUSTOMER_CLASSES}, margin in {_MARGIN_CLASSES} — to a "
            f"RelationshipLevel; missing {missing}, unexpected {extra}, bad values {bad}."
        )


def _to_float_pair(value: tuple[float, float]) -> tuple[float, float]:
    pair = tuple(float(v) for v in value)
    return (pair[0], pair[1]) if len(pair) == 2 else pair  # type: ignore[return-value]  # length checked by the validator


@attrs.frozen(kw_only=True)
class RelationshipMatrix:
    """Kotler's level matrix as data: class boundaries and one level per cell.

    Attributes:
        customer_bounds: ``(few_below, many_from)``: fewer than ``few_below`` customers is
            *few*, at least ``many_from`` is *many*, anything between *medium*.
        margin_bounds: ``(low_below, high_from)`` on the margin as a fraction of revenue.
        cells: ``(customer_class, margin_class) -> level`` for the nine class pairs (stored as a
            read-only copy).
    """

    customer_bounds: tuple[float, float] = attrs.field(
        default=(100.0, 10_000.0), converter=_to_float_pair, validator=_check_bounds
    )
    margin_bounds: tuple[float, float] = attrs.field(
        default=(0.10, 0.30), converter=_to_float_pair, validator=_check_bounds
    )
    cells: Mapping[tuple[str, str], RelationshipLevel] = attrs.field(
        factory=lambda: _KOTLER_CELLS, converter=_cells, validator=_check_cells
    )


_L = RelationshipLevel
_KOTLER_CELLS: Mapping[tuple[str, str], RelationshipLevel] = MappingProxyType(
    {
        ("many", "high"): _L.ACCOUNTABLE,
        ("many", "medium"): _L.REACTIVE,
        ("many", "low"): _L.BASIC,
        ("medium", "high"): _L.PROACTIVE,
        ("medium", "medium"): _L.ACCOUNTABLE,
        ("medium", "low"): _L.REACTIVE,
        ("few", "high"): _L.PARTNERSHIP,
        ("few", "medium"): _L.PROACTIVE,
        ("few", "low"): _L.ACCOUNTABLE,
    }
)

KOTLER_MATRIX = RelationshipMatrix()
"""Kotler's matrix with relmark's default class boundaries (see the module docs)."""


@attrs.frozen(kw_only=True)
class RelationshipRecommendation:
    """A recommended relationship level and why.

    Attributes:
        level: The recommended level.
        customer_class: ``"few"``, ``"medium"`` or ``"many"``.
        margin_class: ``"low"``, ``"medium"`` or ``"high"``.
        reason: The rule that fired, for people.
    """

    level: RelationshipLevel
    customer_class: str
    margin_class: str
    reason: str


def _classify(value: float, bounds: tuple[float, float], names: tuple[str, str, str]) -> str:
    if value < bounds[0]:
        return names[0]
    if value >= bounds[1]:
        return names[2]
    return names[1]


def recommend_relationship_level(
    n_customers: int, margin: float, *, matrix: RelationshipMatrix = KOTLER_MATRIX
) -> RelationshipRecommendation:
    """Recommend one of Kotler's five relationship levels.

    Args:
        n_customers: Number of customers (of the firm, or of the segment considered), >= 0.
        margin: Profit margin per customer as a fraction of revenue (0.25 for 25 %); may be
            negative.
        matrix: Class boundaries and cells.

    Returns:
        The level, the two classes and the reason.

    Raises:
        InvalidInputError: For a negative or non-integer ``n_customers`` or a non-finite
            ``margin``.

    Examples:
        >>> recommend_relationship_level(20, 0.45).level
        <RelationshipLevel.PARTNERSHIP: 'partnership'>
        >>> recommend_relationship_level(2_000_000, 0.05).level
        <RelationshipLevel.BASIC: 'basic'>
    """
    if isinstance(n_customers, bool) or not isinstance(n_customers, int | np.integer):
        raise InvalidInputError(
            f"The 'n_customers' parameter must be an int >= 0. Got {n_customers!r}."
        )
    if n_customers < 0:
        raise InvalidInputError(
            f"The 'n_customers' parameter must be an int >= 0. Got {n_customers!r}."
        )
    if not is_real(margin):
        raise InvalidInputError(f"The 'margin' parameter must be a finite float. Got {margin!r}.")
    customers = _classify(float(n_customers), matrix.customer_bounds, ("few", "medium", "many"))
    margins = _classify(float(margin), matrix.margin_bounds, ("low", "medium", "high"))
    level = matrix.cells[(customers, margins)]
    lo_c, hi_c = matrix.customer_bounds
    lo_m, hi_m = matrix.margin_bounds
    reason = (
        f"{n_customers} customers is '{customers}' (few < {lo_c:g} <= medium < {hi_c:g} <= many) "
        f"and a margin of {margin:.1%} is '{margins}' (low < {lo_m:.0%} <= medium < {hi_m:.0%} "
        f"<= high); Kotler's matrix gives '{level.value}' for ({customers}, {margins})."
    )
    return RelationshipRecommendation(
        level=level, customer_class=customers, margin_class=margins, reason=reason
    )


class LifecycleStage(enum.Enum):
    """Stages of the customer lifecycle (Sterne & Cutler, 2000)."""

    REACH = "reach"
    """Contacted or aware, not yet engaged."""
    ACQUISITION = "acquisition"
    """Engaged (an account, an inquiry) but has not bought."""
    CONVERSION = "conversion"
    """Has bought once."""
    RETENTION = "retention"
    """Has bought again."""
    LOYALTY = "loyalty"
    """Buys often, for long, and is still active."""


def _check_positive(
    instance: LifecycleThresholds, attribute: attrs.Attribute[Any], value: float
) -> None:
    del instance
    if not math.isfinite(value) or value < 0:
        raise InvalidInputError(
            f"The {attribute.name!r} of LifecycleThresholds must be a finite number >= 0. "
            f"Got {value!r}."
        )


@attrs.frozen(kw_only=True)
class LifecycleThresholds:
    """When a repeat customer counts as loyal (all three must hold).

    Attributes:
        loyal_min_purchases: At least this many purchases in total (first included).
        loyal_min_tenure_days: At least this many days since the first purchase.
        loyal_min_probability_alive: At least this probability of still being active (ignored
            when no probability is given).
    """

    loyal_min_purchases: int = attrs.field(default=5, validator=_check_positive)
    loyal_min_tenure_days: float = attrs.field(default=365.0, validator=_check_positive)
    loyal_min_probability_alive: float = attrs.field(default=0.7, validator=_check_positive)


@attrs.frozen(kw_only=True)
class LifecycleAssessment:
    """A lifecycle stage and why.

    Attributes:
        stage: The stage.
        reason: The rule that fired, for people.
    """

    stage: LifecycleStage
    reason: str


def lifecycle_stage(
    *,
    purchases: int,
    engaged: bool = False,
    tenure_days: float = 0.0,
    probability_alive: float | None = None,
    thresholds: LifecycleThresholds | None = None,
) -> LifecycleAssessment:
    """Place one customer in the lifecycle from behaviour.

    Rules, in order: no purchase and not engaged → reach; no purchase but engaged (an account, an
    inbound contact) → acquisition; one purchase → conversion; at least
    ``loyal_min_purchases`` purchases, tenure of at least ``loyal_min_tenure_days`` and (when
    given) P(alive) of at least ``loyal_min_probability_alive`` → loyalty; otherwise retention.

    Args:
        purchases: Total purchases (the first included), >= 0.
        engaged: Whether the person has engaged without buying (an account, an inquiry).
        tenure_days: Days since the first purchase.
        probability_alive: Probability the customer is still active, if known.
        thresholds: Loyalty thresholds; the defaults when omitted.

    Returns:
        The stage and the reason.

    Raises:
        InvalidInputError: For negative purchases or tenure, or a probability outside [0, 1].

    Examples:
        >>> lifecycle_stage(purchases=1).stage
        <LifecycleStage.CONVERSION: 'conversion'>
    """
    limits = LifecycleThresholds() if thresholds is None else thresholds
    if not is_int(purchases) or purchases < 0:
        raise InvalidInputError(
            f"The 'purchases' parameter must be an int >= 0. Got {purchases!r}."
        )
    if not math.isfinite(tenure_days) or tenure_days < 0:
        raise InvalidInputError(
            f"The 'tenure_days' parameter must be a finite number >= 0. Got {tenure_days!r}."
        )
    if probability_alive is not None and not 0.0 <= probability_alive <= 1.0:
        raise InvalidInputError(
            f"The 'probability_alive' parameter must be in [0, 1] or None. Got {probability_alive!r}."
        )
    if purchases == 0:
        if engaged:
            return LifecycleAssessment(
                stage=LifecycleStage.ACQUISITION, reason="no purchase yet, but has engaged"
            )
        return LifecycleAssessment(
            stage=LifecycleStage.REACH, reason="no purchase and no engagement yet"
        )
    if purchases == 1:
        return LifecycleAssessment(stage=LifecycleStage.CONVERSION, reason="one purchase so far")
    p_ok = probability_alive is None or probability_alive >= limits.loyal_min_probability_alive
    if (
        purchases >= limits.loyal_min_purchases
        and tenure_days >= limits.loyal_min_tenure_days
        and p_ok
    ):
        alive = "" if probability_alive is None else f", P(alive) {probability_alive:.2f}"
        return LifecycleAssessment(
            stage=LifecycleStage.LOYALTY,
            reason=(
                f"{purchases} purchases over {tenure_days:.0f} days{alive} meets the loyalty "
                f"thresholds (>= {limits.loyal_min_purchases} purchases, >= "
                f"{limits.loyal_min_tenure_days:g} days, P(alive) >= "
                f"{limits.loyal_min_probability_alive:g})"
            ),
        )
    missed = []
    if purchases < limits.loyal_min_purchases:
        missed.append(f"fewer than {limits.loyal_min_purchases} purchases")
    if tenure_days < limits.loyal_min_tenure_days:
        missed.append(f"tenure under {limits.loyal_min_tenure_days:g} days")
    if not p_ok:
        missed.append(f"P(alive) below {limits.loyal_min_probability_alive:g}")
    return LifecycleAssessment(
        stage=LifecycleStage.RETENTION,
        reason=f"{purchases} purchases (repeat customer); not loyal: " + ", ".join(missed),
    )


_STAGE_VALUES = np.array([s.value for s in LifecycleStage])


def lifecycle_stages(
    purchases: ArrayLike,
    tenure_days: ArrayLike,
    probability_alive: ArrayLike | None = None,
    engaged: ArrayLike | None = None,
    *,
    thresholds: LifecycleThresholds | None = None,
) -> NDArray[np.str_]:
    """Vectorized [`lifecycle_stage`][relmark.profile.relationship.lifecycle_stage] (same rules).

    Args:
        purchases: Total purchases per customer (whole numbers >= 0).
        tenure_days: Days since the first purchase, >= 0.
        probability_alive: P(alive) per customer, or ``None``.
        engaged: Engagement flags per customer, or ``None`` for all ``False``.
        thresholds: Loyalty thresholds; the defaults when omitted.

    Returns:
        The stage values (``"reach"``, ..., ``"loyalty"``), one per customer.

    Raises:
        InvalidInputError: On mismatched lengths or values out of range, naming the argument.
    """
    limits = LifecycleThresholds() if thresholds is None else thresholds
    n = np.asarray(purchases, dtype=np.float64)
    tenure = np.asarray(tenure_days, dtype=np.float64)
    p = None if probability_alive is None else np.asarray(probability_alive, dtype=np.float64)
    eng = np.zeros(n.shape, bool) if engaged is None else np.asarray(engaged, dtype=bool)
    for name, arr in (("tenure_days", tenure), ("probability_alive", p), ("engaged", eng)):
        if arr is not None and arr.shape != n.shape:
            raise InvalidInputError(
                f"The {name!r} argument must have the shape of 'purchases' {n.shape}; "
                f"got {arr.shape}."
            )
    if (n < 0).any() or (n != np.floor(n)).any():
        raise InvalidInputError("The 'purchases' argument must hold whole numbers >= 0.")
    if not np.isfinite(tenure).all() or (tenure < 0).any():
        raise InvalidInputError("The 'tenure_days' argument must hold finite numbers >= 0.")
    if p is not None and ((p < 0) | (p > 1) | ~np.isfinite(p)).any():
        raise InvalidInputError("The 'probability_alive' argument must hold values in [0, 1].")
    p_ok = np.ones(n.shape, bool) if p is None else p >= limits.loyal_min_probability_alive
    loyal = (n >= limits.loyal_min_purchases) & (tenure >= limits.loyal_min_tenure_days) & p_ok
    code = np.select(
        [(n == 0) & ~eng, n == 0, n == 1, loyal],
        [0, 1, 2, 4],
        default=3,
    )
    stages: NDArray[np.str_] = _STAGE_VALUES[code]
    return stages
