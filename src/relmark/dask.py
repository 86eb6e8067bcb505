r"""Scale-out on Dask: summaries, fits and scores over partitioned logs bigger than one machine.

The flow is the single-process one, cut at the places where data get small:

```text
Parquet files / Dask DataFrame
  → read_transactions per file   (validate; errors name the file)          workers
  → shuffle by customer id       (all of a customer's rows in one partition) workers
  → summarize_customers          (one row per customer; checkpoint or persist) workers
  → compress_rows per partition  (weighted distinct rows; in the checkpoint's write task) workers
  → RowMerger, as they complete  (the merged rows)                         client
  → model.fit(merged rows)       (a few million rows at most)              client
  → score_frame per partition    (one row per customer)                    workers
  → to_parquet                   (written beside the target, renamed when complete)
```

Every step is a function of [`relmark.data.partition`][relmark.data.partition]; this module only
wires them into Dask graphs. Results equal the single-process ones: a customer's summary only
depends on that customer's rows, and a model fitted on weighted distinct rows is fitted on every
customer they stand for. A worker holds only the partitions it works on (with
[`checkpoint`][relmark.dask.DaskSummary.checkpoint]), so its memory does not grow with the log.

Needs the optional extra ``relmark[dask]`` (``dask[dataframe]`` and ``distributed``), imported
only when a function here runs. Work runs on the current Dask client (``distributed.Client``)
when there is one, else on Dask's local scheduler.

Examples:
    ```python
    from distributed import Client
    import relmark.dask as rd
    from relmark.clv.scorers import CLVScorer

    client = Client("tcp://scheduler:8786")
    summary = rd.summarize("logs/*.parquet", customer="id", time="ts", amount="usd")
    summary = summary.checkpoint("scratch/summary")  # or .persist(), in the workers' memory
    scorer = rd.fit(CLVScorer(horizon=12, unit="M"), summary)
    rd.to_parquet(rd.score(scorer, summary), "scores/")
    ```
"""

from __future__ import annotations

import glob
import os
import shutil
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal, TextIO, TypeVar

import attrs
import numpy as np

from relmark._estimator import fitted_attribute
from relmark.clv import RepeatBuyingModel
from relmark.clv.bgbb import BGBB
from relmark.clv.gamma_gamma import GammaGamma
from relmark.clv.uncertainty import ParameterDraws
from relmark.data.partition import (
    RowMerger,
    WeightedRows,
    bootstrap_weights,
    compress_rows,
    read_transactions,
    score_frame,
    summarize_customers,
    summary_from_frame,
)
from relmark.data.summary import CompressedSummary, CustomerSummary
from relmark.data.units import TimeUnit, parse_unit
from relmark.errors import InvalidInputError, require
from relmark.rfm import RFMScorer
from relmark.typing import FloatArray

__all__ = [
    "DaskSummary",
    "compress",
    "fit",
    "parameter_draws",
    "parquet_files",
    "score",
    "split",
    "summarize",
    "to_parquet",
]

_TRANSACTION_KEYS = ("frequency", "recency", "T")
_T = TypeVar("_T")


def _dask() -> Any:
    require("dask", extra="dask")
    require("distributed", extra="dask")
    import dask.dataframe as dd

    return dd


@attrs.frozen(kw_only=True)
class DaskSummary:
    """A customer summary held as a Dask DataFrame, one row per customer.

    Attributes:
        frame: Columns ``customer_id``, ``frequency``, ``recency``, ``T`` and, when present,
            ``monetary`` and the holdout columns (as ``CustomerSummary.to_frame``). Within a
            partition rows are sorted by customer id; partitions are in no particular order.
        unit: Time unit of ``recency``, ``T`` and ``duration_holdout``.
        transaction_rows: The merged weighted distinct $(x, t_x, T)$ rows of the whole
            summary when they are already known ([`checkpoint`][relmark.dask.DaskSummary.checkpoint]
            computes them while it writes), else ``None``. [`compress`][relmark.dask.compress]
            and [`fit`][relmark.dask.fit] of a transaction model use them instead of going
            over the summary again. Shared, read-only arrays.
    """

    frame: Any
    unit: TimeUnit
    transaction_rows: WeightedRows | None = attrs.field(default=None, eq=False, repr=False)

    @property
    def columns(self) -> tuple[str, ...]:
        """Column names of ``frame``."""
        return tuple(str(c) for c in self.frame.columns)

    def persist(self) -> DaskSummary:
        """Compute the summary once and keep it in the cluster's memory (for fit then score).

        The workers then hold the whole summary between the steps (about 40 bytes per customer
        with integer ids, spread over them); [`checkpoint`][relmark.dask.DaskSummary.checkpoint]
        keeps it on disk instead, so a worker's memory stays bounded by one partition.
        """
        return attrs.evolve(self, frame=self.frame.persist())

    def checkpoint(
        self,
        path: str | os.PathLike[str],
        *,
        overwrite: bool = False,
        progress_to: TextIO | None = None,
    ) -> DaskSummary:
        """Compute the summary once, write it as Parquet files at ``path`` and read it from there.

        The alternative to [`persist`][relmark.dask.DaskSummary.persist] for summaries larger
        than the cluster should hold: each partition is written as soon as it is summarized, and
        the returned summary reads the files back partition by partition, so fitting and scoring
        after it never hold more than the partitions being worked on. The files are written all
        or nothing, as by [`to_parquet`][relmark.dask.to_parquet], uncompressed (about 40 bytes
        per customer with integer ids: scratch space, fast to write and read); remove them
        when done.

        The task that writes a partition also reduces it to its weighted distinct
        $(x, t_x, T)$ rows ([`compress_rows`][relmark.data.partition.compress_rows]), and this
        process merges them as the partitions complete, while the others are still being
        summarized: the returned summary carries the merged rows as ``transaction_rows``, so
        fitting a transaction model on it reads nothing again.

        Args:
            path: Directory to write (every worker must be able to write and read it).
            overwrite: Replace an existing directory at ``path``.
            progress_to: Where to draw Dask's text progress bar while writing (a distributed
                client must be active).

        Returns:
            The same summary, backed by the files, with ``transaction_rows``.

        Raises:
            InvalidInputError: As [`to_parquet`][relmark.dask.to_parquet], and from computing
                the summary (an invalid input file).
        """
        import dask

        dd = _dask()
        dtypes = tuple((str(name), str(dtype)) for name, dtype in self.frame.dtypes.items())
        reader = _SummaryFile(dtypes=dtypes)

        def write(staging: Path) -> WeightedRows:
            staging.mkdir()
            writer = _CheckpointWriter(
                folder=str(staging),
                dtypes=dtypes,
                unit=self.unit,
                digits=len(str(max(self.frame.npartitions - 1, 0))),
            )
            # A blockwise step after the summary: Dask fuses it into the task that summarizes
            # the partition. Its "partitions" are the rows it returns, taken with to_delayed.
            written = self.frame.map_partitions(
                writer, meta=reader.meta(), enforce_metadata=False, align_dataframes=False
            )
            return _merged(written.to_delayed(), progress_to=progress_to)

        written, rows = _write_all_or_nothing(path, overwrite=overwrite, write=write)
        files = parquet_files(written)
        # Keep the summary's dtypes: string ids stay Python objects, as in every summary frame.
        with dask.config.set({"dataframe.convert-string": False}):
            frame = dd.from_map(reader, files, meta=reader.meta(), enforce_metadata=False)
        rows.values.flags.writeable = False
        rows.weights.flags.writeable = False
        return attrs.evolve(self, frame=frame, transaction_rows=rows)

    def compute(self) -> CustomerSummary:
        """Gather the whole summary into this process, sorted by customer id.

        Meant for summaries that fit in memory (tests, small logs).
        """
        local = summary_from_frame(self.frame.compute(), unit=self.unit)
        return local.take(np.argsort(local.customer_id, kind="stable"))


@attrs.frozen(kw_only=True)
class _CheckpointWriter:
    """Writes one summary partition to a Parquet file and returns its compressed rows (a task)."""

    folder: str
    dtypes: tuple[tuple[str, str], ...]
    unit: TimeUnit
    digits: int

    def __call__(self, part: Any, partition_info: dict[str, Any] | None = None) -> WeightedRows:
        import pyarrow as pa
        import pyarrow.parquet as pq

        fields = [
            pa.field(column, pa.string() if dtype == "object" else pa.from_numpy_dtype(dtype))
            for column, dtype in self.dtypes
        ]
        table = pa.Table.from_pandas(
            part[[column for column, _ in self.dtypes]],
            schema=pa.schema(fields),
            preserve_index=False,
        )
        # Scratch files: plain encoding without compression writes and reads fastest.
        number = 0 if partition_info is None else int(partition_info["number"])
        name = f"part.{number:0{self.digits}d}.parquet"
        pq.write_table(table, Path(self.folder) / name, compression="none", use_dictionary=False)
        return compress_rows(summary_from_frame(part, unit=self.unit))


@attrs.frozen(kw_only=True)
class _SummaryFile:
    """Reads one file of a checkpointed summary back with the summary's dtypes."""

    dtypes: tuple[tuple[str, str], ...]

    def meta(self) -> Any:
        import pandas as pd

        return pd.DataFrame({name: pd.Series([], dtype=dtype) for name, dtype in self.dtypes})

    def __call__(self, path: str) -> Any:
        import pandas as pd
        import pyarrow.parquet as pq

        table = pq.read_table(path, columns=[name for name, _ in self.dtypes])
        # Column by column: faster than Table.to_pandas, and object ids stay Python strings.
        return pd.DataFrame(
            {
                name: pd.Series(table.column(name).to_numpy(), dtype=dtype, copy=False)
                for name, dtype in self.dtypes
            }
        )


def parquet_files(source: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]) -> list[str]:
    """The Parquet files a source names, sorted: a file, a glob, a directory or a list of files.

    A directory contributes every ``*.parquet`` / ``*.pq`` file below it.

    Raises:
        InvalidInputError: When nothing matches.
    """
    if isinstance(source, str | os.PathLike):
        text = os.fspath(source)
        if Path(text).is_dir():
            found = sorted(
                str(p) for p in Path(text).rglob("*") if p.suffix.lower() in (".parquet", ".pq")
            )
        else:
            # A glob pattern may be absolute ('/data/logs/*.parquet'), which Path.glob refuses.
            found = sorted(glob.glob(text))  # noqa: PTH207
        what = f"{text!r}"
    else:
        found = [os.fspath(p) for p in source]
        what = "the list given"
    if not found:
        raise InvalidInputError(
            f"No Parquet files match {what}; give a glob such as 'logs/*.parquet', a directory "
            "or a list of files."
        )
    return found


@attrs.frozen(kw_only=True)
class _Reader:
    """Reads and validates one Parquet file into canonical columns (a task of ``from_map``)."""

    customer: str
    time: str
    amount: str | None
    is_return: str | None
    timezone: str | None
    time_format: str | None
    allow_returns: bool
    id_kind: str

    def columns(self) -> list[str]:
        return [c for c in (self.customer, self.time, self.amount, self.is_return) if c is not None]

    def __call__(self, path: str) -> Any:
        import pandas as pd
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(path, columns=self.columns())
        except (OSError, ValueError, KeyError) as exc:
            raise InvalidInputError(
                f"{path}: cannot be read as Parquet with columns {self.columns()}: {exc}"
            ) from None
        return self.canonical(table, path, pd)

    def canonical(self, batch: Any, source: str, pd: Any) -> Any:
        columns = read_transactions(
            batch,
            customer=self.customer,
            time=self.time,
            amount=self.amount,
            is_return=self.is_return,
            timezone=self.timezone,
            time_format=self.time_format,
            allow_returns=self.allow_returns,
            source=source,
        )
        kind = "int" if columns["customer_id"].dtype.kind in "iu" else "str"
        if kind != self.id_kind:
            raise InvalidInputError(
                f"{source}: customer ids in column {self.customer!r} are {kind}s, but the first "
                f"file's are {self.id_kind}s; every file must use the same schema."
            )
        frame = pd.DataFrame(columns)
        if kind == "str":
            frame["customer_id"] = frame["customer_id"].astype(object)
        return frame


def _meta_frame(reader: _Reader) -> Any:
    import pandas as pd

    columns: dict[str, Any] = {
        "customer_id": np.empty(0, dtype=np.int64 if reader.id_kind == "int" else object),
        "time": np.empty(0, dtype="datetime64[us]"),
    }
    if reader.amount is not None:
        columns["amount"] = np.empty(0, dtype=np.float64)
    if reader.is_return is not None:
        columns["is_return"] = np.empty(0, dtype=np.bool_)
    return pd.DataFrame(columns)


def _first_file_facts(path: str, customer: str, time: str) -> tuple[str, str | None]:
    """Kind of the customer ids (``"int"``/``"str"``) and zone of the times in the first file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except (OSError, ValueError) as exc:
        raise InvalidInputError(f"{path}: cannot be read as Parquet: {exc}") from None
    missing = [c for c in (customer, time) if c not in schema.names]
    if missing:
        raise InvalidInputError(f"{path}: no column(s) {missing}; its columns are {schema.names}.")
    ids = schema.field(customer).type
    kind = "int" if pa.types.is_integer(ids) else "str"
    stamp = schema.field(time).type
    zone = stamp.tz if pa.types.is_timestamp(stamp) else None
    return kind, zone


def _canonical_frame(
    source: Any,
    *,
    customer: str,
    time: str,
    amount: str | None,
    is_return: str | None,
    timezone: str | None,
    time_format: str | None,
    allow_returns: bool,
) -> tuple[Any, str | None, list[str] | None]:
    """The validated transactions as a Dask DataFrame, their zone, and their files.

    The files are ``None`` for a Dask DataFrame source.
    """
    dd = _dask()
    if hasattr(source, "map_partitions") and hasattr(source, "npartitions"):
        frame, zone = _canonical_from_dask(
            source,
            customer=customer,
            time=time,
            amount=amount,
            is_return=is_return,
            timezone=timezone,
            time_format=time_format,
            allow_returns=allow_returns,
        )
        return frame, zone, None
    files = parquet_files(source)
    kind, zone = _first_file_facts(files[0], customer, time)
    zone = timezone or zone
    reader = _Reader(
        customer=customer,
        time=time,
        amount=amount,
        is_return=is_return,
        timezone=zone,
        time_format=time_format,
        allow_returns=allow_returns,
        id_kind=kind,
    )
    frame = dd.from_map(reader, files, meta=_meta_frame(reader), enforce_metadata=False)
    return frame, zone, files


def _latest_time(files: list[str], time: str) -> np.datetime64 | None:
    """The latest time in ``files`` from their Parquet statistics, when those give it exactly.

    Exact for a naive timestamp column in seconds, milliseconds or microseconds (its values
    are the wall-clock times ``read_transactions`` returns) with min/max statistics in every
    non-empty row group; ``None`` otherwise. Reading footers only, it spares the cluster a
    reduction over the data that would keep every file's rows in memory until both the
    reduction and the shuffle had consumed them.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    latest: np.datetime64 | None = None
    for path in files:
        try:
            metadata = pq.read_metadata(path)
            schema = metadata.schema.to_arrow_schema()
        except (OSError, ValueError):
            return None  # the file's read task reports it, naming the file
        if time not in schema.names:
            return None
        kind = schema.field(time).type
        if not pa.types.is_timestamp(kind) or kind.tz is not None or kind.unit == "ns":
            return None
        paths = [metadata.schema.column(i).path for i in range(metadata.num_columns)]
        if paths.count(time) != 1:
            return None
        column = paths.index(time)
        for group in range(metadata.num_row_groups):
            row_group = metadata.row_group(group)
            if row_group.num_rows == 0:
                continue
            statistics = row_group.column(column).statistics
            if statistics is None or not statistics.has_min_max:
                return None
            value = np.datetime64(statistics.max, "us")
            latest = value if latest is None or value > latest else latest
    return latest


def _canonical_from_dask(
    source: Any,
    *,
    customer: str,
    time: str,
    amount: str | None,
    is_return: str | None,
    timezone: str | None,
    time_format: str | None,
    allow_returns: bool,
) -> tuple[Any, str | None]:
    import pandas as pd

    dtypes = source.dtypes
    column_zone = getattr(dtypes[time], "tz", None) if time in dtypes.index else None
    zone = timezone or (None if column_zone is None else str(column_zone))
    ids = dtypes[customer] if customer in dtypes.index else None
    kind = "int" if ids is not None and ids.kind in "iu" else "str"
    reader = _Reader(
        customer=customer,
        time=time,
        amount=amount,
        is_return=is_return,
        timezone=zone,
        time_format=time_format,
        allow_returns=allow_returns,
        id_kind=kind,
    )

    def canonical(part: Any, partition_info: dict[str, Any] | None = None) -> Any:
        number = None if partition_info is None else partition_info.get("number")
        return reader.canonical(part, f"partition {number}", pd)

    frame = source.map_partitions(canonical, meta=_meta_frame(reader), enforce_metadata=False)
    return frame, zone


def _summary_meta(id_kind: str, *, has_amount: bool, holdout: bool) -> Any:
    import pandas as pd

    empty = np.empty(0, dtype=np.float64)
    counts = np.empty(0, dtype=np.int64)
    columns: dict[str, Any] = {
        "customer_id": np.empty(0, dtype=np.int64 if id_kind == "int" else object),
        "frequency": counts,
        "recency": empty,
        "T": empty,
    }
    if has_amount:
        columns["monetary"] = empty
    if holdout:
        columns["frequency_holdout"] = counts
        if has_amount:
            columns["monetary_holdout"] = empty
        columns["duration_holdout"] = empty
    return pd.DataFrame(columns)


def _summarize_partition(
    part: Any,
    observation_end: Any,
    *,
    calibration_end: Any,
    period: TimeUnit,
    unit: TimeUnit,
    timezone: str | None,
    allow_returns: bool,
    empty: Any,
) -> Any:
    summary = summarize_customers(
        part,
        observation_end=observation_end,
        calibration_end=calibration_end,
        period=period,
        unit=unit,
        timezone=timezone,
        allow_returns=allow_returns,
        # Dask's shuffles keep each customer's rows in input order (P2P sorts the shards of an
        # output partition by input partition), so spend is summed as in one process.
        canonical_order=False,
    )
    frame = summary.to_frame("pandas")
    if len(frame) == 0:
        return empty
    if empty["customer_id"].dtype == object:
        frame["customer_id"] = frame["customer_id"].astype(object)
    return frame


def _summarize(
    source: Any,
    *,
    customer: str,
    time: str,
    amount: str | None,
    is_return: str | None,
    calibration_end: Any,
    observation_end: Any,
    period: str | TimeUnit,
    unit: str | TimeUnit,
    timezone: str | None,
    time_format: str | None,
    allow_returns: bool,
    npartitions: int | None,
) -> DaskSummary:
    bucket, to_unit = parse_unit(period, field="period"), parse_unit(unit)
    frame, zone, files = _canonical_frame(
        source,
        customer=customer,
        time=time,
        amount=amount,
        is_return=is_return,
        timezone=timezone,
        time_format=time_format,
        allow_returns=allow_returns,
    )
    # The default end is the log's last transaction: from the files' statistics when they give
    # it exactly, else a reduction over the read tasks that feed the shuffle (which then holds
    # their rows until both have consumed them).
    end = observation_end
    if end is None:
        latest = None if files is None else _latest_time(files, time)
        end = frame["time"].max() if latest is None else latest
    shuffled = frame.shuffle(on="customer_id", npartitions=npartitions)
    kind = "int" if frame.dtypes["customer_id"].kind in "iu" else "str"
    meta = _summary_meta(kind, has_amount=amount is not None, holdout=calibration_end is not None)
    summary = shuffled.map_partitions(
        _summarize_partition,
        end,
        calibration_end=calibration_end,
        period=bucket,
        unit=to_unit,
        timezone=zone,
        allow_returns=allow_returns,
        empty=meta,
        meta=meta,
        enforce_metadata=False,
        align_dataframes=False,
    )
    return DaskSummary(frame=summary, unit=to_unit)


def summarize(
    source: Any,
    *,
    customer: str,
    time: str,
    amount: str | None = None,
    observation_end: Any = None,
    period: str | TimeUnit = "D",
    unit: str | TimeUnit = "W",
    is_return: str | None = None,
    timezone: str | None = None,
    time_format: str | None = None,
    allow_returns: bool = False,
    npartitions: int | None = None,
) -> DaskSummary:
    """Summarize a partitioned transaction log: one row per customer, as a Dask DataFrame.

    Each input file (or partition) is validated as
    [`TransactionLog.from_frame`][relmark.data.log.TransactionLog.from_frame] validates a log;
    rows are then shuffled by customer id, so every customer's transactions meet in one
    partition however many files they span, and each partition is summarized with
    [`summarize_customers`][relmark.data.partition.summarize_customers]. The result equals
    ``TransactionLog.summarize`` on the concatenated log, customer by customer (it does not
    carry ``excluded_transactions``). Nothing is computed until the summary is used.

    Args:
        source: A Parquet file, a glob (``"logs/*.parquet"``), a directory of Parquet files, a
            list of files, or a Dask DataFrame.
        customer: Name of the customer-id column.
        time: Name of the time column.
        amount: Name of the amount column, if any (needed by spend models and RFM).
        observation_end: End of observation; the latest transaction of the whole log by default.
        period: Purchase bucket (``"D"``, ``"W"``, ``"M"``, ``"Q"``, ``"Y"``).
        unit: Unit of ``recency`` and ``T``.
        is_return: Name of a boolean column marking returns, if any.
        timezone: IANA zone of the times; by default the zone of the first file's time column.
        time_format: ``strptime`` format of string times.
        allow_returns: Accept returns.
        npartitions: Number of partitions of the summary (default: as many as inputs).

    Returns:
        The lazy summary.

    Raises:
        InvalidInputError: When no file matches or the first file lacks the columns (at once);
            for an invalid, unreadable or schema-mismatched file, naming it (when computed).
        MissingDependencyError: Without ``relmark[dask]``.
    """
    return _summarize(
        source,
        customer=customer,
        time=time,
        amount=amount,
        is_return=is_return,
        calibration_end=None,
        observation_end=observation_end,
        period=period,
        unit=unit,
        timezone=timezone,
        time_format=time_format,
        allow_returns=allow_returns,
        npartitions=npartitions,
    )


def split(
    source: Any,
    calibration_end: Any,
    observation_end: Any = None,
    *,
    customer: str,
    time: str,
    amount: str | None = None,
    period: str | TimeUnit = "D",
    unit: str | TimeUnit = "W",
    is_return: str | None = None,
    timezone: str | None = None,
    time_format: str | None = None,
    allow_returns: bool = False,
    npartitions: int | None = None,
) -> DaskSummary:
    """Calibration summary with holdout columns of a partitioned log (as ``TransactionLog.split``).

    Arguments are those of [`summarize`][relmark.dask.summarize]; ``calibration_end`` and
    ``observation_end`` are those of [`TransactionLog.split`][relmark.data.log.TransactionLog.split].

    Returns:
        The lazy calibration summary with ``frequency_holdout``, ``monetary_holdout`` (with
        amounts) and ``duration_holdout``.

    Raises:
        InvalidInputError: As [`summarize`][relmark.dask.summarize], and for an empty or
            reversed holdout (when computed).
    """
    if calibration_end is None:
        raise InvalidInputError("The 'calibration_end' argument of split is required.")
    return _summarize(
        source,
        customer=customer,
        time=time,
        amount=amount,
        is_return=is_return,
        calibration_end=calibration_end,
        observation_end=observation_end,
        period=period,
        unit=unit,
        timezone=timezone,
        time_format=time_format,
        allow_returns=allow_returns,
        npartitions=npartitions,
    )


def _distributed_client() -> Any:
    """The current ``distributed.Client``, or ``None`` (then Dask's local scheduler runs)."""
    import dask

    # A client sets itself as Dask's scheduler; a scheduler chosen since (e.g. "synchronous"
    # in a ``dask.config.set`` block) takes precedence, as for any Dask computation.
    if dask.config.get("scheduler", None) not in ("dask.distributed", "distributed"):
        return None
    import distributed

    engine: Any = distributed  # untyped library: its calls are typed Any here
    try:
        return engine.default_client()
    except ValueError:
        return None


def _merged(parts: list[Any], *, progress_to: TextIO | None = None) -> WeightedRows:
    """Compute per-partition rows and merge them in this process as they complete.

    With a distributed client each partition's rows travel to the client as soon as they are
    computed and are released on the worker at once, so a worker never holds more than the
    rows of the partitions it is working on, and the client holds about twice the merged
    result ([`RowMerger`][relmark.data.partition.RowMerger]). Without one, Dask's local
    scheduler computes them all in this process first. With ``progress_to`` (and a client),
    Dask's text progress bar is drawn there while the rows are merged on another thread.
    """
    import dask.base
    import distributed

    engine: Any = distributed  # untyped libraries: their calls are typed Any here
    local: Any = dask.base
    merger = RowMerger()
    client = _distributed_client()
    if client is None:
        for rows in local.compute(*parts):
            merger.add(rows)
        return merger.result()
    futures = client.compute(parts)

    def merge() -> None:
        for future, rows in engine.as_completed(futures, with_results=True):
            merger.add(rows)
            future.release()

    try:
        if progress_to is None:
            merge()
        else:
            _merge_with_progress(merge, futures, progress_to)
    except BaseException:
        client.cancel(futures)
        raise
    return merger.result()


def _merge_with_progress(merge: Any, futures: list[Any], stream: TextIO) -> None:
    """Run ``merge`` on a thread while drawing Dask's text progress bar of ``futures``."""
    import contextlib
    import threading

    import distributed

    engine: Any = distributed  # untyped library: its calls are typed Any here
    failure: list[BaseException] = []

    def run() -> None:
        try:
            merge()
        except BaseException as exc:  # noqa: BLE001 (re-raised in the calling thread)
            failure.append(exc)

    thread = threading.Thread(target=run, name="relmark-merge", daemon=True)
    thread.start()
    with contextlib.redirect_stdout(stream):
        engine.progress(futures, notebook=False)
    stream.write("\n")
    thread.join()
    if failure:
        raise failure[0]


def compress(summary: DaskSummary, names: Sequence[str] = _TRANSACTION_KEYS) -> WeightedRows:
    """Weighted distinct rows of a distributed summary, merged here as partitions complete.

    Each partition is reduced to its weighted distinct rows on a worker; the client merges
    them as they arrive (no worker ever holds another partition's rows). For the default
    names, a checkpointed summary's ``transaction_rows`` (merged while it was written) are
    returned as they are, with nothing computed.

    Args:
        summary: The distributed summary.
        names: Columns to make the rows distinct on (see
            [`compress_rows`][relmark.data.partition.compress_rows]).

    Returns:
        The merged rows: memory grows with the number of distinct rows, not of customers.

    Raises:
        InvalidInputError: For a column the summary does not have, or from computing the
            summary (an invalid input file).
    """
    from dask.delayed import delayed

    chosen = tuple(names)
    missing = [n for n in chosen if n not in summary.columns]
    if missing:
        raise InvalidInputError(
            f"The summary has no column(s) {missing}; its columns are {list(summary.columns)}."
        )
    if chosen == _TRANSACTION_KEYS and summary.transaction_rows is not None:
        return summary.transaction_rows
    unit = summary.unit

    def rows_of(part: Any) -> WeightedRows:
        return compress_rows(summary_from_frame(part, unit=unit), chosen)

    return _merged([delayed(rows_of, pure=True)(p) for p in summary.frame.to_delayed()])


def _fit_columns(model: Any, summary: DaskSummary) -> tuple[str, ...]:
    """The summary columns whose distinct rows ``model`` needs to be fitted exactly."""
    if isinstance(model, RepeatBuyingModel | BGBB):
        return _TRANSACTION_KEYS
    if isinstance(model, RFMScorer) and model.ties != "share":
        raise InvalidInputError(
            f"RFMScorer(ties={model.ties!r}) breaks ties by customer id, which compressed "
            "statistics do not carry; fit it with ties='share' to fit on a distributed summary."
        )
    return tuple(n for n in summary.columns if n != "customer_id")


def fit(model: Any, summary: DaskSummary) -> Any:
    """Fit a model or scorer in this process on the merged compressed statistics of ``summary``.

    The workers reduce their partitions to weighted distinct rows
    ([`compress`][relmark.dask.compress]); the merged rows become a weighted
    [`CustomerSummary`][relmark.data.summary.CustomerSummary] and ``model.fit`` runs on it here.
    Transaction models (BG/NBD, MBG/NBD, Pareto/NBD, BG/BB) need the distinct
    $(x, t_x, T)$ rows only; other models and scorers get rows distinct on every summary column
    (with ``monetary``, about one row per repeat customer). The fit equals the fit on all
    customers for every relmark model and scorer, because they weight each row by its number of
    customers (for the Gamma-Gamma model up to the summation order of the likelihood).

    Args:
        model: An unfitted relmark model or scorer (any object whose ``fit(summary)`` treats
            ``summary.weights`` as numbers of customers).
        summary: The distributed summary.

    Returns:
        What ``model.fit`` returns: the fitted model.

    Raises:
        InvalidInputError: For an ``RFMScorer`` that breaks ties by customer id, or from the
            fit itself.
    """
    rows = compress(summary, _fit_columns(model, summary))
    if len(rows) == 0:
        raise InvalidInputError("The summary has no customers; there is nothing to fit on.")
    if isinstance(model, RepeatBuyingModel):
        # The merged rows are already distinct and in compress() order: no second compression.
        return model.fit(rows.to_compressed())
    return model.fit(rows.to_summary())


def parameter_draws(
    model: Any,
    summary: DaskSummary | None = None,
    *,
    method: Literal["parametric", "bootstrap"] = "parametric",
    draws: int = 200,
    seed: int | None = 0,
) -> ParameterDraws:
    r"""Parameter draws of a fitted model, made once in this process and shared by all partitions.

    - ``"parametric"``: $\log\theta^{(b)} \sim N(\log\hat\theta, \hat\Sigma_{\log})$ from the
      model's ``log_covariance_``, exactly
      [`ParameterDraws.parametric`][relmark.clv.uncertainty.ParameterDraws.parametric] with
      the same ``seed``: no data needed.
    - ``"bootstrap"``: the customers are resampled with replacement and the model refitted,
      ``draws`` times, all in this process on the merged compressed statistics of ``summary``.
      Resampling $N$ customers gives each distinct row $j$ (shared by $w_j$ customers) a count
      $\sum_{i \in j} c_i$, and the sum of multinomial counts over a group is multinomial with
      the group's probability: the counts are drawn as
      $\text{Multinomial}(N, w / N)$ over the $J$ distinct rows directly, which has the
      distribution of the customer bootstrap of
      [`ParameterDraws.bootstrap`][relmark.clv.uncertainty.ParameterDraws.bootstrap] (not its
      exact draws) and costs $O(J)$ per resample instead of $O(N)$. The rows are merged in a
      fixed (sorted) order, so the draws depend on ``seed`` only, never on the partitioning.

    Args:
        model: A fitted transaction model (BG/NBD, MBG/NBD, Pareto/NBD) or Gamma-Gamma model.
        summary: The distributed summary the model was fitted on (bootstrap only).
        method: ``"parametric"`` or ``"bootstrap"``.
        draws: Number of draws $B$.
        seed: Seed of the draws; the same seed gives the same draws.

    Returns:
        The draws, for [`score`][relmark.dask.score] (``intervals=``) or any
        [`ParameterDraws`][relmark.clv.uncertainty.ParameterDraws] method.

    Raises:
        InvalidInputError: For another kind of model, an unknown method, bootstrap without a
            summary, bad ``draws``, or parametric draws of a model without covariance.
        NotFittedError: For an unfitted model.
        ConvergenceError: When a bootstrap refit fails.
    """
    transaction = model if isinstance(model, RepeatBuyingModel) else None
    spend = model if isinstance(model, GammaGamma) else None
    if transaction is None and spend is None:
        raise InvalidInputError(
            "Intervals need a fitted transaction model (BGNBD, MBGNBD, ParetoNBD) or GammaGamma; "
            f"got {type(model).__name__}. A CLVScorer adds its own: CLVScorer(interval=0.9)."
        )
    if method == "parametric":
        return ParameterDraws.parametric(transaction, spend, draws=draws, seed=seed)
    if method != "bootstrap":
        raise InvalidInputError(
            f"The 'method' argument must be 'parametric' or 'bootstrap'. Got {method!r}."
        )
    if summary is None:
        raise InvalidInputError(
            "Bootstrap draws refit the model on resampled customers: pass the DaskSummary it "
            "was fitted on."
        )
    # Checked before any work on the cluster (ParameterDraws checks them again at the end).
    count: object = draws
    if isinstance(count, bool) or not isinstance(count, int) or not 2 <= count <= 100_000:
        raise InvalidInputError(
            f"The 'draws' argument must be a whole number in [2, 100000]. Got {draws!r}."
        )
    fitted_attribute(model, "params_", argument="model", owner="relmark.dask.parameter_draws")
    rows = compress(summary, _fit_columns(model, summary))
    resamples = bootstrap_weights(rows, draws=draws, seed=seed)
    if transaction is not None:
        keys = rows.to_compressed()
        values = np.array(
            [_refit(transaction, _reweighted(keys, counts)) for counts in resamples],
            dtype=np.float64,
        )
    else:
        weighted = rows.to_summary()
        values = np.array(
            [_refit(model, attrs.evolve(weighted, weights=counts)) for counts in resamples],
            dtype=np.float64,
        )
    return ParameterDraws(
        model=transaction,
        spend_model=spend,
        method="bootstrap",
        transaction_draws=values if transaction is not None else None,
        spend_draws=values if spend is not None else None,
    )


def _reweighted(rows: CompressedSummary, counts: FloatArray) -> CompressedSummary:
    """The rows drawn at least once, weighted by their counts."""
    kept = counts > 0
    return CompressedSummary(
        frequency=rows.frequency[kept],
        recency=rows.recency[kept],
        T=rows.T[kept],
        weights=counts[kept],
        inverse=np.arange(int(kept.sum()), dtype=np.int64),
        unit=rows.unit,
    )


def _refit(model: Any, data: Any) -> FloatArray:
    """The parameters of a fresh model of the same type and penalizer fitted on ``data``."""
    fresh = type(model)(penalizer=model.penalizer).fit(data)
    params = fresh.params_
    return np.array([getattr(params, n) for n in type(model).parameter_names()], dtype=np.float64)


def score(
    fitted: Any,
    summary: DaskSummary,
    *,
    horizon: float | None = None,
    include_summary: bool = False,
    interval: float | None = None,
    method: Literal["parametric", "bootstrap"] = "parametric",
    draws: int = 200,
    seed: int | None = 0,
    intervals: ParameterDraws | None = None,
) -> Any:
    """Score every customer of a distributed summary: a Dask DataFrame, one row per customer.

    Each partition is scored by [`score_frame`][relmark.data.partition.score_frame] with the
    same fitted object, so every customer's scores equal the single-process ones.

    With ``interval``, a fitted model's columns get ``<column>_lower`` and ``<column>_upper``:
    the parameters are drawn once, here, by [`parameter_draws`][relmark.dask.parameter_draws]
    (or passed as ``intervals``), and every partition evaluates the same draws, so each
    customer's interval equals the single-process
    [`ParameterDraws`][relmark.clv.uncertainty.ParameterDraws] interval with the same draws,
    however the customers are partitioned. A ``CLVScorer(interval=...)`` draws its own (from
    its ``seed``, identically in every partition) and needs nothing here.

    Args:
        fitted: A fitted scorer, a list of fitted scorers, or a fitted transaction or spend
            model (see [`score_summary`][relmark.data.partition.score_summary]).
        summary: The distributed summary.
        horizon: For a transaction model, the window of ``expected_purchases``.
        include_summary: Also output ``frequency``, ``recency``, ``T`` (and ``monetary``).
        interval: Coverage in $(0, 1)$ of per-customer intervals of a model's scores, or
            ``None``.
        method: ``"parametric"`` or ``"bootstrap"`` draws (see
            [`parameter_draws`][relmark.dask.parameter_draws]).
        draws: Number of parameter draws.
        seed: Seed of the draws.
        intervals: Draws made earlier with [`parameter_draws`][relmark.dask.parameter_draws]
            (then ``method``, ``draws`` and ``seed`` are not used).

    Returns:
        A lazy Dask DataFrame (``customer_id`` then the score columns); write it with
        [`to_parquet`][relmark.dask.to_parquet].

    Raises:
        InvalidInputError: When ``fitted`` cannot score, or the interval arguments are invalid
            (checked at once on a one-customer summary).
        ConvergenceError: When a bootstrap refit fails.
    """
    unit = summary.unit
    band: ParameterDraws | None = None
    if interval is not None:
        coverage: object = interval
        if isinstance(coverage, bool) or not (
            isinstance(coverage, float | int) and 0 < coverage < 1
        ):
            raise InvalidInputError(
                f"The 'interval' argument must be a coverage in (0, 1) or None. Got {interval!r}."
            )
        band = (
            intervals
            if intervals is not None
            else parameter_draws(fitted, summary, method=method, draws=draws, seed=seed)
        )
    elif intervals is not None:
        raise InvalidInputError(
            "The 'intervals' argument needs 'interval', the coverage of the intervals (e.g. 0.9)."
        )
    level = 0.9 if interval is None else float(interval)
    options: dict[str, Any] = {
        "unit": unit,
        "horizon": horizon,
        "include_summary": include_summary,
        "intervals": band,
        "level": level,
    }
    meta = score_frame(fitted, _probe_frame(summary), **options).iloc[:0]
    id_dtype = summary.frame.dtypes["customer_id"]
    if meta["customer_id"].dtype != id_dtype:
        meta["customer_id"] = meta["customer_id"].astype(id_dtype)

    def score_part(part: Any) -> Any:
        scored = score_frame(fitted, part, **options)
        if len(scored) == 0:
            return meta
        return scored.astype(meta.dtypes.to_dict())

    return summary.frame.map_partitions(score_part, meta=meta, enforce_metadata=False)


def _probe_frame(summary: DaskSummary) -> Any:
    """A one-customer summary frame with the columns of ``summary``, to learn output dtypes."""
    import pandas as pd

    dtypes = summary.frame.dtypes
    values: dict[str, Any] = {}
    for name in dtypes.index:
        if name == "customer_id":
            values[name] = [0] if dtypes[name].kind in "iu" else ["0"]
        elif name in ("frequency", "frequency_holdout"):
            values[name] = [1]
        elif name == "recency":
            values[name] = [1.0]
        else:
            values[name] = [2.0]
    return pd.DataFrame(values)


def to_parquet(
    frame: Any,
    path: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    progress_to: TextIO | None = None,
) -> Path:
    """Write a Dask DataFrame as a directory of Parquet files, all or nothing.

    The files are written into a hidden sibling directory and renamed to ``path`` only when
    every partition is written; when any partition fails (an invalid input file), ``path`` is
    left untouched and the partial output is removed.

    Args:
        frame: The Dask DataFrame (e.g. from [`score`][relmark.dask.score]).
        path: Target directory; must not exist unless ``overwrite``.
        overwrite: Replace an existing directory at ``path`` (after the new one is complete).
        progress_to: Where to draw Dask's text progress bar while writing (a distributed
            client must be active); none by default.

    Returns:
        ``path``.

    Raises:
        InvalidInputError: When ``path`` exists (without ``overwrite``) or its parent does not.
    """

    def write(staging: Path) -> None:
        writes = _with_text_ids(frame).to_parquet(staging, write_index=False, compute=False)
        if progress_to is None:
            writes.compute()
        else:
            _compute_with_progress(writes, progress_to)

    target, _ = _write_all_or_nothing(path, overwrite=overwrite, write=write)
    return target


def _write_all_or_nothing(
    path: str | os.PathLike[str], *, overwrite: bool, write: Callable[[Path], _T]
) -> tuple[Path, _T]:
    """Call ``write`` on a hidden sibling directory of ``path``, then rename it to ``path``.

    When ``write`` fails, ``path`` is left untouched and the partial output is removed.

    Raises:
        InvalidInputError: When ``path`` exists (without ``overwrite``) or its parent does not.
    """
    target = Path(path)
    if target.exists() and not overwrite:
        raise InvalidInputError(f"Cannot write {target}: it exists (pass overwrite=True).")
    if not target.parent.is_dir():
        raise InvalidInputError(
            f"Cannot write {target}: the directory {target.parent} does not exist."
        )
    staging = target.parent / f".{target.name}.relmark-{uuid.uuid4().hex}"
    try:
        result = write(staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if target.exists():
        retired = target.parent / f".{target.name}.relmark-old-{uuid.uuid4().hex}"
        target.rename(retired)
        staging.rename(target)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        staging.rename(target)
    return target, result


def _with_text_ids(frame: Any) -> Any:
    """Object columns (string customer ids) as Arrow strings, which Parquet writers type."""
    text = {str(name): "string[pyarrow]" for name, d in frame.dtypes.items() if d.kind == "O"}
    return frame.astype(text) if text else frame


def _compute_with_progress(collection: Any, stream: TextIO) -> None:
    """Compute on the current distributed client, drawing Dask's text progress bar on ``stream``."""
    import contextlib

    import distributed

    engine: Any = distributed  # untyped library: its calls are typed Any here
    persisted = collection.persist()
    with contextlib.redirect_stdout(stream):
        engine.progress(persisted, notebook=False)
    stream.write("\n")
    for future in engine.futures_of(persisted):
        future.result()
