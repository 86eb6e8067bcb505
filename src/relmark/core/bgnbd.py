r"""BG/NBD kernels: likelihood, gradient and predictions on float64 arrays.

The beta-geometric/negative-binomial distribution model of Fader, Hardie & Lee (2005),
"Counting your customers the easy way: an alternative to the Pareto/NBD model", *Marketing
Science* 24(2), 275-284 (FHL below). While alive a customer buys at Poisson rate
$\lambda \sim \text{Gamma}(r, \alpha)$ and, after each repeat purchase, drops out with probability
$p \sim \text{Beta}(a, b)$.

Conventions of every kernel here: inputs are float64 arrays already validated and broadcastable
(``x`` = repeat purchases, ``t_x`` = recency, ``T`` = age, all in the same time unit as
$\alpha$); parameters are positive floats. Kernels never validate; the public model classes do.
"""

from __future__ import annotations

from typing import cast

import numpy as np
from scipy.special import betainc, betaln, digamma, expit, gammaln, xlogy

from relmark._typing import FloatArray, IntArray
from relmark.core.special import (
    alive_expectation_series,
    alive_series_applies,
    bridge_per_draw,
    bridge_removable_point,
    distinct_codes,
    evaluate_on_log_panels,
    evaluate_per_distinct,
    log_hyp2f1,
    panels_per_draw,
    positions_by_draw,
)

__all__ = [
    "conditional_expected_purchases",
    "conditional_expected_purchases_stacked",
    "expected_purchases",
    "expected_purchases_if_alive_stacked",
    "log_likelihood",
    "log_likelihood_and_gradient",
    "probability_alive",
    "probability_alive_at",
    "probability_of_purchases",
]

# Half-width of the interval around a = 1 where the expectation (a removable singularity of the
# closed form, which loses digits like 1/|a - 1| near it) is a Chebyshev interpolant in a
# (`bridge_removable_point`); with 8 nodes the interpolation error is below 1e-10 relative.
_A_ONE_HALF_WIDTH = 0.1


def _log_dropout_odds(
    x: FloatArray, t_x: FloatArray, T: FloatArray, r: float, alpha: float, a: float, b: float
) -> FloatArray:
    r"""$\ln\big[\frac{a}{b+x-1}\big(\frac{\alpha+T}{\alpha+t_x}\big)^{r+x}\big]$ for $x > 0$, $-\infty$ at $x = 0$."""
    safe_x = np.maximum(x, 1.0)
    with np.errstate(divide="ignore"):
        log_odds = (
            np.log(a) - np.log(b + safe_x - 1.0) + (r + x) * np.log1p((T - t_x) / (alpha + t_x))
        )
    return np.where(x > 0, log_odds, -np.inf)


def log_likelihood_and_gradient(
    log_params: FloatArray, x: FloatArray, t_x: FloatArray, T: FloatArray
) -> tuple[FloatArray, FloatArray]:
    r"""Per-customer BG/NBD log-likelihood and its gradient with respect to the log-parameters.

    FHL (2005) eq. (6), written in the numerically stable form of Hardie's note "A note on
    implementing the BG/NBD model in MS Excel" (the "#NUM!" problem):

    $$\ln L = \ln\Gamma(r+x) - \ln\Gamma(r) + r\ln\alpha + \ln B(a, b+x) - \ln B(a, b)
    + \ln\Big[e^{A_3} + \mathbb 1\{x>0\}\, e^{A_4}\Big],$$

    $A_3 = -(r+x)\ln(\alpha+T)$, $A_4 = \ln a - \ln(b+x-1) - (r+x)\ln(\alpha+t_x)$, with the last
    term evaluated by ``logaddexp`` so that neither power under- or overflows. The gradient is
    analytic (digamma terms), multiplied by $\theta$ for the chain rule to $\ln\theta$.

    The terms that depend on $x$ alone ($\ln\Gamma$, $\ln B$, $\psi$ and $\ln(b+x-1)$) are
    evaluated once per distinct $x$ and gathered
    ([`distinct_codes`][relmark.core.special.distinct_codes]), so the special-function work
    scales with the few hundred distinct frequencies, not with the rows.

    Args:
        log_params: $(\ln r, \ln\alpha, \ln a, \ln b)$.
        x: Repeat purchases.
        t_x: Recency.
        T: Age.

    Returns:
        ``(ll, grad)``: ``ll`` of shape ``(n,)`` and ``grad`` of shape ``(n, 4)``.
    """
    r, alpha, a, b = (float(v) for v in np.exp(log_params))
    x, t_x, T = (np.asarray(v, dtype=np.float64).ravel() for v in np.broadcast_arrays(x, t_x, T))
    # Terms of x alone, once per distinct x (a few hundred values), gathered below.
    values, code = distinct_codes(x)
    safe_values = np.maximum(values, 1.0)
    psi_ab = digamma(a + b)
    psi_abx = digamma(a + b + values)
    lead = (gammaln(r + values) - gammaln(r) + r * np.log(alpha)) + (
        betaln(a, b + values) - betaln(a, b)
    )
    with np.errstate(divide="ignore"):
        log_ratio = np.where(values > 0, np.log(a) - np.log(b + safe_values - 1.0), -np.inf)
    shape_term = digamma(r + values) - digamma(r) + np.log(alpha)
    a_term = a * (psi_ab - psi_abx)
    b_term = b * (digamma(b + values) - digamma(b) + psi_ab - psi_abx)
    b_weight = b / (b + safe_values - 1.0)
    s = r + x
    log_alpha_T = np.log(alpha + T)
    log_alpha_tx = np.log(alpha + t_x)
    a3 = -s * log_alpha_T
    a4 = log_ratio[code] - s * log_alpha_tx
    last = np.logaddexp(a3, a4)
    w3 = np.exp(a3 - last)
    w4 = np.exp(a4 - last)
    ll = lead[code] + last
    grad = np.empty((ll.size, 4), dtype=np.float64)
    grad[:, 0] = r * (shape_term[code] - w3 * log_alpha_T - w4 * log_alpha_tx)
    grad[:, 1] = r - alpha * s * (w3 / (alpha + T) + w4 / (alpha + t_x))
    grad[:, 2] = a_term[code] + w4
    grad[:, 3] = b_term[code] - w4 * b_weight[code]
    return ll, grad


def log_likelihood(
    x: FloatArray, t_x: FloatArray, T: FloatArray, r: float, alpha: float, a: float, b: float
) -> FloatArray:
    """Per-customer BG/NBD log-likelihood, FHL (2005) eq. (6) in the stable form.

    See [`log_likelihood_and_gradient`][relmark.core.bgnbd.log_likelihood_and_gradient].
    """
    log_params = np.log(np.array([r, alpha, a, b], dtype=np.float64))
    return log_likelihood_and_gradient(log_params, x, t_x, T)[0]


def probability_alive(
    x: FloatArray, t_x: FloatArray, T: FloatArray, r: float, alpha: float, a: float, b: float
) -> FloatArray:
    r"""$P(\text{alive} \mid x, t_x, T)$, FHL (2005) eq. (12); Hardie's note 021.

    $$P(\text{alive}) = \Big[1 + \mathbb 1\{x>0\}\frac{a}{b+x-1}
    \Big(\frac{\alpha+T}{\alpha+t_x}\Big)^{r+x}\Big]^{-1},$$

    computed as a logistic function of the log-odds, so it stays in $[0, 1]$ for any $x$, $T$.
    """
    return np.asarray(expit(-_log_dropout_odds(x, t_x, T, r, alpha, a, b)), dtype=np.float64)


def _log_survival_factor(
    u: FloatArray, s: FloatArray, beta: FloatArray, gamma_: FloatArray
) -> FloatArray:
    r"""$\ln[(1-z)^{s}\,{}_2F_1(s, \beta; \gamma; z)]$, $z = u/(1+u)$, all parameters $> 0$."""
    log1m_z = -np.log1p(u)
    log_f = log_hyp2f1(s, beta, gamma_, u / (1.0 + u), log1m_z=log1m_z)
    return np.asarray(s * log1m_z + log_f, dtype=np.float64)


def _expected_if_alive(u: FloatArray, x: FloatArray, r: float, a: float, b: float) -> FloatArray:
    r"""Expected repeat purchases in $(T, T+t]$ for a customer known to be alive at $T$.

    A function of $x$ and $u = t/(\alpha+T)$ only: the numerator of FHL (2005) eq. (10),
    $\frac{c-1}{a-1}\big[1 - (1-z)^{r+x}\,{}_2F_1(r+x, b+x; c-1; z)\big]$ with
    $c = a+b+x$ and $z = t/(\alpha+T+t) = u/(1+u)$, evaluated three ways:

    * small $u$: the power series of
      [`alive_expectation_series`][relmark.core.special.alive_expectation_series] (the closed form would
      cancel catastrophically);
    * $c - 1 > 0$: the closed form, with the power and ${}_2F_1$ combined in logs and
      $1 - e^{L}$ taken by ``expm1``;
    * $c - 1 \le 0$ (only $x = 0$ with $a + b \le 1$, where ${}_2F_1$'s third parameter is not
      positive): Gauss's contiguous relation (Abramowitz & Stegun 15.2.20 specialised),
      $E(b) = \frac{c-1}{c}E(b+1) + \frac{(r+x)u}{c}(1-z)^{r+x+1}
      {}_2F_1(r+x+1, b+x+1; c+1; z)$.

    The closed form has a removable singularity at $a = 1$ and loses digits like $1/|a - 1|$
    near it; for $|a - 1| < 0.1$ it is replaced by its Chebyshev interpolant in $a$
    ([`bridge_removable_point`][relmark.core.special.bridge_removable_point]).
    """
    u, x = (np.asarray(v, dtype=np.float64) for v in np.broadcast_arrays(u, x))
    s = r + x
    c = a + b + x
    small = alive_series_applies(u, s, a, c)
    result = np.empty(u.shape, dtype=np.float64)
    result[small] = alive_expectation_series(u[small], s[small], a, c[small])
    large = ~small
    if large.any():
        result[large] = _closed_form(u[large], x[large], r, a, b)
    return result


def _closed_form(u: FloatArray, x: FloatArray, r: float, a: float, b: float) -> FloatArray:
    if abs(a - 1.0) < _A_ONE_HALF_WIDTH:
        return bridge_removable_point(
            lambda node: _closed_form_off_one(u, x, r, node, b),
            a,
            center=1.0,
            half_width=_A_ONE_HALF_WIDTH,
        )
    return _closed_form_off_one(u, x, r, a, b)


def _closed_form_off_one(
    u: FloatArray,
    x: FloatArray,
    r: float | FloatArray,
    a: float | FloatArray,
    b: float | FloatArray,
) -> FloatArray:
    """``_closed_form`` without the bridge at $a = 1$; the parameters may vary by element.

    Scalars, or arrays shaped like ``u`` (one parameter vector per element, as for a stack of
    draws): the arithmetic of every element is the same either way.
    """
    r, a, b = (np.broadcast_to(np.asarray(v, dtype=np.float64), u.shape) for v in (r, a, b))
    s = r + x
    c = a + b + x
    out = np.empty_like(u)
    direct = c > 1.0
    if direct.any():
        log_factor = _log_survival_factor(
            u[direct], s[direct], b[direct] + x[direct], c[direct] - 1.0
        )
        out[direct] = (c[direct] - 1.0) / (a[direct] - 1.0) * -np.expm1(log_factor)
    shifted = ~direct
    if shifted.any():
        us, xs, ss, cs, bs = u[shifted], x[shifted], s[shifted], c[shifted], b[shifted]
        second = (ss * us / cs) * np.exp(
            _log_survival_factor(us, ss + 1.0, bs + xs + 1.0, cs + 1.0)
        )
        shifted_up = _closed_form_off_one(us, xs, r[shifted], a[shifted], bs + 1.0)
        out[shifted] = (cs - 1.0) / cs * shifted_up + second
    return out


def _expected_if_alive_shared(
    u: FloatArray, x: FloatArray, r: float, a: float, b: float
) -> FloatArray:
    """``_expected_if_alive`` from interpolants shared by every ``u`` with the same ``x``.

    See [`evaluate_on_log_panels`][relmark.core.special.evaluate_on_log_panels].
    """
    return evaluate_on_log_panels(lambda uu, xx: _expected_if_alive(uu, xx, r, a, b), u, x)


def conditional_expected_purchases(
    t: FloatArray,
    x: FloatArray,
    t_x: FloatArray,
    T: FloatArray,
    r: float,
    alpha: float,
    a: float,
    b: float,
) -> FloatArray:
    r"""$E[X(T, T+t] \mid x, t_x, T]$: expected repeat purchases in the next $t$, FHL (2005) eq. (10).

    Equal to $P(\text{alive} \mid x, t_x, T)$ times the expectation for a customer alive at $T$
    (see [`probability_alive`][relmark.core.bgnbd.probability_alive]). That expectation does
    not depend on $t_x$ and depends on $t$ and $T$ only through $u = t/(\alpha+T)$: it is
    taken once per distinct $(t, x, T)$ from Chebyshev interpolants in $\ln(1+u)$ shared by
    every horizon and age with the same $x$
    ([`evaluate_on_log_panels`][relmark.core.special.evaluate_on_log_panels]), built on the
    exact transformed form described in ``_expected_if_alive``; so many horizons (CLV periods)
    cost little more than one.

    Args:
        t: Forecast horizons (broadcast against the customer arrays).
        x: Repeat purchases.
        t_x: Recency.
        T: Age.
        r: Shape of the purchase-rate gamma.
        alpha: Scale of the purchase-rate gamma (time unit of ``t``, ``t_x``, ``T``).
        a: First beta parameter of the dropout probability.
        b: Second beta parameter of the dropout probability.

    Returns:
        The broadcast shape of ``t``, ``x``, ``t_x``, ``T``.
    """
    t, x, t_x, T = (np.asarray(v, dtype=np.float64) for v in (t, x, t_x, T))
    alive = probability_alive(x, t_x, T, r, alpha, a, b)
    # The expectation if alive does not depend on t_x: once per distinct (t, x, T).

    def if_alive(horizon: FloatArray, count: FloatArray, age: FloatArray) -> FloatArray:
        return _expected_if_alive_shared(horizon / (alpha + age), count, r, a, b)

    expected = evaluate_per_distinct(if_alive, t, x, T)
    return np.asarray(alive * expected, dtype=np.float64)


def _expected_if_alive_per_draw(
    u: FloatArray, x: FloatArray, draw: IntArray, params: FloatArray
) -> FloatArray:
    r"""``_expected_if_alive(u[i], x[i], r, a, b)`` with $(r, \alpha, a, b)$ = ``params[draw[i]]``.

    Element by element the steps of the scalar kernel, for all draws at once: the small-$u$
    series and the closed form (where the hypergeometric work is) each in one call with
    parameters per element, and the bridge at $a = 1$ with its nodes shared by the draws
    ([`bridge_per_draw`][relmark.core.special.bridge_per_draw]). The series test bounds the
    terms' ratio by $u \max(1, (s+1)/c)\max(1, a/2)$, whose last factor is exactly 1 for
    $a \le 2$: those draws share one test with $a = 1$; a draw with $a > 2$ takes the scalar
    kernel on its own elements.
    """
    vectors = params[draw]
    r, a, b = vectors[:, 0], vectors[:, 2], vectors[:, 3]
    out = np.empty_like(u)
    alone = a > 2.0
    if alone.any():
        scalars = params.tolist()
        positions = np.flatnonzero(alone)
        for index, rows in positions_by_draw(draw[positions]):
            chosen = positions[rows]
            r_b, _, a_b, b_b = scalars[index]
            out[chosen] = _expected_if_alive(u[chosen], x[chosen], r_b, a_b, b_b)
    shared = np.flatnonzero(~alone)
    u, x, r, a, b, draw = u[shared], x[shared], r[shared], a[shared], b[shared], draw[shared]
    s = r + x
    c = a + b + x
    small = alive_series_applies(u, s, 1.0, c)
    series = np.flatnonzero(small)
    # The series is elementwise in its a (annotated as a float).
    out[shared[series]] = alive_expectation_series(
        u[series], s[series], cast("float", a[series]), c[series]
    )
    near_one = np.abs(a - 1.0) < _A_ONE_HALF_WIDTH
    closed = np.flatnonzero(~small & ~near_one)
    out[shared[closed]] = _closed_form_off_one(
        u[closed], x[closed], r[closed], a[closed], b[closed]
    )
    bridged = np.flatnonzero(~small & near_one)
    if bridged.size:
        ub, xb, rb, bb = u[bridged], x[bridged], r[bridged], b[bridged]
        out[shared[bridged]] = bridge_per_draw(
            lambda node: _closed_form_off_one(ub, xb, rb, node, bb),
            a[bridged],
            draw[bridged],
            half_width=_A_ONE_HALF_WIDTH,
        )
    return out


def expected_purchases_if_alive_stacked(
    t: FloatArray, x: FloatArray, T: FloatArray, params: FloatArray
) -> FloatArray:
    r"""Expected repeat purchases in $(T, T+t]$ of a customer alive at $T$, under many parameter vectors.

    The factor of FHL (2005) eq. (10) that multiplies $P(\text{alive})$,
    $\frac{a+b+x-1}{a-1}\big[1 - (\frac{\alpha+T}{\alpha+T+t})^{r+x}
    {}_2F_1(r+x, b+x; a+b+x-1; \frac{t}{\alpha+T+t})\big]$, for each row of ``params``: the
    values ``conditional_expected_purchases`` divides by $P(\text{alive})$ for one parameter
    vector, from the same interpolants, with the distinct $(t, x, T)$ found once for all vectors
    and the hypergeometric work of all vectors batched
    ([`panels_per_draw`][relmark.core.special.panels_per_draw]).

    Args:
        t: Horizons.
        x: Repeat purchases.
        T: Ages.
        params: Parameter vectors $(r, \alpha, a, b)$, shape ``(B, 4)``.

    Returns:
        Shape ``broadcast(t, x, T) + (B,)``.
    """
    params = np.asarray(params, dtype=np.float64).reshape(-1, 4)
    return panels_per_draw(
        lambda u, count, draw: _expected_if_alive_per_draw(u, count, draw, params),
        np.asarray(t, dtype=np.float64),
        np.asarray(x, dtype=np.float64),
        np.asarray(T, dtype=np.float64),
        params[:, 1],
    )


def conditional_expected_purchases_stacked(
    t: FloatArray, x: FloatArray, t_x: FloatArray, T: FloatArray, params: FloatArray
) -> FloatArray:
    r"""[`conditional_expected_purchases`][relmark.core.bgnbd.conditional_expected_purchases] under many parameter vectors.

    FHL (2005) eq. (10) for each row $(r, \alpha, a, b)$ of ``params``: $P(\text{alive})$
    (eq. 12) times
    [`expected_purchases_if_alive_stacked`][relmark.core.bgnbd.expected_purchases_if_alive_stacked].
    For parameter draws (prediction intervals); the result has one value per element and
    vector, so callers bound memory by passing blocks of rows.

    Args:
        t: Forecast horizons.
        x: Repeat purchases.
        t_x: Recency.
        T: Age.
        params: Parameter vectors, shape ``(B, 4)``.

    Returns:
        Shape ``broadcast(t, x, t_x, T) + (B,)``.
    """
    params = np.asarray(params, dtype=np.float64).reshape(-1, 4)
    x, t_x, T = (np.asarray(v, dtype=np.float64) for v in (x, t_x, T))
    alive = np.stack([probability_alive(x, t_x, T, *vector) for vector in params.tolist()], axis=-1)
    return np.asarray(
        alive * expected_purchases_if_alive_stacked(t, x, T, params), dtype=np.float64
    )


def probability_alive_at(
    t: FloatArray,
    x: FloatArray,
    t_x: FloatArray,
    T: FloatArray,
    r: float,
    alpha: float,
    a: float,
    b: float,
) -> FloatArray:
    r"""$P(\text{alive at } T + t \mid x, t_x, T)$ for the BG/NBD.

    Dropout happens only right after a purchase, so a customer alive at $T$ is still alive at
    $T + t$ unless one of the $N \sim \text{Poisson}(\lambda t)$ purchases made meanwhile is
    followed by dropout: $E[(1-p)^{N}] = e^{-\lambda p t}$. The posterior of a customer alive at
    $T$ is $\lambda \sim \Gamma(r+x, \alpha+T)$, $p \sim \text{Beta}(a, b+x)$ (the alive
    branch of FHL 2005 eq. 3 is $(1-p)^x\lambda^x e^{-\lambda T}$); averaging over $\lambda$
    gives $(1 + pt/(\alpha+T))^{-(r+x)}$, and over $p$ Euler's integral (Abramowitz & Stegun
    15.3.1), so (derived here, as for the MBG/NBD with $b+x$ in place of $b+x+1$)

    $$P(\text{alive at } T+t) = P(\text{alive at } T)\;
    {}_2F_1\Big(r+x, a; a+b+x; -\frac{t}{\alpha+T}\Big).$$
    """
    t, x, t_x, T = (np.asarray(v, dtype=np.float64) for v in (t, x, t_x, T))
    alive = probability_alive(x, t_x, T, r, alpha, a, b)
    log_f = evaluate_per_distinct(
        lambda tt, xx, TT: log_hyp2f1(r + xx, a, a + b + xx, -tt / (alpha + TT)), t, x, T
    )
    return np.asarray(alive * np.exp(log_f), dtype=np.float64)


def expected_purchases(t: FloatArray, r: float, alpha: float, a: float, b: float) -> FloatArray:
    r"""Unconditional $E[X(t)]$ for a customer just acquired, FHL (2005) eq. (9).

    $E[X(t)] = \frac{a+b-1}{a-1}\big[1 - (\frac{\alpha}{\alpha+t})^r\,
    {}_2F_1(r, b; a+b-1; \frac{t}{\alpha+t})\big]$: eq. (10) at $x = t_x = T = 0$, and evaluated
    the same way.
    """
    t = np.asarray(t, dtype=np.float64)
    return _expected_if_alive_shared(t / alpha, np.zeros_like(t), r, a, b)


def probability_of_purchases(
    n: FloatArray, t: FloatArray, r: float, alpha: float, a: float, b: float
) -> FloatArray:
    r"""$P(X(t) = n)$ for a customer just acquired, FHL (2005) eq. (8).

    $$P(X(t)=n) = \frac{B(a, b+n)}{B(a,b)}\frac{\Gamma(r+n)}{\Gamma(r)\,n!}
    \Big(\frac{\alpha}{\alpha+t}\Big)^r\Big(\frac{t}{\alpha+t}\Big)^n
    + \mathbb 1\{n>0\}\frac{B(a+1, b+n-1)}{B(a,b)}\Big[1 - \Big(\frac{\alpha}{\alpha+t}\Big)^r
    \sum_{j=0}^{n-1}\frac{\Gamma(r+j)}{\Gamma(r)\,j!}\Big(\frac{t}{\alpha+t}\Big)^j\Big].$$

    The bracket is the upper tail of a negative binomial, evaluated as the regularized incomplete
    beta $I_{t/(\alpha+t)}(n, r)$ (no cancellation in $1 - \sum$); the first term in logs.
    """
    n, t = np.broadcast_arrays(np.asarray(n, dtype=np.float64), np.asarray(t, dtype=np.float64))
    q = t / (alpha + t)
    log_first = (
        betaln(a, b + n)
        - betaln(a, b)
        + gammaln(r + n)
        - gammaln(r)
        - gammaln(n + 1.0)
        + r * np.log(alpha / (alpha + t))
        + xlogy(n, q)
    )
    positive = n > 0
    safe_n = np.where(positive, n, 1.0)
    tail = np.where(
        positive,
        np.exp(betaln(a + 1.0, b + safe_n - 1.0) - betaln(a, b)) * betainc(safe_n, r, q),
        0.0,
    )
    return np.asarray(np.exp(log_first) + tail, dtype=np.float64)
