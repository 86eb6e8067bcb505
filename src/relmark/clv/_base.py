"""The base shared by relmark's parametric customer-base models, and their fit records.

A model declares a frozen attrs record of its (positive) parameters and one vectorized kernel;
[`ParametricModel`][relmark.clv.ParametricModel] turns an
[`MLEResult`][relmark.core.mle.MLEResult] into the fitted attributes every model exposes
(``params_``, ``covariance_``, ``standard_errors_``, ``log_likelihood_``, ``fit_``), builds the
parameter table and the not-fitted check.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, ClassVar

import attrs
import numpy as np

from relmark.core.mle import MLEResult, wald_intervals
from relmark.data.summary import CustomerSummary
from relmark.errors import InvalidInputError, NotFittedError
from relmark.typing import FloatArray

__all__ = ["FitResult", "ParameterTable", "ParametricModel", "positive_parameter"]


def positive_parameter(instance: Any, attribute: attrs.Attribute[float], value: float) -> None:
    """Validate (as an attrs validator) that a model parameter is a finite float > 0."""
    if not (math.isfinite(value) and value > 0):
        raise InvalidInputError(
            f"The {attribute.name!r} parameter of {type(instance).__name__} must be a finite "
            f"float > 0. Got {value!r}."
        )


@attrs.frozen(kw_only=True)
class FitResult:
    r"""How a maximum-likelihood fit went.

    Attributes:
        log_likelihood: Total log-likelihood at the estimates (without any penalty).
        aic: Akaike information criterion, $2k - 2\ln L$.
        bic: Bayesian information criterion, $k\ln W - 2\ln L$, $W$ = number of customers.
        n_iterations: Optimizer iterations.
        converged: Whether the gradient criterion was met.
        message: The optimizer's message.
        n_observations: Number of customers (total weight) the model was fitted on.
        n_rows: Number of distinct rows the likelihood was evaluated on.
        penalizer: The penalizer used.
    """

    log_likelihood: float
    aic: float
    bic: float
    n_iterations: int
    converged: bool
    message: str
    n_observations: float
    n_rows: int
    penalizer: float

    @classmethod
    def from_mle(cls, result: MLEResult) -> FitResult:
        """Keep the fit statistics of a driver result."""
        return cls(
            log_likelihood=result.log_likelihood,
            aic=result.aic,
            bic=result.bic,
            n_iterations=result.n_iterations,
            converged=result.converged,
            message=result.message,
            n_observations=result.n_observations,
            n_rows=result.n_rows,
            penalizer=result.penalizer,
        )


def _as_names(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(names)


def _eq(a: FloatArray, b: FloatArray) -> bool:
    return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=True))


@attrs.frozen(kw_only=True)
class ParameterTable:
    r"""Estimates with standard errors and Wald intervals, one row per parameter.

    The intervals are built on the log scale and exponentiated, so they are positive and
    asymmetric: $\hat\theta\,e^{\pm z\,\mathrm{se}(\ln\hat\theta)}$.

    Attributes:
        names: Parameter names.
        estimate: Point estimates.
        standard_error: Delta-method standard errors (NaN for a model built from known values).
        lower: Lower interval bounds.
        upper: Upper interval bounds.
        level: Coverage of the intervals.
    """

    names: tuple[str, ...] = attrs.field(converter=_as_names)
    estimate: FloatArray = attrs.field(eq=attrs.cmp_using(eq=_eq))
    standard_error: FloatArray = attrs.field(eq=attrs.cmp_using(eq=_eq))
    lower: FloatArray = attrs.field(eq=attrs.cmp_using(eq=_eq))
    upper: FloatArray = attrs.field(eq=attrs.cmp_using(eq=_eq))
    level: float

    def columns(self) -> dict[str, Any]:
        """The table as a mapping of column name to column (for any frame library)."""
        return {
            "parameter": list(self.names),
            "estimate": self.estimate,
            "standard_error": self.standard_error,
            "lower": self.lower,
            "upper": self.upper,
        }

    def __str__(self) -> str:
        """A fixed-width text rendering."""
        pct = f"{100 * self.level:g}%"
        header = (
            f"{'parameter':<10} {'estimate':>12} {'std. error':>12} "
            f"{pct + ' lower':>12} {pct + ' upper':>12}"
        )
        lines = [header]
        for i, name in enumerate(self.names):
            lines.append(
                f"{name:<10} {self.estimate[i]:>12.6g} {self.standard_error[i]:>12.6g} "
                f"{self.lower[i]:>12.6g} {self.upper[i]:>12.6g}"
            )
        return "\n".join(lines)


class ParametricModel:
    """Base of parametric models fitted by maximum likelihood (a convenience, not a contract).

    Subclasses set ``_params_type`` to their frozen parameter record and annotate ``params_``
    with it; the remaining fitted attributes are declared here.
    """

    _params_type: ClassVar[type[Any]]

    covariance_: FloatArray
    standard_errors_: dict[str, float]
    log_likelihood_: float
    fit_: FitResult | None

    @classmethod
    def parameter_names(cls) -> tuple[str, ...]:
        """Names of the model's parameters, in the kernels' order."""
        return tuple(field.name for field in attrs.fields(cls._params_type))

    def _params_record(self) -> Any:
        self._check_fitted()
        return self.__dict__["params_"]

    def _params_array(self) -> FloatArray:
        record = self._params_record()
        return np.array([getattr(record, n) for n in self.parameter_names()], dtype=np.float64)

    def _check_fitted(self) -> None:
        if "params_" not in self.__dict__:
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet. Call fit(summary) first, or build "
                f"one from known parameters with {type(self).__name__}.from_params(...)."
            )

    def _store_fit(self, result: MLEResult) -> None:
        names = self.parameter_names()
        self.__dict__["params_"] = self._params_type(
            **{n: float(v) for n, v in zip(names, result.params, strict=True)}
        )
        self.covariance_ = result.covariance
        self.standard_errors_ = {
            n: float(v) for n, v in zip(names, result.standard_errors, strict=True)
        }
        self.log_likelihood_ = result.log_likelihood
        self.fit_ = FitResult.from_mle(result)

    def _store_known(self, record: Any) -> None:
        names = self.parameter_names()
        k = len(names)
        self.__dict__["params_"] = record
        self.covariance_ = np.full((k, k), np.nan)
        self.standard_errors_ = dict.fromkeys(names, math.nan)
        self.log_likelihood_ = math.nan
        self.fit_ = None

    def _check_penalizer(self, value: object) -> float:
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
            or value < 0
        ):
            raise InvalidInputError(
                f"The 'penalizer' parameter of {type(self).__name__} must be a float >= 0. "
                f"Got {value!r}."
            )
        return float(value)

    def _check_summary(self, summary: object) -> CustomerSummary:
        if not isinstance(summary, CustomerSummary):
            raise InvalidInputError(
                f"The 'summary' argument of {type(self).__name__} must be a CustomerSummary "
                f"(build one with CustomerSummary.from_arrays or TransactionLog.summarize). "
                f"Got {type(summary).__name__}."
            )
        return summary

    def summary(self, level: float = 0.95) -> ParameterTable:
        """Parameter estimates with standard errors and confidence intervals.

        Args:
            level: Coverage of the Wald intervals, in $(0, 1)$.

        Returns:
            One row per parameter.

        Raises:
            NotFittedError: Before ``fit``.
            InvalidInputError: For a ``level`` outside $(0, 1)$.
        """
        params = self._params_array()
        if not 0 < level < 1:
            raise InvalidInputError(f"The 'level' argument must be in (0, 1). Got {level!r}.")
        log_cov = self.covariance_ / np.outer(params, params)
        lower, upper = wald_intervals(params, log_cov, float(level))
        return ParameterTable(
            names=self.parameter_names(),
            estimate=params,
            standard_error=np.array(
                [self.standard_errors_[n] for n in self.parameter_names()], dtype=np.float64
            ),
            lower=lower,
            upper=upper,
            level=float(level),
        )

    def __repr__(self) -> str:
        """Hyperparameters, and the parameters once fitted."""
        hyper = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.endswith("_"))
        if "params_" in self.__dict__:
            fitted = ", ".join(
                f"{n}={v:.6g}"
                for n, v in zip(self.parameter_names(), self._params_array(), strict=True)
            )
            return f"<{type(self).__name__}({hyper}) fitted: {fitted}>"
        return f"<{type(self).__name__}({hyper}) not fitted>"
