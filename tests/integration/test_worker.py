"""Workers on a real broker: what they persist equals ``gospulse replay`` of the same log."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
import redis
from kafka import KafkaProducer

from agents.edge.delivery import EXIT_NOT_WRITTEN
from streams import redis_keys
from streams.core.engine import Engine
from streams.core.registry import PublicInfo, Registry
from streams.local import up
from streams.local.redis_server import EmbeddedRedis
from streams.local.tansu import EmbeddedBroker
from streams.produce.synth import Habits, busy_log, log_events, make_publics
from streams.replay import replay_events
from tests.integration.worker import (
    GOSPULSE,
    WorkerProcess,
    events_on_broker,
    eventually,
    read_topic,
    tables_from_changelog,
)

HOUR = 3_600_000
PARTITIONS = 4


def generated_log(publics: int, seed: int) -> tuple[list[dict], int]:
    now = time.time_ns() // 1_000_000
    events = list(log_events(make_publics(publics, seed), now - 3 * 24 * HOUR, now - 60_000, seed))
    return events, now


def record_of(h: Habits) -> dict:
    """A public's registry record, in Moscow time whatever its region: these tests publish the registry
    while events flow, and a reply's working latency is computed with the zone known when it is
    applied (contract §4), so a zone arriving mid-stream would make the expected tables depend on
    timing. Zones are tested exactly in tests/streams/core/ and in the live KPI test."""
    return {**h.registry_record(), "tz": "Europe/Moscow"}


def registry_of(habits: list[Habits]) -> Registry:
    registry = Registry()
    for h in habits:
        registry.put(PublicInfo.from_record(record_of(h)))
    return registry


def publish(
    broker: EmbeddedBroker,
    prefix: str,
    lines: list[bytes],
    path: Path,
    registry: Sequence[Habits | dict] = (),
    max_batch: int = 40,
) -> str:
    """``gospulse publish`` of ``lines``, with ``registry`` first: generated publics (``record_of``) or
    registry records as they are; at most ``max_batch`` events per message."""
    path.write_bytes(b"\n".join(lines) + b"\n")
    registry_args = []
    if registry:
        records = [r if isinstance(r, dict) else record_of(r) for r in registry]
        registry_path = path.with_suffix(".registry.jsonl")
        registry_path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
        registry_args = ["--registry", str(registry_path)]
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
            str(max_batch),
            *registry_args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stderr


def get_json(url: str) -> tuple[int, Any]:
    return up.get_json(url, timeout_s=10)


def expected_tables(events: list[dict], at: int, registry: Registry | None = None) -> list[dict]:
    """``gospulse replay`` of ``events``; the changelog has no segments, the API has them."""
    return list(replay_events(events, at, Engine(registry)))


def test_published_log_gives_the_tables_of_replay_and_bad_events_are_dead_lettered(
    broker: EmbeddedBroker, redis_server: EmbeddedRedis, workers: list[WorkerProcess], tmp_path: Path
) -> None:
    prefix, app_id = "t-live.", "t-live"
    events, at = generated_log(60, seed=11)
    worker = WorkerProcess(broker, app_id, prefix, PARTITIONS, tmp_path, redis_server.url).start()
    workers.append(worker)
    worker.wait_ready()
    habits = make_publics(60, seed=11)
    publish(broker, prefix, [orjson.dumps(e) for e in events], tmp_path / "events.jsonl", habits[:50])

    # bad input straight onto the topics, as a careless producer would send it
    good_in_batch = events[0] | {"event_id": "good-in-a-bad-batch", "kind": "reaction.added", "post_id": "p"}
    bad_in_batch = events[0] | {"event_id": "bad-in-a-batch", "v": 2}
    key = events[0]["public_id"].encode()
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap, acks="all")
    producer.send(prefix + "posts", key=key, value=b"{not json")
    producer.send(prefix + "posts", key=key, value=orjson.dumps([good_in_batch, bad_in_batch]))
    producer.send(
        prefix + "posts", key=b"vk:-999", value=orjson.dumps(good_in_batch | {"event_id": "wrong-key"})
    )
    producer.send(
        prefix + "posts",
        key=key,
        value=orjson.dumps(good_in_batch | {"event_id": "future", "occurred_at": at + 3_600_000}),
    )
    producer.flush()
    producer.close()

    want = expected_tables([*events, good_in_batch], at)
    eventually(lambda: _assert_equal(tables_from_changelog(broker, app_id, at), want))

    # the HTTP API answers with the same tables, with the segments of the registry (the global
    # table), and with null segments for the publics the registry does not name
    api = f"http://127.0.0.1:{worker.web_port}"

    def healthy() -> dict:
        status, health = get_json(f"{api}/health")
        assert status == 200 and health["status"] == "ready"
        assert health["events_rejected"] == 4 and health["registry_records"] == 50
        return health

    health = eventually(healthy, timeout_s=30)
    # every event taken once, counted or skipped as a duplicate (+ the good one of the bad batch)
    assert health["events_applied"] + health["duplicates"] == len(events) + 1
    with_segments = expected_tables([*events, good_in_batch], at, registry_of(habits[:50]))
    assert {t["level"] is None for t in with_segments} == {True, False}

    def api_answers() -> None:
        for table in with_segments:
            status, body = get_json(f"{api}/publics/{table['public_id']}?at={at}")
            assert status == 200
            _assert_equal([body], [table])

    eventually(api_answers, timeout_s=30)

    # Redis holds every public's table as of its last push, equal to replay at that instant
    client = redis.Redis.from_url(redis_server.url)
    replays: dict[int, dict[str, dict]] = {}

    def redis_tables() -> None:
        pushed = {k.decode(): orjson.loads(v) for k, v in client.hgetall(redis_keys.tables(app_id)).items()}
        assert sorted(pushed) == [t["public_id"] for t in with_segments]
        for public_id, table in pushed.items():
            if table["at"] not in replays:
                replayed = expected_tables([*events, good_in_batch], table["at"], registry_of(habits[:50]))
                replays[table["at"]] = {t["public_id"]: t for t in replayed}
            _assert_equal([table], [replays[table["at"]][public_id]])

    eventually(redis_tables, timeout_s=30)
    status, body = get_json(f"{api}/publics/vk:-424242")
    assert status == 404 and "unknown public" in body["error"]
    status, body = get_json(f"{api}/publics/{want[0]['public_id']}?at=yesterday")
    assert status == 400 and "ISO 8601" in body["error"]
    status, body = get_json(f"{api}/publics/{want[0]['public_id']}?at={at - 31 * 24 * HOUR}")
    assert status == 400 and "retention" in body["error"]

    def dead_letters() -> list:
        letters = read_topic(broker, prefix + "dead-letter")
        assert len(letters) == 4
        return letters

    letters = {dict(r.headers)["gospulse-reason"].decode(): r for r in eventually(dead_letters, 30)}
    assert letters["not JSON: unexpected character, expected a string key"].value == b"{not json"
    batch = letters["field 'v': must be 1 (this processor speaks contract v1)"]
    assert dict(batch.headers)["gospulse-batch-index"] == b"1"
    assert orjson.loads(batch.value)[1]["event_id"] == "bad-in-a-batch"  # the original bytes, unchanged
    for record in letters.values():
        headers = dict(record.headers)
        assert headers["gospulse-source-topic"] == (prefix + "posts").encode()
        assert int(headers["gospulse-source-offset"]) >= 0 and int(headers["gospulse-source-partition"]) >= 0
    assert any("differs from the message key" in reason for reason in letters)
    assert any("ahead of the processor's clock" in reason for reason in letters)


def test_a_worker_killed_mid_stream_recovers_and_loses_nothing(
    broker: EmbeddedBroker, workers: list[WorkerProcess], tmp_path: Path
) -> None:
    prefix, app_id = "t-kill.", "t-kill"
    events, at = generated_log(400, seed=12)
    first = WorkerProcess(broker, app_id, prefix, PARTITIONS, tmp_path).start()
    workers.append(first)
    first.wait_ready()
    publish(broker, prefix, [orjson.dumps(e) for e in events], tmp_path / "events.jsonl")

    def some_progress() -> None:
        assert len(read_topic(broker, f"{app_id}-state-changelog")) > 20

    eventually(some_progress, 60, 0.1)
    first.kill9()  # mid-stream: the log is far from applied yet
    assert tables_from_changelog(broker, app_id, at) != expected_tables(events, at)
    second = WorkerProcess(broker, app_id, prefix, PARTITIONS, tmp_path).start()
    workers.append(second)
    want = expected_tables(events, at)
    eventually(lambda: _assert_equal(tables_from_changelog(broker, app_id, at), want), timeout_s=120)


def test_two_workers_sharing_partitions_give_the_tables_of_one(
    broker: EmbeddedBroker, workers: list[WorkerProcess], tmp_path: Path
) -> None:
    """Nothing lost or counted twice across a join and a leave.

    This failed about one run in five until recovery read changelog partitions to their true end
    (``agents.edge.highwater``): tansu's end offsets cut recovery short of the last batch's records.
    """
    prefix, app_id = "t-pair.", "t-pair"
    events, at = generated_log(200, seed=13)
    half = len(events) // 2
    first = WorkerProcess(broker, app_id, prefix, PARTITIONS, tmp_path).start()
    workers.append(first)
    first.wait_ready()
    publish(broker, prefix, [orjson.dumps(e) for e in events[:half]], tmp_path / "first.jsonl")
    second = WorkerProcess(broker, app_id, prefix, PARTITIONS, tmp_path).start()  # a rebalance mid-stream
    workers.append(second)
    habits = make_publics(200, seed=13)
    publish(broker, prefix, [orjson.dumps(e) for e in events[half:]], tmp_path / "second.jsonl", habits)
    want = expected_tables(events, at)
    eventually(lambda: _assert_equal(tables_from_changelog(broker, app_id, at), want), timeout_s=120)

    # any worker answers for any public: a request for a public the other worker owns is routed there
    with_segments = expected_tables(events, at, registry_of(habits))

    def api_answers() -> None:
        for worker in (first, second):
            api = f"http://127.0.0.1:{worker.web_port}"
            for table in with_segments[::7]:
                status, body = get_json(f"{api}/publics/{table['public_id']}?at={at}")
                assert status == 200, body
                _assert_equal([body], [table])

    eventually(api_answers, timeout_s=60)
    first.stop()  # and another as the first leaves: the second takes all partitions over
    more, later = generated_log(200, seed=14)
    more = [e for e in more if e["public_id"] in {t["public_id"] for t in want}]
    publish(broker, prefix, [orjson.dumps(e) for e in more], tmp_path / "third.jsonl")
    want = expected_tables(events + more, later)
    eventually(lambda: _assert_equal(tables_from_changelog(broker, app_id, later), want), timeout_s=120)


def _assert_equal(got: list[dict], want: list[dict]) -> None:
    assert [t["public_id"] for t in got] == [t["public_id"] for t in want]
    diffs = [
        (g["public_id"], name, g[name], w[name])
        for g, w in zip(got, want, strict=True)
        for name in w
        if g[name] != w[name]
    ]
    assert not diffs, f"{len(diffs)} fields differ, first: {diffs[:8]}"


def test_a_state_write_that_fails_stops_the_worker_uncommitted_and_a_restart_loses_nothing(
    broker: EmbeddedBroker, workers: list[WorkerProcess], tmp_path: Path
) -> None:
    """The broker refuses state records from the 60th on: the worker must stop before committing the
    offsets of their events, so that a restarted worker applies them again (fail closed)."""
    prefix, app_id = "t-refuse.", "t-refuse"
    events, at = generated_log(150, seed=15)
    faulty = WorkerProcess(
        broker,
        app_id,
        prefix,
        PARTITIONS,
        tmp_path,
        command=[sys.executable, "-m", "tests.integration.faulty_worker"],
        env={"GOSPULSE_TEST_REFUSE_STATE_FROM": "60"},
    ).start()
    workers.append(faulty)
    faulty.wait_ready()
    publish(broker, prefix, [orjson.dumps(e) for e in events], tmp_path / "events.jsonl")
    assert faulty.wait_exit(timeout_s=120) == EXIT_NOT_WRITTEN
    log = faulty.log.read_text()
    assert "was not written" in log and "injected: the broker refused state record 60" in log
    assert "stopping without committing offsets" in log
    on_broker = events_on_broker(broker, prefix)
    assert sorted(e["event_id"] for e in on_broker) == sorted(e["event_id"] for e in events)
    want = expected_tables(on_broker, at)
    assert tables_from_changelog(broker, app_id, at) != want  # it stopped part-way
    second = WorkerProcess(broker, app_id, prefix, PARTITIONS, tmp_path).start()
    workers.append(second)
    eventually(lambda: _assert_equal(tables_from_changelog(broker, app_id, at), want), timeout_s=120)


def test_redis_tables_stay_fresh_without_events_and_come_back_after_redis_restarts(
    broker: EmbeddedBroker, workers: list[WorkerProcess], tmp_path: Path
) -> None:
    """Every table is rewritten once per refresh interval (6 s here), events or not: quiet publics
    are never left stale, and a Redis restarted empty is refilled within one interval."""
    prefix, app_id, refresh_s = "t-fresh.", "t-fresh", 6
    events, _ = generated_log(40, seed=16)
    with EmbeddedRedis(log_path=tmp_path / "redis.log") as own_redis:
        port = own_redis.port
        worker = WorkerProcess(
            broker,
            app_id,
            prefix,
            PARTITIONS,
            tmp_path,
            own_redis.url,
            env={"GOSPULSE_REDIS_REFRESH_S": str(refresh_s)},
        ).start()
        workers.append(worker)
        worker.wait_ready()
        publish(broker, prefix, [orjson.dumps(e) for e in events], tmp_path / "events.jsonl")
        publics = sorted({e["public_id"] for e in events})
        client = redis.Redis.from_url(own_redis.url)

        def all_fresh() -> dict[str, dict]:
            stored = {
                k.decode(): orjson.loads(v) for k, v in client.hgetall(redis_keys.tables(app_id)).items()
            }
            assert sorted(stored) == publics
            oldest = min(t["at"] for t in stored.values())
            assert oldest >= time.time_ns() // 1_000_000 - (refresh_s + 2) * 1000, "a table went stale"
            return stored

        eventually(all_fresh, timeout_s=60)
        for _ in range(3):  # no events any more: the tables must keep being rewritten
            time.sleep(refresh_s / 2)
            stored = all_fresh()
        for at in {t["at"] for t in stored.values()}:  # and rewritten right: replay's tables at their time
            same_at = sorted((t for t in stored.values() if t["at"] == at), key=lambda t: t["public_id"])
            replayed = {t["public_id"]: t for t in expected_tables(events, at)}
            _assert_equal(same_at, [replayed[t["public_id"]] for t in same_at])
    with EmbeddedRedis(port=port, log_path=tmp_path / "redis-again.log"):  # restarted, empty
        started = time.monotonic()
        eventually(all_fresh, timeout_s=refresh_s + 4, every_s=0.5)
        assert time.monotonic() - started <= refresh_s + 4
        client.close()


def test_poison_input_is_dead_lettered_never_fatal(
    broker: EmbeddedBroker, redis_server: EmbeddedRedis, workers: list[WorkerProcess], tmp_path: Path
) -> None:
    """The inputs that used to crash a worker or vanish: each becomes a dead letter and work goes on."""
    prefix, app_id = "t-poison.", "t-poison"
    worker = WorkerProcess(broker, app_id, prefix, PARTITIONS, tmp_path, redis_server.url).start()
    workers.append(worker)
    worker.wait_ready()
    now = time.time_ns() // 1_000_000
    key = b"vk:-1"

    def ev(kind: str, event_id: str, **fields: Any) -> bytes:
        base = {"v": 1, "event_id": event_id, "kind": kind, "public_id": "vk:-1", "occurred_at": now - 60_000}
        return orjson.dumps(base | fields)

    huge = b"[" + ev("reaction.added", "r0", post_id="p") + b"," + b" " * (3 << 19) + b"]"  # 1.5 MiB
    padded = ev("reaction.added", "r", post_id="p", note="x" * 900)
    too_many = b"[" + b",".join([padded] * 1001) + b"]"  # just under 1 MiB: goes unchanged
    assert 1_000_000 < len(too_many) <= 1 << 20
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap, acks="all", max_request_size=4 << 20)
    sends = [
        ("posts", huge),
        ("subscriptions", ev("subscribers.counted", "s1", count=2**64 - 1)),
        ("subscriptions", ev("subscribers.counted", "s2", count=1000)),
        ("subscriptions", ev("subscription.joined", "s3", occurred_at=now - 30_000)),
        ("posts", ev("post.published", "p1", post_id="x" * 400_000)),
        ("posts", ev("comment.created", "c1", post_id="p", comment_id="c", author="citizen")),
        ("posts", ev("post.published", "p2", post_id="p")),
        ("posts", too_many),
    ]
    for topic, value in sends:
        producer.send(prefix + topic, key=key, value=value)
    producer.flush()
    producer.close()
    api = f"http://127.0.0.1:{worker.web_port}"

    def counted() -> dict:
        status, table = get_json(f"{api}/publics/vk:-1")
        assert status == 200 and table["subscribers"] == 1001 and table["posts_24h"] == 1, table
        return table

    eventually(counted, timeout_s=60)
    letters = eventually(lambda: _exactly(5, read_topic(broker, prefix + "dead-letter")), timeout_s=30)
    by_reason = {dict(r.headers)["gospulse-reason"].decode(): r for r in letters}
    cut = next(r for reason, r in by_reason.items() if "1 MiB" in reason)
    assert (
        cut.value == huge[: 64 << 10] and dict(cut.headers)["gospulse-value-bytes"] == str(len(huge)).encode()
    )
    assert any("field 'count': must be 0 to 9007199254740991" in reason for reason in by_reason)
    assert any("field 'post_id': must be 1 to 128 characters" in reason for reason in by_reason)
    assert any("comment.created travels on the comments topic" in reason for reason in by_reason)
    assert by_reason["batch holds 1001 events, at most 1000 are allowed"].value == too_many
    for at in (str(2**64), "9" * 5000, str(now + 2 * 366 * 24 * HOUR)):
        status, body = get_json(f"{api}/publics/vk:-1?at={at}")
        assert status == 400 and body["error"].startswith("at: "), (at[:20], body)
    client = redis.Redis.from_url(redis_server.url)

    def in_redis() -> None:
        table = client.hget(redis_keys.tables(app_id), "vk:-1")
        assert table is not None and orjson.loads(table)["subscribers"] == 1001

    eventually(in_redis, timeout_s=30)
    status, health = get_json(f"{api}/health")
    assert health["events_rejected"] == 5 and worker.child.alive()


def _exactly(n: int, items: list) -> list:
    assert len(items) == n, f"{len(items)} items, expected {n}"
    return items


def test_a_busy_public_works_live_in_records_far_below_the_broker_limit(
    broker: EmbeddedBroker, workers: list[WorkerProcess], tmp_path: Path
) -> None:
    """150 000 events in a day on one public and 20 000 unanswered comments on another: one state
    record each would pass Kafka's 1 MB; paged, every record stays within the 256 KiB bound."""
    prefix, app_id = "t-busy.", "t-busy"
    at = time.time_ns() // 1_000_000
    events = list(busy_log(150_000, 20_000, at - 60_000, seed=18))
    worker = WorkerProcess(broker, app_id, prefix, PARTITIONS, tmp_path).start()
    workers.append(worker)
    worker.wait_ready()
    publish(broker, prefix, [orjson.dumps(e) for e in events], tmp_path / "busy.jsonl")
    want = expected_tables(events, at)
    eventually(
        lambda: _assert_equal(tables_from_changelog(broker, app_id, at), want), timeout_s=300, every_s=5
    )
    records = [r for r in read_topic(broker, f"{app_id}-state-changelog") if r.value is not None]
    assert max(len(r.value) for r in records) <= 256 * 1024
    assert len({r.key for r in records if r.key.startswith(b"vk:-1|")}) > 20  # paged, not one record
