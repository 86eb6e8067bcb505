r"""Gamma-Gamma spend kernels: likelihood, gradient and conditional expected spend.

Fader & Hardie (2013), "The Gamma-Gamma model of monetary value" (brucehardie.com note 025).
A customer's transaction values are $z_i \sim \text{Gamma}(p, \nu)$ with
$\nu \sim \text{Gamma}(q, \gamma)$ across customers; the sufficient statistics of a customer are
the number of transactions $x$ and their mean $\bar z$. Kernels take validated float64 arrays with
$x > 0$ and $\bar z > 0$.
"""

from __future__ import annotations

import numpy as np
from scipy.special import digamma, gammaln

from relmark.typing import FloatArray

__all__ = ["conditional_expected_spend", "log_likelihood", "log_likelihood_and_gradient"]


def log_likelihood_and_gradient(
    log_params: FloatArray, x: FloatArray, mean_spend: FloatArray
) -> tuple[FloatArray, FloatArray]:
    r"""Per-customer log-likelihood of the mean spend and its gradient in $(\ln p, \ln q, \ln\gamma)$.

    Fader & Hardie (2013), eq. (1a) (density of $\bar z$ given $x$):

    $$\ln L = \ln\Gamma(px+q) - \ln\Gamma(px) - \ln\Gamma(q) + q\ln\gamma + (px-1)\ln\bar z
    + px\ln x - (px+q)\ln(\gamma + x\bar z).$$

    Args:
        log_params: $(\ln p, \ln q, \ln\gamma)$.
        x: Number of transactions averaged (repeat purchases), $> 0$.
        mean_spend: Their mean value $\bar z > 0$.

    Returns:
        ``(ll, grad)`` with shapes ``(n,)`` and ``(n, 3)``.
    """
    p, q, gamma = np.exp(log_params)
    px = p * x
    log_z = np.log(mean_spend)
    log_x = np.log(x)
    log_total = np.log(gamma + x * mean_spend)
    ll = (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(gamma)
        + (px - 1.0) * log_z
        + px * log_x
        - (px + q) * log_total
    )
    psi_all = digamma(px + q)
    grad = np.empty((np.size(ll), 3), dtype=np.float64)
    grad[:, 0] = px * (psi_all - digamma(px) + log_z + log_x - log_total)
    grad[:, 1] = q * (psi_all - digamma(q) + np.log(gamma) - log_total)
    grad[:, 2] = q - gamma * (px + q) / (gamma + x * mean_spend)
    return ll, grad


def log_likelihood(
    x: FloatArray, mean_spend: FloatArray, p: float, q: float, gamma: float
) -> FloatArray:
    """Per-customer Gamma-Gamma log-likelihood, Fader & Hardie (2013) eq. (1a)."""
    log_params = np.log(np.array([p, q, gamma], dtype=np.float64))
    return log_likelihood_and_gradient(log_params, x, mean_spend)[0]


def conditional_expected_spend(
    x: FloatArray, mean_spend: FloatArray, p: float, q: float, gamma: float
) -> FloatArray:
    r"""$E[M \mid p, q, \gamma, \bar z, x]$, Fader & Hardie (2013) eq. (5).

    $$E[M \mid \bar z, x] = \frac{(\gamma + x\bar z)\,p}{px + q - 1},$$

    a weighted average of the population mean $\gamma p/(q-1)$ and the customer's own mean
    $\bar z$; at $x = 0$ it is the population mean. The expectation is infinite where
    $px + q \le 1$ (for $x = 0$: $q \le 1$); ``inf`` is returned there.
    """
    denominator = p * x + q - 1.0
    numerator = (gamma + x * mean_spend) * p
    safe = np.where(denominator > 0, denominator, 1.0)
    return np.where(denominator > 0, numerator / safe, np.inf)
