r"""Behavioural proxies of trust and commitment, for customers and stakeholders without surveys.

Surveys reach few customers; touchpoint logs and purchase summaries cover nearly all. The
measures here are **proxies**: observable behaviour that commitment-trust theory (Morgan & Hunt
1994) expects to go with trust and commitment. They are not validated measurements of the
constructs; calibrate them against survey scores where you have both.

Trust proxies, from a [`TouchpointTable`][relmark.data.touchpoints.TouchpointTable] (each in
$[0, 1]$, NaN where the counterpart has no touchpoint of the kind needed):

| Proxy | Definition | Rationale |
|---|---|---|
| ``communication_balance`` | $2\min(i, o)/(i + o)$ over dialogue touchpoints ($i$ inbound, $o$ outbound) | Communication, an antecedent of trust, is two-way sharing of information; a relationship where only one side talks scores low. |
| ``complaint_resolution_rate`` | resolved complaints / complaints | Keeping promises when something goes wrong is what the trust items ask about; unresolved complaints are broken promises. |
| ``resolution_speed`` | mean of $2^{-d/h}$ over resolved complaints, $d$ days to resolve, $h$ the half-life | Timely resolution is part of reliability; a complaint fixed in $h$ days scores 0.5. |
| ``responsiveness`` | share of inbound inquiries, support requests and complaints answered (resolved, or followed by a non-campaign outbound touchpoint) within the window | Responding when the counterpart reaches out is the behavioural side of communication. |

Dialogue touchpoints are the kinds inquiry, support, complaint, complaint resolution, review,
survey response and meeting; purchases, returns, visits and campaign traffic are left out because
they are not an exchange of information between the two sides. A complaint counts as resolved
when its ``resolved_at`` is set.

Commitment proxies, from a [`CustomerSummary`][relmark.data.summary.CustomerSummary] (see
[`summary_proxies`][relmark.trust.proxies.summary_proxies]): relationship tenure and repeat-purchase
rate as percentiles within a reference population, and purchase continuity $t_x / T$.

Everything is vectorized: one pass of sorts, ``bincount`` and ``searchsorted`` over the log.
The response window is checked at a resolution of one second.
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from relmark._validation import check_real, cmp
from relmark.data.summary import CustomerSummary
from relmark.data.touchpoints import TouchpointTable
from relmark.domain.vocabulary import TouchpointKind
from relmark.errors import InvalidInputError
from relmark.typing import BoolArray, FloatArray, IntArray

__all__ = [
    "COMMITMENT_PROXIES",
    "DIALOGUE_KINDS",
    "TRUST_PROXIES",
    "SummaryProxies",
    "TouchpointProxies",
    "behavioural_trust_index",
    "mean_of_available",
    "summary_proxies",
    "touchpoint_proxies",
    "weighted_percentile",
]

_US_PER_DAY = 86_400_000_000
_US_PER_SECOND = 1_000_000

DIALOGUE_KINDS = frozenset(
    {
        TouchpointKind.INQUIRY,
        TouchpointKind.SUPPORT,
        TouchpointKind.COMPLAINT,
        TouchpointKind.COMPLAINT_RESOLUTION,
        TouchpointKind.REVIEW,
        TouchpointKind.SURVEY_RESPONSE,
        TouchpointKind.MEETING,
    }
)
"""Touchpoint kinds that count as two-way communication for ``communication_balance``."""

_REQUEST_KINDS = frozenset(
    {TouchpointKind.INQUIRY, TouchpointKind.SUPPORT, TouchpointKind.COMPLAINT}
)
_CAMPAIGN_KINDS = frozenset(
    {
        TouchpointKind.CAMPAIGN_SEND,
        TouchpointKind.CAMPAIGN_OPEN,
        TouchpointKind.CAMPAIGN_CLICK,
        TouchpointKind.UNSUBSCRIBE,
    }
)

TRUST_PROXIES = (
    "communication_balance",
    "complaint_resolution_rate",
    "resolution_speed",
    "responsiveness",
)
"""Names of the trust proxies, in the order they are reported."""

COMMITMENT_PROXIES = ("tenure_percentile", "repeat_rate_percentile", "purchase_continuity")
"""Names of the commitment proxies, in the order they are reported."""


@attrs.frozen(kw_only=True)
class TouchpointProxies:
    r"""Trust proxies per counterpart, computed from a touchpoint log.

    Attributes:
        counterpart_id: Distinct counterparts of the log, sorted.
        inbound: Inbound dialogue touchpoints per counterpart.
        outbound: Outbound dialogue touchpoints per counterpart.
        complaints: Complaints per counterpart.
        communication_balance: $2\min(i, o)/(i + o)$; NaN without dialogue touchpoints.
        complaint_resolution_rate: Resolved share of complaints; NaN without complaints.
        resolution_speed: Mean $2^{-d/h}$ over resolved complaints; NaN without any.
        responsiveness: Share of inbound requests answered within the window; NaN without any.
        resolution_half_life_days: The half-life $h$ used.
        response_window_days: The response window used.
    """

    counterpart_id: NDArray[Any] = attrs.field(eq=cmp)
    inbound: IntArray = attrs.field(eq=cmp)
    outbound: IntArray = attrs.field(eq=cmp)
    complaints: IntArray = attrs.field(eq=cmp)
    communication_balance: FloatArray = attrs.field(eq=cmp)
    complaint_resolution_rate: FloatArray = attrs.field(eq=cmp)
    resolution_speed: FloatArray = attrs.field(eq=cmp)
    responsiveness: FloatArray = attrs.field(eq=cmp)
    resolution_half_life_days: float
    response_window_days: float

    def __len__(self) -> int:
        """Number of counterparts."""
        return int(self.counterpart_id.size)

    def matrix(self) -> FloatArray:
        """The four trust proxies as an ``n × 4`` array, columns in ``TRUST_PROXIES`` order."""
        return np.column_stack([getattr(self, name) for name in TRUST_PROXIES])


def _ratio(numerator: NDArray[Any], denominator: NDArray[Any]) -> FloatArray:
    out = np.full(numerator.shape, np.nan)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def _answered(
    code: IntArray,
    seconds: IntArray,
    request: BoolArray,
    reply: BoolArray,
    resolved_in_window: BoolArray,
    window_s: int,
) -> BoolArray:
    """Whether each request is followed by a reply of the same counterpart within the window.

    Replies are sorted by the composite key ``code * span + seconds``; one ``searchsorted``
    finds, for every request, the first reply at or after it (same counterpart by construction,
    because ``span`` exceeds every time plus the window).
    """
    answered = resolved_in_window[request].copy()
    if not reply.any() or not request.any():
        return answered
    span = int(seconds.max()) + window_s + 1
    if (int(code.max()) + 1) * span >= 2**62:
        raise InvalidInputError(
            "The touchpoint log spans too many counterparts and seconds for the responsiveness "
            "index; split it into smaller logs."
        )
    reply_keys = np.sort(code[reply] * span + seconds[reply])
    request_keys = code[request] * span + seconds[request]
    pos = np.searchsorted(reply_keys, request_keys, side="left")
    found = pos < reply_keys.size
    nxt = reply_keys[np.minimum(pos, reply_keys.size - 1)]
    return answered | (found & (nxt <= request_keys + window_s))


def touchpoint_proxies(
    table: TouchpointTable,
    *,
    resolution_half_life_days: float = 3.0,
    response_window_days: float = 2.0,
) -> TouchpointProxies:
    """Compute the trust proxies of every counterpart in a touchpoint log (vectorized).

    Definitions and rationale are in the module documentation.

    Args:
        table: The touchpoint log.
        resolution_half_life_days: Days to resolve at which ``resolution_speed`` is 0.5.
        response_window_days: Days within which a request must be resolved or answered to count
            for ``responsiveness``.

    Returns:
        One row per distinct counterpart (sorted ids).

    Raises:
        InvalidInputError: A non-positive half-life or window.
    """
    half_life = check_real(resolution_half_life_days, name="resolution_half_life_days", strict=True)
    window = check_real(response_window_days, name="response_window_days", strict=True)
    ids, code = table.counterparts
    m = ids.size
    members = list(TouchpointKind)

    def is_kind(kinds: frozenset[TouchpointKind]) -> BoolArray:
        return np.isin(table.kind, [members.index(k) for k in kinds])

    dialogue = is_kind(DIALOGUE_KINDS)
    inbound = np.bincount(code[dialogue & table.inbound], minlength=m)
    outbound = np.bincount(code[dialogue & ~table.inbound], minlength=m)
    balance = _ratio(2.0 * np.minimum(inbound, outbound), (inbound + outbound).astype(np.float64))

    at_us = table.at.astype(np.int64)
    res_us = table.resolved_at.astype(np.int64)
    resolved = ~np.isnat(table.resolved_at)
    complaint = table.kind == members.index(TouchpointKind.COMPLAINT)
    n_complaints = np.bincount(code[complaint], minlength=m)
    n_resolved = np.bincount(code[complaint & resolved], minlength=m)
    rate = _ratio(n_resolved.astype(np.float64), n_complaints.astype(np.float64))
    days = np.where(resolved, (res_us - at_us) / _US_PER_DAY, 0.0)
    speed_each = np.exp2(-days / half_life)
    speed = _ratio(
        np.bincount(
            code[complaint & resolved], weights=speed_each[complaint & resolved], minlength=m
        ),
        n_resolved.astype(np.float64),
    )

    window_us = round(window * _US_PER_DAY)
    request = is_kind(_REQUEST_KINDS) & table.inbound
    reply = ~table.inbound & ~is_kind(_CAMPAIGN_KINDS)
    in_window = resolved & (res_us - at_us <= window_us)
    seconds = np.zeros(at_us.size, dtype=np.int64)
    if at_us.size:
        seconds = (at_us - at_us.min()) // _US_PER_SECOND
    answered = _answered(code, seconds, request, reply, in_window, window_us // _US_PER_SECOND)
    n_requests = np.bincount(code[request], minlength=m)
    responsiveness = _ratio(
        np.bincount(code[request], weights=answered.astype(np.float64), minlength=m),
        n_requests.astype(np.float64),
    )
    return TouchpointProxies(
        counterpart_id=ids,
        inbound=inbound.astype(np.int64),
        outbound=outbound.astype(np.int64),
        complaints=n_complaints.astype(np.int64),
        communication_balance=balance,
        complaint_resolution_rate=rate,
        resolution_speed=speed,
        responsiveness=responsiveness,
        resolution_half_life_days=half_life,
        response_window_days=window,
    )


def weighted_percentile(
    reference: FloatArray, reference_weights: FloatArray, values: FloatArray
) -> FloatArray:
    r"""Mid-rank percentile of ``values`` within a weighted reference sample, in $[0, 1]$.

    $P(v) = W(X < v) + \tfrac12 W(X = v)$ with $W$ the normalized reference weights, so ties
    share the middle of their step and a constant reference maps every equal value to 0.5.
    NaN values stay NaN; NaN reference entries are ignored.

    Args:
        reference: Reference values.
        reference_weights: Positive weight of each reference value.
        values: Values to place.

    Returns:
        One percentile per value.
    """
    keep = ~np.isnan(reference)
    ref = reference[keep]
    w = reference_weights[keep]
    out = np.full(values.shape, np.nan)
    if ref.size == 0:
        return out
    order = np.argsort(ref, kind="stable")
    ref = ref[order]
    cum = np.concatenate([[0.0], np.cumsum(w[order])])
    total = cum[-1]
    ok = ~np.isnan(values)
    below = cum[np.searchsorted(ref, values[ok], side="left")]
    upto = cum[np.searchsorted(ref, values[ok], side="right")]
    out[ok] = (below + 0.5 * (upto - below)) / total
    return out


@attrs.frozen(kw_only=True)
class SummaryProxies:
    """Commitment proxies per customer of a summary.

    Attributes:
        tenure: $T$, time since the first purchase, in the summary's unit.
        repeat_rate: Repeat purchases per unit of time, $x / T$ (NaN when $T = 0$).
        tenure_percentile: Percentile of ``tenure`` in the reference population.
        repeat_rate_percentile: Percentile of ``repeat_rate`` in the reference population.
        purchase_continuity: $t_x / T$, the share of the observed relationship over which the
            customer kept buying (0 without repeat purchases, NaN when $T = 0$).
    """

    tenure: FloatArray = attrs.field(eq=cmp)
    repeat_rate: FloatArray = attrs.field(eq=cmp)
    tenure_percentile: FloatArray = attrs.field(eq=cmp)
    repeat_rate_percentile: FloatArray = attrs.field(eq=cmp)
    purchase_continuity: FloatArray = attrs.field(eq=cmp)

    def matrix(self) -> FloatArray:
        """The three commitment proxies, columns in ``COMMITMENT_PROXIES`` order."""
        return np.column_stack([getattr(self, name) for name in COMMITMENT_PROXIES])


def _repeat_rate(summary: CustomerSummary) -> FloatArray:
    return _ratio(summary.frequency.astype(np.float64), summary.T)


def summary_proxies(
    summary: CustomerSummary,
    *,
    reference_tenure: FloatArray | None = None,
    reference_repeat_rate: FloatArray | None = None,
    reference_weights: FloatArray | None = None,
) -> SummaryProxies:
    """Commitment proxies from a customer summary: tenure, repeat rate and continuity.

    Relationship tenure and repeat behaviour are the observable side of commitment ("an enduring
    desire to maintain a valued relationship"). Both are placed as percentiles within a reference
    population (by default the summary itself, weighted by its row weights), because their scale
    depends on the business; continuity $t_x/T$ is already in $[0, 1]$.

    Args:
        summary: The customers to describe.
        reference_tenure: Reference tenures (default: the summary's ``T``).
        reference_repeat_rate: Reference repeat rates (default: the summary's).
        reference_weights: Weights of the reference rows (default: the summary's row weights,
            or ones when a reference is given).

    Returns:
        The proxies, one row per customer in summary order.

    Raises:
        InvalidInputError: When only one of the two references is given, or the weights do
            not match the reference length.
    """
    tenure = summary.T.astype(np.float64)
    rate = _repeat_rate(summary)
    if (reference_tenure is None) != (reference_repeat_rate is None):
        raise InvalidInputError(
            "Give both 'reference_tenure' and 'reference_repeat_rate', or neither."
        )
    if reference_tenure is None or reference_repeat_rate is None:
        ref_t, ref_r, ref_w = tenure, rate, summary.row_weights
    else:
        ref_t, ref_r = reference_tenure, reference_repeat_rate
        ref_w = np.ones(ref_t.size) if reference_weights is None else reference_weights
        if not (ref_t.size == ref_r.size == ref_w.size):
            raise InvalidInputError(
                "The reference arrays must have equal length; got "
                f"{ref_t.size}, {ref_r.size} and {ref_w.size}."
            )
    continuity = _ratio(summary.recency, summary.T)
    return SummaryProxies(
        tenure=tenure,
        repeat_rate=rate,
        tenure_percentile=weighted_percentile(ref_t, ref_w, tenure),
        repeat_rate_percentile=weighted_percentile(ref_r, ref_w, rate),
        purchase_continuity=continuity,
    )


def mean_of_available(matrix: FloatArray) -> tuple[FloatArray, IntArray]:
    """Row means over the non-NaN entries, and how many entries each mean used.

    Rows with no entry get NaN (nothing invented) and a count of 0.
    """
    present = ~np.isnan(matrix)
    count = present.sum(axis=1)
    total = np.where(present, matrix, 0.0).sum(axis=1)
    return _ratio(total, count.astype(np.float64)), count.astype(np.int64)


def behavioural_trust_index(proxies: TouchpointProxies) -> tuple[FloatArray, IntArray]:
    """Behavioural trust index (0-100) per counterpart, and how many proxies it averages.

    The index is $100$ times the mean of the trust proxies the counterpart has (NaN and a count
    of 0 when it has none), so stakeholders without purchases can be scored from touchpoints
    alone.

    Args:
        proxies: Output of [`touchpoint_proxies`][relmark.trust.proxies.touchpoint_proxies].

    Returns:
        ``(index, count)`` in the order of ``proxies.counterpart_id``.
    """
    mean, count = mean_of_available(proxies.matrix())
    return 100.0 * mean, count
