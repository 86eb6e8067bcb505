"""Customer-base models for customer lifetime value.

Non-contractual, continuous time: BG/NBD, MBG/NBD, Pareto/NBD; discrete time: BG/BB;
contractual: shifted beta-geometric; spend: Gamma-Gamma; and discounted CLV.

Estimators follow one lifecycle: keyword-only hyperparameters in ``__init__``, ``fit(summary)``
returns ``self``, learned state in trailing-underscore attributes (``params_``, ``covariance_``,
``log_covariance_``, ``standard_errors_``, ``log_likelihood_``, ``fit_``), and
``from_params(...)`` builds a fitted model from known parameters. One exception:
``ShiftedBetaGeometric.fit(periods, churned)`` (and ``fit_cohort(survivors)``) take contractual
data, (periods observed, churned) pairs or survivor counts, since a contract's churn is
observed and does not fit an $(x, t_x, T)$ summary.

Transaction models are listed once, in [`relmark.clv.registry`][relmark.clv.registry]
(``TRANSACTION_MODELS``, ``transaction_model(name)``, ``available_models()``); one
[`TransactionModelScorer`][relmark.clv.TransactionModelScorer] scores any of them.

Uncertainty: [`ParameterDraws`][relmark.clv.uncertainty.ParameterDraws] gives per-customer
prediction intervals (parametric or bootstrap); [`CovariateBGNBD`][relmark.clv.CovariateBGNBD],
[`CovariateMBGNBD`][relmark.clv.CovariateMBGNBD] and
[`CovariateParetoNBD`][relmark.clv.CovariateParetoNBD] fit the models with time-invariant
covariates.

``probability_alive(summary)`` means the same for every transaction model: the probability of
being alive at the end of observation; ``probability_alive_at(t, summary)`` looks ``t`` ahead
(``t`` whole opportunities for the BG/BB).
"""

from typing import TYPE_CHECKING

from relmark._lazy import lazy_exports

if TYPE_CHECKING:
    from relmark.clv._base import (
        FitResult,
        ParameterTable,
        ParametricModel,
        RepeatBuyingModel,
    )
    from relmark.clv.bgbb import BGBB, BGBBParams
    from relmark.clv.bgnbd import BGNBD, BGNBDParams
    from relmark.clv.covariates import (
        CovariateBGNBD,
        CovariateMBGNBD,
        CovariateModel,
        CovariateParetoNBD,
        LikelihoodRatioTest,
    )
    from relmark.clv.diagnostics import (
        CalibrationHoldoutTable,
        FrequencyRecencyMatrix,
        ModelComparison,
        RepeatPurchaseHistogram,
        TrackingCurves,
        calibration_holdout_table,
        compare_models,
        frequency_recency_matrix,
        repeat_purchase_histogram,
        tracking_curves,
    )
    from relmark.clv.gamma_gamma import GammaGamma, GammaGammaParams
    from relmark.clv.mbgnbd import MBGNBD
    from relmark.clv.paretonbd import ParetoNBD, ParetoNBDParams
    from relmark.clv.registry import TRANSACTION_MODELS, available_models, transaction_model
    from relmark.clv.sbg import ShiftedBetaGeometric, ShiftedBetaGeometricParams
    from relmark.clv.scorers import CLV_TIERS, CLVScorer, TransactionModelScorer
    from relmark.clv.uncertainty import ParameterDraws, PredictionInterval
    from relmark.clv.value import customer_lifetime_value
    from relmark.typing import SpendModel, TransactionKernels, TransactionModel

__all__ = [
    "BGBB",
    "BGNBD",
    "CLV_TIERS",
    "MBGNBD",
    "TRANSACTION_MODELS",
    "BGBBParams",
    "BGNBDParams",
    "CLVScorer",
    "CalibrationHoldoutTable",
    "CovariateBGNBD",
    "CovariateMBGNBD",
    "CovariateModel",
    "CovariateParetoNBD",
    "FitResult",
    "FrequencyRecencyMatrix",
    "GammaGamma",
    "GammaGammaParams",
    "LikelihoodRatioTest",
    "ModelComparison",
    "ParameterDraws",
    "ParameterTable",
    "ParametricModel",
    "ParetoNBD",
    "ParetoNBDParams",
    "PredictionInterval",
    "RepeatBuyingModel",
    "RepeatPurchaseHistogram",
    "ShiftedBetaGeometric",
    "ShiftedBetaGeometricParams",
    "SpendModel",
    "TrackingCurves",
    "TransactionKernels",
    "TransactionModel",
    "TransactionModelScorer",
    "available_models",
    "calibration_holdout_table",
    "compare_models",
    "customer_lifetime_value",
    "frequency_recency_matrix",
    "repeat_purchase_histogram",
    "tracking_curves",
    "transaction_model",
]

_HOMES = {
    "BGBB": "relmark.clv.bgbb",
    "BGBBParams": "relmark.clv.bgbb",
    "BGNBD": "relmark.clv.bgnbd",
    "BGNBDParams": "relmark.clv.bgnbd",
    "CLVScorer": "relmark.clv.scorers",
    "CLV_TIERS": "relmark.clv.scorers",
    "CalibrationHoldoutTable": "relmark.clv.diagnostics",
    "CovariateBGNBD": "relmark.clv.covariates",
    "CovariateMBGNBD": "relmark.clv.covariates",
    "CovariateModel": "relmark.clv.covariates",
    "CovariateParetoNBD": "relmark.clv.covariates",
    "FitResult": "relmark.clv._base",
    "FrequencyRecencyMatrix": "relmark.clv.diagnostics",
    "GammaGamma": "relmark.clv.gamma_gamma",
    "GammaGammaParams": "relmark.clv.gamma_gamma",
    "LikelihoodRatioTest": "relmark.clv.covariates",
    "MBGNBD": "relmark.clv.mbgnbd",
    "ModelComparison": "relmark.clv.diagnostics",
    "ParameterDraws": "relmark.clv.uncertainty",
    "ParameterTable": "relmark.clv._base",
    "ParametricModel": "relmark.clv._base",
    "ParetoNBD": "relmark.clv.paretonbd",
    "ParetoNBDParams": "relmark.clv.paretonbd",
    "PredictionInterval": "relmark.clv.uncertainty",
    "RepeatBuyingModel": "relmark.clv._base",
    "RepeatPurchaseHistogram": "relmark.clv.diagnostics",
    "ShiftedBetaGeometric": "relmark.clv.sbg",
    "ShiftedBetaGeometricParams": "relmark.clv.sbg",
    "SpendModel": "relmark.typing",
    "TRANSACTION_MODELS": "relmark.clv.registry",
    "TrackingCurves": "relmark.clv.diagnostics",
    "TransactionKernels": "relmark.typing",
    "TransactionModel": "relmark.typing",
    "TransactionModelScorer": "relmark.clv.scorers",
    "available_models": "relmark.clv.registry",
    "calibration_holdout_table": "relmark.clv.diagnostics",
    "compare_models": "relmark.clv.diagnostics",
    "customer_lifetime_value": "relmark.clv.value",
    "frequency_recency_matrix": "relmark.clv.diagnostics",
    "repeat_purchase_histogram": "relmark.clv.diagnostics",
    "tracking_curves": "relmark.clv.diagnostics",
    "transaction_model": "relmark.clv.registry",
}
"""Where each public name is defined: imported on first use (see relmark._lazy)."""

__getattr__, __dir__ = lazy_exports(__name__, _HOMES)
