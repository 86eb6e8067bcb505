"""Benchmark: relmark.dask on a 1- and 2-worker LocalCluster against single-process relmark.

The dataset is generated once into ``--data DIR`` and reused by later runs (a 50M-transaction
log is generated in about a minute; the runs are what take time). It is a multi-cohort log
(BG/NBD customers with Gamma-Gamma spend, acquired over two years, observed over three, day
timestamps) simulated with ``relmark.datasets.simulate_transaction_log`` in **chunks** of about
5M transactions (1.65M customers each, their own seed and id range). Each chunk is written in
time order, ``--rows-per-file`` rows per file, so customers cross files. A size of ``k`` chunks
reads the files of the first ``k`` chunks: the sizes are nested, and every size has files of the
same size, so peak memory per worker can be compared across sizes.

For each size, on the same files, one after the other, each in a fresh process:

- **single process** (up to ``--single-max`` transactions): read every file with pyarrow,
  ``TransactionLog.from_frame``, ``summarize``, ``BGNBD().fit``, P(alive) and 52-week expected
  purchases for every customer, written as one Parquet file; its peak RSS;
- **Dask, 1 and 2 workers** (``LocalCluster``, one thread per worker process, no memory limit,
  the same partitioning: one summary partition per file): a warm-up job on one file first (not
  timed: worker imports, the first P2P shuffle), then ``relmark.dask.summarize(...)
  .checkpoint(...)`` (the summary on disk, not in worker memory; each partition's write task
  also compresses it, and the client merges the compressed rows as the partitions complete,
  during this phase), ``relmark.dask.compress`` and ``BGNBD().fit`` on the merged rows (the fit
  phase: the merged rows are already there), and
  ``relmark.dask.score(...)`` written with ``relmark.dask.to_parquet``. Reported: the peak RSS
  of each worker process during the job and the RSS it had when idle, and the bytes the client
  holds for the fit (the merged weighted distinct rows) and its RSS growth.

Data generation is never timed. The fitted parameters of every run are checked equal (bit for
bit) to the single-process ones, and the Dask runs to each other. Each run's result is saved
as JSON under ``DIR/results/``; ``--resume`` reuses saved results instead of rerunning, so a
long run that stops can be continued. With ``--write-docs`` the table replaces the "Scale-out
on Dask" section of ``docs/performance.md``.

    .venv/bin/python benchmarks/bench_dask.py --data /tmp/relmark-dask --sizes 10M,20M,50M \\
        --resume --write-docs
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import shutil
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

CHUNK_TRANSACTIONS = 5_000_000
"""About how many transactions one chunk of the dataset holds."""
TRANSACTIONS_PER_CUSTOMER = 3.1
"""About how many transactions a simulated customer makes (CDNOW-like rates over three years)."""
PARAMS = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
SPEND = {"p": 6.25, "q": 3.74, "gamma": 15.44}
COLUMNS = {"customer": "customer", "time": "date", "amount": "amount"}
ID_STRIDE = 10_000_000
"""Customer ids of chunk ``k`` start at ``k * ID_STRIDE``: chunks never share a customer."""


def write_chunk(k: int, rows_per_file: int, folder: Path) -> dict[str, int]:
    """Simulate chunk ``k`` and write it in time order, unless it is already there."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from relmark.datasets import simulate_transaction_log

    target = folder / f"chunk-{k:03d}"
    info = target / "chunk.json"
    if info.exists():
        facts: dict[str, int] = json.loads(info.read_text())
        return facts
    log = simulate_transaction_log(
        int(CHUNK_TRANSACTIONS / TRANSACTIONS_PER_CUSTOMER),
        "bgnbd",
        PARAMS,
        start="2021-01-01",
        end="2024-01-01",
        acquisition_end="2023-01-01",
        spend=SPEND,
        seed=2026 + k,
    )
    order = np.argsort(log.time, kind="stable")
    staging = folder / f".chunk-{k:03d}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    n_files = 0
    ids = log.customer_id + k * ID_STRIDE
    for start in range(0, order.size, rows_per_file):
        rows = order[start : start + rows_per_file]
        table = pa.table(
            {"customer": ids[rows], "date": log.time[rows], "amount": log.amount[rows]}
        )
        pq.write_table(table, staging / f"part-{n_files:05d}.parquet")
        n_files += 1
    facts = {"transactions": len(log), "files": n_files, "rows_per_file": rows_per_file}
    (staging / "chunk.json").write_text(json.dumps(facts))
    staging.rename(target)
    return facts


def dataset(folder: Path, chunks: int, rows_per_file: int) -> tuple[list[str], int]:
    """The files of the first ``chunks`` chunks (generated if missing) and their transactions."""
    files: list[str] = []
    total = 0
    for k in range(chunks):
        facts = write_chunk(k, rows_per_file, folder)
        if facts["rows_per_file"] != rows_per_file:
            raise SystemExit(
                f"{folder} holds chunks of {facts['rows_per_file']} rows per file; use that "
                "--rows-per-file or another --data directory."
            )
        files += sorted(str(p) for p in (folder / f"chunk-{k:03d}").glob("*.parquet"))
        total += facts["transactions"]
    return files, total


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def single_process(files: list[str], output: str) -> dict[str, Any]:
    """The whole job in this (fresh) process; its wall time, peak RSS and parameters."""
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    from relmark.clv import BGNBD
    from relmark.data import TransactionLog
    from relmark.data.partition import score_summary

    cpu = time.process_time()
    start = time.perf_counter()
    table = ds.dataset(files, format="parquet").to_table()
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


def _job(files: list[str], scratch: Path, output: Path) -> tuple[Any, Any, float, float, float]:
    """Summarize (checkpointed), fit and score ``files`` on the current client; phase ends."""
    import relmark.dask as rd
    from relmark.clv import BGNBD

    start = time.perf_counter()
    summary = rd.summarize(files, npartitions=len(files), **COLUMNS).checkpoint(scratch)
    summarized = time.perf_counter()
    rows = rd.compress(summary)
    model = BGNBD().fit(rows.to_compressed())
    fitted = time.perf_counter()
    rd.to_parquet(rd.score(model, summary, horizon=52.0), output)
    return rows, model, start, summarized, fitted


def on_dask(
    files: list[str], workdir: str, n_workers: int, comm_buffer: str | None
) -> dict[str, Any]:
    """The whole job on a fresh LocalCluster of ``n_workers`` single-threaded processes.

    ``comm_buffer`` sets ``distributed.p2p.comm.buffer``, the shuffle's send buffer per worker
    (Dask's default is 1 GiB); the workers get the setting from this process's config.
    """
    from distributed import Client, LocalCluster

    import dask
    from relmark.clv import BGNBD

    root = Path(workdir)
    settings = {} if comm_buffer is None else {"distributed.p2p.comm.buffer": comm_buffer}
    with (
        dask.config.set(settings),
        LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            memory_limit=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        # Warm-up, not timed: imports in every worker, the first P2P shuffle, the first fit.
        _job(files[:n_workers], root / "warm-summary", root / "warm-scores")
        before = client.run(_worker_rss)
        client_before = _peak_rss_mb()
        client_cpu = time.process_time()
        rows, model, start, summarized, fitted = _job(files, root / "summary", root / "scores")
        elapsed = time.perf_counter() - start
        client_cpu = time.process_time() - client_cpu
        after = client.run(_worker_rss)
    for name in ("warm-summary", "warm-scores", "summary", "scores"):
        shutil.rmtree(root / name)
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


def _load_avg() -> float:
    return os.getloadavg()[0]


def run(
    sizes: list[int],
    rows_per_file: int,
    data: Path,
    single_max: int,
    resume: bool,
    comm_buffer: str | None,
) -> list[dict[str, Any]]:
    results = []
    saved = data / "results"
    saved.mkdir(parents=True, exist_ok=True)
    for chunks in sizes:
        start = time.perf_counter()
        files, n = dataset(data, chunks, rows_per_file)
        print(
            f"{n:,} transactions in {len(files)} files (ready in {time.perf_counter() - start:.0f} s)"
        )
        modes: list[tuple[str, Any, tuple[Any, ...]]] = []
        if n <= single_max:
            output = str(data / "scores.parquet")
            modes.append(("single process", single_process, (files, output)))
        modes.extend(
            (f"Dask, {k} worker(s)", on_dask, (files, str(data), k, comm_buffer)) for k in (1, 2)
        )
        for mode, function, args in modes:
            buffer = "" if comm_buffer is None or "Dask" not in mode else f"-{comm_buffer}"
            name = f"{chunks}-{rows_per_file}-{mode}{buffer}".replace(" ", "_")
            path = saved / f"{name}.json"
            if resume and path.exists():
                result = json.loads(path.read_text())
                print(f"  {mode}: reused {path}")
            else:
                load = _load_avg()
                result = {
                    "n": n,
                    "files": len(files),
                    "mode": mode,
                    **in_fresh_process(function, *args),
                    "load": (load, _load_avg()),
                }
                path.write_text(json.dumps(result))
            results.append(result)
            memory = result.get("worker_peak_mb", result.get("peak_mb"))
            print(f"  {mode}: {result['seconds']:.1f} s, peak {memory:.0f} MB")
        (data / "scores.parquet").unlink(missing_ok=True)
        reference = [r["params"] for r in results if r["n"] == n]
        if any(p != reference[0] for p in reference):
            raise AssertionError(f"parameters differ between engines at {n:,}: {reference}")
    return results


def table(results: list[dict[str, Any]]) -> str:
    header = (
        "| transactions | files | engine | wall time | summarize / fit / score (s) "
        "| transactions/s | vs 1 worker | vs single process | CPU s: workers / client "
        "| peak RSS per process | client: distinct rows (bytes) | client RSS growth | load avg |"
    )
    lines = [header, "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    single = {r["n"]: r["seconds"] for r in results if r["mode"] == "single process"}
    one = {r["n"]: r["seconds"] for r in results if r["mode"] == "Dask, 1 worker(s)"}
    for r in results:
        peak = r.get("worker_peak_mb", r.get("peak_mb"))
        if "worker_start_mb" in r:
            memory = f"{peak:,.0f} MB (idle {r['worker_start_mb']:,.0f} MB)"
            client = (
                f"{r['client_rows']:,} ({r['client_mb'] * 2**20 / 1e6:.1f} MB) | "
                f"{r['client_growth_mb']:,.0f} MB"
            )
            speedup = f"{one[r['n']] / r['seconds']:.2f}×" if r["n"] in one else "—"
        else:
            memory, client, speedup = f"{peak:,.0f} MB", "— | —", "—"
        phases = " / ".join(f"{p:.1f}" for p in r["phases"])
        versus = f"{r['seconds'] / single[r['n']]:.2f}×" if r["n"] in single else "—"
        workers_cpu = "—" if r["cpu"][0] is None else format(r["cpu"][0], ".1f")
        load = r.get("load")
        loads = "—" if load is None else f"{load[0]:.1f}–{load[1]:.1f}"
        lines.append(
            f"| {r['n']:,} | {r['files']} | {r['mode']} | {r['seconds']:.1f} s | {phases} | "
            f"{r['n'] / r['seconds']:,.0f} | {speedup} | {versus} | "
            f"{workers_cpu} / {r['cpu'][1]:.1f} | {memory} | {client} | {loads} |"
        )
    return "\n".join(lines)


def _chunks(text: str) -> int:
    """A size like ``10M`` or ``10000000`` as a number of chunks (at least one)."""
    value = float(text[:-1]) * 1e6 if text.upper().endswith("M") else float(text)
    return max(1, round(value / CHUNK_TRANSACTIONS))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="10M,20M", help="comma-separated transaction counts (5M steps)"
    )
    parser.add_argument("--rows-per-file", type=int, default=250_000)
    parser.add_argument(
        "--data", default=None, help="dataset directory, kept and reused (default: a temp dir)"
    )
    parser.add_argument(
        "--single-max",
        type=float,
        default=25e6,
        help="largest size also run single-process (it holds the whole log in memory)",
    )
    parser.add_argument(
        "--comm-buffer",
        default="default",
        help="distributed.p2p.comm.buffer of the workers ('default': Dask's own, 1 GiB)",
    )
    parser.add_argument("--resume", action="store_true", help="reuse results saved in --data")
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    sizes = [_chunks(s) for s in args.sizes.split(",")]
    data = Path(args.data or tempfile.mkdtemp(prefix="relmark-bench-dask-"))
    try:
        comm_buffer = None if args.comm_buffer == "default" else args.comm_buffer
        results = run(
            sizes, args.rows_per_file, data, int(args.single_max), args.resume, comm_buffer
        )
    finally:
        if args.data is None:
            shutil.rmtree(data, ignore_errors=True)
    text = table(results)
    print(text)
    print(json.dumps(results))
    if args.write_docs:
        from _docs import write_section

        command = (
            f".venv/bin/python benchmarks/bench_dask.py --data DIR --sizes {args.sizes} "
            f"--rows-per-file {args.rows_per_file} --single-max {args.single_max:g} "
            f"--comm-buffer '{args.comm_buffer}' --write-docs"
        )
        note = (
            "Load average (1 min) at the start and end of each run in the last column: the "
            "2 cores were shared with other engineers' work."
        )
        path = write_section("bench_dask", "Scale-out on Dask", command, text, note=note)
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
