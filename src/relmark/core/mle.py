r"""The maximum-likelihood driver shared by every parametric model in relmark.

A model supplies one vectorized function ``f(log_params, *data) -> (ll, grad)`` giving each row's
log-likelihood (shape ``(n,)``) and its gradient with respect to the log-parameters (shape
``(n, k)``); rows carry weights (how many customers share the row). A model can instead supply
a [`WeightedLikelihood`][relmark.typing.WeightedLikelihood]: an object prepared once for the
data, which returns the weighted *totals* directly (so terms that depend only on the data are
computed once, terms of $x$ alone once per distinct $x$, and nothing of size rows × parameters
is allocated per iteration) and, optionally, the analytic Hessian. The driver then

1. maximizes the **penalized mean log-likelihood**

   $$\frac{1}{W}\sum_i w_i\,\ell_i(\theta) - \lambda \sum_k (\ln\theta_k)^2,
   \qquad W = \sum_i w_i,$$

   over $\ln\theta$. With an analytic Hessian it runs damped Newton steps inside the box
   $|\ln\theta| \le 30$ (the Hessian's eigenvalues taken in absolute value, so every step
   descends; steps capped at 3 in $\ln\theta$; backtracking line search), which converges in a
   handful of iterations; if that stalls, and always without an analytic Hessian, it runs BFGS
   (analytic gradient; outside the box a steep quadratic wall keeps $e^{\ln\theta}$ finite),
   falling back to L-BFGS-B on that box when BFGS stops away from a stationary point, then
   polishes with Newton steps. Because the
   penalty is set against the *mean* log-likelihood, a penalizer $\lambda$ shrinks the
   estimates the same amount for 1,000 or 1,000,000 customers; equivalently the total objective
   is $\sum_i w_i\ell_i - \lambda W \sum_k (\ln\theta_k)^2$. It pulls every parameter towards 1.
2. computes the Hessian $H$ of the total penalized objective in $\ln\theta$ (analytic when the
   likelihood supplies it, otherwise by central finite differences of the analytic gradient,
   step $10^{-5}$), symmetrized;
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
from scipy.special import ndtri

from relmark._typing import FloatArray, IntArray, WeightedLikelihood
from relmark._validation import cmp
from relmark.errors import ConvergenceError

__all__ = [
    "MAX_LOG_STANDARD_ERROR",
    "LogLikelihoodFunction",
    "MLEResult",
    "RowLikelihood",
    "maximize_likelihood",
    "maximize_weighted",
    "wald_intervals",
]

LogLikelihoodFunction = Callable[..., tuple[FloatArray, FloatArray]]
"""``f(log_params, *data) -> (ll_per_row, grad_per_row)``, the contract of a model kernel."""

MAX_LOG_STANDARD_ERROR = 5.0
r"""A recommended ``max_log_standard_error``: a 95 % interval spanning a factor
$e^{2 \cdot 1.96 \cdot 5} \approx 3\times10^{8}$ means the data do not identify the parameter."""

_LOG_BOUND = 30.0
_WALL = 1e3
_HESSIAN_STEP = 1e-5
_NEWTON_STEPS = 8
_NEWTON_ITERATIONS = 100
_NEWTON_MAX_STEP = 3.0
_FALLBACK_GRADIENT = 1e-4
_GRADIENT_TOLERANCE = 1e-7
_POLISHED_GRADIENT = 1e-12


class RowLikelihood:
    """A [`WeightedLikelihood`][relmark.typing.WeightedLikelihood] over a per-row kernel.

    Args:
        function: The kernel, ``f(log_params, *data) -> (ll, grad)``.
        data: Row arrays passed to ``function`` after the log-parameters.
        weights: Weight of each row.
    """

    def __init__(
        self, function: LogLikelihoodFunction, data: Sequence[FloatArray], weights: FloatArray
    ) -> None:
        self.function = function
        self.data = tuple(data)
        self.weights = np.asarray(weights, dtype=np.float64)

    @property
    def n_rows(self) -> int:
        """Number of rows."""
        return int(self.weights.size)

    @property
    def total_weight(self) -> float:
        """Sum of the weights."""
        return float(self.weights.sum())

    def rows(self, log_params: FloatArray) -> tuple[FloatArray, FloatArray]:
        """The kernel's per-row values and gradients."""
        return self.function(log_params, *self.data)

    def total(
        self, log_params: FloatArray, *, hessian: bool = False
    ) -> tuple[float, FloatArray, FloatArray | None]:
        """Weighted sums of the kernel's rows; no analytic Hessian."""
        del hessian  # a per-row kernel has none
        ll, grad = self.function(log_params, *self.data)
        # einsum rather than a BLAS product: waking a multi-threaded BLAS for a few thousand
        # rows costs more than the sums.
        return (
            float(np.sum(self.weights * ll)),
            np.einsum("i,ij->j", self.weights, grad),
            None,
        )


def _as_names(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(names)


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
        message: The optimizer's message.
        n_observations: Total weight $W$.
        n_rows: Number of (distinct) rows the likelihood was evaluated on.
        penalizer: The penalizer $\lambda$ used.
    """

    names: tuple[str, ...] = attrs.field(converter=_as_names)
    params: FloatArray = attrs.field(eq=cmp)
    covariance: FloatArray = attrs.field(eq=cmp)
    log_covariance: FloatArray = attrs.field(eq=cmp)
    standard_errors: FloatArray = attrs.field(eq=cmp)
    log_likelihood: float
    aic: float
    bic: float
    n_iterations: int
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
    z = float(ndtri(0.5 + level / 2.0))
    # An unidentified parameter's interval is [0, inf]: the overflow is the honest limit.
    with np.errstate(invalid="ignore", over="ignore"):
        se_log = np.sqrt(np.diag(log_covariance))
        return params * np.exp(-z * se_log), params * np.exp(z * se_log)


class _Objective:
    """Negative penalized mean log-likelihood, its gradient and Hessian over log-parameters.

    The last evaluation of the likelihood is kept, so asking for the value, the gradient, the
    Hessian or the log-likelihood at the same point costs one evaluation.
    """

    def __init__(self, likelihood: WeightedLikelihood, penalizer: float) -> None:
        self.likelihood = likelihood
        self.total = likelihood.total_weight
        self.penalizer = penalizer
        self._last: tuple[FloatArray, float, FloatArray, FloatArray | None, bool] | None = None

    def _evaluate(
        self, log_params: FloatArray, *, hessian: bool
    ) -> tuple[float, FloatArray, FloatArray | None]:
        last = self._last
        if last is not None and np.array_equal(last[0], log_params) and (last[4] or not hessian):
            return last[1], last[2], last[3]
        with np.errstate(all="ignore"):
            ll, grad, hess = self.likelihood.total(log_params, hessian=hessian)
        self._last = (log_params.copy(), ll, grad, hess, hessian)
        return ll, grad, hess

    def rows(self, log_params: FloatArray) -> tuple[FloatArray, FloatArray]:
        with np.errstate(all="ignore"):
            return self.likelihood.rows(log_params)

    def log_likelihood(self, log_params: FloatArray) -> float:
        return self._evaluate(log_params, hessian=False)[0]

    def __call__(self, log_params: FloatArray) -> tuple[float, FloatArray]:
        # Outside the box |ln theta| <= L the likelihood is evaluated on the box's edge plus a
        # steep quadratic wall, so an unbounded quasi-Newton step never overflows exp().
        clipped = np.clip(log_params, -_LOG_BOUND, _LOG_BOUND)
        excess = log_params - clipped
        ll, grad, _ = self._evaluate(clipped, hessian=False)
        value = (
            -ll / self.total
            + self.penalizer * float(np.sum(clipped * clipped))
            + _WALL * float(np.sum(excess * excess))
        )
        gradient = -grad / self.total + 2.0 * self.penalizer * clipped + 2.0 * _WALL * excess
        if not np.isfinite(value) or not np.all(np.isfinite(gradient)):
            return np.inf, np.zeros_like(log_params)
        return value, gradient

    def with_hessian(self, log_params: FloatArray) -> tuple[float, FloatArray, FloatArray | None]:
        """Value, gradient and analytic Hessian at a point inside the box (``None`` if unavailable)."""
        ll, grad, hess = self._evaluate(log_params, hessian=True)
        value = -ll / self.total + self.penalizer * float(np.sum(log_params * log_params))
        gradient = -grad / self.total + 2.0 * self.penalizer * log_params
        if not np.isfinite(value) or not np.all(np.isfinite(gradient)):
            return np.inf, np.zeros_like(log_params), None
        if hess is None:
            return value, gradient, None
        hess = -hess / self.total + 2.0 * self.penalizer * np.eye(log_params.size)
        return value, gradient, (hess + hess.T) / 2.0

    def hessian(self, log_params: FloatArray) -> FloatArray:
        """Hessian of the mean objective: analytic if available, else central differences."""
        _, _, analytic = self.with_hessian(log_params)
        if analytic is not None and np.all(np.isfinite(analytic)):
            return analytic
        k = log_params.size
        hess = np.empty((k, k), dtype=np.float64)
        for j in range(k):
            step = np.zeros(k)
            step[j] = _HESSIAN_STEP
            hess[:, j] = (self(log_params + step)[1] - self(log_params - step)[1]) / (
                2.0 * _HESSIAN_STEP
            )
        return (hess + hess.T) / 2.0


def _bad_rows(objective: _Objective, log_params: FloatArray) -> IntArray:
    """The rows where the log-likelihood (or its gradient) is not finite at ``log_params``."""
    ll, grad = objective.rows(log_params)
    bad = ~np.isfinite(ll) | ~np.all(np.isfinite(grad), axis=1)
    return np.flatnonzero(bad)


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
    advice: str | None = None,
) -> ConvergenceError:
    rows = ""
    if bad_rows.size:
        listing = (
            describe_rows(bad_rows)
            if describe_rows is not None
            else ", ".join(str(int(i)) for i in bad_rows[:5])
        )
        rows = f" The log-likelihood is not finite at: {listing}."
    # Every piece of advice (the generic list and the models' own) recommends the driver's
    # ``penalizer`` first, which each model exposes under the same hyperparameter name.
    return ConvergenceError(
        f"Maximum likelihood did not converge: {reason}.{rows}",
        hint=advice or _advice(names),
        hint_field="penalizer",
    )


def _newton(
    objective: _Objective, start: FloatArray, max_iterations: int
) -> tuple[FloatArray, int, bool]:
    """Damped Newton with an analytic Hessian, inside the box; ``False`` when unavailable or stalled.

    The Hessian's eigenvalues are replaced by their absolute values (floored at a small share
    of the largest), so each direction descends even where the objective is not convex; steps
    are capped and backtracked until the objective decreases (or, flat to rounding, until the
    gradient shrinks).
    """
    x = np.clip(start, -_LOG_BOUND, _LOG_BOUND)
    value, gradient, hess = objective.with_hessian(x)
    iteration = 0
    usable = np.isfinite(value)
    while usable and iteration < max_iterations:
        if hess is None or not np.all(np.isfinite(hess)):
            usable = False
            break
        if np.max(np.abs(gradient)) < _POLISHED_GRADIENT:
            break
        eigenvalues, vectors = np.linalg.eigh(hess)
        floor = 1e-10 * max(float(np.max(np.abs(eigenvalues))), 1e-300)
        direction = -(vectors @ ((vectors.T @ gradient) / np.maximum(np.abs(eigenvalues), floor)))
        longest = float(np.max(np.abs(direction)))
        if longest > _NEWTON_MAX_STEP:
            direction *= _NEWTON_MAX_STEP / longest
        step = _line_search(objective, x, value, gradient, direction)
        if step is None:
            break
        x, value, gradient, hess = step
        iteration += 1
    converged = bool(usable and np.max(np.abs(gradient)) < _GRADIENT_TOLERANCE)
    return x, iteration, converged


def _line_search(
    objective: _Objective,
    x: FloatArray,
    value: float,
    gradient: FloatArray,
    direction: FloatArray,
) -> tuple[FloatArray, float, FloatArray, FloatArray | None] | None:
    """Backtrack along ``direction`` (inside the box) until the step is accepted, or ``None``."""
    slope = float(gradient @ direction)
    scale = 1.0
    for _ in range(30):
        candidate = np.clip(x + scale * direction, -_LOG_BOUND, _LOG_BOUND)
        if np.array_equal(candidate, x):
            return None
        new_value, new_gradient, new_hess = objective.with_hessian(candidate)
        # Near the optimum the objective is flat to rounding, so a step that keeps it within
        # rounding and shrinks the gradient is progress too.
        flat = new_value <= value + 1e-13 * (1.0 + abs(value))
        if new_value <= value + 1e-4 * scale * slope or (
            flat and np.max(np.abs(new_gradient)) < np.max(np.abs(gradient))
        ):
            return candidate, new_value, new_gradient, new_hess
        scale /= 2.0
    return None


def _quasi_newton(
    objective: _Objective, start: FloatArray, max_iterations: int
) -> tuple[FloatArray, int, str]:
    """BFGS from ``start``; L-BFGS-B in the box when BFGS stops far from a stationary point.

    BFGS runs on NumPy alone, which on a busy multi-core machine is several times faster than
    L-BFGS-B (whose BLAS calls wake idle threads); L-BFGS-B is the robust fallback.
    """
    # Imported here: scipy.optimize costs ~0.7 s at import and many uses never fit.
    from scipy.optimize import minimize

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

    [`maximize_weighted`][relmark.core.mle.maximize_weighted] on a
    [`RowLikelihood`][relmark.core.mle.RowLikelihood] of ``function``.

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
            names the rows with a non-finite likelihood. The advice is also its ``hint``, and
            ``hint_field`` is ``"penalizer"`` (the advice's first remedy).
    """
    return maximize_weighted(
        RowLikelihood(function, data, weights),
        names,
        start,
        penalizer=penalizer,
        describe_rows=describe_rows,
        max_iterations=max_iterations,
    )


def maximize_weighted(
    likelihood: WeightedLikelihood,
    names: Sequence[str],
    start: FloatArray,
    *,
    penalizer: float = 0.0,
    describe_rows: Callable[[IntArray], str] | None = None,
    max_iterations: int = 1000,
    advice: str | None = None,
    max_log_standard_error: float | None = None,
) -> MLEResult:
    r"""Maximize a prepared, weighted, optionally penalized log-likelihood over log-parameters.

    Per iteration the cost is one call of ``likelihood.total`` (the model decides what it
    computes per row, per distinct value or once); per-row values are computed only to name
    the offending rows of a failed fit.

    Args:
        likelihood: The log-likelihood prepared for the data.
        names: Parameter names, in the order of ``log_params``.
        start: Starting log-parameters.
        penalizer: $\lambda \ge 0$ of the L2 penalty on the log-parameters (see the module
            docstring for its exact definition).
        describe_rows: Maps indices of offending rows to a description for error messages.
        max_iterations: Iteration limit of each quasi-Newton run.
        advice: What to try: the ``hint`` of a ``ConvergenceError``, appended to its message
            (a generic list by default). It should recommend ``penalizer`` first, as the
            error's ``hint_field`` says.
        max_log_standard_error: When given, a fit where some $\mathrm{se}(\ln\hat\theta_k)$
            exceeds it is refused: the estimate sits on a flat ridge or at a boundary the box
            does not reach (e.g. a shape of $10^{-9}$ with a 95 % interval $[0, \infty]$), so the
            data do not identify it.

    Returns:
        The estimates with covariance, standard errors and fit statistics.

    Raises:
        ConvergenceError: As for [`maximize_likelihood`][relmark.core.mle.maximize_likelihood].
    """
    names = tuple(names)
    objective = _Objective(likelihood, penalizer)
    start = np.asarray(start, dtype=np.float64)
    no_rows = np.empty(0, dtype=np.int64)

    def fail(reason: str, bad: IntArray = no_rows) -> ConvergenceError:
        return _fail(reason, names, bad, describe_rows, advice)

    # Evaluated with the Hessian (when the likelihood has one) because Newton starts here.
    if not np.isfinite(objective.with_hessian(start)[0]):
        raise fail(
            "the log-likelihood is not finite at the starting values",
            _bad_rows(objective, start),
        )
    x, n_iterations, newton_done = _newton(objective, start, _NEWTON_ITERATIONS)
    message = "Newton: converged"
    polish_steps = 0
    if newton_done:
        value, gradient = objective(x)
    else:
        x, quasi_iterations, message = _quasi_newton(objective, start, max_iterations)
        n_iterations += quasi_iterations
        value, gradient = objective(x)
        x, value, gradient, polish_steps = _newton_polish(objective, x, value, gradient)
    ll_total = objective.log_likelihood(x)
    if not np.isfinite(value) or not np.isfinite(ll_total):
        raise fail("the log-likelihood became non-finite", _bad_rows(objective, x))
    at_bound = np.abs(x) >= _LOG_BOUND - 1e-6
    if at_bound.any():
        runaway = ", ".join(
            f"{n}={np.exp(v):.3g}" for n, v, hit in zip(names, x, at_bound, strict=True) if hit
        )
        raise fail(
            f"parameter(s) ran to the edge of the allowed range ({runaway}); the data do not "
            "identify them"
        )
    if not np.max(np.abs(gradient)) < _GRADIENT_TOLERANCE:
        raise fail(
            f"the gradient is still {np.max(np.abs(gradient)):.3g} after "
            f"{n_iterations + polish_steps} iterations ({message}), at "
            + ", ".join(f"{n}={np.exp(v):.3g}" for n, v in zip(names, x, strict=True))
        )
    total = objective.total
    # The objective is minus the total penalized log-likelihood divided by W, so its Hessian
    # times W is the observed information -H.
    information = objective.hessian(x) * total
    params = np.exp(x)
    log_cov = _invert_information(information, names, describe_rows, advice)
    if max_log_standard_error is not None:
        _check_identified(params, log_cov, names, max_log_standard_error, fail)
    jac = np.diag(params)
    cov = jac @ log_cov @ jac.T
    cov = (cov + cov.T) / 2.0
    with np.errstate(invalid="ignore"):
        se = np.sqrt(np.diag(cov))
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
        message=message,
        n_observations=total,
        n_rows=likelihood.n_rows,
        penalizer=penalizer,
    )


def _check_identified(
    params: FloatArray,
    log_covariance: FloatArray,
    names: Sequence[str],
    limit: float,
    fail: Callable[[str], ConvergenceError],
) -> None:
    """Refuse estimates whose log-scale standard error exceeds ``limit`` (not identified)."""
    se_log = np.sqrt(np.maximum(np.diag(log_covariance), 0.0))
    loose = ~(se_log <= limit)
    if not loose.any():
        return
    lower, upper = wald_intervals(params, log_covariance)
    listing = ", ".join(
        f"{name}={value:.3g} (95% interval [{low:.3g}, {high:.3g}])"
        for name, value, low, high, hit in zip(names, params, lower, upper, loose, strict=True)
        if hit
    )
    raise fail(
        f"the optimum is on a flat ridge or at a boundary of the parameter space: {listing}; "
        "the data do not identify these parameter(s)"
    )


def _invert_information(
    information: FloatArray,
    names: Sequence[str],
    describe_rows: Callable[[IntArray], str] | None,
    advice: str | None = None,
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
            advice,
        ) from None
    inverse = np.linalg.inv(information)
    return np.asarray((inverse + inverse.T) / 2.0, dtype=np.float64)
