r"""The MBG/NBD model of Batislam, Denizel & Filiztekin (2007) as an estimator.

See the kernels in [`relmark.core.mbgnbd`][relmark.core.mbgnbd] for the formulas.
"""

from __future__ import annotations

import functools
from typing import ClassVar, Self

from relmark.clv._base import RepeatBuyingModel
from relmark.clv.bgnbd import BGNBDParams
from relmark.core import mbgnbd as kernels
from relmark.core.bgnbd_likelihood import MBGNBDLikelihood
from relmark.core.conditional import (
    conditional_probability_of_any_purchase,
    conditional_probability_of_purchases,
)
from relmark.data.units import TimeUnit
from relmark.typing import TransactionKernels

__all__ = ["MBGNBD"]


class MBGNBD(RepeatBuyingModel):
    r"""Modified BG/NBD model of repeat purchasing (Batislam, Denizel & Filiztekin 2007).

    As the BG/NBD, but a dropout opportunity also follows the first purchase, so customers with
    no repeat purchase are not assumed alive: $P(\text{alive} \mid x = 0) < 1$. While alive a
    customer buys at a Poisson rate $\lambda \sim \text{Gamma}(r, \alpha)$ and drops out after
    each purchase with probability $p \sim \text{Beta}(a, b)$.

    Args:
        penalizer: Strength $\lambda \ge 0$ of an L2 penalty on the log-parameters, set against
            the *mean* log-likelihood per customer (see [`relmark.core.mle`][relmark.core.mle]).
            0 for plain maximum likelihood.

    Attributes:
        params_: Fitted [`BGNBDParams`][relmark.clv.BGNBDParams] (the MBG/NBD has the BG/NBD's
            parameters).
        covariance_: Delta-method covariance of $(r, \alpha, a, b)$ (NaN when built from known
            parameters).
        standard_errors_: Standard error of each parameter by name.
        log_likelihood_: Log-likelihood at the estimates.
        fit_: Fit statistics, ``None`` for a model built with ``from_params``.
        unit_: Time unit of $\alpha$ and of every ``t`` given to the prediction methods.

    Examples:
        >>> from relmark.data.summary import CustomerSummary
        >>> model = MBGNBD.from_params(r=0.525, alpha=6.183, a=0.891, b=1.614)
        >>> summary = CustomerSummary.from_arrays([0], [0.0], [38.86], unit="W")
        >>> round(float(model.probability_alive(summary)[0]), 3)
        0.39
    """

    _params_type: ClassVar[type[BGNBDParams]] = BGNBDParams
    name: ClassVar[str] = "mbgnbd"
    literature_name: ClassVar[str] = "MBG/NBD"
    _kernels: ClassVar[TransactionKernels] = kernels
    _prepared_likelihood = MBGNBDLikelihood
    _conditional_pmf = staticmethod(
        functools.partial(conditional_probability_of_purchases, shift=1)
    )
    _any_purchase = staticmethod(
        functools.partial(conditional_probability_of_any_purchase, shift=1)
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
            unit: Time unit of ``alpha`` (default weeks).

        Returns:
            A model whose standard errors and covariance are NaN (unknown).

        Raises:
            InvalidInputError: For a parameter that is not a finite float > 0.
        """
        return cls._from_record(BGNBDParams(r=r, alpha=alpha, a=a, b=b), unit)
