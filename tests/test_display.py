"""Notebook display: every table-like result renders well-formed, escaped HTML; frames follow
the installed backend."""

from __future__ import annotations

import importlib.util
from html.parser import HTMLParser

import numpy as np
import polars as pl
import pytest

from relmark._display import frame_backend, html_table, text_table
from relmark.clv import BGNBD
from relmark.clv.diagnostics import repeat_purchase_histogram
from relmark.data.table import ColumnInfo, ColumnKind, ScoreTable
from relmark.datasets import load_cdnow
from relmark.rfm import RFM_PACKAGE_SEGMENTS

_INFO = {"p_alive": ColumnInfo(description="P(alive).", kind=ColumnKind.FLOAT)}


class _Checker(HTMLParser):
    """Counts rows and checks that every opened tag is closed in order."""

    VOID = frozenset({"br", "hr", "img", "meta", "link"})

    def __init__(self):
        super().__init__()
        self.stack: list[str] = []
        self.rows = 0
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append(tag)
        self.rows += tag == "tr"

    def handle_endtag(self, tag):
        assert self.stack, f"</{tag}> closes nothing"
        assert self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1]}"
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def _render(fragment: str) -> _Checker:
    checker = _Checker()
    checker.feed(fragment)
    checker.close()
    assert checker.stack == []
    return checker


def test_long_tables_show_head_and_tail_and_escape_text():
    """A 100-row table shows 10 rows plus an ellipsis row; markup in cells is escaped."""
    names = np.array([f"<b>{i}</b>" for i in range(100)], dtype=object)
    checker = _render(html_table({"name": names, "x": np.arange(100.0)}, title="T"))
    assert checker.rows == 1 + 10 + 1
    assert "<b>0</b>" in "".join(checker.text)  # shown as text, not as markup
    assert "… 90 more rows …" in "".join(checker.text)


def test_score_table_lint_report_and_diagnostics_render():
    """ScoreTable, LintReport and a diagnostics record have _repr_html_ that parses cleanly."""
    table = ScoreTable.from_columns([1, 2, 3], {"p_alive": [0.1, 0.5, 0.9]}, _INFO)
    assert "ScoreTable: 3 customers × 1 columns" in "".join(_render(table._repr_html_()).text)
    lint = RFM_PACKAGE_SEGMENTS.lint()
    rendered = _render(lint._repr_html_())
    assert "39 claimed by several rules" in "".join(rendered.text)
    summary = load_cdnow().summarize("1997-09-30")
    histogram = repeat_purchase_histogram(BGNBD().fit(summary), summary, max_frequency=5)
    assert _render(histogram._repr_html_()).rows > 3


def test_text_table_aligns_columns():
    """Text rendering right-aligns numbers and left-aligns text."""
    out = text_table({"name": ["a", "bbb"], "v": [1.0, 22.5]}, title="t").splitlines()
    assert out == ["t", "name     v", "a        1", "bbb   22.5"]


def test_frames_follow_the_installed_backend(monkeypatch):
    """Without pandas, to_frame() gives polars rather than asking for pandas."""
    real = importlib.util.find_spec

    def no_pandas(name, *args, **kwargs):
        return None if name == "pandas" else real(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", no_pandas)
    assert frame_backend(None) == "polars"
    table = ScoreTable.from_columns([1, 2], {"p_alive": [1.0, 0.5]}, _INFO)
    assert isinstance(table.to_frame(), pl.DataFrame)
    assert isinstance(RFM_PACKAGE_SEGMENTS.lint().to_frame(), pl.DataFrame)


@pytest.mark.parametrize("backend", ["pandas", "polars", "pyarrow"])
def test_explicit_backend_is_respected(backend):
    """An explicit backend is used as given."""
    assert frame_backend(backend) == backend


def test_customer_summary_renders():
    """A summary's HTML shows its size and unit and parses cleanly."""
    summary = load_cdnow().summarize("1997-09-30")
    text = "".join(_render(summary._repr_html_()).text)
    assert f"CustomerSummary: {len(summary):,} customers" in text
    assert "weeks" in text
