"""Tests of `relmark score --engine dask` (relmark.cli._dask): same output as the local engine."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

pytest.importorskip("distributed")

from relmark.cli import main
from relmark.cli._dask import INTERVAL_COLUMNS, OUTPUT_COLUMNS
from relmark.datasets import load_cdnow


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 6,000 CDNOW customers in 5 files by time, and the same rows as one file."""
    log = load_cdnow()
    keep = np.flatnonzero(log.customer_id <= 6000)
    keep = keep[np.argsort(log.time[keep], kind="stable")]
    root = tmp_path_factory.mktemp("cli")
    (root / "logs").mkdir()
    for i, rows in enumerate(np.array_split(keep, 5)):
        table = pa.table(
            {
                "customer_id": log.customer_id[rows],
                "date": log.time[rows],
                "amount": log.amount[rows],
            }
        )
        pq.write_table(table, root / "logs" / f"day-{i}.parquet")
    whole = pa.table(
        {"customer_id": log.customer_id[keep], "date": log.time[keep], "amount": log.amount[keep]}
    )
    pq.write_table(whole, root / "all.parquet")
    return root


def test_a_glob_scored_on_the_cluster_equals_the_local_engine(client, logs, tmp_path, capsys):
    """--engine dask --scheduler: the columns and values of the local engine (1e-12), per customer."""
    address = client.scheduler.address
    out = tmp_path / "scores"
    argv = ["score", str(logs / "logs" / "*.parquet"), "-o", str(out), "--engine", "dask"]
    assert main([*argv, "--scheduler", address, "--quiet", "--horizon", "26"]) == 0
    assert "Scored 6,000 customers from 5 Parquet file(s)" in capsys.readouterr().out
    local_out = tmp_path / "local.parquet"
    assert (
        main(["score", str(logs / "all.parquet"), "-o", str(local_out), "-q", "--horizon", "26"])
        == 0
    )
    got = pq.read_table(out).to_pandas().sort_values("customer_id").reset_index(drop=True)
    want = pq.read_table(local_out).to_pandas()
    assert tuple(got.columns) == OUTPUT_COLUMNS
    assert list(want.columns) == list(OUTPUT_COLUMNS)
    for name in OUTPUT_COLUMNS:
        if want[name].dtype.kind == "f":
            np.testing.assert_allclose(got[name], want[name], rtol=1e-12, atol=0, err_msg=name)
        else:
            assert got[name].tolist() == want[name].tolist(), name


def test_interval_columns_equal_the_local_engine(client, logs, tmp_path):
    """--interval on the cluster: the local engine's interval columns and values (1e-12)."""
    out = tmp_path / "scores"
    argv = ["score", str(logs / "logs"), "-o", str(out), "--engine", "dask", "-q"]
    options = ["--interval", "0.8", "--horizon", "6"]
    assert main([*argv, *options, "--scheduler", client.scheduler.address]) == 0
    local_out = tmp_path / "local.parquet"
    assert main(["score", str(logs / "all.parquet"), "-o", str(local_out), "-q", *options]) == 0
    got = pq.read_table(out).to_pandas().sort_values("customer_id").reset_index(drop=True)
    want = pq.read_table(local_out).to_pandas()
    assert tuple(got.columns) == OUTPUT_COLUMNS + INTERVAL_COLUMNS
    assert list(want.columns) == list(got.columns)
    for name in INTERVAL_COLUMNS:
        np.testing.assert_allclose(got[name], want[name], rtol=1e-12, atol=0, err_msg=name)
    assert (got["clv_lower"] < got["clv_upper"]).mean() > 0.99
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())


def test_progress_is_reported_on_stderr(client, logs, tmp_path, capsys):
    """Without --quiet, the stages and Dask's progress bar go to stderr, not stdout."""
    out = tmp_path / "scores"
    argv = ["score", str(logs / "logs"), "-o", str(out), "--engine", "dask"]
    assert main([*argv, "--scheduler", client.scheduler.address]) == 0
    captured = capsys.readouterr()
    assert "summarizing (shuffle by customer)" in captured.err
    assert "100% Completed" in captured.err
    assert "Completed" not in captured.out


def test_a_local_cluster_is_started_by_default(logs, tmp_path):
    """Without --scheduler a LocalCluster sized to the machine runs the job and is closed."""
    out = tmp_path / "scores"
    argv = ["score", str(logs / "logs" / "day-[0-1].parquet"), "-o", str(out), "--engine", "dask"]
    assert main([*argv, "-q"]) == 0
    assert pq.read_table(out).num_rows > 0


def test_a_corrupt_file_fails_cleanly(client, logs, tmp_path, capsys):
    """A corrupt file: exit status 2, one line naming the file, no output directory."""
    folder = tmp_path / "logs"
    folder.mkdir()
    for path in sorted((logs / "logs").glob("*.parquet")):
        (folder / path.name).write_bytes(path.read_bytes())
    (folder / "day-3.parquet").write_bytes(b"not parquet at all")
    out = tmp_path / "scores"
    argv = ["score", str(folder), "-o", str(out), "--engine", "dask", "-q"]
    assert main([*argv, "--scheduler", client.scheduler.address]) == 2
    err = capsys.readouterr().err
    assert err.startswith("relmark: error: ")
    assert "day-3.parquet" in err
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["logs"]


def test_unsupported_options_are_refused(client, logs, tmp_path, capsys):
    """CSV output, an existing target, and --scheduler without dask are refused."""
    argv = ["score", str(logs / "logs"), "--engine", "dask", "-q"]
    assert main([*argv, "-o", str(tmp_path / "x"), "--format", "csv"]) == 2
    assert "Parquet" in capsys.readouterr().err
    assert main([*argv, "-o", str(tmp_path)]) == 2
    assert "exists" in capsys.readouterr().err
    local = ["score", str(logs / "all.parquet"), "-o", str(tmp_path / "y.csv")]
    assert main([*local, "--scheduler", "tcp://127.0.0.1:1"]) == 2
    assert "--scheduler needs --engine dask" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())
