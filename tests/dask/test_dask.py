"""Tests of relmark.dask on a 2-process LocalCluster: equal to single-process relmark, robust, safe."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import attrs
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

import relmark.dask as rd  # noqa: E402
from relmark.clv import BGNBD, MBGNBD, GammaGamma  # noqa: E402
from relmark.clv.scorers import CLVScorer  # noqa: E402
from relmark.clv.uncertainty import ParameterDraws  # noqa: E402
from relmark.data import CustomerSummary, TransactionLog  # noqa: E402
from relmark.data.partition import (  # noqa: E402
    bootstrap_weights,
    compress_rows,
    summary_from_frame,
)
from relmark.data.summary import CompressedSummary  # noqa: E402
from relmark.datasets import load_cdnow, simulate_transaction_log  # noqa: E402
from relmark.errors import InvalidInputError, NotFittedError  # noqa: E402
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


def _kept(rows: CompressedSummary, counts: np.ndarray) -> CompressedSummary:
    """The rows drawn at least once, weighted by their counts (the one-machine refit data)."""
    kept = counts > 0
    return CompressedSummary(
        frequency=rows.frequency[kept],
        recency=rows.recency[kept],
        T=rows.T[kept],
        weights=counts[kept],
        inverse=np.arange(int(kept.sum())),
        unit=rows.unit,
    )


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


def test_a_checkpointed_summary_equals_single_process(client, cohort_log, cohort_files, tmp_path):
    """Summary on disk: same rows (string ids kept), same MBG/NBD fit, files where asked."""
    summary = rd.summarize(str(cohort_files), npartitions=4, **COLUMNS)
    saved = summary.checkpoint(tmp_path / "summary")
    assert len(list((tmp_path / "summary").glob("*.parquet"))) == 4
    assert saved.frame.dtypes.to_dict() == summary.frame.dtypes.to_dict()
    local = _read_all(cohort_files).summarize()
    _assert_equal(saved.compute(), local)
    assert _params(rd.fit(MBGNBD(), saved)).tolist() == _params(MBGNBD().fit(local)).tolist()
    with pytest.raises(InvalidInputError, match="exists"):
        summary.checkpoint(tmp_path / "summary")


def test_a_checkpoint_merges_the_transaction_rows_while_it_writes(client, cohort_files, tmp_path):
    """checkpoint() carries the merged (x, t_x, T) rows: equal to compressing the whole log."""
    summary = rd.summarize(str(cohort_files), npartitions=5, **COLUMNS)
    assert summary.transaction_rows is None
    saved = summary.checkpoint(tmp_path / "summary")
    local = _read_all(cohort_files).summarize()
    assert saved.transaction_rows is not None
    assert saved.transaction_rows == compress_rows(local)
    assert rd.compress(saved) is saved.transaction_rows
    assert saved.persist().transaction_rows is saved.transaction_rows
    assert not saved.transaction_rows.values.flags.writeable
    # Other columns are compressed from the files, as for any summary.
    names = ("frequency", "recency", "T", "monetary")
    assert rd.compress(saved, names) == compress_rows(local, names)
    fitted = rd.fit(BGNBD(), saved)
    assert _params(fitted).tolist() == _params(BGNBD().fit(local)).tolist()


def test_a_checkpoint_on_the_local_scheduler_merges_the_same_rows(cdnow_files, tmp_path):
    """Without a distributed client the checkpoint writes the same files and rows."""
    import dask

    local = {"scheduler": "synchronous", "dataframe.shuffle.method": "tasks"}
    with dask.config.set(local):
        summary = rd.summarize(str(cdnow_files), npartitions=3, **COLUMNS)
        saved = summary.checkpoint(tmp_path / "summary")
        assert saved.transaction_rows == compress_rows(_read_all(cdnow_files).summarize())
        _assert_equal(saved.compute(), _read_all(cdnow_files).summarize())
    assert len(list((tmp_path / "summary").glob("*.parquet"))) == 3


def test_a_failed_checkpoint_names_the_file_and_writes_nothing(client, cdnow_files, tmp_path):
    """A corrupt input during a checkpoint with a progress bar: error names it, no files left."""
    import io

    folder = tmp_path / "logs"
    folder.mkdir()
    for path in sorted(cdnow_files.glob("*.parquet")):
        (folder / path.name).write_bytes(path.read_bytes())
    (folder / "part-003.parquet").write_bytes(b"PAR1 not a parquet file either")
    summary = rd.summarize(str(folder), **COLUMNS)
    progress = io.StringIO()
    with pytest.raises(InvalidInputError, match=r"part-003\.parquet"):
        summary.checkpoint(tmp_path / "summary", progress_to=progress)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["logs"]
    good = rd.summarize(str(cdnow_files), **COLUMNS).checkpoint(
        tmp_path / "summary", progress_to=progress
    )
    assert "100% Completed" in progress.getvalue()
    assert good.transaction_rows == compress_rows(_read_all(cdnow_files).summarize())


def test_compressed_rows_do_not_depend_on_the_partitioning(client, cohort_files):
    """Rows merged in the client as partitions complete are the same for 3 or 11 partitions."""
    names = ("frequency", "recency", "T", "monetary")
    three = rd.compress(rd.summarize(str(cohort_files), npartitions=3, **COLUMNS), names)
    eleven = rd.compress(rd.summarize(str(cohort_files), npartitions=11, **COLUMNS), names)
    assert three == eleven
    assert three == compress_rows(_read_all(cohort_files).summarize(), names)


def test_the_local_scheduler_merges_the_same_rows(client, cdnow_files):
    """With Dask's local scheduler chosen instead of the cluster, the merged rows are the same."""
    import dask

    local = {"scheduler": "synchronous", "dataframe.shuffle.method": "tasks"}
    with dask.config.set(local):
        rows = rd.compress(rd.summarize(str(cdnow_files), npartitions=3, **COLUMNS))
    assert rows == compress_rows(_read_all(cdnow_files).summarize())


def test_parametric_intervals_equal_single_process(client, cdnow_files):
    """interval=: each customer's bounds are the single-process ParameterDraws bounds (1e-12)."""
    local = _read_all(cdnow_files).summarize()
    summary = rd.summarize(str(cdnow_files), npartitions=5, **COLUMNS)
    model = rd.fit(BGNBD(), summary)
    got = _sorted(rd.score(model, summary, horizon=20.0, interval=0.8, draws=40, seed=9).compute())
    draws = ParameterDraws.parametric(BGNBD().fit(local), draws=40, seed=9)
    alive = draws.probability_alive(local, level=0.8)
    purchases = draws.expected_purchases(20.0, local, level=0.8)
    assert got["customer_id"].tolist() == local.customer_id.tolist()
    for name, band in (("probability_alive", alive), ("expected_purchases", purchases)):
        for end in ("lower", "upper"):
            np.testing.assert_allclose(
                got[f"{name}_{end}"], getattr(band, end), rtol=1e-12, atol=0, err_msg=name
            )
    spend = rd.fit(GammaGamma(), summary)
    spent = _sorted(rd.score(spend, summary, interval=0.8, draws=40, seed=9).compute())
    reference = ParameterDraws.parametric(None, GammaGamma().fit(local), draws=40, seed=9)
    np.testing.assert_allclose(
        spent["expected_spend_lower"],
        reference.expected_spend(local, level=0.8).lower,
        rtol=1e-10,
        atol=0,
    )


def test_bootstrap_draws_do_not_depend_on_the_partitioning(client, cdnow_files):
    """Bootstrap refits on merged rows: the same draws for 2 or 7 partitions, and as on one
    machine with the same resamples of the compressed rows."""
    local = _read_all(cdnow_files).summarize()
    model = BGNBD().fit(local)
    two = rd.parameter_draws(
        model,
        rd.summarize(str(cdnow_files), npartitions=2, **COLUMNS),
        method="bootstrap",
        draws=4,
        seed=2,
    )
    seven = rd.parameter_draws(
        model,
        rd.summarize(str(cdnow_files), npartitions=7, **COLUMNS),
        method="bootstrap",
        draws=4,
        seed=2,
    )
    assert two == seven
    assert two.method == "bootstrap"
    rows = compress_rows(local)
    compressed = rows.to_compressed()
    for counts, drawn in zip(
        bootstrap_weights(rows, draws=4, seed=2), two.transaction_draws, strict=True
    ):
        refit = BGNBD().fit(
            attrs.evolve(compressed, weights=counts) if counts.all() else _kept(compressed, counts)
        )
        assert _params(refit).tolist() == drawn.tolist()


def test_bootstrap_intervals_are_close_to_the_customer_bootstrap(client, cdnow_files):
    """Resampling merged rows spreads the parameters as resampling customers does."""
    local = _read_all(cdnow_files).summarize()
    model = BGNBD().fit(local)
    summary = rd.summarize(str(cdnow_files), npartitions=3, **COLUMNS)
    ours = rd.parameter_draws(model, summary, method="bootstrap", draws=30, seed=4)
    theirs = ParameterDraws.bootstrap(model, local, draws=30, seed=5)
    spread = np.log(ours.transaction_draws).std(axis=0)
    reference = np.log(theirs.transaction_draws).std(axis=0)
    # 30 draws estimate a standard deviation to about 13 %: the ratio is within 0.5-2 unless
    # the two bootstraps differ.
    assert np.all((spread / reference > 0.5) & (spread / reference < 2.0)), (spread, reference)
    centre = np.log(ours.transaction_draws).mean(axis=0)
    assert np.all(np.abs(centre - np.log(_params(model))) < 3 * spread)


def test_interval_arguments_are_checked_at_once(client, cdnow_files):
    """A bad coverage, intervals without a coverage, a scorer or bootstrap without data fail."""
    summary = rd.summarize(str(cdnow_files), **COLUMNS)
    model = BGNBD.from_params(r=0.24, alpha=4.4, a=0.79, b=2.4, unit="W")
    with pytest.raises(InvalidInputError, match="coverage in"):
        rd.score(model, summary, interval=1.5)
    with pytest.raises(InvalidInputError, match="needs 'interval'"):
        rd.score(model, summary, intervals=object())  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="CLVScorer"):
        rd.parameter_draws(RFMScorer(), summary)
    with pytest.raises(InvalidInputError, match="finite covariance"):
        rd.score(model, summary, interval=0.9)
    fitted = BGNBD().fit(_read_all(cdnow_files).summarize())
    with pytest.raises(InvalidInputError, match="pass the DaskSummary"):
        rd.parameter_draws(fitted, method="bootstrap")
    with pytest.raises(InvalidInputError, match="'method'"):
        rd.parameter_draws(fitted, summary, method="jackknife")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="'draws'"):
        rd.parameter_draws(fitted, summary, method="bootstrap", draws=1)
    with pytest.raises(NotFittedError):
        rd.parameter_draws(BGNBD(), summary, method="bootstrap")


def test_the_default_end_comes_from_statistics_only_when_they_are_exact(cdnow_files, tmp_path):
    """Naive timestamps: the files' footers give the latest time; string times do not."""
    files = rd.parquet_files(cdnow_files)
    assert rd._latest_time(files, "ts") == _read_all(cdnow_files).time.max()
    text = tmp_path / "text.parquet"
    pq.write_table(pa.table({"cid": [1], "ts": ["1997-01-01"], "usd": [1.0]}), text)
    assert rd._latest_time([*files, str(text)], "ts") is None
    zoned = tmp_path / "zoned.parquet"
    stamps = pa.array([np.datetime64("1997-01-01", "us")]).cast(pa.timestamp("us", tz="UTC"))
    pq.write_table(pa.table({"cid": [1], "ts": stamps, "usd": [1.0]}), zoned)
    assert rd._latest_time([str(zoned)], "ts") is None


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
