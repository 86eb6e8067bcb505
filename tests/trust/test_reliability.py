"""Reliability: alpha, omega, CR, AVE, item diagnostics and the report, against independent oracles."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize

from relmark.errors import InvalidInputError, ReliabilityWarning
from relmark.trust import (
    Construct,
    Instrument,
    Item,
    alpha_if_item_deleted,
    average_variance_extracted,
    composite_reliability,
    cronbach_alpha,
    fit_one_factor,
    item_rest_correlations,
    keyed_responses,
    mcdonald_omega,
    reliability_report,
)
from relmark.trust.reliability import _ml_objective

HAND = [[1, 2, 2], [2, 2, 3], [3, 4, 3], [4, 4, 5]]


def one_factor_sample(
    loadings: np.ndarray, n: int, seed: int, scales: np.ndarray | None = None
) -> np.ndarray:
    """Items x_i = s_i (λ_i f + sqrt(1 - λ_i²) e_i) with standard normal f and e."""
    rng = np.random.default_rng(seed)
    f = rng.standard_normal(n)
    e = rng.standard_normal((n, loadings.size))
    x = f[:, None] * loadings + e * np.sqrt(1.0 - loadings**2)
    return x if scales is None else x * scales


def hoyt_alpha(x: np.ndarray) -> float:
    """Hoyt (1941): alpha = 1 - MS_residual / MS_persons from the two-way ANOVA."""
    n, k = x.shape
    grand = x.mean()
    ss_persons = k * ((x.mean(axis=1) - grand) ** 2).sum()
    ss_items = n * ((x.mean(axis=0) - grand) ** 2).sum()
    ss_total = ((x - grand) ** 2).sum()
    ms_persons = ss_persons / (n - 1)
    ms_resid = (ss_total - ss_persons - ss_items) / ((n - 1) * (k - 1))
    return 1.0 - ms_resid / ms_persons


def test_alpha_hand_computed():
    """Alpha of a 4 × 3 table equals the hand-computed 46/49 (variances 5/3, 4/3, 4.75/3; total 36.75/3)."""
    assert cronbach_alpha(HAND).value == pytest.approx(46 / 49, rel=1e-12)


def test_alpha_matches_hoyt_anova_form():
    """The covariance form of alpha equals Hoyt's ANOVA form on random data."""
    x = one_factor_sample(
        np.array([0.5, 0.6, 0.7, 0.4]), 300, seed=1, scales=np.array([1, 2, 3, 1])
    )
    assert cronbach_alpha(x).value == pytest.approx(hoyt_alpha(x), rel=1e-10)


def test_standardized_alpha_matches_spearman_brown_form():
    """On z-scored items alpha equals k r̄ / (1 + (k - 1) r̄) (standardized alpha)."""
    x = one_factor_sample(np.array([0.5, 0.6, 0.7, 0.8, 0.3]), 500, seed=2)
    z = (x - x.mean(axis=0)) / x.std(axis=0, ddof=1)
    r = np.corrcoef(x, rowvar=False)
    k = r.shape[0]
    rbar = (r.sum() - k) / (k * (k - 1))
    assert cronbach_alpha(z).value == pytest.approx(k * rbar / (1 + (k - 1) * rbar), rel=1e-10)


def test_feldt_interval_covers_population_alpha():
    """Feldt's 95% interval covers the population alpha of parallel items in about 95% of samples."""
    rng = np.random.default_rng(3)
    k, rho, n, reps = 5, 0.3, 60, 600
    population = k * rho / (1 + (k - 1) * rho)
    cov = np.full((k, k), rho) + np.eye(k) * (1 - rho)
    chol = np.linalg.cholesky(cov)
    hits = 0
    for _ in range(reps):
        x = rng.standard_normal((n, k)) @ chol.T
        lo, hi = cronbach_alpha(x).ci
        hits += lo <= population <= hi
    assert 0.925 <= hits / reps <= 0.975


def test_alpha_interval_brackets_estimate_and_narrows_with_n():
    """The interval contains the estimate and shrinks as respondents are added."""
    lam = np.array([0.6, 0.7, 0.5, 0.6])
    small = cronbach_alpha(one_factor_sample(lam, 50, seed=4))
    large = cronbach_alpha(one_factor_sample(lam, 2000, seed=4))
    for r in (small, large):
        assert r.ci[0] < r.value < r.ci[1]
    assert large.ci[1] - large.ci[0] < small.ci[1] - small.ci[0]


def test_alpha_missing_policy():
    """NaN rows are dropped listwise and counted; missing='raise' refuses them."""
    x = np.array([*HAND, [np.nan, 1, 1]], dtype=float)
    r = cronbach_alpha(x)
    assert r.n_dropped == 1
    assert r.n_respondents == 4
    assert r.value == pytest.approx(46 / 49)
    with pytest.raises(InvalidInputError, match="row\\(s\\) \\[4\\]"):
        cronbach_alpha(x, missing="raise")


@pytest.mark.parametrize(
    ("items", "match"),
    [
        ([[1], [2], [3]], "at least 2 item"),
        ([[1, 2], [2, 3]], "at least 3 respondents"),
        ([1, 2, 3], "two-dimensional"),
        ([[1, np.inf], [1, 2], [2, 2]], "infinite"),
    ],
)
def test_alpha_rejects_bad_input(items, match):
    """Bad arrays raise InvalidInputError saying what is wrong."""
    with pytest.raises(InvalidInputError, match=match):
        cronbach_alpha(items)


def test_alpha_rejects_bad_confidence():
    """A confidence outside (0, 1) is refused with the parameter named."""
    with pytest.raises(InvalidInputError, match="'confidence'"):
        cronbach_alpha(HAND, confidence=1.5)


def test_ml_gradient_matches_finite_differences():
    """The analytic gradient of the ML discrepancy agrees with finite differences."""
    x = one_factor_sample(np.array([0.5, 0.6, 0.7, 0.8]), 400, seed=5)
    corr = np.corrcoef(x, rowvar=False)
    logdet = float(np.linalg.slogdet(corr)[1])
    theta = np.array([0.4, 0.5, 0.6, 0.7, -0.5, -0.4, -0.6, -0.3])
    err = optimize.check_grad(
        lambda t: _ml_objective(t, corr, logdet)[0],
        lambda t: _ml_objective(t, corr, logdet)[1],
        theta,
    )
    assert err < 1e-5


def test_one_factor_three_items_matches_closed_form():
    """With 3 items the model is just identified: λ_i² = s_ij s_ik / s_jk exactly."""
    x = one_factor_sample(np.array([0.6, 0.7, 0.8]), 500, seed=6, scales=np.array([1.0, 2.0, 0.5]))
    s = np.cov(x, rowvar=False)
    lam = np.sqrt(
        [s[0, 1] * s[0, 2] / s[1, 2], s[0, 1] * s[1, 2] / s[0, 2], s[0, 2] * s[1, 2] / s[0, 1]]
    )
    psi = np.diag(s) - lam**2
    fit = fit_one_factor(s)
    np.testing.assert_allclose(fit.loadings, lam, rtol=1e-5)
    np.testing.assert_allclose(fit.uniquenesses, psi, rtol=1e-4)
    omega = lam.sum() ** 2 / (lam.sum() ** 2 + psi.sum())
    assert mcdonald_omega(x).value == pytest.approx(omega, rel=1e-6)


def test_omega_recovers_population_value():
    """A one-factor simulation with loadings λ and unequal item scales recovers ω within 0.01."""
    lam = np.array([0.4, 0.5, 0.6, 0.7, 0.8, 0.9])
    scales = np.array([1.0, 3.0, 0.5, 2.0, 1.0, 4.0])
    x = one_factor_sample(lam, 20_000, seed=7, scales=scales)
    raw_lam = lam * scales
    raw_psi = (1 - lam**2) * scales**2
    population = raw_lam.sum() ** 2 / (raw_lam.sum() ** 2 + raw_psi.sum())
    result = mcdonald_omega(x)
    assert result.value == pytest.approx(population, abs=0.01)
    np.testing.assert_allclose(result.factor.standardized_loadings, lam, atol=0.03)


def test_omega_equals_alpha_under_tau_equivalence_in_large_samples():
    """With equal loadings and unique variances (parallel items) ω and α share one population value."""
    x = one_factor_sample(np.full(5, 0.6), 20_000, seed=8)
    assert mcdonald_omega(x).value == pytest.approx(cronbach_alpha(x).value, abs=0.005)


def test_factor_sign_makes_loadings_sum_positive():
    """A negatively keyed item gets a negative loading; the factor is oriented to a positive sum."""
    x = one_factor_sample(np.array([0.7, 0.7, 0.7, 0.7]), 3000, seed=9)
    x[:, 1] = -x[:, 1]
    fit = mcdonald_omega(x).factor
    assert fit.standardized_loadings[1] < 0
    assert (np.delete(fit.standardized_loadings, 1) > 0).all()


def test_omega_needs_three_items():
    """Two items cannot identify a one-factor model."""
    with pytest.raises(InvalidInputError, match="at least 3 item"):
        mcdonald_omega([[1, 2], [2, 3], [3, 3], [4, 5]])


def test_composite_reliability_and_ave_hand_computed():
    """CR and AVE of loadings 0.7, 0.8, 0.9 equal 5.76/6.82 and 1.94/3."""
    assert composite_reliability([0.7, 0.8, 0.9]) == pytest.approx(5.76 / 6.82, rel=1e-12)
    assert average_variance_extracted([0.7, 0.8, 0.9]) == pytest.approx(1.94 / 3, rel=1e-12)


def test_loadings_must_be_standardized():
    """Loadings outside [-1, 1] are refused."""
    with pytest.raises(InvalidInputError, match="standardized"):
        composite_reliability([0.5, 1.2])


def test_item_rest_and_alpha_if_deleted_match_direct_computation():
    """Item-rest correlations and alpha-if-deleted equal np.corrcoef and alpha of the subsets."""
    x = one_factor_sample(np.array([0.5, 0.6, 0.7, 0.2]), 400, seed=10)
    rest = item_rest_correlations(x)
    deleted = alpha_if_item_deleted(x)
    for i in range(4):
        others = np.delete(x, i, axis=1)
        assert rest[i] == pytest.approx(np.corrcoef(x[:, i], others.sum(axis=1))[0, 1])
        assert deleted[i] == pytest.approx(cronbach_alpha(others).value)
    assert deleted.argmax() == 3  # dropping the weakest item helps most


def two_construct_instrument(k: int = 4) -> Instrument:
    def construct(name: str, prefix: str) -> Construct:
        items = [
            Item(code=f"{prefix}{i}", text=f"{name} item {i}", scale_min=-100, scale_max=100)
            for i in range(k)
        ]
        return Construct(name=name, items=items)

    return Instrument(name="two", constructs=[construct("a", "A"), construct("b", "B")])


def two_construct_responses(lam_a, lam_b, r, n, seed):
    rng = np.random.default_rng(seed)
    latent = rng.multivariate_normal([0, 0], [[1, r], [r, 1]], size=n)
    out = {}
    for j, (lam, prefix) in enumerate(((np.asarray(lam_a), "A"), (np.asarray(lam_b), "B"))):
        e = rng.standard_normal((n, lam.size))
        x = latent[:, [j]] * lam + e * np.sqrt(1 - lam**2)
        for i in range(lam.size):
            out[f"{prefix}{i}"] = x[:, i]
    return out


def test_report_recovers_population_cr_and_ave_and_passes_fornell_larcker():
    """With strong loadings the report matches population CR/AVE, warns about nothing and passes F-L."""
    lam = np.array([0.7, 0.75, 0.8, 0.85])
    responses = two_construct_responses(lam, lam, 0.3, 5000, seed=11)
    report = reliability_report(two_construct_instrument(), responses)
    a = report.construct("a")
    assert a.composite_reliability == pytest.approx(composite_reliability(lam), abs=0.01)
    assert a.ave == pytest.approx(average_variance_extracted(lam), abs=0.02)
    assert a.alpha_ci[0] < a.alpha < a.alpha_ci[1]
    assert report.warnings == ()
    assert [c.passed for c in report.fornell_larcker] == [True]


def test_report_warns_and_records_missed_thresholds():
    """Weak loadings raise ReliabilityWarnings for alpha, CR and AVE, and the report records them."""
    weak = np.array([0.3, 0.35, 0.3, 0.4])
    strong = np.array([0.8, 0.8, 0.8, 0.8])
    responses = two_construct_responses(weak, strong, 0.0, 2000, seed=12)
    with pytest.warns(ReliabilityWarning) as caught:
        report = reliability_report(two_construct_instrument(), responses)
    messages = [str(w.message) for w in caught]
    assert messages == list(report.warnings)
    joined = " ".join(messages)
    for label in ("Cronbach's alpha", "composite reliability", "AVE"):
        assert label in joined
    assert all("'a'" in m for m in messages)


def test_report_without_warn_only_records():
    """warn=False emits nothing (warnings are errors under pytest) but still records the issues."""
    responses = two_construct_responses([0.3, 0.3, 0.3, 0.3], [0.8] * 4, 0.0, 1000, seed=13)
    report = reliability_report(two_construct_instrument(), responses, warn=False)
    assert len(report.warnings) >= 3


def test_report_flags_item_needing_reverse_keying():
    """An item generated with a negative loading but not reverse-keyed is named in a warning."""
    responses = two_construct_responses([0.8, -0.8, 0.8, 0.8], [0.8] * 4, 0.0, 2000, seed=14)
    report = reliability_report(two_construct_instrument(), responses, warn=False)
    assert any("mixed signs" in w and "['A1']" in w for w in report.warnings)


def test_report_fails_fornell_larcker_for_indistinct_constructs():
    """Constructs correlating 0.99 fail the Fornell-Larcker check, with a warning."""
    lam = np.array([0.8, 0.8, 0.8, 0.8])
    responses = two_construct_responses(lam, lam, 0.99, 3000, seed=15)
    with pytest.warns(ReliabilityWarning, match="Fornell-Larcker"):
        report = reliability_report(two_construct_instrument(), responses)
    (check,) = report.fornell_larcker
    assert not check.passed
    assert check.correlation > check.sqrt_ave_first


def test_report_uses_complete_cases_per_construct():
    """A respondent missing one item of construct a still counts for construct b."""
    responses = two_construct_responses([0.8] * 4, [0.8] * 4, 0.2, 500, seed=16)
    responses["A0"][:10] = np.nan
    report = reliability_report(two_construct_instrument(), responses, warn=False)
    assert report.construct("a").n_respondents == 490
    assert report.construct("b").n_respondents == 500


def test_report_single_and_two_item_constructs():
    """Two items give alpha but no omega/CR/AVE; one item gives a recorded note and NaN."""
    rng = np.random.default_rng(17)
    f = rng.standard_normal(300)
    two = Construct(name="two", items=[Item(code="P", text="p"), Item(code="Q", text="q")])
    one = Construct(name="one", items=[Item(code="R", text="r")])
    inst = Instrument(name="small", constructs=[two, one])
    answers = {
        "P": np.clip(np.round(4 + f + rng.standard_normal(300) * 0.5), 1, 7),
        "Q": np.clip(np.round(4 + f + rng.standard_normal(300) * 0.5), 1, 7),
        "R": rng.integers(1, 8, 300).astype(float),
    }
    report = reliability_report(inst, answers, warn=False)
    assert math.isfinite(report.construct("two").alpha)
    assert math.isnan(report.construct("two").omega)
    assert math.isnan(report.construct("one").alpha)
    assert any("single item" in w for w in report.warnings)


def test_report_survives_construct_with_fewer_respondents_than_items():
    """n <= k gives a singular covariance: the report records a note naming the construct and its items, ω/CR/AVE NaN."""
    rng = np.random.default_rng(21)
    items = [Item(code=f"T{i}", text=f"t{i}") for i in range(5)]
    other = [Item(code=f"U{i}", text=f"u{i}") for i in range(3)]
    inst = Instrument(
        name="tiny",
        constructs=[Construct(name="wide", items=items), Construct(name="narrow", items=other)],
    )
    answers = {f"T{i}": rng.integers(1, 8, 4).astype(float) for i in range(5)}
    answers.update({f"U{i}": rng.integers(1, 8, 4).astype(float) for i in range(3)})
    report = reliability_report(inst, answers, warn=False)
    wide = report.construct("wide")
    assert wide.n_respondents == 4
    assert math.isfinite(wide.alpha)
    assert math.isnan(wide.omega)
    assert math.isnan(wide.composite_reliability)
    assert math.isnan(wide.ave)
    assert np.isnan(wide.loadings).all()
    (note,) = [w for w in wide.warnings if "one-factor" in w]
    assert "'wide'" in note
    assert all(f"T{i}" in note for i in range(5))


def test_report_names_zero_variance_item_by_code():
    """A constant item is named by its code in the construct's note, and the report still completes."""
    rng = np.random.default_rng(22)
    items = [Item(code=code, text=code) for code in ("X1", "X2", "X3")]
    inst = Instrument(name="flat", constructs=[Construct(name="c", items=items)])
    answers = {
        "X1": rng.integers(1, 8, 50).astype(float),
        "X2": np.full(50, 4.0),
        "X3": rng.integers(1, 8, 50).astype(float),
    }
    report = reliability_report(inst, answers, warn=False)
    entry = report.construct("c")
    assert math.isnan(entry.omega)
    assert any("'X2'" in w and "variance" in w for w in entry.warnings)


def test_fit_one_factor_names_zero_variance_items_by_code():
    """fit_one_factor names a zero-variance item by its code when given item_codes."""
    cov = np.diag([1.0, 0.0, 2.0])
    with pytest.raises(InvalidInputError, match=r"\['B'\]"):
        fit_one_factor(cov, item_codes=("A", "B", "C"))


def test_report_refuses_item_responses_of_another_instrument():
    """ItemResponses whose items differ from the instrument raise InvalidInputError, not KeyError."""
    inst = two_construct_instrument()
    other = Instrument(
        name="other",
        constructs=[Construct(name="z", items=[Item(code=f"Z{i}", text="z") for i in range(3)])],
    )
    keyed = keyed_responses(other, {f"Z{i}": [1.0, 2.0, 3.0] for i in range(3)})
    with pytest.raises(InvalidInputError, match="ItemResponses hold items"):
        reliability_report(inst, keyed)


@pytest.mark.parametrize("confidence", ["high", None, [0.9]])
def test_report_rejects_non_numeric_confidence(confidence):
    """A non-numeric confidence is an InvalidInputError naming the argument."""
    with pytest.raises(InvalidInputError, match="'confidence'"):
        reliability_report(two_construct_instrument(), {}, confidence=confidence)
    with pytest.raises(InvalidInputError, match="'confidence'"):
        cronbach_alpha(HAND, confidence=confidence)
