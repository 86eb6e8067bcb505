"""Tests of relmark._frames: named errors for bad files, ids that keep their identity."""

from __future__ import annotations

from pathlib import Path

import pytest

from relmark._frames import check_delimiter, read_header, read_table
from relmark.errors import InvalidInputError

pa = pytest.importorskip("pyarrow")


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_single_ascii_delimiters_are_accepted(delimiter: str) -> None:
    """One ASCII character that is not a quote or a line break separates fields."""
    assert check_delimiter(delimiter) == delimiter


@pytest.mark.parametrize("delimiter", [";;", "", "\n", "\r", '"', "é", None, 44])
def test_other_delimiters_are_refused(delimiter: object) -> None:
    """Empty, multi-character, non-ASCII, quote, newline and non-string delimiters are refused."""
    with pytest.raises(InvalidInputError, match="exactly one ASCII character"):
        check_delimiter(delimiter)


@pytest.mark.parametrize(
    ("content", "file_format", "expected"),
    [
        (b"PAR1junk", "parquet", "Parquet magic bytes"),
        (b"", "parquet", "Cannot read"),
        (b"", "csv", "Cannot read"),
        (b"id,d\xe9te\n1,2\n", "csv", "not UTF-8"),
    ],
)
def test_malformed_files_are_named_input_errors(
    tmp_path: Path, content: bytes, file_format: str, expected: str
) -> None:
    """Corrupt, empty or non-UTF-8 files raise InvalidInputError naming the file and the cause."""
    path = tmp_path / f"f.{file_format}"
    path.write_bytes(content)
    with pytest.raises(InvalidInputError, match=expected) as caught:
        read_header(path, file_format=file_format)
    assert str(path) in str(caught.value)


def test_a_missing_file_stays_an_os_error(tmp_path: Path) -> None:
    """A file that does not exist is an OSError (the command line says 'No such file')."""
    with pytest.raises(FileNotFoundError):
        read_header(tmp_path / "absent.csv", file_format="csv")


@pytest.mark.parametrize(
    ("ids", "expected"),
    [
        (["1", "2", "30"], [1, 2, 30]),
        (["-4", "0"], [-4, 0]),
        (["9223372036854775807", "1"], [9223372036854775807, 1]),
        (
            ["9223372036854775808", "9223372036854775809"],
            ["9223372036854775808", "9223372036854775809"],
        ),
        (["1", "1.0"], ["1", "1.0"]),
        (["7", "007"], ["7", "007"]),
        (["+5", "5"], ["+5", "5"]),
        (["a1", "2"], ["a1", "2"]),
    ],
)
def test_csv_ids_are_integers_only_when_exactly_integers(
    tmp_path: Path, ids: list[str], expected: list[object]
) -> None:
    """Ids become int64 only when written as integers print and fitting; else text as written."""
    path = tmp_path / "ids.csv"
    path.write_text("cust\n" + "\n".join(ids) + "\n", encoding="utf-8")
    table = read_table(path, ["cust"], file_format="csv", as_string=[], ids="cust")
    assert table.column("cust").to_pylist() == expected


def test_encodings_decode_with_pyarrow_and_need_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pyarrow decodes a cp1252 file; without pyarrow, polars refuses non-UTF-8 by name."""
    import importlib.util

    from relmark.errors import MissingDependencyError

    path = tmp_path / "cp.csv"
    path.write_bytes("kunde,€\nmüller,1\n".encode("cp1252"))
    assert read_header(path, file_format="csv", encoding="cp1252") == ["kunde", "€"]
    table = read_table(path, ["kunde"], file_format="csv", as_string=[], encoding="cp1252")
    assert table.column("kunde").to_pylist() == ["müller"]
    pytest.importorskip("polars")
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name.startswith("pyarrow") else real(name, *a),
    )
    with pytest.raises(MissingDependencyError, match="cp1252 needs pyarrow"):
        read_header(path, file_format="csv", encoding="cp1252")


def _arrow_columns() -> list[object]:
    """Chunked, sliced and plain pyarrow columns of every type the buffer path takes."""
    times = [1_704_110_400_000_000, -60_000_000, 1_904_601_600_000_000]  # microseconds
    return [
        pa.chunked_array([[1, -2, 3], [], [2**62, 0]], type=pa.int64()),
        pa.chunked_array([[1, 2, 3, 4]], type=pa.int32()).slice(1, 2),
        pa.array([0, 255, 7], type=pa.uint8()),
        pa.array([2**64 - 1, 0], type=pa.uint64()),
        pa.chunked_array([[0.5, float("nan")], [-0.0, float("inf")]]).slice(1),
        pa.array([1.5, -2.25], type=pa.float32()),
        pa.chunked_array([times[:2], times[2:]], type=pa.timestamp("us")),
        pa.array(times, type=pa.timestamp("us")).cast(pa.timestamp("ns")).slice(2),
        pa.array([1, -5], type=pa.duration("s")),
        pa.chunked_array([], type=pa.float64()),
    ]


@pytest.mark.parametrize("column", _arrow_columns(), ids=str)
def test_arrow_buffers_give_pyarrows_numpy_array(column: object) -> None:
    """Numbers and naive times copied out of Arrow buffers equal pyarrow's to_numpy, bit for bit."""
    from relmark._frames import _arrow_fixed_width

    got = _arrow_fixed_width(column)
    expected = column.to_numpy()  # type: ignore[attr-defined]
    assert got is not None
    assert got.dtype == expected.dtype
    assert got.tobytes() == expected.tobytes()
    assert got.flags.writeable  # a new array, as to_numpy's copy of several chunks is


@pytest.mark.parametrize(
    "column",
    [
        pa.array([1, None, 3]),
        pa.array(["a", "b"]),
        pa.array([True, False]),
        pa.array([1, 2], type=pa.timestamp("us", tz="UTC")),
        pa.array([1.0, 2.0], type=pa.float16()) if hasattr(pa, "float16") else pa.array(["x"]),
    ],
    ids=str,
)
def test_arrow_buffers_leave_other_columns_to_pyarrow(column: object) -> None:
    """Nulls, text, booleans, zoned times and half floats are not taken from the buffers."""
    from relmark._frames import _arrow_fixed_width

    assert _arrow_fixed_width(column) is None


def test_parquet_read_does_not_import_pandas(tmp_path: Path) -> None:
    """Reading a Parquet log (pyarrow) into numpy leaves pandas unimported (0.2 s saved)."""
    import subprocess
    import sys

    import pyarrow.parquet as pq

    path = tmp_path / "log.parquet"
    table = pa.table(
        {"c": [1, 2, 1], "t": pa.array([0, 86_400, 172_800], pa.timestamp("s")), "a": [1.0, 2, 3]}
    )
    pq.write_table(table, path)
    code = (
        "import sys\n"
        "from relmark.data.log import TransactionLog\n"
        f"log = TransactionLog.read_parquet({str(path)!r}, customer='c', time='t', amount='a')\n"
        "assert len(log) == 3, len(log)\n"
        "print('pandas' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == "False"
