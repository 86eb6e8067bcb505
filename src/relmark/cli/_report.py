"""Where the command line prints: headings, text, tables, code and figures, rich or plain.

A `Report` renders each block on the terminal as it arrives and keeps
every block, so ``relmark demo --output DIR`` can write the same tables as CSV files, the
figures as PNG files and everything together as one HTML page.
"""

from __future__ import annotations

import importlib.util
import io
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TextIO

import attrs

__all__ = ["Block", "Cell", "Figure", "Report", "Table"]

Cell = str | int | float | None
"""One table value: text, a number, or ``None`` for "not available"."""

_NAME = re.compile(r"^[a-z0-9][a-z0-9_]*$")


def _check_name(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not _NAME.match(value):
        raise ValueError(
            f"{type(instance).__name__}.{attribute.name} must be lower-case letters, digits and "
            f"underscores (it becomes a file name); got {value!r}."
        )


def _strings(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


def _rows(value: Sequence[Sequence[Cell]]) -> tuple[tuple[Cell, ...], ...]:
    return tuple(tuple(row) for row in value)


@attrs.frozen(kw_only=True)
class Table:
    """A titled table of plain values, printed with per-column formats and saved raw.

    Attributes:
        name: File stem for ``--output`` (``model_comparison`` → ``model_comparison.csv``).
        title: Heading printed above the table.
        columns: Column headers.
        rows: The values, one tuple per row; ``None`` prints as ``-`` and saves as empty.
        formats: Per column, a format spec for numbers on screen (``".3f"``, ``",d"``); an empty
            string (or a missing entry) uses ``str``. CSV files keep the unrounded values.
    """

    name: str = attrs.field(validator=_check_name)
    title: str
    columns: tuple[str, ...] = attrs.field(converter=_strings)
    rows: tuple[tuple[Cell, ...], ...] = attrs.field(converter=_rows)
    formats: tuple[str, ...] = attrs.field(default=(), converter=_strings)

    @rows.validator
    def _check_widths(self, _attribute: attrs.Attribute[Any], value: Any) -> None:
        bad = [i for i, row in enumerate(value) if len(row) != len(self.columns)]
        if bad:
            raise ValueError(
                f"Table {self.name!r}: rows {bad[:5]} do not have {len(self.columns)} values."
            )

    def text_rows(self) -> list[list[str]]:
        """The rows as display strings."""
        return [[self._text(i, v) for i, v in enumerate(row)] for row in self.rows]

    def numeric_columns(self) -> list[bool]:
        """Whether each column holds numbers only (right-aligned on screen)."""
        return [
            all(v is None or (isinstance(v, int | float) and not isinstance(v, bool)) for v in col)
            and any(v is not None for v in col)
            for col in zip(*self.rows, strict=True)
        ] or [False] * len(self.columns)

    def _text(self, column: int, value: Cell) -> str:
        if value is None:
            return "-"
        spec = self.formats[column] if column < len(self.formats) else ""
        if spec and isinstance(value, int | float) and not isinstance(value, bool):
            return format(value, spec)
        return str(value)


@attrs.frozen(kw_only=True)
class Figure:
    """A rendered plot.

    Attributes:
        name: File stem for ``--output``.
        title: Caption.
        png: The PNG image.
    """

    name: str = attrs.field(validator=_check_name)
    title: str
    png: bytes = attrs.field(repr=False)


Block = tuple[str, Any]
"""One recorded block: ``(kind, content)`` with kind ``heading``, ``text``, ``table``,
``code`` or ``figure``."""


class Report:
    """Prints headings, text, tables and JSON; keeps them for ``--output``.

    Uses `rich` when the ``relmark[cli]`` extra is installed (imported only then), plain text
    otherwise or with ``plain=True``.

    Args:
        out: Where to print.
        plain: Plain text even if rich is installed.
        figures: Render figures (needs matplotlib); otherwise ``figure`` calls are skipped.
    """

    def __init__(self, out: TextIO, *, plain: bool, figures: bool = False) -> None:
        self._out = out
        self._console: Any = None
        self.blocks: list[Block] = []
        self.figures = figures and importlib.util.find_spec("matplotlib") is not None
        if not plain and importlib.util.find_spec("rich") is not None:
            from rich.console import Console

            self._console = Console(file=out, highlight=False, soft_wrap=True)

    def _line(self, text: str) -> None:
        self._out.write(text + "\n")

    def heading(self, title: str) -> None:
        """Start a section."""
        self.blocks.append(("heading", title))
        if self._console is not None:
            from rich.text import Text

            self._console.rule(Text(title, style="bold"))
        else:
            self._line(f"\n== {title} ==")

    def text(self, line: str) -> None:
        """Print a paragraph."""
        self.blocks.append(("text", line))
        if self._console is not None:
            self._console.print(line, markup=False)
        else:
            self._line(line)

    def note(self, line: str) -> None:
        """Print a remark that is not part of the results (timings, skipped steps)."""
        if self._console is not None:
            self._console.print(line, markup=False, style="dim")
        else:
            self._line(line)

    def table(self, table: Table) -> None:
        """Print a table and keep it."""
        self.blocks.append(("table", table))
        rows = table.text_rows()
        numeric = table.numeric_columns()
        if self._console is not None:
            from rich.table import Table as RichTable
            from rich.text import Text

            # Text objects: brackets in "E[spend]" are not rich markup.
            rendered = RichTable(title=Text(table.title), title_justify="left")
            for i, (column, is_number) in enumerate(zip(table.columns, numeric, strict=True)):
                # Numbers are never cut; long headers and text wrap instead.
                widest = max([len(row[i]) for row in rows] + [1])
                rendered.add_column(
                    Text(column),
                    justify="right" if is_number else "left",
                    min_width=max(widest, min(len(column), 8)) if is_number else min(widest, 20),
                    overflow="fold",
                )
            for row in rows:
                rendered.add_row(*(Text(value) for value in row))
            if self._console.is_terminal:
                self._console.print(rendered)
                return
            # Piped or redirected: no screen to fit, so the table keeps its natural width and
            # never wraps a word (print's width argument cannot exceed the console's).
            unlimited = self._console.options.update_width(1 << 16)
            natural = self._console.measure(rendered, options=unlimited).maximum
            screen = self._console.width
            self._console.width = max(screen, natural)
            try:
                self._console.print(rendered)
            finally:
                self._console.width = screen
            return
        widths = [max([len(c)] + [len(r[i]) for r in rows]) for i, c in enumerate(table.columns)]

        def line(values: Sequence[str]) -> str:
            cells = (
                v.rjust(w) if is_number else v.ljust(w)
                for v, w, is_number in zip(values, widths, numeric, strict=True)
            )
            return "  ".join(cells).rstrip()

        self._line(table.title)
        self._line(line(table.columns))
        self._line("  ".join("-" * w for w in widths))
        for row in rows:
            self._line(line(row))

    def code(self, text: str) -> None:
        """Print a block of JSON."""
        self.blocks.append(("code", text))
        if self._console is not None:
            from rich.syntax import Syntax

            self._console.print(Syntax(text, "json", word_wrap=True))
        else:
            self._line(text)

    def figure(self, name: str, title: str, draw: Callable[[Any], object]) -> None:
        """Render a plot for ``--output`` (nothing is printed on the terminal).

        Args:
            name: File stem of the PNG.
            title: Caption.
            draw: Called with a fresh matplotlib ``Axes``; draws on it.
        """
        if not self.figures:
            return
        from matplotlib.figure import Figure as MplFigure

        # A bare Figure (no pyplot) needs no GUI backend and leaves no global state behind.
        canvas = MplFigure(figsize=(7.0, 4.2), layout="constrained")
        axes = canvas.subplots()
        draw(axes)
        buffer = io.BytesIO()
        canvas.savefig(buffer, format="png", dpi=110)
        self.blocks.append(("figure", Figure(name=name, title=title, png=buffer.getvalue())))

    def tables(self) -> list[Table]:
        """Every table printed so far, in order."""
        return [content for kind, content in self.blocks if kind == "table"]
