"""Tests of relmark.data.summary: validation, compression and frame export."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from relmark.data import CustomerSummary, TimeUnit
from relmark.errors import InvalidInputError


def _summary(n: int = 4) -> CustomerSummary:
    return CustomerSummary.from_arrays(
        frequency=[2, 0, 1, 0][:n],
        recency=[3.0, 0.0, 1.5, 0.0][:n],
        T=[5.0, 5.0, 2.0, 1.0][:n],
        monetary=[10.0, 0.0, 4.0, 0.0][:n],
        customer_id=["a", "b", "c", "d"][:n],
        unit="D",
    )


class TestFromArrays:
    def test_valid_columns_are_kept(self):
        """Valid columns are stored with the documented dtypes and the given unit and ids."""
        s = _summary()
        assert s.frequency.dtype == np.int64
        assert s.recency.tolist() == [3.0, 0.0, 1.5, 0.0]
        assert s.unit is TimeUnit.DAY
        assert s.customer_id.tolist() == ["a", "b", "c", "d"]
        assert s.excluded_transactions == 0

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"recency": [6.0]}, r"'recency' must be <= 'T'.*row\(s\) 0"),
            (
                {"frequency": [1.5]},
                r"'frequency' must hold non-negative whole numbers; got \[1.5\]",
            ),
            (
                {"frequency": [-1]},
                r"'frequency' must hold non-negative whole numbers; got \[-1.0\]",
            ),
            ({"frequency": [0]}, r"'recency' must be 0 where 'frequency' is 0.*row\(s\) 0"),
            ({"T": [np.inf]}, r"'T' must hold finite numbers; found NaN or infinity at row\(s\) 0"),
            ({"recency": [np.nan]}, r"'recency' must hold finite numbers"),
            ({"recency": [-1.0]}, r"'recency' must be >= 0; got \[-1.0\]"),
            ({"T": [5.0, 6.0]}, r"'T' has 2 rows but 'frequency' has 1"),
            ({"monetary": [-2.0]}, r"'monetary' must be >= 0; got \[-2.0\]"),
            ({"monetary": [1.0, 2.0]}, r"'monetary' has 2 rows but 'frequency' has 1"),
            ({"weights": [0.0]}, r"'weights' must be > 0; got \[0.0\]"),
            ({"customer_id": [1, 2]}, r"'customer_id' must be one-dimensional with 1 rows"),
            ({"frequency": ["x"]}, r"'frequency' must be numeric"),
        ],
    )
    def test_each_rule_rejects_with_a_named_message(self, kwargs, message):
        """Every validation rule raises InvalidInputError naming the column and the rows."""
        base = {"frequency": [1], "recency": [2.0], "T": [5.0]}
        with pytest.raises(InvalidInputError, match=message):
            CustomerSummary.from_arrays(**(base | kwargs))

    def test_duplicate_ids_rejected(self):
        """Customer ids must be unique; the message lists the duplicates."""
        with pytest.raises(
            InvalidInputError, match=r"'customer_id' must be unique; duplicated: \[7\]"
        ):
            CustomerSummary.from_arrays([0, 0], [0, 0], [1, 1], customer_id=[7, 7])

    def test_offending_rows_are_listed_and_truncated(self):
        """The first five offending rows are named and the rest counted."""
        with pytest.raises(InvalidInputError, match=r"row\(s\) 0, 1, 2, 3, 4 \(and 2 more\)"):
            CustomerSummary.from_arrays([0] * 7, [1.0] * 7, [2.0] * 7)


class TestCompress:
    def test_hand_computed(self):
        """Duplicate (x, t_x, T) rows merge, weights add up, rows sort by x, t_x, T."""
        s = CustomerSummary.from_arrays(
            [1, 0, 1, 1, 0], [2.0, 0.0, 2.0, 1.0, 0.0], [5.0, 5.0, 5.0, 5.0, 3.0], unit="D"
        )
        c = s.compress()
        assert c.frequency.tolist() == [0.0, 0.0, 1.0, 1.0]
        assert c.recency.tolist() == [0.0, 0.0, 1.0, 2.0]
        assert c.T.tolist() == [3.0, 5.0, 5.0, 5.0]
        assert c.weights.tolist() == [1.0, 1.0, 1.0, 2.0]
        assert c.inverse.tolist() == [3, 1, 3, 2, 0]

    def test_weights_are_summed(self):
        """Rows that already carry weights contribute their weight, not 1."""
        s = CustomerSummary.from_arrays([0, 0, 1], [0, 0, 1], [2, 2, 2], weights=[2.5, 4.0, 1.0])
        assert s.compress().weights.tolist() == [6.5, 1.0]

    def test_empty(self):
        """An empty summary compresses to nothing."""
        c = CustomerSummary.from_arrays([], [], []).compress()
        assert len(c) == 0
        assert c.inverse.size == 0

    def test_grid_and_general_paths_agree(self):
        """The integer-grid fast path gives exactly the rows of the general path."""
        rng = np.random.default_rng(4)
        days = rng.integers(0, 400, 5000)
        x = rng.poisson(1.0, 5000)
        rec = np.where(x > 0, rng.integers(0, 400, 5000) % (days + 1), 0)
        s = CustomerSummary.from_arrays(x, rec / 7, days / 7, unit="W")
        fast, general = s.compress(), s._compress_by_values()
        assert fast == general

    def test_off_grid_values_use_the_general_path(self):
        """Values on no simple grid (irrational-looking floats) still gather back exactly."""
        rng = np.random.default_rng(5)
        t = rng.uniform(1, 50, 300)
        r = t * rng.uniform(0, 1, 300)
        s = CustomerSummary.from_arrays(np.ones(300, dtype=int), r, t)
        c = s.compress()
        assert np.array_equal(c.recency[c.inverse], s.recency)
        assert c.weights.sum() == 300


_values = st.sampled_from([0.0, 1 / 7, 2 / 7, 0.1, 0.2, 1.0, 2.5, np.pi, 1e-300, 38.86])


@given(
    rows=st.lists(st.tuples(st.integers(0, 5), _values, _values), min_size=1, max_size=60),
    weights=st.none() | hnp.arrays(np.float64, 60, elements=st.floats(0.5, 3.0)),
)
def test_compress_then_gather_is_identity(rows, weights):
    """compress → gather reproduces every column bit for bit and preserves total weight."""
    x = np.array([r[0] for r in rows])
    t = np.array([max(r[1], r[2]) for r in rows])
    rec = np.where(x > 0, np.array([min(r[1], r[2]) for r in rows]), 0.0)
    w = None if weights is None else weights[: len(rows)]
    s = CustomerSummary.from_arrays(x, rec, t, weights=w)
    c = s.compress()
    assert np.array_equal(c.frequency[c.inverse], s.frequency)
    assert np.array_equal(c.recency[c.inverse], s.recency)
    assert np.array_equal(c.T[c.inverse], s.T)
    assert np.isclose(c.weights.sum(), s.row_weights.sum())
    keys = list(zip(c.frequency, c.recency, c.T, strict=True))
    assert keys == sorted(set(keys))


@pytest.mark.parametrize("backend", ["pandas", "polars", "pyarrow"])
def test_to_frame_backends(backend):
    """to_frame returns the backend's frame with every present column, values intact."""
    import narwhals as nw

    s = _summary()
    frame = nw.from_native(s.to_frame(backend), eager_only=True)
    assert frame.columns == ["customer_id", "frequency", "recency", "T", "monetary"]
    assert frame["customer_id"].to_list() == ["a", "b", "c", "d"]
    assert frame["recency"].to_numpy().tolist() == s.recency.tolist()
    assert frame["frequency"].to_numpy().dtype == np.int64


def test_to_frame_unknown_backend():
    """An unknown backend is rejected with the allowed names."""
    with pytest.raises(InvalidInputError, match=r"'backend' parameter must be one of \['pandas'"):
        _summary().to_frame("spark")


def test_take_and_len():
    """take selects rows in the given order; len counts customers."""
    s = _summary().take([2, 0])
    assert len(s) == 2
    assert s.customer_id.tolist() == ["c", "a"]
    assert s.monetary is not None
    assert s.monetary.tolist() == [4.0, 10.0]


def test_to_frame_without_the_library(monkeypatch):
    """A missing frame library raises MissingDependencyError naming the extra to install."""
    import importlib.util

    from relmark.errors import MissingDependencyError

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "polars" else real(name, *a)
    )
    with pytest.raises(MissingDependencyError, match=r"pip install 'relmark\[polars\]'"):
        _summary().to_frame("polars")


class TestReviewFixes:
    def test_frequency_beyond_2_to_the_53_is_refused(self):
        """A frequency too large for exact float64 (and int64) is refused, not overflowed."""
        with pytest.raises(
            InvalidInputError,
            match=r"'frequency' must hold non-negative whole numbers; got \[1e\+20\] at row\(s\) 0",
        ):
            CustomerSummary.from_arrays([1e20], [1.0], [2.0])
        assert CustomerSummary.from_arrays([2**53], [1.0], [2.0]).frequency.tolist() == [2**53]

    @pytest.mark.parametrize(
        ("ids", "message"),
        [
            (["a", 1], r"'customer_id' mixes id types \['int', 'str'\]"),
            (
                np.array(["a", None], dtype=object),
                r"missing customer ids \(None/NaN\) at row\(s\) 1",
            ),
            ([1.0, np.nan], r"missing customer ids \(NaN\) at row\(s\) 1"),
            ([True, False], r"'customer_id' must hold integer or string ids"),
            ([[1], [2, 3]], r"'customer_id' must be a flat sequence of ids"),
        ],
    )
    def test_customer_ids_are_validated_like_the_log(self, ids, message):
        """Summary ids follow the log's rules: one type, none missing, no booleans."""
        with pytest.raises(InvalidInputError, match=message):
            CustomerSummary.from_arrays([0, 0], [0.0, 0.0], [1.0, 1.0], customer_id=ids)

    def test_non_numeric_values_are_named_by_row(self):
        """A value that is not a number is reported with its row."""
        with pytest.raises(
            InvalidInputError,
            match=r"'recency' must be numeric; found values that are not numbers at row\(s\) 1: \['x'\]",
        ):
            CustomerSummary.from_arrays([0, 0], [0.0, "x"], [1.0, 1.0])


def test_require_summary_passes_a_summary_through_and_names_the_owner() -> None:
    """The one summary type check returns the summary itself, or names argument, owner and type."""
    from relmark.data.summary import require_summary

    summary = CustomerSummary.from_arrays([1], [1.0], [2.0])
    assert require_summary(summary, owner="X.fit") is summary
    with pytest.raises(
        InvalidInputError,
        match=r"^The 'data' argument of X\.fit must be a CustomerSummary\. Got CompressedSummary\.",
    ):
        require_summary(summary.compress(), owner="X.fit", name="data")
