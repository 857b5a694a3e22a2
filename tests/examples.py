"""Hypothesis profiles, and how many examples a property test asks for under each.

- ``ci`` (``CI`` set, ``make test``): derandomized, so a red build is reproducible; every test runs
  the examples it names.
- ``dev`` (the default): the same counts, random.
- ``quick`` (``HYPOTHESIS_PROFILE=quick``, ``make check``): at most ``QUICK_EXAMPLES`` per test, for
  the developer loop; the full counts run in ``make test`` and CI.

No deadline: these tests check results, not speed (bench/ measures speed), and a shared, loaded
machine can stall any example past hypothesis's 200 ms; too_slow is the same timing check.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

QUICK_EXAMPLES = 20
_UNTIMED = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
settings.register_profile("ci", derandomize=True, print_blob=True, **_UNTIMED)
settings.register_profile("dev", print_blob=True, **_UNTIMED)
settings.register_profile("quick", print_blob=True, max_examples=QUICK_EXAMPLES, **_UNTIMED)
PROFILE = "ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev")
settings.load_profile(PROFILE)


def examples(count: int) -> int:
    """``count`` examples, or fewer under the quick profile (a test naming its count would otherwise
    override the profile's)."""
    return min(count, QUICK_EXAMPLES) if PROFILE == "quick" else count
