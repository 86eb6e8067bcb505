r"""The Gauss hypergeometric function $_2F_1$ in log space, safe over the whole BTYD range.

The BG/NBD (Fader, Hardie & Lee 2005, eqs. 9 and 10) and the Pareto/NBD (Fader & Hardie 2005,
"A note on deriving the Pareto/NBD model and related expressions", the $_2F_1$ forms of the
likelihood and of $P(\text{alive})$) need
$_2F_1(a, b; c; z)$ with positive parameters from about $10^{-3}$ to beyond $10^{4}$ (they grow with
the number of purchases $x$) and $z < 1$ arbitrarily close to 1. There the value overflows double
precision, and general-purpose implementations such as `scipy.special.hyp2f1` silently return
wrong numbers or ``inf``. This module returns $\log {}_2F_1$ and never a silently wrong value: where
none of its methods can certify the result it returns ``NaN`` (and a ``False`` flag from
[`log_hyp2f1_with_flag`][relmark.core.special.log_hyp2f1_with_flag]).

Supported domain: real $a \ge 0$, $b \ge 0$, $c > 0$, $z < 1$. Certified values are returned for
$0 \le z < 1$ whenever $c > \min(a, b) - 64$ (every BG/NBD and Pareto/NBD case; the BG/NBD has
$c > \min(a, b) - 1$) and for $z < 0$ whenever $c \ge \min(a, b)$ (the Pareto/NBD form with
$z < 0$ has $c = a + 1$). Elsewhere the value may be negative or need cancelling terms, and the
result is ``NaN``.

Methods, tried in this order for each element (see the function docstrings for equations):

1. Trivial cases: $z = 0$ or $a b = 0$ give $_2F_1 = 1$.
2. Fast path: the Gauss series (Abramowitz & Stegun 15.1.1) summed in log space with a term-ratio
   recurrence and a rigorous tail bound, on a form whose terms are all positive: the series itself
   for $0 < z < 1$, Euler's transformation (A&S 15.3.3) when it converges faster, Pfaff's
   transformation (A&S 15.3.4 / 15.3.5) for $z < 0$. At most a few hundred terms.
3. Hard path (large parameters, $z$ near 1): Euler's integral (A&S 15.3.1) in a logistic variable,
   evaluated by the trapezoidal rule on a sinh map centred at the integrand's mode, with an
   error estimate from the half-step rule. The integrand is positive, so nothing cancels. When
   $c \le \min(a, b)$ the integral does not exist, and the contiguous relation
   $F(a,b;c;z) = F(a,b;c+1;z) + \frac{abz}{c(c+1)} F(a+1,b+1;c+2;z)$ (checked term by term on
   A&S 15.1.1), applied $k$ times, writes it as $k + 1$ positive multiples of integrable ones.

Accuracy: relative error of $_2F_1$ below about $10^{-10}$ against mpmath over the BG/NBD and
Pareto/NBD domains (parameters $10^{-3}$ to $10^{3}$, $x$, $T$, $t$ up to $10^{4}$); see
``docs/explanation/hypergeometric.md``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
from scipy.special import gammaln

from relmark._typing import BoolArray, FloatArray, IntArray

__all__ = [
    "alive_expectation_series",
    "alive_series_applies",
    "bridge_per_draw",
    "bridge_removable_point",
    "distinct_codes",
    "distinct_tuples",
    "evaluate_on_log_panels",
    "evaluate_per_distinct",
    "hyp2f1_positive",
    "log_hyp2f1",
    "log_hyp2f1_with_flag",
    "panels_per_draw",
    "positions_by_draw",
]

_STACK_BLOCK_ELEMENTS = 1 << 17
"""Values (rows × parameter vectors) evaluated at once by the stacked kernels: 1 MiB per
float64 temporary, so the interpolants' passes stay in cache."""

_TAIL_TOLERANCE = 1e-17
"""Stop a series when a bound on its remaining tail is below this fraction of the partial sum."""

_FAST_MAX_TERMS = 1024
_FAST_CHUNK = 16

_TRAPEZOID_STEPS = (1.0 / 16.0, 1.0 / 32.0, 1.0 / 64.0)
"""Trapezoid steps tried in turn; an element moves to the next only if the previous failed."""
_TRAPEZOID_TOLERANCE = 1e-7
"""Accept a step-h trapezoid sum when it agrees with the step-2h sum to this relative amount.

For these integrands the error decays like $e^{-C/h}$, so the step-h error is then far smaller
(about $10^{-11}$ or less at $h = 1/16$ in the tests against mpmath); the step-8h to step-h
comparisons showed that coarser starting steps are not yet in that regime."""
_TAIL_DROP = 42.0
"""The mapped integrand must fall by this much (in log) from its peak at both ends of the grid."""
_CHUNK_ELEMENTS = 1 << 15
"""Elements handed to the methods at a time (the series allocate ``_FAST_CHUNK`` × this)."""
_TRAPEZOID_CELLS = 1 << 20
"""Elements × nodes of one trapezoid evaluation (about 8 MB per temporary)."""
_MAX_CONTIGUOUS_SHIFT = 64.0
r"""Largest number of contiguous steps used to raise $c$ above $\min(a, b)$."""
_DENSE_FACTOR = 4
"""A whole-number column is coded by its own values when its maximum is below this many times
its length (plus ``_DENSE_MINIMUM``): no sort, and the table of values stays small."""
_DENSE_MINIMUM = 1 << 16


_SERIES_RATIO = 0.125
_SERIES_TERMS = 20
"""The alive-expectation series is used where successive terms shrink by at least
``_SERIES_RATIO`` and summed to ``_SERIES_TERMS`` terms (8^-19 < 1e-17)."""


def alive_series_applies(u: FloatArray, s: FloatArray, a: float, c: FloatArray) -> BoolArray:
    r"""Where [`alive_expectation_series`][relmark.core.special.alive_expectation_series] is used.

    The ratio of successive terms is $u\frac{(s+k)(a+k-1)}{(c+k-1)(k+1)}$, at most
    $u \max(1, (s+1)/c) \max(1, a/2)$ for $k \ge 1$; the series is used where that bound is
    at most $1/8$.
    """
    bound = u * np.maximum(1.0, (s + 1.0) / c) * max(1.0, a / 2.0)
    return np.asarray(bound <= _SERIES_RATIO)


def alive_expectation_series(u: FloatArray, s: FloatArray, a: float, c: FloatArray) -> FloatArray:
    r"""Expected purchases in the next $t$ of a customer alive now, as a power series in $u$.

    For $\lambda \sim \Gamma(s, \text{scale})$, $u = t/\text{scale}$ and dropout
    $p \sim \text{Beta}(a, c - a)$ after each purchase (the BG/NBD posterior of FHL 2005,
    and the MBG/NBD one of Batislam et al. 2007), expanding $E_p[(1 - (1+pu)^{-s})/p]$ term by
    term gives $\sum_{k\ge1} (-1)^{k+1}\frac{(s)_k (a)_{k-1}}{(c)_{k-1}\,k!}u^k$. Only for small
    $u$ ([`alive_series_applies`][relmark.core.special.alive_series_applies]): the first term
    dominates and nothing cancels, where the closed forms lose digits like $1/u$.
    """
    term = s * u
    total = term.copy()
    for k in range(1, _SERIES_TERMS):
        term = term * (-u) * (s + k) * (a + k - 1.0) / ((c + k - 1.0) * (k + 1.0))
        total += term
    return np.asarray(total, dtype=np.float64)


def bridge_removable_point(
    function: Callable[[float], FloatArray],
    value: float,
    *,
    center: float,
    half_width: float,
    nodes: int = 8,
) -> FloatArray:
    r"""Evaluate ``function(value)`` near a removable singularity at ``center`` by interpolation.

    Closed forms such as $\frac{c}{a-1}[1 - F(a)]$ (FHL 2005 eq. 9 at $a \to 1$) are exact
    but lose digits as ``value`` nears ``center``: an absolute error $\delta$ of the bracket
    becomes $\delta / |a - 1|$. Inside ``center ± half_width`` the function, analytic there,
    is replaced by its polynomial interpolant through ``nodes`` (even) Chebyshev points of the
    first kind, none closer to ``center`` than ``half_width`` $\sin(\pi / (2\,\text{nodes}))$,
    in the barycentric form (Berrut & Trefethen 2004, *SIAM Review* 46(3), eq. 5.1 with the
    weights of eq. 5.2). For a function analytic in a disc of radius $R$ around ``center`` the
    interpolation error falls like $(\text{half\_width} / (2R))^{\text{nodes}}$.

    Args:
        function: Evaluates the (array) quantity at one parameter value away from ``center``.
        value: Where to evaluate, ``|value - center| < half_width``.
        center: The removable singular point.
        half_width: Half-width of the interpolation interval.
        nodes: Number of Chebyshev points (even, so that ``center`` is not one).

    Returns:
        The interpolated values, shaped like ``function``'s result.
    """
    k = np.arange(nodes, dtype=np.float64)
    angles = (2.0 * k + 1.0) * np.pi / (2.0 * nodes)
    points = np.cos(angles)
    weights = np.where(k % 2 == 0, 1.0, -1.0) * np.sin(angles)
    xi = (value - center) / half_width
    exact = np.flatnonzero(points == xi)
    if exact.size:
        return function(center + half_width * float(points[exact[0]]))
    scaled = weights / (xi - points)
    total = scaled[0] * function(center + half_width * float(points[0]))
    for point, weight in zip(points[1:], scaled[1:], strict=True):
        total = total + weight * function(center + half_width * float(point))
    return np.asarray(total / scaled.sum(), dtype=np.float64)


def distinct_codes(values: npt.ArrayLike) -> tuple[FloatArray, IntArray]:
    r"""Values to evaluate a function of one column on, and each element's index among them.

    Kernels use it to evaluate special functions of a column (e.g. $\ln\Gamma(r + x)$) once per
    distinct value and gather, ``table[codes]``. The gather is exact: ``distinct[codes]``
    equals ``values`` bit for bit.

    Whole numbers spanning a range up to about four times the length (purchase counts, ages in
    days) are coded by their offset from the smallest, and ``distinct`` is ``min, min + 1, ...,
    max`` (values that do not occur cost one evaluation each and are never gathered); anything
    else is sorted (``np.unique``).

    Args:
        values: A one-dimensional float array.

    Returns:
        ``(distinct, codes)`` with ``distinct[codes] == values``.

    Examples:
        >>> distinct, codes = distinct_codes(np.array([2.0, 0.0, 2.0]))
        >>> distinct.tolist(), codes.tolist()
        ([0.0, 1.0, 2.0], [2, 0, 2])
    """
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    if array.size == 0:
        return array, np.zeros(0, dtype=np.intp)
    high, low = float(array.max()), float(array.min())
    if high == low and not np.isnan(high):
        return array[:1].copy(), np.zeros(array.size, dtype=np.intp)
    if low > -(2.0**52) and high - low <= _DENSE_FACTOR * array.size + _DENSE_MINIMUM:
        base = np.floor(low)
        codes = (array - base).astype(np.intp)
        if np.array_equal(codes + base, array):
            return np.arange(int(high - base) + 1, dtype=np.float64) + base, codes
    distinct, codes = np.unique(array, return_inverse=True)
    return distinct, codes.reshape(-1).astype(np.intp, copy=False)


def distinct_tuples(*columns: FloatArray) -> tuple[tuple[IntArray, ...], IntArray]:
    r"""One representative element per distinct tuple of broadcast arrays, and the way back.

    For a kernel whose costly part depends on some of its arguments only (the BG/NBD expectation
    for a customer alive at $T$ depends on $t$, $x$ and $T$ but not on $t_x$): evaluate it at
    the representatives and gather with ``inverse``. Exact, since equal tuples give equal
    values. Each array is coded before it is broadcast (a row of horizons against a column of
    customers costs a look at each, not at every pair).

    Args:
        columns: Float arrays that broadcast together.

    Returns:
        ``(first, inverse)``: ``first`` indexes the broadcast shape (a tuple of index arrays, one
        element per distinct tuple), and ``inverse`` gives, for every element of the broadcast
        shape in C order, the position of its tuple in ``first``, so that
        ``np.broadcast_to(column, shape)[first][inverse]`` equals the raveled broadcast column
        (scalars count as shape ``(1,)``).

    Examples:
        >>> x = np.array([[1.0], [0.0], [1.0]])
        >>> first, inverse = distinct_tuples(x, np.array([[5.0, 7.0]]))
        >>> np.broadcast_to(x, (3, 2))[first][inverse].tolist()
        [1.0, 1.0, 0.0, 0.0, 1.0, 1.0]
    """
    shape = np.broadcast_shapes(*(np.shape(c) for c in columns)) or (1,)
    n = math.prod(shape)
    code = np.zeros(n, dtype=np.intp)
    size = 1
    for column in columns:
        distinct, column_code = distinct_codes(column)
        if distinct.size <= 1:
            continue
        column_code = np.broadcast_to(column_code.reshape(np.shape(column)), shape).reshape(-1)
        code = code * distinct.size + column_code
        size *= distinct.size
        if size > _DENSE_FACTOR * n + _DENSE_MINIMUM:
            # Re-code before the key could overflow: codes stay below the number of elements.
            code, size = _compact(code, size)
    present = np.bincount(code, minlength=size) > 0
    rank = np.cumsum(present) - 1
    inverse = rank[code]
    flat_first = np.empty(int(np.count_nonzero(present)), dtype=np.intp)
    flat_first[inverse] = np.arange(n, dtype=np.intp)
    return tuple(np.unravel_index(flat_first, shape)), inverse


def evaluate_per_distinct(
    function: Callable[[FloatArray, FloatArray, FloatArray], FloatArray],
    t: FloatArray,
    x: FloatArray,
    T: FloatArray,
) -> FloatArray:
    r"""``function(t, x, T)`` in the broadcast shape, evaluated once per distinct $(t, x, T)$.

    For the costly, $t_x$-free part of the BG/NBD-family predictions. When the horizons ``t``
    only add trailing dimensions to those of ``x`` and ``T`` (one horizon for everybody, or a
    row of horizons against a column of customers), the distinct $(x, T)$ pairs are found once
    and ``function`` runs on (pairs × horizons); otherwise on the distinct triples. Exact: equal
    arguments give equal values.

    Args:
        function: An elementwise, broadcasting function of ``(t, x, T)``.
        t: Horizons.
        x: Repeat purchases.
        T: Ages.

    Returns:
        The values, in the broadcast shape of ``t``, ``x`` and ``T``.
    """
    shape = np.broadcast_shapes(t.shape, x.shape, T.shape)
    pair_shape = np.broadcast_shapes(x.shape, T.shape)
    ndim = len(shape)
    padded_t = (1,) * (ndim - t.ndim) + t.shape
    padded_pair = (1,) * (ndim - len(pair_shape)) + pair_shape
    last_pair = max((i for i, n in enumerate(padded_pair) if n > 1), default=-1)
    first_t = min((i for i, n in enumerate(padded_t) if n > 1), default=ndim)
    if last_pair < first_t:
        xs, Ts = (np.broadcast_to(v, pair_shape).reshape(-1) for v in (x, T))
        first, inverse = distinct_tuples(xs, Ts)
        (rows,) = first
        values = function(t.reshape(1, -1), xs[rows][:, np.newaxis], Ts[rows][:, np.newaxis])
        return np.asarray(values[inverse], dtype=np.float64).reshape(shape)
    full = shape or (1,)
    first, inverse = distinct_tuples(t, x, T)
    tf, xf, Tf = (np.broadcast_to(v, full)[first] for v in (t, x, T))
    return np.asarray(function(tf, xf, Tf)[inverse], dtype=np.float64).reshape(shape)


_PANEL_WIDTH = 2.0
r"""Width in $v = \ln(1 + u)$ of the fixed panels of
[`evaluate_on_log_panels`][relmark.core.special.evaluate_on_log_panels]."""
_PANEL_NODES = 24
"""Chebyshev points per panel (polynomial degree 23)."""
_PANEL_TAIL = 8
_PANEL_TOLERANCE = 1e-12
r"""A panel's interpolant is used only if its last ``_PANEL_TAIL`` Chebyshev coefficients of
$\ln(f/u)$ are all below this (an absolute error in $\ln f$, so a relative one in $f$); at the
typical BTYD parameters they are about $10^{-15}$, the rounding of the node values."""


def evaluate_on_log_panels(
    function: Callable[[FloatArray, FloatArray], FloatArray], u: FloatArray, x: FloatArray
) -> FloatArray:
    r"""``function(u, x)`` through Chebyshev interpolants in $\ln(1 + u)$, shared per $(x, \text{panel})$.

    For the BG/NBD-family expectation of a customer alive now, which depends on the horizon
    $t$ and the age $T$ only through $u = t/(\alpha + T)$ (FHL 2005 eq. 10 is a function of
    $z = u/(1+u)$): every customer with the same $x$ shares one smooth curve $f_x(u)$, so the
    exact (and costly) ${}_2F_1$ evaluation is needed at a few nodes per $x$ rather than at
    every (customer, horizon) pair — one evaluation serves every CLV period and every age.

    The half-line $v = \ln(1+u) \ge 0$ is cut into fixed panels of width ``_PANEL_WIDTH``. On
    each panel that holds an element, $h(v) = \ln(f_x(u)/u)$ is sampled at ``_PANEL_NODES``
    Chebyshev points of the first kind, its Chebyshev coefficients are computed (the discrete
    cosine transform of Trefethen, *Approximation Theory and Approximation Practice*, 2013,
    ch. 3 and 8), and it is evaluated by Clenshaw's recurrence; then $f = u\,e^{h}$, exactly 0
    at $u = 0$. The expectation is analytic in $v$ in the strip $|\operatorname{Im} v| < \pi$
    (its singularities sit where $1 + p(e^{v} - 1) = 0$ for a dropout probability
    $p \in [0, 1]$), and so is $h$ where $f$ has no zero near the panel; the coefficients then
    fall geometrically (Trefethen 2013, thm 8.2). That is checked, not assumed: a panel is
    accepted only when its last ``_PANEL_TAIL`` coefficients are below ``_PANEL_TOLERANCE``
    (converged, to the rounding of the node values); otherwise — extreme parameters, a node
    that ``function`` cannot certify (``NaN``) — its elements are evaluated by ``function``
    directly. Working with $\ln(f/u)$ keeps the error relative for every $u$, including
    $u \to 0$.

    Panels are fixed in $v$ and depend on nothing but $x$ and the panel index, so each
    element's value depends on its own $(u, x)$ only, not on the other elements of the call:
    scores do not change with row order, blocking or the set of customers scored together.

    Args:
        function: The exact evaluator, elementwise and broadcasting, positive for $u > 0$ with
            $f(u)/u$ analytic in $\ln(1+u)$.
        u: Arguments $u \ge 0$.
        x: The second argument (purchase counts), broadcast against ``u``.

    Returns:
        The values, float64, in the broadcast shape of ``u`` and ``x``.

    Examples:
        >>> u = np.array([0.0, 0.5, 40.0])
        >>> exact = lambda uu, xx: np.log1p(uu) * (1.0 + xx)
        >>> got = evaluate_on_log_panels(exact, u, np.ones(3))
        >>> bool(np.allclose(got, exact(u, np.ones(3)), rtol=1e-13, atol=0.0))
        True
    """
    u, x = (np.asarray(v, dtype=np.float64) for v in np.broadcast_arrays(u, x))
    shape = u.shape
    flat_u, flat_x = u.reshape(-1), x.reshape(-1)
    out = np.empty(flat_u.size, dtype=np.float64)
    if flat_u.size == 0:
        return out.reshape(shape)
    v = np.log1p(flat_u)
    panel = np.floor(v / _PANEL_WIDTH)
    (first,), group = distinct_tuples(flat_x, panel)
    low = panel[first] * _PANEL_WIDTH
    j = np.arange(_PANEL_NODES, dtype=np.float64)
    points = np.cos(np.pi * (j + 0.5) / _PANEL_NODES)
    node_u = np.expm1(low[:, np.newaxis] + 0.5 * _PANEL_WIDTH * (points + 1.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        node_h = np.log(function(node_u, flat_x[first][:, np.newaxis]) / node_u)
    # Chebyshev coefficients from values at first-kind points (a DCT-II), summed node by node
    # in a fixed order rather than by BLAS, whose order (and rounding) varies with the shape.
    transform = np.cos(np.pi * np.outer(j + 0.5, j) / _PANEL_NODES) * (2.0 / _PANEL_NODES)
    transform[:, 0] *= 0.5
    coefficients = np.zeros_like(node_h)
    for node in range(_PANEL_NODES):
        coefficients += node_h[:, node, np.newaxis] * transform[node]
    with np.errstate(invalid="ignore"):
        tail = np.max(np.abs(coefficients[:, -_PANEL_TAIL:]), axis=1)
    converged = np.all(np.isfinite(coefficients), axis=1) & (tail <= _PANEL_TOLERANCE)
    interpolated = converged[group]
    idx = np.flatnonzero(interpolated)
    if idx.size:
        out[idx] = _clenshaw(
            coefficients.T.copy(), group[idx], (v[idx] - low[group[idx]]) / _PANEL_WIDTH * 2.0 - 1.0
        )
        out[idx] = flat_u[idx] * np.exp(out[idx])
    rest = np.flatnonzero(~interpolated)
    if rest.size:
        out[rest] = function(flat_u[rest], flat_x[rest])
    return out.reshape(shape)


def positions_by_draw(draw: IntArray) -> list[tuple[int, IntArray]]:
    """The positions of each draw index in ``draw``, draw by draw.

    Args:
        draw: The parameter-vector index of each element.

    Returns:
        ``(index, positions)`` pairs in increasing ``index``, ``positions`` in increasing order.
    """
    order = np.argsort(draw, kind="stable")
    sorted_draw = draw[order]
    starts = np.flatnonzero(np.diff(sorted_draw, prepend=-1))
    stops = [*starts[1:].tolist(), order.size]
    return [
        (int(sorted_draw[start]), order[start:stop])
        for start, stop in zip(starts.tolist(), stops, strict=True)
    ]


def panels_per_draw(
    if_alive: Callable[[FloatArray, FloatArray, IntArray], FloatArray],
    t: FloatArray,
    x: FloatArray,
    T: FloatArray,
    alpha: FloatArray,
) -> FloatArray:
    r"""An expectation of $u = t/(\alpha_b + T)$ and $x$ under each of $B$ parameter vectors.

    The stacked form of the per-draw
    [`evaluate_on_log_panels`][relmark.core.special.evaluate_on_log_panels] call of the
    BG/NBD-family kernels, shared by the BG/NBD and the MBG/NBD. The distinct $(t, x, T)$ are
    found once for all vectors, and taken in order of $x$ in blocks of at most
    ``_STACK_BLOCK_ELEMENTS`` values (whole runs of one $x$, with the vectors in slices where a
    run is large), so that each pass stays in cache and each interpolant is built once. In a
    block the pair (vector, $x$) is coded as one key: the panels and their
    interpolants are those each vector would build on its own, while the bookkeeping (distinct
    keys and panels, the Clenshaw pass) runs once for all vectors and the exact evaluations at
    the nodes of all vectors reach ``if_alive`` in one call. Each value depends on its own
    $(u, x, \text{vector})$ only, as in the per-vector kernels.

    Args:
        if_alive: ``if_alive(u, x, draw)``, elementwise on one-dimensional arrays: the
            expectation at ``u`` after ``x`` purchases under parameter vector ``draw``.
        t: Horizons.
        x: Repeat purchases.
        T: Ages.
        alpha: The scale $\alpha_b$ of each parameter vector, shape ``(B,)``.

    Returns:
        Shape ``broadcast(t, x, T) + (B,)``; temporaries beyond the result stay within a few
        blocks.
    """
    t, x, T = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (t, x, T)))
    draws = int(alpha.size)
    (rows,), inverse = distinct_tuples(t.reshape(-1), x.reshape(-1), T.reshape(-1))
    flat_t, flat_x, flat_T = (v.reshape(-1)[rows] for v in (t, x, T))
    order = np.argsort(flat_x, kind="stable")
    run_ends = [*(np.flatnonzero(np.diff(flat_x[order])) + 1).tolist(), rows.size]
    values = np.empty((rows.size, draws), dtype=np.float64)
    for start, stop, draw_step in _stack_blocks(run_ends, draws):
        block = order[start:stop]
        for first in range(0, draws, draw_step):
            last = min(first + draw_step, draws)
            values[block, first:last] = _coded_panels(
                if_alive, flat_t[block], flat_x[block], flat_T[block], alpha, first, last
            )
    return np.asarray(values[inverse], dtype=np.float64).reshape((*t.shape, draws))


def _stack_blocks(run_ends: list[int], draws: int) -> list[tuple[int, int, int]]:
    """Blocks ``(start, stop, draw_step)`` of sorted rows, at most ``_STACK_BLOCK_ELEMENTS`` values.

    Rows with equal $x$ (a run) share their interpolants, so a block takes whole runs and, when
    one run with every draw is too large, that run alone with the draws in slices; only a run
    too large for a single draw is cut.
    """
    pieces = []
    start = 0
    for end in run_ends:
        while end - start > _STACK_BLOCK_ELEMENTS:
            pieces.append((start, start + _STACK_BLOCK_ELEMENTS))
            start += _STACK_BLOCK_ELEMENTS
        if start < end:
            pieces.append((start, end))
            start = end
    blocks: list[tuple[int, int, int]] = []
    for start, stop in pieces:
        if (
            blocks
            and blocks[-1][2] == draws
            and (stop - blocks[-1][0]) * draws <= _STACK_BLOCK_ELEMENTS
        ):
            blocks[-1] = (blocks[-1][0], stop, draws)
        else:
            step = max(1, min(draws, _STACK_BLOCK_ELEMENTS // (stop - start)))
            blocks.append((start, stop, step))
    return blocks


def _coded_panels(
    if_alive: Callable[[FloatArray, FloatArray, IntArray], FloatArray],
    t: FloatArray,
    x: FloatArray,
    T: FloatArray,
    alpha: FloatArray,
    first: int,
    last: int,
) -> FloatArray:
    """One block of [`panels_per_draw`][relmark.core.special.panels_per_draw]: rows × draws ``first:last``."""
    values, code = distinct_codes(x)
    key = (code[:, np.newaxis] + values.size * np.arange(last - first)).astype(np.float64)
    u = t[:, np.newaxis] / (alpha[first:last] + T[:, np.newaxis])

    def coded(node_u: FloatArray, node_key: FloatArray) -> FloatArray:
        node_u, node_key = np.broadcast_arrays(node_u, node_key)
        draw, x_code = np.divmod(node_key.reshape(-1).astype(np.intp), values.size)
        return if_alive(node_u.reshape(-1), values[x_code], draw + first).reshape(node_u.shape)

    return evaluate_on_log_panels(coded, u, key)


def bridge_per_draw(
    at_node: Callable[[float], FloatArray], a: FloatArray, draw: IntArray, *, half_width: float
) -> FloatArray:
    """[`bridge_removable_point`][relmark.core.special.bridge_removable_point] in $a$ around 1, per draw.

    ``at_node(node)`` evaluates every element at $a$ = ``node`` (its other parameters its
    draw's). The interpolation nodes are the same for every draw, so each is evaluated once for
    all elements, and each draw's elements are interpolated from them with that draw's $a$
    (``a[i]`` is the $a$ of element ``i``'s draw).
    """
    evaluated: dict[float, FloatArray] = {}

    def shared(node: float) -> FloatArray:
        if node not in evaluated:
            evaluated[node] = at_node(node)
        return evaluated[node]

    def of_rows(rows: IntArray) -> Callable[[float], FloatArray]:
        return lambda node: shared(node)[rows]

    out = np.empty(a.shape, dtype=np.float64)
    for _, rows in positions_by_draw(draw):
        out[rows] = bridge_removable_point(
            of_rows(rows),
            float(a[rows[0]]),
            center=1.0,
            half_width=half_width,
        )
    return out


def _clenshaw(coefficients: FloatArray, group: IntArray, y: FloatArray) -> FloatArray:
    r"""$\sum_k c_{g,k} T_k(y)$ by Clenshaw's recurrence; ``coefficients[k, g]`` is $c_{g,k}$."""
    two_y = 2.0 * y
    later = np.zeros_like(y)
    current = np.zeros_like(y)
    for row in coefficients[:0:-1]:
        later, current = current, row[group] + two_y * current - later
    return np.asarray(coefficients[0][group] + y * current - later, dtype=np.float64)


def _compact(code: IntArray, size: int) -> tuple[IntArray, int]:
    """Codes renumbered ``0..k-1`` in order (a counting pass when the range is moderate)."""
    if size <= 4 * _DENSE_FACTOR * code.size + (1 << 20):
        present = np.bincount(code, minlength=size) > 0
        rank = np.cumsum(present) - 1
        return rank[code], int(rank[-1]) + 1
    kept, renumbered = np.unique(code, return_inverse=True)
    return renumbered.reshape(-1), int(kept.size)


def log_hyp2f1(
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    c: npt.ArrayLike,
    z: npt.ArrayLike,
    *,
    log1m_z: npt.ArrayLike | None = None,
) -> FloatArray:
    r"""Natural logarithm of the Gauss hypergeometric function $_2F_1(a, b; c; z)$.

    Vectorized and broadcasting; no validation (callers validate). Elements outside the
    supported domain ($a, b \ge 0$, $c > 0$, $z < 1$, positive value), and the rare elements no
    method can certify, are ``NaN`` — never a silently wrong number. The methods are described
    in the [module docstring][relmark.core.special].

    Args:
        a: First numerator parameter, $a \ge 0$.
        b: Second numerator parameter, $b \ge 0$.
        c: Denominator parameter, $c > 0$.
        z: Argument, $z < 1$.
        log1m_z: Optional $\log(1 - z)$ computed by the caller from exact ingredients, e.g.
            $\log(\alpha + T) - \log(\alpha + T + t)$ for the BG/NBD. When $z$ is near 1 the value
            depends on $1 - z$ with condition number about $|c - a - b|$, so passing it avoids the
            rounding of $z$ itself. Must be consistent with ``z``.

    Returns:
        $\log {}_2F_1(a, b; c; z)$, float64, with the broadcast shape of the inputs.

    Examples:
        >>> import numpy as np
        >>> float(np.round(log_hyp2f1(1.0, 1.0, 2.0, 0.5), 12))  # 2F1(1,1;2;z) = -log(1-z)/z
        0.326634259978
    """
    values, _ = log_hyp2f1_with_flag(a, b, c, z, log1m_z=log1m_z)
    return values


def hyp2f1_positive(
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    c: npt.ArrayLike,
    z: npt.ArrayLike,
) -> FloatArray:
    r"""$_2F_1(a, b; c; z)$ as ``exp(log_hyp2f1(a, b, c, z))``; may overflow to ``inf``.

    Args:
        a: First numerator parameter, $a \ge 0$.
        b: Second numerator parameter, $b \ge 0$.
        c: Denominator parameter, $c > 0$.
        z: Argument, $z < 1$.

    Returns:
        $_2F_1(a, b; c; z)$, float64 (``NaN`` where
        [`log_hyp2f1`][relmark.core.special.log_hyp2f1] is ``NaN``).
    """
    return np.exp(log_hyp2f1(a, b, c, z))


def log_hyp2f1_with_flag(
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    c: npt.ArrayLike,
    z: npt.ArrayLike,
    *,
    log1m_z: npt.ArrayLike | None = None,
) -> tuple[FloatArray, BoolArray]:
    r"""[`log_hyp2f1`][relmark.core.special.log_hyp2f1] plus a mask of certified elements.

    Args:
        a: First numerator parameter, $a \ge 0$.
        b: Second numerator parameter, $b \ge 0$.
        c: Denominator parameter, $c > 0$.
        z: Argument, $z < 1$.
        log1m_z: Optional $\log(1 - z)$, see [`log_hyp2f1`][relmark.core.special.log_hyp2f1].

    Returns:
        ``(values, ok)``: $\log {}_2F_1$ and a boolean array that is ``True`` where the value
        was computed and certified, ``False`` where it is ``NaN`` (outside the domain, or no
        method converged).
    """
    arrays = [np.asarray(v, dtype=np.float64) for v in (a, b, c, z)]
    if log1m_z is not None:
        arrays.append(np.asarray(log1m_z, dtype=np.float64))
    arrays = list(np.broadcast_arrays(*arrays))
    shape = arrays[0].shape
    fa, fb, fc, fz = (np.ravel(v) for v in arrays[:4])
    with np.errstate(divide="ignore", invalid="ignore"):
        fl = np.ravel(arrays[4]) if log1m_z is not None else np.log1p(-fz)
    values = np.full(fa.shape, np.nan)
    finite = np.isfinite(fa) & np.isfinite(fb) & np.isfinite(fc) & np.isfinite(fz)
    valid = finite & (fa >= 0) & (fb >= 0) & (fc > 0) & (fz < 1) & np.isfinite(fl)
    trivial = valid & ((fz == 0) | (fa == 0) | (fb == 0))
    values[trivial] = 0.0
    todo = np.flatnonzero(valid & ~trivial)
    for start in range(0, todo.size, _CHUNK_ELEMENTS):
        # Chunks bound every temporary of the methods, whatever the size of the input.
        part = todo[start : start + _CHUNK_ELEMENTS]
        values[part] = _log_hyp2f1_nontrivial(fa[part], fb[part], fc[part], fz[part], fl[part])
    return values.reshape(shape), np.isfinite(values).reshape(shape)


def _log_hyp2f1_nontrivial(
    a: FloatArray, b: FloatArray, c: FloatArray, z: FloatArray, l1mz: FloatArray
) -> FloatArray:
    r"""Dispatch 1-D arrays with $a, b > 0$, $c > 0$, $z < 1$, $z \ne 0$ to the methods."""
    values, converged = _fast_series(a, b, c, z, l1mz)
    hard = np.flatnonzero(~converged)
    if hard.size == 0:
        return values
    ha, hb, hc, hz, hl = a[hard], b[hard], c[hard], z[hard], l1mz[hard]
    low, high = np.minimum(ha, hb), np.maximum(ha, hb)
    hard_values = np.full(hard.shape, np.nan)
    integrable = hc > low
    idx = np.flatnonzero(integrable)
    if idx.size:
        hard_values[idx] = _euler_integral(high[idx], low[idx], hc[idx], hz[idx], hl[idx])
    # c <= min(a, b): the integral does not exist; raise c (only for z > 0, where every term
    # of the contiguous expansion is positive).
    shift = np.floor(low - hc) + 1.0
    idx = np.flatnonzero(~integrable & (hz > 0) & (shift <= _MAX_CONTIGUOUS_SHIFT))
    if idx.size:
        hard_values[idx] = _raise_c(ha[idx], hb[idx], hc[idx], hz[idx], hl[idx], shift[idx])
    values[hard] = hard_values
    return values


def _raise_c(
    a: FloatArray, b: FloatArray, c: FloatArray, z: FloatArray, l1mz: FloatArray, shift: FloatArray
) -> FloatArray:
    r"""$\log F(a,b;c;z)$ for $0 < z < 1$ from functions with $c$ raised by ``shift`` $= k$.

    The relation $F(a,b;c;z) = F(a,b;c+1;z) + \frac{abz}{c(c+1)} F(a+1,b+1;c+2;z)$ follows
    term by term from the Gauss series (A&S 15.1.1) because
    $1/(c)_n - 1/(c+1)_n = n/(c\,(c+1)_n)$; it is one of Gauss's contiguous relations
    (A&S 15.2.10-15.2.27 family). Applied $k$ times it gives
    $F(a,b;c;z) = \sum_{j=0}^{k} w_{k,j} F(a+j, b+j; c+k+j; z)$ with positive weights
    ($w_{0,0} = 1$; a level-$m$ term $j$ passes its weight to term $j$ and, times
    $(a+j)(b+j)z/((c+m+j)(c+m+j+1))$, to term $j+1$ of level $m+1$), so the sum has no
    cancellation, and every $F(a+j, b+j; c+k+j; z)$ has $c+k+j > \min(a,b)+j$: Euler's integral
    exists for it.
    """
    values = np.full(a.shape, np.nan)
    for k in np.unique(shift):
        idx = np.flatnonzero(shift == k)
        ka, kb, kc, kz, kl = a[idx], b[idx], c[idx], z[idx], l1mz[idx]
        log_z = np.log(kz)
        log_w = np.zeros((idx.size, 1))
        for m in range(int(k)):
            j = np.arange(m + 1, dtype=np.float64)[None, :]
            step = (
                np.log((ka[:, None] + j) * (kb[:, None] + j))
                + log_z[:, None]
                - np.log((kc[:, None] + m + j) * (kc[:, None] + m + j + 1.0))
            )
            keep = np.concatenate([log_w, np.full((idx.size, 1), -np.inf)], axis=1)
            move = np.concatenate([np.full((idx.size, 1), -np.inf), log_w + step], axis=1)
            log_w = np.logaddexp(keep, move)
        j = np.arange(int(k) + 1, dtype=np.float64)[None, :]
        parts = _log_hyp2f1_nontrivial(
            np.ravel(ka[:, None] + j),
            np.ravel(kb[:, None] + j),
            np.ravel(kc[:, None] + k + j),
            np.repeat(kz, j.size),
            np.repeat(kl, j.size),
        ).reshape(log_w.shape)
        terms = log_w + parts
        peak = np.max(terms, axis=1)
        values[idx] = peak + np.log(np.sum(np.exp(terms - peak[:, None]), axis=1))
    return values


def _fast_series(
    a: FloatArray, b: FloatArray, c: FloatArray, z: FloatArray, l1mz: FloatArray
) -> tuple[FloatArray, BoolArray]:
    r"""Sum a Gauss series form with positive terms, using at most ``_FAST_MAX_TERMS`` terms.

    Forms:

    - $0 < z < 1$, default: the Gauss series A&S 15.1.1 itself (all terms positive).
    - $0 < z < 1$, $c < a + b$, $c - a > -1$ and $c - b > -1$: Euler's transformation A&S 15.3.3,
      $F(a,b;c;z) = (1-z)^{c-a-b} F(c-a, c-b; c; z)$, whose series converges at $z = 1$ where the
      original diverges. If both new parameters are $\ge 0$, or both in $(-1, 0)$, its terms are
      positive. If exactly one, $q$, lies in $(-1, 0)$, every term after the first is negative, so
      $F(p, q; c; z) = 1 - S$ with $S = |t_1| \sum_{m \ge 0} \prod_{j=1}^{m} R_j$ a positive series
      ($R_j = (p+j)(q+j)z/((c+j)(j+1))$); it is used when $S \le 0.9$, so at most one digit
      cancels.
    - $z < 0$, $c \ge b$: Pfaff A&S 15.3.4, $F(a,b;c;z) = (1-z)^{-a} F(a, c-b; c; z/(z-1))$;
      $c \ge a$: A&S 15.3.5, the same with $a \leftrightarrow b$. Otherwise no fast form.
    """
    pa, pb, pc, pe = a.copy(), b.copy(), c.copy(), np.ones_like(z)
    logw, prefix = np.empty_like(z), np.zeros_like(z)
    usable = np.ones(z.shape, dtype=bool)
    positive = z > 0
    ca, cb = c - a, c - b
    euler = positive & (c < a + b) & (ca > -1.0) & (cb > -1.0)
    pa[euler], pb[euler] = ca[euler], cb[euler]
    prefix[euler] = (c - a - b)[euler] * l1mz[euler]
    logw[positive] = np.log(z[positive])
    negative = ~positive
    with np.errstate(divide="ignore"):
        logw[negative] = np.log(-z[negative]) - l1mz[negative]
    pfaff_a = negative & (cb >= 0)
    pb[pfaff_a] = cb[pfaff_a]
    prefix[pfaff_a] = -a[pfaff_a] * l1mz[pfaff_a]
    pfaff_b = negative & ~pfaff_a & (ca >= 0)
    pa[pfaff_b] = ca[pfaff_b]
    prefix[pfaff_b] = -b[pfaff_b] * l1mz[pfaff_b]
    usable[negative & ~pfaff_a & ~pfaff_b] = False
    # Exactly one parameter q in (-1, 0): sum |t_1| times the shifted positive tail series. (With
    # both in (-1, 0) every term is positive and the plain series applies.)
    # A zero parameter (c = a or c = b after a transformation) makes the series exactly 1.
    ended = usable & ((pa == 0) | (pb == 0))
    flipped = euler & ((pa < 0) != (pb < 0)) & ~ended
    with np.errstate(divide="ignore"):
        log_first = np.log(np.abs(pa * pb) / c) + logw
    # A flipped series only has to be accurate relative to the final 1 - S (>= 0.1), not to S:
    # its absolute tail must fall below _TAIL_TOLERANCE / 10 / |t_1|.
    log_tolerance = np.full(z.shape, np.log(_TAIL_TOLERANCE))
    absolute_cut = np.where(
        flipped, np.log(_TAIL_TOLERANCE / 10.0) - np.minimum(log_first, 0.0), -np.inf
    )
    pa[flipped] += 1.0
    pb[flipped] += 1.0
    pc[flipped] += 1.0
    pe[flipped] = 2.0
    values = np.full(z.shape, np.nan)
    converged = np.zeros(z.shape, dtype=bool)
    # Skip forms that plainly need more than the budget: the ratio bound of `_positive_series`
    # stays above 1 until about n = k z / (1 - z), and the terms then shrink at most like z^n
    # from the first one, t_1, which must fall below 1e-17.
    needed = _terms_needed(pa, pb, pc, pe, logw, np.maximum(log_tolerance, absolute_cut))
    values[ended] = prefix[ended]
    converged[ended] = True
    usable &= ~ended & (needed < _FAST_MAX_TERMS)
    idx = np.flatnonzero(usable)
    if idx.size:
        sums, done = _positive_series(
            pa[idx], pb[idx], pc[idx], pe[idx], logw[idx], absolute_cut=absolute_cut[idx]
        )
        flip = flipped[idx]
        with np.errstate(over="ignore"):
            removed = np.where(flip, np.exp(log_first[idx] + sums), 0.0)
        done &= removed <= 0.9
        sums = np.where(flip, np.log1p(-np.minimum(removed, 0.9)), sums)
        values[idx] = np.where(done, prefix[idx] + sums, np.nan)
        converged[idx] = done
    return values, converged


def _terms_needed(
    a: FloatArray, b: FloatArray, c: FloatArray, e: FloatArray, logw: FloatArray, cut: FloatArray
) -> FloatArray:
    """Rough number of terms before the series' terms fall below ``exp(cut)``."""
    w = np.exp(logw)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        k_pos = np.maximum(a + b - c - e, 0.0)
        d_pos = np.maximum(a * b - c * e, 0.0)
        growth = w / (1.0 - w)
        log_t1 = np.log(a * b / (c * e)) + logw
        decay = np.maximum(log_t1 - cut, 0.0) / -logw
        return np.asarray(k_pos * growth + np.sqrt(d_pos * growth) + decay, dtype=np.float64)


def _positive_series(
    a: FloatArray,
    b: FloatArray,
    c: FloatArray,
    e: FloatArray,
    logz: FloatArray,
    *,
    absolute_cut: FloatArray | None = None,
) -> tuple[FloatArray, BoolArray]:
    r"""Log of $\sum_n t_n$, $t_0 = 1$, $t_{n+1}/t_n = R(n) = z(a+n)(b+n)/((c+n)(e+n))$.

    With $e = 1$ this is the Gauss series (A&S 15.1.1); $e = 2$ serves the shifted series of
    `_fast_series`. Requires $a, b \ge 0$, $c, e > 0$, $0 < z < 1$, so every term is
    non-negative. Terms are accumulated in chunks as running products of ratios (in logs where
    they would overflow) and summed with a running scale, so huge terms do not overflow. Writing
    $R(m)/z = 1 + (km + d)/((c+m)(e+m))$ with $k = a+b-c-e$, $d = ab-ce$ shows
    $R(m) \le \rho_n = z\,(1 + k^+/(e+n) + d^+/((c+n)(e+n)))$ for every $m \ge n$, so once
    $\rho_n < 1$ the tail after term $n$ is at most $t_n \rho_n / (1 - \rho_n)$. Elements stop
    when that bound is below ``_TAIL_TOLERANCE`` times the partial sum, or below
    $e^{\text{absolute\_cut}}$ (a per-element log bound on the absolute tail, for sums that
    enter the result only through a tiny multiple); those still running after
    ``_FAST_MAX_TERMS`` terms are reported unconverged.
    """
    n_el = a.shape[0]
    cut = np.full(n_el, -np.inf) if absolute_cut is None else absolute_cut
    sums = np.full(n_el, np.nan)
    done = np.zeros(n_el, dtype=bool)
    active = np.arange(n_el)
    log_last = np.zeros(n_el)  # log of the last summed term; t_0 = 1
    scale = np.zeros(n_el)  # partial sum = exp(scale) * scaled
    scaled = np.ones(n_el)
    k_pos = np.maximum(a + b - c - e, 0.0)
    d_pos = np.maximum(a * b - c * e, 0.0)
    z = np.exp(logz)
    steps = np.arange(_FAST_CHUNK, dtype=np.float64)[:, None]
    start = 0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        while active.size and start < _FAST_MAX_TERMS:
            # Terms start+1 .. start+K relative to term `start`, as running products of ratios
            # (rows: term offset, columns: elements), in linear space where that is safe.
            n = start + steps
            ratio = (a[active] + n) * (b[active] + n)
            ratio /= (c[active] + n) * (e[active] + n)
            ratio *= z[active]
            relative = np.cumprod(ratio, axis=0)
            log_peak = np.log(np.max(relative, axis=0))
            log_tail_end = np.log(relative[-1])
            log_chunk_sum = np.log(np.sum(relative, axis=0))
            unsafe = ~((log_peak < 650.0) & (log_tail_end > -650.0))
            if unsafe.any():
                # Huge or tiny ratios: same quantities from the log-space products.
                log_rel = np.cumsum(np.log(ratio[:, unsafe]), axis=0)
                peak = np.max(log_rel, axis=0)
                log_peak[unsafe] = peak
                log_tail_end[unsafe] = log_rel[-1]
                # A zero ratio (a or b is 0 after a transformation) ends the series exactly.
                finite_peak = np.where(np.isfinite(peak), peak, 0.0)
                log_chunk_sum[unsafe] = finite_peak + np.log(
                    np.sum(np.exp(log_rel - finite_peak), axis=0)
                )
            base = log_last[active]
            old_scale = scale[active]
            new_scale = np.maximum(old_scale, base + log_peak)
            new_scale = np.where(np.isfinite(new_scale), new_scale, old_scale)
            with_chunk = scaled[active] * np.exp(old_scale - new_scale) + np.exp(
                base + log_chunk_sum - new_scale
            )
            scaled[active] = with_chunk
            scale[active] = new_scale
            last = base + log_tail_end
            log_last[active] = last
            n_last = start + _FAST_CHUNK
            rho = z[active] * (
                1.0
                + k_pos[active] / (e[active] + n_last)
                + d_pos[active] / ((c[active] + n_last) * (e[active] + n_last))
            )
            log_sum = new_scale + np.log(with_chunk)
            tail = last + np.log(rho) - np.log1p(-rho)
            finished = (last == -np.inf) | (
                (rho < 1.0) & (tail < np.maximum(log_sum + np.log(_TAIL_TOLERANCE), cut[active]))
            )
            sums[active[finished]] = log_sum[finished]
            done[active[finished]] = True
            active = active[~finished]
            start = n_last
    return sums, done


def _euler_log_integrand(
    y: FloatArray, a: FloatArray, b: FloatArray, c: FloatArray, omz: FloatArray
) -> FloatArray:
    r"""$\phi(y) = b \log\sigma(y) + (c-b)\log\sigma(-y) - a \log(1 - z\sigma(y))$.

    With $E = e^{-|y|}$ and $\omega = 1 - z$ this is
    $(a - c)\log(1 + E) - (c - b)\,y - a \log(\omega + E)$ for $y \ge 0$ and
    $(a - c)\log(1 + E) + b\,y - a \log(1 + \omega E)$ for $y < 0$: one exponential and two
    logarithms per node, no overflow, and $1 - z$ enters only through $\omega$, so a caller's
    accurate $\log(1 - z)$ is kept. Absolute error about $\epsilon (a + c)$, which is what the
    integral's relative error inherits.
    """
    nonnegative = y >= 0
    e = np.exp(-np.abs(y))
    linear = np.where(nonnegative, (b - c) * y, b * y)
    inner = np.where(nonnegative, omz + e, 1.0 + omz * e)
    return (a - c) * np.log1p(e) + linear - a * np.log(inner)


def _euler_log_integrand_derivatives(
    y: FloatArray, a: FloatArray, b: FloatArray, c: FloatArray, z: FloatArray, omz: FloatArray
) -> tuple[FloatArray, FloatArray]:
    r"""First and second derivatives in $y$ of $\phi$ (see `_euler_log_integrand`).

    With $p = \sigma(y)$, $q = 1 - p$ and $g = pq / (1 - zp)$:
    $\phi' = bq - (c-b)p + azg$ and $\phi'' = -cpq + azg\,(q - p + zg)$.
    """
    nonnegative = y >= 0
    e = np.exp(-np.abs(y))
    p = np.where(nonnegative, 1.0, e) / (1.0 + e)
    q = np.where(nonnegative, e, 1.0) / (1.0 + e)
    one_minus_zp = np.where(nonnegative, omz + e, 1.0 + omz * e) / (1.0 + e)
    g = p * q / one_minus_zp
    first = b * q - (c - b) * p + a * z * g
    second = -c * p * q + a * z * g * ((q - p) + z * g)
    return first, second


def _euler_integral(
    a: FloatArray, b: FloatArray, c: FloatArray, z: FloatArray, l1mz: FloatArray
) -> FloatArray:
    r"""$\log {}_2F_1$ from Euler's integral (A&S 15.3.1), for $c > b > 0$, $a \ge 0$, $z < 1$.

    $_2F_1(a,b;c;z) = \frac{\Gamma(c)}{\Gamma(b)\Gamma(c-b)} \int_0^1 t^{b-1}(1-t)^{c-b-1}
    (1-zt)^{-a} \, dt$. With $t = \sigma(y) = 1/(1+e^{-y})$ the integral becomes
    $\int_{-\infty}^{\infty} e^{\phi(y)} dy$ with a smooth, positive integrand whose tails
    decay like $e^{b y}$ and $e^{-(c-b) y}$. The mode $y^*$ of $\phi$ is found by bisection,
    the map $y = y^* + w \sinh u$ with $w = \min(1, (-\phi''(y^*))^{-1/2})$ makes the tails
    decay double-exponentially in $u$, and the trapezoidal rule in $u$ converges geometrically in
    the step (Trefethen & Weideman 2014, SIAM Review 56(3), thm 5.1): the error at step $h$ is
    about the square of the error at $2h$. The step-$2h$ sum (every other node) estimates the
    error; elements whose estimate exceeds ``_TRAPEZOID_TOLERANCE`` are retried with half the
    step, and those still failing at the finest step, or whose grid does not reach the tails,
    are returned as ``NaN``.
    """
    omz = np.exp(l1mz)
    y_star = _integrand_mode(a, b, c, z, omz)
    _, curvature = _euler_log_integrand_derivatives(y_star, a, b, c, z, omz)
    with np.errstate(divide="ignore", invalid="ignore"):
        width = np.where(curvature < 0, np.minimum(1.0, 1.0 / np.sqrt(-curvature)), 1.0)
    reach = _grid_reach(y_star, width, a, b, c, omz)
    values = np.full(a.shape, np.nan)
    pending = np.flatnonzero(np.isfinite(reach))
    for step in _TRAPEZOID_STEPS:
        # Elements share a grid only with others of similar reach, so none pays for the widest.
        n_side = 16.0 * np.ceil((reach[pending] / step + 1.0) / 16.0)
        for size in np.unique(n_side):
            group = pending[n_side == size]
            per_call = max(1, _TRAPEZOID_CELLS // int(2 * size + 1))
            for start in range(0, group.size, per_call):
                idx = group[start : start + per_call]
                values[idx] = _trapezoid(
                    y_star[idx], width[idx], a[idx], b[idx], c[idx], omz[idx], size, step
                )
        pending = pending[np.isnan(values[pending])]
        if pending.size == 0:
            break
    return values - (gammaln(b) + gammaln(c - b) - gammaln(c))


def _trapezoid(
    y_star: FloatArray,
    width: FloatArray,
    a: FloatArray,
    b: FloatArray,
    c: FloatArray,
    omz: FloatArray,
    n_side: float,
    step: float,
) -> FloatArray:
    r"""Log of the trapezoid sum of $e^{\phi}$ on $y = y^* + w \sinh(kh)$, $|k| \le$ ``n_side``.

    ``NaN`` where the step-$h$ and step-$2h$ sums differ by more than ``_TRAPEZOID_TOLERANCE``
    or where the truncated tails are not negligible.
    """
    k = np.arange(-n_side, n_side + 1.0)
    u = step * k
    y = y_star[:, None] + width[:, None] * np.sinh(u)[None, :]
    log_f = _euler_log_integrand(y, a[:, None], b[:, None], c[:, None], omz[:, None])
    log_f += np.log(width[:, None] * np.cosh(u)[None, :])
    peak = np.max(log_f, axis=1)
    weights = np.exp(log_f - peak[:, None])
    full = np.sum(weights, axis=1)
    half = 2.0 * np.sum(weights[:, k % 2 == 0], axis=1)
    log_integral = peak + np.log(full * step)
    jacobian_end = np.log(width * np.cosh(u[-1]))
    left = _tail_mass(log_f[:, 0] - jacobian_end, b)
    right = _tail_mass(log_f[:, -1] - jacobian_end, c - b)
    ends_low = np.maximum(left, right) < log_integral - _TAIL_DROP
    certified = ends_low & (np.abs(full - half) <= _TRAPEZOID_TOLERANCE * full)
    return np.where(certified, log_integral, np.nan)


def _grid_reach(
    y_star: FloatArray,
    width: FloatArray,
    a: FloatArray,
    b: FloatArray,
    c: FloatArray,
    omz: FloatArray,
) -> FloatArray:
    r"""Smallest probed $U$ at which both truncated tails are negligible (see `_tail_mass`).

    Probes $u = 0.5, 1, \dots, 24$ on both sides of the mode; elements whose tails never
    become negligible get ``inf`` (their integral is then not certified).
    """
    probes = 0.5 * np.arange(1, 49, dtype=np.float64)
    level = _euler_log_integrand(y_star, a, b, c, omz) + np.log(width) - _TAIL_DROP
    args = (a[:, None], b[:, None], c[:, None], omz[:, None])
    reach = np.zeros(a.shape)
    for sign, rate in ((-1.0, b), (1.0, c - b)):
        y = y_star[:, None] + sign * width[:, None] * np.sinh(probes)[None, :]
        mass = _tail_mass(_euler_log_integrand(y, *args), rate[:, None])
        dropped = mass < level[:, None]
        first = np.argmax(dropped, axis=1)
        side = np.where(dropped.any(axis=1), probes[first], np.inf)
        reach = np.maximum(reach, side)
    return reach


def _tail_mass(log_integrand: FloatArray, rate: FloatArray) -> FloatArray:
    r"""Log of the integral beyond a point, $e^{\phi} / \min(1, \text{rate})$.

    Beyond the probed points $\phi$ decays at least like its asymptotic exponential rate ($b$ on
    the left, $c - b$ on the right) or faster; the cap at 1 covers the faster, curvature-driven
    decay near the mode. A heuristic bound, backed by the half-step error check.
    """
    return log_integrand - np.log(np.minimum(rate, 1.0))


def _integrand_mode(
    a: FloatArray, b: FloatArray, c: FloatArray, z: FloatArray, omz: FloatArray
) -> FloatArray:
    r"""A zero of $\phi'$: bisection on $[-800, 800]$ ($\phi' > 0$ far left, $< 0$ far right)."""
    lo: FloatArray = np.full(a.shape, -800.0)
    hi: FloatArray = np.full(a.shape, 800.0)
    for _ in range(45):
        mid = 0.5 * (lo + hi)
        slope, _ = _euler_log_integrand_derivatives(mid, a, b, c, z, omz)
        rising = slope > 0
        lo = np.where(rising, mid, lo)
        hi = np.where(rising, hi, mid)
    return 0.5 * (lo + hi)
