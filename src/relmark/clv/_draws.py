r"""Predictions for a stack of parameter draws, and their percentiles per row, in bounded memory.

The private engine of [`ParameterDraws`][relmark.clv.uncertainty.ParameterDraws]. An interval
needs, for every distinct row, the prediction under each of $B$ parameter draws and two order
statistics of those $B$ values. Two evaluators produce them block by block (``rows × draws``
values at a time, never more than a fixed number of elements):

- [`percentiles`][relmark.clv._draws.percentiles], for any prediction: one call of the prediction
  per (row block, draw);
- [`DropoutOddsStack`][relmark.clv._draws.DropoutOddsStack], for the BG/NBD and the MBG/NBD,
  whose $P(\text{alive})$ is a logistic function of log-odds that are cheap to evaluate for all
  draws at once, and whose conditional expectation is $P(\text{alive})$ times a factor of
  $(t, x, T)$ alone: that factor is evaluated for all draws at once on the distinct $(x, T)$
  pairs (by the model's stacked kernel: the per-draw kernel's interpolants, with their
  bookkeeping and ${}_2F_1$ work shared by the draws), and gathered to the rows.

Percentiles are numpy's default ``"linear"`` method (Hyndman & Fan 1996, definition 7),
computed from a sort of each row's $B$ values (faster than a selection for a few hundred draws),
so the results equal ``np.quantile(values, q)``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from types import ModuleType
from typing import TypeVar

import numpy as np
from scipy.special import expit

from relmark.core import bgnbd as bgnbd_kernels
from relmark.core import mbgnbd as mbgnbd_kernels
from relmark.core.special import distinct_codes
from relmark.typing import FloatArray, IntArray

__all__ = ["DropoutOddsStack", "interpolate", "percentiles", "quantile_position"]

Part = TypeVar("Part")

_ROW_BLOCK_ELEMENTS = 1 << 19
"""Rows × draws handled at once by the stacked evaluators (4 MiB per float64 temporary): small
enough to stay in cache between the passes over a block."""


def quantile_position(n: int, q: float) -> tuple[int, int, float]:
    r"""Order statistics and weight of numpy's ``"linear"`` percentile ``q`` of ``n`` values.

    The virtual index $h = (n - 1)q$ is computed as numpy computes it, so the result of
    [`interpolate`][relmark.clv._draws.interpolate] is bit for bit ``np.quantile``'s.

    Args:
        n: Number of values (draws), at least 1.
        q: The probability, in $[0, 1]$.

    Returns:
        ``(low, high, weight)``: 0-based order statistics and the weight of ``high``.

    Examples:
        >>> quantile_position(5, 0.5)
        (2, 3, 0.0)
        >>> quantile_position(11, 0.05)
        (0, 1, 0.5)
    """
    virtual = (n - 1) * q
    if virtual >= n - 1:
        return n - 1, n - 1, 0.0
    if virtual < 0:
        return 0, 0, 0.0
    low = math.floor(virtual)
    return low, low + 1, virtual - low


def interpolate(low: FloatArray, high: FloatArray, weight: float) -> FloatArray:
    """Linear interpolation between two order statistics, rounded as numpy's ``_lerp`` rounds."""
    difference = high - low
    if weight >= 0.5:
        return np.asarray(high - difference * (1.0 - weight), dtype=np.float64)
    return np.asarray(low + difference * weight, dtype=np.float64)


def _ends(level: float) -> tuple[float, float]:
    return (1.0 - level) / 2.0, (1.0 + level) / 2.0


def _from_sorted(values: FloatArray, level: float) -> tuple[FloatArray, FloatArray]:
    """Lower and upper percentile of each row of ``values`` (sorted along axis 1).

    A row holding a NaN gives NaN, as ``np.quantile`` does (the sort puts NaN last).
    """
    n = values.shape[1]
    out = []
    for q in _ends(level):
        low, high, weight = quantile_position(n, q)
        out.append(interpolate(values[:, low], values[:, high], weight))
    missing = np.isnan(values[:, -1])
    if missing.any():
        for column in out:
            column[missing] = np.nan
    return out[0], out[1]


def percentiles(
    size: int,
    draws: int,
    level: float,
    select: Callable[[slice], Part],
    evaluate: Callable[[int, Part], FloatArray],
    block_elements: int,
) -> tuple[FloatArray, FloatArray]:
    r"""Lower and upper percentiles over draws of any prediction, in blocks of rows.

    Args:
        size: Number of rows.
        draws: Number of draws, $B$.
        level: Coverage; the percentiles are $(1 \mp \text{level})/2$.
        select: ``select(block)`` gives the data of rows ``block`` (once per block).
        evaluate: ``evaluate(b, part)`` is the prediction under draw ``b`` for the rows of
            ``part``.
        block_elements: Rows × draws evaluated at once (bounds the block's memory).

    Returns:
        ``(lower, upper)``, one value per row.
    """
    lower = np.empty(size, dtype=np.float64)
    upper = np.empty(size, dtype=np.float64)
    step = max(1, block_elements // draws)
    for start in range(0, size, step):
        block = slice(start, min(start + step, size))
        part = select(block)
        values = np.empty((block.stop - block.start, draws), dtype=np.float64)
        for b in range(draws):
            values[:, b] = evaluate(b, part)
        values.sort(axis=1)
        lower[block], upper[block] = _from_sorted(values, level)
    return lower, upper


class DropoutOddsStack:
    r"""$P(\text{alive})$ and expected purchases of BG/NBD or MBG/NBD rows under many draws.

    Both models write the probability of being alive as a logistic function of log-odds,

    $$P(\text{alive}) = \big[1 + e^{\ell}\big]^{-1},\qquad
    \ell = \ln a - \ln(b + x - \delta) + (r + x)\ln\Big(1 + \frac{T - t_x}{\alpha + t_x}\Big),$$

    with $\delta = 1$ for the BG/NBD (Fader, Hardie & Lee 2005, eq. 12; $\ell = -\infty$ at
    $x = 0$) and $\delta = 0$ for the MBG/NBD (Batislam, Denizel & Filiztekin 2007). The
    terms of $x$ alone are tabulated per distinct $x$ and draw, and $\ell$ is evaluated for
    a block of rows and all draws in the kernels' own order of operations, so each value equals
    the kernel's bit for bit. Percentiles of $P(\text{alive})$ are taken on $\ell$ (the map is
    monotone) and only the selected order statistics are transformed.

    The conditional expectation is $P(\text{alive})\,g(t, x, T)$, where $g$, the expectation of
    a customer alive at $T$ (FHL 2005 eq. 10; BDF 2007), does not depend on $t_x$. It comes
    from the kernels' ``expected_purchases_if_alive_stacked`` on the distinct $(x, T)$ pairs,
    all draws at once (the values the per-draw kernel multiplies by $P(\text{alive})$), in
    tables of at most ``table_elements`` values; rows are visited in $(x, T)$ order so that each
    table serves a contiguous run of pairs. The product is taken as $g/(1 + e^{\ell})$ (one
    exponential instead of the logistic function; equal to the kernel's product to rounding).

    Args:
        kernels: ``relmark.core.bgnbd`` or ``relmark.core.mbgnbd``.
        draws: Parameter vectors $(r, \alpha, a, b)$, shape ``(B, 4)``.
        x: Repeat purchases of the distinct rows.
        t_x: Recency, in the parameters' time unit.
        T: Age, in the parameters' time unit.
        table_elements: Largest pairs × draws table of $g$ (and rows × draws block).
    """

    def __init__(
        self,
        kernels: ModuleType,
        draws: FloatArray,
        x: FloatArray,
        t_x: FloatArray,
        T: FloatArray,
        table_elements: int,
    ) -> None:
        self._kernels = kernels
        self._draws = draws
        self._x, self._t_x, self._T = x, t_x, T
        self._table_elements = table_elements
        r, _, a, b = (np.ascontiguousarray(column) for column in draws.T)
        shift = 1.0 if kernels is bgnbd_kernels else 0.0
        values, self._x_code = distinct_codes(x)
        # The kernels' x-only term, ln a - ln(b + x - δ), per distinct x and draw.
        with np.errstate(divide="ignore", invalid="ignore"):
            lead = np.log(a)[np.newaxis, :] - np.log(
                b[np.newaxis, :] + np.maximum(values, shift)[:, np.newaxis] - shift
            )
        if shift:
            lead[values <= 0] = -np.inf
        self._lead = lead
        self._r = r

    @classmethod
    def for_model(
        cls,
        model: object,
        draws: FloatArray,
        x: FloatArray,
        t_x: FloatArray,
        T: FloatArray,
        table_elements: int,
    ) -> DropoutOddsStack | None:
        """A stack for a BG/NBD or MBG/NBD model (exactly those classes), else ``None``."""
        from relmark.clv.bgnbd import BGNBD
        from relmark.clv.mbgnbd import MBGNBD

        if type(model) is BGNBD:
            return cls(bgnbd_kernels, draws, x, t_x, T, table_elements)
        if type(model) is MBGNBD:
            return cls(mbgnbd_kernels, draws, x, t_x, T, table_elements)
        return None

    def _row_step(self) -> int:
        return max(1, min(self._table_elements, _ROW_BLOCK_ELEMENTS) // int(self._draws.shape[0]))

    def _log_odds(self, rows: IntArray | slice, out: FloatArray, work: FloatArray) -> FloatArray:
        r"""$\ell$ of ``rows`` under every draw, shape ``(rows, B)``, written into ``out``.

        The operations are the kernels' own, in their order, so every value is the kernel's.
        ``work`` is scratch space of the same shape.
        """
        alpha = self._draws[:, 1]
        x, t_x, T = self._x[rows], self._t_x[rows], self._T[rows]
        np.add(alpha[np.newaxis, :], t_x[:, np.newaxis], out=out)
        np.divide((T - t_x)[:, np.newaxis], out, out=out)
        np.log1p(out, out=out)
        code = self._x_code[rows]
        starts = np.flatnonzero(code[1:] != code[:-1]) + 1
        if 8 * starts.size > code.size:
            np.add(self._r[np.newaxis, :], x[:, np.newaxis], out=work)
            out *= work
            np.take(self._lead, code, axis=0, out=work)
            np.add(work, out, out=out)
            return out
        # Rows come sorted by x: each run of equal x takes its (r + x) and x-only term as one
        # row of draws, with no (rows × draws) gather.
        bounds = [0, *starts.tolist(), code.size]
        for start, stop in itertools.pairwise(bounds):
            run = out[start:stop]
            run *= self._r + x[start]
            np.add(self._lead[code[start]], run, out=run)
        return out

    def probability_alive(self, level: float) -> tuple[FloatArray, FloatArray]:
        r"""Lower and upper percentiles of $P(\text{alive})$ per row."""
        n, draws = self._x.size, self._draws.shape[0]
        lower = np.empty(n, dtype=np.float64)
        upper = np.empty(n, dtype=np.float64)
        step = self._row_step()
        buffer = np.empty((2, min(step, n), draws), dtype=np.float64)
        for start in range(0, n, step):
            block = slice(start, min(start + step, n))
            size = block.stop - block.start
            odds = self._log_odds(block, buffer[0, :size], buffer[1, :size])
            odds.sort(axis=1)
            # P(alive) falls as the log-odds rise: its k-th smallest is expit(-ℓ_(B-1-k)).
            ends = []
            for q in _ends(level):
                low, high, weight = quantile_position(draws, q)
                ends.append(
                    interpolate(
                        expit(-odds[:, draws - 1 - low]), expit(-odds[:, draws - 1 - high]), weight
                    )
                )
            missing = np.isnan(odds[:, -1])
            for column, part in zip((lower, upper), ends, strict=True):
                part[missing] = np.nan
                column[block] = part
        return lower, upper

    def expected_purchases(self, t: float, level: float) -> tuple[FloatArray, FloatArray]:
        r"""Lower and upper percentiles of the expected purchases in the next ``t`` per row."""
        n, draws = self._x.size, self._draws.shape[0]
        lower = np.empty(n, dtype=np.float64)
        upper = np.empty(n, dtype=np.float64)
        if n == 0:
            return lower, upper
        order = np.lexsort((self._T, self._x))
        x, T = self._x[order], self._T[order]
        starts_pair = np.empty(n, dtype=bool)
        starts_pair[0] = True
        starts_pair[1:] = (x[1:] != x[:-1]) | (T[1:] != T[:-1])
        pair = np.cumsum(starts_pair) - 1
        firsts = np.flatnonzero(starts_pair)
        per_table = max(1, self._table_elements // draws)
        step = self._row_step()
        buffer = np.empty((2, min(step, n), draws), dtype=np.float64)
        horizon = np.asarray(float(t))
        for first_pair in range(0, firsts.size, per_table):
            last_pair = min(first_pair + per_table, firsts.size)
            row_start = int(firsts[first_pair])
            row_stop = int(firsts[last_pair]) if last_pair < firsts.size else n
            table = self._if_alive(horizon, firsts[first_pair:last_pair], order)
            for start in range(row_start, row_stop, step):
                rows = order[start : min(start + step, row_stop)]
                values = self._log_odds(rows, buffer[0, : rows.size], buffer[1, : rows.size])
                # P(alive) g = g / (1 + e^ℓ): ℓ = -inf gives g, a huge ℓ gives 0.
                with np.errstate(over="ignore"):
                    np.exp(values, out=values)
                self._divide_into(table, pair[start : start + rows.size] - first_pair, values)
                values.sort(axis=1)
                lower[rows], upper[rows] = _from_sorted(values, level)
        return lower, upper

    def _pair_of_rows(self) -> IntArray:
        """Each row's index among the distinct $(x, T)$ pairs, numbered in $(x, T)$ order."""
        order = np.lexsort((self._T, self._x))
        x, T = self._x[order], self._T[order]
        starts_pair = np.empty(order.size, dtype=bool)
        starts_pair[:1] = True
        starts_pair[1:] = (x[1:] != x[:-1]) | (T[1:] != T[:-1])
        pair = np.empty(order.size, dtype=np.intp)
        pair[order] = np.cumsum(starts_pair) - 1
        return pair

    def discounted_purchases(
        self,
        horizons: FloatArray,
        weights: FloatArray,
        customer_rows: IntArray,
        combine: Callable[[IntArray, FloatArray], FloatArray],
        level: float,
    ) -> tuple[FloatArray, FloatArray]:
        r"""Percentiles per customer of ``combine(customers, D)``, $D$ the discounted purchases.

        $D_{ib} = P(\text{alive})\sum_k w_k\,g_b(t_k, x, T)$ for the row of customer $i$ under
        draw $b$: the discounted expected purchases of
        [`discount_schedule`][relmark.clv.value.discount_schedule] (the sum of the kernel's
        conditional expectations at the period ends, with $P(\text{alive})$ taken out of the
        sum). The sums over periods are tabulated per distinct $(x, T)$ pair and draw (at most
        ``table_elements`` values of $g$ at a time); customers are visited in pair order, in
        blocks, and ``combine`` turns a block's $D$ (customers × draws) into the values whose
        percentiles are wanted (e.g. margin × spend × $D$).

        Args:
            horizons: Period ends $t_k$, in the parameters' time unit.
            weights: Weights $w_k$.
            customer_rows: Each customer's distinct row.
            combine: ``combine(customers, D)``, customers × draws values for those customers.
            level: Coverage.

        Returns:
            ``(lower, upper)``, one value per customer.
        """
        n, draws = customer_rows.size, int(self._draws.shape[0])
        lower = np.empty(n, dtype=np.float64)
        upper = np.empty(n, dtype=np.float64)
        if n == 0:
            return lower, upper
        row_pair = self._pair_of_rows()
        customer_pair = row_pair[customer_rows]
        by_pair = np.argsort(customer_pair, kind="stable")
        sorted_pair = customer_pair[by_pair]
        pairs = int(row_pair.max()) + 1
        # One row of each pair (any: they share x and T).
        first_row = np.empty(pairs, dtype=np.intp)
        first_row[row_pair] = np.arange(row_pair.size)
        per_table = max(1, self._table_elements // (draws * horizons.size))
        step = self._row_step()
        buffer = np.empty((2, min(step, n), draws), dtype=np.float64)
        for first_pair in range(0, pairs, per_table):
            last_pair = min(first_pair + per_table, pairs)
            rows = first_row[first_pair:last_pair]
            g = self._kernels.expected_purchases_if_alive_stacked(
                horizons[np.newaxis, :],
                self._x[rows][:, np.newaxis],
                self._T[rows][:, np.newaxis],
                self._draws,
            )
            table = np.einsum("pkb,k->pb", g, weights)
            begin, end = np.searchsorted(sorted_pair, [first_pair, last_pair])
            for start in range(int(begin), int(end), step):
                customers = by_pair[start : min(start + step, int(end))]
                size = customers.size
                values = self._log_odds(
                    customer_rows[customers], buffer[0, :size], buffer[1, :size]
                )
                with np.errstate(over="ignore"):
                    np.exp(values, out=values)
                self._divide_into(table, customer_pair[customers] - first_pair, values)
                combined = combine(customers, values)
                combined.sort(axis=1)
                lower[customers], upper[customers] = _from_sorted(combined, level)
        return lower, upper

    @staticmethod
    def _divide_into(table: FloatArray, pair: IntArray, values: FloatArray) -> None:
        """``values`` ← ``table[pair] / (1 + values)``, row by row of ``table``."""
        starts = np.flatnonzero(pair[1:] != pair[:-1]) + 1
        if 4 * starts.size > pair.size:
            values += 1.0
            np.divide(np.take(table, pair, axis=0), values, out=values)
            return
        # Rows come in runs of one (x, T) pair: each run divides one row of the table.
        bounds = [0, *starts.tolist(), pair.size]
        for start, stop in itertools.pairwise(bounds):
            run = values[start:stop]
            run += 1.0
            np.divide(table[pair[start]], run, out=run)

    def _if_alive(self, horizon: FloatArray, firsts: IntArray, order: IntArray) -> FloatArray:
        """$g(t, x, T)$ of the pairs whose first rows (in ``order``) are ``firsts``, × draws."""
        rows = order[firsts]
        return np.asarray(
            self._kernels.expected_purchases_if_alive_stacked(
                horizon, self._x[rows], self._T[rows], self._draws
            ),
            dtype=np.float64,
        )
