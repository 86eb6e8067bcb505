"""Every script in ``benchmarks/`` still runs end to end, at tiny sizes, without touching the docs.

The benchmarks are not tests (they take minutes), but they use the public API, so a refactor can
break them silently. Each test here runs one script as a subprocess at its smallest sizes, with
every comparison path it has (lifetimes is in the dev environment; lavaan only if R has it), and
checks the exit status, the script's own agreement checks, and that no documentation was written.

The scripts run from a copy of ``benchmarks/`` in a scratch root holding a copy of
``docs/performance.md`` (and a link to ``tests/`` for the SEM data): the scripts find the docs relative to their own file, so
a script that wrote its section without ``--write-docs`` changes the copy, which the test sees,
and never the published figures. The copies are byte-identical to the scripts under test.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "benchmarks"
TIMEOUT = 240.0
"""Seconds before a smoke run counts as hung (each takes a few seconds on an idle machine)."""


def _missing(*modules: str) -> bool:
    return any(importlib.util.find_spec(name) is None for name in modules)


def _needs(*modules: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(_missing(*modules), reason=f"needs {', '.join(modules)}")


def _snapshot(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.fixture
def scratch_root(tmp_path: Path) -> Path:
    """A root with copies of ``benchmarks/`` and ``docs/performance.md`` and a link to tests."""
    root = tmp_path / "root"
    shutil.copytree(BENCHMARKS, root / "benchmarks", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "docs").mkdir()
    shutil.copy2(ROOT / "docs" / "performance.md", root / "docs" / "performance.md")
    (root / "tests").symlink_to(ROOT / "tests", target_is_directory=True)
    return root


def _run(root: Path, args: list[str], *, script: str | None = None) -> str:
    """Run ``script`` (or ``python -c args[1]``) in ``root``; return stdout; check the docs."""
    assert "--write-docs" not in args
    docs_before = _snapshot(root / "docs")
    env = dict(os.environ)
    scratch = root.parent / "tmp"
    scratch.mkdir(exist_ok=True)
    env["TMPDIR"] = str(scratch)
    # A caller's PYTHONWARNINGS=error would turn lifetimes' deprecation noise into failures.
    env.pop("PYTHONWARNINGS", None)
    command = [sys.executable, *([str(root / "benchmarks" / script)] if script else []), *args]
    result = subprocess.run(
        command,
        cwd=root / "benchmarks",
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, (
        f"{' '.join(command)} exited with {result.returncode}\n"
        f"--- stdout (end)\n{result.stdout[-3000:]}\n--- stderr (end)\n{result.stderr[-5000:]}"
    )
    assert _snapshot(root / "docs") == docs_before, "the script wrote docs without --write-docs"
    assert "wrote " not in result.stdout
    assert "updated " not in result.stdout
    return result.stdout


def test_every_benchmark_has_a_smoke_test() -> None:
    """Each ``benchmarks/bench_*.py`` has a smoke test here, so a new script cannot go unguarded."""
    tests = [name for name in globals() if name.startswith("test_bench_")]
    unguarded = [
        path.name
        for path in sorted(BENCHMARKS.glob("bench_*.py"))
        if not any(
            name == f"test_{path.stem}" or name.startswith(f"test_{path.stem}_") for name in tests
        )
    ]
    assert unguarded == [], f"no smoke test in tests/test_benchmarks.py for {unguarded}"
    assert len(tests) >= 7


@_needs("lifetimes", "pandas")
def test_bench_bgnbd(scratch_root: Path) -> None:
    """bench_bgnbd fits and scores against lifetimes at 1,000 customers, parameters agreeing."""
    out = _run(scratch_root, ["--sizes", "1000", "--repeats", "1"], script="bench_bgnbd.py")
    assert "| fit | 1,000 |" in out
    assert "scoring: all three" in out
    assert "WARNING" not in out


@_needs("lifetimes", "pandas")
def test_bench_btyd2(scratch_root: Path) -> None:
    """bench_btyd2 runs Pareto/NBD, MBG/NBD and both BG/BB fits against lifetimes, tiny."""
    out = _run(
        scratch_root,
        ["--pareto-sizes", "500", "--mbgnbd-sizes", "500", "--bgbb-size", "500", "--repeats", "1"],
        script="bench_btyd2.py",
    )
    for label in ("Pareto/NBD fit", "MBG/NBD fit", "BG/BB fit (donations)", "BG/BB fit (12 opp"):
        assert f"| {label}" in out
    assert "WARNING" not in out


@_needs("lifetimes", "pandas")
def test_bench_summary(scratch_root: Path) -> None:
    """bench_summary --smoke summarizes 20,000 transactions equal to lifetimes' summary."""
    out = _run(
        scratch_root,
        ["--smoke", "--repeats", "1", "--lifetimes-repeats", "1"],
        script="bench_summary.py",
    )
    assert "| 20,000 | 2,000 |" in out


@_needs("lifetimes", "pandas")
def test_bench_summary_smoke_is_never_published(scratch_root: Path) -> None:
    """bench_summary refuses --smoke with --write-docs before running anything."""
    script = scratch_root / "benchmarks" / "bench_summary.py"
    result = subprocess.run(
        [sys.executable, str(script), "--smoke", "--write-docs"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode == 2
    assert "--smoke figures are not published" in result.stderr


@_needs("lifetimes", "pandas", "pyarrow")
def test_bench_multicohort(scratch_root: Path) -> None:
    """bench_multicohort runs every section (both sides, relmark alone, other fits, score)."""
    args = ["--sizes", "500", "--large", "500", "--pareto-size", "300"]
    # The flat-spend variant needs a few thousand customers: with fewer, q is not identified
    # (the maximum is at q = infinity) and relmark rightly refuses to report an optimum.
    args += ["--flat-size", "5000", "--score-size", "500", "--repeats", "1"]
    out = _run(scratch_root, args, script="bench_multicohort.py")
    assert "### 500 customers, side by side" in out
    assert "checks: all passed" in out
    assert "FAILED" not in out
    assert "DIFFER" not in out
    assert "### 500 customers, relmark alone" in out
    assert "| Pareto/NBD fit (" in out
    assert "| Gamma-Gamma fit, spend hardly varying (q = 1000) | 5,000 |" in out
    assert "### `relmark score` on the log as Parquet" in out
    assert "exit status" not in out


@_needs("pyarrow")
def test_bench_intervals(scratch_root: Path) -> None:
    """bench_intervals runs the bootstrap, parametric and covariate timings, tiny."""
    out = _run(
        scratch_root,
        ["--draws", "5", "--parametric-size", "2000", "--covariate-size", "3000"],
        script="bench_intervals.py",
    )
    assert "bootstrap B = 5" in out
    assert "Pareto/NBD fit, one 5-level covariate" in out


def test_bench_sem_relmark_side(scratch_root: Path) -> None:
    """bench_sem's relmark timing (the part that needs no R) fits the KMV SEM."""
    out = _run(scratch_root, ["--relmark-only", "--repeats", "1"], script="bench_sem.py")
    best, median, chi_square = json.loads(out.strip().splitlines()[-1])
    assert 0 < best <= median
    assert chi_square > 0


def test_bench_sem_without_r_says_so(scratch_root: Path) -> None:
    """bench_sem without Rscript on PATH stops with a message naming what to install."""
    env = dict(os.environ, PATH=str(Path(sys.executable).parent))
    result = subprocess.run(
        [sys.executable, str(scratch_root / "benchmarks" / "bench_sem.py"), "--repeats", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert result.returncode == 1
    assert "Rscript is not on PATH; install R and lavaan" in result.stderr
    assert "Traceback" not in result.stderr


def _skip_without_lavaan() -> None:
    rscript = shutil.which("Rscript")
    if rscript is None:
        pytest.skip("needs Rscript (R) with lavaan and jsonlite")
    check = "quit(status = !all(sapply(c('lavaan', 'jsonlite'), requireNamespace, quietly = TRUE)))"
    found = subprocess.run([rscript, "-e", check], capture_output=True, check=False, timeout=60)
    if found.returncode != 0:
        pytest.skip("needs the R packages lavaan and jsonlite")


def test_bench_sem_against_lavaan(scratch_root: Path) -> None:
    """bench_sem times lavaan and relmark on the same data (χ² agreeing) plus a tiny Monte Carlo."""
    _skip_without_lavaan()
    out = _run(
        scratch_root, ["--repeats", "1", "--monte-carlo", "1", "--n", "300"], script="bench_sem.py"
    )
    assert "relmark (one BLAS thread) best" in out
    assert "| latent SEM (fit_sem) |" in out


# bench_dask has no size below one 5M-transaction chunk; the run below shrinks the chunk through
# the module constant (the script reads it when it generates data) and runs main() unchanged.
DASK_SMOKE = """
import sys
import bench_dask

assert hasattr(bench_dask, "CHUNK_TRANSACTIONS"), "bench_dask.CHUNK_TRANSACTIONS is gone"
bench_dask.CHUNK_TRANSACTIONS = 20_000
sys.argv = ["bench_dask.py", "--sizes", "20000", "--rows-per-file", "5000", "--data", sys.argv[1]]
bench_dask.main()
"""


@_needs("dask", "distributed", "pyarrow", "psutil")
def test_bench_dask(scratch_root: Path, tmp_path: Path) -> None:
    """bench_dask runs single-process and on 1- and 2-worker clusters, parameters equal."""
    out = _run(scratch_root, ["-c", DASK_SMOKE, str(tmp_path / "data")])
    for mode in ("single process", "Dask, 1 worker(s)", "Dask, 2 worker(s)"):
        assert f"| {mode} |" in out
