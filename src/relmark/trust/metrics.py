"""Relationship metrics often reported beside trust and commitment: NPS, CSAT and CES.

Each function takes one rating per respondent and states its scale and rule on the result.
Missing ratings (NaN) are left out and counted in ``n_missing``; any other rating off the stated
scale is an error naming its position.

- [`net_promoter_score`][relmark.trust.metrics.net_promoter_score]: percentage of promoters
  (9-10) minus percentage of detractors (0-6) on the 0-10 likelihood-to-recommend scale
  (Reichheld 2003), with a Wald confidence interval from the multinomial variance.
- [`customer_satisfaction_score`][relmark.trust.metrics.customer_satisfaction_score]: the
  top-two-box share and the mean on a stated satisfaction scale (default 1-5).
- [`customer_effort_score`][relmark.trust.metrics.customer_effort_score]: the mean effort on a
  stated scale (default 1-7, Dixon, Freeman & Toman 2010), with a t interval.
"""

from __future__ import annotations

import math

import attrs
import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from relmark._validation import check_probability
from relmark.errors import InvalidInputError
from relmark.typing import FloatArray

__all__ = [
    "CESResult",
    "CSATResult",
    "NPSResult",
    "customer_effort_score",
    "customer_satisfaction_score",
    "net_promoter_score",
]


@attrs.frozen(kw_only=True)
class NPSResult:
    """Net Promoter Score with its confidence interval.

    Attributes:
        value: $100(p_+ - p_-)$, in $[-100, 100]$.
        ci: ``(lower, upper)`` Wald interval, clipped to $[-100, 100]$.
        confidence: Confidence level of ``ci``.
        promoters: Share of promoters $p_+$ (ratings 9-10).
        passives: Share of passives (ratings 7-8).
        detractors: Share of detractors $p_-$ (ratings 0-6).
        n: Ratings used.
        n_missing: Ratings left out because they were NaN.
    """

    value: float
    ci: tuple[float, float]
    confidence: float
    promoters: float
    passives: float
    detractors: float
    n: int
    n_missing: int


@attrs.frozen(kw_only=True)
class CSATResult:
    """Customer satisfaction on a stated scale.

    Attributes:
        top_box_share: Share (in %) of ratings in the top ``top_boxes`` points of the scale.
        mean: Mean rating on the scale.
        scale_min: Lowest point of the scale.
        scale_max: Highest point of the scale.
        top_boxes: How many top points count as satisfied (2: "top-two-box").
        n: Ratings used.
        n_missing: Ratings left out because they were NaN.
    """

    top_box_share: float
    mean: float
    scale_min: int
    scale_max: int
    top_boxes: int
    n: int
    n_missing: int


@attrs.frozen(kw_only=True)
class CESResult:
    """Customer effort score: the mean effort rating on a stated scale.

    Attributes:
        mean: Mean rating.
        ci: ``(lower, upper)`` t interval of the mean (NaN with fewer than 2 ratings).
        confidence: Confidence level of ``ci``.
        scale_min: Lowest point of the scale.
        scale_max: Highest point of the scale.
        n: Ratings used.
        n_missing: Ratings left out because they were NaN.
    """

    mean: float
    ci: tuple[float, float]
    confidence: float
    scale_min: int
    scale_max: int
    n: int
    n_missing: int


def _ratings(ratings: ArrayLike, scale_min: int, scale_max: int) -> tuple[FloatArray, int]:
    try:
        r = np.asarray(ratings, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"The 'ratings' must be numeric (NaN for missing): {exc}") from exc
    if r.ndim != 1:
        raise InvalidInputError(f"The 'ratings' must be one-dimensional; got shape {r.shape}.")
    missing = np.isnan(r)
    present = r[~missing]
    bad = (present < scale_min) | (present > scale_max) | (present != np.floor(present))
    if bad.any():
        positions = np.flatnonzero(~missing)[bad]
        raise InvalidInputError(
            f"The 'ratings' must be whole numbers from {scale_min} to {scale_max} (NaN for "
            f"missing); got {present[bad][:5].tolist()} at position(s) {positions[:5].tolist()}."
        )
    if present.size == 0:
        raise InvalidInputError(
            f"The 'ratings' hold no rating to summarize ({int(missing.sum())} missing)."
        )
    return present, int(missing.sum())


def _z(level: float) -> float:
    """Two-sided normal quantile of a checked confidence level."""
    return float(stats.norm.ppf(0.5 + level / 2.0))


def net_promoter_score(ratings: ArrayLike, *, confidence: float = 0.95) -> NPSResult:
    r"""Net Promoter Score of 0-10 likelihood-to-recommend ratings, with a Wald interval.

    $\text{NPS} = 100(p_+ - p_-)$ with promoters rating 9-10 and detractors 0-6 (Reichheld
    2003). Treating the counts as multinomial, $\operatorname{Var}(\hat p_+ - \hat p_-) =
    (p_+ + p_- - (p_+ - p_-)^2)/n$, and the interval is the normal approximation
    $\text{NPS} \pm 100\,z\sqrt{\operatorname{Var}}$, clipped to $[-100, 100]$. With few
    ratings or shares near 0 or 1 the Wald interval is too narrow; treat it as indicative below
    about 100 ratings.

    Args:
        ratings: Whole numbers 0-10, NaN for missing (left out, counted in ``n_missing``).
        confidence: Confidence level of the interval.

    Returns:
        The score, its interval and the three shares.

    Raises:
        InvalidInputError: Ratings off the 0-10 whole-number scale, no ratings at all, or a bad
            ``confidence``.

    Examples:
        >>> r = net_promoter_score([10, 9, 8, 7, 6, 0])
        >>> round(r.value, 2), r.n
        (0.0, 6)
    """
    level = check_probability(confidence, name="confidence")
    z = _z(level)
    r, n_missing = _ratings(ratings, 0, 10)
    n = r.size
    promoters = float((r >= 9).mean())
    detractors = float((r <= 6).mean())
    diff = promoters - detractors
    variance = max(promoters + detractors - diff**2, 0.0) / n
    half = 100.0 * z * math.sqrt(variance)
    value = 100.0 * diff
    return NPSResult(
        value=value,
        ci=(max(value - half, -100.0), min(value + half, 100.0)),
        confidence=level,
        promoters=promoters,
        passives=1.0 - promoters - detractors,
        detractors=detractors,
        n=n,
        n_missing=n_missing,
    )


def _scale(scale_min: int, scale_max: int, function: str) -> None:
    for name, value in (("scale_min", scale_min), ("scale_max", scale_max)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise InvalidInputError(
                f"The {name!r} parameter of {function} must be an int. Got {value!r}."
            )
    if scale_max <= scale_min:
        raise InvalidInputError(
            f"The 'scale_max' parameter of {function} must exceed 'scale_min' ({scale_min}). "
            f"Got {scale_max}."
        )


def customer_satisfaction_score(
    ratings: ArrayLike, *, scale_min: int = 1, scale_max: int = 5, top_boxes: int = 2
) -> CSATResult:
    """CSAT: the share of satisfied ratings (top boxes) and the mean, on a stated scale.

    With the default 1-5 scale and ``top_boxes=2``, ratings of 4 and 5 count as satisfied.

    Args:
        ratings: Whole-number ratings on ``[scale_min, scale_max]``, NaN for missing.
        scale_min: Lowest point of the scale.
        scale_max: Highest point of the scale.
        top_boxes: How many of the highest points count as satisfied (1 to the scale's length).

    Returns:
        The top-box share (in %), the mean and the stated scale.

    Raises:
        InvalidInputError: Ratings off the scale, a bad scale or ``top_boxes``.

    Examples:
        >>> r = customer_satisfaction_score([5, 4, 3, 2])
        >>> r.top_box_share, r.mean
        (50.0, 3.5)
    """
    _scale(scale_min, scale_max, "customer_satisfaction_score")
    points = scale_max - scale_min + 1
    boxes: object = top_boxes
    if isinstance(boxes, bool) or not isinstance(boxes, int) or not 1 <= boxes <= points:
        raise InvalidInputError(
            f"The 'top_boxes' parameter of customer_satisfaction_score must be an int from 1 to "
            f"{points}. Got {top_boxes!r}."
        )
    r, n_missing = _ratings(ratings, scale_min, scale_max)
    return CSATResult(
        top_box_share=100.0 * float((r > scale_max - top_boxes).mean()),
        mean=float(r.mean()),
        scale_min=scale_min,
        scale_max=scale_max,
        top_boxes=top_boxes,
        n=r.size,
        n_missing=n_missing,
    )


def customer_effort_score(
    ratings: ArrayLike, *, scale_min: int = 1, scale_max: int = 7, confidence: float = 0.95
) -> CESResult:
    """CES: the mean effort rating on a stated scale, with a t interval.

    Whether high means *more* or *less* effort depends on the question wording; relmark reports
    the mean as given and does not reverse it.

    Args:
        ratings: Whole-number ratings on ``[scale_min, scale_max]``, NaN for missing.
        scale_min: Lowest point of the scale.
        scale_max: Highest point of the scale.
        confidence: Confidence level of the interval.

    Returns:
        The mean, its interval and the stated scale.

    Raises:
        InvalidInputError: Ratings off the scale, a bad scale or ``confidence``.

    Examples:
        >>> customer_effort_score([2, 3, 4]).mean
        3.0
    """
    _scale(scale_min, scale_max, "customer_effort_score")
    level = check_probability(confidence, name="confidence")
    r, n_missing = _ratings(ratings, scale_min, scale_max)
    n = r.size
    mean = float(r.mean())
    ci = (math.nan, math.nan)
    if n >= 2:
        half = float(stats.t.ppf(0.5 + level / 2.0, n - 1)) * float(r.std(ddof=1)) / math.sqrt(n)
        ci = (mean - half, mean + half)
    return CESResult(
        mean=mean,
        ci=ci,
        confidence=level,
        scale_min=scale_min,
        scale_max=scale_max,
        n=n,
        n_missing=n_missing,
    )
