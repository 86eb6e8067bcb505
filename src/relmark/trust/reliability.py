"""Reliability and validity of multi-item scales, in numpy and scipy only.

Plain functions for a respondents × items array —
[`cronbach_alpha`][relmark.trust.reliability.cronbach_alpha] (with Feldt's confidence
interval), [`mcdonald_omega`][relmark.trust.reliability.mcdonald_omega] (from a one-factor
maximum-likelihood fit), [`composite_reliability`][relmark.trust.reliability.composite_reliability]
and [`average_variance_extracted`][relmark.trust.reliability.average_variance_extracted] from
standardized loadings — and [`reliability_report`][relmark.trust.reliability.reliability_report],
which applies them to every construct of an instrument, adds item-rest correlations,
alpha-if-item-deleted and the Fornell-Larcker discriminant-validity check, and records (and by
default warns about) every missed threshold.

Missing answers (NaN) in the plain functions: respondents with any missing item are left out
(listwise deletion) and counted in the result's ``n_dropped``; pass ``missing="raise"`` to get an
error instead.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Literal

import attrs
import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize, stats

from relmark._validation import check_probability, cmp
from relmark.errors import ConvergenceError, InvalidInputError, ReliabilityWarning
from relmark.trust.instrument import Instrument
from relmark.trust.scores import ItemResponses, _matching_responses, keyed_responses
from relmark.typing import FloatArray

__all__ = [
    "AlphaResult",
    "ConstructReliability",
    "FornellLarckerCheck",
    "OmegaResult",
    "OneFactorFit",
    "ReliabilityReport",
    "ReliabilityThresholds",
    "alpha_if_item_deleted",
    "average_variance_extracted",
    "composite_reliability",
    "cronbach_alpha",
    "fit_one_factor",
    "item_rest_correlations",
    "mcdonald_omega",
    "reliability_report",
]

Missing = Literal["listwise", "raise"]


@attrs.frozen(kw_only=True)
class AlphaResult:
    r"""Cronbach's alpha with its Feldt confidence interval.

    Attributes:
        value: The point estimate $\hat\alpha$.
        ci: ``(lower, upper)`` confidence limits (Feldt 1965).
        confidence: The confidence level of ``ci``.
        n_respondents: Respondents used (complete cases).
        n_items: Items $k$.
        n_dropped: Respondents left out for missing answers.
    """

    value: float
    ci: tuple[float, float]
    confidence: float
    n_respondents: int
    n_items: int
    n_dropped: int


@attrs.frozen(kw_only=True)
class OneFactorFit:
    r"""A maximum-likelihood one-factor model $\Sigma = \lambda\lambda^\top + \Psi$.

    The sign of the factor is chosen so that $\sum_i \lambda_i \ge 0$.

    Attributes:
        loadings: Loadings $\lambda_i$ in the items' own units.
        uniquenesses: Unique variances $\psi_i$ in the items' own units.
        standardized_loadings: $\lambda_i / \sqrt{\lambda_i^2 + \psi_i}$.
        heywood: Whether some uniqueness hit its lower bound (a Heywood case; treat the
            loadings with caution).
        discrepancy: The minimized ML discrepancy
            $\log|\Sigma| + \operatorname{tr}(S\Sigma^{-1}) - \log|S| - k$.
    """

    loadings: FloatArray = attrs.field(eq=cmp)
    uniquenesses: FloatArray = attrs.field(eq=cmp)
    standardized_loadings: FloatArray = attrs.field(eq=cmp)
    heywood: bool
    discrepancy: float


@attrs.frozen(kw_only=True)
class OmegaResult:
    r"""McDonald's omega (total) from a one-factor model.

    Attributes:
        value: $\omega = (\sum\lambda_i)^2 / ((\sum\lambda_i)^2 + \sum\psi_i)$.
        factor: The fitted one-factor model.
        n_respondents: Respondents used (complete cases).
        n_items: Items $k$.
        n_dropped: Respondents left out for missing answers.
    """

    value: float
    factor: OneFactorFit
    n_respondents: int
    n_items: int
    n_dropped: int


def _item_matrix(items: ArrayLike, *, min_items: int, missing: Missing) -> tuple[FloatArray, int]:
    """Validate a respondents × items array; return complete cases and the number dropped."""
    if missing not in ("listwise", "raise"):
        raise InvalidInputError(
            f"The 'missing' parameter must be 'listwise' or 'raise'. Got {missing!r}."
        )
    try:
        x = np.asarray(items, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"The 'items' array must be numeric: {exc}") from exc
    if x.ndim != 2:
        raise InvalidInputError(
            f"The 'items' array must be two-dimensional (respondents × items); got shape {x.shape}."
        )
    if np.isinf(x).any():
        rows = np.unique(np.nonzero(np.isinf(x))[0])
        raise InvalidInputError(
            f"The 'items' array holds infinite values in row(s) {rows[:5].tolist()}."
        )
    if x.shape[1] < min_items:
        raise InvalidInputError(
            f"The 'items' array needs at least {min_items} item columns; got {x.shape[1]}."
        )
    incomplete = np.isnan(x).any(axis=1)
    if incomplete.any() and missing == "raise":
        raise InvalidInputError(
            f"The 'items' array has missing answers (NaN) in row(s) "
            f"{np.flatnonzero(incomplete)[:5].tolist()} and missing='raise'."
        )
    complete = x[~incomplete]
    if complete.shape[0] < 3:
        raise InvalidInputError(
            f"The 'items' array needs at least 3 respondents with complete answers; got "
            f"{complete.shape[0]} ({int(incomplete.sum())} dropped for missing answers)."
        )
    return complete, int(incomplete.sum())


def _alpha(x: FloatArray) -> float:
    r"""Cronbach's alpha of complete data (Cronbach 1951).

    $\alpha = \frac{k}{k-1}\left(1 - \frac{\sum_i \sigma_i^2}{\sigma_X^2}\right)$, with
    $\sigma_X^2 = \mathbf 1^\top C \mathbf 1$ the variance of the sum score and $C$ the item
    covariance matrix.
    """
    k = x.shape[1]
    cov = np.cov(x, rowvar=False)
    total = float(cov.sum())
    if total <= 0.0:
        return math.nan
    return float(k / (k - 1) * (1.0 - float(np.trace(cov)) / total))


def _feldt_interval(alpha: float, n: int, k: int, confidence: float) -> tuple[float, float]:
    r"""Feldt's (1965) confidence interval for alpha.

    Under the two-way random-effects model, $(1 - \alpha)/(1 - \hat\alpha)$ follows an
    $F$ distribution with $n - 1$ and $(n - 1)(k - 1)$ degrees of freedom (Feldt 1965; Feldt,
    Woodruff & Salih 1987), so with $\gamma = 1 - $ ``confidence``:
    $[1 - (1 - \hat\alpha)F_{1-\gamma/2},\; 1 - (1 - \hat\alpha)F_{\gamma/2}]$.
    """
    if not math.isfinite(alpha):
        return (math.nan, math.nan)
    df1 = n - 1
    df2 = (n - 1) * (k - 1)
    gamma = 1.0 - confidence
    upper_quantile = float(stats.f.ppf(1.0 - gamma / 2.0, df1, df2))
    lower_quantile = float(stats.f.ppf(gamma / 2.0, df1, df2))
    return (1.0 - (1.0 - alpha) * upper_quantile, 1.0 - (1.0 - alpha) * lower_quantile)


def cronbach_alpha(
    items: ArrayLike, *, confidence: float = 0.95, missing: Missing = "listwise"
) -> AlphaResult:
    r"""Cronbach's alpha of a respondents × items array, with a Feldt confidence interval.

    $\alpha = \frac{k}{k-1}\left(1 - \frac{\sum_i \sigma_i^2}{\sigma_X^2}\right)$
    (Cronbach 1951); the interval uses $(1-\alpha)/(1-\hat\alpha) \sim F_{n-1,(n-1)(k-1)}$
    (Feldt 1965; Feldt, Woodruff & Salih 1987).

    Args:
        items: Answers, one row per respondent, one column per item (already reverse-keyed);
            NaN for unanswered.
        confidence: Confidence level of the interval.
        missing: ``"listwise"`` drops respondents with any NaN (counted in ``n_dropped``);
            ``"raise"`` makes NaN an error.

    Returns:
        The estimate, interval and counts. ``value`` is NaN when the sum score has no variance.

    Raises:
        InvalidInputError: Fewer than 2 items or 3 complete respondents, non-numeric or infinite
            values, NaN under ``missing="raise"``, or a bad ``confidence``.

    Examples:
        >>> r = cronbach_alpha([[1, 2, 2], [2, 2, 3], [3, 4, 3], [4, 4, 5]])
        >>> round(r.value, 4)
        0.9388
    """
    level = check_probability(confidence, name="confidence")
    x, dropped = _item_matrix(items, min_items=2, missing=missing)
    n, k = x.shape
    value = _alpha(x)
    return AlphaResult(
        value=value,
        ci=_feldt_interval(value, n, k, level),
        confidence=level,
        n_respondents=n,
        n_items=k,
        n_dropped=dropped,
    )


def _ml_objective(theta: FloatArray, corr: FloatArray, logdet_s: float) -> tuple[float, FloatArray]:
    r"""ML discrepancy of a one-factor model and its gradient (Jöreskog 1967).

    $F = \log|\Sigma| + \operatorname{tr}(S\Sigma^{-1}) - \log|S| - k$ with
    $\Sigma = \lambda\lambda^\top + \operatorname{diag}(e^{\phi})$. With
    $G = \Sigma^{-1} - \Sigma^{-1}S\Sigma^{-1}$: $\partial F/\partial\lambda = 2G\lambda$
    and $\partial F/\partial\phi_i = G_{ii}e^{\phi_i}$.
    """
    k = corr.shape[0]
    lam = theta[:k]
    psi = np.exp(theta[k:])
    sigma = np.outer(lam, lam) + np.diag(psi)
    chol = np.linalg.cholesky(sigma)
    logdet = 2.0 * float(np.log(np.diag(chol)).sum())
    inv = np.linalg.inv(sigma)
    value = logdet + float(np.sum(corr * inv)) - logdet_s - k
    g = inv - inv @ corr @ inv
    grad = np.concatenate([2.0 * g @ lam, np.diag(g) * psi])
    return value, grad


def fit_one_factor(
    covariance: ArrayLike,
    *,
    min_uniqueness: float = 0.005,
    item_codes: Sequence[str] | None = None,
) -> OneFactorFit:
    r"""Fit a one-factor model to a covariance matrix by maximum likelihood.

    The ML discrepancy is scale-invariant, so the fit is done on the correlation matrix and the
    loadings and uniquenesses are scaled back to the items' units. The optimizer (L-BFGS-B with
    the analytic gradient of Jöreskog 1967) starts from the principal-axis solution; standardized
    uniquenesses are bounded below by ``min_uniqueness``.

    Args:
        covariance: A $k \times k$ covariance (or correlation) matrix, $k \ge 3$ (a one-factor
            model of two items is not identified).
        min_uniqueness: Lower bound of the standardized uniquenesses.
        item_codes: Names of the items, used in error messages (default: column positions).

    Returns:
        The fitted model, factor sign chosen so that the loadings sum to a non-negative number.

    Raises:
        InvalidInputError: A matrix that is not square, symmetric and positive definite (the
            message names items without variance), fewer than 3 items, or ``item_codes`` of
            the wrong length.
        ConvergenceError: When the optimizer fails.
    """
    s = np.asarray(covariance, dtype=np.float64)
    if s.ndim != 2 or s.shape[0] != s.shape[1]:
        raise InvalidInputError(f"The 'covariance' must be a square matrix; got shape {s.shape}.")
    k = s.shape[0]
    if k < 3:
        raise InvalidInputError(
            f"A one-factor model needs at least 3 items to be identified; got {k}."
        )
    if not np.allclose(s, s.T) or not np.isfinite(s).all():
        raise InvalidInputError("The 'covariance' must be a finite symmetric matrix.")
    names = list(range(k)) if item_codes is None else list(item_codes)
    if len(names) != k:
        raise InvalidInputError(
            f"The 'item_codes' must name the {k} items of the covariance matrix; got {len(names)}."
        )
    sd = np.sqrt(np.diag(s))
    if not (sd > 0).all():
        flat = [names[i] for i in np.flatnonzero(~(sd > 0))]
        raise InvalidInputError(f"Every item needs a positive variance; item(s) {flat} have none.")
    corr = s / np.outer(sd, sd)
    eig = np.linalg.eigvalsh(corr)
    if eig[0] <= 1e-10:
        raise InvalidInputError(
            "The item covariance matrix is singular (an item is a linear combination of others, "
            "or there are fewer respondents than items); a factor model cannot be fitted."
        )
    logdet_s = float(np.log(eig).sum())
    values, vectors = np.linalg.eigh(corr)
    start_lam = vectors[:, -1] * math.sqrt(max(values[-1] - 1.0, 0.1))
    start_psi = np.clip(1.0 - start_lam**2, 0.1, 1.0)
    theta0 = np.concatenate([start_lam, np.log(start_psi)])
    bounds = [(None, None)] * k + [(math.log(min_uniqueness), math.log(2.0))] * k
    result = optimize.minimize(
        _ml_objective,
        theta0,
        args=(corr, logdet_s),
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": 2000, "ftol": 1e-14, "gtol": 1e-10},
    )
    if not result.success and not np.all(np.abs(result.jac) < 1e-5):
        raise ConvergenceError(
            f"The one-factor ML fit did not converge: {result.message}. Check for items with "
            "(near) zero variance or perfectly collinear items."
        )
    lam = np.asarray(result.x[:k], dtype=np.float64)
    psi = np.exp(np.asarray(result.x[k:], dtype=np.float64))
    if lam.sum() < 0:
        lam = -lam
    heywood = bool((psi <= min_uniqueness * (1.0 + 1e-6)).any())
    return OneFactorFit(
        loadings=lam * sd,
        uniquenesses=psi * sd**2,
        standardized_loadings=lam / np.sqrt(lam**2 + psi),
        heywood=heywood,
        discrepancy=float(result.fun),
    )


def _omega(fit: OneFactorFit) -> float:
    r"""McDonald's (1999, ch. 6) omega: $(\sum\lambda)^2 / ((\sum\lambda)^2 + \sum\psi)$."""
    common = float(fit.loadings.sum()) ** 2
    return common / (common + float(fit.uniquenesses.sum()))


def mcdonald_omega(items: ArrayLike, *, missing: Missing = "listwise") -> OmegaResult:
    r"""McDonald's omega (total) of a respondents × items array.

    Fits a one-factor model by maximum likelihood to the item **covariance** matrix
    ([`fit_one_factor`][relmark.trust.reliability.fit_one_factor]) and returns
    $\omega = (\sum_i\lambda_i)^2 / ((\sum_i\lambda_i)^2 + \sum_i\psi_i)$ (McDonald 1999,
    ch. 6): the reliability of the unit-weighted sum of the items as given. Negative loadings
    lower omega; they usually mean an item needs reverse keying.

    Args:
        items: Answers, one row per respondent, one column per item; NaN for unanswered.
        missing: ``"listwise"`` (default) or ``"raise"``, as in
            [`cronbach_alpha`][relmark.trust.reliability.cronbach_alpha].

    Returns:
        Omega, the fitted factor model and the counts.

    Raises:
        InvalidInputError: Fewer than 3 items or 3 complete respondents, or a singular
            covariance matrix.
        ConvergenceError: When the factor model cannot be fitted.
    """
    x, dropped = _item_matrix(items, min_items=3, missing=missing)
    fit = fit_one_factor(np.cov(x, rowvar=False))
    return OmegaResult(
        value=_omega(fit),
        factor=fit,
        n_respondents=x.shape[0],
        n_items=x.shape[1],
        n_dropped=dropped,
    )


def _loadings(loadings: ArrayLike) -> FloatArray:
    lam = np.asarray(loadings, dtype=np.float64)
    if lam.ndim != 1 or lam.size == 0:
        raise InvalidInputError(
            f"The 'loadings' must be a non-empty one-dimensional array; got shape {lam.shape}."
        )
    if not np.isfinite(lam).all() or (np.abs(lam) > 1.0).any():
        raise InvalidInputError(
            f"The 'loadings' must be standardized, in [-1, 1]. Got {lam.tolist()}."
        )
    return lam


def composite_reliability(loadings: ArrayLike) -> float:
    r"""Composite (construct) reliability from standardized loadings.

    $\rho_c = (\sum\lambda_i)^2 / ((\sum\lambda_i)^2 + \sum(1 - \lambda_i^2))$
    (Jöreskog 1971; Fornell & Larcker 1981, eq. 10).

    Args:
        loadings: Standardized loadings, in $[-1, 1]$.

    Raises:
        InvalidInputError: Loadings outside $[-1, 1]$ or not one-dimensional.

    Examples:
        >>> round(composite_reliability([0.7, 0.8, 0.9]), 4)
        0.8446
    """
    lam = _loadings(loadings)
    common = float(lam.sum()) ** 2
    return common / (common + float((1.0 - lam**2).sum()))


def average_variance_extracted(loadings: ArrayLike) -> float:
    r"""Average variance extracted: $\text{AVE} = \frac{1}{k}\sum\lambda_i^2$ (standardized).

    Fornell & Larcker (1981, eq. 11) with standardized loadings, so the error variances are
    $1 - \lambda_i^2$ and the denominator is $k$.

    Args:
        loadings: Standardized loadings, in $[-1, 1]$.

    Raises:
        InvalidInputError: Loadings outside $[-1, 1]$ or not one-dimensional.

    Examples:
        >>> round(average_variance_extracted([0.7, 0.8, 0.9]), 4)
        0.6467
    """
    lam = _loadings(loadings)
    return float((lam**2).mean())


def item_rest_correlations(items: ArrayLike, *, missing: Missing = "listwise") -> FloatArray:
    """Correlation of each item with the sum of the *other* items (corrected item-total).

    Args:
        items: Answers, one row per respondent, one column per item; NaN for unanswered.
        missing: ``"listwise"`` (default) or ``"raise"``.

    Returns:
        One correlation per item (NaN for an item without variance).
    """
    x, _ = _item_matrix(items, min_items=2, missing=missing)
    return _item_rest(x)


def _item_rest(x: FloatArray) -> FloatArray:
    total = x.sum(axis=1)
    out = np.empty(x.shape[1])
    for i in range(x.shape[1]):
        rest = total - x[:, i]
        a = x[:, i] - x[:, i].mean()
        b = rest - rest.mean()
        denom = math.sqrt(float(a @ a) * float(b @ b))
        out[i] = float(a @ b) / denom if denom > 0 else math.nan
    return out


def alpha_if_item_deleted(items: ArrayLike, *, missing: Missing = "listwise") -> FloatArray:
    """Cronbach's alpha of the scale with each item left out in turn.

    Args:
        items: Answers, one row per respondent, at least 3 item columns; NaN for unanswered.
        missing: ``"listwise"`` (default) or ``"raise"``.

    Returns:
        One alpha per deleted item.
    """
    x, _ = _item_matrix(items, min_items=3, missing=missing)
    return _alpha_deleted(x)


def _alpha_deleted(x: FloatArray) -> FloatArray:
    k = x.shape[1]
    if k < 3:
        return np.full(k, math.nan)
    return np.array([_alpha(np.delete(x, i, axis=1)) for i in range(k)])


@attrs.frozen(kw_only=True)
class ReliabilityThresholds:
    """Conventional minimums; a construct below one gets a warning.

    Attributes:
        alpha: Minimum Cronbach's alpha (0.7, Nunnally 1978).
        composite_reliability: Minimum composite reliability (0.7; Bagozzi & Yi 1988).
        ave: Minimum average variance extracted (0.5; Fornell & Larcker 1981).
    """

    alpha: float = 0.7
    composite_reliability: float = 0.7
    ave: float = 0.5


@attrs.frozen(kw_only=True)
class ConstructReliability:
    """Reliability of one construct's items (complete cases of that construct).

    Statistics that need more items than the construct has are NaN: alpha needs 2 items,
    omega, composite reliability, AVE and loadings need 3.

    Attributes:
        construct: Construct name.
        item_codes: Its items, in order.
        n_respondents: Respondents who answered every item of the construct.
        alpha: Cronbach's alpha.
        alpha_ci: Feldt confidence interval of alpha.
        omega: McDonald's omega (ML one-factor model on the covariance matrix).
        composite_reliability: From the standardized loadings.
        ave: Average variance extracted, from the standardized loadings.
        loadings: Standardized loadings of the one-factor model.
        item_rest: Item-rest correlations.
        alpha_if_deleted: Alpha with each item left out.
        warnings: Every threshold this construct missed, as sentences.
    """

    construct: str
    item_codes: tuple[str, ...]
    n_respondents: int
    alpha: float
    alpha_ci: tuple[float, float]
    omega: float
    composite_reliability: float
    ave: float
    loadings: FloatArray = attrs.field(eq=cmp)
    item_rest: FloatArray = attrs.field(eq=cmp)
    alpha_if_deleted: FloatArray = attrs.field(eq=cmp)
    warnings: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class FornellLarckerCheck:
    r"""Fornell-Larcker discriminant validity for one pair of constructs.

    Passed when each construct's $\sqrt{\text{AVE}}$ exceeds the absolute correlation of the
    two construct scores.

    Attributes:
        first: First construct.
        second: Second construct.
        correlation: Correlation of the two construct scores (pairwise complete cases).
        sqrt_ave_first: $\sqrt{\text{AVE}}$ of the first construct.
        sqrt_ave_second: $\sqrt{\text{AVE}}$ of the second construct.
        passed: Whether both square roots exceed $|r|$.
    """

    first: str
    second: str
    correlation: float
    sqrt_ave_first: float
    sqrt_ave_second: float
    passed: bool


@attrs.frozen(kw_only=True)
class ReliabilityReport:
    """Reliability per construct, discriminant validity across constructs, and all warnings.

    Attributes:
        constructs: One [`ConstructReliability`][relmark.trust.reliability.ConstructReliability]
            per construct, in instrument order.
        correlations: Correlations between the construct scores (means of the complete-case
            items, pairwise complete cases), in construct order.
        fornell_larcker: One check per pair of constructs that both have an AVE.
        thresholds: The thresholds applied.
        warnings: Every warning of the report (construct-level and discriminant validity).
    """

    constructs: tuple[ConstructReliability, ...]
    correlations: FloatArray = attrs.field(eq=cmp)
    fornell_larcker: tuple[FornellLarckerCheck, ...]
    thresholds: ReliabilityThresholds
    warnings: tuple[str, ...]

    def construct(self, name: str) -> ConstructReliability:
        """The reliability entry of construct ``name``.

        Raises:
            InvalidInputError: When the report has no such construct.
        """
        for entry in self.constructs:
            if entry.construct == name:
                return entry
        raise InvalidInputError(
            f"The report has no construct {name!r}. "
            f"Available: {[e.construct for e in self.constructs]}."
        )


def _construct_factor(
    name: str, codes: tuple[str, ...], complete: FloatArray, notes: list[str]
) -> OneFactorFit | None:
    """The construct's one-factor fit, or ``None`` with a note naming why it cannot be fitted."""
    try:
        return fit_one_factor(np.cov(complete, rowvar=False), item_codes=codes)
    except (InvalidInputError, ConvergenceError) as exc:
        notes.append(
            f"Construct {name!r} (items {list(codes)}): no one-factor model could be fitted on "
            f"its {complete.shape[0]} complete respondent(s), so omega, composite reliability, "
            f"AVE and loadings are NaN. {exc}"
        )
        return None


def _construct_reliability(
    name: str,
    codes: tuple[str, ...],
    block: FloatArray,
    thresholds: ReliabilityThresholds,
    confidence: float,
) -> ConstructReliability:
    complete = block[~np.isnan(block).any(axis=1)]
    n, k = complete.shape
    nan3 = np.full(k, math.nan)
    notes: list[str] = []
    alpha, ci = math.nan, (math.nan, math.nan)
    omega = cr = ave = math.nan
    loadings, item_rest, deleted = nan3, nan3.copy(), nan3.copy()
    if n < 3:
        notes.append(
            f"Construct {name!r}: only {n} respondent(s) answered every item; no reliability "
            "statistics."
        )
    elif k >= 2:
        alpha = _alpha(complete)
        ci = _feldt_interval(alpha, n, k, confidence)
        item_rest = _item_rest(complete)
        deleted = _alpha_deleted(complete)
        fit = _construct_factor(name, codes, complete, notes) if k >= 3 else None
        if fit is not None:
            omega = _omega(fit)
            loadings = fit.standardized_loadings
            cr = composite_reliability(loadings)
            ave = average_variance_extracted(loadings)
            negative = [codes[i] for i in np.flatnonzero(loadings < 0)]
            if negative:
                notes.append(
                    f"Construct {name!r}: loadings have mixed signs; item(s) {negative} load "
                    "negatively and probably need reverse keying."
                )
            if fit.heywood:
                notes.append(
                    f"Construct {name!r}: the one-factor fit is a Heywood case (a uniqueness at "
                    "its lower bound); treat loadings, omega, CR and AVE with caution."
                )
    else:
        notes.append(f"Construct {name!r} has a single item; no reliability statistics.")
    for label, value, minimum in (
        ("Cronbach's alpha", alpha, thresholds.alpha),
        ("composite reliability", cr, thresholds.composite_reliability),
        ("AVE", ave, thresholds.ave),
    ):
        if math.isfinite(value) and value < minimum:
            notes.append(f"Construct {name!r}: {label} {value:.3f} is below {minimum:g}.")
    return ConstructReliability(
        construct=name,
        item_codes=codes,
        n_respondents=n,
        alpha=alpha,
        alpha_ci=ci,
        omega=omega,
        composite_reliability=cr,
        ave=ave,
        loadings=loadings,
        item_rest=item_rest,
        alpha_if_deleted=deleted,
        warnings=tuple(notes),
    )


def _pairwise_correlations(scores: FloatArray) -> FloatArray:
    c = scores.shape[1]
    out = np.eye(c)
    for a in range(c):
        for b in range(a + 1, c):
            ok = ~np.isnan(scores[:, a]) & ~np.isnan(scores[:, b])
            r = math.nan
            if ok.sum() >= 3:
                x, y = scores[ok, a], scores[ok, b]
                x = x - x.mean()
                y = y - y.mean()
                denom = math.sqrt(float(x @ x) * float(y @ y))
                r = float(x @ y) / denom if denom > 0 else math.nan
            out[a, b] = out[b, a] = r
    return out


def reliability_report(
    instrument: Instrument,
    responses: Mapping[str, ArrayLike] | ArrayLike | ItemResponses,
    *,
    respondent_id: ArrayLike | None = None,
    item_codes: Sequence[str] | None = None,
    thresholds: ReliabilityThresholds | None = None,
    confidence: float = 0.95,
    warn: bool = True,
) -> ReliabilityReport:
    r"""Reliability of every construct of an instrument, and discriminant validity across them.

    Each construct is analysed on the respondents who answered all of its items (after reverse
    keying): alpha with Feldt interval, omega, standardized loadings of an ML one-factor model,
    composite reliability, AVE, item-rest correlations and alpha-if-item-deleted. The
    Fornell-Larcker check compares $\sqrt{\text{AVE}}$ with the correlations of the construct
    scores (item means). Those composite correlations are attenuated by measurement error, so
    the check is more lenient than with latent correlations from a full CFA.

    Every missed threshold (alpha or CR below 0.7, AVE below 0.5 by default), mixed-sign
    loadings, Heywood cases and failed Fornell-Larcker pairs are recorded on the report's
    ``warnings`` and, when ``warn`` is true, also emitted as
    [`ReliabilityWarning`][relmark.errors.ReliabilityWarning]s.

    Args:
        instrument: Constructs and items.
        responses: As for [`score_constructs`][relmark.trust.scores.score_constructs].
        respondent_id: Identifiers, one per row.
        item_codes: Column names of an array ``responses``.
        thresholds: Minimums to check (default
            [`ReliabilityThresholds()`][relmark.trust.reliability.ReliabilityThresholds]).
        confidence: Confidence level of the alpha intervals.
        warn: Whether to emit the warnings as well as record them.

    Returns:
        The report.

    Raises:
        InvalidInputError: Invalid responses (see
            [`keyed_responses`][relmark.trust.scores.keyed_responses]), an
            [`ItemResponses`][relmark.trust.scores.ItemResponses] of other items than the
            instrument's, or a bad ``confidence``.
    """
    level = check_probability(confidence, name="confidence")
    limits = ReliabilityThresholds() if thresholds is None else thresholds
    keyed = (
        _matching_responses(instrument, responses)
        if isinstance(responses, ItemResponses)
        else keyed_responses(
            instrument, responses, respondent_id=respondent_id, item_codes=item_codes
        )
    )
    entries: list[ConstructReliability] = []
    composite: list[FloatArray] = []
    for construct in instrument.constructs:
        block = keyed.columns(construct.item_codes)
        entries.append(
            _construct_reliability(construct.name, construct.item_codes, block, limits, level)
        )
        complete = ~np.isnan(block).any(axis=1)
        composite.append(np.where(complete, block.mean(axis=1), np.nan))
    correlations = _pairwise_correlations(np.column_stack(composite))
    checks: list[FornellLarckerCheck] = []
    notes = [note for entry in entries for note in entry.warnings]
    for a, first in enumerate(entries):
        for b in range(a + 1, len(entries)):
            second = entries[b]
            r = float(correlations[a, b])
            if not (math.isfinite(first.ave) and math.isfinite(second.ave) and math.isfinite(r)):
                continue
            ra, rb = math.sqrt(first.ave), math.sqrt(second.ave)
            passed = ra > abs(r) and rb > abs(r)
            checks.append(
                FornellLarckerCheck(
                    first=first.construct,
                    second=second.construct,
                    correlation=r,
                    sqrt_ave_first=ra,
                    sqrt_ave_second=rb,
                    passed=passed,
                )
            )
            if not passed:
                notes.append(
                    f"Constructs {first.construct!r} and {second.construct!r} fail the "
                    f"Fornell-Larcker check: |r| = {abs(r):.3f} is not below both sqrt(AVE) "
                    f"({ra:.3f}, {rb:.3f})."
                )
    if warn:
        for note in notes:
            warnings.warn(note, ReliabilityWarning, stacklevel=2)
    return ReliabilityReport(
        constructs=tuple(entries),
        correlations=correlations,
        fornell_larcker=tuple(checks),
        thresholds=limits,
        warnings=tuple(notes),
    )
