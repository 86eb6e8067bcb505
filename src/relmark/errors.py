"""The relmark exception and warning tree.

Every exception relmark raises on purpose derives from [`RelmarkError`][relmark.errors.RelmarkError]
*and* from the builtin a caller would naturally catch, so code that knows nothing of relmark still
handles it (``except ValueError`` catches bad input) while code that does can be specific:

```text
Exception
└── RelmarkError
    ├── InvalidInputError        (ValueError)       bad data or a bad argument value
    │   ├── InvalidPayloadError  (ValueError)       a JSON payload with one or more bad fields
    │   └── ConsentRequiredError (ValueError)       a profile value without its lawful basis
    ├── NotFittedError           (ValueError, AttributeError)
    │                                                a fitted-only method called before ``fit``
    ├── ConvergenceError         (RuntimeError)     maximum likelihood did not converge
    ├── UnknownScorerError       (LookupError)      no scorer registered under that name
    └── MissingDependencyError   (ImportError)      an optional extra is not installed

UserWarning
└── RelmarkWarning
    ├── ModelAssumptionWarning   (UserWarning)      data contradict a model assumption
    └── ReliabilityWarning       (UserWarning)      a psychometric threshold is missed
```

Messages name the field or argument, what was expected, and what arrived.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "ConsentRequiredError",
    "ConvergenceError",
    "InvalidInputError",
    "InvalidPayloadError",
    "MissingDependencyError",
    "ModelAssumptionWarning",
    "NotFittedError",
    "ReliabilityWarning",
    "RelmarkError",
    "RelmarkWarning",
    "UnknownScorerError",
]


class RelmarkError(Exception):
    """Base class of every error relmark raises on purpose."""


class InvalidInputError(RelmarkError, ValueError):
    """Input data or an argument value is invalid.

    The message names the field (column, argument), what was expected and what arrived; for
    columnar data it also lists the first offending rows.
    """


class InvalidPayloadError(InvalidInputError):
    """A serialized payload could not be turned back into an object.

    Attributes:
        problems: One human-readable line per bad field, in payload order.
    """

    def __init__(self, target: str, problems: Sequence[str]) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        listing = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(
            f"Cannot build {target} from the payload: {len(self.problems)} problem(s):\n{listing}"
        )


class ConsentRequiredError(InvalidInputError):
    """A profile value was offered for a field whose lawful basis is not available at that moment.

    Raised by ``ProfileBuilder.observe`` for a consent-based field without current consent for
    its purpose, or a legitimate-interest field whose purpose the customer has objected to.
    Nothing is stored.
    """


class NotFittedError(RelmarkError, ValueError, AttributeError):
    """A method that needs fitted state was called before ``fit``."""


class ConvergenceError(RelmarkError, RuntimeError):
    """Maximum-likelihood estimation failed; the message says what to try."""


class UnknownScorerError(RelmarkError, LookupError):
    """No scorer is registered under the requested name; the message lists those that are."""


class MissingDependencyError(RelmarkError, ImportError):
    """An optional dependency (an extra such as ``relmark[pandas]``) is needed but not installed."""


class RelmarkWarning(UserWarning):
    """Base class of every warning relmark emits."""


class ModelAssumptionWarning(RelmarkWarning):
    """The data contradict an assumption of the model (for example spend correlated with frequency)."""


class ReliabilityWarning(RelmarkWarning):
    """A psychometric quality threshold (alpha, composite reliability, AVE, loading sign) is missed."""


def require(module: str, extra: str) -> None:
    """Raise [`MissingDependencyError`][relmark.errors.MissingDependencyError] if ``module`` is absent.

    Args:
        module: Importable module name, e.g. ``"pandas"``.
        extra: The relmark extra that installs it, e.g. ``"pandas"``.

    Raises:
        MissingDependencyError: When the module cannot be imported.
    """
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise MissingDependencyError(
            f"This feature needs the optional dependency {module!r}. "
            f"Install it with: pip install 'relmark[{extra}]'"
        )
