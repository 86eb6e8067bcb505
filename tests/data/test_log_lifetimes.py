"""TransactionLog.summarize / split against lifetimes 0.11.3, the reference semantics."""

from __future__ import annotations

import numpy as np
import pytest

from relmark.data import CustomerSummary, TransactionLog
from relmark.datasets import load_cdnow

pytestmark = pytest.mark.oracle

pd = pytest.importorskip("pandas")
lifetimes_utils = pytest.importorskip("lifetimes.utils")

MULTIPLIER = {"D": 1, "W": 7}


def _frame(log: TransactionLog):
    return pd.DataFrame({"id": log.customer_id, "date": log.time, "amount": log.amount})


def _lifetimes_summary(log, unit, end=None):
    return lifetimes_utils.summary_data_from_transaction_data(
        _frame(log),
        "id",
        "date",
        monetary_value_col="amount",
        observation_period_end=end,
        freq="D",
        freq_multiplier=MULTIPLIER[unit],
    )


def _assert_equal_summaries(ours: CustomerSummary, theirs, suffix=""):
    assert ours.customer_id.tolist() == theirs.index.tolist()
    assert np.array_equal(ours.frequency, theirs["frequency" + suffix].to_numpy())
    assert np.array_equal(ours.recency, theirs["recency" + suffix].to_numpy())
    assert np.array_equal(ours.T, theirs["T" + suffix].to_numpy())
    assert ours.monetary is not None
    np.testing.assert_allclose(
        ours.monetary, theirs["monetary_value" + suffix].to_numpy(), rtol=1e-12, atol=1e-12
    )


@pytest.fixture(scope="module")
def cdnow():
    return load_cdnow()


@pytest.mark.parametrize("unit", ["D", "W"])
@pytest.mark.parametrize("end", [None, "1997-09-30"])
def test_cdnow_summary_equals_lifetimes(cdnow, unit, end):
    """On the full CDNOW master log the summary equals lifetimes' (period D, units D and W)."""
    ours = cdnow.summarize(end, period="D", unit=unit)
    _assert_equal_summaries(ours, _lifetimes_summary(cdnow, unit, end))
    if end is None:
        assert ours.excluded_transactions == 0
    else:
        excluded = int((cdnow.time > np.datetime64("1997-09-30T23:59:59.999999")).sum())
        assert ours.excluded_transactions == excluded > 0


def _random_log(seed: int, *, string_ids: bool) -> TransactionLog:
    rng = np.random.default_rng(seed)
    n = 3000
    ids = rng.integers(0, 400, n)
    micros = rng.integers(0, 500 * 86_400_000_000, n)
    times = np.datetime64("2021-03-01T00:00", "us") + micros.astype("timedelta64[us]")
    amounts = np.round(rng.gamma(2.0, 15.0, n), 2)
    # Several transactions of one customer on one day, so per-day sums matter.
    ids[:300] = ids[300:600]
    times[:300] = times[300:600]
    customer = np.array([f"c{i:04d}" for i in ids], dtype=object) if string_ids else ids
    return TransactionLog.from_arrays(customer, times, amounts)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("unit", ["D", "W"])
def test_random_logs_equal_lifetimes(seed, unit):
    """On random logs with times of day and an inner observation end, summaries match lifetimes."""
    log = _random_log(seed, string_ids=seed == 1)
    end = np.datetime64("2021-03-01") + np.timedelta64(200 + 60 * seed, "D")
    _assert_equal_summaries(
        log.summarize(str(end), unit=unit), _lifetimes_summary(log, unit, str(end))
    )
    _assert_equal_summaries(log.summarize(unit=unit), _lifetimes_summary(log, unit))


def _lifetimes_split(log, calibration_end, observation_end, unit):
    return lifetimes_utils.calibration_and_holdout_data(
        _frame(log),
        "id",
        "date",
        calibration_end,
        observation_end,
        freq="D",
        freq_multiplier=MULTIPLIER[unit],
        monetary_value_col="amount",
    )


def _assert_equal_splits(ours: CustomerSummary, theirs):
    _assert_equal_summaries(ours, theirs, suffix="_cal")
    assert ours.frequency_holdout is not None
    assert ours.duration_holdout is not None
    assert np.array_equal(ours.frequency_holdout, theirs["frequency_holdout"].to_numpy())
    assert np.array_equal(ours.duration_holdout, theirs["duration_holdout"].to_numpy())


@pytest.mark.parametrize("unit", ["D", "W"])
def test_cdnow_split_equals_lifetimes(cdnow, unit):
    """The 39-week calibration / 39-week holdout split of CDNOW matches lifetimes' columns."""
    ours = cdnow.split("1997-09-30", "1998-06-30", unit=unit)
    theirs = _lifetimes_split(cdnow, "1997-09-30", "1998-06-30", unit)
    _assert_equal_splits(ours, theirs)
    assert ours.duration_holdout is not None
    assert ours.duration_holdout[0] == 273 / MULTIPLIER[unit]


def test_monetary_holdout_is_the_mean_per_purchase_day(cdnow):
    """monetary_holdout averages per-day spend; it equals lifetimes' per-transaction mean
    exactly where each holdout day has a single transaction, and is checked by hand elsewhere."""
    ours = cdnow.split("1997-09-30", "1998-06-30")
    theirs = _lifetimes_split(cdnow, "1997-09-30", "1998-06-30", "W")
    frame = _frame(cdnow)
    holdout = frame[(frame.date > "1997-09-30") & (frame.date <= "1998-06-30")]
    per_day = holdout.groupby(["id", "date"])["amount"].agg(["sum", "size"])
    by_customer = per_day.groupby(level="id").agg(
        day_mean=("sum", "mean"), max_per_day=("size", "max")
    )
    expected = by_customer["day_mean"].reindex(theirs.index, fill_value=0.0).to_numpy()
    assert ours.monetary_holdout is not None
    np.testing.assert_allclose(ours.monetary_holdout, expected, rtol=1e-12)
    single = by_customer["max_per_day"].reindex(theirs.index, fill_value=1).to_numpy() == 1
    np.testing.assert_allclose(
        ours.monetary_holdout[single],
        theirs["monetary_value_holdout"].to_numpy()[single],
        rtol=1e-12,
    )


@pytest.mark.parametrize("seed", [3, 4])
def test_random_split_equals_lifetimes(seed):
    """On random logs with times of day the calibration/holdout columns match lifetimes.

    relmark assigns whole periods (the entire day of ``calibration_end`` is calibration);
    lifetimes cuts at the instant, so the instants given are the last microsecond of the day.
    """
    log = _random_log(seed, string_ids=False)
    calibration_end, observation_end = "2021-08-01T23:59:59.999999", "2022-01-15T23:59:59.999999"
    _assert_equal_splits(
        log.split(calibration_end, observation_end, unit="W"),
        _lifetimes_split(log, calibration_end, observation_end, "W"),
    )
    assert log.split("2021-08-01", "2022-01-15") == log.split(calibration_end, observation_end)
