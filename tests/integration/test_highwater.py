"""End offsets as Faust's recovery needs them: one past the last record, on the real broker."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic

from agents.edge.highwater import TansuTransport, true_end_offsets
from agents.worker import faust_app
from streams.kafka_client import BrokerAddress
from streams.local.tansu import EmbeddedBroker
from streams.settings import WorkerSettings
from tests.integration.test_worker import (
    PARTITIONS,
    _assert_equal,
    expected_tables,
    generated_log,
    get_json,
    publish,
)
from tests.integration.worker import WorkerProcess, eventually, tables_from_changelog


def test_the_end_is_past_the_last_record_of_the_last_batch(broker: EmbeddedBroker) -> None:
    topic = "t-highwater"
    KafkaAdminClient(bootstrap_servers=broker.bootstrap).create_topics([NewTopic(topic, 2, 1)])

    async def scenario() -> tuple[dict, dict]:
        producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, linger_ms=200)
        await producer.start()
        sent = [producer.send(topic, key=b"k", value=b"v%d" % i, partition=0) for i in range(5)]
        await asyncio.gather(*[await s for s in sent])  # one batch of five records
        await producer.stop()
        consumer = AIOKafkaConsumer(bootstrap_servers=broker.bootstrap, group_id=None)
        await consumer.start()
        tps = [TopicPartition(topic, 0), TopicPartition(topic, 1)]
        reported = await consumer.end_offsets(tps)
        await consumer.stop()
        return reported, await true_end_offsets(broker.bootstrap, reported)

    reported, true = asyncio.run(scenario())
    assert true == {TopicPartition(topic, 0): 5, TopicPartition(topic, 1): 0}
    # what the broker itself answers (tansu: 1, the last batch's base offset + 1) is never more
    assert reported[TopicPartition(topic, 0)] <= 5


def test_a_worker_on_tansu_recovers_every_changelog_record_and_one_on_kafka_runs_fausts_own_transport(
    broker: EmbeddedBroker, workers: list[WorkerProcess], tmp_path: Path
) -> None:
    """Recovery is what the end-offset check is for: a restarted worker that receives no event serves
    only what it read back from the changelog, so every table it serves must be the full one."""
    prefix, app_id = "t-recover.", "t-recover"
    events, at = generated_log(120, seed=21)
    want = expected_tables(events, at)
    first = WorkerProcess(broker, app_id, prefix, PARTITIONS, tmp_path).start()
    workers.append(first)
    first.wait_ready()
    publish(broker, prefix, [orjson.dumps(e) for e in events], tmp_path / "events.jsonl")
    eventually(lambda: _assert_equal(tables_from_changelog(broker, app_id, at), want), timeout_s=120)
    first.stop()
    second = WorkerProcess(broker, app_id, prefix, PARTITIONS, tmp_path).start()
    workers.append(second)
    second.wait_ready()
    api = f"http://127.0.0.1:{second.web_port}"

    def served_from_recovery() -> None:
        assert get_json(f"{api}/health")[1]["events_applied"] == 0  # nothing came but the changelog
        got = [get_json(f"{api}/publics/{t['public_id']}?at={at}") for t in want]
        assert all(status == 200 for status, _ in got), got[0]  # a 503 while not ready: ask again
        _assert_equal([body for _, body in got], want)

    eventually(served_from_recovery, timeout_s=60)
    assert type(faust_app(WorkerSettings()).transport).__module__ == "faust.transport.drivers.aiokafka"
    tansu = WorkerSettings(broker=BrokerAddress.parse(broker.url))
    assert type(faust_app(tansu).transport) is TansuTransport
