"""Real services for integration tests, started by the test session itself.

Nothing here is skipped: a broker that cannot start fails the run, locally and in CI alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from streams.local.tansu import EmbeddedBroker
from tests.integration.worker import WorkerProcess


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    log = Path(tmp_path_factory.mktemp("tansu")) / "tansu.log"
    with EmbeddedBroker(log_path=log) as running:
        yield running


@pytest.fixture
def workers(broker: EmbeddedBroker) -> Iterator[list[WorkerProcess]]:
    """Workers a test starts: every one is stopped after it, passed or failed."""
    started: list[WorkerProcess] = []
    yield started
    for worker in started:
        worker.stop()
