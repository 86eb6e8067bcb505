"""Private helpers shared by the RFM modules."""

from __future__ import annotations

import numpy as np

__all__ = ["is_int"]


def is_int(value: object) -> bool:
    """Whether ``value`` is a Python or numpy integer (``bool`` excluded)."""
    return isinstance(value, int | np.integer) and not isinstance(value, bool)
