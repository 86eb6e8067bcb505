"""ScoreTable: construction checks, column access, joins aligned on id, frame conversion."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from relmark.data.table import ColumnInfo, ColumnKind, ScoreTable
from relmark.errors import InvalidInputError, MissingDependencyError

INT = ColumnInfo(description="An integer score.", kind=ColumnKind.INTEGER, range=(1.0, 5.0))
STR = ColumnInfo(description="A label.", kind=ColumnKind.STRING)
FLOAT = ColumnInfo(description="A probability.", kind=ColumnKind.FLOAT, unit="", range=(0.0, 1.0))


@pytest.fixture
def table():
    """Three customers, two columns."""
    return ScoreTable.from_columns(
        ["a", "b", "c"],
        {"score": [1, 5, 3], "label": ["x", "y", "z"]},
        {"score": INT, "label": STR},
    )


def test_columns_length_and_access(table):
    """len, columns, item access and membership behave like a read-only mapping."""
    assert len(table) == 3
    assert table.columns == ("score", "label")
    assert table["score"].dtype == np.int64
    assert table["label"].tolist() == ["x", "y", "z"]
    assert "score" in table
    assert list(table) == ["score", "label"]
    with pytest.raises(KeyError, match="No score column 'nope'"):
        table["nope"]
    with pytest.raises(ValueError, match="read-only"):
        table["score"][0] = 2


def test_inputs_are_copied():
    """Changing the arrays after building the table does not change the table."""
    values = np.array([1, 2])
    t = ScoreTable.from_columns([1, 2], {"score": values}, {"score": INT})
    values[0] = 9
    assert t["score"].tolist() == [1, 2]


@pytest.mark.parametrize(
    ("ids", "columns", "info", "fragment"),
    [
        ([1, 1], {"score": [1, 2]}, {"score": INT}, "unique; duplicated: \\[1\\]"),
        (
            [1, 2],
            {"score": [1, 2, 3]},
            {"score": INT},
            "'score' must be one-dimensional with 2 rows",
        ),
        ([1, 2], {"score": [1.5, 2.0]}, {"score": INT}, "declared integer but holds dtype float64"),
        ([1, 2], {"score": [1, 2]}, {}, "missing metadata for \\['score'\\]"),
        ([1, 2], {}, {"score": INT}, "metadata for absent columns \\['score'\\]"),
        ([1, 2], {"customer_id": [1, 2]}, {"customer_id": INT}, "reserved"),
        ([[1, 2]], {}, {}, "one-dimensional"),
    ],
)
def test_bad_tables_are_rejected(ids, columns, info, fragment):
    """Each malformed input raises InvalidInputError saying what is wrong."""
    with pytest.raises(InvalidInputError, match=fragment):
        ScoreTable.from_columns(ids, columns, info)


@pytest.mark.parametrize(
    ("ids", "columns", "info", "fragment"),
    [
        (np.array([1, 1]), {"score": np.array([1, 2])}, {"score": INT}, "unique"),
        (np.array([1, 2]), {"score": np.array([1, 2, 3])}, {"score": INT}, "with 2 rows"),
        (np.array([1, 2]), {"score": np.array([1.5, 2.0])}, {"score": INT}, "declared integer"),
    ],
)
def test_uncopied_tables_are_checked_the_same(ids, columns, info, fragment):
    """copy=False skips only the copy: the same malformed input is rejected the same way."""
    with pytest.raises(InvalidInputError, match=fragment):
        ScoreTable.from_columns(ids, columns, info, copy=False)


def test_copy_false_takes_arrays_over_read_only():
    """copy=False holds the given arrays themselves (no copy) and makes them read-only."""
    ids = np.array([7, 8, 9])
    score = np.array([1, 5, 3])
    label = np.array(["x", "y", "z"])
    share = np.array([0.5, 0.25, 0.0])
    t = ScoreTable.from_columns(
        ids,
        {"score": score, "label": label, "share": share},
        {"score": INT, "label": STR, "share": FLOAT},
        copy=False,
    )
    assert t.customer_id is ids
    assert t["score"] is score
    assert t["label"] is label
    assert t["share"] is share
    for array in (ids, score, label, share):
        assert not array.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        score[0] = 2
    with pytest.raises(ValueError, match="read-only"):
        t["share"][0] = 1.0


def test_copy_false_accepts_read_only_inputs_and_shares_nothing_else():
    """Already read-only arrays are shared; inputs of another dtype or lists are converted."""
    ids = np.array([1, 2])
    ids.flags.writeable = False
    narrow = np.array([1, 2], dtype=np.int32)
    t = ScoreTable.from_columns(
        ids, {"score": narrow, "label": ["p", "q"]}, {"score": INT, "label": STR}, copy=False
    )
    assert t.customer_id is ids
    assert t["score"].dtype == np.int64
    assert not np.shares_memory(t["score"], narrow)
    assert narrow.flags.writeable  # a converted input is left alone
    narrow[0] = 9
    assert t["score"].tolist() == [1, 2]
    assert t["label"].tolist() == ["p", "q"]
    assert not t["score"].flags.writeable


def test_default_copy_leaves_the_inputs_writable_and_separate():
    """The default (copy=True) never shares memory with, nor changes the flags of, the inputs."""
    ids = np.array([1, 2])
    share = np.array([0.5, 0.25])
    t = ScoreTable.from_columns(ids, {"share": share}, {"share": FLOAT})
    assert ids.flags.writeable
    assert share.flags.writeable
    assert not np.shares_memory(t.customer_id, ids)
    assert not np.shares_memory(t["share"], share)
    assert t == ScoreTable.from_columns(ids, {"share": share}, {"share": FLOAT}, copy=False)


def test_column_info_range_must_be_ordered():
    """A range with low > high is rejected, naming the field."""
    with pytest.raises(InvalidInputError, match="'range' field of ColumnInfo"):
        ColumnInfo(description="x", kind=ColumnKind.FLOAT, range=(1.0, 0.0))


def test_join_aligns_rows_on_customer_id(table):
    """Joining a table in another row order aligns on id and keeps the first table's order."""
    other = ScoreTable.from_columns(["c", "a", "b"], {"p": [0.3, 0.1, 0.2]}, {"p": FLOAT})
    joined = table.join(other)
    assert joined.columns == ("score", "label", "p")
    assert joined.customer_id.tolist() == ["a", "b", "c"]
    assert joined["p"].tolist() == [0.1, 0.2, 0.3]
    assert joined.info["p"] == FLOAT
    three = ScoreTable.join(other, table)
    assert three.customer_id.tolist() == ["c", "a", "b"]
    assert three["score"].tolist() == [3, 1, 5]


def test_join_rejects_mismatched_ids_and_clashing_columns(table):
    """Different id sets and repeated column names raise errors naming them."""
    other = ScoreTable.from_columns(["a", "b", "d"], {"p": [0.1, 0.2, 0.3]}, {"p": FLOAT})
    with pytest.raises(
        InvalidInputError, match=r"1 id\(s\) only in table 0 \(first: \['c'\]\).*\['d'\]"
    ):
        table.join(other)
    with pytest.raises(
        InvalidInputError, match=r"column name\(s\) \['score', 'label'\] of table 1"
    ):
        table.join(table)


def test_align_to_and_take(table):
    """align_to reorders by the given ids; take selects rows."""
    assert table.align_to(["c", "a", "b"])["score"].tolist() == [3, 1, 5]
    assert table.take([2, 0])["label"].tolist() == ["z", "x"]
    with pytest.raises(InvalidInputError, match="same customer ids"):
        table.align_to(["a", "b"])


def test_equality(table):
    """Tables are equal when ids, columns, values and metadata are; they are unhashable."""
    same = ScoreTable.from_columns(
        ["a", "b", "c"],
        {"score": [1, 5, 3], "label": ["x", "y", "z"]},
        {"score": INT, "label": STR},
    )
    assert table == same
    assert table != table.take([1, 0, 2])
    assert table != "table"
    with pytest.raises(TypeError):
        hash(table)


def test_to_frame_pandas(table):
    """pandas: customer_id first, then the columns with their values."""
    frame = table.to_frame("pandas")
    assert list(frame.columns) == ["customer_id", "score", "label"]
    assert frame["score"].tolist() == [1, 5, 3]
    assert frame["customer_id"].tolist() == ["a", "b", "c"]


def test_to_frame_polars(table):
    """polars: same columns and values."""
    frame = table.to_frame("polars")
    assert frame.columns == ["customer_id", "score", "label"]
    assert frame["label"].to_list() == ["x", "y", "z"]


def test_to_frame_pyarrow(table):
    """pyarrow: same columns and values."""
    frame = table.to_frame("pyarrow")
    assert frame.column_names == ["customer_id", "score", "label"]
    assert frame.column("score").to_pylist() == [1, 5, 3]


def test_to_frame_errors(table, monkeypatch):
    """An unknown backend is an InvalidInputError; a missing library a MissingDependencyError."""
    with pytest.raises(InvalidInputError, match="'backend' parameter"):
        table.to_frame("excel")
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "polars" else real(name, *a)
    )
    with pytest.raises(MissingDependencyError, match="relmark\\[polars\\]"):
        table.to_frame("polars")


@pytest.mark.parametrize("backend", ["pandas", "polars", "pyarrow"])
def test_to_frame_uses_the_shared_frame_builder(table, backend, monkeypatch):
    """to_frame hands customer_id and the columns, in order, to relmark._frames.to_native_frame."""
    from relmark import _frames

    calls = []
    real = _frames.to_native_frame

    def recording(data, name):
        calls.append((list(data), name))
        return real(data, name)

    monkeypatch.setattr(_frames, "to_native_frame", recording)
    table.to_frame(backend)
    assert calls == [(["customer_id", "score", "label"], backend)]


def test_pandas_frame_can_be_edited_without_touching_the_table(table):
    """The read-only columns do not make the pandas frame read-only, nor leak edits back."""
    frame = table.to_frame("pandas")
    frame.loc[0, "score"] = 4
    assert frame["score"].tolist() == [4, 5, 3]
    assert table["score"].tolist() == [1, 5, 3]


def test_mappings_are_read_only(table):
    """The column and metadata mappings cannot be modified in place."""
    with pytest.raises(TypeError):
        table.data["new"] = np.zeros(3)
    with pytest.raises(TypeError):
        table.info["score"] = STR


def test_take_and_join_share_no_memory_with_their_sources(table):
    """take and join (which skip the second copy) give read-only arrays of their own."""
    other = ScoreTable.from_columns(["c", "a", "b"], {"share": [0.1, 0.2, 0.3]}, {"share": FLOAT})
    for result in (table.take([2, 0]), table.join(other), ScoreTable.join(other, table)):
        arrays = [result.customer_id, *result.data.values()]
        for array in arrays:
            assert not array.flags.writeable
            for source in (table, other):
                for held in (source.customer_id, *source.data.values()):
                    assert not np.shares_memory(array, held)
    assert table.take([2, 0])["score"].tolist() == [3, 1]
    assert table.join(other)["share"].tolist() == [0.2, 0.3, 0.1]
