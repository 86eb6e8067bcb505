"""``relmark score FILE -o OUT``: one row of scores per customer from a transaction file."""

from __future__ import annotations

import argparse
import bz2
import csv
import gzip
import importlib.util
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from numpy.typing import NDArray

from relmark.cli._output import write_columns_csv
from relmark.clv.scorers import CLVScorer
from relmark.data._frames import to_native_frame
from relmark.data.log import TransactionLog
from relmark.data.summary import CustomerSummary
from relmark.errors import InvalidInputError, MissingDependencyError, RelmarkError
from relmark.rfm import RFMScorer
from relmark.scoring import score

__all__ = ["COLUMN_CANDIDATES", "MODELS", "detect_columns", "run_score", "write_scores"]

MODELS: dict[str, str] = {"bgnbd": "BG/NBD", "mbgnbd": "MBG/NBD", "paretonbd": "Pareto/NBD"}
"""``--model`` choices and their display names."""

COLUMN_CANDIDATES: dict[str, tuple[str, ...]] = {
    "customer": (
        "customer_id",
        "customerid",
        "customer",
        "cust_id",
        "client_id",
        "user_id",
        "account_id",
        "id",
    ),
    "time": (
        "date",
        "order_date",
        "transaction_date",
        "purchase_date",
        "invoice_date",
        "invoicedate",
        "datetime",
        "timestamp",
        "time",
    ),
    "amount": (
        "amount",
        "value",
        "revenue",
        "dollar_value",
        "sales",
        "spend",
        "total",
        "price",
        "monetary",
    ),
}
"""Header names tried, in order, for each role when its option is omitted (case-insensitive;
spaces and hyphens count as underscores)."""

_PARQUET_SUFFIXES = (".parquet", ".pq")
_STAGES = 4
_RETURNS_API_HINT = "Pass allow_returns=True if negative amounts are returns."
_RETURNS_CLI_HINT = "Remove returns and refunds (or net them against their purchases) first."
_ROW_HINT = " (rows count the data lines from 0: row r is line r + 2 of the file)"


def _normalize(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def detect_columns(header: Sequence[str], given: dict[str, str | None]) -> dict[str, str]:
    """Pick the customer, time and amount columns: the given ones, else the first candidate.

    Args:
        header: The file's column names.
        given: Role → column name from the command line, or ``None`` to detect it.

    Returns:
        Role → column name, for ``customer``, ``time`` and ``amount``.

    Raises:
        InvalidInputError: When a given column is absent or no candidate matches a role.
    """
    by_normal: dict[str, str] = {}
    for column in header:
        by_normal.setdefault(_normalize(column), column)
    for role in COLUMN_CANDIDATES:
        name = given.get(role)
        if name is not None and name not in header:
            raise InvalidInputError(
                f"Column {name!r} (--{role}) is not in the file; its columns are {list(header)}."
            )
    picked: dict[str, str] = {}
    for role, candidates in COLUMN_CANDIDATES.items():
        name = given.get(role)
        if name is not None:
            picked[role] = name
            continue
        found = next((by_normal[c] for c in candidates if c in by_normal), None)
        if found is None:
            raise InvalidInputError(
                f"Could not find the {role} column among {list(header)}; name it with "
                f"--{role} COLUMN (tried {', '.join(candidates)})."
            )
        picked[role] = found
    clashes = {n for n in picked.values() if list(picked.values()).count(n) > 1}
    if clashes:
        raise InvalidInputError(
            f"Column(s) {sorted(clashes)} were picked for several roles ({picked}); name the "
            "columns with --customer, --time and --amount."
        )
    return picked


def _is_parquet(path: Path) -> bool:
    return path.suffix.lower() in _PARQUET_SUFFIXES


def _csv_header(path: Path, delimiter: str) -> list[str]:
    opener: Any = {".gz": gzip.open, ".bz2": bz2.open}.get(path.suffix.lower(), open)
    with opener(path, "rt", encoding="utf-8-sig", newline="") as handle:
        row = next(csv.reader(handle, delimiter=delimiter), None)
    if not row:
        raise InvalidInputError(f"{path} is empty; expected a header line with column names.")
    return [name.strip() for name in row]


def _frame_library() -> str | None:
    """The library that reads and writes files: pyarrow, else polars, else ``None``.

    The same preference as ``relmark.data._frames.read_table``.
    """
    for name in ("pyarrow", "polars"):
        if importlib.util.find_spec(name) is not None:
            return name
    return None


def _parquet_library(action: str) -> str:
    """`_frame_library`, or a `MissingDependencyError` saying ``action`` Parquet needs one."""
    library = _frame_library()
    if library is None:
        raise MissingDependencyError(
            f"{action} Parquet needs pyarrow or polars. Install one with: "
            "pip install 'relmark[arrow]'"
        )
    return library


def _parquet_header(path: Path) -> list[str]:
    if _parquet_library("Reading") == "pyarrow":
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names)
    import polars as pl

    return list(pl.read_parquet_schema(path))


def _reader_errors() -> tuple[type[BaseException], ...]:
    """Exceptions a CSV/Parquet reader raises for a malformed file."""
    errors: tuple[type[BaseException], ...] = (ValueError, OSError, KeyError)
    if _frame_library() == "polars":
        import polars.exceptions

        errors = (*errors, polars.exceptions.PolarsError)
    return errors


class _Progress:
    """Stage-by-stage progress on stderr: a rich bar on a terminal, plain lines otherwise."""

    def __init__(self, err: TextIO, *, quiet: bool) -> None:
        self._err = err
        self._quiet = quiet
        self._done = 0
        self._bar: Any = None
        self._task: Any = None
        interactive = bool(getattr(err, "isatty", lambda: False)())
        if not quiet and interactive and importlib.util.find_spec("rich") is not None:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total}"),
                TimeElapsedColumn(),
                console=Console(file=err),
                transient=True,
            )
            self._task = self._bar.add_task("starting", total=_STAGES)

    @contextmanager
    def stage(self, label: str) -> Iterator[None]:
        """Show ``label`` while the block runs."""
        self._done += 1
        if self._bar is not None:
            self._bar.start()
            self._bar.update(self._task, description=label)
        elif not self._quiet:
            self._err.write(f"relmark: [{self._done}/{_STAGES}] {label}\n")
        yield
        if self._bar is not None:
            self._bar.update(self._task, completed=self._done)

    def close(self) -> None:
        """Remove the bar."""
        if self._bar is not None:
            self._bar.stop()

    def say(self, line: str) -> None:
        """Print a remark (unless quiet)."""
        if self._bar is not None:
            # Through the live display's console, so the line lands above the bar.
            self._bar.console.print(f"relmark: {line}", markup=False, highlight=False)
        elif not self._quiet:
            self._err.write(f"relmark: {line}\n")


def _read(args: argparse.Namespace, path: Path, columns: dict[str, str]) -> TransactionLog:
    parquet = _is_parquet(path)
    try:
        if parquet:
            return TransactionLog.read_parquet(
                path,
                customer=columns["customer"],
                time=columns["time"],
                amount=columns["amount"],
                time_format=args.time_format,
            )
        return TransactionLog.read_csv(
            path,
            customer=columns["customer"],
            time=columns["time"],
            amount=columns["amount"],
            time_format=args.time_format,
            delimiter=args.delimiter,
            string_ids=args.string_ids,
        )
    except RelmarkError as exc:
        message = str(exc).replace(_RETURNS_API_HINT, _RETURNS_CLI_HINT)
        hint = "" if parquet or "row" not in message else _ROW_HINT
        raise type(exc)(f"{path}: {message}{hint}") from None
    except _reader_errors() as exc:
        raise InvalidInputError(f"Cannot read {path}: {exc}") from None


def _scores(
    args: argparse.Namespace, summary: CustomerSummary, progress: _Progress
) -> dict[str, NDArray[Any]]:
    if summary.monetary is None:
        raise InvalidInputError(
            "The summary has no monetary values; scoring needs the amount column of each "
            "transaction."
        )
    clv = CLVScorer(
        transaction_model=args.model,
        horizon=args.horizon,
        unit=args.unit,
        discount_rate=args.discount_rate,
        margin=args.margin,
        penalizer=args.penalizer,
    )
    with progress.stage(
        f"fitting {MODELS[args.model]} and Gamma-Gamma on {len(summary):,} customers; scoring"
    ):
        table = score(summary, [RFMScorer(), clv])
    progress.say(f"clv: {table.info['clv'].description}")
    return {
        "customer_id": summary.customer_id,
        "frequency": summary.frequency,
        "recency": summary.recency,
        "T": summary.T,
        "monetary": summary.monetary,
        **{
            name: table[name]
            for name in (
                "recency_score",
                "frequency_score",
                "monetary_score",
                "rfm_cell",
                "segment",
                "probability_alive",
                "expected_purchases",
                "expected_spend",
                "clv",
                "clv_tier",
            )
        },
    }


def write_scores(columns: dict[str, NDArray[Any]], path: Path, file_format: str) -> None:
    """Write the score columns as CSV or Parquet.

    CSV goes through ``write_columns_csv`` (a NaN is an
    empty cell); Parquet keeps the numpy dtypes (a NaN stays a float NaN) and is written by
    pyarrow, else polars, from a frame built by the data layer's ``to_native_frame``.

    Raises:
        MissingDependencyError: For Parquet when neither pyarrow nor polars is installed.
        OSError: When the file cannot be written.
    """
    if file_format != "parquet":
        write_columns_csv(columns, path)
        return
    library = _parquet_library("Writing")
    frame = to_native_frame(columns, library)
    if library == "pyarrow":
        import pyarrow.parquet as pq

        pq.write_table(frame, path)
    else:
        frame.write_parquet(path)


def _output_format(args: argparse.Namespace, output: Path) -> str:
    if args.format is not None:
        return str(args.format)
    return "parquet" if _is_parquet(output) else "csv"


def run_score(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Read, summarize, fit, score and write; return the exit status.

    Raises:
        RelmarkError: For bad input (the caller prints it).
        OSError: When a file cannot be read or written.
    """
    path, output = Path(args.file), Path(args.output)
    if not path.is_file():
        raise InvalidInputError(f"No such file: {path}")
    if not output.parent.is_dir():
        raise InvalidInputError(
            f"Cannot write {output}: the directory {output.parent} does not exist."
        )
    file_format = _output_format(args, output)
    if file_format == "parquet":
        _parquet_library("Writing")
    header = _parquet_header(path) if _is_parquet(path) else _csv_header(path, args.delimiter)
    columns = detect_columns(
        header, {"customer": args.customer, "time": args.time, "amount": args.amount}
    )
    progress = _Progress(err, quiet=args.quiet)
    progress.say(
        f"columns: customer={columns['customer']!r}, time={columns['time']!r}, "
        f"amount={columns['amount']!r}"
    )
    try:
        with progress.stage(f"reading {path.name}"):
            log = _read(args, path, columns)
        with progress.stage(f"summarizing {len(log):,} transactions"):
            summary = log.summarize(args.observation_end, period=args.period, unit=args.unit)
        table = _scores(args, summary, progress)
        with progress.stage(f"writing {output}"):
            write_scores(table, output, file_format)
    finally:
        progress.close()
    out.write(
        f"Scored {len(summary):,} customers from {len(log):,} transactions into {output} "
        f"({file_format}).\n"
    )
    return 0
