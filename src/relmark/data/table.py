"""Columnar score results keyed by customer id.

A [`ScoreTable`][relmark.data.table.ScoreTable] is what every scorer returns: one row per
customer, an ordered set of named numpy columns, and a
[`ColumnInfo`][relmark.data.table.ColumnInfo] record per column saying what the column holds,
in which unit and over which range. Tables from several scorers are combined with
[`ScoreTable.join`][relmark.data.table.ScoreTable.join], which aligns rows on customer id.

At import time this module needs nothing from relmark above ``errors`` and ``typing``, so every
scorer package can build tables without an import cycle; ``to_frame`` loads the data layer's frame
builder (the one ``CustomerSummary.to_frame`` uses) when called.
"""

from __future__ import annotations

import enum
import types
from collections.abc import Iterator, Mapping
from typing import Any

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray

from relmark.errors import InvalidInputError

__all__ = ["ColumnInfo", "ColumnKind", "ScoreTable"]

_MAX_LISTED = 5
_ID_COLUMN = "customer_id"


class ColumnKind(enum.Enum):
    """The kind of values a score column holds (and the numpy dtype it is stored as)."""

    INTEGER = "integer"  # int64
    FLOAT = "float"  # float64
    BOOLEAN = "boolean"  # bool
    STRING = "string"  # numpy unicode


_KIND_DTYPE_CHARS: dict[ColumnKind, str] = {
    ColumnKind.INTEGER: "iu",
    ColumnKind.FLOAT: "f",
    ColumnKind.BOOLEAN: "b",
    ColumnKind.STRING: "U",
}


def _check_range(
    instance: ColumnInfo, attribute: attrs.Attribute[Any], value: tuple[float, float] | None
) -> None:
    del instance
    if value is not None and not value[0] <= value[1]:
        raise InvalidInputError(
            f"The {attribute.name!r} field of ColumnInfo must be (low, high) with low <= high. "
            f"Got {value!r}."
        )


@attrs.frozen(kw_only=True)
class ColumnInfo:
    """What a score column means.

    Attributes:
        description: One sentence a reader of the table understands without the code.
        kind: The kind of values (integer, float, boolean, string).
        unit: Unit of the values (``"weeks"``, ``"purchases"``, ``"currency"``), or ``""`` when
            unitless.
        range: Inclusive ``(low, high)`` bounds of the values, or ``None`` when unbounded or
            categorical.
    """

    description: str
    kind: ColumnKind
    unit: str = ""
    range: tuple[float, float] | None = attrs.field(default=None, validator=_check_range)


def _table_eq(a: Mapping[str, NDArray[Any]], b: Mapping[str, NDArray[Any]]) -> bool:
    if list(a) != list(b):
        return False
    return all(
        a[k].dtype.kind == b[k].dtype.kind
        and bool(np.array_equal(a[k], b[k], equal_nan=a[k].dtype.kind == "f"))
        for k in a
    )


def _ids_eq(a: NDArray[Any], b: NDArray[Any]) -> bool:
    return a.shape == b.shape and bool(np.array_equal(a, b))


def _coerce_column(
    name: str, values: ArrayLike, kind: ColumnKind, n: int, *, copy: bool
) -> NDArray[Any]:
    array = np.asarray(values)
    if array.ndim != 1 or array.size != n:
        raise InvalidInputError(
            f"Score column {name!r} must be one-dimensional with {n} rows (one per customer); "
            f"got shape {array.shape}."
        )
    if array.size and array.dtype.kind not in _KIND_DTYPE_CHARS[kind]:
        raise InvalidInputError(
            f"Score column {name!r} is declared {kind.value} but holds dtype {array.dtype}."
        )
    target: Any = {
        ColumnKind.INTEGER: np.int64,
        ColumnKind.FLOAT: np.float64,
        ColumnKind.BOOLEAN: np.bool_,
        ColumnKind.STRING: np.str_,
    }[kind]
    # copy=None: only when the dtype must change (or the input is not an array).
    out = np.array(array, dtype=target, copy=True if copy else None)
    out.flags.writeable = False
    return out


@attrs.frozen(kw_only=True, eq=False)
class ScoreTable:
    """Per-customer scores: customer ids, ordered named columns and their metadata.

    Build one with [`from_columns`][relmark.data.table.ScoreTable.from_columns]. Columns are
    read-only numpy arrays in customer order; ``table["segment"]`` returns one, ``len(table)`` is
    the number of customers and ``table.columns`` the column names in order.

    Attributes:
        customer_id: Customer identifiers, unique, in row order.
        data: Column name → values (insertion order is the column order); read-only.
        info: Column name → [`ColumnInfo`][relmark.data.table.ColumnInfo], for every column;
            read-only.
    """

    customer_id: NDArray[Any]
    data: Mapping[str, NDArray[Any]]
    info: Mapping[str, ColumnInfo]

    @classmethod
    def from_columns(
        cls,
        customer_id: ArrayLike,
        columns: Mapping[str, ArrayLike],
        info: Mapping[str, ColumnInfo],
        *,
        copy: bool = True,
    ) -> ScoreTable:
        """Validate columns and their metadata and build a table.

        Args:
            customer_id: One unique identifier per row.
            columns: Column name → one value per row; the mapping's order is the column order.
            info: Column name → metadata; must describe exactly the given columns.
            copy: ``True`` (the default): the table holds copies, so later changes to the inputs
                do not leak in. ``False``: the table takes the given numpy arrays over as they
                are when their dtype is already the stored one (``int64``, ``float64``, ``bool``,
                unicode), without a copy, and marks them read-only in place; other inputs are
                still converted. Pass ``False`` only for arrays nothing else will write to
                (freshly computed results, or arrays that are read-only already), never for a
                view of an array someone keeps writing.

        Returns:
            The table; its arrays (and ``customer_id``) are read-only.

        Raises:
            InvalidInputError: On duplicate ids, a column of the wrong length or dtype, a column
                named ``customer_id``, or metadata missing for (or given for an absent) column.

        Examples:
            >>> t = ScoreTable.from_columns(
            ...     ["a", "b"],
            ...     {"score": [1, 2]},
            ...     {"score": ColumnInfo(description="A score.", kind=ColumnKind.INTEGER)},
            ... )
            >>> len(t), t.columns, t["score"].tolist()
            (2, ('score',), [1, 2])

            Taking over a freshly computed array without a copy:

            >>> score = np.array([0.5, 0.25])
            >>> t = ScoreTable.from_columns(
            ...     ["a", "b"],
            ...     {"score": score},
            ...     {"score": ColumnInfo(description="A score.", kind=ColumnKind.FLOAT)},
            ...     copy=False,
            ... )
            >>> t["score"] is score, score.flags.writeable
            (True, False)
        """
        ids = np.array(customer_id, copy=True if copy else None)
        if ids.ndim != 1:
            raise InvalidInputError(
                f"ScoreTable 'customer_id' must be one-dimensional; got shape {ids.shape}."
            )
        if ids.size:
            uniq, counts = np.unique(ids, return_counts=True)
            if (counts > 1).any():
                raise InvalidInputError(
                    "ScoreTable 'customer_id' must be unique; duplicated: "
                    f"{uniq[counts > 1][:_MAX_LISTED].tolist()}."
                )
        ids.flags.writeable = False
        if _ID_COLUMN in columns:
            raise InvalidInputError(
                f"A score column may not be named {_ID_COLUMN!r}; that name is reserved for the "
                "customer identifiers."
            )
        missing = [name for name in columns if name not in info]
        extra = [name for name in info if name not in columns]
        if missing or extra:
            raise InvalidInputError(
                "ScoreTable 'info' must describe exactly the given columns; "
                f"missing metadata for {missing}, metadata for absent columns {extra}."
            )
        data = {
            name: _coerce_column(name, values, info[name].kind, ids.size, copy=copy)
            for name, values in columns.items()
        }
        return cls(
            customer_id=ids,
            data=types.MappingProxyType(data),
            info=types.MappingProxyType({name: info[name] for name in columns}),
        )

    def __len__(self) -> int:
        """Number of customers (rows)."""
        return int(self.customer_id.size)

    def __getitem__(self, name: str) -> NDArray[Any]:
        """The values of column ``name``, in row order (read-only)."""
        try:
            return self.data[name]
        except KeyError:
            raise KeyError(
                f"No score column {name!r}; the table has {list(self.columns)}."
            ) from None

    def __contains__(self, name: object) -> bool:
        """Whether the table has a column called ``name``."""
        return name in self.data

    def __iter__(self) -> Iterator[str]:
        """Iterate over the column names."""
        return iter(self.data)

    def __eq__(self, other: object) -> bool:
        """Same ids in the same order, same columns, same values and metadata."""
        if not isinstance(other, ScoreTable):
            return NotImplemented
        return (
            _ids_eq(self.customer_id, other.customer_id)
            and _table_eq(self.data, other.data)
            and dict(self.info) == dict(other.info)
        )

    __hash__ = None  # type: ignore[assignment]  # mutable-looking container of arrays: unhashable

    @property
    def columns(self) -> tuple[str, ...]:
        """Column names, in order (without ``customer_id``)."""
        return tuple(self.data)

    def take(self, index: ArrayLike) -> ScoreTable:
        """Return the rows selected by an integer index or boolean mask, in that order."""
        idx = np.asarray(index)
        # Indexing with an array copies: the table takes the selections over as they are.
        return ScoreTable.from_columns(
            self.customer_id[idx],
            {k: v[idx] for k, v in self.data.items()},
            self.info,
            copy=False,
        )

    def align_to(self, customer_id: ArrayLike) -> ScoreTable:
        """Reorder the rows to follow ``customer_id``, which must hold exactly this table's ids.

        Raises:
            InvalidInputError: Listing ids present on one side only.
        """
        target = np.asarray(customer_id)
        return self.take(_alignment(target, self.customer_id, "the requested ids", "this table"))

    def join(self, *others: ScoreTable) -> ScoreTable:
        """Put the columns of ``others`` beside this table's, rows aligned on customer id.

        The result keeps this table's row order. Every table must hold exactly the same set of
        customer ids, and column names must not repeat across tables. Called on the class,
        ``ScoreTable.join(a, b, c)`` joins three tables in the order of ``a``.

        Raises:
            InvalidInputError: Naming the ids found in one table but not the other, or the
                repeated column names.
        """
        tables = (self, *others)
        first = self
        data: dict[str, NDArray[Any]] = {}
        info: dict[str, ColumnInfo] = {}
        for position, table in enumerate(tables):
            clash = [name for name in table.columns if name in data]
            if clash:
                raise InvalidInputError(
                    f"Cannot join score tables: column name(s) {clash} of table {position} "
                    "already appear in an earlier table; rename or drop them first."
                )
            index = _alignment(first.customer_id, table.customer_id, "table 0", f"table {position}")
            for name in table.columns:
                data[name] = table.data[name][index]
                info[name] = table.info[name]
        # The aligned columns are fresh selections; the ids are the first table's, so copied.
        return ScoreTable.from_columns(first.customer_id.copy(), data, info, copy=False)

    def _repr_html_(self) -> str:
        """The first and last customers as an HTML table (Jupyter)."""
        from relmark._display import html_table

        return html_table(
            {_ID_COLUMN: self.customer_id, **self.data},
            title=f"ScoreTable: {len(self)} customers × {len(self.data)} columns",
        )

    def to_frame(self, backend: str | None = None) -> Any:
        """Convert to a data frame with ``customer_id`` as the first column.

        Args:
            backend: ``"pandas"``, ``"polars"`` or ``"pyarrow"`` (the library must be
                installed); by default the first of them that is installed, so a polars-only
                environment gets polars.

        Returns:
            A ``pandas.DataFrame``, ``polars.DataFrame`` or ``pyarrow.Table``.

        Raises:
            InvalidInputError: For another backend name.
            MissingDependencyError: When the backend library is not installed.
        """
        from relmark._display import frame_backend
        from relmark._frames import to_native_frame

        return to_native_frame({_ID_COLUMN: self.customer_id, **self.data}, frame_backend(backend))


def _alignment(
    target: NDArray[Any], source: NDArray[Any], target_name: str, source_name: str
) -> NDArray[np.int64]:
    """Index into ``source`` that puts its ids in ``target``'s order (both unique)."""
    if target.size == source.size:
        t_order = np.argsort(target, kind="stable")
        s_order = np.argsort(source, kind="stable")
        if np.array_equal(target[t_order], source[s_order]):
            index = np.empty(target.size, dtype=np.int64)
            index[t_order] = s_order
            return index
    only_target = np.setdiff1d(target, source)
    only_source = np.setdiff1d(source, target)
    raise InvalidInputError(
        f"Score tables must hold the same customer ids to be joined: {only_target.size} id(s) "
        f"only in {target_name} (first: {only_target[:_MAX_LISTED].tolist()}), "
        f"{only_source.size} only in {source_name} (first: {only_source[:_MAX_LISTED].tolist()})."
    )
