"""Tests of returns in relmark.data.log: never purchases, netted into the latest earlier purchase."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from relmark.data import TransactionLog
from relmark.errors import InvalidInputError

DAY0 = np.datetime64("2024-01-01", "D")


def _sale(tid, customer, day, amount, **extra):
    from relmark.domain.records import CustomerId, Transaction, TransactionId

    return Transaction(
        transaction_id=TransactionId(tid),
        customer_id=CustomerId(customer),
        at=dt.datetime(2021, 3, day, 12, tzinfo=dt.UTC),
        amount=amount,
        currency="EUR",
        **extra,
    )


def _days(*offsets: int) -> np.ndarray:
    return DAY0 + np.array(offsets)


class TestRecords:
    def test_zero_amount_return_is_refused_without_allow_returns(self):
        """A flagged return with amount 0 is refused by row, not read as a purchase."""
        free_return = _sale("o2", "c-4", 3, 0.0, is_return=True, original_transaction_id="o1")
        with pytest.raises(
            InvalidInputError,
            match=r"Column 'is_return' marks returns at row\(s\) 1; pass allow_returns=True",
        ):
            TransactionLog.from_records([_sale("o1", "c-4", 1, 9.5), free_return])

    def test_zero_amount_return_is_not_a_repeat_purchase(self):
        """With allow_returns, a zero-amount return adds no purchase period."""
        free_return = _sale("o2", "c-4", 3, 0.0, is_return=True, original_transaction_id="o1")
        log = TransactionLog.from_records(
            [_sale("o1", "c-4", 1, 9.5), free_return], allow_returns=True
        )
        assert log.is_return is not None
        assert log.is_return.tolist() == [False, True]
        summary = log.summarize()
        assert summary.frequency.tolist() == [0]
        assert summary.T.tolist() == [2 / 7]

    def test_sale_and_its_refund(self):
        """A sale and its full refund: one purchase, no repeat, monetary 0 (not -9.5)."""
        refund = _sale("o3", "c-4", 3, -9.5, is_return=True, original_transaction_id="o1")
        summary = TransactionLog.from_records(
            [_sale("o1", "c-4", 1, 9.5), refund], allow_returns=True
        ).summarize()
        assert summary.frequency.tolist() == [0]
        assert summary.monetary is not None
        assert summary.monetary.tolist() == [0.0]
        assert summary.excluded_transactions == 0

    def test_duck_typed_return_with_positive_amount(self):
        """A record flagged as a return must not carry a positive amount."""

        class Row:
            def __init__(self, amount, is_return):
                self.customer_id, self.at = 1, dt.datetime(2024, 1, 1)  # noqa: DTZ001 - naive
                self.amount, self.is_return = amount, is_return

        with pytest.raises(
            InvalidInputError, match=r"'amount' must be <= 0 for a return .* got \[3.0\] at row"
        ):
            TransactionLog.from_records([Row(5.0, False), Row(3.0, True)], allow_returns=True)
        with pytest.raises(InvalidInputError, match=r"Record 0 has is_return='yes'"):
            TransactionLog.from_records([Row(5.0, "yes")], allow_returns=True)


class TestSummarize:
    def test_refund_nets_into_latest_earlier_purchase(self):
        """Hand computed: a refund reduces the spend of the purchase day before it."""
        log = TransactionLog.from_arrays(
            [1, 1, 1, 1], _days(0, 7, 9, 14), [10.0, 20.0, -5.0, 30.0], allow_returns=True
        )
        s = log.summarize(unit="D")
        assert s.frequency.tolist() == [2]
        assert s.recency.tolist() == [14.0]
        assert s.T.tolist() == [14.0]
        assert s.monetary is not None
        assert s.monetary.tolist() == [(20.0 - 5.0 + 30.0) / 2]

    def test_refund_of_first_purchase_and_unmatched_returns(self):
        """Netting into the first purchase leaves monetary alone; a return before any purchase
        (or of a customer with only returns) is not counted but reported as excluded."""
        log = TransactionLog.from_arrays(
            [1, 1, 1, 1, 2],
            _days(2, 0, 3, 8, 4),
            [10.0, -1.0, -4.0, 6.0, -2.0],
            allow_returns=True,
        )
        s = log.summarize(unit="D")
        assert s.customer_id.tolist() == [1]
        assert s.frequency.tolist() == [1]
        assert s.recency.tolist() == [6.0]
        assert s.T.tolist() == [6.0]
        assert s.monetary is not None
        assert s.monetary.tolist() == [6.0]
        assert s.excluded_transactions == 2

    def test_only_returns(self):
        """A log whose counted rows are all returns has nothing to summarize."""
        log = TransactionLog.from_arrays([1], _days(0), [-1.0], allow_returns=True)
        with pytest.raises(InvalidInputError, match="No purchase falls on or before"):
            log.summarize()

    def test_is_return_column(self):
        """An is_return column flags zero-amount returns; flagged rows need allow_returns."""
        ids, days, amounts = [1, 1, 1], _days(0, 3, 5), [4.0, 0.0, 2.0]
        flags = [False, True, False]
        with pytest.raises(InvalidInputError, match=r"'is_return' marks returns at row\(s\) 1"):
            TransactionLog.from_arrays(ids, days, amounts, is_return=flags)
        log = TransactionLog.from_arrays(ids, days, amounts, is_return=flags, allow_returns=True)
        assert log.summarize(unit="D").frequency.tolist() == [1]
        assert log.purchases() == TransactionLog.from_arrays([1, 1], _days(0, 5), [4.0, 2.0])
        with pytest.raises(InvalidInputError, match=r"'is_return' must hold one True/False"):
            TransactionLog.from_arrays(ids, days, amounts, is_return=[0, 1, 0])
        frame = {"id": ids, "day": days, "usd": [4.0, 1.0, 2.0], "ret": flags}
        with pytest.raises(InvalidInputError, match=r"Column 'usd' must be <= 0 for a return"):
            TransactionLog.from_frame(
                frame, customer="id", time="day", amount="usd", is_return="ret", allow_returns=True
            )

    def test_read_csv_with_returns_column(self, tmp_path):
        """A CSV boolean column marks returns."""
        path = tmp_path / "tx.csv"
        path.write_text("id,day,usd,ret\n1,2024-01-01,4,false\n1,2024-01-03,0,true\n")
        log = TransactionLog.read_csv(
            path, customer="id", time="day", amount="usd", is_return="ret", allow_returns=True
        )
        assert log.is_return is not None
        assert log.is_return.tolist() == [False, True]
        assert log.summarize().frequency.tolist() == [0]


class TestSplit:
    def test_holdout_returns_net_only_into_holdout_purchases(self):
        """A holdout refund of a calibration purchase changes neither part; one of a holdout
        purchase lowers the holdout spend; calibration equals summarize(calibration_end)."""
        log = TransactionLog.from_arrays(
            [1, 1, 1, 1, 1, 1],
            _days(0, 2, 11, 12, 14, 16),
            [5.0, 8.0, -3.0, 6.0, -2.0, 4.0],
            allow_returns=True,
        )
        s = log.split(DAY0 + 9, DAY0 + 20, unit="D")
        assert s.frequency.tolist() == [1]
        assert s.monetary is not None
        assert s.monetary.tolist() == [8.0]
        assert s.frequency_holdout is not None
        assert s.frequency_holdout.tolist() == [2]
        assert s.monetary_holdout is not None
        assert s.monetary_holdout.tolist() == [(6.0 - 2.0 + 4.0) / 2]
        assert s.excluded_transactions == 1
        alone = log.summarize(DAY0 + 9, unit="D")
        for column in ("frequency", "recency", "T", "monetary"):
            assert np.array_equal(getattr(s, column), getattr(alone, column))


def _oracle(ids, days, amounts, end):
    """Per customer (frequency, recency, T, monetary) in days, by the documented rule."""
    purchases: dict[int, dict[int, float]] = defaultdict(dict)
    for i, d, a in zip(ids, days, amounts, strict=True):
        if a >= 0 and d <= end:
            purchases[i][d] = purchases[i].get(d, 0.0) + a
    excluded = sum(d > end for d in days)
    for i, d, a in zip(ids, days, amounts, strict=True):
        if a < 0 and d <= end:
            earlier = [p for p in purchases.get(i, {}) if p <= d]
            if earlier:
                purchases[i][max(earlier)] += a
            else:
                excluded += 1
    rows = {}
    for i, spend in purchases.items():
        if not spend:
            continue
        first, last = min(spend), max(spend)
        x = len(spend) - 1
        repeat = sum(v for p, v in spend.items() if p != first)
        rows[i] = (x, last - first, end - first, repeat / x if x else 0.0)
    return rows, excluded


@given(data=st.data())
def test_summary_matches_a_per_customer_oracle(data):
    """Random logs with returns: summarize equals a plain per-customer implementation."""
    n = data.draw(st.integers(1, 30))
    ids = data.draw(st.lists(st.integers(0, 4), min_size=n, max_size=n))
    days = data.draw(st.lists(st.integers(0, 40), min_size=n, max_size=n))
    cents = data.draw(st.lists(st.integers(-500, 1000), min_size=n, max_size=n))
    end = data.draw(st.integers(0, 40))
    amounts = [c / 4 for c in cents]  # quarters: sums are exact in float64
    expected, excluded = _oracle(ids, days, amounts, end)
    log = TransactionLog.from_arrays(ids, _days(*days), amounts, allow_returns=True)
    if not expected:
        with pytest.raises(InvalidInputError):
            log.summarize(DAY0 + end, unit="D")
        return
    s = log.summarize(DAY0 + end, unit="D")
    assert s.monetary is not None
    got = {
        int(i): (int(x), r, t, m)
        for i, x, r, t, m in zip(
            s.customer_id, s.frequency, s.recency, s.T, s.monetary, strict=True
        )
    }
    assert got == expected
    assert s.excluded_transactions == excluded
    frequency_only = log.purchases().summarize(DAY0 + end, unit="D")
    assert np.array_equal(frequency_only.frequency, s.frequency)
