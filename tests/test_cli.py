from __future__ import annotations

import json

import pytest

import relmark
import relmark.cli
from relmark.cli import DEMO_SECTIONS, Report, main
from relmark.domain import Customer
from relmark.errors import InvalidInputError
from relmark.io import from_json


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    """--version prints 'relmark <version>' and exits 0."""
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"relmark {relmark.__version__}"


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    """--help lists the demo command and exits 0; no command prints the help too."""
    assert main(["--help"]) == 0
    assert "demo" in capsys.readouterr().out
    assert main([]) == 0
    assert "usage: relmark" in capsys.readouterr().out


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown command exits 2 with argparse's message on stderr."""
    assert main(["frobnicate"]) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_demo_plain_shows_records_and_valid_json(capsys: pytest.CaptureFixture[str]) -> None:
    """The plain demo prints every kind of record and JSON that reads back into records."""
    assert main(["demo", "--plain"]) == 0
    out = capsys.readouterr().out
    for expected in (
        "Ada Lovelace",
        "supplier_alliance",
        "influence",
        "campaign_click",
        "outbound",
        "inbound",
        "complaint",
        "59.90 EUR",
        "[Europe/Berlin]",
    ):
        assert expected in out, expected
    start = out.index("{")
    first, _ = json.JSONDecoder().raw_decode(out[start:])
    customer = from_json(json.dumps(first), Customer)
    assert customer.name == "Ada Lovelace"


def test_demo_with_rich(capsys: pytest.CaptureFixture[str]) -> None:
    """With rich installed the demo renders tables and still succeeds."""
    pytest.importorskip("rich")
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "Northwind Capital" in out
    assert "┃" in out


def test_user_errors_exit_2_without_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An InvalidInputError inside a command becomes one stderr line and exit status 2."""

    def failing_section(report: Report) -> None:
        raise InvalidInputError("Transaction.currency must be an ISO-4217 code; got 'eur'.")

    monkeypatch.setattr(relmark.cli, "DEMO_SECTIONS", (failing_section,))
    assert main(["demo", "--plain"]) == 2
    err = capsys.readouterr().err
    assert err == "relmark: error: Transaction.currency must be an ISO-4217 code; got 'eur'.\n"


def test_demo_sections_are_extensible() -> None:
    """The demo is a sequence of section functions taking a Report."""
    assert len(DEMO_SECTIONS) >= 2
    assert all(callable(section) for section in DEMO_SECTIONS)
