r"""Latent-variable structural equation models by maximum likelihood, with fit indices.

A [`SEMSpecification`][relmark.trust.sem.SEMSpecification] is data: which items measure which
construct, the directed paths between constructs and the disturbance covariances allowed
(none unless listed). [`kmv_model`][relmark.trust.sem.kmv_model] and
[`kmv_rival_model`][relmark.trust.sem.kmv_rival_model] build Morgan & Hunt's (1994) key
mediating variable model and its direct-effects rival from an instrument; any other structure
(suppliers, B2B partners) is written the same way with
[`SEMSpecification.from_instrument`][relmark.trust.sem.SEMSpecification.from_instrument].

The model is the LISREL model with all variables endogenous (Jöreskog 1973; Bollen 1989,
ch. 8): items $y = \Lambda\eta + \varepsilon$, constructs $\eta = B\eta + \zeta$, so

$$\Sigma(\theta) = \Lambda (I - B)^{-1} \Psi (I - B)^{-\top} \Lambda^\top + \Theta,$$

with $\Psi = \operatorname{Cov}(\zeta)$ (free variances and covariances among the exogenous
constructs, free disturbance variances of the endogenous ones, disturbance covariances only
where specified) and $\Theta$ diagonal. [`fit_sem`][relmark.trust.sem.fit_sem] minimises the
ML discrepancy (Bollen 1989, eq. 4.67)

$$F(\theta) = \ln|\Sigma(\theta)| + \operatorname{tr}(S\Sigma(\theta)^{-1}) - \ln|S| - p$$

by Fisher scoring with the analytic gradient, with $S$ the sample covariance (divisor $N$);
standard errors come from the expected information, and $\chi^2 = N F_{\min}$. The fit
indices follow their definitions: CFI (Bentler 1990), TLI (Tucker & Lewis 1973), RMSEA with
its 90 % interval (Steiger 1990; Browne & Cudeck 1993), SRMR (Bentler 1995) and AIC/BIC from
the normal log-likelihood. The numbers agree with lavaan's ``sem()`` (ML, expected
information, uncorrelated disturbances) to 1e-4 on the pinned oracle data of the test suite.

Identification is the user's choice: ``"marker"`` fixes each construct's first loading to 1,
``"unit_variance"`` fixes each construct's (disturbance) variance to 1 and frees every loading
(lavaan's ``std.lv = TRUE``). The two solutions differ only in scale; the standardized
solution, the fit and the $R^2$ are identical.
"""

from __future__ import annotations

import enum
import functools
import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import attrs
import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize, stats
from scipy.linalg import lapack

from relmark._validation import check_probability, cmp
from relmark.errors import ConvergenceError, InvalidInputError, ModelAssumptionWarning
from relmark.trust.instrument import Instrument, PathSign, StructuralPath, default_kmv_instrument
from relmark.trust.paths import rival_paths
from relmark.trust.scores import ItemResponses
from relmark.typing import BoolArray, FloatArray, IntArray

__all__ = [
    "FitIndices",
    "IndirectEffect",
    "LikelihoodRatioTest",
    "ParameterKind",
    "SEMParameter",
    "SEMResult",
    "SEMSpecification",
    "fit_sem",
    "indirect_effects",
    "kmv_model",
    "kmv_rival_model",
    "likelihood_ratio_test",
    "ml_discrepancy",
    "simulate_items",
]

Identification = Literal["marker", "unit_variance"]


def _to_measurement(
    value: Mapping[str, Iterable[str]] | Iterable[tuple[str, Iterable[str]]],
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    pairs = value.items() if isinstance(value, Mapping) else value
    return tuple((str(name), tuple(codes)) for name, codes in pairs)


def _to_pairs(value: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    return tuple((str(a), str(b)) for a, b in value)


def _to_codes(value: Iterable[str]) -> frozenset[str]:
    return frozenset(str(code) for code in value)


def _to_paths(value: Iterable[StructuralPath]) -> tuple[StructuralPath, ...]:
    return tuple(value)


def _check_measurement(
    instance: SEMSpecification, _attribute: attrs.Attribute[Any], value: Any
) -> None:
    if not value:
        raise InvalidInputError(
            f"The 'measurement' of model {instance.name!r} must list at least one construct "
            "with its items. Got none."
        )
    names = [name for name, _ in value]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise InvalidInputError(
            f"Construct names in model {instance.name!r} must be unique; duplicated: {duplicated}."
        )
    codes = [code for _, items in value for code in items]
    duplicated = sorted({c for c in codes if codes.count(c) > 1})
    if duplicated:
        raise InvalidInputError(
            f"Each item of model {instance.name!r} must measure one construct; item(s) "
            f"{duplicated} are listed more than once."
        )
    for name, items in value:
        if len(items) < 2:
            raise InvalidInputError(
                f"Construct {name!r} of model {instance.name!r} must be measured by at least 2 "
                f"items (a single-item construct needs a fixed error variance). Got {list(items)}."
            )


def _check_structure(
    instance: SEMSpecification, _attribute: attrs.Attribute[Any], value: Any
) -> None:
    names = {name for name, _ in instance.measurement}
    for path in instance.paths:
        if not isinstance(path, StructuralPath):
            raise InvalidInputError(
                f"The 'paths' of model {instance.name!r} must be StructuralPath records. "
                f"Got {type(path).__name__}."
            )
        for end in (path.source, path.target):
            if end not in names:
                raise InvalidInputError(
                    f"Path {path.source!r} -> {path.target!r} of model {instance.name!r} names "
                    f"construct {end!r}, which the measurement model does not define. "
                    f"Defined: {sorted(names)}."
                )
    keys = [(p.source, p.target) for p in instance.paths]
    duplicated = sorted({k for k in keys if keys.count(k) > 1})
    if duplicated:
        raise InvalidInputError(
            f"StructuralPath(s) {duplicated} appear more than once in model {instance.name!r}."
        )
    targets = {p.target for p in instance.paths}
    seen: set[frozenset[str]] = set()
    for a, b in value:
        if a == b or a not in names or b not in names:
            raise InvalidInputError(
                f"Disturbance covariance ({a!r}, {b!r}) of model {instance.name!r} must join two "
                f"different constructs of the model. Defined: {sorted(names)}."
            )
        if a not in targets or b not in targets:
            raise InvalidInputError(
                f"Disturbance covariance ({a!r}, {b!r}) of model {instance.name!r} must join two "
                "endogenous constructs (targets of some path); exogenous constructs already "
                "covary freely."
            )
        if frozenset((a, b)) in seen:
            raise InvalidInputError(
                f"Disturbance covariance ({a!r}, {b!r}) appears more than once in model "
                f"{instance.name!r}."
            )
        seen.add(frozenset((a, b)))


@attrs.frozen(kw_only=True)
class SEMSpecification:
    """A latent-variable structural equation model, as data.

    Attributes:
        name: A label for the model.
        measurement: ``(construct, item codes)`` pairs, in order: each construct is measured by
            at least two items, each item by one construct. A mapping is accepted.
        paths: Directed paths between constructs (their ``sign`` is the hypothesis checked).
        disturbance_covariances: Pairs of endogenous constructs whose disturbances covary. None
            are free unless listed here; exogenous constructs always covary freely.
        reverse_keyed: Item codes whose raw answers are reversed before fitting when
            [`fit_sem`][relmark.trust.sem.fit_sem] is given raw answers rather than
            [`ItemResponses`][relmark.trust.scores.ItemResponses] (which are already keyed).

    Examples:
        >>> spec = SEMSpecification(
        ...     name="supplier",
        ...     measurement={"trust": ["T1", "T2", "T3"], "loyalty": ["L1", "L2", "L3"]},
        ...     paths=[StructuralPath(source="trust", target="loyalty", sign=PathSign.POSITIVE)],
        ... )
        >>> spec.constructs, spec.endogenous
        (('trust', 'loyalty'), ('loyalty',))
    """

    name: str
    measurement: tuple[tuple[str, tuple[str, ...]], ...] = attrs.field(
        converter=_to_measurement, validator=_check_measurement
    )
    paths: tuple[StructuralPath, ...] = attrs.field(default=(), converter=_to_paths)
    disturbance_covariances: tuple[tuple[str, str], ...] = attrs.field(
        default=(), converter=_to_pairs, validator=_check_structure
    )
    reverse_keyed: frozenset[str] = attrs.field(default=frozenset(), converter=_to_codes)

    @property
    def constructs(self) -> tuple[str, ...]:
        """Construct names, in order."""
        return tuple(name for name, _ in self.measurement)

    @property
    def item_codes(self) -> tuple[str, ...]:
        """All item codes, construct by construct."""
        return tuple(code for _, items in self.measurement for code in items)

    @property
    def endogenous(self) -> tuple[str, ...]:
        """Constructs that some path points to, in construct order."""
        targets = {p.target for p in self.paths}
        return tuple(c for c in self.constructs if c in targets)

    @property
    def exogenous(self) -> tuple[str, ...]:
        """Constructs no path points to, in construct order."""
        targets = {p.target for p in self.paths}
        return tuple(c for c in self.constructs if c not in targets)

    @classmethod
    def from_instrument(
        cls,
        instrument: Instrument,
        *,
        paths: Sequence[StructuralPath] | None = None,
        disturbance_covariances: Iterable[tuple[str, str]] = (),
        name: str | None = None,
    ) -> SEMSpecification:
        """A model whose measurement part is the instrument's constructs and items.

        Only constructs named by a path enter the model (all of them without paths, a CFA).

        Args:
            instrument: Constructs, items (their reverse keying is kept) and default paths.
            paths: The structural paths (default: the instrument's).
            disturbance_covariances: Endogenous pairs whose disturbances covary.
            name: The model's label (default: the instrument's name).
        """
        chosen = tuple(instrument.paths if paths is None else paths)
        used = {n for p in chosen for n in (p.source, p.target)}
        constructs = [c for c in instrument.constructs if not used or c.name in used]
        return cls(
            name=instrument.name if name is None else name,
            measurement=[(c.name, c.item_codes) for c in constructs],
            paths=chosen,
            disturbance_covariances=disturbance_covariances,
            reverse_keyed=[item.code for c in constructs for item in c.items if item.reverse_keyed],
        )


def kmv_model(instrument: Instrument | None = None) -> SEMSpecification:
    """Morgan & Hunt's (1994) KMV model as a latent SEM: 12 constructs, 13 paths.

    Trust and commitment mediate between five antecedents and five outcomes; the disturbances
    of the endogenous constructs are uncorrelated (as in Morgan & Hunt's Figure 1).

    Args:
        instrument: The instrument measuring the constructs (default
            [`default_kmv_instrument`][relmark.trust.instrument.default_kmv_instrument]).

    Examples:
        >>> spec = kmv_model()
        >>> len(spec.constructs), len(spec.paths), len(spec.item_codes)
        (12, 13, 38)
    """
    source = default_kmv_instrument() if instrument is None else instrument
    return SEMSpecification.from_instrument(source, name="kmv")


def kmv_rival_model(instrument: Instrument | None = None) -> SEMSpecification:
    """The direct-effects rival of the KMV model (Morgan & Hunt 1994, the rival model).

    Every outcome is regressed on every antecedent and on trust and commitment
    ([`rival_paths`][relmark.trust.paths.rival_paths]); the KMV model is nested in it, so the
    two can be compared with
    [`likelihood_ratio_test`][relmark.trust.sem.likelihood_ratio_test].

    Args:
        instrument: As for [`kmv_model`][relmark.trust.sem.kmv_model].
    """
    base = kmv_model(instrument)
    return attrs.evolve(base, name="kmv_rival", paths=rival_paths(base.paths))


class ParameterKind(enum.Enum):
    """What a model parameter is (with lavaan's operator as its value)."""

    LOADING = "=~"
    PATH = "~"
    COVARIANCE = "~~"
    ERROR_VARIANCE = "~~ (item)"


@attrs.frozen(kw_only=True)
class SEMParameter:
    r"""One parameter of a fitted SEM, unstandardized and standardized.

    ``lhs``/``rhs`` follow lavaan: a loading is ``construct =~ item``, a path
    ``target ~ source``, a (co)variance of constructs (disturbances for endogenous ones)
    ``a ~~ b``, an item's error variance ``item ~~ item``.

    Attributes:
        kind: Loading, path, construct (co)variance or item error variance.
        lhs: Left-hand side, as above.
        rhs: Right-hand side, as above.
        free: Whether estimated (``False`` for the fixed marker loadings or unit variances).
        estimate: Unstandardized estimate.
        standard_error: From the expected information (NaN when fixed).
        z_value: ``estimate / standard_error``.
        p_value: Two-sided normal p-value.
        std_estimate: Standardized estimate (lavaan's ``std.all``).
        std_standard_error: Delta-method standard error of ``std_estimate``.
        hypothesised_sign: For paths, the sign the model states (``None`` otherwise).
    """

    kind: ParameterKind
    lhs: str
    rhs: str
    free: bool
    estimate: float
    standard_error: float
    z_value: float
    p_value: float
    std_estimate: float
    std_standard_error: float
    hypothesised_sign: PathSign | None = None

    def supported(self, significance: float = 0.05) -> bool | None:
        """Whether a hypothesised path has its sign and ``p_value < significance``."""
        if self.hypothesised_sign is None:
            return None
        holds = bool(np.sign(self.estimate) == self.hypothesised_sign.value)
        return holds and self.p_value < significance


@attrs.frozen(kw_only=True)
class FitIndices:
    r"""Global fit of a fitted SEM.

    Attributes:
        chi_square: $\chi^2 = N F_{\min}$.
        df: Degrees of freedom $p(p+1)/2 - q$.
        p_value: $P(\chi^2_{df} > \chi^2)$.
        baseline_chi_square: $\chi^2$ of the independence model (diagonal $\Sigma$).
        baseline_df: Its degrees of freedom, $p(p-1)/2$.
        cfi: Comparative fit index (Bentler 1990).
        tli: Tucker-Lewis index (Tucker & Lewis 1973).
        rmsea: Root mean square error of approximation, $\sqrt{\max(\chi^2/df - 1, 0)/N}$.
        rmsea_ci: Its 90 % confidence interval (Browne & Cudeck 1993).
        srmr: Standardized root mean square residual (Bentler 1995): the root mean square of
            $(s_{ij} - \hat\sigma_{ij})/\sqrt{s_{ii}s_{jj}}$ over $i \le j$.
        log_likelihood: Normal log-likelihood at the estimates.
        aic: $-2\log L + 2q$.
        bic: $-2\log L + q\ln N$.
        n_parameters: Free parameters $q$.
        n_respondents: $N$.
    """

    chi_square: float
    df: int
    p_value: float
    baseline_chi_square: float
    baseline_df: int
    cfi: float
    tli: float
    rmsea: float
    rmsea_ci: tuple[float, float]
    srmr: float
    log_likelihood: float
    aic: float
    bic: float
    n_parameters: int
    n_respondents: int


# ---------------------------------------------------------------- the parameter layout


@attrs.frozen(eq=False)
class _Layout:
    """Where each free parameter sits, the fixed values of the others, and the report order.

    ``kinds``/``rows``/``cols`` list the free parameters; ``entries`` lists every parameter
    (fixed ones included) in reporting order. The index arrays are their vectorized form.
    """

    spec: SEMSpecification
    identification: Identification
    item_construct: tuple[int, ...]
    kinds: tuple[ParameterKind, ...]
    rows: tuple[int, ...]
    cols: tuple[int, ...]
    fixed_loadings: tuple[tuple[int, int], ...]
    fixed_variances: tuple[int, ...]
    entries: tuple[tuple[ParameterKind, int, int], ...]
    row_index: IntArray
    col_index: IntArray
    masks: dict[ParameterKind, BoolArray]
    entry_rows: IntArray
    entry_cols: IntArray
    entry_masks: dict[ParameterKind, BoolArray]
    members: tuple[IntArray, ...]

    @property
    def p(self) -> int:
        return len(self.item_construct)

    @property
    def m(self) -> int:
        return len(self.members)


def _layout(spec: SEMSpecification, identification: Identification) -> _Layout:
    constructs = spec.constructs
    index = {c: j for j, c in enumerate(constructs)}
    item_construct = tuple(j for j, (_, items) in enumerate(spec.measurement) for _ in items)
    kinds: list[ParameterKind] = []
    rows: list[int] = []
    cols: list[int] = []
    fixed_loadings: list[tuple[int, int]] = []
    marker = identification == "marker"
    first = 0
    for j, (_, items) in enumerate(spec.measurement):
        for k in range(len(items)):
            if marker and k == 0:
                fixed_loadings.append((first, j))
            else:
                kinds.append(ParameterKind.LOADING)
                rows.append(first + k)
                cols.append(j)
        first += len(items)
    for path in spec.paths:
        kinds.append(ParameterKind.PATH)
        rows.append(index[path.target])
        cols.append(index[path.source])
    exogenous = [index[c] for c in spec.exogenous]
    pairs = [(a, a) for a in range(len(constructs))]
    pairs += [(b, a) for i, a in enumerate(exogenous) for b in exogenous[i + 1 :]]
    pairs += [
        (max(index[a], index[b]), min(index[a], index[b])) for a, b in spec.disturbance_covariances
    ]
    fixed_variances: list[int] = []
    for r, c in pairs:
        if r == c and not marker:
            fixed_variances.append(r)
            continue
        kinds.append(ParameterKind.COVARIANCE)
        rows.append(r)
        cols.append(c)
    for i in range(len(item_construct)):
        kinds.append(ParameterKind.ERROR_VARIANCE)
        rows.append(i)
        cols.append(i)
    free = list(zip(kinds, rows, cols, strict=True))
    loadings = [(ParameterKind.LOADING, i, j) for i, j in fixed_loadings]
    loadings += [e for e in free if e[0] is ParameterKind.LOADING]
    loadings.sort(key=lambda e: (e[2], e[1]))
    covariances = [e for e in free if e[0] is ParameterKind.COVARIANCE]
    covariances += [(ParameterKind.COVARIANCE, j, j) for j in fixed_variances]
    covariances.sort(key=lambda e: (e[1] != e[2], e[2], e[1]))
    entries = (
        loadings
        + [e for e in free if e[0] is ParameterKind.PATH]
        + covariances
        + [e for e in free if e[0] is ParameterKind.ERROR_VARIANCE]
    )
    kind_array = np.array([k.value for k in kinds])
    entry_kinds = np.array([e[0].value for e in entries])
    return _Layout(
        spec=spec,
        identification=identification,
        item_construct=item_construct,
        kinds=tuple(kinds),
        rows=tuple(rows),
        cols=tuple(cols),
        fixed_loadings=tuple(fixed_loadings),
        fixed_variances=tuple(fixed_variances),
        entries=tuple(entries),
        row_index=np.array(rows, dtype=np.int64),
        col_index=np.array(cols, dtype=np.int64),
        masks={k: kind_array == k.value for k in ParameterKind},
        entry_rows=np.array([e[1] for e in entries], dtype=np.int64),
        entry_cols=np.array([e[2] for e in entries], dtype=np.int64),
        entry_masks={k: entry_kinds == k.value for k in ParameterKind},
        members=tuple(
            np.flatnonzero(np.asarray(item_construct) == j) for j in range(len(constructs))
        ),
    )


@attrs.frozen(eq=False)
class _Matrices:
    lam: FloatArray
    beta: FloatArray
    psi: FloatArray
    theta: FloatArray

    @classmethod
    def unpack(cls, layout: _Layout, x: FloatArray) -> _Matrices:
        p, m = layout.p, layout.m
        r, c, mask = layout.row_index, layout.col_index, layout.masks
        lam = np.zeros((p, m))
        beta = np.zeros((m, m))
        psi = np.zeros((m, m))
        theta = np.zeros(p)
        for i, j in layout.fixed_loadings:
            lam[i, j] = 1.0
        for j in layout.fixed_variances:
            psi[j, j] = 1.0
        k = mask[ParameterKind.LOADING]
        lam[r[k], c[k]] = x[k]
        k = mask[ParameterKind.PATH]
        beta[r[k], c[k]] = x[k]
        k = mask[ParameterKind.COVARIANCE]
        psi[r[k], c[k]] = x[k]
        psi[c[k], r[k]] = x[k]
        k = mask[ParameterKind.ERROR_VARIANCE]
        theta[r[k]] = x[k]
        return cls(lam, beta, psi, theta)


def _implied(mats: _Matrices) -> tuple[FloatArray, FloatArray, FloatArray] | None:
    """``(Σ, A = (I - B)^{-1}, C = Cov(η))``, or ``None`` when ``I - B`` is singular."""
    m = mats.beta.shape[0]
    try:
        a = np.linalg.inv(np.eye(m) - mats.beta).astype(np.float64, copy=False)
    except np.linalg.LinAlgError:
        return None
    c: FloatArray = a @ mats.psi @ a.T
    sigma: FloatArray = mats.lam @ c @ mats.lam.T
    sigma[np.diag_indices_from(sigma)] += mats.theta
    return sigma, a, c


def _directions(
    layout: _Layout, mats: _Matrices, a: FloatArray, c: FloatArray
) -> tuple[FloatArray, FloatArray]:
    r"""$U, W$ with $\partial\Sigma/\partial\theta_k = u_k w_k^\top + w_k u_k^\top$.

    From $\Sigma = \Lambda A\Psi A^\top\Lambda^\top + \Theta$ and $dA = A\,dB\,A$ (Neudecker &
    Satorra 1991): a loading $\lambda_{ij}$ gives $u = e_i$, $w = \Lambda C_{\cdot j}$; a path
    $b_{ij}$ gives $u = \Lambda A_{\cdot i}$, $w = \Lambda C_{\cdot j}$; a covariance
    $\psi_{ij}$ gives $u = \Lambda A_{\cdot i}$, $w = \Lambda A_{\cdot j}$ (halved on the
    diagonal); an error variance $\theta_{ii}$ gives $u = e_i$, $w = e_i/2$.
    """
    p = layout.p
    q = len(layout.kinds)
    r, col, mask = layout.row_index, layout.col_index, layout.masks
    lam_c = mats.lam @ c
    lam_a = mats.lam @ a
    u = np.zeros((p, q))
    w = np.zeros((p, q))
    k = np.flatnonzero(mask[ParameterKind.LOADING])
    u[r[k], k] = 1.0
    w[:, k] = lam_c[:, col[k]]
    k = np.flatnonzero(mask[ParameterKind.PATH])
    u[:, k] = lam_a[:, r[k]]
    w[:, k] = lam_c[:, col[k]]
    k = np.flatnonzero(mask[ParameterKind.COVARIANCE])
    u[:, k] = lam_a[:, r[k]]
    w[:, k] = lam_a[:, col[k]] * np.where(r[k] == col[k], 0.5, 1.0)
    k = np.flatnonzero(mask[ParameterKind.ERROR_VARIANCE])
    u[r[k], k] = 1.0
    w[r[k], k] = 0.5
    return u, w


def ml_discrepancy(sample: ArrayLike, implied: ArrayLike) -> float:
    r"""The ML discrepancy $\ln|\Sigma| + \operatorname{tr}(S\Sigma^{-1}) - \ln|S| - p$.

    It is $\ge 0$, and $0$ exactly when $\Sigma = S$ (Bollen 1989, eq. 4.67).

    Args:
        sample: The sample covariance $S$ (positive definite).
        implied: The model-implied covariance $\Sigma$ (positive definite).

    Raises:
        InvalidInputError: Matrices of different shapes or not positive definite.

    Examples:
        >>> ml_discrepancy([[2.0, 0.5], [0.5, 1.0]], [[2.0, 0.5], [0.5, 1.0]])
        0.0
    """
    s = np.asarray(sample, dtype=np.float64)
    sigma = np.asarray(implied, dtype=np.float64)
    if s.ndim != 2 or s.shape != sigma.shape or s.shape[0] != s.shape[1]:
        raise InvalidInputError(
            f"The 'sample' and 'implied' covariances must be square and of one shape; got "
            f"{s.shape} and {sigma.shape}."
        )
    try:
        ls = np.linalg.cholesky(s)
        lsig = np.linalg.cholesky(sigma)
    except np.linalg.LinAlgError:
        raise InvalidInputError(
            "The 'sample' and 'implied' covariances must be positive definite."
        ) from None
    # tr(SΣ⁻¹) - ln|SΣ⁻¹| - p = Σ (μ - ln μ - 1) over the eigenvalues μ of Σ^{-1/2} S Σ^{-1/2};
    # each term is ≥ 0, so the sum is too, without cancellation in the log-determinants.
    half = np.linalg.solve(lsig, ls)
    mu = np.linalg.eigvalsh(half @ half.T)
    mu = np.maximum(mu, np.finfo(np.float64).tiny)
    return float(np.sum(mu - np.log(mu) - 1.0))


@attrs.frozen(eq=False)
class _State:
    """The objective at one parameter vector, with what its derivatives need."""

    x: FloatArray
    value: float
    mats: _Matrices
    sigma: FloatArray
    inverse: FloatArray
    a: FloatArray
    latent_cov: FloatArray


def _objective(layout: _Layout, x: FloatArray, s: FloatArray, logdet_s: float) -> _State | None:
    r"""$F(\theta)$, or ``None`` where $\Sigma(\theta)$ is not positive definite."""
    mats = _Matrices.unpack(layout, x)
    implied = _implied(mats)
    if implied is None:
        return None
    sigma, a, c = implied
    try:
        chol = np.linalg.cholesky(sigma)
    except np.linalg.LinAlgError:
        return None
    logdet = 2.0 * float(np.log(np.diag(chol)).sum())
    inverse = np.linalg.inv(sigma).astype(np.float64, copy=False)
    value = logdet + float(np.sum(s * inverse)) - logdet_s - layout.p
    return _State(x, value, mats, sigma, inverse, a, c)


def _gradient(layout: _Layout, state: _State, s: FloatArray) -> FloatArray:
    r"""$g_k = \operatorname{tr}(G\,\partial_k\Sigma) = 2w_k^\top G u_k$, $G = \Sigma^{-1} - \Sigma^{-1}S\Sigma^{-1}$."""
    u, w = _directions(layout, state.mats, state.a, state.latent_cov)
    inv = state.inverse
    g_mat = inv - inv @ s @ inv
    out: FloatArray = 2.0 * np.einsum("ik,ik->k", w, g_mat @ u)
    return out


def _gradient_and_information(
    layout: _Layout, state: _State, s: FloatArray
) -> tuple[FloatArray, FloatArray]:
    r"""Gradient of $F$ and its expected Hessian $H$ (twice the unit information).

    With $G = \Sigma^{-1} - \Sigma^{-1}S\Sigma^{-1}$ and $\partial\Sigma/\partial\theta_k =
    u_kw_k^\top + w_ku_k^\top$: $g_k = \operatorname{tr}(G\,\partial_k\Sigma) = 2w_k^\top G u_k$
    and $H_{kl} = \operatorname{tr}(\Sigma^{-1}\partial_k\Sigma\,\Sigma^{-1}\partial_l\Sigma)
    = 2[(w_k^\top\Sigma^{-1}u_l)(w_l^\top\Sigma^{-1}u_k) + (w_k^\top\Sigma^{-1}w_l)
    (u_k^\top\Sigma^{-1}u_l)]$ (Bollen 1989, eqs. 4.74, 4.80).
    """
    u, w = _directions(layout, state.mats, state.a, state.latent_cov)
    inv = state.inverse
    g_mat = inv - inv @ s @ inv
    grad = 2.0 * np.einsum("ik,ik->k", w, g_mat @ u)
    inv_u = inv @ u
    wu = w.T @ inv_u
    hessian = 2.0 * (wu * wu.T + (w.T @ (inv @ w)) * (u.T @ inv_u))
    return grad, hessian


# ---------------------------------------------------------------- start values


def _start_loadings(layout: _Layout, s: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Loadings (unit construct variance) from each construct's first principal axis."""
    lam = np.zeros((layout.p, layout.m))
    sd = np.sqrt(np.diag(s))
    for j, idx in enumerate(layout.members):
        block = s[np.ix_(idx, idx)] / np.outer(sd[idx], sd[idx])
        values, vectors = np.linalg.eigh(block)
        load = vectors[:, -1] * math.sqrt(max(values[-1] - 0.5, 0.3))
        if load.sum() < 0:
            load = -load
        lam[idx, j] = np.clip(load, 0.2, 0.95) * sd[idx]
    theta = np.maximum(np.diag(s) - (lam**2).sum(axis=1), 0.1 * np.diag(s))
    return lam, theta


def _start_structure(
    layout: _Layout, s: FloatArray, lam: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Paths by OLS on the construct correlations implied by the loadings; disturbances."""
    spec, m, members = layout.spec, layout.m, layout.members
    cov = np.eye(m)
    for j in range(m):
        for k in range(j):
            block = s[np.ix_(members[j], members[k])]
            ratio = block / np.outer(lam[members[j], j], lam[members[k], k])
            cov[j, k] = cov[k, j] = float(np.clip(np.mean(ratio), -0.9, 0.9))
    eig, vec = np.linalg.eigh(cov)
    cov = vec @ np.diag(np.maximum(eig, 0.05)) @ vec.T
    scale = np.sqrt(np.diag(cov))
    cov = cov / np.outer(scale, scale)
    index = {name: j for j, name in enumerate(spec.constructs)}
    beta = np.zeros((m, m))
    psi = np.zeros((m, m))
    exogenous = [index[e] for e in spec.exogenous]
    psi[np.ix_(exogenous, exogenous)] = cov[np.ix_(exogenous, exogenous)]
    for target in spec.endogenous:
        t = index[target]
        sources = [index[p.source] for p in spec.paths if p.target == target]
        b = np.linalg.solve(cov[np.ix_(sources, sources)], cov[sources, t])
        beta[t, sources] = b
        psi[t, t] = max(1.0 - float(cov[t, sources] @ b), 0.2)
    return beta, psi


def _start(layout: _Layout, s: FloatArray) -> FloatArray:
    """Start values: a one-factor solution per construct, then OLS among the constructs."""
    lam, theta = _start_loadings(layout, s)
    beta, psi = _start_structure(layout, s, lam)
    if layout.identification == "marker":
        marker = np.array([lam[idx[0], j] for j, idx in enumerate(layout.members)])
    else:
        # Unit disturbance variances: measure every construct in its disturbance SDs.
        marker = 1.0 / np.sqrt(np.diag(psi))
    lam = lam / marker
    beta = beta * marker[:, None] / marker[None, :]
    psi = psi * np.outer(marker, marker)
    r, c, mask = layout.row_index, layout.col_index, layout.masks
    x = np.empty(len(layout.kinds))
    k = mask[ParameterKind.LOADING]
    x[k] = lam[r[k], c[k]]
    k = mask[ParameterKind.PATH]
    x[k] = beta[r[k], c[k]]
    k = mask[ParameterKind.COVARIANCE]
    x[k] = psi[r[k], c[k]]
    k = mask[ParameterKind.ERROR_VARIANCE]
    x[k] = theta[r[k]]
    return x


# ---------------------------------------------------------------- estimation


@attrs.frozen(eq=False)
class _Solution:
    state: _State
    hessian: FloatArray
    gradient: FloatArray
    iterations: int


def _line_search(
    layout: _Layout,
    state: _State,
    step: FloatArray,
    grad: FloatArray,
    s: FloatArray,
    logdet_s: float,
) -> tuple[_State, float] | None:
    r"""Halve the scoring step until $F$ decreases enough (Armijo) with $\Sigma$ positive definite."""
    t = 1.0
    slope = float(grad @ -step)
    while t > 1e-10:
        trial = _objective(layout, state.x - t * step, s, logdet_s)
        if trial is not None and trial.value <= state.value + 1e-4 * t * slope:
            return trial, t
        t *= 0.5
    return None


def _converge(layout: _Layout, s: FloatArray, x0: FloatArray, *, max_iter: int = 500) -> _Solution:
    """Fisher scoring with step halving; L-BFGS takes over if scoring stalls."""
    logdet_s = float(np.linalg.slogdet(s)[1])
    state = _objective(layout, x0, s, logdet_s)
    if state is None:
        raise ConvergenceError(
            "The start values of the SEM give a model-implied covariance that is not positive "
            "definite. Check that the items of each construct correlate positively (reverse "
            "keying) and that no item lacks variance."
        )
    grad, hessian = _gradient_and_information(layout, state, s)
    iterations = 0
    while iterations < max_iter:
        iterations += 1
        try:
            step = np.linalg.solve(hessian, grad).astype(np.float64, copy=False)
        except np.linalg.LinAlgError:
            break
        searched = _line_search(layout, state, step, grad, s, logdet_s)
        if searched is None:
            break
        previous = state.value
        state, t = searched
        grad, hessian = _gradient_and_information(layout, state, s)
        # Stop at a stationary point, or once the scoring step is below 1e-10: the gradient
        # then sits at its rounding floor, which depends on the scale of the data.
        moved = float(np.max(np.abs(t * step)))
        if float(np.max(np.abs(grad))) < 1e-9 or (moved < 1e-10 and previous - state.value < 1e-12):
            break
    if float(np.max(np.abs(grad))) > 1e-6:
        state, extra = _lbfgs(layout, s, logdet_s, state.x)
        iterations += extra
        grad, hessian = _gradient_and_information(layout, state, s)
    return _Solution(state, hessian, grad, iterations)


def _lbfgs(layout: _Layout, s: FloatArray, logdet_s: float, x0: FloatArray) -> tuple[_State, int]:
    """L-BFGS on $F$ with the analytic gradient: the fallback when scoring stalls."""

    def fun(x: FloatArray) -> tuple[float, FloatArray]:
        state = _objective(layout, x, s, logdet_s)
        if state is None:
            return math.inf, np.zeros_like(x)
        return state.value, _gradient(layout, state, s)

    result = optimize.minimize(
        fun, x0, jac=True, method="L-BFGS-B", options={"maxiter": 5000, "ftol": 1e-15, "gtol": 1e-9}
    )
    state = _objective(layout, np.asarray(result.x, dtype=np.float64), s, logdet_s)
    if state is None or not np.all(np.abs(result.jac) < 1e-5):
        raise ConvergenceError(
            f"The SEM fit did not converge ({result.message}; largest gradient "
            f"{float(np.max(np.abs(result.jac))):.3g}). Things to try: check the reverse keying "
            "(items of one construct should correlate positively), drop items without variance "
            "or duplicated items, collect more respondents, or try the other identification."
        )
    return state, int(result.nit)


# ---------------------------------------------------------------- results


@attrs.frozen(kw_only=True)
class SEMResult:
    r"""A fitted latent-variable SEM.

    Attributes:
        model: The specification fitted.
        identification: ``"marker"`` or ``"unit_variance"``.
        parameters: Every parameter (fixed ones included), in layout order: loadings, paths,
            construct (co)variances, item error variances.
        fit: The fit indices.
        r_squared: $R^2$ per endogenous construct, and per item (its communality).
        discrepancy: The minimized ML discrepancy $F_{\min}$.
        iterations: Optimizer iterations.
        converged: Whether the largest gradient component is below $10^{-6}$.
        heywood_cases: One sentence per improper estimate (negative variance, standardized
            loading or construct correlation beyond ±1); empty when the solution is proper.
        n_respondents: Respondents used (complete cases).
        n_dropped: Respondents left out for a missing answer.
        item_codes: The observed variables, in order.
        sample_covariance: $S$ (divisor $N$).
        implied_covariance: $\Sigma(\hat\theta)$.
        latent_covariance: $\operatorname{Cov}(\eta)$ at the estimates.
        parameter_covariance: Covariance of the free estimates (inverse expected information).
    """

    model: SEMSpecification
    identification: Identification
    parameters: tuple[SEMParameter, ...]
    fit: FitIndices
    r_squared: dict[str, float]
    discrepancy: float
    iterations: int
    converged: bool
    heywood_cases: tuple[str, ...]
    n_respondents: int
    n_dropped: int
    item_codes: tuple[str, ...]
    sample_covariance: FloatArray = attrs.field(eq=cmp)
    implied_covariance: FloatArray = attrs.field(eq=cmp)
    latent_covariance: FloatArray = attrs.field(eq=cmp)
    parameter_covariance: FloatArray = attrs.field(eq=cmp)

    def parameter(self, lhs: str, kind: ParameterKind | str, rhs: str) -> SEMParameter:
        """The parameter ``lhs op rhs`` (``kind`` may be the lavaan operator string).

        Raises:
            InvalidInputError: When the model has no such parameter.
        """
        wanted = ParameterKind(kind)
        directed = wanted in (ParameterKind.LOADING, ParameterKind.PATH)
        for entry in self.parameters:
            same = (entry.lhs, entry.rhs) == (lhs, rhs) or (
                not directed and (entry.rhs, entry.lhs) == (lhs, rhs)
            )
            if entry.kind is wanted and same:
                return entry
        raise InvalidInputError(f"The model has no parameter {lhs} {wanted.value} {rhs}.")

    def path(self, source: str, target: str) -> SEMParameter:
        """The estimate of path ``source -> target``."""
        return self.parameter(target, ParameterKind.PATH, source)

    @property
    def paths(self) -> tuple[SEMParameter, ...]:
        """The structural paths, in model order."""
        return tuple(e for e in self.parameters if e.kind is ParameterKind.PATH)

    def n_supported(self, significance: float = 0.05) -> int:
        """Hypothesised paths with the stated sign and ``p < significance``."""
        level = check_probability(significance, name="significance")
        return sum(bool(e.supported(level)) for e in self.paths)

    @property
    def n_hypothesised(self) -> int:
        """Paths with a hypothesised sign."""
        return sum(e.hypothesised_sign is not None for e in self.paths)


def _standardized(layout: _Layout, x: FloatArray) -> FloatArray:
    """Every parameter (``layout.entries`` order) in lavaan's ``std.all`` metric."""
    out: FloatArray = _standardized_batch(layout, x[None, :])[0]
    return out


def _standardized_batch(layout: _Layout, xs: FloatArray) -> FloatArray:
    """:func:`_standardized` of every row of ``xs`` at once (rows are parameter vectors)."""
    b, p, m = xs.shape[0], layout.p, layout.m
    r, c, mask = layout.row_index, layout.col_index, layout.masks
    lam = np.zeros((b, p, m))
    beta = np.zeros((b, m, m))
    psi = np.zeros((b, m, m))
    theta = np.zeros((b, p))
    for i, j in layout.fixed_loadings:
        lam[:, i, j] = 1.0
    for j in layout.fixed_variances:
        psi[:, j, j] = 1.0
    k = mask[ParameterKind.LOADING]
    lam[:, r[k], c[k]] = xs[:, k]
    k = mask[ParameterKind.PATH]
    beta[:, r[k], c[k]] = xs[:, k]
    k = mask[ParameterKind.COVARIANCE]
    psi[:, r[k], c[k]] = xs[:, k]
    psi[:, c[k], r[k]] = xs[:, k]
    k = mask[ParameterKind.ERROR_VARIANCE]
    theta[:, r[k]] = xs[:, k]
    out = np.full((b, len(layout.entries)), np.nan)
    try:
        a = np.linalg.inv(np.eye(m) - beta)
    except np.linalg.LinAlgError:
        return out
    cov = a @ psi @ np.swapaxes(a, 1, 2)
    var_eta = np.diagonal(cov, axis1=1, axis2=2)
    var_y = np.einsum("bij,bij->bi", lam @ cov, lam) + theta
    er, ec, emask = layout.entry_rows, layout.entry_cols, layout.entry_masks
    with np.errstate(invalid="ignore", divide="ignore"):
        sd_eta = np.sqrt(var_eta)
        sd_y = np.sqrt(var_y)
        k = emask[ParameterKind.LOADING]
        out[:, k] = lam[:, er[k], ec[k]] * sd_eta[:, ec[k]] / sd_y[:, er[k]]
        k = emask[ParameterKind.PATH]
        out[:, k] = beta[:, er[k], ec[k]] * sd_eta[:, ec[k]] / sd_eta[:, er[k]]
        k = emask[ParameterKind.COVARIANCE]
        out[:, k] = psi[:, er[k], ec[k]] / (sd_eta[:, er[k]] * sd_eta[:, ec[k]])
        k = emask[ParameterKind.ERROR_VARIANCE]
        out[:, k] = theta[:, er[k]] / var_y[:, er[k]]
    return out


def _std_jacobian(layout: _Layout, x: FloatArray) -> FloatArray:
    """Central-difference Jacobian of the standardized solution (delta-method SEs)."""
    h = 1e-6 * np.maximum(1.0, np.abs(x))
    step = np.diag(h)
    values = _standardized_batch(layout, np.vstack([x + step, x - step]))
    q = x.size
    out: FloatArray = ((values[:q] - values[q:]) / (2.0 * h[:, None])).T
    return out


def _sample_covariance(
    spec: SEMSpecification, responses: ItemResponses | Mapping[str, ArrayLike]
) -> tuple[FloatArray, int, int]:
    """Complete-case item matrix in the model's item order: ``(data, n_used, n_dropped)``."""
    codes = spec.item_codes
    if isinstance(responses, ItemResponses):
        data = responses.columns(codes)
    elif isinstance(responses, Mapping):
        missing = [c for c in codes if c not in responses]
        if missing:
            raise InvalidInputError(
                f"The responses lack item column(s) {missing} of model {spec.name!r}."
            )
        columns = []
        for code in codes:
            try:
                column = np.asarray(responses[code], dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise InvalidInputError(f"Item column {code!r} must be numeric: {exc}") from exc
            if column.ndim != 1:
                raise InvalidInputError(
                    f"Item column {code!r} must be one-dimensional; got shape {column.shape}."
                )
            columns.append(-column if code in spec.reverse_keyed else column)
        lengths = {c.size for c in columns}
        if len(lengths) > 1:
            raise InvalidInputError(
                "All item columns must have the same length; got lengths "
                f"{dict(zip(codes, (c.size for c in columns), strict=True))}."
            )
        data = np.column_stack(columns)
    else:
        raise InvalidInputError(
            "The 'responses' must be ItemResponses or a mapping from item code to answers. "
            f"Got {type(responses).__name__}."
        )
    if np.isinf(data).any():
        rows = np.unique(np.nonzero(np.isinf(data))[0])[:5].tolist()
        raise InvalidInputError(f"The responses hold infinite values in row(s) {rows}.")
    complete = ~np.isnan(data).any(axis=1)
    return data[complete], int(complete.sum()), int((~complete).sum())


def _covariance(data: FloatArray) -> FloatArray:
    """Covariance with divisor $N$ (the ML estimate), respondents in rows.

    ``einsum`` rather than a BLAS product: for a few dozen items the product is small, and a
    multi-threaded BLAS spends more on thread hand-offs than on the arithmetic.
    """
    centred = data - data.mean(axis=0)
    out: FloatArray = np.einsum("ij,ik->jk", centred, centred) / data.shape[0]
    return out


def _check_data(spec: SEMSpecification, data: FloatArray) -> FloatArray:
    n, p = data.shape
    if n <= p:
        raise InvalidInputError(
            f"Model {spec.name!r} has {p} items but only {n} complete respondents; an ML SEM "
            "needs more respondents than items (and, in practice, many more)."
        )
    s = _covariance(data)
    flat = [spec.item_codes[i] for i in np.flatnonzero(~(np.diag(s) > 0))]
    if flat:
        raise InvalidInputError(f"Item(s) {flat} have no variance among the {n} respondents.")
    sd = np.sqrt(np.diag(s))
    try:
        chol = np.linalg.cholesky(s / np.outer(sd, sd))
        singular = float(np.min(np.diag(chol))) ** 2 <= 1e-10
    except np.linalg.LinAlgError:
        singular = True
    if singular:
        raise InvalidInputError(
            "The item covariance matrix is singular (an item is a linear combination of others); "
            f"model {spec.name!r} cannot be fitted by ML."
        )
    return s


def fit_sem(
    model: SEMSpecification,
    responses: ItemResponses | Mapping[str, ArrayLike],
    *,
    identification: Identification = "marker",
    warn: bool = True,
) -> SEMResult:
    """Fit a latent-variable SEM by maximum likelihood.

    Respondents with any missing item are left out (listwise deletion, counted in
    ``n_dropped``). Improper solutions are reported, not hidden: every negative variance or
    standardized value beyond ±1 is named in ``heywood_cases`` and, with ``warn``, emitted as
    a [`ModelAssumptionWarning`][relmark.errors.ModelAssumptionWarning].

    Args:
        model: The specification (e.g. [`kmv_model`][relmark.trust.sem.kmv_model]).
        responses: [`ItemResponses`][relmark.trust.scores.ItemResponses] (already keyed), or a
            mapping from item code to raw answers (the model's ``reverse_keyed`` items are
            negated, which gives the covariances of ``max + min - x`` keying; extra columns are
            ignored).
        identification: ``"marker"`` (first loading of each construct fixed to 1) or
            ``"unit_variance"`` (construct and disturbance variances fixed to 1).
        warn: Whether to emit Heywood cases as warnings as well as record them.

    Returns:
        Estimates, standard errors, the standardized solution, $R^2$ and the fit indices.

    Raises:
        InvalidInputError: Items missing from ``responses``, non-numeric or infinite answers,
            fewer respondents than items, an item without variance, a singular item
            covariance, more parameters than covariances (named), or a model whose
            information matrix is singular (not identified; the parameters involved are
            named).
        ConvergenceError: When the optimizer cannot reach a minimum (the message lists what
            to try).

    Examples:
        >>> spec = kmv_model()
        >>> data = simulate_items(spec, n=500, seed=1)
        >>> result = fit_sem(spec, data)
        >>> result.fit.df, result.converged
        (642, True)
    """
    if identification not in ("marker", "unit_variance"):
        raise InvalidInputError(
            "The 'identification' parameter must be 'marker' or 'unit_variance'. "
            f"Got {identification!r}."
        )
    if not isinstance(model, SEMSpecification):
        raise InvalidInputError(
            f"The 'model' must be an SEMSpecification. Got {type(model).__name__}."
        )
    data, n, dropped = _sample_covariance(model, responses)
    s = _check_data(model, data)
    layout = _layout(model, identification)
    return _fit_covariance(layout, s, n, dropped, warn=warn)


def _fit_covariance(
    layout: _Layout,
    s: FloatArray,
    n: int,
    dropped: int,
    *,
    warn: bool,
    x0: FloatArray | None = None,
) -> SEMResult:
    spec = layout.spec
    p = layout.p
    q = len(layout.kinds)
    moments = p * (p + 1) // 2
    if q > moments:
        raise InvalidInputError(
            f"Model {spec.name!r} has {q} free parameters but only {moments} distinct item "
            "(co)variances; it is not identified. Remove paths or disturbance covariances."
        )
    solution = _converge(layout, s, _start(layout, s) if x0 is None else x0)
    cov = _inverse_information(layout, solution.hessian) * (2.0 / n)
    state = solution.state
    se_free = np.sqrt(np.maximum(np.diag(cov), 0.0))
    std = _standardized(layout, state.x)
    std_cov = _std_jacobian(layout, state.x)
    std_se = np.sqrt(np.maximum(np.einsum("ik,kl,il->i", std_cov, cov, std_cov), 0.0))
    free_index = {
        (kind, r, c): k
        for k, (kind, r, c) in enumerate(zip(layout.kinds, layout.rows, layout.cols, strict=True))
    }
    signs = {(p_.target, p_.source): p_.sign for p_ in spec.paths}
    constructs, items = spec.constructs, spec.item_codes
    entries: list[SEMParameter] = []
    for e, (kind, r, c) in enumerate(layout.entries):
        k = free_index.get((kind, r, c))
        value = _value(state.mats, kind, r, c)
        se = float(se_free[k]) if k is not None else math.nan
        z = value / se if k is not None and se > 0 else math.nan
        pval = math.erfc(abs(z) / math.sqrt(2.0)) if math.isfinite(z) else math.nan
        if kind is ParameterKind.LOADING:
            lhs, rhs = constructs[c], items[r]
        elif kind is ParameterKind.ERROR_VARIANCE:
            lhs = rhs = items[r]
        else:
            lhs, rhs = constructs[r], constructs[c]
        entries.append(
            SEMParameter(
                kind=kind,
                lhs=lhs,
                rhs=rhs,
                free=k is not None,
                estimate=value,
                standard_error=se,
                z_value=z,
                p_value=pval,
                std_estimate=float(std[e]),
                std_standard_error=float(std_se[e]) if np.isfinite(std[e]) else math.nan,
                hypothesised_sign=signs.get((lhs, rhs)) if kind is ParameterKind.PATH else None,
            )
        )
    latent = state.latent_cov
    r2: dict[str, float] = {}
    for target in spec.endogenous:
        j = constructs.index(target)
        r2[target] = 1.0 - float(state.mats.psi[j, j]) / float(latent[j, j])
    for i, code in enumerate(items):
        r2[code] = 1.0 - float(state.mats.theta[i]) / float(state.sigma[i, i])
    heywood = _heywood(entries, spec)
    if warn:
        for note in heywood:
            warnings.warn(note, ModelAssumptionWarning, stacklevel=3)
    return SEMResult(
        model=spec,
        identification=layout.identification,
        parameters=tuple(entries),
        fit=_fit_indices(s, state.sigma, state.value, n, q),
        r_squared=r2,
        discrepancy=state.value,
        iterations=solution.iterations,
        converged=bool(np.max(np.abs(solution.gradient)) < 1e-6),
        heywood_cases=heywood,
        n_respondents=n,
        n_dropped=dropped,
        item_codes=items,
        sample_covariance=s,
        implied_covariance=state.sigma,
        latent_covariance=latent,
        parameter_covariance=cov,
    )


def _inverse_information(layout: _Layout, hessian: FloatArray) -> FloatArray:
    """``hessian``⁻¹, or an error naming the parameters of a singular (unidentified) direction.

    The check runs on the scaled matrix $D^{-1/2}HD^{-1/2}$ (unit diagonal) by Cholesky; the
    eigen-decomposition that names the parameters is only computed when the check fails.
    """
    diagonal = np.diag(hessian)
    scale = 1.0 / np.sqrt(np.where(diagonal > 0, diagonal, 1.0))
    scaled = hessian * np.outer(scale, scale)
    try:
        chol = np.linalg.cholesky(scaled)
        singular = bool((diagonal <= 0).any() or np.min(np.diag(chol)) ** 2 < 1e-10)
    except np.linalg.LinAlgError:
        singular = True
    if singular:
        _, vectors = np.linalg.eigh(scaled)
        names = _names(layout)
        involved = [names[k] for k in np.flatnonzero(np.abs(vectors[:, 0]) > 0.1)]
        raise InvalidInputError(
            f"Model {layout.spec.name!r} is not identified at the estimates: the information "
            f"matrix is singular, the parameters involved being {involved}. Fix or remove one "
            "of them."
        )
    # LAPACK's potri inverts from the Cholesky factor without a general LU inverse.
    lower, info = lapack.dpotri(chol, lower=1)
    if info != 0:
        raise InvalidInputError(
            f"Model {layout.spec.name!r}: the information matrix could not be inverted "
            f"(LAPACK dpotri info {info})."
        )
    inverse = np.tril(lower) + np.tril(lower, -1).T
    out: FloatArray = inverse * np.outer(scale, scale)
    return out


def _value(mats: _Matrices, kind: ParameterKind, r: int, c: int) -> float:
    if kind is ParameterKind.LOADING:
        return float(mats.lam[r, c])
    if kind is ParameterKind.PATH:
        return float(mats.beta[r, c])
    if kind is ParameterKind.COVARIANCE:
        return float(mats.psi[r, c])
    return float(mats.theta[r])


def _names(layout: _Layout) -> list[str]:
    constructs, items = layout.spec.constructs, layout.spec.item_codes
    out = []
    for kind, r, c in zip(layout.kinds, layout.rows, layout.cols, strict=True):
        if kind is ParameterKind.LOADING:
            out.append(f"{constructs[c]} =~ {items[r]}")
        elif kind is ParameterKind.PATH:
            out.append(f"{constructs[r]} ~ {constructs[c]}")
        elif kind is ParameterKind.COVARIANCE:
            out.append(f"{constructs[r]} ~~ {constructs[c]}")
        else:
            out.append(f"{items[r]} ~~ {items[r]}")
    return out


def _heywood(entries: Sequence[SEMParameter], spec: SEMSpecification) -> tuple[str, ...]:
    notes = []
    endogenous = set(spec.endogenous)
    for e in entries:
        variance = e.kind is ParameterKind.ERROR_VARIANCE or (
            e.kind is ParameterKind.COVARIANCE and e.lhs == e.rhs
        )
        if variance and e.estimate < 0:
            what = (
                f"error variance of item {e.lhs!r}"
                if e.kind is ParameterKind.ERROR_VARIANCE
                else f"{'disturbance' if e.lhs in endogenous else ''} variance of construct "
                f"{e.lhs!r}".lstrip()
            )
            notes.append(
                f"Heywood case: the {what} is negative ({e.estimate:.4g}); the solution is "
                "improper (a misspecified model, too few respondents or a construct with too "
                "few good items)."
            )
        elif e.kind is ParameterKind.LOADING and abs(e.std_estimate) > 1:
            notes.append(
                f"Heywood case: the standardized loading of item {e.rhs!r} on {e.lhs!r} is "
                f"{e.std_estimate:.4g}, beyond ±1."
            )
        elif e.kind is ParameterKind.COVARIANCE and e.lhs != e.rhs and abs(e.std_estimate) > 1:
            notes.append(
                f"Heywood case: constructs {e.lhs!r} and {e.rhs!r} correlate "
                f"{e.std_estimate:.4g}, beyond ±1 (they are not distinct in these data)."
            )
    return tuple(notes)


def _rmsea_bound(chi2: float, df: int, n: int, target: float) -> float:
    """RMSEA at the noncentrality λ where P(χ²_df(λ) ≤ χ²) = target (0 when none)."""
    if df < 1 or stats.chi2.cdf(chi2, df) < target:
        return 0.0

    def gap(lam: float) -> float:
        return float(stats.ncx2.cdf(chi2, df, lam)) - target

    upper = max(chi2, 1.0)
    while gap(upper) > 0:
        upper *= 2.0
    lam = float(optimize.brentq(gap, 0.0, upper, xtol=1e-12, rtol=1e-14))
    return math.sqrt(lam / (n * df))


def _fit_indices(s: FloatArray, sigma: FloatArray, f_min: float, n: int, q: int) -> FitIndices:
    p = s.shape[0]
    df = p * (p + 1) // 2 - q
    chi2 = max(n * f_min, 0.0)
    logdet_s = float(np.linalg.slogdet(s)[1])
    baseline = n * (float(np.log(np.diag(s)).sum()) - logdet_s)
    baseline_df = p * (p - 1) // 2
    d_model = max(chi2 - df, 0.0)
    d_base = max(baseline - baseline_df, 0.0)
    denominator = max(d_model, d_base)
    cfi = 1.0 - d_model / denominator if denominator > 0 else 1.0
    if df > 0 and baseline_df > 0:
        tli = (baseline / baseline_df - chi2 / df) / (baseline / baseline_df - 1.0)
        rmsea = math.sqrt(max(chi2 / (n * df) - 1.0 / n, 0.0))
        ci = (_rmsea_bound(chi2, df, n, 0.95), _rmsea_bound(chi2, df, n, 0.05))
    else:
        tli, rmsea, ci = math.nan, 0.0, (0.0, 0.0)
    sd = np.sqrt(np.diag(s))
    residual = (s - sigma) / np.outer(sd, sd)
    lower = np.tril_indices(p)
    srmr = math.sqrt(float(np.mean(residual[lower] ** 2)))
    logdet = float(np.linalg.slogdet(sigma)[1])
    loglik = (
        -0.5
        * n
        * (p * math.log(2.0 * math.pi) + logdet + float(np.trace(np.linalg.solve(sigma, s))))
    )
    return FitIndices(
        chi_square=chi2,
        df=df,
        p_value=float(stats.chi2.sf(chi2, df)) if df > 0 else math.nan,
        baseline_chi_square=baseline,
        baseline_df=baseline_df,
        cfi=cfi,
        tli=tli,
        rmsea=rmsea,
        rmsea_ci=ci,
        srmr=srmr,
        log_likelihood=loglik,
        aic=-2.0 * loglik + 2.0 * q,
        bic=-2.0 * loglik + q * math.log(n),
        n_parameters=q,
        n_respondents=n,
    )


# ---------------------------------------------------------------- comparisons and effects


@attrs.frozen(kw_only=True)
class LikelihoodRatioTest:
    r"""The $\chi^2$ difference test of a restricted model against a more general one.

    Attributes:
        restricted: Name of the nested (restricted) model.
        general: Name of the more general model.
        chi_square: $\chi^2_{\text{restricted}} - \chi^2_{\text{general}}$.
        df: Difference in degrees of freedom.
        p_value: $P(\chi^2_{df} > \text{chi\_square})$; small values reject the restriction.
        aic_restricted: AIC of the restricted model.
        aic_general: AIC of the general model.
        bic_restricted: BIC of the restricted model.
        bic_general: BIC of the general model.
    """

    restricted: str
    general: str
    chi_square: float
    df: int
    p_value: float
    aic_restricted: float
    aic_general: float
    bic_restricted: float
    bic_general: float


def likelihood_ratio_test(restricted: SEMResult, general: SEMResult) -> LikelihoodRatioTest:
    """Compare two nested SEMs fitted to the same items and respondents.

    Args:
        restricted: The nested model (e.g. KMV).
        general: The model it is nested in (e.g. the direct-effects rival).

    Raises:
        InvalidInputError: Different items or respondents, or a ``general`` model without
            fewer degrees of freedom.
    """
    if restricted.item_codes != general.item_codes or not np.array_equal(
        restricted.sample_covariance, general.sample_covariance
    ):
        raise InvalidInputError(
            "Both models must be fitted to the same items and respondents; their sample "
            "covariance matrices differ."
        )
    df = restricted.fit.df - general.fit.df
    if df <= 0:
        raise InvalidInputError(
            f"The 'general' model ({general.model.name!r}, df {general.fit.df}) must have fewer "
            f"degrees of freedom than the restricted one ({restricted.model.name!r}, df "
            f"{restricted.fit.df})."
        )
    chi2 = max(restricted.fit.chi_square - general.fit.chi_square, 0.0)
    return LikelihoodRatioTest(
        restricted=restricted.model.name,
        general=general.model.name,
        chi_square=chi2,
        df=df,
        p_value=float(stats.chi2.sf(chi2, df)),
        aic_restricted=restricted.fit.aic,
        aic_general=general.fit.aic,
        bic_restricted=restricted.fit.bic,
        bic_general=general.fit.bic,
    )


@attrs.frozen(kw_only=True)
class IndirectEffect:
    """The total indirect effect of one construct on another, with a bootstrap interval.

    Attributes:
        source: The antecedent.
        target: The outcome.
        mediators: Constructs on the routes from ``source`` to ``target``.
        estimate: Unstandardized indirect effect (sum over routes of the path products).
        std_estimate: Standardized indirect effect.
        standard_error: Bootstrap standard error of ``std_estimate``.
        ci: Percentile bootstrap interval of ``std_estimate``.
        confidence: Level of ``ci``.
        n_bootstrap: Successful bootstrap refits.
    """

    source: str
    target: str
    mediators: tuple[str, ...]
    estimate: float
    std_estimate: float
    standard_error: float
    ci: tuple[float, float]
    confidence: float
    n_bootstrap: int


def _indirect_matrix(beta: FloatArray) -> FloatArray:
    """$(I - B)^{-1} - I - B$: effects along routes of two or more paths (Bollen 1989, ch. 8)."""
    m = beta.shape[0]
    out: FloatArray = np.linalg.inv(np.eye(m) - beta) - np.eye(m) - beta
    return out


def _std_indirect(beta: FloatArray, latent_cov: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Indirect effects, unstandardized and standardized by the construct SDs."""
    sd = np.sqrt(np.diag(latent_cov))
    raw = _indirect_matrix(beta)
    return raw, raw * sd[None, :] / sd[:, None]


def indirect_effects(
    result: SEMResult,
    responses: ItemResponses | Mapping[str, ArrayLike],
    *,
    n_bootstrap: int = 500,
    confidence: float = 0.95,
    seed: int | None = 0,
) -> tuple[IndirectEffect, ...]:
    """Indirect effects of every antecedent on every construct it reaches through mediators.

    The bootstrap resamples respondents with replacement and refits the model from the
    estimates (nonparametric bootstrap; Bollen & Stine 1990); intervals are percentile
    intervals of the standardized effect. Resamples whose refit fails are skipped and not
    counted in ``n_bootstrap``.

    Args:
        result: A fitted model.
        responses: The same responses it was fitted to.
        n_bootstrap: Bootstrap resamples (at least 20).
        confidence: Level of the intervals.
        seed: Seed of the resampling.

    Raises:
        InvalidInputError: Responses that are not those of the fit, or bad arguments.
    """
    level = check_probability(confidence, name="confidence")
    if not _is_count(n_bootstrap) or n_bootstrap < 20:
        raise InvalidInputError(
            f"The 'n_bootstrap' parameter must be an int >= 20. Got {n_bootstrap!r}."
        )
    spec = result.model
    data, n, _ = _sample_covariance(spec, responses)
    s = _check_data(spec, data)
    if n != result.n_respondents or not np.allclose(s, result.sample_covariance, rtol=1e-10):
        raise InvalidInputError(
            "The 'responses' are not those the model was fitted to (their covariance differs)."
        )
    layout = _layout(spec, result.identification)
    free = {(e.kind, e.lhs, e.rhs): e.estimate for e in result.parameters if e.free}
    x_hat = np.array(
        [
            free[(kind, *_label(layout, kind, r, c))]
            for kind, r, c in zip(layout.kinds, layout.rows, layout.cols, strict=True)
        ]
    )
    raw, std = _std_indirect(_Matrices.unpack(layout, x_hat).beta, result.latent_covariance)
    reach = np.abs(_indirect_matrix(_pattern(layout))) > 0
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(n_bootstrap):
        sample = data[rng.integers(0, n, size=n)]
        s_b = _covariance(sample)
        try:
            fitted = _converge(layout, s_b, x_hat)
        except ConvergenceError:
            continue
        draws.append(_std_indirect(fitted.state.mats.beta, fitted.state.latent_cov)[1])
    stack = np.array(draws)
    constructs = spec.constructs
    out = []
    tail = (1.0 - level) / 2.0
    for t in range(layout.m):
        for src in range(layout.m):
            if not reach[t, src]:
                continue
            mediators = tuple(
                constructs[k]
                for k in range(layout.m)
                if k not in (t, src) and _reaches(layout, src, k) and _reaches(layout, k, t)
            )
            values = stack[:, t, src]
            out.append(
                IndirectEffect(
                    source=constructs[src],
                    target=constructs[t],
                    mediators=mediators,
                    estimate=float(raw[t, src]),
                    std_estimate=float(std[t, src]),
                    standard_error=float(values.std(ddof=1)),
                    ci=(float(np.quantile(values, tail)), float(np.quantile(values, 1.0 - tail))),
                    confidence=level,
                    n_bootstrap=int(values.size),
                )
            )
    return tuple(out)


def _is_count(value: object) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def _label(layout: _Layout, kind: ParameterKind, r: int, c: int) -> tuple[str, str]:
    constructs, items = layout.spec.constructs, layout.spec.item_codes
    if kind is ParameterKind.LOADING:
        return constructs[c], items[r]
    if kind is ParameterKind.ERROR_VARIANCE:
        return items[r], items[r]
    return constructs[r], constructs[c]


def _pattern(layout: _Layout) -> FloatArray:
    """A path matrix with every free path set to a small positive number (reachability)."""
    beta = np.zeros((layout.m, layout.m))
    for kind, r, c in zip(layout.kinds, layout.rows, layout.cols, strict=True):
        if kind is ParameterKind.PATH:
            beta[r, c] = 0.01
    return beta


def _reaches(layout: _Layout, source: int, target: int) -> bool:
    total = np.linalg.inv(np.eye(layout.m) - _pattern(layout))
    return bool(abs(total[target, source]) > 0)


@functools.cache
def _one_factor_layout(k: int) -> _Layout:
    spec = SEMSpecification(name="one_factor", measurement={"f": [f"i{j}" for j in range(k)]})
    return _layout(spec, "unit_variance")


def _one_factor_omega(covariance: FloatArray) -> float:
    r"""McDonald's $\omega = (\sum\lambda)^2/((\sum\lambda)^2 + \sum\theta)$ of a one-factor ML fit.

    The same quantity as [`mcdonald_omega`][relmark.trust.reliability.mcdonald_omega], by
    Fisher scoring (a few iterations) rather than L-BFGS, for the many refits of a bootstrap.
    Error variances are not bounded, so a Heywood case gives the unbounded ML value.

    Raises:
        ConvergenceError: When the one-factor model cannot be fitted.
    """
    layout = _one_factor_layout(covariance.shape[0])
    state = _converge(layout, covariance, _start(layout, covariance)).state
    loadings = float(state.mats.lam.sum()) ** 2
    return loadings / (loadings + float(state.mats.theta.sum()))


# ---------------------------------------------------------------- simulation


def simulate_items(
    model: SEMSpecification,
    n: int,
    *,
    loadings: Mapping[str, float] | None = None,
    paths: Mapping[tuple[str, str], float] | None = None,
    exogenous_correlation: float = 0.3,
    seed: int | None = None,
) -> dict[str, FloatArray]:
    r"""Normal item scores drawn from a standardized latent model with the given structure.

    Constructs have unit variance: exogenous ones correlate ``exogenous_correlation``,
    endogenous ones get the disturbance variance that makes their total variance 1 (so
    ``paths`` are standardized coefficients); items have unit variance with standardized
    loadings ``loadings`` (default 0.75) and error variance $1 - \lambda^2$. Useful for Monte
    Carlo checks and examples; the data are continuous, not rating-scale answers.

    Args:
        model: The structure (recursive paths).
        n: Respondents.
        loadings: Standardized loading per item code (default 0.75 each).
        paths: Standardized coefficient per ``(source, target)`` (default 0.3 each, with the
            hypothesised sign where there is one).
        exogenous_correlation: Correlation between every two exogenous constructs.
        seed: Seed of the generator.

    Returns:
        A mapping from item code to ``n`` scores, like raw answers: the model's reverse-keyed
        items come out negated, so [`fit_sem`][relmark.trust.sem.fit_sem], which reverses
        them, sees positively loading items.

    Raises:
        InvalidInputError: Coefficients that leave an endogenous construct with a negative
            disturbance variance, or loadings outside (-1, 1).
    """
    implied = _true_covariance(model, loadings, paths, exogenous_correlation)
    rng = np.random.default_rng(seed)
    draws = rng.multivariate_normal(np.zeros(implied.shape[0]), implied, size=int(n))
    return {
        code: (-draws[:, i] if code in model.reverse_keyed else draws[:, i])
        for i, code in enumerate(model.item_codes)
    }


def _true_covariance(
    model: SEMSpecification,
    loadings: Mapping[str, float] | None,
    paths: Mapping[tuple[str, str], float] | None,
    exogenous_correlation: float,
) -> FloatArray:
    constructs = model.constructs
    index = {c: j for j, c in enumerate(constructs)}
    m = len(constructs)
    beta = np.zeros((m, m))
    for p in model.paths:
        default = 0.3 * (p.sign.value if p.sign is not None else 1)
        beta[index[p.target], index[p.source]] = (paths or {}).get((p.source, p.target), default)
    exogenous = [index[c] for c in model.exogenous]
    psi = np.zeros((m, m))
    psi[np.ix_(exogenous, exogenous)] = exogenous_correlation
    for j in exogenous:
        psi[j, j] = 1.0
    # Fill disturbance variances in causal order so each endogenous variance is 1.
    a = np.linalg.inv(np.eye(m) - beta)
    for _ in range(m):
        c = a @ psi @ a.T
        for target in model.endogenous:
            t = index[target]
            psi[t, t] += 1.0 - c[t, t]
    c = a @ psi @ a.T
    negative = [constructs[j] for j in range(m) if psi[j, j] <= 0 or not np.isclose(c[j, j], 1.0)]
    if negative:
        raise InvalidInputError(
            f"The path coefficients leave construct(s) {negative} without a positive "
            "disturbance variance; choose smaller standardized paths."
        )
    lam = np.zeros((len(model.item_codes), m))
    for i, code in enumerate(model.item_codes):
        value = (loadings or {}).get(code, 0.75)
        if not -1.0 < value < 1.0:
            raise InvalidInputError(
                f"The standardized loading of item {code!r} must lie in (-1, 1). Got {value}."
            )
        lam[i, index[_construct_of(model, code)]] = value
    out: FloatArray = lam @ c @ lam.T + np.diag(1.0 - (lam**2).sum(axis=1))
    return out


def _construct_of(model: SEMSpecification, code: str) -> str:
    for name, items in model.measurement:
        if code in items:
            return name
    raise InvalidInputError(f"Item {code!r} is not in model {model.name!r}.")
