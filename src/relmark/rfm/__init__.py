"""RFM scoring and segmentation: tie-aware binning, segment rules as data, presets and a linter.

- [`RFMScorer`][relmark.rfm.scorer.RFMScorer]: recency, frequency and monetary scores with an
  explicit tie policy, independent or nested binning, learned or fixed thresholds.
- [`Segment`][relmark.rfm.segments.Segment] and [`SegmentRules`][relmark.rfm.segments.SegmentRules]:
  segment definitions with first-match semantics and
  [`lint`][relmark.rfm.segments.SegmentRules.lint].
- Presets: [`RFM_PACKAGE_SEGMENTS`][relmark.rfm.presets.RFM_PACKAGE_SEGMENTS] (R ``rfm`` 0.2.x),
  [`RFM_PACKAGE_0_3_SEGMENTS`][relmark.rfm.presets.RFM_PACKAGE_0_3_SEGMENTS] (R ``rfm`` 0.3.0) and
  [`RF_GRID_SEGMENTS`][relmark.rfm.presets.RF_GRID_SEGMENTS].
"""

from typing import TYPE_CHECKING

from relmark._lazy import lazy_exports

if TYPE_CHECKING:
    from relmark.rfm.presets import RF_GRID_SEGMENTS, RFM_PACKAGE_0_3_SEGMENTS, RFM_PACKAGE_SEGMENTS
    from relmark.rfm.scorer import BinThresholds, RFMScorer
    from relmark.rfm.segments import LintReport, Overlap, Segment, SegmentRules

__all__ = [
    "RFM_PACKAGE_0_3_SEGMENTS",
    "RFM_PACKAGE_SEGMENTS",
    "RF_GRID_SEGMENTS",
    "BinThresholds",
    "LintReport",
    "Overlap",
    "RFMScorer",
    "Segment",
    "SegmentRules",
]

_HOMES = {
    "BinThresholds": "relmark.rfm.scorer",
    "LintReport": "relmark.rfm.segments",
    "Overlap": "relmark.rfm.segments",
    "RFMScorer": "relmark.rfm.scorer",
    "RFM_PACKAGE_0_3_SEGMENTS": "relmark.rfm.presets",
    "RFM_PACKAGE_SEGMENTS": "relmark.rfm.presets",
    "RF_GRID_SEGMENTS": "relmark.rfm.presets",
    "Segment": "relmark.rfm.segments",
    "SegmentRules": "relmark.rfm.segments",
}
"""Where each public name is defined: imported on first use (see relmark._lazy)."""

__getattr__, __dir__ = lazy_exports(__name__, _HOMES)
