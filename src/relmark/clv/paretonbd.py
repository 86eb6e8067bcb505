r"""The Pareto/NBD model of Schmittlein, Morrison & Colombo (1987) as an estimator.

See the kernels in [`relmark.core.paretonbd`][relmark.core.paretonbd] for the formulas. The
continuous-time plumbing shared with the MBG/NBD (fit on the distinct $(x, t_x, T)$ rows,
unit conversion, gathering per-row predictions back to customers) lives in ``_RepeatBuyingModel``.
"""

from __future__ import annotations

from types import ModuleType
from typing import ClassVar, Self

import attrs
import numpy as np
from numpy.typing import ArrayLike

from relmark.clv._base import FitResult, ParametricModel, positive_parameter
from relmark.clv.bgnbd import check_times
from relmark.core import paretonbd as kernels
from relmark.core.mle import maximize_likelihood
from relmark.data.summary import CompressedSummary, CustomerSummary
from relmark.data.units import TimeUnit, parse_unit
from relmark.errors import InvalidInputError
from relmark.typing import FloatArray, IntArray

__all__ = ["ParetoNBD", "ParetoNBDParams"]

_MAX_LISTED = 5


@attrs.frozen(kw_only=True)
class ParetoNBDParams:
    r"""Parameters of the Pareto/NBD model.

    Attributes:
        r: Shape of the gamma distribution of purchase rates $\lambda$.
        alpha: Scale of that gamma (a duration, in the model's time unit); the mean rate is
            $r/\alpha$ purchases per unit.
        s: Shape of the gamma distribution of dropout rates $\mu$.
        beta: Scale of that gamma; the mean dropout rate is $s/\beta$ per unit.
    """

    r: float = attrs.field(converter=float, validator=positive_parameter)
    alpha: float = attrs.field(converter=float, validator=positive_parameter)
    s: float = attrs.field(converter=float, validator=positive_parameter)
    beta: float = attrs.field(converter=float, validator=positive_parameter)


def _check_horizons(t: ArrayLike) -> FloatArray:
    horizons = check_times("t", t)
    if horizons.ndim > 1:
        raise InvalidInputError(
            f"The 't' argument must be a number or a one-dimensional array of horizons. "
            f"Got shape {horizons.shape}."
        )
    return horizons


def describe_rows(summary: CustomerSummary, rows: CompressedSummary, bad: IntArray) -> str:
    """Name the customers behind offending compressed rows, with their $(x, t_x, T)$."""
    parts = []
    for i in bad[:_MAX_LISTED]:
        ids = summary.customer_id[rows.inverse == i][:3].tolist()
        parts.append(
            f"x={rows.frequency[i]:g}, t_x={rows.recency[i]:g}, T={rows.T[i]:g} (customer(s) {ids})"
        )
    more = f" and {bad.size - _MAX_LISTED} more row(s)" if bad.size > _MAX_LISTED else ""
    return "; ".join(parts) + more


def as_column(values: FloatArray, *, needed: bool) -> FloatArray:
    """``values`` as a column (to broadcast against a row of horizons) when ``needed``."""
    return values[:, np.newaxis] if needed else values


class _RepeatBuyingModel(ParametricModel):
    """Shared lifecycle of continuous-time repeat-buying models on $(x, t_x, T)$ summaries.

    A subclass sets ``_kernels`` (a module of ``relmark.core`` with the common kernel
    signatures) and ``_params_type``, and supplies ``_start`` and ``from_params``.
    """

    _kernels: ClassVar[ModuleType]

    unit_: TimeUnit

    def __init__(self, *, penalizer: float = 0.0) -> None:
        self.penalizer = penalizer

    def _start(self, mean_x: float, mean_T: float) -> FloatArray:
        raise NotImplementedError

    def fit(self, summary: CustomerSummary) -> Self:
        """Fit by maximum likelihood on the distinct rows of ``summary``.

        Args:
            summary: One row per customer; ``recency`` and ``T`` in ``summary.unit``, which
                becomes the model's unit.

        Returns:
            ``self``, fitted.

        Raises:
            InvalidInputError: For a bad penalizer or an empty summary.
            ConvergenceError: When the optimization fails (the message says what to try).
        """
        name = type(self).__name__
        penalizer = self._check_penalizer(self.penalizer)
        summary = self._check_summary(summary)
        if len(summary) == 0:
            raise InvalidInputError(f"The 'summary' argument of {name}.fit has no customers.")
        rows = summary.compress()
        w = rows.weights
        mean_x = float(w @ rows.frequency) / float(w.sum())
        mean_T = float(w @ rows.T) / float(w.sum())
        result = maximize_likelihood(
            self._kernels.log_likelihood_and_gradient,
            (rows.frequency, rows.recency, rows.T),
            w,
            self.parameter_names(),
            self._start(mean_x, mean_T),
            penalizer=penalizer,
            describe_rows=lambda bad: describe_rows(summary, rows, bad),
        )
        self._store_fit(result)
        self.unit_ = summary.unit
        return self

    def _rows(self, summary: CustomerSummary) -> tuple[CompressedSummary, FloatArray, FloatArray]:
        """Distinct rows of ``summary`` with recency and T converted into the model's unit."""
        summary = self._check_summary(summary)
        rows = summary.compress()
        scale = summary.unit.days / self.unit_.days
        return rows, rows.recency * scale, rows.T * scale

    def _per_horizon(
        self, function_name: str, t: ArrayLike, summary: CustomerSummary
    ) -> FloatArray:
        params = tuple(self._params_array())
        horizons = _check_horizons(t)
        rows, recency, T = self._rows(summary)
        grid = horizons[np.newaxis, :] if horizons.ndim else horizons
        function = getattr(self._kernels, function_name)
        x, t_x, age = (
            as_column(v, needed=bool(horizons.ndim)) for v in (rows.frequency, recency, T)
        )
        values = function(grid, x, t_x, age, *params)
        return np.asarray(values[rows.inverse], dtype=np.float64)

    def expected_purchases(self, t: ArrayLike, summary: CustomerSummary) -> FloatArray:
        """Expected repeat purchases of each customer in the next ``t``.

        Args:
            t: A horizon, or a one-dimensional array of horizons, in ``unit_``.
            summary: The customers' histories (converted to ``unit_`` if in another unit).

        Returns:
            Shape ``(n_customers,)`` for a scalar ``t``; ``(n_customers, len(t))`` for an array.

        Raises:
            NotFittedError: Before ``fit``.
            InvalidInputError: For negative or non-finite horizons.
        """
        return self._per_horizon("conditional_expected_purchases", t, summary)

    def probability_alive(self, summary: CustomerSummary) -> FloatArray:
        """Probability that each customer is still alive at the end of observation.

        Returns:
            One value in $[0, 1]$ per customer.

        Raises:
            NotFittedError: Before ``fit``.
        """
        params = tuple(self._params_array())
        rows, recency, T = self._rows(summary)
        values = self._kernels.probability_alive(rows.frequency, recency, T, *params)
        return np.asarray(values[rows.inverse], dtype=np.float64)

    def probability_alive_at(self, t: ArrayLike, summary: CustomerSummary) -> FloatArray:
        """Probability that each customer is still alive ``t`` after the end of observation.

        Args:
            t: A horizon, or a one-dimensional array of horizons, in ``unit_``.
            summary: The customers' histories.

        Returns:
            Shape ``(n_customers,)`` for a scalar ``t``; ``(n_customers, len(t))`` for an array.

        Raises:
            NotFittedError: Before ``fit``.
            InvalidInputError: For negative or non-finite horizons.
        """
        return self._per_horizon("probability_alive_at", t, summary)

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
        params = tuple(self._params_array())
        horizons = check_times("t", t)
        return np.asarray(self._kernels.expected_purchases(horizons, *params), dtype=np.float64)

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
        params = tuple(self._params_array())
        counts = check_times("n", n, integral=True)
        horizons = check_times("t", t)
        try:
            counts, horizons = np.broadcast_arrays(counts, horizons)
        except ValueError as exc:
            raise InvalidInputError(
                f"The 'n' and 't' arguments must broadcast together; got shapes "
                f"{np.shape(counts)} and {np.shape(horizons)}."
            ) from exc
        return np.asarray(
            self._kernels.probability_of_purchases(counts, horizons, *params), dtype=np.float64
        )


class ParetoNBD(_RepeatBuyingModel):
    r"""Pareto/NBD model of repeat purchasing (Schmittlein, Morrison & Colombo 1987).

    While alive a customer buys at a Poisson rate $\lambda \sim \text{Gamma}(r, \alpha)$; the
    lifetime is exponential with rate $\mu \sim \text{Gamma}(s, \beta)$. The model is fitted by
    maximum likelihood on the distinct $(x, t_x, T)$ rows of a summary; the likelihood is
    evaluated in log space, so customers with thousands of purchases are fine.

    Args:
        penalizer: Strength $\lambda \ge 0$ of an L2 penalty on the log-parameters, set against
            the *mean* log-likelihood per customer (see [`relmark.core.mle`][relmark.core.mle]).
            0 for plain maximum likelihood.

    Attributes:
        params_: Fitted [`ParetoNBDParams`][relmark.clv.paretonbd.ParetoNBDParams].
        covariance_: Delta-method covariance of $(r, \alpha, s, \beta)$ (NaN when built from
            known parameters).
        standard_errors_: Standard error of each parameter by name.
        log_likelihood_: Log-likelihood at the estimates.
        fit_: Fit statistics, ``None`` for a model built with ``from_params``.
        unit_: Time unit of $\alpha$, $\beta$ and of every ``t`` given to the prediction methods.

    Examples:
        >>> from relmark.data.summary import CustomerSummary
        >>> model = ParetoNBD.from_params(r=0.553, alpha=10.578, s=0.606, beta=11.669)
        >>> summary = CustomerSummary.from_arrays([2], [30.43], [38.86], unit="W")
        >>> round(float(model.probability_alive(summary)[0]), 3)
        0.869
    """

    _params_type: ClassVar[type[ParetoNBDParams]] = ParetoNBDParams
    _kernels: ClassVar[ModuleType] = kernels

    params_: ParetoNBDParams
    covariance_: FloatArray
    standard_errors_: dict[str, float]
    log_likelihood_: float
    fit_: FitResult | None
    unit_: TimeUnit

    def _start(self, mean_x: float, mean_T: float) -> FloatArray:
        # A mean purchase rate r/alpha of (x + 1)/T per unit and a mean lifetime beta/s of about
        # T, with shapes 1/2 (heterogeneous customers). Across the CDNOW sample and simulated
        # cohorts this start needed the fewest likelihood evaluations of the ones tried.
        mean_T = max(mean_T, 1e-6)
        alpha0 = mean_T / (2.0 * (mean_x + 1.0))
        return np.log(np.array([0.5, alpha0, 0.5, mean_T / 2.0], dtype=np.float64))

    @classmethod
    def from_params(
        cls, *, r: float, alpha: float, s: float, beta: float, unit: str | TimeUnit = "W"
    ) -> Self:
        """Build a fitted model from known parameters (published values, a fit made elsewhere).

        Args:
            r: Gamma shape of purchase rates.
            alpha: Gamma scale of purchase rates, in ``unit``.
            s: Gamma shape of dropout rates.
            beta: Gamma scale of dropout rates, in ``unit``.
            unit: Time unit of ``alpha`` and ``beta`` (default weeks).

        Returns:
            A model whose standard errors and covariance are NaN (unknown).

        Raises:
            InvalidInputError: For a parameter that is not a finite float > 0.
        """
        model = cls()
        model._store_known(ParetoNBDParams(r=r, alpha=alpha, s=s, beta=beta))
        model.unit_ = parse_unit(unit)
        return model
