"""Per-customer summaries: the sufficient statistics every BTYD model and RFM scorer reads.

A [`CustomerSummary`][relmark.data.summary.CustomerSummary] holds one row per customer
(``frequency`` = repeat purchases $x$, ``recency`` = $t_x$, ``T``, ``monetary``) with the time
unit carried alongside, so durations are never interpreted in the wrong unit.
[`CustomerSummary.compress`][relmark.data.summary.CustomerSummary.compress] collapses customers
that share the same $(x, t_x, T)$ so models do their special-function work once per distinct row.
A summary is frozen, so it compresses once: later calls return the same cached
[`CompressedSummary`][relmark.data.summary.CompressedSummary], whose arrays are read-only.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray

from relmark._typing import BoolArray, FloatArray, IntArray
from relmark._validation import (
    MAX_SHOWN,
    cmp,
    float_column,
    id_column,
    offending_rows,
)
from relmark.data.units import TimeUnit, parse_unit
from relmark.errors import InvalidInputError

__all__ = ["CompressedSummary", "CustomerSummary"]

_MAX_FREQUENCY = 2**53
"""Largest frequency held exactly by the float64 the columns are validated as."""


@attrs.frozen(kw_only=True)
class CompressedSummary:
    """The distinct $(x, t_x, T)$ rows of a summary, with weights and the way back.

    Attributes:
        frequency: Distinct repeat-purchase counts $x$ (float64, integral values).
        recency: Distinct $t_x$ values.
        T: Distinct observation lengths $T$.
        weights: How many customers (times their own weight) share each distinct row.
        inverse: For each customer of the original summary, the index of its distinct row, so
            ``values_per_row[inverse]`` gathers a per-row result back to customers exactly.
        unit: The time unit of ``recency`` and ``T`` (that of the summary it came from; weeks
            by default, as for [`CustomerSummary`][relmark.data.summary.CustomerSummary]).

    The models' row-level predictions (``expected_purchases``, ``probability_alive``, ...)
    accept a compressed summary in place of the customer summary and then return one value per
    distinct row; ``values[compressed.inverse]`` gives them per customer.
    """

    frequency: FloatArray = attrs.field(eq=cmp)
    recency: FloatArray = attrs.field(eq=cmp)
    T: FloatArray = attrs.field(eq=cmp)
    weights: FloatArray = attrs.field(eq=cmp)
    inverse: IntArray = attrs.field(eq=cmp)
    unit: TimeUnit = TimeUnit.WEEK

    def __len__(self) -> int:
        """Number of distinct rows."""
        return int(self.frequency.size)


@attrs.frozen(kw_only=True)
class CustomerSummary:
    """One row per customer: repeat frequency, recency, age and average repeat spend.

    Build one with [`from_arrays`][relmark.data.summary.CustomerSummary.from_arrays] or from a
    transaction log ([`TransactionLog.summarize`][relmark.data.log.TransactionLog.summarize] /
    [`TransactionLog.split`][relmark.data.log.TransactionLog.split]); the constructor itself
    trusts its inputs and is meant for relmark's own use.

    Attributes:
        customer_id: Customer identifiers, values as given (integers keep their dtype; strings
            are held as an object array of ``str``).
        frequency: Number of repeat purchases $x$ (purchase periods after the first), int64.
        recency: Time from the first to the last purchase, $t_x$, in ``unit``; 0 when $x = 0$.
        T: Time from the first purchase to the end of observation, in ``unit``.
        monetary: Mean value of the repeat purchases, net of the returns netted into them (0
            where $x = 0$), or ``None`` when the source had no amounts.
        unit: The time unit of ``recency``, ``T`` and ``duration_holdout``.
        weights: How many customers each row stands for (float64), or ``None`` for one each.
        frequency_holdout: Purchases in the holdout period (after a calibration/holdout split).
        monetary_holdout: Mean value of the holdout purchases (0 where none).
        duration_holdout: Length of the holdout period in ``unit``.
        excluded_transactions: Transactions of the source log that the summary does not count:
            those after the end of observation and, after a split, those of customers whose
            first purchase falls in the holdout. 0 for summaries not built from a log.
    """

    customer_id: NDArray[Any] = attrs.field(eq=cmp)
    frequency: IntArray = attrs.field(eq=cmp)
    recency: FloatArray = attrs.field(eq=cmp)
    T: FloatArray = attrs.field(eq=cmp)
    monetary: FloatArray | None = attrs.field(default=None, eq=cmp)
    unit: TimeUnit = TimeUnit.WEEK
    weights: FloatArray | None = attrs.field(default=None, eq=cmp)
    frequency_holdout: IntArray | None = attrs.field(default=None, eq=cmp)
    monetary_holdout: FloatArray | None = attrs.field(default=None, eq=cmp)
    duration_holdout: FloatArray | None = attrs.field(default=None, eq=cmp)
    excluded_transactions: int = 0

    @classmethod
    def from_arrays(
        cls,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,
        monetary: ArrayLike | None = None,
        customer_id: ArrayLike | None = None,
        unit: str | TimeUnit = "W",
        weights: ArrayLike | None = None,
    ) -> CustomerSummary:
        """Validate summary columns a user already holds and build a summary from them.

        Args:
            frequency: Repeat purchases $x$ per customer: non-negative whole numbers (at most
                $2^{53}$, the largest whole number float64 holds exactly).
            recency: $t_x$, time from first to last purchase; 0 where ``frequency`` is 0.
            T: Time from first purchase to end of observation; ``recency <= T``.
            monetary: Mean repeat-purchase value, non-negative; optional.
            customer_id: Integer or string identifiers, all of one type, none missing, unique;
                defaults to ``0..n-1``.
            unit: Time unit of ``recency`` and ``T`` (``"D"``, ``"W"``, ``"M"``, ``"Q"``, ``"Y"``
                or a [`TimeUnit`][relmark.data.units.TimeUnit]).
            weights: Positive number of customers each row stands for (for pre-aggregated data).

        Returns:
            The validated summary.

        Raises:
            InvalidInputError: Naming the column and the first offending rows.

        Examples:
            >>> s = CustomerSummary.from_arrays([2, 0], [30.43, 0.0], [38.86, 38.86])
            >>> s.frequency.tolist(), len(s)
            ([2, 0], 2)
        """
        x = float_column("frequency", frequency)
        t_x = float_column("recency", recency)
        age = float_column("T", T)
        n = x.size
        for name, col in (("recency", t_x), ("T", age)):
            if col.size != n:
                raise InvalidInputError(
                    f"Column {name!r} has {col.size} rows but 'frequency' has {n}; "
                    "all columns must have equal length."
                )
        bad = (x < 0) | (x != np.floor(x)) | (x > _MAX_FREQUENCY)
        if bad.any():
            raise InvalidInputError(
                f"Column 'frequency' must hold non-negative whole numbers; got "
                f"{x[bad][:MAX_SHOWN].tolist()} at {offending_rows(bad)} (expected 0 to 2**53).",
                column="frequency",
                value=x[bad][:MAX_SHOWN].tolist(),
                rows=np.flatnonzero(bad),
                expected="a non-negative whole number (0 to 2**53)",
            )
        bad = t_x < 0
        if bad.any():
            raise InvalidInputError(
                f"Column 'recency' must be >= 0; got {t_x[bad][:MAX_SHOWN].tolist()} "
                f"at {offending_rows(bad)}.",
                column="recency",
                value=t_x[bad][:MAX_SHOWN].tolist(),
                rows=np.flatnonzero(bad),
                expected=">= 0",
            )
        bad = t_x > age
        if bad.any():
            raise InvalidInputError(
                f"Column 'recency' must be <= 'T' (the last purchase cannot fall after the end "
                f"of observation); violated at {offending_rows(bad)}.",
                column="recency",
                rows=np.flatnonzero(bad),
                expected="<= 'T'",
            )
        bad = (x == 0) & (t_x != 0)
        if bad.any():
            raise InvalidInputError(
                f"Column 'recency' must be 0 where 'frequency' is 0 (no repeat purchase, so no "
                f"time between first and last); violated at {offending_rows(bad)}.",
                column="recency",
                rows=np.flatnonzero(bad),
                expected="0 where 'frequency' is 0",
            )
        money: FloatArray | None = None
        if monetary is not None:
            money = float_column("monetary", monetary)
            if money.size != n:
                raise InvalidInputError(
                    f"Column 'monetary' has {money.size} rows but 'frequency' has {n}."
                )
            bad = money < 0
            if bad.any():
                raise InvalidInputError(
                    f"Column 'monetary' must be >= 0; got {money[bad][:MAX_SHOWN].tolist()} "
                    f"at {offending_rows(bad)}.",
                    column="monetary",
                    value=money[bad][:MAX_SHOWN].tolist(),
                    rows=np.flatnonzero(bad),
                    expected=">= 0",
                )
            bad = (x == 0) & (money != 0)
            if bad.any():
                raise InvalidInputError(
                    f"Column 'monetary' must be 0 where 'frequency' is 0 (it is the mean value of "
                    f"the repeat purchases, and there are none); got "
                    f"{money[bad][:MAX_SHOWN].tolist()} at {offending_rows(bad)}.",
                    column="monetary",
                    value=money[bad][:MAX_SHOWN].tolist(),
                    rows=np.flatnonzero(bad),
                    expected="0 where 'frequency' is 0",
                )
        w: FloatArray | None = None
        if weights is not None:
            w = float_column("weights", weights)
            if w.size != n:
                raise InvalidInputError(
                    f"Column 'weights' has {w.size} rows but 'frequency' has {n}."
                )
            bad = w <= 0
            if bad.any():
                raise InvalidInputError(
                    f"Column 'weights' must be > 0; got {w[bad][:MAX_SHOWN].tolist()} "
                    f"at {offending_rows(bad)}."
                )
        ids = (
            np.arange(n, dtype=np.int64)
            if customer_id is None
            else id_column("customer_id", customer_id, n)
        )
        _check_unique_ids(ids)
        return cls(
            customer_id=ids,
            frequency=x.astype(np.int64),
            recency=t_x,
            T=age,
            monetary=money,
            unit=parse_unit(unit),
            weights=w,
        )

    def __len__(self) -> int:
        """Number of customers (rows)."""
        return int(self.frequency.size)

    @property
    def has_holdout(self) -> bool:
        """Whether this summary carries holdout columns from a calibration/holdout split."""
        return self.frequency_holdout is not None

    @property
    def row_weights(self) -> FloatArray:
        """``weights``, or ones when the summary has none."""
        if self.weights is None:
            return np.ones(len(self), dtype=np.float64)
        return self.weights

    @classmethod
    def from_frame(
        cls,
        frame: Any,
        *,
        frequency: str = "frequency",
        recency: str = "recency",
        T: str = "T",
        monetary: str | None = None,
        customer: str | None = None,
        unit: str | TimeUnit = "W",
        weights: str | None = None,
    ) -> CustomerSummary:
        """Build a summary from a frame of per-customer columns (e.g. a lifetimes summary).

        The column names default to lifetimes' (``frequency``, ``recency``, ``T``). ``monetary``
        defaults to a column named ``monetary`` or, failing that, lifetimes' ``monetary_value``
        (none when neither exists). Customer ids come from ``customer``; without it, from a
        pandas frame's index (lifetimes' summaries are indexed by customer id), else ``0..n-1``.
        Every value is validated as in
        [`from_arrays`][relmark.data.summary.CustomerSummary.from_arrays].

        Args:
            frame: A pandas or polars DataFrame, a polars LazyFrame (collected), a pyarrow Table
                or RecordBatch, or a mapping of column name to array.
            frequency: Column of repeat purchases $x$.
            recency: Column of $t_x$.
            T: Column of $T$.
            monetary: Column of mean repeat spend; see above for the default.
            customer: Column of customer ids; see above for the default.
            unit: Time unit of ``recency`` and ``T`` (the frame does not say; weeks by default,
                as for lifetimes' ``freq="W"``).
            weights: Column of customer weights, if any.

        Returns:
            The validated summary.

        Raises:
            InvalidInputError: For a missing column (named), a source that is not a frame, or any
                value ``from_arrays`` refuses.

        Examples:
            >>> import pandas as pd
            >>> lifetimes_style = pd.DataFrame(
            ...     {
            ...         "frequency": [2, 0],
            ...         "recency": [30.4, 0.0],
            ...         "T": [38.9, 38.9],
            ...         "monetary_value": [22.3, 0.0],
            ...     },
            ...     index=pd.Index([17, 42], name="customer_id"),
            ... )
            >>> s = CustomerSummary.from_frame(lifetimes_style)
            >>> s.customer_id.tolist(), s.monetary.tolist()
            ([17, 42], [22.3, 0.0])
        """
        from relmark._frames import eager_frame, extract_columns

        source = eager_frame(frame)
        names = _frame_columns(source)
        if monetary is None:
            monetary = next((c for c in ("monetary", "monetary_value") if c in names), None)
        optional = {"monetary": monetary, "customer": customer, "weights": weights}
        roles = {"frequency": frequency, "recency": recency, "T": T}
        roles.update({role: name for role, name in optional.items() if name is not None})
        columns = {role: values for role, (values, _) in extract_columns(source, roles).items()}
        ids = columns.get("customer")
        if ids is None and type(source).__module__.startswith("pandas"):
            ids = np.asarray(source.index)
        return cls.from_arrays(
            columns["frequency"],
            columns["recency"],
            columns["T"],
            monetary=columns.get("monetary"),
            customer_id=ids,
            unit=unit,
            weights=columns.get("weights"),
        )

    def _repr_html_(self) -> str:
        """The first and last customers as an HTML table (Jupyter)."""
        from relmark._display import html_table

        columns: dict[str, Any] = {
            "customer_id": self.customer_id,
            "frequency": self.frequency,
            "recency": self.recency,
            "T": self.T,
        }
        if self.monetary is not None:
            columns["monetary"] = self.monetary
        if self.frequency_holdout is not None:
            columns["frequency_holdout"] = self.frequency_holdout
        return html_table(
            columns,
            title=(
                f"CustomerSummary: {len(self):,} customers, recency and T in "
                f"{self.unit.name.lower()}s"
            ),
        )

    def take(self, index: Sequence[int] | IntArray | BoolArray) -> CustomerSummary:
        """Return the rows selected by an integer index or boolean mask, in that order."""
        idx = np.asarray(index)

        def pick(col: NDArray[Any] | None) -> Any:
            return None if col is None else col[idx]

        return attrs.evolve(
            self,
            customer_id=self.customer_id[idx],
            frequency=self.frequency[idx],
            recency=self.recency[idx],
            T=self.T[idx],
            monetary=pick(self.monetary),
            weights=pick(self.weights),
            frequency_holdout=pick(self.frequency_holdout),
            monetary_holdout=pick(self.monetary_holdout),
            duration_holdout=pick(self.duration_holdout),
        )

    def compress(self) -> CompressedSummary:
        """Collapse customers sharing the same $(x, t_x, T)$ into weighted distinct rows.

        The summary is frozen, so the work is done once: every call returns the same
        [`CompressedSummary`][relmark.data.summary.CompressedSummary] object (its arrays are
        read-only, so no caller can change what the next one sees). A summary derived with
        [`take`][relmark.data.summary.CustomerSummary.take] or ``attrs.evolve`` compresses
        afresh.

        Returns:
            The distinct rows (sorted by $x$, then $t_x$, then $T$), their summed weights, the
            inverse index with ``compressed.frequency[compressed.inverse] == frequency`` exactly
            (likewise for ``recency`` and ``T``: the gather is bit-for-bit) and the summary's
            ``unit``.

        Examples:
            >>> s = CustomerSummary.from_arrays([1, 0, 1], [2.0, 0.0, 2.0], [5.0, 5.0, 5.0])
            >>> c = s.compress()
            >>> c.frequency.tolist(), c.weights.tolist(), c.inverse.tolist()
            ([0.0, 1.0], [1.0, 2.0], [1, 0, 1])
            >>> s.compress() is c
            True
        """
        return self._compressed

    @functools.cached_property
    def _compressed(self) -> CompressedSummary:
        rows = self._compress()
        for column in (rows.frequency, rows.recency, rows.T, rows.weights, rows.inverse):
            column.flags.writeable = False
        return rows

    def _compress(self) -> CompressedSummary:
        """The uncached work of [`compress`][relmark.data.summary.CustomerSummary.compress]."""
        n = len(self)
        if n == 0:
            empty = np.empty(0, dtype=np.float64)
            return CompressedSummary(
                frequency=empty,
                recency=empty,
                T=empty,
                weights=empty.copy(),
                inverse=np.empty(0, dtype=np.int64),
                unit=self.unit,
            )
        scales = tuple(dict.fromkeys((self.unit.days, 1.0, 100.0)))
        recency_grid = _integer_grid(self.recency, scales)
        age_grid = _integer_grid(self.T, scales)
        if recency_grid is None or age_grid is None:
            return self._compress_by_values()
        recency_steps, recency_scale = recency_grid
        age_steps, age_scale = age_grid
        x_low, r_low, t_low = (
            int(self.frequency.min()),
            int(recency_steps.min()),
            int(age_steps.min()),
        )
        n_x = int(self.frequency.max()) - x_low + 1
        n_r = int(recency_steps.max()) - r_low + 1
        n_t = int(age_steps.max()) - t_low + 1
        if (n_x * n_r * n_t).bit_length() >= _KEY_BITS:
            return self._compress_by_values()
        # One int64 key per customer, ordered like (x, t_x, T): mixed-radix digits of the codes.
        key = ((self.frequency - x_low) * n_r + (recency_steps - r_low)) * n_t + (age_steps - t_low)
        distinct, inverse = _unique_with_inverse(key, n_x * n_r * n_t)
        t_code = distinct % n_t
        rest = distinct // n_t
        return CompressedSummary(
            frequency=(rest // n_r + x_low).astype(np.float64),
            recency=(rest % n_r + r_low) / recency_scale,
            T=(t_code + t_low) / age_scale,
            weights=_sum_weights(inverse, self.weights, distinct.size),
            inverse=inverse,
            unit=self.unit,
        )

    def _compress_by_values(self) -> CompressedSummary:
        """General path: code each column by its distinct values, then combine the codes.

        Codes are combined two columns at a time, so no key exceeds (number of rows)² and
        nothing can overflow int64.
        """
        n = len(self)
        ux, cx = np.unique(self.frequency, return_inverse=True)
        ur, cr = np.unique(self.recency, return_inverse=True)
        ut, ct = np.unique(self.T, return_inverse=True)
        pairs, pair_code = _unique_with_inverse(
            cx.astype(np.int64).reshape(n) * ur.size + cr.reshape(n), ux.size * ur.size
        )
        distinct, inverse = _unique_with_inverse(
            pair_code * ut.size + ct.reshape(n), pairs.size * ut.size
        )
        pair = pairs[distinct // ut.size]
        return CompressedSummary(
            frequency=ux[pair // ur.size].astype(np.float64),
            recency=ur[pair % ur.size],
            T=ut[distinct % ut.size],
            weights=_sum_weights(inverse, self.weights, distinct.size),
            inverse=inverse,
            unit=self.unit,
        )

    def to_frame(self, backend: str | None = None) -> Any:
        """Return the summary as a pandas or polars DataFrame or a pyarrow Table.

        Columns: ``customer_id``, ``frequency``, ``recency``, ``T``, then ``monetary``,
        ``weights`` and the holdout columns when present. The time unit is not a column; it is
        ``summary.unit``.

        Args:
            backend: ``"pandas"``, ``"polars"`` or ``"pyarrow"``; by default the first of them
                that is installed (never forcing pandas on a polars-only environment).

        Raises:
            InvalidInputError: For an unknown backend.
            MissingDependencyError: When the backend's library is not installed.
        """
        from relmark._display import frame_backend
        from relmark._frames import to_native_frame

        backend = frame_backend(backend)
        columns: dict[str, NDArray[Any]] = {
            "customer_id": self.customer_id,
            "frequency": self.frequency,
            "recency": self.recency,
            "T": self.T,
        }
        optional = {
            "monetary": self.monetary,
            "weights": self.weights,
            "frequency_holdout": self.frequency_holdout,
            "monetary_holdout": self.monetary_holdout,
            "duration_holdout": self.duration_holdout,
        }
        columns.update({k: v for k, v in optional.items() if v is not None})
        return to_native_frame(columns, backend)


_KEY_BITS = 62
_DENSE_FACTOR = 4


def require_summary(value: object, *, owner: str, name: str = "summary") -> CustomerSummary:
    """``value`` if it is a [`CustomerSummary`][relmark.data.summary.CustomerSummary], or raise.

    The one type check of every method and function that takes a summary (public to the
    package, not exported to users).

    Args:
        value: What the caller was given.
        owner: The method or function, for the message (``"RFMScorer.fit"``).
        name: The argument's name.

    Raises:
        InvalidInputError: Naming the argument, its owner, the type received and how to build
            a summary.

    Examples:
        >>> require_summary([1, 2], owner="RFMScorer.fit")
        Traceback (most recent call last):
        ...
        relmark.errors.InvalidInputError: The 'summary' argument of RFMScorer.fit must be a CustomerSummary. Got list. Build one with CustomerSummary.from_arrays or TransactionLog.summarize.
    """
    if not isinstance(value, CustomerSummary):
        raise InvalidInputError(
            f"The {name!r} argument of {owner} must be a CustomerSummary. Got "
            f"{type(value).__name__}. Build one with CustomerSummary.from_arrays or "
            "TransactionLog.summarize."
        )
    return value


def _integer_grid(values: FloatArray, scales: tuple[float, ...]) -> tuple[IntArray, float] | None:
    """Integers ``k`` and a scale with ``k / scale == values`` exactly, if one of ``scales`` fits.

    Summaries built from logs hold whole days divided by the unit length, and published data
    sets hold two decimals, so one of a few scales almost always reproduces every value exactly.
    """
    for scale in scales:
        steps = np.rint(values * scale)
        if np.abs(steps).max() < 2.0**52 and np.array_equal(steps / scale, values):
            return steps.astype(np.int64), scale
    return None


def _unique_with_inverse(key: IntArray, n_keys: int) -> tuple[IntArray, IntArray]:
    """Sorted distinct non-negative keys and, per element, the index of its key.

    Dense key ranges use a counting pass (no sort); otherwise the element index is packed into
    the low bits so one ``np.sort`` replaces the slower ``argsort``.
    """
    n = key.size
    if n_keys <= max(_DENSE_FACTOR * n, 1 << 16):
        present = np.bincount(key, minlength=n_keys) > 0
        rank = np.cumsum(present) - 1
        return np.flatnonzero(present), rank[key]
    index_bits = max(n - 1, 1).bit_length()
    if (n_keys - 1).bit_length() + index_bits > 63:
        distinct, inverse = np.unique(key, return_inverse=True)
        return distinct, inverse.astype(np.int64).reshape(n)
    packed = np.sort((key << index_bits) | np.arange(n, dtype=np.int64))
    ordered = packed >> index_bits
    new_key = np.empty(n, dtype=bool)
    new_key[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=new_key[1:])
    inverse = np.empty(n, dtype=np.int64)
    inverse[packed & ((1 << index_bits) - 1)] = np.cumsum(new_key) - 1
    return ordered[new_key], inverse


def _sum_weights(inverse: IntArray, weights: FloatArray | None, size: int) -> FloatArray:
    summed = np.bincount(inverse, weights=weights, minlength=size)
    return summed.astype(np.float64, copy=False)


def _check_unique_ids(ids: NDArray[Any]) -> None:
    if ids.size == 0:
        return
    try:
        uniq, counts = np.unique(ids, return_counts=True)
    except TypeError as exc:
        raise InvalidInputError(
            f"Column 'customer_id' holds ids that cannot be ordered: {exc}"
        ) from None
    dup = counts > 1
    if dup.any():
        raise InvalidInputError(
            f"Column 'customer_id' must be unique; duplicated: {uniq[dup][:MAX_SHOWN].tolist()}."
        )


def _frame_columns(source: Any) -> list[str]:
    """Column names of a frame or mapping (empty when ``source`` is neither; extraction says so)."""
    if isinstance(source, dict):
        return [str(k) for k in source]
    names = getattr(source, "column_names", None)  # pyarrow (whose .columns are the arrays)
    if names is None:
        names = getattr(source, "columns", None)
    return [str(c) for c in names] if names is not None else []
