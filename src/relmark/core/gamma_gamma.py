r"""Gamma-Gamma spend kernels: likelihood, gradient and conditional expected spend.

Fader & Hardie (2013), "The Gamma-Gamma model of monetary value" (brucehardie.com note 025).
A customer's transaction values are $z_i \sim \text{Gamma}(p, \nu)$ with
$\nu \sim \text{Gamma}(q, \gamma)$ across customers; the sufficient statistics of a customer are
the number of transactions $x$ and their mean $\bar z$. Kernels take validated float64 arrays with
$x > 0$ and $\bar z > 0$.
"""

from __future__ import annotations

import numpy as np
from scipy.special import digamma, gammaln, polygamma

from relmark._typing import FloatArray, IntArray

__all__ = [
    "GammaGammaLikelihood",
    "conditional_expected_spend",
    "log_likelihood",
    "log_likelihood_and_gradient",
]


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


def _dot(a: FloatArray, b: FloatArray) -> float:
    # einsum's own loop, not BLAS: waking a multi-threaded BLAS for one dot product per
    # iteration costs more than the product on a busy machine.
    return float(np.einsum("i,i->", a, b))


def _distinct_weights(x: FloatArray, weights: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Distinct values of ``x`` and the summed weight of each (a count for whole numbers)."""
    top = float(x.max())
    if top <= 16.0 * x.size + 1024.0 and bool(np.all(x == np.floor(x))):
        summed = np.bincount(x.astype(np.int64), weights=weights)
        present = np.flatnonzero(summed)
        return present.astype(np.float64), np.asarray(summed[present], dtype=np.float64)
    values, inverse = np.unique(x, return_inverse=True)
    return values, _summed(inverse.ravel(), weights, values.size)


def _summed(inverse: IntArray, weights: FloatArray, size: int) -> FloatArray:
    """Sum of ``weights`` per group ``inverse`` (``0 .. size - 1``)."""
    return np.asarray(np.bincount(inverse, weights=weights, minlength=size), dtype=np.float64)


class GammaGammaLikelihood:
    r"""Eq. (1a) summed over weighted customers, prepared once for the data.

    A [`WeightedLikelihood`][relmark.typing.WeightedLikelihood] for
    [`maximize_weighted`][relmark.core.mle.maximize_weighted]. Writing $v = x\bar z$ (the
    customer's total repeat spend) and $\ell = \ln(1 + v/\gamma)$, the total of eq. (1a) over rows
    with weights $w$ is

    $$\sum_x W_x\big[\ln\Gamma(px+q) - \ln\Gamma(px)\big] - W\ln\Gamma(q) - p\ln\gamma\sum_i w_i x_i
    + p\sum_i w_i x_i\ln(x_i\bar z_i) - \sum_i w_i\ln\bar z_i
    - p\sum_i w_i x_i\ell_i - q\sum_i w_i\ell_i,$$

    with $W_x$ the weight of the rows with $x$ transactions and $W$ the total. The gamma and
    digamma terms are evaluated once per distinct $x$, the data-only sums once, and each
    iteration costs one ``log1p`` and a reciprocal per row. The gradient and the Hessian in
    $(\ln p, \ln q, \ln\gamma)$ are analytic (chain rule on the sums above, with $\psi$ and
    $\psi_1$ the digamma and trigamma functions), so the driver converges by Newton steps.

    Args:
        x: Number of transactions averaged, $> 0$.
        mean_spend: Their mean value $\bar z > 0$.
        weights: Customers per row, $> 0$.
    """

    def __init__(self, x: FloatArray, mean_spend: FloatArray, weights: FloatArray) -> None:
        self.x = np.asarray(x, dtype=np.float64)
        self.mean_spend = np.asarray(mean_spend, dtype=np.float64)
        self.weights = np.asarray(weights, dtype=np.float64)
        self._x_values, self._x_weights = _distinct_weights(self.x, self.weights)
        total_spend = self.x * self.mean_spend
        weighted_x = self.weights * self.x
        self._sum_wx = float(weighted_x.sum())
        self._weight = float(self.weights.sum())
        self._coef_p = _dot(weighted_x, np.log(total_spend))
        self._constant = _dot(self.weights, np.log(self.mean_spend))
        # The per-iteration terms depend on the total spend v alone; amounts in cents repeat, so
        # summing the weights of equal v once makes every iteration cheaper.
        spends, inverse = np.unique(total_spend, return_inverse=True)
        self._spend: FloatArray = total_spend
        self._spend_w: FloatArray = self.weights
        self._spend_wx: FloatArray = weighted_x
        if spends.size < 0.8 * total_spend.size:
            inverse = inverse.ravel()
            self._spend = spends
            self._spend_w = _summed(inverse, self.weights, spends.size)
            self._spend_wx = _summed(inverse, weighted_x, spends.size)

    @property
    def n_rows(self) -> int:
        """Number of rows."""
        return int(self.x.size)

    @property
    def total_weight(self) -> float:
        """Total weight (customers)."""
        return self._weight

    def rows(self, log_params: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Per-row values and gradients, by [`log_likelihood_and_gradient`][relmark.core.gamma_gamma.log_likelihood_and_gradient]."""
        return log_likelihood_and_gradient(log_params, self.x, self.mean_spend)

    def total(
        self, log_params: FloatArray, *, hessian: bool = False
    ) -> tuple[float, FloatArray, FloatArray | None]:
        """Weighted total log-likelihood, its gradient and (with ``hessian``) its Hessian."""
        p, q, gamma = (float(v) for v in np.exp(log_params))
        W, xs, Wx = self._weight, self._x_values, self._x_weights
        px = p * xs
        log_gamma = float(np.log(gamma))
        relative = self._spend / gamma
        ell = np.log1p(relative)
        s_ell, s_x_ell = _dot(self._spend_w, ell), _dot(self._spend_wx, ell)
        ll = (
            float(_dot(Wx, gammaln(px + q) - gammaln(px)))
            - W * float(gammaln(q))
            + p * (self._coef_p - log_gamma * self._sum_wx - s_x_ell)
            - self._constant
            - q * s_ell
        )
        psi_all = digamma(px + q)
        # d/d gamma of -(px + q) ln(1 + v / gamma) is (px + q) v / (gamma (gamma + v)).
        share = relative / (1.0 + relative)
        s_share, s_x_share = _dot(self._spend_w, share), _dot(self._spend_wx, share)
        d_p = float(_dot(Wx, xs * (psi_all - digamma(px)))) + (
            self._coef_p - log_gamma * self._sum_wx - s_x_ell
        )
        d_q = _dot(Wx, psi_all) - W * float(digamma(q)) - s_ell
        d_gamma = (-p * self._sum_wx + p * s_x_share + q * s_share) / gamma
        grad = np.array([p * d_p, q * d_q, gamma * d_gamma], dtype=np.float64)
        if not hessian:
            return ll, grad, None
        tri_all = polygamma(1, px + q)
        d_pp = float(_dot(Wx, xs * xs * (tri_all - polygamma(1, px))))
        d_pq = _dot(Wx, xs * tri_all)
        d_qq = _dot(Wx, tri_all) - W * float(polygamma(1, q))
        # gamma * d/d gamma of the share v / (gamma + v) is -share (1 - share).
        curve = share * (1.0 - share)
        s_curve, s_x_curve = _dot(self._spend_w, curve), _dot(self._spend_wx, curve)
        d_p_lg = -self._sum_wx + s_x_share
        d_q_lg = s_share
        d_lg_lg = -(p * s_x_curve + q * s_curve)
        hess = np.array(
            [
                [p * d_p + p * p * d_pp, p * q * d_pq, p * d_p_lg],
                [p * q * d_pq, q * d_q + q * q * d_qq, q * d_q_lg],
                [p * d_p_lg, q * d_q_lg, d_lg_lg],
            ],
            dtype=np.float64,
        )
        return ll, grad, hess


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
