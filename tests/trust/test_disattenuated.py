"""The disattenuated composite path model: bias removed, omega as McDonald's, errors named."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import attrs
import numpy as np
import pytest

from relmark.errors import InvalidInputError
from relmark.trust import (
    Construct,
    DisattenuatedPathResult,
    Instrument,
    Item,
    default_kmv_instrument,
    fit_disattenuated_path_model,
    fit_path_model,
    keyed_responses,
    kmv_model,
    mcdonald_omega,
    score_constructs,
    simulate_items,
)
from relmark.trust import StructuralPath as KPath

_SPEC = importlib.util.spec_from_file_location(
    "_oracle_data", Path(__file__).parent / "_oracle_data.py"
)
assert _SPEC is not None
assert _SPEC.loader is not None
_oracle_data = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(_oracle_data)
TRUE_PATHS: dict[tuple[str, str], float] = _oracle_data.TRUE_PATHS

KMV = default_kmv_instrument()
# Continuous simulated scores need a scale wide enough to hold them; keying is then x' = -x.
WIDE = attrs.evolve(
    KMV,
    constructs=[
        attrs.evolve(c, items=[attrs.evolve(i, scale_min=-1000, scale_max=1000) for i in c.items])
        for c in KMV.constructs
    ],
)


@pytest.fixture(scope="module")
def latent_sample() -> dict[str, np.ndarray]:
    """1,500 respondents from the true latent KMV model (loadings 0.60-0.85)."""
    spec = kmv_model()
    return simulate_items(
        spec, 1500, loadings=_oracle_data.true_loadings(spec), paths=TRUE_PATHS, seed=3
    )


@pytest.fixture(scope="module")
def corrected(latent_sample: dict[str, np.ndarray]) -> DisattenuatedPathResult:
    """The disattenuated KMV model on the latent sample, 60 bootstrap resamples."""
    return fit_disattenuated_path_model(WIDE, latent_sample, n_bootstrap=60, seed=1)


def test_correction_removes_the_attenuation_of_composites(
    latent_sample: dict[str, np.ndarray], corrected: DisattenuatedPathResult
) -> None:
    """Composite OLS shrinks paths toward zero; corrected paths are not shrunk and within 3 SE."""
    result = corrected
    plain = fit_path_model(score_constructs(WIDE, latent_sample), KMV.paths)
    truth = np.array([TRUE_PATHS[(p.source, p.target)] for p in KMV.paths])
    fixed = np.array([p.coefficient for p in result.paths])
    composite = np.array([p.coefficient for p in plain.paths])
    # The mean ratio estimate/truth measures the systematic shrinkage, not the sampling noise.
    assert np.mean(composite / truth) < 0.88
    assert np.mean(fixed / truth) == pytest.approx(1.0, abs=0.05)
    se = np.array([p.standard_error for p in result.paths])
    assert np.all(np.abs(fixed - truth) < 3.0 * se)
    assert result.n_supported_paths() == 13
    assert result.notes == ()


def test_omega_is_mcdonalds_omega(
    latent_sample: dict[str, np.ndarray], corrected: DisattenuatedPathResult
) -> None:
    """The omegas used for the correction equal mcdonald_omega of each construct's keyed items."""
    result = corrected
    keyed = keyed_responses(WIDE, latent_sample)
    for name, value in result.omega.items():
        items = keyed.columns(WIDE.construct(name).item_codes)
        assert value == pytest.approx(mcdonald_omega(items).value, abs=1e-7), name


def test_corrected_correlations_are_the_composite_correlations_over_root_omegas(
    latent_sample: dict[str, np.ndarray], corrected: DisattenuatedPathResult
) -> None:
    """r*_ij = r_ij / sqrt(omega_i omega_j), computed here from np.corrcoef of the composites."""
    result = corrected
    scores = score_constructs(WIDE, latent_sample)
    composites = np.column_stack([scores.score(n) for n in result.constructs])
    r = np.corrcoef(composites, rowvar=False)
    omega = np.array([result.omega[n] for n in result.constructs])
    expected = r / np.sqrt(np.outer(omega, omega))
    np.fill_diagonal(expected, 1.0)
    np.testing.assert_allclose(result.corrected_correlations, expected, atol=1e-12)


def test_bootstrap_is_seeded_and_intervals_hold_the_estimates(
    latent_sample: dict[str, np.ndarray],
) -> None:
    """One seed gives one result; each percentile interval brackets its estimate."""
    a = fit_disattenuated_path_model(WIDE, latent_sample, n_bootstrap=20, seed=5)
    b = fit_disattenuated_path_model(WIDE, latent_sample, n_bootstrap=20, seed=5)
    assert a == b
    assert a.n_bootstrap == 20
    for p, (lo, hi) in zip(a.paths, a.intervals, strict=True):
        assert lo < p.coefficient < hi


def test_bad_input_is_named() -> None:
    """Two-item constructs, too few respondents and a bad n_bootstrap raise clearly."""
    two = Instrument(
        name="two",
        constructs=[
            Construct(name="a", items=[Item(code="A1", text="a"), Item(code="A2", text="b")]),
            Construct(
                name="b",
                items=[Item(code=f"B{i}", text=f"b{i}") for i in range(1, 4)],
            ),
        ],
        paths=[KPath(source="a", target="b")],
    )
    answers = {code: np.full(30, 4.0) for code in two.item_codes}
    with pytest.raises(InvalidInputError, match=r"\['a'\] have fewer than 3 items"):
        fit_disattenuated_path_model(two, answers)
    few = {code: np.full(5, 4.0) for code in KMV.item_codes}
    with pytest.raises(InvalidInputError, match="at least"):
        fit_disattenuated_path_model(KMV, few)
    with pytest.raises(InvalidInputError, match="n_bootstrap"):
        fit_disattenuated_path_model(KMV, few, n_bootstrap=5)
