"""Staged, consent-aware customer profiles with provenance.

A [`ProfileBuilder`][relmark.profile.builder.ProfileBuilder] builds immutable
[`Profile`][relmark.profile.records.Profile]s following a catalogue of
[`FieldSpec`][relmark.profile.catalogue.FieldSpec]s: identification at account opening (stage 1),
behaviour derived from purchases and scores (stage 2), needs and preferences asked in
analysis-driven follow-up (stage 3) and partnership (stage 4). Every value carries its
provenance, history is never overwritten, consent is recorded per purpose, erasure is audited,
and [`next_questions`][relmark.profile.builder.ProfileBuilder.next_questions] picks what to ask
next by the expected value of the information.
"""

from relmark.profile.builder import ConsentRequiredError, ProfileBuilder
from relmark.profile.catalogue import (
    Catalogue,
    FieldSpec,
    LawfulBasis,
    PriceSensitivity,
    PurchaseIntent,
    Sensitivity,
    Stage,
    default_catalogue,
)
from relmark.profile.derive import DEFAULT_SCORE_FIELDS, DerivedColumn, ProfileBook
from relmark.profile.ranking import (
    AnswerModel,
    CatalogueOrderRanker,
    ExpectedValueRanker,
    QuestionRanker,
    RankedQuestion,
    default_answer_models,
)
from relmark.profile.records import (
    ConsentAction,
    ConsentEvent,
    ErasureRecord,
    Profile,
    Provenance,
    ProvenancedValue,
    ResolutionPolicy,
    ValueSource,
)
from relmark.profile.relationship import (
    KOTLER_MATRIX,
    LifecycleAssessment,
    LifecycleStage,
    LifecycleThresholds,
    RelationshipLevel,
    RelationshipMatrix,
    RelationshipRecommendation,
    lifecycle_stage,
    lifecycle_stages,
    recommend_relationship_level,
)

__all__ = [
    "DEFAULT_SCORE_FIELDS",
    "KOTLER_MATRIX",
    "AnswerModel",
    "Catalogue",
    "CatalogueOrderRanker",
    "ConsentAction",
    "ConsentEvent",
    "ConsentRequiredError",
    "DerivedColumn",
    "ErasureRecord",
    "ExpectedValueRanker",
    "FieldSpec",
    "LawfulBasis",
    "LifecycleAssessment",
    "LifecycleStage",
    "LifecycleThresholds",
    "PriceSensitivity",
    "Profile",
    "ProfileBook",
    "ProfileBuilder",
    "Provenance",
    "ProvenancedValue",
    "PurchaseIntent",
    "QuestionRanker",
    "RankedQuestion",
    "RelationshipLevel",
    "RelationshipMatrix",
    "RelationshipRecommendation",
    "ResolutionPolicy",
    "Sensitivity",
    "Stage",
    "ValueSource",
    "default_answer_models",
    "default_catalogue",
    "lifecycle_stage",
    "lifecycle_stages",
    "recommend_relationship_level",
]
