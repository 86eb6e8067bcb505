r"""Array kernels of RFM binning: quantile break points under a tie policy, and applying them.

All values here are *oriented*: higher is better (recency enters negated). Inputs are clean
float64 arrays validated by the caller; nothing here re-validates.

Quantile rule (weighted; unit weights give the plain count). With $W$ the total weight, $n$ the
number of bins and $B_i$ the weight of the customers placed strictly before customer $i$,

$$\text{bin}_i = 1 + \#\{k \in 1..n-1 : n B_i \ge k W\}
             = 1 + \lfloor n B_i / W \rfloor ,$$

i.e. a customer's bin is the quantile slot in which it *starts*. The tie policy decides what
"before" means:

- ``share``: $B_i$ is the weight of customers with a strictly lower value, identical for all tied
  customers, so ties never split; a tie group that spans several slots leaves the later ones
  empty (the bins *collapse*; they are reported, never relabelled).
- ``first`` / ``random``: customers are totally ordered by (value, tie key) and $B_i$ is the weight
  before customer $i$ in that order, giving equal-weight bins that may split ties.

The fitted break point $k$ is the first customer (in that order) whose bin is $\ge k + 1$; a new
customer reaches bin $k + 1$ when its (value, tie key) is at least that customer's.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
from numpy.typing import NDArray

from relmark.typing import BoolArray, FloatArray, IntArray

__all__ = ["apply_cuts", "quantile_bins", "random_tie_keys", "realised_sizes"]


def random_tie_keys(canonical_ids: list[str], seed: int) -> NDArray[np.uint64]:
    """A seeded pseudo-random 64-bit key per customer, a function of (seed, id) only.

    BLAKE2b keyed with the seed hashes each canonical id string, so a customer's key does not
    depend on the other customers or on row order, and is the same on every platform.
    """
    key = seed.to_bytes(8, "little")
    return np.fromiter(
        (
            int.from_bytes(
                hashlib.blake2b(i.encode("utf-8"), digest_size=8, key=key).digest(), "little"
            )
            for i in canonical_ids
        ),
        dtype=np.uint64,
        count=len(canonical_ids),
    )


def _lex_order(values: FloatArray, keys: tuple[NDArray[np.generic], ...]) -> IntArray:
    # np.lexsort sorts by the last key first.
    return np.lexsort((*reversed(keys), values)).astype(np.int64)


def quantile_bins(
    values: FloatArray,
    weights: FloatArray,
    n_bins: int,
    keys: tuple[NDArray[np.generic], ...],
    *,
    share_ties: bool,
) -> tuple[IntArray, IntArray]:
    r"""Bins ``1..n_bins`` of every customer and the customer opening each bin ``2..n_bins``.

    Args:
        values: Oriented values (higher is better).
        weights: Positive weight per customer.
        n_bins: Number of bins $n$.
        keys: Tie-break keys, most significant first (empty for ``share_ties``).
        share_ties: Whether tied values share a bin (``B_i`` counts strictly lower values only).

    Returns:
        ``(bins, openers)``: ``openers[k - 1]`` is the index of the first customer in bin
        $\ge k + 1$ for $k = 1..n-1$, or ``-1`` when no customer reaches it.
    """
    if values.size == 0:
        return np.empty(0, dtype=np.int64), np.full(n_bins - 1, -1, dtype=np.int64)
    order = _lex_order(values, () if share_ties else keys)
    v = values[order]
    w = weights[order]
    before = np.cumsum(w) - w
    if share_ties:
        starts = np.concatenate(([True], v[1:] != v[:-1]))
        before = before[starts][np.cumsum(starts) - 1]
    total = w.sum()
    thresholds = np.arange(1, n_bins, dtype=np.float64) * total
    sorted_bins = 1 + (n_bins * before[:, None] >= thresholds[None, :]).sum(axis=1)
    bins = np.empty(values.size, dtype=np.int64)
    bins[order] = sorted_bins
    first = np.searchsorted(sorted_bins, np.arange(2, n_bins + 1), side="left")
    openers = np.where(first < v.size, order[np.minimum(first, v.size - 1)], -1)
    return bins, openers.astype(np.int64)


def _at_least(
    values: FloatArray,
    keys: tuple[NDArray[Any], ...],
    cut: float,
    cut_keys: tuple[Any, ...],
) -> BoolArray:
    """Lexicographic ``(values, keys) >= (cut, cut_keys)``; without keys, ``values >= cut``."""
    if not cut_keys:
        return values >= cut
    result = values > cut
    equal = values == cut
    for key, boundary in zip(keys, cut_keys, strict=True):
        result |= equal & (key > boundary)
        equal &= key == boundary
    out: BoolArray = result | equal
    return out


def apply_cuts(
    values: FloatArray,
    keys: tuple[NDArray[np.generic], ...],
    cuts: FloatArray,
    cut_keys: tuple[tuple[np.generic, ...], ...],
) -> IntArray:
    r"""Bin ``1 + #{k : (value, keys) >= (cuts[k], cut_keys[k])}`` for oriented values.

    ``cut_keys`` is empty (compare values only) or holds one key tuple per cut. A cut of
    $+\infty$ is never reached.
    """
    bins = np.ones(values.size, dtype=np.int64)
    for k, cut in enumerate(cuts):
        boundary = cut_keys[k] if cut_keys else ()
        bins += _at_least(values, keys, float(cut), boundary)
    return bins


def realised_sizes(bins: IntArray, weights: FloatArray, n_bins: int) -> FloatArray:
    """Total weight per bin ``1..n_bins``."""
    return np.bincount(bins - 1, weights=weights, minlength=n_bins).astype(np.float64)[:n_bins]
