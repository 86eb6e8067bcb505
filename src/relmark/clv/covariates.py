r"""BG/NBD, MBG/NBD and Pareto/NBD with time-invariant covariates, fitted on compressed rows.

Customers differ by observed traits (acquisition channel, region, loyalty card): instead of
leaving all heterogeneity to the mixing distributions, the models let the scale of the
purchase-rate distribution and the dropout parameters depend on covariates, as in Fader &
Hardie's note on time-invariant covariates (see [`relmark.core.covariates`][relmark.core.covariates]
for the parameterization and the likelihood). One driver serves the three models:
[`CovariateBGNBD`][relmark.clv.CovariateBGNBD], [`CovariateMBGNBD`][relmark.clv.CovariateMBGNBD]
and [`CovariateParetoNBD`][relmark.clv.CovariateParetoNBD] only say which plain model they extend
and where the coefficients enter.

The fit compresses on $(x, t_x, T, \text{covariate pattern})$. With categorical covariates the
customers share few patterns, and the likelihood is the plain model's prepared likelihood summed
over patterns, so it converges by the same Newton steps as the plain fit. A likelihood-ratio test
against the model without covariates says whether the covariates matter.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import ClassVar, Self

import attrs
import numpy as np
from numpy.typing import ArrayLike
from scipy.special import chdtrc, ndtri

from relmark._estimator import Estimator
from relmark._validation import check_real, is_real
from relmark.clv._base import ParameterTable, RepeatBuyingModel
from relmark.clv.bgnbd import BGNBD
from relmark.clv.mbgnbd import MBGNBD
from relmark.clv.paretonbd import ParetoNBD
from relmark.core.covariates import (
    CovariateRoles,
    PatternLikelihood,
    RowCovariateLikelihood,
    beta_geometric_rows,
)
from relmark.core.mle import maximize_weighted
from relmark.data.covariates import Covariates
from relmark.data.summary import CustomerSummary, require_summary
from relmark.data.units import TimeUnit
from relmark.errors import InvalidInputError
from relmark.typing import FloatArray, IntArray, WeightedLikelihood

__all__ = [
    "CovariateBGNBD",
    "CovariateMBGNBD",
    "CovariateModel",
    "CovariateParetoNBD",
    "LikelihoodRatioTest",
]

_FEW_PATTERNS = 256
"""Up to this many covariate patterns the fit always sums the plain likelihood over patterns."""
_ROWS_PER_PATTERN = 16
"""Beyond ``_FEW_PATTERNS``, patterns still win when each has at least this many rows on average."""


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


@attrs.frozen
class _Role:
    """A block of coefficients: its name, the log-parameter it shifts, the sign, its covariates."""

    name: str
    parameter: int
    sign: float
    block: str


class CovariateModel(Estimator):
    r"""The covariate driver shared by the BG/NBD, MBG/NBD and Pareto/NBD covariate models.

    A subclass names the plain model it extends (``_model``), the baseline names and the roles
    of the coefficient blocks (which log-parameter each shifts, with which sign, driven by the
    ``purchase`` or the ``dropout`` covariates); fitting, standard errors, the likelihood-ratio
    test and predictions are all here.

    A fitted model round-trips through [`relmark.io`][relmark.io] (``to_json`` /
    ``from_json``): the stored state is ``estimates_``, ``design_names_`` and the fit
    statistics below; ``names_``, ``baseline_`` and ``coefficients_`` are derived from them, so
    a payload cannot make them disagree. A fitted attribute annotated ``CovariateModel`` admits
    exactly the three covariate models (see ``_serializable_subclasses``).

    Args:
        penalizer: L2 penalty on the log-baseline parameters and the coefficients, as for the
            plain models; 0 for plain maximum likelihood.

    Attributes:
        estimates_: The estimation vector: log-baseline parameters, then the coefficients, in
            the order of ``names_``.
        baseline_: The baseline parameters (covariates 0) by name, e.g. ``{"r", "alpha0",
            "a0", "b0"}``.
        coefficients_: Coefficients by role (e.g. ``"purchase"``), each keyed by design-column
            name.
        log_likelihood_: Log-likelihood at the estimates.
        restricted_log_likelihood_: Log-likelihood of the plain model fitted to the same
            customers.
        covariance_: Covariance of the estimation vector (log-baseline parameters, then the
            coefficients in the order of ``names_``).
        names_: Names of the estimation vector's entries.
        design_names_: The design columns used, ``{"purchase": (...), "dropout": (...)}``.
        n_rows_: Distinct $(x, t_x, T, \text{pattern})$ rows the likelihood was evaluated on.
        n_patterns_: Distinct covariate patterns.
        unit_: Time unit of the fitted summary.
    """

    _model: ClassVar[type[RepeatBuyingModel]]
    _baseline_names: ClassVar[tuple[str, str, str, str]]
    _roles: ClassVar[tuple[_Role, ...]]
    _modified: ClassVar[bool | None] = None
    """For the beta-geometric models, whether the MBG/NBD's form of the per-row kernel
    (``beta_geometric_rows``) applies; ``None`` for a model without a per-row kernel."""
    _fit_hint: ClassVar[str] = "Call fit(summary, covariates) first."

    estimates_: FloatArray
    design_names_: dict[str, tuple[str, ...]]
    covariance_: FloatArray
    log_likelihood_: float
    restricted_log_likelihood_: float
    n_rows_: int
    n_patterns_: int
    unit_: TimeUnit

    def __init__(self, *, penalizer: float = 0.0) -> None:
        self.penalizer = penalizer

    @classmethod
    def _serializable_subclasses(cls) -> tuple[type[CovariateModel], ...]:
        """The classes [`relmark.io`][relmark.io] may build under an annotation of this class.

        The covariate models of this module (subclasses of ``cls``): the reader's allow-list,
        fixed by code, never by a payload.
        """
        return tuple(m for m in _COVARIATE_MODELS if issubclass(m, cls))

    def _is_fitted(self) -> bool:
        return "estimates_" in self.__dict__

    def _fitted_description(self) -> str:
        """The baseline estimates and the number of coefficients, for the repr."""
        baseline = ", ".join(f"{n}={v:.6g}" for n, v in self.baseline_.items())
        return f"{baseline}, {len(self.estimates_) - 4} coefficient(s)"

    @property
    def names_(self) -> tuple[str, ...]:
        """Names of the estimation vector's entries (baseline names, then ``role:column``)."""
        self._check_fitted("names_")
        return self._estimation_names(self.design_names_)

    @property
    def baseline_(self) -> dict[str, float]:
        """The baseline parameters (covariates 0) by name."""
        self._check_fitted("baseline_")
        return dict(zip(self._baseline_names, np.exp(self.estimates_[:4]).tolist(), strict=True))

    @property
    def coefficients_(self) -> dict[str, dict[str, float]]:
        """Coefficients by role (e.g. ``"purchase"``), each keyed by design-column name."""
        self._check_fitted("coefficients_")
        coefficients: dict[str, dict[str, float]] = {}
        start = 4
        for role in self._roles:
            columns = self.design_names_[role.block]
            values = self.estimates_[start : start + len(columns)].tolist()
            coefficients[role.name] = dict(zip(columns, values, strict=True))
            start += len(columns)
        return coefficients

    def _check_loaded(self) -> None:
        """The checks of ``fit`` on a state read by [`relmark.io`][relmark.io].

        Raises:
            InvalidInputError: For design columns, estimates or a covariance that ``fit``
                cannot produce together.
        """
        if not self._is_fitted():
            return
        owner = type(self).__name__
        design = self.design_names_
        if sorted(design) != ["dropout", "purchase"] or not any(design.values()):
            raise InvalidInputError(
                f"{owner}.design_names_ must map 'purchase' and 'dropout' to design columns, "
                f"at least one in all; got the keys {sorted(design)}."
            )
        k = len(self._estimation_names(design))
        if self.estimates_.shape != (k,) or not bool(np.isfinite(self.estimates_).all()):
            raise InvalidInputError(
                f"{owner}.estimates_ must hold {k} finite values (4 log-baseline parameters and "
                f"one coefficient per design column of each role); got shape "
                f"{self.estimates_.shape}."
            )
        if self.covariance_.shape != (k, k):
            raise InvalidInputError(
                f"{owner}.covariance_ must be a {k} x {k} matrix (one row and column per "
                f"estimate); got shape {self.covariance_.shape}."
            )
        if not 1 <= self.n_patterns_ <= self.n_rows_:
            raise InvalidInputError(
                f"{owner} must have 1 <= n_patterns_ <= n_rows_; got {self.n_patterns_} and "
                f"{self.n_rows_}."
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
            ConvergenceError: When the optimization fails (the message says what to try).
        """
        owner = type(self).__name__
        penalizer = check_real(self.penalizer, name="penalizer", owner=owner)
        summary = require_summary(summary, owner=f"{owner}.fit")
        if len(summary) == 0:
            raise InvalidInputError(f"The 'summary' argument of {owner}.fit has no customers.")
        _check_covariates(covariates)
        chosen = {
            "purchase": tuple(covariates.names if purchase is None else purchase),
            "dropout": tuple(covariates.names if dropout is None else dropout),
        }
        if not any(chosen.values()):
            raise InvalidInputError(
                f"{owner} needs at least one covariate in 'purchase' or 'dropout'; without "
                f"covariates use {self._model.__name__}."
            )
        z = _design(summary, covariates, chosen)
        roles = self._coefficient_roles(chosen)
        baseline = self._model(penalizer=penalizer).fit(summary)
        pattern, patterns = _pattern_codes(z)
        first, weights = _compress(summary, pattern, patterns.shape[0])
        x = summary.frequency.astype(np.float64)[first]
        t_x, T = summary.recency[first], summary.T[first]
        likelihood: WeightedLikelihood
        n_patterns = patterns.shape[0]
        plain = self._model
        prepare = plain._prepared_likelihood  # noqa: SLF001 - same package
        if self._modified is not None and n_patterns > max(
            _FEW_PATTERNS, first.size // _ROWS_PER_PATTERN
        ):
            kernel = functools.partial(beta_geometric_rows, modified=self._modified)
            likelihood = RowCovariateLikelihood(kernel, x, t_x, T, weights, z[first], roles)
        elif prepare is not None:
            likelihood = PatternLikelihood(
                prepare, x, t_x, T, weights, pattern[first], patterns, roles
            )
        else:  # pragma: no cover - every model served here has a prepared likelihood
            raise TypeError(f"{plain.__name__} has no prepared likelihood")
        names = self._estimation_names(chosen)
        baseline_params = baseline._params_array()  # noqa: SLF001 - same package
        start = np.concatenate([np.log(baseline_params), np.zeros(len(names) - 4)])
        ids = summary.customer_id
        result = maximize_weighted(
            likelihood,
            names,
            start,
            penalizer=penalizer,
            describe_rows=lambda bad: f"customers {ids[first[bad]][:5].tolist()}",
            advice=plain._fit_advice,  # noqa: SLF001 - same package
            max_log_standard_error=plain._max_log_standard_error,  # noqa: SLF001 - same package
        )
        self.estimates_ = np.log(result.params)
        self.design_names_ = chosen
        self.covariance_ = result.log_covariance
        self.log_likelihood_ = result.log_likelihood
        self.restricted_log_likelihood_ = baseline.log_likelihood_
        self.n_rows_ = int(first.size)
        self.n_patterns_ = int(n_patterns)
        self.unit_ = summary.unit
        return self

    def _coefficient_roles(self, chosen: dict[str, tuple[str, ...]]) -> CovariateRoles:
        p1 = len(chosen["purchase"])
        columns = {
            "purchase": tuple(range(p1)),
            "dropout": tuple(range(p1, p1 + len(chosen["dropout"]))),
        }
        return CovariateRoles(
            parameters=tuple(role.parameter for role in self._roles),
            signs=tuple(role.sign for role in self._roles),
            columns=tuple(columns[role.block] for role in self._roles),
        )

    def _estimation_names(self, chosen: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
        names = list(self._baseline_names)
        for role in self._roles:
            names.extend(f"{role.name}:{n}" for n in chosen[role.block])
        return tuple(names)

    def summary(self, level: float = 0.95) -> ParameterTable:
        r"""Estimates, standard errors and Wald intervals.

        Baseline parameters are reported on their natural scale with intervals built on the log
        scale (positive, asymmetric); coefficients on their own scale with symmetric intervals.

        Raises:
            NotFittedError: Before ``fit``.
            InvalidInputError: For a ``level`` outside $(0, 1)$.
        """
        self._check_fitted("summary")
        if not (is_real(level) and 0 < level < 1):
            raise InvalidInputError(
                f"The 'level' argument must be a number in (0, 1). Got {level!r}."
            )
        z = float(ndtri(0.5 + float(level) / 2))
        est = self.estimates_
        se = np.sqrt(np.diag(self.covariance_))
        return ParameterTable(
            names=self.names_,
            estimate=np.r_[np.exp(est[:4]), est[4:]],
            standard_error=np.r_[np.exp(est[:4]) * se[:4], se[4:]],
            lower=np.r_[np.exp(est[:4] - z * se[:4]), est[4:] - z * se[4:]],
            upper=np.r_[np.exp(est[:4] + z * se[:4]), est[4:] + z * se[4:]],
            level=float(level),
        )

    def likelihood_ratio_test(self) -> LikelihoodRatioTest:
        """Test the covariates jointly against the plain model, fitted on the same customers.

        Raises:
            NotFittedError: Before ``fit``.
        """
        self._check_fitted("likelihood_ratio_test")
        statistic = max(0.0, 2.0 * (self.log_likelihood_ - self.restricted_log_likelihood_))
        df = len(self.names_) - 4
        return LikelihoodRatioTest(statistic=statistic, df=df, p_value=float(chdtrc(df, statistic)))

    def customer_parameters(
        self, summary: CustomerSummary, covariates: Covariates
    ) -> dict[str, FloatArray]:
        r"""Each customer's parameters, keyed like the plain model's (e.g. ``r``, ``alpha``, ``a``, ``b``).

        Raises:
            NotFittedError: Before ``fit``.
            InvalidInputError: When the covariates do not match the summary's customers.
        """
        self._check_fitted("customer_parameters")
        summary = require_summary(summary, owner=f"{type(self).__name__}.customer_parameters")
        z = _design(summary, covariates, self.design_names_)
        phi = self._coefficient_roles(self.design_names_).log_parameters(self.estimates_, z)
        return dict(zip(self._model.parameter_names(), np.exp(phi).T, strict=True))

    def _by_pattern(
        self,
        method: str,
        t: ArrayLike | None,
        summary: CustomerSummary,
        covariates: Covariates,
        predict: Callable[[RepeatBuyingModel, FloatArray, CustomerSummary], ArrayLike],
    ) -> FloatArray:
        """``predict(plain_model, their_horizons, customers)`` once per covariate pattern.

        ``t`` is a horizon or one per customer (``None`` for a prediction without one); each
        pattern's customers get theirs.
        """
        self._check_fitted(method)
        owner = f"{type(self).__name__}.{method}"
        summary = require_summary(summary, owner=owner)
        horizons = np.zeros(()) if t is None else np.asarray(t, dtype=np.float64)
        if horizons.ndim > 1 or (horizons.ndim == 1 and horizons.size != len(summary)):
            raise InvalidInputError(
                f"The 't' argument of {owner} must be a scalar or hold one horizon per customer "
                f"({len(summary)}). Got shape {horizons.shape}."
            )
        pattern, patterns = _pattern_codes(_design(summary, covariates, self.design_names_))
        phi = self._coefficient_roles(self.design_names_).log_parameters(self.estimates_, patterns)
        names = self._model.parameter_names()
        out = np.empty(len(summary), dtype=np.float64)
        order = np.argsort(pattern, kind="stable")
        bounds = np.searchsorted(pattern[order], np.arange(patterns.shape[0] + 1))
        for p, theta in enumerate(np.exp(phi).tolist()):
            members = order[bounds[p] : bounds[p + 1]]
            record = self._model._params_type(**dict(zip(names, theta, strict=True)))  # noqa: SLF001
            plain = self._model._from_record(record, self.unit_)  # noqa: SLF001 - same package
            mine = horizons if horizons.ndim == 0 else horizons[members]
            out[members] = predict(plain, mine, summary.take(members))
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
            One value per customer, evaluated by the plain model once per covariate pattern.

        Raises:
            NotFittedError: Before ``fit``.
            InvalidInputError: For horizons of another shape, or covariates that do not match.
        """
        return self._by_pattern(
            "expected_purchases",
            t,
            summary,
            covariates,
            lambda model, horizons, part: model.expected_purchases(horizons, part),
        )

    def probability_of_any_purchase(
        self, t: ArrayLike, summary: CustomerSummary, covariates: Covariates
    ) -> FloatArray:
        r"""$P(X(T, T+t) \ge 1 \mid x, t_x, T, z)$: will each customer buy within the next ``t``?

        Arguments, returns and errors as for ``expected_purchases``.
        """
        return self._by_pattern(
            "probability_of_any_purchase",
            t,
            summary,
            covariates,
            lambda model, horizons, part: model.probability_of_any_purchase(horizons, part),
        )

    def probability_alive(self, summary: CustomerSummary, covariates: Covariates) -> FloatArray:
        """Probability that each customer is alive at the end of observation.

        Raises:
            NotFittedError: Before ``fit``.
            InvalidInputError: For covariates that do not match the summary's customers.
        """
        return self._by_pattern(
            "probability_alive",
            None,
            summary,
            covariates,
            lambda model, _, part: model.probability_alive(part),
        )


_BETA_GEOMETRIC_ROLES = (
    _Role("purchase", 1, -1.0, "purchase"),
    _Role("dropout_a", 2, 1.0, "dropout"),
    _Role("dropout_b", 3, 1.0, "dropout"),
)


class CovariateBGNBD(CovariateModel):
    r"""BG/NBD whose $\alpha$, $a$ and $b$ depend on each customer's covariates.

    $\alpha_i = \alpha_0 e^{-\gamma_1^\top z_{1i}}$, $a_i = a_0 e^{\gamma_2^\top z_{2i}}$,
    $b_i = b_0 e^{\gamma_3^\top z_{2i}}$ (Fader & Hardie 2007): a positive ``purchase:``
    coefficient means more purchases; a positive ``dropout_a:`` (or negative ``dropout_b:``)
    coefficient means more dropout. Baseline names ``r``, ``alpha0``, ``a0``, ``b0``.
    Fitting, predictions and the likelihood-ratio test are
    [`CovariateModel`][relmark.clv.CovariateModel]'s.

    Args:
        penalizer: L2 penalty on the log-baseline parameters and the coefficients, as for
            [`BGNBD`][relmark.clv.BGNBD]; 0 for plain maximum likelihood.

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

    _model = BGNBD
    _baseline_names = ("r", "alpha0", "a0", "b0")
    _roles = _BETA_GEOMETRIC_ROLES
    _modified = False


class CovariateMBGNBD(CovariateModel):
    r"""MBG/NBD whose $\alpha$, $a$ and $b$ depend on each customer's covariates.

    The BG/NBD links of Fader & Hardie (2007) on the MBG/NBD of Batislam, Denizel &
    Filiztekin (2007): $\alpha_i = \alpha_0 e^{-\gamma_1^\top z_{1i}}$,
    $a_i = a_0 e^{\gamma_2^\top z_{2i}}$, $b_i = b_0 e^{\gamma_3^\top z_{2i}}$. Signs read as for
    [`CovariateBGNBD`][relmark.clv.CovariateBGNBD]; baseline names ``r``, ``alpha0``, ``a0``,
    ``b0``.

    Args:
        penalizer: L2 penalty on the log-baseline parameters and the coefficients; 0 for plain
            maximum likelihood.
    """

    _model = MBGNBD
    _baseline_names = ("r", "alpha0", "a0", "b0")
    _roles = _BETA_GEOMETRIC_ROLES
    _modified = True


class CovariateParetoNBD(CovariateModel):
    r"""Pareto/NBD whose $\alpha$ and $\beta$ depend on each customer's covariates.

    $\alpha_i = \alpha_0 e^{-\gamma_1^\top z_{1i}}$ and $\beta_i = \beta_0 e^{-\gamma_2^\top z_{2i}}$
    with $r$ and $s$ common (Fader & Hardie 2007): a positive ``purchase:`` coefficient means a
    higher purchase rate $r/\alpha_i$, a positive ``dropout:`` coefficient a higher dropout rate
    $s/\beta_i$ (shorter lifetimes). Baseline names ``r``, ``alpha0``, ``s``, ``beta0``.

    The likelihood is summed over covariate patterns, so categorical covariates fit fast;
    continuous covariates (nearly one pattern per customer) are correct but slow, one plain
    likelihood evaluation per distinct value: bin them.

    Args:
        penalizer: L2 penalty on the log-baseline parameters and the coefficients, as for
            [`ParetoNBD`][relmark.clv.ParetoNBD]; 0 for plain maximum likelihood.
    """

    _model = ParetoNBD
    _baseline_names = ("r", "alpha0", "s", "beta0")
    _roles = (
        _Role("purchase", 1, -1.0, "purchase"),
        _Role("dropout", 3, -1.0, "dropout"),
    )


_COVARIATE_MODELS: tuple[type[CovariateModel], ...] = (
    CovariateBGNBD,
    CovariateMBGNBD,
    CovariateParetoNBD,
)
"""The covariate models, the allow-list of ``CovariateModel._serializable_subclasses``."""


def _check_covariates(covariates: object) -> None:
    if not isinstance(covariates, Covariates):
        raise InvalidInputError(
            "The 'covariates' argument must be a relmark Covariates (build one with "
            f"Covariates.from_frame). Got {type(covariates).__name__}."
        )


def _design(
    summary: CustomerSummary, covariates: Covariates, chosen: dict[str, tuple[str, ...]]
) -> FloatArray:
    """The purchase columns then the dropout columns, rows in the summary's order."""
    _check_covariates(covariates)
    for block in ("purchase", "dropout"):
        unknown = [n for n in chosen[block] if n not in covariates.names]
        if unknown:
            raise InvalidInputError(
                f"The {block!r} covariates {unknown} are not design columns; they are "
                f"{sorted(covariates.names)}."
            )
    aligned = covariates.align(summary)
    blocks = [
        aligned[:, [covariates.names.index(n) for n in chosen[block]]]
        for block in ("purchase", "dropout")
    ]
    return np.ascontiguousarray(np.hstack(blocks), dtype=np.float64)


def _pattern_codes(z: FloatArray) -> tuple[IntArray, FloatArray]:
    """Each row's covariate pattern and the distinct patterns (rows of ``z``), sorted."""
    if z.shape[1] == 0:
        return np.zeros(z.shape[0], dtype=np.int64), np.zeros((1, 0), dtype=np.float64)
    # One code per column, combined in mixed radix: integer work instead of a sort of rows.
    key = np.zeros(z.shape[0], dtype=np.int64)
    radix = 1
    for column in z.T:
        if np.all((column == 0.0) | (column == 1.0)):
            # A one-hot column codes itself (the common case, and no sort).
            levels, codes = 2, column.astype(np.int64)
        else:
            distinct, inverse = np.unique(column, return_inverse=True)
            levels, codes = distinct.size, inverse.reshape(-1).astype(np.int64)
        if radix * levels >= 2**62:
            patterns, rows = np.unique(z, axis=0, return_inverse=True)
            return rows.reshape(-1).astype(np.int64), patterns
        key = key * levels + codes
        radix *= levels
    first, inverse = _distinct(key, radix)
    return inverse, z[first]


def _distinct(key: IntArray, size: int) -> tuple[IntArray, IntArray]:
    """A representative element of each distinct value of ``key``, and each element's code.

    Values lie in ``[0, size)``; codes follow the values' increasing order. Any element of a
    value represents it (they share $(x, t_x, T)$ and the pattern).
    """
    if size > 4 * key.size + 1024:
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        return first.astype(np.int64), inverse.reshape(-1).astype(np.int64)
    # Few possible values: a table over them instead of a sort.
    present = np.zeros(size, dtype=bool)
    present[key] = True
    code = np.cumsum(present, dtype=np.int64) - 1
    inverse = code[key]
    representative = np.empty(int(code[-1]) + 1, dtype=np.int64)
    representative[inverse] = np.arange(key.size, dtype=np.int64)
    return representative, inverse


def _compress(
    summary: CustomerSummary, pattern: IntArray, n_patterns: int
) -> tuple[IntArray, FloatArray]:
    """Distinct (x, t_x, T, pattern) rows: a representative customer each, and their weights."""
    rows = summary.compress()
    key = rows.inverse.astype(np.int64) * n_patterns + pattern
    first, inverse = _distinct(key, len(rows) * n_patterns)
    weights = np.bincount(inverse, weights=summary.row_weights, minlength=first.size)
    return first, weights.astype(np.float64)
