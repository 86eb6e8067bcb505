"""A polars-only environment runs the quickstart end to end: pandas is never required."""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import importlib.util
    import sys

    # A None entry makes `import pandas` fail and find_spec("pandas") report it missing,
    # exactly as in an environment where pandas is not installed.
    sys.modules["pandas"] = None
    assert importlib.util.find_spec("pandas") is None

    import polars as pl
    import relmark
    from relmark.datasets import load_cdnow

    log = load_cdnow()
    frame = pl.DataFrame(
        {"id": log.customer_id, "when": log.time, "amount": log.amount}
    )
    log = relmark.TransactionLog.from_frame(frame, customer="id", time="when", amount="amount")
    summary = log.split("1997-09-30", "1998-06-30", period="D", unit="W")
    purchases = relmark.BGNBD().fit(summary)
    spend = relmark.GammaGamma().fit(summary)
    scores = relmark.score(summary, [relmark.RFMScorer(), relmark.CLVScorer(horizon=12, unit="M", discount_rate=0.01)])
    out = scores.to_frame()
    assert isinstance(out, pl.DataFrame), type(out)
    assert sys.modules["pandas"] is None
    print(len(out), out.columns[:3])
    """
)


def test_quickstart_runs_without_pandas():
    """Reading, fitting, scoring and to_frame() work with pandas import blocked."""
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.startswith("23570")
