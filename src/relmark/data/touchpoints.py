"""Touchpoint logs as columns: one row per interaction, numpy arrays for vectorized work.

A [`TouchpointTable`][relmark.data.touchpoints.TouchpointTable] is the columnar form of a list of
[`Touchpoint`][relmark.domain.records.Touchpoint] records: the trust proxies
([`touchpoint_proxies`][relmark.trust.proxies.touchpoint_proxies]), service recovery and the
profile's ``preferred_channel`` read it with sorts and ``bincount`` instead of a Python loop per
touchpoint. Build one from records, from arrays or from a pandas / polars / pyarrow frame; each
constructor validates every column and names the offending rows, and none drops or alters a row.

Times are held as UTC instants (``datetime64[us]``); enum columns (kind, channel) as positions
in their enum; the direction as a boolean ``inbound``. Columns a record always carries but data
from elsewhere may lack (the channel, the touchpoint ids and the links to other touchpoints,
transactions and campaigns) are optional: ``None`` when not given.
[`to_records`][relmark.data.touchpoints.TouchpointTable.to_records] turns a table with touchpoint
ids and channels back into records equal to the ones it was built from.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray

from relmark._typing import BoolArray, IntArray
from relmark._validation import cmp, id_column, offending_rows
from relmark.domain.records import (
    CampaignId,
    CustomerId,
    StakeholderId,
    Touchpoint,
    TouchpointId,
    TransactionId,
)
from relmark.domain.vocabulary import Channel, Direction, TouchpointKind
from relmark.errors import InvalidInputError

__all__ = ["TouchpointTable"]

_NAT: Final = np.iinfo(np.int64).min
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_KINDS: Final = list(TouchpointKind)
_CHANNELS: Final = list(Channel)
_RESOLVABLE: Final = np.array([k.can_be_resolved for k in _KINDS])
_INBOUND_CODE: Final = list(Direction).index(Direction.INBOUND)
_LINKS: Final = ("in_reply_to", "transaction_id", "campaign_id")
"""Optional id columns linking a touchpoint to another touchpoint, a transaction, a campaign."""
_REQUIRED: Final = ("counterpart_id", "at", "kind", "direction")
_OPTIONAL: Final = ("touchpoint_id", "is_stakeholder", "channel", "resolved_at", *_LINKS)
_NULLABLE: Final = frozenset({"resolved_at", *_LINKS})
"""Columns whose rows may be missing (``None``/``NaT``/null); in the others every row is set."""


def _one_dimensional(name: str, values: Any) -> NDArray[Any]:
    try:
        array = np.asarray(values)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"Column {name!r} must be a flat sequence of values (one per touchpoint); it could "
            f"not be read as a column: {exc}"
        ) from exc
    if array.ndim != 1:
        raise InvalidInputError(
            f"Column {name!r} must be one-dimensional (one value per touchpoint); got shape "
            f"{array.shape}."
        )
    return array


def _is_missing(value: object) -> bool:
    return (
        value is None
        or (isinstance(value, float) and math.isnan(value))
        or (isinstance(value, np.datetime64) and bool(np.isnat(value)))
    )


def _utc_microseconds(name: str, values: Any) -> NDArray[np.int64]:
    """Times as int64 microseconds since the epoch (UTC); missing values as int64 min.

    ``datetime64`` values are taken to be UTC; ``datetime`` objects must be timezone-aware.
    """
    array = _one_dimensional(name, values)
    if array.dtype.kind == "M":
        return array.astype("datetime64[us]").astype(np.int64)
    if array.size and array.dtype.kind != "O":
        raise InvalidInputError(
            f"Column {name!r} must hold timezone-aware datetimes or numpy datetime64 values "
            f"(taken as UTC); got dtype {array.dtype}."
        )
    out = np.empty(array.size, dtype=np.int64)
    for row, value in enumerate(array.tolist()):
        if _is_missing(value):
            out[row] = _NAT
        elif not isinstance(value, datetime):
            raise InvalidInputError(
                f"Column {name!r} must hold datetimes; got a {type(value).__name__} at row {row}."
            )
        elif value.utcoffset() is None:
            raise InvalidInputError(
                f"Column {name!r} must hold timezone-aware datetimes (or numpy datetime64 in "
                f"UTC); got the naive datetime {value} at row {row}."
            )
        else:
            delta = value - _EPOCH
            out[row] = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return out


def _codes(name: str, values: Any, vocabulary: type[Any]) -> IntArray:
    """Positions in ``vocabulary`` of a column of its members or their string values."""
    array = _one_dimensional(name, values)
    if array.size == 0:
        return np.empty(0, dtype=np.int64)
    members: list[Any] = list(vocabulary.__members__.values())
    if array.dtype.kind == "O":
        items = array.tolist()
        missing = np.fromiter((_is_missing(v) for v in items), dtype=bool, count=len(items))
        if missing.any():
            raise InvalidInputError(
                f"Column {name!r} has missing values at {offending_rows(missing)}."
            )
        array = np.array([v.value if isinstance(v, vocabulary) else str(v) for v in items])
    distinct, inverse = np.unique(array.astype(np.str_), return_inverse=True)
    by_value = {m.value: i for i, m in enumerate(members)}
    unknown = [str(v) for v in distinct.tolist() if v not in by_value]
    if unknown:
        bad = np.isin(array.astype(np.str_), unknown)
        allowed = ", ".join(repr(m.value) for m in members)
        raise InvalidInputError(
            f"Column {name!r} must hold {vocabulary.__name__} values, one of {allowed}; got "
            f"{unknown[:5]} at {offending_rows(bad)}."
        )
    codes = np.array([by_value[v] for v in distinct.tolist()], dtype=np.int64)
    return codes[inverse.reshape(-1)]


def _text_ids(name: str, values: Any, *, nullable: bool) -> NDArray[Any]:
    """An object column of identifiers (``str``; ``None`` where missing, if ``nullable``)."""
    array = _one_dimensional(name, values)
    items = [None if _is_missing(v) else v for v in array.tolist()]
    missing = np.fromiter((v is None for v in items), dtype=bool, count=len(items))
    if missing.any() and not nullable:
        raise InvalidInputError(f"Column {name!r} has missing ids at {offending_rows(missing)}.")
    bad = np.fromiter(
        (v is not None and not (isinstance(v, str) and v != "" and v == v.strip()) for v in items),
        dtype=bool,
        count=len(items),
    )
    if bad.any():
        raise InvalidInputError(
            f"Column {name!r} must hold non-empty strings without leading or trailing "
            f"whitespace; violated at {offending_rows(bad)}."
        )
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


def _flags(name: str, values: Any) -> BoolArray:
    array = _one_dimensional(name, values)
    if array.size and array.dtype.kind != "b":
        raise InvalidInputError(
            f"Column {name!r} must hold one True/False per touchpoint; got dtype {array.dtype}."
        )
    return array.astype(bool)


@attrs.frozen(kw_only=True)
class TouchpointTable:
    """A columnar touchpoint log: one row per touchpoint.

    Build one with [`from_records`][relmark.data.touchpoints.TouchpointTable.from_records],
    [`from_arrays`][relmark.data.touchpoints.TouchpointTable.from_arrays] or
    [`from_frame`][relmark.data.touchpoints.TouchpointTable.from_frame].

    Attributes:
        counterpart_id: The customer or stakeholder of each touchpoint (integer ids, or strings
            held as an object array).
        is_stakeholder: Whether the counterpart is a stakeholder other than a customer (the
            record's ``stakeholder_id`` is set rather than its ``customer_id``).
        at: When it happened, UTC, ``datetime64[us]``.
        kind: The [`TouchpointKind`][relmark.domain.vocabulary.TouchpointKind] of each row, as
            its position in the enum (int64).
        inbound: Whether the counterpart initiated it
            ([`Direction.INBOUND`][relmark.domain.vocabulary.Direction]).
        resolved_at: When the case was resolved, UTC (``NaT`` when open or not a case).
        channel: The [`Channel`][relmark.domain.vocabulary.Channel] of each row as its position
            in the enum, or ``None`` when the log records no channels.
        touchpoint_id: Each touchpoint's id (object array of ``str``), or ``None``.
        in_reply_to: The touchpoint each one answers (``None`` entries where it answers none),
            or ``None`` for a log without such links.
        transaction_id: The transaction a purchase or return touchpoint records, as above.
        campaign_id: The campaign a campaign touchpoint belongs to, as above.
    """

    counterpart_id: NDArray[Any] = attrs.field(eq=cmp)
    is_stakeholder: BoolArray = attrs.field(eq=cmp)
    at: NDArray[np.datetime64] = attrs.field(eq=cmp)
    kind: IntArray = attrs.field(eq=cmp)
    inbound: BoolArray = attrs.field(eq=cmp)
    resolved_at: NDArray[np.datetime64] = attrs.field(eq=cmp)
    channel: IntArray | None = attrs.field(default=None, eq=cmp)
    touchpoint_id: NDArray[Any] | None = attrs.field(default=None, eq=cmp)
    in_reply_to: NDArray[Any] | None = attrs.field(default=None, eq=cmp)
    transaction_id: NDArray[Any] | None = attrs.field(default=None, eq=cmp)
    campaign_id: NDArray[Any] | None = attrs.field(default=None, eq=cmp)

    def __len__(self) -> int:
        """Number of touchpoints."""
        return int(self.kind.size)

    @functools.cached_property
    def counterparts(self) -> tuple[NDArray[Any], IntArray]:
        """The distinct counterpart ids (sorted) and each row's position among them.

        Computed once per table and shared by everything that groups by counterpart (the trust
        proxies, ``preferred_channel``). Text ids are factorized through a hash table and only
        the distinct ids are sorted, so the cost is linear in the rows rather than a sort of
        every row's Python string.
        """
        ids = self.counterpart_id
        if ids.dtype.kind != "O":
            distinct, code = np.unique(ids, return_inverse=True)
            return distinct, code.reshape(-1).astype(np.int64)
        items = ids.tolist()
        ordered = sorted(dict.fromkeys(items))
        position = {value: i for i, value in enumerate(ordered)}
        code = np.fromiter(map(position.__getitem__, items), dtype=np.int64, count=len(items))
        distinct = np.empty(len(ordered), dtype=object)
        distinct[:] = ordered
        return distinct, code

    # ------------------------------------------------------------------ constructors

    @classmethod
    def from_records(cls, records: Iterable[Touchpoint]) -> TouchpointTable:
        """Build the table from [`Touchpoint`][relmark.domain.records.Touchpoint] records.

        Every field of the records is kept: the counterpart is the record's ``customer_id``, or
        its ``stakeholder_id`` (with ``is_stakeholder`` set); link columns whose records all
        leave them unset are ``None``.

        Args:
            records: The touchpoints, in any order.

        Returns:
            The table, rows in the order of ``records``.

        Raises:
            InvalidInputError: When ``records`` is not an iterable of ``Touchpoint`` records
                (naming the first position that is not one).
        """
        given: object = records  # checked at run time: callers may pass anything
        if not isinstance(given, Iterable) or isinstance(given, str | bytes | Mapping):
            raise InvalidInputError(
                "The 'records' argument of TouchpointTable.from_records must be an iterable of "
                f"Touchpoint records (a list, tuple or generator). Got {type(records).__name__}."
            )
        rows = list(records)
        for position, row in enumerate(rows):
            if not isinstance(row, Touchpoint):
                raise InvalidInputError(
                    "The 'records' argument of TouchpointTable.from_records must hold Touchpoint "
                    f"records; got a {type(row).__name__} at position {position}."
                )
        links: dict[str, list[Any] | None] = {}
        for name in _LINKS:
            column = [getattr(r, name) for r in rows]
            links[name] = column if any(v is not None for v in column) else None
        return cls.from_arrays(
            touchpoint_id=[r.touchpoint_id for r in rows],
            counterpart_id=np.array([r.counterpart_id for r in rows], dtype=object),
            is_stakeholder=np.array([r.customer_id is None for r in rows], dtype=bool),
            at=np.array([r.at for r in rows], dtype=object),
            channel=[r.channel for r in rows],
            direction=[r.direction for r in rows],
            kind=[r.kind for r in rows],
            resolved_at=np.array([r.resolved_at for r in rows], dtype=object),
            **links,
        )

    @classmethod
    def from_arrays(
        cls,
        *,
        counterpart_id: ArrayLike,
        at: Any,
        kind: Any,
        direction: Any,
        resolved_at: Any = None,
        channel: Any = None,
        is_stakeholder: Any = None,
        touchpoint_id: Any = None,
        in_reply_to: Any = None,
        transaction_id: Any = None,
        campaign_id: Any = None,
    ) -> TouchpointTable:
        """Validate columns and build the table.

        Args:
            counterpart_id: Customer or stakeholder id per touchpoint (integers or strings).
            at: Timezone-aware datetimes, or ``datetime64`` values taken to be UTC.
            kind: [`TouchpointKind`][relmark.domain.vocabulary.TouchpointKind] members or their
                values (``"complaint"``).
            direction: [`Direction`][relmark.domain.vocabulary.Direction] members or values
                (``"inbound"``, ``"outbound"``).
            resolved_at: Resolution times (``None``/``NaT`` when open), only for inquiries,
                support requests and complaints; default all open.
            channel: [`Channel`][relmark.domain.vocabulary.Channel] members or values
                (``"email"``); default: the log records no channels.
            is_stakeholder: One boolean per touchpoint, ``True`` where the counterpart is a
                stakeholder rather than a customer; default all customers.
            touchpoint_id: Each touchpoint's id (non-empty strings).
            in_reply_to: The touchpoint each one answers (``None`` where none).
            transaction_id: The transaction each purchase or return records (``None`` where none).
            campaign_id: The campaign each campaign touchpoint belongs to (``None`` where none).

        Returns:
            The table.

        Raises:
            InvalidInputError: Unequal lengths, missing or naive times, unknown kinds, directions
                or channels, missing ids, a resolution before its touchpoint or on a kind that
                cannot be resolved, a touchpoint answering itself (rows named).

        Examples:
            >>> import numpy as np
            >>> t = TouchpointTable.from_arrays(
            ...     counterpart_id=["c1", "c1"],
            ...     at=np.array(["2024-01-01T09:00", "2024-01-02T09:00"], dtype="datetime64[s]"),
            ...     kind=["inquiry", "support"],
            ...     direction=["inbound", "outbound"],
            ...     channel=["email", "phone"],
            ... )
            >>> len(t), t.inbound.tolist()
            (2, [True, False])
        """
        return cls._build(
            {
                "counterpart_id": counterpart_id,
                "at": at,
                "kind": kind,
                "direction": direction,
                "resolved_at": resolved_at,
                "channel": channel,
                "is_stakeholder": is_stakeholder,
                "touchpoint_id": touchpoint_id,
                "in_reply_to": in_reply_to,
                "transaction_id": transaction_id,
                "campaign_id": campaign_id,
            },
            names={},
        )

    @classmethod
    def _build(cls, given: Mapping[str, Any], *, names: Mapping[str, str]) -> TouchpointTable:
        """Validate the columns, reporting each under ``names.get(role, role)`` (the user's name)."""

        def name(role: str) -> str:
            return names.get(role, role)

        def read(role: str, parse: Any) -> NDArray[Any] | None:
            values = given.get(role)
            return None if values is None else parse(name(role), values)

        ids = id_column(name("counterpart_id"), given["counterpart_id"])
        n = ids.size
        at_us = _utc_microseconds(name("at"), given["at"])
        kinds = _codes(name("kind"), given["kind"], TouchpointKind)
        directions = _codes(name("direction"), given["direction"], Direction)
        optional = {
            "resolved_at": read("resolved_at", _utc_microseconds),
            "channel": read("channel", lambda k, v: _codes(k, v, Channel)),
            "is_stakeholder": read("is_stakeholder", _flags),
            "touchpoint_id": read("touchpoint_id", lambda k, v: _text_ids(k, v, nullable=False)),
            **{link: read(link, lambda k, v: _text_ids(k, v, nullable=True)) for link in _LINKS},
        }
        lengths = {
            name("counterpart_id"): n,
            name("at"): at_us.size,
            name("kind"): kinds.size,
            name("direction"): directions.size,
            **{name(k): v.size for k, v in optional.items() if v is not None},
        }
        if len(set(lengths.values())) > 1:
            raise InvalidInputError(
                f"All touchpoint columns must have one value per touchpoint; got lengths {lengths}."
            )
        missing = at_us == _NAT
        if missing.any():
            raise InvalidInputError(
                f"Column {name('at')!r} must not have missing times; missing at "
                f"{offending_rows(missing)}."
            )
        res = optional["resolved_at"]
        res_us = np.full(n, _NAT, dtype=np.int64) if res is None else res
        has_res = res_us != _NAT
        bad = has_res & ~_RESOLVABLE[kinds]
        if bad.any():
            resolvable = ", ".join(repr(k.value) for k in _KINDS if k.can_be_resolved)
            raise InvalidInputError(
                f"Column {name('resolved_at')!r} is only meaningful for kinds {resolvable}; set "
                f"on other kinds at {offending_rows(bad)}."
            )
        bad = has_res & (res_us < at_us)
        if bad.any():
            raise InvalidInputError(
                f"Column {name('resolved_at')!r} must not fall before {name('at')!r}; violated "
                f"at {offending_rows(bad)}."
            )
        own, reply = optional["touchpoint_id"], optional["in_reply_to"]
        if own is not None and reply is not None:
            bad = np.fromiter(
                (a is not None and a == b for a, b in zip(reply, own, strict=True)), bool, n
            )
            if bad.any():
                raise InvalidInputError(
                    f"Column {name('in_reply_to')!r} must name another touchpoint; a touchpoint "
                    f"answers itself at {offending_rows(bad)}."
                )
        stakeholder = optional["is_stakeholder"]
        return cls(
            counterpart_id=ids,
            is_stakeholder=np.zeros(n, dtype=bool) if stakeholder is None else stakeholder,
            at=at_us.astype("datetime64[us]"),
            kind=kinds,
            inbound=directions == _INBOUND_CODE,
            resolved_at=res_us.astype("datetime64[us]"),
            channel=optional["channel"],
            touchpoint_id=own,
            in_reply_to=reply,
            transaction_id=optional["transaction_id"],
            campaign_id=optional["campaign_id"],
        )

    @classmethod
    def from_frame(cls, frame: Any, *, columns: Mapping[str, str] | None = None) -> TouchpointTable:
        """Build the table from a pandas or polars DataFrame, a pyarrow Table or a mapping.

        The columns are those [`to_frame`][relmark.data.touchpoints.TouchpointTable.to_frame]
        writes: ``counterpart_id``, ``at``, ``kind`` and ``direction`` are required;
        ``touchpoint_id``, ``is_stakeholder``, ``channel``, ``resolved_at``, ``in_reply_to``,
        ``transaction_id`` and ``campaign_id`` are read when the frame has them. Nulls are
        allowed in ``resolved_at`` and the three link columns only. Zoned datetime columns are
        converted to UTC; naive ones are taken to be UTC already.

        Args:
            frame: The touchpoints, one per row.
            columns: Column name → frame column name, for frames whose names differ
                (``{"counterpart_id": "customer", "at": "timestamp"}``); a column named here
                must exist.

        Returns:
            The validated table; messages name the frame's columns.

        Raises:
            InvalidInputError: For an unknown key in ``columns``, a missing column, nulls where
                none are allowed, or any problem
                [`from_arrays`][relmark.data.touchpoints.TouchpointTable.from_arrays] reports.
        """
        from relmark._frames import extract_columns

        given = dict(columns or {})
        unknown = sorted(set(given) - {*_REQUIRED, *_OPTIONAL})
        if unknown:
            raise InvalidInputError(
                f"The 'columns' argument names unknown touchpoint columns {unknown}; the columns "
                f"are {[*_REQUIRED, *_OPTIONAL]}."
            )
        names = {role: given.get(role, role) for role in (*_REQUIRED, *_OPTIONAL)}
        read = extract_columns(
            frame,
            names,
            convert_to="UTC",
            nullable=_NULLABLE,
            optional={role for role in _OPTIONAL if role not in given},
        )
        return cls._build({role: values for role, (values, _) in read.items()}, names=names)

    # ------------------------------------------------------------------ conversions

    def _column_values(self) -> dict[str, NDArray[Any]]:
        """The columns as ``to_frame`` writes them: enum values as text, times as UTC."""
        out: dict[str, NDArray[Any]] = {}
        if self.touchpoint_id is not None:
            out["touchpoint_id"] = self.touchpoint_id
        out["counterpart_id"] = self.counterpart_id
        out["is_stakeholder"] = self.is_stakeholder
        out["at"] = self.at
        if self.channel is not None:
            out["channel"] = np.array([c.value for c in _CHANNELS], dtype=object)[self.channel]
        out["direction"] = np.where(
            self.inbound, Direction.INBOUND.value, Direction.OUTBOUND.value
        ).astype(object)
        out["kind"] = np.array([k.value for k in _KINDS], dtype=object)[self.kind]
        out["resolved_at"] = self.resolved_at
        for name in _LINKS:
            values = getattr(self, name)
            if values is not None:
                out[name] = values
        return out  # fmt: skip

    def to_frame(self, backend: str | None = None) -> Any:
        """The log as a pandas or polars DataFrame or a pyarrow Table, one row per touchpoint.

        Columns: ``touchpoint_id`` (when held), ``counterpart_id``, ``is_stakeholder``, ``at``,
        ``channel`` (when held), ``direction``, ``kind`` (enum values as text), ``resolved_at``
        (null when open) and the link columns that are held (null where a row has no link).
        Times are naive UTC datetimes;
        [`from_frame`][relmark.data.touchpoints.TouchpointTable.from_frame] reads the frame back
        to an equal table.

        Args:
            backend: ``"pandas"``, ``"polars"`` or ``"pyarrow"``; by default the first of them
                that is installed.

        Raises:
            InvalidInputError: For an unknown backend.
            MissingDependencyError: When the backend's library is not installed.
        """
        from relmark._display import frame_backend
        from relmark._frames import to_native_frame

        return to_native_frame(self._column_values(), frame_backend(backend))

    def to_records(self) -> list[Touchpoint]:
        """The rows as [`Touchpoint`][relmark.domain.records.Touchpoint] records (times in UTC).

        Returns:
            One record per row, equal to the records the table was built from.

        Raises:
            InvalidInputError: When the table holds no touchpoint ids or no channels, or a row
                breaks a rule of the record (an integer counterpart id, for one).
        """
        ids, channels = self.touchpoint_id, self.channel
        if ids is None or channels is None:
            missing = [n for n, v in (("touchpoint_id", ids), ("channel", channels)) if v is None]
            raise InvalidInputError(
                f"Touchpoint records need the column(s) {missing}, which this table does not "
                "hold; build it with them to convert it to records."
            )
        at = self.at.astype(np.int64).tolist()
        resolved = self.resolved_at.astype(np.int64).tolist()
        records: list[Touchpoint] = []
        for row, counterpart in enumerate(self.counterpart_id.tolist()):
            stakeholder = bool(self.is_stakeholder[row])
            records.append(
                Touchpoint(
                    touchpoint_id=TouchpointId(ids[row]),
                    at=_EPOCH + timedelta(microseconds=at[row]),
                    channel=_CHANNELS[channels[row]],
                    direction=Direction.INBOUND if self.inbound[row] else Direction.OUTBOUND,
                    kind=_KINDS[self.kind[row]],
                    customer_id=None if stakeholder else CustomerId(counterpart),
                    stakeholder_id=StakeholderId(counterpart) if stakeholder else None,
                    resolved_at=None
                    if resolved[row] == _NAT
                    else _EPOCH + timedelta(microseconds=resolved[row]),
                    in_reply_to=_link(TouchpointId, self.in_reply_to, row),
                    transaction_id=_link(TransactionId, self.transaction_id, row),
                    campaign_id=_link(CampaignId, self.campaign_id, row),
                )
            )
        return records

    def _repr_html_(self) -> str:
        """The first and last touchpoints as an HTML table (Jupyter)."""
        from relmark._display import html_table

        columns = self._column_values()
        return html_table(
            {name: values for name, values in columns.items() if name != "is_stakeholder"},
            title=f"TouchpointTable: {len(self)} touchpoints",
        )


def _link(kind: Any, values: NDArray[Any] | None, row: int) -> Any:
    """The link id of ``row`` as the NewType ``kind``, or ``None`` (no column, or no link)."""
    value = None if values is None else values[row]
    return None if value is None else kind(value)
