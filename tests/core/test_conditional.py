"""The BG/NBD-family conditional purchase PMF against an mpmath double integral and the CET."""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relmark.core import bgnbd, mbgnbd
from relmark.core.conditional import conditional_probability_of_purchases

PUBLISHED = (0.242593, 4.41353, 0.792886, 2.42575)  # FHL 2005, CDNOW sample


def _mp_pmf(k, t, x, t_x, T, r, alpha, a, b, shift):
    """P(X* = k | history) from its definition, integrated over p ~ Beta numerically (mpmath).

    The Gamma mixing over λ of Poisson terms is done in closed form (each λ-integral of
    ``λ^(x+j) e^(-λ(T+t))`` against the Gamma prior is a Gamma-function ratio), the survival
    P(N ≥ k) as 1 minus a partial sum at 40 digits, and the Beta mixing over p by quadrature:
    an independent route from the kernel's Beta functions and regularized incomplete beta.
    """
    mp.mp.dps = 40
    r, alpha, a, b, t, t_x, T = (mp.mpf(v) for v in (r, alpha, a, b, t, t_x, T))

    def lam_moment(j, horizon):
        # ∫ λ^(x+j) e^(-λ·horizon) Gamma(λ; r, α) dλ, times t^j / j!
        return (
            mp.gamma(r + x + j) / mp.gamma(r) * alpha**r / (alpha + horizon) ** (r + x + j)
            * t**j / mp.factorial(j)
        )  # fmt: skip

    stay = [lam_moment(j, T + t) for j in range(k + 1)]  # alive, j purchases in the window
    base = lam_moment(0, T)  # alive at T, anything after
    died = 0 if (x == 0 and shift == 0) else lam_moment(0, t_x)

    def beta_density(p):
        return p ** (a - 1) * (1 - p) ** (b - 1) / mp.beta(a, b)

    def alive_part(p):
        if k == 0:
            return (1 - p) ** (x + shift) * stay[0]
        tail = base - mp.fsum(stay[:k])
        return (1 - p) ** (x + shift) * ((1 - p) ** k * stay[k] + p * (1 - p) ** (k - 1) * tail)

    def died_part(p):
        return 0 if died == 0 else p * (1 - p) ** (x + shift - 1) * died

    def integrate(f):
        return mp.quad(lambda p: beta_density(p) * f(p), [0, mp.mpf(1) / 2, 1])

    likelihood = integrate(lambda p: (1 - p) ** (x + shift) * base + died_part(p))
    numerator = integrate(alive_part) + (integrate(died_part) if k == 0 else 0)
    return float(numerator / likelihood)


CASES = [
    (0, 39.0, 2, 30.43, 38.86, 0),
    (1, 39.0, 2, 30.43, 38.86, 0),
    (3, 39.0, 2, 30.43, 38.86, 1),
    (0, 20.0, 0, 0.0, 30.0, 0),
    (2, 20.0, 0, 0.0, 30.0, 1),
    (1, 52.0, 5, 10.0, 39.0, 0),
]


@pytest.mark.parametrize(("k", "t", "x", "t_x", "T", "shift"), CASES)
def test_matches_mpmath_double_integral(k, t, x, t_x, T, shift):
    """The closed form equals the integral of its definition over the mixing distributions."""
    r, alpha, a, b = 0.6, 3.0, 1.4, 2.2
    got = conditional_probability_of_purchases(
        np.array(float(k)), np.array(t), np.array(float(x)), np.array(t_x), np.array(T),
        r, alpha, a, b, shift=shift,
    )  # fmt: skip
    assert float(got) == pytest.approx(_mp_pmf(k, t, x, t_x, T, r, alpha, a, b, shift), rel=1e-8)


@settings(max_examples=60, deadline=None)
@given(
    x=st.integers(0, 60),
    frac=st.floats(0.0, 1.0),
    T=st.floats(1.0, 200.0),
    t=st.floats(0.1, 150.0),
    r=st.floats(0.05, 5.0),
    alpha=st.floats(0.5, 50.0),
    a=st.floats(0.1, 5.0),
    b=st.floats(0.1, 8.0),
    shift=st.sampled_from([0, 1]),
)
def test_sums_to_one_and_mean_is_the_cet(x, frac, T, t, r, alpha, a, b, shift):
    """Over k the PMF sums to 1 and its mean equals the conditional expected purchases."""
    t_x = 0.0 if x == 0 else frac * T
    k = np.arange(0.0, 3000.0)
    arrays = (np.array(t), np.array(float(x)), np.array(t_x), np.array(T))
    pmf = conditional_probability_of_purchases(k, *arrays, r, alpha, a, b, shift=shift)
    kernel = mbgnbd if shift else bgnbd
    cet = kernel.conditional_expected_purchases(
        np.array(t), np.array([float(x)]), np.array([t_x]), np.array([T]), r, alpha, a, b
    )[0]
    tail = pmf[-1]
    if tail > 1e-14:  # heavy buyers with huge horizons need more terms than the grid has
        return
    assert pmf.sum() == pytest.approx(1.0, abs=1e-10)
    assert k @ pmf == pytest.approx(cet, rel=1e-8, abs=1e-12)
    assert np.all((pmf >= 0) & (pmf <= 1))


def test_published_customer_and_empty_window():
    """FHL's x = 2 customer has mean 1.2259 over 39 weeks; t = 0 puts all mass on k = 0."""
    k = np.arange(0.0, 500.0)
    args = (np.array(2.0), np.array(30.43), np.array(38.86))
    pmf = conditional_probability_of_purchases(k, np.array(39.0), *args, *PUBLISHED)
    assert k @ pmf == pytest.approx(1.2259, abs=5e-5)
    none = conditional_probability_of_purchases(k[:3], np.array(0.0), *args, *PUBLISHED)
    assert none.tolist() == [1.0, 0.0, 0.0]
