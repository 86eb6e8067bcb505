"""Tests of relmark.data.log: construction, validation, summaries and splits of a TransactionLog."""

from __future__ import annotations

import datetime as dt
import sys
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from relmark.data import TimeUnit, TransactionLog
from relmark.errors import InvalidInputError

DAY = np.timedelta64(1, "D")


def _log(**overrides):
    columns = {
        "customer_id": [1, 1, 1, 2, 3],
        "time": ["2024-01-01", "2024-01-01T18:00", "2024-01-15", "2024-01-08", "2024-02-20"],
        "amount": [5.0, 5.0, 7.0, 3.0, 1.0],
    }
    return TransactionLog.from_arrays(**(columns | overrides))


class TestConstruction:
    def test_from_arrays_keeps_values(self):
        """Ids keep their values and dtype; times become datetime64[us]; amounts float64."""
        log = _log()
        assert log.customer_id.dtype == np.int64
        assert log.time.dtype == np.dtype("datetime64[us]")
        assert log.time[1] == np.datetime64("2024-01-01T18:00")
        assert log.amount is not None
        assert log.amount.tolist() == [5.0, 5.0, 7.0, 3.0, 1.0]
        assert log.timezone is None
        assert (len(log), log.n_customers) == (5, 3)
        assert (log.start, log.end) == (np.datetime64("2024-01-01"), np.datetime64("2024-02-20"))

    @pytest.mark.parametrize("dtype", [np.int32, np.uint64, np.int8])
    def test_integer_id_dtype_preserved(self, dtype):
        """Integer ids of any width keep their dtype through the summary."""
        log = _log(customer_id=np.array([1, 1, 1, 2, 3], dtype=dtype))
        summary = log.summarize()
        assert summary.customer_id.dtype == dtype
        assert summary.customer_id.tolist() == [1, 2, 3]

    def test_string_ids_are_object_strings(self):
        """String ids are held as Python strings, values unchanged (leading zeros kept)."""
        log = _log(customer_id=["007", "007", "007", "010", "2"])
        assert log.customer_id.dtype == object
        assert log.summarize().customer_id.tolist() == ["007", "010", "2"]

    def test_amount_is_optional(self):
        """Without amounts the log and its summary carry no monetary column."""
        log = _log(amount=None)
        assert log.amount is None
        assert log.summarize().monetary is None

    def test_time_formats(self):
        """Dates given as YYYYMMDD integers or strings parse with an explicit or ISO format."""
        by_int = TransactionLog.from_arrays([1, 2], [19970101, 19970225], time_format="%Y%m%d")
        by_iso_basic = TransactionLog.from_arrays([1, 2], ["19970101", "19970225"])
        by_format = TransactionLog.from_arrays(
            [1, 2], ["01/01/1997", "25/02/1997"], time_format="%d/%m/%Y"
        )
        assert by_int == by_iso_basic == by_format
        assert by_int.time[1] == np.datetime64("1997-02-25")

    def test_datetime_and_date_objects(self):
        """datetime.date and naive datetime objects are accepted as times."""
        naive = dt.datetime(2020, 5, 2, 7, 30)  # noqa: DTZ001 - naive times are what is tested
        log = TransactionLog.from_arrays(
            [1, 1], np.array([dt.date(2020, 5, 1), naive], dtype=object)
        )
        assert log.time.tolist() == [naive.replace(day=1, hour=0, minute=0), naive]

    def test_aware_objects_keep_zone_as_wall_clock(self):
        """Aware datetimes in one zone are stored as wall-clock time plus the zone name."""
        berlin = ZoneInfo("Europe/Berlin")
        times = np.array(
            [dt.datetime(2020, 1, 1, 23, 30, tzinfo=berlin), dt.datetime(2020, 7, 1, tzinfo=berlin)]
        )
        log = TransactionLog.from_arrays([1, 1], times)
        assert log.timezone == "Europe/Berlin"
        assert log.time[0] == np.datetime64("2020-01-01T23:30")

    def test_from_records_transactions(self):
        """Transactions become rows: ids, times (zone kept) and amounts as given."""
        from relmark.domain.records import CustomerId, Transaction, TransactionId

        def sale(tid, customer, day, amount, currency="EUR", **extra):
            return Transaction(
                transaction_id=TransactionId(tid),
                customer_id=CustomerId(customer),
                at=dt.datetime(2021, 3, day, 12, tzinfo=dt.UTC),
                amount=amount,
                currency=currency,
                **extra,
            )

        log = TransactionLog.from_records([sale("o1", "c-4", 1, 9.5), sale("o2", "c-2", 2, 1.0)])
        assert log.customer_id.tolist() == ["c-4", "c-2"]
        assert log.timezone == "UTC"
        assert log.time[0] == np.datetime64("2021-03-01T12:00")
        assert log.amount is not None
        assert log.amount.tolist() == [9.5, 1.0]
        refund = sale("o3", "c-4", 3, -9.5, is_return=True, original_transaction_id="o1")
        with pytest.raises(
            InvalidInputError, match=r"'amount' must be >= 0; got \[-9.5\] at row\(s\) 2"
        ):
            TransactionLog.from_records(
                [sale("o1", "c-4", 1, 9.5), sale("o2", "c-2", 2, 1.0), refund]
            )
        with_returns = TransactionLog.from_records(
            [sale("o1", "c-4", 1, 9.5), refund], allow_returns=True
        )
        assert with_returns.amount is not None
        assert with_returns.amount.tolist() == [9.5, -9.5]
        with pytest.raises(InvalidInputError, match=r"several currencies \['EUR', 'USD'\]"):
            TransactionLog.from_records(
                [sale("o1", "c-4", 1, 9.5), sale("o2", "c-2", 2, 1.0, "USD")]
            )

    def test_from_records_touchpoints(self):
        """Purchase touchpoints become amount-less rows; other kinds are refused by row."""
        from relmark.domain.records import CustomerId, Touchpoint, TouchpointId
        from relmark.domain.vocabulary import Channel, Direction, TouchpointKind

        def touch(tid, kind):
            return Touchpoint(
                touchpoint_id=TouchpointId(tid),
                customer_id=CustomerId("c-1"),
                at=dt.datetime(2024, 5, 2, 9, tzinfo=dt.UTC),
                channel=Channel.PHONE,
                direction=Direction.INBOUND,
                kind=kind,
            )

        log = TransactionLog.from_records([touch("t1", TouchpointKind.PURCHASE)])
        assert log.amount is None
        assert log.customer_id.tolist() == ["c-1"]
        with pytest.raises(
            InvalidInputError, match=r"Record 1 is a touchpoint of kind 'complaint'"
        ):
            TransactionLog.from_records(
                [touch("t1", TouchpointKind.PURCHASE), touch("t2", TouchpointKind.COMPLAINT)]
            )

    def test_from_records_rejects_other_objects(self):
        """A record without customer_id/at is named in the error."""
        with pytest.raises(
            InvalidInputError, match=r"Record 0 \(int\) has no 'customer_id' or 'at'"
        ):
            TransactionLog.from_records([3])

    def test_read_csv_and_parquet(self, tmp_path):
        """CSV and Parquet files read back to the same log as the in-memory frame."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        csv_path = tmp_path / "tx.csv"
        csv_path.write_text("cust,day,usd\n42,2024-03-01,3.5\n7,2024-03-04,1\n")
        log = TransactionLog.read_csv(csv_path, customer="cust", time="day", amount="usd")
        assert log.customer_id.tolist() == [42, 7]
        assert log.time[1] == np.datetime64("2024-03-04")
        as_text = TransactionLog.read_csv(csv_path, customer="cust", time="day", string_ids=True)
        assert as_text.customer_id.tolist() == ["42", "7"]
        table = pa.table({"cust": [42, 7], "day": ["2024-03-01", "2024-03-04"], "usd": [3.5, 1.0]})
        pq.write_table(table, tmp_path / "tx.parquet")
        from_parquet = TransactionLog.read_parquet(
            tmp_path / "tx.parquet", customer="cust", time="day", amount="usd"
        )
        assert from_parquet == log

    def test_both_readers_pass_every_option_to_from_frame(self, tmp_path):
        """CSV and Parquet share one path: returns, time zone and format reach from_frame alike."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        columns = {
            "cust": ["a", "b", "a"],
            "when": ["01/03/2024 10:00", "02/03/2024 23:30", "05/03/2024 08:15"],
            "usd": [3.5, 2.0, -3.5],
            "back": [False, False, True],
        }
        csv_path = tmp_path / "tx.csv"
        rows = zip(*columns.values(), strict=True)
        csv_path.write_text(
            "cust,when,usd,back\n"
            + "".join(f"{c},{w},{u},{str(b).lower()}\n" for c, w, u, b in rows)
        )
        pq.write_table(pa.table(columns), tmp_path / "tx.parquet")
        options = {
            "customer": "cust",
            "time": "when",
            "amount": "usd",
            "is_return": "back",
            "timezone": "Europe/Berlin",
            "time_format": "%d/%m/%Y %H:%M",
            "allow_returns": True,
        }
        expected = TransactionLog.from_frame(pa.table(columns), **options)
        assert TransactionLog.read_csv(csv_path, **options) == expected
        assert TransactionLog.read_parquet(tmp_path / "tx.parquet", **options) == expected
        assert expected.is_return is not None
        assert expected.is_return.tolist() == [False, False, True]

    def test_read_csv_missing_column(self, tmp_path):
        """A column the file does not have is an InvalidInputError listing the file's columns."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        path = tmp_path / "tx.csv"
        path.write_text("cust,day\n1,2024-03-01\n")
        message = r"Column\(s\) \['usd'\] not found; the data has columns \['cust', 'day'\]\.$"
        with pytest.raises(InvalidInputError, match=message):
            TransactionLog.read_csv(path, customer="cust", time="day", amount="usd")
        pq.write_table(pa.table({"cust": [1], "day": ["2024-03-01"]}), tmp_path / "tx.parquet")
        with pytest.raises(InvalidInputError, match=message):
            TransactionLog.read_parquet(
                tmp_path / "tx.parquet", customer="cust", time="day", amount="usd"
            )


class TestValidation:
    @pytest.mark.parametrize(
        ("overrides", "message"),
        [
            (
                {"customer_id": [1.0, np.nan, 1, 2, 3]},
                r"'customer_id' has missing customer ids \(NaN\) at row\(s\) 1\.",
            ),
            (
                {"customer_id": np.array(["a", None, "a", "b", "c"], dtype=object)},
                r"'customer_id' has missing customer ids \(None/NaN\) at row\(s\) 1\.",
            ),
            (
                {"customer_id": np.array(["a", 1, "a", "b", "c"], dtype=object)},
                r"'customer_id' mixes id types \['int', 'str'\]",
            ),
            ({"customer_id": [1, 2]}, r"'time' must be one-dimensional with 2 rows"),
            (
                {
                    "time": np.array(
                        ["2024-01-01", "NaT", "2024-01-02", "2024-01-03", "2024-01-04"],
                        dtype="datetime64[D]",
                    )
                },
                r"'time' has missing times \(NaT/null\) at row\(s\) 1\.",
            ),
            (
                {
                    "time": np.array(
                        ["2024-01-01", None, "x", "2024-01-03", "2024-01-04"], dtype=object
                    )
                },
                r"'time' has missing times \(None/NaN/NaT\) at row\(s\) 1\.",
            ),
            (
                {"time": ["2024-01-01", "2024-13-45", "2024-01-02", "soon", "2024-01-04"]},
                r"'time' has values that are not times in ISO 8601 \(e\.g\. '2024-03-31'\) at row\(s\) 1, 3: \['2024-13-45', 'soon'\]",
            ),
            (
                {"time": [20240101] * 5},
                r"'time' holds integers \(\[20240101, 20240101, 20240101\]\.\.\.\), not times\. Pass time_format",
            ),
            ({"time": [1.5] * 5}, r"'time' must hold dates or times; got dtype float64"),
            (
                {"amount": [1.0, 2.0, np.inf, 1.0, 1.0]},
                r"'amount' must hold finite amounts; found NaN or infinity at row\(s\) 2: \[inf\]",
            ),
            (
                {"amount": [1.0, 2.0, 1.0, np.nan, 1.0]},
                r"'amount' must hold finite amounts; found NaN or infinity at row\(s\) 3",
            ),
            (
                {"amount": [1.0, -2.0, 1.0, 1.0, -1.0]},
                r"'amount' must be >= 0; got \[-2.0, -1.0\] at row\(s\) 1, 4\. Pass allow_returns=True",
            ),
            ({"amount": [1.0, 2.0]}, r"'amount' must be one-dimensional with 5 rows"),
            ({"amount": ["1", "x", "1", "1", "1"]}, r"'amount' must be numeric"),
        ],
    )
    def test_rule_names_column_and_rows(self, overrides, message):
        """Each validation rule raises InvalidInputError naming the column and offending rows."""
        with pytest.raises(InvalidInputError, match=message):
            _log(**overrides)

    def test_strptime_format_failure_names_format(self):
        """With time_format, unparseable values are reported against that format."""
        with pytest.raises(
            InvalidInputError, match=r"not times in format '%Y%m%d' at row\(s\) 1: \['1997-01-02'\]"
        ):
            TransactionLog.from_arrays([1, 1], ["19970101", "1997-01-02"], time_format="%Y%m%d")

    def test_returns_allowed_on_request(self):
        """allow_returns=True accepts negative amounts, kept as given."""
        log = _log(amount=[1.0, -2.0, 1.0, 1.0, 1.0], allow_returns=True)
        assert log.amount is not None
        assert log.amount[1] == -2.0

    def test_mixed_naive_and_aware(self):
        """A column mixing naive and aware times is rejected, naming one row of each."""
        times = ["2024-01-01T10:00", "2024-01-02T10:00+01:00"]
        with pytest.raises(
            InvalidInputError,
            match=r"'time' mixes naive and time-zone-aware times \(naive at row 0, aware at row 1\)",
        ):
            TransactionLog.from_arrays([1, 1], times)

    def test_mixed_offsets_need_a_zone_to_convert_to(self):
        """Strings whose UTC offsets differ name no zone: refused unless a timezone is given."""
        times = ["2024-01-01T10:00+01:00", "2024-07-01T10:00+02:00", "2024-01-03T10:00+01:00"]
        with pytest.raises(
            InvalidInputError,
            match=r"'time' has times with different UTC offsets \(\+01:00, \+02:00\).*timezone=",
        ):
            TransactionLog.from_arrays([1, 1, 1], times)
        log = TransactionLog.from_arrays([1, 1, 1], times, timezone="Europe/Berlin")
        assert log.timezone == "Europe/Berlin"
        assert log.time.astype(str).tolist() == [
            "2024-01-01T10:00:00.000000",
            "2024-07-01T10:00:00.000000",
            "2024-01-03T10:00:00.000000",
        ]

    def test_mixed_zone_objects(self):
        """Datetime objects in two IANA zones are rejected with both names."""
        times = np.array(
            [
                dt.datetime(2024, 1, 1, tzinfo=ZoneInfo("Europe/Paris")),
                dt.datetime(2024, 1, 1, tzinfo=ZoneInfo("America/New_York")),
            ]
        )
        with pytest.raises(
            InvalidInputError, match=r"'Europe/Paris' but row 1 is in 'America/New_York'"
        ):
            TransactionLog.from_arrays([1, 2], times)

    def test_equal_instants_in_different_zones_are_still_mixed(self):
        """10:00 in Paris and 09:00 UTC are the same instant but two zones: rejected."""
        times = np.array(
            [
                dt.datetime(2024, 1, 1, 10, tzinfo=ZoneInfo("Europe/Paris")),
                dt.datetime(2024, 1, 1, 9, tzinfo=dt.UTC),
            ]
        )
        with pytest.raises(InvalidInputError, match=r"'Europe/Paris' but row 1 is in 'UTC'"):
            TransactionLog.from_arrays([1, 2], times)

    def test_timezone_argument_converts_aware_strings(self):
        """An explicit timezone converts times given with a UTC offset to that zone's clock."""
        log = TransactionLog.from_arrays([1], ["2024-01-01T00:00Z"], timezone="Europe/Paris")
        assert log.timezone == "Europe/Paris"
        assert log.time[0] == np.datetime64("2024-01-01T01:00")

    def test_timezone_argument_converts_a_zoned_column(self):
        """A zoned datetime column is converted to the given zone's wall clock."""
        import pyarrow as pa

        instants = np.array(["2024-01-01T23:30", "2024-07-01T23:30"], dtype="datetime64[us]")
        frame = pa.table({"id": [1, 2], "at": pa.array(instants, type=pa.timestamp("us", "UTC"))})
        log = TransactionLog.from_frame(frame, customer="id", time="at", timezone="Europe/Paris")
        assert log.timezone == "Europe/Paris"
        assert log.time.astype(str).tolist() == [
            "2024-01-02T00:30:00.000000",
            "2024-07-02T01:30:00.000000",
        ]
        kept = TransactionLog.from_frame(frame, customer="id", time="at")
        assert kept.timezone == "UTC"
        np.testing.assert_array_equal(kept.time, instants)
        with pytest.raises(InvalidInputError, match="IANA time-zone name"):
            TransactionLog.from_frame(frame, customer="id", time="at", timezone="Nowhere/Land")


class TestFromFrame:
    def test_missing_column(self):
        """A missing column is named together with the columns that exist."""
        with pytest.raises(
            InvalidInputError,
            match=r"Column\(s\) \['when'\] not found; the data has columns \['id', 'day'\]",
        ):
            TransactionLog.from_frame(
                {"id": [1], "day": ["2024-01-01"]}, customer="id", time="when"
            )

    def test_messages_use_the_users_column_names(self):
        """Errors from frames name the user's columns, not relmark's roles."""
        frame = {"id": [1, 2], "day": ["2024-01-01", "2024-01-02"], "usd": [1.0, -1.0]}
        with pytest.raises(InvalidInputError, match=r"Column 'usd' must be >= 0"):
            TransactionLog.from_frame(frame, customer="id", time="day", amount="usd")

    def test_non_numeric_amount_names_column_and_rows(self, tmp_path):
        """A non-numeric amount, from a frame or a CSV file, is reported by column and row."""
        import pandas as pd

        frame = pd.DataFrame(
            {
                "id": [1, 2, 3],
                "day": ["2024-01-01", "2024-01-02", "2024-01-03"],
                "usd": ["10", "ten", "x"],
            }
        )
        message = r"Column 'usd' must be numeric; found values that are not numbers at row\(s\) "
        with pytest.raises(InvalidInputError, match=message + r"1, 2: \['ten', 'x'\]\.$"):
            TransactionLog.from_frame(frame, customer="id", time="day", amount="usd")
        path = tmp_path / "tx.csv"
        path.write_text("id,day,usd\n1,2024-01-01,10\n2,2024-01-02,ten\n")
        with pytest.raises(InvalidInputError, match=message + r"1: \['ten'\]\.$"):
            TransactionLog.read_csv(path, customer="id", time="day", amount="usd")

    @pytest.mark.parametrize("library", ["pandas", "polars", "pyarrow"])
    def test_nulls_in_frames(self, library):
        """Nulls in any frame library are reported with their rows, never dropped."""
        import narwhals as nw

        data = {"id": [1, None, 3], "day": ["2024-01-01", "2024-01-02", "2024-01-03"]}
        frame = nw.from_dict(data, backend=library).to_native()
        with pytest.raises(
            InvalidInputError, match=r"Column 'id' has missing values \(null\) at row\(s\) 1\."
        ):
            TransactionLog.from_frame(frame, customer="id", time="day")

    def test_not_a_frame(self):
        """Something that is neither a frame nor a mapping is rejected by type name."""
        with pytest.raises(
            InvalidInputError, match=r"must be a pandas or polars DataFrame.*Got list"
        ):
            TransactionLog.from_frame([1, 2], customer="a", time="b")

    def test_zoned_pandas_column(self):
        """A zoned pandas datetime column keeps its zone; days are local days."""
        import pandas as pd

        utc = pd.to_datetime(["2020-01-01 23:30", "2020-01-05 12:00"]).tz_localize("UTC")
        frame = pd.DataFrame({"id": [1, 1], "ts": utc.tz_convert("Europe/Berlin")})
        log = TransactionLog.from_frame(frame, customer="id", time="ts")
        assert log.timezone == "Europe/Berlin"
        assert log.time[0] == np.datetime64("2020-01-02T00:30")
        summary = log.summarize(unit="D")
        assert summary.recency.tolist() == [3.0]
        with pytest.raises(
            InvalidInputError,
            match=r"'observation_end' parameter is in time zone 'UTC' but the log's times are in 'Europe/Berlin'",
        ):
            log.summarize(dt.datetime(2020, 1, 9, tzinfo=dt.UTC))
        aware = dt.datetime(2020, 1, 9, tzinfo=ZoneInfo("Europe/Berlin"))
        assert log.summarize(aware, unit="D") == log.summarize("2020-01-09", unit="D")


_ids = st.one_of(
    st.lists(st.integers(-5, 5), min_size=1, max_size=25),
    st.lists(st.sampled_from(["a", "b", "c", "zz"]), min_size=1, max_size=25),
)


@given(ids=_ids, data=st.data())
def test_from_frame_same_log_from_every_backend(ids, data):
    """pandas, polars, pyarrow and a plain dict of lists yield the identical log."""
    import narwhals as nw

    n = len(ids)
    days = data.draw(st.lists(st.integers(0, 800), min_size=n, max_size=n))
    cents = data.draw(st.lists(st.integers(0, 10**6), min_size=n, max_size=n))
    dates = (np.datetime64("2023-01-01") + np.array(days)).astype("datetime64[us]")
    columns = {"id": ids, "ts": dates, "usd": [c / 100 for c in cents]}
    expected = TransactionLog.from_frame(columns, customer="id", time="ts", amount="usd")
    for backend in ("pandas", "polars", "pyarrow"):
        frame = nw.from_dict(columns, backend=backend).to_native()
        log = TransactionLog.from_frame(frame, customer="id", time="ts", amount="usd")
        assert log == expected
        assert log.customer_id.dtype == expected.customer_id.dtype


class TestSummarize:
    def test_hand_computed_days_in_weeks(self):
        """frequency, recency, T, monetary follow the documented definitions (hand computed)."""
        s = _log().summarize("2024-02-26")
        assert s.customer_id.tolist() == [1, 2, 3]
        # Customer 1 buys twice on 2024-01-01 (one purchase day, 10.0) and on 2024-01-15.
        assert s.frequency.tolist() == [1, 0, 0]
        assert s.recency.tolist() == [2.0, 0.0, 0.0]
        assert s.T.tolist() == [8.0, 7.0, 6 / 7]
        assert s.monetary is not None
        assert s.monetary.tolist() == [7.0, 0.0, 0.0]
        assert s.unit is TimeUnit.WEEK
        assert s.excluded_transactions == 0

    def test_default_end_is_last_transaction(self):
        """Without observation_end the summary ends at the latest transaction."""
        assert _log().summarize() == _log().summarize("2024-02-20T00:00")

    def test_transactions_after_end_are_counted_not_used(self):
        """Transactions after observation_end are excluded and their number recorded."""
        s = _log().summarize("2024-01-10", unit="D")
        assert s.customer_id.tolist() == [1, 2]
        assert s.frequency.tolist() == [0, 0]
        assert s.T.tolist() == [9.0, 2.0]
        assert s.excluded_transactions == 2

    def test_end_time_of_day_is_ignored_within_the_period(self):
        """Periods are compared: a purchase later on the day of observation_end still counts."""
        log = TransactionLog.from_arrays([1, 1], ["2024-01-01", "2024-01-03T20:00"])
        s = log.summarize("2024-01-03T08:00", unit="D")
        assert (s.frequency.tolist(), s.excluded_transactions) == ([1], 0)

    def test_weeks_start_on_monday(self):
        """With period='W' a Sunday and the next Monday fall in different weeks."""
        # 2024-01-07 is a Sunday, 2024-01-01 and 2024-01-08 are Mondays.
        log = TransactionLog.from_arrays(
            [1, 1, 1, 2, 2], ["2024-01-01", "2024-01-07", "2024-01-08", "2024-01-02", "2024-01-03"]
        )
        s = log.summarize("2024-01-21", period="W", unit="D")
        assert s.frequency.tolist() == [1, 0]
        assert s.recency.tolist() == [7.0, 0.0]
        assert s.T.tolist() == [14.0, 14.0]

    def test_months_and_quarters_are_calendar_periods(self):
        """Months and quarters start on their calendar first day; durations in mean-length units."""
        log = TransactionLog.from_arrays(
            [1, 1, 1], ["2024-01-31", "2024-02-01", "2024-03-15"], [1.0, 2.0, 4.0]
        )
        months = log.summarize("2024-05-02", period="M", unit="D")
        assert months.frequency.tolist() == [2]
        assert months.recency.tolist() == [60.0]  # 2024-01-01 → 2024-03-01 (leap year)
        assert months.T.tolist() == [121.0]  # → 2024-05-01
        assert months.monetary is not None
        assert months.monetary.tolist() == [3.0]
        quarters = log.summarize("2024-05-02", period="Q", unit="M")
        assert quarters.frequency.tolist() == [0]
        assert quarters.T.tolist() == [91.0 / TimeUnit.MONTH.days]
        years = log.summarize("2025-05-02", period="Y", unit="Y")
        assert years.T.tolist() == [366.0 / TimeUnit.YEAR.days]

    def test_sparse_and_dense_integer_ids_agree(self):
        """Huge sparse integer ids (general path) summarize like small dense ones (fast path)."""
        rng = np.random.default_rng(11)
        small = rng.integers(0, 50, 400)
        times = np.datetime64("2022-01-01") + rng.integers(0, 300, 400)
        amounts = rng.uniform(0, 10, 400)
        dense = TransactionLog.from_arrays(small, times, amounts).summarize()
        sparse = TransactionLog.from_arrays(small * 10**15 + 3, times, amounts).summarize()
        assert sparse.customer_id.tolist() == (dense.customer_id * 10**15 + 3).tolist()
        assert np.array_equal(sparse.frequency, dense.frequency)
        assert np.array_equal(sparse.T, dense.T)
        assert sparse.monetary is not None
        assert dense.monetary is not None
        assert np.array_equal(sparse.monetary, dense.monetary)

    def test_wide_keys_use_the_64_bit_path(self):
        """Many customers times a long span (keys over 32 bits) still summarize correctly."""
        ids = [0, 0, 65_000, 65_000, 65_000]
        times = ["1900-01-01", "2100-01-01", "1950-06-01", "1950-06-01", "2000-06-01"]
        s = TransactionLog.from_arrays(ids, times, [1.0, 2.0, 3.0, 4.0, 5.0]).summarize(unit="D")
        assert s.customer_id.tolist() == [0, 65_000]
        assert s.frequency.tolist() == [1, 1]
        days = [(dt.date(2100, 1, 1) - dt.date(1900, 1, 1)).days]
        days += [(dt.date(2000, 6, 1) - dt.date(1950, 6, 1)).days]
        assert s.recency.tolist() == days
        assert s.T.tolist() == [days[0], (dt.date(2100, 1, 1) - dt.date(1950, 6, 1)).days]
        assert s.monetary is not None
        assert s.monetary.tolist() == [2.0, 5.0]

    def test_bad_arguments(self):
        """Unknown period/unit codes and non-time observation ends are rejected by name."""
        with pytest.raises(
            InvalidInputError, match=r"The 'period' parameter must be one of 'D', 'W'"
        ):
            _log().summarize(period="H")
        with pytest.raises(InvalidInputError, match=r"The 'unit' parameter must be one of"):
            _log().summarize(unit="fortnight")
        with pytest.raises(
            InvalidInputError,
            match=r"The 'observation_end' parameter must be a date or time.*Got 'tomorrow'",
        ):
            _log().summarize("tomorrow")
        with pytest.raises(
            InvalidInputError, match=r"No transaction falls on or before 'observation_end'"
        ):
            _log().summarize("2023-01-01")

    def test_empty_log(self):
        """An empty log can be built but not summarized."""
        log = TransactionLog.from_arrays(
            np.array([], dtype=np.int64), np.array([], dtype="datetime64[D]")
        )
        assert len(log) == 0
        with pytest.raises(InvalidInputError, match="The transaction log is empty"):
            log.summarize()


@given(data=st.data())
def test_summary_invariant_to_row_order(data):
    """Permuting the log's rows leaves the summary unchanged (monetary up to float rounding)."""
    n = data.draw(st.integers(1, 40))
    ids = data.draw(st.lists(st.integers(0, 6), min_size=n, max_size=n))
    hours = data.draw(st.lists(st.integers(0, 24 * 120), min_size=n, max_size=n))
    amounts = data.draw(st.lists(st.floats(0, 1e4), min_size=n, max_size=n))
    period = data.draw(st.sampled_from("DWMQ"))
    perm = np.random.default_rng(data.draw(st.integers(0, 2**32))).permutation(n)
    times = np.datetime64("2024-01-01T00", "h") + np.array(hours)
    log = TransactionLog.from_arrays(ids, times, amounts)
    shuffled = TransactionLog.from_arrays(np.array(ids)[perm], times[perm], np.array(amounts)[perm])
    a, b = log.summarize(period=period), shuffled.summarize(period=period)
    assert np.array_equal(a.customer_id, b.customer_id)
    assert np.array_equal(a.frequency, b.frequency)
    assert np.array_equal(a.recency, b.recency)
    assert np.array_equal(a.T, b.T)
    assert a.monetary is not None
    assert b.monetary is not None
    np.testing.assert_allclose(a.monetary, b.monetary, rtol=1e-12, atol=1e-9)


class TestSplit:
    def test_hand_computed(self):
        """Calibration columns, holdout counts, per-period holdout spend and duration by hand."""
        log = TransactionLog.from_arrays(
            [1, 1, 1, 1, 1, 2, 3, 3],
            [
                "2024-01-01",
                "2024-01-03",
                "2024-01-12",
                "2024-01-12",
                "2024-01-14",
                "2024-01-02",
                "2024-01-11",
                "2024-01-30",
            ],
            [1.0, 2.0, 3.0, 5.0, 6.0, 4.0, 9.0, 9.0],
        )
        s = log.split("2024-01-10", "2024-01-17", unit="D")
        assert s.customer_id.tolist() == [1, 2]
        assert s.frequency.tolist() == [1, 0]
        assert s.recency.tolist() == [2.0, 0.0]
        assert s.T.tolist() == [9.0, 8.0]
        assert s.monetary is not None
        assert s.monetary.tolist() == [2.0, 0.0]
        assert s.frequency_holdout is not None
        assert s.frequency_holdout.tolist() == [2, 0]
        assert s.monetary_holdout is not None
        assert s.monetary_holdout.tolist() == [7.0, 0.0]  # (3 + 5) on 01-12 and 6 on 01-14
        assert s.duration_holdout is not None
        assert s.duration_holdout.tolist() == [7.0, 7.0]
        # Customer 3 starts in the holdout (1 transaction) and has 1 after the end.
        assert s.excluded_transactions == 2
        assert s.has_holdout

    def test_calibration_part_equals_summarize_of_calibration(self):
        """The calibration columns equal summarize(calibration_end) for the same customers."""
        s = _log().split("2024-01-10", "2024-02-20")
        alone = _log().summarize("2024-01-10")
        assert np.array_equal(s.customer_id, alone.customer_id)
        assert np.array_equal(s.T, alone.T)
        assert np.array_equal(s.recency, alone.recency)

    def test_reversed_or_empty_holdout(self):
        """observation_end must be in a later period than calibration_end."""
        with pytest.raises(
            InvalidInputError,
            match=r"'observation_end' parameter must fall in a later week than 'calibration_end'",
        ):
            _log().split("2024-01-10", "2024-01-12", period="W")

    def test_no_calibration_customers(self):
        """A calibration period without purchases is an error, not an empty summary."""
        with pytest.raises(
            InvalidInputError,
            match="No customer has a purchase on or before the end of the calibration",
        ):
            _log().split("2023-12-01", "2024-02-20")


def test_readers_without_pyarrow_or_polars(monkeypatch, tmp_path):
    """Without pyarrow and polars the file readers raise MissingDependencyError."""
    import importlib.util

    from relmark.errors import MissingDependencyError

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name in {"pyarrow", "polars"} else real(name, *a),
    )
    path = tmp_path / "tx.csv"
    path.write_text("c,t\n1,2024-01-01\n")
    with pytest.raises(MissingDependencyError, match=r"relmark\[arrow\]"):
        TransactionLog.read_csv(path, customer="c", time="t")


def test_csv_read_with_polars_when_pyarrow_is_absent(monkeypatch, tmp_path):
    """With only polars installed, CSV and Parquet files still load to the same log."""
    import importlib.util

    import polars as pl

    path = tmp_path / "tx.csv"
    path.write_text("c,t,usd\n00042,2024-01-01,1.5\n7,2024-01-03,2\n")
    pl.read_csv(path).write_parquet(tmp_path / "tx.parquet")
    expected = TransactionLog.read_csv(path, customer="c", time="t", amount="usd")
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "pyarrow" else real(name, *a)
    )
    assert TransactionLog.read_csv(path, customer="c", time="t", amount="usd") == expected
    from_parquet = TransactionLog.read_parquet(
        tmp_path / "tx.parquet", customer="c", time="t", amount="usd"
    )
    assert from_parquet.customer_id.tolist() == [42, 7]
    as_text = TransactionLog.read_csv(path, customer="c", time="t", string_ids=True)
    assert as_text.customer_id.tolist() == ["00042", "7"]


def test_zoned_polars_and_arrow_columns():
    """Zoned polars and pyarrow datetime columns keep their zone and local wall-clock times."""
    import polars as pl

    utc = pl.Series("ts", [dt.datetime(2020, 1, 1, 23, 30, tzinfo=dt.UTC)])
    frame = pl.DataFrame({"id": [1], "ts": utc.dt.convert_time_zone("Asia/Tokyo")})
    for native in (frame, frame.to_arrow()):
        log = TransactionLog.from_frame(native, customer="id", time="ts")
        assert log.timezone == "Asia/Tokyo"
        assert log.time[0] == np.datetime64("2020-01-02T08:30")


@pytest.mark.parametrize(
    ("column", "kwargs"),
    [
        ("amount", {"amount": [[1.0, 2.0], 3.0]}),
        ("customer_id", {"customer_id": [[1, 2], [3]]}),
        ("time", {"time": [["2024-01-01"], ["2024-01-02", "2024-01-03"]]}),
    ],
)
def test_ragged_columns_are_named_errors(column: str, kwargs: dict[str, object]) -> None:
    """Ragged or nested input is an InvalidInputError naming the column, not a numpy error."""
    args: dict[str, object] = {
        "customer_id": [1, 2],
        "time": ["2024-01-01", "2024-01-02"],
        "amount": [1.0, 2.0],
    }
    args.update(kwargs)
    with pytest.raises(InvalidInputError, match=rf"Column '{column}'"):
        TransactionLog.from_arrays(**args)


class TestReviewFixes:
    def test_record_ids_beyond_int64(self):
        """Integer ids too large for int64 are kept as Python ints, not an OverflowError."""

        class Sale:
            def __init__(self, customer_id, day):
                self.customer_id, self.amount = customer_id, 1.0
                self.at = dt.datetime(2021, 3, day, tzinfo=dt.UTC)

        big = 2**70
        records = [Sale(big, 1), Sale(big + 1, 2)]
        log = TransactionLog.from_records(records)
        assert log.customer_id.tolist() == [big, big + 1]
        assert log.summarize().customer_id.tolist() == [big, big + 1]

    @pytest.mark.parametrize("zone", ["Mars/Olympus", "", 3])
    def test_unknown_timezone_is_refused(self, zone):
        """The timezone argument must name a known IANA zone."""
        before = set(sys.modules)
        try:
            with pytest.raises(
                InvalidInputError, match=r"The 'timezone' parameter must be an IANA time-zone name"
            ):
                TransactionLog.from_arrays([1], ["2024-01-01"], timezone=zone)
        finally:
            # An unknown key makes zoneinfo import the tzdata package; drop it again so tests
            # that simulate a machine without tzdata (tests/cli) still see none.
            for name in set(sys.modules) - before:
                if name.split(".")[0] == "tzdata":
                    del sys.modules[name]

    def test_messages_name_user_columns_without_rewriting(self):
        """Column names that are also role names do not garble messages."""
        frame = {"time": [1.0, np.nan], "when": ["2024-01-01", "2024-01-02"]}
        with pytest.raises(
            InvalidInputError,
            match=r"^Column 'time' has missing customer ids \(NaN\) at row\(s\) 1\.$",
        ):
            TransactionLog.from_frame(frame, customer="time", time="when")
        frame = {"time": [1, 2], "when": ["2024-01-01", "soon"]}
        with pytest.raises(InvalidInputError, match=r"^Column 'when' has values that are not"):
            TransactionLog.from_frame(frame, customer="time", time="when")

    def test_mixed_id_list_is_not_stringified(self):
        """A Python list mixing strings and integers is refused, not turned into strings."""
        with pytest.raises(
            InvalidInputError, match=r"'customer_id' mixes id types \['int', 'str'\]"
        ):
            TransactionLog.from_arrays(["a", 1], ["2024-01-01", "2024-01-02"])

    def test_two_dimensional_mapping_column(self):
        """A 2-D array in a mapping is named as not one-dimensional."""
        frame = {"id": np.zeros((2, 2), dtype=int), "day": ["2024-01-01", "2024-01-02"]}
        with pytest.raises(InvalidInputError, match=r"Column 'id' must be one-dimensional"):
            TransactionLog.from_frame(frame, customer="id", time="day")

    def test_bool_ids_are_refused(self):
        """A boolean column is not a customer id."""
        with pytest.raises(InvalidInputError, match=r"'customer_id' must hold integer or string"):
            TransactionLog.from_arrays([True, False], ["2024-01-01", "2024-01-02"])
        with pytest.raises(InvalidInputError, match=r"'customer_id' must hold integer or string"):
            TransactionLog.from_arrays(
                np.array([True, False], dtype=object), ["2024-01-01", "2024-01-02"]
            )

    def test_frame_readers_take_a_timezone(self, tmp_path):
        """Readers take naive times as wall clock in timezone and convert zoned ones to it."""
        import pandas as pd

        frame = pd.DataFrame({"id": [1, 1], "ts": pd.to_datetime(["2024-01-01", "2024-01-03"])})
        log = TransactionLog.from_frame(frame, customer="id", time="ts", timezone="Europe/Berlin")
        assert log.timezone == "Europe/Berlin"
        assert log == TransactionLog.from_arrays(
            [1, 1], ["2024-01-01", "2024-01-03"], timezone="Europe/Berlin"
        )
        frame.to_csv(tmp_path / "tx.csv", index=False)
        frame.to_parquet(tmp_path / "tx.parquet")
        from_csv = TransactionLog.read_csv(
            tmp_path / "tx.csv", customer="id", time="ts", timezone="Europe/Berlin"
        )
        from_parquet = TransactionLog.read_parquet(
            tmp_path / "tx.parquet", customer="id", time="ts", timezone="Europe/Berlin"
        )
        assert from_csv == from_parquet == log
        zoned = frame.assign(ts=frame["ts"].dt.tz_localize("UTC"))
        in_tokyo = TransactionLog.from_frame(zoned, customer="id", time="ts", timezone="Asia/Tokyo")
        assert in_tokyo.timezone == "Asia/Tokyo"
        assert in_tokyo.time[0] == np.datetime64("2024-01-01T09:00")


class TestDistinctTimes:
    def test_repeated_bad_values_are_reported_at_every_row(self):
        """Values parsed once per distinct string are still reported at all their rows."""
        times = ["2024-01-01", "soon", "2024-01-01", "soon", "2024-01-02"]
        with pytest.raises(InvalidInputError, match=r"at row\(s\) 1, 3: \['soon', 'soon'\]\.$"):
            TransactionLog.from_arrays([1] * 5, np.array(times))

    def test_repeated_missing_values_are_reported_at_every_row(self):
        """Missing times among repeated objects are named at each of their rows."""
        times = np.array(["2024-01-01", None, "2024-01-01", None], dtype=object)
        with pytest.raises(InvalidInputError, match=r"missing times .* at row\(s\) 1, 3\.$"):
            TransactionLog.from_arrays([1] * 4, times)

    def test_equal_values_of_different_types_are_not_merged(self):
        """An integer and a string spelling the same date are parsed separately, as given."""
        times = np.array([19970101, "19970101", 19970101], dtype=object)
        log = TransactionLog.from_arrays([1, 2, 3], times, time_format="%Y%m%d")
        assert log.time.tolist() == [dt.datetime(1997, 1, 1)] * 3  # noqa: DTZ001 - naive
        with pytest.raises(InvalidInputError, match=r"not times in ISO 8601 .* row\(s\) 0, 2"):
            TransactionLog.from_arrays([1, 2, 3], np.array([1.5, "2024-01-01", 1.5], dtype=object))

    @given(
        st.lists(
            st.sampled_from(["2024-01-01", "2024-02-29T10:00", "20240301", "2024-03-01"]),
            min_size=1,
            max_size=30,
        )
    )
    def test_same_times_as_parsing_each_row(self, texts):
        """Deduplicated parsing equals parsing every row on its own, for str and object input."""
        expected = [dt.datetime.fromisoformat(t) for t in texts]
        for column in (np.array(texts), np.array(texts, dtype=object)):
            log = TransactionLog.from_arrays([0] * len(texts), column)
            assert log.time.tolist() == expected


class TestNothingWrongInSilence:
    """Issue 18, classes 3 and 4: files and arrays that used to give wrong results quietly."""

    def test_csv_ids_beyond_int64_stay_distinct(self, tmp_path):
        """Ids too large for int64 are kept as text, so two of them never merge as floats."""
        path = tmp_path / "big.csv"
        path.write_text(
            "id,day,usd\n18446744073709551617,2024-01-01,1\n18446744073709551616,2024-01-02,2\n",
            encoding="utf-8",
        )
        log = TransactionLog.read_csv(path, customer="id", time="day", amount="usd")
        assert log.customer_id.tolist() == ["18446744073709551617", "18446744073709551616"]
        assert len(log.summarize()) == 2

    def test_one_float_looking_id_does_not_merge_with_its_integer(self, tmp_path):
        """'1' and '1.0' are different ids: the column stays text instead of becoming float."""
        path = tmp_path / "mixed.csv"
        path.write_text("id,day\n1,2024-01-01\n1.0,2024-01-02\n2,2024-01-03\n", encoding="utf-8")
        log = TransactionLog.read_csv(path, customer="id", time="day")
        assert log.summarize().customer_id.tolist() == ["1", "1.0", "2"]

    @pytest.mark.parametrize("library", ["pyarrow", "polars"])
    def test_reader_choice_does_not_change_ids(self, tmp_path, monkeypatch, library):
        """pyarrow and polars (used when pyarrow is absent) read the same ids the same way."""
        pytest.importorskip(library)
        import importlib.util

        if library == "polars":
            real = importlib.util.find_spec
            monkeypatch.setattr(
                importlib.util,
                "find_spec",
                lambda name, *a: None if name.startswith("pyarrow") else real(name, *a),
            )
        path = tmp_path / "ids.csv"
        path.write_text("id,day\n7,2024-01-01\n007,2024-01-02\n12,2024-01-03\n", encoding="utf-8")
        assert TransactionLog.read_csv(path, customer="id", time="day").customer_id.tolist() == [
            "7",
            "007",
            "12",
        ]
        path.write_text("id,day\n7,2024-01-01\n12,2024-01-02\n", encoding="utf-8")
        assert TransactionLog.read_csv(path, customer="id", time="day").customer_id.tolist() == [
            7,
            12,
        ]

    def test_binary_parquet_ids_read_as_text(self, tmp_path):
        """A Parquet id column of binary values gives '1', not b'1'."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.table(
            {
                "id": pa.array([b"1", b"2", b"1"], type=pa.binary()),
                "day": ["2024-01-01", "2024-01-02", "2024-01-05"],
            }
        )
        pq.write_table(table, tmp_path / "bin.parquet")
        log = TransactionLog.read_parquet(tmp_path / "bin.parquet", customer="id", time="day")
        assert log.summarize().customer_id.tolist() == ["1", "2"]

    @pytest.mark.parametrize("suffix", ["csv", "parquet"])
    def test_boolean_amounts_are_refused(self, tmp_path, suffix):
        """A true/false amount column is not read as 1.0/0.0."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        path = tmp_path / f"flags.{suffix}"
        if suffix == "csv":
            path.write_text(
                "id,day,paid\n1,2024-01-01,true\n2,2024-01-02,false\n", encoding="utf-8"
            )
            read = TransactionLog.read_csv
        else:
            pq.write_table(
                pa.table(
                    {"id": [1, 2], "day": ["2024-01-01", "2024-01-02"], "paid": [True, False]}
                ),
                path,
            )
            read = TransactionLog.read_parquet
        with pytest.raises(
            InvalidInputError, match="Column 'paid' must hold real numbers; got booleans"
        ):
            read(path, customer="id", time="day", amount="paid")

    def test_a_far_future_row_warns_about_the_default_end(self):
        """One row dated 2099 in a 2021-2023 log warns, naming the row and how to set the end."""
        from relmark.errors import RelmarkWarning

        rng = np.random.default_rng(18)
        days = rng.integers(0, 3 * 365, 5_000)
        times = np.datetime64("2021-01-01") + days.astype("timedelta64[D]")
        times[1234] = np.datetime64("2099-06-01")
        log = TransactionLog.from_arrays(rng.integers(0, 800, 5_000), times)
        with pytest.warns(RelmarkWarning, match=r"2099-06-01.*row\(s\) 1234.*observation_end="):
            log.summarize()
        log.summarize("2023-12-31")  # an explicit end is not second-guessed
        times[1234] = np.datetime64("2023-12-30")
        TransactionLog.from_arrays(rng.integers(0, 800, 5_000), times).summarize()

    @pytest.mark.parametrize(
        ("amount", "what"),
        [
            (np.array([True, False, True]), "booleans"),
            (np.array([1 + 0j, 2 + 0j, 3 + 0j]), "complex numbers"),
            (np.array(["2024-01-01"] * 3, dtype="datetime64[D]"), "dates or times"),
            (np.array([1, 2, 3], dtype="timedelta64[D]"), "durations"),
        ],
    )
    def test_amounts_in_disguise_are_refused(self, amount, what):
        """Booleans, complex, datetime64 and timedelta64 arrays are not amounts."""
        with pytest.raises(
            InvalidInputError, match=rf"'amount' must hold real numbers; got {what}"
        ):
            TransactionLog.from_arrays(
                [1, 1, 2], ["2024-01-01", "2024-01-02", "2024-01-03"], amount
            )

    def test_per_period_sums_beyond_float_range_are_refused(self):
        """Two 1.7e308 purchases in one repeat period cannot be summed: an error names the customer."""
        log = TransactionLog.from_arrays(
            [4, 4, 4, 5],
            ["2024-01-01", "2024-01-02", "2024-01-02", "2024-01-02"],
            [1.0, 1.7e308, 1.7e308, 1.0],
        )
        with pytest.raises(InvalidInputError, match=r"customer\(s\) \[4\] add up to more than"):
            log.summarize()

    @pytest.mark.parametrize("time_format", [5, b"%Y", "Y-m-d"])
    def test_time_format_must_be_a_format_string(self, time_format):
        """A time_format that is no strptime format is an InvalidInputError naming the argument."""
        with pytest.raises(InvalidInputError, match="'time_format' parameter must be a strptime"):
            TransactionLog.from_arrays([1], ["2024-01-01"], time_format=time_format)

    @pytest.mark.parametrize("records", [None, 5, "abc", {"customer_id": 1}])
    def test_from_records_needs_an_iterable_of_records(self, records):
        """from_records(None) and other non-iterables raise InvalidInputError, not TypeError."""
        with pytest.raises(InvalidInputError, match="'records' parameter"):
            TransactionLog.from_records(records)
