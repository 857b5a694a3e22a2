"""Workers on a real broker: what they persist equals ``gospulse replay`` of the same log."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from streams.broker import EmbeddedBroker
from streams.engine import Engine
from streams.replay import replay_events
from streams.synth import log_events, make_publics
from streams.table import UNKNOWN_SEGMENT
from tests.integration.worker import GOSPULSE, WorkerProcess, eventually, tables_from_changelog

HOUR = 3_600_000
PARTITIONS = 4


@pytest.fixture
def workers(broker: EmbeddedBroker, tmp_path: Path) -> Iterator[list[WorkerProcess]]:
    started: list[WorkerProcess] = []
    yield started
    for worker in started:
        worker.stop()


def generated_log(publics: int, seed: int) -> tuple[list[dict], int]:
    now = time.time_ns() // 1_000_000
    events = list(log_events(make_publics(publics, seed), now - 3 * 24 * HOUR, now - 60_000, seed))
    return events, now


def publish(broker: EmbeddedBroker, prefix: str, lines: list[bytes], path: Path) -> str:
    path.write_bytes(b"\n".join(lines) + b"\n")
    done = subprocess.run(
        [
            str(GOSPULSE),
            "publish",
            str(path),
            "--broker",
            broker.bootstrap,
            "--topic-prefix",
            prefix,
            "--partitions",
            str(PARTITIONS),
            "--max-batch",
            "40",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stderr


def expected_tables(events: list[dict], at: int) -> list[dict]:
    return [dict(t, region=UNKNOWN_SEGMENT.region) for t in replay_events(events, at, Engine())]


def test_published_log_gives_the_tables_of_replay_and_bad_events_are_dead_lettered(
    broker: EmbeddedBroker, workers: list[WorkerProcess], tmp_path: Path
) -> None:
    prefix, app_id = "t-live.", "t-live"
    events, at = generated_log(60, seed=11)
    worker = WorkerProcess(broker, app_id, prefix, PARTITIONS, tmp_path).start()
    workers.append(worker)
    worker.wait_ready()
    publish(broker, prefix, [orjson.dumps(e) for e in events], tmp_path / "events.jsonl")
    want = expected_tables(events, at)
    eventually(lambda: _assert_equal(tables_from_changelog(broker, app_id, at), want))


def _assert_equal(got: list[dict], want: list[dict]) -> None:
    assert [t["public_id"] for t in got] == [t["public_id"] for t in want]
    assert got == want
