r"""Time-invariant covariates for the BG/NBD, MBG/NBD and Pareto/NBD: likelihoods over coefficients.

Fader & Hardie (2007), "Incorporating time-invariant covariates into the Pareto/NBD and BG/NBD
models" (<http://www.brucehardie.com/notes/019/>), keep the shape parameters common and let the
scale parameters depend on each customer's covariates through a log link:

* **Pareto/NBD**: $\alpha_i = \alpha_0 e^{-\gamma_1^\top z_{1i}}$ and
  $\beta_i = \beta_0 e^{-\gamma_2^\top z_{2i}}$, with $r$ and $s$ common, so a positive
  $\gamma_1$ raises the mean purchase rate $r/\alpha_i$ and a positive $\gamma_2$ raises the mean
  dropout rate $s/\beta_i$;
* **BG/NBD**: $\alpha_i = \alpha_0 e^{-\gamma_1^\top z_{1i}}$, $a_i = a_0 e^{\gamma_2^\top z_{2i}}$,
  $b_i = b_0 e^{\gamma_3^\top z_{2i}}$, with $r$ common (the note's BG/NBD section); relmark
  estimates $\gamma_2$ and $\gamma_3$ separately, as the note allows (CLVTools constrains them
  equal). The MBG/NBD (Batislam, Denizel & Filiztekin 2007) has the BG/NBD's parameters and takes
  the same links.

A customer's likelihood is then the model's likelihood at their own parameters. Every link is
linear in the *log*-parameters: with $\phi_i = \ln\theta_i$ the four log-parameters of customer
$i$ and $c = (\ln\theta_0, \gamma)$ the estimation vector, $\phi_i = J_i c$ for a $4 \times k$
matrix $J_i$ holding 1 on the baseline diagonal and $\pm z_i$ in the covariate blocks
([`CovariateRoles.jacobian`][relmark.core.covariates.CovariateRoles.jacobian]). The chain rule is
therefore exact with no second-derivative term:

$$\nabla_c \ell_i = J_i^\top \nabla_\phi \ell_i, \qquad
\nabla^2_c \ell_i = J_i^\top \nabla^2_\phi \ell_i\, J_i.$$

Customers with the same covariates share $J_i$ (a *pattern* $p$), so the total over customers is
a sum over patterns of the model's *plain* prepared likelihood on that pattern's rows, evaluated at
$\phi_p = J_p c$ ([`PatternLikelihood`][relmark.core.covariates.PatternLikelihood]): gradient
$\sum_p J_p^\top g_p$, Hessian $\sum_p J_p^\top H_p J_p$, so the fit takes the plain models'
damped Newton steps and costs about one plain evaluation per iteration for categorical covariates.
Continuous covariates make nearly every customer a pattern; for the BG/NBD and MBG/NBD a per-row
kernel with per-row parameters then sums the rows directly
([`RowCovariateLikelihood`][relmark.core.covariates.RowCovariateLikelihood], gradient only, so
the driver uses quasi-Newton steps and a finite-difference Hessian).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import attrs
import numpy as np
from scipy.special import betaln, digamma, gammaln

from relmark._typing import FloatArray, IntArray, WeightedLikelihood

__all__ = [
    "CovariateRoles",
    "PatternLikelihood",
    "PreparedLikelihood",
    "RowCovariateLikelihood",
    "beta_geometric_rows",
]

PreparedLikelihood = Callable[[FloatArray, FloatArray, FloatArray, FloatArray], WeightedLikelihood]
"""Builds a model's plain prepared likelihood from $(x, t_x, T, w)$ (e.g. ``BGNBDLikelihood``)."""

RowKernel = Callable[
    [FloatArray, FloatArray, FloatArray, FloatArray], tuple[FloatArray, FloatArray]
]
"""``f(log_theta, x, t_x, T) -> (ll, grad)`` with one row of four log-parameters per row."""


def _as_int_tuples(value: Sequence[Sequence[int]]) -> tuple[tuple[int, ...], ...]:
    return tuple(tuple(int(c) for c in cols) for cols in value)


def _as_ints(value: Sequence[int]) -> tuple[int, ...]:
    return tuple(int(v) for v in value)


def _as_floats(value: Sequence[float]) -> tuple[float, ...]:
    return tuple(float(v) for v in value)


@attrs.frozen(kw_only=True)
class CovariateRoles:
    r"""Where each block of coefficients enters a model's four log-parameters.

    Role $\rho$ adds $\sigma_\rho\, z_{i,C_\rho}^\top\gamma_\rho$ to log-parameter $j_\rho$,
    with $C_\rho$ the columns of the covariate matrix it uses. The estimation vector is the four
    baseline log-parameters followed by $\gamma_\rho$ for each role in order.

    Attributes:
        parameters: $j_\rho$ for each role (0 to 3).
        signs: $\sigma_\rho$ for each role ($\pm 1$).
        columns: $C_\rho$ for each role: column indices into the covariate matrix.

    Examples:
        >>> roles = CovariateRoles(parameters=(1, 3), signs=(-1.0, -1.0), columns=((0,), (1,)))
        >>> roles.log_parameters(np.array([0.0, 1.0, 0.0, 2.0, 0.5, 0.25]), np.array([[1.0, 2.0]]))
        array([[0. , 0.5, 0. , 1.5]])
    """

    parameters: tuple[int, ...] = attrs.field(converter=_as_ints)
    signs: tuple[float, ...] = attrs.field(converter=_as_floats)
    columns: tuple[tuple[int, ...], ...] = attrs.field(converter=_as_int_tuples)

    @property
    def n_coefficients(self) -> int:
        """Length of the estimation vector: 4 baseline log-parameters plus every coefficient."""
        return 4 + sum(len(c) for c in self.columns)

    def _blocks(self) -> list[tuple[int, float, list[int], slice]]:
        out, start = [], 4
        for j, sign, cols in zip(self.parameters, self.signs, self.columns, strict=True):
            out.append((j, float(sign), list(cols), slice(start, start + len(cols))))
            start += len(cols)
        return out

    def log_parameters(self, coefficients: FloatArray, z: FloatArray) -> FloatArray:
        r"""$\phi_i = J_i c$: each row's four log-parameters, shape ``(n, 4)``.

        Args:
            coefficients: The estimation vector $c$.
            z: Covariate matrix, shape ``(n, m)``.
        """
        phi = np.repeat(coefficients[np.newaxis, :4], z.shape[0], axis=0)
        for j, sign, cols, block in self._blocks():
            if cols:
                phi[:, j] += sign * (z[:, cols] @ coefficients[block])
        return phi

    def jacobian(self, z: FloatArray) -> FloatArray:
        r"""$J_i = \partial\phi_i / \partial c$ for each row, shape ``(n, 4, k)``.

        Meant for the few rows of distinct covariate patterns.
        """
        jac = np.zeros((z.shape[0], 4, self.n_coefficients), dtype=np.float64)
        jac[:, np.arange(4), np.arange(4)] = 1.0
        for j, sign, cols, block in self._blocks():
            jac[:, j, block] = sign * z[:, cols]
        return jac

    def chain(self, weighted_grad: FloatArray, z: FloatArray) -> FloatArray:
        r"""$\sum_i J_i^\top g_i$ for row gradients $g_i$ in $\phi$ (already weighted), shape ``(k,)``."""
        out = np.empty(self.n_coefficients, dtype=np.float64)
        out[:4] = weighted_grad.sum(axis=0)
        for j, sign, cols, block in self._blocks():
            out[block] = sign * (weighted_grad[:, j] @ z[:, cols])
        return out


class PatternLikelihood:
    r"""The covariate likelihood as a sum over covariate patterns of a model's plain likelihood.

    A [`WeightedLikelihood`][relmark.typing.WeightedLikelihood] in the estimation vector $c$
    (see the module docstring): one plain prepared likelihood per distinct covariate pattern,
    evaluated at $\phi_p = J_p c$; totals, gradient $\sum_p J_p^\top g_p$ and Hessian
    $\sum_p J_p^\top H_p J_p$. A pattern's rows keep everything the plain likelihood shares
    (terms per distinct $x$, ages and recencies per distinct value).

    Args:
        prepare: The model's prepared likelihood class, called as ``prepare(x, t_x, T, w)``.
        x: Repeat purchases per row.
        t_x: Recency per row.
        T: Age per row.
        weights: Customers per row.
        pattern: Each row's pattern, an index into ``patterns``.
        patterns: The distinct covariate rows, shape ``(P, m)``.
        roles: How the coefficients enter the log-parameters.
    """

    def __init__(
        self,
        prepare: PreparedLikelihood,
        x: FloatArray,
        t_x: FloatArray,
        T: FloatArray,
        weights: FloatArray,
        pattern: IntArray,
        patterns: FloatArray,
        roles: CovariateRoles,
    ) -> None:
        self._n_rows = int(np.size(x))
        self._weight = float(np.sum(weights))
        self.roles = roles
        self.jacobians = roles.jacobian(patterns)
        order = np.argsort(pattern, kind="stable")
        bounds = np.searchsorted(pattern[order], np.arange(patterns.shape[0] + 1))
        self.members: list[IntArray] = [
            order[bounds[p] : bounds[p + 1]] for p in range(patterns.shape[0])
        ]
        self.parts = [
            prepare(x[rows], t_x[rows], T[rows], weights[rows]) if rows.size else None
            for rows in self.members
        ]

    @property
    def n_rows(self) -> int:
        """Number of rows."""
        return self._n_rows

    @property
    def total_weight(self) -> float:
        """Total weight (customers)."""
        return self._weight

    def total(
        self, log_params: FloatArray, *, hessian: bool = False
    ) -> tuple[float, FloatArray, FloatArray | None]:
        """Weighted total log-likelihood, its gradient and (with ``hessian``) its Hessian in $c$."""
        k = self.roles.n_coefficients
        ll = 0.0
        grad = np.zeros(k, dtype=np.float64)
        hess = np.zeros((k, k), dtype=np.float64) if hessian else None
        for jac, part in zip(self.jacobians, self.parts, strict=True):
            if part is None:
                continue
            p_ll, p_grad, p_hess = part.total(jac @ log_params, hessian=hessian)
            ll += p_ll
            grad += p_grad @ jac
            if hess is not None:
                if p_hess is None:
                    hess = None
                else:
                    hess += jac.T @ p_hess @ jac
        return ll, grad, hess

    def rows(self, log_params: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Per-row values and gradients in $c$, in the order of the rows given."""
        ll = np.empty(self._n_rows, dtype=np.float64)
        grad = np.empty((self._n_rows, self.roles.n_coefficients), dtype=np.float64)
        for jac, part, rows in zip(self.jacobians, self.parts, self.members, strict=True):
            if part is None:
                continue
            p_ll, p_grad = part.rows(jac @ log_params)
            ll[rows] = p_ll
            grad[rows] = p_grad @ jac
        return ll, grad


class RowCovariateLikelihood:
    r"""The covariate likelihood summed row by row, each row at its own parameters.

    For covariates with nearly as many patterns as rows (continuous covariates). A
    [`WeightedLikelihood`][relmark.typing.WeightedLikelihood] without an analytic Hessian;
    rows are evaluated in fixed-size blocks and chained to $c$ by
    [`CovariateRoles.chain`][relmark.core.covariates.CovariateRoles.chain], so no array of rows ×
    coefficients is allocated per evaluation.

    Args:
        kernel: Per-row kernel with per-row parameters, e.g. ``beta_geometric_rows``.
        x: Repeat purchases per row.
        t_x: Recency per row.
        T: Age per row.
        weights: Customers per row.
        z: Covariates per row, shape ``(n, m)``.
        roles: How the coefficients enter the log-parameters.
    """

    block_rows = 65536
    """Rows per kernel call: bounds the kernel's temporaries."""

    def __init__(
        self,
        kernel: RowKernel,
        x: FloatArray,
        t_x: FloatArray,
        T: FloatArray,
        weights: FloatArray,
        z: FloatArray,
        roles: CovariateRoles,
    ) -> None:
        self.kernel = kernel
        self.x, self.t_x, self.T = x, t_x, T
        self.weights = np.asarray(weights, dtype=np.float64)
        self.z = z
        self.roles = roles

    @property
    def n_rows(self) -> int:
        """Number of rows."""
        return int(self.weights.size)

    @property
    def total_weight(self) -> float:
        """Total weight (customers)."""
        return float(self.weights.sum())

    def total(
        self, log_params: FloatArray, *, hessian: bool = False
    ) -> tuple[float, FloatArray, FloatArray | None]:
        """Weighted total log-likelihood and its gradient in $c$; no analytic Hessian."""
        del hessian  # the per-row kernel has none
        ll = 0.0
        grad = np.zeros(self.roles.n_coefficients, dtype=np.float64)
        for start in range(0, self.n_rows, self.block_rows):
            block = slice(start, start + self.block_rows)
            z = self.z[block]
            w = self.weights[block]
            row_ll, row_grad = self.kernel(
                self.roles.log_parameters(log_params, z),
                self.x[block],
                self.t_x[block],
                self.T[block],
            )
            ll += float(np.einsum("i,i->", w, row_ll))
            grad += self.roles.chain(row_grad * w[:, np.newaxis], z)
        return ll, grad, None

    def rows(self, log_params: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Per-row values and gradients in $c$ (to name offending rows)."""
        row_ll, row_grad = self.kernel(
            self.roles.log_parameters(log_params, self.z), self.x, self.t_x, self.T
        )
        jac = self.roles.jacobian(self.z)
        return row_ll, np.einsum("ij,ijk->ik", row_grad, jac)


def beta_geometric_rows(
    log_theta: FloatArray,
    x: FloatArray,
    t_x: FloatArray,
    T: FloatArray,
    *,
    modified: bool = False,
) -> tuple[FloatArray, FloatArray]:
    r"""BG/NBD or MBG/NBD log-likelihood of each row at its own parameters, with its gradient.

    BG/NBD: Fader, Hardie & Lee (2005), eq. (6); MBG/NBD: Batislam, Denizel & Filiztekin (2007),
    the likelihood of their §2. Both read, with $s = r + x$,

    $$\ell = g + \ln\big[e^{c_3 - s\ln(\alpha+T)} + e^{c_4 - s\ln(\alpha+t_x)}\big],\qquad
    g = \ln\Gamma(s) - \ln\Gamma(r) + r\ln\alpha + \ln B(a, b+x) - \ln B(a, b) - m\ln(a+b+x),$$

    where for the BG/NBD ($m = 0$) $c_3 = 0$, $c_4 = \ln a - \ln(b+x-1)$ for $x > 0$ and
    $c_4 = -\infty$ at $x = 0$; for the MBG/NBD ($m = 1$) $c_3 = \ln(b+x)$ and $c_4 = \ln a$
    (the form of [`relmark.core.bgnbd_likelihood`][relmark.core.bgnbd_likelihood]). With $w_3$,
    $w_4$ the shares of the two terms, the gradient in $(\ln r, \ln\alpha, \ln a, \ln b)$ is
    $r[\psi(s) - \psi(r) + \ln\alpha - w_3\ln(\alpha+T) - w_4\ln(\alpha+t_x)]$,
    $r - \alpha s[w_3/(\alpha+T) + w_4/(\alpha+t_x)]$, $a\,\partial_a g + w_4$ and
    $b\,\partial_b g + b(w_3\partial_b c_3 + w_4\partial_b c_4)$.

    Args:
        log_theta: $(\ln r, \ln\alpha, \ln a, \ln b)$ of each row, shape ``(n, 4)``.
        x: Repeat purchases.
        t_x: Recency.
        T: Age.
        modified: ``True`` for the MBG/NBD.

    Returns:
        ``(ll, grad)``: shapes ``(n,)`` and ``(n, 4)``.
    """
    theta = np.exp(log_theta)
    r, alpha, a, b = theta[:, 0], theta[:, 1], theta[:, 2], theta[:, 3]
    s = r + x
    log_alpha = log_theta[:, 1]
    log_alpha_T = np.log(alpha + T)
    log_alpha_tx = np.log(alpha + t_x)
    psi_ab = digamma(a + b)
    psi_abx = digamma(a + b + x)
    g = gammaln(s) - gammaln(r) + r * log_alpha + betaln(a, b + x) - betaln(a, b)
    g_a = psi_ab - psi_abx
    g_b = digamma(b + x) - digamma(b) + psi_ab - psi_abx
    if modified:
        inv_abx = 1.0 / (a + b + x)
        g = g + np.log(inv_abx)
        g_a = g_a - inv_abx
        g_b = g_b - inv_abx
        a3 = np.log(b + x) - s * log_alpha_T
        a4 = log_theta[:, 2] - s * log_alpha_tx
        c3_b = 1.0 / (b + x)
        c4_b = np.zeros_like(x)
    else:
        inv_b = np.where(x > 0, 1.0 / (b + np.maximum(x, 1.0) - 1.0), 0.0)
        a3 = -s * log_alpha_T
        with np.errstate(divide="ignore"):
            a4 = np.where(x > 0, log_theta[:, 2] + np.log(inv_b), -np.inf) - s * log_alpha_tx
        c3_b = np.zeros_like(x)
        c4_b = -inv_b
    last = np.logaddexp(a3, a4)
    w3 = np.exp(a3 - last)
    w4 = np.exp(a4 - last)
    grad = np.empty((x.size, 4), dtype=np.float64)
    grad[:, 0] = r * (digamma(s) - digamma(r) + log_alpha - w3 * log_alpha_T - w4 * log_alpha_tx)
    grad[:, 1] = r - alpha * s * (w3 / (alpha + T) + w4 / (alpha + t_x))
    grad[:, 2] = a * g_a + w4
    grad[:, 3] = b * (g_b + w3 * c3_b + w4 * c4_b)
    return g + last, grad
