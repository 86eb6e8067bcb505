"""Provenanced values, consent events, erasure records and the immutable customer profile.

Every value a [`Profile`][relmark.profile.records.Profile] holds carries its
[`Provenance`][relmark.profile.records.Provenance]: where it came from, through which channel,
when, collected by whom, and which purposes the customer had consented to at that moment. A new
value never replaces an old one; it is added to the field's history, and the *current* value is
resolved from the history by a [`ResolutionPolicy`][relmark.profile.records.ResolutionPolicy].
Profiles are built and changed only through
[`ProfileBuilder`][relmark.profile.builder.ProfileBuilder], which returns new profiles.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Hashable, Iterable
from typing import Any

import attrs
import numpy as np

from relmark.domain.vocabulary import Channel
from relmark.errors import InvalidInputError
from relmark.profile.catalogue import Catalogue, FieldSpec, LawfulBasis, Stage

__all__ = [
    "ConsentAction",
    "ConsentEvent",
    "ErasureRecord",
    "Profile",
    "Provenance",
    "ProvenancedValue",
    "ResolutionPolicy",
    "ValueSource",
    "customer_key",
    "masked",
]


def _str_tuple(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


def _values(value: Iterable[ProvenancedValue]) -> tuple[ProvenancedValue, ...]:
    return tuple(value)


def _events(value: Iterable[ConsentEvent]) -> tuple[ConsentEvent, ...]:
    return tuple(value)


def _erasures(value: Iterable[ErasureRecord]) -> tuple[ErasureRecord, ...]:
    return tuple(value)


def _sources(value: Iterable[ValueSource]) -> tuple[ValueSource, ...]:
    return tuple(value)


def check_aware(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Validate for attrs that ``value`` is a timezone-aware datetime."""
    if not isinstance(value, dt.datetime) or value.utcoffset() is None:
        owner = type(instance).__name__
        raise InvalidInputError(
            f"The {attribute.name!r} of {owner} must be a timezone-aware datetime. Got {value!r}."
        )


def _check_sequence(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInputError(
            f"The {attribute.name!r} of {type(instance).__name__} must be an int >= 0. "
            f"Got {value!r}."
        )


def masked(value: object) -> str:
    """How a personal value appears in reprs and messages: its type, never its content."""
    if value is None:
        return "None"
    return f"<{type(value).__name__}, masked>"


class ValueSource(enum.Enum):
    """Where a value came from."""

    DECLARED = "declared"
    """The customer told us (a form, a survey answer, a conversation)."""
    OBSERVED = "observed"
    """Seen in the customer's behaviour or account (a transaction, a delivery address used)."""
    DERIVED = "derived"
    """Computed from other data by a scorer or rule."""
    THIRD_PARTY = "third_party"
    """Received from another organisation."""


class ConsentAction(enum.Enum):
    """What a consent event records."""

    GRANT = "grant"
    """Consent to the purpose given (also lifts an earlier objection)."""
    WITHDRAW = "withdraw"
    """Consent to the purpose withdrawn (GDPR Art. 7(3))."""
    OBJECT = "object"
    """The customer objects to processing for the purpose (GDPR Art. 21)."""


@attrs.frozen(kw_only=True)
class Provenance:
    """Where, when, how and under which consent a value was collected.

    Attributes:
        source: Where the value came from.
        collected_at: When it was collected (timezone-aware).
        collector: Who or what collected it: an agent, a form, or ``"derived by <scorer>"``;
            masked in the repr, since it may name a person.
        channel: The channel through which it was collected, if any.
        consent: The purposes the customer had consented to at ``collected_at`` (sorted).
    """

    source: ValueSource = attrs.field(validator=attrs.validators.instance_of(ValueSource))
    collected_at: dt.datetime = attrs.field(validator=check_aware)
    collector: str = attrs.field(validator=attrs.validators.instance_of(str), repr=masked)
    channel: Channel | None = attrs.field(
        default=None, validator=attrs.validators.optional(attrs.validators.instance_of(Channel))
    )
    consent: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)


@attrs.frozen(kw_only=True)
class ProvenancedValue:
    """One observed value of one field, with its provenance.

    Attributes:
        field: The field name.
        value: The value (of the field's type). Personal data: the repr shows its type only.
        provenance: Its provenance.
        sequence: Position of the observation in the profile's life (0, 1, 2, ...), breaking
            ties between values collected at the same instant.
    """

    field: str
    value: Any = attrs.field(repr=masked)
    provenance: Provenance
    sequence: int = attrs.field(validator=_check_sequence)


@attrs.frozen(kw_only=True)
class ConsentEvent:
    """A grant, withdrawal or objection for one purpose, with its timestamp.

    Attributes:
        purpose: The processing purpose.
        action: Grant, withdrawal or objection.
        at: When it takes effect (timezone-aware); it may differ from when it was recorded.
        sequence: When it was recorded: its position in the profile's life, shared with
            observations and erasures (0, 1, 2, ...). The customer's latest recorded word wins.
        channel: Through which channel it was expressed, if known.
        note: Free text (the wording shown, a reference to the form); masked in the repr, since
            free text may quote the customer.
    """

    purpose: str
    action: ConsentAction = attrs.field(validator=attrs.validators.instance_of(ConsentAction))
    at: dt.datetime = attrs.field(validator=check_aware)
    sequence: int = attrs.field(validator=_check_sequence)
    channel: Channel | None = None
    note: str = attrs.field(default="", repr=masked)


@attrs.frozen(kw_only=True)
class ErasureRecord:
    """Audit record of an erasure request: what was erased and when, never the values.

    Attributes:
        fields: The fields whose values were erased.
        values_erased: How many provenanced values were removed.
        at: When the erasure was carried out (timezone-aware).
        sequence: When it was recorded: its position in the profile's life, shared with
            observations and consent events.
        requested_by: Who asked for it (the customer, a data-protection officer, ...); masked in
            the repr, since it may name a person.
        reason: Why (for example ``"GDPR Art. 17 request"``); masked in the repr, since free
            text may name a person.
    """

    fields: tuple[str, ...] = attrs.field(converter=_str_tuple)
    values_erased: int
    at: dt.datetime = attrs.field(validator=check_aware)
    sequence: int = attrs.field(validator=_check_sequence)
    requested_by: str = attrs.field(default="", repr=masked)
    reason: str = attrs.field(default="", repr=masked)


_DEFAULT_PRIORITY = (
    ValueSource.DECLARED,
    ValueSource.OBSERVED,
    ValueSource.DERIVED,
    ValueSource.THIRD_PARTY,
)


def _check_priority(
    instance: ResolutionPolicy, attribute: attrs.Attribute[Any], value: tuple[ValueSource, ...]
) -> None:
    del instance
    if sorted(value, key=lambda s: s.value) != sorted(ValueSource, key=lambda s: s.value):
        raise InvalidInputError(
            f"The {attribute.name!r} of a ResolutionPolicy must list every ValueSource exactly "
            f"once. Got {value!r}."
        )


@attrs.frozen(kw_only=True)
class ResolutionPolicy:
    """How the current value of a field is chosen from its history.

    Attributes:
        order: ``"recency"``: the most recently collected value wins, ties broken by source
            priority, then by observation order. ``"source"``: the value from the
            highest-priority source wins, ties broken by recency, then by observation order.
        source_priority: Sources from most to least trusted.
    """

    order: str = attrs.field(
        default="recency", validator=attrs.validators.in_(("recency", "source"))
    )
    source_priority: tuple[ValueSource, ...] = attrs.field(
        default=_DEFAULT_PRIORITY, converter=_sources, validator=_check_priority
    )

    def pick(self, history: Iterable[ProvenancedValue]) -> ProvenancedValue | None:
        """The winning value of ``history`` (``None`` if it is empty)."""
        rank = {s: -i for i, s in enumerate(self.source_priority)}

        def key(v: ProvenancedValue) -> tuple[Any, ...]:
            p = v.provenance
            if self.order == "recency":
                return (p.collected_at, rank[p.source], v.sequence)
            return (rank[p.source], p.collected_at, v.sequence)

        return max(history, key=key, default=None)


def customer_key(value: object, owner: str = "Profile") -> int | str:
    """A customer id as a profile holds it: a Python ``int`` or ``str`` (numpy scalars unwrapped).

    Raises:
        InvalidInputError: For any other value (a bool, a float, a tuple, None, ...).
    """
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise InvalidInputError(
        f"The 'customer_id' of {owner} must be an int or a str (the id types of a "
        f"CustomerSummary). Got {value!r} ({type(value).__name__})."
    )


def _customer_id(value: object) -> int | str:
    return customer_key(value)


def _deciding(by_date: ConsentEvent | None, by_record: ConsentEvent | None) -> ConsentEvent | None:
    """The event that decides, from the latest events by date and by record.

    See [`Profile.consent_event`][relmark.profile.records.Profile.consent_event].
    """
    if by_date is None or by_record is None:
        return None
    if by_date.action is ConsentAction.GRANT and by_record.action is not ConsentAction.GRANT:
        return by_record
    return by_date


@attrs.frozen(kw_only=True)
class Profile:
    """Everything known about one customer, with provenance, consent and erasure history.

    Immutable: [`ProfileBuilder`][relmark.profile.builder.ProfileBuilder] returns a new profile
    for every change. Nothing is overwritten: [`history`][relmark.profile.records.Profile.history]
    returns every value ever observed for a field (until it is erased), and
    [`value`][relmark.profile.records.Profile.value] resolves the current one.

    The constructor checks what every profile promises, so a profile loaded from JSON is held
    to the same rules as one the builder made: each value belongs to a field of the catalogue
    and passes its check; its lawful basis was available when it was recorded (consent granted
    for a consent field, no objection for a legitimate-interest field, by the consent log as it
    stood then) and no erasure of its field has removed it since; observations, consent events
    and erasures each appear in recording order and share one sequence of distinct numbers below
    ``next_sequence``.

    The repr names the customer, the stage and the known fields, never a value: values are
    personal data and reprs end up in logs and tracebacks.

    Attributes:
        customer_id: The customer's identifier: an ``int`` or a ``str``, the id types of a
            [`CustomerSummary`][relmark.data.summary.CustomerSummary] (numpy scalars are
            unwrapped; anything else is refused).
        opened_at: When the account was opened (timezone-aware), or ``None`` if unknown.
        catalogue: The field catalogue the profile follows.
        resolution: How the current value of a field is chosen from its history.
        observations: Every provenanced value still held, in observation order.
        consent_log: Every consent grant, withdrawal and objection, in recording order.
        erasures: Audit records of erasure requests carried out, in recording order.
        next_sequence: Sequence number the next observation, consent event or erasure gets.
    """

    customer_id: Hashable = attrs.field(converter=_customer_id)
    opened_at: dt.datetime | None = attrs.field(validator=attrs.validators.optional(check_aware))
    catalogue: Catalogue = attrs.field(validator=attrs.validators.instance_of(Catalogue))
    resolution: ResolutionPolicy = attrs.field(
        factory=ResolutionPolicy, validator=attrs.validators.instance_of(ResolutionPolicy)
    )
    observations: tuple[ProvenancedValue, ...] = attrs.field(default=(), converter=_values)
    consent_log: tuple[ConsentEvent, ...] = attrs.field(default=(), converter=_events)
    erasures: tuple[ErasureRecord, ...] = attrs.field(default=(), converter=_erasures)
    next_sequence: int = attrs.field(default=0, validator=_check_sequence)

    def __attrs_post_init__(self) -> None:
        """Check what every profile promises, however it was made (builder or loaded payload).

        Every record has its type; every value belongs to a field of the catalogue, passes
        its check and had its lawful basis when it was recorded; each of observations, consent
        log and erasures is in recording order, and all share one sequence below
        ``next_sequence`` without repeats.
        """
        kinds = (
            ("observations", ProvenancedValue),
            ("consent_log", ConsentEvent),
            ("erasures", ErasureRecord),
        )
        seen: set[int] = set()
        for name, kind in kinds:
            records: tuple[Any, ...] = getattr(self, name)
            previous = -1
            for i, record in enumerate(records):
                if not isinstance(record, kind):
                    raise InvalidInputError(
                        f"The {name!r} of a Profile must hold {kind.__name__} records; item {i} "
                        f"is a {type(record).__name__}."
                    )
                number = record.sequence
                if number <= previous or number >= self.next_sequence or number in seen:
                    raise InvalidInputError(
                        f"The {name!r} of profile {self.customer_id!r} are not in recording "
                        f"order: item {i} has sequence {number} (after {previous}; every "
                        f"sequence is unique and below next_sequence={self.next_sequence})."
                    )
                seen.add(number)
                previous = number
        for i, observed in enumerate(self.observations):
            if observed.field not in self.catalogue:
                raise InvalidInputError(
                    f"Observation {i} of profile {self.customer_id!r} is of field "
                    f"{observed.field!r}, which the profile's catalogue does not define."
                )
            try:
                self.catalogue[observed.field].check_value(observed.value)
            except InvalidInputError as exc:
                raise InvalidInputError(
                    f"Observation {i} of profile {self.customer_id!r}: {exc}"
                ) from None
            self._check_lawful_basis(i, observed)
            self._check_not_erased(i, observed)

    def _check_lawful_basis(self, i: int, observed: ProvenancedValue) -> None:
        """The consent rule of [`may_store`][relmark.profile.records.Profile.may_store], replayed.

        A held value's lawful basis was available when it was collected, judged on the consent
        log as it stood when the value was recorded (events with a smaller sequence), exactly
        as the builder judged it before storing the value.
        """
        spec = self.catalogue[observed.field]
        if spec.lawful_basis not in (LawfulBasis.CONSENT, LawfulBasis.LEGITIMATE_INTEREST):
            return
        collected = observed.provenance.collected_at
        event = _deciding(*self._in_force(spec.purpose, collected, before=observed.sequence))
        status = None if event is None else event.action
        if spec.lawful_basis is LawfulBasis.CONSENT and status is not ConsentAction.GRANT:
            why = "needs consent, which was not granted"
        elif spec.lawful_basis is LawfulBasis.LEGITIMATE_INTEREST and status in (
            ConsentAction.OBJECT,
            ConsentAction.WITHDRAW,
        ):
            why = f"relies on legitimate interest, and the customer's word was {status.value!r}"
        else:
            return
        raise InvalidInputError(
            f"Observation {i} of profile {self.customer_id!r} (field {observed.field!r}, purpose "
            f"{spec.purpose!r}) {why} when it was collected ({collected.isoformat()}) by the "
            "consent log recorded before it; such a value is never stored."
        )

    def _check_not_erased(self, i: int, observed: ProvenancedValue) -> None:
        """The erasure rule of [`may_store`][relmark.profile.records.Profile.may_store], on a held value.

        No value recorded before an erasure of its field is still held; one recorded after it
        is a declaration by the customer, with a grant for the field's purpose recorded between
        the erasure and the value, dated no earlier than the erasure and in force when the
        value was collected.
        """
        erasures = [e for e in self.erasures if observed.field in e.fields]
        if not erasures:
            return
        who = f"Observation {i} of profile {self.customer_id!r} (field {observed.field!r})"
        last = erasures[-1]
        if observed.sequence < last.sequence:
            raise InvalidInputError(
                f"{who} was recorded before an erasure of its field (sequence "
                f"{last.sequence}) and is still held; an erasure removes every value of its fields."
            )
        purpose = self.catalogue[observed.field].purpose
        collected = observed.provenance.collected_at
        renewed = any(
            event.purpose == purpose
            and event.action is ConsentAction.GRANT
            and last.sequence < event.sequence < observed.sequence
            and last.at <= event.at <= collected
            for event in self.consent_log
        )
        if observed.provenance.source is not ValueSource.DECLARED or not renewed:
            raise InvalidInputError(
                f"{who} is held after the erasure of its field (sequence {last.sequence}); after "
                "an erasure only a value the customer declares anew, after a grant for purpose "
                f"{purpose!r} recorded in between, is stored (this one is "
                f"{observed.provenance.source.value}"
                + ("" if renewed else ", without such a grant")
                + ")."
            )

    def __repr__(self) -> str:
        """The id, stage and which fields are known; never a value (they are personal data)."""
        return (
            f"Profile(customer_id={self.customer_id!r}, stage={self.stage.name}, "
            f"known_fields={self.known_fields!r}, values={len(self.observations)} masked, "
            f"consent_events={len(self.consent_log)}, erasures={len(self.erasures)})"
        )

    def _repr_html_(self) -> str:
        """Stage and, per known field, its source and collection time; values stay masked."""
        from relmark._display import html_table

        fields = self.known_fields
        latest = [self.history(name)[-1] for name in fields]
        return html_table(
            {
                "field": list(fields),
                "source": [v.provenance.source.value for v in latest],
                "collected at": [v.provenance.collected_at.isoformat() for v in latest],
                "value": ["(masked)"] * len(fields),
            },
            title=(
                f"Profile of customer {self.customer_id!r}: stage {self.stage.name}, "
                f"{len(self.consent_log)} consent event(s), {len(self.erasures)} erasure(s)"
            ),
            max_rows=20,
        )

    def history(self, field: str) -> tuple[ProvenancedValue, ...]:
        """Every value held for ``field`` with its provenance, oldest first.

        "Oldest" is by collection time; values collected at the same instant keep their
        observation order.

        Raises:
            InvalidInputError: For a field the catalogue does not define.
        """
        self.catalogue[field]
        held = [v for v in self.observations if v.field == field]
        return tuple(sorted(held, key=lambda v: (v.provenance.collected_at, v.sequence)))

    def current(self, field: str, *, as_of: dt.datetime | None = None) -> ProvenancedValue | None:
        """The current provenanced value of ``field``, or ``None`` when nothing is known.

        Args:
            field: The field name.
            as_of: Resolve as of this instant, ignoring values collected later.

        Raises:
            InvalidInputError: For a field the catalogue does not define.
        """
        history = self.history(field)
        if as_of is not None:
            history = tuple(v for v in history if v.provenance.collected_at <= as_of)
        return self.resolution.pick(history)

    def value(self, field: str, *, as_of: dt.datetime | None = None) -> Any:
        """The current value of ``field``, or ``None`` when nothing is known.

        Raises:
            InvalidInputError: For a field the catalogue does not define.
        """
        current = self.current(field, as_of=as_of)
        return None if current is None else current.value

    def is_known(self, field: str) -> bool:
        """Whether any value of ``field`` is held."""
        return self.current(field) is not None

    def is_fresh(self, field: str, now: dt.datetime) -> bool:
        """Whether ``field`` has a current value that is not stale at ``now``.

        A value is stale once ``now - collected_at >= freshness`` of its field; a field without
        ``freshness`` never goes stale.
        """
        current = self.current(field)
        if current is None:
            return False
        freshness = self.catalogue[field].freshness
        return freshness is None or now - current.provenance.collected_at < freshness

    @property
    def known_fields(self) -> tuple[str, ...]:
        """Fields with a current value, in catalogue order."""
        held = {v.field for v in self.observations}
        return tuple(name for name in self.catalogue.names if name in held)

    def _in_force(
        self, purpose: str, at: dt.datetime, before: int | None = None
    ) -> tuple[ConsentEvent | None, ConsentEvent | None]:
        """The events for ``purpose`` in force at ``at``: latest by date, and latest recorded.

        Only events that have taken effect (``event.at <= at``) count; the latest by date breaks
        ties of date by recording order. With ``before``, only events recorded before that
        sequence number count (the log as it stood when that number was given out).
        """
        by_date: ConsentEvent | None = None
        by_record: ConsentEvent | None = None
        for event in self.consent_log:  # in recording order
            if before is not None and event.sequence >= before:
                break
            if event.purpose != purpose or event.at > at:
                continue
            by_record = event
            if by_date is None or event.at >= by_date.at:
                by_date = event
        return by_date, by_record

    def consent_event(self, purpose: str, at: dt.datetime) -> ConsentEvent | None:
        """The consent event that decides for ``purpose`` at ``at`` (``None`` if there is none).

        Two orders are read, and the customer's restriction wins when they disagree. Among the
        events for ``purpose`` that have taken effect by ``at`` (``event.at <= at``; a grant dated
        in the future has no effect until its date), the latest *by date* decides, unless the
        latest *recorded* one is a withdrawal or an objection while the latest by date is a
        grant: then the recorded one decides. So a late-entered grant back-dated before a
        withdrawal does not undo the withdrawal, and a back-dated withdrawal recorded after a
        grant still ends it.
        """
        return _deciding(*self._in_force(purpose, at))

    def consent_status(self, purpose: str, at: dt.datetime) -> ConsentAction | None:
        """The action of the deciding consent event for ``purpose`` at ``at`` (``None`` if none).

        See [`consent_event`][relmark.profile.records.Profile.consent_event] for which event that is.
        """
        event = self.consent_event(purpose, at)
        return None if event is None else event.action

    def consent_renewed_since(self, purpose: str, erasure: ErasureRecord, at: dt.datetime) -> bool:
        """Whether consent to ``purpose`` was granted anew after ``erasure`` and is in force at ``at``.

        Both orders must agree: the grants in force at ``at`` by date and by recording order are
        grants, recorded after the erasure and dated no earlier than it. A grant recorded before
        the erasure (however the erasure is dated) or dated before it does not renew consent.
        """
        by_date, by_record = self._in_force(purpose, at)
        return all(
            event is not None
            and event.action is ConsentAction.GRANT
            and event.sequence > erasure.sequence
            and event.at >= erasure.at
            for event in (by_date, by_record)
        )

    def has_consent(self, purpose: str, at: dt.datetime) -> bool:
        """Whether consent for ``purpose`` is granted and not withdrawn at ``at``."""
        return self.consent_status(purpose, at) is ConsentAction.GRANT

    def consented_purposes(self, at: dt.datetime) -> tuple[str, ...]:
        """All purposes with consent granted at ``at``, sorted."""
        purposes = {e.purpose for e in self.consent_log}
        return tuple(sorted(p for p in purposes if self.has_consent(p, at)))

    def basis_available(self, spec: FieldSpec, at: dt.datetime) -> bool:
        """Whether the lawful basis of ``spec`` is available for this customer at ``at``.

        ``CONSENT`` needs a current grant for the field's purpose; ``LEGITIMATE_INTEREST`` is
        available unless the customer's latest word on the purpose is an objection or a
        withdrawal; the other bases do not depend on the customer's choices.
        """
        status = self.consent_status(spec.purpose, at)
        if spec.lawful_basis is LawfulBasis.CONSENT:
            return status is ConsentAction.GRANT
        if spec.lawful_basis is LawfulBasis.LEGITIMATE_INTEREST:
            return status not in {ConsentAction.OBJECT, ConsentAction.WITHDRAW}
        return True

    def erased_at(self, field: str) -> dt.datetime | None:
        """When the values of ``field`` were last erased (``None`` if they never were).

        "Last" is the erasure recorded last; its date is the one it was given.
        """
        erasure = self.last_erasure(field)
        return None if erasure is None else erasure.at

    def last_erasure(self, field: str) -> ErasureRecord | None:
        """The erasure of ``field`` recorded last (``None`` if it was never erased)."""
        found: ErasureRecord | None = None
        for record in self.erasures:  # in recording order
            if field in record.fields:
                found = record
        return found

    def may_store(self, spec: FieldSpec, at: dt.datetime, *, source: ValueSource) -> bool:
        """Whether a value of ``spec`` from ``source`` may be stored at ``at``: the one rule.

        Every write of [`ProfileBuilder`][relmark.profile.builder.ProfileBuilder] and every
        value of a [`ProfileBook`][relmark.profile.derive.ProfileBook] goes through it.

        - The field's lawful basis must be available at ``at``
          ([`basis_available`][relmark.profile.records.Profile.basis_available]): no consent
          field without a current grant, no legitimate-interest field after an objection or a
          withdrawal for its purpose.
        - After the field was erased (GDPR Art. 17), a value is stored again only when the
          customer declares it anew (``source`` is ``DECLARED``) after renewing consent to the
          field's purpose
          ([`consent_renewed_since`][relmark.profile.records.Profile.consent_renewed_since]: a
          grant recorded after the erasure, dated no earlier, in force at ``at``). Derived,
          observed and third-party values of an erased field are never stored again: they would
          rebuild from old data what the customer had erased. Recording order counts as well as
          the dates: a back-dated erasure still follows the grants recorded before it, and a
          grant dated after ``at`` is not yet in force.

        Args:
            spec: The field.
            at: When the value would be stored.
            source: Where the value comes from.
        """
        if not self.basis_available(spec, at):
            return False
        erasure = self.last_erasure(spec.name)
        if erasure is None:
            return True
        if source is not ValueSource.DECLARED:
            return False
        return self.consent_renewed_since(spec.purpose, erasure, at)

    def completeness(self, stage: int) -> float:
        """Share of the fields of ``stage`` that are known (1.0 for a stage without fields)."""
        fields = self.catalogue.stage_fields(stage)
        if not fields:
            return 1.0
        held = set(self.known_fields)
        return sum(f.name in held for f in fields) / len(fields)

    def stage_complete(self, stage: int) -> bool:
        """Whether ``stage`` is complete: every *required* field of it is known.

        A stage whose fields are all optional is complete once any of them is known; a stage
        without fields is always complete.
        """
        held = set(self.known_fields)
        fields = self.catalogue.stage_fields(stage)
        if not fields:
            return True
        required = [f for f in fields if f.required]
        if not required:
            return any(f.name in held for f in fields)
        return all(f.name in held for f in required)

    @property
    def stage(self) -> Stage:
        """The stage the relationship has reached.

        Stage $s$ is reached once every stage before it is complete (all its required fields
        known): a new profile is at stage 1; completing identification moves it to stage 2
        (waiting for purchase history), the derived purchase history to stage 3 (follow-up
        questions) and the required needs-and-preferences answers to stage 4 (partnership).
        """
        reached = Stage.IDENTIFICATION
        for stage in Stage:
            if stage is Stage.PARTNERSHIP or not self.stage_complete(stage):
                break
            reached = Stage(stage + 1)
        return reached
