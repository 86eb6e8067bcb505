"""The one place where data frames enter and leave relmark (through narwhals); layer 0.

pandas, polars and pyarrow are optional: nothing here imports them at module level, and the
readers/writers check for them with [`require`][relmark.errors.require].
"""

from __future__ import annotations

import codecs
import importlib.util
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from relmark._validation import check_choice, offending_rows
from relmark.errors import InvalidInputError, MissingDependencyError, require

__all__ = [
    "BACKENDS",
    "check_delimiter",
    "check_encoding",
    "extract_columns",
    "read_header",
    "read_table",
    "to_native_frame",
]

BACKENDS: dict[str, str] = {"pandas": "pandas", "polars": "polars", "pyarrow": "arrow"}
"""Frame backends relmark can produce, mapped to the relmark extra that installs each."""

_Backend = Literal["pandas", "polars", "pyarrow"]
_NARWHALS_BACKENDS: dict[str, _Backend] = {
    "pandas": "pandas",
    "polars": "polars",
    "pyarrow": "pyarrow",
}


_INTEGER_ID = r"^(?:0|-?[1-9][0-9]*)$"
"""Ids written exactly as an integer is printed: no sign but minus, no leading zeros, no spaces."""


def _column_from_series(
    name: str,
    series: Any,
    *,
    text_as_arrow: bool,
    convert_to: str | None,
    allow_nulls: bool = False,
) -> tuple[Any, str | None]:
    import narwhals as nw

    arrow = series.implementation is nw.Implementation.PYARROW
    # A pyarrow column knows its null count: no mask (and no pyarrow-to-numpy conversion,
    # whose first use imports pandas) unless it has nulls.
    nulls = (
        np.zeros(len(series), dtype=np.bool_)
        if arrow and series.to_native().null_count == 0
        else series.is_null().to_numpy()
    )
    if nulls.any() and not allow_nulls:
        raise InvalidInputError(
            f"Column {name!r} has missing values (null) at {offending_rows(nulls)}.",
            column=name,
            rows=np.flatnonzero(nulls),
        )
    dtype = series.dtype
    zone: str | None = None
    if isinstance(dtype, nw.Datetime) and dtype.time_zone is not None:
        zone = str(dtype.time_zone)
        if convert_to is not None and convert_to != zone:
            series, zone = series.dt.convert_time_zone(convert_to), convert_to
        series = series.dt.replace_time_zone(None)
    if text_as_arrow and dtype == nw.String and importlib.util.find_spec("pyarrow") is not None:
        # Text stays in Arrow memory for the C parsers (no Python string per row).
        return series.to_arrow(), zone
    fixed = _arrow_fixed_width(series.to_native()) if arrow else None
    if fixed is not None:
        return fixed, zone
    return np.asarray(series.to_numpy()), zone


def _arrow_fixed_width(column: Any) -> NDArray[Any] | None:
    """A pyarrow column of numbers or naive times without nulls as a new numpy array, or ``None``.

    The values are copied straight out of the chunks' data buffers: the same array as
    ``column.to_numpy()`` (integers, floats, ``datetime64``/``timedelta64`` in the column's
    unit), without the pandas import pyarrow's conversion makes on first use.
    """
    import pyarrow as pa

    kind = column.type
    if column.null_count:
        return None
    if pa.types.is_integer(kind):
        dtype = np.dtype(f"{'i' if pa.types.is_signed_integer(kind) else 'u'}{kind.bit_width // 8}")
    elif pa.types.is_floating(kind) and kind.bit_width in (32, 64):
        dtype = np.dtype(f"f{kind.bit_width // 8}")
    elif pa.types.is_timestamp(kind) and kind.tz is None:
        dtype = np.dtype(f"datetime64[{kind.unit}]")
    elif pa.types.is_duration(kind):
        dtype = np.dtype(f"timedelta64[{kind.unit}]")
    else:
        return None
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    parts = [
        np.frombuffer(chunk.buffers()[1], dtype=dtype, count=chunk.offset + len(chunk))[
            chunk.offset :
        ]
        for chunk in chunks
        if len(chunk)
    ]
    return np.concatenate(parts) if parts else np.empty(0, dtype=dtype)


def _as_series(value: Any) -> Any:
    import narwhals as nw

    if isinstance(value, np.ndarray | list | tuple):
        return None
    wrapped = nw.from_native(value, series_only=True, pass_through=True)
    return wrapped if isinstance(wrapped, nw.Series) else None


def eager_frame(source: Any) -> Any:
    """A polars ``LazyFrame`` collected, a pyarrow ``RecordBatch`` as a ``Table``; else ``source``.

    Both are frames users hold: a lazy query result, a batch from a stream or a Flight call.
    """
    kind, module = type(source).__name__, type(source).__module__
    if kind == "LazyFrame" and module.startswith("polars"):
        return source.collect()
    if kind == "RecordBatch" and module.startswith("pyarrow"):
        import pyarrow as pa

        return pa.Table.from_batches([source])
    return source


def extract_columns(
    source: Any,
    columns: Mapping[str, str],
    *,
    text_as_arrow: Collection[str] = (),
    convert_to: str | None = None,
    nullable: Collection[str] = (),
    optional: Collection[str] = (),
) -> dict[str, tuple[Any, str | None]]:
    """Pull the named columns out of a frame or a mapping as numpy arrays.

    Args:
        source: A pandas or polars DataFrame, a pyarrow Table, or a mapping of column name to
            array-like (numpy array, list, pandas/polars Series).
        columns: Role (``"customer"``, ``"time"``, ``"amount"``) mapped to the column name.
        text_as_arrow: Roles whose text columns come back as pyarrow arrays rather than numpy
            object arrays (when pyarrow is installed), for parsing in C.
        convert_to: A valid IANA zone name to which zoned datetime columns are converted (their
            values are then wall-clock times in it).
        nullable: Roles whose columns may hold nulls (``None``/``NaN``/``NaT`` in the result).
        optional: Roles left out of the result when the source has no such column.

    Returns:
        Role mapped to ``(values, zone)``; ``zone`` is the time zone of a zoned datetime column,
        whose values are then its wall-clock times.

    Raises:
        InvalidInputError: When a column is missing, has nulls, or the source is not a frame.
    """
    import narwhals as nw

    if isinstance(source, Mapping):
        available = [str(k) for k in source]
        getter = source.__getitem__
    else:
        try:
            frame = nw.from_native(eager_frame(source), eager_only=True)
        except TypeError:
            raise InvalidInputError(
                "The 'frame' parameter must be a pandas or polars DataFrame, a pyarrow Table or a "
                f"mapping of column name to array. Got {type(source).__name__}."
            ) from None
        available = list(frame.columns)
        getter = frame.get_column
    _require_columns([c for r, c in columns.items() if r not in optional], available)
    result: dict[str, tuple[Any, str | None]] = {}
    for role, name in columns.items():
        if role in optional and name not in available:
            continue
        raw = getter(name)
        series = raw if isinstance(raw, nw.Series) else _as_series(raw)
        if series is not None:
            result[role] = _column_from_series(
                name,
                series,
                text_as_arrow=role in text_as_arrow,
                convert_to=convert_to,
                allow_nulls=role in nullable,
            )
        else:
            values = np.asarray(raw)
            if values.ndim != 1:
                raise InvalidInputError(
                    f"Column {name!r} must be one-dimensional (one value per row); got shape "
                    f"{values.shape}."
                )
            result[role] = (values, None)
    return result


def _require_columns(wanted: list[str], available: list[str]) -> None:
    missing = [c for c in wanted if c not in available]
    if missing:
        raise InvalidInputError(
            f"Column(s) {missing} not found; the data has columns {available}.",
            column=missing[0],
            value=missing,
            expected=f"one of the columns {available}",
        )


def to_native_frame(data: Mapping[str, NDArray[Any]], backend: str) -> Any:
    """Build a pandas / polars / pyarrow frame from equal-length numpy columns.

    Raises:
        InvalidInputError: For an unknown backend.
        MissingDependencyError: When the backend's library is not installed.
    """
    import narwhals as nw

    backend = check_choice(backend, BACKENDS, name="backend")
    require(backend, BACKENDS[backend])
    return nw.from_dict(dict(data), backend=_NARWHALS_BACKENDS[backend]).to_native()


def check_delimiter(delimiter: object) -> str:
    """Return ``delimiter`` if it can separate CSV fields: one ASCII character, not a line break.

    Raises:
        InvalidInputError: Otherwise, naming the value.
    """
    if (
        isinstance(delimiter, str)
        and len(delimiter) == 1
        and delimiter.isascii()
        and delimiter not in '\r\n"' + "\x00"
    ):
        return delimiter
    raise InvalidInputError(
        "The CSV delimiter (--delimiter, or delimiter=) must be exactly one ASCII character "
        f"other than a quote or a line break, such as ',' or ';' or a tab. Got {delimiter!r}.",
        field="delimiter",
        value=delimiter,
        expected="exactly one ASCII character other than a quote or a line break, such as ',' "
        "or ';' or a tab",
    )


def check_encoding(encoding: object) -> str:
    """The canonical name of a text encoding (``"latin-1"`` → ``"iso8859-1"``).

    Raises:
        InvalidInputError: For a name Python does not know.
    """
    try:
        if isinstance(encoding, str):
            return codecs.lookup(encoding).name
    except LookupError:
        pass
    raise InvalidInputError(
        "The CSV encoding (--encoding, or encoding=) must be a text encoding Python knows, such "
        f"as 'utf-8', 'latin-1' or 'cp1252'. Got {encoding!r}.",
        field="encoding",
        value=encoding,
        expected="a text encoding Python knows, such as 'utf-8', 'latin-1' or 'cp1252'",
    )


_NOT_UTF8_HINT = (
    "Give its encoding (encoding='latin-1' in Python, --encoding latin-1 on the command line) "
    "or convert it to UTF-8 first."
)


@contextmanager
def _reading(path: str | Path, file_format: str) -> Iterator[None]:
    """Turn a reader's failure on a malformed file into an error naming the file and the cause."""
    try:
        yield
    except InvalidInputError:
        raise
    except UnicodeDecodeError as exc:
        raise InvalidInputError(
            f"Cannot read {path}: it is not {exc.encoding.upper()} text (byte "
            f"{exc.object[exc.start : exc.start + 1]!r} at position {exc.start}). {_NOT_UTF8_HINT}"
        ) from None
    except MemoryError:
        raise InvalidInputError(
            f"Cannot read {path}: not enough memory for the columns it needs."
        ) from None
    except Exception as exc:  # a reader's own error types: the message is all we can pass on
        if not _is_reader_error(exc):
            raise
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        hint = ""
        if "utf8" in reason.lower().replace("-", ""):
            hint = f" The file is not UTF-8 text. {_NOT_UTF8_HINT}"
        elif "straddl" in reason or "block" in reason:
            hint = " A line or field is longer than the reader's 1 MB block; check the file."
        raise InvalidInputError(
            f"Cannot read {path} as {file_format.upper()}: {reason}.{hint}"
        ) from None


def _is_reader_error(exc: Exception) -> bool:
    """Whether ``exc`` is how pyarrow or polars report a malformed file (or an OS failure)."""
    module = type(exc).__module__ or ""
    return (
        isinstance(exc, OSError | ValueError | KeyError | EOFError)
        or module.startswith(("pyarrow", "polars"))
    ) and not isinstance(exc, FileNotFoundError | PermissionError | IsADirectoryError)


def _with_polars(encoding: str) -> bool:
    """Whether polars reads (pyarrow is absent); polars reads UTF-8 only."""
    if importlib.util.find_spec("pyarrow") is not None or not importlib.util.find_spec("polars"):
        return False
    if encoding != "utf-8":
        raise MissingDependencyError(
            f"Reading a CSV file in {encoding} needs pyarrow (polars reads UTF-8 only). Install "
            "it with: pip install 'relmark[cli]'"
        )
    return True


def read_header(
    path: str | Path, *, file_format: str, delimiter: str = ",", encoding: str = "utf-8"
) -> list[str]:
    """The column names of a CSV or Parquet file, without reading its data.

    Raises:
        MissingDependencyError: When neither pyarrow nor polars is installed.
        InvalidInputError: For a file that is not valid CSV (in ``encoding``) or Parquet, an
            empty file, a bad ``delimiter`` or an unknown ``encoding``.
        OSError: When the file cannot be opened.
    """
    if file_format != "parquet":
        check_delimiter(delimiter)
        encoding = check_encoding(encoding)
    with _reading(path, file_format):
        if _with_polars(encoding if file_format != "parquet" else "utf-8"):
            import polars as pl

            if file_format == "parquet":
                return list(pl.read_parquet_schema(path))
            return list(pl.read_csv(path, separator=delimiter, n_rows=0).columns)
        require("pyarrow", "arrow")
        if file_format == "parquet":
            import pyarrow.parquet as pq

            return list(pq.read_schema(path).names)
        from pyarrow import csv

        # A streaming reader parses only the first block, enough for the column names.
        with csv.open_csv(
            path,
            read_options=csv.ReadOptions(encoding=encoding),
            parse_options=csv.ParseOptions(delimiter=delimiter),
        ) as head:
            return list(head.schema.names)


def read_table(
    path: str | Path,
    columns: list[str],
    *,
    file_format: str,
    as_string: list[str],
    delimiter: str = ",",
    ids: str | None = None,
    encoding: str = "utf-8",
) -> Any:
    """Read ``columns`` of a CSV or Parquet file with pyarrow (or polars when pyarrow is absent).

    Args:
        path: File path.
        columns: Columns to read.
        file_format: ``"csv"`` or ``"parquet"``.
        as_string: CSV columns to read as text instead of inferring a type.
        delimiter: CSV field separator.
        ids: A CSV column of customer ids (not in ``as_string``): read as text, then as 64-bit
            integers only when every id is written exactly as an integer prints (``42``, not
            ``042``, ``+42`` or ``42.0``) and fits, so that no two distinct ids ever merge
            (type inference would turn ids beyond 64 bits into floats, and one ``1.0`` would
            turn every id into a float equal to ``1``).
        encoding: Text encoding of a CSV file (``"utf-8"``, ``"latin-1"``, ...); pyarrow
            decodes other encodings than UTF-8, polars cannot.

    Raises:
        MissingDependencyError: When neither pyarrow nor polars is installed.
        InvalidInputError: When the file lacks one of ``columns`` (checked against its header
            or schema before reading the data), or is not valid CSV (UTF-8) or Parquet.
        OSError: When the file cannot be opened.
    """
    available = read_header(path, file_format=file_format, delimiter=delimiter, encoding=encoding)
    _require_columns(columns, available)
    text = [*as_string, ids] if ids is not None and file_format != "parquet" else as_string
    with _reading(path, file_format):
        if _with_polars(check_encoding(encoding) if file_format != "parquet" else "utf-8"):
            return _read_with_polars(path, columns, file_format, text, delimiter, ids)
        if file_format == "parquet":
            import pyarrow.parquet as pq

            # One file: ParquetFile reads it without pq.read_table's dataset layer, whose import
            # loads pandas (0.2 s of a command-line run).
            with pq.ParquetFile(path) as parquet:
                return parquet.read(columns=columns)
        import pyarrow as pa
        from pyarrow import csv

        table = csv.read_csv(
            path,
            read_options=csv.ReadOptions(encoding=check_encoding(encoding)),
            parse_options=csv.ParseOptions(delimiter=delimiter),
            convert_options=csv.ConvertOptions(
                include_columns=columns,
                column_types=dict.fromkeys(text, pa.string()),
            ),
        )
        if ids is None or ids in as_string:
            return table
        return table.set_column(
            table.column_names.index(ids), ids, _integer_ids_or_text(table.column(ids))
        )


def _integer_ids_or_text(text: Any) -> Any:
    """A pyarrow text column of ids as int64 when every id is a plain integer that fits."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if text.null_count or not pc.all(pc.match_substring_regex(text, _INTEGER_ID)).as_py():
        return text
    try:
        return pc.cast(text, pa.int64())
    except pa.ArrowInvalid:  # beyond 64 bits: the text keeps every id distinct
        return text


def _read_with_polars(
    path: str | Path,
    columns: list[str],
    file_format: str,
    as_string: list[str],
    delimiter: str,
    ids: str | None,
) -> Any:
    import polars as pl

    if file_format == "parquet":
        return pl.read_parquet(path, columns=columns)
    frame = pl.read_csv(
        path,
        columns=columns,
        separator=delimiter,
        schema_overrides=dict.fromkeys(as_string, pl.String),
    )
    if ids is None or ids not in as_string or frame.height == 0:
        return frame
    column = frame.get_column(ids)
    if column.null_count() or not column.str.contains(_INTEGER_ID).all():
        return frame
    converted = column.cast(pl.Int64, strict=False)
    if converted.null_count():
        return frame
    return frame.with_columns(converted)
