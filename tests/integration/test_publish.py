"""``gospulse publish`` against a real Kafka-protocol broker: what lands on the topics, and how."""

from __future__ import annotations

import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import orjson
from kafka import KafkaConsumer, TopicPartition

from agents import routing
from schemas.contract import KINDS
from streams.core.engine import Engine
from streams.local.tansu import EmbeddedBroker
from streams.produce.synth import log_events, make_publics
from streams.replay import replay_events
from streams.topics import Topics

GOSPULSE = Path(sys.executable).parent / "gospulse"
HOUR = 3_600_000


def consume_all(
    broker: EmbeddedBroker, topics: list[str], expected_events: int, timeout_s: float = 30
) -> list:
    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap, enable_auto_commit=False)
    partitions = [
        TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or [])
    ]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    records = []
    got = 0
    deadline = time.monotonic() + timeout_s
    while got < expected_events and time.monotonic() < deadline:
        for batch in consumer.poll(timeout_ms=500).values():
            for record in batch:
                records.append(record)
                value = orjson.loads(record.value)
                got += len(value) if isinstance(value, list) else 1
    consumer.close()
    return records


def test_a_log_lands_batched_per_public_in_order_and_bad_lines_stay_out(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    now = time.time_ns() // 1_000_000
    start = now - 3 * 24 * HOUR
    events = list(log_events(make_publics(40, seed=7), start, now - HOUR, seed=7))
    lines = [orjson.dumps(ev) for ev in events]
    bad = {
        5: b"{broken",
        17: orjson.dumps(events[0] | {"occurred_at": now + 3_600_000}),  # an hour ahead of the clock
        40: orjson.dumps(events[1] | {"kind": "post.liked"}),
    }
    for index, raw in sorted(bad.items()):
        lines.insert(index - 1, raw)
    log = tmp_path / "events.jsonl"
    log.write_bytes(b"\n".join(lines) + b"\n")
    prefix = "t-publish."
    done = subprocess.run(
        [
            str(GOSPULSE),
            "publish",
            str(log),
            "--broker",
            broker.bootstrap,
            "--topic-prefix",
            prefix,
            "--partitions",
            "4",
            "--max-batch",
            "50",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert f"published {len(events)} events" in done.stderr
    assert "3 bad (not sent)" in done.stderr and "(line 5)" in done.stderr and "(line 17)" in done.stderr

    topics = Topics(prefix)
    records = consume_all(broker, list(topics.events), len(events))
    arrived: list[dict] = []
    per_partition_order: dict[tuple[str, str], list[int]] = defaultdict(list)
    partition_of: dict[tuple[str, str], set[int]] = defaultdict(set)
    for record in records:
        value = orjson.loads(record.value)
        batch = value if isinstance(value, list) else [value]
        assert 1 <= len(batch) <= 50
        key = record.key.decode()
        assert {ev["public_id"] for ev in batch} == {key}, "a message carries one public's events"
        assert {topics.for_kind(ev["kind"]) for ev in batch} == {record.topic}
        partition_of[(record.topic, key)].add(record.partition)
        arrived.extend(batch)
    assert all(len(p) == 1 for p in partition_of.values()), "a public's messages share one partition"
    # ...the one the API's router computes for the public (agents.routing)
    assert all(p == {routing.partition_of(key, 4)} for (_, key), p in partition_of.items())
    assert sorted(e["event_id"] for e in arrived) == sorted(e["event_id"] for e in events)
    # log order per public and topic survives the trip (records come partition by partition, in offset order)
    for ev in arrived:
        per_partition_order[(KINDS[ev["kind"]][0], ev["public_id"])].append(ev["occurred_at"])
    sent_order: dict[tuple[str, str], list[int]] = defaultdict(list)
    for ev in events:
        sent_order[(KINDS[ev["kind"]][0], ev["public_id"])].append(ev["occurred_at"])
    assert per_partition_order == sent_order
    at = now
    assert list(replay_events(arrived, at, Engine())) == list(replay_events(events, at, Engine()))


def test_an_unreachable_broker_is_named_with_the_fix(tmp_path: Path) -> None:
    log = tmp_path / "e.jsonl"
    log.write_bytes(b"")
    done = subprocess.run(
        [str(GOSPULSE), "publish", str(log), "--broker", "127.0.0.1:1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "no Kafka broker answers at 127.0.0.1:1" in done.stderr
