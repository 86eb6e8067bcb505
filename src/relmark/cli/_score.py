"""``relmark score FILE -o OUT``: one row of scores per customer from a transaction file."""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import math
import re
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np
from numpy.typing import NDArray

from relmark.cli._files import atomic_write, refuse_input_as_output
from relmark.cli._options import COLUMN_CANDIDATES, MODELS
from relmark.cli._output import write_columns_csv
from relmark.data import _frames
from relmark.data.log import TransactionLog
from relmark.errors import ConvergenceError, InvalidInputError, MissingDependencyError, RelmarkError

if TYPE_CHECKING:
    from relmark.data.summary import CustomerSummary

__all__ = [
    "COLUMN_CANDIDATES",
    "MAX_HORIZON_DAYS",
    "MODELS",
    "SCORE_COLUMNS",
    "detect_columns",
    "run_score",
    "write_scores",
]

MAX_HORIZON_DAYS = 100 * 365.2425
"""Longest ``--horizon`` accepted (100 years): CLV sums one term per period of the horizon."""

SCORE_COLUMNS: dict[str, tuple[str, ...]] = {
    "summary": ("customer_id", "frequency", "recency", "T", "monetary"),
    "rfm": (
        "recency_score",
        "frequency_score",
        "monetary_score",
        "rfm_cell",
        "segment",
    ),
    "transactions": ("probability_alive", "expected_purchases"),
    "spend": ("expected_spend", "clv", "clv_tier"),
}
"""Output columns in order, grouped by what computes them (a model that does not converge
leaves its group out)."""

_PARQUET_SUFFIXES = (".parquet", ".pq")
_STAGES = 5
_BLOCK = 1 << 17
"""Customers scored per block: progress moves once per block, memory is bounded by it."""
_PENALIZER_HINT = re.compile(r"\bpenalizer=([0-9.eE+-]+)")
_RETURNS_API_HINT = "Pass allow_returns=True if negative amounts are returns."
_RETURNS_CLI_HINT = "Remove returns and refunds (or net them against their purchases) first."
_ROW_HINT = " (rows count the data lines from 0: row r is line r + 2 of the file)"


def _normalize(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def _shown(header: Sequence[str]) -> str:
    """The header for a message: at most 20 names, each cut to 40 characters."""
    names = [n if len(n) <= 40 else f"{n[:37]}..." for n in header[:20]]
    more = f" and {len(header) - 20} more" if len(header) > 20 else ""
    return f"{names}{more}"


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
                f"Column {name!r} (--{role}) is not in the file; its columns are {_shown(header)}."
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
                f"Could not find the {role} column among {_shown(header)}; name it with "
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
            "pip install 'relmark[cli]'"
        )
    return library


class _Progress:
    """Progress on stderr: a rich bar on a terminal, plain lines otherwise.

    The bar counts stages; a stage with steps (scoring, block by block) moves it inside the
    stage too.
    """

    def __init__(self, err: TextIO, *, quiet: bool) -> None:
        self._err = err
        self._quiet = quiet
        self._done = 0
        self._bar: Any = None
        self._task: Any = None
        interactive = bool(getattr(err, "isatty", lambda: False)())
        if not quiet and interactive and importlib.util.find_spec("rich") is not None:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
            )

            # The spinner and the clock move during a stage without steps (model fitting).
            self._bar = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
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
            self._bar.update(self._task, description=label, completed=self._done - 1)
        elif not self._quiet:
            self._err.write(f"relmark: [{self._done}/{_STAGES}] {label}\n")
        yield
        if self._bar is not None:
            self._bar.update(self._task, completed=self._done)

    def step(self, done: int, total: int, what: str) -> None:
        """Report ``done`` of ``total`` ``what`` inside the current stage."""
        if self._bar is not None:
            self._bar.update(self._task, completed=self._done - 1 + done / total)
        elif not self._quiet and total > 1:
            self._err.write(f"relmark:   {done:,}/{total:,} {what}\n")

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
                timezone=args.timezone,
                time_format=args.time_format,
            )
        return TransactionLog.read_csv(
            path,
            customer=columns["customer"],
            time=columns["time"],
            amount=columns["amount"],
            timezone=args.timezone,
            time_format=args.time_format,
            delimiter=args.delimiter,
            string_ids=args.string_ids,
            encoding=args.encoding,
        )
    except RelmarkError as exc:
        message = _option_words(str(exc).replace(_RETURNS_API_HINT, _RETURNS_CLI_HINT))
        hint = "" if parquet or "row" not in message else _ROW_HINT
        prefix = "" if str(path) in message else f"{path}: "
        raise type(exc)(f"{prefix}{message}{hint}") from None


_OPTION_WORDS = {
    "The 'timezone' parameter": "--timezone",
    "The 'time_format' parameter": "--time-format",
    "The 'observation_end' parameter": "--observation-end",
    "The 'delimiter' parameter": "--delimiter",
    "observation_end='YYYY-MM-DD'": "--observation-end YYYY-MM-DD",
}
"""Python wording in the data layer's messages and the command-line options it means."""


def _option_words(message: str) -> str:
    """A data-layer message with the command-line options instead of Python arguments."""
    for python, option in _OPTION_WORDS.items():
        message = message.replace(python, option)
    return message


def _cli_hint(message: str, option: str) -> str:
    """A model's advice with the command-line option instead of the Python keyword."""
    return _PENALIZER_HINT.sub(lambda m: f"{option} {m.group(1)}", message)


def _blocks(summary: CustomerSummary) -> list[NDArray[np.intp]]:
    """Customer indices in about ``_BLOCK``-sized blocks that never split a distinct row.

    Customers are grouped by their distinct $(x, t_x, T)$ row, so each row's model work (the
    costly part of scoring) is done in exactly one block, as it would be for the whole summary.
    """
    n = len(summary)
    if n <= _BLOCK:
        return [np.arange(n)]
    inverse = summary.compress().inverse
    order = np.argsort(inverse, kind="stable")
    grouped = inverse[order]
    targets = np.arange(_BLOCK, n, _BLOCK)
    cuts = np.unique(np.concatenate([[0], np.searchsorted(grouped, grouped[targets]), [n]]))
    return [order[start:stop] for start, stop in itertools.pairwise(cuts.tolist())]


def _in_blocks(
    scorer: Any, summary: CustomerSummary, columns: Sequence[str], progress: _Progress
) -> tuple[dict[str, NDArray[Any]], dict[str, str]]:
    """Score ``summary`` block by block (bounded memory, moving progress) and join the blocks.

    Returns:
        The columns in summary order, and each column's description.
    """
    n = len(summary)
    blocks = _blocks(summary)
    parts: dict[str, list[NDArray[Any]]] = {name: [] for name in columns}
    descriptions: dict[str, str] = {}
    done = 0
    for index in blocks:
        table = scorer.score(summary if len(blocks) == 1 else summary.take(index))
        for name in columns:
            parts[name].append(table[name])
            descriptions[name] = table.info[name].description
        done += index.size
        progress.step(done, n, "customers scored")
    if len(blocks) == 1:
        return {name: values[0] for name, values in parts.items()}, descriptions
    placed = np.empty(n, dtype=np.intp)
    placed[np.concatenate(blocks)] = np.arange(n)
    joined = {name: np.concatenate(values)[placed] for name, values in parts.items()}
    return joined, descriptions


def _fit_models(
    args: argparse.Namespace, summary: CustomerSummary, progress: _Progress
) -> tuple[Any, tuple[str, ...]]:
    """The fitted scorer of the model columns and the columns it gives.

    CLV needs both models. When one does not converge, the columns of the other are still
    given (the failure is reported), unless ``--strict``.
    """
    from relmark.clv.scorers import BGNBDScorer, CLVScorer, MBGNBDScorer, ParetoNBDScorer

    clv = CLVScorer(
        transaction_model=args.model,
        horizon=args.horizon,
        unit=args.unit,
        discount_rate=args.discount_rate,
        margin=args.margin,
        penalizer=args.penalizer,
        spend_penalizer=args.spend_penalizer,
        interval=args.interval,
    )
    try:
        fitted = clv.fit(summary)
    except ConvergenceError as exc:
        failure = exc
    else:
        given = SCORE_COLUMNS["transactions"] + SCORE_COLUMNS["spend"]
        if args.interval is not None:
            given += tuple(
                f"{name}_{end}"
                for name in ("probability_alive", "expected_purchases", "expected_spend", "clv")
                for end in ("lower", "upper")
            )
        return fitted, given
    transaction_type = {
        "bgnbd": BGNBDScorer,
        "mbgnbd": MBGNBDScorer,
        "paretonbd": ParetoNBDScorer,
    }[args.model]
    alone = transaction_type(horizon=args.horizon, unit=args.unit, penalizer=args.penalizer)
    kept: tuple[str, ...] = ()
    scorer: Any = None
    try:
        alone.fit(summary)
    except ConvergenceError as exc:
        failed, option, failure = MODELS[args.model], "--penalizer", exc
    else:
        failed, option, scorer = "Gamma-Gamma", "--spend-penalizer", alone
        kept = SCORE_COLUMNS["transactions"]
    message = f"{failed} did not converge: {_cli_hint(str(failure), option)}"
    if args.strict:
        raise ConvergenceError(message) from None
    dropped = [c for c in SCORE_COLUMNS["transactions"] + SCORE_COLUMNS["spend"] if c not in kept]
    progress.say(f"warning: {message}")
    progress.say(
        f"warning: columns {', '.join(dropped)} are left out; the others are scored "
        "(--strict makes this an error)."
    )
    return scorer, kept


def _scores(
    args: argparse.Namespace, summary: CustomerSummary, progress: _Progress
) -> dict[str, NDArray[Any]]:
    if summary.monetary is None:
        raise InvalidInputError(
            "The summary has no monetary values; scoring needs the amount column of each "
            "transaction."
        )
    from relmark.rfm import RFMScorer

    with progress.stage(
        f"fitting RFM, {MODELS[args.model]} and Gamma-Gamma on {len(summary):,} customers"
    ):
        rfm = RFMScorer().fit(summary)
        models, model_columns = _fit_models(args, summary, progress)
    with progress.stage(f"scoring {len(summary):,} customers"):
        columns: dict[str, NDArray[Any]] = {
            name: getattr(summary, name) for name in SCORE_COLUMNS["summary"]
        }
        rfm_table = rfm.score(summary)
        columns.update({name: rfm_table[name] for name in SCORE_COLUMNS["rfm"]})
        if models is not None:
            scored, descriptions = _in_blocks(models, summary, model_columns, progress)
            columns.update(scored)
            if "clv" in descriptions:
                progress.say(f"clv: {descriptions['clv']}")
    return columns


def write_scores(columns: dict[str, NDArray[Any]], path: Path, file_format: str) -> None:
    """Write the score columns as CSV or Parquet, atomically.

    CSV goes through ``write_columns_csv`` (pyarrow's writer; a NaN is an empty cell); Parquet
    keeps the numpy dtypes (a NaN stays a float NaN) and is written by pyarrow, else polars,
    from a frame built by the data layer's ``to_native_frame``. Either way the file is written
    to a temporary file beside ``path`` and renamed over it, so an existing ``path`` is
    replaced completely or, when the write fails, left untouched.

    Raises:
        MissingDependencyError: For Parquet when neither pyarrow nor polars is installed.
        OSError: When the file cannot be written.
    """
    if file_format != "parquet":
        write_columns_csv(columns, path)
        return
    library = _parquet_library("Writing")
    frame = _frames.to_native_frame(columns, library)
    if library == "pyarrow":
        import pyarrow.parquet as pq

        atomic_write(path, lambda temporary: pq.write_table(frame, str(temporary)))
    else:
        atomic_write(path, frame.write_parquet)


def _output_format(args: argparse.Namespace, output: Path) -> str:
    if args.format is not None:
        return str(args.format)
    return "parquet" if _is_parquet(output) else "csv"


def _summarize(args: argparse.Namespace, path: Path, log: TransactionLog) -> CustomerSummary:
    try:
        return log.summarize(args.observation_end, period=args.period, unit=args.unit)
    except InvalidInputError as exc:
        raise InvalidInputError(f"{path}: {_option_words(str(exc))}") from None


def _check_horizon(args: argparse.Namespace) -> None:
    from relmark.data.units import parse_unit

    days = args.horizon * parse_unit(args.unit).days
    if days > MAX_HORIZON_DAYS:
        limit = math.floor(MAX_HORIZON_DAYS / parse_unit(args.unit).days)
        raise InvalidInputError(
            f"--horizon {args.horizon} (in --unit {args.unit}) is longer than 100 years; the "
            f"longest horizon in that unit is {limit}."
        )


def run_score(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Read, summarize, fit, score and write; return the exit status.

    Warnings raised on the way (for example about the observation end) are printed as
    ``relmark: warning: ...`` lines.

    Raises:
        RelmarkError: For bad input (the caller prints it).
        OSError: When a file cannot be read or written.
    """
    path, output = Path(args.file), Path(args.output)
    if not path.is_file():
        raise InvalidInputError(f"No such file: {path}")
    refuse_input_as_output([path], output, option="--output")
    if not output.parent.is_dir():
        raise InvalidInputError(
            f"Cannot write {output}: the directory {output.parent} does not exist."
        )
    _check_horizon(args)
    file_format = _output_format(args, output)
    if file_format == "parquet":
        _parquet_library("Writing")
    header = _frames.read_header(
        path,
        file_format="parquet" if _is_parquet(path) else "csv",
        delimiter=args.delimiter,
        encoding=args.encoding,
    )
    columns = detect_columns(
        header, {"customer": args.customer, "time": args.time, "amount": args.amount}
    )
    progress = _Progress(err, quiet=args.quiet)
    progress.say(
        f"columns: customer={columns['customer']!r}, time={columns['time']!r}, "
        f"amount={columns['amount']!r}"
    )
    try:
        with warnings.catch_warnings(record=True) as caught:
            # The command line is the application: it shows relmark's warnings as remarks.
            warnings.simplefilter("always")
            with progress.stage(f"reading {path.name}"):
                log = _read(args, path, columns)
            with progress.stage(f"summarizing {len(log):,} transactions"):
                summary = _summarize(args, path, log)
            for message in dict.fromkeys(str(w.message) for w in caught):
                progress.say(f"warning: {_option_words(message)}")
            caught.clear()
            table = _scores(args, summary, progress)
            with progress.stage(f"writing {output}"):
                write_scores(table, output, file_format)
            for message in dict.fromkeys(str(w.message) for w in caught):
                progress.say(f"warning: {message}")
    finally:
        progress.close()
    out.write(
        f"Scored {len(summary):,} customers from {len(log):,} transactions into {output} "
        f"({file_format}).\n"
    )
    return 0
