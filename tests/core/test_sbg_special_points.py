"""sBG valuation at the special points of its 2F1 (c - a - b integer, z -> 1), against mpmath."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

from relmark.core import sbg


def _mp_derl(n: int, d: float, alpha: float, beta: float) -> mpmath.mpf:
    """FH-10 eq. (6) with mpmath's own 2F1 at 40 digits."""
    a, b, n_ = mpmath.mpf(alpha), mpmath.mpf(beta), mpmath.mpf(n)
    z = 1 / (1 + mpmath.mpf(d))
    return (b + n_ - 1) / (a + b + n_ - 1) * mpmath.hyp2f1(1, b + n_, a + b + n_, z)


@pytest.mark.parametrize("alpha", [1.0, 2.0, 3.0, 0.5, 1.0 + 1e-9])
@pytest.mark.parametrize("discount", [1e-4, 1e-2, 0.1, 1.0])
def test_derl_at_integer_c_minus_a_minus_b_and_near_z_one_matches_mpmath(alpha, discount):
    """c - a - b = alpha - 1 (integer for whole alpha) and z = 1/(1+d) -> 1: DERL to 1e-8."""
    n = np.array([1.0, 2.0, 10.0, 100.0])
    got = sbg.discounted_expected_residual_lifetime(n, discount, alpha, 1.7)
    with mpmath.workdps(40):
        want = [float(_mp_derl(int(k), discount, alpha, 1.7)) for k in n]
    np.testing.assert_allclose(got, want, rtol=1e-8)
