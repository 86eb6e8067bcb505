r"""Pareto/NBD kernels: likelihood, gradient and predictions on float64 arrays.

The Pareto/NBD model of Schmittlein, Morrison & Colombo (1987), "Counting your customers: who
are they and what will they do next?", *Management Science* 33(1), 1-24 (SMC below). While alive
a customer buys at Poisson rate $\lambda \sim \text{Gamma}(r, \alpha)$; the unobserved lifetime
is exponential with rate $\mu \sim \text{Gamma}(s, \beta)$, independent of $\lambda$.

Expressions follow Fader & Hardie's notes: "A note on deriving the Pareto/NBD model and related
expressions" (2005, FH-05 below) and "Deriving an expression for $P(X(t)=x)$ under the Pareto/NBD
model" (2006, FH-06 below). Every ${}_2F_1$ is evaluated in logs by
[`log_hyp2f1`][relmark.core.special.log_hyp2f1], with the argument chosen in $[0, 1)$
according to whether $\alpha \ge \beta$ or $\beta > \alpha$ and its complement $1 - z$ passed exactly
(as a ratio of $\alpha + t$ and $\beta + t$) for arguments close to 1, so no power of $\alpha + T$ is ever
formed outside the log domain: the likelihood stays finite for customers with thousands of
purchases, where direct evaluation overflows.

Conventions: inputs are float64 arrays already validated and broadcastable (``x`` = repeat
purchases, ``t_x`` = recency, ``T`` = age, in the time unit of $\alpha$ and $\beta$); parameters
are positive floats. Kernels never validate; the public model classes do.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.special import betaln, digamma, gammaln, logsumexp, xlogy

from relmark.core.special import log_hyp2f1
from relmark.typing import FloatArray

__all__ = [
    "conditional_expected_purchases",
    "expected_purchases",
    "log_likelihood",
    "log_likelihood_and_gradient",
    "probability_alive",
    "probability_alive_at",
    "probability_of_purchases",
]

# Relative step (in log-parameter) of the five-point stencil that differentiates the
# hypergeometric part of the likelihood with respect to ln r and ln s; truncation error is
# O(h^4) ~ 1e-12 and rounding error O(eps / h) ~ 1e-13 times the size of the term.
_STENCIL_STEP = 1e-3


def _log_g(
    t: FloatArray, x: FloatArray, r: float, alpha: float, s: float, beta: float
) -> FloatArray:
    r"""$\ln$ of one end of FH-05's $A_0$ (§3, the likelihood), times nothing else.

    For $\alpha \ge \beta$: $(\alpha+t)^{-(r+s+x)}\,{}_2F_1(r+s+x, s+1; r+s+x+1;
    \frac{\alpha-\beta}{\alpha+t})$; for $\beta > \alpha$: $(\beta+t)^{-(r+s+x)}\,
    {}_2F_1(r+s+x, r+x; r+s+x+1; \frac{\beta-\alpha}{\beta+t})$. Both arguments lie in $[0, 1)$.
    """
    a = r + s + x
    if alpha >= beta:
        base = alpha + t
        z = (alpha - beta) / base
        b = np.full_like(z, s + 1.0)
        log1m_z = np.log(beta + t) - np.log(base)
    else:
        base = beta + t
        z = (beta - alpha) / base
        b = r + x + np.zeros_like(z)
        log1m_z = np.log(alpha + t) - np.log(base)
    log_f = log_hyp2f1(a, b, a + 1.0, z, log1m_z=log1m_z)
    return np.asarray(-a * np.log(base) + log_f, dtype=np.float64)


def _log_integral(
    x: FloatArray, t_x: FloatArray, T: FloatArray, r: float, alpha: float, s: float, beta: float
) -> FloatArray:
    r"""$\ln\int_{t_x}^{T}(\alpha+\tau)^{-(r+x)}(\beta+\tau)^{-(s+1)}\,d\tau$ ($-\infty$ if $t_x = T$).

    FH-05 §3: the integral equals $A_0/(r+s+x)$, a difference of two hypergeometric terms
    taken as $\ln(e^{u} - e^{v}) = u + \ln(-\operatorname{expm1}(v - u))$.
    """
    upper = _log_g(t_x, x, r, alpha, s, beta)
    lower = _log_g(T, x, r, alpha, s, beta)
    gap = np.minimum(lower - upper, 0.0)
    with np.errstate(divide="ignore"):
        log_diff = upper + np.log(-np.expm1(gap))
    return np.asarray(np.where(t_x < T, log_diff - np.log(r + s + x), -np.inf), dtype=np.float64)


def _log_terms(
    x: FloatArray, t_x: FloatArray, T: FloatArray, r: float, alpha: float, s: float, beta: float
) -> tuple[FloatArray, FloatArray]:
    r"""The two terms of the likelihood bracket, FH-05 §3, in logs.

    ``alive`` $= -(r+x)\ln(\alpha+T) - s\ln(\beta+T)$ (alive at $T$) and ``died``
    $= \ln s + \ln\int_{t_x}^T(\alpha+\tau)^{-(r+x)}(\beta+\tau)^{-(s+1)}d\tau$ (died in
    $(t_x, T]$).
    """
    alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    died = np.log(s) + _log_integral(x, t_x, T, r, alpha, s, beta)
    return np.asarray(alive, dtype=np.float64), died


def _log_bracket(
    x: FloatArray, t_x: FloatArray, T: FloatArray, r: float, alpha: float, s: float, beta: float
) -> FloatArray:
    alive, died = _log_terms(x, t_x, T, r, alpha, s, beta)
    return np.asarray(np.logaddexp(alive, died), dtype=np.float64)


def log_likelihood_and_gradient(
    log_params: FloatArray, x: FloatArray, t_x: FloatArray, T: FloatArray
) -> tuple[FloatArray, FloatArray]:
    r"""Per-customer Pareto/NBD log-likelihood and its gradient with respect to the log-parameters.

    SMC (1987) as written in FH-05 §3 (the likelihood function):

    $$\ln L = \ln\Gamma(r+x) - \ln\Gamma(r) + r\ln\alpha + s\ln\beta
    + \ln\Big[\frac{1}{(\alpha+T)^{r+x}(\beta+T)^{s}} + s\,I(r, s)\Big],\qquad
    I(r, s) = \int_{t_x}^{T}\frac{d\tau}{(\alpha+\tau)^{r+x}(\beta+\tau)^{s+1}}
    = \frac{A_0}{r+s+x}.$$

    Gradient. The terms outside the bracket are differentiated analytically (digamma). Inside
    the bracket, the derivatives in $\alpha$ and $\beta$ are analytic as well, because
    differentiating under the integral gives integrals of the same family:
    $\partial_\alpha I = -(r+x)\,I(r+1, s)$ and $\partial_\beta I = -(s+1)\,I(r, s+1)$.
    The derivatives in $\ln r$ and $\ln s$ of the log-bracket (which involve derivatives of
    ${}_2F_1$ with respect to its parameters, with no closed form in ${}_2F_1$) are computed by
    the **fourth-order five-point central-difference stencil**
    $f' \approx [f(-2h) - 8f(-h) + 8f(h) - f(2h)]/(12h)$ in $\ln r$ and $\ln s$, $h = 10^{-3}$,
    applied to the smooth function $\ln[\cdot]$ (absolute error about $10^{-10}$).

    Args:
        log_params: $(\ln r, \ln\alpha, \ln s, \ln\beta)$.
        x: Repeat purchases.
        t_x: Recency.
        T: Age.

    Returns:
        ``(ll, grad)``: ``ll`` of shape ``(n,)`` and ``grad`` of shape ``(n, 4)``.
    """
    r, alpha, s, beta = (float(v) for v in np.exp(log_params))
    x, t_x, T = (np.asarray(v, dtype=np.float64) for v in np.broadcast_arrays(x, t_x, T))
    alive, died = _log_terms(x, t_x, T, r, alpha, s, beta)
    bracket = np.logaddexp(alive, died)
    w_alive = np.exp(alive - bracket)
    ll = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta) + bracket

    log_s = np.log(s)
    died_r1 = log_s + _log_integral(x, t_x, T, r + 1.0, alpha, s, beta)
    died_s1 = log_s + _log_integral(x, t_x, T, r, alpha, s + 1.0, beta)
    d_alpha = -(r + x) * (w_alive / (alpha + T) + np.exp(died_r1 - bracket))
    d_beta = -s * w_alive / (beta + T) - (s + 1.0) * np.exp(died_s1 - bracket)

    h = _STENCIL_STEP
    d_log_r = _stencil(lambda k: _log_bracket(x, t_x, T, r * np.exp(k * h), alpha, s, beta), h)
    d_log_s = _stencil(lambda k: _log_bracket(x, t_x, T, r, alpha, s * np.exp(k * h), beta), h)

    grad = np.empty((np.size(ll), 4), dtype=np.float64)
    grad[:, 0] = (r * (digamma(r + x) - digamma(r) + np.log(alpha)) + d_log_r).ravel()
    grad[:, 1] = (r + alpha * d_alpha).ravel()
    grad[:, 2] = (s * np.log(beta) + d_log_s).ravel()
    grad[:, 3] = (s + beta * d_beta).ravel()
    return np.asarray(ll, dtype=np.float64).ravel(), grad


def _stencil(f: Callable[[float], FloatArray], h: float) -> FloatArray:
    """Five-point central difference $[f(-2) - 8f(-1) + 8f(1) - f(2)]/(12h)$ of ``f(k)``."""
    total = f(-2.0) - 8.0 * f(-1.0) + 8.0 * f(1.0) - f(2.0)
    return np.asarray(total / (12.0 * h), dtype=np.float64)


def log_likelihood(
    x: FloatArray, t_x: FloatArray, T: FloatArray, r: float, alpha: float, s: float, beta: float
) -> FloatArray:
    """Per-customer Pareto/NBD log-likelihood, SMC (1987) in the form of FH-05 §3.

    The value part of
    [`log_likelihood_and_gradient`][relmark.core.paretonbd.log_likelihood_and_gradient], without
    the gradient's extra evaluations.
    """
    x, t_x, T = (np.asarray(v, dtype=np.float64) for v in np.broadcast_arrays(x, t_x, T))
    bracket = _log_bracket(x, t_x, T, r, alpha, s, beta)
    return np.asarray(
        gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta) + bracket,
        dtype=np.float64,
    )


def probability_alive(
    x: FloatArray, t_x: FloatArray, T: FloatArray, r: float, alpha: float, s: float, beta: float
) -> FloatArray:
    r"""$P(\text{alive at } T \mid x, t_x, T)$, SMC (1987); FH-05 §5.

    $$P(\text{alive}) = \Big[1 + \frac{s}{r+s+x}(\alpha+T)^{r+x}(\beta+T)^{s}A_0\Big]^{-1},$$

    the share of the "alive at $T$" term in the likelihood bracket, computed as
    $\exp(\text{alive} - \text{logaddexp}(\text{alive}, \text{died}))$ so it stays in $[0, 1]$.
    """
    x, t_x, T = (np.asarray(v, dtype=np.float64) for v in np.broadcast_arrays(x, t_x, T))
    alive, died = _log_terms(x, t_x, T, r, alpha, s, beta)
    return np.asarray(np.exp(alive - np.logaddexp(alive, died)), dtype=np.float64)


def probability_alive_at(
    t: FloatArray,
    x: FloatArray,
    t_x: FloatArray,
    T: FloatArray,
    r: float,
    alpha: float,
    s: float,
    beta: float,
) -> FloatArray:
    r"""$P(\text{alive at } T + t \mid x, t_x, T)$.

    Given alive at $T$ and the history, $\mu \sim \text{Gamma}(s, \beta + T)$ (the posterior
    behind FH-05 §6), so surviving $t$ more has probability
    $E[e^{-\mu t}] = (\frac{\beta+T}{\beta+T+t})^{s}$:

    $$P(\text{alive at } T+t) = P(\text{alive at } T)\Big(\frac{\beta+T}{\beta+T+t}\Big)^{s}.$$
    """
    t, x, t_x, T = (np.asarray(v, dtype=np.float64) for v in np.broadcast_arrays(t, x, t_x, T))
    alive = probability_alive(x, t_x, T, r, alpha, s, beta)
    return np.asarray(alive * np.exp(-s * np.log1p(t / (beta + T))), dtype=np.float64)


def _mean_alive_time(t: FloatArray, shape: float, scale: FloatArray) -> FloatArray:
    r"""$E[\min(\text{remaining lifetime}, t)] = \frac{\text{scale}}{\text{shape}-1}[1 - (\frac{\text{scale}}{\text{scale}+t})^{\text{shape}-1}]$.

    Written as $\text{scale}\cdot(-\operatorname{expm1}(c y))/c$ with $c = \text{shape} - 1$ and
    $y = -\ln(1 + t/\text{scale})$, which is accurate for $c$ near 0 and equals its limit
    $\text{scale}\ln(1 + t/\text{scale})$ at $c = 0$.
    """
    y = -np.log1p(t / scale)
    c = shape - 1.0
    if c == 0.0:
        return np.asarray(-scale * y, dtype=np.float64)
    return np.asarray(scale * -np.expm1(c * y) / c, dtype=np.float64)


def conditional_expected_purchases(
    t: FloatArray,
    x: FloatArray,
    t_x: FloatArray,
    T: FloatArray,
    r: float,
    alpha: float,
    s: float,
    beta: float,
) -> FloatArray:
    r"""$E[X(T, T+t] \mid x, t_x, T]$: expected purchases in the next $t$, SMC (1987); FH-05 §6.

    FH-05 §6:

    $$E[Y(t)\mid x, t_x, T] = \frac{(r+x)(\beta+T)}{(\alpha+T)(s-1)}
    \Big[1 - \Big(\frac{\beta+T}{\beta+T+t}\Big)^{s-1}\Big]\,P(\text{alive}),$$

    with the limit $\frac{r+x}{\alpha+T}(\beta+T)\ln\frac{\beta+T+t}{\beta+T}$ at $s = 1$
    (both evaluated by ``expm1``, accurate for $s$ near 1).

    Args:
        t: Forecast horizons (broadcast against the customer arrays).
        x: Repeat purchases.
        t_x: Recency.
        T: Age.
        r: Shape of the purchase-rate gamma.
        alpha: Scale of the purchase-rate gamma.
        s: Shape of the dropout-rate gamma.
        beta: Scale of the dropout-rate gamma.

    Returns:
        The broadcast shape of ``t``, ``x``, ``t_x``, ``T``.
    """
    t, x, t_x, T = (np.asarray(v, dtype=np.float64) for v in np.broadcast_arrays(t, x, t_x, T))
    alive = probability_alive(x, t_x, T, r, alpha, s, beta)
    rate = (r + x) / (alpha + T)
    return np.asarray(alive * rate * _mean_alive_time(t, s, beta + T), dtype=np.float64)


def expected_purchases(t: FloatArray, r: float, alpha: float, s: float, beta: float) -> FloatArray:
    r"""Unconditional $E[X(t)]$ for a customer just acquired, SMC (1987); FH-05 §4.

    $$E[X(t)] = \frac{r\beta}{\alpha(s-1)}\Big[1 - \Big(\frac{\beta}{\beta+t}\Big)^{s-1}\Big],$$

    with the limit $\frac{r\beta}{\alpha}\ln(1 + t/\beta)$ at $s = 1$.
    """
    t = np.asarray(t, dtype=np.float64)
    return np.asarray(r / alpha * _mean_alive_time(t, s, np.full_like(t, beta)), dtype=np.float64)


def _log_b_term(
    shape: FloatArray,
    t: FloatArray,
    x: FloatArray,
    r: float,
    alpha: float,
    s: float,
    beta: float,
) -> FloatArray:
    r"""$\ln B$ of FH-06: ${}_2F_1(\text{shape}, s+1; r+s+x+1; \frac{\alpha-\beta}{\alpha+t})/(\alpha+t)^{\text{shape}}$ (or the $\beta > \alpha$ form)."""
    c = r + s + x + 1.0
    if alpha >= beta:
        base = alpha + t
        z = (alpha - beta) / base
        b = s + 1.0 + np.zeros_like(z)
        log1m_z = np.log(beta + t) - np.log(base)
    else:
        base = beta + t
        z = (beta - alpha) / base
        b = r + x + np.zeros_like(z)
        log1m_z = np.log(alpha + t) - np.log(base)
    shape, b, c, z, base, log1m_z = np.broadcast_arrays(shape, b, c, z, base, log1m_z)
    log_f = log_hyp2f1(shape, b, c, z, log1m_z=log1m_z)
    return np.asarray(-shape * np.log(base) + log_f, dtype=np.float64)


def probability_of_purchases(
    n: FloatArray, t: FloatArray, r: float, alpha: float, s: float, beta: float
) -> FloatArray:
    r"""$P(X(t) = n)$ for a customer just acquired, FH-06 §4, with its $B_1$, $B_2$ terms.

    $$P(X(t)=n) = \frac{\Gamma(r+n)}{\Gamma(r)\,n!}\Big(\frac{\alpha}{\alpha+t}\Big)^r
    \Big(\frac{t}{\alpha+t}\Big)^n\Big(\frac{\beta}{\beta+t}\Big)^s
    + \alpha^r\beta^s\frac{B(r+n, s+1)}{B(r, s)}\Big[B_1 - \sum_{i=0}^{n}
    \frac{\Gamma(r+s+i)}{\Gamma(r+s)\,i!}\,t^i B_{2,i}\Big],$$

    with, for $\alpha \ge \beta$, $B_1 = {}_2F_1(r+s, s+1; r+s+n+1; \frac{\alpha-\beta}{\alpha})
    /\alpha^{r+s}$ and $B_{2,i} = {}_2F_1(r+s+i, s+1; r+s+n+1; \frac{\alpha-\beta}{\alpha+t})
    /(\alpha+t)^{r+s+i}$ (and the mirrored forms with $\beta$ when $\beta > \alpha$). Every term
    is a log; the bracket is a difference of positive numbers taken as ``logdiffexp``. It is
    non-negative by construction (it is the probability of having died after the $n$-th purchase
    within $(0, t]$); when $t$ is so small that the bracket is below the rounding error of
    $B_1$, it evaluates to 0.

    Args:
        n: Numbers of purchases (non-negative integers as floats).
        t: Lengths of the period, broadcast against ``n``.
        r: Shape of the purchase-rate gamma.
        alpha: Scale of the purchase-rate gamma.
        s: Shape of the dropout-rate gamma.
        beta: Scale of the dropout-rate gamma.

    Returns:
        The broadcast shape of ``n`` and ``t``.
    """
    n, t = (np.asarray(v, dtype=np.float64) for v in np.broadcast_arrays(n, t))
    shape_out = n.shape
    n, t = n.ravel(), t.ravel()
    log_first = (
        gammaln(r + n)
        - gammaln(r)
        - gammaln(n + 1.0)
        + r * np.log(alpha / (alpha + t))
        + xlogy(n, t / (alpha + t))
        + s * np.log(beta / (beta + t))
    )
    log_coef = r * np.log(alpha) + s * np.log(beta) + betaln(r + n, s + 1.0) - betaln(r, s)
    log_b1 = _log_b_term(np.full_like(n, r + s), np.zeros_like(t), n, r, alpha, s, beta)
    max_n = int(n.max()) if n.size else 0
    i = np.arange(max_n + 1, dtype=np.float64)[None, :]
    n2, t2 = n[:, None], t[:, None]
    log_b2 = (
        gammaln(r + s + i)
        - gammaln(r + s)
        - gammaln(i + 1.0)
        + xlogy(i, t2)
        + _log_b_term(r + s + i, t2, n2, r, alpha, s, beta)
    )
    log_sum = logsumexp(np.where(i <= n2, log_b2, -np.inf), axis=1)
    gap = np.minimum(log_sum - log_b1, 0.0)
    with np.errstate(divide="ignore"):
        log_bracket = log_b1 + np.log(-np.expm1(gap))
    total = np.exp(log_first) + np.exp(log_coef + log_bracket)
    return np.asarray(total, dtype=np.float64).reshape(shape_out)
