"""The ``relmark`` command.

```text
relmark --version                      print the installed version
relmark demo [--plain] [--output DIR] [--sections NAMES]
                                       the main job on the CDNOW data, then the other models
relmark score FILE -o OUT [options]    one row of scores per customer from a transaction file
```

``demo`` runs the sections of ``DEMO_SECTIONS`` in order; each prints through a
[`Report`][relmark.cli.Report], which uses `rich` tables when the optional ``relmark[cli]``
extra is installed (imported only then) and plain text otherwise or with ``--plain``.
``--output DIR`` also writes every table as CSV, every plot as PNG (with the ``relmark[plot]``
extra) and ``report.html`` with all of them.

``score`` reads CSV or Parquet with pyarrow or polars (``relmark[arrow]`` or ``relmark[polars]``).

Exit status: 0 on success; 2 for a usage error or bad input (any
[`RelmarkError`][relmark.errors.RelmarkError], or a file that cannot be read or written), printed
as one ``relmark: error: ...`` line on stderr without a traceback; 130 when interrupted. Anything
else is a bug: Python prints the traceback and exits with status 1.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from relmark.cli._demo import DEMO_SECTIONS, DemoData, Section
from relmark.cli._output import write_outputs
from relmark.cli._report import Report, Table
from relmark.cli._score import COLUMN_CANDIDATES, MODELS, run_score
from relmark.errors import InvalidInputError, RelmarkError

__all__ = ["DEMO_SECTIONS", "Report", "Section", "Table", "main"]

_USAGE_ERROR = 2
_INTERRUPTED = 130


def _version() -> str:
    # The same source as `relmark.__version__`; the CLI sits below the flat `relmark` package in
    # the layer order, so it reads the metadata itself instead of importing `relmark`.
    try:
        return version("relmark")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
        return "0+unknown"


def _chosen_sections(spec: str | None) -> list[Section]:
    if spec is None:
        return list(DEMO_SECTIONS)
    known = {s.name: s for s in DEMO_SECTIONS}
    names = [n.strip() for n in spec.split(",") if n.strip()]
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        raise InvalidInputError(
            f"Unknown demo section(s) {unknown or [spec]}; choose from {', '.join(known)} "
            "(comma-separated)."
        )
    return [s for s in DEMO_SECTIONS if s.name in names]


def _run_demo(args: argparse.Namespace) -> int:
    sections = _chosen_sections(args.sections)
    output = None if args.output is None else Path(args.output)
    report = Report(sys.stdout, plain=args.plain, figures=output is not None)
    report.text(f"relmark {_version()}: the main job on the CDNOW data, then the other models.")
    data = DemoData()
    total = 0.0
    for section in sections:
        start = time.perf_counter()
        section.run(report, data)
        elapsed = time.perf_counter() - start
        total += elapsed
        report.note(f"({section.name}: {elapsed:.2f} s)")
    report.text(f"{len(sections)} section(s) in {total:.1f} s.")
    if output is not None:
        if not report.figures:
            report.note("matplotlib is not installed: no plots (pip install 'relmark[plot]').")
        written = write_outputs(report, output, f"relmark {_version()} demo")
        report.note(f"Wrote {len(written)} files to {output} (open {output / 'report.html'}).")
    return 0


def _run_score(args: argparse.Namespace) -> int:
    return run_score(args, sys.stdout, sys.stderr)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        msg = f"must be a whole number >= 1, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return value


def _non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:
        msg = f"must be a number >= 0, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return value


def _add_demo(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = commands.add_parser(
        "demo",
        help="the main job on the built-in CDNOW data, then the other models",
        description=(
            "Fit BG/NBD, MBG/NBD, Pareto/NBD and Gamma-Gamma on the CDNOW data (39-week "
            "calibration, 39-week holdout), check holdout accuracy, value and segment the "
            "customers, then show commitment-trust, profile and record examples."
        ),
    )
    demo.add_argument("--plain", action="store_true", help="plain text even if rich is installed")
    demo.add_argument(
        "--output",
        "-o",
        metavar="DIR",
        help="also write each table as CSV, plots as PNG and report.html into DIR",
    )
    demo.add_argument(
        "--sections",
        metavar="NAMES",
        help=(
            "run only these sections, comma-separated, from: "
            + ", ".join(s.name for s in DEMO_SECTIONS)
        ),
    )
    demo.set_defaults(run=_run_demo)


def _add_score(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    score = commands.add_parser(
        "score",
        help="score every customer of a CSV or Parquet transaction file",
        description=(
            "Read transactions (one row per purchase: customer, time, amount), summarize each "
            "customer, fit a transaction model and Gamma-Gamma, and write one row per customer: "
            "frequency, recency, T, monetary, RFM scores, cell and segment, probability_alive, "
            "expected_purchases (over the horizon), expected_spend, clv and clv_tier. Needs pyarrow or "
            "polars to read files (pip install 'relmark[arrow]')."
        ),
        epilog=(
            "Omitted column options are detected from the header (case-insensitive), trying "
            + "; ".join(f"{role}: {', '.join(names)}" for role, names in COLUMN_CANDIDATES.items())
            + ". Files ending in .parquet or .pq are Parquet, anything else CSV (.gz and .bz2 "
            "are decompressed)."
        ),
    )
    score.add_argument("file", metavar="FILE", help="transactions, CSV or Parquet")
    score.add_argument("--output", "-o", required=True, metavar="OUT", help="file to write")
    score.add_argument(
        "--format",
        choices=("csv", "parquet"),
        help="output format (default: from the suffix of OUT, CSV unless .parquet/.pq)",
    )
    columns = score.add_argument_group("columns")
    columns.add_argument("--customer", metavar="COL", help="customer-id column")
    columns.add_argument("--time", metavar="COL", help="transaction time column")
    columns.add_argument("--amount", metavar="COL", help="transaction value column (>= 0)")
    columns.add_argument(
        "--time-format", metavar="FMT", help="strptime format of the times, e.g. %%Y%%m%%d"
    )
    columns.add_argument("--delimiter", default=",", help="CSV field separator (default ,)")
    columns.add_argument(
        "--string-ids", action="store_true", help="read customer ids as text (keep leading zeros)"
    )
    model = score.add_argument_group("summary and model")
    model.add_argument(
        "--period",
        default="D",
        choices=("D", "W", "M", "Q", "Y"),
        help="purchases in one period count once (default D)",
    )
    model.add_argument(
        "--unit",
        default="W",
        choices=("D", "W", "M", "Q", "Y"),
        help="time unit of recency, T and the horizon (default W)",
    )
    model.add_argument(
        "--observation-end",
        metavar="DATE",
        help="end of observation, ISO date (default: the last transaction)",
    )
    model.add_argument(
        "--model",
        default="bgnbd",
        choices=tuple(MODELS),
        help="transaction model (default bgnbd)",
    )
    model.add_argument(
        "--horizon",
        type=_positive_int,
        default=52,
        help="CET and CLV horizon in units (default 52)",
    )
    model.add_argument(
        "--discount-rate",
        type=_non_negative,
        default=0.0,
        help="discount rate per unit (default 0)",
    )
    model.add_argument(
        "--margin", type=_non_negative, default=1.0, help="profit share of revenue (default 1)"
    )
    model.add_argument(
        "--penalizer",
        type=_non_negative,
        default=0.0,
        help="L2 penalizer of the transaction-model fit, e.g. 0.001 if it does not converge",
    )
    score.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")
    score.set_defaults(run=_run_score)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="relmark",
        description="Relationship-marketing models: CLV, RFM, commitment-trust, staged profiles.",
        epilog="Exit status: 0 success, 2 usage error or bad input, 130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"relmark {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_demo(commands)
    _add_score(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``relmark`` command line and return its exit status.

    Args:
        argv: The arguments after the program name; ``None`` reads ``sys.argv``.

    Returns:
        0 on success, 2 for a usage error or invalid input (the message goes to stderr), 130
        when interrupted.
    """
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors end here
        return exc.code if isinstance(exc.code, int) else _USAGE_ERROR
    if args.command is None:
        parser.print_help()
        return 0
    try:
        status: int = args.run(args)
    except (RelmarkError, OSError) as exc:
        sys.stderr.write(f"relmark: error: {_one_line(exc)}\n")
        return _USAGE_ERROR
    except KeyboardInterrupt:
        sys.stderr.write("relmark: interrupted\n")
        return _INTERRUPTED
    return status


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        return f"{exc.strerror}: {exc.filename}"
    return str(exc)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
