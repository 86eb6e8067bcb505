"""Files the command line writes: never over its input, all or nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from relmark.cli import main
from relmark.cli._files import atomic_write, refuse_input_as_output
from relmark.cli._score import write_scores
from relmark.data.table import ColumnInfo, ColumnKind, ScoreTable
from relmark.errors import InvalidInputError

_CLV = {"clv": ColumnInfo(description="Customer lifetime value.", kind=ColumnKind.FLOAT)}


def _scores(clv: np.ndarray) -> ScoreTable:
    return ScoreTable.from_columns(np.arange(clv.size), {"clv": clv}, _CLV)


_LOG = "customer_id,date,amount\n" + "".join(
    f"{c},2024-0{m}-1{c % 10},{5 + c % 7}.5\n" for c in range(1, 40) for m in range(1, 1 + c % 4)
)


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


@pytest.mark.parametrize("spelling", ["same", "dotdot", "symlink", "hardlink"])
def test_output_that_is_the_input_is_refused(tmp_path: Path, spelling: str) -> None:
    """The input named again (as is, via sub/.., a symlink or a hard link) is never the output."""
    source = tmp_path / "in.csv"
    source.write_text(_LOG, encoding="utf-8")
    (tmp_path / "sub").mkdir()
    output = {
        "same": source,
        "dotdot": tmp_path / "sub" / ".." / "in.csv",
        "symlink": tmp_path / "link.csv",
        "hardlink": tmp_path / "hard.csv",
    }[spelling]
    if spelling == "symlink":
        output.symlink_to(source)
    if spelling == "hardlink":
        os.link(source, output)
    with pytest.raises(InvalidInputError, match="is the input file"):
        refuse_input_as_output([source], output, option="--output")


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_score_refuses_to_overwrite_its_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], suffix: str
) -> None:
    """`relmark score in -o in` (also as sub/../in) exits 2 and leaves the input byte for byte."""
    pytest.importorskip("pyarrow")
    source = tmp_path / f"in{suffix}"
    if suffix == ".csv":
        source.write_text(_LOG, encoding="utf-8")
    else:
        from pyarrow import csv, parquet

        (tmp_path / "log.csv").write_text(_LOG, encoding="utf-8")
        parquet.write_table(csv.read_csv(tmp_path / "log.csv"), source)
    before = source.read_bytes()
    (tmp_path / "sub").mkdir()
    for output in (source, tmp_path / "sub" / ".." / source.name):
        assert main(["score", str(source), "-o", str(output), "-q"]) == 2
        err = capsys.readouterr().err
        assert "is the input file" in err
        assert err.count("\n") == 1
    assert source.read_bytes() == before


def test_failed_write_leaves_the_old_file_untouched(tmp_path: Path) -> None:
    """A writer that raises half way leaves the existing file as it was and no temporary file."""
    target = tmp_path / "scores.csv"
    target.write_text("old,content\n1,2\n", encoding="utf-8")

    def half_then_fail(path: Path) -> None:
        path.write_text("new,cont", encoding="utf-8")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        atomic_write(target, half_then_fail)
    assert target.read_text(encoding="utf-8") == "old,content\n1,2\n"
    assert _leftovers(tmp_path) == []


def test_successful_write_replaces_the_whole_file(tmp_path: Path) -> None:
    """A complete write replaces the old content entirely and leaves no temporary file."""
    target = tmp_path / "scores.csv"
    target.write_text("x" * 1000, encoding="utf-8")
    atomic_write(target, lambda path: path.write_text("a\n1\n", encoding="utf-8"))
    assert target.read_text(encoding="utf-8") == "a\n1\n"
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("file_format", ["csv", "parquet"])
def test_write_scores_failing_midway_keeps_existing_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, file_format: str
) -> None:
    """A score file write that dies part way keeps the previous output whole (CSV and Parquet)."""
    pytest.importorskip("pyarrow")
    import pyarrow.csv
    import pyarrow.parquet

    target = tmp_path / f"scores.{file_format}"
    write_scores(_scores(np.linspace(0, 1, 5)), target, file_format)
    before = target.read_bytes()

    def broken(table: object, where: str, *args: object, **kwargs: object) -> None:
        Path(where).write_bytes(b"partial")
        raise OSError(27, "File too large")

    module = pyarrow.parquet if file_format == "parquet" else pyarrow.csv
    name = "write_table" if file_format == "parquet" else "write_csv"
    monkeypatch.setattr(module, name, broken)
    with pytest.raises(OSError, match="File too large"):
        write_scores(_scores(np.ones(9)), target, file_format)
    assert target.read_bytes() == before
    assert _leftovers(tmp_path) == []


@pytest.mark.skipif(sys.platform == "win32", reason="resource limits are POSIX")
def test_file_size_limit_in_a_real_process_keeps_the_old_output(tmp_path: Path) -> None:
    """Under RLIMIT_FSIZE the command fails with exit 2 and the old output file survives whole."""
    pytest.importorskip("pyarrow")
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    source.write_text(_LOG, encoding="utf-8")
    target.write_text("previous,scores\n", encoding="utf-8")
    script = textwrap.dedent(
        f"""
        import resource, signal, sys
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # fail the write with EFBIG, not a signal
        resource.setrlimit(resource.RLIMIT_FSIZE, (600, 600))
        from relmark.cli import main
        sys.exit(main(["score", {str(source)!r}, "-o", {str(target)!r}, "-q"]))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("relmark: error: ")
    assert target.read_text(encoding="utf-8") == "previous,scores\n"
    assert _leftovers(tmp_path) == []


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")
def test_replaced_file_keeps_its_permissions(tmp_path: Path) -> None:
    """A private output file (0600) stays private when it is replaced."""
    target = tmp_path / "scores.csv"
    target.write_text("old\n", encoding="utf-8")
    target.chmod(0o600)
    atomic_write(target, lambda path: path.write_text("new\n", encoding="utf-8"))
    assert target.stat().st_mode & 0o777 == 0o600
    assert target.read_text(encoding="utf-8") == "new\n"
