"""Path analysis of hypothesised construct relationships, and the KMV-versus-rival comparison.

[`fit_path_model`][relmark.trust.paths.fit_path_model] estimates a recursive path model on
construct scores: each construct that some path points to is regressed by ordinary least squares
on all constructs pointing to it, after every construct score is standardized (mean 0, SD 1), so
the coefficients are standardized path coefficients. Standard errors are the usual OLS ones on the
standardized scores (treating the sample SDs as fixed, the common practice).

This is a **path analysis on composite scores, not a latent-variable SEM**: measurement error in
the construct scores is not modelled, so coefficients are biased — mostly towards zero, and more
so for less reliable constructs — and there is no global fit index such as CFI. The bias is not
small at the reliabilities surveys reach: in Monte Carlo studies from a latent KMV model with
construct reliabilities of about 0.7-0.85 (issue 19; ``benchmarks/bench_sem.py``), the thirteen
paths were off by 15-18 % on average (up to 26-40 %), 95 % intervals covered the truth in only
0.41-0.51 of the samples at N = 1,000, and the rival test rejected the true (fully mediated)
model in about 60 % of them — more often the more respondents there were. Use it to
describe a sample; for claims about a theory use the latent
[`fit_sem`][relmark.trust.sem.fit_sem] (Morgan & Hunt 1994 estimated the KMV model as a full
SEM), or at least the corrected
[`fit_disattenuated_path_model`][relmark.trust.disattenuated.fit_disattenuated_path_model].

[`compare_with_rival`][relmark.trust.paths.compare_with_rival] repeats Morgan & Hunt's test of
the KMV model against a rival in which trust and commitment do not mediate: each outcome is
regressed directly on every antecedent and on trust and commitment.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import attrs
import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from relmark._validation import check_probability
from relmark.errors import InvalidInputError
from relmark.trust.instrument import Instrument, PathSign, StructuralPath
from relmark.trust.scores import ConstructScores
from relmark.typing import FloatArray

__all__ = [
    "EquationFit",
    "ModelComparison",
    "PathEstimate",
    "PathModelResult",
    "compare_with_rival",
    "fit_path_model",
    "rival_paths",
]


@attrs.frozen(kw_only=True)
class PathEstimate:
    r"""One estimated path.

    Attributes:
        source: Influencing construct.
        target: Influenced construct.
        hypothesised_sign: The sign the theory predicts, or ``None`` for an unhypothesised path.
        coefficient: Standardized path coefficient $\beta$.
        standard_error: OLS standard error of $\beta$.
        t_value: $\beta / \text{SE}$.
        p_value: Two-sided p-value from the $t$ distribution with $n - p - 1$ degrees of freedom.
        sign_holds: Whether $\beta$ has the hypothesised sign (``None`` without a hypothesis).
        supported: Whether the sign holds *and* ``p_value`` is below the significance level
            (``None`` without a hypothesis).
    """

    source: str
    target: str
    hypothesised_sign: PathSign | None
    coefficient: float
    standard_error: float
    t_value: float
    p_value: float
    sign_holds: bool | None
    supported: bool | None


@attrs.frozen(kw_only=True)
class EquationFit:
    """Fit of one structural equation (one endogenous construct).

    Attributes:
        target: The endogenous construct.
        predictors: The constructs it is regressed on.
        r_squared: Share of its variance explained.
        log_likelihood: Gaussian log-likelihood at the ML residual variance.
        n_parameters: Coefficients + intercept + residual variance.
    """

    target: str
    predictors: tuple[str, ...]
    r_squared: float
    log_likelihood: float
    n_parameters: int


@attrs.frozen(kw_only=True)
class PathModelResult:
    """A fitted path model.

    Attributes:
        paths: One estimate per path, in the order given.
        equations: One fit per endogenous construct, in order of first appearance as a target.
        n_respondents: Respondents used (those with every construct of the model scored).
        n_dropped: Respondents left out for a missing construct score.
        significance: The level used for ``supported``.
    """

    paths: tuple[PathEstimate, ...]
    equations: tuple[EquationFit, ...]
    n_respondents: int
    n_dropped: int
    significance: float

    def path(self, source: str, target: str) -> PathEstimate:
        """The estimate of path ``source -> target``.

        Raises:
            InvalidInputError: When the model has no such path.
        """
        for p in self.paths:
            if p.source == source and p.target == target:
                return p
        raise InvalidInputError(f"The model has no path {source!r} -> {target!r}.")

    @property
    def r_squared(self) -> dict[str, float]:
        """$R^2$ per endogenous construct."""
        return {e.target: e.r_squared for e in self.equations}

    @property
    def n_hypothesised(self) -> int:
        """Number of paths with a hypothesised sign."""
        return sum(p.hypothesised_sign is not None for p in self.paths)

    @property
    def n_supported(self) -> int:
        """Number of hypothesised paths with the right sign and significant."""
        return sum(bool(p.supported) for p in self.paths)


def _score_columns(
    scores: ConstructScores | Mapping[str, ArrayLike], names: Sequence[str]
) -> dict[str, FloatArray]:
    columns: dict[str, FloatArray] = {}
    if isinstance(scores, ConstructScores):
        for name in names:
            columns[name] = scores.score(name)
        return columns
    if not isinstance(scores, Mapping):
        raise InvalidInputError(
            "The 'scores' argument must be ConstructScores or a mapping from construct name to "
            f"scores. Got {type(scores).__name__}."
        )
    missing = [name for name in names if name not in scores]
    if missing:
        raise InvalidInputError(
            f"The 'scores' lack construct(s) {missing} named by the paths. "
            f"Available: {sorted(scores)}."
        )
    for name in names:
        try:
            col = np.asarray(scores[name], dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise InvalidInputError(f"Scores of construct {name!r} must be numeric: {exc}") from exc
        if col.ndim != 1:
            raise InvalidInputError(
                f"Scores of construct {name!r} must be one-dimensional; got shape {col.shape}."
            )
        columns[name] = col
    lengths = {name: col.size for name, col in columns.items()}
    if len(set(lengths.values())) > 1:
        raise InvalidInputError(
            f"All construct score columns must have equal length; got {lengths}."
        )
    return columns


def _check_recursive(paths: Sequence[StructuralPath]) -> None:
    """Reject feedback loops: per-equation OLS is only consistent for recursive models."""
    parents: dict[str, set[str]] = {}
    for p in paths:
        parents.setdefault(p.target, set()).add(p.source)
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        if state.get(node) == 2:
            return
        if state.get(node) == 1:
            cycle = " -> ".join([*trail[trail.index(node) :], node])
            raise InvalidInputError(
                f"The paths form a feedback loop ({cycle}); only recursive (acyclic) path "
                "models can be estimated equation by equation."
            )
        state[node] = 1
        for parent in sorted(parents.get(node, ())):
            visit(parent, [*trail, node])
        state[node] = 2

    for node in sorted(parents):
        visit(node, [])


def _ols(y: FloatArray, x: FloatArray) -> tuple[FloatArray, FloatArray, float, float, int]:
    r"""OLS of standardized ``y`` on standardized ``x`` (with an intercept).

    Returns coefficients, standard errors $\sqrt{\operatorname{diag}(s^2 (X^\top X)^{-1})}$
    with $s^2 = \text{RSS}/(n - p - 1)$, $R^2$, the Gaussian log-likelihood at
    $\hat\sigma^2 = \text{RSS}/n$, and the residual degrees of freedom.
    """
    n, p = x.shape
    design = np.column_stack([np.ones(n), x])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    resid = y - design @ coef
    rss = float(resid @ resid)
    tss = float(((y - y.mean()) ** 2).sum())
    dof = n - p - 1
    s2 = rss / dof
    xtx_inv = np.linalg.inv(design.T @ design)
    se = np.sqrt(np.diag(xtx_inv) * s2)
    sigma2 = max(rss / n, np.finfo(float).tiny)
    loglik = -0.5 * n * (math.log(2.0 * math.pi * sigma2) + 1.0)
    beta: FloatArray = np.asarray(coef[1:], dtype=np.float64)
    errors: FloatArray = np.asarray(se[1:], dtype=np.float64)
    return beta, errors, 1.0 - rss / tss, float(loglik), int(dof)


def _check_independent(x: FloatArray, sources: Sequence[str], target: str, n: int) -> None:
    """Refuse perfectly collinear sources of one target, naming the constructs involved.

    The columns of ``x`` are centred, so the design with an intercept is of full rank exactly
    when ``x`` is; a singular value at the ``numpy.linalg.matrix_rank`` tolerance marks a linear
    dependence, and its right singular vector says which sources take part in it.
    """
    _, singular, vt = np.linalg.svd(x, full_matrices=False)
    tolerance = float(singular.max(initial=0.0)) * max(x.shape) * float(np.finfo(np.float64).eps)
    null = vt[singular <= tolerance]
    if null.size:
        involved = [sources[int(j)] for j in np.flatnonzero((np.abs(null) > 1e-8).any(axis=0))]
        raise InvalidInputError(
            f"The sources of {target!r} are perfectly collinear among the {n} complete "
            f"respondents: construct scores {involved} are linear combinations of each other, "
            "so their paths cannot be separated; drop or merge one of them."
        )


def fit_path_model(
    scores: ConstructScores | Mapping[str, ArrayLike],
    paths: Sequence[StructuralPath],
    *,
    significance: float = 0.05,
) -> PathModelResult:
    """Estimate a recursive path model by standardized OLS, one regression per endogenous construct.

    Every construct named by a path is standardized on the respondents who have all of them
    scored; each target is then regressed on all of its sources. See the module docs for what
    this does and does not model.

    Args:
        scores: Construct scores (from
            [`score_constructs`][relmark.trust.scores.score_constructs]) or a mapping from
            construct name to one score per respondent (NaN for missing).
        paths: The paths to estimate (signs are the hypotheses checked).
        significance: Level below which a correctly signed path counts as supported.

    Returns:
        Path estimates, $R^2$ per endogenous construct and the sample used.

    Raises:
        InvalidInputError: No paths, a feedback loop, constructs missing from ``scores``, too few
            complete respondents, a construct without variance, perfectly collinear sources of
            one target (named in the message), or a bad ``significance``.
    """
    level = check_probability(significance, name="significance")
    path_list = list(paths)
    if not path_list:
        raise InvalidInputError(
            "The 'paths' argument must hold at least one StructuralPath. Got none."
        )
    _check_recursive(path_list)
    names = list(dict.fromkeys(n for p in path_list for n in (p.source, p.target)))
    columns = _score_columns(scores, names)
    data = np.column_stack([columns[n] for n in names])
    complete = ~np.isnan(data).any(axis=1)
    n = int(complete.sum())
    targets = list(dict.fromkeys(p.target for p in path_list))
    widest = max(sum(p.target == t for p in path_list) for t in targets)
    if n < widest + 3:
        raise InvalidInputError(
            f"The path model needs at least {widest + 3} respondents with every construct "
            f"scored; got {n} ({int((~complete).sum())} left out for missing scores)."
        )
    used = data[complete]
    sd = used.std(axis=0, ddof=1)
    flat = [names[j] for j in np.flatnonzero(~(sd > 0))]
    if flat:
        raise InvalidInputError(
            f"Construct(s) {flat} have no variance among the {n} complete respondents; they "
            "cannot enter a path model."
        )
    z = (used - used.mean(axis=0)) / sd
    position = {name: j for j, name in enumerate(names)}
    estimates: dict[tuple[str, str], PathEstimate] = {}
    equations: list[EquationFit] = []
    for target in targets:
        incoming = [p for p in path_list if p.target == target]
        x = z[:, [position[p.source] for p in incoming]]
        _check_independent(x, [p.source for p in incoming], target, n)
        coef, se, r2, loglik, dof = _ols(z[:, position[target]], x)
        equations.append(
            EquationFit(
                target=target,
                predictors=tuple(p.source for p in incoming),
                r_squared=r2,
                log_likelihood=loglik,
                n_parameters=len(incoming) + 2,
            )
        )
        for p, b, s in zip(incoming, coef, se, strict=True):
            t_value = float(b / s) if s > 0 else math.copysign(math.inf, float(b))
            p_value = float(2.0 * stats.t.sf(abs(t_value), dof))
            holds = None if p.sign is None else bool(np.sign(b) == p.sign.value)
            estimates[(p.source, p.target)] = PathEstimate(
                source=p.source,
                target=p.target,
                hypothesised_sign=p.sign,
                coefficient=float(b),
                standard_error=float(s),
                t_value=t_value,
                p_value=p_value,
                sign_holds=holds,
                supported=None if holds is None else holds and p_value < level,
            )
    return PathModelResult(
        paths=tuple(estimates[(p.source, p.target)] for p in path_list),
        equations=tuple(equations),
        n_respondents=n,
        n_dropped=int((~complete).sum()),
        significance=level,
    )


def _roles(paths: Sequence[StructuralPath]) -> tuple[list[str], list[str], list[str]]:
    sources = list(dict.fromkeys(p.source for p in paths))
    targets = list(dict.fromkeys(p.target for p in paths))
    antecedents = [s for s in sources if s not in targets]
    mediators = [s for s in sources if s in targets]
    outcomes = [t for t in targets if t not in sources]
    return antecedents, mediators, outcomes


def rival_paths(paths: Sequence[StructuralPath]) -> tuple[StructuralPath, ...]:
    """The direct-effects rival of a mediating model.

    Constructs that are only sources are *antecedents*, those that are sources and targets are
    *mediators*, those only targets are *outcomes*. The rival regresses every outcome on every
    antecedent and every mediator, so the mediators are two more direct causes rather than
    mediators (after Morgan & Hunt's 1994 rival model). Paths the original model hypothesised keep
    their signs; the added direct paths have ``sign=None`` (unhypothesised).

    Args:
        paths: The mediating model's paths.

    Returns:
        The rival's paths.

    Raises:
        InvalidInputError: When the model has no mediator or no outcome.
    """
    antecedents, mediators, outcomes = _roles(paths)
    if not mediators or not outcomes:
        raise InvalidInputError(
            "A direct-effects rival needs a model with mediators (constructs both caused and "
            f"causing) and outcomes; got mediators {mediators} and outcomes {outcomes}."
        )
    signs = {(p.source, p.target): p.sign for p in paths}
    return tuple(
        StructuralPath(source=source, target=outcome, sign=signs.get((source, outcome)))
        for outcome in outcomes
        for source in [*antecedents, *mediators]
    )


@attrs.frozen(kw_only=True)
class ModelComparison:
    r"""A mediating model against its direct-effects rival (Morgan & Hunt 1994, Table 5).

    The likelihood comparison is over the outcome equations only, conditional on antecedents and
    mediators: there the mediating model is nested in the rival (it fixes the direct antecedent
    paths at zero), so a likelihood-ratio test applies.

    Attributes:
        model: The mediating model's fit.
        rival: The rival's fit.
        outcome_r_squared_model: $R^2$ per outcome under the mediating model.
        outcome_r_squared_rival: $R^2$ per outcome under the rival.
        aic_model: AIC of the mediating model's outcome equations.
        aic_rival: AIC of the rival's outcome equations.
        bic_model: BIC of the mediating model's outcome equations.
        bic_rival: BIC of the rival's outcome equations.
        lr_statistic: $2(\ell_\text{rival} - \ell_\text{model})$.
        lr_df: Extra parameters of the rival.
        lr_p_value: $\chi^2$ p-value of ``lr_statistic``.
        rival_significant_direct_paths: Rival paths that the mediating model lacks and that are
            significant at the level (evidence against full mediation).
    """

    model: PathModelResult
    rival: PathModelResult
    outcome_r_squared_model: dict[str, float]
    outcome_r_squared_rival: dict[str, float]
    aic_model: float
    aic_rival: float
    bic_model: float
    bic_rival: float
    lr_statistic: float
    lr_df: int
    lr_p_value: float
    rival_significant_direct_paths: int


def _information(result: PathModelResult, outcomes: Sequence[str]) -> tuple[float, float, float]:
    n = result.n_respondents
    eqs = [e for e in result.equations if e.target in outcomes]
    loglik = sum(e.log_likelihood for e in eqs)
    k = sum(e.n_parameters for e in eqs)
    return loglik, 2.0 * k - 2.0 * loglik, k * math.log(n) - 2.0 * loglik


def compare_with_rival(
    scores: ConstructScores | Mapping[str, ArrayLike],
    model: Instrument | Sequence[StructuralPath],
    *,
    significance: float = 0.05,
) -> ModelComparison:
    """Fit a mediating path model and its direct-effects rival on the same respondents.

    Both models are fitted on the respondents who have every construct scored. Compare them by
    outcome $R^2$, AIC/BIC of the outcome equations, the likelihood-ratio test of the direct
    paths, and the number of hypothesised paths supported (``comparison.model.n_supported``).

    Args:
        scores: Construct scores or a mapping from construct name to scores.
        model: An instrument with paths (such as
            [`default_kmv_instrument`][relmark.trust.instrument.default_kmv_instrument]) or the
            paths themselves.
        significance: Level for supported paths and significant direct paths.

    Returns:
        Both fits and the comparison statistics.

    Raises:
        InvalidInputError: As [`fit_path_model`][relmark.trust.paths.fit_path_model], or a model
            without mediators.
    """
    level = check_probability(significance, name="significance")
    paths = tuple(model.paths) if isinstance(model, Instrument) else tuple(model)
    rival = rival_paths(paths)
    names = list(dict.fromkeys(n for p in paths for n in (p.source, p.target)))
    columns = _score_columns(scores, names)
    stacked = np.column_stack([columns[n] for n in names])
    complete = ~np.isnan(stacked).any(axis=1)
    common = {name: np.where(complete, columns[name], np.nan) for name in names}
    fitted = fit_path_model(common, paths, significance=level)
    fitted_rival = fit_path_model(common, rival, significance=level)
    _, _, outcomes = _roles(paths)
    ll_model, aic_model, bic_model = _information(fitted, outcomes)
    ll_rival, aic_rival, bic_rival = _information(fitted_rival, outcomes)
    original = {(p.source, p.target) for p in paths}
    lr_df = sum((p.source, p.target) not in original for p in rival)
    lr = max(2.0 * (ll_rival - ll_model), 0.0)
    direct = sum(
        (p.source, p.target) not in original and p.p_value < level for p in fitted_rival.paths
    )
    return ModelComparison(
        model=fitted,
        rival=fitted_rival,
        outcome_r_squared_model={o: fitted.r_squared[o] for o in outcomes},
        outcome_r_squared_rival={o: fitted_rival.r_squared[o] for o in outcomes},
        aic_model=aic_model,
        aic_rival=aic_rival,
        bic_model=bic_model,
        bic_rival=bic_rival,
        lr_statistic=lr,
        lr_df=lr_df,
        lr_p_value=float(stats.chi2.sf(lr, lr_df)) if lr_df > 0 else math.nan,
        rival_significant_direct_paths=int(direct),
    )
