"""BG/NBD and MBG/NBD expectations from interpolants shared across horizons and ages.

The conditional expectations are taken from Chebyshev panels in ln(1 + u), u = t/(alpha + T)
(relmark.core.special.evaluate_on_log_panels). These tests hold them to mpmath at 1e-10 relative
over horizon grids like those of a CLV, and to the direct exact evaluation over a wide sweep.
"""

from __future__ import annotations

import itertools

import mpmath as mp
import numpy as np
import pytest

from relmark.core import bgnbd, mbgnbd

MODELS = [bgnbd, mbgnbd]
IDS = ["BGNBD", "MBGNBD"]
TOLERANCE = 1e-10

# (r, alpha, a, b): CDNOW fits in weeks and in days, a > 1, small and large parameters.
PARAMS = [
    (0.243, 4.414, 0.793, 2.426),
    (0.24, 31.0, 0.79, 2.43),
    (2.0, 8.0, 3.5, 6.0),
    (0.02, 0.5, 0.3, 0.4),
    (40.0, 900.0, 0.6, 15.0),
]
MONTHS = 30.436875 * np.arange(1, 13)


def _mp_conditional(model, t, x, t_x, T, r, alpha, a, b):
    """FHL (2005) eq. (10) / BDF (2007) at 40 digits, with mpmath's own 2F1 (a != 1)."""
    with mp.workdps(40):
        t, x, t_x, T, r, alpha, a, b = map(mp.mpf, (t, x, t_x, T, r, alpha, a, b))
        z = t / (alpha + T + t)
        power = ((alpha + T) / (alpha + T + t)) ** (r + x)
        if model is bgnbd:
            c = a + b + x - 1
            alive_part = c / (a - 1) * (1 - power * mp.hyp2f1(r + x, b + x, c, z))
            odds = a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x) if x > 0 else 0
        else:
            c = a + b + x
            alive_part = c / (a - 1) * (1 - power * mp.hyp2f1(r + x, b + x + 1, c, z))
            odds = a / (b + x) * ((alpha + T) / (alpha + t_x)) ** (r + x)
        return float(alive_part / (1 + odds))


def _mp_if_alive(model, u, x, r, a, b):
    """Expected purchases of a customer alive now, FHL eq. (10) / BDF numerator, at 50 digits."""
    with mp.workdps(50):
        u, x, r, a, b = map(mp.mpf, (u, x, r, a, b))
        shift = 1 if model is bgnbd else 0
        c = a + b + x - shift
        hyp = mp.hyp2f1(r + x, b + x + 1 - shift, c, u / (1 + u))
        return float(c / (a - 1) * (1 - (1 + u) ** -(r + x) * hyp))


@pytest.mark.parametrize("model", MODELS, ids=IDS)
@pytest.mark.parametrize(("r", "alpha", "a", "b"), PARAMS)
def test_monthly_horizon_grid_matches_mpmath(model, r, alpha, a, b):
    """A CLV-style grid (12 months in days, many ages and counts) is within 1e-10 of mpmath."""
    x = np.array([0.0, 1.0, 2.0, 7.0, 40.0, 250.0])
    T = np.array([0.0, 3.0, 45.0, 400.0, 1095.0])
    xs, Ts = (v.ravel() for v in np.meshgrid(x, T, indexing="ij"))
    t_x = np.where(xs > 0, 0.4 * Ts, 0.0)
    got = model.conditional_expected_purchases(
        MONTHS[np.newaxis, :], xs[:, None], t_x[:, None], Ts[:, None], r, alpha, a, b
    )
    assert got.shape == (xs.size, MONTHS.size)
    for i, j in itertools.product(range(xs.size), range(MONTHS.size)):
        want = _mp_conditional(model, MONTHS[j], xs[i], t_x[i], Ts[i], r, alpha, a, b)
        assert abs(got[i, j] - want) <= TOLERANCE * abs(want), (xs[i], Ts[i], MONTHS[j])


@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_unconditional_expectation_matches_mpmath_over_many_horizons(model):
    """E[X(t)] for a new customer, from the same panels, is within 1e-10 of mpmath for all t."""
    r, alpha, a, b = PARAMS[0]
    t = np.concatenate([10.0 ** np.linspace(-4, 4, 41), [0.0]])
    got = model.expected_purchases(t, r, alpha, a, b)
    assert got[-1] == 0.0
    for value, horizon in zip(got[:-1], t[:-1], strict=True):
        # A customer just acquired: the conditional form at x = t_x = T = 0 (times the MBG/NBD's
        # chance of surviving the time-0 dropout opportunity, which P(alive) gives there).
        want = _mp_conditional(model, horizon, 0.0, 0.0, 0.0, r, alpha, a, b)
        assert abs(value - want) <= TOLERANCE * want


_rng = np.random.default_rng(20261206)
_GRID = (1e-3, 0.05, 0.7, 2.5, 1e3)
SWEEP = [tuple(float(v) for v in _rng.choice(_GRID, size=3)) for _ in range(12)]


@pytest.mark.parametrize("model", MODELS, ids=IDS)
@pytest.mark.parametrize(("r", "a", "b"), SWEEP)
def test_shared_interpolants_match_the_direct_evaluation_over_a_wide_sweep(model, r, a, b):
    """Over u from 1e-6 to 1e6 and x up to 1e4 the panels agree with the direct exact form."""
    rng = np.random.default_rng(7)
    u = 10.0 ** rng.uniform(-6, 6, 3000)
    x = rng.choice([0.0, 1.0, 2.0, 5.0, 30.0, 150.0, 1e3, 1e4], size=u.size)
    shared = model._expected_if_alive_shared(u, x, r, a, b)
    if model is bgnbd:
        direct = bgnbd._expected_if_alive(u, x, r, a, b)
    else:
        direct = mbgnbd._expected_if_alive(u, r + x, np.ones_like(u), a, b + x + 1.0)
    finite = np.isfinite(direct)
    assert finite.mean() > 0.99
    assert np.all(np.isfinite(shared[finite]))
    apart = np.flatnonzero(finite & ~(np.abs(shared - direct) <= 1e-11 * np.abs(direct)))
    # Where they differ by more than 1e-11 the direct form is the less accurate one (about
    # 2e-11 at b = 1e3): the shared value must then be within 1e-10 of mpmath.
    assert apart.size <= 0.005 * u.size
    for i in apart:
        want = _mp_if_alive(model, u[i], x[i], r, a, b)
        assert abs(shared[i] - want) <= TOLERANCE * want, (u[i], x[i])


@pytest.mark.parametrize("model", MODELS, ids=IDS)
def test_a_customer_scored_alone_or_with_others_gets_the_same_value(model):
    """The shared panels make each value depend on the customer only: subsets agree exactly."""
    rng = np.random.default_rng(5)
    x = rng.integers(0, 20, 500).astype(np.float64)
    T = rng.integers(0, 1096, 500).astype(np.float64)
    t_x = np.floor(T * rng.uniform(0, 1, 500)) * (x > 0)
    args = (MONTHS[np.newaxis, :], x[:, None], t_x[:, None], T[:, None], *PARAMS[1])
    together = model.conditional_expected_purchases(*args)
    for i in rng.choice(500, 25, replace=False):
        alone = model.conditional_expected_purchases(
            MONTHS[np.newaxis, :],
            x[i : i + 1, None],
            t_x[i : i + 1, None],
            T[i : i + 1, None],
            *PARAMS[1],
        )
        np.testing.assert_array_equal(alone[0], together[i])
