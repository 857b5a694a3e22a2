"""The public registry as a global table: every worker reads the whole compacted ``publics`` topic.

Upstream writes the registry; workers only read it, all of it, whatever partitions of the event
topics they own. Faust's ``GlobalTable`` cannot carry that here: given the upstream topic as its
changelog, its assignor looks the topic up under the default changelog name and the rebalance dies
with an unlogged KeyError, and once that is worked around a worker still skips upstream writes to
the partitions it is "active" for (it expects to be their only writer). So the table is fed by a
plain consumer assigned every partition, outside the consumer group, from the beginning.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, MutableMapping

from aiokafka import AIOKafkaConsumer, TopicPartition

log = logging.getLogger(__name__)


class RegistryFeed:
    """Keeps ``records`` (key bytes to record bytes) equal to the latest value per key of ``topic``."""

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        records: MutableMapping[bytes, bytes] | None = None,
        on_change: Callable[[str], None] | None = None,
    ):
        self.bootstrap = bootstrap
        self.topic = topic
        self.records: MutableMapping[bytes, bytes] = records if records is not None else {}
        #: Told the public_id of every record that changed (its segment in served tables is stale).
        self.on_change = on_change
        #: Set once every record that existed at start has been read: until then segments may be missing.
        self.caught_up = asyncio.Event()
        self.applied = 0

    def apply(self, key: bytes | None, value: bytes | None) -> None:
        if key is None:
            return
        if value is None:
            self.records.pop(key, None)  # a tombstone: the public left the registry
        else:
            self.records[key] = value
        self.applied += 1
        if self.on_change is not None:
            self.on_change(key.decode(errors="replace"))

    def _consumer(self) -> AIOKafkaConsumer:
        return AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            enable_auto_commit=False,
            group_id=None,
            client_id="gospulse-registry",
        )

    async def _wait_for_topic(self, retry_s: float) -> None:
        probe = self._consumer()
        await probe.start()
        try:
            while self.topic not in await probe.topics():
                self.caught_up.set()  # no registry yet: nothing to wait for
                await asyncio.sleep(retry_s)
        finally:
            await probe.stop()

    async def run(self, retry_s: float = 2.0) -> None:
        """Follow the topic until cancelled; waits for it to exist first."""
        log.info("following the registry topic %s", self.topic)
        await self._wait_for_topic(retry_s)
        # a consumer started after the topic exists knows its partitions from its first metadata
        while True:
            consumer = self._consumer()
            await consumer.start()
            partitions = consumer.partitions_for_topic(self.topic)
            if partitions:
                break
            await consumer.stop()
            await asyncio.sleep(retry_s)
        try:
            tps = [TopicPartition(self.topic, p) for p in sorted(partitions)]
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            ends = await consumer.end_offsets(tps)
            behind = {tp for tp in tps if ends[tp] > 0}
            if not behind:
                self.caught_up.set()
            while True:
                batches = await consumer.getmany(timeout_ms=1000, max_records=5000)
                for records in batches.values():
                    for record in records:
                        self.apply(record.key, record.value)
                for tp in list(behind):
                    if await consumer.position(tp) >= ends[tp]:
                        behind.discard(tp)
                if not behind and not self.caught_up.is_set():
                    log.info("registry read: %d publics", len(self.records))
                    self.caught_up.set()
        finally:
            await consumer.stop()
