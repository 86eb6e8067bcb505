r"""The Pareto/NBD model of Schmittlein, Morrison & Colombo (1987) as an estimator.

See the kernels in [`relmark.core.paretonbd`][relmark.core.paretonbd] for the formulas. The
continuous-time plumbing shared with the BG/NBD and MBG/NBD (fit on the distinct $(x, t_x, T)$
rows, unit conversion, gathering per-row predictions back to customers) lives in
[`RepeatBuyingModel`][relmark.clv._base.RepeatBuyingModel].
"""

from __future__ import annotations

from typing import ClassVar, Self

import attrs
import numpy as np

from relmark.clv._base import (
    RepeatBuyingModel,
    parameter_converter,
    positive_parameter,
)
from relmark.core import paretonbd as kernels
from relmark.core.mle import MAX_LOG_STANDARD_ERROR
from relmark.data.units import TimeUnit
from relmark.typing import FloatArray, TransactionKernels

__all__ = ["ParetoNBD", "ParetoNBDParams"]

_ADVICE = (
    "Things to try: (1) if s and beta are both very large (or s tiny), the data show almost no "
    "drop-out: the customers are observed too briefly, or nearly every customer is still "
    "buying, so the dropout distribution is not identified; observe longer (a larger T), or "
    "fit with a small penalizer (e.g. penalizer=0.001); (2) if r and alpha are both very large, "
    "purchase rates hardly vary between customers (a penalizer helps here too); (3) rescale "
    "time (express recency and T in a coarser unit) so the parameters are of moderate size; "
    "(4) check for extreme or inconsistent rows (very large frequency, recency equal to T for "
    "every customer)."
)


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

    r: float = attrs.field(converter=parameter_converter, validator=positive_parameter)
    alpha: float = attrs.field(converter=parameter_converter, validator=positive_parameter)
    s: float = attrs.field(converter=parameter_converter, validator=positive_parameter)
    beta: float = attrs.field(converter=parameter_converter, validator=positive_parameter)


class ParetoNBD(RepeatBuyingModel):
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
    name: ClassVar[str] = "paretonbd"
    literature_name: ClassVar[str] = "Pareto/NBD"
    _kernels: ClassVar[TransactionKernels] = kernels
    _prepared_likelihood = kernels.ParetoNBDLikelihood
    _fit_advice = _ADVICE
    _max_log_standard_error = MAX_LOG_STANDARD_ERROR
    # P(X(T, T+t] = k | history) and P(X >= 1 | history): the posterior-parameter form derived in
    # relmark.core.paretonbd.probability_of_purchases_conditional.
    _conditional_pmf = staticmethod(kernels.probability_of_purchases_conditional)
    _any_purchase = staticmethod(kernels.probability_of_any_purchase)

    params_: ParetoNBDParams

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
        return cls._from_record(ParetoNBDParams(r=r, alpha=alpha, s=s, beta=beta), unit)
