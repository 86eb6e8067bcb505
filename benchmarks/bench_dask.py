"""Benchmark: relmark.dask on a 1- and 2-worker LocalCluster against single-process relmark.

For each size, simulates a multi-cohort log (BG/NBD customers with Gamma-Gamma spend, acquired
over two years, observed over three, day timestamps) with
``relmark.datasets.simulate_transaction_log`` and writes it as Parquet files in time order, a
fixed number of rows per file (one file per "day range", so customers cross files). Then, on the
same files, one after the other:

- **single process**: read every file with pyarrow, ``TransactionLog.from_frame``,
  ``summarize``, ``BGNBD().fit``, P(alive) and 52-week expected purchases for every customer,
  written as one Parquet file; in a fresh process, whose peak RSS is reported;
- **Dask, 1 and 2 workers** (``LocalCluster``, one thread per worker process):
  ``relmark.dask.summarize(...).persist()``, ``relmark.dask.fit(BGNBD(), ...)``,
  ``relmark.dask.score(...)`` written with ``relmark.dask.to_parquet``; the peak RSS of each
  worker process, the RSS it started with, and the bytes the client holds for the fit (the
  merged weighted distinct rows) are reported.

The fitted parameters of every run are checked equal (bit for bit) to the single-process ones.
Throughput is transactions per second of wall time for the whole pipeline (read → written
scores). With ``--write-docs`` the table replaces the "Scale-out on Dask" section of
``docs/performance.md``.

    .venv/bin/python benchmarks/bench_dask.py --sizes 2000000,10000000 --write-docs
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import shutil
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

TRANSACTIONS_PER_CUSTOMER = 3.1
"""About how many transactions a simulated customer makes (CDNOW-like rates over three years)."""
PARAMS = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
SPEND = {"p": 6.25, "q": 3.74, "gamma": 15.44}
COLUMNS = {"customer": "customer", "time": "date", "amount": "amount"}


def write_log(n_transactions: int, rows_per_file: int, folder: Path, seed: int) -> tuple[int, int]:
    """Simulate about ``n_transactions`` and write them in time order; (transactions, files)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from relmark.datasets import simulate_transaction_log

    log = simulate_transaction_log(
        int(n_transactions / TRANSACTIONS_PER_CUSTOMER),
        "bgnbd",
        PARAMS,
        start="2021-01-01",
        end="2024-01-01",
        acquisition_end="2023-01-01",
        spend=SPEND,
        seed=seed,
    )
    order = np.argsort(log.time, kind="stable")
    folder.mkdir(parents=True)
    n_files = 0
    for start in range(0, order.size, rows_per_file):
        rows = order[start : start + rows_per_file]
        table = pa.table(
            {"customer": log.customer_id[rows], "date": log.time[rows], "amount": log.amount[rows]}
        )
        pq.write_table(table, folder / f"part-{n_files:05d}.parquet")
        n_files += 1
    return len(log), n_files


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def single_process(folder: str, output: str) -> dict[str, Any]:
    """The whole job in this (fresh) process; its wall time, peak RSS and parameters."""
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    from relmark.clv import BGNBD
    from relmark.data import TransactionLog
    from relmark.data.partition import score_summary

    cpu = time.process_time()
    start = time.perf_counter()
    table = ds.dataset(folder, format="parquet").to_table()
    log = TransactionLog.from_frame(table, **COLUMNS)
    del table
    summary = log.summarize()
    del log
    summarized = time.perf_counter()
    model = BGNBD().fit(summary)
    fitted = time.perf_counter()
    scores = score_summary(model, summary, horizon=52.0).to_frame("pyarrow")
    pq.write_table(scores, output)
    elapsed = time.perf_counter() - start
    return {
        "seconds": elapsed,
        "phases": (summarized - start, fitted - summarized, start + elapsed - fitted),
        "cpu": (None, time.process_time() - cpu),
        "peak_mb": _peak_rss_mb(),
        "params": [getattr(model.params_, n) for n in BGNBD.parameter_names()],
        "customers": len(summary),
    }


def _worker_rss() -> tuple[float, float, float]:
    """Current and peak RSS (MB) and CPU seconds so far of this (worker) process."""
    import psutil

    process = psutil.Process()
    times = process.cpu_times()
    return process.memory_info().rss / 2**20, _peak_rss_mb(), times.user + times.system


def on_dask(folder: str, output: str, n_workers: int) -> dict[str, Any]:
    """The whole job on a fresh LocalCluster of ``n_workers`` single-threaded processes."""
    from distributed import Client, LocalCluster, wait

    import relmark.dask as rd
    from relmark.clv import BGNBD

    with (
        LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            memory_limit=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        client.run(lambda: bool(__import__("relmark.dask")))
        before = client.run(_worker_rss)
        client_before = _peak_rss_mb()
        client_cpu = time.process_time()
        start = time.perf_counter()
        summary = rd.summarize(str(Path(folder) / "*.parquet"), **COLUMNS).persist()
        wait(summary.frame)
        summarized = time.perf_counter()
        rows = rd.compress(summary)
        model = BGNBD().fit(rows.to_summary())
        fitted = time.perf_counter()
        rd.to_parquet(rd.score(model, summary, horizon=52.0), output)
        elapsed = time.perf_counter() - start
        client_cpu = time.process_time() - client_cpu
        after = client.run(_worker_rss)
    worker_cpu = sum(a[2] - before[w][2] for w, a in after.items())
    return {
        "seconds": elapsed,
        "phases": (summarized - start, fitted - summarized, start + elapsed - fitted),
        "cpu": (worker_cpu, client_cpu),
        "worker_start_mb": max(rss for rss, _, _ in before.values()),
        "worker_peak_mb": max(peak for _, peak, _ in after.values()),
        "client_rows": len(rows),
        "client_mb": rows.nbytes / 2**20,
        "client_growth_mb": _peak_rss_mb() - client_before,
        "params": [getattr(model.params_, n) for n in BGNBD.parameter_names()],
    }


def in_fresh_process(function: Any, *args: Any) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        result: dict[str, Any] = pool.submit(function, *args).result()
    return result


def run(sizes: list[int], rows_per_file: int, workdir: Path) -> list[dict[str, Any]]:
    results = []
    for n_target in sizes:
        folder = workdir / f"log-{n_target}"
        start = time.perf_counter()
        n, n_files = write_log(n_target, rows_per_file, folder, seed=2026)
        print(f"{n:,} transactions in {n_files} files ({time.perf_counter() - start:.0f} s)")
        local = in_fresh_process(single_process, str(folder), str(workdir / "scores.parquet"))
        print(f"  single process: {local['seconds']:.1f} s, peak {local['peak_mb']:.0f} MB")
        results.append({"n": n, "files": n_files, "mode": "single process", **local})
        for n_workers in (1, 2):
            out = workdir / f"scores-{n_workers}"
            distributed_run = in_fresh_process(on_dask, str(folder), str(out), n_workers)
            shutil.rmtree(out)
            if distributed_run["params"] != local["params"]:
                raise AssertionError(
                    f"parameters differ: {distributed_run['params']} vs {local['params']}"
                )
            print(
                f"  dask, {n_workers} worker(s): {distributed_run['seconds']:.1f} s, worker peak "
                f"{distributed_run['worker_peak_mb']:.0f} MB (started at "
                f"{distributed_run['worker_start_mb']:.0f}), client rows "
                f"{distributed_run['client_rows']:,} ({distributed_run['client_mb']:.1f} MB)"
            )
            results.append(
                {
                    "n": n,
                    "files": n_files,
                    "mode": f"Dask, {n_workers} worker(s)",
                    **distributed_run,
                }
            )
        shutil.rmtree(folder)
    return results


def table(results: list[dict[str, Any]]) -> str:
    header = (
        "| transactions | files | engine | wall time | summarize / fit / score (s) "
        "| transactions/s | vs single process | CPU s: workers / client "
        "| peak RSS per process | client: distinct rows (bytes) |"
    )
    lines = [header, "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    single = {r["n"]: r["seconds"] for r in results if r["mode"] == "single process"}
    for r in results:
        peak = r.get("worker_peak_mb", r.get("peak_mb"))
        if "worker_start_mb" in r:
            memory = f"{peak:,.0f} MB (idle {r['worker_start_mb']:,.0f} MB)"
            client = f"{r['client_rows']:,} ({r['client_mb'] * 2**20 / 1e6:.1f} MB)"
        else:
            memory, client = f"{peak:,.0f} MB", "—"
        phases = " / ".join(f"{p:.1f}" for p in r["phases"])
        lines.append(
            f"| {r['n']:,} | {r['files']} | {r['mode']} | {r['seconds']:.1f} s | {phases} | "
            f"{r['n'] / r['seconds']:,.0f} | {r['seconds'] / single[r['n']]:.2f}× | "
            f"{'—' if r['cpu'][0] is None else format(r['cpu'][0], '.1f')} / {r['cpu'][1]:.1f} | "
            f"{memory} | "
            f"{client} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="2000000,10000000", help="comma-separated transaction counts"
    )
    parser.add_argument("--rows-per-file", type=int, default=250_000)
    parser.add_argument("--workdir", default=None, help="scratch directory (default: a temp dir)")
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    sizes = [int(float(s)) for s in args.sizes.split(",")]
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="relmark-bench-dask-"))
    try:
        results = run(sizes, args.rows_per_file, workdir)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    text = table(results)
    print(text)
    print(json.dumps(results))
    if args.write_docs:
        from _docs import write_section

        command = (
            f".venv/bin/python benchmarks/bench_dask.py --sizes {args.sizes} "
            f"--rows-per-file {args.rows_per_file} --write-docs"
        )
        path = write_section("bench_dask", "Scale-out on Dask", command, text)
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
