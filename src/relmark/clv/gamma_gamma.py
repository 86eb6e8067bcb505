"""The Gamma-Gamma model of monetary value (Fader & Hardie 2013) as an estimator.

See the kernels in [`relmark.core.gamma_gamma`][relmark.core.gamma_gamma] for the formulas.
"""

from __future__ import annotations

import warnings
from typing import ClassVar, Self

import attrs
import numpy as np

from relmark.clv._base import ParametricModel, parameter_converter, positive_parameter
from relmark.core import gamma_gamma as kernels
from relmark.core.mle import MAX_LOG_STANDARD_ERROR, maximize_weighted
from relmark.data.summary import CustomerSummary
from relmark.errors import InvalidInputError, ModelAssumptionWarning
from relmark.typing import FloatArray, IntArray

__all__ = ["CORRELATION_WARNING_THRESHOLD", "GammaGamma", "GammaGammaParams"]

CORRELATION_WARNING_THRESHOLD = 0.3
"""|Pearson correlation| between frequency and mean spend above which fitting warns."""

_ADVICE = (
    "Things to try: (1) if q and gamma are both very large (they grow together, keeping the mean "
    "spend p*gamma/(q-1) fixed), the customers' mean spends vary no more between customers "
    "than their own transactions do, so the spread of spend levels across customers is not "
    "identified (the maximum is at q = infinity): use the population mean spend for every "
    "customer, or fit with a small penalizer (e.g. penalizer=0.001) to keep q finite; "
    "(2) express monetary in a unit that keeps it of moderate size (e.g. thousands); "
    "(3) check for extreme rows (a mean spend orders of magnitude from the rest)."
)


@attrs.frozen(kw_only=True)
class GammaGammaParams:
    r"""Parameters of the Gamma-Gamma spend model.

    Attributes:
        p: Shape of the gamma distribution of a customer's transaction values.
        q: Shape of the gamma distribution of the scale $\nu$ across customers.
        gamma: Scale of that gamma (a money amount); the population mean spend per
            transaction is $p\gamma/(q-1)$ when $q > 1$.
    """

    p: float = attrs.field(converter=parameter_converter, validator=positive_parameter)
    q: float = attrs.field(converter=parameter_converter, validator=positive_parameter)
    gamma: float = attrs.field(converter=parameter_converter, validator=positive_parameter)


class GammaGamma(ParametricModel):
    r"""Gamma-Gamma model of average transaction value (Fader & Hardie 2013).

    Fitted on the repeat customers of a summary (``frequency > 0`` and ``monetary > 0``): their
    number of repeat transactions $x$ and mean repeat spend $\bar z$. The model assumes spend is
    independent of purchase frequency; fitting emits a
    [`ModelAssumptionWarning`][relmark.errors.ModelAssumptionWarning] when the (weighted) Pearson
    correlation of the two exceeds 0.3 in absolute value.

    Args:
        penalizer: L2 penalty on the log-parameters, as for
            [`BGNBD`][relmark.clv.BGNBD]; 0 for plain maximum likelihood.

    Attributes:
        params_: Fitted [`GammaGammaParams`][relmark.clv.GammaGammaParams].
        covariance_: Delta-method covariance of $(p, q, \gamma)$.
        standard_errors_: Standard error of each parameter by name.
        log_likelihood_: Log-likelihood at the estimates.
        fit_: Fit statistics, ``None`` for a model built with ``from_params``.
    """

    _params_type: ClassVar[type[GammaGammaParams]] = GammaGammaParams

    params_: GammaGammaParams

    @classmethod
    def from_params(cls, *, p: float, q: float, gamma: float) -> Self:
        """Build a fitted model from known parameters (standard errors unknown, NaN)."""
        return cls._from_record(GammaGammaParams(p=p, q=q, gamma=gamma))

    def _monetary(self, summary: CustomerSummary) -> FloatArray:
        summary = self._check_summary(summary)
        if summary.monetary is None:
            raise InvalidInputError(
                "The 'summary' given to GammaGamma has no 'monetary' column; build it from "
                "transactions with amounts or pass monetary= to CustomerSummary.from_arrays."
            )
        return summary.monetary

    def fit(self, summary: CustomerSummary, /) -> Self:
        """Fit on the customers with at least one repeat purchase and positive mean spend.

        Args:
            summary: With a ``monetary`` column (mean repeat-purchase value).

        Returns:
            ``self``, fitted.

        Raises:
            InvalidInputError: No ``monetary`` column, or fewer than 3 repeat customers.
            ConvergenceError: When the optimization fails; its ``hint`` says what to try, first
                the ``penalizer`` (its ``hint_field``).
        """
        self._check_penalizer(self.penalizer)
        monetary = self._monetary(summary)
        repeat = (summary.frequency > 0) & (monetary > 0)
        if int(repeat.sum()) < 3:
            raise InvalidInputError(
                "GammaGamma needs at least 3 customers with frequency > 0 and monetary > 0 to "
                f"fit; the summary has {int(repeat.sum())}."
            )
        index = np.flatnonzero(repeat)
        x = summary.frequency[index].astype(np.float64)
        spend = monetary[index]
        weights = summary.row_weights[index]
        _warn_if_correlated(x, spend, weights)
        start = np.log(np.array([1.0, 1.0, float(np.average(spend, weights=weights))]))
        result = maximize_weighted(
            kernels.GammaGammaLikelihood(x, spend, weights),
            self.parameter_names(),
            start,
            penalizer=self._check_penalizer(self.penalizer),
            describe_rows=lambda bad: _describe_rows(summary, index, bad),
            advice=_ADVICE,
            max_log_standard_error=MAX_LOG_STANDARD_ERROR,
        )
        self._store_fit(result)
        return self

    def expected_spend(self, summary: CustomerSummary) -> FloatArray:
        r"""Conditional expected average transaction value of each customer (F&H 2013 eq. 5).

        Customers without repeat purchases get the population mean $p\gamma/(q-1)$; the value is
        ``inf`` where the expectation does not exist ($px + q \le 1$).

        Returns:
            One value per customer, in the currency of ``monetary``.
        """
        params = self._params_record("expected_spend")
        monetary = self._monetary(summary)
        return kernels.conditional_expected_spend(
            summary.frequency.astype(np.float64), monetary, params.p, params.q, params.gamma
        )


def _warn_if_correlated(x: FloatArray, spend: FloatArray, weights: FloatArray) -> None:
    if np.ptp(x) == 0 or np.ptp(spend) == 0:
        return
    # Weighted moments by einsum (no BLAS threads woken for one statistic).
    total = float(weights.sum())
    dx = x - np.einsum("i,i->", weights, x) / total
    dz = spend - np.einsum("i,i->", weights, spend) / total
    wdx = weights * dx
    rho = float(
        np.einsum("i,i->", wdx, dz)
        / np.sqrt(np.einsum("i,i->", wdx, dx) * np.einsum("i,i->", weights * dz, dz))
    )
    if abs(rho) > CORRELATION_WARNING_THRESHOLD:
        warnings.warn(
            f"Frequency and mean spend of the repeat customers are correlated (Pearson "
            f"{rho:.2f}); the Gamma-Gamma model assumes they are independent, so its spend "
            "predictions may be biased.",
            ModelAssumptionWarning,
            stacklevel=3,
        )


def _describe_rows(summary: CustomerSummary, index: IntArray, bad: IntArray) -> str:
    customers = index[bad][:5]
    return ", ".join(
        f"customer {summary.customer_id[i]!r} (x={summary.frequency[i]}, monetary="
        f"{summary.monetary[i] if summary.monetary is not None else None})"
        for i in customers
    )
