"""The field catalogue: what a firm may learn about a customer, when, why and on what legal basis.

A [`FieldSpec`][relmark.profile.catalogue.FieldSpec] describes one piece of information: its
value type, the stage of the relationship at which it is gathered, the purpose it serves, the
lawful basis that purpose relies on (GDPR Art. 6), how sensitive it is, how long an answer stays
fresh and which fields must be known before it may be asked. A
[`Catalogue`][relmark.profile.catalogue.Catalogue] is a validated, ordered set of specs;
[`default_catalogue`][relmark.profile.catalogue.default_catalogue] ships a sensible one.

The four stages follow the staged build-up of customer information in relationship marketing:

1. **Identification** — basic facts collected when the account is opened.
2. **Transactional** — activity levels and patterns derived from purchase history and scores.
3. **Needs and preferences** — follow-up questions chosen by analysing stages 1–2.
4. **Partnership** — what a customer shares once the relationship has deepened.
"""

from __future__ import annotations

import builtins
import datetime as dt
import enum
import math
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import attrs

from relmark.domain.vocabulary import Channel
from relmark.errors import InvalidInputError

__all__ = [
    "Catalogue",
    "FieldSpec",
    "LawfulBasis",
    "Sensitivity",
    "Stage",
    "default_catalogue",
]


class Stage(enum.IntEnum):
    """Stage of the relationship at which a field is gathered (ordered: 1 comes first)."""

    IDENTIFICATION = 1
    """Basic information collected when the account is opened."""
    TRANSACTIONAL = 2
    """Behavioural information derived from purchases and scores."""
    NEEDS = 3
    """Needs and preferences asked in analysis-driven follow-up."""
    PARTNERSHIP = 4
    """Information shared once the relationship has become a partnership."""


class LawfulBasis(enum.Enum):
    """The lawful bases for processing personal data of GDPR Art. 6(1)(a)–(f).

    relmark treats them as follows when deciding whether a field may be asked or stored:
    ``CONSENT`` needs consent for the field's purpose granted and not withdrawn at that moment;
    ``LEGITIMATE_INTEREST`` is available unless the customer has objected to the purpose
    (Art. 21); the other bases do not depend on the customer's choices.
    """

    CONSENT = "consent"
    """Art. 6(1)(a): the customer has consented to the purpose."""
    CONTRACT = "contract"
    """Art. 6(1)(b): necessary to perform the contract (the account)."""
    LEGAL_OBLIGATION = "legal_obligation"
    """Art. 6(1)(c): required by law (for example tax records)."""
    VITAL_INTERESTS = "vital_interests"
    """Art. 6(1)(d): to protect someone's life."""
    PUBLIC_TASK = "public_task"
    """Art. 6(1)(e): a task in the public interest."""
    LEGITIMATE_INTEREST = "legitimate_interest"
    """Art. 6(1)(f): the firm's legitimate interest, subject to the customer's right to object."""


class Sensitivity(enum.IntEnum):
    """How intrusive a field is to ask for and how carefully it must be kept (ordered)."""

    LOW = 0
    """Everyday information (a postcode, a preference)."""
    MEDIUM = 1
    """Personal but ordinary (date of birth, household size)."""
    HIGH = 2
    """Information many customers hesitate to share (income, life events)."""
    SPECIAL_CATEGORY = 3
    """A special category of GDPR Art. 9 (health, religion, ...): explicit consent only."""


_SCALAR_TYPES: tuple[type, ...] = (str, int, float, bool, dt.date, dt.datetime, tuple)


def _check_type(instance: FieldSpec, attribute: attrs.Attribute[Any], value: object) -> None:
    del attribute
    ok = isinstance(value, type) and (
        value in _SCALAR_TYPES or (issubclass(value, enum.Enum) and len(value) > 0)
    )
    if not ok:
        allowed = "str, int, float, bool, datetime.date, datetime.datetime, tuple (of str)"
        raise InvalidInputError(
            f"The 'type' of field {instance.name!r} must be one of {allowed} or a non-empty "
            f"Enum class. Got {value!r}."
        )


def _check_name(instance: FieldSpec, attribute: attrs.Attribute[Any], value: object) -> None:
    del instance
    if not isinstance(value, str) or not value.isidentifier():
        raise InvalidInputError(
            f"The {attribute.name!r} of a FieldSpec must be a Python identifier "
            f"(letters, digits, underscores). Got {value!r}."
        )


def _check_purpose(instance: FieldSpec, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(
            f"The {attribute.name!r} of field {instance.name!r} must be a non-empty string. "
            f"Got {value!r}."
        )


def _to_stage(value: object) -> Stage:
    if isinstance(value, Stage):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return Stage(value)
        except ValueError:
            pass
    raise InvalidInputError(
        f"The 'stage' of a FieldSpec must be 1, 2, 3 or 4 (or a Stage). Got {value!r}."
    )


def _check_freshness(instance: FieldSpec, attribute: attrs.Attribute[Any], value: object) -> None:
    del attribute
    if value is None:
        return
    if not isinstance(value, dt.timedelta) or value <= dt.timedelta(0):
        raise InvalidInputError(
            f"The 'freshness' of field {instance.name!r} must be a positive timedelta or None. "
            f"Got {value!r}."
        )


def _check_choices(
    instance: FieldSpec, attribute: attrs.Attribute[Any], value: tuple[Any, ...]
) -> None:
    del attribute  # the converter made ``value`` a tuple
    if not value:
        return
    if len(set(value)) != len(value):
        raise InvalidInputError(
            f"The 'choices' of field {instance.name!r} must not repeat a value. Got {value!r}."
        )
    element = str if instance.type is tuple else instance.type
    bad = [c for c in value if not _is_instance(c, element)]
    if bad:
        raise InvalidInputError(
            f"The 'choices' of field {instance.name!r} must be values of type "
            f"{element.__name__}. Got {bad!r}."
        )


def _check_channels(
    instance: FieldSpec, attribute: attrs.Attribute[Any], value: frozenset[object] | None
) -> None:
    del attribute  # the converter made ``value`` a frozenset (or left None)
    if value is None:
        return
    bad = [c for c in value if not isinstance(c, Channel)]
    if bad or not value:
        raise InvalidInputError(
            f"The 'channels' of field {instance.name!r} must be None (any channel) or a "
            f"non-empty set of Channel members. Got {sorted(map(repr, value))}."
        )


def _to_channels(value: Iterable[Channel] | None) -> frozenset[Channel] | None:
    return None if value is None else frozenset(value)


def _str_tuple(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


def _any_tuple(value: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(value)


def _is_instance(value: object, kind: type) -> bool:
    """Strict type test: ``bool`` is not an ``int``, a ``datetime`` is not a ``date``."""
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is float:
        return isinstance(value, float)
    if kind is dt.date:
        return isinstance(value, dt.date) and not isinstance(value, dt.datetime)
    if kind is tuple:
        return isinstance(value, tuple) and all(isinstance(v, str) for v in value)
    return isinstance(value, kind)


@attrs.frozen(kw_only=True)
class FieldSpec:
    """One piece of information a firm may hold about a customer.

    Attributes:
        name: Identifier of the field (``"email"``, ``"price_sensitivity"``).
        type: Value type: ``str``, ``int``, ``float``, ``bool``, ``datetime.date``,
            ``datetime.datetime`` (timezone-aware), ``tuple`` (a tuple of ``str``, for
            multi-select answers) or an ``Enum`` class. Checked strictly: ``True`` is not an
            ``int`` and an ``int`` is not a ``float``.
        stage: The relationship stage at which the field is gathered (1–4, see
            [`Stage`][relmark.profile.catalogue.Stage]).
        purpose: The processing purpose the field serves (``"account"``, ``"personalisation"``);
            consent is granted and withdrawn per purpose.
        lawful_basis: The lawful basis the purpose relies on.
        sensitivity: How intrusive the question is.
        freshness: Age after which a value is stale and may be asked again; ``None`` for a value
            that never goes stale.
        depends_on: Fields that must be known before this one may be asked.
        required: Whether the stage counts as complete only once this field is known.
        askable: Whether the field is gathered by asking the customer (``False`` for derived
            stage-2 fields, which are computed, never asked).
        choices: Allowed values (for a ``tuple`` field: allowed elements); empty for any value
            of the type. An ``Enum`` or ``bool`` field has its answers implied by its type.
        channels: Channels through which the question may be asked; ``None`` for any.
        description: What the field means, for people.
    """

    name: str = attrs.field(validator=_check_name)
    # Spelled builtins.type: the class namespace holds the field named 'type', so a bare
    # annotation would resolve to that field's slot descriptor at run time.
    type: builtins.type = attrs.field(validator=_check_type)
    stage: Stage = attrs.field(converter=_to_stage)
    purpose: str = attrs.field(validator=_check_purpose)
    lawful_basis: LawfulBasis = attrs.field(
        default=LawfulBasis.CONTRACT, validator=attrs.validators.instance_of(LawfulBasis)
    )
    sensitivity: Sensitivity = attrs.field(
        default=Sensitivity.LOW, validator=attrs.validators.instance_of(Sensitivity)
    )
    freshness: dt.timedelta | None = attrs.field(default=None, validator=_check_freshness)
    depends_on: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)
    required: bool = attrs.field(default=False, validator=attrs.validators.instance_of(bool))
    askable: bool = attrs.field(default=True, validator=attrs.validators.instance_of(bool))
    choices: tuple[Any, ...] = attrs.field(
        default=(), converter=_any_tuple, validator=_check_choices
    )
    channels: frozenset[Channel] | None = attrs.field(
        default=None, converter=_to_channels, validator=_check_channels
    )
    description: str = ""

    @property
    def answers(self) -> tuple[Any, ...] | None:
        """The finite set of possible answers, or ``None`` when the answer space is open.

        ``bool`` fields answer ``(False, True)``, ``Enum`` fields their members, fields with
        ``choices`` those choices (except ``tuple`` fields, whose answers are subsets).
        """
        if self.type is bool:
            return (False, True)
        if issubclass(self.type, enum.Enum):
            return tuple(self.type)
        if self.choices and self.type is not tuple:
            return self.choices
        return None

    def check_value(self, value: object) -> None:
        """Raise if ``value`` is not a valid value of this field.

        Raises:
            InvalidInputError: Naming the field, the expected type or choices and the type of
                the value. The value itself is not shown: it is personal data, and messages
                end up in logs.
        """
        if not _is_instance(value, self.type):
            expected = "tuple of str" if self.type is tuple else self.type.__name__
            raise InvalidInputError(
                f"Field {self.name!r} expects a value of type {expected}. "
                f"Got a {type(value).__name__} (value not shown)."
            )
        if isinstance(value, float) and math.isnan(value):
            raise InvalidInputError(f"Field {self.name!r} expects a number. Got NaN.")
        if isinstance(value, dt.datetime) and value.utcoffset() is None:
            raise InvalidInputError(
                f"Field {self.name!r} expects a timezone-aware datetime. Got a naive one "
                "(value not shown)."
            )
        if self.choices:
            given = value if isinstance(value, tuple) else (value,)
            bad = [v for v in given if v not in self.choices]
            if bad:
                raise InvalidInputError(
                    f"Field {self.name!r} accepts only {self.choices!r}. Got {len(bad)} other "
                    "value(s) (not shown)."
                )


def _to_fields(value: Iterable[FieldSpec]) -> tuple[FieldSpec, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class Catalogue:
    """An ordered, validated set of [`FieldSpec`][relmark.profile.catalogue.FieldSpec]s.

    Names are unique, every dependency names a field of the catalogue, and dependencies do not
    form a cycle. The order is the "static" question order used by
    [`CatalogueOrderRanker`][relmark.profile.ranking.CatalogueOrderRanker].

    Attributes:
        fields: The specs, in catalogue order.
    """

    fields: tuple[FieldSpec, ...] = attrs.field(converter=_to_fields)
    _index: Mapping[str, int] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        """Check names, dependencies and acyclicity; build the name index."""
        given: tuple[object, ...] = self.fields
        bad = [f for f in given if not isinstance(f, FieldSpec)]
        if bad:
            raise InvalidInputError(
                f"The 'catalogue' must hold FieldSpec instances only. Got {bad[:3]!r}."
            )
        index: dict[str, int] = {}
        for i, spec in enumerate(self.fields):
            if spec.name in index:
                raise InvalidInputError(
                    f"The 'catalogue' defines field {spec.name!r} more than once."
                )
            index[spec.name] = i
        for spec in self.fields:
            unknown = [d for d in spec.depends_on if d not in index]
            if unknown:
                raise InvalidInputError(
                    f"Field {spec.name!r} depends on {unknown!r}, which the catalogue does not "
                    "define."
                )
        _check_acyclic(self.fields)
        object.__setattr__(self, "_index", index)

    def __iter__(self) -> Iterator[FieldSpec]:
        """Iterate over the specs in catalogue order."""
        return iter(self.fields)

    def __len__(self) -> int:
        """Number of fields."""
        return len(self.fields)

    def __contains__(self, name: object) -> bool:
        """Whether a field of that name exists."""
        return name in self._index

    def __getitem__(self, name: str) -> FieldSpec:
        """The spec of field ``name``.

        Raises:
            InvalidInputError: For an unknown field, listing the known ones.
        """
        try:
            return self.fields[self._index[name]]
        except (KeyError, TypeError):
            known = ", ".join(self._index)
            raise InvalidInputError(
                f"Unknown field {name!r}; the catalogue defines: {known}."
            ) from None

    def position(self, name: str) -> int:
        """The 0-based catalogue position of field ``name``."""
        self[name]
        return self._index[name]

    @property
    def names(self) -> tuple[str, ...]:
        """Field names in catalogue order."""
        return tuple(f.name for f in self.fields)

    def stage_fields(self, stage: int) -> tuple[FieldSpec, ...]:
        """The fields gathered at ``stage``, in catalogue order."""
        return tuple(f for f in self.fields if f.stage == stage)


def _check_acyclic(fields: tuple[FieldSpec, ...]) -> None:
    deps = {f.name: f.depends_on for f in fields}
    done: set[str] = set()
    for start in deps:
        path: list[str] = []
        on_path: set[str] = set()
        stack: list[tuple[str, int]] = [(start, 0)]
        while stack:
            node, i = stack.pop()
            if i == 0:
                if node in done:
                    continue
                path.append(node)
                on_path.add(node)
            children = deps[node]
            if i < len(children):
                stack.append((node, i + 1))
                child = children[i]
                if child in on_path:
                    cycle = [*path[path.index(child) :], child]
                    raise InvalidInputError(
                        "The 'depends_on' relations of the catalogue form a cycle: "
                        + " -> ".join(cycle)
                        + "."
                    )
                if child not in done:
                    stack.append((child, 0))
            else:
                path.pop()
                on_path.discard(node)
                done.add(node)


class PriceSensitivity(enum.Enum):
    """Answer to the default catalogue's ``price_sensitivity`` question."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class PurchaseIntent(enum.Enum):
    """Answer to the default catalogue's ``purchase_intent`` question (next three months)."""

    NONE = "none"
    POSSIBLE = "possible"
    LIKELY = "likely"


_YEAR = dt.timedelta(days=365)


def default_catalogue() -> Catalogue:
    r"""The catalogue relmark ships: a generic retail relationship in four stages.

    | stage | fields | purpose / basis |
    |---|---|---|
    | 1 | `full_name`\*, `email`\*, `country`\*, `postal_code`, `date_of_birth` | account / contract |
    | 2 | `repeat_purchases`\*, `days_since_last_purchase`\*, `tenure_days`\*, `purchase_rate_per_year`, `average_spend`, `spend_level`, `rfm_recency_score`, `rfm_frequency_score`, `rfm_monetary_score`, `rfm_cell`, `rfm_segment`, `probability_alive`, `clv`, `clv_tier`, `lifecycle_stage`, `preferred_channel` | analytics / legitimate interest (derived, never asked) |
    | 3 | `price_sensitivity`\*, `purchase_intent`\*, `product_interests`, `buys_as_gifts`, `household_size`, `preferred_contact_channel`, `contact_frequency` (after `preferred_contact_channel`) | personalisation / consent |
    | 4 | `referral_willingness`, `co_creation_interest`, `advisory_panel` (after `co_creation_interest`) | partnership / consent |

    Fields marked \* are required for their stage to count as complete. Stage-3 answers go
    stale after a year, contact details after three.

    Returns:
        A fresh [`Catalogue`][relmark.profile.catalogue.Catalogue].
    """
    basis = LawfulBasis
    ident: dict[str, Any] = {
        "stage": Stage.IDENTIFICATION,
        "purpose": "account",
        "lawful_basis": basis.CONTRACT,
    }
    derived: dict[str, Any] = {
        "stage": Stage.TRANSACTIONAL,
        "purpose": "analytics",
        "lawful_basis": basis.LEGITIMATE_INTEREST,
        "askable": False,
    }
    needs: dict[str, Any] = {
        "stage": Stage.NEEDS,
        "purpose": "personalisation",
        "lawful_basis": basis.CONSENT,
    }
    partner: dict[str, Any] = {
        "stage": Stage.PARTNERSHIP,
        "purpose": "partnership",
        "lawful_basis": basis.CONSENT,
    }
    level = ("low", "medium", "high")
    return Catalogue(
        fields=[
            FieldSpec(name="full_name", type=str, required=True, **ident),
            FieldSpec(name="email", type=str, required=True, freshness=3 * _YEAR, **ident),
            FieldSpec(name="country", type=str, required=True, **ident),
            FieldSpec(name="postal_code", type=str, freshness=3 * _YEAR, **ident),
            FieldSpec(name="date_of_birth", type=dt.date, sensitivity=Sensitivity.MEDIUM, **ident),
            FieldSpec(name="repeat_purchases", type=int, required=True, **derived),
            FieldSpec(name="days_since_last_purchase", type=float, required=True, **derived),
            FieldSpec(name="tenure_days", type=float, required=True, **derived),
            FieldSpec(name="purchase_rate_per_year", type=float, **derived),
            FieldSpec(name="average_spend", type=float, **derived),
            FieldSpec(name="spend_level", type=str, choices=level, **derived),
            FieldSpec(name="rfm_recency_score", type=int, **derived),
            FieldSpec(name="rfm_frequency_score", type=int, **derived),
            FieldSpec(name="rfm_monetary_score", type=int, **derived),
            FieldSpec(name="rfm_cell", type=str, **derived),
            FieldSpec(name="rfm_segment", type=str, **derived),
            FieldSpec(name="probability_alive", type=float, **derived),
            FieldSpec(name="clv", type=float, **derived),
            FieldSpec(name="clv_tier", type=str, choices=level, **derived),
            FieldSpec(
                name="lifecycle_stage",
                type=str,
                choices=("reach", "acquisition", "conversion", "retention", "loyalty"),
                **derived,
            ),
            FieldSpec(name="preferred_channel", type=Channel, **derived),
            FieldSpec(
                name="price_sensitivity",
                type=PriceSensitivity,
                required=True,
                freshness=_YEAR,
                **needs,
            ),
            FieldSpec(
                name="purchase_intent",
                type=PurchaseIntent,
                required=True,
                freshness=dt.timedelta(days=90),
                **needs,
            ),
            FieldSpec(name="product_interests", type=tuple, freshness=_YEAR, **needs),
            FieldSpec(name="buys_as_gifts", type=bool, freshness=_YEAR, **needs),
            FieldSpec(
                name="household_size",
                type=int,
                choices=(1, 2, 3, 4, 5),
                sensitivity=Sensitivity.MEDIUM,
                freshness=2 * _YEAR,
                **needs,
            ),
            FieldSpec(name="preferred_contact_channel", type=Channel, freshness=_YEAR, **needs),
            FieldSpec(
                name="contact_frequency",
                type=str,
                choices=("weekly", "monthly", "quarterly"),
                depends_on=("preferred_contact_channel",),
                freshness=_YEAR,
                **needs,
            ),
            FieldSpec(
                name="referral_willingness",
                type=int,
                choices=tuple(range(11)),
                freshness=_YEAR,
                **partner,
            ),
            FieldSpec(name="co_creation_interest", type=bool, freshness=_YEAR, **partner),
            FieldSpec(
                name="advisory_panel",
                type=bool,
                depends_on=("co_creation_interest",),
                sensitivity=Sensitivity.MEDIUM,
                freshness=_YEAR,
                **partner,
            ),
        ]
    )
