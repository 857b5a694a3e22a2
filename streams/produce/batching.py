"""Events into contract v1 messages, pure: grouped by (topic, public) in log order and cut into
messages of at most ``max_events`` events; a public's messages leave in the order its events came,
and the producer (acks=all, idempotent) keeps that order on the wire. Publish, simulate, the
benchmarks and the bridges all batch here."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

import orjson

from schemas.contract import BATCH_MAX_EVENTS
from streams.topics import Topics

#: topic, key, value, number of events
Message = tuple[str, str, bytes, int]

#: Most event time one batch spans: half the engine's 48-hour dedup horizon, so a batch redelivered
#: after a crash never carries an event so far ahead of another that the earlier one's id could have
#: been forgotten. Longer spans would mean fewer, larger messages for a backfill; this is the bound.
MAX_SPAN_MS: Final = 24 * 3_600_000
#: Events per message unless told otherwise: large enough to amortise, far below the 1 MiB bound.
DEFAULT_BATCH_EVENTS: Final = 500


class Batcher:
    """Groups good events into per-(topic, public) messages, preserving each public's order."""

    def __init__(
        self,
        topics: Topics,
        max_events: int = DEFAULT_BATCH_EVENTS,
        max_pending: int = 200_000,
        max_span_ms: int = MAX_SPAN_MS,
    ) -> None:
        if not 1 <= max_events <= BATCH_MAX_EVENTS:
            raise ValueError(f"a batch holds 1 to {BATCH_MAX_EVENTS} events, not {max_events}")
        self.topics = topics
        self.max_events = max_events
        self.max_pending = max_pending
        #: A batch never spans more event time than this (see ``MAX_SPAN_MS``).
        self.max_span_ms = max_span_ms
        self._pending: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._count = 0

    def add(self, ev: dict[str, Any]) -> Iterator[Message]:
        key = (self.topics.for_kind(ev["kind"]), ev["public_id"])
        batch = self._pending.get(key)
        if batch is not None and abs(ev["occurred_at"] - batch[0]["occurred_at"]) > self.max_span_ms:
            yield self._emit(key)
            batch = None
        if batch is None:
            batch = self._pending[key] = []
        batch.append(ev)
        self._count += 1
        if len(batch) >= self.max_events:
            yield self._emit(key)
        if self._count >= self.max_pending:
            yield from self.drain()

    def drain(self) -> Iterator[Message]:
        for key in list(self._pending):
            yield self._emit(key)

    def _emit(self, key: tuple[str, str]) -> Message:
        batch = self._pending.pop(key)
        self._count -= len(batch)
        value = orjson.dumps(batch[0] if len(batch) == 1 else batch)
        return key[0], key[1], value, len(batch)
