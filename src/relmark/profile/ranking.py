"""Question rankers: in which order to ask the fields a customer may be asked.

[`ProfileBuilder.next_questions`][relmark.profile.builder.ProfileBuilder.next_questions] first
decides *which* fields may be asked at all (unknown or stale, lawful basis available,
dependencies known, stage reached, channel allowed) and then hands those candidates to a
[`QuestionRanker`][relmark.typing.QuestionRanker], which only orders them. Whatever a
ranker returns, the builder keeps only candidates, so a plug-in cannot break those guarantees.

Two rankers ship:

- [`CatalogueOrderRanker`][relmark.profile.ranking.CatalogueOrderRanker]: the static order of
  the catalogue — what marketing-automation "progressive profiling" does.
- [`ExpectedValueRanker`][relmark.profile.ranking.ExpectedValueRanker] (the default): expected
  value of the information, explained in its docstring.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import attrs

from relmark._validation import is_real
from relmark.domain.vocabulary import Channel
from relmark.errors import InvalidInputError
from relmark.profile._checks import frozen_mapping
from relmark.profile.catalogue import (
    Catalogue,
    FieldSpec,
    PriceSensitivity,
    PurchaseIntent,
    Sensitivity,
)
from relmark.profile.records import Profile

__all__ = [
    "AnswerModel",
    "CatalogueOrderRanker",
    "ExpectedValueRanker",
    "RankedQuestion",
    "default_answer_models",
]


@attrs.frozen(kw_only=True)
class RankedQuestion:
    """A candidate question with the ranker's score and the reason for it.

    Attributes:
        field: The field to ask.
        score: The ranker's score (higher is asked first; its scale is the ranker's own).
        reason: Why the field got this score, for people.
    """

    field: FieldSpec
    score: float
    reason: str


@attrs.frozen(kw_only=True)
class CatalogueOrderRanker:
    """Ask fields in the order of the catalogue (the score is minus the catalogue position)."""

    def rank(
        self, profile: Profile, candidates: Sequence[FieldSpec], *, now: dt.datetime
    ) -> list[RankedQuestion]:
        """Order ``candidates`` by catalogue position."""
        del now
        positions = [(profile.catalogue.position(f.name), f) for f in candidates]
        return [
            RankedQuestion(field=f, score=-float(i), reason=f"catalogue position {i}")
            for i, f in sorted(positions, key=lambda p: p[0])
        ]


def _normalize(value: Iterable[float]) -> tuple[float, ...]:
    return tuple(float(v) for v in value)


def _any_tuple(value: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class AnswerModel:
    r"""What a field's answer is likely to be and what each answer says about the customer.

    Attributes:
        answers: The possible answers $a_1, \dots, a_K$.
        prior: Prior probabilities $p(a_k)$ (non-negative; normalized on construction).
        effect: Multiplicative effect $u(a_k) > 0$ of each answer on the customer's expected
            value: $1.0$ means "this answer tells us nothing new", $1.3$ "customers who answer
            this are worth 30 % more than we currently assume".
    """

    answers: tuple[Any, ...] = attrs.field(converter=_any_tuple)
    prior: tuple[float, ...] = attrs.field(converter=_normalize)
    effect: tuple[float, ...] = attrs.field(converter=_normalize)

    def __attrs_post_init__(self) -> None:
        """Validate the model and normalize the prior."""
        k = len(self.answers)
        if k == 0 or len(self.prior) != k or len(self.effect) != k:
            raise InvalidInputError(
                f"An AnswerModel needs one 'prior' and one 'effect' per answer; got "
                f"{k} answers, {len(self.prior)} priors, {len(self.effect)} effects."
            )
        if any(not math.isfinite(p) or p < 0 for p in self.prior) or sum(self.prior) <= 0:
            raise InvalidInputError(
                f"The 'prior' of an AnswerModel must be finite, >= 0 and not all zero. "
                f"Got {self.prior!r}."
            )
        if any(not math.isfinite(u) or u <= 0 for u in self.effect):
            raise InvalidInputError(
                f"The 'effect' of an AnswerModel must be finite and > 0. Got {self.effect!r}."
            )
        total = sum(self.prior)
        object.__setattr__(self, "prior", tuple(p / total for p in self.prior))

    @property
    def variance_reduction(self) -> float:
        r"""Expected reduction of the variance of the value multiplier from learning the answer.

        With $U = u(A)$ the value multiplier implied by the unknown answer $A$, the law of total
        variance gives $\operatorname{Var}(U) - E[\operatorname{Var}(U \mid A)] =
        \operatorname{Var}(E[U \mid A]) = \sum_k p(a_k)\,(u(a_k) - \bar u)^2$ with
        $\bar u = \sum_k p(a_k) u(a_k)$: all the uncertainty the answer carries is removed by
        asking.
        """
        mean = math.fsum(p * u for p, u in zip(self.prior, self.effect, strict=True))
        return math.fsum(p * (u - mean) ** 2 for p, u in zip(self.prior, self.effect, strict=True))


def default_answer_models() -> dict[str, AnswerModel]:
    """Illustrative answer models for the askable fields of the default catalogue.

    The priors and effects are *assumptions* chosen to make the default ranking sensible
    (purchase intent and price sensitivity move a customer's value most; household size and
    gift buying less; contact preferences not at all). Replace them with models estimated from
    your own customers via
    [`ExpectedValueRanker.from_profiles`][relmark.profile.ranking.ExpectedValueRanker.from_profiles].

    Returns:
        A mapping from field name to [`AnswerModel`][relmark.profile.ranking.AnswerModel].
    """
    return {
        "purchase_intent": AnswerModel(
            answers=tuple(PurchaseIntent), prior=(0.3, 0.45, 0.25), effect=(0.6, 1.0, 1.6)
        ),
        "price_sensitivity": AnswerModel(
            answers=tuple(PriceSensitivity), prior=(0.3, 0.4, 0.3), effect=(1.25, 1.0, 0.8)
        ),
        "buys_as_gifts": AnswerModel(answers=(False, True), prior=(0.6, 0.4), effect=(1.0, 1.2)),
        "household_size": AnswerModel(
            answers=(1, 2, 3, 4, 5),
            prior=(0.3, 0.35, 0.15, 0.15, 0.05),
            effect=(0.9, 1.0, 1.05, 1.1, 1.15),
        ),
        "co_creation_interest": AnswerModel(
            answers=(False, True), prior=(0.8, 0.2), effect=(1.0, 1.3)
        ),
        "referral_willingness": AnswerModel(
            answers=tuple(range(11)),
            prior=(0.03,) * 7 + (0.14, 0.2, 0.23, 0.22),
            effect=(0.8,) * 7 + (1.0, 1.0, 1.2, 1.2),
        ),
        "preferred_contact_channel": AnswerModel(
            answers=tuple(Channel), prior=(1.0,) * len(Channel), effect=(1.0,) * len(Channel)
        ),
    }


_DEFAULT_INTRUSIVENESS: Mapping[Sensitivity, float] = MappingProxyType(
    {
        Sensitivity.LOW: 0.0,
        Sensitivity.MEDIUM: 0.25,
        Sensitivity.HIGH: 0.5,
        Sensitivity.SPECIAL_CATEGORY: 1.0,
    }
)


def _models(value: Mapping[str, AnswerModel]) -> Mapping[str, AnswerModel]:
    return frozen_mapping(value, "ExpectedValueRanker", "models")


def _intrusiveness(value: Mapping[Sensitivity, float]) -> Mapping[Sensitivity, float]:
    return frozen_mapping(value, "ExpectedValueRanker", "intrusiveness")


def _check_models(
    instance: ExpectedValueRanker,
    attribute: attrs.Attribute[Any],
    value: Mapping[object, object],
) -> None:
    del instance
    bad = [k for k, v in value.items() if not isinstance(k, str) or not isinstance(v, AnswerModel)]
    if bad:
        raise InvalidInputError(
            f"The {attribute.name!r} of ExpectedValueRanker must map field names to "
            f"AnswerModel instances; bad entries: {bad!r}."
        )


def _float_validator(
    *, positive: bool, optional: bool
) -> Callable[[ExpectedValueRanker, attrs.Attribute[Any], object], None]:
    """An attrs validator of a finite float > 0 (``positive``) or >= 0; None when ``optional``."""
    expected = ("> 0" if positive else ">= 0") + (" or None" if optional else "")

    def check(
        instance: ExpectedValueRanker, attribute: attrs.Attribute[Any], value: object
    ) -> None:
        del instance
        if value is None and optional:
            return
        if (
            not isinstance(value, int | float)
            or not math.isfinite(value)
            or value < 0
            or (positive and value == 0)
        ):
            raise InvalidInputError(
                f"The {attribute.name!r} parameter of ExpectedValueRanker must be a float "
                f"{expected}. Got {value!r}."
            )

    return check


def _check_intrusiveness(
    instance: ExpectedValueRanker,
    attribute: attrs.Attribute[Any],
    value: Mapping[object, object],
) -> None:
    del instance
    missing = [s.name for s in Sensitivity if s not in value]
    bad = [v for v in value.values() if not isinstance(v, int | float) or v < 0]
    if missing or bad:
        raise InvalidInputError(
            f"The {attribute.name!r} parameter of ExpectedValueRanker must give a number >= 0 "
            f"for every Sensitivity; missing {missing}, bad values {bad}."
        )


@attrs.frozen(kw_only=True)
class ExpectedValueRanker:
    r"""Rank questions by the expected value of the information they yield.

    For each candidate field $f$ with an [`AnswerModel`][relmark.profile.ranking.AnswerModel]
    (prior $p_f$ over answers, value multiplier $u_f$ per answer) the score is

    $$\text{score}_f = w_c \cdot \sum_a p_f(a)\,\bigl(u_f(a) - \bar u_f\bigr)^2
      \;-\; \lambda \cdot \iota(\text{sensitivity}_f)$$

    - the sum is the expected reduction in the variance of the customer's value multiplier
      from learning $f$ (law of total variance; see
      [`AnswerModel.variance_reduction`][relmark.profile.ranking.AnswerModel.variance_reduction]);
    - $w_c = v_c / v_\text{ref}$ weights it by the customer's value: $v_c$ is the profile's
      current value of ``value_field`` (``clv`` by default, floored at 0) and $v_\text{ref}$
      the ``reference_value`` (e.g. the population mean); $w_c = 1$ when either is unknown;
    - $\lambda \cdot \iota$ is the intrusiveness penalty: ``penalty`` times the
      ``intrusiveness`` of the field's sensitivity.

    A field without a model has zero information value (only the penalty). Fields marked
    ``required`` in the catalogue come first regardless of score, because the stage cannot
    complete without them; then higher scores, then catalogue order. Fields with a score below
    ``min_score`` (if set) are left out.

    Attributes:
        models: Answer models by field name (stored as a read-only copy).
        value_field: Profile field holding the customer's value.
        reference_value: Value $v_\text{ref}$ at which $w_c = 1$; ``None`` for $w_c = 1$ always.
        penalty: $\lambda \ge 0$.
        intrusiveness: $\iota$ for each [`Sensitivity`][relmark.profile.catalogue.Sensitivity]
            (stored as a read-only copy).
        min_score: Leave out fields scoring below this; ``None`` to keep all.
    """

    models: Mapping[str, AnswerModel] = attrs.field(
        factory=default_answer_models, converter=_models, validator=_check_models
    )
    value_field: str = "clv"
    reference_value: float | None = attrs.field(
        default=None, validator=_float_validator(positive=True, optional=True)
    )
    penalty: float = attrs.field(
        default=0.02, validator=_float_validator(positive=False, optional=False)
    )
    intrusiveness: Mapping[Sensitivity, float] = attrs.field(
        factory=lambda: _DEFAULT_INTRUSIVENESS,
        converter=_intrusiveness,
        validator=_check_intrusiveness,
    )
    min_score: float | None = None

    def customer_weight(self, profile: Profile) -> float:
        """The weight $w_c$ of the customer's information (1.0 when the value is unknown)."""
        if self.reference_value is None or self.value_field not in profile.catalogue:
            return 1.0
        value = profile.value(self.value_field)
        if not isinstance(value, int | float) or isinstance(value, bool):
            return 1.0
        return max(float(value), 0.0) / self.reference_value

    def score(self, profile: Profile, field: FieldSpec) -> RankedQuestion:
        """Score one field for one profile (see the class docstring)."""
        weight = self.customer_weight(profile)
        model = self.models.get(field.name)
        reduction = 0.0 if model is None else model.variance_reduction
        cost = self.penalty * self.intrusiveness[field.sensitivity]
        value = weight * reduction - cost
        reason = (
            f"value weight {weight:.3g} x variance reduction {reduction:.4g} - intrusiveness "
            f"{cost:.3g} ({field.sensitivity.name.lower()})"
        )
        if model is None:
            reason += "; no answer model, so no information value"
        return RankedQuestion(field=field, score=value, reason=reason)

    def rank(
        self, profile: Profile, candidates: Sequence[FieldSpec], *, now: dt.datetime
    ) -> list[RankedQuestion]:
        """Order ``candidates``: required first, then by score, then catalogue order."""
        del now
        scored = [self.score(profile, f) for f in candidates]
        if self.min_score is not None:
            floor = self.min_score
            scored = [q for q in scored if q.field.required or q.score >= floor]
        return sorted(
            scored,
            key=lambda q: (
                not q.field.required,
                -q.score,
                profile.catalogue.position(q.field.name),
            ),
        )

    @classmethod
    def from_profiles(
        cls,
        profiles: Iterable[Profile],
        *,
        catalogue: Catalogue,
        now: dt.datetime,
        value_field: str = "clv",
        smoothing: float = 1.0,
        penalty: float = 0.02,
        min_score: float | None = None,
    ) -> ExpectedValueRanker:
        r"""Estimate answer models from customers who have already answered.

        For every askable field with a finite answer set, among the profiles that hold both the
        field and ``value_field``:

        - prior $p(a) = (n_a + s) / (n + sK)$ (add-$s$ smoothing over the $K$ answers, counting
          every profile that answered);
        - effect $u(a) = \dfrac{\sum_{i: a_i = a} v_i + s\,\bar v}{(m_a + s)\,\bar v}$: the mean
          value of customers who answered $a$, shrunk towards the overall mean $\bar v$ with
          $s$ pseudo-customers, relative to $\bar v$ ($m_a$ customers answered $a$ and have a
          value).

        The reference value is the mean of ``value_field`` over all profiles that hold it.

        Only values the customer still allows to be processed at ``now`` are learnt from: an
        answer or a customer value is skipped when its field's lawful basis is not available
        at ``now`` ([`Profile.basis_available`][relmark.profile.records.Profile.basis_available]),
        e.g. an answer kept after consent to its purpose was withdrawn (GDPR Art. 7(3) keeps
        past processing lawful, not new processing) or a value after an objection.

        Args:
            profiles: Profiles of customers (answers and values are read with ``value``).
            catalogue: The catalogue whose askable fields get models.
            now: The moment of estimation (timezone-aware), at which lawful bases are checked.
            value_field: Field holding each customer's value (non-negative number).
            smoothing: $s > 0$.
            penalty: Intrusiveness penalty $\lambda$ of the ranker.
            min_score: Passed to the ranker.

        Returns:
            A ranker whose models are the estimated ones (fields nobody answered get none).

        Raises:
            InvalidInputError: For a non-positive ``smoothing``, an unknown ``value_field``, a
                naive ``now`` or a negative customer value.
        """
        if not is_real(smoothing) or not smoothing > 0:
            raise InvalidInputError(
                f"The 'smoothing' parameter of ExpectedValueRanker.from_profiles must be a "
                f"float > 0. Got {smoothing!r}."
            )
        given: object = now
        if not isinstance(given, dt.datetime) or given.utcoffset() is None:
            raise InvalidInputError(
                f"The 'now' argument of ExpectedValueRanker.from_profiles must be a "
                f"timezone-aware datetime. Got {now!r}."
            )
        value_spec = catalogue[value_field]
        rows = [
            (p, p.value(value_field) if p.basis_available(value_spec, now) else None)
            for p in profiles
        ]
        bad = [(p.customer_id, v) for p, v in rows if v is not None and not v >= 0]
        if bad:
            raise InvalidInputError(
                f"The {value_field!r} values must be >= 0; got {bad[:5]!r} (customer, value)."
            )
        values = [float(v) for _, v in rows if v is not None]
        reference = sum(values) / len(values) if values else None
        models: dict[str, AnswerModel] = {}
        for spec in catalogue:
            answers = spec.answers
            if not spec.askable or answers is None:
                continue
            model = _estimate(spec, answers, rows, smoothing, now)
            if model is not None:
                models[spec.name] = model
        return cls(
            models=models,
            value_field=value_field,
            reference_value=reference if reference is not None and reference > 0 else None,
            penalty=penalty,
            min_score=min_score,
        )


def _estimate(
    spec: FieldSpec,
    answers: tuple[Any, ...],
    rows: Sequence[tuple[Profile, Any]],
    smoothing: float,
    now: dt.datetime,
) -> AnswerModel | None:
    counts: dict[Hashable, int] = dict.fromkeys(answers, 0)
    sums: dict[Hashable, float] = dict.fromkeys(answers, 0.0)
    valued: dict[Hashable, int] = dict.fromkeys(answers, 0)
    for profile, value in rows:
        if not profile.basis_available(spec, now):
            continue
        answer = profile.value(spec.name)
        if answer is None or answer not in counts:
            continue
        counts[answer] += 1
        if value is not None:
            sums[answer] += float(value)
            valued[answer] += 1
    n_valued = sum(valued.values())
    if n_valued == 0:
        return None
    mean = sum(sums.values()) / n_valued
    if mean <= 0:
        return None
    return AnswerModel(
        answers=answers,
        prior=[counts[a] + smoothing for a in answers],
        effect=[(sums[a] + smoothing * mean) / ((valued[a] + smoothing) * mean) for a in answers],
    )
