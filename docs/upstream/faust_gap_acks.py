"""Reproducer: Faust fills a gap in a partition's offsets with acknowledgements, so its next commit
passes offsets no agent processed, on any topic, compacted or not.

    python docs/upstream/faust_gap_acks.py

No broker is needed: the consumer's own bookkeeping is driven as ``Consumer._drain_messages`` drives
it. Offsets 0 and 1 of a partition are delivered and acknowledged; the next message delivered has
offset 5 (2, 3 and 4 were fetched and dropped, as happens when a rebalance stops the flow
mid-fetch; faust-streaming/faust#216, #221), so the drain loop records the gap 2..4 and 5 is
acknowledged. The offset Faust would commit is then 6: a restart would never deliver 2, 3 and 4.
For a compacted topic the gap is expected; for an event topic it is loss. Exits 1 while the commit
passes the gap, 0 once it stops before it (commit 2).
"""

from __future__ import annotations

import asyncio
import sys

import faust
from faust.types import TP


class Delivered:
    """Just what ``Consumer.ack`` reads of a message."""

    def __init__(self, tp: TP, offset: int) -> None:
        self.tp, self.topic, self.partition, self.offset = tp, tp.topic, tp.partition, offset
        self.acked = False


async def reproduce() -> bool:
    app = faust.App("gap-repro", broker="kafka://127.0.0.1:1")  # never contacted
    app.topic("events")  # acks are enabled for a topic an agent consumes
    app.topics._acking_topics.add("events")
    consumer = app.consumer
    tp = TP("events", 0)
    for offset in (0, 1):
        consumer.ack(Delivered(tp, offset))
    await consumer._add_gap(tp, 2, 4)  # what _drain_messages does when offset 5 follows 1
    consumer.ack(Delivered(tp, 5))
    committed = consumer._new_offset(tp)
    print(f"processed offsets 0, 1 and 5; Faust would commit {committed} (2, 3 and 4 never reached an agent)")
    return committed == 2


if __name__ == "__main__":
    sys.exit(0 if asyncio.run(reproduce()) else 1)
