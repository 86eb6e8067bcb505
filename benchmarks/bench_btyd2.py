"""Pareto/NBD, MBG/NBD and BG/BB fits: relmark against lifetimes, side by side in one run.

Each model is fitted on one simulated cohort (exact simulation from the model, CDNOW-like
parameters, seeded) by both libraries in the same process:

- Pareto/NBD: lifetimes ``ParetoNBDFitter().fit(frequency, recency, T)`` against relmark
  ``ParetoNBD().fit(summary)``, 39 weeks at day granularity (recency and T are whole days / 7);
- MBG/NBD: lifetimes ``ModifiedBetaGeoFitter().fit(...)`` against relmark ``MBGNBD().fit``,
  same cohort design;
- BG/BB: lifetimes ``BetaGeoBetaBinomFitter().fit(frequency, recency, n_periods, weights)``
  against relmark ``BGBB().fit`` on the same weighted pattern table (the donations data, and a
  simulated cohort with 52 opportunities).

relmark's time includes compressing the summary to distinct rows and computing standard errors.
Both optima are compared: the largest relative parameter difference, and each library's
estimates plugged into relmark's log-likelihood (the script warns unless relmark's is at least
as high, to 1e-6 relative). lifetimes fits the Pareto/NBD with Nelder-Mead, whose stopping rule
is looser, so there the parameters differ at the 1e-5 level.

    .venv/bin/python benchmarks/bench_btyd2.py --write-docs
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable
from typing import Any

import attrs
import numpy as np
import pandas as pd
from lifetimes import BetaGeoBetaBinomFitter, ModifiedBetaGeoFitter, ParetoNBDFitter

from _docs import write_section
from relmark.clv import BGBB, MBGNBD, ParetoNBD
from relmark.core import bgbb as bgbb_kernels
from relmark.core import mbgnbd as mbgnbd_kernels
from relmark.core import paretonbd as paretonbd_kernels
from relmark.data.summary import CustomerSummary
from relmark.datasets import load_donations, simulate_bgbb, simulate_mbgnbd, simulate_paretonbd

PARETO_TRUTH = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
MBG_TRUTH = {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614}
BGBB_TRUTH = {"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783}
COHORT_DAYS = 273  # 39 weeks
BGBB_PERIODS = 12


def day_granularity(exact: CustomerSummary) -> CustomerSummary:
    """Recency rounded down to whole days and T = 273 days, both in weeks."""
    days = np.floor(exact.recency * 7.0)
    return CustomerSummary.from_arrays(
        exact.frequency, days / 7.0, np.full(len(exact), COHORT_DAYS / 7.0), unit="W"
    )


# Fits run on attrs.evolve(summary): a fresh copy has no cached compression, so every
# repeat pays for compressing to distinct rows, as the docs say.
def best_of(repeats: int, run: Callable[[], Any]) -> tuple[float, Any]:
    best, result = np.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = run()
        best = min(best, time.perf_counter() - start)
    return best, result


def compare(
    label: str,
    n: int,
    rows: int,
    times: tuple[float, float],
    params: tuple[np.ndarray, np.ndarray],
    total_ll: Callable[[np.ndarray], float],
) -> tuple[str, bool]:
    """One table row, and whether relmark's optimum is at least as good as lifetimes'."""
    theirs_t, ours_t = times
    theirs_p, ours_p = params
    rel = float(np.max(np.abs(ours_p / theirs_p - 1.0)))
    ll_theirs, ll_ours = total_ll(theirs_p), total_ll(ours_p)
    ok = ll_ours >= ll_theirs - 1e-6 * abs(ll_theirs)
    print(
        f"{label} n={n:,}: rows {rows:,}; lifetimes {theirs_t:.3f}s, relmark {ours_t:.4f}s, "
        f"ratio {theirs_t / ours_t:.0f}x; max rel param diff {rel:.1e}; "
        f"LL at lifetimes' {ll_theirs:.4f}, at relmark's {ll_ours:.4f}"
    )
    line = (
        f"| {label} | {n:,} | {rows:,} | {theirs_t:.3f} | {ours_t:.4f} | "
        f"**{theirs_t / ours_t:.0f}×** | {rel:.1e} | {ll_ours - ll_theirs:+.1e} |"
    )
    return line, ok


def bench_pareto(n: int, repeats: int, lifetimes_repeats: int) -> tuple[str, bool]:
    summary = day_granularity(simulate_paretonbd(n, **PARETO_TRUTH, T=39.0, seed=n))
    compressed = summary.compress()
    names = ("r", "alpha", "s", "beta")
    ours_t, ours = best_of(repeats, lambda: ParetoNBD().fit(attrs.evolve(summary)))
    theirs_t, theirs = best_of(
        lifetimes_repeats,
        lambda: ParetoNBDFitter().fit(summary.frequency, summary.recency, summary.T),
    )

    def total_ll(p: np.ndarray) -> float:
        ll = paretonbd_kernels.log_likelihood(
            compressed.frequency, compressed.recency, compressed.T, *p
        )
        return float(compressed.weights @ ll)

    return compare(
        "Pareto/NBD fit",
        n,
        len(compressed.frequency),
        (theirs_t, ours_t),
        (
            np.array([theirs.params_[k] for k in names]),
            np.array([getattr(ours.params_, k) for k in names]),
        ),
        total_ll,
    )


def bench_mbgnbd(n: int, repeats: int, lifetimes_repeats: int) -> tuple[str, bool]:
    summary = day_granularity(simulate_mbgnbd(n, **MBG_TRUTH, T=39.0, seed=n))
    compressed = summary.compress()
    names = ("r", "alpha", "a", "b")
    ours_t, ours = best_of(repeats, lambda: MBGNBD().fit(attrs.evolve(summary)))
    theirs_t, theirs = best_of(
        lifetimes_repeats,
        lambda: ModifiedBetaGeoFitter().fit(summary.frequency, summary.recency, summary.T),
    )

    def total_ll(p: np.ndarray) -> float:
        ll = mbgnbd_kernels.log_likelihood(
            compressed.frequency, compressed.recency, compressed.T, *p
        )
        return float(compressed.weights @ ll)

    return compare(
        "MBG/NBD fit",
        n,
        len(compressed.frequency),
        (theirs_t, ours_t),
        (
            np.array([theirs.params_[k] for k in names]),
            np.array([getattr(ours.params_, k) for k in names]),
        ),
        total_ll,
    )


def bench_bgbb(
    label: str, patterns: CustomerSummary, repeats: int, lifetimes_repeats: int
) -> tuple[str, bool]:
    names = ("alpha", "beta", "gamma", "delta")
    weights = patterns.row_weights
    frame = pd.DataFrame(
        {"x": patterns.frequency, "t_x": patterns.recency, "n": patterns.T, "w": weights}
    )
    ours_t, ours = best_of(repeats, lambda: BGBB().fit(patterns))
    theirs_t, theirs = best_of(
        lifetimes_repeats,
        lambda: BetaGeoBetaBinomFitter().fit(frame["x"], frame["t_x"], frame["n"], frame["w"]),
    )

    def total_ll(p: np.ndarray) -> float:
        ll = bgbb_kernels.log_likelihood(patterns.frequency, patterns.recency, patterns.T, *p)
        return float(weights @ ll)

    return compare(
        label,
        int(weights.sum()),
        len(patterns),
        (theirs_t, ours_t),
        (
            np.array([theirs.params_[k] for k in names]),
            np.array([getattr(ours.params_, k) for k in names]),
        ),
        total_ll,
    )


def bgbb_patterns(n: int) -> CustomerSummary:
    """A simulated BG/BB cohort reduced to its weighted (x, t_x, n) patterns."""
    simulated = simulate_bgbb(n, **BGBB_TRUTH, n_periods=BGBB_PERIODS, seed=n)
    rows = simulated.compress()
    return CustomerSummary.from_arrays(
        rows.frequency, rows.recency, rows.T, weights=rows.weights, unit=simulated.unit
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pareto-sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--mbgnbd-sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--bgbb-size", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3, help="relmark repeats (best is kept)")
    parser.add_argument("--lifetimes-repeats", type=int, default=1)
    parser.add_argument("--write-docs", action="store_true", help="update docs/performance.md")
    args = parser.parse_args()
    lines = [
        (
            "| task | customers | distinct rows | lifetimes (s) | relmark (s) | speed-up | "
            "max rel. param diff | LL(relmark) − LL(lifetimes) |"
        ),
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    results = [bench_pareto(n, args.repeats, args.lifetimes_repeats) for n in args.pareto_sizes]
    results += [bench_mbgnbd(n, args.repeats, args.lifetimes_repeats) for n in args.mbgnbd_sizes]
    results.append(
        bench_bgbb("BG/BB fit (donations)", load_donations(), args.repeats, args.lifetimes_repeats)
    )
    results.append(
        bench_bgbb(
            f"BG/BB fit ({BGBB_PERIODS} opportunities)",
            bgbb_patterns(args.bgbb_size),
            args.repeats,
            args.lifetimes_repeats,
        )
    )
    for line, ok in results:
        lines.append(line)
        if not ok:
            print(f"WARNING: relmark's optimum is below lifetimes' in: {line}")
    table = "\n".join(lines)
    print(table)
    if args.write_docs:
        command = (
            ".venv/bin/python benchmarks/bench_btyd2.py "
            f"--pareto-sizes {' '.join(map(str, args.pareto_sizes))} "
            f"--mbgnbd-sizes {' '.join(map(str, args.mbgnbd_sizes))} "
            f"--bgbb-size {args.bgbb_size} --repeats {args.repeats} "
            f"--lifetimes-repeats {args.lifetimes_repeats} --write-docs"
        )
        path = write_section("bench_btyd2", "Pareto/NBD, MBG/NBD and BG/BB fits", command, table)
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
