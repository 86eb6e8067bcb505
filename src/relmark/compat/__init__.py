"""Adapters for users coming from other libraries.

- [`relmark.compat.lifetimes`][relmark.compat.lifetimes]: lifetimes' fitters and summary
  utilities over relmark, so lifetimes code runs by changing its import lines.

The adapter modules import pandas, so this package imports none of them eagerly.
"""

__all__: list[str] = []
