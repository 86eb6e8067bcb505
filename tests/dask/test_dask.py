"""Tests of relmark.dask on a 2-process LocalCluster: equal to single-process relmark, robust, safe."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

import relmark.dask as rd  # noqa: E402
from relmark.clv import BGNBD, MBGNBD  # noqa: E402
from relmark.clv.scorers import CLVScorer  # noqa: E402
from relmark.data import CustomerSummary, TransactionLog  # noqa: E402
from relmark.data.partition import summary_from_frame  # noqa: E402
from relmark.datasets import load_cdnow, simulate_transaction_log  # noqa: E402
from relmark.errors import InvalidInputError  # noqa: E402
from relmark.rfm import RFMScorer  # noqa: E402

COLUMNS = {"customer": "cid", "time": "ts", "amount": "usd"}
_FIELDS = (
    "customer_id",
    "frequency",
    "recency",
    "T",
    "monetary",
    "frequency_holdout",
    "monetary_holdout",
    "duration_holdout",
)


def _write(log: TransactionLog, rows_per_file: list[np.ndarray], folder: Path) -> Path:
    folder.mkdir()
    ids = log.customer_id.astype(str) if log.customer_id.dtype == object else log.customer_id
    for i, rows in enumerate(rows_per_file):
        table = pa.table({"cid": ids[rows], "ts": log.time[rows], "usd": log.amount[rows]})
        pq.write_table(table, folder / f"part-{i:03d}.parquet")
    return folder


def _read_all(folder: Path) -> TransactionLog:
    """The single-process reference: every file concatenated, in file order."""
    table = pa.concat_tables(pq.read_table(p) for p in sorted(folder.glob("*.parquet")))
    return TransactionLog.from_frame(table, customer="cid", time="ts", amount="usd")


@pytest.fixture(scope="module")
def cdnow_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """CDNOW in 8 files in time order: most customers' purchases span several files."""
    log = load_cdnow()
    rows = np.array_split(np.argsort(log.time, kind="stable"), 8)
    return _write(log, rows, tmp_path_factory.mktemp("cdnow") / "logs")


@pytest.fixture(scope="module")
def cohort_log() -> TransactionLog:
    """Two years of acquisition, three of observation; string ids; 20,000 customers."""
    log = simulate_transaction_log(
        20_000,
        "bgnbd",
        {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
        start="2021-01-01",
        end="2024-01-01",
        acquisition_end="2023-01-01",
        spend={"p": 6.25, "q": 3.74, "gamma": 15.44},
        seed=13,
    )
    ids = np.array([f"c{i:06d}" for i in log.customer_id.tolist()], dtype=object)
    return TransactionLog.from_arrays(ids, log.time, log.amount)


@pytest.fixture(scope="module")
def cohort_files(cohort_log: TransactionLog, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The cohort log's rows in random order over 12 files: nearly every customer crosses files."""
    rng = np.random.default_rng(2)
    rows = np.array_split(rng.permutation(len(cohort_log)), 12)
    return _write(cohort_log, rows, tmp_path_factory.mktemp("cohorts") / "logs")


def _assert_equal(got: CustomerSummary, want: CustomerSummary) -> None:
    """Equal summaries, bit for bit: Dask's shuffle keeps each customer's rows in file order."""
    for name in _FIELDS:
        x, y = getattr(got, name), getattr(want, name)
        assert (x is None) == (y is None), name
        if x is not None:
            assert np.array_equal(x, y), name


def _params(model: object) -> np.ndarray:
    record = model.params_  # type: ignore[attr-defined]
    return np.array([getattr(record, n) for n in type(model).parameter_names()])  # type: ignore[attr-defined]


def _sorted(frame: object) -> object:
    return frame.sort_values("customer_id").reset_index(drop=True)  # type: ignore[attr-defined]


def test_cdnow_summary_and_bgnbd_fit_equal_single_process(client, cdnow_files):
    """CDNOW over 8 files: same summary as one process, and BG/NBD parameters bit for bit."""
    reference = _read_all(cdnow_files)
    summary = rd.summarize(str(cdnow_files / "*.parquet"), **COLUMNS).persist()
    local = reference.summarize()
    _assert_equal(summary.compute(), local)
    fitted = rd.fit(BGNBD(), summary)
    assert _params(fitted).tolist() == _params(BGNBD().fit(local)).tolist()
    assert fitted.fit_.n_observations == len(local)


def test_cdnow_scores_equal_single_process(client, cdnow_files):
    """RFM + CLV scores per customer equal the single-process ones to 1e-12, tiers exactly."""
    local = _read_all(cdnow_files).summarize("1998-06-30")
    summary = rd.summarize(str(cdnow_files), observation_end="1998-06-30", **COLUMNS).persist()
    rfm, clv = rd.fit(RFMScorer(), summary), rd.fit(CLVScorer(horizon=12, unit="M"), summary)
    rfm_local, clv_local = RFMScorer().fit(local), CLVScorer(horizon=12, unit="M").fit(local)
    assert rfm.thresholds_ == rfm_local.thresholds_
    np.testing.assert_allclose(
        _params(clv.spend_model_), _params(clv_local.spend_model_), rtol=1e-10
    )
    assert (
        _params(clv.transaction_model_).tolist() == _params(clv_local.transaction_model_).tolist()
    )
    got = _sorted(rd.score([rfm, clv], summary, include_summary=True).compute())
    want = rfm_local.score(local).join(clv_local.score(local))
    assert got["customer_id"].tolist() == local.customer_id.tolist()
    for name in want.columns:
        if want[name].dtype.kind == "f":
            np.testing.assert_allclose(got[name], want[name], rtol=1e-12, atol=0, err_msg=name)
        else:
            assert got[name].tolist() == want[name].tolist(), name


def test_multi_cohort_split_fit_and_score_equal_single_process(client, cohort_log, cohort_files):
    """12 shuffled files, string ids: split, MBG/NBD fit and scores equal one process."""
    local = _read_all(cohort_files).split("2023-03-31", "2024-01-01")
    summary = rd.split(
        str(cohort_files / "*.parquet"), "2023-03-31", "2024-01-01", npartitions=5, **COLUMNS
    ).persist()
    assert summary.frame.npartitions == 5
    _assert_equal(summary.compute(), local)
    fitted = rd.fit(MBGNBD(), summary)
    reference = MBGNBD().fit(local)
    assert _params(fitted).tolist() == _params(reference).tolist()
    got = _sorted(rd.score(fitted, summary, horizon=26.0).compute())
    assert got["customer_id"].tolist() == local.customer_id.tolist()
    np.testing.assert_allclose(
        got["expected_purchases"], reference.expected_purchases(26.0, local), rtol=1e-12, atol=0
    )
    np.testing.assert_allclose(
        got["probability_alive"], reference.probability_alive(local), rtol=1e-12, atol=0
    )


def test_the_task_based_shuffle_gives_the_same_summary(client, cohort_files):
    """With Dask's task-based shuffle instead of P2P the summary is the same, bit for bit."""
    import dask

    with dask.config.set({"dataframe.shuffle.method": "tasks"}):
        got = rd.summarize(str(cohort_files), **COLUMNS).compute()
    _assert_equal(got, _read_all(cohort_files).summarize())


def test_a_dask_dataframe_source_equals_the_files(client, cdnow_files):
    """A Dask DataFrame (any partitioning) gives the summary the files give."""
    table = pa.concat_tables(pq.read_table(p) for p in sorted(cdnow_files.glob("*.parquet")))
    frame = dd.from_pandas(table.to_pandas(), npartitions=3)
    got = rd.summarize(frame, **COLUMNS).compute()
    _assert_equal(got, _read_all(cdnow_files).summarize())


def test_a_killed_worker_does_not_change_the_result(client, cohort_log, cohort_files):
    """A worker process killed mid-computation: Dask recomputes its tasks; the result is equal."""
    summary = rd.summarize(str(cohort_files / "*.parquet"), **COLUMNS)
    pids = client.run(os.getpid)
    future = client.compute(summary.frame)
    victim, in_flight = None, ()
    deadline = time.monotonic() + 30
    while victim is None and time.monotonic() < deadline and not future.done():
        busy = {w: tasks for w, tasks in client.processing().items() if tasks}
        if busy:
            victim, in_flight = next(iter(busy.items()))
        else:
            time.sleep(0.005)
    assert victim is not None, "the computation finished before a worker could be killed"
    assert in_flight, "the victim had no task in flight"
    os.kill(pids[victim], signal.SIGKILL)
    result = future.result(timeout=120)
    got = summary_from_frame(result, unit="W")
    got = got.take(np.argsort(got.customer_id, kind="stable"))
    _assert_equal(got, _read_all(cohort_files).summarize())
    client.wait_for_workers(2, timeout=60)
    assert victim not in client.scheduler_info()["workers"]


def test_a_corrupt_file_is_named_and_nothing_is_written(client, cdnow_files, tmp_path):
    """Garbage in one file: the error names it, and the output directory is never created."""
    folder = tmp_path / "logs"
    folder.mkdir()
    for path in sorted(cdnow_files.glob("*.parquet")):
        (folder / path.name).write_bytes(path.read_bytes())
    bad = folder / "part-005.parquet"
    bad.write_bytes(b"PAR1 this is not a parquet file")
    summary = rd.summarize(str(folder / "*.parquet"), **COLUMNS)
    scorer = BGNBD.from_params(r=0.24, alpha=4.4, a=0.79, b=2.4, unit="W")
    out = tmp_path / "scores"
    with pytest.raises(InvalidInputError, match=r"part-005\.parquet"):
        rd.to_parquet(rd.score(scorer, summary, horizon=10.0), out)
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["logs"]
    with pytest.raises(InvalidInputError, match=r"part-005\.parquet"):
        rd.fit(BGNBD(), summary)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            pa.table({"cid": ["x1"], "ts": [np.datetime64("1997-03-01", "us")], "usd": [1.0]}),
            r"part-002\.parquet: customer ids .* strs, but the first file's are ints",
        ),
        (
            pa.table({"cid": [1], "ts": [np.datetime64("1997-03-01", "us")], "dollars": [1.0]}),
            r"part-002\.parquet: cannot be read .*usd",
        ),
        (
            pa.table({"cid": [1], "ts": ["first of March"], "usd": [1.0]}),
            r"part-002\.parquet: .*'ts'",
        ),
    ],
    ids=["string-ids", "missing-column", "unparseable-time"],
)
def test_a_schema_mismatch_is_named(client, cdnow_files, tmp_path, table, message):
    """A file whose schema differs from the others gets a relmark error naming the file."""
    folder = tmp_path / "logs"
    folder.mkdir()
    for path in sorted(cdnow_files.glob("*.parquet"))[:4]:
        (folder / path.name).write_bytes(path.read_bytes())
    pq.write_table(table, folder / "part-002.parquet")
    out = tmp_path / "out"
    summary = rd.summarize(str(folder), **COLUMNS)
    with pytest.raises(InvalidInputError, match=message):
        rd.to_parquet(summary.frame, out)
    assert not out.exists()


def test_to_parquet_writes_one_row_per_customer(client, cdnow_files, tmp_path):
    """Scores written as Parquet read back with one row per customer; an existing target is kept."""
    summary = rd.summarize(str(cdnow_files), **COLUMNS)
    fitted = rd.fit(BGNBD(), summary)
    out = rd.to_parquet(rd.score(fitted, summary), tmp_path / "scores")
    written = pq.read_table(out).to_pandas()
    assert written["customer_id"].is_unique
    assert len(written) == 23570
    with pytest.raises(InvalidInputError, match="exists"):
        rd.to_parquet(rd.score(fitted, summary), out)


def test_sources_name_files_in_several_ways(cdnow_files):
    """A glob, a directory and a list of files name the same sorted files."""
    files = sorted(str(p) for p in cdnow_files.glob("*.parquet"))
    assert rd.parquet_files(str(cdnow_files / "*.parquet")) == files
    assert rd.parquet_files(cdnow_files) == files
    assert rd.parquet_files(files[::-1]) == files[::-1]
    with pytest.raises(InvalidInputError, match="the list given"):
        rd.parquet_files([])


def test_bad_arguments_are_refused(client, cdnow_files):
    """No matching file, an RFM tie policy needing ids, and a missing column raise clearly."""
    with pytest.raises(InvalidInputError, match="No Parquet files match"):
        rd.summarize(str(cdnow_files / "*.csv"), **COLUMNS)
    summary = rd.summarize(str(cdnow_files), customer="cid", time="ts")
    with pytest.raises(InvalidInputError, match="ties='first'"):
        rd.fit(RFMScorer(ties="first"), summary)
    with pytest.raises(InvalidInputError, match=r"no column\(s\) \['monetary'\]"):
        rd.compress(summary, ("frequency", "recency", "T", "monetary"))
    with pytest.raises(InvalidInputError, match=r"no column\(s\) \['who'\]"):
        rd.summarize(str(cdnow_files), customer="who", time="ts")
