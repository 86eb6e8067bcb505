"""Commitment-trust theory made measurable: instruments, scores, reliability, paths, proxies.

- [`relmark.trust.instrument`][relmark.trust.instrument]: instruments as data
  ([`Instrument`][relmark.trust.instrument.Instrument],
  [`Construct`][relmark.trust.instrument.Construct], [`Item`][relmark.trust.instrument.Item],
  [`StructuralPath`][relmark.trust.instrument.StructuralPath]) and the default KMV and relationship-quality
  instruments.
- [`relmark.trust.scores`][relmark.trust.scores]: construct scores per respondent, reverse
  keying, the missing-item policy, 0-100 indices.
- [`relmark.trust.reliability`][relmark.trust.reliability]: alpha, omega, composite reliability,
  AVE, item diagnostics and the Fornell-Larcker check.
- [`relmark.trust.sem`][relmark.trust.sem]: the KMV model (or any other structure) as a
  latent-variable SEM by maximum likelihood, with fit indices, the likelihood-ratio test
  against the rival and bootstrapped indirect effects — the estimator for claims about theory.
- [`relmark.trust.paths`][relmark.trust.paths]: the fast descriptive path model on composite
  scores (attenuated by measurement error) and the direct-effects rival;
  [`relmark.trust.disattenuated`][relmark.trust.disattenuated] its variant corrected for
  attenuation.
- [`relmark.trust.proxies`][relmark.trust.proxies]: behavioural trust and commitment proxies
  from touchpoints and summaries.
- [`relmark.trust.metrics`][relmark.trust.metrics]: NPS, CSAT and CES.
- [`relmark.trust.scorer`][relmark.trust.scorer]: the
  [`CommitmentTrustScorer`][relmark.trust.scorer.CommitmentTrustScorer].
"""

from typing import TYPE_CHECKING

from relmark._lazy import lazy_exports

if TYPE_CHECKING:
    from relmark.trust.disattenuated import DisattenuatedPathResult, fit_disattenuated_path_model
    from relmark.trust.instrument import (
        Construct,
        Instrument,
        Item,
        PathSign,
        StructuralPath,
        default_kmv_instrument,
        relationship_quality_instrument,
    )
    from relmark.trust.metrics import (
        CESResult,
        CSATResult,
        NPSResult,
        customer_effort_score,
        customer_satisfaction_score,
        net_promoter_score,
    )
    from relmark.trust.paths import (
        EquationFit,
        ModelComparison,
        PathEstimate,
        PathModelResult,
        compare_with_rival,
        fit_path_model,
        rival_paths,
    )
    from relmark.trust.proxies import (
        SummaryProxies,
        TouchpointProxies,
        behavioural_trust_index,
        summary_proxies,
        touchpoint_proxies,
    )
    from relmark.trust.reliability import (
        AlphaResult,
        ConstructReliability,
        FornellLarckerCheck,
        OmegaResult,
        OneFactorFit,
        ReliabilityReport,
        ReliabilityThresholds,
        alpha_if_item_deleted,
        average_variance_extracted,
        composite_reliability,
        cronbach_alpha,
        fit_one_factor,
        item_rest_correlations,
        mcdonald_omega,
        reliability_report,
    )
    from relmark.trust.scorer import CommitmentTrustScorer
    from relmark.trust.scores import (
        ConstructScores,
        ItemResponses,
        MissingItemPolicy,
        MissingStrategy,
        keyed_responses,
        reverse_key,
        score_constructs,
    )
    from relmark.trust.sem import (
        FitIndices,
        IndirectEffect,
        LikelihoodRatioTest,
        ParameterKind,
        SEMParameter,
        SEMResult,
        SEMSpecification,
        fit_sem,
        indirect_effects,
        kmv_model,
        kmv_rival_model,
        likelihood_ratio_test,
        ml_discrepancy,
        simulate_items,
    )

__all__ = [
    "AlphaResult",
    "CESResult",
    "CSATResult",
    "CommitmentTrustScorer",
    "Construct",
    "ConstructReliability",
    "ConstructScores",
    "DisattenuatedPathResult",
    "EquationFit",
    "FitIndices",
    "FornellLarckerCheck",
    "IndirectEffect",
    "Instrument",
    "Item",
    "ItemResponses",
    "LikelihoodRatioTest",
    "MissingItemPolicy",
    "MissingStrategy",
    "ModelComparison",
    "NPSResult",
    "OmegaResult",
    "OneFactorFit",
    "ParameterKind",
    "PathEstimate",
    "PathModelResult",
    "PathSign",
    "ReliabilityReport",
    "ReliabilityThresholds",
    "SEMParameter",
    "SEMResult",
    "SEMSpecification",
    "StructuralPath",
    "SummaryProxies",
    "TouchpointProxies",
    "alpha_if_item_deleted",
    "average_variance_extracted",
    "behavioural_trust_index",
    "compare_with_rival",
    "composite_reliability",
    "cronbach_alpha",
    "customer_effort_score",
    "customer_satisfaction_score",
    "default_kmv_instrument",
    "fit_disattenuated_path_model",
    "fit_one_factor",
    "fit_path_model",
    "fit_sem",
    "indirect_effects",
    "item_rest_correlations",
    "keyed_responses",
    "kmv_model",
    "kmv_rival_model",
    "likelihood_ratio_test",
    "mcdonald_omega",
    "ml_discrepancy",
    "net_promoter_score",
    "relationship_quality_instrument",
    "reliability_report",
    "reverse_key",
    "rival_paths",
    "score_constructs",
    "simulate_items",
    "summary_proxies",
    "touchpoint_proxies",
]

_HOMES = {
    "AlphaResult": "relmark.trust.reliability",
    "CESResult": "relmark.trust.metrics",
    "CSATResult": "relmark.trust.metrics",
    "CommitmentTrustScorer": "relmark.trust.scorer",
    "Construct": "relmark.trust.instrument",
    "ConstructReliability": "relmark.trust.reliability",
    "ConstructScores": "relmark.trust.scores",
    "DisattenuatedPathResult": "relmark.trust.disattenuated",
    "EquationFit": "relmark.trust.paths",
    "FitIndices": "relmark.trust.sem",
    "FornellLarckerCheck": "relmark.trust.reliability",
    "IndirectEffect": "relmark.trust.sem",
    "Instrument": "relmark.trust.instrument",
    "Item": "relmark.trust.instrument",
    "ItemResponses": "relmark.trust.scores",
    "LikelihoodRatioTest": "relmark.trust.sem",
    "MissingItemPolicy": "relmark.trust.scores",
    "MissingStrategy": "relmark.trust.scores",
    "ModelComparison": "relmark.trust.paths",
    "NPSResult": "relmark.trust.metrics",
    "OmegaResult": "relmark.trust.reliability",
    "OneFactorFit": "relmark.trust.reliability",
    "ParameterKind": "relmark.trust.sem",
    "StructuralPath": "relmark.trust.instrument",
    "PathEstimate": "relmark.trust.paths",
    "PathModelResult": "relmark.trust.paths",
    "PathSign": "relmark.trust.instrument",
    "ReliabilityReport": "relmark.trust.reliability",
    "ReliabilityThresholds": "relmark.trust.reliability",
    "SEMParameter": "relmark.trust.sem",
    "SEMResult": "relmark.trust.sem",
    "SEMSpecification": "relmark.trust.sem",
    "SummaryProxies": "relmark.trust.proxies",
    "TouchpointProxies": "relmark.trust.proxies",
    "alpha_if_item_deleted": "relmark.trust.reliability",
    "average_variance_extracted": "relmark.trust.reliability",
    "behavioural_trust_index": "relmark.trust.proxies",
    "compare_with_rival": "relmark.trust.paths",
    "composite_reliability": "relmark.trust.reliability",
    "cronbach_alpha": "relmark.trust.reliability",
    "customer_effort_score": "relmark.trust.metrics",
    "customer_satisfaction_score": "relmark.trust.metrics",
    "default_kmv_instrument": "relmark.trust.instrument",
    "fit_disattenuated_path_model": "relmark.trust.disattenuated",
    "fit_one_factor": "relmark.trust.reliability",
    "fit_path_model": "relmark.trust.paths",
    "fit_sem": "relmark.trust.sem",
    "indirect_effects": "relmark.trust.sem",
    "item_rest_correlations": "relmark.trust.reliability",
    "keyed_responses": "relmark.trust.scores",
    "kmv_model": "relmark.trust.sem",
    "kmv_rival_model": "relmark.trust.sem",
    "likelihood_ratio_test": "relmark.trust.sem",
    "mcdonald_omega": "relmark.trust.reliability",
    "ml_discrepancy": "relmark.trust.sem",
    "net_promoter_score": "relmark.trust.metrics",
    "relationship_quality_instrument": "relmark.trust.instrument",
    "reliability_report": "relmark.trust.reliability",
    "reverse_key": "relmark.trust.scores",
    "rival_paths": "relmark.trust.paths",
    "score_constructs": "relmark.trust.scores",
    "simulate_items": "relmark.trust.sem",
    "summary_proxies": "relmark.trust.proxies",
    "touchpoint_proxies": "relmark.trust.proxies",
}
"""Where each public name is defined: imported on first use (see relmark._lazy)."""

__getattr__, __dir__ = lazy_exports(__name__, _HOMES)
