"""Publishing for the bridge: a request's events, acknowledged by the broker before it is answered.

Requests arriving within ``linger_s`` of each other are published together: their events go
through the same ``Batcher`` as ``gospulse publish`` (a message per public and topic), on the one
producer factory (idempotent, acks=all), and every waiting request learns the outcome of the whole
flush. A flush that fails in any part fails every request in it: they answer 503, the platform
delivers again, and the events that did land are duplicates downstream (same event ids), counted
once. After a failure the producer is replaced, so a broker that came back empty (or a producer id
it no longer knows) does not wedge the bridge.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from streams.dead_letter import DeadLetter
from streams.produce.batching import Batcher
from streams.topics import Topics

log = logging.getLogger(__name__)


class BrokerUnavailable(RuntimeError):
    """The broker did not acknowledge a flush in time; ``str()`` says what the client saw."""


@dataclass
class _Waiting:
    events: Sequence[dict[str, Any]]
    dead: Sequence[DeadLetter]
    done: asyncio.Future[None] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class AckedPublisher:
    """``await publish(events)`` returns once the broker holds them, or raises ``BrokerUnavailable``."""

    def __init__(
        self,
        make_producer: Callable[[], Any],
        topics: Topics,
        linger_s: float = 0.005,
        ack_timeout_s: float = 10.0,
        on_flush: Callable[[int, float, bool], None] | None = None,
    ) -> None:
        self._make = make_producer
        self.topics = topics
        self.linger_s = linger_s
        self.ack_timeout_s = ack_timeout_s
        self._on_flush = on_flush
        self._producer: Any = None
        self._pending: list[_Waiting] = []
        self._timer: asyncio.TimerHandle | None = None
        self._lock = asyncio.Lock()
        self._flushes: set[asyncio.Future[None]] = set()
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="bridge-producer")

    async def publish(self, events: Sequence[dict[str, Any]], dead: Sequence[DeadLetter] = ()) -> None:
        if not events and not dead:
            return
        waiting = _Waiting(events, dead)
        self._pending.append(waiting)
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.linger_s, self._start_flush)
        await waiting.done

    def _start_flush(self) -> None:
        self._timer = None
        task = asyncio.ensure_future(self._flush())
        self._flushes.add(task)  # held until done: the loop keeps only weak references to tasks
        task.add_done_callback(self._flushes.discard)

    async def _flush(self) -> None:
        async with self._lock:  # one flush at a time: a public's messages keep their order
            batch, self._pending = self._pending, []
            if not batch:
                return
            events = [e for w in batch for e in w.events]
            dead = [d for w in batch for d in w.dead]
            started = time.perf_counter()
            try:
                await asyncio.get_running_loop().run_in_executor(self._executor, self._send, events, dead)
            except Exception as exc:  # the client's errors vary; every one means "not acknowledged"
                log.warning("the broker did not acknowledge %d events: %r", len(events), exc)
                self._report(len(events), started, False)
                for w in batch:
                    if not w.done.done():
                        w.done.set_exception(BrokerUnavailable(repr(exc)))
                return
            self._report(len(events), started, True)
            for w in batch:
                if not w.done.done():
                    w.done.set_result(None)

    def _report(self, events: int, started: float, ok: bool) -> None:
        if self._on_flush is not None:
            self._on_flush(events, time.perf_counter() - started, ok)

    def _send(self, events: list[dict[str, Any]], dead: list[DeadLetter]) -> None:
        """In the producer's thread: send, flush, and raise unless every record was acknowledged."""
        try:
            if self._producer is None:
                self._producer = self._make()
            producer = self._producer
            futures = []
            batcher = Batcher(self.topics)
            for ev in events:
                for topic, key, value, _ in batcher.add(ev):
                    futures.append(producer.send(topic, key=key.encode(), value=value))
            for topic, key, value, _ in batcher.drain():
                futures.append(producer.send(topic, key=key.encode(), value=value))
            for d in dead:
                futures.append(producer.send(self.topics.dead_letter, value=d.value, headers=d.headers()))
            producer.flush(timeout=self.ack_timeout_s)
            for future in futures:
                future.get(timeout=0)  # raises the record's error, or a timeout if it never completed
        except Exception:
            self._discard()
            raise

    def _discard(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            try:
                producer.close(timeout=0)
            except Exception as exc:  # closing a broken client may fail too; it is dropped either way
                log.debug("closing the failed producer: %r", exc)

    async def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        await self._flush()
        await asyncio.get_running_loop().run_in_executor(self._executor, self._close_producer)
        self._executor.shutdown(wait=True)

    def _close_producer(self) -> None:
        if self._producer is not None:
            self._producer.close(timeout=self.ack_timeout_s)
            self._producer = None
