"""Segment rule sets as data, with first-match semantics and a linter.

A [`Segment`][relmark.rfm.segments.Segment] names a set of RFM cells, either as a box of inclusive
score ranges (``Segment("Champions", r=(5, 5), f=(4, 5), m=(4, 5))``; an omitted dimension matches
any score) or as explicit cells (``Segment.from_cells("Top", ["555", "554"])``). A
[`SegmentRules`][relmark.rfm.segments.SegmentRules] is an ordered tuple of segments plus a fallback
name: each customer gets the **first** segment whose cells contain its ``(r, f, m)`` scores, and
customers no rule covers get the fallback. Because the outcome of overlapping rules depends on
their order, [`SegmentRules.lint`][relmark.rfm.segments.SegmentRules.lint] enumerates every cell and
reports overlaps (with the winner), gaps and rules that never win.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from typing import Any

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray

from relmark._validation import is_int
from relmark.errors import InvalidInputError
from relmark.typing import BoolArray, IntArray

__all__ = ["Cell", "LintReport", "Overlap", "Segment", "SegmentRules"]

Cell = tuple[int, int, int]
"""An RFM cell: ``(recency_score, frequency_score, monetary_score)``."""

_DIMENSIONS = ("r", "f", "m")


def _to_range(value: Any) -> Any:
    # Lists and numpy pairs become tuples so the frozen record stays immutable; anything else is
    # left as given for the validator to reject with a message.
    if isinstance(value, list | np.ndarray):
        return tuple(value)
    return value


def _to_cells(value: Any) -> Any:
    if value is None or isinstance(value, str) or not isinstance(value, Iterable):
        return value
    return tuple(
        c if isinstance(c, str) or not isinstance(c, Iterable) else tuple(c) for c in value
    )


def _check_range(instance: Segment, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    ok = (
        isinstance(value, tuple)
        and len(value) == 2
        and all(is_int(v) for v in value)
        and 1 <= value[0] <= value[1]
    )
    if not ok:
        raise InvalidInputError(
            f"The {attribute.name!r} field of Segment {instance.name!r} must be an inclusive "
            f"score range (low, high) of whole numbers with 1 <= low <= high, or None for any "
            f"score. Got {value!r}."
        )


def _parse_cell(cell: Any, segment: str) -> Cell:
    parts: Sequence[Any]
    if isinstance(cell, str):
        parts = cell.split("-") if "-" in cell else list(cell)
        try:
            parts = [int(p) for p in parts]
        except ValueError:
            parts = []
    else:
        parts = tuple(cell) if isinstance(cell, Iterable) else ()
    if len(parts) != 3 or not all(is_int(p) and p >= 1 for p in parts):
        raise InvalidInputError(
            f"Cell {cell!r} of Segment {segment!r} must be three scores >= 1, given as a tuple "
            "(r, f, m), a string of three digits such as '545', or 'r-f-m' such as '10-4-5'."
        )
    return (int(parts[0]), int(parts[1]), int(parts[2]))


def _check_name(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(
            f"The {attribute.name!r} field of {type(instance).__name__} must be a non-empty "
            f"string. Got {value!r}."
        )


@attrs.frozen
class Segment:
    """A named set of RFM cells: a box of inclusive score ranges, or explicit cells.

    Attributes:
        name: Segment name, as it will appear in the ``segment`` column.
        r: Inclusive ``(low, high)`` recency-score range, or ``None`` for any score.
        f: Inclusive frequency-score range, or ``None`` for any score.
        m: Inclusive monetary-score range, or ``None`` for any score.
        cells: Explicit ``(r, f, m)`` cells instead of a box (then ``r``, ``f``, ``m`` must be
            ``None``); build with [`from_cells`][relmark.rfm.segments.Segment.from_cells].
        description: Free text for reports.

    Examples:
        >>> champions = Segment("Champions", r=(5, 5), f=(4, 5), m=(4, 5))
        >>> champions.matches([5, 5, 4], [4, 5, 5], [4, 4, 4]).tolist()
        [True, True, False]
    """

    name: str = attrs.field(validator=_check_name)
    r: tuple[int, int] | None = attrs.field(
        default=None, kw_only=True, converter=_to_range, validator=_check_range
    )
    f: tuple[int, int] | None = attrs.field(
        default=None, kw_only=True, converter=_to_range, validator=_check_range
    )
    m: tuple[int, int] | None = attrs.field(
        default=None, kw_only=True, converter=_to_range, validator=_check_range
    )
    cells: tuple[tuple[int, int, int], ...] | None = attrs.field(
        default=None, kw_only=True, converter=_to_cells
    )
    description: str = attrs.field(default="", kw_only=True)

    @cells.validator
    def _check_cells(self, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None:
            return
        if self.r is not None or self.f is not None or self.m is not None:
            raise InvalidInputError(
                f"Segment {self.name!r} must be either a box (r, f, m ranges) or explicit "
                f"{attribute.name!r}, not both."
            )
        if not isinstance(value, tuple) or not value:
            raise InvalidInputError(
                f"The {attribute.name!r} field of Segment {self.name!r} must be a non-empty tuple "
                f"of (r, f, m) cells. Got {value!r}."
            )
        for cell in value:
            if _parse_cell(cell, self.name) != cell:
                raise InvalidInputError(
                    f"Cell {cell!r} of Segment {self.name!r} must be a tuple of three ints; "
                    "use Segment.from_cells to parse strings."
                )

    @classmethod
    def from_cells(
        cls, name: str, cells: Iterable[str | Sequence[int]], *, description: str = ""
    ) -> Segment:
        """A segment made of explicit cells.

        Args:
            name: Segment name.
            cells: Cells as ``(r, f, m)`` tuples, three-digit strings (``"545"``) or
                ``"r-f-m"`` strings (``"10-4-5"``, for more than nine bins).
            description: Free text for reports.

        Raises:
            InvalidInputError: For a malformed cell.

        Examples:
            >>> Segment.from_cells("Top", ["555", (5, 5, 4)]).cells
            ((5, 5, 5), (5, 5, 4))
        """
        parsed = tuple(dict.fromkeys(_parse_cell(c, name) for c in cells))
        return cls(name, cells=parsed, description=description)

    def matches(self, r: ArrayLike, f: ArrayLike, m: ArrayLike) -> BoolArray:
        """Whether each ``(r, f, m)`` score triple lies in this segment."""
        scores = [np.asarray(v, dtype=np.int64) for v in (r, f, m)]
        if self.cells is not None:
            code = _cell_code(*scores)
            wanted = _cell_code(
                *(np.array(c, dtype=np.int64) for c in zip(*self.cells, strict=True))
            )
            return np.isin(code, wanted)
        out = np.ones(np.broadcast_shapes(*(s.shape for s in scores)), dtype=np.bool_)
        for bounds, values in zip((self.r, self.f, self.m), scores, strict=True):
            if bounds is not None:
                out &= (values >= bounds[0]) & (values <= bounds[1])
        return out

    def max_score(self) -> int:
        """The largest score any of this segment's conditions mentions."""
        if self.cells is not None:
            return max(max(c) for c in self.cells)
        return max((b[1] for b in (self.r, self.f, self.m) if b is not None), default=1)


def _cell_code(r: IntArray, f: IntArray, m: IntArray) -> IntArray:
    # Scores are small non-negative integers, so a base-2^20 code is collision-free.
    return (r * (1 << 20) + f) * (1 << 20) + m


@attrs.frozen(kw_only=True)
class Overlap:
    """One cell claimed by several rules.

    Attributes:
        cell: The ``(r, f, m)`` cell.
        segments: Every rule containing the cell, in rule order.
        winner: The rule that gets the cell under first-match semantics (``segments[0]``).
    """

    cell: tuple[int, int, int]
    segments: tuple[str, ...]
    winner: str


@attrs.frozen(kw_only=True)
class LintReport:
    """What [`SegmentRules.lint`][relmark.rfm.segments.SegmentRules.lint] found.

    Attributes:
        bins: Number of score levels per dimension the rules were checked against.
        overlaps: Cells claimed by more than one rule, in cell order.
        gaps: Cells no rule covers (their customers get the fallback), in cell order.
        shadowed: Rules that never win a cell, in rule order.
        out_of_range: Rules mentioning a score above ``bins``.
        cells_won: ``(segment, number of cells it wins)`` for every rule, in rule order.
    """

    bins: int
    overlaps: tuple[Overlap, ...]
    gaps: tuple[tuple[int, int, int], ...]
    shadowed: tuple[str, ...]
    out_of_range: tuple[str, ...]
    cells_won: tuple[tuple[str, int], ...]

    @property
    def is_partition(self) -> bool:
        """True when every cell belongs to exactly one rule (no overlaps, no gaps)."""
        return not self.overlaps and not self.gaps

    def __str__(self) -> str:
        """A short human-readable summary."""
        total = self.bins**3
        lines = [
            (
                f"{total} cells; {len(self.overlaps)} claimed by several rules, "
                f"{len(self.gaps)} claimed by none."
            ),
        ]
        if self.shadowed:
            lines.append(f"Rules that never win a cell: {', '.join(self.shadowed)}.")
        if self.out_of_range:
            lines.append(
                f"Rules mentioning scores above {self.bins}: {', '.join(self.out_of_range)}."
            )
        return "\n".join(lines)

    def columns(self) -> dict[str, list[Any]]:
        """Every overlap as a row: the cell, the rules claiming it and the winner.

        Returns:
            ``{"r", "f", "m", "claimed_by", "winner"}`` columns, one row per overlapping cell.
        """
        return {
            "r": [o.cell[0] for o in self.overlaps],
            "f": [o.cell[1] for o in self.overlaps],
            "m": [o.cell[2] for o in self.overlaps],
            "claimed_by": [", ".join(o.segments) for o in self.overlaps],
            "winner": [o.winner for o in self.overlaps],
        }

    def to_frame(self, backend: str | None = None) -> Any:
        """The overlaps as a data frame (see [`columns`][relmark.rfm.segments.LintReport.columns]).

        Args:
            backend: ``"pandas"``, ``"polars"`` or ``"pyarrow"``; by default the first of them
                that is installed.
        """
        from relmark._display import frame_backend
        from relmark._frames import to_native_frame

        data = {k: np.asarray(v, dtype=object if k in {"claimed_by", "winner"} else np.int64)
                for k, v in self.columns().items()}  # fmt: skip
        return to_native_frame(data, frame_backend(backend))

    def _repr_html_(self) -> str:
        """The summary and the overlapping cells as an HTML table (Jupyter)."""
        from relmark._display import html_table

        summary = str(self).splitlines()
        return html_table(self.columns(), title=summary[0], notes=summary[1:], max_rows=12)


def _to_segments(value: Iterable[Segment]) -> tuple[Segment, ...]:
    return tuple(value)


@attrs.frozen
class SegmentRules:
    """An ordered rule set: the first matching segment wins, the rest get ``fallback``.

    Attributes:
        segments: The rules, in priority order.
        fallback: Segment name for customers no rule covers.

    Examples:
        >>> rules = SegmentRules(
        ...     [Segment("Best", r=(3, 3), f=(3, 3)), Segment("Recent", r=(2, 3))],
        ...     fallback="Others",
        ... )
        >>> rules.assign([3, 3, 1], [3, 1, 1], [1, 1, 1]).tolist()
        ['Best', 'Recent', 'Others']
        >>> report = rules.lint(bins=3)
        >>> len(report.overlaps), len(report.gaps)
        (3, 9)
    """

    segments: tuple[Segment, ...] = attrs.field(converter=_to_segments)
    fallback: str = attrs.field(default="Others", kw_only=True, validator=_check_name)

    @segments.validator
    def _check_segments(self, attribute: attrs.Attribute[Any], value: tuple[Any, ...]) -> None:
        bad = [i for i, s in enumerate(value) if not isinstance(s, Segment)]
        if bad:
            raise InvalidInputError(
                f"The {attribute.name!r} field of SegmentRules must hold Segment objects; "
                f"position(s) {bad} hold {[type(value[i]).__name__ for i in bad]}."
            )
        names = [s.name for s in value]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise InvalidInputError(
                f"Segment names in SegmentRules must be unique; repeated: {duplicated}."
            )

    def __attrs_post_init__(self) -> None:
        """Check that the fallback name is not also a rule's name."""
        if any(s.name == self.fallback for s in self.segments):
            raise InvalidInputError(
                f"The 'fallback' field of SegmentRules ({self.fallback!r}) must differ from every "
                "segment name, or fallback customers could not be told apart."
            )

    @property
    def names(self) -> tuple[str, ...]:
        """Segment names in rule order, followed by the fallback."""
        return (*(s.name for s in self.segments), self.fallback)

    def assign_codes(self, r: ArrayLike, f: ArrayLike, m: ArrayLike) -> IntArray:
        """Index into [`names`][relmark.rfm.segments.SegmentRules.names] of each customer's segment.

        The fallback's index is ``len(segments)``.
        """
        r_, f_, m_ = (np.asarray(v, dtype=np.int64) for v in (r, f, m))
        codes = np.full(np.broadcast_shapes(r_.shape, f_.shape, m_.shape), len(self.segments))
        unassigned = np.ones(codes.shape, dtype=np.bool_)
        for index, segment in enumerate(self.segments):
            hit = unassigned & segment.matches(r_, f_, m_)
            codes[hit] = index
            unassigned &= ~hit
        return codes.astype(np.int64)

    def assign(self, r: ArrayLike, f: ArrayLike, m: ArrayLike) -> NDArray[np.str_]:
        """Each customer's segment name under first-match semantics (fallback when none match)."""
        return np.asarray(self.names, dtype=np.str_)[self.assign_codes(r, f, m)]

    def lint(self, bins: int = 5) -> LintReport:
        """Check every one of the ``bins``³ cells against the rules.

        Args:
            bins: Number of score levels per dimension (scores ``1..bins``).

        Returns:
            Overlapping cells (with every claimant and the first-match winner), uncovered cells,
            rules that never win a cell, and rules mentioning scores above ``bins``.

        Raises:
            InvalidInputError: When ``bins`` is not a whole number >= 1.
        """
        if not is_int(bins) or bins < 1:
            raise InvalidInputError(
                f"The 'bins' parameter of SegmentRules.lint must be an int >= 1. Got {bins!r}."
            )
        cells = np.array(list(itertools.product(range(1, bins + 1), repeat=3)), dtype=np.int64)
        r, f, m = cells.T
        claims = (
            np.stack([s.matches(r, f, m) for s in self.segments], axis=1)
            if self.segments
            else np.zeros((cells.shape[0], 0), dtype=np.bool_)
        )
        counts = claims.sum(axis=1)
        overlaps = tuple(
            Overlap(
                cell=(int(c[0]), int(c[1]), int(c[2])),
                segments=tuple(self.segments[j].name for j in np.flatnonzero(claim)),
                winner=self.segments[int(np.argmax(claim))].name,
            )
            for c, claim, n in zip(cells, claims, counts, strict=True)
            if n > 1
        )
        gaps = tuple((int(c[0]), int(c[1]), int(c[2])) for c in cells[counts == 0])
        winners = np.where(counts > 0, np.argmax(claims, axis=1) if self.segments else 0, -1)
        won = np.bincount(winners[winners >= 0], minlength=len(self.segments))
        return LintReport(
            bins=int(bins),
            overlaps=overlaps,
            gaps=gaps,
            shadowed=tuple(s.name for s, w in zip(self.segments, won, strict=True) if w == 0),
            out_of_range=tuple(s.name for s in self.segments if s.max_score() > bins),
            cells_won=tuple((s.name, int(w)) for s, w in zip(self.segments, won, strict=True)),
        )
