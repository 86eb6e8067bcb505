"""The ``relmark`` command.

```text
relmark --version          print the installed version
relmark demo [--plain]     a guided tour on built-in example data
```

``demo`` runs the functions in ``DEMO_SECTIONS`` in order; each takes a `Report` and prints one
section, so a new feature adds its section by appending a function. Output uses `rich` tables
when the optional ``relmark[cli]`` extra is installed (never imported before it is needed), plain
text otherwise or with ``--plain``.

Errors caused by user input (any [`RelmarkError`][relmark.errors.RelmarkError]) print one line to
stderr and exit with status 2, without a traceback.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from relmark.domain import (
    Channel,
    Customer,
    CustomerId,
    Direction,
    Stakeholder,
    StakeholderId,
    StakeholderRole,
    Touchpoint,
    TouchpointId,
    TouchpointKind,
    Transaction,
    TransactionId,
)
from relmark.errors import RelmarkError
from relmark.io import to_json

__all__ = ["DEMO_SECTIONS", "Report", "main"]

_USAGE_ERROR = 2


def _version() -> str:
    # The same source as `relmark.__version__`; the CLI sits below the flat `relmark` package in
    # the layer order, so it reads the metadata itself instead of importing `relmark`.
    try:
        return version("relmark")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
        return "0+unknown"


class Report:
    """Where demo sections print: headings, tables and code blocks, rich or plain."""

    def __init__(self, out: TextIO, *, plain: bool) -> None:
        self._out = out
        self._console: Any = None
        if not plain and importlib.util.find_spec("rich") is not None:
            from rich.console import Console

            self._console = Console(file=out, highlight=False, soft_wrap=True)

    def heading(self, title: str) -> None:
        """Start a section."""
        if self._console is not None:
            self._console.rule(f"[bold]{title}")
        else:
            print(f"\n== {title} ==", file=self._out)

    def text(self, line: str) -> None:
        """Print a paragraph."""
        if self._console is not None:
            self._console.print(line, markup=False)
        else:
            print(line, file=self._out)

    def table(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        """Print a table of strings."""
        if self._console is not None:
            from rich.table import Table

            table = Table(title=title)
            for column in columns:
                table.add_column(column, overflow="fold")
            for row in rows:
                table.add_row(*row)
            self._console.print(table)
            return
        widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(columns)]
        print(title, file=self._out)
        print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)), file=self._out)
        print("  ".join("-" * w for w in widths), file=self._out)
        for row in rows:
            print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)), file=self._out)

    def code(self, text: str) -> None:
        """Print a block of JSON."""
        if self._console is not None:
            from rich.syntax import Syntax

            self._console.print(Syntax(text, "json", word_wrap=True))
        else:
            print(text, file=self._out)


# ---------------------------------------------------------------- demo data


def _example_records() -> tuple[Customer, list[Stakeholder], list[Touchpoint], Transaction]:
    berlin = ZoneInfo("Europe/Berlin")
    customer = Customer(
        customer_id=CustomerId("C-1001"),
        opened_at=datetime(2023, 4, 12, 10, 15, tzinfo=berlin),
        name="Ada Lovelace",
        email="ada@example.com",
        country="DE",
        tags={"newsletter", "b2c"},
    )
    stakeholders = [
        Stakeholder(
            stakeholder_id=StakeholderId("S-20"),
            name="Acme Paper Mills",
            role=StakeholderRole.SUPPLIER,
            since=datetime(2019, 1, 1, tzinfo=UTC),
            country="FI",
        ),
        Stakeholder(
            stakeholder_id=StakeholderId("S-31"),
            name="Northwind Capital",
            role=StakeholderRole.SHAREHOLDER,
            since=datetime(2021, 6, 30, tzinfo=UTC),
            country="GB",
        ),
    ]
    purchase = Transaction(
        transaction_id=TransactionId("O-5001"),
        customer_id=customer.customer_id,
        at=datetime(2024, 5, 3, 18, 42, tzinfo=berlin),
        amount=59.9,
        currency="EUR",
        quantity=2,
        channel=Channel.WEB,
    )
    touchpoints = [
        Touchpoint(
            touchpoint_id=TouchpointId("T-1"),
            customer_id=customer.customer_id,
            at=datetime(2024, 5, 1, 8, 0, tzinfo=berlin),
            channel=Channel.EMAIL,
            direction=Direction.OUTBOUND,
            kind=TouchpointKind.CAMPAIGN_SEND,
        ),
        Touchpoint(
            touchpoint_id=TouchpointId("T-2"),
            customer_id=customer.customer_id,
            at=datetime(2024, 5, 1, 19, 5, tzinfo=berlin),
            channel=Channel.EMAIL,
            direction=Direction.INBOUND,
            kind=TouchpointKind.CAMPAIGN_CLICK,
            in_reply_to=TouchpointId("T-1"),
        ),
        Touchpoint.from_transaction(purchase, touchpoint_id=TouchpointId("T-3")),
        Touchpoint(
            touchpoint_id=TouchpointId("T-4"),
            customer_id=customer.customer_id,
            at=datetime(2024, 5, 7, 9, 30, tzinfo=berlin),
            channel=Channel.PHONE,
            direction=Direction.INBOUND,
            kind=TouchpointKind.COMPLAINT,
            resolved_at=datetime(2024, 5, 8, 14, 0, tzinfo=berlin),
        ),
        Touchpoint(
            touchpoint_id=TouchpointId("T-5"),
            stakeholder_id=StakeholderId("S-31"),
            at=datetime(2024, 5, 15, 16, 0, tzinfo=UTC),
            channel=Channel.EVENT,
            direction=Direction.OUTBOUND,
            kind=TouchpointKind.MEETING,
        ),
    ]
    return customer, stakeholders, touchpoints, purchase


def _when(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M %z")


def _or_dash(value: object) -> str:
    return "-" if value is None else str(value)


def demo_records(report: Report) -> None:
    """Section: a customer, two stakeholders, a timeline of touchpoints and a purchase."""
    customer, stakeholders, touchpoints, purchase = _example_records()
    report.heading("Domain records")
    report.table(
        "Customer",
        ["id", "name", "opened", "country", "tags"],
        [
            [
                customer.customer_id,
                _or_dash(customer.name),
                _when(customer.opened_at),
                _or_dash(customer.country),
                ", ".join(sorted(customer.tags)),
            ]
        ],
    )
    report.table(
        "Stakeholders (six-markets model)",
        ["id", "name", "role", "market"],
        [[s.stakeholder_id, s.name, s.role.value, s.market.value] for s in stakeholders],
    )
    report.table(
        "Touchpoints",
        ["id", "with", "at", "channel", "direction", "kind", "resolved in"],
        [
            [
                t.touchpoint_id,
                t.counterpart_id,
                _when(t.at),
                t.channel.value,
                t.direction.value,
                t.kind.value,
                _or_dash(t.resolution_time),
            ]
            for t in touchpoints
        ],
    )
    report.table(
        "Transactions",
        ["id", "customer", "at", "amount", "quantity", "channel"],
        [
            [
                purchase.transaction_id,
                purchase.customer_id,
                _when(purchase.at),
                f"{purchase.amount:.2f} {purchase.currency}",
                _or_dash(purchase.quantity),
                _or_dash(purchase.channel and purchase.channel.value),
            ]
        ],
    )


def demo_json(report: Report) -> None:
    """Section: the same records as JSON, as written by relmark.io."""
    customer, _, touchpoints, purchase = _example_records()
    report.heading("As JSON (relmark.io.to_json)")
    report.code(to_json(customer, indent=2))
    report.code(to_json(touchpoints[3], indent=2))
    report.code(to_json(purchase, indent=2))


DEMO_SECTIONS: tuple[Callable[[Report], None], ...] = (demo_records, demo_json)
"""The sections ``relmark demo`` prints, in order."""


# ---------------------------------------------------------------- commands


def _run_demo(args: argparse.Namespace) -> int:
    report = Report(sys.stdout, plain=args.plain)
    report.text(f"relmark {_version()}: a tour on example data.")
    for section in DEMO_SECTIONS:
        section(report)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="relmark",
        description="Relationship-marketing models: CLV, RFM, commitment-trust, staged profiles.",
    )
    parser.add_argument("--version", action="version", version=f"relmark {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser("demo", help="a guided tour on built-in example data")
    demo.add_argument("--plain", action="store_true", help="plain text even if rich is installed")
    demo.set_defaults(run=_run_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``relmark`` command line and return its exit status.

    Args:
        argv: The arguments after the program name; ``None`` reads ``sys.argv``.

    Returns:
        0 on success, 2 for a usage error or invalid input (the message goes to stderr).
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
    except RelmarkError as exc:
        print(f"relmark: error: {exc}", file=sys.stderr)
        return _USAGE_ERROR
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
