r"""Shifted-beta-geometric (sBG) kernels for contractual settings, on float64 arrays.

Fader & Hardie (2007), "How to project customer retention", *Journal of Interactive Marketing*
21(1), 76-90 (FH-07 below): at the end of each period an active customer cancels with
probability $\theta \sim \text{Beta}(\alpha, \beta)$, so the lifetime $T \in \{1, 2, \dots\}$
(the period in which the customer churns) is shifted-geometric given $\theta$. Valuation follows
Fader & Hardie (2010), "Customer-base valuation in a contractual setting: the perils of ignoring
heterogeneity", *Marketing Science* 29(1), 85-93 (FH-10 below).

Data enter in the individual form "observed for $t$ periods, churned in period $t$ (or still
active after period $t$)"; a cohort's survivor counts are turned into that form by
[`cohort_rows`][relmark.core.sbg.cohort_rows].

Conventions: inputs are float64 arrays already validated and broadcastable, with integral
values; parameters are positive floats. Kernels never validate; the public model classes do.
"""

from __future__ import annotations

import numpy as np
from scipy.special import betaln, digamma

from relmark._typing import FloatArray
from relmark.core.special import log_hyp2f1

__all__ = [
    "churn_probability",
    "cohort_rows",
    "discounted_expected_residual_lifetime",
    "expected_lifetime",
    "log_likelihood",
    "log_likelihood_and_gradient",
    "retention_rate",
    "survival",
]


def churn_probability(t: FloatArray, alpha: float, beta: float) -> FloatArray:
    r"""$P(T = t) = B(\alpha+1, \beta+t-1)/B(\alpha,\beta)$, $t = 1, 2, \dots$; FH-07."""
    t = np.asarray(t, dtype=np.float64)
    return np.asarray(
        np.exp(betaln(alpha + 1.0, beta + t - 1.0) - betaln(alpha, beta)), dtype=np.float64
    )


def survival(t: FloatArray, alpha: float, beta: float) -> FloatArray:
    r"""$S(t) = P(T > t) = B(\alpha, \beta+t)/B(\alpha,\beta)$, $t = 0, 1, \dots$; FH-07."""
    t = np.asarray(t, dtype=np.float64)
    return np.asarray(np.exp(betaln(alpha, beta + t) - betaln(alpha, beta)), dtype=np.float64)


def retention_rate(t: FloatArray, alpha: float, beta: float) -> FloatArray:
    r"""$r_t = S(t)/S(t-1) = (\beta+t-1)/(\alpha+\beta+t-1)$, $t = 1, 2, \dots$; FH-07.

    Increasing in $t$: the cohort sorts itself, the high-$\theta$ customers leaving first.
    """
    t = np.asarray(t, dtype=np.float64)
    return np.asarray((beta + t - 1.0) / (alpha + beta + t - 1.0), dtype=np.float64)


def cohort_rows(survivors: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    r"""Turn a cohort's survivor counts $n_0, n_1, \dots, n_k$ into weighted individual rows.

    FH-07: $n_{t-1} - n_t$ customers churned in period $t$ ($t = 1, \dots, k$) and
    $n_k$ are still active after period $k$ (censored).

    Args:
        survivors: Non-increasing counts, starting with the cohort size at $t = 0$.

    Returns:
        ``(t, churned, weights)``: periods observed, 1.0 for churned / 0.0 for censored, and the
        number of customers in each row (length $k + 1$).
    """
    survivors = np.asarray(survivors, dtype=np.float64)
    k = survivors.size - 1
    periods = np.arange(1, k + 1, dtype=np.float64)
    t = np.concatenate([periods, [float(k)]])
    churned = np.concatenate([np.ones(k), [0.0]])
    weights = np.concatenate([survivors[:-1] - survivors[1:], survivors[-1:]])
    return t, churned, np.asarray(weights, dtype=np.float64)


def log_likelihood_and_gradient(
    log_params: FloatArray, t: FloatArray, churned: FloatArray
) -> tuple[FloatArray, FloatArray]:
    r"""Per-row sBG log-likelihood and its gradient with respect to $(\ln\alpha, \ln\beta)$.

    FH-07's likelihood, one row at a time: a customer who churned in period $t$ contributes
    $\ln P(T = t)$, one still active after $t$ periods contributes $\ln S(t)$. With
    $\partial_a \ln B(a, b) = \psi(a) - \psi(a+b)$ the gradient is analytic:

    - churned: $\partial_\alpha = \psi(\alpha+1) - \psi(\alpha) + \psi(\alpha+\beta) - \psi(\alpha+\beta+t)$,
      $\partial_\beta = \psi(\beta+t-1) - \psi(\beta) + \psi(\alpha+\beta) - \psi(\alpha+\beta+t)$;
    - censored: $\partial_\alpha = \psi(\alpha+\beta) - \psi(\alpha+\beta+t)$,
      $\partial_\beta = \psi(\beta+t) - \psi(\beta) + \psi(\alpha+\beta) - \psi(\alpha+\beta+t)$.

    Args:
        log_params: $(\ln\alpha, \ln\beta)$.
        t: Periods observed ($\ge 1$ for churned rows, $\ge 0$ for censored rows).
        churned: 1.0 if the customer churned in period ``t``, 0.0 if still active after it.

    Returns:
        ``(ll, grad)``: ``ll`` of shape ``(rows,)`` and ``grad`` of shape ``(rows, 2)``.
    """
    alpha, beta = (float(v) for v in np.exp(log_params))
    t, churned = (np.asarray(v, dtype=np.float64).ravel() for v in np.broadcast_arrays(t, churned))
    gone = churned > 0
    # Censored rows may have t = 0; the churn branch is then unused, so keep its argument valid.
    t_churn = np.where(gone, t, 1.0)
    ll = np.where(
        gone,
        betaln(alpha + 1.0, beta + t_churn - 1.0),
        betaln(alpha, beta + t),
    ) - betaln(alpha, beta)
    common = digamma(alpha + beta) - digamma(alpha + beta + t)
    d_alpha = common + np.where(gone, digamma(alpha + 1.0) - digamma(alpha), 0.0)
    d_beta = (
        common + np.where(gone, digamma(beta + t_churn - 1.0), digamma(beta + t)) - digamma(beta)
    )
    grad = np.column_stack([alpha * d_alpha, beta * d_beta])
    return np.asarray(ll, dtype=np.float64), np.asarray(grad, dtype=np.float64)


def log_likelihood(t: FloatArray, churned: FloatArray, alpha: float, beta: float) -> FloatArray:
    """Per-row sBG log-likelihood, FH-07.

    See [`log_likelihood_and_gradient`][relmark.core.sbg.log_likelihood_and_gradient].
    """
    shape = np.broadcast_shapes(np.shape(t), np.shape(churned))
    log_params = np.log(np.array([alpha, beta], dtype=np.float64))
    return log_likelihood_and_gradient(log_params, t, churned)[0].reshape(shape)


def expected_lifetime(alpha: float, beta: float) -> float:
    r"""$E[T] = \sum_{t \ge 0} S(t) = (\alpha+\beta-1)/(\alpha-1)$ for $\alpha > 1$, else $+\infty$.

    Given $\theta$ the lifetime is geometric with mean $1/\theta$, and
    $E[1/\theta] = (\alpha+\beta-1)/(\alpha-1)$ under $\text{Beta}(\alpha,\beta)$ (FH-07);
    the mean is infinite when $\alpha \le 1$ (too much mass near $\theta = 0$).
    """
    if alpha <= 1.0:
        return float("inf")
    return (alpha + beta - 1.0) / (alpha - 1.0)


def discounted_expected_residual_lifetime(
    n: FloatArray, discount: float, alpha: float, beta: float
) -> FloatArray:
    r"""DERL for a customer who has made $n - 1$ renewals, FH-10 eq. (6).

    $$\text{DERL}(d \mid \alpha, \beta, n-1 \text{ renewals}) = \sum_{t=n}^{\infty}
    \frac{S(t)/S(n-1)}{(1+d)^{t-n}} = \frac{\beta+n-1}{\alpha+\beta+n-1}\,
    {}_2F_1\Big(1, \beta+n; \alpha+\beta+n; \frac{1}{1+d}\Big):$$

    evaluated just before the customer's next renewal decision, it is the expected number of
    future payments (one per period, the first undiscounted), discounted at rate $d$ per period.
    Multiplied by the margin per period it is the customer's expected residual value.

    Args:
        n: Periods the customer has been active ($n \ge 1$, i.e. $n - 1$ renewals made).
        discount: Discount rate per period $d > 0$.
        alpha: First beta parameter of the churn probability.
        beta: Second beta parameter of the churn probability.

    Returns:
        The shape of ``n``.
    """
    n = np.asarray(n, dtype=np.float64)
    z = np.full_like(n, 1.0 / (1.0 + discount))
    log_f = log_hyp2f1(np.ones_like(n), beta + n, alpha + beta + n, z)
    return np.asarray((beta + n - 1.0) / (alpha + beta + n - 1.0) * np.exp(log_f), dtype=np.float64)
