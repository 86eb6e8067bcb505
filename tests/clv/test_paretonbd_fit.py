"""ParetoNBD fits: Newton on the prepared likelihood, and boundary fits refused with advice."""

from __future__ import annotations

import numpy as np
import pytest

from relmark.clv import ParetoNBD
from relmark.data.summary import CustomerSummary
from relmark.errors import ConvergenceError


def _nobody_drops_out(seed: int = 7, n: int = 3000) -> CustomerSummary:
    """Poisson-gamma buyers observed 20-52 weeks who never die: the dropout process is absent."""
    rng = np.random.default_rng(seed)
    T = rng.uniform(20, 52, n)
    x = rng.poisson(rng.gamma(0.8, 1 / 5.0, n) * T)
    t_x = np.where(x > 0, T * rng.random(n) ** (1 / np.maximum(x, 1)), 0.0)
    return CustomerSummary.from_arrays(x, t_x, T)


def test_boundary_fit_raises_convergence_error_naming_parameters_and_remedy():
    """Without drop-out, s and beta are not identified: ConvergenceError, not a [0, inf] interval."""
    with pytest.raises(ConvergenceError, match=r"s=.*beta=.*\[0, inf\].*penalizer"):
        ParetoNBD().fit(_nobody_drops_out())


def test_penalizer_recommended_by_the_error_gives_a_finite_fit():
    """The remedy the message names works: with penalizer=0.001 every interval is finite."""
    model = ParetoNBD(penalizer=0.001).fit(_nobody_drops_out())
    table = model.summary()
    assert np.all(np.isfinite(table.upper))
    assert np.all(table.lower > 0)


def test_multi_cohort_fit_converges_by_newton_and_recovers_truth():
    """Customers acquired over 3 years (T in days): Newton converges, truth within 3 SE."""
    rng = np.random.default_rng(12)
    n = 20_000
    truth = {"r": 0.55, "alpha": 74.0, "s": 0.6, "beta": 82.0}
    T = rng.integers(1, 3 * 365 + 1, n).astype(float)
    lam = rng.gamma(truth["r"], 1 / truth["alpha"], n)
    end = np.minimum(rng.exponential(1.0 / rng.gamma(truth["s"], 1 / truth["beta"], n)), T)
    x = rng.poisson(lam * end)
    t_x = np.where(x > 0, np.floor(end * rng.random(n) ** (1 / np.maximum(x, 1))), 0.0)
    model = ParetoNBD().fit(CustomerSummary.from_arrays(x, t_x, T, unit="D"))
    assert model.fit_ is not None
    assert model.fit_.message.startswith("Newton")
    assert model.fit_.n_iterations < 30
    for name, value in truth.items():
        estimate = getattr(model.params_, name)
        assert abs(estimate - value) < 3 * model.standard_errors_[name], name
