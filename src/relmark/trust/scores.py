r"""Construct scores per respondent: validated responses, reverse keying, missing items, indices.

[`score_constructs`][relmark.trust.scores.score_constructs] turns a respondents × items table
into one score per respondent and construct: the mean of the construct's answered items on the
item scale, after reverse-keyed items are recoded as $x' = \text{max} + \text{min} - x$.
Missing answers (NaN) follow an explicit
[`MissingItemPolicy`][relmark.trust.scores.MissingItemPolicy] that travels with the result;
answers outside an item's scale are an error naming the respondent and the item.

Indices rescale a construct score linearly from the item scale to 0-100:
$100\,(s - \text{min}) / (\text{max} - \text{min})$.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray

from relmark._validation import cmp
from relmark.errors import InvalidInputError
from relmark.trust.instrument import Instrument
from relmark.typing import FloatArray, IntArray

__all__ = [
    "ConstructScores",
    "ItemResponses",
    "MissingItemPolicy",
    "MissingStrategy",
    "keyed_responses",
    "reverse_key",
    "score_constructs",
]

_MAX_LISTED = 5


def reverse_key(values: ArrayLike, scale_min: float, scale_max: float) -> FloatArray:
    r"""Recode answers of a reverse-keyed item: $x' = \text{max} + \text{min} - x$.

    The map is its own inverse (an involution) and sends the scale onto itself; NaN stays NaN.

    Args:
        values: Answers on the scale ``[scale_min, scale_max]``.
        scale_min: Lowest answer of the scale.
        scale_max: Highest answer of the scale.

    Returns:
        The recoded answers (float64).

    Examples:
        >>> reverse_key([1, 4, 7], 1, 7).tolist()
        [7.0, 4.0, 1.0]
    """
    return float(scale_max) + float(scale_min) - np.asarray(values, dtype=np.float64)


class MissingStrategy(enum.Enum):
    """How a construct score treats unanswered items.

    - ``PRORATE``: the score is the mean of the answered items (equivalently, the sum prorated to
      the full item count), provided at least the policy's minimum share of items was answered.
    - ``DROP``: any unanswered item of the construct leaves that respondent's score missing
      (complete cases only).
    """

    PRORATE = "prorate"
    DROP = "drop"


def _check_share(
    _instance: MissingItemPolicy, _attribute: attrs.Attribute[float], value: float
) -> None:
    if not (0.0 < value <= 1.0):
        raise InvalidInputError(
            f"The 'min_answered' field of MissingItemPolicy must be a share in (0, 1]. Got {value}."
        )


@attrs.frozen(kw_only=True)
class MissingItemPolicy:
    """The missing-item rule applied to every construct, recorded on the scores it produced.

    The default is the common "half rule": prorate when at least half of a construct's items
    were answered.

    Attributes:
        strategy: ``PRORATE`` or ``DROP`` (see [`MissingStrategy`][relmark.trust.scores.MissingStrategy]).
        min_answered: Under ``PRORATE``, the share of a construct's items (rounded up to a whole
            number of items) that must be answered for a score; ignored under ``DROP``.
    """

    strategy: MissingStrategy = attrs.field(
        default=MissingStrategy.PRORATE, converter=MissingStrategy
    )
    min_answered: float = attrs.field(default=0.5, converter=float, validator=_check_share)

    def required(self, n_items: int) -> int:
        """Items that must be answered, out of ``n_items``, for a construct score."""
        if self.strategy is MissingStrategy.DROP:
            return n_items
        return max(1, math.ceil(self.min_answered * n_items - 1e-12))


@attrs.frozen(kw_only=True)
class ItemResponses:
    """Validated answers, reverse-keyed, one row per respondent and one column per item.

    Attributes:
        respondent_id: Respondent identifiers, as given (``0..n-1`` by default).
        item_codes: The instrument's item codes, in column order.
        values: Answers after reverse keying (float64, NaN where unanswered).
    """

    respondent_id: NDArray[Any] = attrs.field(eq=cmp)
    item_codes: tuple[str, ...]
    values: FloatArray = attrs.field(eq=cmp)

    def columns(self, codes: Sequence[str]) -> FloatArray:
        """The answer columns of ``codes``, as an ``n × len(codes)`` array.

        Raises:
            InvalidInputError: When some of ``codes`` are not among ``item_codes``.
        """
        position = {code: j for j, code in enumerate(self.item_codes)}
        unknown = [c for c in codes if c not in position]
        if unknown:
            raise InvalidInputError(
                f"The ItemResponses hold no item(s) {unknown}; they hold {list(self.item_codes)}."
            )
        return self.values[:, [position[c] for c in codes]]


def _matching_responses(instrument: Instrument, responses: ItemResponses) -> ItemResponses:
    """``responses``, once checked to hold exactly the instrument's items in its order."""
    if responses.item_codes != instrument.item_codes:
        raise InvalidInputError(
            f"The ItemResponses hold items {list(responses.item_codes)}, not those of "
            f"instrument {instrument.name!r} {list(instrument.item_codes)}."
        )
    return responses


def _respondent_label(ids: NDArray[Any], rows: IntArray) -> str:
    shown = ", ".join(repr(ids[i].item() if hasattr(ids[i], "item") else ids[i]) for i in rows)
    return shown


def _response_matrix(
    instrument: Instrument,
    responses: Mapping[str, ArrayLike] | ArrayLike,
    item_codes: Sequence[str] | None,
) -> FloatArray:
    codes = instrument.item_codes
    if isinstance(responses, Mapping):
        if item_codes is not None:
            raise InvalidInputError(
                "The 'item_codes' argument is only for array responses; a mapping already names "
                "its columns."
            )
        unknown = sorted(set(responses) - set(codes))
        if unknown:
            raise InvalidInputError(
                f"The responses hold columns {unknown} that instrument {instrument.name!r} does "
                "not define; pass only the instrument's item columns."
            )
        missing = [c for c in codes if c not in responses]
        if missing:
            raise InvalidInputError(
                f"The responses lack item column(s) {missing} of instrument {instrument.name!r}."
            )
        columns = []
        for code in codes:
            try:
                column = np.asarray(responses[code], dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise InvalidInputError(
                    f"Item column {code!r} must be numeric (NaN for unanswered): {exc}"
                ) from exc
            if column.ndim != 1:
                raise InvalidInputError(
                    f"Item column {code!r} must be one-dimensional; got shape {column.shape}."
                )
            columns.append(column)
        lengths = {c.size for c in columns}
        if len(lengths) > 1:
            raise InvalidInputError(
                f"All item columns must have the same length; got lengths "
                f"{dict(zip(codes, (c.size for c in columns), strict=True))}."
            )
        n = columns[0].size
        return np.column_stack(columns) if columns else np.empty((n, 0))
    try:
        matrix = np.asarray(responses, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"The responses must be numeric (NaN for unanswered): {exc}"
        ) from exc
    if matrix.ndim != 2:
        raise InvalidInputError(
            f"Array responses must be two-dimensional (respondents × items); got shape {matrix.shape}."
        )
    given = tuple(codes if item_codes is None else item_codes)
    if matrix.shape[1] != len(given):
        raise InvalidInputError(
            f"The responses have {matrix.shape[1]} columns but {len(given)} item codes "
            f"({'the instrument' if item_codes is None else 'item_codes'}) name them."
        )
    if sorted(given) != sorted(codes):
        raise InvalidInputError(
            f"The 'item_codes' must be a permutation of instrument {instrument.name!r}'s items "
            f"{list(codes)}. Got {list(given)}."
        )
    order = [given.index(c) for c in codes]
    return matrix[:, order]


def keyed_responses(
    instrument: Instrument,
    responses: Mapping[str, ArrayLike] | ArrayLike,
    *,
    respondent_id: ArrayLike | None = None,
    item_codes: Sequence[str] | None = None,
) -> ItemResponses:
    """Validate answers against an instrument and apply reverse keying.

    Args:
        instrument: The instrument the answers belong to.
        responses: Either a mapping from item code to a column of answers, or a respondents ×
            items array whose columns are ``item_codes`` (default: the instrument's item order).
            Unanswered items are NaN.
        respondent_id: Identifiers, one per row (default ``0..n-1``); must be unique.
        item_codes: Column names of an array ``responses``.

    Returns:
        The validated, reverse-keyed answers, columns in the instrument's item order.

    Raises:
        InvalidInputError: Missing or unknown item columns, non-numeric answers, infinite
            values, duplicated respondent ids, or answers outside an item's scale (the message
            names the respondents and the item).
    """
    matrix = _response_matrix(instrument, responses, item_codes)
    n = matrix.shape[0]
    ids = np.arange(n, dtype=np.int64) if respondent_id is None else np.asarray(respondent_id)
    if ids.ndim != 1 or ids.size != n:
        raise InvalidInputError(
            f"The 'respondent_id' argument must be one-dimensional with {n} entries (one per "
            f"respondent); got shape {ids.shape}."
        )
    if n:
        uniq, counts = np.unique(ids, return_counts=True)
        if (counts > 1).any():
            raise InvalidInputError(
                f"The 'respondent_id' values must be unique; duplicated: "
                f"{uniq[counts > 1][:_MAX_LISTED].tolist()}."
            )
    keyed = matrix.copy()
    j = 0
    for construct in instrument.constructs:
        for item in construct.items:
            column = matrix[:, j]
            bad = np.isinf(column) | (column < item.scale_min) | (column > item.scale_max)
            if bad.any():
                rows = np.flatnonzero(bad)
                raise InvalidInputError(
                    f"Item {item.code!r} answers must lie in [{item.scale_min:g}, "
                    f"{item.scale_max:g}] (NaN for unanswered); respondent(s) "
                    f"{_respondent_label(ids, rows[:_MAX_LISTED])} answered "
                    f"{column[rows[:_MAX_LISTED]].tolist()}"
                    + (f" (and {rows.size - _MAX_LISTED} more)" if rows.size > _MAX_LISTED else "")
                    + "."
                )
            if item.reverse_keyed:
                keyed[:, j] = reverse_key(column, item.scale_min, item.scale_max)
            j += 1
    return ItemResponses(respondent_id=ids, item_codes=instrument.item_codes, values=keyed)


@attrs.frozen(kw_only=True)
class ConstructScores:
    """Construct scores per respondent, with the policy and the counts that produced them.

    Attributes:
        respondent_id: Respondent identifiers, in input order.
        constructs: Construct names, in column order.
        values: ``n × c`` construct scores on the item scale (NaN where the policy left no score).
        answered: ``n × c`` number of items answered per respondent and construct.
        n_items: Items per construct.
        required: Items that had to be answered for a score, per construct.
        scale_min: Lowest item answer, per construct.
        scale_max: Highest item answer, per construct.
        policy: The missing-item policy applied.
    """

    respondent_id: NDArray[Any] = attrs.field(eq=cmp)
    constructs: tuple[str, ...]
    values: FloatArray = attrs.field(eq=cmp)
    answered: IntArray = attrs.field(eq=cmp)
    n_items: IntArray = attrs.field(eq=cmp)
    required: IntArray = attrs.field(eq=cmp)
    scale_min: FloatArray = attrs.field(eq=cmp)
    scale_max: FloatArray = attrs.field(eq=cmp)
    policy: MissingItemPolicy

    def __len__(self) -> int:
        """Number of respondents."""
        return int(self.values.shape[0])

    def _position(self, name: str) -> int:
        try:
            return self.constructs.index(name)
        except ValueError:
            raise InvalidInputError(
                f"No construct {name!r} in these scores. Available: {list(self.constructs)}."
            ) from None

    def score(self, name: str) -> FloatArray:
        """Scores of construct ``name`` on its item scale (NaN where not scored)."""
        return self.values[:, self._position(name)].copy()

    def index(self, name: str) -> FloatArray:
        """Scores of construct ``name`` rescaled linearly to 0-100.

        Examples:
            >>> from relmark.trust import default_kmv_instrument
            >>> kmv = default_kmv_instrument()
            >>> answers = {code: [7.0] for code in kmv.item_codes}
            >>> s = score_constructs(kmv, answers)
            >>> float(s.index("communication")[0])
            100.0
        """
        j = self._position(name)
        lo, hi = self.scale_min[j], self.scale_max[j]
        out: FloatArray = 100.0 * (self.values[:, j] - lo) / (hi - lo)
        return out

    def indices(self) -> dict[str, FloatArray]:
        """0-100 indices of every construct, keyed by construct name."""
        return {name: self.index(name) for name in self.constructs}

    def relationship_quality_index(
        self, components: Sequence[str] = ("trust", "commitment", "satisfaction")
    ) -> FloatArray:
        """Relationship quality: the mean of the components' 0-100 indices.

        A respondent lacking any component score gets NaN (no partial composite).

        Args:
            components: Construct names averaged; default trust, commitment and satisfaction.

        Raises:
            InvalidInputError: When a component is not among the scored constructs.
        """
        if len(components) == 0:
            raise InvalidInputError("The 'components' argument must name at least one construct.")
        stacked = np.column_stack([self.index(name) for name in components])
        out: FloatArray = stacked.mean(axis=1)
        return out

    def missing_scores(self) -> dict[str, int]:
        """How many respondents have no score, per construct (the policy's effect)."""
        return {
            name: int(np.isnan(self.values[:, j]).sum()) for j, name in enumerate(self.constructs)
        }


def score_constructs(
    instrument: Instrument,
    responses: Mapping[str, ArrayLike] | ArrayLike | ItemResponses,
    *,
    respondent_id: ArrayLike | None = None,
    item_codes: Sequence[str] | None = None,
    policy: MissingItemPolicy | None = None,
) -> ConstructScores:
    """Score every construct of ``instrument`` for every respondent.

    The score is the mean of the construct's answered items after reverse keying. Under the
    default policy (prorate, at least half of the items answered) a respondent who answered 3
    of 4 trust items gets the mean of those 3; one who answered 1 of 4 gets NaN.

    Args:
        instrument: Constructs and items to score.
        responses: A mapping from item code to answers, a respondents × items array (columns
            ``item_codes``, default the instrument's order), or already validated
            [`ItemResponses`][relmark.trust.scores.ItemResponses]. NaN marks an unanswered item.
        respondent_id: Identifiers, one per row (default ``0..n-1``).
        item_codes: Column names of an array ``responses``.
        policy: The missing-item policy (default: prorate with at least half answered).

    Returns:
        The scores, the counts of answered items and the policy applied.

    Raises:
        InvalidInputError: As [`keyed_responses`][relmark.trust.scores.keyed_responses].

    Examples:
        >>> from relmark.trust import default_kmv_instrument
        >>> kmv = default_kmv_instrument()
        >>> answers = {code: [4.0, float("nan")] for code in kmv.item_codes}
        >>> scores = score_constructs(kmv, answers)
        >>> scores.index("trust").tolist()
        [50.0, nan]
    """
    rule = MissingItemPolicy() if policy is None else policy
    if not isinstance(rule, MissingItemPolicy):
        raise InvalidInputError(
            f"The 'policy' argument must be a MissingItemPolicy. Got {type(rule).__name__}."
        )
    if isinstance(responses, ItemResponses):
        keyed = _matching_responses(instrument, responses)
    else:
        keyed = keyed_responses(
            instrument, responses, respondent_id=respondent_id, item_codes=item_codes
        )
    n = keyed.values.shape[0]
    c = len(instrument.constructs)
    values = np.full((n, c), np.nan)
    answered = np.zeros((n, c), dtype=np.int64)
    n_items = np.zeros(c, dtype=np.int64)
    required = np.zeros(c, dtype=np.int64)
    for j, construct in enumerate(instrument.constructs):
        block = keyed.columns(construct.item_codes)
        present = ~np.isnan(block)
        count = present.sum(axis=1)
        total = np.where(present, block, 0.0).sum(axis=1)
        need = rule.required(len(construct.items))
        ok = count >= need
        values[ok, j] = total[ok] / count[ok]
        answered[:, j] = count
        n_items[j] = len(construct.items)
        required[j] = need
    return ConstructScores(
        respondent_id=keyed.respondent_id,
        constructs=instrument.construct_names,
        values=values,
        answered=answered,
        n_items=n_items,
        required=required,
        scale_min=np.array([k.scale_min for k in instrument.constructs]),
        scale_max=np.array([k.scale_max for k in instrument.constructs]),
        policy=rule,
    )
