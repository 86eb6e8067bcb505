"""Shared test configuration: hypothesis profiles.

``HYPOTHESIS_PROFILE=ci`` (the default, used by ``python3 dev.py test``) is fast and
derandomized so CI runs are reproducible; ``HYPOTHESIS_PROFILE=thorough`` explores more.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=40,
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.register_profile("thorough", max_examples=1000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
