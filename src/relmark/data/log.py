"""Transaction logs: validated columns of (customer, time, amount) and their customer summaries.

A [`TransactionLog`][relmark.data.log.TransactionLog] holds one row per transaction as numpy
arrays. [`summarize`][relmark.data.log.TransactionLog.summarize] turns it into a
[`CustomerSummary`][relmark.data.summary.CustomerSummary] (frequency, recency, T, monetary) and
[`split`][relmark.data.log.TransactionLog.split] into a calibration summary with holdout columns.
The semantics for ``period="D"`` are those of lifetimes' ``summary_data_from_transaction_data``;
see ``docs/explanation/summaries.md``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray

from relmark.data import _frames
from relmark.data._periods import period_index, period_start_day
from relmark.data._timestamps import parse_instant, parse_time_column
from relmark.data.summary import CustomerSummary, offending_rows
from relmark.data.units import TimeUnit, parse_unit
from relmark.errors import InvalidInputError
from relmark.typing import FloatArray, IntArray

__all__ = ["TransactionLog"]

_MAX_SHOWN = 5
_DENSE_FACTOR = 4


def _array_eq(a: NDArray[Any] | None, b: NDArray[Any] | None) -> bool:
    if a is None or b is None:
        return a is b
    return a.shape == b.shape and bool(np.array_equal(a, b))


_cmp = attrs.cmp_using(eq=_array_eq)


def _column(name: str, values: ArrayLike) -> NDArray[Any]:
    """``values`` as one numpy column, or an error naming the column (ragged or nested input)."""
    try:
        column = np.asarray(values)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"Column {name!r} must be a flat sequence of scalars (one per transaction); it could "
            f"not be read as a column: {exc}"
        ) from exc
    if column.ndim != 1:
        raise InvalidInputError(
            f"Column {name!r} must be one-dimensional (one value per transaction); got shape "
            f"{column.shape}."
        )
    return column


def _validate_ids(values: NDArray[Any]) -> NDArray[Any]:
    name = "customer_id"
    if values.ndim != 1:
        raise InvalidInputError(
            f"Column {name!r} must be one-dimensional; got shape {values.shape}."
        )
    kind = values.dtype.kind
    if kind in "US" or (kind == "T"):
        values = values.astype(object)
        kind = "O"
    if kind == "f":
        bad = np.isnan(values)
        if bad.any():
            raise InvalidInputError(
                f"Column {name!r} has missing customer ids (NaN) at {offending_rows(bad)}."
            )
    elif kind in "mM":
        bad = np.isnat(values)
        if bad.any():
            raise InvalidInputError(
                f"Column {name!r} has missing customer ids (NaT) at {offending_rows(bad)}."
            )
    elif kind == "O":
        bad = np.fromiter(
            (v is None or (isinstance(v, float) and math.isnan(v)) for v in values),
            dtype=bool,
            count=values.size,
        )
        if bad.any():
            raise InvalidInputError(
                f"Column {name!r} has missing customer ids (None/NaN) at {offending_rows(bad)}."
            )
        types = {type(v).__name__ for v in values}
        if len(types) > 1:
            raise InvalidInputError(
                f"Column {name!r} mixes id types {sorted(types)}; give every id the same type "
                "(all integers or all strings)."
            )
    elif kind not in "iub":
        raise InvalidInputError(
            f"Column {name!r} must hold integer or string ids; got dtype {values.dtype}."
        )
    return values


def _validate_amounts(values: ArrayLike, n: int, *, allow_returns: bool) -> FloatArray:
    name = "amount"
    try:
        amounts = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(_non_numeric_message(name, values, exc)) from exc
    if amounts.ndim != 1 or amounts.size != n:
        raise InvalidInputError(
            f"Column {name!r} must be one-dimensional with {n} rows (one per transaction); got "
            f"shape {amounts.shape}."
        )
    bad = ~np.isfinite(amounts)
    if bad.any():
        raise InvalidInputError(
            f"Column {name!r} must hold finite amounts; found NaN or infinity at "
            f"{offending_rows(bad)}: {amounts[bad][:_MAX_SHOWN].tolist()}."
        )
    if not allow_returns:
        bad = amounts < 0
        if bad.any():
            raise InvalidInputError(
                f"Column {name!r} must be >= 0; got {amounts[bad][:_MAX_SHOWN].tolist()} at "
                f"{offending_rows(bad)}. Pass allow_returns=True if negative amounts are returns."
            )
    return amounts


def _non_numeric_message(name: str, values: ArrayLike, exc: Exception) -> str:
    """Name the first rows of a column that do not convert to float, or repeat ``exc``."""
    column = np.asarray(values, dtype=object)
    if column.ndim != 1:
        return f"Column {name!r} must be numeric; could not convert it: {exc}"
    bad = np.zeros(column.size, dtype=bool)
    for row, value in enumerate(column):
        try:
            np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            bad[row] = True
    if not bad.any():
        return f"Column {name!r} must be numeric; could not convert it: {exc}"
    return (
        f"Column {name!r} must be numeric; found values that are not numbers at "
        f"{offending_rows(bad)}: {column[bad][:_MAX_SHOWN].tolist()}."
    )


@attrs.frozen(kw_only=True)
class _Grouped:
    """Per-customer statistics of the distinct purchase periods up to the observation end."""

    customer_id: NDArray[Any]
    first: IntArray
    last_calibration: IntArray
    n_calibration: IntArray
    n_holdout: IntArray
    calibration_repeat_sum: FloatArray | None
    holdout_sum: FloatArray | None
    excluded: int


@attrs.frozen(kw_only=True)
class TransactionLog:
    """One row per transaction: who bought, when, and (optionally) for how much.

    Build one with [`from_arrays`][relmark.data.log.TransactionLog.from_arrays],
    [`from_frame`][relmark.data.log.TransactionLog.from_frame],
    [`from_records`][relmark.data.log.TransactionLog.from_records],
    [`read_csv`][relmark.data.log.TransactionLog.read_csv] or
    [`read_parquet`][relmark.data.log.TransactionLog.read_parquet]; each validates its input and
    never drops or alters a row.

    Attributes:
        customer_id: Customer id per transaction, in its original type (integers stay
            integers; strings are held as an object array of ``str``).
        time: Wall-clock time of each transaction, ``datetime64[us]``.
        amount: Monetary value per transaction (float64), or ``None``.
        timezone: Name of the time zone of ``time`` (all times share it), or ``None`` for naive
            times.
    """

    customer_id: NDArray[Any] = attrs.field(eq=_cmp)
    time: NDArray[np.datetime64] = attrs.field(eq=_cmp)
    amount: FloatArray | None = attrs.field(default=None, eq=_cmp)
    timezone: str | None = None

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_arrays(
        cls,
        customer_id: ArrayLike,
        time: ArrayLike,
        amount: ArrayLike | None = None,
        *,
        timezone: str | None = None,
        time_format: str | None = None,
        allow_returns: bool = False,
    ) -> TransactionLog:
        """Validate three columns and build a log.

        Args:
            customer_id: Integer or string ids, one per transaction; no missing values.
            time: ``datetime64`` values, ``datetime``/``date`` objects, or strings (ISO 8601, or
                ``time_format``); all naive or all in one time zone.
            amount: Transaction values; finite and non-negative unless ``allow_returns``.
            timezone: Zone name of naive ``datetime64`` input that is wall-clock time in a zone.
            time_format: ``strptime`` format of string or integer times (``"%Y%m%d"``).
            allow_returns: Accept negative amounts (returns and refunds).

        Returns:
            The validated log.

        Raises:
            InvalidInputError: Naming the column and the first offending rows.

        Examples:
            >>> log = TransactionLog.from_arrays(
            ...     [7, 7, 9], ["2024-01-02", "2024-01-09", "2024-01-05"]
            ... )
            >>> len(log), log.customer_id.tolist()
            (3, [7, 7, 9])
        """
        return cls._build(
            _column("customer_id", customer_id),
            _column("time", time),
            None if amount is None else _column("amount", amount),
            zone=timezone,
            time_format=time_format,
            allow_returns=allow_returns,
        )

    @classmethod
    def _build(
        cls,
        customer_id: NDArray[Any],
        time: NDArray[Any],
        amount: NDArray[Any] | None,
        *,
        zone: str | None,
        time_format: str | None,
        allow_returns: bool,
    ) -> TransactionLog:
        ids = _validate_ids(customer_id)
        n = ids.size
        if time.ndim != 1 or time.size != n:
            raise InvalidInputError(
                f"Column 'time' must be one-dimensional with {n} rows (one per transaction); got "
                f"shape {time.shape}."
            )
        given_zone = zone if np.issubdtype(time.dtype, np.datetime64) else None
        wall, found_zone = parse_time_column("time", time, zone=given_zone, time_format=time_format)
        if zone is not None and found_zone is not None and zone != found_zone:
            raise InvalidInputError(
                f"Column 'time' is in time zone {found_zone!r} but timezone={zone!r} was given."
            )
        amounts = (
            None if amount is None else _validate_amounts(amount, n, allow_returns=allow_returns)
        )
        return cls(customer_id=ids, time=wall, amount=amounts, timezone=found_zone or zone)

    @classmethod
    def from_frame(
        cls,
        frame: Any,
        *,
        customer: str,
        time: str,
        amount: str | None = None,
        time_format: str | None = None,
        allow_returns: bool = False,
    ) -> TransactionLog:
        """Build a log from a pandas or polars DataFrame, a pyarrow Table or a mapping of arrays.

        Args:
            frame: The transactions, one per row.
            customer: Name of the customer-id column.
            time: Name of the time column (datetime, date, or strings).
            amount: Name of the monetary-value column, if any.
            time_format: ``strptime`` format of a string or integer time column.
            allow_returns: Accept negative amounts.

        Returns:
            The validated log. A zoned datetime column keeps its zone (``log.timezone``).

        Raises:
            InvalidInputError: For missing columns, nulls, unparseable times, bad amounts.

        Examples:
            >>> log = TransactionLog.from_frame(
            ...     {"id": [1, 1], "day": ["2024-05-01", "2024-05-03"], "usd": [10.0, 4.5]},
            ...     customer="id",
            ...     time="day",
            ...     amount="usd",
            ... )
            >>> log.amount.tolist()
            [10.0, 4.5]
        """
        roles = {"customer_id": customer, "time": time}
        if amount is not None:
            roles["amount"] = amount
        columns = _frames.extract_columns(frame, roles)
        try:
            return cls._build(
                columns["customer_id"][0],
                columns["time"][0],
                columns["amount"][0] if amount is not None else None,
                zone=columns["time"][1],
                time_format=time_format,
                allow_returns=allow_returns,
            )
        except InvalidInputError as exc:
            raise InvalidInputError(_rename_columns(str(exc), roles)) from None

    @classmethod
    def from_records(cls, records: Iterable[Any], *, allow_returns: bool = False) -> TransactionLog:
        """Build a log from transaction records or purchase touchpoints.

        Records are [`Transaction`][relmark.domain.records.Transaction]s or
        [`Touchpoint`][relmark.domain.records.Touchpoint]s (or any objects with the same
        attributes). Each record gives ``customer_id`` and ``at`` (its time); transactions also give
        ``amount``, which becomes the amount column. Touchpoints carry no amount, so a log from
        touchpoints has none, and only touchpoints of kind ``purchase`` are transactions.

        Args:
            records: The records, in any order.
            allow_returns: Accept returns (negative amounts); otherwise they are rejected.

        Returns:
            The validated log.

        Raises:
            InvalidInputError: For a record without these attributes, a touchpoint that is not a
                purchase or has no customer, records mixing amounts and none, or transactions in
                different currencies.
        """
        rows = [_record_fields(row, record) for row, record in enumerate(records)]
        ids = [r[0] for r in rows]
        amounts = [r[2] for r in rows]
        has_amount = np.array([a is not None for a in amounts], dtype=bool)
        if has_amount.any() and not has_amount.all():
            raise InvalidInputError(
                f"Records mix transactions (with an amount) and touchpoints (without); no amount "
                f"at {offending_rows(~has_amount)}. Build the log from one kind of record."
            )
        currencies = sorted({str(r[3]) for r in rows if r[3] is not None})
        if len(currencies) > 1:
            raise InvalidInputError(
                f"Records are in several currencies {currencies}; amounts in different "
                "currencies cannot be summed. Convert them to one currency first."
            )
        id_values = np.empty(len(ids), dtype=object)
        id_values[:] = ids
        if ids and all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
            id_values = np.asarray(ids, dtype=np.int64)
        time_values = np.empty(len(rows), dtype=object)
        time_values[:] = [r[1] for r in rows]
        return cls._build(
            id_values,
            time_values,
            np.asarray(amounts, dtype=np.float64) if rows and has_amount.all() else None,
            zone=None,
            time_format=None,
            allow_returns=allow_returns,
        )

    @classmethod
    def read_csv(
        cls,
        path: str | Path,
        *,
        customer: str,
        time: str,
        amount: str | None = None,
        time_format: str | None = None,
        allow_returns: bool = False,
        delimiter: str = ",",
        string_ids: bool = False,
    ) -> TransactionLog:
        """Read a CSV file of transactions (with pyarrow, or polars when pyarrow is absent).

        The time column is read as text and parsed by relmark (ISO 8601 or ``time_format``), so
        the result does not depend on the reader's type inference. Ids are read with the
        reader's inference (digits become integers, so ``"00042"`` becomes ``42``) unless
        ``string_ids``.

        Args:
            path: CSV file (may be compressed: ``.gz``, ``.bz2``, ``.zst``).
            customer: Customer-id column.
            time: Time column.
            amount: Monetary-value column, if any.
            time_format: ``strptime`` format of the time column.
            allow_returns: Accept negative amounts.
            delimiter: Field separator.
            string_ids: Read customer ids as text, keeping leading zeros.

        Raises:
            MissingDependencyError: When neither pyarrow nor polars is installed.
            InvalidInputError: As [`from_frame`][relmark.data.log.TransactionLog.from_frame].
        """
        names = [customer, time] + ([amount] if amount is not None else [])
        table = _frames.read_table(
            path,
            names,
            file_format="csv",
            as_string=[time, customer] if string_ids else [time],
            delimiter=delimiter,
        )
        return cls.from_frame(
            table,
            customer=customer,
            time=time,
            amount=amount,
            time_format=time_format,
            allow_returns=allow_returns,
        )

    @classmethod
    def read_parquet(
        cls,
        path: str | Path,
        *,
        customer: str,
        time: str,
        amount: str | None = None,
        time_format: str | None = None,
        allow_returns: bool = False,
    ) -> TransactionLog:
        """Read a Parquet file of transactions (with pyarrow, or polars when pyarrow is absent).

        Raises:
            MissingDependencyError: When neither pyarrow nor polars is installed.
            InvalidInputError: As [`from_frame`][relmark.data.log.TransactionLog.from_frame].
        """
        names = [customer, time] + ([amount] if amount is not None else [])
        table = _frames.read_table(path, names, file_format="parquet", as_string=[])
        return cls.from_frame(
            table,
            customer=customer,
            time=time,
            amount=amount,
            time_format=time_format,
            allow_returns=allow_returns,
        )

    # ------------------------------------------------------------------ basic facts
    def __len__(self) -> int:
        """Number of transactions."""
        return int(self.customer_id.size)

    @property
    def n_customers(self) -> int:
        """Number of distinct customers."""
        return int(np.unique(self.customer_id).size)

    @property
    def start(self) -> np.datetime64:
        """Time of the earliest transaction (wall clock in ``timezone``)."""
        self._require_rows()
        first: np.datetime64 = self.time.min()
        return first

    @property
    def end(self) -> np.datetime64:
        """Time of the latest transaction (wall clock in ``timezone``)."""
        self._require_rows()
        last: np.datetime64 = self.time.max()
        return last

    def _require_rows(self) -> None:
        if len(self) == 0:
            raise InvalidInputError("The transaction log is empty; it has no first or last time.")

    # ------------------------------------------------------------------ summaries
    def summarize(
        self,
        observation_end: Any = None,
        *,
        period: str | TimeUnit = "D",
        unit: str | TimeUnit = "W",
    ) -> CustomerSummary:
        """Summarize each customer's purchases up to ``observation_end``.

        Purchases are first collapsed to one per customer per calendar ``period`` (amounts
        summed); then per customer: ``frequency`` = purchase periods − 1, ``recency`` = start of
        the last purchase period − start of the first, ``T`` = start of the period of
        ``observation_end`` − start of the first purchase period, ``monetary`` = mean of the
        per-period amounts after the first period (0 without repeats). Durations are in ``unit``.

        Transactions in periods after the period of ``observation_end`` are not counted
        (so customers whose first purchase is later are absent); their number is recorded in
        ``excluded_transactions``. With ``period="D"``, ``unit="W"`` this equals lifetimes'
        ``summary_data_from_transaction_data(..., freq="D", freq_multiplier=7)``.

        Args:
            observation_end: End of observation (datetime, ``numpy.datetime64`` or ISO string);
                the latest transaction time by default.
            period: Purchase bucket: ``"D"``, ``"W"`` (weeks start on Monday), ``"M"``,
                ``"Q"`` or ``"Y"``.
            unit: Unit of ``recency`` and ``T``.

        Returns:
            One row per customer, sorted by customer id.

        Raises:
            InvalidInputError: For an empty log or bad arguments.

        Examples:
            >>> log = TransactionLog.from_arrays(
            ...     [1, 1, 1, 2],
            ...     ["2024-01-01", "2024-01-01", "2024-01-15", "2024-01-08"],
            ...     [5, 5, 7, 3],
            ... )
            >>> s = log.summarize("2024-01-29")
            >>> s.frequency.tolist(), s.recency.tolist(), s.T.tolist(), s.monetary.tolist()
            ([1, 0], [2.0, 0.0], [4.0, 3.0], [7.0, 0.0])
        """
        bucket, to_unit = parse_unit(period, field="period"), parse_unit(unit)
        end = self._period_of("observation_end", observation_end, bucket)
        grouped = self._group(end, end, bucket)
        return self._calibration_summary(grouped, end, bucket, to_unit)

    def split(
        self,
        calibration_end: Any,
        observation_end: Any = None,
        *,
        period: str | TimeUnit = "D",
        unit: str | TimeUnit = "W",
    ) -> CustomerSummary:
        """Summarize a calibration period and count each calibration customer's holdout purchases.

        The calibration summary is ``summarize(calibration_end)`` restricted to the log's
        periods up to the period of ``calibration_end``. For every calibration customer the
        holdout columns count the periods in (period of ``calibration_end``, period of
        ``observation_end``]: ``frequency_holdout`` = purchase periods, ``monetary_holdout`` =
        mean per-period amount (0 where none), ``duration_holdout`` = length of the holdout in
        ``unit``. Customers whose first purchase falls in the holdout are not in the result;
        their transactions, and any after ``observation_end``, are counted in
        ``excluded_transactions``.

        Args:
            calibration_end: Last instant of the calibration period.
            observation_end: Last instant of the holdout period; the latest transaction by default.
            period: Purchase bucket (see [`summarize`][relmark.data.log.TransactionLog.summarize]).
            unit: Unit of ``recency``, ``T`` and ``duration_holdout``.

        Returns:
            The calibration summary with holdout columns, sorted by customer id.

        Raises:
            InvalidInputError: When the holdout is empty or reversed, or no customer has a
                purchase by ``calibration_end``.
        """
        bucket, to_unit = parse_unit(period, field="period"), parse_unit(unit)
        calibration = self._period_of("calibration_end", calibration_end, bucket)
        end = self._period_of("observation_end", observation_end, bucket)
        if end <= calibration:
            raise InvalidInputError(
                f"The 'observation_end' parameter must fall in a later {bucket.name.lower()} than "
                f"'calibration_end' (an empty holdout cannot be evaluated). Got observation_end="
                f"{observation_end!r}, calibration_end={calibration_end!r}."
            )
        grouped = self._group(calibration, end, bucket)
        summary = self._calibration_summary(grouped, calibration, bucket, to_unit)
        holdout_days = int(period_start_day(np.array([end]), bucket)[0]) - int(
            period_start_day(np.array([calibration]), bucket)[0]
        )
        monetary_holdout = None
        if grouped.holdout_sum is not None:
            monetary_holdout = np.divide(
                grouped.holdout_sum,
                grouped.n_holdout,
                out=np.zeros(grouped.n_holdout.size),
                where=grouped.n_holdout > 0,
            )
        return attrs.evolve(
            summary,
            frequency_holdout=grouped.n_holdout,
            monetary_holdout=monetary_holdout,
            duration_holdout=np.full(grouped.n_holdout.size, holdout_days / to_unit.days),
        )

    def _period_of(self, name: str, value: Any, bucket: TimeUnit) -> int:
        if len(self) == 0:
            raise InvalidInputError("The transaction log is empty; there is nothing to summarize.")
        instant = self.end if value is None else parse_instant(name, value, zone=self.timezone)
        micros = np.array([instant.astype("datetime64[us]").astype(np.int64)])
        return int(period_index(micros, bucket)[0])

    def _group(self, calibration_end: int, observation_end: int, bucket: TimeUnit) -> _Grouped:
        periods = period_index(self.time.view(np.int64), bucket)
        log, n_after = self, 0
        if periods.size and int(periods.max()) > observation_end:
            keep = periods <= observation_end
            n_after = int(keep.size - np.count_nonzero(keep))
            periods, log = periods[keep], self._subset(keep)
        if periods.size == 0:
            raise InvalidInputError(
                "No transaction falls on or before 'observation_end'; nothing to summarize."
            )
        low = int(periods.min())
        # Period offsets take the low bits of the key, so splitting a key is a shift and a mask.
        shift = (int(periods.max()) - low).bit_length()
        codes, id_base, n_codes = _customer_codes(log.customer_id, shift)
        pair_code, pair_offset = _distinct_pairs(codes, periods - low, shift, n_codes)
        pair_period = pair_offset + low
        new_customer = np.empty(pair_code.size, dtype=bool)
        new_customer[0] = True
        np.not_equal(pair_code[1:], pair_code[:-1], out=new_customer[1:])
        starts = np.flatnonzero(new_customer)
        n_pairs = np.diff(np.append(starts, pair_code.size))
        has_holdout = calibration_end < observation_end
        n_calibration = (
            np.add.reduceat((pair_period <= calibration_end).astype(np.int64), starts)
            if has_holdout
            else n_pairs
        )
        included = n_calibration > 0
        customer_code = pair_code[starts].astype(np.int64)
        first = pair_period[starts]
        last = pair_period[starts + np.maximum(n_calibration - 1, 0)]
        excluded = n_after
        if has_holdout and not included.all():
            transactions = np.bincount(codes, minlength=n_codes)
            excluded += int(transactions[customer_code[~included]].sum())
        repeat_sum: FloatArray | None = None
        holdout_sum: FloatArray | None = None
        if log.amount is not None:
            repeat_sum, holdout_sum = _repeat_and_holdout_sums(
                codes, periods, log.amount, customer_code, first, calibration_end, n_codes
            )
            repeat_sum, holdout_sum = repeat_sum[included], holdout_sum[included]
        customer_code = customer_code[included]
        if id_base.ndim == 0:
            customer_id = customer_code.astype(log.customer_id.dtype) + id_base
        else:
            customer_id = id_base[customer_code]
        return _Grouped(
            customer_id=customer_id,
            first=first[included],
            last_calibration=last[included],
            n_calibration=n_calibration[included],
            n_holdout=(n_pairs - n_calibration)[included],
            calibration_repeat_sum=repeat_sum,
            holdout_sum=holdout_sum,
            excluded=excluded,
        )

    def _subset(self, mask: NDArray[np.bool_]) -> TransactionLog:
        return attrs.evolve(
            self,
            customer_id=self.customer_id[mask],
            time=self.time[mask],
            amount=None if self.amount is None else self.amount[mask],
        )

    def _calibration_summary(
        self, grouped: _Grouped, end: int, bucket: TimeUnit, unit: TimeUnit
    ) -> CustomerSummary:
        if grouped.first.size == 0:
            raise InvalidInputError(
                "No customer has a purchase on or before the end of the calibration period."
            )
        first_day = period_start_day(grouped.first, bucket)
        last_day = period_start_day(grouped.last_calibration, bucket)
        end_day = int(period_start_day(np.array([end]), bucket)[0])
        frequency = grouped.n_calibration - 1
        monetary = None
        if grouped.calibration_repeat_sum is not None:
            monetary = np.divide(
                grouped.calibration_repeat_sum,
                frequency,
                out=np.zeros(frequency.size),
                where=frequency > 0,
            )
        return CustomerSummary(
            customer_id=grouped.customer_id,
            frequency=frequency,
            recency=(last_day - first_day) / unit.days,
            T=(end_day - first_day) / unit.days,
            monetary=monetary,
            unit=unit,
            excluded_transactions=grouped.excluded,
        )


def _record_fields(row: int, record: Any) -> tuple[Any, Any, float | None, object]:
    """``(customer_id, at, amount, currency)`` of a transaction or purchase touchpoint."""
    try:
        customer_id, at = record.customer_id, record.at
    except AttributeError:
        raise InvalidInputError(
            f"Record {row} ({type(record).__name__}) has no 'customer_id' or 'at' attribute; "
            "records must be transactions or touchpoints."
        ) from None
    kind = getattr(record, "kind", None)
    if kind is not None and getattr(kind, "value", kind) != "purchase":
        raise InvalidInputError(
            f"Record {row} is a touchpoint of kind {getattr(kind, 'value', kind)!r}; only "
            "purchase touchpoints are transactions. Filter the touchpoints first."
        )
    if customer_id is None:
        raise InvalidInputError(f"Record {row} has no customer_id (a stakeholder touchpoint?).")
    amount = getattr(record, "amount", None)
    return (
        customer_id,
        at,
        None if amount is None else float(amount),
        getattr(record, "currency", None),
    )


def _customer_codes(ids: NDArray[Any], shift: int) -> tuple[IntArray, NDArray[Any], int]:
    """Dense integer code per transaction, the way back to ids, and the number of codes.

    The way back is the ids by code, or (fast path for integer ids) the smallest id, when the
    id offset itself is a compact code; the fast path spares a sort of the ids.
    """
    n = ids.size
    if ids.dtype.kind in "iu":
        lo, hi = ids.min(), ids.max()
        n_codes = int(hi) - int(lo) + 1
        if n_codes <= max(_DENSE_FACTOR * n, 1 << 16) and n_codes.bit_length() + shift < 63:
            if lo == 0 and ids.dtype == np.int64:
                return ids, np.asarray(lo, dtype=ids.dtype), n_codes
            return (ids - lo).astype(np.int64), np.asarray(lo, dtype=ids.dtype), n_codes
    try:
        uniques, codes = np.unique(ids, return_inverse=True)
    except TypeError as exc:
        raise InvalidInputError(f"Customer ids cannot be ordered: {exc}") from None
    return codes.astype(np.int64).reshape(n), uniques, int(uniques.size)


def _distinct_pairs(
    codes: IntArray, offsets: IntArray, shift: int, n_codes: int
) -> tuple[IntArray, IntArray]:
    """Distinct (code, offset) pairs sorted by code then offset, as two arrays.

    One sort of the packed key ``code << shift | offset``; 32-bit keys when they fit, which
    sorts about twice as fast as 64-bit ones.
    """
    narrow = n_codes.bit_length() + shift <= 32
    dtype = np.uint32 if narrow else np.int64
    keys = (codes << shift) | offsets
    ordered = np.sort(keys.astype(dtype) if narrow else keys)
    new_key = np.empty(ordered.size, dtype=bool)
    new_key[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=new_key[1:])
    distinct = ordered[new_key]
    mask = dtype((1 << shift) - 1)
    return (distinct >> dtype(shift)).astype(np.int64), (distinct & mask).astype(np.int64)


def _repeat_and_holdout_sums(
    codes: IntArray,
    periods: IntArray,
    amounts: FloatArray,
    customer_code: IntArray,
    first: IntArray,
    calibration_end: int,
    n_codes: int,
) -> tuple[FloatArray, FloatArray]:
    """Per customer: summed amounts of calibration repeat purchases and of holdout purchases.

    No sort is needed: a transaction is a repeat purchase when its period is after its
    customer's first one. Masked-out amounts are replaced by exact zeros, so sums stay exact.
    """
    first_by_code = np.zeros(n_codes, dtype=np.int64)
    first_by_code[customer_code] = first
    later = periods > first_by_code[codes]
    in_holdout = periods > calibration_end
    if not in_holdout.any():
        repeat = np.bincount(codes, weights=np.where(later, amounts, 0.0), minlength=n_codes)
        return repeat.astype(np.float64, copy=False)[customer_code], np.zeros(customer_code.size)
    repeat = np.bincount(
        codes, weights=np.where(later & ~in_holdout, amounts, 0.0), minlength=n_codes
    )
    holdout = np.bincount(codes, weights=np.where(in_holdout, amounts, 0.0), minlength=n_codes)
    return (
        repeat.astype(np.float64, copy=False)[customer_code],
        holdout.astype(np.float64, copy=False)[customer_code],
    )


def _rename_columns(message: str, roles: Mapping[str, str]) -> str:
    """Replace relmark's role names in a message by the user's column names."""
    for role, column in roles.items():
        message = message.replace(f"Column {role!r}", f"Column {column!r}")
    return message
