"""The estimator conventions shared by relmark's models and scorers (scikit-learn's, without it).

An estimator's ``__init__`` takes keyword-only hyperparameters and stores each under its own
name, unchanged; learned state lives in trailing-underscore attributes. From that contract
[`Estimator`][relmark._estimator.Estimator] derives ``get_params``/``set_params`` (so
``sklearn.base.clone``, grid searches and pipelines work, with no scikit-learn import here), the
one ``repr`` style (the constructor call with the hyperparameters that differ from their
defaults, then ``# fitted`` or ``# not fitted``) and the one not-fitted check
(``_check_fitted(method)``, raising [`NotFittedError`][relmark.errors.NotFittedError] with one
message shape). Functions that take an estimator as an argument check it with
[`fitted_attribute`][relmark._estimator.fitted_attribute], which raises the same error.
"""

from __future__ import annotations

import inspect
from typing import Any, ClassVar, Self

from relmark.errors import InvalidInputError, NotFittedError

__all__ = ["Estimator", "fitted_attribute"]

_DEFAULT_FIT_HINT = "Call fit(summary) first."


def _not_fitted(subject: str, needer: str, hint: str) -> NotFittedError:
    """The one message shape of every not-fitted error."""
    return NotFittedError(f"{subject} is not fitted yet: {needer} needs its fitted state. {hint}")


def fitted_attribute(estimator: object, attribute: str, *, argument: str, owner: str) -> Any:
    """The fitted attribute ``attribute`` of an estimator passed as an argument, or raise.

    Args:
        estimator: The estimator the caller was given (any object).
        attribute: A trailing-underscore attribute that exists once fitted (``"unit_"``).
        argument: The argument's name, for the message (``"transaction_model"``).
        owner: The function that needs it, for the message (``"customer_lifetime_value"``).

    Raises:
        NotFittedError: When ``estimator`` lacks ``attribute`` (a relmark estimator's own
            ``NotFittedError`` from a property is replaced by this one, naming the argument).

    Examples:
        >>> class Model(Estimator):
        ...     def __init__(self) -> None:
        ...         pass
        >>> fitted_attribute(Model(), "unit_", argument="model", owner="plot_alive")
        Traceback (most recent call last):
        ...
        relmark.errors.NotFittedError: The 'model' argument of plot_alive (a Model) is not fitted yet: plot_alive needs its fitted state. Call fit(summary) first.
    """
    try:
        return getattr(estimator, attribute)
    except AttributeError:  # NotFittedError is an AttributeError too
        kind = type(estimator)
        hint = getattr(kind, "_fit_hint", _DEFAULT_FIT_HINT)
        subject = f"The {argument!r} argument of {owner} (a {kind.__name__})"
        raise _not_fitted(subject, owner, hint) from None


class Estimator:
    """Mixin: hyperparameters from the ``__init__`` signature, sklearn-style.

    A subclass is fitted once it holds a public trailing-underscore attribute (``params_``,
    ``thresholds_``); one whose ``fit`` is not ``fit(summary)`` says how to get a fitted one in
    ``_fit_hint``, and one with a short fitted summary (its parameters) returns it from
    ``_fitted_description`` for the repr.

    Examples:
        >>> class Smoother(Estimator):
        ...     def __init__(self, *, span: int = 3) -> None:
        ...         self.span = span
        >>> s = Smoother(span=5)
        >>> s.get_params()
        {'span': 5}
        >>> s.set_params(span=7)
        Smoother(span=7)  # not fitted
        >>> Smoother()
        Smoother()  # not fitted
        >>> s.smoothed_ = [1.0]
        >>> s
        Smoother(span=7)  # fitted
        >>> Smoother()._check_fitted("smooth")
        Traceback (most recent call last):
        ...
        relmark.errors.NotFittedError: This Smoother is not fitted yet: Smoother.smooth needs its fitted state. Call fit(summary) first.
    """

    _fit_hint: ClassVar[str] = _DEFAULT_FIT_HINT
    """How to get a fitted instance, the last sentence of the not-fitted message."""

    @classmethod
    def _param_names(cls) -> tuple[str, ...]:
        signature = inspect.signature(cls.__init__)
        return tuple(
            name
            for name, p in signature.parameters.items()
            if name != "self" and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
        )

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The hyperparameters, by name, as given to the constructor.

        Args:
            deep: Also return the parameters of nested estimators as ``"name__param"``.
        """
        params = {name: getattr(self, name) for name in self._param_names()}
        if deep:
            for name, value in list(params.items()):
                if isinstance(value, Estimator):
                    params.update({f"{name}__{k}": v for k, v in value.get_params().items()})
        return params

    def set_params(self, **params: Any) -> Self:
        """Set hyperparameters by name (``"name__param"`` reaches a nested estimator).

        Returns:
            ``self``.

        Raises:
            InvalidInputError: For a name that is not a hyperparameter.
        """
        valid = self._param_names()
        for key, value in params.items():
            name, _, nested = key.partition("__")
            if name not in valid:
                raise InvalidInputError(
                    f"{key!r} is not a parameter of {type(self).__name__}; its parameters are "
                    f"{', '.join(valid) or 'none'}."
                )
            if nested:
                inner = getattr(self, name)
                if not isinstance(inner, Estimator):
                    raise InvalidInputError(
                        f"{key!r}: the parameter {name!r} of {type(self).__name__} is not an "
                        "estimator with parameters of its own."
                    )
                inner.set_params(**{nested: value})
            else:
                setattr(self, name, value)
        return self

    def _is_fitted(self) -> bool:
        """Whether ``fit`` has stored learned state (a public trailing-underscore attribute)."""
        return any(k.endswith("_") and not k.startswith("_") for k in vars(self))

    def _check_fitted(self, method: str) -> None:
        """Raise the not-fitted error for ``method`` (its name, e.g. ``"score"``) before fit.

        Raises:
            NotFittedError: "This RFMScorer is not fitted yet: RFMScorer.score needs its
                fitted state. Call fit(summary) first."
        """
        if not self._is_fitted():
            name = type(self).__name__
            raise _not_fitted(f"This {name}", f"{name}.{method}", self._fit_hint)

    def _fitted_description(self) -> str:
        """A short description of the fitted state for the repr (empty: none)."""
        return ""

    def __repr__(self) -> str:
        """The constructor call (hyperparameters that differ from the defaults) and the state.

        A hyperparameter is shown unless it is the very default object or of the default's type
        and equal to it, so ``bins=np.int64(5)`` still shows where the default is ``5``.
        """
        defaults = {
            name: p.default for name, p in inspect.signature(type(self).__init__).parameters.items()
        }
        args = ", ".join(
            f"{k}={v!r}"
            for k, v in self.get_params(deep=False).items()
            if not _is_default(v, defaults.get(k, inspect.Parameter.empty))
        )
        if not self._is_fitted():
            state = "not fitted"
        else:
            description = self._fitted_description()
            state = f"fitted: {description}" if description else "fitted"
        return f"{type(self).__name__}({args})  # {state}"


def _is_default(value: object, default: object) -> bool:
    if value is default:
        return True
    if default is inspect.Parameter.empty or type(value) is not type(default):
        return False
    try:
        return bool(value == default)
    except (TypeError, ValueError):  # arrays and other values without one truth value
        return False
