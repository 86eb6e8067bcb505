"""Survey instruments as data: items, constructs and hypothesised paths.

An [`Instrument`][relmark.trust.instrument.Instrument] is a plain record: a tuple of
[`Construct`][relmark.trust.instrument.Construct]s, each a tuple of
[`Item`][relmark.trust.instrument.Item]s on a stated response scale, plus the signed paths a
theory hypothesises between constructs. Nothing in relmark is tied to the default wording:
users pass their own instruments wherever an instrument is taken.

[`default_kmv_instrument`][relmark.trust.instrument.default_kmv_instrument] ships the twelve
constructs of Morgan & Hunt's (1994) key mediating variable (KMV) model and its thirteen
hypothesised paths. The construct definitions paraphrase Morgan & Hunt (1994, pp. 23-26); the
item wording is relmark's own, *adapted* from the construct definitions and not the original
scales, so it has no published validation — run a
[`reliability_report`][relmark.trust.reliability.reliability_report] on your own data.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Any

import attrs

from relmark.errors import InvalidInputError

__all__ = [
    "Construct",
    "Instrument",
    "Item",
    "PathSign",
    "StructuralPath",
    "default_kmv_instrument",
    "relationship_quality_instrument",
]


class PathSign(enum.Enum):
    """The hypothesised direction of a path: ``POSITIVE`` (+1) or ``NEGATIVE`` (-1)."""

    POSITIVE = 1
    NEGATIVE = -1


def _to_items(value: Iterable[Item]) -> tuple[Item, ...]:
    return tuple(value)


def _to_constructs(value: Iterable[Construct]) -> tuple[Construct, ...]:
    return tuple(value)


def _to_paths(value: Iterable[StructuralPath]) -> tuple[StructuralPath, ...]:
    return tuple(value)


def _non_empty(name: str) -> Any:
    def check(_instance: object, _attribute: attrs.Attribute[str], value: object) -> None:
        if not (isinstance(value, str) and value.strip()):
            raise InvalidInputError(
                f"The {name!r} field must be a non-empty string. Got {value!r}."
            )

    return check


@attrs.frozen(kw_only=True)
class Item:
    """One survey item (question) answered on a numeric rating scale.

    Attributes:
        code: Short identifier, unique within an instrument (the column name in responses).
        text: The wording shown to respondents.
        scale_min: Lowest allowed answer (e.g. 1 on a 1-7 agreement scale).
        scale_max: Highest allowed answer; must exceed ``scale_min``.
        reverse_keyed: Whether agreement indicates *less* of the construct; reverse-keyed answers
            are recoded as ``scale_max + scale_min - x`` before scoring.
    """

    code: str = attrs.field(validator=_non_empty("code"))
    text: str = attrs.field(validator=_non_empty("text"))
    scale_min: float = attrs.field(default=1.0, converter=float)
    scale_max: float = attrs.field(default=7.0, converter=float)
    reverse_keyed: bool = False

    @scale_max.validator
    def _check_scale(self, _attribute: attrs.Attribute[float], value: float) -> None:
        if not (value > self.scale_min):
            raise InvalidInputError(
                f"The 'scale_max' field of item {self.code!r} must exceed 'scale_min' "
                f"({self.scale_min}). Got {value}."
            )


def _check_items(instance: Construct, _attribute: attrs.Attribute[Any], value: Any) -> None:
    if len(value) == 0:
        raise InvalidInputError(
            f"The 'items' field of construct {instance.name!r} must hold at least one item. Got none."
        )
    for item in value:
        if not isinstance(item, Item):
            raise InvalidInputError(
                f"The 'items' field of construct {instance.name!r} must hold Item records. "
                f"Got {type(item).__name__}."
            )
    scales = {(item.scale_min, item.scale_max) for item in value}
    if len(scales) > 1:
        raise InvalidInputError(
            f"All items of construct {instance.name!r} must share one response scale so their "
            f"mean is meaningful. Got scales {sorted(scales)}."
        )
    codes = [item.code for item in value]
    if len(set(codes)) != len(codes):
        raise InvalidInputError(
            f"Item codes within construct {instance.name!r} must be unique. Got {codes}."
        )


@attrs.frozen(kw_only=True)
class Construct:
    """A latent construct measured by several items on one shared scale.

    Attributes:
        name: Identifier, unique within an instrument (``"trust"``, ``"commitment"``, ...).
        definition: What the construct means, in one or two sentences.
        items: The items measuring it (at least one; all on the same scale).
    """

    name: str = attrs.field(validator=_non_empty("name"))
    definition: str = ""
    items: tuple[Item, ...] = attrs.field(converter=_to_items, validator=_check_items)

    @property
    def scale_min(self) -> float:
        """The shared lowest answer of the construct's items."""
        return self.items[0].scale_min

    @property
    def scale_max(self) -> float:
        """The shared highest answer of the construct's items."""
        return self.items[0].scale_max

    @property
    def item_codes(self) -> tuple[str, ...]:
        """The item codes, in order."""
        return tuple(item.code for item in self.items)


@attrs.frozen(kw_only=True)
class StructuralPath:
    """A hypothesised directed effect between two constructs.

    Attributes:
        source: Name of the influencing construct.
        target: Name of the influenced construct.
        sign: The hypothesised direction of the effect, or ``None`` for a path estimated
            without a directional hypothesis (such as the added direct paths of a rival model).
    """

    source: str = attrs.field(validator=_non_empty("source"))
    target: str = attrs.field(validator=_non_empty("target"))
    sign: PathSign | None = attrs.field(
        default=None, validator=attrs.validators.optional(attrs.validators.instance_of(PathSign))
    )

    @target.validator
    def _check_target(self, _attribute: attrs.Attribute[str], value: str) -> None:
        if value == self.source:
            raise InvalidInputError(
                f"A path must join two different constructs; got 'source' == 'target' == {value!r}."
            )


def _check_constructs(instance: Instrument, _attribute: attrs.Attribute[Any], value: Any) -> None:
    if len(value) == 0:
        raise InvalidInputError(
            f"The 'constructs' field of instrument {instance.name!r} must hold at least one "
            "construct. Got none."
        )
    names = [c.name for c in value]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise InvalidInputError(
            f"Construct names in instrument {instance.name!r} must be unique; duplicated: {duplicated}."
        )
    codes = [code for c in value for code in c.item_codes]
    duplicated = sorted({c for c in codes if codes.count(c) > 1})
    if duplicated:
        raise InvalidInputError(
            f"Item codes in instrument {instance.name!r} must be unique across constructs; "
            f"duplicated: {duplicated}."
        )


def _check_paths(instance: Instrument, _attribute: attrs.Attribute[Any], value: Any) -> None:
    names = {c.name for c in instance.constructs}
    seen: set[tuple[str, str]] = set()
    for path in value:
        for end in (path.source, path.target):
            if end not in names:
                raise InvalidInputError(
                    f"Path {path.source!r} -> {path.target!r} of instrument {instance.name!r} "
                    f"names construct {end!r}, which the instrument does not define. "
                    f"Defined: {sorted(names)}."
                )
        key = (path.source, path.target)
        if key in seen:
            raise InvalidInputError(
                f"Path {path.source!r} -> {path.target!r} appears more than once in instrument "
                f"{instance.name!r}."
            )
        seen.add(key)


@attrs.frozen(kw_only=True)
class Instrument:
    """A survey instrument: constructs with their items, and the paths a theory hypothesises.

    Attributes:
        name: A label for the instrument.
        constructs: The constructs, each with its items (names and item codes unique).
        paths: Hypothesised signed paths between constructs (may be empty).
        source: Where the wording comes from (citation, "adapted from ...").

    Examples:
        >>> trust = Construct(
        ...     name="trust",
        ...     items=[
        ...         Item(code="T1", text="They keep promises."),
        ...         Item(code="T2", text="They are honest."),
        ...     ],
        ... )
        >>> Instrument(name="mini", constructs=[trust]).item_codes
        ('T1', 'T2')
    """

    name: str = attrs.field(validator=_non_empty("name"))
    constructs: tuple[Construct, ...] = attrs.field(
        converter=_to_constructs, validator=_check_constructs
    )
    paths: tuple[StructuralPath, ...] = attrs.field(
        default=(), converter=_to_paths, validator=_check_paths
    )
    source: str = ""

    @property
    def construct_names(self) -> tuple[str, ...]:
        """Construct names, in order."""
        return tuple(c.name for c in self.constructs)

    @property
    def item_codes(self) -> tuple[str, ...]:
        """All item codes, construct by construct, in order."""
        return tuple(code for c in self.constructs for code in c.item_codes)

    def construct(self, name: str) -> Construct:
        """Return the construct called ``name``.

        Raises:
            InvalidInputError: When the instrument has no such construct.
        """
        for c in self.constructs:
            if c.name == name:
                return c
        raise InvalidInputError(
            f"Instrument {self.name!r} has no construct {name!r}. "
            f"Defined: {list(self.construct_names)}."
        )


_ADAPTED = (
    "Constructs and paths after Morgan & Hunt (1994), 'The commitment-trust theory of "
    "relationship marketing', Journal of Marketing 58(3), 20-38. Item wording adapted by relmark "
    "from the construct definitions (not the original scales); validate it on your own data."
)


def _construct(name: str, definition: str, prefix: str, texts: list[tuple[str, bool]]) -> Construct:
    items = [
        Item(code=f"{prefix}{i}", text=text, scale_min=1, scale_max=7, reverse_keyed=rev)
        for i, (text, rev) in enumerate(texts, start=1)
    ]
    return Construct(name=name, definition=definition, items=items)


def _trust() -> Construct:
    return _construct(
        "trust",
        "Confidence in the exchange partner's reliability and integrity.",
        "TRU",
        [
            ("This company can be counted on to do what it says it will do.", False),
            ("This company is honest with me.", False),
            ("I can rely on this company to act in my interest.", False),
            ("I sometimes doubt whether this company will keep its promises.", True),
        ],
    )


def _commitment() -> Construct:
    return _construct(
        "commitment",
        "An enduring desire to maintain a valued relationship, worth working on to keep.",
        "COM",
        [
            ("My relationship with this company is one I intend to maintain.", False),
            ("My relationship with this company deserves my maximum effort to keep.", False),
            ("I feel a real attachment to this company.", False),
            ("It would not matter much to me if this relationship ended.", True),
        ],
    )


def _satisfaction() -> Construct:
    return _construct(
        "satisfaction",
        "An overall, cumulative evaluation of the relationship with the partner so far.",
        "SAT",
        [
            ("Overall, I am satisfied with this company.", False),
            ("This company meets my expectations.", False),
            ("I am disappointed with my experience with this company.", True),
        ],
    )


def _kmv_antecedents() -> list[Construct]:
    return [
        _construct(
            "termination_costs",
            "The expected losses from ending the relationship: switching costs, lost "
            "investments, the cost of finding a replacement partner.",
            "TER",
            [
                ("Switching away from this company would cost me a lot of time and effort.", False),
                ("I would lose a lot if my relationship with this company ended.", False),
                ("It would be easy to find an equally good replacement for this company.", True),
            ],
        ),
        _construct(
            "relationship_benefits",
            "The superior benefits the partner delivers relative to alternatives "
            "(value, quality, service).",
            "BEN",
            [
                ("This company gives me better value than its competitors.", False),
                ("The products and service I get from this company are superior.", False),
                ("I gain benefits from this company that others do not offer.", False),
            ],
        ),
        _construct(
            "shared_values",
            "The extent to which the partners hold beliefs in common about which behaviours, "
            "goals and policies are important and right.",
            "SHV",
            [
                ("This company and I share similar values.", False),
                ("This company cares about the same things that matter to me.", False),
                ("This company's way of doing business conflicts with my principles.", True),
            ],
        ),
        _construct(
            "communication",
            "The formal and informal sharing of meaningful and timely information between "
            "the partners.",
            "CMU",
            [
                ("This company keeps me informed about things that affect me.", False),
                ("This company listens and responds when I get in touch.", False),
                ("Information from this company is timely and useful.", False),
            ],
        ),
        _construct(
            "opportunistic_behaviour",
            "Self-interest seeking with guile: the partner's perceived breaking of promises, "
            "distortion of information or exploitation of the relationship.",
            "OPP",
            [
                ("This company has exaggerated claims to get what it wants.", False),
                ("This company has taken advantage of me when it could.", False),
                ("This company has not kept promises it made to me.", False),
            ],
        ),
    ]


def _kmv_outcomes() -> list[Construct]:
    return [
        _construct(
            "acquiescence",
            "The degree to which a party accepts or adheres to the partner's specific requests "
            "or policies.",
            "ACQ",
            [
                (
                    "I go along with this company's policies even when I would prefer otherwise.",
                    False,
                ),
                ("I accept this company's requests about how we deal with each other.", False),
                ("I am willing to adapt to the way this company works.", False),
            ],
        ),
        _construct(
            "propensity_to_leave",
            "The perceived likelihood that the party will end the relationship in the near future.",
            "LEA",
            [
                ("I am likely to stop dealing with this company in the next year.", False),
                ("I am actively looking at alternatives to this company.", False),
                ("I expect to still be a customer of this company a year from now.", True),
            ],
        ),
        _construct(
            "cooperation",
            "Working together with the partner to reach mutual goals.",
            "COP",
            [
                ("This company and I work together to solve problems.", False),
                ("I share feedback with this company to help it improve.", False),
                ("I help this company serve me better (ideas, information, referrals).", False),
            ],
        ),
        _construct(
            "functional_conflict",
            "Disagreements that are resolved amicably and leave the relationship more productive.",
            "FCO",
            [
                ("When we disagree, the disagreement with this company is resolved fairly.", False),
                ("Disagreements with this company have improved how we work together.", False),
                ("Problems with this company are worked out constructively.", False),
            ],
        ),
        _construct(
            "decision_making_uncertainty",
            "The degree to which the party lacks the information to decide and cannot predict "
            "the consequences of its decisions about the partner.",
            "UNC",
            [
                ("I am often unsure what to expect from this company.", False),
                ("I lack the information I need to make decisions about this company.", False),
                ("I can predict how dealing with this company will turn out.", True),
            ],
        ),
    ]


_KMV_PATHS = (
    ("termination_costs", "commitment", PathSign.POSITIVE),
    ("relationship_benefits", "commitment", PathSign.POSITIVE),
    ("shared_values", "commitment", PathSign.POSITIVE),
    ("shared_values", "trust", PathSign.POSITIVE),
    ("communication", "trust", PathSign.POSITIVE),
    ("opportunistic_behaviour", "trust", PathSign.NEGATIVE),
    ("trust", "commitment", PathSign.POSITIVE),
    ("commitment", "acquiescence", PathSign.POSITIVE),
    ("commitment", "propensity_to_leave", PathSign.NEGATIVE),
    ("commitment", "cooperation", PathSign.POSITIVE),
    ("trust", "cooperation", PathSign.POSITIVE),
    ("trust", "functional_conflict", PathSign.POSITIVE),
    ("trust", "decision_making_uncertainty", PathSign.NEGATIVE),
)


def default_kmv_instrument() -> Instrument:
    """The key mediating variable (KMV) model of Morgan & Hunt (1994) as an instrument.

    Twelve constructs on 1-7 agreement scales — five antecedents (relationship termination
    costs, relationship benefits, shared values, communication, opportunistic behaviour), the two
    mediators (trust, commitment) and five outcomes (acquiescence, propensity to leave,
    cooperation, functional conflict, decision-making uncertainty) — and the thirteen paths of
    Morgan & Hunt (1994, Figure 1) with their hypothesised signs.

    The wording is relmark's adaptation (``source`` says so), phrased for a customer about a
    company; rephrase it for suppliers, employees or other stakeholders by building your own
    [`Instrument`][relmark.trust.instrument.Instrument].

    Returns:
        The instrument (a new record each call).

    Examples:
        >>> kmv = default_kmv_instrument()
        >>> len(kmv.constructs), len(kmv.paths)
        (12, 13)
    """
    antecedents = _kmv_antecedents()
    constructs = [*antecedents, _trust(), _commitment(), *_kmv_outcomes()]
    paths = [StructuralPath(source=s, target=t, sign=sign) for s, t, sign in _KMV_PATHS]
    return Instrument(name="kmv", constructs=constructs, paths=paths, source=_ADAPTED)


def relationship_quality_instrument() -> Instrument:
    """Relationship quality as trust, commitment and satisfaction (1-7 agreement scales).

    Relationship quality is commonly treated as a higher-order construct of trust, commitment
    and satisfaction (e.g. Hennig-Thurau, Gwinner & Gremler 2002). The trust and commitment items
    are those of [`default_kmv_instrument`][relmark.trust.instrument.default_kmv_instrument];
    the satisfaction items are relmark's own wording.

    Returns:
        The instrument, without paths.
    """
    return Instrument(
        name="relationship_quality",
        constructs=[_trust(), _commitment(), _satisfaction()],
        source="Trust and commitment after Morgan & Hunt (1994); satisfaction after "
        "Hennig-Thurau, Gwinner & Gremler (2002). Item wording adapted by relmark.",
    )
