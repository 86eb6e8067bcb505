"""``relmark score FILE -o OUT``: one row of scores per customer from a transaction file."""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import math
import re
import shlex
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np
from numpy.typing import NDArray

from relmark.cli._files import atomic_write, refuse_input_as_output
from relmark.cli._options import COLUMN_CANDIDATES, MODELS
from relmark.cli._output import arrow_table, write_columns_csv
from relmark.data.log import TransactionLog
from relmark.data.table import ColumnInfo, ColumnKind, ScoreTable
from relmark.errors import (
    ConvergenceError,
    InvalidInputError,
    MissingDependencyError,
    RelmarkWarning,
)

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
"""Customers scored per block with ``--interval``: progress moves once per block, and the
memory of the parameter draws is bounded by it. Point scores take one pass: their costly work
(per distinct row of the summary) is done once in ``fit``, and blocks would only add a
``take``, a compression and a row match per block (a quarter of the command's time on
700,000 customers)."""
_CONVERGENCE_HINTS = {
    "penalizer": "Things to try: a small penalty, e.g. {option} 0.001, keeps the estimates away "
    "from the boundary; check the data for extreme rows (a customer with very many purchases, a "
    "spend far from the rest) and for too few repeat customers, or score more customers.",
}
"""A failed fit's advice (its ``hint_field``) in command-line terms; ``{option}`` is the flag
setting the failed model's penalizer (``--penalizer`` or ``--spend-penalizer``)."""
_ROW_HINT = "Rows count the data lines from 0: row r is line r + 2 of the file."
_OPTIONS = {
    "customer": "--customer",
    "time": "--time",
    "amount": "--amount",
    "timezone": "--timezone",
    "time_format": "--time-format",
    "observation_end": "--observation-end",
    "delimiter": "--delimiter",
    "encoding": "--encoding",
    "period": "--period",
    "unit": "--unit",
}
"""The library's argument names (an error's ``field``) and the options that give them."""
_HINTS = {
    "allow_returns": "Remove returns and refunds (or net them against their purchases) first.",
    "timezone": "Give the zone to convert them to with --timezone, e.g. --timezone Europe/Berlin "
    "(an IANA name, or UTC).",
    "time_format": "Give their format with --time-format, e.g. --time-format %Y%m%d.",
    "observation_end": "Set the end explicitly: --observation-end YYYY-MM-DD.",
}
"""The library's advice (an error's ``hint_field``: the argument to set) in command-line terms."""
_SUMMARY_INFO = {
    "frequency": ColumnInfo(
        description="Repeat purchases: purchase periods after the first.",
        kind=ColumnKind.INTEGER,
        unit="purchases",
    ),
    "recency": ColumnInfo(
        description="Time from the first to the last purchase (in --unit).", kind=ColumnKind.FLOAT
    ),
    "T": ColumnInfo(
        description="Time from the first purchase to the end of observation (in --unit).",
        kind=ColumnKind.FLOAT,
    ),
    "monetary": ColumnInfo(
        description="Mean value of the repeat purchases (0 without repeats).",
        kind=ColumnKind.FLOAT,
        unit="currency",
    ),
}
"""What the summary columns of the output hold."""


def _normalize(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def _shown(header: Sequence[str]) -> str:
    """The header for a message: at most 20 names, each cut to 40 characters."""
    names = [n if len(n) <= 40 else f"{n[:37]}..." for n in header[:20]]
    more = f" and {len(header) - 20} more" if len(header) > 20 else ""
    return f"{names}{more}"


def detect_columns(header: Sequence[str] | None, given: dict[str, str | None]) -> dict[str, str]:
    """Pick the customer, time and amount columns: the given ones, else the first candidate.

    Args:
        header: The file's column names, or ``None`` when it was not read (every column is
            given; the file's reader then checks that they are present).
        given: Role → column name from the command line, or ``None`` to detect it.

    Returns:
        Role → column name, for ``customer``, ``time`` and ``amount``.

    Raises:
        InvalidInputError: When a given column is absent from ``header``, no candidate matches
            a role, or one column is picked for two roles.
    """
    by_normal: dict[str, str] = {}
    for column in header or ():
        by_normal.setdefault(_normalize(column), column)
    for role in COLUMN_CANDIDATES:
        name = given.get(role)
        if header is not None and name is not None and name not in header:
            raise InvalidInputError(
                f"Column {name!r} (--{role}) is not in the file; its columns are {_shown(header)}.",
                field=role,
                column=name,
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
                f"Could not find the {role} column among {_shown(header or [])}; name it with "
                f"--{role} COLUMN (tried {', '.join(candidates)}).",
                field=role,
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

    The same preference as ``relmark._frames.read_table``.
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
    except InvalidInputError as exc:
        raise _for_command_line(exc, path, columns, lines=not parquet) from None


def _for_command_line(
    exc: InvalidInputError, path: Path, columns: dict[str, str], *, lines: bool
) -> InvalidInputError:
    """The library's error in command-line terms, built from its attributes.

    A column error names the file and the option that chose the column; a bad argument value
    is said of its option (``--timezone must be ...``); the library's advice is replaced by the
    command line's for the argument it asks to set; rows are explained as lines of a CSV file.
    """
    role = next((r for r, name in columns.items() if name == exc.column), None)
    option = _OPTIONS.get(exc.field or "")
    if exc.column is not None:
        chosen = f" ({_OPTIONS[role]} {shlex.quote(exc.column)})" if role is not None else ""
        text = f"{path}{chosen}: {exc.problem}"
    elif option is not None and exc.expected is not None:
        # An option left out is None, never an offending value: then only the rule is said.
        got = "" if exc.value is None else f" Got {exc.value!r}."
        text = f"{option} must be {exc.expected}.{got}"
    else:
        text = exc.problem
    hint = _HINTS.get(exc.hint_field or "", exc.hint)
    parts = [text, hint, _ROW_HINT if lines and exc.rows else None]
    return InvalidInputError(
        " ".join(part for part in parts if part),
        field=exc.field,
        column=exc.column,
        value=exc.value,
        rows=exc.rows,
        expected=exc.expected,
    )


def _remark(warning: Warning | str) -> str:
    """A warning's text with the library's advice in command-line terms."""
    if isinstance(warning, RelmarkWarning) and warning.hint_field in _HINTS:
        return f"{warning.problem} {_HINTS[warning.hint_field]}"
    return str(warning)


def _cli_hint(error: ConvergenceError, option: str) -> str:
    """A failed fit's message with its advice in command-line terms (``option`` for the penalizer).

    Built from the error's ``problem``, ``hint`` and ``hint_field``; advice about a field the
    command line has no wording for is passed on as the library gave it.
    """
    wording = _CONVERGENCE_HINTS.get(error.hint_field or "")
    if wording is None:
        return str(error)
    return f"{error.problem} {wording.format(option=option)}"


def _blocks(summary: CustomerSummary, size: int) -> list[NDArray[np.intp]]:
    """Customer indices in about ``size``-sized blocks that never split a distinct row.

    Customers are grouped by their distinct $(x, t_x, T)$ row, so each row's model work (the
    costly part of scoring) is done in exactly one block, as it would be for the whole summary.
    """
    n = len(summary)
    if n <= size:
        return [np.arange(n)]
    inverse = summary.compress().inverse
    order = np.argsort(inverse, kind="stable")
    grouped = inverse[order]
    targets = np.arange(size, n, size)
    cuts = np.unique(np.concatenate([[0], np.searchsorted(grouped, grouped[targets]), [n]]))
    return [order[start:stop] for start, stop in itertools.pairwise(cuts.tolist())]


def _in_blocks(
    scorer: Any,
    summary: CustomerSummary,
    columns: Sequence[str],
    progress: _Progress,
    *,
    size: int,
) -> tuple[dict[str, NDArray[Any]], dict[str, ColumnInfo]]:
    """Score ``summary`` in blocks of about ``size`` customers (bounded memory, moving progress).

    Returns:
        The columns in summary order, and each column's metadata.
    """
    n = len(summary)
    blocks = _blocks(summary, size)
    parts: dict[str, list[NDArray[Any]]] = {name: [] for name in columns}
    info: dict[str, ColumnInfo] = {}
    done = 0
    for index in blocks:
        table = scorer.score(summary if len(blocks) == 1 else summary.take(index))
        for name in columns:
            parts[name].append(table[name])
            info[name] = table.info[name]
        done += index.size
        progress.step(done, n, "customers scored")
    if len(blocks) == 1:
        return {name: values[0] for name, values in parts.items()}, info
    placed = np.empty(n, dtype=np.intp)
    placed[np.concatenate(blocks)] = np.arange(n)
    joined = {name: np.concatenate(values)[placed] for name, values in parts.items()}
    return joined, info


def _fit_models(
    args: argparse.Namespace, summary: CustomerSummary, progress: _Progress
) -> tuple[Any, tuple[str, ...]]:
    """The fitted scorer of the model columns and the columns it gives.

    CLV needs both models. When one does not converge, the columns of the other are still
    given (the failure is reported), unless ``--strict``.
    """
    from relmark.clv.scorers import CLVScorer, TransactionModelScorer

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
    alone = TransactionModelScorer(
        model=args.model, horizon=args.horizon, unit=args.unit, penalizer=args.penalizer
    )
    kept: tuple[str, ...] = ()
    scorer: Any = None
    try:
        alone.fit(summary)
    except ConvergenceError as exc:
        failed, option, failure = MODELS[args.model], "--penalizer", exc
    else:
        failed, option, scorer = "Gamma-Gamma", "--spend-penalizer", alone
        kept = SCORE_COLUMNS["transactions"]
    message = f"{failed} did not converge: {_cli_hint(failure, option)}"
    if args.strict:
        raise ConvergenceError(message) from None
    dropped = [c for c in SCORE_COLUMNS["transactions"] + SCORE_COLUMNS["spend"] if c not in kept]
    progress.say(f"warning: {message}")
    progress.say(
        f"warning: columns {', '.join(dropped)} are left out; the others are scored "
        "(--strict makes this an error)."
    )
    return scorer, kept


def _scores(args: argparse.Namespace, summary: CustomerSummary, progress: _Progress) -> ScoreTable:
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
        columns: dict[str, NDArray[Any]] = {name: getattr(summary, name) for name in _SUMMARY_INFO}
        info = dict(_SUMMARY_INFO)
        rfm_table = rfm.score(summary)
        for name in SCORE_COLUMNS["rfm"]:
            columns[name], info[name] = rfm_table[name], rfm_table.info[name]
        if models is not None:
            size = _BLOCK if args.interval is not None else max(len(summary), 1)
            scored, scored_info = _in_blocks(models, summary, model_columns, progress, size=size)
            columns.update(scored)
            info.update(scored_info)
            if "clv" in scored_info:
                progress.say(f"clv: {scored_info['clv'].description}")
    # Every column is the summary's or a scorer's own read-only array, or was just joined from
    # blocks: the table takes them over instead of copying ~100 bytes per customer again.
    return ScoreTable.from_columns(summary.customer_id, columns, info, copy=False)


def write_scores(table: ScoreTable, path: Path, file_format: str) -> None:
    """Write a score table (``customer_id`` first) as CSV or Parquet, atomically.

    CSV goes through ``write_columns_csv`` (pyarrow's writer; a NaN is an empty cell); Parquet
    keeps the table's dtypes (a NaN stays a float NaN) and is written by pyarrow (from the
    table `arrow_table` builds, equal to ``ScoreTable.to_frame("pyarrow")``), else by polars
    from [`ScoreTable.to_frame`][relmark.data.table.ScoreTable.to_frame]. Either way the file is
    written to a temporary file beside ``path`` and renamed over it, so an existing ``path`` is
    replaced completely or, when the write fails, left untouched.

    Raises:
        MissingDependencyError: For Parquet when neither pyarrow nor polars is installed.
        OSError: When the file cannot be written.
    """
    if file_format != "parquet":
        write_columns_csv({"customer_id": table.customer_id, **table.data}, path)
        return
    library = _parquet_library("Writing")
    if library == "pyarrow":
        import pyarrow.parquet as pq

        # The table `to_frame("pyarrow")` gives, built without a Python string per label.
        arrow = arrow_table({"customer_id": table.customer_id, **table.data})
        atomic_write(path, lambda temporary: pq.write_table(arrow, str(temporary)))
    else:
        atomic_write(path, table.to_frame(library).write_parquet)


def _output_format(args: argparse.Namespace, output: Path) -> str:
    if args.format is not None:
        return str(args.format)
    return "parquet" if _is_parquet(output) else "csv"


def _summarize(args: argparse.Namespace, path: Path, log: TransactionLog) -> CustomerSummary:
    try:
        return log.summarize(args.observation_end, period=args.period, unit=args.unit)
    except InvalidInputError as exc:
        raise _for_command_line(exc, path, {}, lines=False) from None


def _header(args: argparse.Namespace, path: Path) -> list[str]:
    """The file's column names, to detect the columns not given as options."""
    # The library's shared file reader (layer 0), also behind TransactionLog.read_csv.
    from relmark._frames import read_header

    try:
        return read_header(
            path,
            file_format="parquet" if _is_parquet(path) else "csv",
            delimiter=args.delimiter,
            encoding=args.encoding,
        )
    except InvalidInputError as exc:
        raise _for_command_line(exc, path, {}, lines=False) from None


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
    given = {"customer": args.customer, "time": args.time, "amount": args.amount}
    # The header is read only to detect omitted columns: the log reader checks the others.
    columns = detect_columns(_header(args, path) if None in given.values() else None, given)
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
            for message in dict.fromkeys(_remark(w.message) for w in caught):
                progress.say(f"warning: {message}")
            caught.clear()
            table = _scores(args, summary, progress)
            with progress.stage(f"writing {output}"):
                write_scores(table, output, file_format)
            for message in dict.fromkeys(_remark(w.message) for w in caught):
                progress.say(f"warning: {message}")
    finally:
        progress.close()
    out.write(
        f"Scored {len(summary):,} customers from {len(log):,} transactions into {output} "
        f"({file_format}).\n"
    )
    return 0
