"""GammaGamma fits where spend hardly varies between customers, and where it does not at all."""

from __future__ import annotations

import numpy as np
import pytest

from relmark.clv import GammaGamma
from relmark.data.summary import CustomerSummary
from relmark.errors import ConvergenceError


def _summary(q: float, seed: int, n: int = 4000) -> CustomerSummary:
    """Repeat customers with Gamma(p=6.25, nu) amounts, nu ~ Gamma(q, ...) (constant if q is inf)."""
    rng = np.random.default_rng(seed)
    x = rng.integers(1, 12, n)
    p, mean_rate = 6.25, 6.25 / 35.0
    nu = np.full(n, mean_rate) if np.isinf(q) else rng.gamma(q, mean_rate / q, n)
    zbar = np.round(rng.gamma(p * x, 1.0 / (x * nu)), 2)
    return CustomerSummary.from_arrays(x, np.ones(n), np.full(n, 2.0), monetary=zbar)


@pytest.mark.oracle
def test_low_between_customer_variance_agrees_with_lifetimes():
    """With q = 400 (spend levels within 5 % of each other) relmark and lifetimes agree to 1e-6."""
    from lifetimes import GammaGammaFitter

    summary = _summary(400.0, 1, 20000)
    ours = GammaGamma().fit(summary)
    theirs = GammaGammaFitter().fit(summary.frequency, summary.monetary)
    got = np.array([ours.params_.p, ours.params_.q, ours.params_.gamma])
    want = np.array([theirs.params_["p"], theirs.params_["q"], theirs.params_["v"]])
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert ours.fit_ is not None
    assert ours.fit_.n_iterations < 40


def test_spend_level_shared_by_every_customer_raises_convergence_error():
    """With one spend level for all customers q has no finite MLE: ConvergenceError says what to do."""
    with pytest.raises(ConvergenceError, match=r"q = infinity.*penalizer") as info:
        GammaGamma().fit(_summary(np.inf, 2))
    assert "q=" in str(info.value)
    assert info.value.hint_field == "penalizer"
    assert info.value.hint is not None
    assert "q = infinity" in info.value.hint


def test_penalizer_gives_a_finite_fit_where_the_mle_does_not_exist():
    """The advice holds: a small penalizer turns the degenerate case into a finite estimate."""
    model = GammaGamma(penalizer=0.001).fit(_summary(np.inf, 2))
    p = model.params_
    assert np.isfinite(p.q)
    # The mean spend is still the sample's (35 per transaction).
    assert p.p * p.gamma / (p.q - 1.0) == pytest.approx(35.0, rel=0.02)
