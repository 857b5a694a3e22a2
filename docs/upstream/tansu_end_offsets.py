"""Reproducer: tansu answers ListOffsets(latest) with its last batch's base offset + 1.

    python docs/upstream/tansu_end_offsets.py            # starts the embedded tansu itself
    python docs/upstream/tansu_end_offsets.py HOST:PORT  # or against a running broker

One producer request carries one batch of five records to a fresh single-partition topic. Kafka then
reports the partition's end (log end offset) as 5; tansu 0.6.0 reports 1. Prints both readings and
exits 1 while the defect is there, 0 once the end is right.
"""

from __future__ import annotations

import sys
import time

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic


def reproduce(bootstrap: str) -> bool:
    topic = f"end-offsets-{int(time.time() * 1000)}"
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    admin.create_topics([NewTopic(topic, 1, 1)])
    admin.close()
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=1000, batch_size=1 << 20)
    for n in range(5):
        producer.send(topic, value=f"record {n}".encode(), partition=0)
    producer.flush()  # all five in one batch (linger 1 s)
    producer.close()
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    tp = TopicPartition(topic, 0)
    end = consumer.end_offsets([tp])[tp]
    consumer.assign([tp])
    consumer.seek_to_beginning(tp)
    records = []
    deadline = time.monotonic() + 10
    while len(records) < 5 and time.monotonic() < deadline:
        for batch in consumer.poll(timeout_ms=200).values():
            records += batch
    consumer.close()
    print(f"records read: {len(records)} (offsets {[r.offset for r in records]}); ListOffsets(latest): {end}")
    return end == len(records)


def main() -> int:
    if len(sys.argv) > 1:
        return 0 if reproduce(sys.argv[1]) else 1
    from streams.local.tansu import EmbeddedBroker

    with EmbeddedBroker() as broker:
        return 0 if reproduce(broker.bootstrap) else 1


if __name__ == "__main__":
    sys.exit(main())
