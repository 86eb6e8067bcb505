r"""The response-tracking report: what each arm did, and what the contact added, with intervals.

[`response_report`][relmark.program.tracking.response_report] reads a campaign's responses from
the transaction log and, optionally, touchpoints: a customer *responded* when they made at least
one purchase (a row that is not a return) in the response window ``[start, start + window)``, or
have a touchpoint there of a response kind (default: purchase) that carries this campaign's id or
none. Their *revenue* is the net amount of all their rows in the window (returns subtract) and
their *margin* is revenue × the margin rate. Per state × action and arm it reports contacts, responders, the response rate, and
revenue and margin per customer; per state × action (and pooled over states, state ``"*"``) the
effect of the contact, treated minus control:

- **Response rate**: Wilson's score interval, Wilson (1927), "Probable inference, the law of
  succession, and statistical inference", *JASA* 22(158), 209–212:
  $\frac{\hat p + z^2/2n}{1 + z^2/n} \pm \frac{z}{1 + z^2/n}\sqrt{\hat p(1-\hat p)/n + z^2/4n^2}$.
- **Incremental response** $\hat p_T - \hat p_C$: Newcombe's hybrid score interval (method 10 of
  Newcombe 1998, "Interval estimation for the difference between independent proportions",
  *Statistics in Medicine* 17(8), 873–890): with Wilson limits $(l_T, u_T)$, $(l_C, u_C)$,
  $L = d - \sqrt{(\hat p_T - l_T)^2 + (u_C - \hat p_C)^2}$ and
  $U = d + \sqrt{(u_T - \hat p_T)^2 + (\hat p_C - l_C)^2}$.
- **Incremental revenue per customer** $\bar x_T - \bar x_C$: Welch's interval (Welch 1947,
  *Biometrika* 34(1/2), 28–35) — standard error $\sqrt{s_T^2/n_T + s_C^2/n_C}$, Student $t$
  with Welch–Satterthwaite degrees of freedom. Revenue per customer is zero for most customers
  and skewed for the rest; the interval relies on the central limit theorem and needs a few
  dozen responders per arm to be trusted.
- **ROI** $= (\text{margin} \times \Delta\bar x \times n_T - \text{cost})/\text{cost}$, the
  incremental margin earned by the treated customers per unit of contact cost, with the interval
  carried over from the revenue interval (the map is linear).
- **Qini** (Radcliffe 2007, "Using control groups to target on predicted lift", *Direct Marketing
  Analytics Journal* 1, 14–21): contacts of one action sorted by the selection score, highest
  first; at each distinct score the curve is $Q = R_T - R_C\, N_T / N_C$ (responders and counts
  in each arm among those above the cut), against the number of customers above the cut. The
  Qini coefficient is the area between this curve and the straight line from $(0, 0)$ to its
  end (trapezoids): positive when the score ranked higher-uplift customers first.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from relmark._validation import row_index
from relmark.data import TransactionLog
from relmark.domain import Touchpoint, TouchpointKind
from relmark.errors import InvalidInputError
from relmark.program.campaigns import Arm, Campaign
from relmark.program.learning import CONTROL, Evidence
from relmark.typing import FloatArray

__all__ = [
    "ArmRow",
    "EffectRow",
    "QiniRow",
    "ResponseReport",
    "newcombe_interval",
    "plot_uplift",
    "qini_coefficient",
    "qini_curve",
    "response_report",
    "welch_interval",
    "wilson_interval",
]

ALL_STATES = "*"


def _z(confidence: float) -> float:
    if not 0.0 < confidence < 1.0:
        raise InvalidInputError(
            f"The 'confidence' parameter must be in (0, 1). Got {confidence!r}."
        )
    return float(special.ndtri(0.5 + confidence / 2.0))


def wilson_interval(
    responders: ArrayLike, contacts: ArrayLike, *, confidence: float = 0.95
) -> tuple[FloatArray, FloatArray]:
    """Wilson's score interval for a proportion (vectorized); ``(nan, nan)`` where contacts = 0.

    Examples:
        >>> low, high = wilson_interval(5, 50)
        >>> round(float(low), 4), round(float(high), 4)
        (0.0435, 0.2136)
    """
    z = _z(confidence)
    y = np.asarray(responders, dtype=np.float64)
    n = np.asarray(contacts, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = y / n
        denominator = 1.0 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denominator
        half = z / denominator * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    low: FloatArray = np.where(n > 0, np.clip(centre - half, 0.0, 1.0), np.nan)
    high: FloatArray = np.where(n > 0, np.clip(centre + half, 0.0, 1.0), np.nan)
    return low, high


def newcombe_interval(
    responders_1: ArrayLike,
    contacts_1: ArrayLike,
    responders_2: ArrayLike,
    contacts_2: ArrayLike,
    *,
    confidence: float = 0.95,
) -> tuple[FloatArray, FloatArray]:
    """Newcombe's hybrid score interval for $p_1 - p_2$ (vectorized).

    Examples:
        >>> low, high = newcombe_interval(30, 100, 20, 100)
        >>> round(float(low), 4), round(float(high), 4)
        (-0.0202, 0.2167)
    """
    y1, n1, y2, n2 = (
        np.asarray(v, dtype=np.float64)
        for v in (responders_1, contacts_1, responders_2, contacts_2)
    )
    l1, u1 = wilson_interval(y1, n1, confidence=confidence)
    l2, u2 = wilson_interval(y2, n2, confidence=confidence)
    with np.errstate(invalid="ignore", divide="ignore"):
        p1, p2 = y1 / n1, y2 / n2
    d = p1 - p2
    low: FloatArray = d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high: FloatArray = d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return low, high


def welch_interval(
    treated: ArrayLike, control: ArrayLike, *, confidence: float = 0.95
) -> tuple[float, float, float]:
    """Difference of means with Welch's interval.

    Args:
        treated: Values of the first group.
        control: Values of the second group.
        confidence: Confidence level.

    Returns:
        ``(difference, low, high)``; the bounds are NaN when a group has fewer than two values,
        and equal the difference when both groups are constant.

    Examples:
        >>> d, low, high = welch_interval([1.0, 2.0, 3.0, 4.0], [0.0, 1.0, 2.0])
        >>> d, round(low, 3), round(high, 3)
        (1.5, -0.732, 3.732)
    """
    _z(confidence)
    x = np.asarray(treated, dtype=np.float64)
    w = np.asarray(control, dtype=np.float64)
    if x.size == 0 or w.size == 0:
        return float("nan"), float("nan"), float("nan")
    diff = float(x.mean() - w.mean())
    if x.size < 2 or w.size < 2:
        return diff, float("nan"), float("nan")
    vx, vw = float(x.var(ddof=1)) / x.size, float(w.var(ddof=1)) / w.size
    se2 = vx + vw
    if se2 == 0.0:
        return diff, diff, diff
    df = se2**2 / (vx**2 / (x.size - 1) + vw**2 / (w.size - 1))
    t = float(special.stdtrit(df, 0.5 + confidence / 2.0))
    half = t * float(np.sqrt(se2))
    return diff, diff - half, diff + half


def qini_curve(
    score: ArrayLike, responded: ArrayLike, treated: ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Qini curve points ``(customers above the cut, Q)``, starting at ``(0, 0)``.

    Cuts are placed after each distinct score (ties are never split).

    Examples:
        >>> x, q = qini_curve([3, 2, 1, 0], [1, 0, 1, 0], [1, 0, 1, 0])
        >>> x.tolist(), q.tolist()
        ([0.0, 1.0, 2.0, 3.0, 4.0], [0.0, 1.0, 1.0, 2.0, 2.0])
    """
    s = np.asarray(score, dtype=np.float64)
    y = np.asarray(responded, dtype=np.bool_)
    t = np.asarray(treated, dtype=np.bool_)
    if not (s.shape == y.shape == t.shape) or s.ndim != 1:
        raise InvalidInputError("'score', 'responded' and 'treated' must be 1-d of one length.")
    order = np.argsort(-s, kind="stable")
    s, y, t = s[order], y[order], t[order]
    cut = np.r_[np.flatnonzero(s[1:] != s[:-1]), s.size - 1] if s.size else np.zeros(0, int)
    n_t = np.cumsum(t)[cut].astype(np.float64)
    n_c = np.cumsum(~t)[cut].astype(np.float64)
    r_t = np.cumsum(y & t)[cut].astype(np.float64)
    r_c = np.cumsum(y & ~t)[cut].astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        q = r_t - np.where(n_c > 0, r_c * n_t / n_c, 0.0)
    x: FloatArray = np.r_[0.0, (cut + 1).astype(np.float64)]
    curve: FloatArray = np.r_[0.0, q]
    return x, curve


def qini_coefficient(score: ArrayLike, responded: ArrayLike, treated: ArrayLike) -> float:
    """Area between the Qini curve and the random-targeting line (see the module docs).

    Examples:
        >>> qini_coefficient([3, 2, 1, 0], [1, 0, 1, 0], [1, 0, 1, 0])
        1.0
    """
    x, q = qini_curve(score, responded, treated)
    if x.size < 2:
        return 0.0
    area = float(np.sum((q[1:] + q[:-1]) / 2.0 * np.diff(x)))
    return area - float(q[-1] * x[-1] / 2.0)


def _same(a: float, b: float) -> bool:
    # NaN (an empty arm) equals NaN, so a report read back compares equal to the one written.
    return a == b or (math.isnan(a) and math.isnan(b))


def _number() -> Any:
    return attrs.field(eq=attrs.cmp_using(eq=_same))


@attrs.frozen(kw_only=True)
class ArmRow:
    """One state × action × arm of a report.

    Attributes:
        state: State value, or ``"*"`` for all states.
        action: Action name.
        arm: ``"treatment"`` or ``"control"``.
        contacts: Customers in the arm.
        responders: Of those, how many responded.
        response_rate: ``responders / contacts`` (NaN when empty).
        rate_low: Lower Wilson bound.
        rate_high: Upper Wilson bound.
        revenue_per_customer: Mean net revenue in the window.
        margin_per_customer: Mean margin in the window.
    """

    state: str
    action: str
    arm: Arm
    contacts: int
    responders: int
    response_rate: float = _number()
    rate_low: float = _number()
    rate_high: float = _number()
    revenue_per_customer: float = _number()
    margin_per_customer: float = _number()


@attrs.frozen(kw_only=True)
class EffectRow:
    """The effect of one action in one state (or all states, ``"*"``): treated minus control.

    Attributes:
        state: State value or ``"*"``.
        action: Action name.
        treated: Treated customers.
        control: Control customers.
        uplift: Incremental response rate.
        uplift_low: Lower Newcombe bound.
        uplift_high: Upper Newcombe bound.
        incremental_revenue: Incremental revenue per treated customer.
        revenue_low: Lower Welch bound.
        revenue_high: Upper Welch bound.
        incremental_margin: Incremental margin earned by all treated customers.
        cost: Contact cost of the treated customers.
        roi: ``(incremental_margin - cost) / cost``.
        roi_low: ROI at the lower revenue bound.
        roi_high: ROI at the upper revenue bound.
    """

    state: str
    action: str
    treated: int
    control: int
    uplift: float = _number()
    uplift_low: float = _number()
    uplift_high: float = _number()
    incremental_revenue: float = _number()
    revenue_low: float = _number()
    revenue_high: float = _number()
    incremental_margin: float = _number()
    cost: float = _number()
    roi: float = _number()
    roi_low: float = _number()
    roi_high: float = _number()


@attrs.frozen(kw_only=True)
class QiniRow:
    """The Qini coefficient of one action's selection score.

    Attributes:
        action: Action name.
        coefficient: Area between the Qini curve and the random line (responders × customers).
        customers: Customers the curve runs over.
    """

    action: str
    coefficient: float = _number()
    customers: int


def _to_tuple(value: Any) -> tuple[Any, ...]:
    return tuple(value)


_EFFECT_COLUMNS = tuple(f.name for f in attrs.fields(EffectRow))
_ARM_COLUMNS = tuple(f.name for f in attrs.fields(ArmRow))


@attrs.frozen(kw_only=True)
class ResponseReport:
    """A campaign's response-tracking report (plain records: `relmark.io` persists it).

    Attributes:
        campaign_id: The campaign.
        confidence: Confidence level of every interval.
        margin: Margin rate applied to revenue.
        arms: Per state × action × arm, then pooled over states (``"*"``).
        effects: Per state × action, then pooled over states.
        qini: Per action.
        evidence: Counts for [`ResponseBeliefs.with_evidence`][relmark.program.learning.ResponseBeliefs.with_evidence]:
            treated per state × action, control per state (distinct customers).
    """

    campaign_id: str
    confidence: float
    margin: float
    arms: tuple[ArmRow, ...] = attrs.field(converter=_to_tuple)
    effects: tuple[EffectRow, ...] = attrs.field(converter=_to_tuple)
    qini: tuple[QiniRow, ...] = attrs.field(converter=_to_tuple)
    evidence: tuple[Evidence, ...] = attrs.field(converter=_to_tuple)

    def effect(self, action: str, state: str = ALL_STATES) -> EffectRow:
        """The effect row of ``action`` in ``state`` (``"*"``: all states).

        Raises:
            InvalidInputError: When the report has no such row.
        """
        for row in self.effects:
            if row.action == action and row.state == state:
                return row
        raise InvalidInputError(
            f"No effect row for action {action!r} in state {state!r} in report "
            f"{self.campaign_id!r}."
        )

    def columns(self, table: str = "effects") -> dict[str, NDArray[Any]]:
        """One of the report's tables as named numpy columns (``"effects"`` or ``"arms"``).

        Raises:
            InvalidInputError: For another table name.
        """
        if table == "effects":
            rows: tuple[Any, ...] = self.effects
            names = _EFFECT_COLUMNS
        elif table == "arms":
            rows, names = self.arms, _ARM_COLUMNS
        else:
            raise InvalidInputError(
                f"The 'table' parameter must be 'effects' or 'arms'. Got {table!r}."
            )
        out: dict[str, NDArray[Any]] = {}
        for name in names:
            values = [getattr(r, name) for r in rows]
            values = [v.value if isinstance(v, Arm) else v for v in values]
            out[name] = np.asarray(values) if values else np.zeros(0)
        return out

    def to_frame(self, table: str = "effects", backend: str | None = None) -> Any:
        """One of the report's tables as a frame (``"pandas"``, ``"polars"`` or ``"pyarrow"``)."""
        from relmark._display import frame_backend
        from relmark._frames import to_native_frame

        return to_native_frame(self.columns(table), frame_backend(backend))


def _window(campaign: Campaign, log: TransactionLog) -> tuple[np.datetime64, np.datetime64]:
    def wall(moment: datetime) -> np.datetime64:
        if log.timezone is not None:
            from zoneinfo import ZoneInfo

            moment = moment.astimezone(ZoneInfo(log.timezone))
        return np.datetime64(moment.replace(tzinfo=None), "us")

    return wall(campaign.start), wall(campaign.end)


def _responses(
    campaign: Campaign, log: TransactionLog, customers: NDArray[np.str_]
) -> tuple[NDArray[np.bool_], FloatArray]:
    start, end = _window(campaign, log)
    inside = (log.time >= start) & (log.time < end)
    ids = log.customer_id[inside].astype(np.str_)
    position = row_index(customers, ids)
    found = position >= 0
    purchase = np.ones(ids.size, dtype=np.bool_)
    if log.is_return is not None:
        purchase = ~log.is_return[inside]
    responded = np.zeros(customers.size, dtype=np.bool_)
    responded[position[found & purchase]] = True
    revenue = np.zeros(customers.size)
    if log.amount is None:
        revenue[:] = np.nan
    else:
        np.add.at(revenue, position[found], log.amount[inside][found])
    return responded, revenue


def _arm_row(
    state: str,
    action: str,
    arm: Arm,
    hit: NDArray[np.bool_],
    money: FloatArray,
    margin: float,
    confidence: float,
) -> ArmRow:
    n, y = int(hit.size), int(hit.sum())
    low, high = wilson_interval(y, n, confidence=confidence)
    revenue = float(money.mean()) if n else float("nan")
    return ArmRow(
        state=state,
        action=action,
        arm=arm,
        contacts=n,
        responders=y,
        response_rate=y / n if n else float("nan"),
        rate_low=float(low),
        rate_high=float(high),
        revenue_per_customer=revenue,
        margin_per_customer=revenue * margin,
    )


def _effect_row(
    state: str,
    action: str,
    treated: tuple[NDArray[np.bool_], FloatArray],
    control: tuple[NDArray[np.bool_], FloatArray],
    cost: float,
    margin: float,
    confidence: float,
) -> EffectRow:
    (hit_t, money_t), (hit_c, money_c) = treated, control
    n_t, n_c = hit_t.size, hit_c.size
    y_t, y_c = int(hit_t.sum()), int(hit_c.sum())
    low, high = newcombe_interval(y_t, n_t, y_c, n_c, confidence=confidence)
    diff, r_low, r_high = welch_interval(money_t, money_c, confidence=confidence)
    total_cost = cost * n_t

    def roi(per_customer: float) -> float:
        return (
            (margin * per_customer * n_t - total_cost) / total_cost if total_cost else float("nan")
        )

    with np.errstate(invalid="ignore"):
        uplift = y_t / n_t - y_c / n_c if n_t and n_c else float("nan")
    return EffectRow(
        state=state,
        action=action,
        treated=int(n_t),
        control=int(n_c),
        uplift=float(uplift),
        uplift_low=float(low),
        uplift_high=float(high),
        incremental_revenue=diff,
        revenue_low=r_low,
        revenue_high=r_high,
        incremental_margin=margin * diff * n_t,
        cost=total_cost,
        roi=roi(diff),
        roi_low=roi(r_low),
        roi_high=roi(r_high),
    )


def _touchpoint_responders(
    campaign: Campaign,
    touchpoints: Iterable[Touchpoint],
    kinds: frozenset[TouchpointKind],
    customers: NDArray[np.str_],
) -> NDArray[np.bool_]:
    """Customers with a response touchpoint of this campaign (or of none) in the window."""
    wanted = set(customers.tolist())
    hit: set[str] = set()
    for i, t in enumerate(touchpoints):
        if not isinstance(t, Touchpoint):
            raise InvalidInputError(
                f"The 'touchpoints' must be Touchpoint records; got {type(t).__name__} at "
                f"position {i}."
            )
        if (
            t.customer_id in wanted
            and t.kind in kinds
            and t.campaign_id in (None, campaign.campaign_id)
            and campaign.start <= t.at < campaign.end
        ):
            hit.add(str(t.customer_id))
    return np.isin(customers, sorted(hit))


def response_report(
    campaign: Campaign,
    log: TransactionLog,
    *,
    touchpoints: Iterable[Touchpoint] = (),
    response_kinds: Iterable[TouchpointKind] = (TouchpointKind.PURCHASE,),
    margin: float = 1.0,
    confidence: float = 0.95,
) -> ResponseReport:
    """Read a campaign's responses from the transaction log and touchpoints; compare the arms.

    Args:
        campaign: The campaign (its contacts, arms, window and action costs).
        log: Transactions; naive times are read as wall-clock times in the zone of
            ``campaign.start``, zoned ones are compared in the log's zone.
        touchpoints: Touchpoint records; a contacted or held-out customer with a touchpoint of
            a kind in ``response_kinds`` inside the window, carrying this campaign's id or none,
            responded too (touchpoints carry no amount, so revenue comes from ``log`` only).
        response_kinds: Touchpoint kinds that count as a response (default: purchases).
        margin: Margin rate, the share of revenue that is profit, in (0, 1].
        confidence: Confidence level of the intervals, in (0, 1).

    Returns:
        The report (see the module docs for every statistic).

    Raises:
        InvalidInputError: For a bad margin or confidence.
    """
    _z(confidence)
    if not 0.0 < margin <= 1.0:
        raise InvalidInputError(f"The 'margin' parameter must be in (0, 1]. Got {margin!r}.")
    contacts = campaign.contacts
    customers = np.unique(np.array([c.customer_id for c in contacts], dtype=np.str_))
    responded, revenue = _responses(campaign, log, customers)
    responded |= _touchpoint_responders(campaign, touchpoints, frozenset(response_kinds), customers)
    index = np.searchsorted(customers, np.array([c.customer_id for c in contacts], dtype=np.str_))
    state = np.array([c.state for c in contacts], dtype=np.str_)
    action = np.array([c.action for c in contacts], dtype=np.str_)
    treated = np.array([c.arm is Arm.TREATMENT for c in contacts], dtype=np.bool_)
    score = np.array([c.score for c in contacts], dtype=np.float64)
    cost = {a.name: a.cost for a in campaign.actions}
    arms: list[ArmRow] = []
    effects: list[EffectRow] = []
    qini: list[QiniRow] = []
    evidence: list[Evidence] = []
    for name in sorted(set(action.tolist())):
        in_action = action == name
        for s in [*sorted(set(state[in_action].tolist())), ALL_STATES]:
            rows = in_action & (state == s) if s != ALL_STATES else in_action
            groups: dict[Arm, tuple[NDArray[np.bool_], FloatArray]] = {}
            for arm, mask in ((Arm.TREATMENT, rows & treated), (Arm.CONTROL, rows & ~treated)):
                groups[arm] = (responded[index[mask]], revenue[index[mask]])
                arms.append(_arm_row(s, name, arm, *groups[arm], margin, confidence))
            effects.append(
                _effect_row(
                    s,
                    name,
                    groups[Arm.TREATMENT],
                    groups[Arm.CONTROL],
                    cost[name],
                    margin,
                    confidence,
                )
            )
            if s != ALL_STATES:
                hits = groups[Arm.TREATMENT][0]
                evidence.append(
                    Evidence(
                        state=s, action=name, contacts=int(hits.size), responders=int(hits.sum())
                    )
                )
        qini.append(
            QiniRow(
                action=name,
                coefficient=qini_coefficient(
                    score[in_action], responded[index[in_action]], treated[in_action]
                ),
                customers=int(in_action.sum()),
            )
        )
    # A control customer planned for several actions counts once for their state.
    control_index, first = np.unique(index[~treated], return_index=True)
    control_state = state[~treated][first]
    for s in sorted(set(control_state.tolist())):
        members = control_index[control_state == s]
        evidence.append(
            Evidence(
                state=s,
                action=CONTROL,
                contacts=int(members.size),
                responders=int(responded[members].sum()),
            )
        )
    return ResponseReport(
        campaign_id=campaign.campaign_id,
        confidence=float(confidence),
        margin=float(margin),
        arms=arms,
        effects=effects,
        qini=qini,
        evidence=evidence,
    )


def plot_uplift(report: ResponseReport, action: str, *, ax: Any = None) -> Any:
    """Plot one action's incremental response per state with its Newcombe interval.

    Needs matplotlib (the ``relmark[plot]`` extra), imported only here.

    Args:
        report: The report.
        action: The action to show.
        ax: Matplotlib axes to draw on; a new figure when ``None``.

    Returns:
        The axes.

    Raises:
        InvalidInputError: When the report has no rows for ``action``.
        MissingDependencyError: When matplotlib is not installed.
    """
    from relmark.errors import require

    require("matplotlib", "plot")
    import matplotlib.pyplot as plt

    rows = [r for r in report.effects if r.action == action]
    if not rows:
        raise InvalidInputError(
            f"Report {report.campaign_id!r} has no rows for action {action!r}; it has "
            f"{sorted({r.action for r in report.effects})}."
        )
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.45 * len(rows) + 1.5))
    y = np.arange(len(rows))
    uplift = np.array([r.uplift for r in rows])
    low = np.array([r.uplift_low for r in rows])
    high = np.array([r.uplift_high for r in rows])
    ax.errorbar(uplift, y, xerr=[uplift - low, high - uplift], fmt="o", capsize=3)
    ax.axvline(0.0, color="grey", linewidth=0.8)
    ax.set_yticks(y, [r.state if r.state != ALL_STATES else "all states" for r in rows])
    ax.set_xlabel(f"incremental response rate ({report.confidence:.0%} Newcombe interval)")
    ax.set_title(f"{report.campaign_id}: {action}")
    return ax
