"""BG/NBD and MBG/NBD expectations at the special points of their 2F1 forms, against mpmath.

Issue 18 class 5: a = 1 (removable singularity), r = a + b - 1 (BG/NBD; r = a + b for the
MBG/NBD, where a numerator parameter of 2F1 equals the denominator one), c - a - b an integer
(the z -> 1 connection formulas have log terms there) and z -> 1 (horizons far beyond alpha + T).
Every value must be within 1e-8 relative of an mpmath evaluation at 60 digits.
"""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest

from relmark.clv import BGNBD
from relmark.core import bgnbd, mbgnbd

TOLERANCE = 1e-8
_ONE_OFFSETS = [0.0, 1e-12, -1e-12, 1e-8, -1e-6, 1e-5, -3e-5, 1e-4, -1e-4, 1e-3, -0.05]
_ONE_OFFSETS += [0.0999, -0.1, 0.1001, 0.15]


def _closed_form(model, t, x, t_x, T, r, alpha, a, b):
    """FHL eq. (10) / BDF (2007) conditional expectation, at 60 digits (a != 1)."""
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
    return alive_part / (1 + odds)


def _reference(model, t, x, t_x, T, r, alpha, a, b):
    with mp.workdps(60):
        if a == 1.0:
            # Removable singularity: the symmetric mean of the closed form at 1 +- 1e-25 is
            # exact to O(1e-50), and the 60 digits leave 35 after the cancellation.
            step = mp.mpf("1e-25")
            above = _closed_form(model, t, x, t_x, T, r, alpha, 1 + step, b)
            below = _closed_form(model, t, x, t_x, T, r, alpha, 1 - step, b)
            return (above + below) / 2
        return _closed_form(model, t, x, t_x, T, r, alpha, a, b)


def _check(model, t, x, t_x, T, r, alpha, a, b):
    got = float(model.conditional_expected_purchases(t, x, t_x, T, r, alpha, a, b))
    want = _reference(model, t, x, t_x, T, r, alpha, a, b)
    assert got >= 0.0
    assert abs(got - float(want)) <= TOLERANCE * abs(float(want))


@pytest.mark.parametrize("model", [bgnbd, mbgnbd], ids=["BGNBD", "MBGNBD"])
@pytest.mark.parametrize("offset", _ONE_OFFSETS)
def test_around_a_equal_one(model, offset):
    """Near and at a = 1, inside and just outside the interpolated bridge, small and large x."""
    a = 1.0 + offset
    for t, x, t_x, T in ((5.0, 0.0, 0.0, 10.0), (80.0, 3.0, 20.0, 30.0), (1e-3, 2.0, 1.0, 5.0)):
        _check(model, t, x, t_x, T, 0.4, 3.0, a, 2.0)
    # The case of issue 18: large x and z near 1 put 2F1 on its quadrature path, whose 1e-10
    # accuracy the closed form divided by (a - 1) used to amplify to 1e-6.
    _check(model, 494.448, 200.0, 0.6817, 0.8501, 4.675, 29.317, a, 0.912)


@pytest.mark.parametrize("model", [bgnbd, mbgnbd], ids=["BGNBD", "MBGNBD"])
@pytest.mark.parametrize("offset", [0.0, 1e-14, -1e-12, 1e-8, -1e-4])
@pytest.mark.parametrize(("a", "b"), [(0.1, 1.0), (0.5, 0.7), (2.0, 0.5)])
def test_numerator_equal_to_denominator(model, offset, a, b):
    """r = a + b - 1 (BG/NBD) or r = a + b (MBG/NBD), exactly and nearly: no NaN, exact value."""
    r = a + b - (1.0 if model is bgnbd else 0.0) + offset
    if r <= 0:
        pytest.skip("r must be positive")
    for t, x, t_x, T in ((52.0, 0.0, 0.0, 0.0), (52.0, 0.0, 0.0, 20.0), (30.0, 4.0, 9.0, 12.0)):
        _check(model, t, x, t_x, T, r, 1.0, a, b)


def test_issue_example_new_customer_at_r_equal_a_plus_b_minus_one():
    """BGNBD(r=0.1, alpha=1, a=0.1, b=1): E[X(52)] of a new customer is 3.848..., not NaN."""
    model = BGNBD.from_params(r=0.1, alpha=1.0, a=0.1, b=1.0)
    value = float(model.expected_purchases_new_customer(52.0))
    with mp.workdps(40):
        z = mp.mpf(52) / 53
        want = (mp.mpf("0.1") / mp.mpf("-0.9")) * (
            1 - (1 / mp.mpf(53)) ** mp.mpf("0.1") * mp.hyp2f1(0.1, 1, 0.1, z)
        )
    assert value == pytest.approx(float(want), rel=TOLERANCE)
    assert value == pytest.approx(3.848, abs=5e-4)


@pytest.mark.parametrize("model", [bgnbd, mbgnbd], ids=["BGNBD", "MBGNBD"])
@pytest.mark.parametrize(("r", "a"), [(0.5, 1.5), (0.5, 2.5), (1.0, 3.0), (0.25, 0.25)])
def test_integer_c_minus_a_minus_b(model, r, a):
    """c - a - b of the 2F1 an integer (a - r integer): no log-term trouble near z = 1."""
    for t, x, t_x, T in ((400.0, 0.0, 0.0, 1.0), (400.0, 5.0, 2.0, 3.0), (2.0, 1.0, 1.0, 4.0)):
        _check(model, t, x, t_x, T, r, 0.8, a, 0.8)


@pytest.mark.parametrize("model", [bgnbd, mbgnbd], ids=["BGNBD", "MBGNBD"])
@pytest.mark.parametrize("t", [1e4, 1e6])
@pytest.mark.parametrize(("r", "a", "b"), [(0.24, 0.79, 2.43), (2.0, 0.3, 5.0), (0.05, 3.0, 0.2)])
def test_z_close_to_one(model, t, r, a, b):
    """Horizons 1e4 to 1e6 times alpha + T (z within 1e-6 of 1)."""
    for x, t_x, T in ((0.0, 0.0, 0.5), (7.0, 0.4, 0.5), (60.0, 1.0, 1.0)):
        _check(model, t, x, t_x, T, r, 0.5, a, b)


@pytest.mark.parametrize("model", [bgnbd, mbgnbd], ids=["BGNBD", "MBGNBD"])
def test_tiny_parameters_and_horizons_stay_non_negative_and_exact(model):
    """Parameters down to 1e-6 and horizons down to 1e-9: never negative, within 1e-8."""
    rng = np.random.default_rng(18)
    for _ in range(12):
        r, alpha, a, b = (float(v) for v in 10.0 ** rng.uniform(-6, 0, 4))
        t = float(10.0 ** rng.uniform(-9, 1))
        x = float(rng.choice([0, 1, 4]))
        T = float(10.0 ** rng.uniform(-1, 2))
        _check(model, t, x, T * 0.5 if x else 0.0, T, r, alpha, a, b)
