"""True end offsets, whatever the broker answers to ListOffsets: the ``tansu://`` Faust transport.

tansu (the embedded broker) answers ListOffsets(latest) with the base offset of a partition's last
record batch plus one, not its last offset plus one: after one batch of five records the "end" is
1, not 5. Faust's table recovery reads a changelog partition up to that end, so it would stop
before the rest of the last batch (state silently lost after a restart or rebalance), and a store
holding offsets past that end (a standby, a snapshot, the records a worker wrote itself) crashes
recovery with a ConsistencyError. So the check fetches from the reported end minus one and reads on
until the partition has nothing more: a fetch may answer one batch at a time (a national run's
recovery once stopped a batch short, at 59861 where the store held 59862, and Faust refused it). On
a broker that answers correctly this changes nothing: the fetch finds the record just before the
end, then nothing.

An end that cannot be checked is never taken on trust: recovering to a short end would hand the
worker an old root, and it would then build on it past offsets already committed. So the check
waits for the broker's answer for every partition (a slow machine or broker only delays it), and
gives up, failing the recovery and so the worker, only after ``timeout_s``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, Final, TypeVar

from aiokafka import AIOKafkaConsumer, TopicPartition
from faust.transport.drivers import TRANSPORTS
from faust.transport.drivers import aiokafka as driver

TP = TypeVar("TP")


class EndUnknown(RuntimeError):
    """The broker did not let a changelog partition's end be checked in time."""


async def true_end_offsets(bootstrap: str, ends: Mapping[TP, int], timeout_s: float = 120.0) -> dict[TP, int]:
    """``ends`` (ListOffsets answers) corrected to one past each partition's last record."""
    result = dict(ends)
    todo = {TopicPartition(tp.topic, tp.partition): tp for tp, end in ends.items() if end > 0}  # type: ignore[attr-defined]
    if not todo:
        return result
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(list(todo))
        for tp, original in todo.items():
            consumer.seek(tp, ends[original] - 1)
        pending = set(todo)
        answered_empty: set[TopicPartition] = set()
        while pending:
            if loop.time() > deadline:
                raise EndUnknown(
                    f"could not check the end of changelog partitions {sorted(map(tuple, pending))} within "
                    f"{timeout_s:g} s; refusing to recover from a possibly short changelog"
                )
            batch = await consumer.getmany(*pending, timeout_ms=500)
            for tp in list(pending):
                records = batch.get(tp)
                if records:
                    # read on past it: a fetch may answer one batch at a time, and records written
                    # after the reported end are as real as the ones before
                    original = todo[tp]
                    result[original] = max(result[original], records[-1].offset + 1)
                    answered_empty.discard(tp)
                elif consumer.highwater(tp) is not None:
                    # nothing more: the end stands once a second poll confirms nothing was still
                    # buffered (a fetch from end - 1 answered empty: that record was compacted away)
                    if tp in answered_empty:
                        pending.discard(tp)
                    answered_empty.add(tp)
        return result
    finally:
        await consumer.stop()


#: The broker URL scheme that selects ``TansuTransport`` (``tansu://host:port``).
TANSU_SCHEME: Final = "tansu"


class TansuConsumerThread(driver.AIOKafkaConsumerThread):
    """Recovery reads each changelog partition to its true end (Faust asks ``_highwaters``)."""

    async def _highwaters(self, partitions: list[Any]) -> Mapping[Any, int]:
        ends = await super()._highwaters(partitions)
        transport = self.transport
        bootstrap = ",".join(driver.server_list(transport.url, transport.default_port))
        return await true_end_offsets(bootstrap, ends)


class TansuConsumer(driver.Consumer):
    def _new_consumer_thread(self) -> driver.AIOKafkaConsumerThread:
        return TansuConsumerThread(self, loop=self.loop, beacon=self.beacon)


class TansuTransport(driver.Transport):
    """Faust's aiokafka transport with the end-offset check, chosen by a ``tansu://`` broker URL only:
    a worker on Apache Kafka runs Faust's own transport, untouched."""

    Consumer = TansuConsumer


def register_tansu_transport() -> None:
    """Let Faust apps use ``tansu://host:port`` brokers (idempotent)."""
    if TANSU_SCHEME not in TRANSPORTS.aliases:
        TRANSPORTS.aliases[TANSU_SCHEME] = f"{__name__}:TansuTransport"
