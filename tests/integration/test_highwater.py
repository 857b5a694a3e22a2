"""End offsets as Faust's recovery needs them: one past the last record, on the real broker."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic

from streams.broker import EmbeddedBroker
from streams.highwater import true_end_offsets


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
