"""Tests of relmark.data.partition: the engine-neutral summarize / compress / merge / score steps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from relmark.clv import BGNBD, GammaGamma
from relmark.clv.scorers import CLVScorer
from relmark.clv.uncertainty import ParameterDraws
from relmark.data import CustomerSummary, TransactionLog
from relmark.data.partition import (
    RowMerger,
    WeightedRows,
    _KeyedRows,
    _ranks,
    bootstrap_weights,
    compress_rows,
    merge_rows,
    read_transactions,
    score_frame,
    score_summary,
    summarize_customers,
    summary_from_frame,
)
from relmark.data.units import TimeUnit
from relmark.datasets import load_cdnow, simulate_transaction_log
from relmark.errors import InvalidInputError, NotFittedError
from relmark.rfm import RFMScorer

END = "1998-06-30"


@pytest.fixture(scope="module")
def cdnow() -> TransactionLog:
    return load_cdnow()


@pytest.fixture(scope="module")
def multi_cohort() -> TransactionLog:
    """Three years of BG/NBD customers acquired over two years, with spend, floored to days."""
    return simulate_transaction_log(
        3000,
        "bgnbd",
        {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
        start="2021-01-01",
        end="2024-01-01",
        acquisition_end="2023-01-01",
        spend={"p": 6.25, "q": 3.74, "gamma": 15.44},
        seed=11,
    )


def _columns(log: TransactionLog) -> dict[str, np.ndarray]:
    return read_transactions(
        {"c": log.customer_id, "t": log.time, "a": log.amount},
        customer="c",
        time="t",
        amount="a",
    )


def _shards(log: TransactionLog, n: int, seed: int = 0) -> list[dict[str, np.ndarray]]:
    """Rows split by a random customer → shard map, each shard's rows in shuffled order."""
    cols = _columns(log)
    ids, codes = np.unique(cols["customer_id"], return_inverse=True)
    rng = np.random.default_rng(seed)
    shard_of = rng.integers(0, n, size=ids.size)[codes]
    shards = []
    for k in range(n):
        rows = np.flatnonzero(shard_of == k)
        rows = rows[rng.permutation(rows.size)]
        shards.append({name: values[rows] for name, values in cols.items()})
    return shards


def _concat(parts: list[CustomerSummary]) -> CustomerSummary:
    ids = np.concatenate([p.customer_id for p in parts])
    order = np.argsort(ids, kind="stable")
    merged = {}
    for name in (
        "frequency",
        "recency",
        "T",
        "monetary",
        "frequency_holdout",
        "monetary_holdout",
        "duration_holdout",
    ):
        cols = [getattr(p, name) for p in parts]
        merged[name] = None if cols[0] is None else np.concatenate(cols)[order]
    return CustomerSummary(customer_id=ids[order], unit=parts[0].unit, **merged)


_SUMMARY_FIELDS = (
    "customer_id",
    "frequency",
    "recency",
    "T",
    "monetary",
    "frequency_holdout",
    "monetary_holdout",
    "duration_holdout",
)


def _assert_same(a: CustomerSummary, b: CustomerSummary, *, money_rtol: float = 0.0) -> None:
    """Equal summaries; amounts summed in another order may differ in the last bits only."""
    assert a.unit == b.unit
    for name in _SUMMARY_FIELDS:
        x, y = getattr(a, name), getattr(b, name)
        assert (x is None) == (y is None), name
        if x is None:
            continue
        if money_rtol and name.startswith("monetary"):
            np.testing.assert_allclose(x, y, rtol=money_rtol, atol=0)
        else:
            assert np.array_equal(x, y), name


def _in_amount_order(log: TransactionLog) -> TransactionLog:
    """The log with rows sorted by amount (the order batches sum amounts in by default)."""
    order = np.argsort(log.amount, kind="stable")
    return TransactionLog.from_arrays(log.customer_id[order], log.time[order], log.amount[order])


class TestSummarizeCustomers:
    @pytest.mark.parametrize("period", ["D", "W", "M"])
    def test_shards_by_customer_equal_the_whole_log_on_cdnow(self, cdnow, period):
        """Summaries of customer shards (rows shuffled) are the single-process rows, bit for bit."""
        parts = [
            summarize_customers(shard, observation_end=END, period=period)
            for shard in _shards(cdnow, 5)
        ]
        _assert_same(_concat(parts), _in_amount_order(cdnow).summarize(END, period=period))
        _assert_same(_concat(parts), cdnow.summarize(END, period=period), money_rtol=1e-14)

    def test_input_order_sums_equal_the_whole_log_in_the_same_order(self, cdnow):
        """Without canonical order, shards keeping the log's row order sum spend bit for bit alike."""
        cols = _columns(cdnow)
        shard_of = cols["customer_id"] % 3
        parts = [
            summarize_customers(
                {name: values[shard_of == k] for name, values in cols.items()},
                observation_end=END,
                canonical_order=False,
            )
            for k in range(3)
        ]
        _assert_same(_concat(parts), cdnow.summarize(END))

    def test_shards_equal_the_whole_split_on_a_multi_cohort_log(self, multi_cohort):
        """Calibration/holdout summaries of shards equal TransactionLog.split customer by customer."""
        parts = [
            summarize_customers(
                shard, observation_end="2024-01-01", calibration_end="2023-03-31", unit="D"
            )
            for shard in _shards(multi_cohort, 7, seed=3)
        ]
        whole = _in_amount_order(multi_cohort).split("2023-03-31", "2024-01-01", unit="D")
        _assert_same(_concat(parts), whole)

    @given(st.integers(0, 2**32 - 1))
    def test_row_order_does_not_change_a_bit(self, seed):
        """Any permutation of a batch's rows gives the same summary, mean spend bit for bit."""
        rng = np.random.default_rng(seed)
        n = 60
        batch = {
            "customer_id": rng.integers(0, 8, n),
            "time": np.datetime64("2024-01-01", "us")
            + rng.integers(0, 20, n) * np.timedelta64(86_400_000_000, "us"),
            "amount": rng.integers(1, 10_000, n) / 7.0,
        }
        permutation = rng.permutation(n)
        shuffled = {k: v[permutation] for k, v in batch.items()}
        _assert_same(
            summarize_customers(shuffled, observation_end="2024-02-01"),
            summarize_customers(batch, observation_end="2024-02-01"),
        )

    def test_excluded_transactions_of_shards_add_up(self, multi_cohort):
        """Rows after the end are counted per shard and add up to the single-process count."""
        parts = [
            summarize_customers(shard, observation_end="2022-06-30")
            for shard in _shards(multi_cohort, 4)
        ]
        expected = multi_cohort.summarize("2022-06-30").excluded_transactions
        assert expected > 0
        assert sum(p.excluded_transactions for p in parts) == expected

    def test_a_batch_of_late_customers_gives_an_empty_summary(self, multi_cohort):
        """A batch whose customers all start after the end is an empty summary, not an error."""
        cols = _columns(multi_cohort)
        late = cols["time"] > np.datetime64("2022-12-01")
        first = pd.Series(cols["time"]).groupby(cols["customer_id"]).transform("min").to_numpy()
        only_late = first > np.datetime64("2022-12-01")
        batch = {name: values[late & only_late] for name, values in cols.items()}
        summary = summarize_customers(
            batch, observation_end="2024-01-01", calibration_end="2022-06-30"
        )
        assert batch["time"].size > 0
        assert len(summary) == 0
        assert summary.has_holdout
        assert summary.monetary is not None

    def test_an_empty_batch_gives_an_empty_summary(self):
        """No rows at all: an empty summary with the batch's columns."""
        batch = {
            "customer_id": np.empty(0, dtype=np.int64),
            "time": np.empty(0, dtype="datetime64[us]"),
        }
        summary = summarize_customers(batch, observation_end="2024-01-01")
        assert len(summary) == 0
        assert summary.monetary is None

    def test_observation_end_is_required(self):
        """Without the global end a batch cannot know T, and says so."""
        batch = {"customer_id": [1], "time": ["2024-01-01"]}
        with pytest.raises(InvalidInputError, match=r"observation_end.*whole log"):
            summarize_customers(batch, observation_end=None)

    def test_returns_are_netted_within_a_batch(self):
        """With returns, a batch gives the rows of TransactionLog.summarize on the whole log."""
        ids = [1, 1, 1, 2, 2]
        times = ["2024-01-01", "2024-01-08", "2024-01-09", "2024-01-03", "2024-01-04"]
        amounts = [5.0, 7.0, -2.0, 3.0, -3.0]
        log = TransactionLog.from_arrays(ids, times, amounts, allow_returns=True)
        cols = read_transactions(
            {"c": ids, "t": times, "a": amounts},
            customer="c",
            time="t",
            amount="a",
            allow_returns=True,
        )
        got = summarize_customers(cols, observation_end="2024-01-31", allow_returns=True)
        _assert_same(got, log.summarize("2024-01-31"))


class TestReadTransactions:
    def test_errors_name_the_batch(self):
        """A bad row is reported with the batch's name in front."""
        batch = {"id": [1, 2], "day": ["2024-01-01", "not a date"]}
        with pytest.raises(InvalidInputError, match=r"^logs/day-2\.parquet: .*'day'"):
            read_transactions(batch, customer="id", time="day", source="logs/day-2.parquet")

    def test_zoned_times_need_the_zone_named(self):
        """A zoned column is refused unless its zone is named, so all batches share one zone."""
        table = pa.table(
            {
                "id": [1],
                "ts": pa.array([0], type=pa.timestamp("us", tz="Europe/Berlin")),
            }
        )
        with pytest.raises(InvalidInputError, match=r"shard 4.*timezone='Europe/Berlin'"):
            read_transactions(table, customer="id", time="ts", source="shard 4")
        cols = read_transactions(table, customer="id", time="ts", timezone="Europe/Berlin")
        assert str(cols["time"][0]) == "1970-01-01T01:00:00.000000"

    def test_is_return_column_is_kept(self):
        """Flags come back as a boolean column when the source names one."""
        cols = read_transactions(
            {"id": [1, 1], "t": ["2024-01-01", "2024-01-02"], "a": [4.0, 0.0], "r": [False, True]},
            customer="id",
            time="t",
            amount="a",
            is_return="r",
            allow_returns=True,
        )
        assert cols["is_return"].tolist() == [False, True]


class TestCompressAndMerge:
    def test_merged_rows_fit_bgnbd_bit_for_bit(self, cdnow):
        """BG/NBD on merged per-shard rows has exactly the parameters of the fit on all customers."""
        summary = cdnow.summarize(END)
        parts = [summarize_customers(s, observation_end=END) for s in _shards(cdnow, 6)]
        rows = merge_rows([compress_rows(p) for p in parts])
        assert len(rows) == len(summary.compress())
        assert rows.n_customers == len(summary)
        assert BGNBD().fit(rows.to_summary()).params_ == BGNBD().fit(summary).params_

    def test_merged_rows_equal_the_compressed_whole(self, multi_cohort):
        """Merging is exact: the merged rows and weights are those of compressing everything."""
        summary = _in_amount_order(multi_cohort).summarize("2024-01-01")
        parts = [
            summarize_customers(s, observation_end="2024-01-01") for s in _shards(multi_cohort, 5)
        ]
        names = ("frequency", "recency", "T", "monetary")
        whole = compress_rows(summary, names)
        merged = merge_rows([compress_rows(p, names) for p in parts])
        assert merged == whole
        compressed = summary.compress()
        assert np.array_equal(compress_rows(summary).weights, compressed.weights)

    @given(
        st.lists(
            st.tuples(st.integers(0, 3), st.integers(0, 2), st.integers(2, 3)),
            min_size=1,
            max_size=40,
        ),
        st.integers(1, 5),
    )
    def test_merge_is_order_and_tree_independent(self, rows, n_parts):
        """Any cut of the customers into parts, merged in any order, gives the same rows."""
        x = np.array([r[0] for r in rows])
        t_x = np.where(x > 0, [float(r[1]) for r in rows], 0.0)
        summary = CustomerSummary.from_arrays(x, t_x, [float(r[2]) for r in rows])
        cuts = np.array_split(np.arange(len(rows)), n_parts)
        parts = [compress_rows(summary.take(c)) for c in cuts]
        forward = merge_rows(parts)
        backward = merge_rows([merge_rows(parts[::-1][:1]), merge_rows(parts[::-1][1:] or parts)])
        assert forward == compress_rows(summary)
        if n_parts > 1:
            assert backward.values.tolist() == forward.values.tolist()

    @given(
        st.lists(
            st.tuples(
                st.integers(0, 4),
                st.sampled_from([0.0, 1.0, 2.5, 3.0, 1e9, 2.0**40]),
                st.sampled_from([3.0, 4.0, 4.25, 2.0**41]),
            ),
            min_size=1,
            max_size=40,
        )
    )
    def test_distinct_rows_equal_numpy_unique(self, rows):
        """Whole-number, fractional and widely spread columns all compress as np.unique does."""
        values = np.array(rows, dtype=np.float64)
        values[values[:, 0] == 0, 1] = 0.0
        values[:, 1] = np.minimum(values[:, 1], values[:, 2])
        summary = CustomerSummary.from_arrays(values[:, 0], values[:, 1], values[:, 2])
        rows_out = compress_rows(summary)
        expected, counts = np.unique(values, axis=0, return_counts=True)
        assert rows_out.values.tolist() == expected.tolist()
        assert rows_out.weights.tolist() == counts.astype(float).tolist()

    @pytest.mark.parametrize("unit", list(TimeUnit))
    @given(st.lists(st.integers(0, 4000), min_size=1, max_size=60), st.booleans())
    def test_grid_codes_order_and_compare_like_the_values(self, unit, days, jitter):
        """Day counts in any unit (and off-grid values) get codes that sort and tie as they do."""
        values = np.array(days, dtype=np.float64) / unit.days
        if jitter:
            values[0] += 1e-9  # off the grid: the sort fallback must give the same answer
        codes, width = _ranks(values, unit.days)
        _, dense = np.unique(values, return_inverse=True)
        assert codes.min() == 0
        assert codes.max() < width
        assert np.array_equal(np.sign(codes[:, None] - codes), np.sign(dense[:, None] - dense))

    def test_one_part_of_concatenated_rows_is_merged(self, cdnow):
        """Rows collected from many partitions into one part (a Spark collect) are merged too."""
        summary = cdnow.summarize(END)
        parts = [compress_rows(summary.take(np.arange(k, len(summary), 4))) for k in range(4)]
        collected = WeightedRows(
            names=parts[0].names,
            values=np.concatenate([p.values for p in parts]),
            weights=np.concatenate([p.weights for p in parts]),
            unit=summary.unit,
        )
        assert merge_rows([collected]) == compress_rows(summary)

    def test_weighted_summaries_keep_their_weights(self):
        """Rows of an already weighted summary carry its weights, not row counts."""
        s = CustomerSummary.from_arrays([1, 1], [2.0, 2.0], [5.0, 5.0], weights=[3.0, 4.5])
        assert compress_rows(s).weights.tolist() == [7.5]

    def test_holdout_columns_round_trip(self, multi_cohort):
        """Rows distinct on the holdout columns give back a summary with holdout columns."""
        summary = multi_cohort.split("2023-03-31", "2024-01-01")
        names = tuple(n for n in _SUMMARY_FIELDS[1:] if getattr(summary, n) is not None)
        weighted = compress_rows(summary, names).to_summary()
        assert weighted.has_holdout
        assert float(weighted.row_weights @ weighted.frequency_holdout) == float(
            summary.frequency_holdout.sum()
        )

    def test_bad_names_and_mixed_parts_are_refused(self):
        """Unknown or misordered columns and parts on different columns raise clear errors."""
        s = CustomerSummary.from_arrays([1], [2.0], [5.0])
        with pytest.raises(InvalidInputError, match="must start with 'frequency'"):
            compress_rows(s, ("recency", "frequency", "T"))
        with pytest.raises(InvalidInputError, match="no 'monetary' column"):
            compress_rows(s, ("frequency", "recency", "T", "monetary"))
        m = CustomerSummary.from_arrays([1], [2.0], [5.0], monetary=[3.0])
        with pytest.raises(InvalidInputError, match="Cannot merge"):
            merge_rows(
                [compress_rows(s), compress_rows(m, ("frequency", "recency", "T", "monetary"))]
            )
        with pytest.raises(InvalidInputError, match="at least one"):
            merge_rows([])
        with pytest.raises(InvalidInputError, match="no column 'monetary'"):
            compress_rows(s).column("monetary")

    @pytest.mark.parametrize("seed", [0, 1, 2])
    def test_a_row_merger_equals_merge_rows_in_any_arrival_order(self, multi_cohort, seed):
        """Parts added one by one, in a random order, merge to what merge_rows gives at once."""
        summary = _in_amount_order(multi_cohort).summarize("2024-01-01")
        cuts = np.array_split(np.random.default_rng(seed).permutation(len(summary)), 40)
        names = ("frequency", "recency", "T", "monetary")
        parts = [compress_rows(summary.take(np.sort(c)), names) for c in cuts]
        merger = RowMerger()
        for part in parts:
            merger.add(part)
        assert merger.parts == 40
        assert merger.result() == merge_rows(parts) == compress_rows(summary, names)

    @pytest.mark.parametrize("seed", [0, 1])
    def test_a_row_merger_of_grid_and_off_grid_parts_equals_merge_rows_bit_for_bit(
        self, multi_cohort, seed
    ):
        """Day-grid parts merged as integer keys, then off-grid ones: merge_rows, bit for bit."""
        summary = multi_cohort.summarize("2024-01-01")
        rng = np.random.default_rng(seed)
        cuts = np.array_split(rng.permutation(len(summary)), 30)
        parts = [compress_rows(summary.take(np.sort(c))) for c in cuts]
        # Off the day grid (and a duplicate of a grid row): these cannot be coded as keys.
        odd = CustomerSummary.from_arrays([0, 2, 1], [0.0, 1.0 / 3.0, 2.0], [1e-3, 5.0, 5.0])
        keyed_then_odd = [*parts[:20], compress_rows(odd), *parts[20:]]
        for order, as_keys in ((parts, True), (keyed_then_odd, False)):
            merger = RowMerger()
            for part in order:
                merger.add(part)
            merger._flush()
            assert isinstance(merger._merged, _KeyedRows) is as_keys
            got, want = merger.result(), merge_rows(order)
            assert np.array_equal(got.values.view(np.int64), want.values.view(np.int64))
            assert np.array_equal(got.weights, want.weights)

    def test_a_row_merger_refuses_mixed_parts_and_no_parts(self):
        """Parts on other columns are refused when added; an empty merger has no result."""
        s = CustomerSummary.from_arrays([1], [2.0], [5.0], monetary=[3.0])
        merger = RowMerger()
        with pytest.raises(InvalidInputError, match="at least one"):
            merger.result()
        merger.add(compress_rows(s))
        with pytest.raises(InvalidInputError, match="Cannot merge"):
            merger.add(compress_rows(s, ("frequency", "recency", "T", "monetary")))

    def test_compressed_rows_fit_bit_for_bit_without_recompressing(self, multi_cohort):
        """to_compressed gives the rows of summary.compress(); a fit on it equals the whole fit."""
        summary = multi_cohort.summarize("2024-01-01")
        compressed = compress_rows(summary).to_compressed()
        whole = summary.compress()
        for name in ("frequency", "recency", "T", "weights"):
            assert np.array_equal(getattr(compressed, name), getattr(whole, name)), name
        assert BGNBD().fit(compressed).params_ == BGNBD().fit(summary).params_
        with pytest.raises(InvalidInputError, match="not distinct on"):
            compress_rows(summary, ("frequency", "recency", "T", "monetary")).to_compressed()

    def test_rows_report_their_size(self):
        """n_customers and nbytes describe what the client holds."""
        s = CustomerSummary.from_arrays([1, 0, 1], [2.0, 0.0, 2.0], [5.0, 5.0, 5.0])
        rows = compress_rows(s)
        assert isinstance(rows, WeightedRows)
        assert (len(rows), rows.n_customers, rows.nbytes) == (2, 3.0, 2 * 3 * 8 + 2 * 8)


class TestBootstrapWeights:
    def test_resamples_have_n_customers_and_are_seeded(self, cdnow):
        """Each resample weighs N customers in all; the same seed gives the same resamples."""
        rows = compress_rows(cdnow.summarize(END))
        first = list(bootstrap_weights(rows, draws=5, seed=3))
        again = list(bootstrap_weights(rows, draws=5, seed=3))
        assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
        assert all(w.sum() == rows.n_customers for w in first)
        assert not np.array_equal(first[0], first[1])

    def test_row_counts_have_the_customer_bootstrap_moments(self, cdnow):
        """A row's count has the mean w and variance w(1 - w/N) of a summed customer resample."""
        rows = compress_rows(cdnow.summarize(END))
        counts = np.array(list(bootstrap_weights(rows, draws=2000, seed=4)))
        n, w = rows.n_customers, rows.weights
        big = np.argsort(w)[-5:]
        variance = w[big] * (1 - w[big] / n)
        standard_error = np.sqrt(variance / counts.shape[0])
        assert np.all(np.abs(counts[:, big].mean(axis=0) - w[big]) < 5 * standard_error)
        np.testing.assert_allclose(counts[:, big].var(axis=0), variance, rtol=0.15)

    def test_weights_must_be_whole_numbers(self):
        """Fractional weights are not counts of customers and are refused."""
        s = CustomerSummary.from_arrays([1], [2.0], [5.0], weights=[1.5])
        with pytest.raises(InvalidInputError, match="whole numbers"):
            next(bootstrap_weights(compress_rows(s), draws=1, seed=0))


class TestScore:
    def test_scores_of_batches_equal_scores_of_the_whole(self, cdnow):
        """A fitted CLV scorer gives each customer of a batch the single-process scores (1e-12).

        Probabilities, purchases and spend are bit-for-bit; the discounted CLV sum may differ in
        the last bit, depending on which other customers share the batch.
        """
        summary = cdnow.summarize(END)
        scorer = CLVScorer(horizon=12, unit="M").fit(summary)
        whole = scorer.score(summary)
        index = np.arange(0, len(summary), 7)
        part = score_frame(
            scorer, summary.take(index).to_frame("pyarrow"), unit="W", include_summary=True
        )
        assert part["customer_id"].tolist() == summary.customer_id[index].tolist()
        for name in ("probability_alive", "expected_purchases", "expected_spend", "clv_tier"):
            assert np.array_equal(part[name].to_numpy(), whole[name][index]), name
        np.testing.assert_allclose(part["clv"].to_numpy(), whole["clv"][index], rtol=1e-12, atol=0)
        assert part["monetary"].tolist() == summary.monetary[index].tolist()

    def test_a_list_of_scorers_is_joined(self, cdnow):
        """Several fitted scorers give one table with all their columns, in order."""
        summary = cdnow.summarize(END)
        table = score_summary([RFMScorer().fit(summary), CLVScorer().fit(summary)], summary)
        assert table.columns[:2] == ("recency_score", "frequency_score")
        assert "clv_tier" in table.columns

    def test_models_score_directly(self, cdnow):
        """A transaction model gives P(alive) and expected purchases; a spend model its spend."""
        summary = cdnow.summarize(END)
        model = BGNBD().fit(summary)
        table = score_summary(model, summary, horizon=10.0)
        assert np.array_equal(table["probability_alive"], model.probability_alive(summary))
        assert np.array_equal(table["expected_purchases"], model.expected_purchases(10.0, summary))
        assert score_summary(model, summary).columns == ("probability_alive",)
        spend = GammaGamma().fit(summary)
        assert np.array_equal(
            score_summary(spend, summary)["expected_spend"], spend.expected_spend(summary)
        )

    def test_model_intervals_equal_parameter_draws(self, cdnow):
        """Shared draws give each customer of a batch its interval on the whole summary."""
        summary = cdnow.summarize(END)
        model, spend = BGNBD().fit(summary), GammaGamma().fit(summary)
        draws = ParameterDraws.parametric(model, spend, draws=30, seed=5)
        index = np.arange(3, len(summary), 5)
        table = score_summary(model, summary.take(index), horizon=8.0, intervals=draws, level=0.8)
        alive = draws.probability_alive(summary, level=0.8)
        purchases = draws.expected_purchases(8.0, summary, level=0.8)
        assert table.columns[2:] == (
            "probability_alive_lower",
            "probability_alive_upper",
            "expected_purchases_lower",
            "expected_purchases_upper",
        )
        for name, band in (("probability_alive", alive), ("expected_purchases", purchases)):
            for end in ("lower", "upper"):
                np.testing.assert_allclose(
                    table[f"{name}_{end}"], getattr(band, end)[index], rtol=1e-12, atol=0
                )
        spent = score_summary(spend, summary, intervals=draws, level=0.8)
        assert np.array_equal(
            spent["expected_spend_upper"], draws.expected_spend(summary, level=0.8).upper
        )
        with pytest.raises(InvalidInputError, match="a scorer adds its own"):
            score_summary(CLVScorer().fit(summary), summary, intervals=draws)

    def test_unfitted_and_unknown_objects_are_refused(self, cdnow):
        """Scoring with an unfitted scorer or a non-scorer raises a relmark error."""
        summary = cdnow.summarize(END)
        with pytest.raises(NotFittedError):
            score_summary(CLVScorer(), summary)
        with pytest.raises(InvalidInputError, match="must be a fitted scorer"):
            score_summary(object(), summary)


class TestSummaryFromFrame:
    def test_round_trip_through_each_backend(self, multi_cohort):
        """to_frame then summary_from_frame gives the summary back (pandas, polars, pyarrow)."""
        summary = multi_cohort.split("2023-03-31", "2024-01-01")
        for backend in ("pandas", "polars", "pyarrow"):
            _assert_same(summary_from_frame(summary.to_frame(backend), unit="W"), summary)

    def test_missing_columns_are_named(self):
        """A batch without T is refused, naming the column."""
        with pytest.raises(InvalidInputError, match="'T'"):
            summary_from_frame({"customer_id": [1], "frequency": [0], "recency": [0.0]}, unit="W")
