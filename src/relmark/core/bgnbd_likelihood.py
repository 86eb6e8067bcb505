r"""Prepared likelihoods of the BG/NBD and MBG/NBD: weighted totals, analytic gradient and Hessian.

[`WeightedLikelihood`][relmark.typing.WeightedLikelihood]s for
[`maximize_weighted`][relmark.core.mle.maximize_weighted], so the driver converges by damped
Newton steps (a handful of evaluations) instead of quasi-Newton ones (dozens).

Both models share one structure. With $s = r + x$, $L_T = \ln(\alpha+T)$ and
$L_t = \ln(\alpha+t_x)$, each row's log-likelihood is

$$\ell = g(x) + \ln\big[e^{A_3} + e^{A_4}\big], \qquad
A_3 = c_3(x) - s L_T, \qquad A_4 = c_4(x) - s L_t,$$

where $g$, $c_3$ and $c_4$ depend on the row only through $x$:

* **BG/NBD**, Fader, Hardie & Lee (2005), eq. (6) in the stable form of Hardie's note on the
  "#NUM!" problem: $g = \ln\Gamma(r+x) - \ln\Gamma(r) + r\ln\alpha + \ln B(a, b+x) - \ln B(a, b)$,
  $c_3 = 0$, $c_4 = \ln a - \ln(b+x-1)$ for $x > 0$ and $c_4 = -\infty$ at $x = 0$.
* **MBG/NBD**, Batislam, Denizel & Filiztekin (2007), the likelihood of their §2, rewritten
  with $B(a, b+x+1) = B(a, b+x)\frac{b+x}{a+b+x}$ and $B(a+1, b+x) = B(a, b+x)\frac{a}{a+b+x}$
  (Abramowitz & Stegun 6.2.2 with 6.1.15): $g = \ln\Gamma(r+x) - \ln\Gamma(r) + r\ln\alpha +
  \ln B(a, b+x) - \ln B(a, b) - \ln(a+b+x)$, $c_3 = \ln(b+x)$, $c_4 = \ln a$.

With $w_3 = e^{A_3 - \ell + g}$ and $w_4 = 1 - w_3$ the shares of the two terms and
$\Delta = \nabla A_3 - \nabla A_4$, the derivatives of the bracket in
$\theta = (r, \alpha, a, b)$ are

$$\nabla = w_3\nabla A_3 + w_4\nabla A_4, \qquad
\nabla^2 = w_3\nabla^2 A_3 + w_4\nabla^2 A_4 + w_3 w_4\,\Delta\Delta^\top,$$

with $\partial_r A_3 = -L_T$, $\partial_\alpha A_3 = -s/(\alpha+T)$, $\partial^2_{r\alpha} A_3 =
-1/(\alpha+T)$, $\partial^2_{\alpha\alpha} A_3 = s/(\alpha+T)^2$ (likewise for $A_4$ with $t_x$)
and the $a$, $b$ derivatives those of $c_3$, $c_4$. The derivatives of $g$ are digamma $\psi$ and
trigamma $\psi_1$ differences. The chain rule to $\phi = \ln\theta$ is
$\partial_{\phi_i}\ell = \theta_i\partial_i\ell$ and
$\partial^2_{\phi_i\phi_j}\ell = \theta_i\theta_j\partial^2_{ij}\ell + [i = j]\,\theta_i\partial_i\ell$.

What each evaluation costs: $g$, $c_3$, $c_4$ and their derivatives once per distinct $x$
(weighted by the total weight of that $x$, computed at preparation); $L_T$, $1/(\alpha+T)$ and the
same of $t_x$ once per distinct age and recency when those repeat (ages in days over a few years
take about a thousand values), gathered; the rest is a few dozen array operations per row, on
fixed-size blocks of rows, with sums over the rows of one $x$ by ``bincount``. Nothing of size rows
× parameters is allocated.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.special import betaln, digamma, gammaln, polygamma

from relmark._typing import FloatArray, IntArray
from relmark.core import bgnbd, mbgnbd
from relmark.core.special import distinct_codes

__all__ = ["BGNBDLikelihood", "MBGNBDLikelihood"]

_RowFunction = Callable[
    [FloatArray, FloatArray, FloatArray, FloatArray], tuple[FloatArray, FloatArray]
]


def _dot(a: FloatArray, b: FloatArray) -> float:
    # einsum's own loop, not BLAS: waking a multi-threaded BLAS for one dot product per block
    # costs more than the product on a busy machine.
    return float(np.einsum("i,i->", a, b))


class _SharedColumn:
    r"""A duration column whose $\ln(\alpha + v)$ and $1/(\alpha + v)$ are computed per distinct value.

    When the column repeats (at most a quarter as many distinct values as rows) the two functions
    are evaluated on the distinct values and gathered; otherwise on every row.
    """

    def __init__(self, values: FloatArray) -> None:
        self.values = values
        distinct, codes = distinct_codes(values)
        self.shared = distinct.size * 4 <= values.size
        self.distinct = distinct
        self.codes: IntArray = codes if self.shared else np.zeros(0, dtype=np.intp)

    def tables(self, alpha: float) -> tuple[FloatArray, FloatArray]:
        r"""$\ln(\alpha + v)$ and $1/(\alpha + v)$ over the distinct values (empty if not shared)."""
        if not self.shared:
            empty = np.zeros(0, dtype=np.float64)
            return empty, empty
        shifted = alpha + self.distinct
        return np.log(shifted), 1.0 / shifted

    def block(
        self, alpha: float, tables: tuple[FloatArray, FloatArray], rows: slice
    ) -> tuple[FloatArray, FloatArray]:
        r"""$\ln(\alpha + v)$ and $1/(\alpha + v)$ on a block of rows."""
        if self.shared:
            codes = self.codes[rows]
            return tables[0].take(codes), tables[1].take(codes)
        shifted = alpha + self.values[rows]
        return np.log(shifted), 1.0 / shifted


class _XTables:
    """Terms of $x$ alone, one value per distinct $x$ (see the module docstring for symbols)."""

    __slots__ = (
        "c3",
        "c3_b",
        "c3_bb",
        "c4",
        "c4_a",
        "c4_aa",
        "c4_b",
        "c4_bb",
        "g",
        "g_a",
        "g_aa",
        "g_ab",
        "g_b",
        "g_bb",
        "g_r",
        "g_rr",
    )

    def __init__(self) -> None:
        zero = np.zeros(0, dtype=np.float64)
        self.g = self.g_r = self.g_a = self.g_b = zero
        self.g_rr = self.g_aa = self.g_ab = self.g_bb = zero
        self.c3 = self.c3_b = self.c3_bb = zero
        self.c4 = self.c4_a = self.c4_aa = self.c4_b = self.c4_bb = zero


class _BetaGeometricLikelihood:
    """The shared machinery of the two models; a subclass supplies ``_model_tables`` and ``_rows``."""

    block_rows = 16384
    """Rows per block: a few dozen temporaries of 128 kB each stay in cache."""

    _rows: _RowFunction

    def __init__(self, x: FloatArray, t_x: FloatArray, T: FloatArray, weights: FloatArray) -> None:
        self.x = np.asarray(x, dtype=np.float64).ravel()
        self.t_x = np.asarray(t_x, dtype=np.float64).ravel()
        self.T = np.asarray(T, dtype=np.float64).ravel()
        self.weights = np.asarray(weights, dtype=np.float64).ravel()
        self._x_values, self._x_codes = distinct_codes(self.x)
        self._x_weights = np.asarray(
            np.bincount(self._x_codes, weights=self.weights, minlength=self._x_values.size),
            dtype=np.float64,
        )
        self._weight = float(self.weights.sum())
        self._ages = _SharedColumn(self.T)
        self._recencies = _SharedColumn(self.t_x)

    @property
    def n_rows(self) -> int:
        """Number of rows."""
        return int(self.x.size)

    @property
    def total_weight(self) -> float:
        """Total weight (customers)."""
        return self._weight

    def rows(self, log_params: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Per-row values and gradients, by the model's per-row kernel."""
        return self._rows(log_params, self.x, self.t_x, self.T)

    def _model_tables(
        self, tables: _XTables, xs: FloatArray, a: float, b: float, hessian: bool
    ) -> None:
        """Fill the $a$, $b$ parts of $g$ and $c_3$, $c_4$ with their derivatives."""
        raise NotImplementedError

    def _x_tables(self, r: float, alpha: float, a: float, b: float, hessian: bool) -> _XTables:
        xs = self._x_values
        tables = _XTables()
        log_alpha = float(np.log(alpha))
        tables.g = gammaln(r + xs) - float(gammaln(r)) + r * log_alpha
        tables.g_r = digamma(r + xs) - float(digamma(r)) + log_alpha
        if hessian:
            tables.g_rr = polygamma(1, r + xs) - float(polygamma(1, r))
        self._model_tables(tables, xs, a, b, hessian)
        return tables

    def total(
        self, log_params: FloatArray, *, hessian: bool = False
    ) -> tuple[float, FloatArray, FloatArray | None]:
        """Weighted total log-likelihood, its gradient and (with ``hessian``) its Hessian."""
        theta = np.exp(np.asarray(log_params, dtype=np.float64))
        r, alpha, a, b = (float(v) for v in theta)
        tab = self._x_tables(r, alpha, a, b, hessian)
        sums = _RowSums(self._x_values.size)
        age_tables = self._ages.tables(alpha)
        recency_tables = self._recencies.tables(alpha)
        for start in range(0, self.n_rows, self.block_rows):
            rows = slice(start, start + self.block_rows)
            sums.add_block(
                self.weights[rows],
                self._x_codes[rows],
                r + self.x[rows],
                self._ages.block(alpha, age_tables, rows),
                self._recencies.block(alpha, recency_tables, rows),
                tab,
                hessian=hessian,
            )
        W, Wx = self._weight, self._x_weights
        ll = _dot(Wx, tab.g) + sums.bracket
        grad_nat = np.array(
            [
                _dot(Wx, tab.g_r) - sums.log_age,
                W * r / alpha - sums.rate,
                _dot(Wx, tab.g_a) + _dot(sums.s4, tab.c4_a),
                _dot(Wx, tab.g_b) + _dot(sums.s3, tab.c3_b) + _dot(sums.s4, tab.c4_b),
            ],
            dtype=np.float64,
        )
        grad = theta * grad_nat
        if not hessian:
            return ll, grad, None
        h = _natural_hessian(tab, sums, W, Wx, r, alpha)
        # Chain rule to log-parameters: theta_i theta_j h_ij + [i = j] theta_i d_i.
        return ll, grad, np.outer(theta, theta) * h + np.diag(grad)


class _RowSums:
    r"""Sums over rows of the bracket's shares and derivatives, accumulated block by block.

    Per distinct $x$ (``bincount``): ``s3``, ``s4`` the weighted shares $w_3$, $w_4$; ``v`` the
    weighted $w_3 w_4$, ``v_dr``, ``v_da`` the same times $\Delta_r$, $\Delta_\alpha$. Scalars:
    the bracket, the $r$- and $\alpha$-derivative sums and the second moments of $\Delta_r$,
    $\Delta_\alpha$.
    """

    __slots__ = (
        "bracket",
        "curvature",
        "log_age",
        "n_x",
        "rate",
        "rate_weight",
        "s3",
        "s4",
        "v",
        "v_da",
        "v_dr",
        "vv_aa",
        "vv_ra",
        "vv_rr",
    )

    def __init__(self, n_x: int) -> None:
        self.n_x = n_x
        self.s3, self.s4 = np.zeros(n_x), np.zeros(n_x)
        self.v, self.v_dr, self.v_da = np.zeros(n_x), np.zeros(n_x), np.zeros(n_x)
        self.bracket = self.log_age = self.rate = 0.0
        self.rate_weight = self.curvature = self.vv_rr = self.vv_ra = self.vv_aa = 0.0

    def add_block(
        self,
        w: FloatArray,
        codes: IntArray,
        s: FloatArray,
        age: tuple[FloatArray, FloatArray],
        recency: tuple[FloatArray, FloatArray],
        tab: _XTables,
        *,
        hessian: bool,
    ) -> None:
        r"""Add a block of rows: weights, codes of $x$, $s = r + x$, $(L_T, 1/(\alpha+T))$ and of $t_x$."""
        (log_T, inv_T), (log_t, inv_t) = age, recency
        n_x = self.n_x
        a3 = -s * log_T
        if tab.c3.size:
            a3 += tab.c3.take(codes)
        a4 = tab.c4.take(codes) - s * log_t
        last = np.logaddexp(a3, a4)
        w3 = np.exp(a3 - last)
        w4 = np.exp(a4 - last)
        ww3 = w * w3
        ww4 = w * w4
        self.bracket += _dot(w, last)
        self.s3 += np.bincount(codes, weights=ww3, minlength=n_x)
        self.s4 += np.bincount(codes, weights=ww4, minlength=n_x)
        self.log_age += _dot(ww3, log_T) + _dot(ww4, log_t)
        # w3/(alpha + T) + w4/(alpha + t_x), weighted: minus the bracket's alpha-derivative / s.
        ww3_inv_T = ww3 * inv_T
        ww4_inv_t = ww4 * inv_t
        wq = ww3_inv_T + ww4_inv_t
        self.rate += _dot(s, wq)
        if not hessian:
            return
        v = ww3 * w4
        d_r = log_t - log_T
        d_alpha = s * (inv_t - inv_T)
        v_d_r = v * d_r
        v_d_alpha = v * d_alpha
        self.vv_rr += _dot(v_d_r, d_r)
        self.vv_ra += _dot(v_d_r, d_alpha)
        self.vv_aa += _dot(v_d_alpha, d_alpha)
        self.rate_weight += float(wq.sum())
        self.curvature += _dot(s, ww3_inv_T * inv_T + ww4_inv_t * inv_t)
        self.v += np.bincount(codes, weights=v, minlength=n_x)
        self.v_dr += np.bincount(codes, weights=v_d_r, minlength=n_x)
        self.v_da += np.bincount(codes, weights=v_d_alpha, minlength=n_x)


def _natural_hessian(
    tab: _XTables, sums: _RowSums, W: float, Wx: FloatArray, r: float, alpha: float
) -> FloatArray:
    r"""The total's Hessian in $(r, \alpha, a, b)$ from the per-$x$ tables and the row sums."""
    # Delta's a and b components, per distinct x (c3 has no a-derivative in either model).
    delta_a = -tab.c4_a
    delta_b = tab.c3_b - tab.c4_b
    h = np.empty((4, 4), dtype=np.float64)
    h[0, 0] = _dot(Wx, tab.g_rr) + sums.vv_rr
    h[0, 1] = W / alpha - sums.rate_weight + sums.vv_ra
    h[1, 1] = -W * r / alpha**2 + sums.curvature + sums.vv_aa
    h[0, 2] = _dot(delta_a, sums.v_dr)
    h[0, 3] = _dot(delta_b, sums.v_dr)
    h[1, 2] = _dot(delta_a, sums.v_da)
    h[1, 3] = _dot(delta_b, sums.v_da)
    h[2, 2] = _dot(Wx, tab.g_aa) + _dot(sums.s4, tab.c4_aa) + _dot(delta_a * delta_a, sums.v)
    h[2, 3] = _dot(Wx, tab.g_ab) + _dot(delta_a * delta_b, sums.v)
    h[3, 3] = (
        _dot(Wx, tab.g_bb)
        + _dot(sums.s3, tab.c3_bb)
        + _dot(sums.s4, tab.c4_bb)
        + _dot(delta_b * delta_b, sums.v)
    )
    lower = np.tril_indices(4, -1)
    h[lower] = h.T[lower]
    return h


def _beta_tables(tables: _XTables, xs: FloatArray, a: float, b: float, hessian: bool) -> None:
    r"""$\ln B(a, b+x) - \ln B(a, b)$ and its derivatives in $a$, $b$ into ``tables.g*``."""
    psi_ab = float(digamma(a + b))
    psi_abx = digamma(a + b + xs)
    tables.g = tables.g + (betaln(a, b + xs) - float(betaln(a, b)))
    tables.g_a = psi_ab - psi_abx
    tables.g_b = digamma(b + xs) - float(digamma(b)) + psi_ab - psi_abx
    if hessian:
        tri = float(polygamma(1, a + b)) - polygamma(1, a + b + xs)
        tables.g_aa = tri
        tables.g_ab = tri
        tables.g_bb = polygamma(1, b + xs) - float(polygamma(1, b)) + tri


class BGNBDLikelihood(_BetaGeometricLikelihood):
    r"""The BG/NBD log-likelihood, FHL (2005) eq. (6), summed over weighted rows.

    Prepared once for the data (distinct $x$ and their weights, shared ages and recencies); see
    the module docstring for the form, its derivatives and the cost of an evaluation. ``rows``
    is [`relmark.core.bgnbd.log_likelihood_and_gradient`][relmark.core.bgnbd.log_likelihood_and_gradient].

    Args:
        x: Repeat purchases.
        t_x: Recency.
        T: Age.
        weights: Customers per row.

    Examples:
        >>> import numpy as np
        >>> prepared = BGNBDLikelihood(
        ...     np.array([0.0, 2.0]),
        ...     np.array([0.0, 30.43]),
        ...     np.array([38.86, 38.86]),
        ...     np.array([3.0, 1.0]),
        ... )
        >>> ll, grad, hess = prepared.total(np.log([0.243, 4.414, 0.793, 2.426]), hessian=True)
        >>> round(ll, 6), grad.shape, hess.shape
        (-11.122746, (4,), (4, 4))
    """

    _rows = staticmethod(bgnbd.log_likelihood_and_gradient)

    def _model_tables(
        self, tables: _XTables, xs: FloatArray, a: float, b: float, hessian: bool
    ) -> None:
        _beta_tables(tables, xs, a, b, hessian)
        repeat = xs > 0
        # At x = 0 the second term is absent (A4 = -inf, so w4 = 0); its derivative tables are
        # set to 0 there so that 0 * derivative stays 0.
        inv_b = np.where(repeat, 1.0 / (b + np.maximum(xs, 1.0) - 1.0), 0.0)
        with np.errstate(divide="ignore"):
            tables.c4 = np.where(repeat, np.log(a) + np.log(inv_b), -np.inf)
        tables.c4_a = np.where(repeat, 1.0 / a, 0.0)
        tables.c4_b = -inv_b
        # c3 = 0: left empty so blocks skip gathering it; its derivatives are zeros.
        tables.c3_b = np.zeros(xs.size)
        if hessian:
            tables.c3_bb = tables.c3_b
            tables.c4_aa = -tables.c4_a * tables.c4_a
            tables.c4_bb = inv_b * inv_b


class MBGNBDLikelihood(_BetaGeometricLikelihood):
    r"""The MBG/NBD log-likelihood, BDF (2007), summed over weighted rows.

    Prepared once for the data (distinct $x$ and their weights, shared ages and recencies); see
    the module docstring for the form, its derivatives and the cost of an evaluation. ``rows``
    is [`relmark.core.mbgnbd.log_likelihood_and_gradient`][relmark.core.mbgnbd.log_likelihood_and_gradient].

    Args:
        x: Repeat purchases.
        t_x: Recency.
        T: Age.
        weights: Customers per row.
    """

    _rows = staticmethod(mbgnbd.log_likelihood_and_gradient)

    def _model_tables(
        self, tables: _XTables, xs: FloatArray, a: float, b: float, hessian: bool
    ) -> None:
        _beta_tables(tables, xs, a, b, hessian)
        inv_abx = 1.0 / (a + b + xs)
        inv_bx = 1.0 / (b + xs)
        tables.g = tables.g + np.log(inv_abx)
        tables.g_a = tables.g_a - inv_abx
        tables.g_b = tables.g_b - inv_abx
        tables.c3 = -np.log(inv_bx)
        tables.c3_b = inv_bx
        tables.c4 = np.full(xs.size, np.log(a))
        tables.c4_a = np.full(xs.size, 1.0 / a)
        tables.c4_b = np.zeros(xs.size)
        if hessian:
            square = inv_abx * inv_abx
            tables.g_aa = tables.g_aa + square
            tables.g_ab = tables.g_ab + square
            tables.g_bb = tables.g_bb + square
            tables.c3_bb = -inv_bx * inv_bx
            tables.c4_aa = -tables.c4_a * tables.c4_a
            tables.c4_bb = np.zeros(xs.size)
