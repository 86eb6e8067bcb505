r"""Engine-neutral partition functions: what any engine calls to summarize, fit and score at scale.

relmark's models fit on sufficient statistics, not on transactions. The distributed job is
therefore four pure functions, each on one batch (a pandas or polars DataFrame, a pyarrow Table
or a mapping of arrays) and none aware of the engine that calls it:

1. [`read_transactions`][relmark.data.partition.read_transactions] validates one input batch (a
   file, a partition) and returns its rows in a canonical columnar form, naming the batch in
   every error;
2. [`summarize_customers`][relmark.data.partition.summarize_customers] summarizes the rows of a
   set of customers. The engine must bring *all* of a customer's rows into one batch (shuffle or
   group by customer); the batch's summary then equals those customers' rows of the
   single-process summary;
3. [`compress_rows`][relmark.data.partition.compress_rows] reduces a summary to its weighted
   distinct rows, and [`merge_rows`][relmark.data.partition.merge_rows] merges such reductions
   exactly (weights of equal rows add up), all at once or, with
   [`RowMerger`][relmark.data.partition.RowMerger], as the batches complete. The merged
   [`WeightedRows`][relmark.data.partition.WeightedRows] is small: it grows with the number of distinct rows, not with customers or transactions, and
   [`WeightedRows.to_summary`][relmark.data.partition.WeightedRows.to_summary] turns it into a
   weighted summary any relmark model fits on, with the same result as on all the customers;
4. [`score_frame`][relmark.data.partition.score_frame] scores one summary batch with a fitted
   model or scorer.

[`relmark.dask`][relmark.dask] runs them on Dask; the docs page "Score a partitioned log on a
Dask cluster" shows the same functions under Spark's ``applyInPandas`` and Ray Data.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from relmark._frames import extract_columns, to_native_frame
from relmark._typing import FloatArray
from relmark._validation import cmp
from relmark.data._periods import period_index
from relmark.data._timestamps import parse_instant
from relmark.data.log import TransactionLog
from relmark.data.summary import CompressedSummary, CustomerSummary
from relmark.data.table import ColumnInfo, ColumnKind, ScoreTable
from relmark.data.units import TimeUnit, parse_unit
from relmark.errors import InvalidInputError

__all__ = [
    "SUMMARY_COLUMNS",
    "TRANSACTION_COLUMNS",
    "RowMerger",
    "WeightedRows",
    "bootstrap_weights",
    "compress_rows",
    "merge_rows",
    "read_transactions",
    "score_frame",
    "score_summary",
    "summarize_customers",
    "summary_from_frame",
]

TRANSACTION_COLUMNS: tuple[str, ...] = ("customer_id", "time", "amount", "is_return")
"""Columns of the canonical batch [`read_transactions`][relmark.data.partition.read_transactions]
returns (``amount`` and ``is_return`` only when the source has them)."""

SUMMARY_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "frequency",
    "recency",
    "T",
    "monetary",
    "frequency_holdout",
    "monetary_holdout",
    "duration_holdout",
)
"""Columns of a summary batch, in order (``monetary`` and the holdout columns when present)."""

_KEY_COLUMNS = SUMMARY_COLUMNS[1:]
_TRANSACTION_KEYS = ("frequency", "recency", "T")
_KEY_BITS = 62
_DIRECT_SPAN = 1 << 24
"""Whole-number columns spanning fewer values than this are coded by offset, not by a sort."""


def _as_names(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(names)


@attrs.frozen(kw_only=True)
class WeightedRows:
    """Distinct summary rows and how many customers share each: the merged sufficient statistics.

    Attributes:
        names: The summary columns the rows are distinct on; always starts with
            ``("frequency", "recency", "T")``.
        values: One row per distinct combination, one column per name (float64), sorted
            lexicographically.
        weights: Total weight (number of customers) of each row.
        unit: Time unit of ``recency``, ``T`` and ``duration_holdout``.
    """

    names: tuple[str, ...] = attrs.field(converter=_as_names)
    values: FloatArray = attrs.field(eq=cmp)
    weights: FloatArray = attrs.field(eq=cmp)
    unit: TimeUnit

    def __len__(self) -> int:
        """Number of distinct rows."""
        return int(self.weights.size)

    @property
    def n_customers(self) -> float:
        """Total weight: the number of customers the rows stand for."""
        return float(self.weights.sum())

    @property
    def nbytes(self) -> int:
        """Memory held by the rows and weights, in bytes."""
        return int(self.values.nbytes + self.weights.nbytes)

    def column(self, name: str) -> FloatArray:
        """One column of the distinct rows.

        Raises:
            InvalidInputError: For a name the rows were not made distinct on.
        """
        if name not in self.names:
            raise InvalidInputError(
                f"The rows are distinct on {list(self.names)}; they have no column {name!r}."
            )
        column: FloatArray = self.values[:, self.names.index(name)]
        return column

    def to_summary(self) -> CustomerSummary:
        """A weighted summary with one row per distinct row (ids ``0..n-1``).

        Fitting a model on it is fitting on every customer the rows stand for: relmark's
        likelihoods weight each distinct row by its number of customers.

        Raises:
            InvalidInputError: When the rows do not form a valid summary.

        Examples:
            >>> s = CustomerSummary.from_arrays([1, 0, 1], [2.0, 0.0, 2.0], [5.0, 5.0, 5.0])
            >>> weighted = compress_rows(s).to_summary()
            >>> weighted.frequency.tolist(), weighted.weights.tolist()
            ([0, 1], [1.0, 2.0])
        """
        present = {name: self.column(name) for name in self.names}
        summary = CustomerSummary.from_arrays(
            present["frequency"],
            present["recency"],
            present["T"],
            monetary=present.get("monetary"),
            unit=self.unit,
            weights=self.weights,
        )
        if "frequency_holdout" in present:
            summary = attrs.evolve(
                summary,
                frequency_holdout=present["frequency_holdout"].astype(np.int64),
                monetary_holdout=present.get("monetary_holdout"),
                duration_holdout=present.get("duration_holdout"),
            )
        return summary

    def to_compressed(self) -> CompressedSummary:
        """The rows as a [`CompressedSummary`][relmark.data.summary.CompressedSummary].

        Transaction models fit on it directly, without compressing again; the rows are already
        in the order ``CustomerSummary.compress`` gives, so the fit is the same, bit for bit.
        ``inverse`` maps each row to itself.

        Raises:
            InvalidInputError: For rows distinct on more than ``frequency``, ``recency``, ``T``
                (they would not be distinct on those three).

        Examples:
            >>> s = CustomerSummary.from_arrays([1, 0, 1], [2.0, 0.0, 2.0], [5.0, 5.0, 5.0])
            >>> rows = compress_rows(s).to_compressed()
            >>> rows.frequency.tolist(), rows.weights.tolist()
            ([0.0, 1.0], [1.0, 2.0])
        """
        if self.names != _TRANSACTION_KEYS:
            raise InvalidInputError(
                f"Rows distinct on {list(self.names)} are not distinct on "
                f"{list(_TRANSACTION_KEYS)}; compress on those three columns only."
            )
        return CompressedSummary(
            frequency=self.values[:, 0].copy(),
            recency=self.values[:, 1].copy(),
            T=self.values[:, 2].copy(),
            weights=self.weights,
            inverse=np.arange(len(self), dtype=np.int64),
            unit=self.unit,
        )


def _batch_error(source: str | None, exc: Exception) -> InvalidInputError:
    where = "" if source is None else f"{source}: "
    return InvalidInputError(f"{where}{exc}")


def read_transactions(
    batch: Any,
    *,
    customer: str,
    time: str,
    amount: str | None = None,
    is_return: str | None = None,
    timezone: str | None = None,
    time_format: str | None = None,
    allow_returns: bool = False,
    source: str | None = None,
) -> dict[str, NDArray[Any]]:
    """Validate one batch of transactions and return its canonical columns.

    The batch is validated exactly as
    [`TransactionLog.from_frame`][relmark.data.log.TransactionLog.from_frame] validates a whole
    log; nothing is dropped or altered. Times come back as naive ``datetime64[us]`` wall-clock
    times (in ``timezone`` when the log has one), so batches from different files can be
    concatenated or shuffled and read again with ``customer="customer_id"``, ``time="time"``.

    Args:
        batch: The rows (pandas or polars DataFrame, pyarrow Table, mapping of arrays).
        customer: Name of the customer-id column.
        time: Name of the time column.
        amount: Name of the amount column, if any.
        is_return: Name of a boolean column marking returns, if any.
        timezone: IANA zone of the times; a batch in another zone is refused.
        time_format: ``strptime`` format of string times.
        allow_returns: Accept returns (negative amounts, flagged rows).
        source: Name of the batch (file path, partition number) put in front of every error.

    Returns:
        ``customer_id``, ``time`` and, when the source has them, ``amount`` and ``is_return``
        (the latter present only when ``is_return`` names a column).

    Raises:
        InvalidInputError: For any invalid row or missing column, naming ``source``.

    Examples:
        >>> batch = {"id": [3, 3], "day": ["2024-01-02", "2024-01-09"], "usd": [1.0, 2.5]}
        >>> cols = read_transactions(batch, customer="id", time="day", amount="usd", source="f1")
        >>> cols["customer_id"].tolist(), str(cols["time"].dtype)
        ([3, 3], 'datetime64[us]')
        >>> read_transactions(batch, customer="who", time="day", source="f1")
        Traceback (most recent call last):
        ...
        relmark.errors.InvalidInputError: f1: ...
    """
    try:
        log = TransactionLog.from_frame(
            batch,
            customer=customer,
            time=time,
            amount=amount,
            is_return=is_return,
            timezone=timezone,
            time_format=time_format,
            allow_returns=allow_returns,
        )
    except InvalidInputError as exc:
        raise _batch_error(source, exc) from None
    if timezone is None and log.timezone is not None:
        raise InvalidInputError(
            f"{source or 'The batch'}: column {time!r} is in time zone {log.timezone!r}; pass "
            f"timezone={log.timezone!r} so that every batch is read in the same zone."
        )
    columns: dict[str, NDArray[Any]] = {"customer_id": log.customer_id, "time": log.time}
    if log.amount is not None:
        columns["amount"] = log.amount
    if is_return is not None:
        flags = log.is_return
        columns["is_return"] = (
            np.zeros(len(log), dtype=np.bool_) if flags is None else flags.astype(np.bool_)
        )
    return columns


def _empty_summary(
    ids: NDArray[Any], *, has_amount: bool, holdout: bool, unit: TimeUnit
) -> CustomerSummary:
    empty = np.empty(0, dtype=np.float64)
    counts = np.empty(0, dtype=np.int64)
    return CustomerSummary(
        customer_id=ids[:0],
        frequency=counts,
        recency=empty,
        T=empty,
        monetary=empty if has_amount else None,
        unit=unit,
        frequency_holdout=counts if holdout else None,
        monetary_holdout=empty if holdout and has_amount else None,
        duration_holdout=empty if holdout else None,
    )


def summarize_customers(
    batch: Any,
    *,
    observation_end: Any,
    calibration_end: Any = None,
    period: str | TimeUnit = "D",
    unit: str | TimeUnit = "W",
    timezone: str | None = None,
    allow_returns: bool = False,
    canonical_order: bool = True,
) -> CustomerSummary:
    """Summarize a batch holding *all* the transactions of a set of customers.

    The batch has the canonical columns of
    [`read_transactions`][relmark.data.partition.read_transactions]. Each customer's summary
    depends only on that customer's rows and on the (global) ends, so a batch that holds every
    row of its customers gives exactly those customers' rows of
    [`TransactionLog.summarize`][relmark.data.log.TransactionLog.summarize] (or
    [`split`][relmark.data.log.TransactionLog.split] when ``calibration_end`` is given) on the
    whole log. That is why ``observation_end`` is required: the default of the single-process
    methods, the latest transaction, is a property of the whole log, not of one batch.

    With ``canonical_order`` a customer's amounts are added in increasing order, so
    ``monetary`` does not depend on the order in which the engine delivers the rows (it equals
    the single-process value to the last bits, and bit for bit when the log's rows are in that
    order). An engine whose shuffle keeps each customer's rows in their input order (Dask's
    does) can pass ``False``: then the sums are taken in input order, as in one process, and
    the batch is summarized faster.

    Unlike the single-process methods, a batch whose customers all start after the end (or
    that is empty) gives an empty summary instead of an error: in a partitioned log that is
    normal. The summary's ``excluded_transactions`` counts this batch's excluded rows.

    Args:
        batch: Canonical transaction columns (``customer_id``, ``time``, optional ``amount``
            and ``is_return``) as a frame or mapping.
        observation_end: End of observation of the whole log.
        calibration_end: End of calibration, for a calibration/holdout split.
        period: Purchase bucket (``"D"``, ``"W"``, ``"M"``, ``"Q"``, ``"Y"``).
        unit: Unit of ``recency``, ``T`` and ``duration_holdout``.
        timezone: Zone of the wall-clock times (as returned by ``read_transactions``).
        allow_returns: Whether the batch may hold returns.
        canonical_order: Sort the rows by amount first (see above).

    Returns:
        The customers' summary, sorted by customer id.

    Raises:
        InvalidInputError: For bad arguments or rows.

    Examples:
        >>> batch = {
        ...     "customer_id": [1, 1, 1, 2],
        ...     "time": ["2024-01-01", "2024-01-01", "2024-01-15", "2024-01-08"],
        ...     "amount": [5.0, 5.0, 7.0, 3.0],
        ... }
        >>> s = summarize_customers(batch, observation_end="2024-01-29")
        >>> s.frequency.tolist(), s.T.tolist(), s.monetary.tolist()
        ([1, 0], [4.0, 3.0], [7.0, 0.0])
    """
    if observation_end is None:
        raise InvalidInputError(
            "The 'observation_end' argument of summarize_customers is required: the end of "
            "observation of the whole log (one batch does not know the log's last transaction)."
        )
    present = _present_columns(batch)
    names = {name: name for name in TRANSACTION_COLUMNS if name in present}
    log = TransactionLog.from_frame(
        batch,
        customer="customer_id",
        time="time",
        amount=names.get("amount"),
        is_return=names.get("is_return"),
        timezone=timezone,
        allow_returns=allow_returns,
    )
    if canonical_order:
        log = _in_canonical_order(log)
    bucket, to_unit = parse_unit(period, field="period"), parse_unit(unit)
    first_end = observation_end if calibration_end is None else calibration_end
    end_name = "observation_end" if calibration_end is None else "calibration_end"
    if not _has_purchase_by(log, first_end, bucket, end_name):
        return _empty_summary(
            log.customer_id,
            has_amount=log.amount is not None,
            holdout=calibration_end is not None,
            unit=to_unit,
        )
    if calibration_end is None:
        return log.summarize(observation_end, period=bucket, unit=to_unit)
    return log.split(calibration_end, observation_end, period=bucket, unit=to_unit)


def _in_canonical_order(log: TransactionLog) -> TransactionLog:
    """The rows sorted by amount: spend sums no longer depend on the order rows arrive in.

    A customer's amounts are added in row order; an engine's shuffle delivers rows in an
    arbitrary order, so without this the last bit of ``monetary`` could change between runs.
    Rows with equal amounts are interchangeable in a sum, so an unstable sort is enough, and
    nothing else in a summary depends on the order of the rows.
    """
    if log.amount is None or len(log) < 2:
        return log
    order = np.argsort(log.amount)
    return attrs.evolve(
        log,
        customer_id=log.customer_id[order],
        time=log.time[order],
        amount=log.amount[order],
        is_return=None if log.is_return is None else log.is_return[order],
    )


def _present_columns(batch: Any) -> set[str]:
    """Names of the columns of a frame or mapping (whichever library it comes from)."""
    if isinstance(batch, Mapping):
        return {str(k) for k in batch}
    names: Any = getattr(batch, "column_names", None)  # pyarrow
    if names is None:
        names = getattr(batch, "columns", ())
    return {str(n) for n in names}


def _has_purchase_by(log: TransactionLog, end: Any, bucket: TimeUnit, name: str) -> bool:
    """Whether any purchase of ``log`` falls in or before the period of ``end``."""
    purchases = log.purchases()
    if len(purchases) == 0:
        return False
    instant = parse_instant(name, end, zone=log.timezone)
    micros = np.array([instant.astype("datetime64[us]").astype(np.int64)])
    end_period = int(period_index(micros, bucket)[0])
    first = purchases.time.min().astype("datetime64[us]").astype(np.int64)
    return int(period_index(np.array([first]), bucket)[0]) <= end_period


def summary_from_frame(batch: Any, *, unit: str | TimeUnit) -> CustomerSummary:
    """Read back a summary batch written by ``CustomerSummary.to_frame``.

    Args:
        batch: Columns of [`SUMMARY_COLUMNS`][relmark.data.partition.SUMMARY_COLUMNS] (the
            first four required) as a frame or mapping.
        unit: Time unit of ``recency``, ``T`` and ``duration_holdout``.

    Returns:
        The summary, rows in batch order.

    Raises:
        InvalidInputError: For missing columns or invalid values.

    Examples:
        >>> s = CustomerSummary.from_arrays([2, 0], [3.0, 0.0], [5.0, 4.0], customer_id=[8, 9])
        >>> summary_from_frame(s.to_frame("pyarrow"), unit="W") == s
        True
    """
    present = _present_columns(batch)
    wanted = {
        name: name for name in SUMMARY_COLUMNS if name in present or name in SUMMARY_COLUMNS[:4]
    }
    columns = {name: values for name, (values, _) in extract_columns(batch, wanted).items()}
    summary = CustomerSummary.from_arrays(
        columns["frequency"],
        columns["recency"],
        columns["T"],
        monetary=columns.get("monetary"),
        customer_id=columns["customer_id"],
        unit=unit,
    )
    if "frequency_holdout" in columns:
        summary = attrs.evolve(
            summary,
            frequency_holdout=np.asarray(columns["frequency_holdout"], dtype=np.int64),
            monetary_holdout=_float_or_none(columns.get("monetary_holdout")),
            duration_holdout=_float_or_none(columns.get("duration_holdout")),
        )
    return summary


def _float_or_none(values: NDArray[Any] | None) -> FloatArray | None:
    return None if values is None else np.asarray(values, dtype=np.float64)


def compress_rows(
    summary: CustomerSummary, names: Sequence[str] = ("frequency", "recency", "T")
) -> WeightedRows:
    """Collapse the customers of a summary to weighted distinct rows of the named columns.

    Args:
        summary: One row per customer (its own ``weights`` are respected).
        names: Columns the rows must be distinct on: ``frequency``, ``recency``, ``T`` first,
            then any of ``monetary`` and the holdout columns the summary has. A model fitted
            on the result sees exactly the columns named here.

    Returns:
        The distinct rows, sorted lexicographically, and their summed weights.

    Raises:
        InvalidInputError: For an unknown column or one the summary does not have.

    Examples:
        >>> s = CustomerSummary.from_arrays([1, 0, 1], [2.0, 0.0, 2.0], [5.0, 5.0, 5.0])
        >>> rows = compress_rows(s)
        >>> rows.values.tolist(), rows.weights.tolist()
        ([[0.0, 0.0, 5.0], [1.0, 2.0, 5.0]], [1.0, 2.0])
    """
    chosen = _check_names(names)
    columns = []
    for name in chosen:
        column = getattr(summary, name)
        if column is None:
            raise InvalidInputError(
                f"The summary has no {name!r} column, so its rows cannot be made distinct on it."
            )
        columns.append(np.asarray(column, dtype=np.float64))
    n = len(summary)
    # The summary's own compression codes (x, t_x, T) by rank already; only the other columns
    # are left to code.
    base = summary.compress()
    if len(chosen) == len(_TRANSACTION_KEYS) or n == 0:
        if n == 0:
            values = np.empty((0, len(chosen)))
            return WeightedRows(names=chosen, values=values, weights=np.empty(0), unit=summary.unit)
        values = np.column_stack([base.frequency, base.recency, base.T])
        return WeightedRows(names=chosen, values=values, weights=base.weights, unit=summary.unit)
    values = np.column_stack(columns)
    return _distinct(
        chosen,
        values,
        summary.row_weights,
        summary.unit,
        key=base.inverse.astype(np.int64).reshape(n),
        width=len(base),
        coded=len(_TRANSACTION_KEYS),
    )


def _check_names(names: Sequence[str]) -> tuple[str, ...]:
    chosen = tuple(names)
    unknown = [n for n in chosen if n not in _KEY_COLUMNS]
    if unknown or chosen[:3] != ("frequency", "recency", "T") or len(set(chosen)) != len(chosen):
        raise InvalidInputError(
            f"The 'names' argument must start with 'frequency', 'recency', 'T' and may add any "
            f"of {list(_KEY_COLUMNS[3:])}, each once. Got {list(chosen)}."
        )
    return chosen


def _distinct(
    names: tuple[str, ...],
    values: FloatArray,
    weights: FloatArray,
    unit: TimeUnit,
    *,
    key: NDArray[np.int64] | None = None,
    width: int = 1,
    coded: int = 0,
) -> WeightedRows:
    """Sort rows lexicographically and add up the weights of equal rows.

    Each column is coded by the rank of its value, and the codes are combined into one int64
    key in mixed radix (first column most significant); when the key would overflow, the key
    built so far is replaced by its rank first, which keeps the order. The row index is packed
    into the low bits of the key when it fits, so one ``np.sort`` of integers orders the rows
    (much faster than ``np.lexsort`` of float rows or a stable ``argsort``). A caller that
    already holds the ranks of the first ``coded`` columns combined passes them as ``key``
    (with ``width`` distinct values).
    """
    n = values.shape[0]
    if n == 0:
        return WeightedRows(names=names, values=values, weights=weights[:0].copy(), unit=unit)
    if key is None:
        key, width, coded = np.zeros(n, dtype=np.int64), 1, 0
    for column in values.T[coded:]:
        code, n_distinct = _ranks(column, unit.days)
        if (width * n_distinct).bit_length() > _KEY_BITS:
            key, width = _ranks(key)
        key = key * n_distinct + code
        width *= n_distinct
    index_bits = max(n - 1, 1).bit_length()
    if (width - 1).bit_length() + index_bits <= _KEY_BITS + 1:
        packed = np.sort((key << index_bits) | np.arange(n, dtype=np.int64))
        rows = packed & ((1 << index_bits) - 1)
        ordered = packed >> index_bits
    else:
        rows = np.argsort(key, kind="stable")
        ordered = key[rows]
    starts_new = np.empty(n, dtype=bool)
    starts_new[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=starts_new[1:])
    starts = np.flatnonzero(starts_new)
    summed = np.add.reduceat(np.take(weights, rows), starts)
    return WeightedRows(
        names=names,
        values=np.take(values, rows[starts], axis=0),
        weights=summed.astype(np.float64, copy=False),
        unit=unit,
    )


def _ranks(values: NDArray[Any], scale: float = 1.0) -> tuple[NDArray[np.int64], int]:
    """Order-preserving integer codes of the values (0 = smallest), and one more than the largest.

    Equal values get equal codes and a smaller value a smaller code, which is all the callers
    need. Values on a grid of step ``1 / scale`` (counts; recency and age of day-stamped
    transactions, with ``scale`` the unit's length in days: the common case) spanning fewer than
    ``_DIRECT_SPAN`` steps are coded by their grid index, in linear time; the codes are accepted
    only when dividing them by ``scale`` gives back every value exactly, which makes equal codes
    mean equal values and keeps the order. Anything else gets its dense rank through a sort.
    """
    if values.size and values.dtype.kind in "iu":
        low = values.min()
        span = int(values.max()) - int(low)
        if span < _DIRECT_SPAN:
            return (values - low).astype(np.int64, copy=False), span + 1
    elif values.size and values.dtype.kind == "f":
        grid = np.rint(values * scale) if scale != 1.0 else np.rint(values)
        low, high = grid.min(), grid.max()
        if (
            np.isfinite(low)
            and np.isfinite(high)
            and high - low < _DIRECT_SPAN
            and np.array_equal(grid / scale if scale != 1.0 else grid, values)
        ):
            return (grid - low).astype(np.int64), int(high - low) + 1
    order = np.argsort(values)
    ordered = values[order]
    new = np.empty(values.size, dtype=np.int64)
    new[0] = 0
    np.not_equal(ordered[1:], ordered[:-1], out=new[1:], casting="unsafe")
    rank_in_order = np.cumsum(new)
    ranks = np.empty(values.size, dtype=np.int64)
    ranks[order] = rank_in_order
    return ranks, int(rank_in_order[-1]) + 1


def merge_rows(parts: Iterable[WeightedRows]) -> WeightedRows:
    """Merge weighted distinct rows from several batches: equal rows add their weights.

    Merging is exact and associative for whole-number weights (sums of counts are exact in
    float64 up to $2^{53}$), so an engine may merge in any tree shape.

    Args:
        parts: Results of [`compress_rows`][relmark.data.partition.compress_rows] (or of
            earlier merges) on the same columns and unit. The rows of a part need not be
            distinct: one part holding the concatenated rows of many is merged too.

    Returns:
        The merged distinct rows, sorted lexicographically.

    Raises:
        InvalidInputError: For no parts, or parts on different columns or units.

    Examples:
        >>> a = CustomerSummary.from_arrays([1, 0], [2.0, 0.0], [5.0, 5.0])
        >>> b = CustomerSummary.from_arrays([1], [2.0], [5.0])
        >>> merge_rows([compress_rows(a), compress_rows(b)]).weights.tolist()
        [1.0, 2.0]
    """
    pieces = list(parts)
    if not pieces:
        raise InvalidInputError("merge_rows needs at least one set of rows; got none.")
    first = pieces[0]
    for piece in pieces[1:]:
        if piece.names != first.names or piece.unit != first.unit:
            raise InvalidInputError(
                f"Cannot merge rows distinct on {list(piece.names)} in unit {piece.unit.value!r} "
                f"with rows distinct on {list(first.names)} in unit {first.unit.value!r}."
            )
    values = np.concatenate([p.values for p in pieces], axis=0)
    weights = np.concatenate([p.weights for p in pieces])
    return _distinct(first.names, values, weights, first.unit)


class RowMerger:
    r"""Merges weighted distinct rows as they arrive, holding about twice the merged result.

    An engine's driver feeds it each partition's
    [`compress_rows`][relmark.data.partition.compress_rows] as soon as that partition is done
    (Dask's ``as_completed``, Ray's ``iter_batches``), so no worker ever holds more than its own
    partition's rows and the driver never holds every partition's rows at once. Arrivals are
    buffered and merged into the running result when the buffer is as large as the result: each
    row is re-sorted $O(\log P)$ times over $P$ partitions, not $P$ times.

    Rows distinct on ``frequency``, ``recency``, ``T`` whose values lie on the unit's day grid
    (whole counts; durations of day-stamped logs, the common case) with whole-number weights are
    coded once, as they arrive, into one order-preserving integer key per row, and merged as
    keys: a flush then sorts integers instead of ranking every column again, and the buffers
    hold 16 bytes per row instead of 32. Keys are accepted only when decoding them gives back
    every value exactly, so the result is the same, bit for bit; any other part switches the
    merger to merging the rows themselves.

    The result equals [`merge_rows`][relmark.data.partition.merge_rows] of all the parts, in any
    arrival order (weights are whole numbers, added exactly).

    Examples:
        >>> a = CustomerSummary.from_arrays([1, 0], [2.0, 0.0], [5.0, 5.0])
        >>> b = CustomerSummary.from_arrays([1], [2.0], [5.0])
        >>> merger = RowMerger()
        >>> merger.add(compress_rows(a))
        >>> merger.add(compress_rows(b))
        >>> merger.result().weights.tolist(), merger.parts
        ([1.0, 2.0], 2)
    """

    def __init__(self) -> None:
        """An empty merger."""
        self._first: WeightedRows | None = None
        self._merged: WeightedRows | _KeyedRows | None = None
        self._pending: list[WeightedRows | _KeyedRows] = []
        self._pending_rows = 0
        self.parts = 0
        """Number of parts added so far."""

    def add(self, rows: WeightedRows) -> None:
        """Add one part.

        Raises:
            InvalidInputError: For rows on other columns or in another unit than the first part.
        """
        first = self._first
        if first is not None and (rows.names != first.names or rows.unit != first.unit):
            raise InvalidInputError(
                f"Cannot merge rows distinct on {list(rows.names)} in unit {rows.unit.value!r} "
                f"with rows distinct on {list(first.names)} in unit {first.unit.value!r}."
            )
        if first is None:
            self._first = rows
        keyed = _KeyedRows.of(rows)
        self._pending.append(rows if keyed is None else keyed)
        self._pending_rows += len(rows)
        self.parts += 1
        merged = 0 if self._merged is None else len(self._merged)
        if self._pending_rows >= max(merged, _MIN_MERGE_ROWS):
            self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        parts = self._pending if self._merged is None else [self._merged, *self._pending]
        keyed = [part for part in parts if isinstance(part, _KeyedRows)]
        if len(keyed) == len(parts):
            self._merged = _KeyedRows.merge(keyed)
        else:
            self._merged = merge_rows(
                part.rows() if isinstance(part, _KeyedRows) else part for part in parts
            )
        self._pending, self._pending_rows = [], 0

    def result(self) -> WeightedRows:
        """The merged rows of every part added so far, sorted lexicographically.

        Raises:
            InvalidInputError: When no part was added.
        """
        self._flush()
        if self._merged is None:
            raise InvalidInputError("merge_rows needs at least one set of rows; got none.")
        if isinstance(self._merged, _KeyedRows):
            self._merged = self._merged.rows()
        return self._merged


_KEY_FIELDS = (20, 21, 21)
"""Bits of the grid codes of ``frequency``, ``recency`` and ``T`` in a merge key."""


@attrs.frozen(kw_only=True)
class _KeyedRows:
    """Rows distinct on (x, t_x, T) held as one int64 key per row, for RowMerger.

    Each column is coded by its index on the unit's day grid (``frequency``: the count itself),
    the codes packed in ``_KEY_FIELDS`` bits, first column most significant: key order is
    lexicographic value order, and equal keys are equal rows.
    """

    keys: NDArray[np.int64]
    weights: FloatArray
    unit: TimeUnit

    def __len__(self) -> int:
        return int(self.keys.size)

    @staticmethod
    def _scales(unit: TimeUnit) -> tuple[float, float, float]:
        return (1.0, unit.days, unit.days)

    @classmethod
    def of(cls, rows: WeightedRows) -> _KeyedRows | None:
        """The rows as keys, or ``None`` when they cannot be coded exactly."""
        weights = rows.weights
        if rows.names != _TRANSACTION_KEYS or not np.array_equal(weights, np.rint(weights)):
            return None
        key = np.zeros(len(rows), dtype=np.int64)
        for j, (scale, bits) in enumerate(zip(cls._scales(rows.unit), _KEY_FIELDS, strict=True)):
            values = rows.values[:, j]
            grid = np.rint(values * scale) if scale != 1.0 else np.rint(values)
            if values.size and not (
                grid.min() >= 0
                and grid.max() < (1 << bits)
                and not np.signbit(values).any()
                and np.array_equal(grid / scale if scale != 1.0 else grid, values)
            ):
                return None
            key = (key << bits) | grid.astype(np.int64)
        return cls(keys=key, weights=weights, unit=rows.unit)

    @classmethod
    def merge(cls, parts: list[_KeyedRows]) -> _KeyedRows:
        """Equal keys add their weights; keys sorted."""
        keys = np.concatenate([p.keys for p in parts])
        weights = np.concatenate([p.weights for p in parts])
        if keys.size == 0:
            return cls(keys=keys, weights=weights, unit=parts[0].unit)
        # Every part arrives sorted: a stable sort (timsort) merges the runs.
        order = np.argsort(keys, kind="stable")
        ordered = keys[order]
        starts_new = np.empty(keys.size, dtype=bool)
        starts_new[0] = True
        np.not_equal(ordered[1:], ordered[:-1], out=starts_new[1:])
        starts = np.flatnonzero(starts_new)
        summed = np.add.reduceat(np.take(weights, order), starts)
        return cls(keys=ordered[starts], weights=summed, unit=parts[0].unit)

    def rows(self) -> WeightedRows:
        """The rows decoded: the very values that were coded."""
        columns = []
        shift = sum(_KEY_FIELDS)
        for scale, bits in zip(self._scales(self.unit), _KEY_FIELDS, strict=True):
            shift -= bits
            grid = ((self.keys >> shift) & ((1 << bits) - 1)).astype(np.float64)
            columns.append(grid / scale if scale != 1.0 else grid)
        values = np.column_stack(columns) if columns[0].size else np.empty((0, 3))
        return WeightedRows(
            names=_TRANSACTION_KEYS, values=values, weights=self.weights, unit=self.unit
        )


_MIN_MERGE_ROWS = 1 << 16
"""Rows buffered before the first merge: small parts are merged in batches, not one by one."""


def bootstrap_weights(
    rows: WeightedRows, *, draws: int, seed: int | np.random.Generator | None
) -> Iterator[FloatArray]:
    r"""Weights of the distinct rows in bootstrap resamples of the customers they stand for.

    Resampling the $N$ customers with replacement gives customer $i$ a count $c_i$, with
    $(c_1, \dots, c_N) \sim \text{Multinomial}(N, 1/N, \dots, 1/N)$; a distinct row shared by
    $w_j$ customers gets their summed count, and sums of multinomial counts over disjoint groups
    are multinomial with the groups' probabilities (Johnson, Kotz & Balakrishnan 1997, *Discrete
    Multivariate Distributions*, ch. 35): the row counts are drawn directly as
    $\text{Multinomial}(N, w_1/N, \dots, w_J/N)$, in $O(J)$ per resample. A model refitted on
    the rows with these weights is the refit on a customer resample.

    Args:
        rows: Weighted distinct rows (merged from every partition); whole-number weights.
        draws: Number of resamples.
        seed: Seed or generator; the same seed and rows give the same resamples.

    Yields:
        One weight per row, per resample (float64, whole numbers summing to $N$).

    Raises:
        InvalidInputError: For no rows or weights that are not whole numbers.

    Examples:
        >>> s = CustomerSummary.from_arrays([1, 0, 1], [2.0, 0.0, 2.0], [5.0, 5.0, 5.0])
        >>> [w.sum() for w in bootstrap_weights(compress_rows(s), draws=2, seed=1)]
        [np.float64(3.0), np.float64(3.0)]
    """
    weights = rows.weights
    total = float(weights.sum()) if weights.size else 0.0
    if weights.size == 0 or not np.all(weights == np.round(weights)) or total < 1:
        raise InvalidInputError(
            "Bootstrap resamples need rows whose weights are whole numbers of customers (at "
            f"least one); got {weights.size} rows with total weight {total:g}."
        )
    rng = np.random.default_rng(seed)
    probabilities = weights / total
    for _ in range(draws):
        yield rng.multinomial(int(total), probabilities).astype(np.float64)


_ALIVE = ColumnInfo(
    description="Probability that the customer is still active at the end of observation.",
    kind=ColumnKind.FLOAT,
    range=(0.0, 1.0),
)


def _is_scorer(value: object) -> bool:
    # relmark.typing.Scorer's runtime check, spelled out: relmark.typing sits above the data layer.
    return callable(getattr(value, "fit", None)) and callable(getattr(value, "score", None))


def score_summary(
    fitted: Any,
    summary: CustomerSummary,
    *,
    horizon: float | None = None,
    intervals: Any = None,
    level: float = 0.9,
) -> ScoreTable:
    """Score the customers of a summary batch with a fitted scorer, scorers or model.

    Args:
        fitted: A fitted scorer (anything with ``score(summary)`` returning a
            [`ScoreTable`][relmark.data.table.ScoreTable]), a sequence of them (their tables
            are joined, columns in order), a fitted transaction model (columns
            ``probability_alive`` and, with ``horizon``, ``expected_purchases``) or a fitted
            spend model (column ``expected_spend``).
        summary: The customers to score.
        horizon: For a transaction model: the window of ``expected_purchases``, in the model's
            unit.
        intervals: For a model: parameter draws of it
            ([`ParameterDraws`][relmark.clv.uncertainty.ParameterDraws], drawn once by the
            caller and shared by every batch, so every batch sees the same draws); each score
            column then gets ``<column>_lower`` and ``<column>_upper``. Scorers carry their own
            interval setting (``CLVScorer(interval=...)``) and refuse this argument.
        level: Coverage of the intervals, in $(0, 1)$.

    Returns:
        One row per customer, in summary order.

    Raises:
        InvalidInputError: For an object that is none of the above, or ``intervals`` with a
            scorer.
        NotFittedError: For an unfitted scorer or model.

    Examples:
        >>> from relmark.clv import BGNBD
        >>> model = BGNBD.from_params(r=0.24, alpha=4.41, a=0.79, b=2.43, unit="W")
        >>> s = CustomerSummary.from_arrays([2, 0], [30.43, 0.0], [38.86, 38.86])
        >>> table = score_summary(model, s, horizon=39)
        >>> table.columns
        ('probability_alive', 'expected_purchases')
    """
    scorers = _is_scorer(fitted) or (
        isinstance(fitted, Sequence) and bool(fitted) and all(_is_scorer(s) for s in fitted)
    )
    if scorers and intervals is not None:
        raise InvalidInputError(
            "The 'intervals' argument applies to a fitted model; a scorer adds its own intervals "
            "(e.g. CLVScorer(interval=0.9))."
        )
    if _is_scorer(fitted):
        table: ScoreTable = fitted.score(summary)
        return table
    if scorers:
        tables: list[ScoreTable] = [s.score(summary) for s in fitted]
        return tables[0].join(*tables[1:])
    columns: dict[str, NDArray[Any]] = {}
    info: dict[str, ColumnInfo] = {}
    bands: dict[str, Any] = {}
    if hasattr(fitted, "probability_alive") and hasattr(fitted, "expected_purchases"):
        columns["probability_alive"] = fitted.probability_alive(summary)
        info["probability_alive"] = _ALIVE
        if intervals is not None:
            bands["probability_alive"] = intervals.probability_alive(summary, level=level)
        if horizon is not None:
            columns["expected_purchases"] = fitted.expected_purchases(horizon, summary)
            info["expected_purchases"] = ColumnInfo(
                description=f"Expected repeat purchases in the next {horizon:g} model units.",
                kind=ColumnKind.FLOAT,
                unit="purchases",
                range=(0.0, float("inf")),
            )
            if intervals is not None:
                bands["expected_purchases"] = intervals.expected_purchases(
                    horizon, summary, level=level
                )
    elif hasattr(fitted, "expected_spend"):
        columns["expected_spend"] = fitted.expected_spend(summary)
        info["expected_spend"] = ColumnInfo(
            description="Expected average transaction value.",
            kind=ColumnKind.FLOAT,
            unit="currency",
        )
        if intervals is not None:
            bands["expected_spend"] = intervals.expected_spend(summary, level=level)
    else:
        raise InvalidInputError(
            "The 'fitted' argument must be a fitted scorer (with score(summary)), a list of "
            f"them, a transaction model or a spend model. Got {type(fitted).__name__}."
        )
    for name, band in bands.items():
        for end, values in (("lower", band.lower), ("upper", band.upper)):
            columns[f"{name}_{end}"] = values
            info[f"{name}_{end}"] = attrs.evolve(
                info[name],
                description=(
                    f"{end.capitalize()} end of the {100 * level:g}% interval of '{name}' over "
                    f"{band.draws} {band.method} draws of the model's parameters (parameter "
                    "uncertainty, not the spread of future purchases)."
                ),
            )
    return ScoreTable.from_columns(summary.customer_id, columns, info)


def score_frame(
    fitted: Any,
    batch: Any,
    *,
    unit: str | TimeUnit,
    horizon: float | None = None,
    include_summary: bool = False,
    backend: str = "pandas",
    intervals: Any = None,
    level: float = 0.9,
) -> Any:
    """Score one summary batch and return a frame: ``customer_id`` then the score columns.

    Args:
        fitted: As in [`score_summary`][relmark.data.partition.score_summary].
        batch: A summary batch (see
            [`summary_from_frame`][relmark.data.partition.summary_from_frame]).
        unit: Time unit of the batch's durations.
        horizon: As in [`score_summary`][relmark.data.partition.score_summary].
        include_summary: Put the summary columns (``frequency``, ``recency``, ``T`` and
            ``monetary`` when present) between ``customer_id`` and the scores.
        backend: ``"pandas"``, ``"polars"`` or ``"pyarrow"``.
        intervals: As in [`score_summary`][relmark.data.partition.score_summary].
        level: As in [`score_summary`][relmark.data.partition.score_summary].

    Returns:
        One row per customer, in batch order.

    Raises:
        InvalidInputError: As [`score_summary`][relmark.data.partition.score_summary].
    """
    summary = summary_from_frame(batch, unit=unit)
    table = score_summary(fitted, summary, horizon=horizon, intervals=intervals, level=level)
    columns: dict[str, NDArray[Any]] = {"customer_id": summary.customer_id}
    if include_summary:
        columns.update(frequency=summary.frequency, recency=summary.recency, T=summary.T)
        if summary.monetary is not None:
            columns["monetary"] = summary.monetary
    columns.update({name: table[name] for name in table.columns})
    return to_native_frame(columns, backend)
