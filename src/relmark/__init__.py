"""relmark: relationship-marketing models.

Customer summaries from transaction logs, buy-till-you-die CLV models, RFM segmentation,
commitment–trust indices and staged, consent-aware customer profiles.
"""

from importlib.metadata import PackageNotFoundError, version

from relmark.data import CompressedSummary, CustomerSummary, TimeUnit
from relmark.errors import (
    ConvergenceError,
    InvalidInputError,
    InvalidPayloadError,
    MissingDependencyError,
    ModelAssumptionWarning,
    NotFittedError,
    ReliabilityWarning,
    RelmarkError,
    RelmarkWarning,
    UnknownScorerError,
)

try:
    __version__ = version("relmark")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0+unknown"

__all__ = [
    "CompressedSummary",
    "ConvergenceError",
    "CustomerSummary",
    "InvalidInputError",
    "InvalidPayloadError",
    "MissingDependencyError",
    "ModelAssumptionWarning",
    "NotFittedError",
    "ReliabilityWarning",
    "RelmarkError",
    "RelmarkWarning",
    "TimeUnit",
    "UnknownScorerError",
    "__version__",
]
