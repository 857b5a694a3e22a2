"""Reproducer: Faust's producer flush returns before its records are sent, so a commit that follows
it (Faust flushes, then commits offsets) can pass events whose output was never written.

    python docs/upstream/faust_flush.py

No broker is needed: Faust's own ``ProducerBuffer`` is started with a send that takes 0.15 s per
record (a slow or busy broker). Eight records are queued and ``flush()`` is awaited, as
``Consumer._commit_offsets`` does before committing. It returns after about 0.1 s with most records
still unsent (``flush_atmost`` gives up after 0.1 s without a record sent). Exits 1 while that is so,
0 once flush waits for every record.
"""

from __future__ import annotations

import asyncio
import sys
import time

import faust


async def reproduce() -> bool:
    app = faust.App("flush-repro")  # no broker is contacted: the buffer alone runs
    buffer = app.producer.buffer
    futures: list[asyncio.Future[None]] = []

    async def slow_send(fut: asyncio.Future[None]) -> None:
        await asyncio.sleep(0.15)
        fut.set_result(None)

    buffer._send_pending = slow_send  # stands in for a broker taking 0.15 s per record
    await buffer.start()
    futures.extend(asyncio.get_running_loop().create_future() for _ in range(8))
    for fut in futures:
        buffer.put(fut)
    started = time.monotonic()
    await buffer.flush()
    unsent = sum(not f.done() for f in futures)
    print(f"flush() returned after {time.monotonic() - started:.2f} s with {unsent} of 8 records unsent")
    await asyncio.gather(*futures)  # they do get sent, after the flush (and the commit) returned
    await buffer.stop()
    return unsent == 0


if __name__ == "__main__":
    sys.exit(0 if asyncio.run(reproduce()) else 1)
