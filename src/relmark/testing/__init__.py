"""Helpers for users' own tests.

- [`relmark.testing.strategies`][relmark.testing.strategies]: hypothesis strategies that generate
  valid relmark records (needs ``hypothesis``, imported only by that module).
- [`check_scorer`][relmark.testing.conformance.check_scorer]: the conformance kit every scorer,
  built-in or third-party, should pass.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["check_scorer"]

if TYPE_CHECKING:
    from relmark.testing.conformance import check_scorer


def __getattr__(name: str) -> Any:
    # Imported lazily so `import relmark.testing` stays cheap and never imports hypothesis.
    if name == "check_scorer":
        from relmark.testing.conformance import check_scorer

        return check_scorer
    raise AttributeError(name)
