"""The profile builder: observe, derive, ask, record consent and erase.

[`ProfileBuilder`][relmark.profile.builder.ProfileBuilder] holds the configuration (catalogue,
question ranker, resolution policy, stage gating, score-column mapping) and performs every change
to a [`Profile`][relmark.profile.records.Profile]; each method returns a new profile and leaves
the one it was given untouched.

Examples:
    >>> import datetime as dt
    >>> from relmark.profile import ProfileBuilder, ValueSource
    >>> builder = ProfileBuilder()
    >>> t0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    >>> p = builder.new("c1", opened_at=t0)
    >>> [f.name for f in builder.next_questions(p, budget=2, now=t0)]
    ['full_name', 'email']
    >>> p = builder.observe(p, "email", "a@example.org", source=ValueSource.DECLARED, at=t0)
    >>> p.value("email")
    'a@example.org'
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any, cast

import attrs
import numpy as np

from relmark._validation import is_int
from relmark.data.summary import CustomerSummary, require_summary
from relmark.data.table import ScoreTable
from relmark.data.touchpoints import TouchpointTable
from relmark.domain.records import Touchpoint
from relmark.domain.vocabulary import Channel
from relmark.errors import ConsentRequiredError, InvalidInputError
from relmark.profile._checks import frozen_mapping
from relmark.profile.catalogue import Catalogue, FieldSpec, LawfulBasis, default_catalogue
from relmark.profile.derive import (
    DEFAULT_SCORE_FIELDS,
    DerivedColumn,
    ProfileBook,
    derive_columns,
    permitted,
    with_derived,
)
from relmark.profile.ranking import ExpectedValueRanker, RankedQuestion
from relmark.profile.records import (
    ConsentAction,
    ConsentEvent,
    ErasureRecord,
    Profile,
    Provenance,
    ProvenancedValue,
    ResolutionPolicy,
    ValueSource,
    customer_key,
)
from relmark.profile.relationship import LifecycleThresholds
from relmark.typing import BoolArray, CustomerLike, QuestionRanker

__all__ = ["ConsentRequiredError", "ProfileBuilder"]


_ACCOUNT_FIELDS = {"name": "full_name", "email": "email", "country": "country"}
"""Attributes of a customer record copied into the profile at account opening."""


def _to_catalogue(value: Catalogue | Iterable[FieldSpec] | None) -> Catalogue:
    if value is None:
        return default_catalogue()
    if isinstance(value, Catalogue):
        return value
    return Catalogue(fields=value)


def _check_ranker(instance: ProfileBuilder, attribute: attrs.Attribute[Any], value: object) -> None:
    del instance
    if not isinstance(value, QuestionRanker):
        raise InvalidInputError(
            f"The {attribute.name!r} parameter of ProfileBuilder must have a "
            f"rank(profile, candidates, *, now) method (the QuestionRanker protocol). "
            f"Got {type(value).__name__}."
        )


def _score_fields(value: Mapping[str, str]) -> Mapping[str, str]:
    return frozen_mapping(value, "ProfileBuilder", "score_fields")


def _check_channel(channel: object) -> None:
    if channel is not None and not isinstance(channel, Channel):
        raise InvalidInputError(
            f"The 'channel' argument must be a Channel or None. Got {channel!r}."
        )


def _with_values(profile: Profile, added: Sequence[ProvenancedValue]) -> Profile:
    """``profile`` with ``added`` (numbered from its ``next_sequence`` on) appended."""
    return attrs.evolve(
        profile,
        observations=(*profile.observations, *added),
        next_sequence=profile.next_sequence + len(added),
    )


def _aware(name: str, value: object) -> dt.datetime:
    if not isinstance(value, dt.datetime) or value.utcoffset() is None:
        raise InvalidInputError(
            f"The {name!r} argument must be a timezone-aware datetime. Got {value!r}."
        )
    return value


@attrs.frozen(kw_only=True)
class ProfileBuilder:
    """Builds customer profiles stage by stage, under consent, with provenance.

    Attributes:
        catalogue: The fields that may be held (a [`Catalogue`][relmark.profile.catalogue.Catalogue]
            or a list of [`FieldSpec`][relmark.profile.catalogue.FieldSpec]s); the
            [default catalogue][relmark.profile.catalogue.default_catalogue] when omitted.
        ranker: Orders the questions [`next_questions`][relmark.profile.builder.ProfileBuilder.next_questions]
            returns; [`ExpectedValueRanker`][relmark.profile.ranking.ExpectedValueRanker] by default.
        resolution: How a field's current value is chosen from its history.
        gate_stages: When ``True`` (default) a field of stage $s$ is asked only once the profile
            has reached stage $s$ (every earlier stage complete); ``False`` asks any stage.
        score_fields: Score column → stage-2 field, for [`derive`][relmark.profile.builder.ProfileBuilder.derive].
        lifecycle_thresholds: Thresholds of the derived ``lifecycle_stage`` field.
    """

    catalogue: Catalogue = attrs.field(factory=default_catalogue, converter=_to_catalogue)
    ranker: QuestionRanker[Profile, FieldSpec, RankedQuestion] = attrs.field(
        factory=ExpectedValueRanker, validator=_check_ranker
    )
    resolution: ResolutionPolicy = attrs.field(
        factory=ResolutionPolicy, validator=attrs.validators.instance_of(ResolutionPolicy)
    )
    gate_stages: bool = attrs.field(default=True, validator=attrs.validators.instance_of(bool))
    score_fields: Mapping[str, str] = attrs.field(
        factory=lambda: DEFAULT_SCORE_FIELDS, converter=_score_fields
    )
    lifecycle_thresholds: LifecycleThresholds = attrs.field(factory=LifecycleThresholds)

    # ------------------------------------------------------------------ creation and observation

    def new(
        self, customer: CustomerLike | Hashable, *, opened_at: dt.datetime | None = None
    ) -> Profile:
        """Start an empty profile when an account is opened.

        Args:
            customer: A customer id, or a customer record with ``customer_id`` and ``opened_at``
                attributes (such as ``relmark.domain.Customer``).
            opened_at: When the account was opened (timezone-aware); taken from the record when
                ``customer`` is one.

        Returns:
            A profile at stage 1. From a customer record, its ``name``, ``email`` and ``country``
            (when set) are stored as ``full_name``, ``email`` and ``country``, declared at
            ``opened_at`` by "account opening"; from an id, an empty profile.

        Raises:
            InvalidInputError: For a naive ``opened_at``.
        """
        # Duck-typed rather than isinstance(Protocol), which is slow for bulk creation.
        record = hasattr(customer, "customer_id") and hasattr(customer, "opened_at")
        if record:
            source = cast("CustomerLike", customer)
            customer_id = source.customer_id
            if opened_at is None:
                opened_at = source.opened_at
        else:
            customer_id = cast("Hashable", customer)
        if opened_at is not None:
            _aware("opened_at", opened_at)
        profile = Profile(
            customer_id=customer_id,
            opened_at=opened_at,
            catalogue=self.catalogue,
            resolution=self.resolution,
        )
        if not record or opened_at is None:
            return profile
        given = {
            field: getattr(customer, attribute, None)
            for attribute, field in _ACCOUNT_FIELDS.items()
            if field in self.catalogue
        }
        given = {field: value for field, value in given.items() if value is not None}
        if not given:
            return profile
        return self.observe_many(
            profile,
            given,
            source=ValueSource.DECLARED,
            at=opened_at,
            collector="account opening",
        )

    def _check_profile(self, profile: object) -> Profile:
        if not isinstance(profile, Profile):
            raise InvalidInputError(
                f"The 'profile' argument must be a Profile. Got {type(profile).__name__}."
            )
        return profile

    def _checked(
        self,
        profile: Profile,
        field: str,
        value: object,
        at: dt.datetime,
        *,
        source: ValueSource,
    ) -> FieldSpec:
        spec = self.catalogue[field]
        spec.check_value(value)
        if profile.may_store(spec, at, source=source):
            return spec
        hint = "Record the customer's consent first (grant_consent)."
        if profile.basis_available(spec, at):
            why = (
                f"was erased (recorded erasure dated {profile.erased_at(field)}); an erased "
                "field is stored again only when the customer declares it anew after granting "
                f"consent to purpose {spec.purpose!r} again (a grant recorded after the erasure "
                f"and in force at {at}), never from a {source.value} source"
            )
            hint = (
                "Ask the customer: record their renewed consent (grant_consent, after the "
                "erasure) and then their own answer (source='declared')."
                if source is ValueSource.DECLARED
                else "Do not restore it from other data; only the customer can give it again."
            )
        elif spec.lawful_basis is LawfulBasis.CONSENT:
            why = f"needs consent for purpose {spec.purpose!r}, which is not granted at {at}"
        else:
            why = f"relies on legitimate interest, and the customer objected to purpose {spec.purpose!r}"
        raise ConsentRequiredError(
            f"Cannot store field {field!r} for customer {profile.customer_id!r}: it {why}. {hint}"
        )

    def observe(
        self,
        profile: Profile,
        field: str,
        value: Any,
        *,
        source: ValueSource | str,
        at: dt.datetime,
        channel: Channel | None = None,
        collector: str = "",
    ) -> Profile:
        """Add one value to a field's history.

        Args:
            profile: The profile.
            field: A field of the catalogue.
            value: A value of the field's type (checked strictly).
            source: Where the value came from (a [`ValueSource`][relmark.profile.records.ValueSource]
                or its string value).
            at: When it was collected (timezone-aware).
            channel: Through which channel.
            collector: Who or what collected it.

        Returns:
            A new profile; the old value, if any, stays in the history.

        Raises:
            InvalidInputError: For an unknown field, a value of the wrong type or outside the
                field's choices, a naive ``at`` or an unknown ``source``.
            ConsentRequiredError: When the field's lawful basis is not available at ``at``.
        """
        return self.observe_many(
            profile, {field: value}, source=source, at=at, channel=channel, collector=collector
        )

    def observe_many(
        self,
        profile: Profile,
        values: Mapping[str, Any] | Iterable[tuple[str, Any]],
        *,
        source: ValueSource | str,
        at: dt.datetime,
        channel: Channel | None = None,
        collector: str = "",
    ) -> Profile:
        """Add several values collected together; all are checked before any is stored.

        Args:
            profile: The profile.
            values: Field → value, or ``(field, value)`` pairs (a field may repeat).
            source: Where the values came from.
            at: When they were collected (timezone-aware).
            channel: Through which channel.
            collector: Who or what collected them.

        Returns:
            A new profile with every value added to its field's history.

        Raises:
            InvalidInputError: As [`observe`][relmark.profile.builder.ProfileBuilder.observe],
                for the first bad value; nothing is stored then.
            ConsentRequiredError: As ``observe``.
        """
        profile = self._check_profile(profile)
        at = _aware("at", at)
        origin = _parse_source(source)
        _check_channel(channel)
        pairs = list(values.items()) if isinstance(values, Mapping) else list(values)
        for field, value in pairs:
            self._checked(profile, field, value, at, source=origin)
        provenance = Provenance(
            source=origin,
            collected_at=at,
            collector=collector,
            channel=channel,
            consent=profile.consented_purposes(at),
        )
        added = [
            ProvenancedValue(
                field=field, value=value, provenance=provenance, sequence=profile.next_sequence + i
            )
            for i, (field, value) in enumerate(pairs)
        ]
        return _with_values(profile, added)

    # ------------------------------------------------------------------ consent

    def _consent(
        self,
        profile: Profile,
        purpose: str,
        action: ConsentAction,
        at: dt.datetime,
        channel: Channel | None,
        note: str,
    ) -> Profile:
        profile = self._check_profile(profile)
        purposes = sorted({f.purpose for f in self.catalogue})
        if purpose not in purposes:
            raise InvalidInputError(
                f"Unknown purpose {purpose!r}; the catalogue's purposes are {purposes}."
            )
        event = ConsentEvent(
            purpose=purpose,
            action=action,
            at=_aware("at", at),
            sequence=profile.next_sequence,
            channel=channel,
            note=note,
        )
        return attrs.evolve(
            profile,
            consent_log=(*profile.consent_log, event),
            next_sequence=profile.next_sequence + 1,
        )

    def grant_consent(
        self,
        profile: Profile,
        purpose: str,
        *,
        at: dt.datetime,
        channel: Channel | None = None,
        note: str = "",
    ) -> Profile:
        """Record that the customer consents to ``purpose`` from ``at`` on.

        Raises:
            InvalidInputError: For a purpose no catalogue field serves, or a naive ``at``.
        """
        return self._consent(profile, purpose, ConsentAction.GRANT, at, channel, note)

    def withdraw_consent(
        self,
        profile: Profile,
        purpose: str,
        *,
        at: dt.datetime,
        channel: Channel | None = None,
        note: str = "",
    ) -> Profile:
        """Record that the customer withdraws consent to ``purpose`` at ``at``.

        Values already held stay (withdrawal does not make past processing unlawful, GDPR
        Art. 7(3)); use [`erase`][relmark.profile.builder.ProfileBuilder.erase] to delete them.

        Raises:
            InvalidInputError: For a purpose no catalogue field serves, or a naive ``at``.
        """
        return self._consent(profile, purpose, ConsentAction.WITHDRAW, at, channel, note)

    def object_to(
        self,
        profile: Profile,
        purpose: str,
        *,
        at: dt.datetime,
        channel: Channel | None = None,
        note: str = "",
    ) -> Profile:
        """Record that the customer objects to processing for ``purpose`` (GDPR Art. 21).

        Legitimate-interest fields of that purpose are then neither asked nor stored nor derived.

        Raises:
            InvalidInputError: For a purpose no catalogue field serves, or a naive ``at``.
        """
        return self._consent(profile, purpose, ConsentAction.OBJECT, at, channel, note)

    # ------------------------------------------------------------------ questions

    def candidates(
        self, profile: Profile, *, now: dt.datetime, channel: Channel | None = None
    ) -> list[FieldSpec]:
        """Fields that may be asked now, in catalogue order (before ranking).

        A field is a candidate when it is askable; has no current value, or one that is stale
        at ``now``; its lawful basis is available at ``now``; every field it depends on is
        known; its stage has been reached (unless ``gate_stages`` is off); and it may be asked
        through ``channel`` (when given).
        """
        profile = self._check_profile(profile)
        now = _aware("now", now)
        _check_channel(channel)
        reached = profile.stage
        known = set(profile.known_fields)
        return [
            spec
            for spec in profile.catalogue
            if spec.askable
            and not profile.is_fresh(spec.name, now)
            and profile.basis_available(spec, now)
            and all(d in known for d in spec.depends_on)
            and (not self.gate_stages or spec.stage <= reached)
            and (channel is None or spec.channels is None or channel in spec.channels)
        ]

    def rank_questions(
        self,
        profile: Profile,
        *,
        budget: int,
        now: dt.datetime,
        channel: Channel | None = None,
    ) -> list[RankedQuestion]:
        """Like [`next_questions`][relmark.profile.builder.ProfileBuilder.next_questions], with scores and reasons."""
        if not is_int(budget) or budget < 0:
            raise InvalidInputError(f"The 'budget' argument must be an int >= 0. Got {budget!r}.")
        allowed = {spec.name: spec for spec in self.candidates(profile, now=now, channel=channel)}
        ranked: list[RankedQuestion] = []
        seen: set[str] = set()
        for question in self.ranker.rank(profile, list(allowed.values()), now=now):
            if len(ranked) >= budget:
                break
            name = question.field.name
            # A plug-in ranker only orders: whatever it returns, only candidates are asked.
            if name in allowed and name not in seen and question.field == allowed[name]:
                ranked.append(question)
                seen.add(name)
        return ranked

    def next_questions(
        self,
        profile: Profile,
        *,
        budget: int,
        now: dt.datetime,
        channel: Channel | None = None,
    ) -> list[FieldSpec]:
        """The fields to ask next, best first, at most ``budget`` of them.

        Never a field with a fresh value, without its lawful basis at ``now``, with an unknown
        dependency, of a stage not yet reached (unless ``gate_stages`` is off) or not askable
        through ``channel``; the ranker orders the rest.

        Args:
            profile: The profile.
            budget: Maximum number of questions (>= 0).
            now: The moment of asking (timezone-aware).
            channel: The channel the questions will be asked through.

        Returns:
            The [`FieldSpec`][relmark.profile.catalogue.FieldSpec]s to ask.

        Raises:
            InvalidInputError: For a negative budget, a naive ``now`` or a bad ``channel``.
        """
        ranked = self.rank_questions(profile, budget=budget, now=now, channel=channel)
        return [q.field for q in ranked]

    # ------------------------------------------------------------------ erasure

    def erase(
        self,
        profile: Profile,
        fields: Iterable[str] | None = None,
        *,
        at: dt.datetime,
        requested_by: str = "",
        reason: str = "",
    ) -> Profile:
        """Erase every value (the whole history) of ``fields``, keeping an audit record.

        Args:
            profile: The profile.
            fields: Fields to erase; ``None`` erases every value held, also values of fields the
                builder's catalogue does not define, and records every field of both catalogues.
            at: When the erasure is carried out.
            requested_by: Who asked for it.
            reason: Why.

        Returns:
            A new profile without the erased values. The audit record lists the fields and how
            many values went, never the values. The consent log is kept: it is the record that
            past processing was lawful. The profile you passed in still holds the values; drop it
            and replace every stored copy. The erased fields are not derived again from the
            same data: see [`Profile.may_store`][relmark.profile.records.Profile.may_store].

        Raises:
            InvalidInputError: For an unknown field or a naive ``at``.
        """
        profile = self._check_profile(profile)
        at = _aware("at", at)
        if fields is None:
            # Everything held, also values of fields this builder's catalogue no longer defines.
            names = tuple(
                dict.fromkeys(
                    [
                        *self.catalogue.names,
                        *profile.catalogue.names,
                        *(v.field for v in profile.observations),
                    ]
                )
            )
        else:
            names = tuple(dict.fromkeys(fields))
            for name in names:
                self.catalogue[name]
        gone = set(names)
        kept = tuple(v for v in profile.observations if v.field not in gone)
        record = ErasureRecord(
            fields=names,
            values_erased=len(profile.observations) - len(kept),
            at=at,
            sequence=profile.next_sequence,
            requested_by=requested_by,
            reason=reason,
        )
        return attrs.evolve(
            profile,
            observations=kept,
            erasures=(*profile.erasures, record),
            next_sequence=profile.next_sequence + 1,
        )

    # ------------------------------------------------------------------ stage-2 derivation

    def _derive_columns(
        self,
        summary: CustomerSummary,
        score_tables: Sequence[ScoreTable | Mapping[str, ScoreTable]],
        touchpoints: TouchpointTable | Iterable[Touchpoint] | None,
    ) -> list[DerivedColumn]:
        return derive_columns(
            summary,
            score_tables,
            catalogue=self.catalogue,
            score_fields=self.score_fields,
            touchpoints=touchpoints,
            thresholds=self.lifecycle_thresholds,
        )

    def derive(
        self,
        profiles: Sequence[Profile | Hashable],
        summary: CustomerSummary,
        *score_tables: ScoreTable | Mapping[str, ScoreTable],
        at: dt.datetime,
        touchpoints: TouchpointTable | Iterable[Touchpoint] | None = None,
    ) -> list[Profile]:
        """Add the derived stage-2 fields to each profile, with provenance "derived by <scorer>".

        Args:
            profiles: Profiles, or customer ids for which new profiles are started.
            summary: Customer summary covering (some of) these customers.
            *score_tables: Score tables, each a ``ScoreTable`` or ``{scorer_name: ScoreTable}``
                (the name goes into the provenance).
            at: When the derivation is made (timezone-aware).
            touchpoints: Touchpoints for ``preferred_channel``: a
                [`TouchpointTable`][relmark.data.touchpoints.TouchpointTable] with channels, or
                [`Touchpoint`][relmark.domain.records.Touchpoint] records.

        Returns:
            The updated profiles, in input order. A customer absent from the summary has no
            purchase history and is returned unchanged. A derived field is stored for a customer
            only where [`Profile.may_store`][relmark.profile.records.Profile.may_store] allows
            it: not after an objection to (or withdrawal for) its purpose, never again after
            the field was erased. Each value records the purposes consented to at ``at``.
            See [`relmark.profile.derive`][relmark.profile.derive] for the fields.

        Raises:
            InvalidInputError: For a naive ``at``, a score column that does not fit its field,
                or a profile whose id is not of the summary's id type (``"1"`` against integer
                ids, or ``1`` against string ids): such a profile would never match its row.
        """
        at = _aware("at", at)
        start = [p if isinstance(p, Profile) else self.new(p) for p in profiles]
        rows = _summary_rows(summary, "ProfileBuilder.derive")
        for profile in start:
            _check_id_kind(profile.customer_id, rows)
        columns = self._derive_columns(summary, score_tables, touchpoints)
        specs = [self.catalogue[col.field] for col in columns]
        shared: dict[tuple[str, tuple[str, ...]], Provenance] = {}
        out: list[Profile] = []
        for profile in start:
            row = rows.get(customer_key(profile.customer_id))
            if row is None:
                out.append(profile)
                continue
            allowed = permitted(profile, specs, at)
            out.append(with_derived(profile, row, columns, at, shared, allowed))
        return out

    def derive_book(
        self,
        summary: CustomerSummary,
        *score_tables: ScoreTable | Mapping[str, ScoreTable],
        at: dt.datetime,
        profiles: Iterable[Profile],
        touchpoints: TouchpointTable | Iterable[Touchpoint] | None = None,
    ) -> ProfileBook:
        """Derive stage-2 fields for every customer of ``summary`` at once, columnar.

        The customers' objections, withdrawals and erasures apply exactly as in
        [`derive`][relmark.profile.builder.ProfileBuilder.derive]: they are read from
        ``profiles``, which is therefore required. Pass ``profiles=()`` only when no customer of
        the summary has a profile yet (no recorded choice to respect); customers without a
        profile are treated as new ones.

        Args:
            summary: Customer summary.
            *score_tables: As for [`derive`][relmark.profile.builder.ProfileBuilder.derive].
            at: When the derivation is made (timezone-aware).
            profiles: The existing profiles of (some of) the summary's customers, at most one
                per customer; profiles of other customers are ignored.
            touchpoints: Touchpoints for ``preferred_channel``: a
                [`TouchpointTable`][relmark.data.touchpoints.TouchpointTable] with channels, or
                [`Touchpoint`][relmark.domain.records.Touchpoint] records.

        Returns:
            A [`ProfileBook`][relmark.profile.derive.ProfileBook] whose columns hold only values
            that may be stored for each customer, and whose profiles equal what ``derive`` returns.

        Raises:
            InvalidInputError: For a naive ``at``, an item of ``profiles`` that is not a
                Profile, two profiles of one customer, a profile whose id is not of the
                summary's id type (it would silently escape its customer's choices), or a score
                column that does not fit its field.
        """
        at = _aware("at", at)
        rows = _summary_rows(summary, "ProfileBuilder.derive_book")
        given: dict[Hashable, Profile] = {}
        for item in profiles:
            profile = self._check_profile(item)
            _check_id_kind(profile.customer_id, rows)
            if profile.customer_id in given:
                raise InvalidInputError(
                    f"The 'profiles' argument holds two profiles of customer "
                    f"{profile.customer_id!r}; pass one profile per customer."
                )
            given[profile.customer_id] = profile
        columns = self._derive_columns(summary, score_tables, touchpoints)
        specs = [self.catalogue[col.field] for col in columns]
        ids = list(rows)
        # A customer without a profile has recorded no choice: the rule for an empty profile.
        nobody = Profile(
            customer_id=ids[0] if ids else 0,
            opened_at=None,
            catalogue=self.catalogue,
            resolution=self.resolution,
        )
        default = permitted(nobody, specs, at)
        allowed = np.tile(np.asarray(default, dtype=bool), (len(ids), 1))
        held: dict[Hashable, Profile] = {}
        for row, cid in enumerate(ids):
            own = given.get(cid)
            if own is not None:
                held[cid] = own
                allowed[row] = permitted(own, specs, at)
        return ProfileBook(
            customer_id=summary.customer_id,
            columns={c.field: _restricted(c, allowed[:, i]) for i, c in enumerate(columns)},
            at=at,
            catalogue=self.catalogue,
            resolution=self.resolution,
            profiles=held,
        )


def _summary_rows(summary: object, owner: str) -> dict[int | str, int]:
    """Row of each customer id of ``summary`` (ids as profiles hold them: int or str)."""
    summary = require_summary(summary, owner=owner)
    rows: dict[int | str, int] = {}
    for row, cid in enumerate(summary.customer_id.tolist()):
        rows[customer_key(cid, "the summary")] = row
    return rows


def _check_id_kind(customer_id: Hashable, rows: Mapping[int | str, int]) -> None:
    """Refuse a profile id of another type than the summary's: it could never match a row."""
    if not rows or customer_id in rows:
        return
    expected = type(next(iter(rows)))
    if type(customer_id) is not expected:
        raise InvalidInputError(
            f"Profile of customer {customer_id!r} has a {type(customer_id).__name__} id, but "
            f"the summary's customer ids are {expected.__name__}s: it would match no row and "
            "its consent choices would not be applied. Convert the ids to one type first."
        )


def _restricted(column: DerivedColumn, allowed: BoolArray) -> DerivedColumn:
    """``column`` with its values removed (``None``, not present) where not ``allowed``."""
    refused = column.present & ~allowed
    if not refused.any():
        return column
    values = list(column.values)
    for row in np.flatnonzero(refused).tolist():
        values[row] = None
    return attrs.evolve(column, values=values, present=column.present & allowed)


def _parse_source(source: object) -> ValueSource:
    if isinstance(source, ValueSource):
        return source
    try:
        return ValueSource(source)
    except ValueError:
        allowed = ", ".join(repr(s.value) for s in ValueSource)
        raise InvalidInputError(
            f"The 'source' argument must be a ValueSource or one of {allowed}. Got {source!r}."
        ) from None
