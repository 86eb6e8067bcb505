"""CustomerSummary.from_frame and frames-in everywhere: lifetimes-style frames, every backend."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from relmark.clv import BGNBD
from relmark.data import CustomerSummary, TransactionLog
from relmark.datasets import load_cdnow_sample_summary
from relmark.errors import InvalidInputError

SAMPLE = load_cdnow_sample_summary()


def _lifetimes_frame() -> pd.DataFrame:
    """The CDNOW sample as lifetimes' summary frame: customer id in the index, monetary_value."""
    return pd.DataFrame(
        {
            "frequency": SAMPLE.frequency,
            "recency": SAMPLE.recency,
            "T": SAMPLE.T,
            "monetary_value": SAMPLE.monetary,
        },
        index=pd.Index(SAMPLE.customer_id, name="customer_id"),
    )


def test_lifetimes_summary_frame_round_trips():
    """The index becomes the ids and monetary_value the monetary column, values unchanged."""
    got = CustomerSummary.from_frame(_lifetimes_frame())
    np.testing.assert_array_equal(got.customer_id, SAMPLE.customer_id)
    np.testing.assert_array_equal(got.frequency, SAMPLE.frequency)
    np.testing.assert_array_equal(got.monetary, SAMPLE.monetary)
    assert got.unit.value == "W"


@pytest.mark.parametrize(
    "make",
    [
        pl.DataFrame,
        lambda d: pl.DataFrame(d).lazy(),
        pa.table,
        pa.RecordBatch.from_pydict,
        dict,
    ],
    ids=["polars", "polars-lazy", "arrow-table", "arrow-batch", "mapping"],
)
def test_every_backend_gives_the_same_summary(make):
    """polars (eager and lazy), pyarrow (table and batch) and a mapping agree exactly."""
    data = {
        "id": SAMPLE.customer_id,
        "frequency": SAMPLE.frequency,
        "recency": SAMPLE.recency,
        "T": SAMPLE.T,
        "monetary": SAMPLE.monetary,
    }
    got = CustomerSummary.from_frame(make(data), customer="id")
    assert got == CustomerSummary.from_arrays(
        SAMPLE.frequency, SAMPLE.recency, SAMPLE.T, monetary=SAMPLE.monetary,
        customer_id=SAMPLE.customer_id,
    )  # fmt: skip


def test_models_fit_on_a_frame_like_on_the_summary():
    """BGNBD().fit(frame) equals the fit on the equivalent summary (lifetimes' habit)."""
    from_frame = BGNBD().fit(_lifetimes_frame())
    direct = BGNBD().fit(SAMPLE)
    assert from_frame.params_ == direct.params_


def test_missing_column_and_bad_values_are_named():
    """A missing column is named; invalid values get from_arrays' message."""
    frame = _lifetimes_frame().drop(columns=["T"])
    with pytest.raises(InvalidInputError, match="'T'"):
        CustomerSummary.from_frame(frame)
    bad = _lifetimes_frame()
    bad.loc[bad.index[0], "recency"] = 1e6
    with pytest.raises(InvalidInputError, match="recency"):
        CustomerSummary.from_frame(bad)


def test_transaction_log_reads_lazy_frames_and_record_batches():
    """TransactionLog.from_frame accepts a polars LazyFrame and a pyarrow RecordBatch."""
    data = {"c": [1, 1, 2], "t": ["2024-01-01", "2024-01-09", "2024-01-05"], "a": [5.0, 7.0, 3.0]}
    expected = TransactionLog.from_frame(pl.DataFrame(data), customer="c", time="t", amount="a")
    for source in (pl.DataFrame(data).lazy(), pa.RecordBatch.from_pydict(data)):
        got = TransactionLog.from_frame(source, customer="c", time="t", amount="a")
        assert got == expected
