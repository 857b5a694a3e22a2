"""SIGTERM, again and again: every stop is bounded, and nothing is lost across them."""

from __future__ import annotations

import time
from pathlib import Path

import orjson

from streams.local.tansu import EmbeddedBroker
from tests.integration.test_worker import PARTITIONS, _assert_equal, expected_tables, generated_log, publish
from tests.integration.worker import WorkerProcess, eventually, tables_from_changelog

STOP_TIMEOUT_S = 8


def test_sigterm_stops_a_worker_within_its_bound_every_time_and_loses_nothing(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    prefix, app_id = "t-term.", "t-term"
    events, at = generated_log(120, seed=17)
    rounds = 6
    size = -(-len(events) // rounds)
    chunks = [events[i : i + size] for i in range(0, len(events), size)]  # each round, a backlog of its own
    took = []
    for n, chunk in enumerate(chunks):
        worker = WorkerProcess(
            broker, app_id, prefix, PARTITIONS, tmp_path, env={"GOSPULSE_STOP_TIMEOUT_S": str(STOP_TIMEOUT_S)}
        ).start()
        try:
            worker.wait_ready()
            publish(broker, prefix, [orjson.dumps(e) for e in chunk], tmp_path / f"chunk{n}.jsonl")
            time.sleep(0.3 * n)  # stopped at a different moment of its backlog each time
            code, seconds = worker.terminate(timeout_s=STOP_TIMEOUT_S + 10)
        finally:
            worker.stop()
        assert seconds <= STOP_TIMEOUT_S + 2, f"round {n}: stopping took {seconds:.1f} s"
        assert code in (0, 1), worker.log.read_text()[-2000:]
        took.append(round(seconds, 1))
    last = WorkerProcess(broker, app_id, prefix, PARTITIONS, tmp_path).start()
    try:
        want = expected_tables(events, at)
        eventually(lambda: _assert_equal(tables_from_changelog(broker, app_id, at), want), timeout_s=120)
    finally:
        last.stop()
    print(f"stops took {took} s")
