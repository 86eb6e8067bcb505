r"""The base shared by relmark's parametric customer-base models, and their fit records.

A model declares a frozen attrs record of its (positive) parameters and one vectorized kernel;
[`ParametricModel`][relmark.clv.ParametricModel] runs the fit
([`maximize_likelihood`][relmark.core.mle.maximize_likelihood]), turns its
[`MLEResult`][relmark.core.mle.MLEResult] into the fitted attributes every model exposes
(``params_``, ``covariance_``, ``log_covariance_``, ``standard_errors_``, ``log_likelihood_``,
``fit_``), builds the parameter table and the not-fitted check.
[`RepeatBuyingModel`][relmark.clv._base.RepeatBuyingModel] adds the lifecycle of the
continuous-time models fitted on $(x, t_x, T)$ summaries (BG/NBD, MBG/NBD, Pareto/NBD); their
kernels satisfy [`TransactionKernels`][relmark.typing.TransactionKernels], and every such
model is listed once, in [`relmark.clv.registry`][relmark.clv.registry].
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self

import attrs
import numpy as np
from numpy.typing import ArrayLike

from relmark._estimator import Estimator
from relmark._validation import check_real, cmp, is_real
from relmark.clv._checks import (
    check_customer_horizons,
    check_horizon_grid,
    check_times,
    describe_rows,
)
from relmark.core.mle import (
    LogLikelihoodFunction,
    MLEResult,
    maximize_likelihood,
    maximize_weighted,
    wald_intervals,
)
from relmark.data.summary import CompressedSummary, CustomerSummary, require_summary
from relmark.data.units import TimeUnit, parse_unit
from relmark.errors import InvalidInputError
from relmark.typing import (
    FloatArray,
    IntArray,
    Kernel,
    TransactionKernels,
    WeightedLikelihood,
)

if TYPE_CHECKING:
    from relmark.clv.uncertainty import PredictionInterval

__all__ = [
    "FitResult",
    "ParameterTable",
    "ParametricModel",
    "RepeatBuyingModel",
    "parameter_converter",
    "positive_parameter",
]

_BLOCK_ELEMENTS = 1 << 18
"""Elements per kernel call in the prediction methods (2 MB per float64 temporary): large enough
for the kernels to share work between equal arguments, small enough to bound memory."""


def _parameter_message(owner: object, name: str, value: object) -> str:
    return (
        f"The {name!r} parameter of {type(owner).__name__} must be a finite float > 0. "
        f"Got {value!r}."
    )


def positive_parameter(instance: Any, attribute: attrs.Attribute[float], value: object) -> None:
    """Validate (as an attrs validator) that a model parameter is a finite float > 0."""
    if not (isinstance(value, float) and math.isfinite(value) and value > 0):
        raise InvalidInputError(_parameter_message(instance, attribute.name, value))


def parameter_converter(value: object) -> object:
    """Convert a model parameter (an attrs converter): a real scalar (or numeric text) becomes a float.

    Anything else (None, a boolean, other text, an array) is passed on unchanged, so that
    [`positive_parameter`][relmark.clv._base.positive_parameter] refuses it with an
    [`InvalidInputError`][relmark.errors.InvalidInputError] naming the field, instead of
    ``float()`` raising a bare ``TypeError`` or ``ValueError``.
    """
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, bool | np.bool_) or not isinstance(value, str | numbers.Real):
        return value
    try:
        return float(value)
    except ValueError:
        return value


@attrs.frozen(kw_only=True)
class FitResult:
    r"""How a maximum-likelihood fit went.

    There is no "converged" flag: a fit whose gradient criterion is not met raises
    [`ConvergenceError`][relmark.errors.ConvergenceError] instead of returning.

    Attributes:
        log_likelihood: Total log-likelihood at the estimates (without any penalty).
        aic: Akaike information criterion, $2k - 2\ln L$.
        bic: Bayesian information criterion, $k\ln W - 2\ln L$, $W$ = number of customers.
        n_iterations: Optimizer iterations.
        message: The optimizer's message.
        n_observations: Number of customers (total weight) the model was fitted on.
        n_rows: Number of distinct rows the likelihood was evaluated on.
        penalizer: The penalizer used.
    """

    log_likelihood: float
    aic: float
    bic: float
    n_iterations: int
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
            message=result.message,
            n_observations=result.n_observations,
            n_rows=result.n_rows,
            penalizer=result.penalizer,
        )


def _is_frame(value: object) -> bool:
    """A pandas/polars/pyarrow frame (by its module; no frame library is imported here)."""
    module = type(value).__module__.split(".")[0]
    return (module in {"pandas", "polars", "pyarrow"} and hasattr(value, "columns")) or (
        type(value).__name__ in {"LazyFrame", "RecordBatch"}
    )


def _as_names(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(names)


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
    estimate: FloatArray = attrs.field(eq=cmp)
    standard_error: FloatArray = attrs.field(eq=cmp)
    lower: FloatArray = attrs.field(eq=cmp)
    upper: FloatArray = attrs.field(eq=cmp)
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

    def to_frame(self, backend: str | None = None) -> Any:
        """The table as a data frame (``"pandas"``, ``"polars"`` or ``"pyarrow"``).

        Args:
            backend: The frame library; by default the first of them that is installed.
        """
        from relmark._display import frame_backend
        from relmark._frames import to_native_frame

        data = self.columns()
        data["parameter"] = np.asarray(data["parameter"], dtype=object)
        return to_native_frame(data, frame_backend(backend))

    def _repr_html_(self) -> str:
        """The table as HTML (Jupyter shows it when a cell ends with ``model.summary()``)."""
        from relmark._display import html_table

        pct = f"{100 * self.level:g}%"
        columns = self.columns()
        return html_table(
            {
                "parameter": columns["parameter"],
                "estimate": self.estimate,
                "std. error": self.standard_error,
                f"{pct} lower": self.lower,
                f"{pct} upper": self.upper,
            },
            title="Parameter estimates",
        )

    def __repr__(self) -> str:
        """The text rendering (what a notebook or REPL shows for ``model.summary()``)."""
        return str(self)

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


class ParametricModel(Estimator):
    r"""Base of parametric models fitted by maximum likelihood (a convenience, not a contract).

    Subclasses set ``_params_type`` to their frozen parameter record and annotate ``params_``
    with it; the remaining fitted attributes and the ``penalizer`` hyperparameter are declared
    here. A subclass's ``fit`` validates its data, then calls ``_fit_rows``; its ``from_params``
    builds the record and calls ``_from_record``.

    Args:
        penalizer: Strength $\lambda \ge 0$ of an L2 penalty on the log-parameters, set
            against the *mean* log-likelihood per customer (see
            [`relmark.core.mle`][relmark.core.mle]); 0 for plain maximum likelihood.

    Attributes:
        covariance_: Delta-method covariance of the parameters (NaN when built from known
            parameters).
        log_covariance_: Covariance of the log-parameters, $(-H)^{-1}$, from which the Wald
            intervals of [`summary`][relmark.clv._base.ParametricModel.summary] are built (NaN when
            built from known parameters).
        standard_errors_: Standard error of each parameter by name.
        log_likelihood_: Log-likelihood at the estimates.
        fit_: Fit statistics, ``None`` for a model built from known parameters.
    """

    _params_type: ClassVar[type[Any]]
    _fit_hint: ClassVar[str] = (
        "Call fit(...) first, or build a fitted model from known parameters with from_params(...)."
    )

    covariance_: FloatArray
    log_covariance_: FloatArray
    standard_errors_: dict[str, float]
    log_likelihood_: float
    fit_: FitResult | None

    def __init__(self, *, penalizer: float = 0.0) -> None:
        self.penalizer = penalizer

    @classmethod
    def parameter_names(cls) -> tuple[str, ...]:
        """Names of the model's parameters, in the kernels' order."""
        return tuple(field.name for field in attrs.fields(cls._params_type))

    def _params_record(self, method: str) -> Any:
        """The fitted parameter record; the not-fitted error names ``method`` (public)."""
        self._check_fitted(method)
        return self.__dict__["params_"]

    def _params_array(self) -> FloatArray:
        """The fitted parameters in kernel order (callers have checked the fitted state)."""
        record = self.__dict__["params_"]
        return np.array([getattr(record, n) for n in self.parameter_names()], dtype=np.float64)

    def _is_fitted(self) -> bool:
        return "params_" in self.__dict__

    def _fit_rows(
        self,
        kernel: LogLikelihoodFunction,
        data: Sequence[FloatArray],
        weights: FloatArray,
        start: FloatArray,
        describe_rows: Callable[[IntArray], str],
    ) -> Self:
        """Check the penalizer, maximize the likelihood of validated rows and store the fit."""
        penalizer = self._check_penalizer(self.penalizer)
        result = maximize_likelihood(
            kernel,
            data,
            weights,
            self.parameter_names(),
            start,
            penalizer=penalizer,
            describe_rows=describe_rows,
        )
        self._store_fit(result)
        return self

    @classmethod
    def _from_record(cls, record: Any, unit: str | TimeUnit | None = None) -> Self:
        """A model fitted to known parameters (``record``), with ``unit_`` when given."""
        model = cls()
        model._store_known(record)
        if unit is not None:
            model.__dict__["unit_"] = parse_unit(unit)
        return model

    def _store_fit(self, result: MLEResult) -> None:
        names = self.parameter_names()
        self.__dict__["params_"] = self._params_type(
            **{n: float(v) for n, v in zip(names, result.params, strict=True)}
        )
        self.covariance_ = result.covariance
        self.log_covariance_ = result.log_covariance
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
        self.log_covariance_ = np.full((k, k), np.nan)
        self.standard_errors_ = dict.fromkeys(names, math.nan)
        self.log_likelihood_ = math.nan
        self.fit_ = None

    def _check_penalizer(self, value: object) -> float:
        return check_real(value, name="penalizer", owner=type(self).__name__)

    def _check_summary(self, summary: object, method: str = "fit") -> CustomerSummary:
        """``summary`` as a ``CustomerSummary``; a frame of per-customer columns is converted.

        Frames (lifetimes' column names) are converted and validated by
        [`CustomerSummary.from_frame`][relmark.data.summary.CustomerSummary.from_frame];
        anything else must be a summary (``method`` names the public method in the message).
        """
        if _is_frame(summary):
            return CustomerSummary.from_frame(summary)
        return require_summary(summary, owner=f"{type(self).__name__}.{method}")

    def summary(self, level: float = 0.95) -> ParameterTable:
        """Parameter estimates with standard errors and confidence intervals.

        Args:
            level: Coverage of the Wald intervals, in $(0, 1)$.

        Returns:
            One row per parameter.

        Raises:
            NotFittedError: Before ``fit``.
            InvalidInputError: For a ``level`` that is not a number in $(0, 1)$.
        """
        self._check_fitted("summary")
        params = self._params_array()
        if not (is_real(level) and 0 < level < 1):
            raise InvalidInputError(
                f"The 'level' argument must be a number in (0, 1). Got {level!r}."
            )
        coverage = float(level)
        lower, upper = wald_intervals(params, self.log_covariance_, coverage)
        return ParameterTable(
            names=self.parameter_names(),
            estimate=params,
            standard_error=np.array(
                [self.standard_errors_[n] for n in self.parameter_names()], dtype=np.float64
            ),
            lower=lower,
            upper=upper,
            level=coverage,
        )

    def _repr_html_(self) -> str:
        """The model and, once fitted, its parameter table (Jupyter)."""
        import html

        from relmark._display import html_table

        if "params_" not in self.__dict__:
            return f"<pre>{html.escape(repr(self))}</pre>"
        table = self.summary()
        fit = self.__dict__.get("fit_")
        notes = [] if fit is None else [f"log-likelihood {self.log_likelihood_:.6g}"]
        return html_table(
            {
                "parameter": list(table.names),
                "estimate": table.estimate,
                "std. error": table.standard_error,
                "95% lower": table.lower,
                "95% upper": table.upper,
            },
            title=f"{type(self).__name__}(penalizer={self.penalizer!r}), fitted",
            notes=notes,
        )

    def _fitted_description(self) -> str:
        """The parameter estimates, for the repr."""
        return ", ".join(
            f"{n}={v:.6g}"
            for n, v in zip(self.parameter_names(), self._params_array(), strict=True)
        )


class _SummaryModel(ParametricModel):
    r"""The prediction plumbing of models that predict from $(x, t_x, T)$ summaries.

    Shared by the continuous-time [`RepeatBuyingModel`][relmark.clv._base.RepeatBuyingModel]s
    and the discrete-time [`BGBB`][relmark.clv.bgbb.BGBB]: evaluating a kernel on the distinct
    rows of a summary and gathering back to customers, per customer horizons, grids of
    horizons, and the new-customer predictions, in bounded row blocks. A model keeps its public
    methods (and their documentation), each one call handing its kernel and its own name to a
    helper, which runs the not-fitted check and the argument checks naming that method. The
    model adapts the helpers through two hooks: ``_rows`` (which summaries it accepts) and
    ``_check_periods`` (which horizons).
    """

    unit_: TimeUnit

    def _check_periods(self, horizons: FloatArray, method: str) -> FloatArray:  # noqa: ARG002
        """Horizons (checked non-negative and finite) the model accepts; any, by default.

        A discrete-time model refuses fractional periods here (``method`` names the public
        method in its message).
        """
        return horizons

    def _rows(self, summary: object, method: str) -> tuple[CompressedSummary, IntArray | None]:
        """The distinct rows to evaluate on, and the gather back to customers (``None`` for rows)."""
        if isinstance(summary, CompressedSummary):
            return summary, None
        if isinstance(summary, CustomerSummary):
            rows = summary.compress()
            return rows, rows.inverse
        raise InvalidInputError(
            f"The 'summary' argument of {type(self).__name__}.{method} must be a CustomerSummary "
            f"(one value per customer) or a CompressedSummary (one value per distinct row). "
            f"Got {type(summary).__name__}."
        )

    def _columns(self, rows: CompressedSummary) -> tuple[FloatArray, FloatArray, FloatArray]:
        """$(x, t_x, T)$ of ``rows`` with durations converted into ``unit_``."""
        scale = rows.unit.days / self.unit_.days
        if scale == 1.0:
            return rows.frequency, rows.recency, rows.T
        return rows.frequency, rows.recency * scale, rows.T * scale

    def _elementwise(
        self,
        function: Kernel,
        t: FloatArray | None,
        x: FloatArray,
        t_x: FloatArray,
        T: FloatArray,
    ) -> FloatArray:
        """One kernel element by element (``t``: ``None``, a 0-d horizon or one per element).

        Runs in blocks of ``_BLOCK_ELEMENTS`` so the kernels' temporaries stay bounded.
        """
        params = tuple(self._params_array())
        out = np.empty(x.shape, dtype=np.float64)
        for start in range(0, x.size, _BLOCK_ELEMENTS):
            block = slice(start, start + _BLOCK_ELEMENTS)
            args = (x[block], t_x[block], T[block])
            if t is None:
                out[block] = function(*args, *params)
            else:
                out[block] = function(t if t.ndim == 0 else t[block], *args, *params)
        return out

    def _grid(self, function: Kernel, t: ArrayLike, summary: object, method: str) -> FloatArray:
        """A kernel on every (customer or row) × horizon pair, in row blocks, for ``method``."""
        self._check_fitted(method)
        t = self._check_periods(
            check_horizon_grid(t, owner=f"{type(self).__name__}.{method}"), method
        )
        rows, inverse = self._rows(summary, method)
        x, t_x, T = self._columns(rows)
        params = tuple(self._params_array())
        out = np.empty((len(rows), t.size), dtype=np.float64)
        step = max(1, _BLOCK_ELEMENTS // max(t.size, 1))
        # Blocks of rows ordered by (x, T): the kernels evaluate their costly, t_x-free part once
        # per distinct (t, x, T) within a block.
        order = np.lexsort((T, x)) if len(rows) > step else np.arange(len(rows))
        for start in range(0, len(rows), step):
            block = order[start : start + step]
            out[block] = function(
                t[np.newaxis, :],
                x[block, np.newaxis],
                t_x[block, np.newaxis],
                T[block, np.newaxis],
                *params,
            )
        return out if inverse is None else out[inverse]

    def _per_customer(
        self, function: Kernel, t: ArrayLike, summary: object, method: str
    ) -> FloatArray:
        """A kernel with one horizon for all (scalar ``t``) or one per customer (1-D ``t``)."""
        self._check_fitted(method)
        rows, inverse = self._rows(summary, method)
        n = len(rows) if inverse is None else inverse.size
        horizons = self._check_periods(
            check_customer_horizons(
                t, n, owner=f"{type(self).__name__}.{method}", grid=f"{method}_grid"
            ),
            method,
        )
        x, t_x, T = self._columns(rows)
        if inverse is None:
            return self._elementwise(function, horizons, x, t_x, T)
        if horizons.ndim == 1 and horizons.size:
            distinct_t, t_code = np.unique(horizons, return_inverse=True)
            if distinct_t.size > 1:
                # Customers sharing a row and a horizon share the value: evaluate each distinct
                # (row, horizon) pair once.
                key = inverse * distinct_t.size + t_code.reshape(inverse.shape)
                pairs, back = np.unique(key, return_inverse=True)
                row = pairs // distinct_t.size
                values = self._elementwise(
                    function, distinct_t[pairs % distinct_t.size], x[row], t_x[row], T[row]
                )
                gathered: FloatArray = values[back.reshape(inverse.shape)]
                return gathered
            horizons = distinct_t.reshape(())
        return self._elementwise(function, horizons, x, t_x, T)[inverse]

    def _new_customer(self, function: Kernel, t: ArrayLike, method: str) -> FloatArray:
        """A kernel ``f(t, *params)`` of a newly acquired customer, any shape of ``t``."""
        self._check_fitted(method)
        horizons = self._check_periods(check_times("t", t), method)
        return np.asarray(function(horizons, *self._params_array()), dtype=np.float64)

    def _new_customer_counts(
        self, function: Kernel, n: ArrayLike, t: ArrayLike, method: str
    ) -> FloatArray:
        """A kernel ``f(n, t, *params)`` of a newly acquired customer, ``n`` and ``t`` broadcast."""
        self._check_fitted(method)
        counts = check_times("n", n, integral=True)
        horizons = self._check_periods(check_times("t", t), method)
        try:
            counts, horizons = np.broadcast_arrays(counts, horizons)
        except ValueError as exc:
            raise InvalidInputError(
                f"The 'n' and 't' arguments must broadcast together; got shapes "
                f"{np.shape(counts)} and {np.shape(horizons)}."
            ) from exc
        return np.asarray(function(counts, horizons, *self._params_array()), dtype=np.float64)


class RepeatBuyingModel(_SummaryModel):
    r"""Shared lifecycle of continuous-time repeat-buying models on $(x, t_x, T)$ summaries.

    The base of every transaction model of [`relmark.clv.registry`][relmark.clv.registry]. A
    subclass declares, as class attributes, its registry ``name`` (``"bgnbd"``), its
    ``literature_name`` (``"BG/NBD"``, used in column descriptions and messages), its
    parameter record ``_params_type`` (and annotates ``params_`` with it) and its
    ``_kernels`` (a module satisfying [`TransactionKernels`][relmark.typing.TransactionKernels]),
    and supplies ``from_params``. The default start values suit the beta-geometric dropout
    models; a model with another dropout process overrides ``_start``.

    A fitted attribute annotated ``RepeatBuyingModel`` (a scorer's ``model_``) is written by
    [`relmark.io`][relmark.io] as the payload of the concrete model, and read back only as one
    of the registered models (see ``_serializable_subclasses``).

    Predictions take a [`CustomerSummary`][relmark.data.summary.CustomerSummary] (one value per
    customer, computed on its cached distinct rows) or a
    [`CompressedSummary`][relmark.data.summary.CompressedSummary] (one value per distinct row).
    A horizon ``t`` is a number (the same for every customer) or a 1-D array with one horizon
    per customer; several horizons for every customer go through the ``*_grid`` methods, which
    return (customers × horizons). Any other shape is refused: no call can broadcast customers
    against customers by accident.
    """

    name: ClassVar[str]
    """Registry name: lower-case letters and digits (``"bgnbd"``)."""
    literature_name: ClassVar[str]
    """The model's name as the literature writes it (``"BG/NBD"``)."""
    _kernels: ClassVar[TransactionKernels]
    _prepared_likelihood: ClassVar[Callable[..., WeightedLikelihood] | None] = None
    """A class (or staticmethod) building the prepared likelihood from $(x, t_x, T, w)$ (analytic
    Hessian, terms per distinct value); ``None`` fits the per-row kernel by quasi-Newton."""
    _fit_advice: ClassVar[str | None] = None
    """Model-specific things to try: the ``hint`` of a failed fit's ``ConvergenceError`` (it
    recommends ``penalizer`` first, the error's ``hint_field``)."""
    _max_log_standard_error: ClassVar[float | None] = None
    """Refuse fits whose log-parameter standard error exceeds this (parameter not identified)."""

    @classmethod
    def _serializable_subclasses(cls) -> tuple[type[RepeatBuyingModel], ...]:
        """The classes [`relmark.io`][relmark.io] may build under an annotation of this class.

        The registered transaction models (subclasses of ``cls``): the allow-list of the
        reader, fixed by code, never by a payload.
        """
        from relmark.clv.registry import TRANSACTION_MODELS

        return tuple(m for m in TRANSACTION_MODELS.values() if issubclass(m, cls))

    def _fit_rows(
        self,
        kernel: LogLikelihoodFunction,
        data: Sequence[FloatArray],
        weights: FloatArray,
        start: FloatArray,
        describe_rows: Callable[[IntArray], str],
    ) -> Self:
        """Fit on the prepared likelihood when the model has one, else on the per-row kernel."""
        prepare = self._prepared_likelihood
        if prepare is None:
            return super()._fit_rows(kernel, data, weights, start, describe_rows)
        x, t_x, T = data
        result = maximize_weighted(
            prepare(x, t_x, T, weights),
            self.parameter_names(),
            start,
            penalizer=self._check_penalizer(self.penalizer),
            describe_rows=describe_rows,
            advice=self._fit_advice,
            max_log_standard_error=self._max_log_standard_error,
        )
        self._store_fit(result)
        return self

    def _start(self, mean_x: float, mean_T: float) -> FloatArray:
        r"""Starting log-parameters from the customers' mean frequency and age.

        A purchase rate of $(\bar x + 1)/\bar T$ per unit with $r = 1$, and $p \sim
        \text{Beta}(1, 1)$.
        """
        alpha0 = max(mean_T, 1e-6) / (mean_x + 1.0)
        return np.log(np.array([1.0, alpha0, 1.0, 1.0], dtype=np.float64))

    def fit(self, summary: CustomerSummary | CompressedSummary, /) -> Self:
        """Fit by maximum likelihood on the distinct rows of ``summary``.

        Args:
            summary: One row per customer; ``recency`` and ``T`` in ``summary.unit``, which
                becomes the model's unit. A
                [`CompressedSummary`][relmark.data.summary.CompressedSummary] (weighted distinct
                rows, e.g. merged from partitions) gives the same fit as the summary it stands for.

        Returns:
            ``self``, fitted.

        Raises:
            InvalidInputError: For a bad penalizer or an empty summary.
            ConvergenceError: When the optimization fails (the message says what to try).
        """
        self._check_penalizer(self.penalizer)
        if isinstance(summary, CompressedSummary):
            rows, customers = summary, None
        else:
            customers = self._check_summary(summary)
            rows = customers.compress()
        if len(rows) == 0:
            raise InvalidInputError(
                f"The 'summary' argument of {type(self).__name__}.fit has no customers."
            )
        w = rows.weights
        mean_x = float(w @ rows.frequency) / float(w.sum())
        mean_T = float(w @ rows.T) / float(w.sum())
        self._fit_rows(
            self._kernels.log_likelihood_and_gradient,
            (rows.frequency, rows.recency, rows.T),
            w,
            self._start(mean_x, mean_T),
            lambda bad: describe_rows(customers, rows, bad),
        )
        self.unit_ = rows.unit
        return self

    def expected_purchases(
        self, t: ArrayLike, summary: CustomerSummary | CompressedSummary
    ) -> FloatArray:
        """Expected repeat purchases of each customer in the next ``t``, given the history.

        Horizons have one meaning per shape: a number is the same horizon for every customer;
        a one-dimensional array as long as the summary gives each customer their own horizon
        (e.g. ``summary.duration_holdout``, as lifetimes users pass it). Both return one value
        per customer. For several horizons for every customer use
        [`expected_purchases_grid`][relmark.clv._base.RepeatBuyingModel.expected_purchases_grid].

        Args:
            t: A horizon, or one horizon per customer, in ``unit_``.
            summary: The customers' histories (converted to ``unit_`` if in another unit), or
                their [`CompressedSummary`][relmark.data.summary.CompressedSummary] to get one
                value per distinct row (then ``t`` is a number or one horizon per row).

        Returns:
            Shape ``(n_customers,)`` (``(n_rows,)`` for a compressed summary).

        Raises:
            NotFittedError: Before ``fit``.
            InvalidInputError: For negative or non-finite horizons, or any other shape of ``t``
                (the message lists the accepted shapes).
        """
        return self._per_customer(
            self._kernels.conditional_expected_purchases, t, summary, "expected_purchases"
        )

    def expected_purchases_grid(
        self, t: ArrayLike, summary: CustomerSummary | CompressedSummary
    ) -> FloatArray:
        """Expected repeat purchases of every customer over every horizon of ``t``.

        Args:
            t: A one-dimensional array of horizons (or one number), in ``unit_``.
            summary: The customers' histories, or their compressed rows.

        Returns:
            Shape ``(n_customers, len(t))`` (``(n_rows, len(t))`` for a compressed summary):
            column ``j`` equals ``expected_purchases(t[j], summary)``.

        Raises:
            NotFittedError: Before ``fit``.
            InvalidInputError: For negative or non-finite horizons, or a ``t`` of more than one
                dimension.
        """
        return self._grid(
            self._kernels.conditional_expected_purchases, t, summary, "expected_purchases_grid"
        )

    def probability_alive(self, summary: CustomerSummary | CompressedSummary) -> FloatArray:
        """Probability that each customer is still alive at the end of observation, $T$.

        Args:
            summary: The customers' histories, or their compressed rows.

        Returns:
            One value in $[0, 1]$ per customer (per distinct row for a compressed summary).

        Raises:
            NotFittedError: Before ``fit``.
        """
        self._check_fitted("probability_alive")
        rows, inverse = self._rows(summary, "probability_alive")
        values = self._elementwise(self._kernels.probability_alive, None, *self._columns(rows))
        return values if inverse is None else values[inverse]

    def probability_alive_at(
        self, t: ArrayLike, summary: CustomerSummary | CompressedSummary
    ) -> FloatArray:
        """Probability that each customer is still alive ``t`` after the end of observation.

        ``probability_alive_at(0, summary)`` equals ``probability_alive(summary)``. Horizons
        mean what they mean for
        [`expected_purchases`][relmark.clv._base.RepeatBuyingModel.expected_purchases]: a number
        for all customers or one horizon per customer; several horizons for every customer go
        through
        [`probability_alive_at_grid`][relmark.clv._base.RepeatBuyingModel.probability_alive_at_grid].

        Args:
            t: A horizon, or one horizon per customer, in ``unit_``.
            summary: The customers' histories, or their compressed rows.

        Returns:
            Shape ``(n_customers,)`` (``(n_rows,)`` for a compressed summary).

        Raises:
            NotFittedError: Before ``fit``.
            InvalidInputError: For negative or non-finite horizons, or any other shape of ``t``.
        """
        return self._per_customer(
            self._kernels.probability_alive_at, t, summary, "probability_alive_at"
        )

    def probability_alive_at_grid(
        self, t: ArrayLike, summary: CustomerSummary | CompressedSummary
    ) -> FloatArray:
        """Probability that every customer is still alive at every horizon of ``t``.

        Args:
            t: A one-dimensional array of horizons (or one number), in ``unit_``.
            summary: The customers' histories, or their compressed rows.

        Returns:
            Shape ``(n_customers, len(t))`` (``(n_rows, len(t))`` for a compressed summary).

        Raises:
            NotFittedError: Before ``fit``.
            InvalidInputError: For negative or non-finite horizons, or a ``t`` of more than one
                dimension.
        """
        return self._grid(
            self._kernels.probability_alive_at, t, summary, "probability_alive_at_grid"
        )

    def expected_purchases_new_customer(self, t: ArrayLike) -> FloatArray:
        """Expected repeat purchases within ``t`` of a newly acquired customer.

        Args:
            t: Horizons in ``unit_`` (any shape).

        Returns:
            Same shape as ``t``.

        Raises:
            NotFittedError: Before ``fit``.
            InvalidInputError: For negative or non-finite horizons.
        """
        return self._new_customer(
            self._kernels.expected_purchases, t, "expected_purchases_new_customer"
        )

    def probability_of_purchases(self, n: ArrayLike, t: ArrayLike) -> FloatArray:
        """$P(X(t) = n)$ for a newly acquired customer, broadcast over ``n`` and ``t``.

        Args:
            n: Numbers of repeat purchases (non-negative whole numbers).
            t: Horizons in ``unit_``.

        Returns:
            The broadcast shape of ``n`` and ``t``.

        Raises:
            NotFittedError: Before ``fit``.
            InvalidInputError: For bad counts or horizons, or shapes that do not broadcast.
        """
        return self._new_customer_counts(
            self._kernels.probability_of_purchases, n, t, "probability_of_purchases"
        )

    # ------------------------------------------------------------ distribution and uncertainty
    _conditional_pmf: ClassVar[Callable[..., FloatArray] | None] = None
    r"""Kernel ``f(k, t, x, t_x, T, *params)`` of $P(X(T, T+t) = k \mid x, t_x, T)$, if any."""
    _any_purchase: ClassVar[Callable[..., FloatArray] | None] = None
    r"""Kernel ``f(t, x, t_x, T, *params)`` of $P(X(T, T+t) \ge 1 \mid x, t_x, T)$, if any."""

    def probability_of_purchases_conditional(
        self, k: ArrayLike, t: ArrayLike, summary: CustomerSummary | CompressedSummary
    ) -> FloatArray:
        r"""$P(X(T, T+t) = k \mid x, t_x, T)$: the distribution of each customer's next purchases.

        Args:
            k: A number of purchases, or a one-dimensional array of them (non-negative whole
                numbers).
            t: A horizon in ``unit_``, or one horizon per customer.
            summary: The customers' histories, or their compressed rows.

        Returns:
            ``(n_customers,)`` for one ``k``; ``(n_customers, len(k))`` for an array of counts.
            Over all $k$ the probabilities sum to 1 and their mean is ``expected_purchases``.

        Raises:
            NotFittedError: Before ``fit``.
            InvalidInputError: For bad counts or horizons, or a model without the distribution.
        """
        self._check_fitted("probability_of_purchases_conditional")
        kernel = self._conditional_kernel(self._conditional_pmf)
        counts = check_times("k", k, integral=True)
        if counts.ndim > 1:
            raise InvalidInputError(
                f"The 'k' argument must be a number or a one-dimensional array of counts. Got "
                f"shape {counts.shape}."
            )
        x, t_x, T, horizons, inverse = self._conditional_rows(
            t, summary, "probability_of_purchases_conditional"
        )
        params = tuple(self._params_array())
        grid = counts.reshape(-1)
        out = np.empty((x.size, grid.size), dtype=np.float64)
        step = max(1, _BLOCK_ELEMENTS // max(grid.size, 1))
        for start in range(0, x.size, step):
            block = slice(start, start + step)
            horizon = horizons if horizons.ndim == 0 else horizons[block, np.newaxis]
            out[block] = kernel(
                grid[np.newaxis, :],
                horizon,
                x[block, np.newaxis],
                t_x[block, np.newaxis],
                T[block, np.newaxis],
                *params,
            )
        if inverse is not None:
            out = out[inverse]
        return out[:, 0] if counts.ndim == 0 else out

    def probability_of_any_purchase(
        self, t: ArrayLike, summary: CustomerSummary | CompressedSummary
    ) -> FloatArray:
        r"""$P(X(T, T+t) \ge 1 \mid x, t_x, T)$: will each customer buy within the next ``t``?

        Args:
            t: A horizon in ``unit_`` (e.g. 90 days in a model fitted in days), or one per
                customer.
            summary: The customers' histories, or their compressed rows.

        Returns:
            One probability per customer (per distinct row for a compressed summary).

        Raises:
            NotFittedError: Before ``fit``.
            InvalidInputError: For bad horizons or a model without the distribution.
        """
        self._check_fitted("probability_of_any_purchase")
        kernel = self._conditional_kernel(self._any_purchase)
        x, t_x, T, horizons, inverse = self._conditional_rows(
            t, summary, "probability_of_any_purchase"
        )
        values = np.asarray(kernel(horizons, x, t_x, T, *self._params_array()), dtype=np.float64)
        return values if inverse is None else values[inverse]

    def _conditional_rows(
        self, t: ArrayLike, summary: object, method: str
    ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, IntArray | None]:
        """$(x, t_x, T)$ to evaluate on, the checked horizons and the gather to customers.

        Distinct rows with one horizon for all; customers themselves (no gather) when each
        customer has its own horizon.
        """
        rows, inverse = self._rows(summary, method)
        n = len(rows) if inverse is None else inverse.size
        horizons = check_customer_horizons(
            t, n, owner=f"{type(self).__name__}.{method}", grid="expected_purchases_grid"
        )
        x, t_x, T = self._columns(rows)
        if inverse is not None and horizons.ndim == 1:
            return x[inverse], t_x[inverse], T[inverse], horizons, None
        return x, t_x, T, horizons, inverse

    def _conditional_kernel(self, kernel: Kernel | None) -> Kernel:
        if kernel is None:
            raise InvalidInputError(
                f"{type(self).__name__} has no conditional purchase distribution yet."
            )
        return kernel

    def expected_purchases_interval(
        self,
        t: float,
        summary: CustomerSummary,
        *,
        level: float = 0.9,
        method: Literal["parametric", "bootstrap"] = "parametric",
        draws: int = 200,
        seed: int | np.random.Generator | None = None,
    ) -> PredictionInterval:
        """Expected purchases in the next ``t`` with a per-customer prediction interval.

        A convenience over [`ParameterDraws`][relmark.clv.uncertainty.ParameterDraws]:
        ``"parametric"`` draws the log-parameters from their asymptotic normal distribution;
        ``"bootstrap"`` resamples the customers of ``summary`` (which must then be the data the
        model was fitted on) and refits. To get several quantities from the same draws, build
        the draws once with ``ParameterDraws``.

        Args:
            t: A horizon in ``unit_``.
            summary: The customers.
            level: Nominal coverage, in $(0, 1)$.
            method: ``"parametric"`` or ``"bootstrap"``.
            draws: Number of parameter draws or resamples.
            seed: Seed or generator; the same seed gives the same interval.

        Returns:
            Estimate, lower and upper bound per customer.

        Raises:
            NotFittedError: Before ``fit``.
            InvalidInputError: For bad arguments, or parametric intervals of a model built
                from known parameters (no covariance).
        """
        from relmark.clv.uncertainty import ParameterDraws

        sampled = ParameterDraws.create(self, summary, method=method, draws=draws, seed=seed)
        return sampled.expected_purchases(t, summary, level=level)

    def probability_alive_interval(
        self,
        summary: CustomerSummary,
        *,
        level: float = 0.9,
        method: Literal["parametric", "bootstrap"] = "parametric",
        draws: int = 200,
        seed: int | np.random.Generator | None = None,
    ) -> PredictionInterval:
        r"""$P(\text{alive})$ with a per-customer interval (arguments as ``expected_purchases_interval``).

        Raises:
            NotFittedError: Before ``fit``.
            InvalidInputError: For bad arguments.
        """
        from relmark.clv.uncertainty import ParameterDraws

        sampled = ParameterDraws.create(self, summary, method=method, draws=draws, seed=seed)
        return sampled.probability_alive(summary, level=level)
