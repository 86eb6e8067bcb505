"""Customer-base models for customer lifetime value: BG/NBD, Gamma-Gamma and discounted CLV.

Estimators follow one lifecycle: keyword-only hyperparameters in ``__init__``, ``fit(summary)``
returns ``self``, learned state in trailing-underscore attributes (``params_``, ``covariance_``,
``standard_errors_``, ``log_likelihood_``, ``fit_``), and ``from_params(...)`` builds a fitted model
from known parameters.
"""

from relmark.clv._base import FitResult, ParameterTable, ParametricModel
from relmark.clv.bgnbd import BGNBD, BGNBDParams
from relmark.clv.gamma_gamma import GammaGamma, GammaGammaParams
from relmark.clv.value import SpendModel, TransactionModel, customer_lifetime_value

__all__ = [
    "BGNBD",
    "BGNBDParams",
    "FitResult",
    "GammaGamma",
    "GammaGammaParams",
    "ParameterTable",
    "ParametricModel",
    "SpendModel",
    "TransactionModel",
    "customer_lifetime_value",
]
