"""The KMV model as a latent SEM: relmark's ``fit_sem`` against lavaan, same data, same machine.

Times the KMV model (12 constructs, 38 items, 13 paths, uncorrelated disturbances) by maximum
likelihood on ``tests/trust/data/latent_kmv.csv`` (1,000 respondents drawn from a known latent
KMV model, the file the lavaan oracle tests use):

- relmark: ``fit_sem(kmv_model(), data)``, which includes the standard errors, the
  standardized solution with its delta-method standard errors, R² and every fit index;
- lavaan: ``sem()`` with ``estimator = "ML"``, expected information, the same model (disturbance
  covariances fixed to 0), timed *inside* one R session (``system.time`` around each call, after
  a warm-up call), so R's start-up and package loading are excluded.

Both sides report the best and the median of several runs; the script checks in the same run
that the χ² of the two fits agrees to 1e-3. R's reference BLAS runs on one thread; relmark is
timed twice in fresh interpreters, with numpy's default BLAS threads and with one BLAS thread
(``OPENBLAS_NUM_THREADS=1``), because on a small shared machine a multi-threaded BLAS loses
more to contention than it gains on 38 × 38 matrices. With ``--monte-carlo`` it also repeats the Monte Carlo of issue 19
(replications from the true model, N respondents each) for the latent SEM, OLS on composite
scores and the disattenuated composite model. With ``--write-docs`` the table replaces this
script's section of ``docs/performance.md`` (between its marker comments).
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import attrs
import numpy as np

from _docs import ROOT, write_section
from relmark.trust import (
    compare_with_rival,
    default_kmv_instrument,
    fit_disattenuated_path_model,
    fit_sem,
    kmv_model,
    kmv_rival_model,
    likelihood_ratio_test,
    score_constructs,
    simulate_items,
)

DATA = ROOT / "tests" / "trust" / "data"
NOTE = (
    "The KMV model by ML on the 1,000 respondents of `tests/trust/data/latent_kmv.csv`. lavaan "
    "is timed inside one R session (after a warm-up call, so R's start-up is excluded); relmark "
    "in fresh interpreters, with numpy's default BLAS threads and with one BLAS thread, and its "
    "time includes the standard errors, the standardized solution and every fit index. The "
    "machine is shared with other work, so absolute times vary by a factor of about two between "
    "runs; R's reference BLAS uses one thread, which makes the one-thread row the like-for-like "
    "comparison. The Monte Carlo repeats the study of issue 19 with relmark's estimators."
)

R_SCRIPT = r"""
suppressPackageStartupMessages(library(lavaan))
args <- commandArgs(trailingOnly = TRUE)
spec <- jsonlite::fromJSON(args[1], simplifyVector = FALSE)
d <- read.csv(args[2], check.names = FALSE)
for (code in unlist(spec$reverse_keyed)) d[[code]] <- -d[[code]]
m <- spec$models[[1]]
lines <- character()
for (x in m$measurement) lines <- c(lines, paste0(x[[1]], " =~ ", paste(unlist(x[[2]]), collapse = " + ")))
targets <- unique(vapply(m$paths, function(p) p[[2]], ""))
for (t in targets) {
  s <- vapply(Filter(function(p) p[[2]] == t, m$paths), function(p) p[[1]], "")
  lines <- c(lines, paste0(t, " ~ ", paste(s, collapse = " + ")))
}
endo <- unlist(m$endogenous)
for (i in 1:(length(endo) - 1)) for (j in (i + 1):length(endo))
  lines <- c(lines, paste0(endo[i], " ~~ 0*", endo[j]))
model <- paste(lines, collapse = "\n")
run <- function() sem(model, data = d, estimator = "ML", information = "expected")
fit <- run()
repeats <- as.integer(args[3])
times <- vapply(seq_len(repeats), function(i) system.time(run())[["elapsed"]], 0)
cat(sprintf('{"seconds": [%s], "chisq": %.10f, "version": "%s"}\n',
            paste(times, collapse = ", "), fitMeasures(fit, "chisq"), packageVersion("lavaan")))
"""


def read_csv(path: Path) -> dict[str, np.ndarray]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    return {code: np.array([float(r[i]) for r in rows[1:]]) for i, code in enumerate(rows[0])}


def lavaan_times(repeats: int) -> tuple[float, float, float, str]:
    """Best and median seconds of lavaan's sem() in one R session, its χ² and version."""
    if shutil.which("Rscript") is None:
        raise SystemExit("Rscript is not on PATH; install R and lavaan to run this benchmark.")
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "bench.R"
        script.write_text(R_SCRIPT, encoding="utf-8")
        try:
            out = subprocess.run(
                [
                    "Rscript",
                    str(script),
                    str(DATA / "sem_models.json"),
                    str(DATA / "latent_kmv.csv"),
                    str(repeats),
                ],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        except subprocess.CalledProcessError as error:
            raise SystemExit(
                f"Rscript failed with exit status {error.returncode}; this benchmark needs the R "
                f"packages lavaan and jsonlite. R said:\n{error.stderr.strip()}"
            ) from error
    result = json.loads(out.strip().splitlines()[-1])
    seconds = np.array(result["seconds"], dtype=float)
    return (
        float(seconds.min()),
        float(np.median(seconds)),
        float(result["chisq"]),
        result["version"],
    )


def relmark_times(repeats: int) -> tuple[float, float, float]:
    """Best and median seconds of ``fit_sem`` on the benchmark data, and its χ²."""
    data = read_csv(DATA / "latent_kmv.csv")
    spec = kmv_model()
    fit_sem(spec, data, warn=False)  # warm-up: imports, caches
    times = []
    chisq = float("nan")
    for _ in range(repeats):
        start = time.perf_counter()
        result = fit_sem(spec, data, warn=False)
        times.append(time.perf_counter() - start)
        chisq = result.fit.chi_square
    return min(times), float(np.median(times)), chisq


def relmark_in_subprocess(repeats: int, blas_threads: str | None) -> tuple[float, float, float]:
    """:func:`relmark_times` in a fresh interpreter, optionally with one BLAS thread."""
    env = dict(os.environ)
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        env.pop(name, None)
    if blas_threads is not None:
        env.update(OPENBLAS_NUM_THREADS=blas_threads, OMP_NUM_THREADS=blas_threads)
    out = subprocess.run(
        [sys.executable, __file__, "--relmark-only", "--repeats", str(repeats)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).parent,
    ).stdout
    best, median, chisq = json.loads(out.strip().splitlines()[-1])
    return float(best), float(median), float(chisq)


def bench(repeats: int) -> str:
    """Time lavaan and relmark (default BLAS threads and one thread) on the same data."""
    theirs_best, theirs_median, chisq, version = lavaan_times(repeats)
    header = (
        "| KMV SEM, N = 1,000, 38 items, 99 parameters | best (s) | median (s) "
        "| lavaan ÷ relmark (best / median) | χ² − lavaan's |"
    )
    lavaan_row = (
        f"| lavaan {version} `sem()` (R, reference BLAS: one thread) | {theirs_best:.3f} "
        f"| {theirs_median:.3f} | | |"
    )
    rows = [header, "|---|---:|---:|---:|---:|", lavaan_row]
    for label, threads in (("default BLAS threads", None), ("one BLAS thread", "1")):
        best, median, ours_chisq = relmark_in_subprocess(repeats, threads)
        gap = abs(ours_chisq - chisq)
        if gap > 1e-3:
            raise SystemExit(f"chi-square differs from lavaan's by {gap:.2e}; not comparable")
        print(
            f"relmark ({label}) best {best:.4f}s median {median:.4f}s; lavaan best "
            f"{theirs_best:.3f}s median {theirs_median:.3f}s; ratio {theirs_best / best:.1f}x "
            f"best, {theirs_median / median:.1f}x median; chi-square difference {gap:.1e}"
        )
        rows.append(
            f"| relmark `fit_sem` ({label}) | {best:.4f} | {median:.4f} | "
            f"{theirs_best / best:.1f}× / {theirs_median / median:.1f}× | {gap:.1e} |"
        )
    return "\n".join(rows)


def _oracle_module() -> object:
    spec = importlib.util.spec_from_file_location(
        "_oracle_data", ROOT / "tests" / "trust" / "_oracle_data.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def monte_carlo(replications: int, n: int) -> str:
    """Bias, coverage and false rival rejections: latent SEM vs composites vs disattenuated."""
    oracle = _oracle_module()
    true_paths = oracle.TRUE_PATHS  # type: ignore[attr-defined]
    spec, rival = kmv_model(), kmv_rival_model()
    kmv = default_kmv_instrument()
    wide = attrs.evolve(
        kmv,
        constructs=[
            attrs.evolve(c, items=[attrs.evolve(i, scale_min=-1e6, scale_max=1e6) for i in c.items])
            for c in kmv.constructs
        ],
    )
    loadings = oracle.true_loadings(spec)  # type: ignore[attr-defined]
    truth = np.array([true_paths[(p.source, p.target)] for p in spec.paths])
    est = {k: np.empty((replications, truth.size)) for k in ("sem", "ols", "dis")}
    cover = {k: np.empty((replications, truth.size), dtype=bool) for k in ("sem", "ols")}
    reject = {k: np.empty(replications, dtype=bool) for k in ("sem", "ols")}
    for r in range(replications):
        data = simulate_items(spec, n, loadings=loadings, paths=true_paths, seed=90_000 + r)
        fit = fit_sem(spec, data, identification="unit_variance", warn=False)
        est["sem"][r] = [p.std_estimate for p in fit.paths]
        se = np.array([p.std_standard_error for p in fit.paths])
        cover["sem"][r] = np.abs(est["sem"][r] - truth) <= 1.959964 * se
        reject["sem"][r] = (
            likelihood_ratio_test(fit, fit_sem(rival, data, warn=False)).p_value < 0.05
        )
        comparison = compare_with_rival(score_constructs(wide, data), kmv)
        est["ols"][r] = [p.coefficient for p in comparison.model.paths]
        ols_se = np.array([p.standard_error for p in comparison.model.paths])
        cover["ols"][r] = np.abs(est["ols"][r] - truth) <= 1.959964 * ols_se
        reject["ols"][r] = comparison.lr_p_value < 0.05
        dis = fit_disattenuated_path_model(wide, data, n_bootstrap=20, seed=r)
        est["dis"][r] = [p.coefficient for p in dis.paths]
    rows = [
        "| estimator | mean \\|relative bias\\| (max) | 95 % CI coverage | true KMV rejected by the rival test |",
        "|---|---:|---:|---:|",
    ]
    labels = {
        "sem": "latent SEM (fit_sem)",
        "ols": "OLS on composites (fit_path_model)",
        "dis": "disattenuated composites",
    }
    for key, label in labels.items():
        bias = np.abs(est[key].mean(axis=0) / truth - 1.0)
        coverage = f"{cover[key].mean():.3f}" if key in cover else "—"
        rejected = f"{reject[key].mean():.2f}" if key in reject else "—"
        rows.append(f"| {label} | {bias.mean():.1%} ({bias.max():.1%}) | {coverage} | {rejected} |")
    table = "\n".join(rows)
    print(f"Monte Carlo, {replications} replications of N = {n:,}:\n{table}")
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--monte-carlo", type=int, default=0, metavar="REPLICATIONS")
    parser.add_argument("--n", type=int, default=1000, help="respondents per Monte Carlo sample")
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument("--relmark-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.relmark_only:
        print(json.dumps(relmark_times(args.repeats)))
        return
    table = bench(args.repeats)
    command = f"python benchmarks/bench_sem.py --repeats {args.repeats}"
    if args.monte_carlo:
        mc = monte_carlo(args.monte_carlo, args.n)
        table += (
            f"\n\nMonte Carlo from the known latent KMV model ({args.monte_carlo} replications "
            f"of N = {args.n:,}; standardized paths; the disattenuated model's bootstrap is not "
            "used for coverage here):\n\n" + mc
        )
        command += f" --monte-carlo {args.monte_carlo} --n {args.n}"
    if args.write_docs:
        path = write_section(
            "bench_sem", "Commitment–trust SEM", command + " --write-docs", table, note=NOTE
        )
        print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
