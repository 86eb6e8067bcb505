r"""The maximum-likelihood driver shared by every parametric model in relmark.

A model supplies one vectorized function ``f(log_params, *data) -> (ll, grad)`` giving each row's
log-likelihood (shape ``(n,)``) and its gradient with respect to the log-parameters (shape
``(n, k)``); rows carry weights (how many customers share the row). The driver then

1. maximizes the **penalized mean log-likelihood**

   $$\frac{1}{W}\sum_i w_i\,\ell_i(\theta) - \lambda \sum_k (\ln\theta_k)^2,
   \qquad W = \sum_i w_i,$$

   over $\ln\theta$ with BFGS (analytic gradient; outside the box $|\ln\theta| \le 30$ a steep
   quadratic wall keeps $e^{\ln\theta}$ finite), falling back to L-BFGS-B on that box when BFGS
   stops away from a stationary point, then polishes with Newton steps. Because the
   penalty is set against the *mean* log-likelihood, a penalizer $\lambda$ shrinks the
   estimates the same amount for 1,000 or 1,000,000 customers; equivalently the total objective
   is $\sum_i w_i\ell_i - \lambda W \sum_k (\ln\theta_k)^2$. It pulls every parameter towards 1.
2. computes the Hessian $H$ of the total penalized objective in $\ln\theta$ by central finite
   differences of the analytic gradient (step $10^{-5}$), symmetrized;
3. takes $\operatorname{Cov}(\ln\hat\theta) = (-H)^{-1}$ and, by the delta method,
   $\operatorname{Cov}(\hat\theta) = J\,\operatorname{Cov}(\ln\hat\theta)\,J^\top$ with
   $J = \operatorname{diag}(\hat\theta)$ (symmetric by construction);
4. reports standard errors, Wald intervals built on the log scale and exponentiated
   ($\hat\theta\,e^{\pm z\,\mathrm{se}(\ln\hat\theta)}$, always positive), the unpenalized
   log-likelihood, AIC $= 2k - 2\ln L$ and BIC $= k\ln W - 2\ln L$.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import attrs
import numpy as np
from scipy.optimize import minimize
from scipy.stats import norm

from relmark.errors import ConvergenceError
from relmark.typing import FloatArray, IntArray

__all__ = ["LogLikelihoodFunction", "MLEResult", "maximize_likelihood", "wald_intervals"]

LogLikelihoodFunction = Callable[..., tuple[FloatArray, FloatArray]]
"""``f(log_params, *data) -> (ll_per_row, grad_per_row)``, the contract of a model kernel."""

_LOG_BOUND = 30.0
_WALL = 1e3
_HESSIAN_STEP = 1e-5
_NEWTON_STEPS = 8
_FALLBACK_GRADIENT = 1e-4
_GRADIENT_TOLERANCE = 1e-7


def _as_names(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(names)


def _array_eq(a: FloatArray, b: FloatArray) -> bool:
    return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=True))


_cmp = attrs.cmp_using(eq=_array_eq)


@attrs.frozen(kw_only=True)
class MLEResult:
    r"""Everything the driver learned: estimates, uncertainty and fit statistics.

    Attributes:
        names: Parameter names, in the order of every array below.
        params: Estimates $\hat\theta$ (natural scale).
        covariance: $\operatorname{Cov}(\hat\theta)$ by the delta method.
        log_covariance: $\operatorname{Cov}(\ln\hat\theta) = (-H)^{-1}$.
        standard_errors: Square roots of the diagonal of ``covariance``.
        log_likelihood: $\sum_i w_i\ell_i(\hat\theta)$, without the penalty.
        aic: $2k - 2\ln L$.
        bic: $k\ln W - 2\ln L$ with $W$ the total weight (number of customers).
        n_iterations: Quasi-Newton iterations plus Newton polishing steps.
        converged: Always ``True``:
            [`maximize_likelihood`][relmark.core.mle.maximize_likelihood] raises
            [`ConvergenceError`][relmark.errors.ConvergenceError] instead of returning a result
            whose gradient criterion was not met. Kept as a record of that check (and in saved
            fits).
        message: The optimizer's message.
        n_observations: Total weight $W$.
        n_rows: Number of (distinct) rows the likelihood was evaluated on.
        penalizer: The penalizer $\lambda$ used.
    """

    names: tuple[str, ...] = attrs.field(converter=_as_names)
    params: FloatArray = attrs.field(eq=_cmp)
    covariance: FloatArray = attrs.field(eq=_cmp)
    log_covariance: FloatArray = attrs.field(eq=_cmp)
    standard_errors: FloatArray = attrs.field(eq=_cmp)
    log_likelihood: float
    aic: float
    bic: float
    n_iterations: int
    converged: bool
    message: str
    n_observations: float
    n_rows: int
    penalizer: float


def wald_intervals(
    params: FloatArray, log_covariance: FloatArray, level: float = 0.95
) -> tuple[FloatArray, FloatArray]:
    r"""Wald intervals built on the log scale, then exponentiated (so they stay positive).

    Args:
        params: Estimates $\hat\theta > 0$.
        log_covariance: $\operatorname{Cov}(\ln\hat\theta)$.
        level: Coverage, e.g. 0.95.

    Returns:
        ``(lower, upper)``: $\hat\theta\,e^{\mp z\,\mathrm{se}(\ln\hat\theta)}$.
    """
    z = float(norm.ppf(0.5 + level / 2.0))
    with np.errstate(invalid="ignore"):
        se_log = np.sqrt(np.diag(log_covariance))
    return params * np.exp(-z * se_log), params * np.exp(z * se_log)


class _Objective:
    """Negative penalized mean log-likelihood and its gradient, with the last evaluation cached."""

    def __init__(
        self,
        function: LogLikelihoodFunction,
        data: Sequence[FloatArray],
        weights: FloatArray,
        penalizer: float,
    ) -> None:
        self.function = function
        self.data = tuple(data)
        self.weights = weights
        self.total = float(weights.sum())
        self.penalizer = penalizer

    def rows(self, log_params: FloatArray) -> tuple[FloatArray, FloatArray]:
        with np.errstate(all="ignore"):
            return self.function(log_params, *self.data)

    def __call__(self, log_params: FloatArray) -> tuple[float, FloatArray]:
        # Outside the box |ln theta| <= L the likelihood is evaluated on the box's edge plus a
        # steep quadratic wall, so an unbounded quasi-Newton step never overflows exp().
        clipped = np.clip(log_params, -_LOG_BOUND, _LOG_BOUND)
        excess = log_params - clipped
        ll, grad = self.rows(clipped)
        # Elementwise sums rather than BLAS products: waking a multi-threaded BLAS for a few
        # thousand rows costs more than the sums.
        value = (
            -float(np.sum(self.weights * ll)) / self.total
            + self.penalizer * float(np.sum(clipped * clipped))
            + _WALL * float(np.sum(excess * excess))
        )
        gradient = (
            -np.sum(self.weights[:, np.newaxis] * grad, axis=0) / self.total
            + 2.0 * self.penalizer * clipped
            + 2.0 * _WALL * excess
        )
        if not np.isfinite(value) or not np.all(np.isfinite(gradient)):
            return np.inf, np.zeros_like(log_params)
        return value, gradient

    def hessian(self, log_params: FloatArray) -> FloatArray:
        """Hessian of the mean objective by central differences of the analytic gradient."""
        k = log_params.size
        hess = np.empty((k, k), dtype=np.float64)
        for j in range(k):
            step = np.zeros(k)
            step[j] = _HESSIAN_STEP
            hess[:, j] = (self(log_params + step)[1] - self(log_params - step)[1]) / (
                2.0 * _HESSIAN_STEP
            )
        return (hess + hess.T) / 2.0


def _rows_at(objective: _Objective, log_params: FloatArray) -> tuple[FloatArray, IntArray]:
    """Each row's log-likelihood at ``log_params`` and the rows where it (or its gradient) is not finite."""
    ll, grad = objective.rows(log_params)
    bad = ~np.isfinite(ll) | ~np.all(np.isfinite(grad), axis=1)
    return ll, np.flatnonzero(bad)


def _advice(names: Sequence[str]) -> str:
    return (
        "Things to try: (1) add a small penalizer (e.g. penalizer=0.001) to keep the parameters "
        "away from the boundary; (2) rescale time (express recency and T in a coarser unit) so "
        f"the parameters {', '.join(names)} are of moderate size; (3) check for extreme or "
        "inconsistent rows (very large frequency, recency equal to T for every customer, "
        "a cohort with no repeat purchases); (4) fit on more customers."
    )


def _fail(
    reason: str,
    names: Sequence[str],
    bad_rows: IntArray,
    describe_rows: Callable[[IntArray], str] | None,
) -> ConvergenceError:
    rows = ""
    if bad_rows.size:
        listing = (
            describe_rows(bad_rows)
            if describe_rows is not None
            else ", ".join(str(int(i)) for i in bad_rows[:5])
        )
        rows = f" The log-likelihood is not finite at: {listing}."
    return ConvergenceError(
        f"Maximum likelihood did not converge: {reason}.{rows} {_advice(names)}"
    )


def _quasi_newton(
    objective: _Objective, start: FloatArray, max_iterations: int
) -> tuple[FloatArray, int, str]:
    """BFGS from ``start``; L-BFGS-B in the box when BFGS stops far from a stationary point.

    BFGS runs on NumPy alone, which on a busy multi-core machine is several times faster than
    L-BFGS-B (whose BLAS calls wake idle threads); L-BFGS-B is the robust fallback.
    """
    with np.errstate(all="ignore"):
        result = minimize(
            objective,
            start,
            jac=True,
            method="BFGS",
            options={"maxiter": max_iterations, "gtol": 1e-9},
        )
    x = np.asarray(result.x, dtype=np.float64)
    value, gradient = objective(x)
    inside = bool(np.all(np.abs(x) <= _LOG_BOUND))
    if inside and np.isfinite(value) and np.max(np.abs(gradient)) < _FALLBACK_GRADIENT:
        return x, int(result.nit), f"BFGS: {result.message}"
    with np.errstate(all="ignore"):
        bounded = minimize(
            objective,
            start,
            jac=True,
            method="L-BFGS-B",
            bounds=[(-_LOG_BOUND, _LOG_BOUND)] * start.size,
            options={"maxiter": max_iterations, "ftol": 1e-15, "gtol": 1e-10, "maxcor": 20},
        )
    return (
        np.asarray(bounded.x, dtype=np.float64),
        int(result.nit) + int(bounded.nit),
        f"L-BFGS-B: {bounded.message}",
    )


def _newton_polish(
    objective: _Objective, x: FloatArray, value: float, gradient: FloatArray
) -> tuple[FloatArray, float, FloatArray, int]:
    """A few damped Newton steps from the quasi-Newton optimum; each must lower the objective."""
    steps = 0
    for _ in range(_NEWTON_STEPS):
        if np.max(np.abs(gradient)) < 1e-12:
            break
        hess = objective.hessian(x)
        try:
            direction = -np.linalg.solve(hess, gradient)
        except np.linalg.LinAlgError:
            break
        if not np.all(np.isfinite(direction)) or gradient @ direction >= 0:
            break
        accepted = False
        scale = 1.0
        for _ in range(10):
            candidate = np.clip(x + scale * direction, -_LOG_BOUND, _LOG_BOUND)
            new_value, new_gradient = objective(candidate)
            # Near the optimum the objective is flat to rounding, so a step that keeps it within
            # rounding and shrinks the gradient is progress too.
            flat = new_value <= value + 1e-13 * (1.0 + abs(value))
            if new_value < value or (
                flat and np.max(np.abs(new_gradient)) < np.max(np.abs(gradient))
            ):
                x, value, gradient = candidate, new_value, new_gradient
                accepted = True
                break
            scale /= 2.0
        if not accepted:
            break
        steps += 1
    return x, value, gradient, steps


def maximize_likelihood(
    function: LogLikelihoodFunction,
    data: Sequence[FloatArray],
    weights: FloatArray,
    names: Sequence[str],
    start: FloatArray,
    *,
    penalizer: float = 0.0,
    describe_rows: Callable[[IntArray], str] | None = None,
    max_iterations: int = 1000,
) -> MLEResult:
    r"""Maximize a weighted, optionally penalized log-likelihood over log-parameters.

    Args:
        function: The model kernel, ``f(log_params, *data) -> (ll, grad)``.
        data: Row arrays passed to ``function`` after the log-parameters.
        weights: Positive weight of each row (customers sharing the row).
        names: Parameter names, in the order of ``log_params``.
        start: Starting log-parameters.
        penalizer: $\lambda \ge 0$ of the L2 penalty on the log-parameters (see the module
            docstring for its exact definition).
        describe_rows: Maps indices of offending rows to a description for error messages (a
            model maps compressed rows back to customer ids).
        max_iterations: Iteration limit of each quasi-Newton run.

    Returns:
        The estimates with covariance, standard errors and fit statistics.

    Raises:
        ConvergenceError: When the likelihood is not finite at the start or at the end, the
            optimizer fails, a parameter runs to the bound, or the Hessian at the optimum is not
            negative definite (parameters not identified); the message says what to try and
            names the rows with a non-finite likelihood.
    """
    names = tuple(names)
    objective = _Objective(function, data, weights, penalizer)
    start = np.asarray(start, dtype=np.float64)
    _, bad = _rows_at(objective, start)
    if bad.size:
        raise _fail(
            "the log-likelihood is not finite at the starting values", names, bad, describe_rows
        )
    x, n_iterations, message = _quasi_newton(objective, start, max_iterations)
    value, gradient = objective(x)
    x, value, gradient, polish_steps = _newton_polish(objective, x, value, gradient)
    # One kernel evaluation at the optimum serves the finiteness check and the log-likelihood.
    ll_rows, bad = _rows_at(objective, x)
    if not np.isfinite(value) or bad.size:
        raise _fail("the log-likelihood became non-finite", names, bad, describe_rows)
    at_bound = np.abs(x) >= _LOG_BOUND - 1e-6
    if at_bound.any():
        runaway = ", ".join(
            f"{n}={np.exp(v):.3g}" for n, v, hit in zip(names, x, at_bound, strict=True) if hit
        )
        raise _fail(
            f"parameter(s) ran to the edge of the allowed range ({runaway}); the data do not "
            "identify them",
            names,
            bad,
            describe_rows,
        )
    converged = bool(np.max(np.abs(gradient)) < _GRADIENT_TOLERANCE)
    if not converged:
        raise _fail(
            f"the gradient is still {np.max(np.abs(gradient)):.3g} after "
            f"{n_iterations + polish_steps} iterations ({message})",
            names,
            bad,
            describe_rows,
        )
    total = objective.total
    # The objective is minus the total penalized log-likelihood divided by W, so its Hessian
    # times W is the observed information -H.
    information = objective.hessian(x) * total
    params = np.exp(x)
    log_cov = _invert_information(information, names, describe_rows)
    jac = np.diag(params)
    cov = jac @ log_cov @ jac.T
    cov = (cov + cov.T) / 2.0
    with np.errstate(invalid="ignore"):
        se = np.sqrt(np.diag(cov))
    ll_total = float(np.sum(weights * ll_rows))
    k = len(names)
    return MLEResult(
        names=names,
        params=params,
        covariance=cov,
        log_covariance=log_cov,
        standard_errors=se,
        log_likelihood=ll_total,
        aic=2.0 * k - 2.0 * ll_total,
        bic=k * float(np.log(total)) - 2.0 * ll_total,
        n_iterations=n_iterations + polish_steps,
        converged=converged,
        message=message,
        n_observations=total,
        n_rows=int(weights.size),
        penalizer=penalizer,
    )


def _invert_information(
    information: FloatArray,
    names: Sequence[str],
    describe_rows: Callable[[IntArray], str] | None,
) -> FloatArray:
    """$(-H)^{-1}$; a matrix that is not positive definite means the data do not identify the model."""
    try:
        np.linalg.cholesky(information)
    except np.linalg.LinAlgError:
        raise _fail(
            "the Hessian of the log-likelihood is not negative definite at the optimum, so the "
            f"data do not identify all of {', '.join(names)} (for example no customer made a "
            "repeat purchase)",
            names,
            np.empty(0, dtype=np.int64),
            describe_rows,
        ) from None
    inverse = np.linalg.inv(information)
    return np.asarray((inverse + inverse.T) / 2.0, dtype=np.float64)
