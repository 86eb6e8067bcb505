"""The command line's one CSV writer: missing values as empty cells, floats exact."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from relmark.cli import Report, Table
from relmark.cli._output import arrow_table, write_columns_csv, write_csv, write_outputs


def _rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def test_nan_in_a_numpy_column_is_an_empty_cell(tmp_path: Path) -> None:
    """A NaN in a float column is written as an empty cell; the other floats read back exactly."""
    path = tmp_path / "columns.csv"
    values = np.array([0.1, np.nan, 1 / 3, -np.inf])
    write_columns_csv({"id": np.array([7, 8, 9, 10]), "value": values}, path)
    rows = _rows(path)
    assert rows[0] == ["id", "value"]
    assert [r[1] for r in rows[1:]] == ["0.1", "", repr(1 / 3), "-inf"]
    assert float(rows[3][1]) == values[2]


def test_missing_values_in_sequences_and_object_arrays(tmp_path: Path) -> None:
    """None and float NaN in a list or an object array are empty cells; strings are kept."""
    path = tmp_path / "mixed.csv"
    write_columns_csv(
        {
            "label": np.array(["a", None, "c"], dtype=object),
            "share": [0.5, math.nan, None],
        },
        path,
    )
    assert _rows(path)[1:] == [["a", "0.5"], ["", ""], ["c", ""]]


def test_nan_round_trips_through_pandas(tmp_path: Path) -> None:
    """pandas reads the empty cell back as NaN and every other value unchanged."""
    pd = pytest.importorskip("pandas")
    path = tmp_path / "roundtrip.csv"
    values = np.array([1.5, np.nan, 2.0**-40])
    write_columns_csv({"value": values}, path)
    np.testing.assert_array_equal(pd.read_csv(path)["value"].to_numpy(), values)


def test_demo_tables_use_the_same_convention(tmp_path: Path) -> None:
    """A demo table with None and NaN is written by the same rules (write_outputs, write_csv)."""
    table = Table(
        name="t", title="t", columns=("a", "b"), rows=[(1, math.nan), (None, 0.25), ("x", 1.0)]
    )
    write_csv(table, tmp_path / "direct.csv")
    report = Report(io.StringIO(), plain=True)
    report.table(table)
    write_outputs(report, tmp_path / "out", "title")
    expected = [["a", "b"], ["1", ""], ["", "0.25"], ["x", "1.0"]]
    assert _rows(tmp_path / "direct.csv") == expected
    assert _rows(tmp_path / "out" / "t.csv") == expected


def test_empty_table_writes_only_the_header(tmp_path: Path) -> None:
    """A table without rows is a header line alone."""
    write_csv(Table(name="e", title="e", columns=("a", "b"), rows=[]), tmp_path / "e.csv")
    assert _rows(tmp_path / "e.csv") == [["a", "b"]]


def _assert_same_arrow(columns: dict[str, np.ndarray]) -> None:
    """``arrow_table(columns)`` equals pyarrow's own ``pa.table(columns)``, NaN bits included."""
    pa = pytest.importorskip("pyarrow")
    got, expected = arrow_table(columns), pa.table(columns)
    assert got.schema.equals(expected.schema, check_metadata=True)
    for name in columns:
        a, b = got[name].combine_chunks(), expected[name].combine_chunks()
        if pa.types.is_floating(a.type):
            assert a.to_numpy().view(np.int64).tolist() == b.to_numpy().view(np.int64).tolist()
        else:
            assert a.to_pylist() == b.to_pylist(), name
        a.validate(full=True)


def test_arrow_table_equals_pyarrows_conversion() -> None:
    """Numbers (NaN, -0.0, strided, 32-bit), ASCII/other/empty text and booleans convert alike."""
    floats = np.array([0.5, np.nan, -0.0, np.inf, 1e-310, 2.0])
    _assert_same_arrow(
        {
            "customer_id": np.array([3, -1, 2**62, 0, 7, 8]),
            "float": floats,
            "strided": np.arange(12.0)[::2],
            "narrow": np.arange(6, dtype=np.int32),
            "unsigned": np.arange(6, dtype=np.uint64),
            "label": np.array(["Champions", "", "At risk", "x", "Lost", "medium"]),
            "strided_label": np.array(["ab", "c"] * 6)[::2],
            "accents": np.array(["é", "ü", "", "a", "b", "c"]),
            "inner_nul": np.array(["a\x00b", "c", "", "d", "e", "f"]),
            "all_empty": np.array([""] * 6),
            "flag": np.array([True, False] * 3),
        }
    )


def test_arrow_table_of_no_rows() -> None:
    """Empty columns keep their types."""
    _assert_same_arrow(
        {"customer_id": np.array([], dtype=np.int64), "label": np.array([], dtype="<U5")}
    )


@given(
    st.lists(st.text(alphabet=st.characters(codec="utf-8"), max_size=12), min_size=1, max_size=40)
)
def test_arrow_text_matches_pyarrow_on_any_text(values: list[str]) -> None:
    """Any numpy text column (ASCII or not, NULs included) converts as pa.array converts it."""
    _assert_same_arrow({"label": np.array(values, dtype=np.str_)})


@given(st.lists(st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=12), min_size=1))
def test_arrow_ascii_text_matches_pyarrow(values: list[str]) -> None:
    """ASCII text (the fast path) converts exactly as pa.array converts it."""
    _assert_same_arrow({"label": np.array(values, dtype=np.str_)})
