"""The RFM scorer: recency, frequency and monetary scores ``1..n`` and a segment per customer.

What is scored, from a [`CustomerSummary`][relmark.data.summary.CustomerSummary]:

- **Recency** is the time since the last purchase at the end of observation, $T - t_x$, in the
  summary's unit (the summary's own ``recency`` is $t_x$, first to last purchase). Shorter is
  better, so the most recent customers get the highest score.
- **Frequency** is the number of purchases, $x + 1$ (the summary's ``frequency`` counts repeat
  purchases only). Ranks are the same either way; thresholds read as "at least k purchases".
- **Monetary** is the summary's ``monetary``: the mean value of the *repeat* purchases. A one-time
  buyer ($x = 0$) has no repeat purchase, so its spend is unknown to the summary (the stored 0 is
  a placeholder, not a spend). One-time buyers therefore never enter the monetary thresholds, and
  the ``one_time_buyers`` policy says what score they get. A repeat buyer with mean spend 0 is a
  real observation and is scored like any other value.

Scores are higher-is-better ``1..n``. Quantile thresholds are learned in ``fit`` and stored in
``thresholds_``, so [`score`][relmark.rfm.scorer.RFMScorer.score] puts new customers on the same
scale; the tie policies are described in [`RFMScorer`][relmark.rfm.scorer.RFMScorer] and in the
explanation page on RFM.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, Self

import attrs
import numpy as np
from numpy.typing import NDArray

from relmark._estimator import Estimator
from relmark._validation import array_eq, check_choice, cmp, is_int, offending_rows
from relmark.data.summary import CustomerSummary, require_summary
from relmark.data.table import ColumnInfo, ColumnKind, ScoreTable
from relmark.errors import InvalidInputError
from relmark.rfm._binning import apply_cuts, quantile_bins, random_tie_keys, realised_sizes
from relmark.rfm.presets import RF_GRID_SEGMENTS
from relmark.rfm.segments import SegmentRules
from relmark.typing import BoolArray, FloatArray, IntArray

__all__ = ["BinThresholds", "RFMScorer"]

_DIMENSIONS = ("recency", "frequency", "monetary")
_TIES = ("share", "first", "random")
_BINNINGS = ("independent", "nested")
_ONE_TIME = ("lowest", "unscored", "error")
_MAX_BINS = 100
_SEED_LIMIT = 2**64
_UNIT_WORDS = {"D": "days", "W": "weeks", "M": "months", "Q": "quarters", "Y": "years"}


@attrs.frozen(kw_only=True)
class BinThresholds:
    r"""Break points of one score (within one nesting group), and the bins they produced in ``fit``.

    Attributes:
        dimension: ``"recency"``, ``"frequency"`` or ``"monetary"``.
        group: ``""`` for independent binning; for nested binning the group the thresholds apply
            to, e.g. ``"r=3"`` (frequency within recency bin 3) or ``"r=3,f=2"``.
        source: ``"quantile"`` (learned) or ``"fixed"`` (given by the user).
        cuts: ``n - 1`` break points in the raw unit, in bin order: ``cuts[k - 1]`` is the least
            good value that still reaches bin ``k + 1``. Frequency (purchases) and monetary reach
            it when the value is ``>=`` the cut, recency (time since last purchase) when it is
            ``<=`` the cut, so recency cuts decrease. An unreachable bin has cut $+\infty$
            ($-\infty$ for recency).
        boundary_ids: For the ``"first"`` and ``"random"`` tie policies, the (canonical) id of the
            customer that opened each bin in ``fit``; a customer whose value equals a cut reaches
            the bin when its tie key is at least that customer's. Empty when ties share bins or
            the cuts are fixed.
        sizes: Realised number (total weight) of fitted customers per bin ``1..n``.
        n_distinct: Number of distinct values among the fitted customers.
    """

    dimension: str
    group: str
    source: str
    cuts: FloatArray = attrs.field(eq=cmp)
    boundary_ids: tuple[str, ...]
    sizes: FloatArray = attrs.field(eq=cmp)
    n_distinct: int

    @property
    def empty_bins(self) -> tuple[int, ...]:
        """Bins (``1..n``) that no fitted customer landed in."""
        return tuple(int(i) + 1 for i in np.flatnonzero(self.sizes == 0))

    @property
    def collapsed(self) -> bool:
        """Whether some bins stayed empty (heavy ties, or fewer distinct values than bins)."""
        return bool(self.empty_bins)


@attrs.frozen(kw_only=True)
class _Config:
    bins: int
    ties: str
    seed: int
    nested: bool
    fixed: dict[str, FloatArray]  # oriented (higher is better), strictly increasing
    one_time_buyers: str
    rules: SegmentRules


@attrs.frozen(kw_only=True)
class _Columns:
    since_last: FloatArray
    purchases: FloatArray
    monetary: FloatArray
    known: BoolArray
    weights: FloatArray


@attrs.frozen(kw_only=True)
class _TieKeys:
    kind: str  # "int" | "str" | "" (no tie keys needed)
    ids: NDArray[Any]  # int64 or str customer ids (empty when no tie keys are needed)
    keys: tuple[NDArray[Any], ...]


def _param_error(name: str, expected: str, got: object) -> InvalidInputError:
    return InvalidInputError(
        f"The {name!r} parameter of RFMScorer must be {expected}. Got {got!r}."
    )


class RFMScorer(Estimator):
    r"""Recency, frequency and monetary scores ``1..bins`` with segments, on a fitted scale.

    Args:
        bins: Number of score levels $n$ per dimension (2 to 100).
        ties: How quantile binning treats equal values.

            - ``"share"`` (default): equal values always share a bin. A customer's bin is the
              quantile slot in which its group of equal values starts,
              $1 + \lfloor n \cdot (\text{weight strictly below}) / W \rfloor$. When one value
              spans several slots, the slots it covers beyond the first stay empty; the bins
              collapse, which the fitted ``thresholds_`` report, and the scores are *not*
              relabelled to close the gap.
            - ``"first"``: equal-size bins; ties are broken by ascending customer id (never by
              row order, so results do not depend on how the rows are sorted).
            - ``"random"``: equal-size bins; ties are broken by a pseudo-random key derived from
              ``seed`` and the customer id alone.
        seed: Non-negative integer seeding the ``"random"`` tie key.
        binning: ``"independent"`` (each dimension binned over all customers) or ``"nested"``
            (frequency binned within each recency bin, monetary within each recency × frequency
            cell).
        thresholds: Fixed user break points per dimension instead of quantiles, e.g.
            ``{"recency": [52, 26, 13, 4], "frequency": [2, 3, 5, 10]}``: ``bins - 1`` values in
            bin order (see ``cuts`` of [`BinThresholds`][relmark.rfm.scorer.BinThresholds]: strictly
            increasing for frequency and monetary, strictly decreasing for recency). Dimensions
            not given use quantiles.
        one_time_buyers: Monetary score of customers without repeat purchases, whose spend the
            summary does not know: ``"lowest"`` (score 1), ``"unscored"`` (score 0, meaning "not
            scored"; segment rules on the monetary score then never match them) or ``"error"``
            (raise [`InvalidInputError`][relmark.errors.InvalidInputError] listing them).
        segments: The segment rules; ``None`` uses
            [`RF_GRID_SEGMENTS`][relmark.rfm.presets.RF_GRID_SEGMENTS] (only defined for
            ``bins=5``).

    Attributes:
        thresholds_: Fitted break points keyed by ``"recency"``, ``"frequency"``,
            ``"monetary"`` (independent binning) or ``"frequency[r=3]"``,
            ``"monetary[r=3,f=2]"`` (nested binning), with realised bin sizes.
        id_kind_: ``"int"`` or ``"str"``: the kind of customer id the tie keys were built from
            (``""`` when ties share bins).
        seed_: The ``seed`` in force during ``fit`` (it only shapes the ``"random"`` tie keys).
        n_customers_: Number of customers (rows) fitted.
        n_one_time_buyers_: How many of them had no repeat purchase.

    Examples:
        >>> from relmark.data.summary import CustomerSummary, require_summary
        >>> summary = CustomerSummary.from_arrays(
        ...     frequency=[0, 1, 2, 4, 6],
        ...     recency=[0, 10, 20, 30, 38],
        ...     T=[40, 40, 40, 40, 40],
        ...     monetary=[0, 20, 35, 15, 60],
        ... )
        >>> table = RFMScorer().fit(summary).score(summary)
        >>> table["rfm_cell"].tolist()
        ['111', '222', '333', '441', '554']
        >>> table["segment"].tolist()
        ['Hibernating', 'Hibernating', 'Need Attention', 'Loyal', 'Champions']

        Only the four repeat buyers enter the monetary scale (the one-time buyer's spend is
        unknown and gets the lowest score), so with five bins the top monetary bin stays empty:

        >>> scorer = RFMScorer().fit(summary)
        >>> scorer.thresholds_["monetary"].sizes.tolist(), scorer.collapsed_bins()
        ([1.0, 1.0, 1.0, 1.0, 0.0], {'monetary': (5,)})
    """

    thresholds_: dict[str, BinThresholds]
    id_kind_: str
    seed_: int
    n_customers_: int
    n_one_time_buyers_: int

    def __init__(
        self,
        *,
        bins: int = 5,
        ties: Literal["share", "first", "random"] = "share",
        seed: int = 0,
        binning: Literal["independent", "nested"] = "independent",
        thresholds: Mapping[str, Sequence[float]] | None = None,
        one_time_buyers: Literal["lowest", "unscored", "error"] = "lowest",
        segments: SegmentRules | None = None,
    ) -> None:
        self.bins = bins
        self.ties = ties
        self.seed = seed
        self.binning = binning
        self.thresholds = thresholds
        self.one_time_buyers = one_time_buyers
        self.segments = segments

    # ------------------------------------------------------------------ validation

    def _config(self) -> _Config:
        bins = self.bins
        if not is_int(bins) or not 2 <= bins <= _MAX_BINS:
            raise _param_error("bins", f"an int in [2, {_MAX_BINS}]", bins)
        bins = int(bins)
        ties, binning, one_time_buyers = (
            check_choice(getattr(self, name), allowed, name=name, owner="RFMScorer")
            for name, allowed in (
                ("ties", _TIES),
                ("binning", _BINNINGS),
                ("one_time_buyers", _ONE_TIME),
            )
        )
        if not is_int(self.seed) or not 0 <= self.seed < _SEED_LIMIT:
            raise _param_error("seed", "an int in [0, 2**64)", self.seed)
        rules = self.segments
        if rules is None:
            if bins != 5:
                raise _param_error(
                    "segments",
                    "given when bins != 5 (the default grid is defined on scores 1..5)",
                    None,
                )
            rules = RF_GRID_SEGMENTS
        if not isinstance(rules, SegmentRules):
            raise _param_error("segments", "a SegmentRules or None", rules)
        too_high = [s.name for s in rules.segments if s.max_score() > bins]
        if too_high:
            raise _param_error(
                "segments",
                f"rules on scores 1..{bins}; these mention higher scores: {too_high}",
                rules,
            )
        return _Config(
            bins=bins,
            ties=ties,
            seed=int(self.seed),
            nested=binning == "nested",
            fixed=self._fixed_thresholds(bins),
            one_time_buyers=one_time_buyers,
            rules=rules,
        )

    def _fixed_thresholds(self, bins: int) -> dict[str, FloatArray]:
        given: object = self.thresholds  # user input: checked at run time
        if given is None:
            return {}
        if not isinstance(given, Mapping) or any(k not in _DIMENSIONS for k in given):
            raise _param_error(
                "thresholds",
                "None or a mapping with keys among 'recency', 'frequency', 'monetary'",
                given,
            )
        fixed: dict[str, FloatArray] = {}
        for dimension, cuts in given.items():
            try:
                raw = np.asarray(cuts, dtype=np.float64)
            except (TypeError, ValueError):
                raw = np.array([np.nan])
            oriented = -raw if dimension == "recency" else raw
            order = "decreasing" if dimension == "recency" else "increasing"
            if (
                raw.shape != (bins - 1,)
                or not np.isfinite(raw).all()
                or not (np.diff(oriented) > 0).all()
            ):
                raise _param_error(
                    "thresholds",
                    f"{bins - 1} finite, strictly {order} break points for {dimension!r}",
                    cuts,
                )
            fixed[dimension] = oriented
        return fixed

    def _columns(self, summary: object, method: str, config: _Config) -> _Columns:
        summary = require_summary(summary, owner=f"RFMScorer.{method}")
        if summary.monetary is None:
            raise InvalidInputError(
                f"RFMScorer.{method} needs the summary's 'monetary' column (mean repeat-purchase "
                "value), but this summary has none; summarize a transaction log with amounts."
            )
        known = summary.frequency > 0
        if config.one_time_buyers == "error" and not known.all():
            raise InvalidInputError(
                f"RFMScorer.{method}: one_time_buyers='error' and the summary has "
                f"{int((~known).sum())} one-time buyer(s) (frequency 0, monetary unknown) at "
                f"{offending_rows(~known)}."
            )
        return _Columns(
            since_last=summary.T - summary.recency,
            purchases=summary.frequency.astype(np.float64) + 1.0,
            monetary=summary.monetary,
            known=known,
            weights=summary.row_weights,
        )

    def _tie_keys(self, summary: CustomerSummary, config: _Config) -> _TieKeys:
        if config.ties == "share":
            return _TieKeys(kind="", ids=np.empty(0, dtype=np.int64), keys=())
        kind, id_key = _id_key(summary.customer_id)
        if config.ties == "first":
            return _TieKeys(kind=kind, ids=id_key, keys=(id_key,))
        # The canonical id strings are what the random key hashes; astype(str) writes an int64
        # exactly as str(int) does.
        canonical: list[str] = id_key.astype(np.str_).tolist()
        return _TieKeys(
            kind=kind, ids=id_key, keys=(random_tie_keys(canonical, config.seed), id_key)
        )

    # ------------------------------------------------------------------ fitting

    def fit(self, summary: CustomerSummary, /) -> Self:
        """Learn the break points of every score from ``summary``.

        Args:
            summary: Customers to learn the scale from (needs ``monetary``).

        Returns:
            ``self``, fitted.

        Raises:
            InvalidInputError: For a bad hyperparameter, a non-summary, a summary without
                ``monetary`` or without customers, non-int/str customer ids under the
                ``"first"``/``"random"`` tie policies, or one-time buyers under
                ``one_time_buyers="error"``.
        """
        config = self._config()
        cols = self._columns(summary, "fit", config)
        if len(summary) == 0:
            raise InvalidInputError(
                "RFMScorer.fit needs at least one customer; the summary is empty."
            )
        ties = self._tie_keys(summary, config)
        fitted: dict[str, BinThresholds] = {}
        everyone = np.ones(len(summary), dtype=np.bool_)
        r_bins = self._fit_group(
            fitted, "recency", "", -cols.since_last, everyone, cols, ties, config
        )
        f_bins = np.zeros(len(summary), dtype=np.int64)
        for group, mask in _groups(config, everyone, r_bins):
            f_bins[mask] = self._fit_group(
                fitted, "frequency", group, cols.purchases, mask, cols, ties, config
            )
        for group, mask in _groups(config, cols.known, r_bins, f_bins):
            self._fit_group(fitted, "monetary", group, cols.monetary, mask, cols, ties, config)
        self.thresholds_ = fitted
        self.id_kind_ = ties.kind
        self.seed_ = config.seed
        self.n_customers_ = len(summary)
        self.n_one_time_buyers_ = int((~cols.known).sum())
        return self

    @staticmethod
    def _fit_group(
        fitted: dict[str, BinThresholds],
        dimension: str,
        group: str,
        oriented: FloatArray,
        mask: BoolArray,
        cols: _Columns,
        ties: _TieKeys,
        config: _Config,
    ) -> IntArray:
        values = oriented[mask]
        weights = cols.weights[mask]
        boundary_ids: tuple[str, ...] = ()
        if dimension in config.fixed:
            source = "fixed"
            cuts = config.fixed[dimension]
            bins = apply_cuts(values, (), cuts, ())
        else:
            source = "quantile"
            keys = tuple(k[mask] for k in ties.keys)
            bins, openers = quantile_bins(
                values, weights, config.bins, keys, share_ties=config.ties == "share"
            )
            reached = openers >= 0
            cuts = np.where(reached, values[np.maximum(openers, 0)] if values.size else 0.0, np.inf)
            if ties.keys:
                # Only the customers opening a bin need their canonical id.
                rows = np.flatnonzero(mask)
                boundary_ids = tuple(
                    str(ties.ids[rows[o]]) if o >= 0 else "" for o in openers.tolist()
                )
        fitted[_key(dimension, group)] = BinThresholds(
            dimension=dimension,
            group=group,
            source=source,
            cuts=_raw_cuts(dimension, cuts),
            boundary_ids=boundary_ids,
            sizes=realised_sizes(bins, weights, config.bins),
            n_distinct=int(np.unique(values).size),
        )
        return bins

    # ------------------------------------------------------------------ scoring

    def _check_unchanged(self, config: _Config) -> None:
        """The fitted state must match the current hyperparameters (none changed since fit)."""
        expected: set[str] = {"recency"}
        for dimension, parents in (("frequency", 1), ("monetary", 2)):
            names = [
                name
                for name, _ in _groups(
                    config, np.zeros(0, dtype=np.bool_), *([np.zeros(0, dtype=np.int64)] * parents)
                )
            ]
            expected.update(_key(dimension, name) for name in names)
        consistent = (
            set(self.thresholds_) == expected
            and all(t.cuts.size == config.bins - 1 for t in self.thresholds_.values())
            and all(
                (t.source == "fixed") == (t.dimension in config.fixed)
                for t in self.thresholds_.values()
            )
            and (self.id_kind_ == "") == (config.ties == "share")
            and (config.ties != "random" or self.seed_ == config.seed)
            and all(
                array_eq(t.cuts, _raw_cuts(t.dimension, config.fixed[t.dimension]))
                for t in self.thresholds_.values()
                if t.source == "fixed"
            )
        )
        if not consistent:
            raise InvalidInputError(
                "RFMScorer.score: the hyperparameters (bins, ties, seed, binning or thresholds) "
                "changed since fit, so the fitted thresholds no longer apply; call fit again."
            )

    def _apply(
        self, dimension: str, group: str, oriented: FloatArray, mask: BoolArray, ties: _TieKeys
    ) -> IntArray:
        fitted = self.thresholds_[_key(dimension, group)]
        cuts = -fitted.cuts if dimension == "recency" else fitted.cuts
        cut_keys: tuple[tuple[Any, ...], ...] = ()
        if fitted.boundary_ids:
            cut_keys = tuple(
                _boundary_keys(b, self.id_kind_, ties, self.seed) for b in fitted.boundary_ids
            )
            keys = tuple(k[mask] for k in ties.keys)
        else:
            keys = ()
        return apply_cuts(oriented[mask], keys, cuts, cut_keys)

    def score(self, summary: CustomerSummary, /) -> ScoreTable:
        """Score every customer of ``summary`` on the fitted scale.

        Args:
            summary: Customers to score (needs ``monetary``); may differ from the fitted ones.

        Returns:
            One row per customer, in summary order, with columns ``recency_score``,
            ``frequency_score``, ``monetary_score``, ``rfm_cell`` (e.g. ``"545"``; scores joined
            with ``-`` when ``bins > 9``), ``segment``, and the raw inputs
            ``time_since_last_purchase``, ``purchases`` and ``monetary_known``.

        Raises:
            NotFittedError: Before ``fit``.
            InvalidInputError: As for ``fit``, or when the customer ids are of a different kind
                (int vs. str) than the fitted ones under the ``"first"``/``"random"`` policies.
        """
        self._check_fitted("score")
        config = self._config()
        self._check_unchanged(config)
        cols = self._columns(summary, "score", config)
        ties = self._tie_keys(summary, config)
        if ties.kind and len(summary) and ties.kind != self.id_kind_:
            raise InvalidInputError(
                f"RFMScorer.score: the customer ids are {ties.kind} but the scorer was fitted on "
                f"{self.id_kind_} ids; tie keys of the two cannot be compared."
            )
        n = len(summary)
        everyone = np.ones(n, dtype=np.bool_)
        r = self._apply("recency", "", -cols.since_last, everyone, ties)
        f = np.zeros(n, dtype=np.int64)
        for group, mask in _groups(config, everyone, r):
            f[mask] = self._apply("frequency", group, cols.purchases, mask, ties)
        one_time_score = 0 if config.one_time_buyers == "unscored" else 1
        m = np.full(n, one_time_score, dtype=np.int64)
        for group, mask in _groups(config, cols.known, r, f):
            m[mask] = self._apply("monetary", group, cols.monetary, mask, ties)
        return self._table(summary, config, cols, r, f, m)

    @staticmethod
    def _table(
        summary: CustomerSummary,
        config: _Config,
        cols: _Columns,
        r: IntArray,
        f: IntArray,
        m: IntArray,
    ) -> ScoreTable:
        n_bins = config.bins
        cells = _cells(r, f, m, n_bins)
        unit = _UNIT_WORDS[summary.unit.value]
        low_m = 0 if config.one_time_buyers == "unscored" else 1
        score_range = (1.0, float(n_bins))
        info = {
            "recency_score": ColumnInfo(
                description="Recency score: higher means a shorter time since the last purchase.",
                kind=ColumnKind.INTEGER,
                range=score_range,
            ),
            "frequency_score": ColumnInfo(
                description="Frequency score: higher means more purchases.",
                kind=ColumnKind.INTEGER,
                range=score_range,
            ),
            "monetary_score": ColumnInfo(
                description=(
                    "Monetary score: higher means a higher mean repeat-purchase value; "
                    f"one-time buyers get {low_m}."
                ),
                kind=ColumnKind.INTEGER,
                range=(float(low_m), float(n_bins)),
            ),
            "rfm_cell": ColumnInfo(
                description="The recency, frequency and monetary scores written together.",
                kind=ColumnKind.STRING,
            ),
            "segment": ColumnInfo(
                description="Segment name (first matching rule, or the fallback).",
                kind=ColumnKind.STRING,
            ),
            "time_since_last_purchase": ColumnInfo(
                description="Time from the last purchase to the end of observation (T - t_x).",
                kind=ColumnKind.FLOAT,
                unit=unit,
                range=(0.0, float("inf")),
            ),
            "purchases": ColumnInfo(
                description="Number of purchases, first one included (frequency + 1).",
                kind=ColumnKind.INTEGER,
                unit="purchases",
                range=(1.0, float("inf")),
            ),
            "monetary_known": ColumnInfo(
                description="Whether the customer has repeat purchases, hence a known monetary value.",
                kind=ColumnKind.BOOLEAN,
            ),
        }
        columns = {
            "recency_score": r,
            "frequency_score": f,
            "monetary_score": m,
            "rfm_cell": cells,
            "segment": config.rules.assign(r, f, m),
            "time_since_last_purchase": cols.since_last,
            "purchases": summary.frequency + 1,
            "monetary_known": cols.known,
        }
        # The columns are fresh arrays the table takes over (copy=False marks them read-only in
        # place); the ids belong to the summary, so they are copied.
        ids = summary.customer_id.copy()
        return ScoreTable.from_columns(ids, columns, info, copy=False)

    def collapsed_bins(self) -> dict[str, tuple[int, ...]]:
        """Thresholds whose bins stayed empty in ``fit``, with the empty bin numbers.

        Raises:
            NotFittedError: Before ``fit``.
        """
        self._check_fitted("collapsed_bins")
        return {k: v.empty_bins for k, v in self.thresholds_.items() if v.collapsed}


def _cells(r: IntArray, f: IntArray, m: IntArray, n_bins: int) -> NDArray[np.str_]:
    """The scores written together (``"545"``; ``"10-3-12"`` when ``n_bins > 9``), vectorized."""
    if n_bins <= 9:
        # Single digits: the cell is the decimal number 100 r + 10 f + m (r >= 1), looked up.
        table = np.array([str(code) for code in range(1000)], dtype="<U3")
        cells: NDArray[np.str_] = table[100 * r + 10 * f + m]
        return cells
    labels = np.array([str(score) for score in range(n_bins + 1)], dtype=np.str_)
    cells = labels[r]
    for part in (f, m):
        cells = np.strings.add(np.strings.add(cells, "-"), labels[part])
    width = int(np.strings.str_len(cells).max(initial=1))
    return cells.astype(f"<U{width}")


def _raw_cuts(dimension: str, oriented: FloatArray) -> FloatArray:
    """Oriented (higher is better) cuts back in the raw unit: recency is negated."""
    raw = -oriented if dimension == "recency" else oriented
    out: FloatArray = np.asarray(raw, dtype=np.float64) + 0.0  # + 0.0 turns -0.0 into 0.0
    return out


def _key(dimension: str, group: str) -> str:
    return f"{dimension}[{group}]" if group else dimension


def _groups(config: _Config, base: BoolArray, *parents: IntArray) -> list[tuple[str, BoolArray]]:
    """Nesting groups: everyone in ``base`` (independent), or one per parent-bin combination."""
    if not config.nested:
        return [("", base)]
    groups: list[tuple[str, BoolArray]] = [("", base)]
    for letter, parent in zip("rf", parents, strict=False):
        groups = [
            (f"{name},{letter}={b}" if name else f"{letter}={b}", mask & (parent == b))
            for name, mask in groups
            for b in range(1, config.bins + 1)
        ]
    return groups


def _id_key(ids: NDArray[Any]) -> tuple[str, NDArray[Any]]:
    """Customer ids as int64 or str arrays, the two kinds with an unambiguous order."""
    if ids.dtype.kind in "iu":
        if ids.dtype.kind == "u" and ids.size and int(ids.max()) > np.iinfo(np.int64).max:
            raise InvalidInputError(
                "Column 'customer_id' holds unsigned ids above 2**63 - 1, which the 'first' and "
                "'random' tie policies cannot order; use string ids."
            )
        return "int", ids.astype(np.int64)
    if ids.dtype.kind == "U":
        return "str", ids
    if ids.dtype.kind == "O":
        values = ids.tolist()
        if all(isinstance(v, str) for v in values):
            return "str", np.asarray(values, dtype=np.str_)
        if all(is_int(v) for v in values):
            return "int", np.asarray(values, dtype=np.int64)
    raise InvalidInputError(
        "The 'first' and 'random' tie policies break ties by customer id, so column "
        f"'customer_id' must hold integers or strings; got dtype {ids.dtype}."
    )


def _boundary_keys(boundary: str, kind: str, ties: _TieKeys, seed: int) -> tuple[Any, ...]:
    if boundary == "":
        # An unreachable bin (cut +inf): no finite value reaches it, whatever the keys.
        id_value: Any = np.int64(0) if kind == "int" else np.str_("")
    else:
        id_value = np.int64(int(boundary)) if kind == "int" else np.str_(boundary)
    if len(ties.keys) == 1:
        return (id_value,)
    return (random_tie_keys([boundary], seed)[0], id_value)
