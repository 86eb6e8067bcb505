"""The Report: tables rendered plain or with rich, kept for --output, and the HTML page."""

from __future__ import annotations

import csv
import importlib.util
import io
from pathlib import Path

import pytest

from relmark.cli import Report, Table
from relmark.cli._output import render_html, write_outputs

TABLE = Table(
    name="sample",
    title="Values <of> E[spend] & friends",
    columns=("name", "count", "share"),
    rows=[("a<b>", 1234, 0.25), ("Can't", None, 1 / 3)],
    formats=("", ",d", ".1%"),
)


def test_table_formats_numbers_and_missing_values() -> None:
    """Formats apply to numbers only, None prints as '-', numeric columns are detected."""
    assert TABLE.text_rows() == [["a<b>", "1,234", "25.0%"], ["Can't", "-", "33.3%"]]
    assert TABLE.numeric_columns() == [False, True, True]


def test_table_rejects_ragged_rows_and_bad_names() -> None:
    """A row of the wrong width or a name unfit for a file name is refused, naming it."""
    with pytest.raises(ValueError, match="rows \\[1\\]"):
        Table(name="t", title="t", columns=("a", "b"), rows=[(1, 2), (3,)])
    with pytest.raises(ValueError, match="'Bad Name'"):
        Table(name="Bad Name", title="t", columns=("a",), rows=[])


def test_plain_rendering_aligns_columns() -> None:
    """Plain text right-aligns numbers under their header and keeps every block."""
    out = io.StringIO()
    report = Report(out, plain=True)
    report.heading("Section")
    report.table(TABLE)
    report.note("not kept")
    lines = out.getvalue().splitlines()
    assert "== Section ==" in lines
    header = next(line for line in lines if line.startswith("name"))
    row = next(line for line in lines if line.startswith("a<b>"))
    assert header.index("count") + len("count") == row.index("1,234") + len("1,234")
    assert [kind for kind, _ in report.blocks] == ["heading", "table"]
    assert report.tables() == [TABLE]


def test_rich_rendering_keeps_brackets() -> None:
    """rich output shows text in square brackets literally (no markup interpretation)."""
    pytest.importorskip("rich")
    out = io.StringIO()
    Report(out, plain=False).table(TABLE)
    assert "E[spend]" in out.getvalue()
    assert "1,234" in out.getvalue()


def test_html_escapes_every_text() -> None:
    """Titles, headers and cells are HTML-escaped; the page is self-contained."""
    report = Report(io.StringIO(), plain=True)
    report.heading("<script>alert(1)</script>")
    report.table(TABLE)
    report.code('{"a": "<b>"}')
    page = render_html(report, "T & T")
    assert "<script>" not in page
    assert "&lt;script&gt;" in page
    assert "a&lt;b&gt;" in page
    assert "Values &lt;of&gt; E[spend] &amp; friends" in page
    assert "<title>T &amp; T</title>" in page


def test_write_outputs_csv_keeps_raw_values(tmp_path: Path) -> None:
    """CSV files hold the unrounded values, with an empty field for None."""
    report = Report(io.StringIO(), plain=True)
    report.table(TABLE)
    written = write_outputs(report, tmp_path / "new" / "dir", "title")
    assert [p.name for p in written] == ["sample.csv", "report.html"]
    with (tmp_path / "new" / "dir" / "sample.csv").open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["name", "count", "share"]
    assert rows[1] == ["a<b>", "1234", "0.25"]
    assert rows[2][1] == ""
    assert float(rows[2][2]) == 1 / 3


def test_figures_only_when_requested(tmp_path: Path) -> None:
    """figure() renders a PNG only with figures=True and matplotlib installed."""
    off = Report(io.StringIO(), plain=True)
    off.figure("plot", "A plot", lambda axes: axes.plot([0, 1], [1, 0]))
    assert off.blocks == []
    if importlib.util.find_spec("matplotlib") is None:
        pytest.skip("matplotlib is not installed")
    on = Report(io.StringIO(), plain=True, figures=True)
    on.figure("plot", "A plot", lambda axes: axes.plot([0, 1], [1, 0]))
    ((kind, figure),) = on.blocks
    assert kind == "figure"
    assert figure.png.startswith(b"\x89PNG")
    written = write_outputs(on, tmp_path, "t")
    assert (tmp_path / "plot.png").read_bytes() == figure.png
    assert "data:image/png;base64," in written[-1].read_text()


def test_piped_rich_tables_never_wrap_words() -> None:
    """Rich output that is not a terminal keeps each header and value on one line."""
    pytest.importorskip("rich")
    out = io.StringIO()
    headers = ("a_rather_long_column_header", "another_long_column_header", "x" * 40, "short")
    Report(out, plain=False).table(
        Table(name="wide", title="Wide", columns=headers, rows=[(1.5, "some text value", 3, "y")])
    )
    text = out.getvalue()
    assert all(header in text for header in headers)
    assert "some text value" in text
    assert len(text.splitlines()) == 6  # title, top rule, header, rule, one row, bottom rule
