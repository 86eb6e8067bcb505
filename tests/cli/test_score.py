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
from relmark.cli._score import (
    _blocks,
    _cli_hint,
    _for_command_line,
    _Progress,
    _scores,
    detect_columns,
    write_scores,
)
from relmark.clv.scorers import CLVScorer
from relmark.data.log import TransactionLog
from relmark.data.table import ColumnInfo, ColumnKind, ScoreTable
from relmark.datasets import load_cdnow
from relmark.errors import ConvergenceError, InvalidInputError
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


def test_scoring_in_blocks_equals_one_pass(
    cdnow_scores: tuple[Path, list[dict[str, str]]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """With --interval, blocks of distinct rows (progress after each) give the one-pass numbers.

    Model columns agree to rounding (the kernels batch their work per call), everything else
    exactly.
    """
    source, rows = cdnow_scores
    monkeypatch.setattr("relmark.cli._score._BLOCK", 5_000)
    output = tmp_path / "blocks.csv"
    assert main(["score", str(source), "-o", str(output), "--interval", "0.9"]) == 0
    err = capsys.readouterr().err
    assert "23,570/23,570 customers scored" in err
    assert err.count("customers scored") >= 4
    in_blocks = _read_rows(output)
    model_columns = {"probability_alive", "expected_purchases", "expected_spend", "clv"}
    for name in OUTPUT_COLUMNS:
        got, expected = [r[name] for r in in_blocks], [r[name] for r in rows]
        if name in model_columns:
            np.testing.assert_allclose(np.array(got, float), np.array(expected, float), rtol=1e-12)
        else:
            assert got == expected, name
    summary = load_cdnow().summarize()
    blocks = _blocks(summary, 5_000)
    assert len(blocks) >= 4
    assert sorted(np.concatenate(blocks).tolist()) == list(range(len(summary)))
    inverse = summary.compress().inverse
    row_sets = [set(inverse[block].tolist()) for block in blocks]
    assert sum(len(r) for r in row_sets) == len(set().union(*row_sets))  # no row in two blocks


def test_point_scores_take_one_pass_reusing_the_fit(
    cdnow_scores: tuple[Path, list[dict[str, str]]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without --interval the fitted summary is scored whole, once: no row matching, no take.

    A small ``_BLOCK`` (which would split the customers) must not change that, and the output
    equals the fixture's exactly.
    """
    from relmark.clv import scorers

    source, rows = cdnow_scores
    monkeypatch.setattr("relmark.cli._score._BLOCK", 5_000)
    calls = {"score": 0, "match": 0}
    score, match = CLVScorer.score, scorers._match_rows

    def counting_score(self: CLVScorer, summary: object) -> ScoreTable:
        calls["score"] += 1
        return score(self, summary)  # type: ignore[arg-type]

    def counting_match(*args: object) -> object:
        calls["match"] += 1
        return match(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(CLVScorer, "score", counting_score)
    monkeypatch.setattr(scorers, "_match_rows", counting_match)
    output = tmp_path / "one_pass.csv"
    assert main(["score", str(source), "-o", str(output), "-q"]) == 0
    assert calls == {"score": 1, "match": 0}
    assert _read_rows(output) == rows


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
    assert "[1/5] reading small.csv" in captured.err
    assert "[4/5] scoring 2,000 customers" in captured.err
    assert "[5/5] writing" in captured.err
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
            ["--strict"],
            ["BG/NBD did not converge", "--penalizer 0.001"],
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
SCORES = ScoreTable.from_columns(
    SCORE_COLUMNS["customer_id"],
    {name: values for name, values in SCORE_COLUMNS.items() if name != "customer_id"},
    {
        "frequency": ColumnInfo(description="Repeat purchases.", kind=ColumnKind.INTEGER),
        "monetary": ColumnInfo(description="Mean repeat spend.", kind=ColumnKind.FLOAT),
        "segment": ColumnInfo(description="Segment.", kind=ColumnKind.STRING),
    },
)


def test_write_scores_csv_nan_is_an_empty_cell(tmp_path: Path) -> None:
    """score's CSV output writes NaN as an empty cell, like demo --output (not 'nan')."""
    path = tmp_path / "scores.csv"
    write_scores(SCORES, path, "csv")
    assert _read_rows(path) == [
        {"customer_id": "a", "frequency": "0", "monetary": "", "segment": "Hibernating"},
        {"customer_id": "b", "frequency": "2", "monetary": "12.5", "segment": "Loyal"},
        {"customer_id": "c", "frequency": "5", "monetary": "0.1", "segment": "Champions"},
    ]


@pytest.mark.parametrize("library", ["pyarrow", "polars"])
def test_write_scores_parquet_keeps_dtypes_and_nan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, library: str
) -> None:
    """Parquet is written by pyarrow (or polars without pyarrow) with the table's dtypes.

    pyarrow writes the table ``arrow_table`` builds, which equals ``ScoreTable.to_frame``'s;
    polars writes ``to_frame``'s frame.
    """
    pq = pytest.importorskip("pyarrow.parquet")
    pytest.importorskip(library)
    real_find_spec, real_to_frame = importlib.util.find_spec, ScoreTable.to_frame
    if library == "polars":
        monkeypatch.setattr(
            importlib.util,
            "find_spec",
            lambda name, *a: None if name.startswith("pyarrow") else real_find_spec(name, *a),
        )
    calls: list[str] = []

    def recording(table: ScoreTable, backend: str | None = None) -> object:
        calls.append(backend)
        return real_to_frame(table, backend)

    monkeypatch.setattr(ScoreTable, "to_frame", recording)
    path = tmp_path / "scores.parquet"
    write_scores(SCORES, path, "parquet")
    assert calls == ([] if library == "pyarrow" else [library])
    monkeypatch.undo()
    table = pq.read_table(path)
    if library == "pyarrow":
        frame = SCORES.to_frame("pyarrow")
        assert table.schema.equals(frame.schema, check_metadata=True)
        for name in frame.column_names:  # assert_array_equal: NaN equals NaN
            np.testing.assert_array_equal(table[name].to_numpy(), frame[name].to_numpy())
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


# ---------------------------------------------------------------- hardening (issues 12, 16, 18)
def _one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("relmark: error: ")]
    assert len(lines) == 1, err
    return lines[0]


def _bad_file(tmp_path: Path, case: str) -> Path:
    if case == "latin1-header":
        path = tmp_path / "bad.csv"
        path.write_bytes(b"customer_id,d\xe9te,amount\n1,2024-01-01,5\n")
    elif case == "latin1-body":
        path = tmp_path / "bad.csv"
        path.write_bytes(b"customer_id,date,amount\nm\xfcller,2024-01-01,5\n")
    elif case == "field-over-csv-limit":
        path = tmp_path / "bad.csv"
        path.write_text("x" * 200_000 + ",date,amount\n1,2024-01-01,5\n", encoding="utf-8")
    elif case == "field-over-block":
        path = tmp_path / "bad.csv"
        path.write_text("x" * 3_000_000 + ",date,amount\n1,2024-01-01,5\n", encoding="utf-8")
    elif case == "corrupt-parquet":
        path = tmp_path / "bad.parquet"
        path.write_bytes(b"PAR1junk")
    elif case == "empty-parquet":
        path = tmp_path / "bad.parquet"
        path.write_bytes(b"")
    else:
        path = tmp_path / "bad.csv"
        path.write_bytes(b"")
    return path


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("latin1-header", "UTF-8"),
        ("latin1-body", "UTF-8"),
        ("field-over-csv-limit", "Could not find the customer column"),
        ("field-over-block", "Cannot read"),
        ("corrupt-parquet", "Cannot read"),
        ("empty-parquet", "Cannot read"),
        ("empty-csv", "Cannot read"),
    ],
)
def test_unreadable_files_are_one_message_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str, expected: str
) -> None:
    """Non-UTF-8 bytes, over-long fields, corrupt or empty files: one error line, exit 2."""
    pytest.importorskip("pyarrow")
    source, output = _bad_file(tmp_path, case), tmp_path / "out.csv"
    assert main(["score", str(source), "-o", str(output), "-q"]) == 2
    assert expected in _one_error_line(capsys)
    assert not output.exists()


@pytest.mark.parametrize("delimiter", [";;", "", "\n", '"', "é"])
def test_bad_delimiters_are_usage_errors(
    small_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], delimiter: str
) -> None:
    """A delimiter that is not one ASCII character (or is a quote or newline) exits 2, no traceback."""
    output = tmp_path / "out.csv"
    assert main(["score", str(small_csv), "-o", str(output), "--delimiter", delimiter]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "exactly one ASCII character" in err
    assert not output.exists()


def test_horizon_beyond_a_century_is_refused(
    small_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A horizon no array could hold is refused before any work, naming the longest allowed."""
    output = tmp_path / "out.csv"
    argv = ["score", str(small_csv), "-o", str(output), "-q", "--horizon", str(10**15)]
    assert main(argv) == 2
    assert "longest horizon in that unit is 5217" in _one_error_line(capsys)


def test_out_of_memory_is_one_message(
    small_csv: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A MemoryError anywhere in a command becomes one error line and exit 2."""

    def exhausted(*args: object, **kwargs: object) -> None:
        raise MemoryError

    monkeypatch.setattr(TransactionLog, "summarize", exhausted)
    assert main(["score", str(small_csv), "-o", str(tmp_path / "o.csv"), "-q"]) == 2
    assert "not enough memory" in _one_error_line(capsys)


def _dst_csv(path: Path) -> None:
    """Berlin purchases written with the UTC offset of their date (+01:00 winter, +02:00 summer)."""
    rows = ["customer_id,date,amount"]
    for customer in range(1, 60):
        for month, offset in ((1, "+01:00"), (4, "+02:00"), (7, "+02:00"), (11, "+01:00")):
            if (customer + month) % 3:
                day = 1 + customer % 27
                rows.append(f"{customer},2023-{month:02d}-{day:02d}T23:30:00{offset},{customer}.5")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def test_daylight_saving_offsets_need_and_take_a_timezone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Offsets changing with DST are refused with a hint to --timezone, then scored with it."""
    pytest.importorskip("pyarrow")
    source, output = tmp_path / "dst.csv", tmp_path / "out.csv"
    _dst_csv(source)
    assert main(["score", str(source), "-o", str(output), "-q"]) == 2
    message = _one_error_line(capsys)
    assert "different UTC offsets (+01:00, +02:00)" in message
    assert "--timezone" in message
    argv = ["score", str(source), "-o", str(output), "-q", "--timezone", "Europe/Berlin"]
    assert main(argv) == 0
    log = TransactionLog.read_csv(
        source, customer="customer_id", time="date", amount="amount", timezone="Europe/Berlin"
    )
    # 23:30 wall clock in Berlin stays on its own calendar day after conversion.
    assert set(log.time.astype("datetime64[m]").astype(str).tolist()[:4]) <= {
        f"2023-{m:02d}-{d:02d}T23:30" for m in (1, 4, 7, 11) for d in range(1, 29)
    }
    rows = _read_rows(output)
    assert len(rows) == 59
    assert main([*argv[:4], "-q", "--timezone", "Mars/Olympus"]) == 2
    assert "IANA time-zone name" in _one_error_line(capsys)


def _constant_spend_csv(path: Path) -> None:
    log = load_cdnow()
    keep = log.customer_id <= 3000
    days = log.time[keep].astype("datetime64[D]").astype(str).tolist()
    lines = ["customer_id,date,amount"]
    lines += [f"{c},{d},10" for c, d in zip(log.customer_id[keep].tolist(), days, strict=True)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_a_model_that_does_not_converge_leaves_only_its_columns_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Gamma-Gamma on spend that never varies: reported, its columns dropped, the rest scored."""
    pytest.importorskip("pyarrow")
    source, output = tmp_path / "flat.csv", tmp_path / "out.csv"
    _constant_spend_csv(source)
    assert main(["score", str(source), "-o", str(output)]) == 0
    err = capsys.readouterr().err
    assert "Gamma-Gamma did not converge" in err
    assert "--spend-penalizer" in err
    assert "penalizer=" not in err
    assert "expected_spend, clv, clv_tier are left out" in err
    rows = _read_rows(output)
    assert list(rows[0]) == [
        c for c in OUTPUT_COLUMNS if c not in {"expected_spend", "clv", "clv_tier"}
    ]
    assert all(0 <= float(r["probability_alive"]) <= 1 for r in rows)
    output.unlink()
    assert main(["score", str(source), "-o", str(output), "--strict"]) == 2
    assert "Gamma-Gamma did not converge" in _one_error_line(capsys)
    assert not output.exists()


def test_help_imports_no_model_and_no_numpy() -> None:
    """`relmark --help` and `relmark score --help` load neither numpy nor any model module."""
    script = (
        "import sys, contextlib, io\n"
        "from relmark.cli import main\n"
        "for argv in (['--help'], ['score', '--help']):\n"
        "    with contextlib.redirect_stdout(io.StringIO()):\n"
        "        assert main(argv) == 0\n"
        "heavy = [m for m in sys.modules if m in {'numpy', 'scipy', 'relmark.clv', 'pyarrow'}]\n"
        "print(heavy)\n"
    )
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"


def test_entry_point_reports_without_traceback(tmp_path: Path) -> None:
    """Through the installed `relmark` script: a corrupt Parquet file is one line and exit 2."""
    import shutil
    import subprocess
    import sys

    script = shutil.which("relmark") or str(Path(sys.executable).with_name("relmark"))
    source = _bad_file(tmp_path, "corrupt-parquet")
    done = subprocess.run(
        [script, "score", str(source), "-o", str(tmp_path / "o.csv")],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith("relmark: error: Cannot read")
    good = tmp_path / "good.csv"
    _write_cdnow_csv(good, ["customer_id", "date", "amount"], max_customer=300)
    done = subprocess.run(
        [script, "score", str(good), "-o", str(tmp_path / "o.parquet"), "-q"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Scored 300 customers")


def test_a_far_future_row_is_a_warning_naming_the_option(
    small_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One row dated 2099 still scores, with a warning that says to use --observation-end."""
    source, output = tmp_path / "late.csv", tmp_path / "out.csv"
    source.write_text(small_csv.read_text(encoding="utf-8") + "1,2099-01-01,5\n", encoding="utf-8")
    assert main(["score", str(source), "-o", str(output)]) == 0
    err = capsys.readouterr().err
    warning = next(line for line in err.splitlines() if line.startswith("relmark: warning:"))
    assert "2099-01-01" in warning
    assert "--observation-end YYYY-MM-DD" in warning
    assert "observation_end=" not in warning
    argv = ["score", str(source), "-o", str(output), "-q", "--observation-end", "someday"]
    assert main(argv) == 2
    assert "--observation-end must be a date or time" in _one_error_line(capsys)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_moves_inside_a_stage() -> None:
    """On a terminal the rich bar advances by fractions of a stage as blocks are scored."""
    pytest.importorskip("rich")
    progress = _Progress(_Terminal(), quiet=False)
    seen: list[float] = []
    with progress.stage("scoring"):
        for done in (1, 2, 3):
            progress.step(done, 3, "customers scored")
            seen.append(progress._bar.tasks[0].completed)
    progress.say("a remark")
    progress.close()
    assert seen == pytest.approx([1 / 3, 2 / 3, 1.0])


def test_plain_progress_prints_one_line_per_block() -> None:
    """Without a terminal each block is one line; a single block prints no step line."""
    err = io.StringIO()
    progress = _Progress(err, quiet=False)
    with progress.stage("scoring"):
        progress.step(5, 10, "customers scored")
        progress.step(10, 10, "customers scored")
    assert err.getvalue().splitlines()[1:] == [
        "relmark:   5/10 customers scored",
        "relmark:   10/10 customers scored",
    ]
    quiet = io.StringIO()
    with _Progress(quiet, quiet=True).stage("x"):
        pass
    assert quiet.getvalue() == ""


def test_other_encodings_are_read_with_encoding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A Latin-1 file fails with a hint to --encoding, then reads with it, ids intact."""
    pytest.importorskip("pyarrow")
    source, output = tmp_path / "latin.csv", tmp_path / "out.csv"
    lines = ["kunde,datum,betrag"] + [
        f"{name},2023-{m:02d}-1{m % 9},{m}.5"
        for name in ("müller", "jäger", "weiß", "öz")
        for m in range(1, 13)
    ]
    source.write_bytes(("\n".join(lines) + "\n").encode("latin-1"))
    argv = ["score", str(source), "-o", str(output), "-q"]
    argv += ["--customer", "kunde", "--time", "datum", "--amount", "betrag"]
    assert main(argv) == 2
    assert "--encoding latin-1" in _one_error_line(capsys)
    assert main([*argv, "--encoding", "latin-1"]) == 0
    assert sorted(r["customer_id"] for r in _read_rows(output)) == ["jäger", "müller", "weiß", "öz"]
    assert main([*argv, "--encoding", "klingon"]) == 2
    assert "text encoding Python knows" in capsys.readouterr().err


def test_interval_option_adds_bracketing_columns(small_csv: Path, tmp_path: Path) -> None:
    """--interval 0.9 adds lower/upper columns that bracket P(alive), CET, spend and CLV."""
    output = tmp_path / "with_intervals.csv"
    assert main(["score", str(small_csv), "-o", str(output), "--interval", "0.9", "-q"]) == 0
    rows = _read_rows(output)
    for name in ("probability_alive", "expected_purchases", "expected_spend", "clv"):
        value = np.array([r[name] for r in rows], dtype=float)
        lower = np.array([r[f"{name}_lower"] for r in rows], dtype=float)
        upper = np.array([r[f"{name}_upper"] for r in rows], dtype=float)
        assert np.all(lower <= upper)
        assert np.mean((lower <= value + 1e-9) & (value <= upper + 1e-9)) > 0.95
    assert main(["score", str(small_csv), "-o", str(output), "--interval", "1.5", "-q"]) == 2


# ---------------------------------------------------------------- errors in command-line terms
@pytest.mark.parametrize(
    ("role", "argv"),
    [
        ("customer", ["--customer", "client", "--time", "date", "--amount", "amount"]),
        ("time", ["--customer", "customer_id", "--time", "when", "--amount", "amount"]),
        ("amount", ["--customer", "customer_id", "--time", "date", "--amount", "usd"]),
    ],
)
def test_a_given_column_missing_from_the_file_names_its_option(
    small_csv: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    role: str,
    argv: list[str],
) -> None:
    """Every column given and one absent: the reader's error names the option that gave it."""
    pytest.importorskip("pyarrow")
    output = tmp_path / "out.csv"
    assert main(["score", str(small_csv), "-o", str(output), "-q", *argv]) == 2
    line = _one_error_line(capsys)
    missing = argv[argv.index(f"--{role}") + 1]
    assert f"(--{role} {missing})" in line
    assert "['customer_id', 'date', 'amount']" in line
    assert not output.exists()


def test_a_missing_parquet_column_names_its_option_without_line_numbers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Parquet has no lines: the option is named, the CSV line rule is not added."""
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    source = tmp_path / "log.parquet"
    pq.write_table(pa.table({"id": [1, 2], "when": ["2024-01-01", "2024-01-02"]}), source)
    argv = ["--customer", "id", "--time", "when", "--amount", "spend"]
    assert main(["score", str(source), "-o", str(tmp_path / "o.csv"), "-q", *argv]) == 2
    line = _one_error_line(capsys)
    assert "(--amount spend)" in line
    assert "line r + 2" not in line


def test_bad_times_name_the_option_rows_and_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bad timestamp names --time with its column (quoted as typed), the row and its line."""
    source = _broken(
        tmp_path, ["Customer,Order Date,Amount", "1,2024-01-01,10", "1,2024-13-01,5", "2,x,3"]
    )
    assert main(["score", str(source), "-o", str(tmp_path / "o.csv"), "-q"]) == 2
    line = _one_error_line(capsys)
    assert "(--time 'Order Date')" in line
    assert "row(s) 1, 2: ['2024-13-01', 'x']" in line
    assert "row r is line r + 2 of the file" in line


def test_negative_amounts_get_command_line_advice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The library's advice (allow_returns=True) becomes advice the command line can follow."""
    source = _broken(tmp_path, ["customer_id,date,amount", "1,2024-01-01,10", "1,2024-01-03,-5"])
    assert main(["score", str(source), "-o", str(tmp_path / "o.csv"), "-q"]) == 2
    line = _one_error_line(capsys)
    assert "(--amount amount)" in line
    assert "Remove returns and refunds" in line
    assert "allow_returns" not in line


def test_daylight_saving_advice_is_the_timezone_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Changing UTC offsets: the advice names --timezone, not the Python argument."""
    source = tmp_path / "dst.csv"
    _dst_csv(source)
    assert main(["score", str(source), "-o", str(tmp_path / "o.csv"), "-q"]) == 2
    line = _one_error_line(capsys)
    assert "--timezone Europe/Berlin" in line
    assert "timezone=" not in line


def test_integer_times_advise_the_time_format_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Integer dates in Parquet: the advice is --time-format; with it the file scores."""
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    source, output = tmp_path / "log.parquet", tmp_path / "o.csv"
    table = {"customer_id": [1, 1, 2], "date": [20240101, 20240301, 20240105], "amount": [5.0] * 3}
    pq.write_table(pa.table(table), source)
    assert main(["score", str(source), "-o", str(output), "-q"]) == 2
    line = _one_error_line(capsys)
    assert "--time-format" in line
    assert "time_format" not in line
    assert main(["score", str(source), "-o", str(output), "-q", "--time-format", "%Y%m%d"]) == 0


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--timezone", "Mars/Base"], "--timezone must be an IANA time-zone name"),
        (["--time-format", "Y"], "--time-format must be a strptime format"),
        (["--encoding", "klingon"], "--encoding must be a text encoding Python knows"),
        (["--delimiter", ";;"], "--delimiter must be exactly one ASCII character"),
        (["--observation-end", "someday"], "--observation-end must be a date or time"),
    ],
)
def test_bad_option_values_are_said_of_the_option(
    small_csv: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    expected: str,
) -> None:
    """A bad value of an option the library checks is reported as that option, with the value."""
    pytest.importorskip("pyarrow")
    assert main(["score", str(small_csv), "-o", str(tmp_path / "o.csv"), "-q", *argv]) == 2
    line = _one_error_line(capsys)
    assert expected in line
    assert f"Got {argv[1]!r}." in line
    assert "parameter" not in line


def test_errors_are_translated_from_attributes_not_from_the_message(tmp_path: Path) -> None:
    """Only the attributes decide the wording: a message that merely mentions a hint is kept."""
    path = tmp_path / "log.csv"
    columns = {"customer": "cid", "time": "t", "amount": "a"}
    plain = InvalidInputError("Pass allow_returns=True if negative amounts are returns.")
    assert str(_for_command_line(plain, path, columns, lines=True)) == str(plain)
    structured = InvalidInputError(
        "Column 'a' is wrong.",
        column="a",
        rows=[4],
        hint="Pass allow_returns=True.",
        hint_field="allow_returns",
    )
    translated = _for_command_line(structured, path, columns, lines=True)
    assert str(translated) == (
        f"{path} (--amount a): Column 'a' is wrong. Remove returns and refunds (or net them "
        "against their purchases) first. Rows count the data lines from 0: row r is line r + 2 "
        "of the file."
    )
    assert (translated.column, translated.rows) == ("a", (4,))
    unknown_advice = InvalidInputError("Bad.", hint="Try harder.", hint_field="effort")
    assert str(_for_command_line(unknown_advice, path, columns, lines=False)) == "Bad. Try harder."


def test_an_observation_end_before_the_data_is_said_of_the_option(
    small_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An end before every transaction names --observation-end and the rule, not the argument."""
    pytest.importorskip("pyarrow")
    argv = ["score", str(small_csv), "-o", str(tmp_path / "o.csv"), "-q"]
    assert main([*argv, "--observation-end", "1990-01-01"]) == 2
    line = _one_error_line(capsys)
    assert line.endswith("--observation-end must be on or after the day of the first transaction.")


@pytest.mark.parametrize("option", ["--penalizer", "--spend-penalizer"])
def test_convergence_advice_is_built_from_the_error_attributes(option: str) -> None:
    """The CLI words a fit's advice from hint_field (its own option), never from the message."""
    error = ConvergenceError(
        "Maximum likelihood did not converge: the gradient is still 0.5.",
        hint="Try a penalizer of 0.01 or more.",  # no "penalizer=" for a regex to find
        hint_field="penalizer",
    )
    message = _cli_hint(error, option)
    assert message.startswith(error.problem)
    assert f"{option} 0.001" in message
    assert "Try a penalizer" not in message
    other = ConvergenceError("Did not converge.", hint="Rescale it.", hint_field="scale")
    assert _cli_hint(other, option) == "Did not converge. Rescale it."
