"""Cronbach's alpha against pingouin, an independent implementation (GPL, test-only oracle)."""

from __future__ import annotations

import numpy as np
import pytest

from relmark.trust import cronbach_alpha

pingouin = pytest.importorskip("pingouin")
pd = pytest.importorskip("pandas")


@pytest.mark.oracle
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_alpha_and_feldt_interval_match_pingouin(seed: int) -> None:
    """Point estimate to 1e-12 and the Feldt interval to pingouin's 3-decimal rounding."""
    rng = np.random.default_rng(seed)
    n, k = 150 + 50 * seed, 4 + seed
    latent = rng.normal(size=(n, 1))
    answers = np.clip(np.rint(3 + latent + rng.normal(scale=0.9, size=(n, k))), 1, 5)

    ours = cronbach_alpha(answers, confidence=0.95)
    theirs, theirs_ci = pingouin.cronbach_alpha(data=pd.DataFrame(answers), ci=0.95)

    assert ours.value == pytest.approx(theirs, rel=1e-12)
    assert np.round(ours.ci, 3) == pytest.approx(np.asarray(theirs_ci), abs=1.001e-3)


@pytest.mark.oracle
def test_listwise_deletion_matches_pingouin() -> None:
    """With missing answers, both drop incomplete respondents and agree on alpha."""
    rng = np.random.default_rng(7)
    answers = rng.integers(1, 6, size=(80, 4)).astype(float)
    answers[:, 1] += answers[:, 0] // 2
    answers[[3, 17, 40], [0, 2, 3]] = np.nan

    ours = cronbach_alpha(answers)
    theirs, _ = pingouin.cronbach_alpha(data=pd.DataFrame(answers), nan_policy="listwise")

    assert ours.n_dropped == 3
    assert ours.value == pytest.approx(theirs, rel=1e-12)
