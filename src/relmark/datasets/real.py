"""Real data sets shipped with relmark (see ``_data/README.md`` for provenance)."""

from __future__ import annotations

import gzip
import io
from importlib.resources import files

import numpy as np

from relmark.data.log import TransactionLog
from relmark.data.summary import CustomerSummary
from relmark.typing import IntArray

__all__ = ["load_cdnow", "load_cdnow_sample_summary", "load_donations"]


def _read_bytes(name: str) -> bytes:
    return files("relmark.datasets").joinpath("_data", name).read_bytes()


def _dates_from_yyyymmdd(values: IntArray) -> np.ndarray[tuple[int], np.dtype[np.datetime64]]:
    years, rest = np.divmod(values, 10_000)
    months, days = np.divmod(rest, 100)
    month_index = ((years - 1970) * 12 + months - 1).astype("datetime64[M]")
    dates: np.ndarray[tuple[int], np.dtype[np.datetime64]] = month_index.astype("datetime64[D]") + (
        days - 1
    ).astype("timedelta64[D]")
    return dates


def load_cdnow() -> TransactionLog:
    """The CDNOW master data set: every purchase of a cohort of 23,570 CDNOW customers.

    The customers made their first purchase at CDNOW in the first quarter of 1997; the log
    holds their 69,659 purchases from 1997-01-01 to 1998-06-30 (Fader, Hardie & Lee 2005,
    "Counting your customers the easy way", *Marketing Science* 24(2)). Customer ids are the
    integers 1–23,570 (the file writes them zero-padded), times are naive calendar days and
    amounts are the purchases' dollar values. The source's number of CDs per purchase is not
    part of a transaction log and is not returned.

    Returns:
        The transaction log.

    Examples:
        >>> log = load_cdnow()
        >>> len(log), log.n_customers
        (69659, 23570)
    """
    text = gzip.decompress(_read_bytes("cdnow_master.txt.gz")).decode("ascii")
    table = np.loadtxt(
        io.StringIO(text),
        skiprows=1,
        dtype=[("id", np.int64), ("date", np.int64), ("cds", np.int64), ("dollars", np.float64)],
    )
    return TransactionLog.from_arrays(
        table["id"], _dates_from_yyyymmdd(table["date"]), table["dollars"]
    )


def load_cdnow_sample_summary() -> CustomerSummary:
    r"""The standard CDNOW calibration summary: 2,357 customers, 39 weeks, with average spend.

    A 1/10th systematic sample of the CDNOW cohort summarized over the calibration period
    1997-01-01 to 1997-09-30 in weeks: ``frequency`` $x$, ``recency`` $t_x$, ``T``, and
    ``monetary`` $\bar z$, the mean dollar value of the repeat purchases (Fader, Hardie & Lee
    2005; the data of their BG/NBD paper and note). 946 customers made a repeat purchase.

    Returns:
        The summary, in weeks, ids 1–2,357.

    Examples:
        >>> s = load_cdnow_sample_summary()
        >>> len(s), int((s.frequency > 0).sum())
        (2357, 946)
    """
    text = gzip.decompress(_read_bytes("cdnow_sample_summary.csv.gz")).decode("ascii")
    table = np.loadtxt(
        io.StringIO(text),
        delimiter=",",
        skiprows=1,
        dtype=[
            ("id", np.int64),
            ("x", np.int64),
            ("t_x", np.float64),
            ("T", np.float64),
            ("zbar", np.float64),
        ],
    )
    return CustomerSummary.from_arrays(
        frequency=table["x"],
        recency=table["t_x"],
        T=table["T"],
        monetary=table["zbar"],
        customer_id=table["id"],
        unit="W",
    )


def load_donations() -> CustomerSummary:
    """Donation histories of 11,104 donors over 6 yearly opportunities, as 22 weighted patterns.

    The 1995 cohort of first-time supporters of a nonprofit, observed over the six annual
    donation opportunities 1996–2001 (Fader, Hardie & Shang 2010, "Customer-base analysis in a
    discrete-time noncontractual setting", *Marketing Science* 29(6)). Each row is one distinct
    pattern: ``frequency`` = repeat donations $x$, ``recency`` = the opportunity of the last
    donation $t_x$ (0 when $x = 0$), ``T`` = number of opportunities $n$ (6), and ``weights`` =
    number of donors with that pattern. The unit is one year (one opportunity).

    Returns:
        The 22-row weighted summary; ``weights`` sum to 11,104.

    Examples:
        >>> s = load_donations()
        >>> len(s), int(s.weights.sum())
        (22, 11104)
    """
    table = np.loadtxt(
        io.StringIO(_read_bytes("donations.csv").decode("ascii")),
        delimiter=",",
        skiprows=1,
        dtype=np.int64,
    )
    return CustomerSummary.from_arrays(
        frequency=table[:, 0],
        recency=table[:, 1],
        T=table[:, 2],
        weights=table[:, 3],
        unit="Y",
    )
