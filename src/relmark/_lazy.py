"""Lazy package namespaces (PEP 562): a package's public names are imported on first use.

Every relmark package ``__init__`` re-exports names from its modules. Importing those modules
eagerly makes first imports from several threads fragile: CPython holds a module's import lock
while it imports the module's parent package, so a thread importing ``relmark.data.log`` and
another importing ``relmark.data`` can each wait for the other (``_DeadlockError``, or a
"partially initialized module" error). With lazy namespaces importing a package never imports its
submodules, so no such cycle exists. Type checkers and the documentation still see every name
through the ``if TYPE_CHECKING:`` imports each ``__init__`` keeps.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, homes: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of a package whose names live in its modules.

    Args:
        package: The package's ``__name__``.
        homes: Public name → the module that defines it.

    Returns:
        ``(__getattr__, __dir__)`` for the package's namespace. A public name is imported from its
        home on first access and cached in the package; a submodule name (``relmark.clv.scorers``)
        is imported as a submodule; anything else raises ``AttributeError``.

    Examples:
        >>> getattr_, dir_ = lazy_exports("relmark.data", {"TimeUnit": "relmark.data.units"})
        >>> getattr_("TimeUnit").__name__
        'TimeUnit'
    """

    def __getattr__(name: str) -> Any:  # noqa: N807 - the PEP 562 hook it becomes
        home = homes.get(name)
        if home is not None:
            value = getattr(importlib.import_module(home), name)
        else:
            try:
                value = importlib.import_module(f"{package}.{name}")
            except ModuleNotFoundError as exc:
                if exc.name != f"{package}.{name}":
                    raise
                raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        vars(sys.modules[package])[name] = value
        return value

    def __dir__() -> list[str]:  # noqa: N807 - the PEP 562 hook it becomes
        return sorted(set(vars(sys.modules[package])) | set(homes))

    return __getattr__, __dir__
