"""Actions, customer states and the playbook that maps one to the other, as data.

An [`Action`][relmark.program.actions.Action] is something the firm can do to one customer: a
name, a channel, a cost per contact, the [`Depth`][relmark.program.actions.Depth] of relationship
it serves and who is eligible. A [`Playbook`][relmark.program.actions.Playbook] is a tuple of
[`Rule`][relmark.program.actions.Rule]s; a rule names a set of customer states (a box over the
state dimensions, any dimension left ``None`` matching everything) and the actions those states
may receive. Every matching rule contributes its actions: the playbook proposes, the selection
([`plan_contacts`][relmark.program.selection.plan_contacts]) decides.

The state of a customer ([`CustomerStates`][relmark.program.actions.CustomerStates]) has six
dimensions, all discrete so that a playbook can be checked exhaustively:

| dimension | values (default state space) | from |
|---|---|---|
| ``clv_tier`` | ``low``, ``medium``, ``high`` | `CLVScorer`'s ``clv_tier`` |
| ``activity`` | ``active``, ``at_risk``, ``lapsed`` | P(alive) cut at 0.5 and 0.2 |
| ``segment`` | RFM segment names | `RFMScorer`'s ``segment`` |
| ``lifecycle`` | ``reach`` … ``loyalty`` | `lifecycle_stages` |
| ``complaint`` | ``open``, ``none`` | complaint touchpoints without a resolution |
| ``relationship`` | Kotler's five levels | `recommend_relationship_level` |

[`Playbook.lint`][relmark.program.actions.Playbook.lint] enumerates every state of a
[`StateSpace`][relmark.program.actions.StateSpace] and reports the states no rule covers, the
states that get *conflicting* rules — rules that prescribe different depths among customise,
reward and connect, so the playbook gives two answers to "how much relationship does this
customer get?" (recovery and cost-lowering actions combine with any depth and never conflict) —
and rules that match no state.

[`DEFAULT_PLAYBOOK`][relmark.program.actions.DEFAULT_PLAYBOOK] encodes the three depths and
service recovery; each rule's ``source`` says where it comes from.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Iterable
from typing import Any

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray

from relmark.data.table import ScoreTable
from relmark.domain import Channel
from relmark.errors import InvalidInputError
from relmark.profile.relationship import LifecycleStage, RelationshipLevel

__all__ = [
    "DEFAULT_ACTIONS",
    "DEFAULT_PLAYBOOK",
    "DEFAULT_STATE_SPACE",
    "DIMENSIONS",
    "Action",
    "Conflict",
    "CustomerStates",
    "Depth",
    "Playbook",
    "PlaybookLint",
    "Rule",
    "StateSpace",
    "activity_bands",
]

DIMENSIONS: tuple[str, ...] = (
    "clv_tier",
    "activity",
    "segment",
    "lifecycle",
    "complaint",
    "relationship",
)
"""The state dimensions, in the order states are written (``"high|active|Champions|..."``)."""

_ACTIVITY = ("active", "at_risk", "lapsed")


class Depth(enum.Enum):
    """How much relationship an action offers (Berry 1995's levels, plus two cross-cutting kinds).

    Berry, L. L. (1995), "Relationship marketing of services — growing interest, emerging
    perspectives", *Journal of the Academy of Marketing Science* 23(4), 236–245, describes three
    levels of relationship marketing: level one binds with financial incentives, level two adds
    social bonds (personal, customised contact), level three structural solutions. relmark's
    depths follow that ladder, named by what the firm does.
    """

    CUSTOMISE = "customise"
    """Tailor the offer or message to what is known of the customer; for everyone reachable."""
    REWARD = "reward"
    """Financial bonds: a loyalty reward or incentive (Berry's level one)."""
    CONNECT = "connect"
    """Social and structural bonds: personal contact by a named person (Berry's levels two, three)."""
    RECOVER = "recover"
    """Service recovery after a complaint; combines with any depth."""
    ECONOMISE = "economise"
    """Move a customer below the value standard to a cheaper channel; combines with any depth."""


_EXCLUSIVE_DEPTHS = frozenset({Depth.CUSTOMISE, Depth.REWARD, Depth.CONNECT})


def _check_name(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value.strip() or "|" in value:
        raise InvalidInputError(
            f"The {attribute.name!r} field of {type(instance).__name__} must be a non-empty "
            f"string without '|'. Got {value!r}."
        )


def _check_cost(instance: Action, attribute: attrs.Attribute[Any], value: object) -> None:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or not np.isfinite(float(value)) or float(value) <= 0:  # type: ignore[arg-type]
        raise InvalidInputError(
            f"The {attribute.name!r} field of Action {instance.name!r} must be a finite number "
            f"> 0 (a free action cannot be budgeted). Got {value!r}."
        )


def _check_follow_up(instance: Action, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or not 0 <= float(value) < 366:  # type: ignore[arg-type]
        raise InvalidInputError(
            f"The {attribute.name!r} field of Action {instance.name!r} must be a number of days "
            f"in [0, 366) or None. Got {value!r}."
        )


def _values(value: Iterable[str] | str | None) -> frozenset[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return frozenset({value})
    return frozenset(v.value if isinstance(v, enum.Enum) else v for v in value)


def _to_tuple(value: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class Action:
    """Something the firm can do to one customer.

    Attributes:
        name: Unique name, used in playbooks, plans and reports.
        channel: The channel it is delivered through.
        cost: Cost per contact, > 0, in the currency of the value at stake.
        depth: The depth of relationship it serves.
        eligible_lifecycle: Lifecycle stages (values) that may receive it; ``None`` for all.
        follow_up_days: For recovery actions: days after the contact to follow up; else ``None``.
        description: Free text for reports.

    Examples:
        >>> call = Action(name="call", channel=Channel.PHONE, cost=8.0, depth=Depth.CONNECT)
        >>> call.cost, call.depth.value
        (8.0, 'connect')
    """

    name: str = attrs.field(validator=_check_name)
    channel: Channel = attrs.field(validator=attrs.validators.instance_of(Channel))
    cost: float = attrs.field(validator=_check_cost)
    depth: Depth = attrs.field(validator=attrs.validators.instance_of(Depth))
    eligible_lifecycle: frozenset[str] | None = attrs.field(default=None, converter=_values)
    follow_up_days: float | None = attrs.field(default=None, validator=_check_follow_up)
    description: str = ""


@attrs.frozen(kw_only=True)
class StateSpace:
    """The values each state dimension can take; the playbook lint enumerates their product.

    Attributes:
        clv_tier: CLV tiers.
        activity: Activity bands from P(alive) (see [`activity_bands`][relmark.program.actions.activity_bands]).
        segment: RFM segment names.
        lifecycle: Lifecycle stage values.
        complaint: ``"open"`` or ``"none"``.
        relationship: Kotler relationship level values.
    """

    clv_tier: tuple[str, ...] = attrs.field(default=("low", "medium", "high"), converter=tuple)
    activity: tuple[str, ...] = attrs.field(default=_ACTIVITY, converter=tuple)
    segment: tuple[str, ...] = attrs.field(
        default=(
            "Champions",
            "Loyal",
            "Potential Loyalists",
            "New Customers",
            "Promising",
            "Need Attention",
            "About To Sleep",
            "At Risk",
            "Can't Lose",
            "Hibernating",
            "Others",
        ),
        converter=tuple,
    )
    lifecycle: tuple[str, ...] = attrs.field(
        default=tuple(s.value for s in LifecycleStage), converter=tuple
    )
    complaint: tuple[str, ...] = attrs.field(default=("none", "open"), converter=tuple)
    relationship: tuple[str, ...] = attrs.field(
        default=tuple(level.value for level in RelationshipLevel), converter=tuple
    )

    def __attrs_post_init__(self) -> None:
        """Check every dimension has at least one distinct, '|'-free value."""
        for name in DIMENSIONS:
            values = getattr(self, name)
            if not values or len(set(values)) != len(values) or any("|" in v for v in values):
                raise InvalidInputError(
                    f"The {name!r} field of StateSpace must hold distinct strings without '|', "
                    f"at least one. Got {values!r}."
                )

    def states(self) -> Iterable[tuple[str, ...]]:
        """Every state, as a tuple in [`DIMENSIONS`][relmark.program.actions.DIMENSIONS] order."""
        return itertools.product(*(getattr(self, name) for name in DIMENSIONS))

    @property
    def size(self) -> int:
        """Number of states."""
        return int(np.prod([len(getattr(self, name)) for name in DIMENSIONS]))


DEFAULT_STATE_SPACE = StateSpace()
"""Three CLV tiers × three activity bands × the RF grid's 11 segment names × five lifecycle stages
× open/no complaint × Kotler's five levels."""


@attrs.frozen(kw_only=True)
class Rule:
    """Customers in these states may receive these actions.

    Each condition is a set of allowed values of one state dimension, or ``None`` for any value.

    Attributes:
        name: Unique rule name.
        actions: Names of the actions the rule proposes (at least one).
        source: Where the rule comes from (a citation or "house rule").
        clv_tier: Allowed CLV tiers.
        activity: Allowed activity bands.
        segment: Allowed RFM segments.
        lifecycle: Allowed lifecycle stages.
        complaint: Allowed complaint states.
        relationship: Allowed Kotler levels.
    """

    name: str = attrs.field(validator=_check_name)
    actions: tuple[str, ...] = attrs.field(converter=_to_tuple)
    source: str
    clv_tier: frozenset[str] | None = attrs.field(default=None, converter=_values)
    activity: frozenset[str] | None = attrs.field(default=None, converter=_values)
    segment: frozenset[str] | None = attrs.field(default=None, converter=_values)
    lifecycle: frozenset[str] | None = attrs.field(default=None, converter=_values)
    complaint: frozenset[str] | None = attrs.field(default=None, converter=_values)
    relationship: frozenset[str] | None = attrs.field(default=None, converter=_values)

    @actions.validator
    def _check_actions(self, attribute: attrs.Attribute[Any], value: tuple[Any, ...]) -> None:
        if not value or not all(isinstance(a, str) and a for a in value):
            raise InvalidInputError(
                f"The {attribute.name!r} field of Rule {self.name!r} must name at least one "
                f"action. Got {value!r}."
            )

    def matches_state(self, state: tuple[str, ...]) -> bool:
        """Whether one state (in dimension order) satisfies every condition."""
        for name, value in zip(DIMENSIONS, state, strict=True):
            allowed = getattr(self, name)
            if allowed is not None and value not in allowed:
                return False
        return True

    def matches(self, states: CustomerStates) -> NDArray[np.bool_]:
        """Whether each customer's state satisfies every condition."""
        hit = np.ones(len(states), dtype=np.bool_)
        for name in DIMENSIONS:
            allowed = getattr(self, name)
            if allowed is not None:
                hit &= np.isin(getattr(states, name), sorted(allowed))
        return hit


@attrs.frozen(kw_only=True)
class Conflict:
    """A state that matching rules give different depths of relationship.

    Attributes:
        state: The state, in [`DIMENSIONS`][relmark.program.actions.DIMENSIONS] order.
        rules: The matching rules, in playbook order.
        depths: The distinct exclusive depths they prescribe (values, sorted).
    """

    state: tuple[str, ...]
    rules: tuple[str, ...]
    depths: tuple[str, ...]


@attrs.frozen(kw_only=True)
class PlaybookLint:
    """What [`Playbook.lint`][relmark.program.actions.Playbook.lint] found.

    Attributes:
        states: Number of states checked.
        uncovered: States no rule covers, in enumeration order.
        conflicts: States given several exclusive depths.
        unused_rules: Rules that match no state of the space.
        unknown_values: ``(rule, dimension, value)`` for condition values outside the space.
    """

    states: int
    uncovered: tuple[tuple[str, ...], ...]
    conflicts: tuple[Conflict, ...]
    unused_rules: tuple[str, ...]
    unknown_values: tuple[tuple[str, str, str], ...]

    @property
    def is_clean(self) -> bool:
        """True when every state gets an action, none conflicting, and every rule is used."""
        return not (self.uncovered or self.conflicts or self.unused_rules or self.unknown_values)

    def __str__(self) -> str:
        """A short human-readable summary."""
        return (
            f"{self.states} states; {len(self.uncovered)} get no action, {len(self.conflicts)} "
            f"get conflicting depths; unused rules: {', '.join(self.unused_rules) or 'none'}."
        )


@attrs.frozen(kw_only=True)
class Playbook:
    """Actions and the rules that offer them to customer states.

    Attributes:
        actions: The actions, unique names.
        rules: The rules, unique names; every action a rule names must be in ``actions``.
    """

    actions: tuple[Action, ...] = attrs.field(converter=_to_tuple)
    rules: tuple[Rule, ...] = attrs.field(converter=_to_tuple)

    def __attrs_post_init__(self) -> None:
        """Check names are unique and every rule names known actions."""
        for what, items in (("actions", self.actions), ("rules", self.rules)):
            names = [item.name for item in items]
            repeated = sorted({n for n in names if names.count(n) > 1})
            if repeated:
                raise InvalidInputError(
                    f"Names in Playbook.{what} must be unique; repeated: {repeated}."
                )
        known = {a.name for a in self.actions}
        for rule in self.rules:
            unknown = [a for a in rule.actions if a not in known]
            if unknown:
                raise InvalidInputError(
                    f"Rule {rule.name!r} names unknown action(s) {unknown}; the playbook has "
                    f"{sorted(known)}."
                )

    def action(self, name: str) -> Action:
        """The action called ``name``.

        Raises:
            InvalidInputError: When there is none, listing the names there are.
        """
        for action in self.actions:
            if action.name == name:
                return action
        raise InvalidInputError(
            f"No action {name!r} in the playbook; it has {[a.name for a in self.actions]}."
        )

    def candidates(self, states: CustomerStates) -> NDArray[np.bool_]:
        """Which actions each customer may receive: a ``(customers, actions)`` boolean matrix.

        An action is a candidate when some matching rule proposes it and the customer's
        lifecycle stage is eligible for it.
        """
        out = np.zeros((len(states), len(self.actions)), dtype=np.bool_)
        column = {a.name: j for j, a in enumerate(self.actions)}
        for rule in self.rules:
            hit = rule.matches(states)
            for name in rule.actions:
                out[:, column[name]] |= hit
        for j, action in enumerate(self.actions):
            if action.eligible_lifecycle is not None:
                out[:, j] &= np.isin(states.lifecycle, sorted(action.eligible_lifecycle))
        return out

    def lint(self, space: StateSpace = DEFAULT_STATE_SPACE) -> PlaybookLint:
        """Check every state of ``space`` against the rules.

        Args:
            space: The state space to enumerate.

        Returns:
            Uncovered states (no rule, or only actions the state's lifecycle stage is not
            eligible for), conflicting states, unused rules and condition values the space
            does not know (usually a typo).

        Examples:
            >>> DEFAULT_PLAYBOOK.lint().is_clean
            True
        """
        depth = {a.name: a.depth for a in self.actions}
        everyone = frozenset(space.lifecycle)
        eligible = {a.name: a.eligible_lifecycle or everyone for a in self.actions}
        uncovered: list[tuple[str, ...]] = []
        conflicts: list[Conflict] = []
        used = dict.fromkeys((r.name for r in self.rules), False)
        for state in space.states():
            hits = [r for r in self.rules if r.matches_state(state)]
            for r in hits:
                used[r.name] = True
            stage = state[DIMENSIONS.index("lifecycle")]
            offered = [a for r in hits for a in r.actions if stage in eligible[a]]
            if not offered:
                uncovered.append(state)
                continue
            depths = {depth[a] for a in offered} & _EXCLUSIVE_DEPTHS
            if len(depths) > 1:
                conflicts.append(
                    Conflict(
                        state=state,
                        rules=tuple(r.name for r in hits),
                        depths=tuple(sorted(d.value for d in depths)),
                    )
                )
        unknown = tuple(
            (rule.name, name, value)
            for rule in self.rules
            for name in DIMENSIONS
            for value in sorted(getattr(rule, name) or ())
            if value not in getattr(space, name)
        )
        return PlaybookLint(
            states=space.size,
            uncovered=tuple(uncovered),
            conflicts=tuple(conflicts),
            unused_rules=tuple(n for n, u in used.items() if not u),
            unknown_values=unknown,
        )


def activity_bands(
    probability_alive: ArrayLike, *, cuts: tuple[float, float] = (0.2, 0.5)
) -> NDArray[np.str_]:
    """Band P(alive): ``"lapsed"`` below ``cuts[0]``, ``"active"`` from ``cuts[1]``, else ``"at_risk"``.

    Args:
        probability_alive: P(alive) per customer, in [0, 1].
        cuts: ``(lapsed_below, active_from)`` with ``0 < lapsed_below < active_from <= 1``.

    Raises:
        InvalidInputError: For probabilities outside [0, 1] or bad cuts.

    Examples:
        >>> activity_bands([0.9, 0.3, 0.1]).tolist()
        ['active', 'at_risk', 'lapsed']
    """
    p = np.asarray(probability_alive, dtype=np.float64)
    if not 0 < cuts[0] < cuts[1] <= 1:
        raise InvalidInputError(
            f"The 'cuts' parameter must be (lapsed_below, active_from) with 0 < lapsed_below < "
            f"active_from <= 1. Got {cuts!r}."
        )
    bad = np.flatnonzero(~((p >= 0) & (p <= 1)))
    if bad.size:
        raise InvalidInputError(
            f"The 'probability_alive' argument must hold values in [0, 1]; rows {bad[:5].tolist()} "
            f"hold {p[bad[:5]].tolist()}."
        )
    out: NDArray[np.str_] = np.full(p.shape, "at_risk", dtype="<U7")
    out[p < cuts[0]] = "lapsed"
    out[p >= cuts[1]] = "active"
    return out


def _string_column(name: str, values: ArrayLike | None, n: int, default: str) -> NDArray[np.str_]:
    if values is None:
        return np.full(n, default)
    array = np.asarray(values)
    if array.shape != (n,):
        raise InvalidInputError(
            f"The {name!r} column of CustomerStates must have one value per customer ({n}); got "
            f"shape {array.shape}."
        )
    out: NDArray[np.str_] = array.astype(np.str_)
    return out


@attrs.frozen(kw_only=True, eq=False)
class CustomerStates:
    """Each customer's state along the six dimensions (string arrays, customer order).

    Build with [`from_columns`][relmark.program.actions.CustomerStates.from_columns].

    Attributes:
        customer_id: Customer ids (unique, as strings).
        clv_tier: CLV tier per customer.
        activity: Activity band per customer.
        segment: RFM segment per customer.
        lifecycle: Lifecycle stage per customer.
        complaint: ``"open"`` or ``"none"`` per customer.
        relationship: Kotler level per customer.
    """

    customer_id: NDArray[np.str_]
    clv_tier: NDArray[np.str_]
    activity: NDArray[np.str_]
    segment: NDArray[np.str_]
    lifecycle: NDArray[np.str_]
    complaint: NDArray[np.str_]
    relationship: NDArray[np.str_]

    @classmethod
    def from_columns(
        cls,
        customer_id: ArrayLike,
        *,
        clv_tier: ArrayLike | None = None,
        probability_alive: ArrayLike | None = None,
        segment: ArrayLike | None = None,
        lifecycle: ArrayLike | None = None,
        open_complaint: ArrayLike | None = None,
        relationship: ArrayLike | str | None = None,
    ) -> CustomerStates:
        """Build states from per-customer columns; omitted dimensions get a neutral default.

        Defaults: tier ``"medium"``, activity ``"active"``, segment ``"Others"``, lifecycle
        ``"retention"``, no complaint, relationship ``"reactive"``.

        Args:
            customer_id: Unique ids.
            clv_tier: CLV tiers (``CLVScorer``'s ``clv_tier``).
            probability_alive: P(alive), banded with [`activity_bands`][relmark.program.actions.activity_bands].
            segment: RFM segment names.
            lifecycle: Lifecycle stage values.
            open_complaint: Whether each customer has an open complaint.
            relationship: Kotler level values, or one level for everyone.

        Raises:
            InvalidInputError: On duplicate ids or a column of the wrong length.

        Examples:
            >>> s = CustomerStates.from_columns(["a", "b"], probability_alive=[0.9, 0.1])
            >>> s.key(0)
            'medium|active|Others|retention|none|reactive'
        """
        ids = np.asarray(customer_id).astype(np.str_)
        if ids.ndim != 1:
            raise InvalidInputError(f"'customer_id' must be one-dimensional; got {ids.shape}.")
        uniq, counts = np.unique(ids, return_counts=True)
        if (counts > 1).any():
            raise InvalidInputError(
                f"'customer_id' must be unique; duplicated: {uniq[counts > 1][:5].tolist()}."
            )
        n = ids.size
        activity = (
            np.full(n, "active") if probability_alive is None else activity_bands(probability_alive)
        )
        if activity.shape != (n,):
            raise InvalidInputError(
                f"'probability_alive' must have one value per customer ({n}); got {activity.shape}."
            )
        if open_complaint is None:
            complaint = np.full(n, "none")
        else:
            flags = np.asarray(open_complaint, dtype=np.bool_)
            if flags.shape != (n,):
                raise InvalidInputError(
                    f"'open_complaint' must have one value per customer ({n}); got {flags.shape}."
                )
            complaint = np.where(flags, "open", "none").astype(np.str_)
        if isinstance(relationship, str):
            relationship = np.full(n, relationship)
        return cls(
            customer_id=ids,
            clv_tier=_string_column("clv_tier", clv_tier, n, "medium"),
            activity=activity,
            segment=_string_column("segment", segment, n, "Others"),
            lifecycle=_string_column("lifecycle", lifecycle, n, "retention"),
            complaint=complaint,
            relationship=_string_column("relationship", relationship, n, "reactive"),
        )

    @classmethod
    def from_scores(
        cls,
        scores: ScoreTable,
        *,
        lifecycle: ArrayLike | None = None,
        open_complaint: ArrayLike | None = None,
        relationship: ArrayLike | str | None = None,
    ) -> CustomerStates:
        """States from a score table: ``clv_tier``, ``probability_alive`` and ``segment`` columns.

        Columns the table lacks get the defaults of
        [`from_columns`][relmark.program.actions.CustomerStates.from_columns]; the other
        dimensions are passed in customer order of the table.
        """
        column = {
            name: scores.data.get(name) for name in ("clv_tier", "probability_alive", "segment")
        }
        return cls.from_columns(
            scores.customer_id,
            clv_tier=column["clv_tier"],
            probability_alive=column["probability_alive"],
            segment=column["segment"],
            lifecycle=lifecycle,
            open_complaint=open_complaint,
            relationship=relationship,
        )

    def __len__(self) -> int:
        """Number of customers."""
        return int(self.customer_id.size)

    def key(self, row: int) -> str:
        """One customer's full state as ``"tier|activity|segment|lifecycle|complaint|level"``."""
        return "|".join(str(getattr(self, name)[row]) for name in DIMENSIONS)

    def column(self, name: str) -> NDArray[np.str_]:
        """The values of one dimension, or of several joined with ``|`` (``"clv_tier|activity"``).

        Raises:
            InvalidInputError: For an unknown dimension name.
        """
        parts = name.split("|")
        unknown = [p for p in parts if p not in DIMENSIONS]
        if unknown:
            raise InvalidInputError(
                f"Unknown state dimension(s) {unknown}; choose from {list(DIMENSIONS)}."
            )
        out: NDArray[np.str_] = getattr(self, parts[0])
        for p in parts[1:]:
            out = np.char.add(np.char.add(out, "|"), getattr(self, p))
        return out


def _action(name: str, channel: Channel, cost: float, depth: Depth, text: str, **kw: Any) -> Action:
    return Action(name=name, channel=channel, cost=cost, depth=depth, description=text, **kw)


DEFAULT_ACTIONS: tuple[Action, ...] = (
    _action(
        "personalised_email",
        Channel.EMAIL,
        0.10,
        Depth.CUSTOMISE,
        "An e-mail whose offer follows the customer's purchase history.",
    ),
    _action(
        "loyalty_reward",
        Channel.MAIL,
        4.0,
        Depth.REWARD,
        "A mailed voucher or bonus points for repeat buying.",
    ),
    _action(
        "personal_call",
        Channel.PHONE,
        12.0,
        Depth.CONNECT,
        "A call from a named account manager.",
    ),
    _action(
        "winback_offer",
        Channel.MAIL,
        2.0,
        Depth.REWARD,
        "A mailed incentive to come back, for valuable customers slipping away.",
        eligible_lifecycle=("conversion", "retention", "loyalty"),
    ),
    _action(
        "self_service_digest",
        Channel.EMAIL,
        0.02,
        Depth.ECONOMISE,
        "A low-cost e-mail digest that replaces costlier mailings.",
    ),
    _action(
        "service_recovery",
        Channel.PHONE,
        15.0,
        Depth.RECOVER,
        "Apologise, fix the problem, offer a symbolic atonement, follow up.",
        follow_up_days=7.0,
    ),
)
"""The default playbook's actions; costs are illustrative (set your own)."""

_KOTLER = (
    "Kotler & Armstrong, Principles of Marketing, on relationship levels: basic relationships "
    "for many low-margin customers, full partnerships for few high-margin ones"
)
_BERRY = (
    "Berry (1995), 'Relationship marketing of services', JAMS 23(4): level one financial "
    "incentives, level two social bonds, level three structural bonds"
)
_PEPPERS = (
    "Peppers & Rogers (1993), The One to One Future: treat different customers differently, "
    "customise for every customer the firm can identify"
)
_RECOVERY = (
    "Hart, Heskett & Sasser (1990), 'The profitable art of service recovery', HBR 68(4): act "
    "fast on complaints; Bell & Zemke (1987), 'Service breakdown', Management Review 76(10): "
    "apology, urgent reinstatement, empathy, symbolic atonement, follow-up"
)

DEFAULT_PLAYBOOK = Playbook(
    actions=DEFAULT_ACTIONS,
    rules=(
        Rule(
            name="customise_for_everyone",
            actions=("personalised_email",),
            source=_PEPPERS,
            clv_tier=("low", "medium"),
        ),
        Rule(
            name="economise_low_value",
            actions=("self_service_digest",),
            source=_KOTLER,
            clv_tier=("low",),
        ),
        Rule(
            name="reward_loyalty",
            actions=("loyalty_reward",),
            source=_BERRY + " (level one)",
            clv_tier=("high",),
            relationship=("basic", "reactive", "accountable"),
        ),
        Rule(
            name="win_back_valuable",
            actions=("winback_offer",),
            source=_BERRY + " (level one, aimed at value at risk)",
            clv_tier=("high",),
            activity=("at_risk", "lapsed"),
            relationship=("basic", "reactive", "accountable"),
        ),
        Rule(
            name="connect_most_valuable",
            actions=("personal_call",),
            source=_BERRY + " (levels two and three); " + _KOTLER,
            clv_tier=("high",),
            relationship=("proactive", "partnership"),
        ),
        Rule(
            name="recover_complaints",
            actions=("service_recovery",),
            source=_RECOVERY,
            complaint=("open",),
        ),
    ),
)
"""Customise for low and medium value, reward (or win back) high value where the relationship level
is basic to accountable, connect where it is proactive or partnership; economise on low value;
recover every open complaint. Lint-clean on [`DEFAULT_STATE_SPACE`][relmark.program.actions.DEFAULT_STATE_SPACE]."""
