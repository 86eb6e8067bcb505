r"""Target selection under a budget: who gets which action, and why.

For customer $i$ and candidate action $j$ the **expected incremental value** is

$$v_{ij} = u_{ij}\,V_i - c_j,$$

with $u_{ij}$ the incremental response probability (treated minus control rate, from
[`ResponseBeliefs`][relmark.program.learning.ResponseBeliefs]), $V_i$ the value at stake (what a
response is worth: the customer's CLV, CLV at risk, or the margin of the purchase the action
brings) and $c_j$ the cost per contact. [`plan_contacts`][relmark.program.selection.plan_contacts]
chooses binary $x_{ij}$ to maximise $\sum v_{ij} x_{ij}$ subject to $\sum c_j x_{ij} \le B$ (the
budget) and $\sum_j x_{ij} \le k$ (contacts per customer). Only candidates the playbook proposes
and with $v_{ij} > 0$ are considered: a contact expected to lose money is never worth making.

Two methods:

- ``"greedy"`` (default), with an exactness argument. With one contact per customer ($k = 1$,
  a multiple-choice knapsack) each customer's candidates are reduced to the upper convex hull of
  their (cost, value) points — dominated actions, costlier but not better, drop out — and the
  hull's segments become *upgrades* with decreasing value per unit cost (Sinha & Zoltners 1979,
  "The multiple-choice knapsack problem", *Operations Research* 27(3), 503–515). Upgrades are
  taken by decreasing value density; one that does not fit the budget is skipped, and the
  customer keeps the action reached so far. The linear relaxation takes the same upgrades in
  the same order and splits at most one, so greedy falls short of the optimum by less than the
  value of one upgrade. With $k > 1$, candidates are taken by decreasing density, skipping any
  that break the budget or a limit (Dantzig's 1957 fractional-knapsack order; exact up to one
  split item when the limit does not bind). Either way the plan reports ``upper_bound``, the
  optimum of the linear relaxation (HiGHS via `scipy.optimize.linprog`): no plan can exceed it,
  so ``upper_bound - expected_total`` bounds what greediness may have cost.
- ``"exact"``: the integer programme solved by HiGHS branch and bound (`scipy.optimize.milp`).
  Use it for small lists (thousands of candidates); its run time grows quickly with size.
"""

from __future__ import annotations

import itertools
from typing import Any, Literal

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray

from relmark.errors import InvalidInputError
from relmark.program.actions import CustomerStates, Playbook
from relmark.program.learning import ResponseBeliefs
from relmark.typing import FloatArray, IntArray

__all__ = ["ContactPlan", "plan_contacts", "select_contacts"]

_TOL = 1e-9


@attrs.frozen(kw_only=True, eq=False)
class ContactPlan:
    """The chosen contacts, one row per customer × action, in order of choice.

    Attributes:
        customer_id: Customer of each contact.
        state: The customer's state value (of the beliefs' ``by`` dimension).
        action: Action name.
        uplift: Incremental response probability used.
        value_at_stake: The customer's value at stake.
        cost: Cost of the contact.
        expected_value: Expected incremental value $u V - c$.
        reason: Why this contact was chosen, for people.
        budget: The budget.
        spent: Total cost of the plan (never above ``budget``).
        upper_bound: Optimum of the linear relaxation: no plan can exceed it.
        method: ``"greedy"`` or ``"exact"``.
    """

    customer_id: NDArray[np.str_]
    state: NDArray[np.str_]
    action: NDArray[np.str_]
    uplift: FloatArray
    value_at_stake: FloatArray
    cost: FloatArray
    expected_value: FloatArray
    reason: NDArray[np.str_]
    budget: float
    spent: float
    upper_bound: float
    method: str

    def __len__(self) -> int:
        """Number of contacts."""
        return int(self.customer_id.size)

    @property
    def expected_total(self) -> float:
        """Sum of the contacts' expected incremental value."""
        return float(self.expected_value.sum())

    def to_frame(self, backend: str | None = None) -> Any:
        """The contact list as a frame (``"pandas"``, ``"polars"`` or ``"pyarrow"``; default: installed)."""
        from relmark._display import frame_backend
        from relmark._frames import to_native_frame

        return to_native_frame(
            {
                "customer_id": self.customer_id,
                "state": self.state,
                "action": self.action,
                "uplift": self.uplift,
                "value_at_stake": self.value_at_stake,
                "cost": self.cost,
                "expected_value": self.expected_value,
                "reason": self.reason,
            },
            frame_backend(backend),
        )


def select_contacts(
    value: ArrayLike,
    cost: ArrayLike,
    customer: ArrayLike,
    *,
    budget: float,
    max_contacts_per_customer: int = 1,
    method: Literal["greedy", "exact"] = "greedy",
) -> tuple[IntArray, float]:
    """Solve the budgeted selection on flat candidate arrays.

    Args:
        value: Expected incremental value of each candidate (only positive values are taken).
        cost: Cost of each candidate, > 0.
        customer: Integer customer code of each candidate (for the contact limit).
        budget: Total budget, >= 0.
        max_contacts_per_customer: Contacts per customer, >= 1.
        method: ``"greedy"`` or ``"exact"``.

    Returns:
        Indices of the chosen candidates (greedy: in order of choice), and the optimum of the
        linear relaxation.

    Raises:
        InvalidInputError: For mismatched lengths, non-positive costs, a negative budget or a bad
            limit or method.

    Examples:
        >>> chosen, bound = select_contacts([5.0, 4.0, 3.0], [2.0, 1.0, 1.0], [0, 1, 2], budget=2)
        >>> chosen.tolist(), bound
        ([1, 2], 7.0)
    """
    v = np.asarray(value, dtype=np.float64)
    c = np.asarray(cost, dtype=np.float64)
    who = np.asarray(customer, dtype=np.int64)
    if not (v.shape == c.shape == who.shape) or v.ndim != 1:
        raise InvalidInputError(
            f"'value', 'cost' and 'customer' must be 1-d of one length; got shapes {v.shape}, "
            f"{c.shape}, {who.shape}."
        )
    if not np.isfinite(v).all() or not (np.isfinite(c) & (c > 0)).all():
        raise InvalidInputError(
            "'value' must be finite and 'cost' finite and > 0 for every candidate."
        )
    if not np.isfinite(budget) or budget < 0:
        raise InvalidInputError(
            f"The 'budget' parameter must be a finite number >= 0. Got {budget!r}."
        )
    limit: object = max_contacts_per_customer
    if isinstance(limit, bool) or not isinstance(limit, int | np.integer) or limit < 1:
        raise InvalidInputError(
            f"The 'max_contacts_per_customer' parameter must be an int >= 1. Got {limit!r}."
        )
    if method not in ("greedy", "exact"):
        raise InvalidInputError(
            f"The 'method' parameter must be 'greedy' or 'exact'. Got {method!r}."
        )
    positive = np.flatnonzero(v > 0)
    if positive.size == 0:
        return np.zeros(0, dtype=np.int64), 0.0
    bound = _relaxation(v[positive], c[positive], who[positive], float(budget), int(limit))
    if method == "exact":
        picked = _exact(v[positive], c[positive], who[positive], float(budget), int(limit))
    elif limit == 1:
        picked = _greedy_upgrades(v[positive], c[positive], who[positive], float(budget))
    else:
        picked = _greedy(v[positive], c[positive], who[positive], float(budget), int(limit))
    chosen: IntArray = positive[picked]
    return chosen, bound


def _greedy(v: FloatArray, c: FloatArray, who: IntArray, budget: float, limit: int) -> IntArray:
    # Stable order: density, then value, then position, so equal inputs give equal plans.
    order = np.lexsort((np.arange(v.size), -v, -(v / c)))
    used = np.zeros(int(who.max()) + 1, dtype=np.int64)
    spent = 0.0
    picked: list[int] = []
    for index in order:
        if used[who[index]] >= limit or spent + c[index] > budget * (1 + _TOL):
            continue
        picked.append(int(index))
        used[who[index]] += 1
        spent += float(c[index])
    return np.array(picked, dtype=np.int64)


def _hull(options: IntArray, v: FloatArray, c: FloatArray) -> list[int]:
    """Indices of one customer's upper convex hull of (cost, value), from (0, 0), cheapest first."""
    ordered = options[np.lexsort((-v[options], c[options]))]
    hull: list[int] = []
    for k in ordered:
        if hull and v[k] <= v[hull[-1]]:
            continue  # dominated: costs at least as much for no more value
        while hull:
            last = hull[-1]
            c0, v0 = (c[hull[-2]], v[hull[-2]]) if len(hull) > 1 else (0.0, 0.0)
            # Drop `last` when it lies on or below the segment from the previous point to `k`.
            if (v[last] - v0) * (c[k] - c0) <= (v[k] - v0) * (c[last] - c0):
                hull.pop()
            else:
                break
        hull.append(int(k))
    return hull


def _greedy_upgrades(v: FloatArray, c: FloatArray, who: IntArray, budget: float) -> IntArray:
    order = np.argsort(who, kind="stable")
    bounds = np.flatnonzero(np.r_[True, who[order][1:] != who[order][:-1], True])
    step_item: list[int] = []
    step_customer: list[int] = []
    step_cost: list[float] = []
    step_value: list[float] = []
    step_rank: list[int] = []
    for customer, (lo, hi) in enumerate(itertools.pairwise(bounds)):
        previous_c, previous_v = 0.0, 0.0
        for rank, k in enumerate(_hull(order[lo:hi], v, c)):
            step_item.append(k)
            step_customer.append(customer)
            step_cost.append(float(c[k]) - previous_c)
            step_value.append(float(v[k]) - previous_v)
            step_rank.append(rank)
            previous_c, previous_v = float(c[k]), float(v[k])
    dc, dv = np.array(step_cost), np.array(step_value)
    # Slopes fall along each hull, so density order takes a customer's upgrades in hull order;
    # the rank tie-break keeps that true when slopes are equal.
    steps = np.lexsort((np.array(step_rank), -(dv / dc)))
    current = np.full(bounds.size - 1, -1, dtype=np.int64)
    next_rank = np.zeros(bounds.size - 1, dtype=np.int64)
    blocked = np.zeros(bounds.size - 1, dtype=np.bool_)
    spent = 0.0
    for step in steps:
        customer = step_customer[step]
        if blocked[customer] or step_rank[step] != next_rank[customer]:
            continue
        if spent + dc[step] > budget * (1 + _TOL):
            blocked[customer] = True  # later upgrades of this customer cost even more
            continue
        spent += float(dc[step])
        current[customer] = step_item[step]
        next_rank[customer] += 1
    chosen = current[current >= 0]
    ordered: IntArray = chosen[np.lexsort((chosen, -(v[chosen] / c[chosen])))]
    return ordered


def _constraints(c: FloatArray, who: IntArray, budget: float, limit: int) -> Any:
    from scipy import sparse

    codes, inverse = np.unique(who, return_inverse=True)
    per_customer = sparse.csr_array(
        (np.ones(who.size), (inverse, np.arange(who.size))), shape=(codes.size, who.size)
    )
    matrix = sparse.vstack([sparse.csr_array(c[None, :]), per_customer]).tocsr()
    upper = np.concatenate([[budget], np.full(codes.size, float(limit))])
    return matrix, upper


def _relaxation(v: FloatArray, c: FloatArray, who: IntArray, budget: float, limit: int) -> float:
    from scipy.optimize import linprog

    matrix, upper = _constraints(c, who, budget, limit)
    result = linprog(-v, A_ub=matrix, b_ub=upper, bounds=(0, 1), method="highs")
    if result.status != 0 or result.fun is None:  # pragma: no cover - x = 0 is feasible
        raise InvalidInputError(f"The selection's linear relaxation failed: {result.message}")
    return -float(result.fun)


def _exact(v: FloatArray, c: FloatArray, who: IntArray, budget: float, limit: int) -> IntArray:
    from scipy.optimize import Bounds, LinearConstraint, milp

    matrix, upper = _constraints(c, who, budget, limit)
    result = milp(
        -v,
        constraints=LinearConstraint(matrix, -np.inf, upper),
        integrality=np.ones(v.size, dtype=np.int64),
        bounds=Bounds(0, 1),
    )
    if result.x is None:  # pragma: no cover - x = 0 is always feasible
        raise InvalidInputError(f"The exact selection failed: {result.message}")
    picked = np.flatnonzero(result.x > 0.5)
    # Integer solutions within solver tolerance may overshoot by rounding; keep the promise.
    if float(c[picked].sum()) > budget * (1 + _TOL):  # pragma: no cover - defensive
        picked = picked[np.argsort(-(v[picked] / c[picked]), kind="stable")]
        picked = picked[np.cumsum(c[picked]) <= budget * (1 + _TOL)]
    ordered: IntArray = picked[np.argsort(-(v[picked] / c[picked]), kind="stable")]
    return ordered


def plan_contacts(
    states: CustomerStates,
    playbook: Playbook,
    beliefs: ResponseBeliefs,
    value_at_stake: ArrayLike,
    *,
    budget: float,
    max_contacts_per_customer: int = 1,
    method: Literal["greedy", "exact"] = "greedy",
    thompson_seed: int | None = None,
) -> ContactPlan:
    """Choose the contact list with the largest expected incremental value within the budget.

    Args:
        states: Every customer's state (the playbook proposes actions from it).
        playbook: Actions and rules.
        beliefs: Response-rate beliefs; their ``by`` names the state column they are kept per.
        value_at_stake: Value of a response per customer (same order as ``states``), finite.
        budget: Total budget for contact costs, >= 0.
        max_contacts_per_customer: At most this many actions per customer.
        method: ``"greedy"`` (default) or ``"exact"`` (see the module docs).
        thompson_seed: When given, use one Thompson draw of the response rates (seeded) instead
            of their posterior means.

    Returns:
        The plan, contacts in order of choice, each with its reason.

    Raises:
        InvalidInputError: For a value at stake of the wrong length or not finite, or an action
            without a prior in ``beliefs``.
    """
    stake = np.asarray(value_at_stake, dtype=np.float64)
    if stake.shape != (len(states),) or not np.isfinite(stake).all():
        raise InvalidInputError(
            f"'value_at_stake' must hold one finite value per customer ({len(states)}); got shape "
            f"{stake.shape}{'' if stake.shape != (len(states),) else ' with non-finite values'}."
        )
    names = [a.name for a in playbook.actions]
    costs = np.array([a.cost for a in playbook.actions])
    state = states.column(beliefs.by)
    if thompson_seed is None:
        uplift = beliefs.uplift(state, names)
    else:
        uplift = beliefs.sample_uplift(state, names, rng=np.random.default_rng(thompson_seed))
    candidate = playbook.candidates(states)
    rows, cols = np.nonzero(candidate)
    u = uplift[rows, cols]
    v = u * stake[rows] - costs[cols]
    chosen, bound = select_contacts(
        v,
        costs[cols],
        rows,
        budget=budget,
        max_contacts_per_customer=max_contacts_per_customer,
        method=method,
    )
    offered = np.bincount(rows, minlength=len(states))
    r, j = rows[chosen], cols[chosen]
    source = "a Thompson draw" if thompson_seed is not None else "posterior means"
    reasons = [
        f"#{rank + 1} by value per unit cost ({v[k] / costs[b]:.2f}): "
        f"{u[k]:.4f} uplift ({source}, state {str(state[a])!r}) x {stake[a]:,.2f} at stake - "
        f"{costs[b]:,.2f} cost = {v[k]:,.2f}; {offered[a]} candidate action(s)"
        for rank, (k, a, b) in enumerate(zip(chosen, r, j, strict=True))
    ]
    return ContactPlan(
        customer_id=states.customer_id[r],
        state=state[r],
        action=np.asarray(names, dtype=np.str_)[j] if j.size else np.zeros(0, dtype=np.str_),
        uplift=u[chosen],
        value_at_stake=stake[r],
        cost=costs[j],
        expected_value=v[chosen],
        reason=np.asarray(reasons, dtype=np.str_),
        budget=float(budget),
        spent=float(costs[j].sum()),
        upper_bound=bound,
        method=method,
    )
