"""Issue 14's speed targets: bootstrap and parametric prediction intervals, and a covariate fit.

- bootstrap, B = 200, on CDNOW (23,570 customers): resampled BG/NBD and Gamma-Gamma refits, then
  intervals for CET (52 weeks), P(alive) and 12-month CLV — target ≤ 10 s;
- parametric draws (200) for 1M multi-cohort customers: CET and P(alive) intervals — target ≤ 3 s;
  and, on the same customers, 12-month CLV intervals (BG/NBD and Gamma-Gamma draws; no target);
- BG/NBD and Pareto/NBD fits with one 5-level categorical covariate on 700k multi-cohort
  customers against the same fits without covariates — target ≤ 10×.

    .venv/bin/python benchmarks/bench_intervals.py --write-docs
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from _docs import write_section
from relmark.clv import BGNBD, GammaGamma, ParetoNBD
from relmark.clv.covariates import CovariateBGNBD, CovariateParetoNBD
from relmark.clv.uncertainty import ParameterDraws
from relmark.data import Covariates
from relmark.datasets import load_cdnow, simulate_transaction_log

PARAMS = {"r": 0.24, "alpha": 31.0, "a": 0.79, "b": 2.43}  # per day, CDNOW-like


def timed(run):
    start = time.perf_counter()
    value = run()
    return time.perf_counter() - start, value


SPEND = {"p": 6.25, "q": 3.74, "gamma": 15.44}  # CDNOW's Gamma-Gamma (Fader & Hardie 2013)


def multicohort(n: int, seed: int, spend=None):
    log = simulate_transaction_log(
        n, "bgnbd", PARAMS, start="2021-01-01", end="2023-12-31", seed=seed, unit="D", spend=spend
    )
    return log.summarize(period="D", unit="D")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--draws", type=int, default=200)
    parser.add_argument("--parametric-size", type=int, default=1_000_000)
    parser.add_argument("--covariate-size", type=int, default=700_000)
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    rows = []

    summary = load_cdnow().split("1997-09-30", "1998-06-30", period="D", unit="W")
    model, spend = BGNBD().fit(summary), GammaGamma().fit(summary)

    def bootstrap():
        draws = ParameterDraws.bootstrap(model, summary, spend, draws=args.draws, seed=1)
        draws.expected_purchases(52.0, summary)
        draws.probability_alive(summary)
        return draws.customer_lifetime_value(summary, horizon=12, unit="M", discount_rate=0.01)

    seconds, _ = timed(bootstrap)
    rows.append(
        (
            f"bootstrap B = {args.draws}: CET + P(alive) + CLV intervals",
            "CDNOW, 23,570",
            seconds,
            "≤ 10 s",
            seconds <= 10,
        )
    )

    # Parametric intervals: the fit compresses the summary once (cached on it, as in scoring);
    # the time covers the draws and both intervals, 364-day CET and P(alive), for every
    # customer. The machine is shared, so the CPU time and the load average are reported too.
    big = multicohort(args.parametric_size, 7, SPEND)
    fitted = BGNBD().fit(big)

    def parametric():
        draws = ParameterDraws.parametric(fitted, draws=args.draws, seed=1)
        draws.expected_purchases(364.0, big)
        return draws.probability_alive(big)

    load = os.getloadavg()[0]
    cpu = time.process_time()
    seconds, _ = timed(parametric)
    cpu = time.process_time() - cpu
    rows.append(
        (
            (
                f"parametric, {args.draws} draws: CET + P(alive) intervals "
                f"(CPU {cpu:.2f} s, load average {load:.1f} at start)"
            ),
            f"{len(big):,} multi-cohort ({len(big.compress()):,} distinct rows)",
            seconds,
            "≤ 3 s",
            seconds <= 3,
        )
    )

    # CLV intervals (12 months, 1 % a month) on the same customers, with a Gamma-Gamma fitted
    # on them: BG/NBD and spend draws, every customer's 200 CLVs and their percentiles.
    spend_model = GammaGamma().fit(big)

    def lifetime_value():
        draws = ParameterDraws.parametric(fitted, spend_model, draws=args.draws, seed=1)
        return draws.customer_lifetime_value(big, horizon=12, unit="M", discount_rate=0.01)

    load = os.getloadavg()[0]
    cpu = time.process_time()
    seconds, _ = timed(lifetime_value)
    cpu = time.process_time() - cpu
    rows.append(
        (
            (
                f"parametric, {args.draws} draws: 12-month CLV intervals "
                f"(CPU {cpu:.2f} s, load average {load:.1f} at start)"
            ),
            f"{len(big):,} multi-cohort",
            seconds,
            "—",
            True,
        )
    )

    cov_summary = multicohort(args.covariate_size, 11)
    channel = np.array(["web", "store", "app", "phone", "partner"])[
        np.random.default_rng(3).integers(0, 5, len(cov_summary))
    ]
    covariates = Covariates.from_columns(
        cov_summary.customer_id, {"channel": channel}, reference={"channel": "web"}
    )
    # The plain fit runs first and includes the summary's first compression; the covariate fit
    # includes a plain fit of its own (the likelihood-ratio test's restricted model).
    who = f"{len(cov_summary):,} multi-cohort"
    for name, plain_model, covariate_model in (
        ("BG/NBD", BGNBD, CovariateBGNBD),
        ("Pareto/NBD", ParetoNBD, CovariateParetoNBD),
    ):
        plain, _ = timed(lambda plain_model=plain_model: plain_model().fit(cov_summary))
        with_cov, cov_model = timed(
            lambda covariate_model=covariate_model: covariate_model().fit(cov_summary, covariates)
        )
        rows.append((f"{name} fit without covariates", who, plain, "—", True))
        rows.append(
            (
                f"{name} fit, one 5-level covariate ({cov_model.n_rows_:,} rows)",
                who,
                with_cov,
                f"≤ 10× ({with_cov / plain:.1f}×)",
                with_cov <= 10 * plain,
            )
        )

    table = (
        "| task | customers | relmark (s) | target | met |\n|---|---|---:|---|---|\n"
        + "\n".join(
            f"| {task} | {who} | {sec:.2f} | {target} | {'yes' if ok else 'no'} |"
            for task, who, sec, target, ok in rows
        )
    )
    print(table)
    if args.write_docs:
        command = ".venv/bin/python benchmarks/bench_intervals.py --write-docs"
        print(
            "wrote",
            write_section(
                "bench_intervals",
                "Prediction intervals and covariates",
                command,
                table,
                note="relmark alone (lifetimes has neither); times include the draws or refits and every interval evaluation.",
            ),
        )


if __name__ == "__main__":
    main()
