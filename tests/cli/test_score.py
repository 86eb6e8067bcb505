"""`relmark score`: CSV and Parquet transaction files in, one row per customer out."""

from __future__ import annotations

import csv
import gzip
import importlib.util
import io
from pathlib import Path

import numpy as np
import pytest

from relmark.cli import _parser, main
from relmark.cli._score import _Progress, _scores, detect_columns, write_scores
from relmark.clv.scorers import CLVScorer
from relmark.data.log import TransactionLog
from relmark.datasets import load_cdnow
from relmark.errors import InvalidInputError
from relmark.rfm import RFMScorer

OUTPUT_COLUMNS = [
    "customer_id",
    "frequency",
    "recency",
    "T",
    "monetary",
    "recency_score",
    "frequency_score",
    "monetary_score",
    "rfm_cell",
    "segment",
    "probability_alive",
    "expected_purchases",
    "expected_spend",
    "clv",
    "clv_tier",
]


def _write_cdnow_csv(path: Path, header: list[str], *, max_customer: int | None = None) -> int:
    """Export CDNOW with the csv module (no frame library); returns the number of rows."""
    log = load_cdnow()
    keep = (
        np.ones(len(log), dtype=bool) if max_customer is None else log.customer_id <= max_customer
    )
    days = log.time[keep].astype("datetime64[D]").astype(str).tolist()
    assert log.amount is not None
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(
            zip(log.customer_id[keep].tolist(), days, log.amount[keep].tolist(), strict=True)
        )
    return int(keep.sum())


def _read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def cdnow_scores(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, str]]]:
    """The full CDNOW log exported as CSV with headers to detect, scored with the defaults."""
    folder = tmp_path_factory.mktemp("score")
    source = folder / "cdnow.csv"
    _write_cdnow_csv(source, ["Customer ID", "Order-Date", "Revenue"])
    output = folder / "scores.csv"
    assert main(["score", str(source), "-o", str(output), "-q"]) == 0
    return source, _read_rows(output)


def test_scores_cdnow_csv_one_row_per_customer(
    cdnow_scores: tuple[Path, list[dict[str, str]]],
) -> None:
    """Every CDNOW customer gets one row with every documented column, in id order."""
    _, rows = cdnow_scores
    assert list(rows[0]) == OUTPUT_COLUMNS
    assert [int(r["customer_id"]) for r in rows] == list(range(1, 23_571))
    assert all(0 <= float(r["probability_alive"]) <= 1 for r in rows)
    assert all(float(r["clv"]) >= 0 for r in rows)
    assert {r["clv_tier"] for r in rows} == {"low", "medium", "high"}


def test_summary_columns_match_a_count_from_the_raw_log(
    cdnow_scores: tuple[Path, list[dict[str, str]]],
) -> None:
    """frequency = distinct purchase days - 1 and T = weeks from first purchase to 1998-06-30."""
    _, rows = cdnow_scores
    log = load_cdnow()
    day = log.time.astype("datetime64[D]").astype(np.int64)
    pairs = np.unique(np.stack([log.customer_id, day]), axis=1)
    days_per_customer = np.bincount(pairs[0])
    first = np.full(log.customer_id.max() + 1, np.iinfo(np.int64).max)
    np.minimum.at(first, pairs[0], pairs[1])
    end = np.datetime64("1998-06-30").astype(np.int64)
    for row in rows[::997]:
        cid = int(row["customer_id"])
        assert int(row["frequency"]) == days_per_customer[cid] - 1
        assert float(row["T"]) == pytest.approx((end - first[cid]) / 7)


def test_scores_equal_the_library_pipeline(
    cdnow_scores: tuple[Path, list[dict[str, str]]],
) -> None:
    """The CLI's numbers are those of summarize + RFMScorer + CLVScorer with the same settings."""
    _, rows = cdnow_scores
    summary = load_cdnow().summarize(period="D", unit="W")
    clv = CLVScorer(horizon=52, unit="W", discount_rate=0.0).fit(summary).score(summary)
    rfm = RFMScorer().fit(summary).score(summary)
    got = {name: [r[name] for r in rows] for name in OUTPUT_COLUMNS}
    for name in ("probability_alive", "expected_purchases", "expected_spend", "clv"):
        np.testing.assert_array_equal(np.array(got[name], dtype=float), clv[name])
    assert got["segment"] == rfm["segment"].tolist()
    assert got["rfm_cell"] == rfm["rfm_cell"].tolist()


def test_scores_polars_parquet(
    tmp_path: Path, cdnow_scores: tuple[Path, list[dict[str, str]]]
) -> None:
    """A polars-written Parquet file with named columns gives the same scores, as Parquet."""
    pl = pytest.importorskip("polars")
    log = load_cdnow()
    source = tmp_path / "tx.parquet"
    pl.DataFrame({"who": log.customer_id, "when": log.time, "usd": log.amount}).write_parquet(
        source
    )
    output = tmp_path / "scores.parquet"
    argv = ["score", str(source), "-o", str(output), "--customer", "who", "--time", "when"]
    assert main([*argv, "--amount", "usd", "-q"]) == 0
    frame = pl.read_parquet(output)
    assert frame.columns == OUTPUT_COLUMNS
    _, rows = cdnow_scores
    np.testing.assert_array_equal(
        frame["clv"].to_numpy(), np.array([r["clv"] for r in rows], dtype=float)
    )
    assert frame["segment"].to_list() == [r["segment"] for r in rows]


@pytest.fixture
def small_csv(tmp_path: Path) -> Path:
    """The first 2,000 CDNOW customers, as CSV."""
    path = tmp_path / "small.csv"
    _write_cdnow_csv(path, ["customer_id", "date", "amount"], max_customer=2000)
    return path


def test_progress_and_detected_columns_on_stderr(
    small_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without -q, stderr states the picked columns, each stage and the CLV settings."""
    output = tmp_path / "out.csv"
    assert main(["score", str(small_csv), "-o", str(output), "--horizon", "12", "--unit", "M"]) == 0
    captured = capsys.readouterr()
    assert "customer='customer_id', time='date', amount='amount'" in captured.err
    assert "[1/4] reading small.csv" in captured.err
    assert "[4/4] writing" in captured.err
    assert "over the next 12 months" in captured.err
    assert "Scored 2,000 customers" in captured.out


def test_options_change_the_valuation(small_csv: Path, tmp_path: Path) -> None:
    """Discounting lowers CLV, a margin scales it, and --format parquet overrides the suffix."""
    pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    plain, discounted = tmp_path / "plain.csv", tmp_path / "discounted.out"
    assert main(["score", str(small_csv), "-o", str(plain), "-q"]) == 0
    argv = ["score", str(small_csv), "-o", str(discounted), "--format", "parquet", "-q"]
    assert main([*argv, "--discount-rate", "0.01", "--margin", "0.5"]) == 0
    base = np.array([r["clv"] for r in _read_rows(plain)], dtype=float)
    lower = pq.read_table(discounted).column("clv").to_numpy()
    assert np.all(lower < 0.5 * base + 1e-12)
    assert np.all(lower > 0.5 * base * 1.01**-52 - 1e-12)


def test_gzipped_csv_and_string_ids(tmp_path: Path) -> None:
    """A .csv.gz is read; --string-ids keeps leading zeros of the customer ids."""
    pytest.importorskip("pyarrow")
    plain = tmp_path / "small.csv"
    _write_cdnow_csv(plain, ["cust_id", "timestamp", "value"], max_customer=2000)
    text = plain.read_text().replace("\n1,", "\n0001,")
    source = tmp_path / "small.csv.gz"
    source.write_bytes(gzip.compress(text.encode()))
    output = tmp_path / "out.csv"
    assert main(["score", str(source), "-o", str(output), "--string-ids", "-q"]) == 0
    ids = [r["customer_id"] for r in _read_rows(output)]
    assert "0001" in ids
    assert len(ids) == 2000


def _broken(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "broken.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("lines", "argv", "expected"),
    [
        (
            ["customer_id,date,amount", "1,2024-01-01,10", "1,2024-02-30,5", "2,soon,3"],
            [],
            ["Column 'date'", "row(s) 1, 2", "'2024-02-30'", "line r + 2"],
        ),
        (
            ["customer_id,date,amount", "1,2024-01-01,10", "1,2024-02-03,-5", "2,2024-01-05,3"],
            [],
            ["Column 'amount'", ">= 0", "row(s) 1", "-5.0"],
        ),
        (
            ["client,when,price", "1,2024-01-01,10"],
            ["--time", "date"],
            ["Column 'date' (--time) is not in the file", "['client', 'when', 'price']"],
        ),
        (
            ["customer_id,date", "1,2024-01-01"],
            [],
            ["Could not find the amount column", "--amount"],
        ),
        (
            ["customer_id,date,amount", "1,2024-01-01,10", "1,2024-01-02"],
            [],
            ["Cannot read", "broken.csv"],
        ),
        (
            ["customer_id,date,amount", "", "1,2024-01-01,10"],
            [],
            ["did not converge", "penalizer"],
        ),
    ],
    ids=[
        "bad-dates",
        "negative-amount",
        "missing-column",
        "no-amount",
        "ragged",
        "too-little-data",
    ],
)
def test_broken_files_fail_cleanly(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    lines: list[str],
    argv: list[str],
    expected: list[str],
) -> None:
    """A broken file exits 2 with one 'relmark: error:' message naming the problem; no output."""
    source, output = _broken(tmp_path, lines), tmp_path / "out.csv"
    status = main(["score", str(source), "-o", str(output), "-q", *argv])
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("relmark: error: ")
    assert "Traceback" not in err
    for fragment in expected:
        assert fragment in err, fragment
    assert not output.exists()


def test_missing_input_and_output_directory(
    tmp_path: Path, small_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A missing input file or output directory is reported before any work, exit 2."""
    assert main(["score", str(tmp_path / "nope.csv"), "-o", str(tmp_path / "o.csv")]) == 2
    assert "No such file" in capsys.readouterr().err
    assert main(["score", str(small_csv), "-o", str(tmp_path / "no" / "o.csv")]) == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (["Customer ID", "Order Date", "Revenue"], ("Customer ID", "Order Date", "Revenue")),
        (
            ["id", "customer_id", "timestamp", "price", "amount"],
            ("customer_id", "timestamp", "amount"),
        ),
        (["CUST_ID", "InvoiceDate", "dollar_value"], ("CUST_ID", "InvoiceDate", "dollar_value")),
    ],
)
def test_detect_columns(header: list[str], expected: tuple[str, str, str]) -> None:
    """Header detection is case-insensitive and prefers the more specific candidates."""
    picked = detect_columns(header, {"customer": None, "time": None, "amount": None})
    assert (picked["customer"], picked["time"], picked["amount"]) == expected


def test_detect_columns_rejects_one_column_for_two_roles() -> None:
    """Naming one column for two roles is an input error naming it."""
    with pytest.raises(InvalidInputError, match="'value'"):
        detect_columns(["id", "date", "value"], {"customer": "value", "time": None, "amount": None})


def test_log_reader_agrees_with_the_csv_module(small_csv: Path) -> None:
    """The file the tests write reads back to the same transactions (guards the fixture)."""
    pytest.importorskip("pyarrow")
    log = TransactionLog.read_csv(small_csv, customer="customer_id", time="date", amount="amount")
    rows = _read_rows(small_csv)
    assert len(log) == len(rows)
    assert log.customer_id[:3].tolist() == [int(r["customer_id"]) for r in rows[:3]]


def test_missing_reader_names_the_extra(
    small_csv: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without pyarrow and polars, score exits 2 with the extra to install."""
    real = importlib.util.find_spec

    def without_readers(name: str, package: str | None = None) -> object:
        blocked = name.split(".", maxsplit=1)[0] in {"pyarrow", "polars"}
        return None if blocked else real(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", without_readers)
    assert main(["score", str(small_csv), "-o", str(tmp_path / "o.csv"), "-q"]) == 2
    assert "pip install 'relmark[arrow]'" in capsys.readouterr().err
    assert main(["score", str(small_csv), "-o", str(tmp_path / "o.parquet"), "-q"]) == 2
    assert "Parquet needs pyarrow or polars" in capsys.readouterr().err


SCORE_COLUMNS = {
    "customer_id": np.array(["a", "b", "c"]),
    "frequency": np.array([0, 2, 5]),
    "monetary": np.array([np.nan, 12.5, 0.1]),
    "segment": np.array(["Hibernating", "Loyal", "Champions"]),
}


def test_write_scores_csv_nan_is_an_empty_cell(tmp_path: Path) -> None:
    """score's CSV output writes NaN as an empty cell, like demo --output (not 'nan')."""
    path = tmp_path / "scores.csv"
    write_scores(SCORE_COLUMNS, path, "csv")
    assert _read_rows(path) == [
        {"customer_id": "a", "frequency": "0", "monetary": "", "segment": "Hibernating"},
        {"customer_id": "b", "frequency": "2", "monetary": "12.5", "segment": "Loyal"},
        {"customer_id": "c", "frequency": "5", "monetary": "0.1", "segment": "Champions"},
    ]


@pytest.mark.parametrize("library", ["pyarrow", "polars"])
def test_write_scores_parquet_keeps_dtypes_and_nan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, library: str
) -> None:
    """Parquet is written by pyarrow (or polars without pyarrow) from the shared frame builder."""
    pq = pytest.importorskip("pyarrow.parquet")
    pytest.importorskip(library)
    from relmark.data import _frames

    real_find_spec, real_builder = importlib.util.find_spec, _frames.to_native_frame
    if library == "polars":
        monkeypatch.setattr(
            importlib.util,
            "find_spec",
            lambda name, *a: None if name.startswith("pyarrow") else real_find_spec(name, *a),
        )
    calls: list[str] = []

    def recording(data: dict[str, np.ndarray], backend: str) -> object:
        calls.append(backend)
        return real_builder(data, backend)

    monkeypatch.setattr("relmark.cli._score.to_native_frame", recording)
    path = tmp_path / "scores.parquet"
    write_scores(SCORE_COLUMNS, path, "parquet")
    assert calls == [library]
    monkeypatch.undo()
    table = pq.read_table(path)
    assert table.column_names == list(SCORE_COLUMNS)
    assert str(table.schema.field("frequency").type) == "int64"
    np.testing.assert_array_equal(table.column("monetary").to_numpy(), SCORE_COLUMNS["monetary"])
    assert table.column("segment").to_pylist() == SCORE_COLUMNS["segment"].tolist()


def test_scores_without_amounts_is_an_input_error(small_csv: Path) -> None:
    """A summary without monetary values is refused with an InvalidInputError, not an assert."""
    pytest.importorskip("pyarrow")
    log = TransactionLog.read_csv(small_csv, customer="customer_id", time="date")
    args = _parser().parse_args(["score", str(small_csv), "-o", "unused.csv"])
    with pytest.raises(InvalidInputError, match="amount column"):
        _scores(args, log.summarize(period="D"), _Progress(io.StringIO(), quiet=True))
