r"""BG/NBD with time-invariant covariates (Fader & Hardie 2007), fitted on compressed rows.

Customers differ by observed traits (acquisition channel, region, loyalty card): instead of
leaving all heterogeneity to the mixing distributions, the model lets the purchase-rate scale and
the dropout Beta parameters depend on covariates (see
[`relmark.core.covariates`][relmark.core.covariates] for the parameterization). With
categorical covariates customers share few covariate patterns, so the fit compresses on
$(x, t_x, T, \text{pattern})$ and stays fast. A likelihood-ratio test against the model without
covariates says whether the covariates matter.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Self

import attrs
import numpy as np
from numpy.typing import ArrayLike
from scipy.special import chdtrc, ndtri

from relmark.clv._base import ParameterTable
from relmark.clv._checks import check_real, is_real
from relmark.clv.bgnbd import BGNBD
from relmark.core.covariates import bgnbd_covariate_parameters, bgnbd_log_likelihood_and_gradient
from relmark.core.mle import maximize_likelihood
from relmark.data.covariates import Covariates
from relmark.data.summary import CustomerSummary
from relmark.data.units import TimeUnit
from relmark.errors import InvalidInputError, NotFittedError
from relmark.typing import FloatArray, IntArray

__all__ = ["CovariateBGNBD", "LikelihoodRatioTest"]


@attrs.frozen(kw_only=True)
class LikelihoodRatioTest:
    r"""A likelihood-ratio test of nested models: $2(\ln L_1 - \ln L_0) \sim \chi^2_{df}$ under $H_0$.

    Attributes:
        statistic: $2(\ln L_1 - \ln L_0)$.
        df: Number of parameters the larger model adds.
        p_value: $P(\chi^2_{df} \ge \text{statistic})$.
    """

    statistic: float
    df: int
    p_value: float


class CovariateBGNBD:
    r"""BG/NBD whose $\alpha$, $a$ and $b$ depend on each customer's covariates.

    $\alpha_i = \alpha_0 e^{-\gamma_1^\top z_{1i}}$, $a_i = a_0 e^{\gamma_2^\top z_{2i}}$,
    $b_i = b_0 e^{\gamma_3^\top z_{2i}}$ (Fader & Hardie 2007): a positive purchase coefficient
    means more purchases; positive $\gamma_2$ (or negative $\gamma_3$) means more dropout.

    Args:
        penalizer: L2 penalty on the log-baseline parameters and the coefficients, as for
            [`BGNBD`][relmark.clv.BGNBD]; 0 for plain maximum likelihood.

    Attributes:
        baseline_: ``{"r", "alpha0", "a0", "b0"}`` at covariates 0.
        coefficients_: ``{"purchase": {...}, "dropout_a": {...}, "dropout_b": {...}}`` keyed
            by design-column name.
        log_likelihood_: Log-likelihood at the estimates.
        covariance_: Covariance of the estimation vector $(\ln r, \ln\alpha_0, \ln a_0, \ln b_0,
            \gamma_1, \gamma_2, \gamma_3)$.
        unit_: Time unit of the fitted summary.

    Examples:
        >>> import numpy as np
        >>> from relmark.data import Covariates
        >>> from relmark.datasets import simulate_bgnbd
        >>> web = simulate_bgnbd(3000, 0.5, 6.0, 0.8, 2.5, T=40.0, seed=1)
        >>> store = simulate_bgnbd(3000, 0.5, 3.0, 0.8, 2.5, T=40.0, seed=2)
        >>> both = CustomerSummary.from_arrays(
        ...     np.r_[web.frequency, store.frequency],
        ...     np.r_[web.recency, store.recency],
        ...     np.r_[web.T, store.T],
        ... )
        >>> cov = Covariates.from_columns(
        ...     np.arange(6000),
        ...     {"channel": ["web"] * 3000 + ["store"] * 3000},
        ...     reference={"channel": "web"},
        ... )
        >>> model = CovariateBGNBD().fit(both, cov, purchase=["channel[store]"], dropout=[])
        >>> round(model.coefficients_["purchase"]["channel[store]"], 1)  # true: ln 2 = 0.69
        0.7
    """

    log_likelihood_: float
    covariance_: FloatArray
    unit_: TimeUnit

    def __init__(self, *, penalizer: float = 0.0) -> None:
        self.penalizer = penalizer

    def __repr__(self) -> str:
        """The constructor call, with ``fitted`` state noted."""
        state = "fitted" if "estimates_" in self.__dict__ else "not fitted"
        return f"CovariateBGNBD(penalizer={self.penalizer!r})  # {state}"

    def _check_fitted(self) -> None:
        if "estimates_" not in self.__dict__:
            raise NotFittedError(
                "This CovariateBGNBD is not fitted yet. Call fit(summary, covariates) first."
            )

    def fit(
        self,
        summary: CustomerSummary,
        covariates: Covariates,
        *,
        purchase: Sequence[str] | None = None,
        dropout: Sequence[str] | None = None,
    ) -> Self:
        r"""Fit by maximum likelihood on distinct $(x, t_x, T, \text{covariate pattern})$ rows.

        Args:
            summary: One row per customer.
            covariates: Covariates of exactly the summary's customers.
            purchase: Design columns acting on the purchase rate; all by default.
            dropout: Design columns acting on dropout; all by default.

        Returns:
            ``self``, fitted.

        Raises:
            InvalidInputError: For a bad summary, covariates that do not match its customers,
                no covariate at all, or an unknown design column.
            ConvergenceError: When the optimization fails.
        """
        penalizer = check_real(self.penalizer, name="penalizer", owner="CovariateBGNBD")
        if not isinstance(summary, CustomerSummary) or len(summary) == 0:  # type: ignore[redundant-expr]
            raise InvalidInputError(
                "The 'summary' argument of CovariateBGNBD.fit must be a non-empty "
                f"CustomerSummary. Got {type(summary).__name__}."
            )
        if not isinstance(covariates, Covariates):
            raise InvalidInputError(
                "The 'covariates' argument must be a relmark Covariates (build one with "
                f"Covariates.from_frame). Got {type(covariates).__name__}."
            )
        purchase_names = tuple(covariates.names if purchase is None else purchase)
        dropout_names = tuple(covariates.names if dropout is None else dropout)
        if not purchase_names and not dropout_names:
            raise InvalidInputError(
                "CovariateBGNBD needs at least one covariate in 'purchase' or 'dropout'; "
                "without covariates use BGNBD."
            )
        aligned = covariates.align(summary)
        columns = {name: aligned[:, covariates.names.index(name)] for name in covariates.names}
        z1 = _columns(columns, purchase_names, "purchase")
        z2 = _columns(columns, dropout_names, "dropout")
        rows, index, weights = _compress(summary, np.hstack([z1, z2]))
        baseline = BGNBD(penalizer=penalizer).fit(summary)
        p0 = baseline.params_
        start = np.concatenate(
            [
                np.log([p0.r, p0.alpha, p0.a, p0.b]),
                np.zeros(len(purchase_names) + 2 * len(dropout_names)),
            ]
        )
        names = (
            "r",
            "alpha0",
            "a0",
            "b0",
            *(f"purchase:{n}" for n in purchase_names),
            *(f"dropout_a:{n}" for n in dropout_names),
            *(f"dropout_b:{n}" for n in dropout_names),
        )
        x = summary.frequency.astype(np.float64)[index]
        result = maximize_likelihood(
            bgnbd_log_likelihood_and_gradient,
            (x, summary.recency[index], summary.T[index], z1[index], z2[index]),
            weights,
            names,
            start,
            penalizer=penalizer,
            describe_rows=lambda bad: f"customers {summary.customer_id[index[bad]][:5].tolist()}",
        )
        estimates = np.log(result.params)
        self.__dict__["estimates_"] = estimates
        self.names_ = names
        self.purchase_names_ = purchase_names
        self.dropout_names_ = dropout_names
        self.covariance_ = result.log_covariance
        self.log_likelihood_ = result.log_likelihood
        self.restricted_log_likelihood_ = baseline.log_likelihood_
        self.n_rows_ = int(rows)
        self.unit_ = summary.unit
        p1, p2 = len(purchase_names), len(dropout_names)
        self.baseline_ = dict(
            zip(("r", "alpha0", "a0", "b0"), np.exp(estimates[:4]).tolist(), strict=True)
        )
        self.coefficients_ = {
            "purchase": dict(zip(purchase_names, estimates[4 : 4 + p1].tolist(), strict=True)),
            "dropout_a": dict(
                zip(dropout_names, estimates[4 + p1 : 4 + p1 + p2].tolist(), strict=True)
            ),
            "dropout_b": dict(zip(dropout_names, estimates[4 + p1 + p2 :].tolist(), strict=True)),
        }
        return self

    def summary(self, level: float = 0.95) -> ParameterTable:
        r"""Estimates, standard errors and Wald intervals.

        Baseline parameters are reported on their natural scale with intervals built on the log
        scale (positive, asymmetric); coefficients on their own scale with symmetric intervals.

        Raises:
            NotFittedError: Before ``fit``.
            InvalidInputError: For a ``level`` outside $(0, 1)$.
        """
        self._check_fitted()
        if not (is_real(level) and 0 < level < 1):
            raise InvalidInputError(
                f"The 'level' argument must be a number in (0, 1). Got {level!r}."
            )
        z = float(ndtri(0.5 + float(level) / 2))
        est = self.__dict__["estimates_"]
        se = np.sqrt(np.diag(self.covariance_))
        natural = np.r_[np.exp(est[:4]), est[4:]]
        lower = np.r_[np.exp(est[:4] - z * se[:4]), est[4:] - z * se[4:]]
        upper = np.r_[np.exp(est[:4] + z * se[:4]), est[4:] + z * se[4:]]
        natural_se = np.r_[np.exp(est[:4]) * se[:4], se[4:]]
        return ParameterTable(
            names=self.names_,
            estimate=natural,
            standard_error=natural_se,
            lower=lower,
            upper=upper,
            level=float(level),
        )

    def likelihood_ratio_test(self) -> LikelihoodRatioTest:
        """Test the covariates jointly against BG/NBD without them, fitted on the same customers.

        Raises:
            NotFittedError: Before ``fit``.
        """
        self._check_fitted()
        statistic = max(0.0, 2.0 * (self.log_likelihood_ - self.restricted_log_likelihood_))
        df = len(self.names_) - 4
        return LikelihoodRatioTest(statistic=statistic, df=df, p_value=float(chdtrc(df, statistic)))

    def customer_parameters(
        self, summary: CustomerSummary, covariates: Covariates
    ) -> tuple[float, FloatArray, FloatArray, FloatArray]:
        r"""$(r, \alpha_i, a_i, b_i)$ of each customer of ``summary``.

        Raises:
            NotFittedError: Before ``fit``.
            InvalidInputError: When the covariates do not match the summary's customers.
        """
        self._check_fitted()
        aligned = covariates.align(summary)
        columns = {name: aligned[:, covariates.names.index(name)] for name in covariates.names}
        z1 = _columns(columns, self.purchase_names_, "purchase")
        z2 = _columns(columns, self.dropout_names_, "dropout")
        return bgnbd_covariate_parameters(self.__dict__["estimates_"], z1, z2)

    def _by_pattern(
        self,
        summary: CustomerSummary,
        covariates: Covariates,
        predict: Any,
    ) -> FloatArray:
        r, alpha, a, b = self.customer_parameters(summary, covariates)
        patterns, inverse = np.unique(np.stack([alpha, a, b], axis=1), axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        out = np.empty(len(summary), dtype=np.float64)
        for k, (alpha_k, a_k, b_k) in enumerate(patterns.tolist()):
            members = np.flatnonzero(inverse == k)
            model = BGNBD.from_params(r=r, alpha=alpha_k, a=a_k, b=b_k, unit=self.unit_)
            out[members] = predict(model, summary.take(members), members)
        return out

    def expected_purchases(
        self, t: ArrayLike, summary: CustomerSummary, covariates: Covariates
    ) -> FloatArray:
        """Expected purchases of each customer in the next ``t`` given history and covariates.

        Args:
            t: A horizon in the model's unit, or one horizon per customer.
            summary: The customers.
            covariates: Their covariates.

        Returns:
            One value per customer. Evaluated once per distinct covariate pattern.
        """
        horizons = np.asarray(t, dtype=np.float64)
        if horizons.ndim == 1 and horizons.size != len(summary):
            raise InvalidInputError(
                f"The 't' argument must be a scalar or hold one horizon per customer "
                f"({len(summary)}). Got {horizons.size} values."
            )

        def predict(model: BGNBD, part: CustomerSummary, members: IntArray) -> FloatArray:
            mine = horizons if horizons.ndim == 0 else horizons[members]
            return model.expected_purchases(mine, part)

        return self._by_pattern(summary, covariates, predict)

    def probability_alive(self, summary: CustomerSummary, covariates: Covariates) -> FloatArray:
        """Probability that each customer is alive at the end of observation."""
        return self._by_pattern(
            summary, covariates, lambda model, part, _members: model.probability_alive(part)
        )


def _columns(columns: dict[str, FloatArray], names: Sequence[str], role: str) -> FloatArray:
    unknown = [n for n in names if n not in columns]
    if unknown:
        raise InvalidInputError(
            f"The {role!r} covariates {unknown} are not design columns; they are {sorted(columns)}."
        )
    n = len(next(iter(columns.values()))) if columns else 0
    if not names:
        return np.zeros((n, 0), dtype=np.float64)
    return np.stack([columns[name] for name in names], axis=1)


def _compress(summary: CustomerSummary, z: FloatArray) -> tuple[int, IntArray, FloatArray]:
    """Distinct (x, t_x, T, covariate pattern) rows: count, a representative each, weights."""
    rows = summary.compress()
    if z.shape[1]:
        _, pattern = np.unique(z, axis=0, return_inverse=True)
        pattern = pattern.reshape(-1).astype(np.int64)
        key = rows.inverse.astype(np.int64) * (int(pattern.max()) + 1) + pattern
    else:
        key = rows.inverse.astype(np.int64)
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    weights = np.bincount(inverse.reshape(-1), weights=summary.row_weights, minlength=first.size)
    return int(first.size), first.astype(np.int64), weights.astype(np.float64)
