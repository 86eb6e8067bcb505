r"""BG/NBD with time-invariant covariates: per-row log-likelihood and its analytic gradient.

Fader & Hardie (2007), "Incorporating time-invariant covariates into the Pareto/NBD and BG/NBD
models", let the scale of the purchase-rate Gamma and both Beta parameters of the dropout
probability depend on each customer's covariates, leaving the shape $r$ common:

$$\alpha_i = \alpha_0 e^{-\gamma_1^\top z_{1i}}, \qquad a_i = a_0 e^{\gamma_2^\top z_{2i}},
\qquad b_i = b_0 e^{\gamma_3^\top z_{2i}},$$

so a positive $\gamma_1$ raises the mean purchase rate $r/\alpha_i$. With these, the likelihood of a
customer is the BG/NBD likelihood (Fader, Hardie & Lee 2005, eq. 6) at $(r, \alpha_i, a_i, b_i)$:

$$\ln L_i = \ln\Gamma(r+x) - \ln\Gamma(r) + r\ln\alpha_i + \ln B(a_i, b_i+x) - \ln B(a_i, b_i)
+ \ln\Big[e^{A_3} + \mathbb 1\{x>0\} e^{A_4}\Big],$$

$A_3 = -(r+x)\ln(\alpha_i+T)$, $A_4 = \ln a_i - \ln(b_i+x-1) - (r+x)\ln(\alpha_i+t_x)$. Its gradient
with respect to $(\ln r, \ln\alpha_i, \ln a_i, \ln b_i)$ is the usual digamma expression evaluated
row by row; the chain rule through $\ln\alpha_i = \ln\alpha_0 - \gamma_1^\top z_{1i}$ (and likewise
for $a_i$, $b_i$) gives the gradient in $(\ln r, \ln\alpha_0, \ln a_0, \ln b_0, \gamma_1, \gamma_2,
\gamma_3)$. CLVTools constrains $\gamma_2 = \gamma_3$; relmark estimates both, as the note allows.
"""

from __future__ import annotations

import numpy as np
from scipy.special import betaln, digamma, gammaln

from relmark.typing import FloatArray

__all__ = ["bgnbd_covariate_parameters", "bgnbd_log_likelihood_and_gradient"]


def bgnbd_covariate_parameters(
    params: FloatArray, z_transaction: FloatArray, z_dropout: FloatArray
) -> tuple[float, FloatArray, FloatArray, FloatArray]:
    r"""$(r, \alpha_i, a_i, b_i)$ per row from the stacked parameter vector.

    Args:
        params: $(\ln r, \ln\alpha_0, \ln a_0, \ln b_0, \gamma_1, \gamma_2, \gamma_3)$ with
            $\gamma_1$ as long as ``z_transaction`` has columns and $\gamma_2, \gamma_3$ as long as
            ``z_dropout`` has columns.
        z_transaction: Covariates of the purchase rate, shape ``(n, p1)``.
        z_dropout: Covariates of the dropout probability, shape ``(n, p2)``.

    Returns:
        ``r`` (scalar) and ``alpha``, ``a``, ``b`` of shape ``(n,)``.
    """
    p1, p2 = z_transaction.shape[1], z_dropout.shape[1]
    gamma1 = params[4 : 4 + p1]
    gamma2 = params[4 + p1 : 4 + p1 + p2]
    gamma3 = params[4 + p1 + p2 : 4 + p1 + 2 * p2]
    r = float(np.exp(params[0]))
    alpha = np.exp(params[1] - z_transaction @ gamma1)
    a = np.exp(params[2] + z_dropout @ gamma2)
    b = np.exp(params[3] + z_dropout @ gamma3)
    return r, alpha, a, b


def bgnbd_log_likelihood_and_gradient(
    params: FloatArray,
    x: FloatArray,
    t_x: FloatArray,
    T: FloatArray,
    z_transaction: FloatArray,
    z_dropout: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    r"""Per-row log-likelihood of BG/NBD with covariates, and its gradient.

    Args:
        params: $(\ln r, \ln\alpha_0, \ln a_0, \ln b_0, \gamma_1, \gamma_2, \gamma_3)$.
        x: Repeat purchases.
        t_x: Recency.
        T: Age.
        z_transaction: Purchase-rate covariates, shape ``(n, p1)``.
        z_dropout: Dropout covariates, shape ``(n, p2)``.

    Returns:
        ``(ll, grad)``: ``ll`` of shape ``(n,)``, ``grad`` of shape ``(n, 4 + p1 + 2 p2)``.
    """
    r, alpha, a, b = bgnbd_covariate_parameters(params, z_transaction, z_dropout)
    s = r + x
    log_alpha = np.log(alpha)
    log_alpha_T = np.log(alpha + T)
    log_alpha_tx = np.log(alpha + t_x)
    a3 = -s * log_alpha_T
    safe_x = np.maximum(x, 1.0)
    with np.errstate(divide="ignore"):
        a4 = np.where(x > 0, np.log(a) - np.log(b + safe_x - 1.0) - s * log_alpha_tx, -np.inf)
    last = np.logaddexp(a3, a4)
    w3 = np.exp(a3 - last)
    w4 = np.exp(a4 - last)
    ll = gammaln(s) - gammaln(r) + r * log_alpha + betaln(a, b + x) - betaln(a, b) + last
    psi_ab = digamma(a + b)
    psi_abx = digamma(a + b + x)
    d_log_r = r * (digamma(s) - digamma(r) + log_alpha - w3 * log_alpha_T - w4 * log_alpha_tx)
    d_log_alpha = r - alpha * s * (w3 / (alpha + T) + w4 / (alpha + t_x))
    d_log_a = a * (psi_ab - psi_abx) + w4
    d_log_b = b * (digamma(b + x) - digamma(b) + psi_ab - psi_abx - w4 / (b + safe_x - 1.0))
    p1, p2 = z_transaction.shape[1], z_dropout.shape[1]
    grad = np.empty((ll.size, 4 + p1 + 2 * p2), dtype=np.float64)
    grad[:, 0] = d_log_r
    grad[:, 1] = d_log_alpha
    grad[:, 2] = d_log_a
    grad[:, 3] = d_log_b
    grad[:, 4 : 4 + p1] = -z_transaction * d_log_alpha[:, np.newaxis]
    grad[:, 4 + p1 : 4 + p1 + p2] = z_dropout * d_log_a[:, np.newaxis]
    grad[:, 4 + p1 + p2 :] = z_dropout * d_log_b[:, np.newaxis]
    return ll, grad
