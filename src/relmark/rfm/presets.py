"""Published segment rule sets, ready to use or to start from.

All presets are defined on scores ``1..5``.

- [`RFM_PACKAGE_SEGMENTS`][relmark.rfm.presets.RFM_PACKAGE_SEGMENTS]: the ten segments of the
  example in the R ``rfm`` package's ``rfm_segment`` documentation as published in the 0.2.x
  releases (Hebbali), with their lower/upper bounds on the recency, frequency and monetary
  scores. The boxes overlap: 39 of the 125 cells are claimed by several segments and 36 by none,
  so the outcome depends on rule order. relmark applies them with first-match semantics in the
  published order, which is also what current releases of the R function do (it skips customers
  already assigned); the earliest releases overwrote in a loop, so there the *last* matching rule
  won (to reproduce that, reverse the order). Run ``RFM_PACKAGE_SEGMENTS.lint()`` to see every
  conflict.
- [`RFM_PACKAGE_0_3_SEGMENTS`][relmark.rfm.presets.RFM_PACKAGE_0_3_SEGMENTS]: the rewritten example
  of the R ``rfm`` package 0.3.0 (a different order and different bounds): 58 cells claimed by
  several segments and 10 by none.
- [`RF_GRID_SEGMENTS`][relmark.rfm.presets.RF_GRID_SEGMENTS]: the widely circulated recency ×
  frequency grid, which assigns each of the 25 ``(r, f)`` cells to exactly one of ten segments and
  ignores the monetary score. It partitions all 125 cells, so rule order does not matter.
"""

from __future__ import annotations

from relmark.rfm.segments import Segment, SegmentRules

__all__ = ["RFM_PACKAGE_0_3_SEGMENTS", "RFM_PACKAGE_SEGMENTS", "RF_GRID_SEGMENTS"]

RFM_PACKAGE_SEGMENTS = SegmentRules(
    (
        Segment("Champions", r=(4, 5), f=(4, 5), m=(4, 5)),
        Segment("Loyal Customers", r=(2, 5), f=(3, 5), m=(3, 5)),
        Segment("Potential Loyalist", r=(3, 5), f=(1, 3), m=(1, 3)),
        Segment("New Customers", r=(4, 5), f=(1, 1), m=(1, 1)),
        Segment("Promising", r=(3, 4), f=(1, 1), m=(1, 1)),
        Segment("Need Attention", r=(2, 3), f=(2, 3), m=(2, 3)),
        Segment("About To Sleep", r=(2, 3), f=(1, 2), m=(1, 2)),
        Segment("At Risk", r=(1, 2), f=(2, 5), m=(2, 5)),
        Segment("Can't Lose Them", r=(1, 1), f=(4, 5), m=(4, 5)),
        Segment("Lost", r=(1, 2), f=(1, 2), m=(1, 2)),
    ),
    fallback="Others",
)
"""The R ``rfm`` package's ten example segments (0.2.x ``rfm_segment`` documentation), in order.

Lower/upper score bounds per segment, as published: Champions r 4–5, f 4–5, m 4–5; Loyal
Customers r 2–5, f 3–5, m 3–5; Potential Loyalist r 3–5, f 1–3, m 1–3; New Customers r 4–5,
f 1–1, m 1–1; Promising r 3–4, f 1–1, m 1–1; Need Attention r 2–3, f 2–3, m 2–3; About To Sleep
r 2–3, f 1–2, m 1–2; At Risk r 1–2, f 2–5, m 2–5; Can't Lose Them r 1–1, f 4–5, m 4–5; Lost r 1–2,
f 1–2, m 1–2. Customers in no box get ``"Others"``, as in the R package.
"""

RFM_PACKAGE_0_3_SEGMENTS = SegmentRules(
    (
        Segment("Champions", r=(5, 5), f=(5, 5), m=(5, 5)),
        Segment("Potential Loyalist", r=(3, 5), f=(3, 5), m=(2, 5)),
        Segment("Loyal Customers", r=(2, 4), f=(2, 4), m=(2, 4)),
        Segment("Promising", r=(3, 4), f=(1, 3), m=(3, 5)),
        Segment("New Customers", r=(4, 5), f=(1, 3), m=(1, 5)),
        Segment("Can't Lose Them", r=(1, 2), f=(3, 4), m=(4, 5)),
        Segment("At Risk", r=(1, 2), f=(2, 5), m=(4, 5)),
        Segment("Need Attention", r=(1, 3), f=(3, 5), m=(3, 5)),
        Segment("About To Sleep", r=(2, 3), f=(1, 3), m=(1, 4)),
        Segment("Lost", r=(1, 1), f=(1, 5), m=(1, 5)),
    ),
    fallback="Others",
)
"""The R ``rfm`` package 0.3.0's ten example segments (``rfm_segment`` documentation), in order.

Lower/upper score bounds per segment, as published: Champions r 5–5, f 5–5, m 5–5; Potential
Loyalist r 3–5, f 3–5, m 2–5; Loyal Customers r 2–4, f 2–4, m 2–4; Promising r 3–4, f 1–3,
m 3–5; New Customers r 4–5, f 1–3, m 1–5; Can't Lose Them r 1–2, f 3–4, m 4–5; At Risk r 1–2,
f 2–5, m 4–5; Need Attention r 1–3, f 3–5, m 3–5; About To Sleep r 2–3, f 1–3, m 1–4; Lost
r 1–1, f 1–5, m 1–5. The R function assigns the first matching segment, as relmark does; 58 of
the 125 cells are claimed by several segments (so the order matters) and 10 by none (their
customers get ``"Others"``).
"""

RF_GRID_SEGMENTS = SegmentRules(
    (
        Segment("Champions", r=(5, 5), f=(4, 5)),
        Segment("Loyal", r=(3, 4), f=(4, 5)),
        Segment("Potential Loyalists", r=(4, 5), f=(2, 3)),
        Segment("New Customers", r=(5, 5), f=(1, 1)),
        Segment("Promising", r=(4, 4), f=(1, 1)),
        Segment("Need Attention", r=(3, 3), f=(3, 3)),
        Segment("About To Sleep", r=(3, 3), f=(1, 2)),
        Segment("At Risk", r=(1, 2), f=(3, 4)),
        Segment("Can't Lose", r=(1, 2), f=(5, 5)),
        Segment("Hibernating", r=(1, 2), f=(1, 2)),
    ),
    fallback="Others",
)
"""The recency × frequency segment grid: each of the 25 ``(r, f)`` cells in exactly one segment.

```text
        f=1          f=2          f=3          f=4        f=5
r=5  New Customers  Potential    Potential    Champions  Champions
r=4  Promising      Potential    Potential    Loyal      Loyal
r=3  About To Sleep About To Sl. Need Attn.   Loyal      Loyal
r=2  Hibernating    Hibernating  At Risk      At Risk    Can't Lose
r=1  Hibernating    Hibernating  At Risk      At Risk    Can't Lose
```

The monetary score is ignored. The fallback ``"Others"`` is never used on scores ``1..5``.
"""
