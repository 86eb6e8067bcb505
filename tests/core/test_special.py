"""Tests for relmark.core.special: log 2F1 against mpmath, closed forms and invariants."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import scipy.special
from hypothesis import given
from hypothesis import strategies as st

from relmark.core.special import hyp2f1_positive, log_hyp2f1, log_hyp2f1_with_flag

TOLERANCE = 1e-8


def mp_positive_series(a: float, b: float, c: float, z: float, max_terms: int) -> float | None:
    """log of the Gauss series (A&S 15.1.1) summed exactly in mpmath, for 0 < z < 1.

    Every term is positive, so 30-digit summation is accurate to far below 1e-20. The stop is
    certified: with R(m) = z(a+m)(b+m)/((c+m)(m+1)) <= rho for all m >= n (rho from the
    decomposition R(m)/z = 1 + (km + d)/((c+m)(1+m))), the tail is <= t_n rho / (1 - rho).
    Returns None when more than max_terms terms would be needed.
    """
    with mpmath.workdps(30):
        a_, b_, c_, z_ = (mpmath.mpf(v) for v in (a, b, c, z))
        k_pos, d_pos = max(a_ + b_ - c_ - 1, 0), max(a_ * b_ - c_, 0)
        term, total = mpmath.mpf(1), mpmath.mpf(1)
        for n in range(max_terms):
            term *= (a_ + n) * (b_ + n) / ((c_ + n) * (n + 1)) * z_
            total += term
            if n % 64 == 0:
                m = n + 1
                rho = z_ * (1 + k_pos / (1 + m) + d_pos / ((c_ + m) * (1 + m)))
                if rho < 1 and term * rho / (1 - rho) < total * mpmath.mpf(10) ** -25:
                    return float(mpmath.log(total))
    return None


def mp_log_hyp2f1(a: float, b: float, c: float, z: float) -> float:
    """log 2F1 by mpmath: the exact Gauss series when 0 < z < 1 and it is short enough, else
    ``mpmath.hyp2f1`` with the precision raised until two precisions agree.

    mpmath's own precision control is not enough on its own: at 50 digits ``hyp2f1`` returns a
    wrong value for (8806.0017, 8806.0506, 8817.2169, 0.5098) (pinned below) and takes seconds
    or fails at some corners of the BG/NBD domain, so the exact series is preferred and every
    ``hyp2f1`` value is confirmed at a second, higher precision. Close to z = 1, where the series
    is long, ``hyp2f1``'s transformations are quick and reliable.
    """
    if 0 < z < 0.999:
        series = mp_positive_series(a, b, c, z, max_terms=40_000)
        if series is not None:
            return series
    previous = None
    for digits in (50, 100, 200, 400):
        with mpmath.workdps(digits):
            value = mpmath.log(mpmath.hyp2f1(a, b, c, z))
        if previous is not None and abs(value - previous) < 1e-15 * (1 + abs(value)):
            return float(value)
        previous = value
    msg = f"mpmath did not settle for {(a, b, c, z)}"
    raise AssertionError(msg)


def assert_matches_mpmath(a: np.ndarray, b: np.ndarray, c: np.ndarray, z: np.ndarray) -> float:
    """Check every element against mpmath; return the largest relative error of the 2F1 value."""
    ours, ok = log_hyp2f1_with_flag(a, b, c, z)
    assert ok.all(), [(a[i], b[i], c[i], z[i]) for i in np.flatnonzero(~ok)]
    worst = 0.0
    for i in range(a.size):
        truth = mp_log_hyp2f1(a[i], b[i], c[i], z[i])
        error = abs(math.expm1(ours[i] - truth))
        assert error <= TOLERANCE, ((a[i], b[i], c[i], z[i]), ours[i], truth)
        worst = max(worst, error)
    return worst


def log_uniform(rng: np.random.Generator, low: float, high: float, size: int) -> np.ndarray:
    return 10.0 ** rng.uniform(math.log10(low), math.log10(high), size)


def bgnbd_draws(seed: int, size: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    params = {name: log_uniform(rng, 1e-3, 1e3, size) for name in ("r", "alpha", "a", "b")}
    x = np.floor(log_uniform(rng, 1.0, 1e4, size)) * (rng.uniform(size=size) < 0.8)
    return {
        **params,
        "x": x,
        "T": log_uniform(rng, 1e-2, 1e4, size),
        "t": log_uniform(rng, 1e-2, 1e4, size),
    }


@pytest.mark.oracle
def test_bgnbd_conditional_expectation_arguments_match_mpmath() -> None:
    """2F1(r+x, b+x; a+b+x-1; t/(α+T+t)) of FHL (2005) eq. 10 is within 1e-8 of mpmath."""
    d = bgnbd_draws(seed=20050101, size=40)
    a, b, c = d["r"] + d["x"], d["b"] + d["x"], d["a"] + d["b"] + d["x"] - 1.0
    z = d["t"] / (d["alpha"] + d["T"] + d["t"])
    keep = c > 0
    assert keep.sum() > 28
    assert_matches_mpmath(a[keep], b[keep], c[keep], z[keep])


@pytest.mark.oracle
def test_bgnbd_unconditional_expectation_arguments_match_mpmath() -> None:
    """2F1(r, b; a+b-1; t/(α+t)) of FHL (2005) eq. 9 is within 1e-8 of mpmath."""
    d = bgnbd_draws(seed=9, size=50)
    a, b, c, z = d["r"], d["b"], d["a"] + d["b"] - 1.0, d["t"] / (d["alpha"] + d["t"])
    keep = c > 0
    assert keep.sum() > 25
    assert_matches_mpmath(a[keep], b[keep], c[keep], z[keep])


@pytest.mark.oracle
def test_cdnow_estimates_match_mpmath() -> None:
    """At FHL (2005)'s CDNOW estimates (a < 1: Euler form with one negative parameter) we match."""
    r, alpha, a_, b_ = 0.243, 4.414, 0.793, 2.426
    x = np.array([0.0, 1.0, 2.0, 5.0, 10.0, 30.0, 0.0, 3.0])
    T = np.array([38.86, 38.86, 30.0, 20.0, 35.0, 38.0, 0.5, 10.0])
    t = np.array([39.0, 39.0, 52.0, 78.0, 39.0, 39.0, 1e4, 1e3])
    a, b, c = r + x, b_ + x, a_ + b_ + x - 1.0
    assert_matches_mpmath(a, b, c, t / (alpha + T + t))


@pytest.mark.oracle
def test_bgnbd_extreme_corners_match_mpmath() -> None:
    """The corners of the BG/NBD domain (parameters 1e-3 / 1e3, x, T, t up to 1e4) match mpmath."""
    grid = np.array(
        np.meshgrid(
            [1e-3, 1e3],  # r
            [1e-3, 1e3],  # alpha
            [1e-3, 1.5, 1e3],  # a
            [1e-3, 1e3],  # b
            [0.0, 1.0, 1e4],  # x
            [1e-2, 1e4],  # T
            [1e-2, 1e4],  # t
            indexing="ij",
        )
    ).reshape(7, -1)
    r, alpha, a_, b_, x, T, t = grid
    a, b, c, z = r + x, b_ + x, a_ + b_ + x - 1.0, t / (alpha + T + t)
    keep = c > 0
    rng = np.random.default_rng(3)
    chosen = rng.choice(np.flatnonzero(keep), size=25, replace=False)
    assert_matches_mpmath(a[chosen], b[chosen], c[chosen], z[chosen])


@pytest.mark.oracle
def test_pareto_nbd_arguments_match_mpmath() -> None:
    """Pareto/NBD 2F1(r+s+x, s+1 | s; r+s+x+1; z), z of either sign, is within 1e-8 of mpmath."""
    rng = np.random.default_rng(2005)
    size = 30
    r, s, alpha, beta = (log_uniform(rng, 1e-3, 1e3, size) for _ in range(4))
    x = np.floor(log_uniform(rng, 1.0, 1e4, size)) * (rng.uniform(size=size) < 0.8)
    T = log_uniform(rng, 1e-2, 1e4, size)
    a = r + s + x
    c = a + 1.0
    # Fader & Hardie's note uses the form with z in [0, 1); the other form has z < 0.
    z_alpha = (alpha - beta) / (alpha + T)
    z_beta = (beta - alpha) / (beta + T)
    assert (z_alpha < 0).any()
    assert (z_alpha > 0).any()
    assert_matches_mpmath(
        np.concatenate([a, a]),
        np.concatenate([s + 1.0, s]),
        np.concatenate([c, c]),
        np.concatenate([z_alpha, z_beta]),
    )


@pytest.mark.parametrize(
    ("a", "b", "c", "z"),
    [
        (0.17242980555609136, 298.3954350433228, 249.4660199869818, 0.8700309910441585),
        (198.50285766612637, 0.11164034286035479, 156.01982180223823, 0.9893223266824828),
        (117.33054260608498, 0.19895207827559014, 84.00425525712477, 0.9998340752604875),
        (34.699867445338135, 23.059753644137277, 146.68723762559128, -10.97687772036537),
    ],
)
def test_cases_where_scipy_is_silently_wrong(a: float, b: float, c: float, z: float) -> None:
    """scipy.special.hyp2f1 returns a finite but wrong value here; we match mpmath."""
    truth = mp_log_hyp2f1(a, b, c, z)
    scipy_value = float(scipy.special.hyp2f1(a, b, c, z))
    assert math.isfinite(scipy_value)
    assert abs(math.log(scipy_value) - truth) > 1.0
    assert abs(math.expm1(float(log_hyp2f1(a, b, c, z)) - truth)) <= TOLERANCE


@pytest.mark.parametrize(
    ("a", "b", "c", "z"),
    [
        (200.0, 200.0, 201.5, 0.99),
        (8806.001704609009, 8806.050583009772, 8817.216926219211, 0.5097917108513318),
        (110.0, 3.0, 111.0, -50.0),
    ],
)
def test_cases_where_scipy_is_not_finite(a: float, b: float, c: float, z: float) -> None:
    """scipy.special.hyp2f1 gives inf or NaN here; our log value is finite and matches mpmath."""
    assert not math.isfinite(float(scipy.special.hyp2f1(a, b, c, z)))
    truth = mp_log_hyp2f1(a, b, c, z)
    assert abs(math.expm1(float(log_hyp2f1(a, b, c, z)) - truth)) <= TOLERANCE


def test_mpmath_at_50_digits_is_not_an_oracle_here() -> None:
    """At 50 digits mpmath is wrong for this BG/NBD-like point; direct summation agrees with us."""
    a, b, c, z = 8806.001704609009, 8806.050583009772, 8817.216926219211, 0.5097917108513318
    with mpmath.workdps(50):
        naive = float(mpmath.log(mpmath.hyp2f1(a, b, c, z)))
    direct = mp_positive_series(a, b, c, z, max_terms=40_000)
    assert direct is not None
    ours = float(log_hyp2f1(a, b, c, z))
    assert abs(naive - direct) > 0.1
    assert abs(math.expm1(ours - direct)) <= TOLERANCE


def test_closed_forms() -> None:
    """Closed forms: 2F1(1,1;2;z) = -log(1-z)/z, 2F1(a,b;b;z) = (1-z)^-a, 2F1(½,1;3/2;-x²) = atan x/x."""
    z = np.array([-1e6, -3.0, -0.5, 1e-9, 0.3, 0.9, 1 - 1e-9])
    expected = np.log(-np.log1p(-z) / z)
    np.testing.assert_allclose(log_hyp2f1(1.0, 1.0, 2.0, z), expected, rtol=1e-13, atol=1e-14)
    a = np.array([1e-3, 0.5, 10.0, 1e3, 1e4])[:, None, None]
    b = np.array([1e-3, 2.0, 1e4])[None, :, None]
    z = np.array([-1e3, 0.5, 0.999999])
    expected = np.broadcast_to(-a * np.log1p(-z), (5, 3, 3))
    # Absolute error of the log = relative error of the value.
    np.testing.assert_allclose(log_hyp2f1(a, b, b, z), expected, rtol=1e-11, atol=1e-10)
    # c exceeds a parameter by 2e-19 (found by hypothesis): the series ends after its first term.
    near = log_hyp2f1(0.0010000000000000002, 0.001, 0.0010000000000000002, -26.0)
    assert abs(near - (-0.001 * math.log(27.0))) <= 1e-15
    x = np.array([1e-3, 0.5, 3.0, 1e4])
    expected = np.log(np.arctan(x) / x)
    np.testing.assert_allclose(log_hyp2f1(0.5, 1.0, 1.5, -(x**2)), expected, rtol=1e-12, atol=1e-15)


def test_caller_supplied_log1m_z_keeps_accuracy_near_one() -> None:
    """Passing log(1-z) from exact ingredients gives the value at the exact z, not at rounded z."""
    alpha, T, t = 1e-3, 1.0, 1e4
    a, b, c = 0.5 + 50.0, 2.0 + 50.0, 0.8 + 2.0 + 50.0 - 1.0
    z = t / (alpha + T + t)
    log1m_z = math.log(alpha + T) - math.log(alpha + T + t)
    with mpmath.workdps(60):
        exact_z = mpmath.mpf(t) / (mpmath.mpf(alpha) + mpmath.mpf(T) + mpmath.mpf(t))
        truth = float(mpmath.log(mpmath.hyp2f1(a, b, c, exact_z)))
    ours = float(log_hyp2f1(a, b, c, z, log1m_z=log1m_z))
    assert abs(math.expm1(ours - truth)) <= TOLERANCE
    np.testing.assert_allclose(
        log_hyp2f1(a, b, c, z, log1m_z=math.log1p(-z)), log_hyp2f1(a, b, c, z)
    )


def test_trivial_cases_are_exactly_zero() -> None:
    """z = 0, a = 0 or b = 0 give 2F1 = 1, i.e. log 0, exactly."""
    values, ok = log_hyp2f1_with_flag(
        np.array([2.0, 0.0, 3.0, 1e4]),
        np.array([5.0, 7.0, 0.0, 1e4]),
        1.5,
        np.array([0.0, 0.9, -5.0, 0.0]),
    )
    assert ok.all()
    assert (values == 0.0).all()


def test_outside_domain_is_nan_and_flagged() -> None:
    """c <= 0, z >= 1, negative a or b, and non-finite inputs are NaN with a False flag."""
    a = np.array([1.0, 1.0, -1.0, 1.0, np.nan, 1.0])
    b = np.array([1.0, 1.0, 1.0, -0.5, 1.0, 1.0])
    c = np.array([0.0, 2.0, 2.0, 2.0, 2.0, 2.0])
    z = np.array([0.5, 1.0, 0.5, 0.5, 0.5, np.inf])
    values, ok = log_hyp2f1_with_flag(a, b, c, z)
    assert np.isnan(values).all()
    assert not ok.any()


def test_unconverged_elements_are_reported_not_guessed() -> None:
    """Where no method applies (c far below min(a, b)), the result is NaN and flagged, not wrong."""
    values, ok = log_hyp2f1_with_flag([1e3, 2.0], [1e3, 3.0], [0.5, 1.5], [0.9, 0.9])
    assert math.isfinite(mp_log_hyp2f1(1e3, 1e3, 0.5, 0.9))
    assert np.isnan(values[0])
    assert not ok[0]
    assert ok[1]
    assert abs(math.expm1(values[1] - mp_log_hyp2f1(2.0, 3.0, 1.5, 0.9))) <= TOLERANCE


def test_broadcasting_and_positive_variant() -> None:
    """Inputs broadcast; hyp2f1_positive is exp of the log; scalars give 0-d arrays."""
    a = np.array([[0.5], [2.0]])
    z = np.array([0.1, 0.2, 0.3])
    values = log_hyp2f1(a, 1.0, 3.0, z)
    assert values.shape == (2, 3)
    assert values.dtype == np.float64
    np.testing.assert_allclose(hyp2f1_positive(a, 1.0, 3.0, z), np.exp(values))
    np.testing.assert_allclose(
        hyp2f1_positive(a, 1.0, 3.0, z), scipy.special.hyp2f1(a, 1.0, 3.0, z)
    )
    assert log_hyp2f1(1.0, 1.0, 2.0, 0.5).shape == ()


parameters = st.floats(min_value=1e-3, max_value=1e4, allow_nan=False)
arguments = st.floats(min_value=-1e4, max_value=1.0 - 1e-9, allow_nan=False)


@given(a=parameters, b=parameters, c=parameters, z=arguments)
def test_symmetric_in_a_and_b(a: float, b: float, c: float, z: float) -> None:
    """log 2F1(a, b; c; z) = log 2F1(b, a; c; z) (different transformations may be taken)."""
    forward, backward = log_hyp2f1(a, b, c, z), log_hyp2f1(b, a, c, z)
    assert np.isnan(forward) == np.isnan(backward)
    if not np.isnan(forward):
        assert abs(forward - backward) <= 1e-9  # the relative error of the value


@given(a=parameters, b=parameters, c=parameters)
def test_zero_argument_gives_zero(a: float, b: float, c: float) -> None:
    """2F1(a, b; c; 0) = 1 for every supported parameter."""
    assert log_hyp2f1(a, b, c, 0.0) == 0.0


@given(a=parameters, b=parameters, c=parameters, z=st.floats(min_value=1e-6, max_value=1 - 1e-6))
def test_increasing_in_z_on_the_unit_interval(a: float, b: float, c: float, z: float) -> None:
    """With positive parameters every series term grows with z, so 2F1 is increasing on [0, 1)."""
    values = log_hyp2f1(a, b, c, np.array([z * 0.5, z]))
    if np.isfinite(values).all():
        assert values[0] <= values[1]
