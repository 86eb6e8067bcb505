"""The BG/NBD model of Fader, Hardie & Lee (2005) as an estimator.

See the kernels in [`relmark.core.bgnbd`][relmark.core.bgnbd] for the formulas.
"""

from __future__ import annotations

from typing import ClassVar, Self

import attrs
import numpy as np
from numpy.typing import ArrayLike

from relmark.clv._base import FitResult, ParametricModel, positive_parameter
from relmark.core import bgnbd as kernels
from relmark.core.mle import maximize_likelihood
from relmark.data.summary import CompressedSummary, CustomerSummary
from relmark.data.units import TimeUnit, parse_unit
from relmark.errors import InvalidInputError
from relmark.typing import FloatArray, IntArray

__all__ = ["BGNBD", "BGNBDParams"]

_MAX_LISTED = 5


@attrs.frozen(kw_only=True)
class BGNBDParams:
    r"""Parameters of the BG/NBD model.

    Attributes:
        r: Shape of the gamma distribution of purchase rates $\lambda$.
        alpha: Scale of that gamma (a duration, in the model's time unit); the mean rate is
            $r/\alpha$ purchases per unit.
        a: First parameter of the beta distribution of the dropout probability $p$.
        b: Second parameter of that beta; the mean dropout probability is $a/(a+b)$.
    """

    r: float = attrs.field(converter=float, validator=positive_parameter)
    alpha: float = attrs.field(converter=float, validator=positive_parameter)
    a: float = attrs.field(converter=float, validator=positive_parameter)
    b: float = attrs.field(converter=float, validator=positive_parameter)


def check_times(name: str, values: ArrayLike, *, integral: bool = False) -> FloatArray:
    """Validate a non-negative time (or count) argument of a prediction method."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"The {name!r} argument must be numeric. Got {values!r}.") from exc
    bad = ~np.isfinite(array) | (array < 0)
    if integral:
        bad |= array != np.floor(array)
    if bad.any():
        what = "non-negative whole numbers" if integral else "finite numbers >= 0"
        raise InvalidInputError(
            f"The {name!r} argument must hold {what}. Got {array[bad].ravel()[:_MAX_LISTED].tolist()}."
        )
    return array


def _check_horizons(t: ArrayLike) -> FloatArray:
    horizons = check_times("t", t)
    if horizons.ndim > 1:
        raise InvalidInputError(
            f"The 't' argument must be a number or a one-dimensional array of horizons. "
            f"Got shape {horizons.shape}."
        )
    return horizons


class BGNBD(ParametricModel):
    r"""Beta-geometric/negative-binomial model of repeat purchasing (Fader, Hardie & Lee 2005).

    While alive a customer buys at a Poisson rate $\lambda \sim \text{Gamma}(r, \alpha)$; after
    each repeat purchase they drop out with probability $p \sim \text{Beta}(a, b)$. The model is
    fitted by maximum likelihood on the distinct $(x, t_x, T)$ rows of a summary.

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

    params_: BGNBDParams
    covariance_: FloatArray
    standard_errors_: dict[str, float]
    log_likelihood_: float
    fit_: FitResult | None
    unit_: TimeUnit

    def __init__(self, *, penalizer: float = 0.0) -> None:
        self.penalizer = penalizer

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
        """
        model = cls()
        model._store_known(BGNBDParams(r=r, alpha=alpha, a=a, b=b))
        model.unit_ = parse_unit(unit)
        return model

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
        penalizer = self._check_penalizer(self.penalizer)
        summary = self._check_summary(summary)
        if len(summary) == 0:
            raise InvalidInputError("The 'summary' argument of BGNBD.fit has no customers.")
        rows = summary.compress()
        w = rows.weights
        mean_x = float(w @ rows.frequency) / float(w.sum())
        mean_T = float(w @ rows.T) / float(w.sum())
        # Start at a purchase rate of (x + 1)/T per unit with r = 1, and p ~ Beta(1, 1).
        alpha0 = max(mean_T, 1e-6) / (mean_x + 1.0)
        start = np.log(np.array([1.0, alpha0, 1.0, 1.0]))
        result = maximize_likelihood(
            kernels.log_likelihood_and_gradient,
            (rows.frequency, rows.recency, rows.T),
            w,
            self.parameter_names(),
            start,
            penalizer=penalizer,
            describe_rows=lambda bad: _describe_rows(summary, rows, bad),
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

    def expected_purchases(self, t: ArrayLike, summary: CustomerSummary) -> FloatArray:
        """Expected repeat purchases of each customer in the next ``t`` (FHL 2005 eq. 10).

        Args:
            t: A horizon, or a one-dimensional array of horizons, in ``unit_``.
            summary: The customers' histories (converted to ``unit_`` if in another unit).

        Returns:
            Shape ``(n_customers,)`` for a scalar ``t``; ``(n_customers, len(t))`` for an array.
        """
        params = self._params_record()
        horizons = _check_horizons(t)
        rows, recency, T = self._rows(summary)
        x = rows.frequency
        if horizons.ndim:
            # One column per horizon: rows become a column vector against a row of horizons.
            horizons, x, recency, T = (
                horizons[np.newaxis, :],
                x[:, np.newaxis],
                recency[:, np.newaxis],
                T[:, np.newaxis],
            )
        values = kernels.conditional_expected_purchases(
            horizons, x, recency, T, params.r, params.alpha, params.a, params.b
        )
        return np.asarray(values[rows.inverse], dtype=np.float64)

    def probability_alive(self, summary: CustomerSummary) -> FloatArray:
        """Probability that each customer is still alive at the end of observation (FHL eq. 12).

        Returns:
            One value in $[0, 1]$ per customer.
        """
        params = self._params_record()
        rows, recency, T = self._rows(summary)
        values = kernels.probability_alive(
            rows.frequency, recency, T, params.r, params.alpha, params.a, params.b
        )
        return values[rows.inverse]

    def expected_purchases_new_customer(self, t: ArrayLike) -> FloatArray:
        """Expected repeat purchases within ``t`` of a newly acquired customer (FHL eq. 9).

        Args:
            t: Horizons in ``unit_`` (any shape).

        Returns:
            Same shape as ``t``.
        """
        params = self._params_record()
        horizons = check_times("t", t)
        return kernels.expected_purchases(horizons, params.r, params.alpha, params.a, params.b)

    def probability_of_purchases(self, n: ArrayLike, t: ArrayLike) -> FloatArray:
        """$P(X(t) = n)$ for a newly acquired customer (FHL eq. 8), broadcast over ``n`` and ``t``.

        Args:
            n: Numbers of repeat purchases (non-negative whole numbers).
            t: Horizons in ``unit_``.

        Returns:
            The broadcast shape of ``n`` and ``t``.
        """
        params = self._params_record()
        counts = check_times("n", n, integral=True)
        horizons = check_times("t", t)
        try:
            counts, horizons = np.broadcast_arrays(counts, horizons)
        except ValueError as exc:
            raise InvalidInputError(
                f"The 'n' and 't' arguments must broadcast together; got shapes "
                f"{np.shape(counts)} and {np.shape(horizons)}."
            ) from exc
        return kernels.probability_of_purchases(
            counts, horizons, params.r, params.alpha, params.a, params.b
        )


def _describe_rows(summary: CustomerSummary, rows: CompressedSummary, bad: IntArray) -> str:
    """Name the customers behind offending compressed rows, with their (x, t_x, T)."""
    parts = []
    for i in bad[:_MAX_LISTED]:
        ids = summary.customer_id[rows.inverse == i][:3].tolist()
        parts.append(
            f"x={rows.frequency[i]:g}, t_x={rows.recency[i]:g}, T={rows.T[i]:g} (customer(s) {ids})"
        )
    more = f" and {bad.size - _MAX_LISTED} more row(s)" if bad.size > _MAX_LISTED else ""
    return "; ".join(parts) + more
