"""Benchmark: TransactionLog.summarize against lifetimes' summary_data_from_transaction_data.

Builds seeded synthetic logs (whole-day dates over two years, gamma-distributed amounts), times
both implementations in the same run on the same data, checks the results are equal and prints
a Markdown table. With ``--write-docs`` the table replaces the "Customer summaries" section of
``docs/performance.md`` (between its marker comments).

    .venv/bin/python benchmarks/bench_summary.py --write-docs
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import attrs
import numpy as np
import pandas as pd
from lifetimes.utils import summary_data_from_transaction_data

from relmark.data import TransactionLog

DOCS = Path(__file__).resolve().parents[1] / "docs" / "performance.md"
START, END = "<!-- bench_summary:start -->", "<!-- bench_summary:end -->"
SIZES = ((2_000_000, 200_000), (10_000_000, 1_000_000))
SMOKE_SIZE = (20_000, 2_000)
"""``--smoke``: a tiny case that only shows the script still runs (never published)."""


def synthetic_frame(n_transactions: int, n_customers: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    days = rng.integers(0, 730, n_transactions)
    return pd.DataFrame(
        {
            "customer": rng.integers(0, n_customers, n_transactions),
            "date": (np.datetime64("2022-01-01") + days).astype("datetime64[us]"),
            "amount": np.round(rng.gamma(2.0, 20.0, n_transactions), 2),
        }
    )


def timed(run: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = run()
    return time.perf_counter() - start, result


def interleaved(
    ours: Callable[[], object], theirs: Callable[[], object], repeats: int, their_repeats: int
) -> tuple[float, object, float, object]:
    """Best-of timings, alternating the two sides so both see the same machine load."""
    our_times, their_times = [], []
    our_result = their_result = None
    for round_ in range(max(repeats, their_repeats)):
        if round_ < their_repeats:
            elapsed, their_result = timed(theirs)
            their_times.append(elapsed)
        if round_ < repeats:
            elapsed, our_result = timed(ours)
            our_times.append(elapsed)
    return min(our_times), our_result, min(their_times), their_result


def check_equal(ours, theirs: pd.DataFrame) -> None:
    assert np.array_equal(ours.customer_id, theirs.index.to_numpy())
    assert np.array_equal(ours.frequency, theirs["frequency"].to_numpy())
    assert np.array_equal(ours.recency, theirs["recency"].to_numpy())
    assert np.array_equal(ours.T, theirs["T"].to_numpy())
    np.testing.assert_allclose(ours.monetary, theirs["monetary_value"].to_numpy(), rtol=1e-12)


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"model name\s*:\s*(.+)", cpuinfo.read_text())
        cpu = found.group(1).strip() if found else cpu
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    versions = ", ".join(f"{name} {version(name)}" for name in ("numpy", "pandas", "lifetimes"))
    return (
        f"{cpu}, {cores} cores available, {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()}, {versions}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="relmark repeats (best is kept)")
    parser.add_argument("--lifetimes-repeats", type=int, default=3)
    parser.add_argument("--small", action="store_true", help="only the 2M-transaction case")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="only a 20,000-transaction case, to check the script runs (not with --write-docs)",
    )
    parser.add_argument("--write-docs", action="store_true", help="update docs/performance.md")
    args = parser.parse_args()
    if args.smoke and args.write_docs:
        parser.error("--smoke figures are not published: drop --write-docs")

    sizes = (SMOKE_SIZE,) if args.smoke else SIZES[:1] if args.small else SIZES
    rows = []
    for n_transactions, n_customers in sizes:
        frame = synthetic_frame(n_transactions, n_customers, seed=2024)
        load_s, log = timed(
            lambda frame=frame: TransactionLog.from_frame(
                frame, customer="customer", time="date", amount="amount"
            )
        )
        ours_s, ours, theirs_s, theirs = interleaved(
            lambda log=log: log.summarize(period="D", unit="W"),
            lambda frame=frame: summary_data_from_transaction_data(
                frame, "customer", "date", "amount", freq="D", freq_multiplier=7
            ),
            args.repeats,
            args.lifetimes_repeats,
        )
        check_equal(ours, theirs)
        # A summary caches its compression: time the first call, on a fresh copy each repeat.
        compress_s = min(timed(attrs.evolve(ours).compress)[0] for _ in range(args.repeats))
        rows.append(
            f"| {n_transactions:,} | {len(ours):,} | {theirs_s:.2f} | {ours_s:.3f} | "
            f"**{theirs_s / ours_s:.0f}×** | {load_s:.3f} | {compress_s * 1000:.0f} ms |"
        )
        print(rows[-1], flush=True)

    table = "\n".join(
        [
            (
                "| transactions | customers | lifetimes (s) | relmark `summarize` (s) "
                "| speed-up | relmark `from_frame` (s) | relmark `compress` |"
            ),
            "|---:|---:|---:|---:|---:|---:|---:|",
            *rows,
        ]
    )
    print(table)
    if args.write_docs:
        section = "\n".join(
            [
                START,
                f"Machine: {machine()}.",
                (
                    "Absolute times vary by a factor of up to about two between runs on these "
                    "virtual 2-core machines; both sides ran in the same process on the same data, "
                    "alternating run by run, so the ratio is the figure to read."
                ),
                "",
                (
                    "Command: `.venv/bin/python benchmarks/bench_summary.py --write-docs` "
                    f"(best of {args.repeats} for relmark, best of {args.lifetimes_repeats} for "
                    "lifetimes; results checked equal in the same run)."
                ),
                "",
                table,
                END,
            ]
        )
        text = DOCS.read_text()
        pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.DOTALL)
        if not pattern.search(text):
            raise SystemExit(f"{DOCS} has no {START} ... {END} markers")
        DOCS.write_text(pattern.sub(lambda _: section, text))
        print(f"updated {DOCS}")


if __name__ == "__main__":
    main()
