"""Publishing a JSON Lines log to Kafka as contract v1 messages: validated, then batched per public
(``streams.produce.batching``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import orjson

from schemas.contract import MAX_VALUE_BYTES
from schemas.validate import OVERSIZE_REASON, check_message, explain_public, not_json_reason
from streams.badinput import BadTally
from streams.core.timebase import now_ms
from streams.produce.batching import Batcher, Message
from streams.topics import Topics


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
    clock: Callable[[], int] = now_ms,
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
        good, rejections = check_message(value, now_ms=clock())
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
