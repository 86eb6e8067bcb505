"""The estimator conventions shared by relmark's models and scorers (scikit-learn's, without it).

An estimator's ``__init__`` takes keyword-only hyperparameters and stores each under its own
name, unchanged; learned state lives in trailing-underscore attributes. From that contract
[`Estimator`][relmark._estimator.Estimator] derives ``get_params``/``set_params`` (so
``sklearn.base.clone``, grid searches and pipelines work, with no scikit-learn import here) and a
``repr`` that shows the constructor call and whether the estimator is fitted.
"""

from __future__ import annotations

import inspect
from typing import Any, Self

from relmark.errors import InvalidInputError

__all__ = ["Estimator"]


class Estimator:
    """Mixin: hyperparameters from the ``__init__`` signature, sklearn-style.

    Examples:
        >>> class Smoother(Estimator):
        ...     def __init__(self, *, span: int = 3) -> None:
        ...         self.span = span
        >>> s = Smoother(span=5)
        >>> s.get_params()
        {'span': 5}
        >>> s.set_params(span=7)
        Smoother(span=7)  # not fitted
    """

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
        return any(k.endswith("_") and not k.startswith("_") for k in vars(self))

    def __repr__(self) -> str:
        """The constructor call with its hyperparameters, and whether the estimator is fitted."""
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params(deep=False).items())
        state = "fitted" if self._is_fitted() else "not fitted"
        return f"{type(self).__name__}({args})  # {state}"
