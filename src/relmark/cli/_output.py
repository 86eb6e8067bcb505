"""``--output DIR``: every table as CSV, every figure as PNG, everything as one HTML page."""

from __future__ import annotations

import base64
import csv
import functools
import html
import importlib.util
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from relmark.cli._files import atomic_write
from relmark.cli._report import Cell, Figure, Report, Table

__all__ = ["arrow_table", "write_columns_csv", "write_csv", "write_outputs"]

_ARROW_FIXED = {"i": 8, "u": 8, "f": 8}
"""numpy kinds (with the item size) whose arrays pyarrow can use as they are, as one buffer."""
_MAX_ARROW_BYTES = 2**31 - 1
"""Text bytes an Arrow ``string`` column (32-bit offsets) can hold."""

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; }
table { border-collapse: collapse; margin: 1em 0; font-size: .9em; }
caption { text-align: left; font-weight: bold; padding-bottom: .4em; }
th, td { border: 1px solid #ddd; padding: .25em .6em; }
th { background: #f3f3f3; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
pre { background: #f6f8fa; padding: .8em; overflow-x: auto; }
figure { margin: 1em 0; } figcaption { font-style: italic; }
"""


def _ascii_strings(values: NDArray[np.str_]) -> Any:
    """A numpy text column as an Arrow ``string`` array built from its code points, or ``None``.

    For ASCII text (the score labels) the UTF-8 bytes are the code points: they are cut out of
    the fixed-width numpy buffer in one vectorized step instead of one Python string per value
    (a quarter of a second on 700,000 labels). ``None`` for other text, which ``pa.array``
    converts.
    """
    import pyarrow as pa

    n, width = values.size, values.dtype.itemsize // 4
    codes = np.ascontiguousarray(values).view(np.uint32).reshape(n, width)
    if codes.size and int(codes.max()) > 0x7F:
        return None
    # numpy text has no trailing NULs: a value's length is up to its last non-NUL code point.
    lengths = np.strings.str_len(values).astype(np.int64)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    if offsets[-1] > _MAX_ARROW_BYTES:
        return None
    data = codes[np.arange(width) < lengths[:, None]].astype(np.uint8)
    if data.size and int(data.min()) == 0:
        return None  # an inner NUL: left to pa.array, whose handling of it is kept
    buffers = [None, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(data)]
    return pa.Array.from_buffers(pa.string(), n, buffers)


def arrow_table(columns: Mapping[str, NDArray[Any]]) -> Any:
    """Equal-length numpy columns as a pyarrow table, the same as ``pa.table(columns)``.

    64-bit numbers are wrapped without a copy and ASCII text is converted without a Python
    string per value; other columns go through ``pa.array``. A float NaN stays a NaN.
    """
    import pyarrow as pa

    arrays = []
    for values in columns.values():
        array = None
        if _ARROW_FIXED.get(values.dtype.kind) == values.dtype.itemsize:
            contiguous = np.ascontiguousarray(values)
            if contiguous.dtype.isnative:
                buffer = pa.py_buffer(contiguous)
                array = pa.Array.from_buffers(
                    pa.from_numpy_dtype(contiguous.dtype), values.size, [None, buffer]
                )
        elif values.dtype.kind == "U":
            array = _ascii_strings(values)
        arrays.append(pa.array(values) if array is None else array)
    return pa.Table.from_arrays(arrays, names=list(columns))


def _csv_column(values: Sequence[Cell] | NDArray[Any]) -> list[Cell]:
    """One column as Python values for the csv module, a missing value as ``""``."""
    if isinstance(values, np.ndarray):
        cells: list[Cell] = values.tolist()
        if values.dtype.kind == "f":
            for i in np.flatnonzero(np.isnan(values)).tolist():
                cells[i] = ""
        elif values.dtype.kind == "O":
            cells = [_csv_cell(v) for v in cells]
        return cells
    return [_csv_cell(v) for v in values]


def _csv_cell(value: Cell) -> Cell:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return value


def write_columns_csv(columns: Mapping[str, Sequence[Cell] | NDArray[Any]], path: Path) -> None:
    """Write equal-length columns as a CSV file with a header line (UTF-8, ``,``-separated).

    This is the one CSV writer of the command line (``relmark score`` and
    ``relmark demo --output``). Numbers are written unrounded, floats in their shortest
    round-trip form, so they read back exactly. A missing value (NaN or ``None``) is an empty
    cell, which pandas, polars and pyarrow read back as NaN / null. When every column is a numpy
    array and pyarrow is installed, pyarrow's C writer writes the file (a whole float may then be
    written without its ``.0``); otherwise the ``csv`` module does.

    The file is written atomically: an existing ``path`` is either replaced completely or, when
    the write fails, left untouched.

    Args:
        columns: Column name → values (numpy array or sequence), in column order.
        path: The file to write (replaced if present).

    Raises:
        OSError: When the file cannot be written.
    """
    table = _arrow_table(columns)
    if table is None:
        _write(list(columns), list(columns.values()), path)
        return
    from pyarrow import csv as arrow_csv

    options = arrow_csv.WriteOptions(quoting_style="needed")
    atomic_write(path, lambda temporary: arrow_csv.write_csv(table, str(temporary), options))


def _arrow_table(columns: Mapping[str, Sequence[Cell] | NDArray[Any]]) -> Any:
    """The columns as a pyarrow table (NaN and ``None`` as nulls), or ``None`` to use ``csv``."""
    arrays = list(columns.values())
    # One column: a missing value would be a blank line, which readers skip; the csv module
    # writes it as "" instead.
    if (
        len(arrays) < 2
        or not all(isinstance(a, np.ndarray) and a.dtype.kind in "iufOU" for a in arrays)
        or importlib.util.find_spec("pyarrow") is None
    ):
        return None
    import pyarrow as pa

    try:
        # from_pandas=True: a float NaN becomes a null, written as an empty cell.
        return pa.table(
            {name: pa.array(values, from_pandas=True) for name, values in columns.items()}
        )
    except (pa.ArrowException, OverflowError, TypeError):
        # Mixed object columns or integers beyond 64 bits: the csv module writes them as text.
        return None


def write_csv(table: Table, path: Path) -> None:
    """Write one table (unrounded values) as CSV, by the rules of `write_columns_csv`."""
    by_column = list(zip(*table.rows, strict=True)) or [() for _ in table.columns]
    _write(list(table.columns), by_column, path)


def _write(
    header: Sequence[str], columns: Sequence[Sequence[Cell] | NDArray[Any]], path: Path
) -> None:
    cells = [_csv_column(values) for values in columns]

    def write(temporary: Path) -> None:
        with temporary.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(zip(*cells, strict=True))

    atomic_write(path, write)


def _html_table(table: Table) -> str:
    numeric = table.numeric_columns()
    head = "".join(f"<th>{html.escape(c)}</th>" for c in table.columns)
    body = "\n".join(
        "<tr>"
        + "".join(
            f'<td class="num">{html.escape(v)}</td>' if is_number else f"<td>{html.escape(v)}</td>"
            for v, is_number in zip(row, numeric, strict=True)
        )
        + "</tr>"
        for row in table.text_rows()
    )
    return (
        f"<table><caption>{html.escape(table.title)}</caption>\n<thead><tr>{head}</tr></thead>\n"
        f"<tbody>\n{body}\n</tbody></table>"
    )


def _html_figure(figure: Figure) -> str:
    data = base64.b64encode(figure.png).decode("ascii")
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(figure.title)}">'
        f"<figcaption>{html.escape(figure.title)}</figcaption></figure>"
    )


def render_html(report: Report, title: str) -> str:
    """The report as one self-contained HTML page (figures embedded as base64)."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    for kind, content in report.blocks:
        if kind == "heading":
            parts.append(f"<h2>{html.escape(content)}</h2>")
        elif kind == "text":
            parts.append(f"<p>{html.escape(content)}</p>")
        elif kind == "table":
            parts.append(_html_table(content))
        elif kind == "code":
            parts.append(f"<pre><code>{html.escape(content)}</code></pre>")
        elif kind == "figure":
            parts.append(_html_figure(content))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_outputs(report: Report, directory: Path, title: str) -> list[Path]:
    """Write ``<table>.csv`` and ``<figure>.png`` per block and ``report.html`` into ``directory``.

    Args:
        report: What was printed.
        directory: Created if absent (with parents).
        title: Title of the HTML page.

    Each file is written atomically (see `write_columns_csv`).

    Returns:
        The files written, in order.

    Raises:
        OSError: When the directory or a file cannot be written.
    """
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for kind, content in report.blocks:
        if kind == "table":
            path = directory / f"{content.name}.csv"
            write_csv(content, path)
            written.append(path)
        elif kind == "figure":
            path = directory / f"{content.name}.png"
            atomic_write(path, functools.partial(Path.write_bytes, data=content.png))
            written.append(path)
    page = directory / "report.html"
    text = render_html(report, title)
    atomic_write(page, lambda temporary: temporary.write_text(text, encoding="utf-8"))
    written.append(page)
    return written
