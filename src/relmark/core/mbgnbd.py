r"""MBG/NBD kernels: likelihood, gradient and predictions on float64 arrays.

The modified beta-geometric/negative-binomial model of Batislam, Denizel & Filiztekin (2007),
"Empirical validation and comparison of models for customer base analysis", *International
Journal of Research in Marketing* 24(3), 201-209 (BDF below). As in the BG/NBD, a customer buys
at Poisson rate $\lambda \sim \text{Gamma}(r, \alpha)$ while alive and drops out with
probability $p \sim \text{Beta}(a, b)$ after each purchase; unlike the BG/NBD, a dropout
opportunity also follows the **first** (time-0) purchase, so a customer with no repeat purchase
may already be gone. Derivations below condition on $(\lambda, p)$: alive at $T$ after $x$
repeat purchases has probability $(1-p)^{x+1}\lambda^x e^{-\lambda T}$, gone right after the
$x$-th purchase $p(1-p)^x\lambda^x e^{-\lambda t_x}$.

Conventions: inputs are float64 arrays already validated and broadcastable (``x`` = repeat
purchases, ``t_x`` = recency, ``T`` = age, in the time unit of $\alpha$); parameters are positive
floats. Kernels never validate; the public model classes do.
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

# Half-width of the interval around a = 1 where the expectations (a removable singularity of the
# closed form, which loses digits like 1/|a - 1| near it) are a Chebyshev interpolant in a.
_A_ONE_HALF_WIDTH = 0.1


def _log_terms(
    x: FloatArray, t_x: FloatArray, T: FloatArray, r: float, alpha: float, a: float, b: float
) -> tuple[FloatArray, FloatArray]:
    r"""The two terms of the likelihood bracket (BDF 2007), each relative to $B(a, b)$, in logs.

    ``alive`` $= \ln B(a, b+x+1) - (r+x)\ln(\alpha+T)$ and ``gone``
    $= \ln B(a+1, b+x) - (r+x)\ln(\alpha+t_x)$.
    """
    alive = betaln(a, b + x + 1.0) - (r + x) * np.log(alpha + T)
    gone = betaln(a + 1.0, b + x) - (r + x) * np.log(alpha + t_x)
    return np.asarray(alive, dtype=np.float64), np.asarray(gone, dtype=np.float64)


def log_likelihood_and_gradient(
    log_params: FloatArray, x: FloatArray, t_x: FloatArray, T: FloatArray
) -> tuple[FloatArray, FloatArray]:
    r"""Per-customer MBG/NBD log-likelihood and its gradient with respect to the log-parameters.

    BDF (2007), the MBG/NBD likelihood:

    $$L = \frac{\Gamma(r+x)\,\alpha^r}{\Gamma(r)}\Big[\frac{B(a, b+x+1)}{B(a,b)}
    \frac{1}{(\alpha+T)^{r+x}} + \frac{B(a+1, b+x)}{B(a,b)}\frac{1}{(\alpha+t_x)^{r+x}}\Big],$$

    for every $x \ge 0$ (the second term is present at $x = 0$ too: dropout right after the
    first purchase). The bracket is a ``logaddexp`` of the two log-terms; the gradient is
    analytic (digamma), multiplied by $\theta$ for the chain rule to $\ln\theta$. Terms of $x$
    alone are evaluated once per distinct $x$ and gathered
    ([`distinct_codes`][relmark.core.special.distinct_codes]).

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
    # Terms of x alone, once per distinct x, gathered below.
    values, code = distinct_codes(x)
    log_alpha = np.log(alpha)
    lead = gammaln(r + values) - gammaln(r) + r * log_alpha - betaln(a, b)
    alive_beta = betaln(a, b + values + 1.0)
    gone_beta = betaln(a + 1.0, b + values)
    psi_ab = digamma(a + b)
    psi_abx1 = digamma(a + b + values + 1.0)
    shape_term = digamma(r + values) - digamma(r) + log_alpha
    # With w_alive + w_gone = 1, psi(a + 1) = psi(a) + 1/a and psi(b + x + 1) = psi(b + x)
    # + 1/(b + x), the a- and b-gradients are a per-x term plus one weight each.
    a_term = a * (psi_ab - psi_abx1)
    b_term = b * (psi_ab - digamma(b) + digamma(b + values) - psi_abx1)
    b_weight = b / (b + values)
    s = r + x
    log_alpha_T = np.log(alpha + T)
    log_alpha_tx = np.log(alpha + t_x)
    alive = alive_beta[code] - s * log_alpha_T
    gone = gone_beta[code] - s * log_alpha_tx
    bracket = np.logaddexp(alive, gone)
    w_alive = np.exp(alive - bracket)
    w_gone = np.exp(gone - bracket)
    ll = lead[code] + bracket
    grad = np.empty((ll.size, 4), dtype=np.float64)
    grad[:, 0] = r * (shape_term[code] - w_alive * log_alpha_T - w_gone * log_alpha_tx)
    grad[:, 1] = r - alpha * s * (w_alive / (alpha + T) + w_gone / (alpha + t_x))
    grad[:, 2] = a_term[code] + w_gone
    grad[:, 3] = b_term[code] + w_alive * b_weight[code]
    return np.asarray(ll, dtype=np.float64), grad


def log_likelihood(
    x: FloatArray, t_x: FloatArray, T: FloatArray, r: float, alpha: float, a: float, b: float
) -> FloatArray:
    """Per-customer MBG/NBD log-likelihood, BDF (2007).

    See [`log_likelihood_and_gradient`][relmark.core.mbgnbd.log_likelihood_and_gradient].
    """
    x, t_x, T = (np.asarray(v, dtype=np.float64) for v in np.broadcast_arrays(x, t_x, T))
    alive, gone = _log_terms(x, t_x, T, r, alpha, a, b)
    return np.asarray(
        gammaln(r + x) - gammaln(r) + r * np.log(alpha) - betaln(a, b) + np.logaddexp(alive, gone),
        dtype=np.float64,
    )


def probability_alive(
    x: FloatArray, t_x: FloatArray, T: FloatArray, r: float, alpha: float, a: float, b: float
) -> FloatArray:
    r"""$P(\text{alive at } T \mid x, t_x, T)$, BDF (2007).

    $$P(\text{alive}) = \Big[1 + \frac{a}{b+x}\Big(\frac{\alpha+T}{\alpha+t_x}\Big)^{r+x}\Big]^{-1},$$

    a logistic function of the log-odds, so it stays in $[0, 1]$ for any $x$, $T$. Unlike the
    BG/NBD it is below 1 at $x = 0$.
    """
    x, t_x, T = (np.asarray(v, dtype=np.float64) for v in np.broadcast_arrays(x, t_x, T))
    log_odds = np.log(a) - np.log(b + x) + (r + x) * np.log1p((T - t_x) / (alpha + t_x))
    return np.asarray(expit(-log_odds), dtype=np.float64)


def _expected_if_alive(
    t: FloatArray, shape: FloatArray, scale: FloatArray, a: float, b_post: FloatArray
) -> FloatArray:
    r"""Expected purchases in the next $t$ for a customer alive now, $\lambda\sim\Gamma(\text{shape},\text{scale})$, $p\sim B(a, b')$.

    $E[(1 - e^{-\lambda p t})/p] = \frac{c}{a-1}\big[1 - (\frac{\text{scale}}{\text{scale}+t})^{\text{shape}}
    {}_2F_1(\text{shape}, b'; c; \frac{t}{\text{scale}+t})\big]$ with $c = a + b' - 1$ (FHL
    2005 eq. 9 with the posterior parameters), evaluated three ways:

    * small $u = t/\text{scale}$: the power series of
      [`alive_expectation_series`][relmark.core.special.alive_expectation_series] (the closed
      form would lose digits like $1/u$, and could even turn negative);
    * $a > 1$: Pfaff's transformation turns the bracket into
      $1 - {}_2F_1(\text{shape}, a-1; c; -t/\text{scale})$, one hypergeometric term in logs;
    * $a < 1$ (where that form leaves the positive-parameter domain): the power and the series
      combined in logs.

    The removable singularity at $a = 1$, where the closed forms lose digits like $1/|a - 1|$,
    is bridged for $|a - 1| < 0.1$ by a Chebyshev interpolant in $a$
    ([`bridge_removable_point`][relmark.core.special.bridge_removable_point]).
    """
    t, shape, scale, b_post = (
        np.asarray(v, dtype=np.float64) for v in np.broadcast_arrays(t, shape, scale, b_post)
    )
    u = t / scale
    small = alive_series_applies(u, shape, a, a + b_post)
    result = np.empty(t.shape, dtype=np.float64)
    result[small] = alive_expectation_series(u[small], shape[small], a, a + b_post[small])
    large = ~small
    if not large.any():
        return result
    tl, shape_l, scale_l, b_l = t[large], shape[large], scale[large], b_post[large]
    if abs(a - 1.0) < _A_ONE_HALF_WIDTH:
        result[large] = bridge_removable_point(
            lambda node: _expected_if_alive_off_one(tl, shape_l, scale_l, node, b_l),
            a,
            center=1.0,
            half_width=_A_ONE_HALF_WIDTH,
        )
    else:
        result[large] = _expected_if_alive_off_one(tl, shape_l, scale_l, a, b_l)
    return result


def _expected_if_alive_off_one(
    t: FloatArray,
    shape: FloatArray,
    scale: FloatArray,
    a: float | FloatArray,
    b_post: FloatArray,
) -> FloatArray:
    r"""``_expected_if_alive`` for $a \ne 1$; ``a`` a scalar or one value per element."""
    t, shape, scale, b_post, a = (
        np.asarray(v, dtype=np.float64) for v in np.broadcast_arrays(t, shape, scale, b_post, a)
    )
    c = a + b_post - 1.0
    log_bracket = np.empty(t.shape, dtype=np.float64)
    above = a > 1.0
    if above.any():
        log_bracket[above] = log_hyp2f1(
            shape[above], a[above] - 1.0, c[above], -t[above] / scale[above]
        )
    below = ~above
    if below.any():
        # Pfaff's form needs a - 1 >= 0; below that, keep the power and the positive series.
        tb, shape_b, scale_b = t[below], shape[below], scale[below]
        log1m_z = -np.log1p(tb / scale_b)
        log_bracket[below] = shape_b * log1m_z + log_hyp2f1(
            shape_b, b_post[below], c[below], tb / (scale_b + tb), log1m_z=log1m_z
        )
    return np.asarray(c / (a - 1.0) * -np.expm1(log_bracket), dtype=np.float64)


def _expected_if_alive_shared(
    u: FloatArray, x: FloatArray, r: float, a: float, b: float
) -> FloatArray:
    r"""``_expected_if_alive`` after $x$ repeat purchases, as a function of $u = t/(\alpha+T)$.

    From interpolants shared by every ``u`` with the same ``x``, see
    [`evaluate_on_log_panels`][relmark.core.special.evaluate_on_log_panels].
    """
    return evaluate_on_log_panels(
        lambda uu, xx: _expected_if_alive(uu, r + xx, np.ones_like(uu), a, b + xx + 1.0), u, x
    )


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
    r"""$E[X(T, T+t] \mid x, t_x, T]$: expected purchases in the next $t$, BDF (2007).

    $$E[Y(t)\mid x, t_x, T] = \frac{a+b+x}{a-1}\Big[1 - \Big(\frac{\alpha+T}{\alpha+T+t}\Big)^{r+x}
    {}_2F_1\Big(r+x, b+x+1; a+b+x; \frac{t}{\alpha+T+t}\Big)\Big]\,P(\text{alive}):$$

    the posterior of an alive customer is $\lambda \sim \Gamma(r+x, \alpha+T)$,
    $p \sim \text{Beta}(a, b+x+1)$. Evaluated through the Pfaff-transformed single
    hypergeometric term (see ``_expected_if_alive``). That expectation depends on $t$ and $T$
    only through $u = t/(\alpha+T)$: it comes from Chebyshev interpolants in $\ln(1+u)$ shared
    by every horizon and age with the same $x$
    ([`evaluate_on_log_panels`][relmark.core.special.evaluate_on_log_panels]), so many horizons
    (CLV periods) cost little more than one.

    Args:
        t: Forecast horizons (broadcast against the customer arrays).
        x: Repeat purchases.
        t_x: Recency.
        T: Age.
        r: Shape of the purchase-rate gamma.
        alpha: Scale of the purchase-rate gamma.
        a: First beta parameter of the dropout probability.
        b: Second beta parameter of the dropout probability.

    Returns:
        The broadcast shape of ``t``, ``x``, ``t_x``, ``T``.
    """
    t, x, t_x, T = (np.asarray(v, dtype=np.float64) for v in (t, x, t_x, T))
    alive = probability_alive(x, t_x, T, r, alpha, a, b)
    # The expectation if alive does not depend on t_x: once per distinct (t, x, T).
    expected = evaluate_per_distinct(
        lambda tt, xx, TT: _expected_if_alive_shared(tt / (alpha + TT), xx, r, a, b), t, x, T
    )
    return np.asarray(alive * expected, dtype=np.float64)


def _expected_if_alive_per_draw(
    u: FloatArray, x: FloatArray, draw: IntArray, params: FloatArray
) -> FloatArray:
    r"""The expectation of ``_expected_if_alive_shared`` at ``u[i]``, ``x[i]`` under ``params[draw[i]]``.

    As the BG/NBD's (see ``relmark.core.bgnbd._expected_if_alive_per_draw``): element by element
    the scalar kernel's steps, the series and the closed form each in one call for all draws
    ($\max(1, a/2) = 1$ in the series test for $a \le 2$), the bridge at $a = 1$ with its nodes
    shared by the draws; a draw with $a > 2$ takes the scalar kernel.
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
            uu, xx = u[chosen], x[chosen]
            out[chosen] = _expected_if_alive(uu, r_b + xx, np.ones_like(uu), a_b, b_b + xx + 1.0)
    shared = np.flatnonzero(~alone)
    u, x, r, a, b, draw = u[shared], x[shared], r[shared], a[shared], b[shared], draw[shared]
    shape = r + x
    b_post = b + x + 1.0
    c = a + b_post
    small = alive_series_applies(u, shape, 1.0, c)
    series = np.flatnonzero(small)
    # The series is elementwise in its a (annotated as a float).
    out[shared[series]] = alive_expectation_series(
        u[series], shape[series], cast("float", a[series]), c[series]
    )
    near_one = np.abs(a - 1.0) < _A_ONE_HALF_WIDTH
    closed = np.flatnonzero(~small & ~near_one)
    out[shared[closed]] = _expected_if_alive_off_one(
        u[closed], shape[closed], np.ones(closed.size), a[closed], b_post[closed]
    )
    bridged = np.flatnonzero(~small & near_one)
    if bridged.size:
        ub, shape_b, bb = u[bridged], shape[bridged], b_post[bridged]
        ones = np.ones(bridged.size)
        out[shared[bridged]] = bridge_per_draw(
            lambda node: _expected_if_alive_off_one(ub, shape_b, ones, node, bb),
            a[bridged],
            draw[bridged],
            half_width=_A_ONE_HALF_WIDTH,
        )
    return out


def expected_purchases_if_alive_stacked(
    t: FloatArray, x: FloatArray, T: FloatArray, params: FloatArray
) -> FloatArray:
    r"""Expected purchases in $(T, T+t]$ of a customer alive at $T$, under many parameter vectors.

    The factor of the MBG/NBD conditional expectation (BDF 2007) that multiplies
    $P(\text{alive})$, $\frac{a+b+x}{a-1}\big[1 - (\frac{\alpha+T}{\alpha+T+t})^{r+x}
    {}_2F_1(r+x, b+x+1; a+b+x; \frac{t}{\alpha+T+t})\big]$, for each row of ``params``: the
    values of ``conditional_expected_purchases`` before the product with $P(\text{alive})$,
    from the same interpolants, with the distinct $(t, x, T)$ found once for all vectors and the
    hypergeometric work of all vectors batched
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
    r"""[`conditional_expected_purchases`][relmark.core.mbgnbd.conditional_expected_purchases] under many parameter vectors.

    The MBG/NBD conditional expectation (BDF 2007) for each row $(r, \alpha, a, b)$ of
    ``params``: $P(\text{alive})$ times
    [`expected_purchases_if_alive_stacked`][relmark.core.mbgnbd.expected_purchases_if_alive_stacked].
    The result has one value per element and vector, so callers bound memory by passing blocks
    of rows.

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
    r"""$P(\text{alive at } T + t \mid x, t_x, T)$.

    An alive customer stays alive through $t$ more unless one of the purchases made meanwhile is
    followed by dropout: $E[(1-p)^{N(t)}] = e^{-\lambda p t}$. Averaging over the posterior
    $\lambda \sim \Gamma(r+x, \alpha+T)$, $p \sim \text{Beta}(a, b+x+1)$ with Euler's integral
    gives (derived here, consistent with BDF's posterior)

    $$P(\text{alive at } T+t) = P(\text{alive at } T)\;
    {}_2F_1\Big(r+x, a; a+b+x+1; -\frac{t}{\alpha+T}\Big).$$
    """
    t, x, t_x, T = (np.asarray(v, dtype=np.float64) for v in (t, x, t_x, T))
    alive = probability_alive(x, t_x, T, r, alpha, a, b)
    log_f = evaluate_per_distinct(
        lambda tt, xx, TT: log_hyp2f1(r + xx, a, a + b + xx + 1.0, -tt / (alpha + TT)), t, x, T
    )
    return np.asarray(alive * np.exp(log_f), dtype=np.float64)


def expected_purchases(t: FloatArray, r: float, alpha: float, a: float, b: float) -> FloatArray:
    r"""Unconditional $E[X(t)]$ for a customer just acquired, BDF (2007).

    $$E[X(t)] = \frac{b}{a-1}\Big[1 - \Big(\frac{\alpha}{\alpha+t}\Big)^r
    {}_2F_1\Big(r, b+1; a+b; \frac{t}{\alpha+t}\Big)\Big]:$$

    the customer survives the time-0 dropout opportunity with probability $b/(a+b)$, after which
    $p \sim \text{Beta}(a, b+1)$. Evaluated through the Pfaff-transformed single term.
    """
    t = np.asarray(t, dtype=np.float64)
    return np.asarray(
        b / (a + b) * _expected_if_alive_shared(t / alpha, np.zeros_like(t), r, a, b),
        dtype=np.float64,
    )


def probability_of_purchases(
    n: FloatArray, t: FloatArray, r: float, alpha: float, a: float, b: float
) -> FloatArray:
    r"""$P(X(t) = n)$ for a customer just acquired (BDF 2007, the MBG analogue of FHL eq. 8).

    Conditional on $(\lambda, p)$, $X(t) = n$ when the customer is still alive at $t$ after $n$
    purchases, probability $(1-p)^{n+1}\,\text{Poisson}(n; \lambda t)$, or dropped out right after
    the $n$-th purchase (at time 0 when $n = 0$), probability $p(1-p)^n P(N(t) \ge n)$. Mixing:

    $$P(X(t)=n) = \frac{B(a, b+n+1)}{B(a,b)}\,\text{NB}(n) + \frac{B(a+1, b+n)}{B(a,b)}
    \Big[1 - \sum_{j=0}^{n-1}\text{NB}(j)\Big],\quad
    \text{NB}(j) = \frac{\Gamma(r+j)}{\Gamma(r)\,j!}\Big(\frac{\alpha}{\alpha+t}\Big)^r
    \Big(\frac{t}{\alpha+t}\Big)^j.$$

    The bracket, a negative-binomial upper tail, is the regularized incomplete beta
    $I_{t/(\alpha+t)}(n, r)$ for $n \ge 1$ (and 1 at $n = 0$): no cancellation.
    """
    n, t = (np.asarray(v, dtype=np.float64) for v in np.broadcast_arrays(n, t))
    q = t / (alpha + t)
    log_nb = (
        gammaln(r + n)
        - gammaln(r)
        - gammaln(n + 1.0)
        + r * np.log(alpha / (alpha + t))
        + xlogy(n, q)
    )
    first = np.exp(betaln(a, b + n + 1.0) - betaln(a, b) + log_nb)
    positive = n > 0
    tail = np.where(positive, betainc(np.where(positive, n, 1.0), r, q), 1.0)
    second = np.exp(betaln(a + 1.0, b + n) - betaln(a, b)) * tail
    return np.asarray(first + second, dtype=np.float64)
