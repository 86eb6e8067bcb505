r"""The shifted-beta-geometric (sBG) model of Fader & Hardie (2007) as an estimator.

For contractual settings (subscriptions, memberships) where churn is observed: each period an
active customer renews or cancels. See the kernels in [`relmark.core.sbg`][relmark.core.sbg]
for the formulas.
"""

from __future__ import annotations

from typing import ClassVar, Self

import attrs
import numpy as np
from numpy.typing import ArrayLike

from relmark._validation import check_real, offending_rows
from relmark.clv._base import ParametricModel, parameter_converter, positive_parameter
from relmark.clv._checks import check_times
from relmark.core import sbg as kernels
from relmark.data.units import TimeUnit, parse_unit
from relmark.errors import InvalidInputError
from relmark.typing import FloatArray

__all__ = ["ShiftedBetaGeometric", "ShiftedBetaGeometricParams"]


@attrs.frozen(kw_only=True)
class ShiftedBetaGeometricParams:
    r"""Parameters of the shifted-beta-geometric model.

    Attributes:
        alpha: First parameter of the beta distribution of the per-period churn probability
            $\theta$.
        beta: Second parameter of that beta; the mean churn probability in the first period is
            $\alpha/(\alpha+\beta)$.
    """

    alpha: float = attrs.field(converter=parameter_converter, validator=positive_parameter)
    beta: float = attrs.field(converter=parameter_converter, validator=positive_parameter)


def _whole_column(name: str, values: ArrayLike, where: str) -> FloatArray:
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"The {name!r} argument of {where} must be numeric; could not convert it: {exc}"
        ) from exc
    if array.ndim != 1 or array.size == 0:
        raise InvalidInputError(
            f"The {name!r} argument of {where} must be a non-empty one-dimensional array; got "
            f"shape {array.shape}."
        )
    bad = ~np.isfinite(array) | (array < 0) | (array != np.floor(array))
    if bad.any():
        raise InvalidInputError(
            f"The {name!r} argument of {where} must hold whole numbers >= 0; got "
            f"{array[bad][:5].tolist()} at {offending_rows(bad)}."
        )
    return array


class ShiftedBetaGeometric(ParametricModel):
    r"""Shifted-beta-geometric model of contract retention (Fader & Hardie 2007).

    At the end of each period an active customer cancels with probability
    $\theta \sim \text{Beta}(\alpha, \beta)$, constant for the customer but varying across
    customers; so retention rates rise with tenure as the cohort sorts itself. Fit it on a
    cohort's survivor counts ([`fit_cohort`][relmark.clv.sbg.ShiftedBetaGeometric.fit_cohort])
    or on individual (periods observed, churned) data
    ([`fit`][relmark.clv.sbg.ShiftedBetaGeometric.fit]); periods are the model's time unit.

    The one exception to the ``fit(summary)`` lifecycle of ``relmark.clv``: contractual data
    are (periods observed, churned) pairs or survivor counts, not a
    [`CustomerSummary`][relmark.data.summary.CustomerSummary] of $(x, t_x, T)$, so ``fit`` takes
    them directly (and the model is not a [`Scorer`][relmark.typing.Scorer]). Pass ``unit`` to
    record how long a period is; it is bookkeeping only (every count here is in periods).

    Args:
        penalizer: Strength $\lambda \ge 0$ of an L2 penalty on the log-parameters, set against
            the *mean* log-likelihood per customer (see [`relmark.core.mle`][relmark.core.mle]).
            0 for plain maximum likelihood.

    Attributes:
        params_: Fitted [`ShiftedBetaGeometricParams`][relmark.clv.sbg.ShiftedBetaGeometricParams].
        covariance_: Delta-method covariance of $(\alpha, \beta)$ (NaN when built from known
            parameters).
        standard_errors_: Standard error of each parameter by name.
        log_likelihood_: Log-likelihood at the estimates.
        fit_: Fit statistics, ``None`` for a model built with ``from_params``.
        unit_: Length of one period when given to ``fit``, ``fit_cohort`` or ``from_params``,
            else ``None``.

    Examples:
        >>> regular = [1000, 631, 468, 382, 326, 289, 262, 241]
        >>> model = ShiftedBetaGeometric().fit_cohort(regular)
        >>> [round(v, 3) for v in (model.params_.alpha, model.params_.beta)]
        [0.704, 1.182]
    """

    _params_type: ClassVar[type[ShiftedBetaGeometricParams]] = ShiftedBetaGeometricParams

    params_: ShiftedBetaGeometricParams
    unit_: TimeUnit | None

    @classmethod
    def from_params(cls, *, alpha: float, beta: float, unit: str | TimeUnit | None = None) -> Self:
        """Build a fitted model from known parameters (published values, a fit made elsewhere).

        Args:
            alpha: Beta parameter of the churn probability.
            beta: Beta parameter of the churn probability.
            unit: Length of one period (``"D"``, ``"W"``, ``"M"``, ``"Q"``, ``"Y"``), if known.

        Returns:
            A model whose standard errors and covariance are NaN (unknown).

        Raises:
            InvalidInputError: For a parameter that is not a finite float > 0.
        """
        model = cls._from_record(ShiftedBetaGeometricParams(alpha=alpha, beta=beta))
        model.unit_ = None if unit is None else parse_unit(unit)
        return model

    def _fit_periods(
        self,
        t: FloatArray,
        churned: FloatArray,
        weights: FloatArray,
        unit: str | TimeUnit | None,
    ) -> Self:
        period = None if unit is None else parse_unit(unit)
        self._fit_rows(
            kernels.log_likelihood_and_gradient,
            (t, churned),
            weights,
            np.zeros(2),
            lambda bad: ", ".join(
                f"(periods={t[i]:g}, churned={bool(churned[i])})" for i in bad[:5]
            ),
        )
        self.unit_ = period
        return self

    def fit(
        self, periods: ArrayLike, churned: ArrayLike, /, *, unit: str | TimeUnit | None = None
    ) -> Self:
        r"""Fit on individual customers: periods observed and whether each one churned.

        Args:
            periods: For a churned customer, the period in which he cancelled ($\ge 1$); for an
                active one, the number of periods he has been observed (censored).
            churned: ``True`` (or 1) for customers who cancelled, ``False`` (0) for active ones.
            unit: Length of one period, if known (stored as ``unit_``).

        Returns:
            ``self``, fitted.

        Raises:
            InvalidInputError: For arrays of different lengths, fractional or negative periods,
                a churned customer with ``periods`` 0, or a non-boolean ``churned``.
            ConvergenceError: When the optimization fails (the message says what to try).
        """
        where = "ShiftedBetaGeometric.fit"
        t = _whole_column("periods", periods, where)
        flags = _whole_column("churned", churned, where)
        if flags.size != t.size:
            raise InvalidInputError(
                f"The 'churned' argument of {where} has {flags.size} values but 'periods' has "
                f"{t.size}."
            )
        not_flag = flags > 1
        if not_flag.any():
            raise InvalidInputError(
                f"The 'churned' argument of {where} must hold booleans (or 0/1); got "
                f"{flags[not_flag][:5].tolist()} at {offending_rows(not_flag)}."
            )
        instant = (flags == 1) & (t == 0)
        if instant.any():
            raise InvalidInputError(
                f"The 'periods' argument of {where} must be >= 1 for churned customers (the "
                f"period in which they cancelled); got 0 at {offending_rows(instant)}."
            )
        rows, counts = np.unique(np.column_stack([t, flags]), axis=0, return_counts=True)
        return self._fit_periods(rows[:, 0], rows[:, 1], counts.astype(np.float64), unit)

    def fit_cohort(self, survivors: ArrayLike, *, unit: str | TimeUnit | None = None) -> Self:
        r"""Fit on a cohort's survivor counts $n_0, n_1, \dots, n_k$ (Fader & Hardie 2007).

        Args:
            survivors: Customers still active at the start (index 0) and after each period;
                whole numbers, non-increasing, at least two values, $n_0 > 0$.
            unit: Length of one period, if known (stored as ``unit_``).

        Returns:
            ``self``, fitted.

        Raises:
            InvalidInputError: For fewer than two counts, fractional or negative counts, an
                increase from one period to the next, or an empty cohort.
            ConvergenceError: When the optimization fails (the message says what to try).
        """
        where = "ShiftedBetaGeometric.fit_cohort"
        counts = _whole_column("survivors", survivors, where)
        if counts.size < 2 or counts[0] <= 0:
            raise InvalidInputError(
                f"The 'survivors' argument of {where} needs the cohort size (> 0) followed by at "
                f"least one period's survivors; got {counts.tolist()}."
            )
        rises = np.flatnonzero(np.diff(counts) > 0)
        if rises.size:
            i = int(rises[0])
            raise InvalidInputError(
                f"The 'survivors' argument of {where} must be non-increasing (customers who "
                f"left do not come back); it rises from {counts[i]:g} to {counts[i + 1]:g} "
                f"after period {i}."
            )
        t, flags, weights = kernels.cohort_rows(counts)
        return self._fit_periods(t, flags, weights, unit)

    def _periods(self, name: str, t: ArrayLike, minimum: float) -> FloatArray:
        periods = check_times(name, t, integral=True)
        low = periods < minimum
        if low.any():
            raise InvalidInputError(
                f"The {name!r} argument must hold whole numbers >= {minimum:g}. Got "
                f"{periods[low].ravel()[:5].tolist()}."
            )
        return periods

    def churn_probability(self, t: ArrayLike) -> FloatArray:
        """$P(T = t)$: probability that a new customer cancels in period ``t`` (>= 1)."""
        p = self._params_record("churn_probability")
        return kernels.churn_probability(self._periods("t", t, 1.0), p.alpha, p.beta)

    def survival(self, t: ArrayLike) -> FloatArray:
        """$S(t)$: share of a new cohort still active after ``t`` (>= 0) periods."""
        p = self._params_record("survival")
        return kernels.survival(self._periods("t", t, 0.0), p.alpha, p.beta)

    def retention_rate(self, t: ArrayLike) -> FloatArray:
        """$r_t = S(t)/S(t-1)$: share of those active in period ``t - 1`` who renew for period ``t`` (>= 1)."""
        p = self._params_record("retention_rate")
        return kernels.retention_rate(self._periods("t", t, 1.0), p.alpha, p.beta)

    def expected_lifetime(self) -> float:
        r"""Mean number of periods a new customer stays: $(\alpha+\beta-1)/(\alpha-1)$, or $+\infty$ if $\alpha \le 1$."""
        p = self._params_record("expected_lifetime")
        return kernels.expected_lifetime(p.alpha, p.beta)

    def discounted_expected_residual_lifetime(
        self, periods_active: ArrayLike, discount_rate: float
    ) -> FloatArray:
        """DERL (Fader & Hardie 2010): discounted expected number of future payments.

        For a customer active for ``periods_active`` periods (so ``periods_active - 1``
        renewals), evaluated just before the next renewal decision; the first payment counted
        is that renewal, undiscounted. Multiply by the margin per period for a residual value.

        Args:
            periods_active: Whole numbers >= 1.
            discount_rate: Discount rate per period, > 0.

        Returns:
            The shape of ``periods_active``.

        Raises:
            NotFittedError: Before ``fit``.
            InvalidInputError: For bad periods or a discount rate that is not a number > 0.
        """
        p = self._params_record("discounted_expected_residual_lifetime")
        periods = self._periods("periods_active", periods_active, 1.0)
        rate = check_real(discount_rate, name="discount_rate", role="argument", strict=True)
        return kernels.discounted_expected_residual_lifetime(periods, rate, p.alpha, p.beta)
