"""Transaction logs: validated columns of (customer, time, amount) and their customer summaries.

A [`TransactionLog`][relmark.data.log.TransactionLog] holds one row per transaction as numpy
arrays. [`summarize`][relmark.data.log.TransactionLog.summarize] turns it into a
[`CustomerSummary`][relmark.data.summary.CustomerSummary] (frequency, recency, T, monetary) and
[`split`][relmark.data.log.TransactionLog.split] into a calibration summary with holdout columns.
The semantics for ``period="D"`` are those of lifetimes' ``summary_data_from_transaction_data``;
see ``docs/explanation/summaries.md``.
"""

from __future__ import annotations

import contextlib
import warnings
import zoneinfo
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray

from relmark._frames import extract_columns, read_table
from relmark._typing import BoolArray, FloatArray, IntArray
from relmark._validation import (
    MAX_SHOWN,
    cmp,
    float_column,
    id_column,
    offending_rows,
    validate_ids,
)
from relmark.data._periods import period_index, period_start_day
from relmark.data._timestamps import parse_instant, parse_time_column
from relmark.data.summary import CustomerSummary
from relmark.data.units import TimeUnit, parse_unit
from relmark.errors import InvalidInputError, RelmarkWarning

__all__ = ["TransactionLog"]

_DENSE_FACTOR = 4
_MICROS_PER_DAY = 86_400_000_000
_OUTLIER_MIN_GAP_MICROS = 365 * _MICROS_PER_DAY
_OUTLIER_MIN_ROWS = 10
_ROLES = ("customer_id", "time", "amount", "is_return")
"""Columns of a log; the names under which ``from_arrays`` reports them."""


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


def _validate_amounts(name: str, values: ArrayLike, n: int, *, allow_returns: bool) -> FloatArray:
    amounts = float_column(name, values, n, what="amounts")
    if not allow_returns:
        bad = amounts < 0
        if bad.any():
            raise InvalidInputError(
                f"Column {name!r} must be >= 0; got {amounts[bad][:MAX_SHOWN].tolist()} at "
                f"{offending_rows(bad)}.",
                column=name,
                value=amounts[bad][:MAX_SHOWN].tolist(),
                rows=np.flatnonzero(bad),
                expected=">= 0",
                hint="Pass allow_returns=True if negative amounts are returns.",
                hint_field="allow_returns",
            )
    return amounts


def _validate_flags(name: str, values: NDArray[Any], n: int) -> BoolArray:
    if values.dtype.kind != "b" or values.ndim != 1 or values.size != n:
        raise InvalidInputError(
            f"Column {name!r} must hold one True/False per transaction ({n} rows); got dtype "
            f"{values.dtype} and shape {values.shape}."
        )
    return values


def _validate_time_format(time_format: object) -> None:
    if time_format is None or (isinstance(time_format, str) and "%" in time_format):
        return
    raise InvalidInputError(
        "The 'time_format' parameter must be a strptime format string with at least one "
        f"%-directive, such as '%Y-%m-%d' or '%d/%m/%Y %H:%M', or None for ISO 8601. Got "
        f"{time_format!r}.",
        field="time_format",
        value=time_format,
        expected="a strptime format string with at least one %-directive, such as '%Y-%m-%d' "
        "or '%d/%m/%Y %H:%M'",
    )


def _validate_timezone(timezone: object, found: str | None) -> None:
    """Check the ``timezone`` argument: an IANA zone name, unless it names the data's own zone."""
    if timezone is None or timezone == found:
        return
    reason = "it is not a string"
    if isinstance(timezone, str):
        try:
            zoneinfo.ZoneInfo(timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            reason = f"no such zone is known ({type(exc).__name__})"
        else:
            return
    raise InvalidInputError(
        f"The 'timezone' parameter must be an IANA time-zone name such as 'Europe/Berlin' or "
        f"'UTC'; {reason}. Got {timezone!r}.",
        field="timezone",
        value=timezone,
        expected="an IANA time-zone name such as 'Europe/Berlin' or 'UTC'",
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


class _FileColumns(NamedTuple):
    """The columns a file reader reads, by role (the arguments of ``read_csv``/``read_parquet``)."""

    customer: str
    time: str
    amount: str | None
    is_return: str | None

    def present(self) -> list[str]:
        """The column names given, in role order."""
        return [name for name in self if name is not None]


@attrs.frozen(kw_only=True)
class TransactionLog:
    """One row per transaction: who bought (or returned), when, and (optionally) for how much.

    Build one with [`from_arrays`][relmark.data.log.TransactionLog.from_arrays],
    [`from_frame`][relmark.data.log.TransactionLog.from_frame],
    [`from_records`][relmark.data.log.TransactionLog.from_records],
    [`read_csv`][relmark.data.log.TransactionLog.read_csv] or
    [`read_parquet`][relmark.data.log.TransactionLog.read_parquet]; each validates its input and
    never drops or alters a row.

    Returns (refunds) are rows too, accepted only with ``allow_returns=True``: a row is a return
    when its amount is negative or it is flagged as one (``is_return``). A return is never a
    purchase; see [`summarize`][relmark.data.log.TransactionLog.summarize] for how its amount
    is netted into the customer's spend.

    Attributes:
        customer_id: Customer id per transaction, in its original type (integers stay
            integers; strings are held as an object array of ``str``).
        time: Wall-clock time of each transaction, ``datetime64[us]``.
        amount: Monetary value per transaction (float64; negative for a refund), or ``None``.
        timezone: Name of the time zone of ``time`` (all times share it), or ``None`` for naive
            times.
        is_return: Whether each row is a return, or ``None`` when no row is.
    """

    customer_id: NDArray[Any] = attrs.field(eq=cmp)
    time: NDArray[np.datetime64] = attrs.field(eq=cmp)
    amount: FloatArray | None = attrs.field(default=None, eq=cmp)
    timezone: str | None = None
    is_return: BoolArray | None = attrs.field(default=None, eq=cmp)

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
        is_return: ArrayLike | None = None,
    ) -> TransactionLog:
        """Validate three columns and build a log.

        Args:
            customer_id: Integer or string ids, one per transaction; no missing values.
            time: ``datetime64`` values, ``datetime``/``date`` objects, or strings (ISO 8601, or
                ``time_format``); all naive or all in one time zone.
            amount: Transaction values; finite and non-negative unless ``allow_returns``.
            timezone: IANA name of the zone (``"Europe/Berlin"``) whose wall-clock time naive
                ``time`` values are. Aware values (``datetime`` objects with a zone, strings with
                a UTC offset such as ``+01:00``, which may change with daylight saving) are
                converted to the wall-clock time of this zone.
            time_format: ``strptime`` format of string or integer times (``"%Y%m%d"``).
            allow_returns: Accept returns: negative amounts (refunds) and rows flagged by
                ``is_return``.
            is_return: One boolean per transaction marking returns (needed for a return whose
                amount is 0 or unknown); a flagged row must not have a positive amount.

        Returns:
            The validated log.

        Raises:
            InvalidInputError: Naming the column and the first offending rows, or an unknown
                ``timezone``.

        Examples:
            >>> log = TransactionLog.from_arrays(
            ...     [7, 7, 9], ["2024-01-02", "2024-01-09", "2024-01-05"]
            ... )
            >>> len(log), log.customer_id.tolist()
            (3, [7, 7, 9])
        """
        return cls._build(
            id_column("customer_id", customer_id),
            _column("time", time),
            None if amount is None else _column("amount", amount),
            None if is_return is None else _column("is_return", is_return),
            names=dict(zip(_ROLES, _ROLES, strict=True)),
            timezone=timezone,
            column_zone=None,
            time_format=time_format,
            allow_returns=allow_returns,
        )

    @classmethod
    def _build(
        cls,
        customer_id: NDArray[Any],
        time: Any,
        amount: NDArray[Any] | None,
        flags: NDArray[Any] | None,
        *,
        names: Mapping[str, str],
        timezone: str | None,
        column_zone: str | None,
        time_format: str | None,
        allow_returns: bool,
    ) -> TransactionLog:
        """Validate the columns, reporting each under ``names[role]`` (the user's name for it)."""
        ids = validate_ids(names["customer_id"], customer_id)
        n = ids.size
        _validate_time_format(time_format)
        is_numpy = isinstance(time, np.ndarray)
        if (time.ndim != 1 or time.size != n) if is_numpy else len(time) != n:
            raise InvalidInputError(
                f"Column {names['time']!r} must be one-dimensional with {n} rows (one per "
                f"transaction); got {f'shape {time.shape}' if is_numpy else f'{len(time)} rows'}."
            )
        zoned_column = is_numpy and np.issubdtype(time.dtype, np.datetime64)
        _validate_timezone(timezone, column_zone if zoned_column else None)
        wall, found_zone = parse_time_column(
            names["time"],
            time,
            zone=column_zone if zoned_column else None,
            time_format=time_format,
            convert_to=None if zoned_column else timezone,
        )
        if timezone is not None and found_zone is not None and timezone != found_zone:
            raise InvalidInputError(
                f"Column {names['time']!r} is in time zone {found_zone!r} but "
                f"timezone={timezone!r} was given."
            )
        amounts = (
            None
            if amount is None
            else _validate_amounts(names["amount"], amount, n, allow_returns=allow_returns)
        )
        returns = None if amounts is None else amounts < 0
        if flags is not None:
            flagged = _validate_flags(names["is_return"], flags, n)
            if flagged.any() and not allow_returns:
                raise InvalidInputError(
                    f"Column {names['is_return']!r} marks returns at {offending_rows(flagged)}; "
                    "pass allow_returns=True to read returns (their amounts are netted into "
                    "the customer's spend; they never count as purchases).",
                    column=names["is_return"],
                    rows=np.flatnonzero(flagged),
                )
            if amounts is not None:
                bad = flagged & (amounts > 0)
                if bad.any():
                    raise InvalidInputError(
                        f"Column {names['amount']!r} must be <= 0 for a return (flagged by "
                        f"{names['is_return']!r}: the refund flows out); got "
                        f"{amounts[bad][:MAX_SHOWN].tolist()} at {offending_rows(bad)}."
                    )
            returns = flagged if returns is None else returns | flagged
        return cls(
            customer_id=ids,
            time=wall,
            amount=amounts,
            timezone=found_zone or timezone,
            is_return=returns if returns is not None and returns.any() else None,
        )

    @classmethod
    def from_frame(
        cls,
        frame: Any,
        *,
        customer: str,
        time: str,
        amount: str | None = None,
        is_return: str | None = None,
        timezone: str | None = None,
        time_format: str | None = None,
        allow_returns: bool = False,
    ) -> TransactionLog:
        """Build a log from a pandas or polars DataFrame, a pyarrow Table or a mapping of arrays.

        Args:
            frame: The transactions, one per row.
            customer: Name of the customer-id column.
            time: Name of the time column (datetime, date, or strings).
            amount: Name of the monetary-value column, if any.
            is_return: Name of a boolean column marking returns, if any.
            timezone: IANA zone name of a naive time column that is wall-clock time in a zone,
                and the zone to which zoned datetime columns and times given as strings with
                UTC offsets are converted (as in
                [`from_arrays`][relmark.data.log.TransactionLog.from_arrays]).
            time_format: ``strptime`` format of a string or integer time column.
            allow_returns: Accept returns (negative amounts, rows flagged by ``is_return``).

        Returns:
            The validated log. A zoned datetime column keeps its zone (``log.timezone``).

        Raises:
            InvalidInputError: For missing columns, nulls, unparseable times, bad amounts or an
                unknown ``timezone``; messages use the frame's column names.

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
        names = {"customer_id": customer, "time": time}
        if amount is not None:
            names["amount"] = amount
        if is_return is not None:
            names["is_return"] = is_return
        _validate_timezone(timezone, None)
        columns = extract_columns(frame, names, text_as_arrow={"time"}, convert_to=timezone)
        return cls._build(
            columns["customer_id"][0],
            columns["time"][0],
            columns["amount"][0] if amount is not None else None,
            columns["is_return"][0] if is_return is not None else None,
            names=names,
            timezone=timezone,
            column_zone=columns["time"][1],
            time_format=time_format,
            allow_returns=allow_returns,
        )

    @classmethod
    def from_records(cls, records: Iterable[Any], *, allow_returns: bool = False) -> TransactionLog:
        """Build a log from transaction records or purchase touchpoints.

        Records are [`Transaction`][relmark.domain.records.Transaction]s or
        [`Touchpoint`][relmark.domain.records.Touchpoint]s (or any objects with the same
        attributes). Each record gives ``customer_id`` and ``at`` (its time); transactions also give
        ``amount``, which becomes the amount column, and ``is_return``. Touchpoints carry no
        amount, so a log from touchpoints has none, and only touchpoints of kind ``purchase``
        are transactions.

        Args:
            records: The records, in any order.
            allow_returns: Accept returns (``is_return=True`` or a negative amount); otherwise
                they are rejected, naming their rows (positions in ``records``).

        Returns:
            The validated log.

        Raises:
            InvalidInputError: For a record without these attributes, a touchpoint that is not a
                purchase or has no customer, records mixing amounts and none, transactions in
                different currencies, returns without ``allow_returns``, or ``records`` that is
                not an iterable of records.
        """
        given: object = records  # checked at run time: callers may pass anything
        if not isinstance(given, Iterable) or isinstance(given, str | bytes | Mapping):
            raise InvalidInputError(
                "The 'records' parameter of TransactionLog.from_records must be an iterable of "
                "Transaction or Touchpoint records (a list, tuple or generator). Got "
                f"{type(records).__name__}."
            )
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
            # Ids beyond int64 stay Python ints in the object array.
            with contextlib.suppress(OverflowError):
                id_values = np.asarray(ids, dtype=np.int64)
        time_values = np.empty(len(rows), dtype=object)
        time_values[:] = [r[1] for r in rows]
        amount_values = None
        if rows and has_amount.all():
            amount_values = np.empty(len(rows), dtype=object)
            amount_values[:] = amounts
        flags = np.array([r[4] for r in rows], dtype=bool)
        return cls._build(
            id_values,
            time_values,
            amount_values,
            flags if flags.any() else None,
            names=dict(zip(_ROLES, _ROLES, strict=True)),
            timezone=None,
            column_zone=None,
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
        is_return: str | None = None,
        timezone: str | None = None,
        time_format: str | None = None,
        allow_returns: bool = False,
        delimiter: str = ",",
        string_ids: bool = False,
        encoding: str = "utf-8",
    ) -> TransactionLog:
        """Read a CSV file of transactions (with pyarrow, or polars when pyarrow is absent).

        The time column is read as text and parsed by relmark (ISO 8601 or ``time_format``), so
        the result does not depend on the reader's type inference. Customer ids are read as
        text and become integers only when every id is written exactly as an integer prints
        (``42``; not ``042``, ``+42`` or ``42.0``) and fits in 64 bits; otherwise they stay text
        exactly as written, so two distinct ids never merge (``"1"`` and ``"1.0"``, ids beyond
        64 bits, ``"7"`` and ``"007"``). ``string_ids`` keeps them text in every case.

        Args:
            path: CSV file (may be compressed: ``.gz``, ``.bz2``, ``.zst``).
            customer: Customer-id column.
            time: Time column.
            amount: Monetary-value column, if any.
            is_return: Boolean column marking returns (``true``/``false``), if any.
            timezone: IANA zone name of naive times (see
                [`from_frame`][relmark.data.log.TransactionLog.from_frame]).
            time_format: ``strptime`` format of the time column.
            allow_returns: Accept returns (negative amounts, rows flagged by ``is_return``).
            delimiter: Field separator: one ASCII character.
            string_ids: Read customer ids as text even when all are integers.
            encoding: Text encoding of the file (``"latin-1"``, ``"cp1252"``, ...); other
                encodings than UTF-8 need pyarrow.

        Raises:
            MissingDependencyError: When neither pyarrow nor polars is installed.
            InvalidInputError: As [`from_frame`][relmark.data.log.TransactionLog.from_frame],
                including for a column the file does not have, a file that is not UTF-8 CSV
                and a bad ``delimiter``.
            OSError: When the file cannot be opened.
        """
        columns = _FileColumns(customer, time, amount, is_return)
        table = read_table(
            path,
            columns.present(),
            file_format="csv",
            as_string=[time, customer] if string_ids else [time],
            delimiter=delimiter,
            ids=None if string_ids else customer,
            encoding=encoding,
        )
        return cls._from_file_table(
            table, columns, timezone=timezone, time_format=time_format, allow_returns=allow_returns
        )

    @classmethod
    def read_parquet(
        cls,
        path: str | Path,
        *,
        customer: str,
        time: str,
        amount: str | None = None,
        is_return: str | None = None,
        timezone: str | None = None,
        time_format: str | None = None,
        allow_returns: bool = False,
    ) -> TransactionLog:
        """Read a Parquet file of transactions (with pyarrow, or polars when pyarrow is absent).

        Arguments are those of [`read_csv`][relmark.data.log.TransactionLog.read_csv].

        Raises:
            MissingDependencyError: When neither pyarrow nor polars is installed.
            InvalidInputError: As [`from_frame`][relmark.data.log.TransactionLog.from_frame],
                including for a column the file does not have and a file that is not Parquet
                (corrupt, truncated or empty).
            OSError: When the file cannot be opened.
        """
        columns = _FileColumns(customer, time, amount, is_return)
        table = read_table(path, columns.present(), file_format="parquet", as_string=[])
        return cls._from_file_table(
            table, columns, timezone=timezone, time_format=time_format, allow_returns=allow_returns
        )

    @classmethod
    def _from_file_table(
        cls,
        table: Any,
        columns: _FileColumns,
        *,
        timezone: str | None,
        time_format: str | None,
        allow_returns: bool,
    ) -> TransactionLog:
        """The one path from a table a file reader returned to a validated log.

        The file readers differ only in how they read the table; from here on, a file is a
        frame ([`from_frame`][relmark.data.log.TransactionLog.from_frame]).
        """
        return cls.from_frame(
            table,
            customer=columns.customer,
            time=columns.time,
            amount=columns.amount,
            is_return=columns.is_return,
            timezone=timezone,
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

    def instant(self, value: object, *, name: str = "time") -> np.datetime64:
        """The wall-clock time ``value`` names in this log's time zone, as ``datetime64[us]``.

        How every time argument given with a log (``calibration_end``, a tracking window's
        ``start``) is read: a naive value is a wall-clock time of the log; an aware one must be
        in the log's ``timezone``.

        Args:
            value: A ``datetime``, ``date``, ``numpy.datetime64`` or ISO 8601 string.
            name: The argument's name, used in the error message.

        Returns:
            The time, comparable with ``time``.

        Raises:
            InvalidInputError: When ``value`` is not a time, or is aware in another zone.

        Examples:
            >>> log = TransactionLog.from_arrays(["a"], ["2024-01-05"])
            >>> print(log.instant("2024-02-01T12:30"))
            2024-02-01T12:30:00.000000
        """
        return parse_instant(name, value, zone=self.timezone)

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

        Returns (rows of ``is_return``) never make a purchase period: ``frequency``,
        ``recency`` and ``T`` come from purchases alone, and a customer with only returns is
        absent. A return's (negative) amount is netted into the customer's latest purchase
        period at or before the return's period, the purchase it most plausibly refunds; netted
        into the first purchase, it leaves ``monetary`` unchanged. A return with no purchase
        period before it is not counted and adds to ``excluded_transactions``. Net spend is
        not clipped, so ``monetary`` is negative when refunds exceed the repeat purchases.

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

            A refund of 2.0 on 2024-01-20 nets into the purchase of 2024-01-15:

            >>> with_refund = TransactionLog.from_arrays(
            ...     [1, 1, 1, 2, 1],
            ...     ["2024-01-01", "2024-01-01", "2024-01-15", "2024-01-08", "2024-01-20"],
            ...     [5, 5, 7, 3, -2],
            ...     allow_returns=True,
            ... )
            >>> r = with_refund.summarize("2024-01-29")
            >>> r.frequency.tolist(), r.monetary.tolist()
            ([1, 0], [5.0, 0.0])
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

        Returns are netted as in [`summarize`][relmark.data.log.TransactionLog.summarize],
        with one more rule: a holdout return nets only into a holdout purchase period (the
        calibration summary must not depend on holdout data), and otherwise is not counted
        (it adds to ``excluded_transactions``).

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
        if value is None:
            instant = self.end
            self._warn_if_far_beyond_the_data(name, instant)
        else:
            instant = parse_instant(name, value, zone=self.timezone)
        micros = np.array([instant.astype("datetime64[us]").astype(np.int64)])
        return int(period_index(micros, bucket)[0])

    def _warn_if_far_beyond_the_data(self, name: str, end: np.datetime64) -> None:
        """Warn when the latest transaction, the default end, lies far beyond the bulk of them.

        The bulk ends at the 99.9th percentile of the times. In a log of at least 10
        transactions, the latest time is an outlier when it lies more than a year after the
        bulk and further after it than the bulk spans (a row dated 2099 in a log of 2021-2023):
        T, and with it P(alive), would be measured to a date the data do not support.
        """
        micros = self.time.view(np.int64)
        if micros.size < _OUTLIER_MIN_ROWS:
            return
        cut = min(micros.size - 1, int(np.floor(0.999 * (micros.size - 1))))
        bulk_end = int(np.partition(micros, cut)[cut])
        gap = int(end.astype("datetime64[us]").astype(np.int64)) - bulk_end
        span = bulk_end - int(micros.min())
        allowed = max(span, _OUTLIER_MIN_GAP_MICROS)
        if gap <= allowed:
            return
        late = micros > bulk_end + allowed
        day = np.datetime64(bulk_end, "us").astype("datetime64[D]")
        warnings.warn(
            RelmarkWarning(
                f"The default {name} is the latest transaction, {end.astype('datetime64[D]')}, "
                f"which lies {gap // _MICROS_PER_DAY:,} days after 99.9% of the transactions "
                f"(they end by {day}); T and P(alive) would be measured to it. Check the "
                f"{int(late.sum())} transaction(s) far beyond the others ({offending_rows(late)}).",
                field=name,
                rows=np.flatnonzero(late),
                hint=f"Set the end explicitly: {name}='YYYY-MM-DD'.",
                hint_field=name,
            ),
            stacklevel=4,
        )

    def _group(self, calibration_end: int, observation_end: int, bucket: TimeUnit) -> _Grouped:
        periods = period_index(self.time.view(np.int64), bucket)
        log, n_after = self, 0
        if periods.size and int(periods.max()) > observation_end:
            keep = periods <= observation_end
            n_after = int(keep.size - np.count_nonzero(keep))
            periods, log = periods[keep], self._subset(keep)
        purchase = None if log.is_return is None else ~log.is_return
        if periods.size == 0:
            raise InvalidInputError(
                "No transaction falls on or before 'observation_end'; nothing to summarize.",
                field="observation_end",
                expected=f"on or after the {bucket.name.lower()} of the first transaction",
            )
        if purchase is not None and not purchase.any():
            raise InvalidInputError(
                "No purchase falls on or before 'observation_end', only returns (returns are "
                "not purchases); nothing to summarize."
            )
        low = int(periods.min())
        # Period offsets take the low bits of the key, so splitting a key is a shift and a mask.
        shift = (int(periods.max()) - low).bit_length()
        codes, id_base, n_codes = _customer_codes(log.customer_id, shift)
        offsets = periods - low
        if purchase is None:
            pair_code, pair_offset = _distinct_pairs(codes, offsets, shift, n_codes)
        else:
            pair_code, pair_offset = _distinct_pairs(
                codes[purchase], offsets[purchase], shift, n_codes
            )
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
        # Rows that count: purchases, and returns netted into a purchase period (at that period).
        counted_codes, counted_periods, counted_amounts = codes, periods, log.amount
        excluded = n_after
        if purchase is not None:
            matched, target = _match_returns(
                pair_code,
                pair_offset,
                codes[~purchase],
                offsets[~purchase],
                shift=shift,
                calibration_offset=calibration_end - low if has_holdout else None,
            )
            excluded += int(matched.size - np.count_nonzero(matched))
            counted_codes, counted_periods, counted_amounts = _with_netted_returns(
                purchase, matched, codes, periods, target + low, log.amount
            )
        if has_holdout and not included.all():
            transactions = np.bincount(counted_codes, minlength=n_codes)
            excluded += int(transactions[customer_code[~included]].sum())
        repeat_sum: FloatArray | None = None
        holdout_sum: FloatArray | None = None
        if counted_amounts is not None:
            repeat_sum, holdout_sum = _repeat_and_holdout_sums(
                counted_codes,
                counted_periods,
                counted_amounts,
                customer_code,
                first,
                calibration_end,
                n_codes,
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
            is_return=None if self.is_return is None else self.is_return[mask],
        )

    def purchases(self) -> TransactionLog:
        """The log without its returns (the rows that make purchase periods).

        Examples:
            >>> log = TransactionLog.from_arrays(
            ...     [1, 1], ["2024-01-01", "2024-01-05"], [9.5, -9.5], allow_returns=True
            ... )
            >>> log.purchases().amount.tolist(), log.purchases().is_return
            ([9.5], None)
        """
        if self.is_return is None:
            return self
        return attrs.evolve(self._subset(~self.is_return), is_return=None)

    def _calibration_summary(
        self, grouped: _Grouped, end: int, bucket: TimeUnit, unit: TimeUnit
    ) -> CustomerSummary:
        if grouped.first.size == 0:
            raise InvalidInputError(
                "No customer has a purchase on or before the end of the calibration period."
            )
        for sums in (grouped.calibration_repeat_sum, grouped.holdout_sum):
            if sums is not None:
                _check_finite_sums(sums, grouped.customer_id)
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


def _check_finite_sums(sums: FloatArray, customer_id: NDArray[Any]) -> None:
    """Refuse customers whose amounts add up beyond the float range (each was finite)."""
    bad = ~np.isfinite(sums)
    if bad.any():
        raise InvalidInputError(
            f"The amounts of customer(s) {customer_id[bad][:MAX_SHOWN].tolist()} add up to more "
            "than the largest floating-point number (about 1.8e308), so their spend cannot be "
            "summed; amounts must be in a unit where each customer's total stays below that "
            "(divide them by a power of ten)."
        )


def _record_fields(row: int, record: Any) -> tuple[Any, Any, object, object, bool]:
    """``(customer_id, at, amount, currency, is_return)`` of a transaction or touchpoint."""
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
    is_return = getattr(record, "is_return", False)
    if not isinstance(is_return, bool | np.bool_):
        raise InvalidInputError(
            f"Record {row} has is_return={is_return!r}; expected True or False."
        )
    return (
        customer_id,
        at,
        getattr(record, "amount", None),
        getattr(record, "currency", None),
        bool(is_return),
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


def _match_returns(
    pair_code: IntArray,
    pair_offset: IntArray,
    return_code: IntArray,
    return_offset: IntArray,
    *,
    shift: int,
    calibration_offset: int | None,
) -> tuple[BoolArray, IntArray]:
    """For each return, whether it nets into a purchase period, and that period's offset.

    A return nets into its customer's latest purchase period at or before its own period; after
    a split, a holdout return only into a holdout purchase period (calibration spend must not
    depend on holdout data). The purchase pairs are sorted by (code, offset), so one binary
    search over the packed keys finds each return's period.
    """
    pair_key = (pair_code << shift) | pair_offset
    position = np.searchsorted(pair_key, (return_code << shift) | return_offset, side="right") - 1
    candidate = np.maximum(position, 0)
    target = pair_offset[candidate]
    matched = (position >= 0) & (pair_code[candidate] == return_code)
    if calibration_offset is not None:
        matched &= (return_offset <= calibration_offset) | (target > calibration_offset)
    return matched, target


def _with_netted_returns(
    purchase: BoolArray,
    matched: BoolArray,
    codes: IntArray,
    periods: IntArray,
    target: IntArray,
    amounts: FloatArray | None,
) -> tuple[IntArray, IntArray, FloatArray | None]:
    """Codes, periods and amounts of the purchases and of the matched returns at their target.

    ``matched`` and ``target`` are per return row (the rows where ``purchase`` is false).
    """
    returned = ~purchase
    return (
        np.concatenate([codes[purchase], codes[returned][matched]]),
        np.concatenate([periods[purchase], target[matched]]),
        None
        if amounts is None
        else np.concatenate([amounts[purchase], amounts[returned][matched]]),
    )


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
