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

Messages name the field or argument, what was expected, and what arrived. Errors and warnings
about a user's input also carry these facts as attributes (``field``, ``column``, ``value``,
``rows``, ``expected``, ``hint``, ``hint_field``; see
[`InvalidInputError`][relmark.errors.InvalidInputError]), so a front end such as the command line
words them in its own terms without editing the message.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence

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

_MAX_ROWS = 5
"""How many offending rows an ``InvalidInputError`` records (its message lists as many)."""


class RelmarkError(Exception):
    """Base class of every error relmark raises on purpose."""


class InvalidInputError(RelmarkError, ValueError):
    """Input data or an argument value is invalid.

    The message names the field (column, argument), what was expected and what arrived; for
    columnar data it also lists the first offending rows. Where relmark raises it for a user's
    input, the same facts are attributes too, so a front end (the ``relmark`` command line) can
    speak in its own terms (``--timezone`` for the ``timezone`` argument) without editing the
    message. Every attribute but ``problem`` is ``None`` (``rows``: empty) when not recorded.

    Attributes:
        problem: The message without ``hint``: what is wrong.
        field: The argument whose value is invalid, by its Python name (``"timezone"``,
            ``"observation_end"``); for a column, the argument that named it (``"time"`` of
            ``TransactionLog.read_csv``).
        column: The data column at fault, by the caller's name for it (``"order_date"``).
        value: The offending value, or a list of the first offending values of a column.
        rows: 0-based positions of the first offending rows of ``column`` (at most five: the
            constructor keeps the first five of those it is given).
        expected: What was expected, as the words that complete "must be ..."
            (``"an IANA time-zone name such as 'Europe/Berlin' or 'UTC'"``).
        hint: Advice on fixing the input, in Python terms; the message ends with it.
        hint_field: The argument ``hint`` advises setting (``"allow_returns"``), so a front end
            can give the advice in its own terms.

    Examples:
        >>> error = InvalidInputError(
        ...     "Column 'amount' must be >= 0; got [-5.0] at row(s) 3.",
        ...     column="amount",
        ...     value=[-5.0],
        ...     rows=[3],
        ...     hint="Pass allow_returns=True if negative amounts are returns.",
        ...     hint_field="allow_returns",
        ... )
        >>> str(error)
        "Column 'amount' must be >= 0; got [-5.0] at row(s) 3. Pass allow_returns=True if negative amounts are returns."
        >>> error.problem, error.rows
        ("Column 'amount' must be >= 0; got [-5.0] at row(s) 3.", (3,))
    """

    def __init__(
        self,
        message: str = "",
        /,
        *,
        field: str | None = None,
        column: str | None = None,
        value: object = None,
        rows: Iterable[int] = (),
        expected: str | None = None,
        hint: str | None = None,
        hint_field: str | None = None,
    ) -> None:
        self.problem: str = message
        self.field = field
        self.column = column
        self.value = value
        self.rows: tuple[int, ...] = tuple(int(row) for row in itertools.islice(rows, _MAX_ROWS))
        self.expected = expected
        self.hint = hint
        self.hint_field = hint_field
        super().__init__(message if hint is None else f"{message} {hint}".strip())


class InvalidPayloadError(InvalidInputError):
    """A serialized payload could not be turned back into an object.

    Attributes:
        target: What was being built (a class name).
        problems: One human-readable line per bad field, in payload order.
    """

    def __init__(self, target: str, problems: Sequence[str]) -> None:
        self.target = target
        self.problems: tuple[str, ...] = tuple(problems)
        listing = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(
            f"Cannot build {target} from the payload: {len(self.problems)} problem(s):\n{listing}"
        )

    def __reduce__(self) -> tuple[type[InvalidPayloadError], tuple[str, tuple[str, ...]]]:
        """Rebuild from the arguments, not the message, across processes (Dask, multiprocessing)."""
        return type(self), (self.target, self.problems)


class ConsentRequiredError(InvalidInputError):
    """A profile value was offered for a field whose lawful basis is not available at that moment.

    Raised by ``ProfileBuilder.observe`` for a consent-based field without current consent for
    its purpose, or a legitimate-interest field whose purpose the customer has objected to.
    Nothing is stored.
    """


class NotFittedError(RelmarkError, ValueError, AttributeError):
    """A method that needs fitted state was called before ``fit``."""


class ConvergenceError(RelmarkError, RuntimeError):
    """Maximum-likelihood estimation failed; the message says what went wrong and what to try.

    As for [`InvalidInputError`][relmark.errors.InvalidInputError], the advice is also an
    attribute, so a front end (the ``relmark`` command line) can give it in its own terms
    (``--penalizer 0.001`` for ``penalizer=0.001``) without editing the message.

    Attributes:
        problem: The message without ``hint``: what failed, and the rows at fault if known.
        hint: What to try, in Python terms; the message ends with it (``None``: no advice).
        hint_field: The hyperparameter ``hint`` advises setting first (``"penalizer"``), or
            ``None``.

    Examples:
        >>> error = ConvergenceError(
        ...     "Maximum likelihood did not converge: the gradient is still 0.3.",
        ...     hint="Add a small penalizer (e.g. penalizer=0.001).",
        ...     hint_field="penalizer",
        ... )
        >>> str(error)
        'Maximum likelihood did not converge: the gradient is still 0.3. Add a small penalizer (e.g. penalizer=0.001).'
        >>> error.hint_field
        'penalizer'
    """

    def __init__(
        self, message: str = "", /, *, hint: str | None = None, hint_field: str | None = None
    ) -> None:
        self.problem: str = message
        self.hint = hint
        self.hint_field = hint_field
        super().__init__(message if hint is None else f"{message} {hint}".strip())


class UnknownScorerError(RelmarkError, LookupError):
    """No scorer is registered under the requested name; the message lists those that are."""


class MissingDependencyError(RelmarkError, ImportError):
    """An optional dependency (an extra such as ``relmark[pandas]``) is needed but not installed."""


class RelmarkWarning(UserWarning):
    """Base class of every warning relmark emits.

    Like [`InvalidInputError`][relmark.errors.InvalidInputError], a warning about a user's input
    may carry its facts as attributes (each ``None``, ``rows`` empty, when not recorded), so a
    front end can word the advice in its own terms.

    Attributes:
        problem: The message without ``hint``.
        field: The argument the warning is about, by its Python name (``"observation_end"``).
        rows: 0-based positions of the first rows it is about (at most five).
        hint: Advice, in Python terms; the message ends with it.
        hint_field: The argument ``hint`` advises setting.
    """

    def __init__(
        self,
        message: str = "",
        /,
        *,
        field: str | None = None,
        rows: Iterable[int] = (),
        hint: str | None = None,
        hint_field: str | None = None,
    ) -> None:
        self.problem: str = message
        self.field = field
        self.rows: tuple[int, ...] = tuple(int(row) for row in itertools.islice(rows, _MAX_ROWS))
        self.hint = hint
        self.hint_field = hint_field
        super().__init__(message if hint is None else f"{message} {hint}".strip())


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
