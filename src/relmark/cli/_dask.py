"""``relmark score 'logs/*.parquet' -o out/ --engine dask``: the score command on a Dask cluster.

The same job as the local engine (summary, RFM scores and segment, the transaction model and
Gamma-Gamma, CLV and tier; the same output columns), run by [`relmark.dask`][relmark.dask] on a
``LocalCluster`` sized to this machine, or on an existing cluster with ``--scheduler``. The
output is a directory of Parquet files written all or nothing; progress is Dask's own text
progress bar, on stderr. ``--interval`` adds the local engine's interval columns (parametric
draws with the local engine's seed, so the same values).

The summary is checkpointed to a hidden scratch directory beside the output (removed at the
end), not kept in the workers' memory, so a worker's memory stays bounded by one partition
whatever the size of the log.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from relmark.cli._options import MODELS
from relmark.cli._score import SCORE_COLUMNS, detect_columns
from relmark.clv.scorers import CLVScorer
from relmark.errors import InvalidInputError, require
from relmark.rfm import RFMScorer

__all__ = ["INTERVAL_COLUMNS", "OUTPUT_COLUMNS", "run_score_dask"]

OUTPUT_COLUMNS: tuple[str, ...] = tuple(c for group in SCORE_COLUMNS.values() for c in group)
"""Columns of the output, the same as the local engine's."""

INTERVAL_COLUMNS: tuple[str, ...] = tuple(
    f"{name}_{end}"
    for name in ("probability_alive", "expected_purchases", "expected_spend", "clv")
    for end in ("lower", "upper")
)
"""Columns added after ``OUTPUT_COLUMNS`` with ``--interval``, as by the local engine."""


def _machine_workers() -> int:
    """Worker processes of the default cluster: one per usable core."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


@contextlib.contextmanager
def _client(scheduler: str | None, err: TextIO, *, quiet: bool) -> Iterator[Any]:
    """A client of the cluster at ``scheduler``, or of a new LocalCluster sized to the machine."""
    import distributed

    engine: Any = distributed  # untyped library: its calls are typed Any here
    if scheduler is not None:
        try:
            client = engine.Client(scheduler, timeout="20s", set_as_default=True)
        except (OSError, TimeoutError) as exc:
            raise InvalidInputError(
                f"Cannot connect to the Dask scheduler at {scheduler!r}: {exc}"
            ) from None
        with client:
            yield client
        return
    workers = _machine_workers()
    if not quiet:
        err.write(f"relmark: starting a local Dask cluster of {workers} worker process(es)\n")
    with (
        engine.LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        engine.Client(cluster, set_as_default=True) as client,
    ):
        yield client


@contextlib.contextmanager
def _removed_after(path: Path) -> Iterator[None]:
    """Remove the scratch directory ``path`` (if it was created) when the block ends."""
    try:
        yield
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _header(path: str) -> list[str]:
    import pyarrow.parquet as pq

    try:
        return list(pq.read_schema(path).names)
    except (OSError, ValueError) as exc:
        raise InvalidInputError(f"{path}: cannot be read as Parquet: {exc}") from None


def run_score_dask(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Summarize, fit, score and write with Dask; return the exit status.

    Raises:
        RelmarkError: For bad input (the caller prints it), naming the file at fault.
        OSError: When the output cannot be written.
    """
    require("dask", extra="dask")
    require("distributed", extra="dask")
    import relmark.dask as rd

    if args.format == "csv":
        raise InvalidInputError(
            "--engine dask writes a directory of Parquet files; drop --format csv."
        )
    output = Path(args.output)
    if output.exists():
        raise InvalidInputError(f"Cannot write {output}: it exists; choose a new directory.")
    if not output.parent.is_dir():
        raise InvalidInputError(
            f"Cannot write {output}: the directory {output.parent} does not exist."
        )
    files = rd.parquet_files(args.file)
    columns = detect_columns(
        _header(files[0]),
        {"customer": args.customer, "time": args.time, "amount": args.amount},
    )
    if not args.quiet:
        err.write(
            f"relmark: {len(files)} file(s); columns: customer={columns['customer']!r}, "
            f"time={columns['time']!r}, amount={columns['amount']!r}\n"
        )
    scratch = output.parent / f".{output.name}.relmark-summary-{uuid.uuid4().hex}"
    with _client(args.scheduler, err, quiet=args.quiet), _removed_after(scratch):
        summary = rd.summarize(
            files,
            customer=columns["customer"],
            time=columns["time"],
            amount=columns["amount"],
            observation_end=args.observation_end,
            period=args.period,
            unit=args.unit,
            timezone=getattr(args, "timezone", None),
            time_format=args.time_format,
        )
        if not args.quiet:
            err.write("relmark: summarizing (shuffle by customer)\n")
        # On disk, not in the workers' memory: a worker then holds one partition at a time.
        summary = summary.checkpoint(scratch, progress_to=None if args.quiet else err)
        if not args.quiet:
            err.write(f"relmark: fitting RFM, {MODELS[args.model]} and Gamma-Gamma\n")
        rfm = rd.fit(RFMScorer(), summary)
        clv = rd.fit(
            CLVScorer(
                transaction_model=args.model,
                horizon=args.horizon,
                unit=args.unit,
                discount_rate=args.discount_rate,
                margin=args.margin,
                penalizer=args.penalizer,
                spend_penalizer=getattr(args, "spend_penalizer", 0.0),
                interval=getattr(args, "interval", None),
            ),
            summary,
        )
        written = OUTPUT_COLUMNS + (INTERVAL_COLUMNS if clv.interval is not None else ())
        scores = rd.score([rfm, clv], summary, include_summary=True)[list(written)]
        if not args.quiet:
            err.write(f"relmark: scoring and writing {output}\n")
        rd.to_parquet(scores, output, progress_to=None if args.quiet else err)
    fit = clv.transaction_model_.fit_
    customers = "" if fit is None else f"{int(fit.n_observations):,} customers "
    out.write(f"Scored {customers}from {len(files)} Parquet file(s) into {output} (parquet).\n")
    return 0
