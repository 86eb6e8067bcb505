"""The KMV path model on a survey simulated from a known structural model, and the rival comparison."""

from __future__ import annotations

import attrs
import numpy as np
import pytest

from relmark.errors import InvalidInputError
from relmark.trust import (
    PathSign,
    StructuralPath,
    compare_with_rival,
    default_kmv_instrument,
    fit_path_model,
    rival_paths,
    score_constructs,
)

KMV = default_kmv_instrument()
NAMES = list(KMV.construct_names)
ANTECEDENTS = NAMES[:5]

TRUE_PATHS = {
    ("shared_values", "trust"): 0.35,
    ("communication", "trust"): 0.40,
    ("opportunistic_behaviour", "trust"): -0.30,
    ("termination_costs", "commitment"): 0.20,
    ("relationship_benefits", "commitment"): 0.30,
    ("shared_values", "commitment"): 0.15,
    ("trust", "commitment"): 0.40,
    ("commitment", "acquiescence"): 0.50,
    ("commitment", "propensity_to_leave"): -0.45,
    ("commitment", "cooperation"): 0.30,
    ("trust", "cooperation"): 0.35,
    ("trust", "functional_conflict"): 0.45,
    ("trust", "decision_making_uncertainty"): -0.40,
}


def latent_covariance(paths: dict[tuple[str, str], float]) -> np.ndarray:
    """Cov(η) = A Ψ Aᵀ with A = (I - B)⁻¹ for the recursive model η = Bη + ζ."""
    k = len(NAMES)
    b = np.zeros((k, k))
    for (source, target), coef in paths.items():
        b[NAMES.index(target), NAMES.index(source)] = coef
    psi = np.eye(k) * 0.5
    psi[:5, :5] = 0.8 * np.eye(5) + 0.2  # correlated antecedents, unit variance
    a = np.linalg.inv(np.eye(k) - b)
    return a @ psi @ a.T


def simulate_survey(paths, n, seed, loadings=(0.8, 0.85, 0.9, 0.85), noise=0.6):
    """Items = 10·(λ η/sd(η) + noise·e), on a -1000..1000 scale; reverse-keyed items answered reversed."""
    rng = np.random.default_rng(seed)
    cov = latent_covariance(paths)
    eta = rng.multivariate_normal(np.zeros(len(NAMES)), cov, size=n)
    eta /= np.sqrt(np.diag(cov))
    answers = {}
    for j, construct in enumerate(KMV.constructs):
        for i, item in enumerate(construct.items):
            true = 10.0 * (loadings[i] * eta[:, j] + noise * rng.standard_normal(n))
            answers[item.code] = -true if item.reverse_keyed else true
    wide = attrs.evolve(
        KMV,
        constructs=[
            attrs.evolve(
                c, items=[attrs.evolve(i, scale_min=-1000, scale_max=1000) for i in c.items]
            )
            for c in KMV.constructs
        ],
    )
    return score_constructs(wide, answers), cov


def population_coefficients(cov, loadings=(0.8, 0.85, 0.9, 0.85), noise=0.6):
    """Standardized regression coefficients and R² of the *composites* implied by the model."""
    sd = np.sqrt(np.diag(cov))
    corr = cov / np.outer(sd, sd)
    k_items = np.array([len(c.items) for c in KMV.constructs])
    a = np.array([np.mean(loadings[:k]) for k in k_items])
    comp = np.outer(a, a) * corr + np.diag(noise**2 / k_items)
    csd = np.sqrt(np.diag(comp))
    r = comp / np.outer(csd, csd)
    coefs, r2 = {}, {}
    for target in dict.fromkeys(t for _, t in TRUE_PATHS):
        sources = [s for s, t in TRUE_PATHS if t == target]
        xi = [NAMES.index(s) for s in sources]
        yi = NAMES.index(target)
        beta = np.linalg.solve(r[np.ix_(xi, xi)], r[xi, yi])
        r2[target] = float(r[xi, yi] @ beta)
        coefs |= {(s, target): float(b) for s, b in zip(sources, beta, strict=True)}
    return coefs, r2


def test_kmv_recovers_signs_and_population_coefficients():
    """On a simulated survey every path is within 4 SE of its population value and every sign holds."""
    scores, cov = simulate_survey(TRUE_PATHS, 3000, seed=1)
    result = fit_path_model(scores, KMV.paths)
    coefs, r2 = population_coefficients(cov)
    for estimate in result.paths:
        truth = coefs[(estimate.source, estimate.target)]
        assert abs(estimate.coefficient - truth) < 4 * estimate.standard_error
        assert estimate.sign_holds
        assert estimate.supported
    for target, value in result.r_squared.items():
        assert value == pytest.approx(r2[target], abs=0.04)
    assert result.n_supported == result.n_hypothesised == 13
    assert result.n_respondents == 3000


def test_wrong_hypothesis_is_reported_as_not_holding():
    """A path hypothesised with the wrong sign is flagged sign_holds=False, not supported."""
    scores, _ = simulate_survey(TRUE_PATHS, 1000, seed=2)
    paths = [StructuralPath(source="communication", target="trust", sign=PathSign.NEGATIVE)]
    estimate = fit_path_model(scores, paths).paths[0]
    assert estimate.sign_holds is False
    assert estimate.supported is False


def test_simple_regression_standard_error_matches_closed_form():
    """With one predictor, β = r and SE = sqrt((1 - r²)/(n - 2)), p from t with n - 2 df."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal(200)
    y = 0.3 * x + rng.standard_normal(200)
    result = fit_path_model(
        {"x": x, "y": y}, [StructuralPath(source="x", target="y", sign=PathSign.POSITIVE)]
    )
    r = np.corrcoef(x, y)[0, 1]
    estimate = result.paths[0]
    assert estimate.coefficient == pytest.approx(r, rel=1e-10)
    assert estimate.standard_error == pytest.approx(np.sqrt((1 - r**2) / 198), rel=1e-10)
    assert result.r_squared["y"] == pytest.approx(r**2, rel=1e-10)


def test_rows_with_missing_scores_are_left_out_and_counted():
    """Respondents lacking a construct score are excluded and counted in n_dropped."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal(100)
    y = x + rng.standard_normal(100)
    x[:7] = np.nan
    result = fit_path_model({"x": x, "y": y}, [StructuralPath(source="x", target="y")])
    assert (result.n_respondents, result.n_dropped) == (93, 7)
    assert result.paths[0].sign_holds is None


def test_rival_has_every_direct_path():
    """The rival regresses each of the 5 outcomes on the 5 antecedents plus trust and commitment."""
    rival = rival_paths(KMV.paths)
    assert len(rival) == 5 * 7
    direct = [p for p in rival if p.source in ANTECEDENTS]
    assert all(p.sign is None for p in direct)
    assert {(p.source, p.target) for p in rival} >= {
        (p.source, p.target) for p in KMV.paths if p.target not in ("trust", "commitment")
    }


def latent_scores(paths, n, seed):
    rng = np.random.default_rng(seed)
    cov = latent_covariance(paths)
    eta = rng.multivariate_normal(np.zeros(len(NAMES)), cov, size=n)
    return {name: eta[:, j] for j, name in enumerate(NAMES)}


def test_comparison_prefers_kmv_when_mediation_is_true():
    """Data from the KMV model: the direct paths add nothing (LR not significant, BIC prefers KMV)."""
    comparison = compare_with_rival(latent_scores(TRUE_PATHS, 2000, seed=5), KMV)
    assert comparison.lr_df == 5 * 7 - 6  # rival paths the KMV model lacks
    assert comparison.lr_p_value > 0.01
    assert comparison.bic_model < comparison.bic_rival
    assert comparison.model.n_supported == 13
    for outcome, r2 in comparison.outcome_r_squared_model.items():
        assert comparison.outcome_r_squared_rival[outcome] >= r2 - 1e-12


def test_comparison_prefers_rival_when_direct_effects_exist():
    """Data with strong direct antecedent → outcome effects: the LR test and AIC favour the rival."""
    direct = TRUE_PATHS | {
        ("shared_values", "cooperation"): 0.5,
        ("communication", "functional_conflict"): 0.5,
    }
    comparison = compare_with_rival(latent_scores(direct, 2000, seed=6), KMV)
    assert comparison.lr_p_value < 1e-6
    assert comparison.aic_rival < comparison.aic_model
    assert comparison.rival_significant_direct_paths >= 2
    sv_coop = comparison.rival.path("shared_values", "cooperation")
    assert sv_coop.p_value < 1e-6


def test_feedback_loops_are_refused():
    """Non-recursive models cannot be estimated equation by equation."""
    paths = [StructuralPath(source="a", target="b"), StructuralPath(source="b", target="a")]
    data = {"a": np.arange(10.0), "b": np.arange(10.0) ** 2}
    with pytest.raises(InvalidInputError, match="feedback loop"):
        fit_path_model(data, paths)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ({"a": np.arange(10.0)}, "lack construct"),
        ({"a": np.arange(10.0), "b": np.ones(10)}, "no variance"),
        ({"a": np.arange(3.0), "b": np.arange(3.0) ** 2}, "at least 4"),
    ],
)
def test_bad_path_data_is_refused(data, match):
    """Missing constructs, constant scores and tiny samples raise InvalidInputError."""
    with pytest.raises(InvalidInputError, match=match):
        fit_path_model(data, [StructuralPath(source="a", target="b")])


@pytest.mark.parametrize("significance", ["high", None, float("nan"), 0.0])
def test_bad_significance_is_invalid_input(significance):
    """A non-numeric or out-of-range significance raises InvalidInputError naming the argument."""
    data = {"a": np.arange(10.0), "b": np.arange(10.0) ** 2}
    with pytest.raises(InvalidInputError, match="'significance'"):
        fit_path_model(data, [StructuralPath(source="a", target="b")], significance=significance)


def test_collinear_predictors_are_named():
    """Perfectly collinear sources of one target raise InvalidInputError naming them, not LinAlgError."""
    rng = np.random.default_rng(31)
    a = rng.standard_normal(50)
    data = {"a": a, "b": 2.0 * a + 1.0, "c": a + rng.standard_normal(50)}
    paths = [StructuralPath(source="a", target="c"), StructuralPath(source="b", target="c")]
    with pytest.raises(InvalidInputError, match=r"collinear.*'a'.*'b'"):
        fit_path_model(data, paths)
