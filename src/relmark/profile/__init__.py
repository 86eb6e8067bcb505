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

from typing import TYPE_CHECKING

from relmark._lazy import lazy_exports

if TYPE_CHECKING:
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
    from relmark.typing import QuestionRanker

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

_HOMES = {
    "AnswerModel": "relmark.profile.ranking",
    "Catalogue": "relmark.profile.catalogue",
    "CatalogueOrderRanker": "relmark.profile.ranking",
    "ConsentAction": "relmark.profile.records",
    "ConsentEvent": "relmark.profile.records",
    "ConsentRequiredError": "relmark.profile.builder",
    "DEFAULT_SCORE_FIELDS": "relmark.profile.derive",
    "DerivedColumn": "relmark.profile.derive",
    "ErasureRecord": "relmark.profile.records",
    "ExpectedValueRanker": "relmark.profile.ranking",
    "FieldSpec": "relmark.profile.catalogue",
    "KOTLER_MATRIX": "relmark.profile.relationship",
    "LawfulBasis": "relmark.profile.catalogue",
    "LifecycleAssessment": "relmark.profile.relationship",
    "LifecycleStage": "relmark.profile.relationship",
    "LifecycleThresholds": "relmark.profile.relationship",
    "PriceSensitivity": "relmark.profile.catalogue",
    "Profile": "relmark.profile.records",
    "ProfileBook": "relmark.profile.derive",
    "ProfileBuilder": "relmark.profile.builder",
    "Provenance": "relmark.profile.records",
    "ProvenancedValue": "relmark.profile.records",
    "PurchaseIntent": "relmark.profile.catalogue",
    "QuestionRanker": "relmark.typing",
    "RankedQuestion": "relmark.profile.ranking",
    "RelationshipLevel": "relmark.profile.relationship",
    "RelationshipMatrix": "relmark.profile.relationship",
    "RelationshipRecommendation": "relmark.profile.relationship",
    "ResolutionPolicy": "relmark.profile.records",
    "Sensitivity": "relmark.profile.catalogue",
    "Stage": "relmark.profile.catalogue",
    "ValueSource": "relmark.profile.records",
    "default_answer_models": "relmark.profile.ranking",
    "default_catalogue": "relmark.profile.catalogue",
    "lifecycle_stage": "relmark.profile.relationship",
    "lifecycle_stages": "relmark.profile.relationship",
    "recommend_relationship_level": "relmark.profile.relationship",
}
"""Where each public name is defined: imported on first use (see relmark._lazy)."""

__getattr__, __dir__ = lazy_exports(__name__, _HOMES)
