r"""The conditional purchase distribution of the BG/NBD family: $P(X(T, T+t) = k \mid x, t_x, T)$.

Derivation (following the structure of Fader, Hardie & Lee's note "Deriving the Conditional
PMF of the BG/NBD Model", 2006, extended to MBG/NBD). A customer with purchase rate $\lambda$ and
dropout probability $p$ who is alive at $T$ buys as a Poisson process and dies right after each
purchase with probability $p$. Let $N$ be the Poisson count in $(T, T+t]$. The $k$-th future
purchase happens when the customer survived the $k-1$ before it, and the count stops at $k$
when either no $(k+1)$-th Poisson event falls in the window or the customer dies after the
$k$-th purchase:

$$f_k(\lambda, p) = (1-p)^k P(N = k) + p (1-p)^{k-1} P(N \ge k), \quad k \ge 1,
\qquad f_0 = P(N = 0).$$

A customer dead at $T$ makes no purchase. The likelihood of the history splits into the part
"alive at $T$", $(1-p)^{x+s} \lambda^x e^{-\lambda T}$, and the part "died after the last
purchase", $p (1-p)^{x+s-1} \lambda^x e^{-\lambda t_x}$ (present for $x > 0$ when $s = 0$),
where $s = 0$ for BG/NBD (FHL 2005, eq. 3) and $s = 1$ for MBG/NBD, whose customers may also drop
out right after the first purchase (Batislam, Denizel & Filiztekin 2007). Integrating over
$\lambda \sim \Gamma(r, \alpha)$ and $p \sim \text{Beta}(a, b)$, and dividing numerator and
denominator by the common factor $\Gamma(r+x)\alpha^r / (\Gamma(r) (\alpha+T)^{r+x} B(a, b))$:

$$P(X^* = k) = \frac{B(a, b+x+s+k)\,\text{NB}_k + B(a+1, b+x+s+k-1)\,\bar F_{k-1}}{L},
\qquad k \ge 1,$$

$$P(X^* = 0) = \frac{B(a, b+x+s)\,q^{r+x} + D}{L}, \qquad
L = B(a, b+x+s) + D, \qquad D = \delta\,B(a+1, b+x+s-1) \Big(\frac{\alpha+T}{\alpha+t_x}\Big)^{r+x},$$

with $q = (\alpha+T)/(\alpha+T+t)$, $\text{NB}_k = \frac{\Gamma(r+x+k)}{\Gamma(r+x)\,k!} q^{r+x}
(1-q)^k$ the negative-binomial PMF (the posterior-mixed Poisson count of a customer alive
throughout), $\bar F_{k-1} = P(\text{NB} \ge k) = I_{1-q}(k, r+x)$ its survival function (the
regularized incomplete beta function, so no cancellation), and $\delta = 1$ when the "died"
term exists ($x > 0$ for BG/NBD; always for MBG/NBD, with $t_x = 0$ when $x = 0$). Everything is
evaluated in log space. The PMF sums to one over $k$ and its mean is the conditional expectation
(FHL 2005, eq. 10 for BG/NBD).
"""

from __future__ import annotations

import numpy as np
from scipy.special import betainc, betaln, gammaln

from relmark._typing import FloatArray

__all__ = ["conditional_probability_of_any_purchase", "conditional_probability_of_purchases"]


def _history_terms(
    x: FloatArray,
    t_x: FloatArray,
    T: FloatArray,
    r: float,
    alpha: float,
    a: float,
    b: float,
    shift: int,
) -> tuple[FloatArray, FloatArray]:
    r"""$\ln B(a, b+x+s)$ ("alive at $T$") and $\ln D$ ("died after the last purchase").

    $D$ is absent ($\ln D = -\infty$) for BG/NBD customers without repeat purchases.
    """
    has_death = (x > 0) | (shift > 0)
    log_d = np.where(
        has_death,
        betaln(a + 1.0, np.maximum(b + x + shift - 1.0, 1e-300))
        + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x)),
        -np.inf,
    )
    return np.asarray(betaln(a, b + x + shift), dtype=np.float64), log_d


def conditional_probability_of_purchases(
    k: FloatArray,
    t: FloatArray,
    x: FloatArray,
    t_x: FloatArray,
    T: FloatArray,
    r: float,
    alpha: float,
    a: float,
    b: float,
    *,
    shift: int = 0,
) -> FloatArray:
    r"""$P(X(T, T+t) = k \mid x, t_x, T)$ for BG/NBD (``shift=0``) or MBG/NBD (``shift=1``).

    Args:
        k: Numbers of purchases in the next ``t`` (non-negative whole numbers, float64).
        t: Horizons, $t \ge 0$.
        x: Repeat purchases in the calibration period.
        t_x: Recency.
        T: Length of the calibration period.
        r: Shape of the purchase-rate Gamma.
        alpha: Rate of the purchase-rate Gamma.
        a: First Beta parameter of the dropout probability.
        b: Second Beta parameter of the dropout probability.
        shift: 0 for BG/NBD, 1 for MBG/NBD (dropout possible after the first purchase too).

    Returns:
        The probabilities, broadcast over all array arguments.

    Examples:
        >>> import numpy as np
        >>> k = np.arange(0.0, 400.0)
        >>> pmf = conditional_probability_of_purchases(
        ...     k,
        ...     np.array(39.0),
        ...     np.array(2.0),
        ...     np.array(30.43),
        ...     np.array(38.86),
        ...     0.242593,
        ...     4.41353,
        ...     0.792886,
        ...     2.42575,
        ... )
        >>> round(float(pmf.sum()), 12), round(float(k @ pmf), 4)
        (1.0, 1.2259)
    """
    k, t, x, t_x, T = np.broadcast_arrays(
        *(np.asarray(v, dtype=np.float64) for v in (k, t, x, t_x, T))
    )
    rx = r + x
    empty = t == 0
    t = np.where(empty, 1.0, t)  # an empty window is answered below; keep the logs finite
    log_q = -np.log1p(t / (alpha + T))  # no cancellation for short horizons
    log_1mq = np.log(t) - np.log(alpha + T + t)
    log_alive, log_d = _history_terms(x, t_x, T, r, alpha, a, b, shift)
    log_l = np.logaddexp(log_alive, log_d)
    # k = 0: alive with no purchase in the window, or already dead.
    log_zero = np.logaddexp(log_alive + rx * log_q, log_d)
    # k >= 1 (evaluated with k clipped to 1 where k = 0, then replaced).
    kk = np.maximum(k, 1.0)
    with np.errstate(divide="ignore"):
        log_nb = gammaln(rx + kk) - gammaln(rx) - gammaln(kk + 1.0) + rx * log_q + kk * log_1mq
        survival = betainc(kk, rx, np.exp(log_1mq))
        log_sf = np.log(survival)
    log_positive = np.logaddexp(
        betaln(a, b + x + shift + kk) + log_nb,
        betaln(a + 1.0, b + x + shift + kk - 1.0) + log_sf,
    )
    log_p = np.where(k == 0, log_zero, log_positive) - log_l
    # t = 0: nothing can happen in an empty window.
    out = np.where(empty, (k == 0).astype(np.float64), np.exp(log_p))
    return np.asarray(np.clip(out, 0.0, 1.0), dtype=np.float64)


def conditional_probability_of_any_purchase(
    t: FloatArray,
    x: FloatArray,
    t_x: FloatArray,
    T: FloatArray,
    r: float,
    alpha: float,
    a: float,
    b: float,
    *,
    shift: int = 0,
) -> FloatArray:
    r"""$P(X(T, T+t) \ge 1 \mid x, t_x, T)$, without the cancellation of $1 - P(X^* = 0)$.

    From the module's expressions, $1 - P(X^* = 0) = B(a, b+x+s)\,(1 - q^{r+x}) / L$: only a
    customer alive at $T$ can buy, and does so unless the negative-binomial count is 0. The
    factor $1 - q^{r+x}$ is evaluated as ``-expm1((r + x) ln q)``, so short horizons keep all
    their digits.

    Args:
        t: Horizons, $t \ge 0$.
        x: Repeat purchases in the calibration period.
        t_x: Recency.
        T: Length of the calibration period.
        r: Shape of the purchase-rate Gamma.
        alpha: Rate of the purchase-rate Gamma.
        a: First Beta parameter of the dropout probability.
        b: Second Beta parameter of the dropout probability.
        shift: 0 for BG/NBD, 1 for MBG/NBD.

    Returns:
        The probabilities, broadcast over the array arguments.

    Examples:
        >>> import numpy as np
        >>> args = (np.array(2.0), np.array(30.43), np.array(38.86), 0.243, 4.414, 0.793, 2.426)
        >>> buy = conditional_probability_of_any_purchase(np.array(39.0), *args)
        >>> none = conditional_probability_of_purchases(np.array(0.0), np.array(39.0), *args)
        >>> round(float(buy), 4), round(float(1 - none), 4)
        (0.5546, 0.5546)
    """
    t, x, t_x, T = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (t, x, t_x, T)))
    log_q = -np.log1p(t / (alpha + T))  # no cancellation for short horizons
    log_alive, log_d = _history_terms(x, t_x, T, r, alpha, a, b, shift)
    with np.errstate(divide="ignore"):
        log_buy = log_alive + np.log(-np.expm1((r + x) * log_q)) - np.logaddexp(log_alive, log_d)
    return np.asarray(np.clip(np.exp(log_buy), 0.0, 1.0), dtype=np.float64)
