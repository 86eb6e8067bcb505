"""Find scorers by name: built-ins, explicit registrations and third-party entry points.

A [`ScorerRegistry`][relmark.scoring.registry.ScorerRegistry] maps names to factories (usually
scorer classes). It knows three sources, in order of precedence:

1. scorers registered on it explicitly (``registry.register("name", factory)`` or the
   [`register_scorer`][relmark.scoring.registry.register_scorer] decorator);
2. relmark's built-in scorers, named by ``"module:attribute"`` strings and imported only when
   first asked for (so importing the registry never imports the models), and one
   [`TransactionModelScorer`][relmark.clv.scorers.TransactionModelScorer] per model of
   [`relmark.clv.registry`][relmark.clv.registry], under the model's name with ``model``
   preset: these names come from the model registry itself
   ([`BUILTIN_SCORER_GROUPS`][relmark.scoring.registry.BUILTIN_SCORER_GROUPS]), read on the
   first lookup, so a new model is a new scorer without an edit here;
3. third-party scorers advertised by installed distributions under the entry-point group
   ``relmark.scorers``, discovered on the first lookup and imported only when used.

A name taken by a higher source hides the same name in a lower one.

The module holds one registry, ``DEFAULT_REGISTRY``, used by the module-level functions
[`register_scorer`][relmark.scoring.registry.register_scorer],
[`get_scorer`][relmark.scoring.registry.get_scorer] and
[`available_scorers`][relmark.scoring.registry.available_scorers]. It is relmark's only piece of
module-level mutable state; code (and tests) that must not touch it create their own
``ScorerRegistry()``.

A registry is safe to use from several threads: each holds a lock around its check-then-set
steps (registering a name, discovering entry points, remembering a loaded factory), so two
threads can never both register one name, and a lookup never sees half an update. The lock is
*not* held while a factory's module is imported, because that module may itself register a
scorer (with the decorator) from another thread, which would otherwise wait for the lock forever.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import re
import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, overload

from relmark.errors import InvalidInputError, UnknownScorerError
from relmark.typing import Scorer

__all__ = [
    "BUILTIN_SCORERS",
    "BUILTIN_SCORER_GROUPS",
    "DEFAULT_REGISTRY",
    "ENTRY_POINT_GROUP",
    "ScorerRegistry",
    "available_scorers",
    "get_scorer",
    "register_scorer",
]

ENTRY_POINT_GROUP = "relmark.scorers"
"""The entry-point group third-party distributions use to advertise scorers."""

BUILTIN_SCORERS: Mapping[str, str] = {
    "clv": "relmark.clv.scorers:CLVScorer",
    "commitment_trust": "relmark.trust.scorer:CommitmentTrustScorer",
    "rfm": "relmark.rfm.scorer:RFMScorer",
}
"""relmark's own scorers: name → ``"module:attribute"`` of the factory, imported lazily."""

BUILTIN_SCORER_GROUPS: tuple[str, ...] = ("relmark.clv.scorers:transaction_model_scorers",)
"""``"module:attribute"`` of functions returning ``{name: factory}`` of more built-in scorers,
called on the first lookup: the transaction-model scorers, one per registered model."""

_NAME = re.compile(r"^[a-z][a-z0-9_.\-]*$")

F = TypeVar("F", bound=Callable[..., Any])


def _load(target: str, origin: str) -> Callable[..., Any]:
    module_name, _, attribute = target.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        exc.add_note(f"while loading scorer {target!r} ({origin})")
        raise
    if not callable(obj):
        raise InvalidInputError(
            f"Scorer {target!r} ({origin}) must be a class or factory function; got {obj!r}."
        )
    return obj  # type: ignore[no-any-return]  # checked callable just above


class ScorerRegistry:
    """Name → scorer factory, with lazy built-ins and entry-point discovery.

    Args:
        builtins: Name → ``"module:attribute"`` of lazily imported scorers; defaults to
            [`BUILTIN_SCORERS`][relmark.scoring.registry.BUILTIN_SCORERS].
        builtin_groups: ``"module:attribute"`` of functions returning ``{name: factory}``,
            called on the first lookup; defaults to
            [`BUILTIN_SCORER_GROUPS`][relmark.scoring.registry.BUILTIN_SCORER_GROUPS] when
            ``builtins`` is not given, and to none when it is.
        entry_point_group: Entry-point group scanned on the first lookup, or ``None`` to ignore
            installed third-party scorers.

    Examples:
        >>> registry = ScorerRegistry(builtins={}, entry_point_group=None)
        >>> @registry.register("constant")
        ... class Constant:
        ...     def fit(self, summary):
        ...         return self
        ...
        ...     def score(self, summary): ...
        >>> registry.available()
        ('constant',)
    """

    def __init__(
        self,
        *,
        builtins: Mapping[str, str] | None = None,
        builtin_groups: tuple[str, ...] | None = None,
        entry_point_group: str | None = ENTRY_POINT_GROUP,
    ) -> None:
        self._registered: dict[str, Callable[..., Any]] = {}
        self._builtins: dict[str, str] = dict(BUILTIN_SCORERS if builtins is None else builtins)
        if builtin_groups is None:
            builtin_groups = BUILTIN_SCORER_GROUPS if builtins is None else ()
        self._pending_groups: tuple[str, ...] = tuple(builtin_groups)
        self._grouped: dict[str, Callable[..., Any]] = {}
        self._entry_point_group = entry_point_group
        self._entry_points: dict[str, str] | None = None
        self._loaded: dict[str, Callable[..., Any]] = {}
        # Reentrant: a registration made while the same thread holds the lock must not block.
        self._lock = threading.RLock()

    @overload
    def register(
        self, name: str, factory: None = None, *, replace: bool = False
    ) -> Callable[[F], F]: ...

    @overload
    def register(self, name: str, factory: F, *, replace: bool = False) -> F: ...

    def register(
        self, name: str, factory: F | None = None, *, replace: bool = False
    ) -> Callable[[F], F] | F:
        """Register ``factory`` under ``name``; without ``factory``, return a class decorator.

        Args:
            name: Lower-case name (letters, digits, ``_``, ``-``, ``.``), starting with a letter.
            factory: A scorer class, or any callable taking keyword hyperparameters and returning
                an object that satisfies [`Scorer`][relmark.typing.Scorer].
            replace: Allow replacing an explicit registration of the same name.

        Returns:
            ``factory`` itself, or a decorator that registers and returns its argument.

        Raises:
            InvalidInputError: For a malformed name, a non-callable factory, or a name already
                registered explicitly (unless ``replace``).
        """
        candidate: object = name  # user input: checked at run time whatever the annotation says
        if not isinstance(candidate, str) or not _NAME.match(candidate):
            raise InvalidInputError(
                "The 'name' parameter of ScorerRegistry.register must be a lower-case name "
                f"matching {_NAME.pattern}. Got {name!r}."
            )

        def add(target: F) -> F:
            if not callable(target):
                raise InvalidInputError(
                    f"The factory registered as {name!r} must be callable. Got {target!r}."
                )
            with self._lock:
                if name in self._registered and not replace:
                    raise InvalidInputError(
                        f"A scorer named {name!r} is already registered "
                        f"({self._registered[name]!r}); pass replace=True to replace it."
                    )
                self._registered[name] = target
            return target

        if factory is None:
            return add
        return add(factory)

    def _load_groups(self) -> dict[str, Callable[..., Any]]:
        """The factories of the built-in groups, loaded on the first call (outside the lock)."""
        with self._lock:
            pending = self._pending_groups
        if pending:
            found: dict[str, Callable[..., Any]] = {}
            for target in pending:
                for name, factory in _load(target, "relmark built-in group")().items():
                    found.setdefault(name, factory)
            with self._lock:
                if self._pending_groups:
                    self._grouped = found
                    self._pending_groups = ()
        with self._lock:
            return self._grouped

    def _discover(self) -> dict[str, str]:
        with self._lock:
            if self._entry_points is None:
                found: dict[str, str] = {}
                if self._entry_point_group is not None:
                    for entry in importlib.metadata.entry_points(group=self._entry_point_group):
                        # The first distribution on the path wins, like the import system itself.
                        found.setdefault(entry.name, entry.value)
                self._entry_points = found
            return self._entry_points

    def available(self) -> tuple[str, ...]:
        """Sorted names of every scorer this registry can build, loaded or not."""
        grouped = self._load_groups()
        discovered = self._discover()
        with self._lock:
            return tuple(sorted({*self._registered, *self._builtins, *grouped, *discovered}))

    def factory(self, name: str) -> Callable[..., Any]:
        """The factory registered under ``name`` (importing it if needed).

        Raises:
            UnknownScorerError: Listing the available names when ``name`` is unknown.
        """
        grouped = self._load_groups()
        discovered = self._discover()
        with self._lock:
            if name in self._registered:
                return self._registered[name]
            if name in grouped and name not in self._builtins:
                return grouped[name]
            if name in self._loaded:
                return self._loaded[name]
            if name in self._builtins:
                target, origin = self._builtins[name], "relmark built-in"
            elif name in discovered:
                target = discovered[name]
                origin = f"entry point in group {self._entry_point_group!r}"
            else:
                raise UnknownScorerError(
                    f"No scorer is registered under {name!r}. Available scorers: "
                    f"{', '.join(self.available()) or '(none)'}."
                )
        loaded = _load(target, origin)  # outside the lock: the module may register scorers
        with self._lock:
            # Two threads may both have imported it; both get the factory remembered first.
            return self._loaded.setdefault(name, loaded)

    def get(self, name: str, /, **hyperparameters: Any) -> Scorer:
        """Build a new, unfitted scorer ``name`` configured with ``hyperparameters``.

        Raises:
            UnknownScorerError: Listing the available names when ``name`` is unknown.
            InvalidInputError: When the factory returns something that is not a
                [`Scorer`][relmark.typing.Scorer].
        """
        scorer = self.factory(name)(**hyperparameters)
        if not isinstance(scorer, Scorer):
            raise InvalidInputError(
                f"The scorer factory registered as {name!r} returned {type(scorer).__name__!r}, "
                "which lacks the fit(summary) and score(summary) methods of the Scorer protocol."
            )
        return scorer


DEFAULT_REGISTRY = ScorerRegistry()
"""The registry behind the module-level functions (relmark's only module-level mutable state)."""


def register_scorer(name: str, *, replace: bool = False) -> Callable[[F], F]:
    """Class decorator registering a scorer in the default registry under ``name``.

    Use it as ``@register_scorer("my-scorer")`` above a class satisfying
    [`Scorer`][relmark.typing.Scorer]; ``get_scorer("my-scorer", **hyperparameters)`` then builds
    it. Libraries that should not touch the default registry at import time advertise their
    scorer through the ``relmark.scorers`` entry-point group instead.

    Raises:
        InvalidInputError: For a malformed name, or a name already registered (unless
            ``replace``).
    """
    return DEFAULT_REGISTRY.register(name, replace=replace)


def get_scorer(name: str, /, **hyperparameters: Any) -> Scorer:
    """Build a new scorer from the default registry (see [`ScorerRegistry.get`][relmark.scoring.registry.ScorerRegistry.get])."""
    return DEFAULT_REGISTRY.get(name, **hyperparameters)


def available_scorers() -> tuple[str, ...]:
    """Sorted names of every scorer in the default registry, including undiscovered plug-ins."""
    return DEFAULT_REGISTRY.available()
