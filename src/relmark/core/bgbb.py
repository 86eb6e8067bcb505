r"""BG/BB kernels: likelihood, gradient and predictions on float64 arrays.

The beta-geometric/beta-Bernoulli model of Fader, Hardie & Shang (2010), "Customer-base analysis
in a discrete-time noncontractual setting", *Marketing Science* 29(6), 1086-1108 (FHS below).
At each of $n$ discrete transaction opportunities an alive customer transacts with probability
$p \sim \text{Beta}(\alpha, \beta)$; at the beginning of each opportunity (the first included)
a living customer dies with probability $\theta \sim \text{Beta}(\gamma, \delta)$. A customer is summarized by $(x, t_x, n)$:
transactions, the opportunity of the last one (0 if none) and the number of opportunities.

Conventions: inputs are float64 arrays already validated and broadcastable, with integral
values; parameters are positive floats. Kernels never validate; the public model classes do.
"""

from __future__ import annotations

import numpy as np
from scipy.special import betaln, digamma, gammaln, logsumexp, polygamma

from relmark._typing import FloatArray

__all__ = [
    "conditional_expected_transactions",
    "expected_transactions",
    "log_likelihood",
    "log_likelihood_and_gradient",
    "probability_alive",
    "probability_of_transactions",
]

# Within this distance of gamma from 1, the ratio [G(n) - G(n + m)] / (gamma - 1) of E[X(n)] and
# eq. (13) is taken from the Taylor series of ln Gamma (no cancellation, exact at gamma = 1).
_SERIES_HALF_WIDTH = 0.5
_SERIES_TERMS = 60


def _log_terms(
    x: FloatArray,
    t_x: FloatArray,
    n: FloatArray,
    alpha: float,
    beta: float,
    gamma: float,
    delta: float,
) -> FloatArray:
    r"""The terms of the FHS likelihood in logs, shape ``(rows, 1 + max(n - t_x))``; unused slots are $-\infty$.

    Column 0: alive after all $n$ opportunities,
    $\ln\frac{B(\alpha+x, \beta+n-x)}{B(\alpha,\beta)}\frac{B(\gamma, \delta+n)}{B(\gamma,\delta)}$.
    Column $1+i$ ($i = 0, \dots, n - t_x - 1$): died right after opportunity $t_x + i$,
    $\ln\frac{B(\alpha+x, \beta+t_x-x+i)}{B(\alpha,\beta)}\frac{B(\gamma+1, \delta+t_x+i)}{B(\gamma,\delta)}$.
    """
    x, t_x, n = (v[:, None] for v in (x, t_x, n))
    base = -betaln(alpha, beta) - betaln(gamma, delta)
    alive = betaln(alpha + x, beta + n - x) + betaln(gamma, delta + n) + base
    width = int(np.max(n - t_x)) if n.size else 0
    i = np.arange(width, dtype=np.float64)[None, :]
    died = betaln(alpha + x, beta + t_x - x + i) + betaln(gamma + 1.0, delta + t_x + i) + base
    died = np.where(i < n - t_x, died, -np.inf)
    return np.asarray(np.concatenate([alive, died], axis=1), dtype=np.float64)


def _flat(*arrays: FloatArray) -> tuple[FloatArray, ...]:
    return tuple(np.asarray(v, dtype=np.float64).ravel() for v in np.broadcast_arrays(*arrays))


def log_likelihood_and_gradient(
    log_params: FloatArray, x: FloatArray, t_x: FloatArray, n: FloatArray
) -> tuple[FloatArray, FloatArray]:
    r"""Per-pattern BG/BB log-likelihood and its gradient with respect to the log-parameters.

    FHS (2010), the likelihood of a pattern $(x, t_x, n)$:

    $$L = \frac{B(\alpha+x, \beta+n-x)}{B(\alpha,\beta)}\frac{B(\gamma, \delta+n)}{B(\gamma,\delta)}
    + \sum_{i=0}^{n-t_x-1}\frac{B(\alpha+x, \beta+t_x-x+i)}{B(\alpha,\beta)}
    \frac{B(\gamma+1, \delta+t_x+i)}{B(\gamma,\delta)},$$

    summed in log space (``logsumexp``). The gradient is analytic: each term's derivative is a
    combination of digammas, weighted by the term's share of $L$.

    Args:
        log_params: $(\ln\alpha, \ln\beta, \ln\gamma, \ln\delta)$.
        x: Transactions.
        t_x: Opportunity of the last transaction (0 if none).
        n: Number of opportunities.

    Returns:
        ``(ll, grad)``: ``ll`` of shape ``(rows,)`` and ``grad`` of shape ``(rows, 4)``.
    """
    alpha, beta, gamma, delta = (float(v) for v in np.exp(log_params))
    x, t_x, n = _flat(x, t_x, n)
    terms = _log_terms(x, t_x, n, alpha, beta, gamma, delta)
    ll = logsumexp(terms, axis=1)
    weights = np.exp(terms - ll[:, None])
    width = terms.shape[1] - 1
    i = np.arange(width, dtype=np.float64)[None, :]
    x2, t2, n2 = x[:, None], t_x[:, None], n[:, None]
    # Opportunities "survived" by each term (n for the alive term, t_x + i for the others) and
    # the matching digamma derivatives of ln B(alpha + x, beta + k - x) and of the theta part.
    k = np.concatenate([n2, t2 + i], axis=1)
    died = np.concatenate([np.zeros_like(n2), np.ones_like(t2 + i)], axis=1)
    d_alpha = (
        digamma(alpha + x2) - digamma(alpha + beta + k) - digamma(alpha) + digamma(alpha + beta)
    )
    d_beta = (
        digamma(np.maximum(beta + k - x2, beta))
        - digamma(alpha + beta + k)
        - digamma(beta)
        + digamma(alpha + beta)
    )
    d_gamma = (
        digamma(gamma + died)
        - digamma(gamma + delta + died + k)
        - digamma(gamma)
        + digamma(gamma + delta)
    )
    d_delta = (
        digamma(delta + k)
        - digamma(gamma + delta + died + k)
        - digamma(delta)
        + digamma(gamma + delta)
    )
    grad = np.empty((ll.size, 4), dtype=np.float64)
    for j, (value, d) in enumerate(
        ((alpha, d_alpha), (beta, d_beta), (gamma, d_gamma), (delta, d_delta))
    ):
        grad[:, j] = value * np.sum(np.where(weights > 0, weights * d, 0.0), axis=1)
    return np.asarray(ll, dtype=np.float64), grad


def log_likelihood(
    x: FloatArray,
    t_x: FloatArray,
    n: FloatArray,
    alpha: float,
    beta: float,
    gamma: float,
    delta: float,
) -> FloatArray:
    """Per-pattern BG/BB log-likelihood, FHS (2010).

    See [`log_likelihood_and_gradient`][relmark.core.bgbb.log_likelihood_and_gradient].
    """
    shape = np.broadcast_shapes(np.shape(x), np.shape(t_x), np.shape(n))
    x, t_x, n = _flat(x, t_x, n)
    terms = _log_terms(x, t_x, n, alpha, beta, gamma, delta)
    return np.asarray(logsumexp(terms, axis=1), dtype=np.float64).reshape(shape)


def probability_alive(
    m: FloatArray,
    x: FloatArray,
    t_x: FloatArray,
    n: FloatArray,
    alpha: float,
    beta: float,
    gamma: float,
    delta: float,
) -> FloatArray:
    r"""$P(\text{alive in period } n + m \mid x, t_x, n)$; FHS (2010) (their expression is $m = 1$).

    $$P(\text{alive in } n+m) = \frac{B(\alpha+x, \beta+n-x)}{B(\alpha,\beta)}
    \frac{B(\gamma, \delta+n+m)}{B(\gamma,\delta)}\Big/L(\alpha,\beta,\gamma,\delta\mid x, t_x, n):$$

    alive through all $n$ observed opportunities, then surviving the $m$ death draws at the
    start of opportunities $n+1, \dots, n+m$. The numerator is the likelihood's own "alive"
    term times the survival factor $B(\gamma, \delta+n+m)/B(\gamma, \delta+n) \le 1$, so the
    ratio is a share of the same log-sum and at most 1 mathematically; the log of the result is
    capped at 0, which only removes the rounding of ``logsumexp`` (a few ulp), never a real
    excess.
    """
    shape = np.broadcast_shapes(np.shape(m), np.shape(x), np.shape(t_x), np.shape(n))
    m, x, t_x, n = _flat(m, x, t_x, n)
    terms = _log_terms(x, t_x, n, alpha, beta, gamma, delta)
    ll = logsumexp(terms, axis=1)
    survival = betaln(gamma, delta + n + m) - betaln(gamma, delta + n)
    log_alive = np.minimum(terms[:, 0] - ll + np.minimum(survival, 0.0), 0.0)
    return np.asarray(np.exp(log_alive), dtype=np.float64).reshape(shape)


def _mean_digamma(u: FloatArray, eps: float) -> FloatArray:
    r"""$[\ln\Gamma(u+\varepsilon) - \ln\Gamma(u)]/\varepsilon = \sum_{k\ge1}\varepsilon^{k-1}\psi^{(k-1)}(u)/k!$.

    The Taylor series of $\ln\Gamma$ (A&S 6.4.1 for the derivatives), convergent for
    $|\varepsilon| < u$; for $u > 1$ and $|\varepsilon| \le 0.5$ the terms fall at least like
    $0.5^{k-1}\zeta(k)/k$, so ``_SERIES_TERMS`` terms leave a relative error below $10^{-17}$.
    """
    total = np.zeros_like(u)
    power, factorial = 1.0, 1.0
    for k in range(1, _SERIES_TERMS + 1):
        factorial *= k
        total += power / factorial * (digamma(u) if k == 1 else polygamma(k - 1, u))
        power *= eps
    return total


def _survival_ratio_difference(
    start: FloatArray, horizon: FloatArray, gamma: float, delta: float
) -> FloatArray:
    r"""$\frac{\delta}{\gamma-1}\frac{\Gamma(\gamma+\delta)}{\Gamma(1+\delta)}\Big[\frac{\Gamma(1+\delta+s)}{\Gamma(\gamma+\delta+s)} - \frac{\Gamma(1+\delta+s+h)}{\Gamma(\gamma+\delta+s+h)}\Big]$.

    The common factor of FHS's $E[X(n)]$ and of eq. (13): expected number of the next $h$ opportunities
    (after $s$) at which a customer alive at $s$ is still alive, times nothing else. Written as
    $g(\gamma) = e^{A} - e^{B}$ with $A = \ln\Gamma(1+\delta+s) - \ln\Gamma(\gamma+\delta+s)$.
    Near $\gamma = 1$, where $g(\gamma)/(\gamma-1)$ is $0/0$ and the differences of $\ln\Gamma$
    cancel, $A = -\varepsilon M(u)$ and $B = -\varepsilon M(v)$ with $\varepsilon = \gamma - 1$,
    $u = 1+\delta+s$, $v = u + h$ and $M$ the mean of $\psi$ over $[u, u+\varepsilon]$ (its
    Taylor series, ``_mean_digamma``), so
    $$\frac{g}{\varepsilon} = e^{A}\,[M(v) - M(u)]\;\frac{\operatorname{expm1}(x)}{x}\Big|_{x =
    \varepsilon[M(u) - M(v)]},$$
    exact at $\varepsilon = 0$ and free of cancellation for $|\varepsilon| \le 0.5$.
    """
    log_front = np.log(delta) + gammaln(gamma + delta) - gammaln(1.0 + delta)
    eps = gamma - 1.0
    if abs(eps) <= _SERIES_HALF_WIDTH:
        u = 1.0 + delta + start
        mean_u = _mean_digamma(u, eps)
        mean_v = _mean_digamma(u + horizon, eps)
        x = eps * (mean_u - mean_v)
        small = np.abs(x) < 1e-8
        with np.errstate(divide="ignore", invalid="ignore"):
            relative = np.where(small, 1.0 + x / 2.0, np.expm1(x) / np.where(small, 1.0, x))
        ratio = np.exp(-eps * mean_u) * (mean_v - mean_u) * relative
        return np.asarray(np.exp(log_front) * ratio, dtype=np.float64)
    a = gammaln(1.0 + delta + start) - gammaln(gamma + delta + start)
    b = gammaln(1.0 + delta + start + horizon) - gammaln(gamma + delta + start + horizon)
    g = np.exp(a) * -np.expm1(b - a)
    return np.asarray(np.exp(log_front) * g / (gamma - 1.0), dtype=np.float64)


def conditional_expected_transactions(
    n_star: FloatArray,
    x: FloatArray,
    t_x: FloatArray,
    n: FloatArray,
    alpha: float,
    beta: float,
    gamma: float,
    delta: float,
) -> FloatArray:
    r"""$E[X(n, n+n^*) \mid x, t_x, n]$: expected transactions in the next $n^*$ opportunities, FHS (2010) eq. (13).

    $$\frac{1}{L}\frac{B(\alpha+x+1, \beta+n-x)}{B(\alpha,\beta)}\frac{\delta}{\gamma-1}
    \frac{\Gamma(\gamma+\delta)}{\Gamma(1+\delta)}\Big[\frac{\Gamma(1+\delta+n)}{\Gamma(\gamma+\delta+n)}
    - \frac{\Gamma(1+\delta+n+n^*)}{\Gamma(\gamma+\delta+n+n^*)}\Big],$$

    with the limit at $\gamma = 1$ handled as in the unconditional expectation.

    Args:
        n_star: Number of future opportunities.
        x: Transactions.
        t_x: Opportunity of the last transaction.
        n: Number of observed opportunities.
        alpha: First beta parameter of the transaction probability.
        beta: Second beta parameter of the transaction probability.
        gamma: First beta parameter of the dropout probability.
        delta: Second beta parameter of the dropout probability.

    Returns:
        The broadcast shape of the inputs.
    """
    shape = np.broadcast_shapes(np.shape(n_star), np.shape(x), np.shape(t_x), np.shape(n))
    n_star, x, t_x, n = _flat(n_star, x, t_x, n)
    ll = logsumexp(_log_terms(x, t_x, n, alpha, beta, gamma, delta), axis=1)
    log_p = betaln(alpha + x + 1.0, beta + n - x) - betaln(alpha, beta)
    survival = _survival_ratio_difference(n, n_star, gamma, delta)
    return np.asarray(np.exp(log_p - ll) * survival, dtype=np.float64).reshape(shape)


def expected_transactions(
    n: FloatArray, alpha: float, beta: float, gamma: float, delta: float
) -> FloatArray:
    r"""Unconditional $E[X(n)]$ in the first $n$ opportunities, FHS (2010).

    $$E[X(n)] = \frac{\alpha}{\alpha+\beta}\frac{\delta}{\gamma-1}\Big[1 -
    \frac{\Gamma(\gamma+\delta)}{\Gamma(\gamma+\delta+n)}\frac{\Gamma(1+\delta+n)}{\Gamma(1+\delta)}\Big].$$
    """
    n = np.asarray(n, dtype=np.float64)
    survival = _survival_ratio_difference(np.zeros_like(n), n, gamma, delta)
    return np.asarray(alpha / (alpha + beta) * survival, dtype=np.float64)


def probability_of_transactions(
    x: FloatArray, n: FloatArray, alpha: float, beta: float, gamma: float, delta: float
) -> FloatArray:
    r"""$P(X(n) = x)$: probability of $x$ transactions in the first $n$ opportunities, FHS (2010) eq. (7).

    $$P(X(n)=x) = \binom{n}{x}\frac{B(\alpha+x, \beta+n-x)}{B(\alpha,\beta)}
    \frac{B(\gamma, \delta+n)}{B(\gamma,\delta)} + \sum_{i=x}^{n-1}\binom{i}{x}
    \frac{B(\alpha+x, \beta+i-x)}{B(\alpha,\beta)}\frac{B(\gamma+1, \delta+i)}{B(\gamma,\delta)},$$

    summed in log space. Multiplied by a cohort size it is the expected number of customers with
    $x$ transactions.
    """
    shape = np.broadcast_shapes(np.shape(x), np.shape(n))
    x, n = _flat(x, n)
    base = -betaln(alpha, beta) - betaln(gamma, delta)
    alive = _log_binomial(n, x) + betaln(alpha + x, beta + n - x) + betaln(gamma, delta + n) + base
    width = int(np.max(n)) if n.size else 0
    i = np.arange(width, dtype=np.float64)[None, :]
    x2, n2 = x[:, None], n[:, None]
    valid = (i >= x2) & (i < n2)
    safe_i = np.where(valid, i, x2)
    died = (
        _log_binomial(safe_i, x2)
        + betaln(alpha + x2, beta + safe_i - x2)
        + betaln(gamma + 1.0, delta + safe_i)
        + base
    )
    terms = np.concatenate([alive[:, None], np.where(valid, died, -np.inf)], axis=1)
    log_p = logsumexp(terms, axis=1)
    return np.asarray(np.where(x <= n, np.exp(log_p), 0.0), dtype=np.float64).reshape(shape)


def _log_binomial(n: FloatArray, k: FloatArray) -> FloatArray:
    return np.asarray(gammaln(n + 1.0) - gammaln(k + 1.0) - gammaln(n - k + 1.0), dtype=np.float64)
