"""How results are shown: one HTML/text table renderer and the default frame backend.

Jupyter calls ``_repr_html_`` on the last value of a cell; relmark's tables (parameter tables,
score tables, lint reports, diagnostics, summaries) render through
[`html_table`][relmark._display.html_table] so they look alike, escape their contents, and show
only the first and last rows of a long table. Nothing here imports a frame library.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["format_value", "frame_backend", "html_table", "text_table"]

_BACKENDS = ("pandas", "polars", "pyarrow")


def frame_backend(backend: str | None) -> str:
    """The frame library ``to_frame`` returns: the one asked for, else the first installed.

    Never forces pandas on a polars-only (or pyarrow-only) environment. With none of the three
    installed it returns ``"pandas"``, whose missing-dependency error names the extra to install.

    Examples:
        >>> frame_backend("polars")
        'polars'
    """
    if backend is not None:
        return backend
    import importlib.util

    for name in _BACKENDS:
        if importlib.util.find_spec(name) is not None:
            return name
    return "pandas"


_STYLE = (
    "<style>.relmark-table{border-collapse:collapse;font-size:0.9em}"
    ".relmark-table th,.relmark-table td{padding:2px 8px;text-align:right}"
    ".relmark-table th{border-bottom:1px solid #999}"
    ".relmark-table td.text,.relmark-table th.text{text-align:left}"
    ".relmark-caption{font-weight:bold;margin:4px 0}</style>"
)


def format_value(value: Any) -> str:
    """A short, human-readable rendering of one cell (6 significant digits for floats)."""
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, float | np.floating):
        number = float(value)
        if math.isnan(number):
            return ""
        return f"{number:.6g}"
    if isinstance(value, np.integer):
        return str(int(value))
    return str(value)


def _rows_shown(n: int, max_rows: int) -> tuple[list[int], bool]:
    if n <= max_rows:
        return list(range(n)), False
    head = max_rows // 2
    return [*range(head), *range(n - (max_rows - head), n)], True


def _is_text(values: Any) -> bool:
    if isinstance(values, np.ndarray):
        return values.dtype.kind in "OUS"
    return any(isinstance(v, str) for v in values)


def html_table(
    columns: Mapping[str, Any],
    *,
    title: str,
    notes: Sequence[str] = (),
    max_rows: int = 10,
) -> str:
    """Render columns of equal length as an HTML table with a caption and optional notes.

    Args:
        columns: Column name to values, all of one length.
        title: Caption above the table (escaped).
        notes: Lines shown under the table (escaped).
        max_rows: Longest table shown whole; longer ones show their first and last rows.

    Returns:
        An HTML fragment.

    Examples:
        >>> fragment = html_table({"a": [1, 2]}, title="t <1>")
        >>> "t &lt;1&gt;" in fragment, fragment.count("<tr>")
        (True, 3)
    """
    names = list(columns)
    n = len(columns[names[0]]) if names else 0
    shown, cut = _rows_shown(n, max_rows)
    text = {name: _is_text(columns[name]) for name in names}
    head = "".join(
        f'<th class="text">{html.escape(name)}</th>'
        if text[name]
        else f"<th>{html.escape(name)}</th>"
        for name in names
    )
    body = []
    for position, i in enumerate(shown):
        if cut and position == max_rows // 2:
            body.append(
                f'<tr><td colspan="{len(names)}" class="text">… {n - len(shown)} more rows …</td></tr>'
            )
        cells = "".join(
            (f'<td class="text">{html.escape(format_value(columns[name][i]))}</td>' if text[name]
             else f"<td>{html.escape(format_value(columns[name][i]))}</td>")
            for name in names
        )  # fmt: skip
        body.append(f"<tr>{cells}</tr>")
    foot = "".join(f"<div>{html.escape(note)}</div>" for note in notes)
    return (
        f'<div>{_STYLE}<div class="relmark-caption">{html.escape(title)}</div>'
        f'<table class="relmark-table"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>{foot}</div>"
    )


def text_table(columns: Mapping[str, Any], *, title: str, max_rows: int = 10) -> str:
    """The same table as fixed-width text (for ``__str__`` and terminals).

    Examples:
        >>> print(text_table({"name": ["a", "bb"], "value": [1.5, 2.0]}, title="demo"))
        demo
        name  value
        a       1.5
        bb        2
    """
    names = list(columns)
    n = len(columns[names[0]]) if names else 0
    shown, cut = _rows_shown(n, max_rows)
    cells = {name: [format_value(columns[name][i]) for i in shown] for name in names}
    widths = {name: max([len(name), *(len(c) for c in cells[name])]) for name in names}
    text = {name: _is_text(columns[name]) for name in names}

    def line(values: dict[str, str]) -> str:
        return "  ".join(
            values[name].ljust(widths[name]) if text[name] else values[name].rjust(widths[name])
            for name in names
        ).rstrip()

    lines = [title, line({name: name for name in names})]
    for position in range(len(shown)):
        if cut and position == max_rows // 2:
            lines.append(f"… {n - len(shown)} more rows …")
        lines.append(line({name: cells[name][position] for name in names}))
    return "\n".join(lines)
