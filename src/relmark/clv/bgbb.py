r"""The BG/BB model of Fader, Hardie & Shang (2010) as an estimator, for discrete-time data.

See the kernels in [`relmark.core.bgbb`][relmark.core.bgbb] for the formulas. Data come as a
[`CustomerSummary`][relmark.data.summary.CustomerSummary] counted in transaction opportunities:
``frequency`` $x$ = transactions after the first, ``recency`` $t_x$ = the opportunity of the last
one (0 if none), ``T`` $n$ = the opportunities observed, and optionally ``weights`` = the number
of customers sharing the pattern (the usual way BG/BB data are published).
"""

from __future__ import annotations

from typing import ClassVar, Self

import attrs
import numpy as np
from numpy.typing import ArrayLike

from relmark._validation import offending_rows
from relmark.clv._base import _SummaryModel, parameter_converter, positive_parameter
from relmark.clv._checks import check_times, describe_rows
from relmark.core import bgbb as kernels
from relmark.data.summary import CompressedSummary, CustomerSummary
from relmark.data.units import TimeUnit
from relmark.errors import InvalidInputError
from relmark.typing import FloatArray, IntArray

__all__ = ["BGBB", "BGBBParams"]


@attrs.frozen(kw_only=True)
class BGBBParams:
    r"""Parameters of the BG/BB model.

    Attributes:
        alpha: First parameter of the beta distribution of the transaction probability $p$.
        beta: Second parameter of that beta; the mean transaction probability is
            $\alpha/(\alpha+\beta)$.
        gamma: First parameter of the beta distribution of the dropout probability $\theta$.
        delta: Second parameter of that beta; the mean dropout probability is
            $\gamma/(\gamma+\delta)$.
    """

    alpha: float = attrs.field(converter=parameter_converter, validator=positive_parameter)
    beta: float = attrs.field(converter=parameter_converter, validator=positive_parameter)
    gamma: float = attrs.field(converter=parameter_converter, validator=positive_parameter)
    delta: float = attrs.field(converter=parameter_converter, validator=positive_parameter)


def _check_patterns(summary: CustomerSummary | CompressedSummary, where: str) -> None:
    r"""BG/BB rows are whole numbers of opportunities with $x \le t_x \le n$."""
    for name, column in (("recency", summary.recency), ("T", summary.T)):
        fractional = column != np.floor(column)
        if fractional.any():
            raise InvalidInputError(
                f"Column {name!r} passed to {where} must count transaction opportunities (whole "
                f"numbers); got {column[fractional][:5].tolist()} at {offending_rows(fractional)}."
            )
    too_many = summary.frequency > summary.recency
    if too_many.any():
        raise InvalidInputError(
            f"Column 'frequency' passed to {where} must be <= 'recency' (x transactions need at "
            f"least x opportunities up to the last one); got frequency "
            f"{summary.frequency[too_many][:5].tolist()} with recency "
            f"{summary.recency[too_many][:5].tolist()} at {offending_rows(too_many)}."
        )


class BGBB(_SummaryModel):
    r"""Beta-geometric/beta-Bernoulli model of discrete-time repeat transactions (FHS 2010).

    For settings where transactions can only happen at discrete opportunities (an annual
    fundraiser, a yearly event). A living customer transacts at each opportunity with
    probability $p \sim \text{Beta}(\alpha, \beta)$ and dies at the beginning of each
    opportunity with probability $\theta \sim \text{Beta}(\gamma, \delta)$.

    As for the continuous-time models, ``probability_alive(summary)`` is the probability of being
    alive at the end of observation (opportunity $n$) and ``probability_alive_at(t, summary)``
    the probability of being alive at opportunity $n + t$; FHS (2010) eq. (11), "alive in
    period $n + 1$", is ``probability_alive_at(1, summary)``. Summaries must be counted in the
    model's opportunities (``summary.unit == unit_``). Like the continuous-time models'
    predictions, these take a summary (one value per customer) or its
    [`CompressedSummary`][relmark.data.summary.CompressedSummary] (one value per distinct
    pattern, e.g. published pattern counts merged from partitions).

    Args:
        penalizer: Strength $\lambda \ge 0$ of an L2 penalty on the log-parameters, set against
            the *mean* log-likelihood per customer (see [`relmark.core.mle`][relmark.core.mle]).
            0 for plain maximum likelihood.

    Attributes:
        params_: Fitted [`BGBBParams`][relmark.clv.bgbb.BGBBParams].
        covariance_: Delta-method covariance of $(\alpha, \beta, \gamma, \delta)$ (NaN when built
            from known parameters).
        standard_errors_: Standard error of each parameter by name.
        log_likelihood_: Log-likelihood at the estimates.
        fit_: Fit statistics, ``None`` for a model built with ``from_params``.
        unit_: Length of one transaction opportunity (bookkeeping only: every count of
            ``periods`` in the prediction methods is a number of opportunities).

    Examples:
        >>> from relmark.data.summary import CustomerSummary
        >>> model = BGBB.from_params(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)
        >>> donors = CustomerSummary.from_arrays([6, 0], [6, 0], [6, 6], unit="Y")
        >>> [round(v, 3) for v in model.expected_purchases(5, donors).tolist()]
        [3.752, 0.073]
    """

    _params_type: ClassVar[type[BGBBParams]] = BGBBParams

    params_: BGBBParams
    unit_: TimeUnit

    @classmethod
    def from_params(
        cls,
        *,
        alpha: float,
        beta: float,
        gamma: float,
        delta: float,
        unit: str | TimeUnit = "Y",
    ) -> Self:
        """Build a fitted model from known parameters (published values, a fit made elsewhere).

        Args:
            alpha: Beta parameter of the transaction probability.
            beta: Beta parameter of the transaction probability.
            gamma: Beta parameter of the dropout probability.
            delta: Beta parameter of the dropout probability.
            unit: Length of one transaction opportunity (default a year).

        Returns:
            A model whose standard errors and covariance are NaN (unknown).

        Raises:
            InvalidInputError: For a parameter that is not a finite float > 0.
        """
        return cls._from_record(BGBBParams(alpha=alpha, beta=beta, gamma=gamma, delta=delta), unit)

    def fit(self, summary: CustomerSummary, /) -> Self:
        """Fit by maximum likelihood on the distinct $(x, t_x, n)$ patterns of ``summary``.

        Args:
            summary: Counts of opportunities (see the module docstring); ``weights`` give the
                number of customers per row. ``summary.unit`` becomes the model's unit.

        Returns:
            ``self``, fitted.

        Raises:
            InvalidInputError: For a bad penalizer, an empty summary, fractional opportunities
                or ``frequency > recency``.
            ConvergenceError: When the optimization fails (the message says what to try).
        """
        self._check_penalizer(self.penalizer)
        summary = self._check_summary(summary)
        if len(summary) == 0:
            raise InvalidInputError("The 'summary' argument of BGBB.fit has no customers.")
        _check_patterns(summary, "BGBB.fit")
        rows = summary.compress()
        self._fit_rows(
            kernels.log_likelihood_and_gradient,
            (rows.frequency, rows.recency, rows.T),
            rows.weights,
            np.zeros(4),
            lambda bad: describe_rows(summary, rows, bad),
        )
        self.unit_ = summary.unit
        return self

    def _rows(self, summary: object, method: str) -> tuple[CompressedSummary, IntArray | None]:
        """The distinct patterns of ``summary`` (or a frame of one), checked, in the model's unit."""
        where = f"BGBB.{method}"
        checked = (
            summary
            if isinstance(summary, CompressedSummary)
            else self._check_summary(summary, method)
        )
        if checked.unit is not self.unit_:
            raise InvalidInputError(
                f"The 'summary' argument of {where} counts opportunities of "
                f"{checked.unit.value!r} but the model's opportunity is {self.unit_.value!r}; "
                "BG/BB counts are not converted between units, so build the summary in the "
                "model's unit."
            )
        _check_patterns(checked, where)
        return super()._rows(checked, method)

    def _check_periods(self, horizons: FloatArray, method: str) -> FloatArray:
        """Whole numbers of opportunities only."""
        return _whole(horizons, f"BGBB.{method}")

    def expected_purchases(
        self, t: ArrayLike, summary: CustomerSummary | CompressedSummary
    ) -> FloatArray:
        """Expected transactions of each customer over the next ``t`` opportunities (FHS eq. 13).

        Args:
            t: A number of future opportunities, or one per customer (a one-dimensional array as
                long as the summary); several for every customer: ``expected_purchases_grid``.
            summary: The customers' patterns.

        Returns:
            One value per customer.

        Raises:
            NotFittedError: Before ``fit``.
            InvalidInputError: For negative or fractional ``t``, or invalid patterns.
        """
        return self._per_customer(
            kernels.conditional_expected_transactions, t, summary, "expected_purchases"
        )

    def expected_purchases_grid(
        self, t: ArrayLike, summary: CustomerSummary | CompressedSummary
    ) -> FloatArray:
        """Expected transactions of every customer over every number of opportunities in ``t``.

        Returns:
            Shape ``(n_customers, len(t))``; column ``j`` equals ``expected_purchases(t[j], ...)``.

        Raises:
            NotFittedError: Before ``fit``.
            InvalidInputError: For negative or fractional ``t`` or invalid patterns.
        """
        return self._grid(
            kernels.conditional_expected_transactions, t, summary, "expected_purchases_grid"
        )

    def probability_alive(self, summary: CustomerSummary | CompressedSummary) -> FloatArray:
        """Probability that each customer is alive at the end of observation (opportunity $n$).

        Args:
            summary: The customers' patterns, in the model's unit.

        Returns:
            One value in $[0, 1]$ per customer.

        Raises:
            NotFittedError: Before ``fit``.
            InvalidInputError: For invalid patterns or a summary in another unit.
        """
        return self._per_customer(kernels.probability_alive, 0.0, summary, "probability_alive")

    def probability_alive_at(
        self, t: ArrayLike, summary: CustomerSummary | CompressedSummary
    ) -> FloatArray:
        """Probability that each customer is alive at opportunity $n$ + ``t``.

        ``t = 1`` is FHS (2010) eq. (11), "alive in period $n + 1$"; ``t = 0`` equals
        [`probability_alive`][relmark.clv.bgbb.BGBB.probability_alive].

        Args:
            t: A number of future opportunities, or one per customer; several for every
                customer: ``probability_alive_at_grid``.
            summary: The customers' patterns, in the model's unit.

        Returns:
            One value per customer.

        Raises:
            NotFittedError: Before ``fit``.
            InvalidInputError: For negative or fractional ``t``, invalid patterns or a summary
                in another unit.
        """
        return self._per_customer(kernels.probability_alive, t, summary, "probability_alive_at")

    def probability_alive_at_grid(
        self, t: ArrayLike, summary: CustomerSummary | CompressedSummary
    ) -> FloatArray:
        """Probability that every customer is alive at opportunity $n$ + each ``t``.

        Returns:
            Shape ``(n_customers, len(t))``.

        Raises:
            NotFittedError: Before ``fit``.
            InvalidInputError: For negative or fractional ``t`` or invalid patterns.
        """
        return self._grid(kernels.probability_alive, t, summary, "probability_alive_at_grid")

    def expected_purchases_new_customer(self, t: ArrayLike) -> FloatArray:
        """Expected transactions of a new customer over the first ``t`` opportunities.

        Args:
            t: Numbers of opportunities (any shape, whole numbers).

        Returns:
            Same shape as ``t``.

        Raises:
            NotFittedError: Before ``fit``.
            InvalidInputError: For negative or fractional ``t``.
        """
        return self._new_customer(
            kernels.expected_transactions, t, "expected_purchases_new_customer"
        )

    def probability_of_purchases(self, n: ArrayLike, t: ArrayLike) -> FloatArray:
        """$P(X(t) = n)$: probability of ``n`` transactions in the first ``t`` opportunities.

        Args:
            n: Numbers of transactions (whole numbers).
            t: Numbers of opportunities (whole numbers), broadcast against ``n``.

        Returns:
            The broadcast shape of ``n`` and ``t``; 0 where ``n > t``.

        Raises:
            NotFittedError: Before ``fit``.
            InvalidInputError: For bad counts, or shapes that do not broadcast.
        """
        return self._new_customer_counts(
            kernels.probability_of_transactions, n, t, "probability_of_purchases"
        )

    def expected_frequency_counts(self, t: int, n_customers: float) -> FloatArray:
        r"""Expected number of customers with $0, 1, \dots, t$ transactions in ``t`` opportunities.

        FHS (2010) eq. (7) times the cohort size: the in-sample fit check of their Figure 2.

        Args:
            t: Number of opportunities (a whole number, at most 1,000,000).
            n_customers: Cohort size (> 0).

        Returns:
            Length ``t + 1``.

        Raises:
            NotFittedError: Before ``fit``.
            InvalidInputError: For a bad ``t`` or ``n_customers``.
        """
        periods = check_times("t", t, integral=True)
        if periods.ndim:
            raise InvalidInputError(f"The 't' argument must be a single whole number. Got {t!r}.")
        if float(periods) > _MAX_OPPORTUNITIES:
            raise InvalidInputError(
                f"The 't' argument of BGBB.expected_frequency_counts must be at most "
                f"{_MAX_OPPORTUNITIES:,} opportunities (one count per number of transactions is "
                f"returned). Got {t!r}."
            )
        size = check_times("n_customers", n_customers)
        if size.ndim or not float(size) > 0:
            raise InvalidInputError(
                f"The 'n_customers' argument must be a single number > 0. Got {n_customers!r}."
            )
        counts = np.arange(float(periods) + 1.0)
        return float(size) * self.probability_of_purchases(counts, float(periods))


_MAX_OPPORTUNITIES = 1_000_000
"""Longest ``t`` of ``expected_frequency_counts``: its result has ``t + 1`` entries."""


def _whole(periods: FloatArray, where: str) -> FloatArray:
    """``periods`` when every value is a whole number of opportunities."""
    if np.any(periods != np.round(periods)):
        raise InvalidInputError(
            f"The 't' argument of {where} must hold whole numbers of opportunities. Got "
            f"{np.ravel(periods).tolist()[:5]}."
        )
    return periods
