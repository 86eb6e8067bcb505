"""Fuzz of `relmark score`: any file gives exit 0 and a full output, or exit 2 and one message.

Generated files vary the encoding (declared with --encoding or not), delimiter, header names and widths, id, time and amount
types, dates far in the past or future and malformed cells. Whatever the file, the command must
never print a traceback and never change the input. The budget is small and fixed for CI.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relmark.cli import main

pytest.importorskip("pyarrow")

# Valid values are repeated in the choices so that most files get as far as the models.
_valid_ids = st.integers(0, 40).map(str)
_ids = st.one_of(
    _valid_ids,
    _valid_ids,
    _valid_ids,
    st.integers(2**63 - 3, 2**64 + 3).map(str),
    st.sampled_from(["1.0", "007", "a", "ü", "", " 3", "-1", "true", "1e3"]),
)
_valid_dates = st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2023, 12, 31)).map(str)
_dates = st.one_of(
    _valid_dates,
    _valid_dates,
    _valid_dates,
    st.datetimes().map(lambda d: d.isoformat()),
    st.sampled_from(
        [
            "2099-01-01",
            "2024-03-31T02:30:00+02:00",
            "2024-01-01T00:00:00+01:00",
            "2024-02-30",
            "soon",
            "",
            "1/2/2024",
            "20240105",
        ]
    ),
)
_valid_amounts = st.floats(0, 1e6, allow_nan=False).map(repr)
_amounts = st.one_of(
    _valid_amounts,
    _valid_amounts,
    st.integers(0, 500).map(str),
    st.sampled_from(["-5", "", "nan", "inf", "true", "1.7e308", "1,5", "abc", "0"]),
)
_headers = st.one_of(
    st.just(["customer_id", "date", "amount"]),
    st.just(["Customer ID", "Order-Date", "Revenue"]),
    st.just(["id", "timestamp", "value", "note"]),
    st.lists(
        st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=30),
        min_size=1,
        max_size=4,
    ),
)


@st.composite
def _files(draw: st.DrawFn) -> tuple[bytes, str, list[str]]:
    """Bytes of a transaction file, its suffix and extra command-line options."""
    header = draw(_headers)
    width = len(header)
    # A few drawn rows (any cell may be odd) among many plain ones, at a drawn position.
    drawn = [
        [draw(_ids), draw(_dates), *(draw(_amounts) for _ in range(max(1, width - 2)))][:width]
        for _ in range(draw(st.integers(0, 3)))
    ]
    plain = [
        [str(c % 12), f"2023-{1 + c % 12:02d}-{1 + c % 27:02d}", f"{5 + c % 9}.5", "x"][:width]
        for c in range(draw(st.sampled_from([0, 60, 60, 60])))
    ]
    at = draw(st.integers(0, len(plain)))
    rows = plain[:at] + drawn + plain[at:]
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerows([header, *rows])
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "latin-1", "utf-16", "cp1252"]))
    data = buffer.getvalue().encode(encoding, errors="replace")
    if not draw(st.integers(0, 4)):
        data = data[: draw(st.integers(0, len(data)))]  # truncated anywhere
    suffix, options = ".csv", ["--delimiter", delimiter]
    if draw(st.booleans()):
        options += ["--encoding", encoding]
    if draw(st.booleans()):
        suffix, options = ".parquet", []
        data = _as_parquet(data, delimiter) or draw(st.sampled_from([b"", b"PAR1junk", data]))
    options += draw(
        st.sampled_from(
            [
                [],
                ["--string-ids"],
                ["--timezone", "Europe/Berlin"],
                ["--unit", "D", "--horizon", "30"],
            ]
        )
    )
    return data, suffix, options


def _as_parquet(data: bytes, delimiter: str) -> bytes | None:
    """The CSV converted to Parquet by pyarrow's own inference, or None if pyarrow refuses it."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from pyarrow import csv as arrow_csv

    try:
        table = arrow_csv.read_csv(
            io.BytesIO(data), parse_options=arrow_csv.ParseOptions(delimiter=delimiter)
        )
        sink = io.BytesIO()
        pq.write_table(table, sink)
    except (pa.ArrowException, ValueError):
        return None
    return sink.getvalue()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(_files())
def test_score_never_tracebacks_never_touches_the_input(
    generated: tuple[bytes, str, list[str]],
) -> None:
    """Exit 0 with one full row per customer, or exit 2 with one message; the input unchanged."""
    data, suffix, options = generated
    with tempfile.TemporaryDirectory() as folder:
        source, output = Path(folder) / f"in{suffix}", Path(folder) / "out.csv"
        source.write_bytes(data)
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            status = main(["score", str(source), "-o", str(output), "-q", *options])
        assert source.read_bytes() == data
        message = err.getvalue()
        assert "Traceback" not in message
        if status == 2:
            assert message.startswith("relmark: error: ")
            assert message.count("\n") == 1
            assert str(source) in message or "column" in message.lower() or "row" in message
            assert not output.exists()
            return
        assert status == 0, message
        with output.open(newline="", encoding="utf-8") as handle:
            table = list(csv.reader(handle))
        header, body = table[0], table[1:]
        assert header[:10] == [
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
        ]
        assert body
        assert all(len(row) == len(header) for row in body)
        assert len({row[0] for row in body}) == len(body)
