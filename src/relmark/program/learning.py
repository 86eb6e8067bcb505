r"""Response-rate beliefs per state × action, learned between cycles by empirical Bayes.

The selection needs, for each customer state $s$ and action $a$, the probability that a contacted
customer responds, $p_{sa}$, and the probability that an uncontacted one does, $p_{s0}$ (the
*control* rate, kept under the reserved action name ``"control"``); the incremental response is
their difference. [`ResponseBeliefs`][relmark.program.learning.ResponseBeliefs] holds the
user's prior rate per action and the evidence (contacts, responders) per state × action gathered
by earlier campaigns, and turns them into Beta distributions:

**Control rates.** The control rate of state $s$ gets the user's prior as
$\mathrm{Beta}(w r_0, w(1 - r_0))$ ($w$ = ``strength`` pseudo-customers) updated with the state's
held-out customers: $\mathrm{Beta}(w r_0 + y_{s0}, w(1 - r_0) + n_{s0} - y_{s0})$. Control rates
are deliberately *not* pooled across states: states differ in how often their customers buy
anyway by construction (Champions buy, Hibernating customers do not), and pulling an outlying
state's baseline towards the pool would bias its uplift by the same amount.

**Contacted rates: Beta-Binomial shrinkage towards the pooled uplift.** For action $a$, states with
$y_{sa}$ responders out of $n_{sa}$ contacts are modelled as $y_{sa} \sim \mathrm{Binomial}(n_{sa},
p_{sa})$, $p_{sa} \sim \mathrm{Beta}(m\mu_{sa}, m(1-\mu_{sa}))$, with prior mean the state's own
control rate plus the action's pooled uplift, $\mu_{sa} = E[p_{s0}] + \delta_a$, where

$$\delta_a = \frac{m\,(r_a - \bar r + \bar\delta) + \sum_s (y_{sa} - n_{sa} E[p_{s0}])}
{m + \sum_s n_{sa}}$$

updates a prior uplift with every state's responders in excess of its control rate. The prior
uplift keeps the user's difference between this action and the average action ($r_a - \bar r$,
$\bar r$ the mean prior rate of the actions) but is anchored at the overall uplift
$\bar\delta$, itself the user's average prior uplift $\bar r - r_0$ updated with the excess
responders of every action and state. So an action never tried starts where the tried ones turned
out to be, not at the user's first guess (which would make every untried action look better than
the disappointing tried ones), and an action tried on few customers is pulled towards the overall
uplift with the same prior sample size $m$ (below) that pulls a cell towards its action: one
measure of how far departures from the overall level are to be believed. Shrinking towards the pooled *rate* instead would lend a low-baseline state
the responses of high-baseline ones. The prior sample size $m$ (how alike the cells' uplifts are),
one for all actions because per-action estimates from a handful of states are erratic, is a
method-of-moments estimate over every observed state × action cell, in the spirit of Kleinman (1973), "Proportions with extraneous
variance: single and independent samples", *JASA* 68(341), 46–54: under the model,
$E[n_{sa}(\hat p_{sa} - \mu_{sa})^2] = v_{sa}\,[1 + \rho\,(n_{sa} - 1)]$ with $v_{sa} =
\mu_{sa}(1 - \mu_{sa})$ and $\rho = 1/(m + 1)$, so, summing over cells,

$$\hat\rho = \frac{\sum n_{sa}(\hat p_{sa} - \mu_{sa})^2 - \sum v_{sa}}{\sum v_{sa} (n_{sa} - 1)},$$

clipped to $[0, 1)$ ([`moment_rho`][relmark.program.learning.moment_rho]; $\hat\rho \le 0$ pools
completely). Moment estimates from few or tiny states are erratic (one contacted customer who
responded makes a state look certain), so $m$ is never taken below $w$: that is the least
shrinkage applied; with fewer than two observed cells $m = w$. The posterior is
$\mathrm{Beta}(m\mu_{sa} + y_{sa}, m(1 - \mu_{sa}) + n_{sa} - y_{sa})$: a state with little
evidence stays near its baseline plus the pooled uplift, one with much evidence follows its own
data, and a state never contacted with $a$ gets the prior.

**Thompson sampling** (Thompson 1933, *Biometrika* 25(3/4), 285–294): instead of the posterior
means, [`sample_uplift`][relmark.program.learning.ResponseBeliefs.sample_uplift] draws each
$p_{sa}$ and $p_{s0}$ from its posterior with a seeded generator, so actions whose value is
uncertain are tried in proportion to the probability that they are best.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray

from relmark.errors import InvalidInputError
from relmark.typing import FloatArray

__all__ = ["CONTROL", "ActionPrior", "Evidence", "ResponseBeliefs", "moment_rho"]

CONTROL = "control"
"""Reserved action name for customers who were not contacted (the control arm)."""

_MAX_STRENGTH = 1e9  # complete pooling: the prior mean outweighs any state's evidence
_EPS = 1e-9


def _strength(rho: float, floor: float) -> float:
    r"""Prior sample size $m = 1/\rho - 1$, never below ``floor`` (see the module docs)."""
    estimate = _MAX_STRENGTH if rho <= 0.0 else min(1.0 / rho - 1.0, _MAX_STRENGTH)
    return max(estimate, floor)


def _check_rate(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not 0.0 < value < 1.0:
        raise InvalidInputError(
            f"The {attribute.name!r} field of {type(instance).__name__} must be a probability "
            f"strictly between 0 and 1. Got {value!r}."
        )


def _check_positive(instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    if not np.isfinite(value) or value <= 0:
        raise InvalidInputError(
            f"The {attribute.name!r} field of {type(instance).__name__} must be a finite number "
            f"> 0. Got {value!r}."
        )


@attrs.frozen(kw_only=True)
class ActionPrior:
    """The user's prior response rate for one action (or ``"control"``).

    Attributes:
        action: Action name, or [`CONTROL`][relmark.program.learning.CONTROL].
        rate: Prior response rate, in (0, 1).
        strength: Weight of the prior, in pseudo-contacts (> 0).
    """

    action: str
    rate: float = attrs.field(converter=float, validator=_check_rate)
    strength: float = attrs.field(default=20.0, converter=float, validator=_check_positive)


def _check_count(instance: Evidence, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        raise InvalidInputError(
            f"The {attribute.name!r} field of Evidence ({instance.state!r}, {instance.action!r}) "
            f"must be an int >= 0. Got {value!r}."
        )


@attrs.frozen(kw_only=True)
class Evidence:
    """What campaigns observed for one state × action: contacts and responders.

    Attributes:
        state: The state value (of the beliefs' ``by`` dimension).
        action: Action name, or ``"control"``.
        contacts: Customers observed (treated, or held out for ``"control"``).
        responders: Of those, how many responded.
    """

    state: str
    action: str
    contacts: int = attrs.field(validator=_check_count)
    responders: int = attrs.field(validator=_check_count)

    def __attrs_post_init__(self) -> None:
        """Check responders do not exceed contacts."""
        if self.responders > self.contacts:
            raise InvalidInputError(
                f"Evidence ({self.state!r}, {self.action!r}) has more responders "
                f"({self.responders}) than contacts ({self.contacts})."
            )


def moment_rho(contacts: ArrayLike, responders: ArrayLike, means: ArrayLike) -> float:
    r"""Moment estimate of $\rho = 1/(m+1)$ around known prior means (see the module docs).

    Args:
        contacts: $n_s$ per state.
        responders: $y_s$ per state.
        means: Prior mean $\mu_s$ per state, in (0, 1).

    Returns:
        $\hat\rho$ clipped to $[0, 1)$; 0 without at least two states with contacts, or when
        every state has one contact.

    Examples:
        >>> moment_rho([100, 100], [10, 10], [0.1, 0.1])
        0.0
        >>> round(moment_rho([100, 100], [5, 50], [0.275, 0.275]), 3)
        0.246
    """
    n = np.asarray(contacts, dtype=np.float64)
    y = np.asarray(responders, dtype=np.float64)
    mu = np.asarray(means, dtype=np.float64)
    keep = n > 0
    n, y, mu = n[keep], y[keep], mu[keep]
    if n.size < 2:
        return 0.0
    spread = mu * (1.0 - mu)
    denominator = float((spread * (n - 1.0)).sum())
    if denominator <= 0.0:
        return 0.0
    statistic = float((n * (y / n - mu) ** 2).sum())
    rho = (statistic - float(spread.sum())) / denominator
    return float(min(max(rho, 0.0), 1.0 - 1e-12))


def _to_tuple(value: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class ResponseBeliefs:
    """Prior response rates and evidence per state × action; Beta posteriors on demand.

    Build with [`from_priors`][relmark.program.learning.ResponseBeliefs.from_priors] and add
    evidence with [`with_evidence`][relmark.program.learning.ResponseBeliefs.with_evidence] (a
    [`ResponseReport`][relmark.program.tracking.ResponseReport]'s ``evidence``). The record is
    plain data, so `relmark.io.to_json` persists it.

    Attributes:
        by: The state dimension(s) beliefs are kept per (``"segment"``, ``"clv_tier|activity"``).
        priors: One prior per action, including ``"control"``.
        evidence: Accumulated evidence, one record per state × action.
    """

    by: str
    priors: tuple[ActionPrior, ...] = attrs.field(converter=_to_tuple)
    evidence: tuple[Evidence, ...] = attrs.field(default=(), converter=_to_tuple)

    def __attrs_post_init__(self) -> None:
        """Check there is a control prior and at most one prior / evidence per key."""
        names = [p.action for p in self.priors]
        if CONTROL not in names or len(set(names)) != len(names):
            raise InvalidInputError(
                f"ResponseBeliefs.priors must hold one prior per action, including {CONTROL!r}; "
                f"got actions {names}."
            )
        keys = [(e.state, e.action) for e in self.evidence]
        if len(set(keys)) != len(keys):
            raise InvalidInputError(
                "ResponseBeliefs.evidence must hold one record per (state, action); merge them "
                "with with_evidence."
            )
        unknown = sorted({e.action for e in self.evidence} - set(names))
        if unknown:
            raise InvalidInputError(f"Evidence for action(s) {unknown} without a prior.")

    @classmethod
    def from_priors(
        cls,
        rates: Mapping[str, float],
        *,
        control: float,
        by: str = "segment",
        strength: float = 20.0,
    ) -> ResponseBeliefs:
        """Beliefs from prior response rates, before any campaign.

        Args:
            rates: Action name → prior response rate of contacted customers.
            control: Prior response rate of customers not contacted.
            by: The state dimension(s) to learn per.
            strength: Weight of each prior in pseudo-contacts.

        Examples:
            >>> b = ResponseBeliefs.from_priors({"email": 0.06}, control=0.04)
            >>> b.uplift(["Champions"], ["email"]).round(3).tolist()
            [[0.02]]
        """
        priors = [ActionPrior(action=CONTROL, rate=control, strength=strength)]
        priors += [ActionPrior(action=a, rate=r, strength=strength) for a, r in rates.items()]
        return cls(by=by, priors=priors)

    def with_evidence(self, evidence: Iterable[Evidence]) -> ResponseBeliefs:
        """These beliefs with more evidence added (counts of the same state × action summed)."""
        merged: dict[tuple[str, str], tuple[int, int]] = {
            (e.state, e.action): (e.contacts, e.responders) for e in self.evidence
        }
        for e in evidence:
            n, y = merged.get((e.state, e.action), (0, 0))
            merged[(e.state, e.action)] = (n + e.contacts, y + e.responders)
        return attrs.evolve(
            self,
            evidence=tuple(
                Evidence(state=s, action=a, contacts=n, responders=y)
                for (s, a), (n, y) in sorted(merged.items())
            ),
        )

    @property
    def actions(self) -> tuple[str, ...]:
        """Action names with a prior (``"control"`` first)."""
        return tuple(p.action for p in self.priors)

    def control_posterior(self) -> tuple[float, float, Mapping[str, tuple[float, float]]]:
        """Control rates: the prior rate, its strength and each observed state's Beta parameters.

        States without evidence get ``Beta(strength * rate, strength * (1 - rate))``.
        """
        prior = self._prior(CONTROL)
        w, r = prior.strength, prior.rate
        states = {
            e.state: (w * r + e.responders, w * (1.0 - r) + e.contacts - e.responders)
            for e in self.evidence
            if e.action == CONTROL
        }
        return r, w, states

    def pooled_uplift(self, action: str) -> float:
        r"""An action's uplift pooled over states: $\delta_a$ of the module docs.

        Raises:
            InvalidInputError: For an action without a prior, or ``"control"``.
        """
        return self._action_posterior(action, [])[2]

    def posterior(self, action: str, states: Sequence[str]) -> tuple[FloatArray, FloatArray]:
        """Beta parameters ``(alpha, beta)`` of the response rate of ``action`` in each state.

        Raises:
            InvalidInputError: For an action without a prior.
        """
        if action == CONTROL:
            pooled, m, observed = self.control_posterior()
            default = (m * pooled, m * (1.0 - pooled))
            pairs = np.array([observed.get(str(s), default) for s in states], dtype=np.float64)
            pairs = pairs.reshape(len(states), 2)
            return pairs[:, 0], pairs[:, 1]
        alpha, beta, _ = self._action_posterior(action, states)
        return alpha, beta

    def _control_means(self, states: Sequence[str]) -> FloatArray:
        alpha, beta = self.posterior(CONTROL, states)
        means: FloatArray = alpha / (alpha + beta)
        return means

    def _cells(self, action: str) -> tuple[FloatArray, FloatArray, FloatArray, list[str]]:
        """Each observed state's contacts, responders and control mean for ``action``."""
        rows = [e for e in self.evidence if e.action == action and e.contacts > 0]
        n = np.array([e.contacts for e in rows], dtype=np.float64)
        y = np.array([e.responders for e in rows], dtype=np.float64)
        return n, y, self._control_means([e.state for e in rows]), [e.state for e in rows]

    def overall_uplift(self) -> float:
        r"""The uplift pooled over every action and state, $\bar\delta$ of the module docs."""
        baseline = self._prior(CONTROL)
        priors = [p for p in self.priors if p.action != CONTROL]
        if not priors:
            return 0.0
        weight = float(np.mean([p.strength for p in priors]))
        prior_uplift = float(np.mean([p.rate for p in priors])) - baseline.rate
        excess = 0.0
        contacts = 0.0
        for p in priors:
            n, y, control, _ = self._cells(p.action)
            excess += float((y - n * control).sum())
            contacts += float(n.sum())
        return (weight * prior_uplift + excess) / (weight + contacts)

    def _excess(
        self, action: str, weight: float | None = None
    ) -> tuple[float, FloatArray, FloatArray, FloatArray, list[str]]:
        """The action's pooled uplift and each observed state's contacts, responders, control."""
        prior = self._prior(action)
        others = [p.rate for p in self.priors if p.action != CONTROL]
        # The user's prior uplift of this action relative to the others, anchored at the learned
        # overall uplift: an action never tried starts where the tried ones turned out to be.
        start = prior.rate - float(np.mean(others)) + self.overall_uplift()
        n, y, control, states = self._cells(action)
        w = prior.strength if weight is None else weight
        delta = (w * start + float((y - n * control).sum())) / (w + float(n.sum()))
        return delta, n, y, control, states

    def uplift_strength(self) -> float | None:
        """The moment estimate of $m$ over every observed state × action (``None`` if < 2 cells).

        One estimate for all actions: how far cells stray from baseline plus pooled uplift is
        estimated from all of them, which is far steadier than per action.
        """
        parts = [self._excess(p.action) for p in self.priors if p.action != CONTROL]
        n = np.concatenate([part[1] for part in parts]) if parts else np.zeros(0)
        if n.size < 2:
            return None
        y = np.concatenate([part[2] for part in parts])
        mu = np.concatenate([np.clip(part[3] + part[0], _EPS, 1.0 - _EPS) for part in parts])
        return _strength(moment_rho(n, y, mu), 0.0)

    def _action_posterior(
        self, action: str, states: Sequence[str]
    ) -> tuple[FloatArray, FloatArray, float]:
        if action == CONTROL:
            raise InvalidInputError(f"{CONTROL!r} has no uplift; use control_posterior().")
        floor = self._prior(action).strength
        estimate = self.uplift_strength()
        m = floor if estimate is None else max(estimate, floor)
        delta, n, y, _, seen_states = self._excess(action, m)
        mean = np.clip(self._control_means(states) + delta, _EPS, 1.0 - _EPS)
        alpha = m * mean
        beta = m * (1.0 - mean)
        seen = {s: (int(a), int(b)) for s, a, b in zip(seen_states, n, y, strict=True)}
        for i, state in enumerate(states):
            counts = seen.get(str(state))
            if counts is not None:
                alpha[i] += counts[1]
                beta[i] += counts[0] - counts[1]
        return alpha, beta, float(delta)

    def _prior(self, action: str) -> ActionPrior:
        for p in self.priors:
            if p.action == action:
                return p
        raise InvalidInputError(
            f"No prior response rate for action {action!r}; the beliefs know {list(self.actions)}."
        )

    def _parameters(
        self, states: Sequence[str] | NDArray[Any], actions: Sequence[str]
    ) -> tuple[FloatArray, FloatArray]:
        """Beta (alpha, beta) per distinct state × (control, *actions)."""
        names = [CONTROL, *actions]
        keys = [str(s) for s in states]
        alpha = np.empty((len(keys), len(names)))
        beta = np.empty_like(alpha)
        for j, action in enumerate(names):
            alpha[:, j], beta[:, j] = self.posterior(action, keys)
        return alpha, beta

    def rates(self, states: ArrayLike, actions: Sequence[str]) -> FloatArray:
        """Posterior mean response rate per customer (rows) and ``(control, *actions)`` (columns)."""
        values, inverse = np.unique(np.asarray(states).astype(np.str_), return_inverse=True)
        alpha, beta = self._parameters(values, actions)
        means: FloatArray = (alpha / (alpha + beta))[inverse]
        return means

    def uplift(self, states: ArrayLike, actions: Sequence[str]) -> FloatArray:
        """Posterior mean incremental response, $E[p_{sa}] - E[p_{s0}]$, customers × actions."""
        means = self.rates(states, actions)
        out: FloatArray = means[:, 1:] - means[:, :1]
        return out

    def sample_uplift(
        self, states: ArrayLike, actions: Sequence[str], *, rng: np.random.Generator
    ) -> FloatArray:
        """One Thompson draw of the incremental response per state, customers × actions.

        Customers in the same state share the draw (it is a draw of the state's rates).

        Args:
            states: State value per customer.
            actions: Action names.
            rng: A seeded generator (``numpy.random.default_rng(seed)``).
        """
        values, inverse = np.unique(np.asarray(states).astype(np.str_), return_inverse=True)
        alpha, beta = self._parameters(values, actions)
        draws = rng.beta(alpha, beta)
        out: FloatArray = (draws[:, 1:] - draws[:, :1])[inverse]
        return out
