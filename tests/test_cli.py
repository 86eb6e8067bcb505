"""The `relmark` entry point: version, help, usage errors and the error contract."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import relmark
from relmark.cli import DEMO_SECTIONS, Report, Section, main
from relmark.errors import InvalidInputError


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    """--version prints 'relmark <version>' and exits 0."""
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"relmark {relmark.__version__}"


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    """--help lists both commands and exits 0; no command prints the help too."""
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "demo" in out
    assert "score" in out
    assert main([]) == 0
    assert "usage: relmark" in capsys.readouterr().out


def test_subcommand_help(capsys: pytest.CaptureFixture[str]) -> None:
    """Each command's --help names its options, the section names and the header candidates."""
    assert main(["demo", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--output" in out
    assert all(section.name in out for section in DEMO_SECTIONS)
    assert main(["score", "--help"]) == 0
    out = capsys.readouterr().out
    for option in ("--customer", "--time", "--amount", "--horizon", "--discount-rate", "pyarrow"):
        assert option in out, option


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown command exits 2 with argparse's message on stderr."""
    assert main(["frobnicate"]) == 2
    assert "invalid choice" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["score", "x.csv"],  # -o is required
        ["score", "x.csv", "-o", "y.csv", "--horizon", "0"],
        ["score", "x.csv", "-o", "y.csv", "--discount-rate", "-0.1"],
        ["score", "x.csv", "-o", "y.csv", "--unit", "fortnight"],
    ],
)
def test_bad_options_are_usage_errors(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """Missing or out-of-range options exit 2 with a message and no traceback."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "error:" in err
    assert "Traceback" not in err


def test_unknown_section_is_an_input_error(capsys: pytest.CaptureFixture[str]) -> None:
    """--sections with an unknown name exits 2 and lists the valid names."""
    assert main(["demo", "--sections", "records,nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("relmark: error: Unknown demo section(s) ['nope']")
    assert "records" in err


def test_user_errors_exit_2_without_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An InvalidInputError inside a command becomes one stderr line and exit status 2."""

    def failing(report: Report, data: object) -> None:
        raise InvalidInputError("Transaction.currency must be an ISO-4217 code; got 'eur'.")

    monkeypatch.setattr("relmark.cli.DEMO_SECTIONS", (Section("records", "x", failing),))
    assert main(["demo", "--plain", "--sections", "records"]) == 2
    err = capsys.readouterr().err
    assert err == "relmark: error: Transaction.currency must be an ISO-4217 code; got 'eur'.\n"


def test_interrupt_exits_130(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C during a command exits 130 with a one-line notice."""

    def interrupted(report: Report, data: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("relmark.cli.DEMO_SECTIONS", (Section("records", "x", interrupted),))
    assert main(["demo", "--plain"]) == 130
    assert capsys.readouterr().err == "relmark: interrupted\n"


def test_bugs_are_not_swallowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """An unexpected exception propagates (Python prints the traceback, exit status 1)."""

    def broken(report: Report, data: object) -> None:
        raise ZeroDivisionError

    monkeypatch.setattr("relmark.cli.DEMO_SECTIONS", (Section("records", "x", broken),))
    with pytest.raises(ZeroDivisionError):
        main(["demo", "--plain"])


def test_demo_sections_are_named_and_ordered() -> None:
    """The demo is a sequence of uniquely named sections, data first and records last."""
    names = [section.name for section in DEMO_SECTIONS]
    assert names[0] == "data"
    assert names[-1] == "records"
    assert len(set(names)) == len(names)
    assert all(callable(section.run) for section in DEMO_SECTIONS)


@pytest.mark.parametrize("package", ["cli", "scoring"])
def test_no_assert_in_library_code(package: str) -> None:
    """relmark.cli and relmark.scoring check with real errors: `python -O` would drop asserts."""
    root = Path(relmark.__file__).parent / package
    found = [
        f"{path.name}:{node.lineno}"
        for path in sorted(root.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Assert)
    ]
    assert not found, f"assert statements in relmark.{package}: {found}"
