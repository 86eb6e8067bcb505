"""The one place where data frames enter and leave relmark (through narwhals).

pandas, polars and pyarrow are optional: nothing here imports them at module level, and the
readers/writers check for them with [`require`][relmark.errors.require].
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from relmark.data._validation import offending_rows
from relmark.errors import InvalidInputError, require

__all__ = ["BACKENDS", "extract_columns", "read_table", "to_native_frame"]

BACKENDS: dict[str, str] = {"pandas": "pandas", "polars": "polars", "pyarrow": "arrow"}
"""Frame backends relmark can produce, mapped to the relmark extra that installs each."""

_Backend = Literal["pandas", "polars", "pyarrow"]
_NARWHALS_BACKENDS: dict[str, _Backend] = {
    "pandas": "pandas",
    "polars": "polars",
    "pyarrow": "pyarrow",
}


def _column_from_series(name: str, series: Any) -> tuple[NDArray[Any], str | None]:
    import narwhals as nw

    nulls = series.is_null().to_numpy()
    if nulls.any():
        raise InvalidInputError(
            f"Column {name!r} has missing values (null) at {offending_rows(nulls)}."
        )
    dtype = series.dtype
    zone: str | None = None
    if isinstance(dtype, nw.Datetime) and dtype.time_zone is not None:
        zone = str(dtype.time_zone)
        series = series.dt.replace_time_zone(None)
    return np.asarray(series.to_numpy()), zone


def _as_series(value: Any) -> Any:
    import narwhals as nw

    if isinstance(value, np.ndarray | list | tuple):
        return None
    wrapped = nw.from_native(value, series_only=True, pass_through=True)
    return wrapped if isinstance(wrapped, nw.Series) else None


def extract_columns(
    source: Any, columns: Mapping[str, str]
) -> dict[str, tuple[NDArray[Any], str | None]]:
    """Pull the named columns out of a frame or a mapping as numpy arrays.

    Args:
        source: A pandas or polars DataFrame, a pyarrow Table, or a mapping of column name to
            array-like (numpy array, list, pandas/polars Series).
        columns: Role (``"customer"``, ``"time"``, ``"amount"``) mapped to the column name.

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
            frame = nw.from_native(source, eager_only=True)
        except TypeError:
            raise InvalidInputError(
                "The 'frame' parameter must be a pandas or polars DataFrame, a pyarrow Table or a "
                f"mapping of column name to array. Got {type(source).__name__}."
            ) from None
        available = list(frame.columns)
        getter = frame.get_column
    _require_columns(list(columns.values()), available)
    result: dict[str, tuple[NDArray[Any], str | None]] = {}
    for role, name in columns.items():
        raw = getter(name)
        series = raw if isinstance(raw, nw.Series) else _as_series(raw)
        if series is not None:
            result[role] = _column_from_series(name, series)
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
        raise InvalidInputError(f"Column(s) {missing} not found; the data has columns {available}.")


def to_native_frame(data: Mapping[str, NDArray[Any]], backend: str) -> Any:
    """Build a pandas / polars / pyarrow frame from equal-length numpy columns.

    Raises:
        InvalidInputError: For an unknown backend.
        MissingDependencyError: When the backend's library is not installed.
    """
    import narwhals as nw

    if backend not in BACKENDS:
        raise InvalidInputError(
            f"The 'backend' parameter must be one of {sorted(BACKENDS)}. Got {backend!r}."
        )
    require(backend, BACKENDS[backend])
    return nw.from_dict(dict(data), backend=_NARWHALS_BACKENDS[backend]).to_native()


def read_table(
    path: str | Path,
    columns: list[str],
    *,
    file_format: str,
    as_string: list[str],
    delimiter: str = ",",
) -> Any:
    """Read ``columns`` of a CSV or Parquet file with pyarrow (or polars when pyarrow is absent).

    Args:
        path: File path.
        columns: Columns to read.
        file_format: ``"csv"`` or ``"parquet"``.
        as_string: CSV columns to read as text instead of inferring a type.
        delimiter: CSV field separator.

    Raises:
        MissingDependencyError: When neither pyarrow nor polars is installed.
        InvalidInputError: When the file lacks one of ``columns`` (checked against its header
            or schema before reading the data).
    """
    import importlib.util

    if importlib.util.find_spec("pyarrow") is None and importlib.util.find_spec("polars"):
        return _read_with_polars(path, columns, file_format, as_string, delimiter)
    require("pyarrow", "arrow")
    if file_format == "parquet":
        import pyarrow.parquet as pq

        _require_columns(columns, list(pq.read_schema(path).names))
        return pq.read_table(path, columns=columns)
    import pyarrow as pa
    from pyarrow import csv

    parse_options = csv.ParseOptions(delimiter=delimiter)
    # A streaming reader parses only the first block, enough for the column names.
    with csv.open_csv(path, parse_options=parse_options) as head:
        available = list(head.schema.names)
    _require_columns(columns, available)
    return csv.read_csv(
        path,
        parse_options=parse_options,
        convert_options=csv.ConvertOptions(
            include_columns=columns,
            column_types=dict.fromkeys(as_string, pa.string()),
        ),
    )


def _read_with_polars(
    path: str | Path,
    columns: list[str],
    file_format: str,
    as_string: list[str],
    delimiter: str,
) -> Any:
    import polars as pl

    if file_format == "parquet":
        _require_columns(columns, list(pl.read_parquet_schema(path)))
        return pl.read_parquet(path, columns=columns)
    _require_columns(columns, pl.read_csv(path, separator=delimiter, n_rows=0).columns)
    return pl.read_csv(
        path,
        columns=columns,
        separator=delimiter,
        schema_overrides=dict.fromkeys(as_string, pl.String),
    )
