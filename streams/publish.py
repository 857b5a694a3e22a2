"""Publishing a JSON Lines log to Kafka as contract v1 messages: validated, batched per public.

The batching is pure (``Batcher``): events are grouped by (topic, public) in log order and cut into
messages of at most ``max_events`` events; a public's messages leave in the order its events came,
and the producer (acks=all, idempotent) keeps that order on the wire.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from schemas.contract import BATCH_MAX_EVENTS, MAX_VALUE_BYTES
from schemas.validate import OVERSIZE_REASON, check_message, explain_public, not_json_reason
from streams.badinput import BadTally
from streams.topics import Topics

Message = tuple[str, str, bytes, int]  # topic, key, value, number of events

#: Most event time one batch spans: half the engine's 48-hour dedup horizon, so a batch redelivered
#: after a crash never carries an event so far ahead of another that the earlier one's id could have
#: been forgotten. Longer spans would mean fewer, larger messages for a backfill; this is the bound.
MAX_SPAN_MS = 24 * 3_600_000


class Batcher:
    """Groups good events into per-(topic, public) messages, preserving each public's order."""

    def __init__(
        self,
        topics: Topics,
        max_events: int = 500,
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


@dataclass
class PublishReport:
    lines: int = 0
    events: int = 0
    messages: int = 0
    registry_records: int = 0
    failed: int = 0
    first_failure: str | None = None
    bad: BadTally = field(default_factory=BadTally)

    @property
    def bad_lines(self) -> int:
        return self.bad.total

    def summary(self) -> str:
        out = [
            f"read {self.lines} lines: published {self.events} events in {self.messages} messages"
            + (f", {self.registry_records} registry records" if self.registry_records else "")
            + f"; {self.bad_lines} bad (not sent); {self.failed} messages failed"
        ]
        if self.first_failure:
            out.append(f"first failure: {self.first_failure}")
        out += self.bad.summary_lines("bad input")
        return "\n".join(out)


Send = Callable[[str, str, bytes], None]


def publish_lines(
    lines: Iterable[bytes],
    send: Send,
    batcher: Batcher,
    report: PublishReport,
    now_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000,
    tick: Callable[[PublishReport], None] | None = None,
    tick_every: int = 20_000,
) -> None:
    """Validate each line (with the processor's clock rule) and send good events in batches."""
    for lineno, line in enumerate(lines, 1):
        report.lines = lineno
        if tick is not None and lineno % tick_every == 0:
            tick(report)
        if len(line) > MAX_VALUE_BYTES:
            report.bad.add(str(lineno), OVERSIZE_REASON)
            continue
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            if line.strip():
                report.bad.add(str(lineno), not_json_reason(exc))
            continue
        good, rejections = check_message(value, now_ms=now_ms())
        for rejection in rejections:
            report.bad.add(
                str(lineno) if rejection.index is None else f"{lineno}[{rejection.index}]", rejection.reason
            )
        for ev in good:
            for message in batcher.add(ev):
                _send(send, message, report)
    for message in batcher.drain():
        _send(send, message, report)


def _send(send: Send, message: Message, report: PublishReport) -> None:
    topic, key, value, events = message
    send(topic, key, value)
    report.messages += 1
    report.events += events


def publish_registry(lines: Iterable[bytes], topics: Topics, send: Send, report: PublishReport) -> None:
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = orjson.loads(line)
            reason = explain_public(record)
        except orjson.JSONDecodeError as exc:
            reason = not_json_reason(exc)
        if reason is not None:
            report.bad.add(f"registry {lineno}", reason)
            continue
        send(topics.publics, record["public_id"], orjson.dumps(record))
        report.registry_records += 1
