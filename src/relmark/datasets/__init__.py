"""Data sets shipped with relmark and exact simulators of the models.

Real data (shipped compressed inside the package, no download):

- [`load_cdnow`][relmark.datasets.real.load_cdnow]: the full CDNOW master transaction log.
- [`load_cdnow_sample_summary`][relmark.datasets.real.load_cdnow_sample_summary]: the 2,357-customer
  calibration summary used by Fader, Hardie & Lee (2005).
- [`load_donations`][relmark.datasets.real.load_donations]: the 11,104 donors of Fader, Hardie &
  Shang (2010), as 22 weighted patterns.

Simulators draw customers from a model's generative story exactly (continuous time, no
rounding to whole periods):

- [`simulate_bgnbd`][relmark.datasets.simulate.simulate_bgnbd]: BG/NBD (Fader, Hardie & Lee 2005).
- [`simulate_mbgnbd`][relmark.datasets.simulate.simulate_mbgnbd]: MBG/NBD.
- [`simulate_paretonbd`][relmark.datasets.simulate.simulate_paretonbd]: Pareto/NBD.
- [`simulate_bgbb`][relmark.datasets.simulate.simulate_bgbb]: BG/BB.
- [`simulate_sbg`][relmark.datasets.simulate.simulate_sbg] and
  [`simulate_sbg_cohort`][relmark.datasets.simulate.simulate_sbg_cohort]: shifted
  beta-geometric, per customer and as a cohort's survivor counts.

[`simulate_transaction_log`][relmark.datasets.simulate.simulate_transaction_log] simulates a
multi-cohort transaction log (customers acquired over a span, BG/NBD, MBG/NBD or Pareto/NBD
purchases, Gamma-Gamma spend) with real timestamps at a chosen granularity.
"""

from typing import TYPE_CHECKING

from relmark._lazy import lazy_exports

if TYPE_CHECKING:
    from relmark.datasets.real import load_cdnow, load_cdnow_sample_summary, load_donations
    from relmark.datasets.simulate import (
        simulate_bgbb,
        simulate_bgnbd,
        simulate_mbgnbd,
        simulate_paretonbd,
        simulate_sbg,
        simulate_sbg_cohort,
        simulate_transaction_log,
    )

__all__ = [
    "load_cdnow",
    "load_cdnow_sample_summary",
    "load_donations",
    "simulate_bgbb",
    "simulate_bgnbd",
    "simulate_mbgnbd",
    "simulate_paretonbd",
    "simulate_sbg",
    "simulate_sbg_cohort",
    "simulate_transaction_log",
]

_HOMES = {
    "load_cdnow": "relmark.datasets.real",
    "load_cdnow_sample_summary": "relmark.datasets.real",
    "load_donations": "relmark.datasets.real",
    "simulate_bgbb": "relmark.datasets.simulate",
    "simulate_bgnbd": "relmark.datasets.simulate",
    "simulate_mbgnbd": "relmark.datasets.simulate",
    "simulate_paretonbd": "relmark.datasets.simulate",
    "simulate_sbg": "relmark.datasets.simulate",
    "simulate_sbg_cohort": "relmark.datasets.simulate",
    "simulate_transaction_log": "relmark.datasets.simulate",
}
"""Where each public name is defined: imported on first use (see relmark._lazy)."""

__getattr__, __dir__ = lazy_exports(__name__, _HOMES)
