"""Commitment-trust theory made measurable: instruments, scores, reliability, paths, proxies.

- [`relmark.trust.instrument`][relmark.trust.instrument]: instruments as data
  ([`Instrument`][relmark.trust.instrument.Instrument],
  [`Construct`][relmark.trust.instrument.Construct], [`Item`][relmark.trust.instrument.Item],
  [`Path`][relmark.trust.instrument.Path]) and the default KMV and relationship-quality
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

from relmark.trust.disattenuated import DisattenuatedPathResult, fit_disattenuated_path_model
from relmark.trust.instrument import (
    Construct,
    Instrument,
    Item,
    Path,
    PathSign,
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
    TouchpointTable,
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
    "Path",
    "PathEstimate",
    "PathModelResult",
    "PathSign",
    "ReliabilityReport",
    "ReliabilityThresholds",
    "SEMParameter",
    "SEMResult",
    "SEMSpecification",
    "SummaryProxies",
    "TouchpointProxies",
    "TouchpointTable",
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
