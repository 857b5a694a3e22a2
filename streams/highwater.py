"""True end offsets, whatever the broker answers to ListOffsets.

tansu (the embedded broker) answers ListOffsets(latest) with the base offset of a partition's last
record batch plus one, not its last offset plus one: after one batch of five records the "end" is
1, not 5. Faust's table recovery reads a changelog partition up to that end, so it would stop
before the rest of the last batch (state silently lost after a restart or rebalance), and a standby
that has read further than that end crashes recovery with a ConsistencyError. Fetching from the
reported end minus one returns the whole last batch, whose last record gives the true end. On a
broker that answers correctly this changes nothing: the fetch finds the record just before the end.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from aiokafka import AIOKafkaConsumer, TopicPartition

TP = TypeVar("TP")


async def true_end_offsets(bootstrap: str, ends: Mapping[TP, int], timeout_s: float = 5.0) -> dict[TP, int]:
    """``ends`` (ListOffsets answers) corrected to one past each partition's last record."""
    result = dict(ends)
    todo = {TopicPartition(tp.topic, tp.partition): tp for tp, end in ends.items() if end > 0}  # type: ignore[attr-defined]
    if not todo:
        return result
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(list(todo))
        for tp, original in todo.items():
            consumer.seek(tp, ends[original] - 1)
        pending = set(todo)
        deadline = asyncio.get_running_loop().time() + timeout_s
        while pending and asyncio.get_running_loop().time() < deadline:
            for tp, records in (await consumer.getmany(*pending, timeout_ms=500)).items():
                if records:
                    original = todo[tp]
                    result[original] = max(result[original], records[-1].offset + 1)
                    pending.discard(tp)
        # a partition with nothing at or after end - 1 (compacted away) keeps its answer
        return result
    finally:
        await consumer.stop()


_installed: set[str] = set()


def install_for_faust(bootstrap: str) -> None:
    """Make Faust's recovery use true end offsets (its consumer thread asks ``_highwaters``)."""
    from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

    if bootstrap in _installed:
        return
    _installed.add(bootstrap)
    reported = AIOKafkaConsumerThread._highwaters

    async def _highwaters(self: Any, partitions: Iterable[Any]) -> Mapping[Any, int]:
        ends = await reported(self, partitions)
        return await true_end_offsets(bootstrap, ends)

    AIOKafkaConsumerThread._highwaters = _highwaters
