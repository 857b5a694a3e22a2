"""Which worker holds a public: its Kafka partition, and the worker owning that partition.

Producers key every message by ``public_id`` and use Kafka's default partitioner (murmur2, as the
Java client, kafka-python and ``gospulse publish`` do), so a public's partition is a pure function
of its id. The state table's changelog partition of a public is that same partition, and Faust's
assignor publishes which worker (web URL) holds each changelog partition.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache

from kafka.partitioner.default import murmur2

#: Set on a request one worker forwards to another, so it is answered there and never forwarded again.
ROUTED_HEADER = "X-Gospulse-Routed"


@lru_cache(maxsize=1 << 19)  # murmur2 is pure Python here: once per public (175 000 fit), not per round
def partition_of(public_id: str, partitions: int) -> int:
    """The partition Kafka's default partitioner gives a message keyed ``public_id``."""
    return (murmur2(public_id.encode()) & 0x7FFFFFFF) % partitions


Distribution = Mapping[str, Mapping[str, Sequence[int]]]


def owner_of(distribution: Distribution, topic: str, partition: int) -> str | None:
    """The URL of the worker holding ``partition`` of ``topic`` as active, if the assignment names one.

    ``distribution`` is Faust's changelog distribution: worker URL to topic to active partitions.
    """
    for url, topics in distribution.items():
        if partition in topics.get(topic, ()):
            return url
    return None
