"""Beta-Binomial beliefs: the moment estimator, shrinkage, evidence and Thompson draws."""

from __future__ import annotations

import numpy as np
import pytest

from relmark.errors import InvalidInputError
from relmark.io import from_json, to_json
from relmark.program import CONTROL, Evidence, ResponseBeliefs, beta_binomial_rho


def _states(k, n, m, p, seed):
    rng = np.random.default_rng(seed)
    rates = rng.beta(m * p, m * (1 - p), k)
    contacts = rng.integers(n // 2, n * 2, k)
    return rates, contacts, rng.binomial(contacts, rates)


def test_expected_statistic_matches_kleinman_formula_by_monte_carlo():
    """The mean of S over simulations equals p(1-p)[(K-1) + rho(N - K + 1 - sum n^2/N)].

    (The formula is in the true p; the pooled rate enters S itself.)
    """
    rng = np.random.default_rng(0)
    m, p = 30.0, 0.2
    n = np.array([20, 50, 80, 150, 300])
    values = []
    for _ in range(20000):
        y = rng.binomial(n, rng.beta(m * p, m * (1 - p), n.size))
        pooled = y.sum() / n.sum()
        values.append((n * (y / n - pooled) ** 2).sum())
    rho = 1 / (m + 1)
    total = n.sum()
    expected = p * (1 - p) * ((n.size - 1) + rho * (total - n.size + 1 - (n**2).sum() / total))
    assert np.mean(values) == pytest.approx(expected, rel=0.02)


@pytest.mark.parametrize("m", [10.0, 100.0])
def test_rho_estimate_is_close_to_truth(m):
    """With 400 states the moment estimate of rho is near 1/(m+1)."""
    _, n, y = _states(400, 200, m, 0.1, seed=int(m))
    assert beta_binomial_rho(n, y) == pytest.approx(1 / (m + 1), rel=0.25)


def test_rho_is_zero_for_identical_states_and_degenerate_inputs():
    """Equal rates, one state, or a pooled rate of 0 give rho = 0 (complete pooling)."""
    assert beta_binomial_rho([100, 100, 100], [10, 10, 10]) == 0.0
    assert beta_binomial_rho([100], [50]) == 0.0
    assert beta_binomial_rho([10, 20], [0, 0]) == 0.0


def test_shrinkage_beats_raw_rates_on_small_states():
    """Posterior means are closer to the true state rates than raw rates (lower squared error)."""
    rates, n, y = _states(60, 30, 40.0, 0.15, seed=5)
    beliefs = ResponseBeliefs.from_priors({"mail": 0.15}, control=0.05).with_evidence(
        Evidence(state=f"s{i}", action="mail", contacts=int(a), responders=int(b))
        for i, (a, b) in enumerate(zip(n, y, strict=True))
    )
    states = [f"s{i}" for i in range(60)]
    posterior = beliefs.rates(states, ["mail"])[:, 1]
    raw = y / n
    assert np.mean((posterior - rates) ** 2) < 0.8 * np.mean((raw - rates) ** 2)
    # a state with much evidence stays near its own rate
    assert abs(posterior[0] - raw[0]) < abs(raw[0] - y.sum() / n.sum())


def test_posterior_by_hand_and_unseen_states_get_the_pooled_rate():
    """With one observed state the prior strength is m and pooled = (w p0 + y) / (w + n)."""
    beliefs = ResponseBeliefs.from_priors({"mail": 0.1}, control=0.05, strength=10).with_evidence(
        [Evidence(state="a", action="mail", contacts=90, responders=27)]
    )
    pooled, m, observed = beliefs.posterior("mail")
    assert pooled == pytest.approx((10 * 0.1 + 27) / 100)
    assert m == 10
    assert observed["a"] == pytest.approx((10 * pooled + 27, 10 * (1 - pooled) + 63))
    rates = beliefs.rates(["a", "never-seen"], ["mail"])
    assert rates[1, 1] == pytest.approx(pooled)
    assert rates[0, 0] == pytest.approx(0.05)


def test_with_evidence_sums_counts():
    """Adding evidence for an existing state × action adds the counts."""
    e = Evidence(state="a", action=CONTROL, contacts=10, responders=2)
    beliefs = ResponseBeliefs.from_priors({}, control=0.1).with_evidence([e]).with_evidence([e])
    assert beliefs.evidence == (Evidence(state="a", action=CONTROL, contacts=20, responders=4),)


def test_thompson_draws_are_seeded_and_centre_on_the_posterior():
    """Draws repeat with the seed, differ across seeds and average to the posterior uplift."""
    beliefs = ResponseBeliefs.from_priors({"mail": 0.2}, control=0.1, strength=50)
    states = np.array(["a"] * 4000)
    one = beliefs.sample_uplift(states[:1], ["mail"], rng=np.random.default_rng(1))
    again = beliefs.sample_uplift(states[:1], ["mail"], rng=np.random.default_rng(1))
    assert one.tolist() == again.tolist()
    draws = [
        beliefs.sample_uplift(states[:1], ["mail"], rng=np.random.default_rng(s))[0, 0]
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
