"""Pareto/NBD fit: relmark against lifetimes, side by side in one run.

Simulates one cohort from the Pareto/NBD exactly (CDNOW-like parameters, 39 weeks), rounds
recency to whole days as a day-granularity log would (recency and T = integer days / 7, in
weeks), then times lifetimes ``ParetoNBDFitter().fit(frequency, recency, T)`` against relmark
``ParetoNBD().fit(summary)`` (which includes relmark's compression to distinct rows and its
standard errors), and reports how far apart the two optima are.

    .venv/bin/python benchmarks/bench_btyd2.py --sizes 10000 100000
"""

from __future__ import annotations

import argparse
import platform
import time
import warnings

import lifetimes
import numpy as np
import pandas as pd
from lifetimes import ParetoNBDFitter

from relmark.clv.paretonbd import ParetoNBD
from relmark.core import paretonbd as kernels
from relmark.data.summary import CustomerSummary
from relmark.datasets._simulators_btyd2 import simulate_pareto_nbd

TRUTH = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
COHORT_DAYS = 273  # 39 weeks
NAMES = ("r", "alpha", "s", "beta")


def simulate(n: int, seed: int) -> CustomerSummary:
    """A day-granularity single-cohort summary."""
    exact = simulate_pareto_nbd(n, **TRUTH, T=COHORT_DAYS / 7.0, seed=seed)
    days = np.floor(exact.recency * 7.0)
    return CustomerSummary.from_arrays(
        exact.frequency, days / 7.0, np.full(n, COHORT_DAYS / 7.0), unit="W"
    )


def total_ll(summary: CustomerSummary, params: np.ndarray) -> float:
    rows = summary.compress()
    ll = kernels.log_likelihood(rows.frequency, rows.recency, rows.T, *params)
    return float(rows.weights @ ll)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()
    print(
        f"Python {platform.python_version()}, numpy {np.__version__}, lifetimes "
        f"{lifetimes.__version__}, {platform.processor() or platform.machine()}\n"
    )
    print(
        "| customers | distinct rows | lifetimes fit (s) | relmark fit + SEs (s) | speed-up | "
        "LL lifetimes | LL relmark |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for n in args.sizes:
        summary = simulate(n, args.seed)
        frame = pd.DataFrame(
            {"frequency": summary.frequency, "recency": summary.recency, "T": summary.T}
        )
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = ParetoNBDFitter().fit(frame["frequency"], frame["recency"], frame["T"])
        t_lifetimes = time.perf_counter() - start
        start = time.perf_counter()
        ours = ParetoNBD().fit(summary)
        t_relmark = time.perf_counter() - start
        their_params = theirs.params_[list(NAMES)].to_numpy()
        ll_theirs = total_ll(summary, their_params)
        print(
            f"| {n:,} | {len(summary.compress()):,} | {t_lifetimes:.2f} | {t_relmark:.2f} | "
            f"{t_lifetimes / t_relmark:.1f}x | {ll_theirs:.2f} | {ours.log_likelihood_:.2f} |"
        )
    print("\nLL columns: relmark's log-likelihood evaluated at each library's estimates.")


if __name__ == "__main__":
    main()
