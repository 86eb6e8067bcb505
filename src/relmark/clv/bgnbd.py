"""The BG/NBD model of Fader, Hardie & Lee (2005) as an estimator.

See the kernels in [`relmark.core.bgnbd`][relmark.core.bgnbd] for the formulas.
"""

from __future__ import annotations

import functools
from typing import ClassVar, Self

import attrs

from relmark.clv._base import (
    RepeatBuyingModel,
    parameter_converter,
    positive_parameter,
)
from relmark.core import bgnbd as kernels
from relmark.core.bgnbd_likelihood import BGNBDLikelihood
from relmark.core.conditional import (
    conditional_probability_of_any_purchase,
    conditional_probability_of_purchases,
)
from relmark.data.units import TimeUnit
from relmark.typing import TransactionKernels

__all__ = ["BGNBD", "BGNBDParams"]


@attrs.frozen(kw_only=True)
class BGNBDParams:
    r"""Parameters of the BG/NBD model, and of the MBG/NBD (the same four, the same meaning).

    Attributes:
        r: Shape of the gamma distribution of purchase rates $\lambda$.
        alpha: Scale of that gamma (a duration, in the model's time unit); the mean rate is
            $r/\alpha$ purchases per unit.
        a: First parameter of the beta distribution of the dropout probability $p$.
        b: Second parameter of that beta; the mean dropout probability is $a/(a+b)$.
    """

    r: float = attrs.field(converter=parameter_converter, validator=positive_parameter)
    alpha: float = attrs.field(converter=parameter_converter, validator=positive_parameter)
    a: float = attrs.field(converter=parameter_converter, validator=positive_parameter)
    b: float = attrs.field(converter=parameter_converter, validator=positive_parameter)


class BGNBD(RepeatBuyingModel):
    r"""Beta-geometric/negative-binomial model of repeat purchasing (Fader, Hardie & Lee 2005).

    While alive a customer buys at a Poisson rate $\lambda \sim \text{Gamma}(r, \alpha)$; after
    each repeat purchase they drop out with probability $p \sim \text{Beta}(a, b)$. The model is
    fitted by maximum likelihood on the distinct $(x, t_x, T)$ rows of a summary.

    ``expected_purchases`` is FHL eq. (10), ``probability_alive`` eq. (12) (alive at the end of
    observation), ``expected_purchases_new_customer`` eq. (9), ``probability_of_purchases``
    eq. (8); ``probability_alive_at`` extends eq. (12) to $T + t$ (see
    [`relmark.core.bgnbd.probability_alive_at`][relmark.core.bgnbd.probability_alive_at]).

    Args:
        penalizer: Strength $\lambda \ge 0$ of an L2 penalty on the log-parameters, set against
            the *mean* log-likelihood per customer so it means the same for any number of
            customers (see [`relmark.core.mle`][relmark.core.mle]). 0 for plain maximum likelihood.

    Attributes:
        params_: Fitted [`BGNBDParams`][relmark.clv.BGNBDParams].
        covariance_: Delta-method covariance of $(r, \alpha, a, b)$ (NaN when built from known
            parameters).
        standard_errors_: Standard error of each parameter by name.
        log_likelihood_: Log-likelihood at the estimates.
        fit_: Fit statistics ([`FitResult`][relmark.clv.FitResult]), ``None`` for a model built
            with [`from_params`][relmark.clv.bgnbd.BGNBD.from_params].
        unit_: Time unit of $\alpha$ and of every ``t`` given to the prediction methods.

    Examples:
        >>> from relmark import CustomerSummary
        >>> model = BGNBD.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426, unit="W")
        >>> summary = CustomerSummary.from_arrays([2], [30.43], [38.86], unit="W")
        >>> round(float(model.expected_purchases(39, summary)[0]), 2)
        1.23
    """

    _params_type: ClassVar[type[BGNBDParams]] = BGNBDParams
    name: ClassVar[str] = "bgnbd"
    literature_name: ClassVar[str] = "BG/NBD"
    _kernels: ClassVar[TransactionKernels] = kernels
    _prepared_likelihood = BGNBDLikelihood
    _conditional_pmf = staticmethod(
        functools.partial(conditional_probability_of_purchases, shift=0)
    )
    _any_purchase = staticmethod(
        functools.partial(conditional_probability_of_any_purchase, shift=0)
    )

    params_: BGNBDParams

    @classmethod
    def from_params(
        cls, *, r: float, alpha: float, a: float, b: float, unit: str | TimeUnit = "W"
    ) -> Self:
        """Build a fitted model from known parameters (published values, a fit made elsewhere).

        Args:
            r: Gamma shape of purchase rates.
            alpha: Gamma scale of purchase rates, in ``unit``.
            a: Beta parameter of the dropout probability.
            b: Beta parameter of the dropout probability.
            unit: Time unit of ``alpha`` (default weeks, the unit of most published fits).

        Returns:
            A model whose standard errors and covariance are NaN (unknown).

        Raises:
            InvalidInputError: For a parameter that is not a finite float > 0.
        """
        return cls._from_record(BGNBDParams(r=r, alpha=alpha, a=a, b=b), unit)
