"""Stage-2 derivation: behavioural fields computed from a customer summary, scores and touchpoints.

Everything here is columnar: one pass of numpy over all customers, no Python loop over
transactions. [`derive_columns`][relmark.profile.derive.derive_columns] turns a
[`CustomerSummary`][relmark.data.summary.CustomerSummary], any number of
[`ScoreTable`][relmark.data.table.ScoreTable]s and, optionally, touchpoints into one
[`DerivedColumn`][relmark.profile.derive.DerivedColumn] per stage-2 field, each remembering which
scorer produced it. [`ProfileBuilder.derive`][relmark.profile.builder.ProfileBuilder.derive]
adds those values to individual profiles;
[`ProfileBook`][relmark.profile.derive.ProfileBook] keeps them columnar for a whole customer base.

Fields derived from the summary (when the catalogue defines them):

| field | value |
|---|---|
| `repeat_purchases` | $x$ (repeat purchases) |
| `tenure_days` | $T$ in days |
| `days_since_last_purchase` | $(T - t_x)$ in days |
| `purchase_rate_per_year` | $x / T$ per year (customers with $T > 0$) |
| `average_spend` | mean repeat spend (customers with $x > 0$ and amounts) |
| `spend_level` | `low` / `medium` / `high` by the terciles of `average_spend` over the customers |
| `lifecycle_stage` | [`lifecycle_stages`][relmark.profile.relationship.lifecycle_stages] with $x + 1$ purchases, tenure and P(alive) if scored |

When a score table supplies P(alive), `lifecycle_stage` uses it (provenance "derived by
lifecycle_stage and P(alive)") and is derived only for the customers that table scores, so that
no customer's stage silently ignores a missing probability.

Score columns are mapped to fields by name
([`DEFAULT_SCORE_FIELDS`][relmark.profile.derive.DEFAULT_SCORE_FIELDS]). A table with a column
mapped to `clv_tier` (the [`CLVScorer`][relmark.clv.scorers.CLVScorer]'s, whose tiers are cut at
the terciles of the customers it was fitted on) fills `clv_tier` from it; otherwise a `clv`
column yields `clv_tier` by the terciles of that table's values. Terciles are the weighted
inverted-CDF quantiles of [`weighted_quantile`][relmark.core.quantiles.weighted_quantile] over the
customers (a summary row of weight $w$ counts as $w$ customers), cut as the ``CLVScorer`` cuts its
tiers. Inbound touchpoints yield `preferred_channel`, the channel the customer used most (ties: the channel declared first in
[`Channel`][relmark.domain.vocabulary.Channel]). Columns of a score table that map to no field are
not profile fields and are left in the table.

Whether a derived value may be stored for a customer is decided by one rule,
[`Profile.may_store`][relmark.profile.records.Profile.may_store], on both paths (individual
profiles and the columnar book): not after an objection or withdrawal for the field's purpose, and
never again after the field was erased (an erased field comes back only when the customer declares
it anew after renewing consent). Stored values record the purposes the customer had consented to
at derivation time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from relmark._validation import row_index
from relmark.core.quantiles import tercile_cuts, tercile_tiers
from relmark.data.summary import CustomerSummary
from relmark.data.table import ScoreTable
from relmark.data.touchpoints import TouchpointTable
from relmark.domain.records import Touchpoint
from relmark.domain.vocabulary import Channel
from relmark.errors import InvalidInputError
from relmark.profile._checks import frozen_mapping
from relmark.profile.catalogue import Catalogue, FieldSpec
from relmark.profile.records import (
    Profile,
    Provenance,
    ProvenancedValue,
    ResolutionPolicy,
    ValueSource,
)
from relmark.profile.relationship import LifecycleThresholds, lifecycle_stages
from relmark.typing import BoolArray

__all__ = [
    "DEFAULT_SCORE_FIELDS",
    "DerivedColumn",
    "ProfileBook",
    "derive_columns",
]

DEFAULT_SCORE_FIELDS: Mapping[str, str] = MappingProxyType(
    {
        "recency_score": "rfm_recency_score",
        "frequency_score": "rfm_frequency_score",
        "monetary_score": "rfm_monetary_score",
        "rfm_cell": "rfm_cell",
        "segment": "rfm_segment",
        "probability_alive": "probability_alive",
        "clv": "clv",
        "clv_tier": "clv_tier",
    }
)
"""Score column → profile field used when the builder is given no mapping of its own.

The names are those of the built-in scorers: ``rfm``
([`RFMScorer`][relmark.rfm.scorer.RFMScorer]) and ``clv``
([`CLVScorer`][relmark.clv.scorers.CLVScorer]; the ``bgnbd``, ``mbgnbd`` and ``paretonbd``
scorers supply ``probability_alive`` too).
"""

_DAYS_PER_YEAR = 365.2425
_SUMMARY = "summary"


@attrs.frozen(kw_only=True, eq=False)
class DerivedColumn:
    """One derived stage-2 field for every customer of a summary.

    Attributes:
        field: The profile field.
        values: One value per customer (Python objects of the field's type), in summary order.
            Personal data: the repr shows how many, never the values.
        present: Whether a value was derived for each customer.
        collector: Provenance collector, ``"derived by <scorer>"``.
    """

    field: str
    values: list[Any] = attrs.field(repr=lambda v: f"<{len(v)} values, masked>")
    present: BoolArray
    collector: str


def _terciles(
    values: NDArray[np.float64], present: BoolArray, weights: NDArray[np.float64]
) -> NDArray[np.str_]:
    """``low`` / ``medium`` / ``high`` by the weighted inverted-CDF terciles of the present values.

    The cut points $c_1, c_2$ are
    [`weighted_quantile`][relmark.core.quantiles.weighted_quantile]s at 1/3 and 2/3 with the
    summary's row weights, the definition the [`CLVScorer`][relmark.clv.scorers.CLVScorer]'s tiers
    use: ``low`` below $c_1$, ``high`` at or above $c_2$ when $c_2 > c_1$ (above $c_2$ when they
    are equal), ``medium`` otherwise.
    """
    if not present.any():
        return np.full(values.shape, "medium", dtype="<U6")
    return tercile_tiers(values, *tercile_cuts(values[present], weights[present]))


def _named_tables(
    tables: Sequence[ScoreTable | Mapping[str, ScoreTable]],
) -> list[tuple[str, ScoreTable]]:
    named: list[tuple[str, ScoreTable]] = []
    for position, item in enumerate(tables):
        if isinstance(item, ScoreTable):
            named.append((f"score table {position}", item))
        elif isinstance(item, Mapping):
            entries: list[tuple[object, object]] = list(item.items())
            for name, table in entries:
                if not isinstance(name, str) or not isinstance(table, ScoreTable):
                    raise InvalidInputError(
                        f"Score tables must be ScoreTable instances or mappings of scorer name "
                        f"to ScoreTable; argument {position} maps {name!r} to "
                        f"{type(table).__name__}."
                    )
                named.append((name, table))
        else:
            raise InvalidInputError(
                f"Score tables must be ScoreTable instances or mappings of scorer name to "
                f"ScoreTable; argument {position} is a {type(item).__name__}."
            )
    return named


def _column_values(spec: FieldSpec, column: str, values: NDArray[Any]) -> list[Any]:
    """Convert a score column to Python values of the field's type, or raise."""
    kind = values.dtype.kind
    if spec.type is str:
        return values.astype(str).tolist()  # type: ignore[no-any-return]  # numpy's tolist is untyped
    if spec.type is int and kind in "iu":
        return values.astype(np.int64).tolist()  # type: ignore[no-any-return]
    if spec.type is float and kind in "fiu":
        return values.astype(np.float64).tolist()  # type: ignore[no-any-return]
    if spec.type is bool and kind == "b":
        return values.tolist()  # type: ignore[no-any-return]
    raise InvalidInputError(
        f"Score column {column!r} (dtype {values.dtype}) cannot fill field {spec.name!r} of type "
        f"{spec.type.__name__}; map it to a field of a matching type."
    )


class _Columns:
    """Collects derived columns of the fields the catalogue defines, checking their choices."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.held: dict[str, DerivedColumn] = {}

    def put(self, field: str, values: list[Any], present: BoolArray, collector: str) -> None:
        if field not in self.catalogue:
            return
        spec = self.catalogue[field]
        if spec.choices:
            given = np.asarray(values, dtype=object)[present]
            bad = sorted({str(v) for v in given if v not in spec.choices})
            if bad:
                raise InvalidInputError(
                    f"Derived field {field!r} (by {collector}) got values outside its "
                    f"choices {spec.choices!r}: {bad[:5]}."
                )
        self.held[field] = DerivedColumn(
            field=field, values=values, present=present, collector=f"derived by {collector}"
        )


def derive_columns(
    summary: CustomerSummary,
    tables: Sequence[ScoreTable | Mapping[str, ScoreTable]] = (),
    *,
    catalogue: Catalogue,
    score_fields: Mapping[str, str] = DEFAULT_SCORE_FIELDS,
    touchpoints: TouchpointTable | Iterable[Touchpoint] | None = None,
    thresholds: LifecycleThresholds | None = None,
) -> list[DerivedColumn]:
    """Derive every stage-2 field the catalogue defines, for every customer of ``summary``.

    Args:
        summary: One row per customer.
        tables: Score tables, each a ``ScoreTable`` (provenance "derived by score table <i>")
            or a mapping ``{scorer_name: ScoreTable}`` (provenance "derived by <scorer_name>").
            Rows are matched to the summary by customer id; customers a table lacks get no value.
        catalogue: Only fields it defines are derived.
        score_fields: Score column → field.
        touchpoints: Touchpoints for ``preferred_channel``: a
            [`TouchpointTable`][relmark.data.touchpoints.TouchpointTable] with channels, or
            [`Touchpoint`][relmark.domain.records.Touchpoint] records (converted to a table
            once). Inbound touchpoints of customers count; those with other stakeholders do not.
        thresholds: Lifecycle thresholds for ``lifecycle_stage``.

    Returns:
        One column per derived field, in catalogue order.

    Raises:
        InvalidInputError: When a mapped score column does not fit its field's type or choices,
            or a mapping names a field the catalogue lacks.
    """
    unknown = sorted({f for f in score_fields.values() if f not in catalogue})
    if unknown:
        raise InvalidInputError(
            f"The 'score_fields' mapping names fields the catalogue does not define: {unknown}."
        )
    n = len(summary)
    ids = summary.customer_id
    everyone = np.ones(n, dtype=bool)
    x = summary.frequency
    days = summary.unit.days
    weights = summary.row_weights
    tenure = summary.T * days
    columns = _Columns(catalogue)
    put = columns.put

    put("repeat_purchases", x.tolist(), everyone, _SUMMARY)
    put("tenure_days", tenure.tolist(), everyone, _SUMMARY)
    put(
        "days_since_last_purchase",
        ((summary.T - summary.recency) * days).tolist(),
        everyone,
        _SUMMARY,
    )
    has_age = summary.T > 0
    rate = x / np.where(has_age, summary.T, 1.0) * (_DAYS_PER_YEAR / days)
    put("purchase_rate_per_year", rate.tolist(), has_age, _SUMMARY)
    if summary.monetary is not None:
        repeat = x > 0
        put("average_spend", summary.monetary.tolist(), repeat, _SUMMARY)
        put(
            "spend_level",
            _terciles(summary.monetary, repeat, weights).tolist(),
            repeat,
            _SUMMARY,
        )

    p_alive: NDArray[np.float64] | None = None
    p_alive_present = everyone
    for name, table in _named_tables(tables):
        rows = row_index(table.customer_id, ids)
        found = rows >= 0  # an absent id's row (-1) picks a value that `found` masks out
        has_tier = any(score_fields.get(column) == "clv_tier" for column in table.columns)
        for column in table.columns:
            field = score_fields.get(column)
            if field is None or field not in catalogue:
                continue
            raw = table[column][rows]
            put(field, _column_values(catalogue[field], column, raw), found, name)
            if field == "probability_alive":
                p_alive = np.where(found, raw.astype(np.float64), np.nan)
                p_alive_present = found
            if field == "clv" and "clv_tier" in catalogue and not has_tier:
                money = raw.astype(np.float64)
                put("clv_tier", _terciles(money, found, weights).tolist(), found, name)

    if "lifecycle_stage" in catalogue:
        stage = lifecycle_stages(
            x + 1,
            tenure,
            None if p_alive is None else np.where(p_alive_present, p_alive, 1.0),
            thresholds=thresholds,
        )
        collector = "lifecycle_stage" if p_alive is None else "lifecycle_stage and P(alive)"
        put(
            "lifecycle_stage",
            stage.tolist(),
            everyone if p_alive is None else p_alive_present,
            collector,
        )

    if touchpoints is not None:
        log = _touchpoint_table(touchpoints)
        if "preferred_channel" in catalogue:
            values, present = _preferred_channels(ids, log)
            put("preferred_channel", values, present, "touchpoints")

    return [columns.held[name] for name in catalogue.names if name in columns.held]


def _touchpoint_table(touchpoints: TouchpointTable | Iterable[Touchpoint]) -> TouchpointTable:
    """``touchpoints`` as a table: a table is returned as is, records are converted once.

    Raises:
        InvalidInputError: When ``touchpoints`` is neither a table nor Touchpoint records.
    """
    if isinstance(touchpoints, TouchpointTable):
        return touchpoints
    return TouchpointTable.from_records(touchpoints)


def _preferred_channels(
    ids: NDArray[Any], touchpoints: TouchpointTable
) -> tuple[list[Channel | None], BoolArray]:
    """The channel each customer of ``ids`` used most for inbound touchpoints (vectorized).

    Inbound touchpoints of customers (not of other stakeholders) are counted per customer and
    channel with one ``bincount``; the most used channel wins, ties going to the channel declared
    first in [`Channel`][relmark.domain.vocabulary.Channel]. Customers without such a touchpoint
    get ``None`` (not present); touchpoints of customers not in ``ids`` are ignored.

    Args:
        ids: Customer ids (unique), e.g. a summary's.
        touchpoints: The touchpoint log; it must hold channels.

    Returns:
        ``(values, present)`` in the order of ``ids``.

    Raises:
        InvalidInputError: When the log holds no channels, or its ids are of another kind
            (text against integers) than ``ids``, so that none could match.
    """
    if touchpoints.channel is None:
        raise InvalidInputError(
            "The touchpoints hold no channels, so 'preferred_channel' cannot be derived; build "
            "the TouchpointTable with a 'channel' column (or from Touchpoint records)."
        )
    keys = touchpoints.counterpart_id
    numeric = "biuf"
    if keys.size and ids.size and (keys.dtype.kind in numeric) != (ids.dtype.kind in numeric):
        raise InvalidInputError(
            f"The touchpoints' counterpart ids ({keys.dtype}) and the summary's customer ids "
            f"({ids.dtype}) are of different types, so none would match; convert one side first."
        )
    channels = list(Channel)
    n, m = ids.size, len(channels)
    counted = touchpoints.inbound & ~touchpoints.is_stakeholder
    distinct, code = touchpoints.counterparts
    rows = row_index(ids, distinct)[code[counted]]
    found = rows >= 0
    cells = rows[found] * m + touchpoints.channel[counted][found]
    counts = np.bincount(cells, minlength=n * m).reshape(n, m)
    present = counts.sum(axis=1) > 0
    best = counts.argmax(axis=1)  # the first maximum: ties go to the channel declared first
    values = [
        channels[b] if p else None for b, p in zip(best.tolist(), present.tolist(), strict=True)
    ]
    return values, present


def permitted(profile: Profile, specs: Sequence[FieldSpec], at: dt.datetime) -> list[bool]:
    """For each field of ``specs``, whether a derived value may be stored for ``profile`` at ``at``.

    [`Profile.may_store`][relmark.profile.records.Profile.may_store] per field; without erasures
    the answer depends only on the field's purpose and lawful basis, so it is computed once per
    pair.
    """
    if profile.erasures:
        return [profile.may_store(spec, at, source=ValueSource.DERIVED) for spec in specs]
    by_basis: dict[tuple[str, object], bool] = {}
    out: list[bool] = []
    for spec in specs:
        key = (spec.purpose, spec.lawful_basis)
        if key not in by_basis:
            by_basis[key] = profile.may_store(spec, at, source=ValueSource.DERIVED)
        out.append(by_basis[key])
    return out


def with_derived(
    profile: Profile,
    row: int,
    columns: Iterable[DerivedColumn],
    at: dt.datetime,
    shared: dict[tuple[str, tuple[str, ...]], Provenance],
    allowed: Sequence[bool] | None = None,
) -> Profile:
    """``profile`` with the values of ``row`` of ``columns`` added (where present and allowed).

    Each value's provenance records the purposes consented to at ``at``; provenance records are
    immutable and shared through ``shared``, one per (collector, consent snapshot).
    """
    consent = profile.consented_purposes(at)
    added: list[ProvenancedValue] = []
    for i, col in enumerate(columns):
        if not col.present[row] or (allowed is not None and not allowed[i]):
            continue
        key = (col.collector, consent)
        provenance = shared.get(key)
        if provenance is None:
            provenance = shared[key] = Provenance(
                source=ValueSource.DERIVED,
                collected_at=at,
                collector=col.collector,
                consent=consent,
            )
        added.append(
            ProvenancedValue(
                field=col.field,
                value=col.values[row],
                provenance=provenance,
                sequence=profile.next_sequence + len(added),
            )
        )
    return attrs.evolve(
        profile,
        observations=(*profile.observations, *added),
        next_sequence=profile.next_sequence + len(added),
    )


def _columns(value: Mapping[str, DerivedColumn]) -> Mapping[str, DerivedColumn]:
    return frozen_mapping(value, "ProfileBook", "columns")


def _profiles(value: Mapping[Hashable, Profile]) -> Mapping[Hashable, Profile]:
    return frozen_mapping(value, "ProfileBook", "profiles")


@attrs.frozen(kw_only=True, eq=False)
class ProfileBook:
    """Derived stage-2 profiles of a whole customer base, kept columnar.

    Build one with
    [`ProfileBuilder.derive_book`][relmark.profile.builder.ProfileBuilder.derive_book], which
    applies each customer's objections and erasures
    ([`Profile.may_store`][relmark.profile.records.Profile.may_store]) before the columns are
    stored: a value that may not be stored for a customer is ``None`` and not present. Read a
    field for everyone with [`column`][relmark.profile.derive.ProfileBook.column]; materialize a
    [`Profile`][relmark.profile.records.Profile] for one customer with
    [`profile`][relmark.profile.derive.ProfileBook.profile] or for all with
    [`to_profiles`][relmark.profile.derive.ProfileBook.to_profiles]: the customer's own profile
    (when given) with the derived values added, exactly as
    [`ProfileBuilder.derive`][relmark.profile.builder.ProfileBuilder.derive] would return it.

    Attributes:
        customer_id: Customer ids in summary order.
        columns: Derived columns by field name, in catalogue order (read-only).
        at: When the values were derived.
        catalogue: The field catalogue.
        resolution: Resolution policy of the profiles it makes.
        profiles: The customers' existing profiles by customer id (read-only); a customer
            without one gets a new, empty profile.
    """

    customer_id: NDArray[Any]
    columns: Mapping[str, DerivedColumn] = attrs.field(converter=_columns)
    at: dt.datetime
    catalogue: Catalogue
    resolution: ResolutionPolicy
    profiles: Mapping[Hashable, Profile] = attrs.field(
        factory=lambda: MappingProxyType({}), converter=_profiles
    )
    _rows: dict[Hashable, int] = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        """Index the customer ids."""
        object.__setattr__(
            self, "_rows", {cid: i for i, cid in enumerate(self.customer_id.tolist())}
        )

    def __len__(self) -> int:
        """Number of customers."""
        return int(self.customer_id.size)

    def column(self, field: str) -> tuple[list[Any], BoolArray]:
        """Values of ``field`` for every customer and where they are present.

        Raises:
            InvalidInputError: When the field was not derived, naming those that were.
        """
        try:
            col = self.columns[field]
        except KeyError:
            raise InvalidInputError(
                f"Field {field!r} was not derived; the book holds {list(self.columns)}."
            ) from None
        return col.values, col.present

    def _make(self, row: int, shared: dict[tuple[str, tuple[str, ...]], Provenance]) -> Profile:
        customer_id = self.customer_id[row]
        if isinstance(customer_id, np.generic):
            customer_id = customer_id.item()
        profile = self.profiles.get(customer_id)
        if profile is None:
            profile = Profile(
                customer_id=customer_id,
                opened_at=None,
                catalogue=self.catalogue,
                resolution=self.resolution,
            )
        return with_derived(profile, row, self.columns.values(), self.at, shared)

    def profile(self, customer_id: Hashable) -> Profile:
        """The profile of one customer, holding its derived values with provenance.

        Raises:
            InvalidInputError: For a customer not in the book.
        """
        try:
            row = self._rows[customer_id]
        except (KeyError, TypeError):
            raise InvalidInputError(
                f"Customer {customer_id!r} is not in this profile book of {len(self)} customers."
            ) from None
        return self._make(row, {})

    def to_profiles(self) -> list[Profile]:
        """Profiles of every customer, in summary order."""
        shared: dict[tuple[str, tuple[str, ...]], Provenance] = {}
        return [self._make(row, shared) for row in range(len(self))]
