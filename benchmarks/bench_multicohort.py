"""Multi-cohort logs end to end: relmark against lifetimes, each side in its own subprocess.

The data are what real logs look like, not one cohort: customers acquired uniformly over three
years (2021-01-01 to 2024-01-01), buying by BG/NBD (CDNOW parameters, per week) with
Gamma-Gamma spend, simulated by
[`simulate_transaction_log`][relmark.datasets.simulate.simulate_transaction_log] at day
granularity (seeded; 700,000 customers make about 1.9M transactions and about 42 % distinct
(x, tₓ, T) rows), written once to Parquet. Each side reads it into the same pandas DataFrame
(customer_id, date, amount) and runs the same stages:

| stage | lifetimes 0.11.3 | relmark |
|---|---|---|
| summary | ``summary_data_from_transaction_data(freq="D", freq_multiplier=7)`` | ``TransactionLog.from_frame(...).summarize(period="D", unit="W")`` |
| BG/NBD fit | ``BetaGeoFitter().fit`` | ``BGNBD().fit`` |
| CET, 52 weeks | ``conditional_expected_number_of_purchases_up_to_time`` | ``expected_purchases`` |
| P(alive) | ``conditional_probability_alive`` | ``probability_alive`` |
| Gamma-Gamma fit | ``GammaGammaFitter().fit`` on repeat customers | ``GammaGamma().fit`` |
| 12-month CLV, 1 %/month | ``customer_lifetime_value(freq="W")`` | ``customer_lifetime_value(horizon=12, unit="M")`` |

Each side runs in a fresh subprocess (``--worker``), so its resident memory is its own: before
each stage the peak-RSS mark is reset (``/proc/self/clear_refs``), after it the peak (VmHWM) is
read, and the figure reported is the peak minus the resident size once the input frame was
built ("peak memory above the input frame"). Times are the best of ``--repeats`` passes of the
whole pipeline; end to end is the best pass's total. In the same run the main process checks
the results equal: summaries identical, parameters to 1e-4 relative, CET and P(alive) at the
same parameters to 1e-6, and CLV at the same parameters against lifetimes' own CLV method
evaluated with relmark's month (30.436875 days; lifetimes' ``freq="W"`` month is 4.345 weeks,
so its own CLV differs by the reported amount).

Also: relmark alone at ``--large`` customers (about 10M transactions); the Pareto/NBD fit at
``--pareto-size`` customers (Pareto/NBD-simulated log, same design); the Gamma-Gamma fit on a
variant whose spend hardly varies between customers (q = 1000); and ``relmark score`` on the
log written as Parquet (a subprocess; wall time and peak RSS from ``wait4``).

    .venv/bin/python benchmarks/bench_multicohort.py --write-docs

Linux only (``/proc``). With ``--write-docs`` the tables replace this script's section of
``docs/performance.md``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from _docs import write_section

START, END = "2021-01-01", "2024-01-01"
BGNBD_TRUTH = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PARETO_TRUTH = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
SPEND = {"p": 6.25, "q": 3.74, "gamma": 15.44}
FLAT_SPEND = {"p": 6.25, "q": 1000.0, "gamma": 1000.0 * 15.44 / 2.74}
"""Same mean spend per transaction as SPEND (p γ / (q - 1) ≈ 35.2), but ν hardly varies between
customers (coefficient of variation 1 / √q ≈ 3 %)."""
STAGES = ("summary", "bgnbd_fit", "cet", "palive", "gg_fit", "clv")
LABELS = {
    "summary": "summary from transactions",
    "bgnbd_fit": "BG/NBD fit",
    "cet": "conditional expected purchases, 52 weeks",
    "palive": "P(alive)",
    "gg_fit": "Gamma-Gamma fit",
    "clv": "12-month CLV",
    "end_to_end": "end to end",
    "pareto_fit": "Pareto/NBD fit",
    "gg_flat_fit": "Gamma-Gamma fit, spend hardly varying",
}
TARGETS = {"bgnbd_fit": 20.0, "gg_fit": 20.0, "clv": 30.0, "cet": 3.0, "end_to_end": 25.0}
PARETO_TARGET = 100.0
GREGORIAN_MONTH_WEEKS = 365.2425 / 12 / 7
SEED = 2026


# ------------------------------------------------------------------------------- measuring
def _status(field: str) -> float:
    """A memory field of /proc/self/status, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"/proc/self/status has no {field}")


def _reset_peak() -> None:
    """Reset VmHWM to the current RSS (Linux >= 4.0)."""
    Path("/proc/self/clear_refs").write_text("5")


@contextmanager
def stage(record: dict[str, list[float]], name: str, base_mb: float) -> Iterator[None]:
    """Time the block and measure its peak resident memory above ``base_mb``."""
    gc.collect()
    _reset_peak()
    start, cpu = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield
    elapsed = time.perf_counter() - start
    record.setdefault(name, []).append(elapsed)
    record.setdefault(name + "_cpu", []).append(time.process_time() - cpu)
    record.setdefault(name + "_mb", []).append(_status("VmHWM") - base_mb)


def input_file(folder: Path, task: str, n: int) -> Path:
    """The seeded multi-cohort log of ``task`` as Parquet (customer_id, date, amount), made once.

    Both sides (and ``relmark score``) read the same file, so their input is identical and
    neither process carries the simulator's memory.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from relmark.datasets import simulate_transaction_log

    path = folder / f"log-{task}-{n}.parquet"
    if path.exists():
        return path
    model = "paretonbd" if task == "pareto" else "bgnbd"
    params = BGNBD_TRUTH if model == "bgnbd" else PARETO_TRUTH
    spend = FLAT_SPEND if task == "flat" else SPEND
    log = simulate_transaction_log(
        n, model, params, start=START, end=END, spend=spend, seed=SEED + n, period="D"
    )
    table = pa.table({"customer_id": log.customer_id, "date": log.time, "amount": log.amount})
    pq.write_table(table, path)
    return path


# ------------------------------------------------------------------------------- workers
def relmark_pipeline(frame: Any, record: dict[str, list[float]], base: float) -> dict[str, Any]:
    from relmark.clv import BGNBD, GammaGamma, customer_lifetime_value
    from relmark.data import TransactionLog

    with stage(record, "summary", base):
        log = TransactionLog.from_frame(frame, customer="customer_id", time="date", amount="amount")
        summary = log.summarize(END, period="D", unit="W")
    del log
    with stage(record, "bgnbd_fit", base):
        bg = BGNBD().fit(summary)
    with stage(record, "cet", base):
        cet = bg.expected_purchases(52.0, summary)
    with stage(record, "palive", base):
        palive = bg.probability_alive(summary)
    with stage(record, "gg_fit", base):
        gg = GammaGamma().fit(summary)
    with stage(record, "clv", base):
        clv = customer_lifetime_value(bg, gg, summary, horizon=12, unit="M", discount_rate=0.01)
    return {"summary": summary, "bg": bg, "gg": gg, "cet": cet, "palive": palive, "clv": clv}


def lifetimes_pipeline(frame: Any, record: dict[str, list[float]], base: float) -> dict[str, Any]:
    from lifetimes import BetaGeoFitter, GammaGammaFitter
    from lifetimes.utils import summary_data_from_transaction_data

    with stage(record, "summary", base):
        summary = summary_data_from_transaction_data(
            frame,
            "customer_id",
            "date",
            "amount",
            observation_period_end=END,
            freq="D",
            freq_multiplier=7,
        )
    f, r, T = summary["frequency"], summary["recency"], summary["T"]
    with stage(record, "bgnbd_fit", base):
        bg = BetaGeoFitter().fit(f, r, T)
    with stage(record, "cet", base):
        cet = bg.conditional_expected_number_of_purchases_up_to_time(52.0, f, r, T)
    with stage(record, "palive", base):
        palive = bg.conditional_probability_alive(f, r, T)
    with stage(record, "gg_fit", base):
        repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
        gg = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    with stage(record, "clv", base):
        clv = gg.customer_lifetime_value(
            bg, f, r, T, summary["monetary_value"], time=12, discount_rate=0.01, freq="W"
        )
    return {"summary": summary, "bg": bg, "gg": gg, "cet": cet, "palive": palive, "clv": clv}


def lifetimes_at(params: dict[str, Any], summary: Any) -> dict[str, np.ndarray]:
    """lifetimes' CET, P(alive) and CLV method at given parameters, CLV with relmark's month."""
    import pandas as pd
    from lifetimes import BetaGeoFitter, GammaGammaFitter

    bg = BetaGeoFitter()
    bg.params_ = pd.Series(params["bgnbd"])
    gg = GammaGammaFitter()
    gg.params_ = pd.Series(
        {"p": params["gg"]["p"], "q": params["gg"]["q"], "v": params["gg"]["gamma"]}
    )
    f, r, T = summary["frequency"], summary["recency"], summary["T"]
    profit = gg.conditional_expected_average_profit(f, summary["monetary_value"]).to_numpy()
    clv = np.zeros(len(summary))
    for k in range(1, 13):
        later = bg.conditional_expected_number_of_purchases_up_to_time(
            k * GREGORIAN_MONTH_WEEKS, f, r, T
        )
        earlier = bg.conditional_expected_number_of_purchases_up_to_time(
            (k - 1) * GREGORIAN_MONTH_WEEKS, f, r, T
        )
        clv += profit * (np.asarray(later) - np.asarray(earlier)) / 1.01**k
    return {
        "cet_same": np.asarray(
            bg.conditional_expected_number_of_purchases_up_to_time(52.0, f, r, T)
        ),
        "palive_same": np.asarray(bg.conditional_probability_alive(f, r, T)),
        "clv_same": clv,
    }


def pareto_fit(
    side: str, frame: Any, record: dict[str, list[float]], base: float
) -> dict[str, float]:
    """Summary (untimed) then the Pareto/NBD fit (timed)."""
    if side == "relmark":
        from relmark.clv import ParetoNBD
        from relmark.data import TransactionLog

        summary = TransactionLog.from_frame(
            frame, customer="customer_id", time="date", amount="amount"
        ).summarize(END, period="D", unit="W")
        with stage(record, "pareto_fit", base):
            model = ParetoNBD().fit(summary)
        record["distinct_rows"] = [float(len(summary.compress()))]
        return {k: float(getattr(model.params_, k)) for k in PARETO_TRUTH}
    from lifetimes import ParetoNBDFitter
    from lifetimes.utils import summary_data_from_transaction_data

    summary = summary_data_from_transaction_data(
        frame, "customer_id", "date", observation_period_end=END, freq="D", freq_multiplier=7
    )
    with stage(record, "pareto_fit", base):
        fitter = ParetoNBDFitter().fit(summary["frequency"], summary["recency"], summary["T"])
    return {k: float(fitter.params_[k]) for k in PARETO_TRUTH}


def gamma_gamma_flat(
    side: str, frame: Any, record: dict[str, list[float]], base: float
) -> dict[str, float]:
    """Summary (untimed) then the Gamma-Gamma fit (timed) on the flat-spend log."""
    if side == "relmark":
        from relmark.clv import GammaGamma
        from relmark.data import TransactionLog

        summary = TransactionLog.from_frame(
            frame, customer="customer_id", time="date", amount="amount"
        ).summarize(END, period="D", unit="W")
        with stage(record, "gg_flat_fit", base):
            model = GammaGamma().fit(summary)
        return {k: float(getattr(model.params_, k)) for k in ("p", "q", "gamma")}
    from lifetimes import GammaGammaFitter
    from lifetimes.utils import summary_data_from_transaction_data

    summary = summary_data_from_transaction_data(
        frame,
        "customer_id",
        "date",
        "amount",
        observation_period_end=END,
        freq="D",
        freq_multiplier=7,
    )
    with stage(record, "gg_flat_fit", base):
        repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
        fitter = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    return {
        "p": float(fitter.params_["p"]),
        "q": float(fitter.params_["q"]),
        "gamma": float(fitter.params_["v"]),
    }


def worker(args: argparse.Namespace) -> None:
    """One side, one task, in this (fresh) process; writes JSON (and arrays) to ``args.out``."""
    if args.worker == "lifetimes":
        import lifetimes  # noqa: F401  (imported before the baseline, like relmark below)
    else:
        import relmark.clv
        import relmark.data  # noqa: F401
    import pandas as pd

    frame = pd.read_parquet(args.input)
    gc.collect()
    base = _status("VmRSS")
    record: dict[str, list[float]] = {}
    result: dict[str, Any] = {
        "side": args.worker,
        "customers": args.customers,
        "transactions": len(frame),
        "frame_mb": float(frame.memory_usage(deep=True).sum() / 2**20),
        "base_mb": base,
    }
    if args.task == "pareto":
        result["params"] = {"pareto": pareto_fit(args.worker, frame, record, base)}
    elif args.task == "flat":
        result["params"] = {"gg": gamma_gamma_flat(args.worker, frame, record, base)}
    else:
        pipeline = relmark_pipeline if args.worker == "relmark" else lifetimes_pipeline
        totals, cpu_totals = [], []
        last: dict[str, Any] = {}
        for _ in range(args.repeats):
            last = {}  # the previous pass's results must not count in this pass's memory
            before = {name: len(record.get(name, [])) for name in STAGES}
            last = pipeline(frame, record, base)
            totals.append(sum(record[name][before[name]] for name in STAGES))
            cpu_totals.append(sum(record[name + "_cpu"][before[name]] for name in STAGES))
        record["end_to_end"] = totals
        record["end_to_end_cpu"] = cpu_totals
        record["end_to_end_mb"] = [max(max(record[name + "_mb"]) for name in STAGES)]
        arrays = summary_arrays(args.worker, last)
        if args.worker == "relmark":
            bg, gg = last["bg"], last["gg"]
            result["params"] = {
                "bgnbd": {k: float(getattr(bg.params_, k)) for k in BGNBD_TRUTH},
                "gg": {k: float(getattr(gg.params_, k)) for k in ("p", "q", "gamma")},
            }
            result["distinct_rows"] = len(last["summary"].compress())
        else:
            bg, gg = last["bg"], last["gg"]
            result["params"] = {
                "bgnbd": {k: float(bg.params_[k]) for k in BGNBD_TRUTH},
                "gg": {
                    "p": float(gg.params_["p"]),
                    "q": float(gg.params_["q"]),
                    "gamma": float(gg.params_["v"]),
                },
            }
            if args.reference:
                reference = json.loads(Path(args.reference).read_text())["params"]
                arrays |= lifetimes_at(reference, last["summary"])
        np.savez(Path(args.out).with_suffix(".npz"), **arrays)
    result["stages"] = {
        name: {
            "seconds": min(record[name]),
            "cpu": min(record[name + "_cpu"]),
            "peak_mb": max(record[name + "_mb"]),
        }
        for name in record
        if not name.endswith(("_mb", "_cpu")) and name != "distinct_rows"
    }
    if "distinct_rows" in record:
        result["distinct_rows"] = int(record["distinct_rows"][0])
    Path(args.out).write_text(json.dumps(result))


def summary_arrays(side: str, out: dict[str, Any]) -> dict[str, np.ndarray]:
    if side == "relmark":
        s = out["summary"]
        return {
            "customer_id": s.customer_id,
            "frequency": s.frequency,
            "recency": s.recency,
            "T": s.T,
            "monetary": s.monetary,
            "cet": out["cet"],
            "palive": out["palive"],
            "clv": out["clv"],
        }
    s = out["summary"]
    return {
        "customer_id": s.index.to_numpy(),
        "frequency": s["frequency"].to_numpy(),
        "recency": s["recency"].to_numpy(),
        "T": s["T"].to_numpy(),
        "monetary": s["monetary_value"].to_numpy(),
        "cet": np.asarray(out["cet"]),
        "palive": np.asarray(out["palive"]),
        "clv": np.asarray(out["clv"]),
    }


# ------------------------------------------------------------------------------- main process
def run_worker(
    side: str,
    task: str,
    customers: int,
    repeats: int,
    folder: Path,
    reference: Path | None = None,
    timeout: float | None = None,
) -> dict[str, Any] | None:
    """Run one side in a fresh process; ``None`` when it ran out of ``timeout`` seconds."""
    out = folder / f"{side}-{task}-{customers}.json"
    command = [
        sys.executable,
        __file__,
        "--worker",
        side,
        "--task",
        task,
        "--customers",
        str(customers),
        "--repeats",
        str(repeats),
        "--out",
        str(out),
        "--input",
        str(input_file(folder, task, customers)),
    ]
    if reference is not None:
        command += ["--reference", str(reference)]
    print(f"  running {side} {task} at {customers:,} customers ...", flush=True)
    try:
        subprocess.run(command, check=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        print(f"  {side} {task} stopped after {timeout:.0f} s", flush=True)
        return None
    return json.loads(out.read_text())


def relative(a: np.ndarray, b: np.ndarray) -> float:
    """Largest relative difference (absolute where ``b`` is 0)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    scale = np.where(b == 0, 1.0, np.abs(b))
    return float(np.max(np.abs(a - b) / scale))


def check_pipeline(ours: dict[str, Any], theirs: dict[str, Any], folder: Path) -> list[str]:
    """Equality checks of one size; returns the lines to print and publish."""
    a = np.load(folder / f"relmark-pipeline-{ours['customers']}.npz")
    b = np.load(folder / f"lifetimes-pipeline-{theirs['customers']}.npz")
    same_rows = a["customer_id"].shape == b["customer_id"].shape and np.array_equal(
        a["customer_id"], b["customer_id"]
    )
    summaries_equal = same_rows and all(
        np.array_equal(a[column], b[column]) for column in ("frequency", "recency", "T")
    )
    monetary = relative(a["monetary"], b["monetary"]) if same_rows else float("inf")
    verdict = "identical" if summaries_equal else "**DIFFER**"
    first = (
        f"summaries: customers, frequency, recency and T {verdict}, monetary max rel. diff "
        f"{monetary:.1e} (tolerance 1e-12)"
    )
    lines = [first]
    if not same_rows:
        lines.append("checks: **FAILED** (the summaries have different customers)")
        for line in lines:
            print("  " + line)
        return lines
    worst = {}
    for model in ("bgnbd", "gg"):
        mine, other = ours["params"][model], theirs["params"][model]
        worst[model] = max(abs(mine[k] / other[k] - 1) for k in mine)
    lines.append(
        f"parameters: BG/NBD max rel. diff {worst['bgnbd']:.1e}, Gamma-Gamma {worst['gg']:.1e} "
        "(tolerance 1e-4)"
    )
    same = {k: relative(a[k], b[k + "_same"]) for k in ("cet", "palive", "clv")}
    lines.append(
        f"at relmark's parameters: CET max rel. diff {same['cet']:.1e}, P(alive) "
        f"{same['palive']:.1e} (tolerance 1e-6), CLV vs lifetimes' method with the Gregorian "
        f"month {same['clv']:.1e} (tolerance 1e-6)"
    )
    own = {k: relative(a[k], b[k]) for k in ("cet", "palive", "clv")}
    lines.append(
        f"each with its own fit: CET {own['cet']:.1e}, P(alive) {own['palive']:.1e}, CLV "
        f"{own['clv']:.1e} (lifetimes' CLV month is 4.345 weeks, relmark's 4.348)"
    )
    ok = (
        summaries_equal
        and monetary <= 1e-12
        and worst["bgnbd"] <= 1e-4
        and worst["gg"] <= 1e-4
        and max(same.values()) <= 1e-6
    )
    lines.append("checks: " + ("all passed" if ok else "**FAILED**"))
    for line in lines:
        print("  " + line)
    return lines


def ratio_cell(theirs: float, ours: float, target: float | None) -> str:
    ratio = theirs / ours
    cell = f"**{ratio:.1f}×**" if ratio < 10 else f"**{ratio:.0f}×**"
    if target is None:
        return cell + " | —"
    return cell + f" | ≥ {target:.0f}× {'met' if ratio >= target else 'missed'}"


def pipeline_table(ours: dict[str, Any], theirs: dict[str, Any]) -> str:
    rows = [
        (
            f"{ours['customers']:,} customers, {ours['transactions']:,} transactions, "
            f"{ours['distinct_rows']:,} distinct (x, tₓ, T) rows "
            f"({ours['distinct_rows'] / ours['customers']:.0%}); input frame "
            f"{ours['frame_mb']:.0f} MB."
        ),
        "",
        (
            "| stage | lifetimes (s) | relmark (s) | speed-up | target | speed-up in CPU time "
            "| lifetimes peak above frame (MB) | relmark peak above frame (MB) |"
        ),
        "|---|---:|---:|---:|---|---:|---:|---:|",
    ]
    for name in (*STAGES, "end_to_end"):
        t, o = theirs["stages"][name], ours["stages"][name]
        rows.append(
            f"| {LABELS[name]} | {t['seconds']:.3f} | {o['seconds']:.3f} | "
            f"{ratio_cell(t['seconds'], o['seconds'], TARGETS.get(name))} | "
            f"{t['cpu'] / o['cpu']:.1f}× | {t['peak_mb']:.0f} | {o['peak_mb']:.0f} |"
        )
    t_mb, o_mb = theirs["stages"]["end_to_end"]["peak_mb"], ours["stages"]["end_to_end"]["peak_mb"]
    verdict = "met" if o_mb <= 0.5 * t_mb else "missed"
    rows.append(
        f"| peak memory above frame, relmark ÷ lifetimes | | | {o_mb / t_mb:.2f} "
        f"| ≤ 0.5 {verdict} | | | |"
    )
    return "\n".join(rows)


def score_run(customers: int, folder: Path) -> dict[str, Any]:
    """Run ``relmark score`` on the log as Parquet; wall time and peak RSS."""
    import pyarrow.parquet as pq

    path = input_file(folder, "pipeline", customers)
    out = folder / f"scores-{customers}.parquet"
    relmark = Path(sys.executable).with_name("relmark")
    command = [
        str(relmark),
        "score",
        str(path),
        "--output",
        str(out),
        "--observation-end",
        END,
        "--quiet",
    ]
    print(f"  running {' '.join(command[1:2])} on {customers:,} customers ...", flush=True)
    start = time.perf_counter()
    process = subprocess.Popen(command)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    rows = pq.read_metadata(out).num_rows if process.returncode == 0 else 0
    return {
        "customers": customers,
        "seconds": elapsed,
        "peak_mb": usage.ru_maxrss / 1024,
        "exit": process.returncode,
        "rows": rows,
        "columns": pq.read_schema(out).names if process.returncode == 0 else [],
    }


def side_by_side(n: int, args: argparse.Namespace, folder: Path) -> str:
    print(f"pipeline at {n:,} customers", flush=True)
    ours = run_worker("relmark", "pipeline", n, args.repeats, folder)
    theirs = run_worker(
        "lifetimes",
        "pipeline",
        n,
        args.lifetimes_repeats,
        folder,
        reference=folder / f"relmark-pipeline-{n}.json",
    )
    assert ours is not None
    assert theirs is not None
    checks = check_pipeline(ours, theirs, folder)
    section = (
        f"### {n:,} customers, side by side\n\n{pipeline_table(ours, theirs)}\n\n"
        + "\n".join(f"- {c}" for c in checks)
    )
    print(section, flush=True)
    return section


def relmark_alone(n: int, folder: Path) -> str:
    print(f"relmark alone at {n:,} customers", flush=True)
    big = run_worker("relmark", "pipeline", n, 1, folder)
    assert big is not None
    lines = [
        f"### {n:,} customers, relmark alone\n",
        (
            f"{big['transactions']:,} transactions, {big['distinct_rows']:,} distinct rows; "
            f"input frame {big['frame_mb']:.0f} MB, resident {big['base_mb']:.0f} MB once built "
            "(interpreter, numpy, scipy, pandas, relmark and the frame)."
        ),
        "",
        "| stage | relmark (s) | peak above frame (MB) | peak resident (MB) |",
        "|---|---:|---:|---:|",
    ]
    for name in (*STAGES, "end_to_end"):
        s = big["stages"][name]
        lines.append(
            f"| {LABELS[name]} | {s['seconds']:.3f} | {s['peak_mb']:.0f} | "
            f"{s['peak_mb'] + big['base_mb']:.0f} |"
        )
    peak = big["stages"]["end_to_end"]["peak_mb"] + big["base_mb"]
    verdict = "met" if peak <= 1536 else "missed"
    lines.append(
        f"\nPeak resident memory end to end: {peak:,.0f} MB (target ≤ 1,536 MB: {verdict})."
    )
    section = "\n".join(lines)
    print(section, flush=True)
    return section


def other_fits(args: argparse.Namespace, folder: Path) -> str:
    lines = [
        "### Other fits, side by side\n",
        (
            "| task | customers | lifetimes (s) | relmark (s) | speed-up | target "
            "| speed-up in CPU time | max rel. param diff |"
        ),
        "|---|---:|---:|---:|---:|---|---:|---:|",
    ]
    for task, n, stage_name, names, target in (
        ("pareto", args.pareto_size, "pareto_fit", tuple(PARETO_TRUTH), PARETO_TARGET),
        ("flat", args.flat_size, "gg_flat_fit", ("p", "q", "gamma"), None),
    ):
        if not n:
            continue
        print(f"{task} at {n:,} customers", flush=True)
        o = run_worker("relmark", task, n, args.repeats, folder)
        t = run_worker(
            "lifetimes", task, n, args.lifetimes_repeats, folder, timeout=args.lifetimes_timeout
        )
        assert o is not None
        model = "pareto" if task == "pareto" else "gg"
        ours = o["stages"][stage_name]["seconds"]
        label = (
            f"Pareto/NBD fit ({o['distinct_rows']:,} distinct rows)"
            if task == "pareto"
            else f"{LABELS[stage_name]} (q = 1000)"
        )
        if t is None:
            theirs = float(args.lifetimes_timeout)
            lines.append(
                f"| {label} | {n:,} | > {theirs:.0f} (stopped) | {ours:.3f} | "
                f"**> {theirs / ours:.0f}×** | {'—' if target is None else f'≥ {target:.0f}×'} "
                "| — | — |"
            )
            continue
        diff = max(abs(o["params"][model][k] / t["params"][model][k] - 1) for k in names)
        theirs = t["stages"][stage_name]["seconds"]
        cpu_ratio = t["stages"][stage_name]["cpu"] / o["stages"][stage_name]["cpu"]
        lines.append(
            f"| {label} | {n:,} | {theirs:.3f} | {ours:.3f} | "
            f"{ratio_cell(theirs, ours, target)} | {cpu_ratio:.0f}× | {diff:.1e} |"
        )
    section = "\n".join(lines)
    print(section, flush=True)
    return section


def score_section(n: int, folder: Path) -> str:
    score = score_run(n, folder)
    fast = "met" if score["seconds"] <= 3 else "missed"
    lean = "met" if score["peak_mb"] <= 1024 else "missed"
    verdict = (
        f"{score['seconds']:.1f} s wall (target ≤ 3 s: {fast}), peak resident "
        f"{score['peak_mb']:,.0f} MB (target ≤ 1,024 MB: {lean})"
    )
    if score["exit"] != 0:
        verdict = (
            f"exit status {score['exit']} after {score['seconds']:.1f} s, "
            f"peak {score['peak_mb']:,.0f} MB"
        )
    section = (
        "### `relmark score` on the log as Parquet\n\n`relmark score log.parquet --output "
        f"scores.parquet --observation-end {END} --quiet` on the {n:,}-customer log: {verdict}; "
        f"{score['rows']:,} rows, columns {', '.join(score['columns'])}."
    )
    print(section, flush=True)
    return section


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", type=int, nargs="*", default=[70_000, 700_000], help="customers, both sides"
    )
    parser.add_argument(
        "--large", type=int, default=3_500_000, help="customers, relmark only (0: skip)"
    )
    parser.add_argument("--pareto-size", type=int, default=200_000, help="customers (0: skip)")
    parser.add_argument("--flat-size", type=int, default=700_000, help="customers (0: skip)")
    parser.add_argument("--score-size", type=int, default=700_000, help="customers (0: skip)")
    parser.add_argument("--repeats", type=int, default=3, help="relmark passes (best is kept)")
    parser.add_argument("--lifetimes-repeats", type=int, default=1)
    parser.add_argument(
        "--lifetimes-timeout",
        type=float,
        default=600.0,
        help="seconds after which lifetimes' Pareto/NBD or flat-spend fit is stopped",
    )
    parser.add_argument("--write-docs", action="store_true", help="update docs/performance.md")
    parser.add_argument("--note", default="", help="sentence on machine load for the docs")
    parser.add_argument("--worker", choices=["relmark", "lifetimes"], help=argparse.SUPPRESS)
    parser.add_argument(
        "--task", default="pipeline", choices=["pipeline", "pareto", "flat"], help=argparse.SUPPRESS
    )
    parser.add_argument("--customers", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--reference", help=argparse.SUPPRESS)
    parser.add_argument("--input", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return

    sections = []
    with tempfile.TemporaryDirectory(prefix="bench-multicohort-") as tmp:
        folder = Path(tmp)
        sections += [side_by_side(n, args, folder) for n in args.sizes]
        if args.large:
            sections.append(relmark_alone(args.large, folder))
        if args.pareto_size or args.flat_size:
            sections.append(other_fits(args, folder))
        if args.score_size:
            sections.append(score_section(args.score_size, folder))
    table = "\n\n".join(sections)
    if args.write_docs:
        command = (
            f".venv/bin/python benchmarks/bench_multicohort.py --sizes {' '.join(map(str, args.sizes))} "
            f"--large {args.large} --pareto-size {args.pareto_size} --flat-size {args.flat_size} "
            f"--score-size {args.score_size} --repeats {args.repeats} "
            f"--lifetimes-repeats {args.lifetimes_repeats} "
            f"--lifetimes-timeout {args.lifetimes_timeout:.0f} --write-docs"
        )
        note = (
            "Each side ran in its own subprocess on the same seeded data, one after the other; "
            "times are the best of the stated passes. " + args.note
        ).strip()
        path = write_section(
            "bench_multicohort", "Multi-cohort logs, end to end", command, table, note=note
        )
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
