"""The latent-variable SEM: lavaan oracle, Monte Carlo, invariances and error reporting."""

from __future__ import annotations

import csv
import importlib.util
import json
import math
from functools import cache
from pathlib import Path

import attrs
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relmark.errors import ConvergenceError, InvalidInputError, ModelAssumptionWarning
from relmark.trust import PathSign, default_kmv_instrument, keyed_responses
from relmark.trust import StructuralPath as KPath
from relmark.trust.sem import (
    ParameterKind,
    SEMResult,
    SEMSpecification,
    fit_sem,
    indirect_effects,
    kmv_model,
    kmv_rival_model,
    likelihood_ratio_test,
    ml_discrepancy,
    simulate_items,
)

DATA = Path(__file__).parent / "data"
_GENERATOR = importlib.util.spec_from_file_location("_oracle_data", DATA.parent / "_oracle_data.py")
assert _GENERATOR is not None
assert _GENERATOR.loader is not None
_oracle_data = importlib.util.module_from_spec(_GENERATOR)
_GENERATOR.loader.exec_module(_oracle_data)
TRUE_PATHS: dict[tuple[str, str], float] = _oracle_data.TRUE_PATHS
true_loadings = _oracle_data.true_loadings
ORACLE = json.loads((DATA / "lavaan_oracle.json").read_text(encoding="utf-8"))
SPECS = {"kmv": kmv_model(), "kmv_rival": kmv_rival_model()}
FIT_KEYS = {
    "chisq": lambda r: r.fit.chi_square,
    "df": lambda r: r.fit.df,
    "pvalue": lambda r: r.fit.p_value,
    "baseline.chisq": lambda r: r.fit.baseline_chi_square,
    "baseline.df": lambda r: r.fit.baseline_df,
    "cfi": lambda r: r.fit.cfi,
    "tli": lambda r: r.fit.tli,
    "rmsea": lambda r: r.fit.rmsea,
    "rmsea.ci.lower": lambda r: r.fit.rmsea_ci[0],
    "rmsea.ci.upper": lambda r: r.fit.rmsea_ci[1],
    "srmr": lambda r: r.fit.srmr,
    "logl": lambda r: r.fit.log_likelihood,
    "aic": lambda r: r.fit.aic,
    "bic": lambda r: r.fit.bic,
    "npar": lambda r: r.fit.n_parameters,
    "ntotal": lambda r: r.n_respondents,
}


def read_csv(name: str) -> dict[str, np.ndarray]:
    """A data file of ``tests/trust/data`` as columns."""
    with (DATA / f"{name}.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    return {code: np.array([float(r[i]) for r in rows[1:]]) for i, code in enumerate(rows[0])}


@cache
def oracle_fit(dataset: str, index: int) -> tuple[SEMResult, dict[str, object]]:
    """relmark's fit of one lavaan oracle model, with lavaan's numbers."""
    reference = ORACLE["datasets"][dataset]["fits"][index]
    result = fit_sem(
        SPECS[reference["model"]],
        read_csv(dataset),
        identification=reference["identification"],
        warn=False,
    )
    return result, reference


def _kind(result: SEMResult, lhs: str, op: str) -> ParameterKind:
    if op == "~~" and lhs in result.item_codes:
        return ParameterKind.ERROR_VARIANCE
    return ParameterKind(op)


CASES = [(d, i) for d in ("demo_survey", "latent_kmv") for i in range(3)]


@pytest.mark.parametrize(("dataset", "index"), CASES)
def test_estimates_and_standard_errors_match_lavaan(dataset: str, index: int) -> None:
    """Every estimate, SE, standardized estimate and its SE agrees with lavaan to 1e-4."""
    result, reference = oracle_fit(dataset, index)
    rows = reference["parameters"]
    assert isinstance(rows, list)
    assert len(rows) == len(result.parameters)
    for row in rows:
        entry = result.parameter(row["lhs"], _kind(result, row["lhs"], row["op"]), row["rhs"])
        assert entry.estimate == pytest.approx(row["est"], abs=1e-4), row
        assert entry.std_estimate == pytest.approx(row["std"], abs=1e-4), row
        assert entry.std_standard_error == pytest.approx(row["std_se"], abs=1e-4), row
        if entry.free:
            assert entry.standard_error == pytest.approx(row["se"], abs=1e-4), row
        else:
            assert math.isnan(entry.standard_error)


@pytest.mark.parametrize(("dataset", "index"), CASES)
def test_fit_indices_and_r_squared_match_lavaan(dataset: str, index: int) -> None:
    """chi-square, df, p, CFI, TLI, RMSEA and its CI, SRMR, logL, AIC, BIC and R² match lavaan."""
    result, reference = oracle_fit(dataset, index)
    fit = reference["fit"]
    assert isinstance(fit, dict)
    for key, value in fit.items():
        mine = FIT_KEYS[key](result)
        scale = (
            max(1.0, abs(value))
            if key in ("chisq", "baseline.chisq", "logl", "aic", "bic")
            else 1.0
        )
        assert mine == pytest.approx(value, abs=1e-3 * scale), key
    r2 = reference["r2"]
    assert isinstance(r2, dict)
    for name, value in r2.items():
        assert result.r_squared[name] == pytest.approx(value, abs=1e-4), name
    assert result.converged
    assert result.heywood_cases == ()


@pytest.mark.parametrize("dataset", ["demo_survey", "latent_kmv"])
def test_likelihood_ratio_test_matches_lavaan_anova(dataset: str) -> None:
    """The KMV-vs-rival chi-square difference test equals lavaan's anova()."""
    kmv, _ = oracle_fit(dataset, 0)
    rival, _ = oracle_fit(dataset, 2)
    test = likelihood_ratio_test(kmv, rival)
    reference = ORACLE["datasets"][dataset]["lr"]
    assert test.chi_square == pytest.approx(reference["chisq"], abs=1e-3)
    assert test.df == reference["df"]
    assert test.p_value == pytest.approx(reference["p"], abs=1e-4)
    assert test.aic_restricted == kmv.fit.aic


def test_demo_survey_csv_is_the_demo_survey() -> None:
    """The pinned survey file holds exactly the answers the demo simulates."""
    from relmark.cli._demo import _simulated_survey

    answers, _ = _simulated_survey(300)
    pinned = read_csv("demo_survey")
    assert list(pinned) == list(answers)
    for code, column in answers.items():
        np.testing.assert_array_equal(pinned[code], column)


def test_item_responses_and_raw_answers_give_one_fit() -> None:
    """Keyed ItemResponses and raw answers (reversed by the spec) give the same estimates."""
    raw = read_csv("demo_survey")
    kmv = default_kmv_instrument()
    keyed = keyed_responses(kmv, raw)
    a = fit_sem(kmv_model(kmv), keyed, warn=False)
    b = fit_sem(kmv_model(kmv), raw, warn=False)
    assert a.fit.chi_square == pytest.approx(b.fit.chi_square, rel=1e-10)
    for x, y in zip(a.parameters, b.parameters, strict=True):
        assert x.estimate == pytest.approx(y.estimate, abs=1e-8)


def test_kmv_standardized_loadings_are_positive_after_keying() -> None:
    """Reverse-keyed items load positively once keyed: the instrument's keying is applied."""
    result, _ = oracle_fit("latent_kmv", 0)
    loadings = [e for e in result.parameters if e.kind is ParameterKind.LOADING]
    assert len(loadings) == 38
    assert all(e.std_estimate > 0.5 for e in loadings)


# Monte Carlo from the known latent KMV model.


def _monte_carlo(replications: int, n: int, seed: int) -> tuple[float, float]:
    """Mean |relative bias| of the 13 standardized paths and the 95 % Wald coverage."""
    spec = kmv_model()
    truth = np.array([TRUE_PATHS[(p.source, p.target)] for p in spec.paths])
    loadings = true_loadings(spec)
    estimates = np.empty((replications, truth.size))
    covered = np.empty((replications, truth.size), dtype=bool)
    for r in range(replications):
        data = simulate_items(
            spec, n, loadings=loadings, paths=TRUE_PATHS, exogenous_correlation=0.3, seed=seed + r
        )
        result = fit_sem(spec, data, identification="unit_variance", warn=False)
        std = np.array([e.std_estimate for e in result.paths])
        se = np.array([e.std_standard_error for e in result.paths])
        estimates[r] = std
        covered[r] = np.abs(std - truth) <= 1.959964 * se
    bias = np.abs(estimates.mean(axis=0) / truth - 1.0)
    return float(bias.mean()), float(covered.mean())


def test_monte_carlo_small_recovers_the_true_paths() -> None:
    """A fast Monte Carlo (20 replications, N = 1,000): bias under 2 %, coverage near 95 %."""
    bias, coverage = _monte_carlo(20, 1000, seed=100)
    assert bias <= 0.02
    assert 0.90 <= coverage <= 0.99


@pytest.mark.slow
def test_monte_carlo_bias_and_coverage() -> None:
    """100 replications at N = 1,000: mean |relative bias| <= 2 % and coverage in [0.92, 0.97].

    1,300 intervals put the coverage's standard error near 0.006. About 4 s with one BLAS
    thread; up to about a minute with a multi-threaded BLAS on a busy 2-core machine.
    """
    bias, coverage = _monte_carlo(100, 1000, seed=5000)
    assert bias <= 0.02
    assert 0.92 <= coverage <= 0.97


# Invariances, checked with hypothesis.

SMALL = SEMSpecification(
    name="small",
    measurement={"a": ["A1", "A2", "A3"], "b": ["B1", "B2", "B3"], "c": ["C1", "C2", "C3"]},
    paths=[
        KPath(source="a", target="b", sign=PathSign.POSITIVE),
        KPath(source="b", target="c", sign=PathSign.POSITIVE),
    ],
)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), scale=st.floats(0.2, 5.0))
def test_ml_discrepancy_is_nonnegative_and_zero_at_s(seed: int, scale: float) -> None:
    """F(S, Σ) >= 0 for any pair of covariance matrices, and F(S, S) = 0."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((20, 5))
    b = rng.standard_normal((20, 5))
    s = a.T @ a / 20 * scale
    sigma = b.T @ b / 20 + 0.1 * np.eye(5)
    assert ml_discrepancy(s, sigma) >= 0.0
    assert ml_discrepancy(s, s) == pytest.approx(0.0, abs=1e-10)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**31 - 1))
def test_saturated_model_has_zero_discrepancy(seed: int) -> None:
    """A saturated model (one factor, three items: 6 moments, 6 parameters) reproduces S: F = 0."""
    spec = SEMSpecification(name="one", measurement={"f": ["X1", "X2", "X3"]})
    data = simulate_items(spec, 200, seed=seed)
    result = fit_sem(spec, data, warn=False)
    assert result.fit.df == 0
    assert result.discrepancy == pytest.approx(0.0, abs=1e-9)
    np.testing.assert_allclose(result.implied_covariance, result.sample_covariance, atol=1e-8)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), order=st.permutations(range(3)))
def test_estimates_invariant_to_item_order(seed: int, order: list[int]) -> None:
    """Listing a construct's items in another order leaves every estimate unchanged."""
    data = simulate_items(SMALL, 300, seed=seed)
    other = attrs.evolve(
        SMALL,
        measurement={name: [items[k] for k in order] for name, items in SMALL.measurement[::-1]},
    )
    base = fit_sem(SMALL, data, identification="unit_variance", warn=False)
    moved = fit_sem(other, data, identification="unit_variance", warn=False)
    assert moved.fit.chi_square == pytest.approx(base.fit.chi_square, rel=1e-8, abs=1e-8)
    for entry in base.parameters:
        twin = moved.parameter(entry.lhs, entry.kind, entry.rhs)
        assert twin.estimate == pytest.approx(entry.estimate, abs=1e-6)
        assert twin.standard_error == pytest.approx(entry.standard_error, abs=1e-6, nan_ok=True)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**31 - 1))
def test_standardized_solution_invariant_to_identification(seed: int) -> None:
    """Marker and unit-variance identification give one standardized solution, fit and R²."""
    data = simulate_items(SMALL, 300, seed=seed)
    marker = fit_sem(SMALL, data, identification="marker", warn=False)
    unit = fit_sem(SMALL, data, identification="unit_variance", warn=False)
    assert unit.fit.chi_square == pytest.approx(marker.fit.chi_square, rel=1e-8, abs=1e-8)
    for entry in marker.parameters:
        twin = unit.parameter(entry.lhs, entry.kind, entry.rhs)
        assert twin.std_estimate == pytest.approx(entry.std_estimate, abs=1e-6)
        assert twin.std_standard_error == pytest.approx(entry.std_standard_error, abs=1e-5)
    for name, value in marker.r_squared.items():
        assert unit.r_squared[name] == pytest.approx(value, abs=1e-7)


# Reporting and errors.


def test_heywood_case_is_named_and_warned() -> None:
    """r12 = r13 = 0.8, r23 = 0.3 imply λ1² = 0.64/0.3 > 1: X1's negative error variance is named."""
    corr = np.array([[1.0, 0.8, 0.8], [0.8, 1.0, 0.3], [0.8, 0.3, 1.0]])
    draws = np.random.default_rng(3).multivariate_normal(np.zeros(3), corr, size=500)
    data = {f"X{i + 1}": draws[:, i] for i in range(3)}
    spec = SEMSpecification(name="h", measurement={"x": ["X1", "X2", "X3"]})
    with pytest.warns(ModelAssumptionWarning, match="Heywood case"):
        result = fit_sem(spec, data)
    assert any("error variance of item 'X1' is negative" in n for n in result.heywood_cases)
    assert result.parameter("X1", ParameterKind.ERROR_VARIANCE, "X1").estimate < 0
    assert fit_sem(spec, data, warn=False).heywood_cases == result.heywood_cases


def test_bad_input_is_named() -> None:
    """Missing items, bad identification, too few respondents and flat items raise clearly."""
    data = simulate_items(SMALL, 50, seed=1)
    with pytest.raises(InvalidInputError, match="identification"):
        fit_sem(SMALL, data, identification="std")  # type: ignore[arg-type]
    partial = dict(data)
    del partial["C3"]
    with pytest.raises(InvalidInputError, match=r"\['C3'\]"):
        fit_sem(SMALL, partial)
    with pytest.raises(InvalidInputError, match="more respondents than items"):
        fit_sem(SMALL, {k: v[:8] for k, v in data.items()})
    flat = dict(data)
    flat["A2"] = np.ones(50)
    with pytest.raises(InvalidInputError, match=r"\['A2'\] have no variance"):
        fit_sem(SMALL, flat)
    with pytest.raises(InvalidInputError, match="at least 2 items"):
        SEMSpecification(name="x", measurement={"a": ["A1"]})
    with pytest.raises(InvalidInputError, match="does not define"):
        SEMSpecification(
            name="x", measurement={"a": ["A1", "A2"]}, paths=[KPath(source="a", target="z")]
        )
    with pytest.raises(InvalidInputError, match="endogenous"):
        attrs.evolve(SMALL, disturbance_covariances=[("a", "c")])


def test_missing_answers_are_dropped_listwise_and_counted() -> None:
    """Respondents with a missing item are left out and counted in n_dropped."""
    data = simulate_items(SMALL, 300, seed=4)
    data["A1"][:7] = np.nan
    result = fit_sem(SMALL, data, warn=False)
    assert (result.n_respondents, result.n_dropped) == (293, 7)


def test_unidentified_model_is_reported() -> None:
    """A two-item construct alone is not identified; the error names the parameters."""
    spec = SEMSpecification(name="two", measurement={"a": ["A1", "A2"]})
    data = simulate_items(spec, 200, seed=2)
    with pytest.raises(InvalidInputError, match="not identified"):
        fit_sem(spec, data)


def test_disturbance_covariance_only_when_specified() -> None:
    """No disturbance covariance is free by default; listing one adds exactly that parameter."""
    spec = kmv_model()
    data = simulate_items(spec, 400, seed=8)
    base = fit_sem(spec, data, warn=False)
    cov = [e for e in base.parameters if e.kind is ParameterKind.COVARIANCE and e.lhs != e.rhs]
    assert {frozenset((e.lhs, e.rhs)) for e in cov} <= {
        frozenset((a, b)) for a in spec.exogenous for b in spec.exogenous
    }
    freed = attrs.evolve(spec, disturbance_covariances=[("cooperation", "acquiescence")])
    wider = fit_sem(freed, data, warn=False)
    assert wider.fit.df == base.fit.df - 1
    assert wider.parameter("acquiescence", "~~", "cooperation").free


def test_nonconvergence_raises_convergence_error() -> None:
    """An item equal to the factor and one reversed against it: no ML solution, a clear error."""
    spec = SEMSpecification(name="bad", measurement={"a": ["A1", "A2", "A3"]})
    rng = np.random.default_rng(0)
    f = rng.standard_normal(100)
    data = {"A1": -f + rng.standard_normal(100), "A2": f + 0.01 * rng.standard_normal(100), "A3": f}
    with pytest.raises(ConvergenceError, match=r"did not converge.*reverse keying"):
        fit_sem(spec, data, warn=False)


def test_indirect_effects_bootstrap_covers_the_truth() -> None:
    """The indirect effect is the path product; its bootstrap SE agrees with Sobel's delta SE."""
    data = simulate_items(SMALL, 800, paths={("a", "b"): 0.5, ("b", "c"): 0.6}, seed=13)
    result = fit_sem(SMALL, data, warn=False)
    (effect,) = indirect_effects(result, data, n_bootstrap=100, seed=1)
    assert (effect.source, effect.target, effect.mediators) == ("a", "c", ("b",))
    product = result.path("a", "b").std_estimate * result.path("b", "c").std_estimate
    assert effect.std_estimate == pytest.approx(product, abs=1e-10)
    assert effect.ci[0] < 0.30 < effect.ci[1]
    first, second = result.path("a", "b"), result.path("b", "c")
    sobel = math.hypot(
        first.std_estimate * second.std_standard_error,
        second.std_estimate * first.std_standard_error,
    )
    assert effect.standard_error == pytest.approx(sobel, rel=0.3)
    assert effect.n_bootstrap == 100
    with pytest.raises(InvalidInputError, match="not those"):
        indirect_effects(result, simulate_items(SMALL, 800, seed=13), n_bootstrap=20)


def test_likelihood_ratio_test_refuses_unrelated_fits() -> None:
    """The LR test needs the same data and a more general model."""
    data = simulate_items(SMALL, 300, seed=3)
    base = fit_sem(SMALL, data, warn=False)
    general = fit_sem(
        attrs.evolve(SMALL, paths=[*SMALL.paths, KPath(source="a", target="c")]), data, warn=False
    )
    test = likelihood_ratio_test(base, general)
    assert test.df == 1
    with pytest.raises(InvalidInputError, match="fewer"):
        likelihood_ratio_test(general, base)
    other = fit_sem(SMALL, simulate_items(SMALL, 300, seed=4), warn=False)
    with pytest.raises(InvalidInputError, match="same items"):
        likelihood_ratio_test(other, general)
