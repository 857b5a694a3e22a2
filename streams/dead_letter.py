"""What the dead-letter topic holds: a rejected input, as it came or as much of it as may be kept, and
why, in the headers every reader of ``<prefix>dead-letter`` relies on.

Two producers write it: the worker (a message it read and could not apply: the original bytes and
where they came from) and the bridges (a notification they could not map: what it was, never its
content, with ``gospulse-source: bridge``). Both build this one record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from schemas.contract import DEAD_LETTER_CUT_BYTES, MAX_VALUE_BYTES


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A rejected input and why.

    For a message the worker read, ``topic``, ``partition`` and ``offset`` locate it, and ``index``
    names one event of a batch. ``value`` is the original bytes, cut to their first
    ``DEAD_LETTER_CUT_BYTES`` when the message was larger than a message may be (``MAX_VALUE_BYTES``,
    contract §1); ``size`` is then the full size. A key over ``DEAD_LETTER_CUT_BYTES`` (never a
    public_id) is cut to it. For anything else, ``source`` says who rejected it.
    """

    value: bytes
    key: bytes | None
    reason: str
    topic: str | None = None
    partition: int | None = None
    offset: int | None = None
    index: int | None = None
    size: int | None = None
    source: str | None = None

    @classmethod
    def of(
        cls,
        value: bytes,
        key: bytes | None,
        reason: str,
        where: tuple[str, int, int],
        index: int | None = None,
    ) -> DeadLetter:
        """A message read from ``where`` (topic, partition, offset), or one event of it."""
        topic, partition, offset = where
        cut = DEAD_LETTER_CUT_BYTES
        size = len(value) if len(value) > MAX_VALUE_BYTES else None
        if key is not None and len(key) > cut:
            key = key[:cut]
        return cls(value[:cut] if size else value, key, reason, topic, partition, offset, index, size)

    @classmethod
    def of_notification(cls, what: Mapping[str, Any], reason: str) -> DeadLetter:
        """A platform's notification the bridge could not map: ``what`` identifies it (platform,
        type, ids), never its content."""
        return cls(orjson.dumps(dict(what)), None, reason, source="bridge")

    def where(self) -> str:
        """Where it came from, for a log line."""
        if self.topic is None:
            return str(self.source)
        return f"{self.topic}/{self.partition}@{self.offset}"

    def headers(self) -> list[tuple[str, bytes]]:
        out = [("gospulse-reason", self.reason.encode())]
        if self.source is not None:
            out.append(("gospulse-source", self.source.encode()))
        if self.topic is not None:
            out += [
                ("gospulse-source-topic", self.topic.encode()),
                ("gospulse-source-partition", str(self.partition).encode()),
                ("gospulse-source-offset", str(self.offset).encode()),
            ]
        if self.index is not None:
            out.append(("gospulse-batch-index", str(self.index).encode()))
        if self.size is not None:
            out.append(("gospulse-cut-at", str(len(self.value)).encode()))
            out.append(("gospulse-value-bytes", str(self.size).encode()))
        return out
