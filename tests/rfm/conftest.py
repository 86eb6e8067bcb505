"""Fixtures for the RFM tests: the CDNOW master summary built independently with numpy."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from relmark.data.summary import CustomerSummary

_CDNOW = (
    Path(__file__).parents[2] / "src" / "relmark" / "datasets" / "_data" / "cdnow_master.txt.gz"
)


@pytest.fixture(scope="session")
def cdnow_summary() -> CustomerSummary:
    """CDNOW master (Fader, Hardie & Lee 2005): daily purchase periods, observation to 1998-06-30, days."""
    with gzip.open(_CDNOW, "rt") as handle:
        raw = np.loadtxt(handle, skiprows=1, dtype=np.float64)
    ids = raw[:, 0].astype(np.int64)
    days = np.array(
        [f"{int(d) // 10000:04d}-{int(d) // 100 % 100:02d}-{int(d) % 100:02d}" for d in raw[:, 1]],
        dtype="datetime64[D]",
    )
    amount = raw[:, 3]
    day_number = (days - np.datetime64("1997-01-01")).astype(np.int64)
    end = int((np.datetime64("1998-06-30") - np.datetime64("1997-01-01")).astype(np.int64))
    # One purchase per customer per day, amounts summed.
    key = ids * 100_000 + day_number
    unique_key, inverse = np.unique(key, return_inverse=True)
    day_amount = np.bincount(inverse, weights=amount)
    cust = unique_key // 100_000
    day = unique_key % 100_000
    customers, first_index, counts = np.unique(cust, return_index=True, return_counts=True)
    first_day = day[first_index]
    last_day = day[first_index + counts - 1]
    first_amount = day_amount[first_index]
    total = np.bincount(np.searchsorted(customers, cust), weights=day_amount)
    repeats = counts - 1
    monetary = np.where(repeats > 0, (total - first_amount) / np.maximum(repeats, 1), 0.0)
    return CustomerSummary.from_arrays(
        frequency=repeats,
        recency=(last_day - first_day).astype(np.float64),
        T=(end - first_day).astype(np.float64),
        monetary=monetary,
        customer_id=customers,
        unit="D",
    )
