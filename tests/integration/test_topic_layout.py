"""Partitions are the broker's to say: a worker told ``--partitions 8`` over topics of 3 judges every
public, and its live breaches equal ``gospulse replay --breaches``; event topics that disagree stop it
at start with a message naming them."""

from __future__ import annotations

import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import orjson
import redis
from kafka import KafkaAdminClient
from kafka.admin import NewTopic

from streams.local.redis_server import EmbeddedRedis
from streams.local.tansu import EmbeddedBroker, free_port
from streams.produce.synth import make_publics
from tests.integration.test_worker import GOSPULSE, generated_log, get_json, publish, record_of
from tests.integration.worker import WorkerProcess, all_breaches, eventually, replay_breaches


def make_topics(broker: EmbeddedBroker, prefix: str, partitions: dict[str, int]) -> None:
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    try:
        admin.create_topics([NewTopic(prefix + name, n, 1) for name, n in partitions.items()])
    finally:
        admin.close()


def test_a_worker_told_8_partitions_over_topics_of_3_judges_every_public_as_replay_does(
    broker: EmbeddedBroker, redis_server: EmbeddedRedis, workers: list[WorkerProcess], tmp_path: Path
) -> None:
    prefix, app_id = "t-layout.", "t-layout"
    make_topics(broker, prefix, {"posts": 3, "comments": 3, "subscriptions": 3})
    habits = make_publics(42, seed=21)
    events, at = generated_log(42, seed=21)
    worker = WorkerProcess(broker, app_id, prefix, 8, tmp_path, redis_server.url).start()
    workers.append(worker)
    worker.wait_ready()
    assert "the event topics have 3 partitions on the broker" in worker.log.read_text()
    publish(broker, prefix, [orjson.dumps(e) for e in events], tmp_path / "events.jsonl", habits)
    api = f"http://127.0.0.1:{worker.web_port}"

    def everything_applied() -> None:
        status, health = get_json(f"{api}/health")
        assert status == 200 and health["registry_records"] == 42
        assert health["events_applied"] + health["duplicates"] == len(events)

    eventually(everything_applied, timeout_s=120)
    log, registry = tmp_path / "all.jsonl", tmp_path / "registry.jsonl"
    log.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events))
    registry.write_bytes(b"".join(orjson.dumps(record_of(h)) + b"\n" for h in habits))
    want = replay_breaches(log, registry, at)
    assert want, "the generated log gives breaches to compare"
    assert get_json(f"{api}/breaches?at={at}")[1]["breaches"] == want
    assert all_breaches(api, at, limit=7) == want  # page after page, whole publics each

    # every public is judged, and the counts agree once a round has judged them since everything was
    # applied (a round before it may have judged the registered publics with none of their events yet)
    applied_by = time.time_ns() // 1_000_000

    def judged_all() -> dict:
        health = get_json(f"{api}/health")[1]
        assert health["kpi_publics_judged"] == 42 and (health["kpi_judged_at"] or 0) >= applied_by
        return health

    health = eventually(judged_all, timeout_s=120)
    swept = get_json(f"{api}/breaches?at={health['kpi_judged_at']}")[1]["breaches"]
    assert health["kpi_open_breaches"] == len(swept)
    assert health["kpi_publics_in_breach"] == len({b["public_id"] for b in swept})
    assert get_json(f"{api}/breaches/open")[1]["publics"] == health["kpi_publics_in_breach"]
    in_redis = redis.Redis.from_url(redis_server.url).hgetall(f"{app_id}:breaches")
    assert len(in_redis) == health["kpi_publics_in_breach"]
    assert sum(len(orjson.loads(v)) for v in in_redis.values()) == health["kpi_open_breaches"]
    metrics = urllib.request.urlopen(f"{api}/metrics", timeout=10).read().decode()
    in_breach = sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("gospulse_publics_in_breach{")
    )
    assert in_breach == health["kpi_open_breaches"]  # one series per KPI and segment: breaches, summed

    # SIGUSR1 logs what the consumer, the fetcher, the producer and every task are doing: the report a
    # stall logs by itself, each part of it read
    worker.child.signal(signal.SIGUSR1)

    def reported() -> str:
        text = worker.log.read_text()
        assert "consumer report" in text
        return text.split("consumer report", 1)[1]

    report = eventually(reported, timeout_s=30)
    for part in ("faust consumer", "aiokafka consumer", "producer", "tasks on the event loop"):
        assert f"'{part}'" in report
    assert "unavailable" not in report and "guard_pending" in report


def start_worker(broker: str, tmp_path: Path, *options: str) -> subprocess.CompletedProcess:
    """``gospulse worker`` on ``broker``, expected to refuse to start: its exit and what it said."""
    return subprocess.run(
        [
            str(GOSPULSE),
            "worker",
            "--broker",
            broker,
            "--web-port",
            str(free_port()),
            *options,
            "--data-dir",
            str(tmp_path / "data"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_event_topics_that_disagree_stop_the_worker_at_start_naming_them(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    prefix = "t-skew."
    make_topics(broker, prefix, {"posts": 3, "comments": 4, "subscriptions": 3})
    done = start_worker(broker.url, tmp_path, "--topic-prefix", prefix, "--app-id", "t-skew")
    assert done.returncode == 2, done.stderr
    assert "t-skew.posts has 3, t-skew.comments has 4, t-skew.subscriptions has 3" in done.stderr
    assert "same count" in done.stderr


def test_a_port_that_is_no_kafka_broker_is_said_plainly(redis_server: EmbeddedRedis, tmp_path: Path) -> None:
    port = redis_server.url.rsplit(":", 1)[1].split("/")[0]
    done = start_worker(f"127.0.0.1:{port}", tmp_path)
    assert done.returncode == 1
    assert "does not answer as a Kafka broker" in done.stderr and "--broker" in done.stderr
    assert "Traceback" not in done.stderr
