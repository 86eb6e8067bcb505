"""Draw the figures the documentation embeds (run by hand; the PNGs are committed).

    .venv/bin/python scripts/make_docs_figures.py

Writes ``docs/assets/cdnow-tracking.png``: BG/NBD fitted on 39 weeks of CDNOW, tracking the
weekly cumulative repeat purchases of the whole base through a 39-week holdout.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib as mpl

mpl.use("Agg")

import matplotlib.pyplot as plt

import relmark
from relmark.clv import diagnostics
from relmark.datasets import load_cdnow
from relmark.plotting import plot_tracking

ASSETS = Path(__file__).resolve().parent.parent / "docs" / "assets"


def main() -> None:
    log = load_cdnow()
    summary = log.split("1997-09-30", "1998-06-30", period="D", unit="W")
    model = relmark.BGNBD().fit(summary)
    curves = diagnostics.tracking_curves(model, log, calibration_end="1997-09-30")
    fig, ax = plt.subplots(figsize=(8, 4.2), dpi=110)
    plot_tracking(curves, ax=ax)
    ax.set_title("CDNOW: BG/NBD fitted on 39 weeks, tracking the next 39 weeks")
    fig.tight_layout()
    ASSETS.mkdir(parents=True, exist_ok=True)
    out = ASSETS / "cdnow-tracking.png"
    fig.savefig(out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
