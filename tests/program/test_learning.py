"""Beta-Binomial beliefs: the moment estimator, shrinkage, pooled uplift and Thompson draws."""

from __future__ import annotations

import numpy as np
import pytest

from relmark.errors import InvalidInputError
from relmark.io import from_json, to_json
from relmark.program import CONTROL, Evidence, ResponseBeliefs, moment_rho


def test_expected_statistic_matches_the_moment_equation_by_monte_carlo():
    """Mean of sum n(p_hat - mu)^2 over simulations equals sum v [1 + rho (n - 1)]."""
    rng = np.random.default_rng(0)
    m = 30.0
    mu = np.array([0.05, 0.1, 0.2, 0.3, 0.15])
    n = np.array([20, 50, 80, 150, 300])
    values = []
    for _ in range(20000):
        y = rng.binomial(n, rng.beta(m * mu, m * (1 - mu)))
        values.append((n * (y / n - mu) ** 2).sum())
    v = mu * (1 - mu)
    expected = (v * (1 + (n - 1) / (m + 1))).sum()
    assert np.mean(values) == pytest.approx(expected, rel=0.02)


@pytest.mark.parametrize("m", [10.0, 100.0])
def test_rho_estimate_is_close_to_truth(m):
    """With 400 cells of unequal means the moment estimate of rho is near 1/(m+1)."""
    rng = np.random.default_rng(int(m))
    mu = rng.uniform(0.05, 0.3, 400)
    n = rng.integers(100, 400, 400)
    y = rng.binomial(n, rng.beta(m * mu, m * (1 - mu)))
    assert moment_rho(n, y, mu) == pytest.approx(1 / (m + 1), rel=0.25)


def test_rho_is_zero_without_extra_variance_or_data():
    """Cells exactly at their means, one cell, or one contact per cell give rho = 0."""
    assert moment_rho([100, 100, 100], [10, 20, 30], [0.1, 0.2, 0.3]) == 0.0
    assert moment_rho([100], [50], [0.1]) == 0.0
    assert moment_rho([1, 1], [0, 1], [0.5, 0.5]) == 0.0


def _evidence(rates, control, n, seed):
    rng = np.random.default_rng(seed)
    out = []
    for i, (r, c) in enumerate(zip(rates, control, strict=True)):
        out.append(
            Evidence(state=f"s{i}", action=CONTROL, contacts=n, responders=int(rng.binomial(n, c)))
        )
        out.append(
            Evidence(state=f"s{i}", action="mail", contacts=n, responders=int(rng.binomial(n, r)))
        )
    return out


def test_control_rates_are_not_pooled_across_states():
    """A state's control posterior uses only the user's prior and its own held-out customers."""
    beliefs = ResponseBeliefs.from_priors({"mail": 0.1}, control=0.05, strength=10).with_evidence(
        [
            Evidence(state="a", action=CONTROL, contacts=90, responders=27),
            Evidence(state="b", action=CONTROL, contacts=1000, responders=10),
        ]
    )
    alpha, beta = beliefs.posterior(CONTROL, ["a", "new"])
    assert (alpha[0], beta[0]) == pytest.approx((10 * 0.05 + 27, 10 * 0.95 + 63))
    assert (alpha[1], beta[1]) == pytest.approx((0.5, 9.5))


def test_pooled_uplift_by_hand():
    """With one cell, delta = (w (r_a - mean r + overall) + y - n c) / (w + n)."""
    beliefs = ResponseBeliefs.from_priors({"mail": 0.1}, control=0.05, strength=10).with_evidence(
        [
            Evidence(state="a", action=CONTROL, contacts=90, responders=9),
            Evidence(state="a", action="mail", contacts=100, responders=30),
        ]
    )
    control = (10 * 0.05 + 9) / 100
    overall = (10 * 0.05 + 30 - 100 * control) / 110
    delta = (10 * overall + 30 - 100 * control) / 110
    assert beliefs.overall_uplift() == pytest.approx(overall)
    assert beliefs.pooled_uplift("mail") == pytest.approx(delta)
    alpha, beta = beliefs.posterior("mail", ["a", "b"])
    assert alpha[0] / (alpha[0] + beta[0]) == pytest.approx((10 * (control + delta) + 30) / 110)
    # an unseen state gets its baseline (here the control prior) plus the pooled uplift
    assert alpha[1] / (alpha[1] + beta[1]) == pytest.approx(0.05 + delta)


def test_untried_action_starts_at_the_learned_overall_uplift():
    """An action without evidence moves from its prior towards what tried actions showed."""
    beliefs = ResponseBeliefs.from_priors({"mail": 0.15, "call": 0.15}, control=0.05).with_evidence(
        _evidence([0.05] * 5, [0.05] * 5, 2000, seed=1)
    )
    # mail turned out useless; call, never tried, is no longer believed to add 0.10
    assert abs(beliefs.pooled_uplift("call")) < 0.02


def test_shrinkage_beats_raw_uplift_on_small_cells():
    """Posterior uplift is closer to the true uplift than the raw difference (squared error)."""
    rng = np.random.default_rng(5)
    control = rng.uniform(0.02, 0.2, 60)
    truth = np.clip(rng.normal(0.04, 0.01, 60), 0, None)
    evidence = _evidence(control + truth, control, 40, seed=6)
    beliefs = ResponseBeliefs.from_priors({"mail": 0.09}, control=0.05).with_evidence(evidence)
    states = [f"s{i}" for i in range(60)]
    posterior = beliefs.uplift(states, ["mail"])[:, 0]
    raw = np.array(
        [
            (t.responders - c.responders) / 40
            for c, t in zip(evidence[::2], evidence[1::2], strict=True)
        ]
    )
    assert np.mean((posterior - truth) ** 2) < 0.5 * np.mean((raw - truth) ** 2)


def test_with_evidence_sums_counts():
    """Adding evidence for an existing state × action adds the counts."""
    e = Evidence(state="a", action=CONTROL, contacts=10, responders=2)
    beliefs = ResponseBeliefs.from_priors({}, control=0.1).with_evidence([e]).with_evidence([e])
    assert beliefs.evidence == (Evidence(state="a", action=CONTROL, contacts=20, responders=4),)


def test_thompson_draws_are_seeded_and_centre_on_the_posterior():
    """Draws repeat with the seed, differ across seeds and average to the posterior uplift."""
    beliefs = ResponseBeliefs.from_priors({"mail": 0.2}, control=0.1, strength=50)
    one = beliefs.sample_uplift(["a"], ["mail"], rng=np.random.default_rng(1))
    again = beliefs.sample_uplift(["a"], ["mail"], rng=np.random.default_rng(1))
    assert one.tolist() == again.tolist()
    draws = [
        beliefs.sample_uplift(["a"], ["mail"], rng=np.random.default_rng(s))[0, 0]
        for s in range(3000)
    ]
    assert np.std(draws) > 0.01
    assert np.mean(draws) == pytest.approx(0.1, abs=0.005)


def test_validation_names_the_problem():
    """Missing control prior, responders above contacts and unknown actions are refused."""
    with pytest.raises(InvalidInputError, match="including 'control'"):
        ResponseBeliefs(by="segment", priors=())
    with pytest.raises(InvalidInputError, match="more responders"):
        Evidence(state="a", action="x", contacts=1, responders=2)
    with pytest.raises(InvalidInputError, match="without a prior"):
        ResponseBeliefs.from_priors({}, control=0.1).with_evidence(
            [Evidence(state="a", action="x", contacts=1, responders=0)]
        )
    with pytest.raises(InvalidInputError, match="No prior response rate"):
        ResponseBeliefs.from_priors({}, control=0.1).uplift(["a"], ["x"])


def test_beliefs_json_round_trip():
    """Beliefs with evidence survive relmark.io exactly."""
    beliefs = ResponseBeliefs.from_priors({"mail": 0.2}, control=0.1).with_evidence(
        [Evidence(state="a", action="mail", contacts=9, responders=3)]
    )
    assert from_json(to_json(beliefs), ResponseBeliefs) == beliefs
