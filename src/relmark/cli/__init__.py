"""The ``relmark`` command.

```text
relmark --version                      print the installed version
relmark demo [--plain] [--output DIR] [--sections NAMES]
                                       the main job on the CDNOW data, then the other models
relmark score FILE -o OUT [options]    one row of scores per customer from a transaction file
relmark score 'logs/*.parquet' -o OUT/ --engine dask [--scheduler tcp://host:8786]
                                       the same on a Dask cluster (relmark[dask])
```

``demo`` runs the sections of ``DEMO_SECTIONS`` in order; each prints through a
[`Report`][relmark.cli.Report], which uses `rich` tables when the optional ``relmark[cli]``
extra is installed (imported only then) and plain text otherwise or with ``--plain``.
``--output DIR`` also writes every table as CSV, every plot as PNG (with the ``relmark[plot]``
extra) and ``report.html`` with all of them.

``score`` reads CSV or Parquet with pyarrow (the ``relmark[cli]`` extra) or polars. It never
writes over its input and writes its output atomically (a temporary file renamed over the
target). A model that does not converge is reported and its columns left out (``--strict``
makes it an error).

Exit status: 0 on success; 2 for a usage error or bad input (any
[`RelmarkError`][relmark.errors.RelmarkError], a file that cannot be read or written, or too
little memory), printed as one ``relmark: error: ...`` line on stderr without a traceback; 130
when interrupted. Anything else is a bug: Python prints the traceback and exits with status 1.

Commands and models are imported only when a command runs, so ``relmark --help`` is quick.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from relmark.cli._report import Report, Table
from relmark.errors import InvalidInputError, RelmarkError

if TYPE_CHECKING:
    from relmark.cli._demo import Section

__all__ = ["DEMO_SECTIONS", "Report", "Section", "Table", "main"]

_USAGE_ERROR = 2
_INTERRUPTED = 130
_LAZY = {"DEMO_SECTIONS", "Section"}
"""Names re-exported from ``_demo``, which imports every model: loaded on first use."""


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from relmark.cli import _demo

        value = getattr(_demo, name)
        globals()[name] = value
        return value
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)


def _demo_sections() -> tuple[Section, ...]:
    # Through the module, so a replaced relmark.cli.DEMO_SECTIONS (tests) is honoured.
    return tuple(sys.modules[__name__].DEMO_SECTIONS)


def _version() -> str:
    # The same source as `relmark.__version__`; the CLI sits below the flat `relmark` package in
    # the layer order, so it reads the metadata itself instead of importing `relmark`.
    try:
        return version("relmark")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
        return "0+unknown"


def _chosen_sections(spec: str | None) -> list[Section]:
    sections = _demo_sections()
    if spec is None:
        return list(sections)
    known = {s.name: s for s in sections}
    names = [n.strip() for n in spec.split(",") if n.strip()]
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        raise InvalidInputError(
            f"Unknown demo section(s) {unknown or [spec]}; choose from {', '.join(known)} "
            "(comma-separated)."
        )
    return [s for s in sections if s.name in names]


def _run_demo(args: argparse.Namespace) -> int:
    from relmark.cli._demo import DemoData
    from relmark.cli._output import write_outputs

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
    if args.engine == "dask":
        from relmark.cli._dask import run_score_dask

        return run_score_dask(args, sys.stdout, sys.stderr)
    if args.scheduler is not None:
        raise InvalidInputError("--scheduler needs --engine dask.")
    from relmark.cli._score import run_score

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


def _coverage(text: str) -> float:
    """An ``argparse`` type: a coverage strictly between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1), got {text!r}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1), got {text!r}")
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


class _HelpListingSections(argparse.Action):
    """``demo --help``: name the sections, importing the demo (and its models) only then."""

    def __init__(self, option_strings: Sequence[str], dest: str, **_: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, help="show this help message and exit")

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        _namespace: argparse.Namespace,
        _values: object,
        _option_string: str | None = None,
    ) -> None:
        names = ", ".join(section.name for section in _demo_sections())
        parser.epilog = f"Sections, in demo order: {names}."
        parser.print_help()
        parser.exit()


def _add_demo(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = commands.add_parser(
        "demo",
        help="the main job on the built-in CDNOW data, then the other models",
        description=(
            "Fit BG/NBD, MBG/NBD, Pareto/NBD and Gamma-Gamma on the CDNOW data (39-week "
            "calibration, 39-week holdout), check holdout accuracy, value and segment the "
            "customers, then show commitment-trust, profile and record examples."
        ),
        add_help=False,
    )
    demo.add_argument("-h", "--help", action=_HelpListingSections)
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
        help="run only these sections (comma-separated names, listed below), in demo order",
    )
    demo.set_defaults(run=_run_demo)


def _add_score(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from relmark.cli._options import COLUMN_CANDIDATES, MODELS

    score = commands.add_parser(
        "score",
        help="score every customer of a CSV or Parquet transaction file",
        description=(
            "Read transactions (one row per purchase: customer, time, amount), summarize each "
            "customer, fit a transaction model and Gamma-Gamma, and write one row per customer: "
            "frequency, recency, T, monetary, RFM scores, cell and segment, probability_alive, "
            "expected_purchases (over the horizon), expected_spend, clv and clv_tier. Needs pyarrow or "
            "polars to read files (pip install 'relmark[cli]'). The output is never the input "
            "and is written atomically."
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
    columns.add_argument(
        "--timezone",
        metavar="ZONE",
        help=(
            "IANA time zone (e.g. Europe/Berlin or UTC): the zone of times without an offset, "
            "and the zone to which zoned times and times with UTC offsets (which change with "
            "daylight saving) are converted"
        ),
    )
    columns.add_argument(
        "--delimiter",
        default=",",
        metavar="C",
        help="CSV field separator, one character (default ,)",
    )
    columns.add_argument(
        "--encoding",
        default="utf-8",
        metavar="NAME",
        help="text encoding of a CSV file, e.g. latin-1 or cp1252 (default utf-8)",
    )
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
    model.add_argument(
        "--spend-penalizer",
        type=_non_negative,
        default=0.0,
        help="L2 penalizer of the Gamma-Gamma fit, e.g. 0.001 if it does not converge",
    )
    model.add_argument(
        "--interval",
        type=_coverage,
        default=None,
        metavar="LEVEL",
        help=(
            "add <column>_lower/<column>_upper for P(alive), expected purchases, spend and CLV: "
            "per-customer intervals of this coverage (e.g. 0.9) from 200 parametric draws of "
            "the models' parameters"
        ),
    )
    model.add_argument(
        "--strict",
        action="store_true",
        help=(
            "a model that does not converge is an error (exit 2, nothing written); by default "
            "it is reported and its columns are left out"
        ),
    )
    engine = score.add_argument_group("engine")
    engine.add_argument(
        "--engine",
        choices=("local", "dask"),
        default="local",
        help=(
            "local: this process (default); dask: FILE may be a glob or directory of Parquet "
            "files and OUT is a new directory of Parquet files (pip install 'relmark[dask]')"
        ),
    )
    engine.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="with --engine dask: an existing cluster, e.g. tcp://host:8786 (default: a local "
        "cluster of one worker process per core)",
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
    from relmark.cli._program import add_program  # argparse only; the loop loads when run

    add_program(commands)
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
    except MemoryError:
        sys.stderr.write(
            "relmark: error: not enough memory for this command; try fewer customers, a shorter "
            "--horizon or a coarser --unit.\n"
        )
        return _USAGE_ERROR
    except KeyboardInterrupt:
        sys.stderr.write("relmark: interrupted\n")
        return _INTERRUPTED
    return status


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        return f"{exc.strerror}: {exc.filename}"
    # One line: a multi-line message (a list of problems) is joined.
    return " ".join(line.strip() for line in str(exc).splitlines() if line.strip())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
