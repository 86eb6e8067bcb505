r"""Time-invariant customer covariates: a validated design matrix keyed by customer id.

[`Covariates`][relmark.data.covariates.Covariates] turns a frame (pandas, polars, pyarrow) or a
mapping of columns into numeric design columns: numeric columns are used as given, categorical
ones (strings, categoricals, booleans) are one-hot encoded against a named reference level, which
gets no column. The matrix is checked once: no missing values, no constant column, no column that
is a linear combination of the others (with the intercept every model has), one row per customer.
[`Covariates.align`][relmark.data.covariates.Covariates.align] then orders the rows like a
[`CustomerSummary`][relmark.data.summary.CustomerSummary] and refuses ids that are missing from or
extra to it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray

from relmark._typing import FloatArray
from relmark._validation import cmp
from relmark.data.summary import CustomerSummary
from relmark.errors import InvalidInputError

__all__ = ["Covariates"]

_SHOWN = 5


def _show(values: Sequence[object]) -> str:
    shown = ", ".join(repr(v) for v in list(values)[:_SHOWN])
    return shown + (f", ... ({len(values)} in all)" if len(values) > _SHOWN else "")


def _is_categorical(values: NDArray[Any]) -> bool:
    return values.dtype.kind in "OUSb"


def _id_key(value: object) -> object:
    """Ids compare by value across numpy and Python scalar types (``np.int64(1) == 1``)."""
    return value.item() if isinstance(value, np.generic) else value


@attrs.frozen(kw_only=True)
class Covariates:
    """A numeric design matrix of time-invariant covariates, one row per customer.

    Attributes:
        customer_id: The customers, in the order of ``values``' rows.
        names: Design-column names: a numeric column's own name, ``"column[level]"`` for each
            non-reference level of a categorical column.
        values: The design matrix, shape ``(customers, len(names))``.
        reference: For each categorical column, its reference level (the one without a column).
    """

    customer_id: NDArray[Any] = attrs.field(eq=cmp)
    names: tuple[str, ...]
    values: FloatArray = attrs.field(eq=cmp)
    reference: Mapping[str, object] = attrs.field(factory=dict)

    @classmethod
    def from_columns(
        cls,
        customer_id: ArrayLike,
        columns: Mapping[str, ArrayLike],
        *,
        reference: Mapping[str, object] | None = None,
    ) -> Covariates:
        """Build the design matrix from a mapping of column name to values.

        Args:
            customer_id: One id per row (integers or strings), unique.
            columns: Covariate columns, each as long as ``customer_id``. Numeric columns enter
                as they are; string, categorical or boolean columns are one-hot encoded.
            reference: Reference level per categorical column; by default its first level in
                sorted order. A level named here must occur in the column.

        Returns:
            The validated covariates.

        Raises:
            InvalidInputError: For no columns, ragged or missing values, duplicate ids, an unknown
                reference level, a constant column or collinear columns (each named).

        Examples:
            >>> cov = Covariates.from_columns(
            ...     [1, 2, 3, 4],
            ...     {"channel": ["web", "store", "web", "app"], "age": [30, 41, 25, 52]},
            ...     reference={"channel": "web"},
            ... )
            >>> cov.names
            ('channel[app]', 'channel[store]', 'age')
        """
        ids = np.asarray(customer_id)
        if ids.ndim != 1 or ids.size == 0:
            raise InvalidInputError(
                "The 'customer_id' argument of Covariates must be a non-empty one-dimensional "
                f"array. Got shape {ids.shape}."
            )
        keys = [_id_key(v) for v in ids.tolist()]
        if len(set(keys)) != len(keys):
            seen: set[object] = set()
            dupes = [k for k in keys if k in seen or seen.add(k)]  # type: ignore[func-returns-value]
            raise InvalidInputError(
                f"The 'customer_id' of Covariates must be unique; repeated: {_show(dupes)}."
            )
        if not columns:
            raise InvalidInputError("Covariates needs at least one covariate column.")
        levels_given = dict(reference or {})
        unknown = sorted(set(levels_given) - set(columns))
        if unknown:
            raise InvalidInputError(
                f"The 'reference' argument names columns that are not covariates: {_show(unknown)}."
            )
        names: list[str] = []
        blocks: list[FloatArray] = []
        chosen: dict[str, object] = {}
        for name, raw in columns.items():
            values = np.asarray(raw)
            if values.shape != ids.shape:
                raise InvalidInputError(
                    f"The covariate column {name!r} has {values.size} values for {ids.size} "
                    "customers; every column needs one value per customer."
                )
            if _is_categorical(values):
                level_names, block, level = _one_hot(name, values, levels_given.get(name))
                chosen[name] = level
                names.extend(level_names)
                blocks.append(block)
            else:
                if name in levels_given:
                    raise InvalidInputError(
                        f"The 'reference' argument gives a level for {name!r}, which is numeric; "
                        "only categorical (string or boolean) columns have levels."
                    )
                numeric = _numeric(name, values)
                names.append(name)
                blocks.append(numeric[:, np.newaxis])
        matrix = np.ascontiguousarray(np.hstack(blocks), dtype=np.float64)
        _check_design(names, matrix)
        return cls(customer_id=ids, names=tuple(names), values=matrix, reference=chosen)

    @classmethod
    def from_frame(
        cls,
        frame: Any,
        *,
        customer: str,
        columns: Sequence[str] | None = None,
        reference: Mapping[str, object] | None = None,
    ) -> Covariates:
        """Build the design matrix from a pandas, polars or pyarrow frame.

        Args:
            frame: A frame with one row per customer.
            customer: Name of the customer-id column.
            columns: Covariate columns to use; every other column by default.
            reference: Reference level per categorical column.

        Returns:
            The validated covariates.

        Raises:
            InvalidInputError: For a frame relmark cannot read, a missing column, or any error of
                [`from_columns`][relmark.data.covariates.Covariates.from_columns].
        """
        import narwhals as nw

        try:
            native = nw.from_native(frame, eager_only=True)
        except TypeError as exc:
            raise InvalidInputError(
                "The 'frame' argument of Covariates.from_frame must be a pandas, polars or "
                f"pyarrow table. Got {type(frame).__name__}."
            ) from exc
        available = list(native.columns)
        wanted = [c for c in available if c != customer] if columns is None else list(columns)
        missing = [c for c in [customer, *wanted] if c not in available]
        if missing:
            raise InvalidInputError(
                f"The covariate frame has no column(s) {_show(missing)}; it has {_show(available)}."
            )
        data = {c: _column_values(native[c]) for c in wanted}
        return cls.from_columns(_column_values(native[customer]), data, reference=reference)

    def __len__(self) -> int:
        """Number of customers."""
        return int(self.customer_id.size)

    def select(self, names: Sequence[str]) -> FloatArray:
        """The design columns ``names`` (as in ``self.names``), shape ``(customers, len(names))``.

        Raises:
            InvalidInputError: For a name that is not a design column.
        """
        index = []
        for name in names:
            if name not in self.names:
                raise InvalidInputError(
                    f"{name!r} is not a covariate design column; they are {_show(self.names)}."
                )
            index.append(self.names.index(name))
        return self.values[:, index]

    def align(self, summary: CustomerSummary) -> FloatArray:
        """The design matrix with its rows in the order of ``summary``'s customers.

        Raises:
            InvalidInputError: When a customer of the summary has no covariates, or the
                covariates name customers the summary does not have (both listed).
        """
        matched = self._match_sorted(summary.customer_id)
        if matched is not None:
            return self.values[matched]
        # Ids of mixed or object types, or a mismatch: matched one by one, which names them.
        position = {_id_key(v): i for i, v in enumerate(self.customer_id.tolist())}
        wanted = [_id_key(v) for v in summary.customer_id.tolist()]
        missing = [v for v in wanted if v not in position]
        if missing:
            raise InvalidInputError(
                f"{len(missing)} customer(s) of the summary have no covariates: "
                f"{_show(missing)}. Give covariates for every customer (ids must match in type "
                "too: 1 and '1' differ)."
            )
        if len(wanted) != len(position):
            extra = sorted(set(position) - set(wanted), key=repr)
            raise InvalidInputError(
                f"The covariates have {len(extra)} customer(s) the summary does not: "
                f"{_show(extra)}. Drop them or summarize the same customers."
            )
        return self.values[np.fromiter((position[v] for v in wanted), np.int64, len(wanted))]

    def _match_sorted(self, wanted: NDArray[Any]) -> NDArray[np.intp] | None:
        """Row of each wanted id, by sorting: for integer or string ids that all match, else None."""
        ours = self.customer_id
        kinds = {ours.dtype.kind, wanted.dtype.kind}
        if wanted.shape != ours.shape or not (kinds <= {"i", "u"} or kinds == {"U"}):
            return None
        if np.array_equal(ours, wanted):
            return np.arange(ours.size)
        order = np.argsort(ours, kind="stable")
        slot = np.minimum(np.searchsorted(ours[order], wanted), ours.size - 1)
        rows = order[slot]
        if not np.array_equal(ours[rows], wanted):
            return None
        return rows


def _column_values(series: Any) -> NDArray[Any]:
    values = series.to_numpy()
    if values.dtype.kind == "O" or str(series.dtype).lower().startswith(
        ("string", "categorical", "enum")
    ):
        return np.asarray(values.astype(object))
    return np.asarray(values)


def _numeric(name: str, values: NDArray[Any]) -> FloatArray:
    if values.dtype.kind not in "iuf":
        raise InvalidInputError(
            f"The covariate column {name!r} must be numeric, string, categorical or boolean. "
            f"Got dtype {values.dtype}."
        )
    numeric = values.astype(np.float64)
    bad = np.flatnonzero(~np.isfinite(numeric))
    if bad.size:
        raise InvalidInputError(
            f"The covariate column {name!r} has missing or infinite values at rows "
            f"{_show(bad.tolist())}; covariates must be complete."
        )
    return numeric


def _one_hot(
    name: str, values: NDArray[Any], level: object
) -> tuple[list[str], FloatArray, object]:
    items = values.tolist()
    missing = [
        i for i, v in enumerate(items) if v is None or (isinstance(v, float) and np.isnan(v))
    ]
    if missing:
        raise InvalidInputError(
            f"The covariate column {name!r} has missing values at rows {_show(missing)}; "
            "covariates must be complete."
        )
    levels = sorted(set(items), key=lambda v: (type(v).__name__, v))
    if len(levels) < 2:
        raise InvalidInputError(
            f"The categorical covariate {name!r} is constant (its only level is {levels[0]!r}), "
            "so its effect cannot be told apart from the baseline parameters; drop it."
        )
    if level is None:
        level = levels[0]
    elif level not in levels:
        raise InvalidInputError(
            f"The reference level {level!r} of covariate {name!r} does not occur; its levels "
            f"are {_show(levels)}."
        )
    others = [v for v in levels if v != level]
    block = np.empty((len(items), len(others)), dtype=np.float64)
    codes = np.asarray(items, dtype=object)
    for j, other in enumerate(others):
        block[:, j] = codes == other
    return [f"{name}[{other}]" for other in others], block, level


def _check_design(names: list[str], matrix: FloatArray) -> None:
    constant = [n for n, col in zip(names, matrix.T, strict=True) if np.ptp(col) == 0]
    if constant:
        raise InvalidInputError(
            f"The covariate design column(s) {_show(constant)} are constant across customers, "
            "so their effects cannot be told apart from the baseline parameters; drop them."
        )
    with_intercept = np.hstack([np.ones((matrix.shape[0], 1)), matrix])
    # Scale columns so the rank test is about collinearity, not units.
    scaled = with_intercept / np.maximum(np.abs(with_intercept).max(axis=0), 1e-300)
    rank = int(np.linalg.matrix_rank(scaled, tol=1e-10 * max(scaled.shape)))
    if rank < scaled.shape[1]:
        culprits = _collinear(names, scaled)
        raise InvalidInputError(
            f"The covariate design columns {_show(culprits)} are collinear (with each other or "
            "the intercept); drop one of them."
        )


def _collinear(names: list[str], scaled: FloatArray) -> list[str]:
    """Columns that add no rank when added in order (each is a combination of earlier ones)."""
    culprits = []
    kept = scaled[:, :1]
    for j, name in enumerate(names, start=1):
        candidate = np.hstack([kept, scaled[:, j : j + 1]])
        if np.linalg.matrix_rank(candidate, tol=1e-10 * max(candidate.shape)) < candidate.shape[1]:
            culprits.append(name)
        else:
            kept = candidate
    return culprits
