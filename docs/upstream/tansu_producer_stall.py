"""Reproducer attempt: an aiokafka producer whose records to freshly created topics are never sent,
while a consumer's subscription makes tansu auto-create other topics.

    python docs/upstream/tansu_producer_stall.py [ROUNDS]   # starts the embedded tansu per round

Each round mimics a worker's start on the embedded broker: a consumer subscribes to three topics
that do not exist yet (tansu creates them from the Metadata request), while an admin client creates
two other topics of four partitions and a producer (acks=all) sends 60 records to them at once. A
round in which a record is not acknowledged within 30 s is a stall: it prints what the producer
waits on. Exits 1 on a stall, 0 when every round delivered.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic


async def round_on(bootstrap: str, n: int) -> bool:
    stamp = f"{n}-{int(time.time() * 1000)}"
    consumer = AIOKafkaConsumer(
        *(f"ev-{stamp}.{t}" for t in ("posts", "comments", "subscriptions")),
        bootstrap_servers=bootstrap,
        group_id=f"g-{stamp}",
        auto_offset_reset="earliest",
    )
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await asyncio.gather(consumer.start(), admin.start(), producer.start())
    try:
        changelogs = [f"cl-{stamp}.state", f"cl-{stamp}.breaches"]
        await admin.create_topics([NewTopic(t, 4, 1) for t in changelogs])
        sends = [
            await producer.send(changelogs[i % 2], b"v" * 50, key=str(i).encode(), partition=i % 4)
            for i in range(60)
        ]
        _, pending = await asyncio.wait(sends, timeout=30)
        if pending:
            conns = {k: [type(r[1]).__name__ for r in c._requests] for k, c in producer.client._conns.items()}
            batches = producer._message_accumulator._batches.items()
            waiting = {f"{tp.topic}/{tp.partition}": len(q) for tp, q in batches if q}
            print(
                f"round {n}: {len(pending)} of 60 records unacknowledged after 30 s; batches waiting "
                f"{waiting}; requests awaiting an answer {conns}",
                flush=True,
            )
            return False
        return True
    finally:
        for closing in (consumer.stop(), admin.close(), producer.stop()):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(closing, 10)


def main() -> int:
    from streams.local.tansu import EmbeddedBroker

    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    for n in range(rounds):
        with EmbeddedBroker() as broker:
            if not asyncio.run(round_on(broker.bootstrap, n)):
                return 1
    print(f"{rounds} rounds, every record acknowledged")
    return 0


if __name__ == "__main__":
    sys.exit(main())
