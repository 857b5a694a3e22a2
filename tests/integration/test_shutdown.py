"""SIGTERM, again and again: every stop is bounded, and nothing is lost across them."""

from __future__ import annotations

import time
from pathlib import Path

import orjson

from streams.local.tansu import EmbeddedBroker
from tests.integration.test_worker import (
    PARTITIONS,
    _assert_equal,
    expected_tables,
    generated_log,
    get_json,
    publish,
)
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


def test_a_restart_reads_its_snapshot_then_only_the_changelogs_tail_and_serves_the_tables_of_replay(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    """``--state-snapshot-max-age-s``: a clean stop keeps the tables on disk; the next start reads
    them back and only the changelog after them, and serves exactly what replay gives: for the events
    before the stop and those published while the worker was down."""
    prefix, app_id = "t-snap.", "t-snap"
    events, at = generated_log(60, seed=23)
    half = len(events) // 2
    data_dir = tmp_path / "data"
    env = {"GOSPULSE_STATE_SNAPSHOT_MAX_AGE_S": "3600"}

    def started() -> WorkerProcess:
        worker = WorkerProcess(broker, app_id, prefix, PARTITIONS, tmp_path, env=env, data_dir=data_dir)
        worker.start().wait_ready()
        return worker

    first = started()
    try:
        publish(broker, prefix, [orjson.dumps(e) for e in events[:half]], tmp_path / "first.jsonl")
        want = expected_tables(events[:half], at)
        eventually(lambda: _assert_equal(tables_from_changelog(broker, app_id, at), want), timeout_s=120)
        code, _ = first.terminate(timeout_s=40)
    finally:
        first.stop()
    assert code == 0 and "saved" in first.log.read_text(), first.log.read_text()[-3000:]
    assert (data_dir / f"{app_id}-state-changelog.snapshot").stat().st_size > 0
    publish(broker, prefix, [orjson.dumps(e) for e in events[half:]], tmp_path / "second.jsonl")
    second = started()
    try:

        def read_its_snapshot() -> None:  # said by an app task, which may run just after "Ready"
            log = second.log.read_text()
            assert "records of table state from" in log and "its changelog is read from offsets" in log, log[
                -3000:
            ]

        eventually(read_its_snapshot, timeout_s=30)
        want = expected_tables(events, at)
        api = f"http://127.0.0.1:{second.web_port}"

        def served() -> None:
            got = []
            for table in want:
                status, body = get_json(f"{api}/publics/{table['public_id']}?at={at}")
                assert status == 200, (status, body)
                got.append(body)
            _assert_equal(got, want)

        eventually(served, timeout_s=60)
        _assert_equal(tables_from_changelog(broker, app_id, at), want)
    finally:
        second.stop()
