r"""Service recovery: which complaints to recover first, and whether recovery pays.

A complaint is a moment to win loyalty: apologise, fix the problem fast, offer a symbolic
atonement and follow up a few days later (Bell & Zemke 1987, "Service breakdown: the road to
recovery", *Management Review* 76(10), 32–35; Hart, Heskett & Sasser 1990, "The profitable art of
service recovery", *Harvard Business Review* 68(4), 148–156).

[`complaints_to_recover`][relmark.program.recovery.complaints_to_recover] lists the complaints
(touchpoints of kind ``complaint``) that are still open at ``now`` or were resolved slowly (after
more than ``slow_after_days``), ranked by the customer's value at stake (their CLV, say), each
with the playbook's recovery action and a follow-up date ``now + follow_up_days``.

[`recovery_report`][relmark.program.recovery.recovery_report] is the *service-recovery paradox*
check (McCollough & Bharadwaj 1992; de Matos, Henrique & Rossi 2007, "Service recovery paradox:
a meta-analysis", *Journal of Service Research* 10(1), 60–77): do complainants whose complaint was
resolved quickly buy again more often than comparable customers who never complained? Each
customer's first complaint in the period is classified *recovered* (resolved within
``slow_after_days``) or *not recovered* (open, or resolved later). Each complainant is matched to
one customer who never complained, drawn at random (seeded, without replacement) from the same
stratum (for example the same CLV tier or RFM segment), and given the complainant's complaint
time. The outcome is a purchase within ``horizon_days`` after that time. Rates carry Wilson
intervals and the differences recovered − matched and recovered − not recovered Newcombe
intervals (see [`relmark.program.tracking`][relmark.program.tracking]). The comparison is
observational: customers whose complaints are easy to resolve may differ from the rest.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray

from relmark._validation import row_index
from relmark.data import TransactionLog
from relmark.data.touchpoints import TouchpointTable
from relmark.domain import TouchpointKind
from relmark.errors import InvalidInputError
from relmark.program.actions import DEFAULT_PLAYBOOK, Depth, Playbook
from relmark.program.tracking import newcombe_interval, wilson_interval
from relmark.typing import FloatArray

__all__ = [
    "RecoveryGroup",
    "RecoveryList",
    "RecoveryReport",
    "complaints_to_recover",
    "recovery_report",
]

_COMPLAINT = list(TouchpointKind).index(TouchpointKind.COMPLAINT)
_DAY_US = 86_400_000_000


def _utc(moment: datetime, name: str) -> np.datetime64:
    if moment.utcoffset() is None:
        raise InvalidInputError(
            f"The {name!r} parameter must be a timezone-aware datetime. Got {moment!r}."
        )
    return np.datetime64(moment.astimezone(UTC).replace(tzinfo=None), "us")


def _values_by_customer(
    customer_id: ArrayLike, values: ArrayLike, wanted: NDArray[Any], what: str
) -> FloatArray:
    ids = np.asarray(customer_id).astype(np.str_)
    vals = np.asarray(values, dtype=np.float64)
    if ids.shape != vals.shape or ids.ndim != 1:
        raise InvalidInputError(
            f"'customer_id' and '{what}' must be 1-d of one length; got {ids.shape} and {vals.shape}."
        )
    position = row_index(ids, wanted)
    missing = wanted[position < 0]
    if missing.size:
        raise InvalidInputError(
            f"No {what} for complainant(s) {np.unique(missing)[:5].tolist()}; give one for every "
            "customer with a complaint."
        )
    out: FloatArray = vals[position]
    return out


@attrs.frozen(kw_only=True, eq=False)
class RecoveryList:
    """Complaints to recover, most value at stake first.

    Attributes:
        customer_id: The complainant.
        complaint_at: When the complaint was made (UTC).
        status: ``"open"`` or ``"slow"`` (resolved after more than ``slow_after_days``).
        days_open: Days from complaint to resolution, or to ``now`` when open.
        value_at_stake: The customer's value at stake.
        action: The recovery action.
        follow_up_at: When to follow up (UTC).
        reason: Why, for people.
    """

    customer_id: NDArray[np.str_]
    complaint_at: NDArray[np.datetime64]
    status: NDArray[np.str_]
    days_open: FloatArray
    value_at_stake: FloatArray
    action: NDArray[np.str_]
    follow_up_at: NDArray[np.datetime64]
    reason: NDArray[np.str_]

    def __len__(self) -> int:
        """Number of complaints listed."""
        return int(self.customer_id.size)

    def to_frame(self, backend: str | None = None) -> Any:
        """The list as a frame (``"pandas"``, ``"polars"`` or ``"pyarrow"``; default: installed)."""
        from relmark._display import frame_backend
        from relmark._frames import to_native_frame

        return to_native_frame(
            {f.name: getattr(self, f.name) for f in attrs.fields(RecoveryList)},
            frame_backend(backend),
        )


def complaints_to_recover(
    touchpoints: TouchpointTable,
    customer_id: ArrayLike,
    value_at_stake: ArrayLike,
    *,
    now: datetime,
    slow_after_days: float = 3.0,
    playbook: Playbook = DEFAULT_PLAYBOOK,
) -> RecoveryList:
    """Open and slowly resolved complaints, ranked by value at stake, with action and follow-up.

    Args:
        touchpoints: The touchpoint log (complaints are its rows of kind ``complaint``).
        customer_id: Customers with a value at stake (every complainant must be among them).
        value_at_stake: Their value at stake (CLV, say).
        now: The moment of the listing (timezone-aware); later complaints are ignored.
        slow_after_days: A resolution after more than this many days is slow, >= 0.
        playbook: Its first action of depth ``recover`` is the recovery action.

    Returns:
        The list, highest value at stake first.

    Raises:
        InvalidInputError: For a naive ``now``, a negative threshold, a playbook without a
            recovery action, or a complainant without a value at stake.
    """
    moment = _utc(now, "now")
    if not np.isfinite(slow_after_days) or slow_after_days < 0:
        raise InvalidInputError(
            f"The 'slow_after_days' parameter must be a number >= 0. Got {slow_after_days!r}."
        )
    recover = [a for a in playbook.actions if a.depth is Depth.RECOVER]
    if not recover:
        raise InvalidInputError(
            "The playbook has no action of depth 'recover'; add one to plan recovery."
        )
    action = recover[0]
    complaint = (touchpoints.kind == _COMPLAINT) & (touchpoints.at <= moment)
    resolved = ~np.isnat(touchpoints.resolved_at) & (touchpoints.resolved_at <= moment)
    end = np.where(resolved, touchpoints.resolved_at, moment)
    days = (end - touchpoints.at).astype("timedelta64[us]").astype(np.int64) / _DAY_US
    open_ = complaint & ~resolved
    slow = complaint & resolved & (days > slow_after_days)
    rows = np.flatnonzero(open_ | slow)
    ids = touchpoints.counterpart_id[rows].astype(np.str_)
    value = _values_by_customer(customer_id, value_at_stake, ids, "value_at_stake")
    order = np.lexsort((touchpoints.at[rows], -value))
    rows, ids, value = rows[order], ids[order], value[order]
    status = np.where(open_[rows], "open", "slow").astype(np.str_)
    follow_days = action.follow_up_days or 0.0
    follow = moment + np.timedelta64(round(follow_days * _DAY_US), "us")
    reasons = [
        f"#{k + 1} by value at stake ({v:,.2f}); complaint {s}"
        f"{' ' + format(d, '.1f') + ' days' if s == 'open' else ', resolved after ' + format(d, '.1f') + ' days'}; "
        f"{action.name}: apologise, fix, atone, follow up in {follow_days:g} days"
        for k, (v, s, d) in enumerate(zip(value, status.tolist(), days[rows], strict=True))
    ]
    return RecoveryList(
        customer_id=ids,
        complaint_at=touchpoints.at[rows],
        status=status,
        days_open=days[rows].astype(np.float64),
        value_at_stake=value,
        action=np.full(rows.size, action.name),
        follow_up_at=np.full(rows.size, follow, dtype="datetime64[us]"),
        reason=np.asarray(reasons, dtype=np.str_),
    )


@attrs.frozen(kw_only=True)
class RecoveryGroup:
    """Later purchasing of one group.

    Attributes:
        group: ``"recovered"``, ``"not recovered"`` or ``"never complained (matched)"``.
        customers: Customers in the group.
        repurchasers: Of those, how many bought within the horizon.
        rate: ``repurchasers / customers``.
        low: Lower Wilson bound.
        high: Upper Wilson bound.
    """

    group: str
    customers: int
    repurchasers: int
    rate: float
    low: float
    high: float


@attrs.frozen(kw_only=True)
class RecoveryReport:
    """The service-recovery paradox check (see the module docs).

    Attributes:
        groups: Recovered, not recovered, matched never-complained.
        horizon_days: Days after the complaint in which a purchase counts.
        confidence: Confidence level of the intervals.
        recovered_vs_matched: Rate difference and Newcombe bounds ``(diff, low, high)``.
        recovered_vs_not: Rate difference and Newcombe bounds ``(diff, low, high)``.
        unmatched: Complainants for whom the stratum had no never-complained customer left.
    """

    groups: tuple[RecoveryGroup, ...]
    horizon_days: float
    confidence: float
    recovered_vs_matched: tuple[float, float, float]
    recovered_vs_not: tuple[float, float, float]
    unmatched: int


def _bought_after(
    log: TransactionLog,
    customers: NDArray[np.str_],
    moments: NDArray[np.datetime64],
    horizon_us: int,
) -> NDArray[np.bool_]:
    """Whether each customer made a purchase in ``(moment, moment + horizon]`` (UTC moments)."""
    times = log.time
    if log.timezone is not None:
        from zoneinfo import ZoneInfo

        zone = ZoneInfo(log.timezone)
        # Convert the few moments to the log's wall clock rather than the whole log to UTC.
        epoch = datetime(1970, 1, 1, tzinfo=UTC)
        moments = np.array(
            [
                (epoch + timedelta(microseconds=int(m))).astimezone(zone).replace(tzinfo=None)
                for m in moments.astype("datetime64[us]").astype(np.int64)
            ],
            dtype="datetime64[us]",
        )
    purchase = np.ones(len(log), dtype=np.bool_) if log.is_return is None else ~log.is_return
    ids = log.customer_id.astype(np.str_)[purchase]
    times = times[purchase]
    order = np.lexsort((times, ids))
    ids, times = ids[order], times[order]
    out = np.zeros(customers.size, dtype=np.bool_)
    lo = np.searchsorted(ids, customers, side="left")
    hi = np.searchsorted(ids, customers, side="right")
    for k in range(customers.size):
        window = times[lo[k] : hi[k]]
        first_after = np.searchsorted(window, moments[k], side="right")
        out[k] = first_after < window.size and window[first_after] <= moments[k] + np.timedelta64(
            horizon_us, "us"
        )
    return out


def _match(
    ids: NDArray[np.str_],
    labels: NDArray[np.str_],
    who: NDArray[np.str_],
    at: NDArray[np.datetime64],
    seed: int,
) -> tuple[NDArray[np.str_], NDArray[np.datetime64], int]:
    """One never-complained customer of the same stratum per complainant, seeded, no reuse."""
    stratum_of = dict(zip(ids.tolist(), labels.tolist(), strict=True))
    complained = set(who.tolist())
    members: dict[str, list[str]] = {}
    for c, s in zip(ids.tolist(), labels.tolist(), strict=True):
        if c not in complained:
            members.setdefault(s, []).append(c)
    rng = np.random.default_rng(seed)
    pools = {s: [m[k] for k in rng.permutation(len(m))] for s, m in sorted(members.items())}
    matched_ids: list[str] = []
    matched_at: list[np.datetime64] = []
    unmatched = 0
    for c, t in zip(who.tolist(), at, strict=True):
        pool = pools.get(stratum_of[c], [])
        if pool:
            matched_ids.append(pool.pop())
            matched_at.append(t)
        else:
            unmatched += 1
    return (
        np.asarray(matched_ids, dtype=np.str_),
        np.asarray(matched_at, dtype="datetime64[us]"),
        unmatched,
    )


def recovery_report(
    touchpoints: TouchpointTable,
    log: TransactionLog,
    customer_id: ArrayLike,
    stratum: ArrayLike,
    *,
    horizon_days: float = 90.0,
    slow_after_days: float = 3.0,
    confidence: float = 0.95,
    seed: int = 0,
) -> RecoveryReport:
    """Compare later purchasing of recovered, not recovered and matched non-complainants.

    Args:
        touchpoints: The touchpoint log.
        log: Transactions (naive times are read as UTC).
        customer_id: Every customer eligible for matching, complainants included.
        stratum: Matching stratum per customer (same order).
        horizon_days: Days after the complaint in which a purchase counts, > 0.
        slow_after_days: Resolution within this many days counts as recovered.
        confidence: Confidence level of the intervals.
        seed: Seed of the matching draw.

    Returns:
        The report.

    Raises:
        InvalidInputError: For a complainant missing from ``customer_id`` or bad parameters.
    """
    if not np.isfinite(horizon_days) or horizon_days <= 0:
        raise InvalidInputError(f"The 'horizon_days' parameter must be > 0. Got {horizon_days!r}.")
    ids = np.asarray(customer_id).astype(np.str_)
    labels = np.asarray(stratum).astype(np.str_)
    if ids.shape != labels.shape or ids.ndim != 1:
        raise InvalidInputError(
            f"'customer_id' and 'stratum' must be 1-d of one length; got {ids.shape} and {labels.shape}."
        )
    complaint = np.flatnonzero(touchpoints.kind == _COMPLAINT)
    who = touchpoints.counterpart_id[complaint].astype(np.str_)
    order = np.lexsort((touchpoints.at[complaint], who))
    complaint, who = complaint[order], who[order]
    first = np.r_[True, who[1:] != who[:-1]] if who.size else np.zeros(0, dtype=np.bool_)
    complaint, who = complaint[first], who[first]
    at = touchpoints.at[complaint]
    resolved_at = touchpoints.resolved_at[complaint]
    days = (resolved_at - at).astype("timedelta64[us]").astype(np.int64) / _DAY_US
    recovered = ~np.isnat(resolved_at) & (days <= slow_after_days)
    known = row_index(ids, who) >= 0
    if not known.all():
        raise InvalidInputError(
            f"Complainant(s) {who[~known][:5].tolist()} are missing from 'customer_id'; give every "
            "customer with a stratum."
        )
    matched_ids, matched_at, unmatched = _match(ids, labels, who, at, seed)
    horizon_us = round(horizon_days * _DAY_US)
    bought = _bought_after(log, who, at, horizon_us)
    matched = _bought_after(
        log,
        np.asarray(matched_ids, dtype=np.str_),
        np.asarray(matched_at, dtype="datetime64[us]"),
        horizon_us,
    )
    groups = []
    counts = {}
    for name, hits in (
        ("recovered", bought[recovered]),
        ("not recovered", bought[~recovered]),
        ("never complained (matched)", matched),
    ):
        n, y = int(hits.size), int(hits.sum())
        low, high = wilson_interval(y, n, confidence=confidence)
        counts[name] = (y, n)
        groups.append(
            RecoveryGroup(
                group=name,
                customers=n,
                repurchasers=y,
                rate=y / n if n else float("nan"),
                low=float(low),
                high=float(high),
            )
        )

    def difference(a: str, b: str) -> tuple[float, float, float]:
        (y1, n1), (y2, n2) = counts[a], counts[b]
        low, high = newcombe_interval(y1, n1, y2, n2, confidence=confidence)
        diff = y1 / n1 - y2 / n2 if n1 and n2 else float("nan")
        return float(diff), float(low), float(high)

    return RecoveryReport(
        groups=tuple(groups),
        horizon_days=float(horizon_days),
        confidence=float(confidence),
        recovered_vs_matched=difference("recovered", "never complained (matched)"),
        recovered_vs_not=difference("recovered", "not recovered"),
        unmatched=unmatched,
    )
