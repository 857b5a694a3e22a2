"""What a worker does with Kafka messages, free of Faust: decode, dead-letter, apply, persist.

The Faust agent (``agents.ingest``) hands it messages and a chunk store (a changelogged Faust
table); tests hand it a dict. Persisting is coalesced: ``flush`` writes each changed public once
per batch of messages, as ``streams.layout`` lays it out (records of bounded size, the root last),
and the agent calls it before the batch's offsets can be acknowledged, so a public's state reaches
the changelog before the offsets that cover it are committed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from schemas.contract import DEAD_LETTER_CUT_BYTES, MAX_VALUE_BYTES
from schemas.validate import decode_message
from streams.engine import Engine
from streams.layout import ROOT_KEY, Layout, Limits, load, plan
from streams.state import PublicState
from streams.table import snapshot


class ChunkStore(Protocol):
    """Where state records live: key ``public_id`` for a root, ``public_id|…`` for its other records."""

    def get(self, key: str) -> bytes | None: ...

    def put(self, key: str, partition: int, value: bytes | None) -> None:
        """Write (``None``: delete) a chunk of a public whose events come from ``partition``."""
        ...


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A rejected message (or one event of a batch, ``index``) and where it came from.

    ``value`` is the original bytes, cut to their first ``DEAD_LETTER_CUT_BYTES`` when the message was
    larger than a message may be (``MAX_VALUE_BYTES``, contract §1); ``size`` is then the full size,
    and the source topic, partition and offset locate the whole. A key over ``DEAD_LETTER_CUT_BYTES``
    (never a public_id) is cut to it.
    """

    value: bytes
    key: bytes | None
    reason: str
    topic: str
    partition: int
    offset: int
    index: int | None
    size: int | None = None

    @classmethod
    def of(
        cls,
        value: bytes,
        key: bytes | None,
        reason: str,
        where: tuple[str, int, int],
        index: int | None = None,
    ) -> DeadLetter:
        topic, partition, offset = where
        cut = DEAD_LETTER_CUT_BYTES
        size = len(value) if len(value) > MAX_VALUE_BYTES else None
        if key is not None and len(key) > cut:
            key = key[:cut]
        return cls(value[:cut] if size else value, key, reason, topic, partition, offset, index, size)

    def headers(self) -> list[tuple[str, bytes]]:
        out = [
            ("gospulse-reason", self.reason.encode()),
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


#: Far longer than any commit interval, so two ticks ago is before the last commit.
SETTLE_EVERY_S = 30.0


def record_key(public_id: str, suffix: str) -> str:
    return public_id if suffix == ROOT_KEY else f"{public_id}|{suffix}"


class Pipeline:
    def __init__(
        self,
        store: ChunkStore,
        engine: Engine | None = None,
        clock: Callable[[], int] | None = None,
        families: Mapping[str, str] | None = None,
        limits: Limits | None = None,
    ):
        """``families`` maps each event topic to its contract family (``Topics.families``), so that a
        kind on the wrong topic is dead-lettered; without it, kinds are not checked against topics."""
        self.store = store
        self.families = families or {}
        self.engine = engine if engine is not None else Engine()
        self.clock = clock or (lambda: time.time_ns() // 1_000_000)
        self.limits = limits or Limits()
        self._partition_of: dict[str, int] = {}
        self._dirty: set[str] = set()
        #: Where each held public's pages are (``streams.layout``).
        self._layouts: dict[str, Layout] = {}
        #: Publics written since the serving layer last took them (see ``take_unserved``).
        self._unserved: set[str] = set()
        #: The root bytes this worker last wrote per public: if the store holds another object, a
        #: rebalance gave the public to another worker in between and the memory copy is stale.
        self._written: dict[str, bytes] = {}
        self.applied = 0
        self.duplicates = 0
        self.rejected = 0

    def state(self, public_id: str) -> PublicState:
        """The public's state: the one in memory while the store still holds what this worker last
        wrote for it, else loaded from the store (after a start, or after another worker owned it)."""
        st = self.engine.publics.get(public_id)
        root = self.store.get(public_id)
        if st is not None and root is self._written.get(public_id):
            return st
        self.engine.publics.pop(public_id, None)
        if root is None:
            st = self.engine.state(public_id)
            layout = Layout()
        else:
            st, layout = load(public_id, root, self.store.get)
            self.engine.publics[public_id] = st
            self._written[public_id] = root
        st.track_changes()
        for memory in st.memories:
            memory.hold_unsettled()
        self._layouts[public_id] = layout
        return st

    def current_table(self, public_id: str, at: int) -> dict[str, Any] | None:
        """The public's table at ``at`` (``None`` when it has no state), for readers: the held state
        when it is current, else the store's, decoded for this answer and not kept (a worker serving
        every public it owns need not hold every one of them in memory)."""
        st = self.engine.publics.get(public_id)
        root = self.store.get(public_id)
        if st is None or root is not self._written.get(public_id):
            if root is None:
                return None
            st = load(public_id, root, self.store.get, ids=False)[0]
        return snapshot(st, at, self.engine.registry.segment(public_id))

    def apply_message(
        self, topic: str, partition: int, offset: int, key: bytes | None, value: bytes
    ) -> list[DeadLetter]:
        """Apply one Kafka message; returns what must go to the dead-letter topic."""
        where = (topic, partition, offset)
        public_id: str | None
        try:
            public_id = key.decode() if key is not None else None
        except UnicodeDecodeError:
            public_id = None
        if public_id is None:
            reason = "message key is missing or not UTF-8 (it must be the public_id)"
            self.rejected += 1
            return [DeadLetter.of(value, key, reason, where)]
        good, rejections = decode_message(value, public_id, self.clock(), self.families.get(topic))
        dead = [DeadLetter.of(value, key, r.reason, where, r.index) for r in rejections]
        self.rejected += len(dead)
        if good:
            self._partition_of[public_id] = partition
            applied = self.state(public_id).apply_all(good)
            self.applied += applied
            self.duplicates += len(good) - applied
            self._dirty.add(public_id)
        return dead

    def flush(self) -> int:
        """Write every public touched since the last flush; returns how many records.

        Each public's changed pages go first and its root last (``streams.layout``), so a crash
        part-way leaves each public either wholly before or wholly after the flush.
        """
        records = 0
        for public_id in self._dirty:
            st = self.engine.publics[public_id]
            partition = self._partition_of[public_id]
            root, writes = plan(st, self._layouts[public_id], self.limits)
            for suffix, value in writes:
                self.store.put(record_key(public_id, suffix), partition, value)
            self._written[public_id] = root
            records += len(writes)
        self._unserved |= self._dirty
        self._dirty.clear()
        return records

    def take_unserved(self) -> list[str]:
        """The publics whose state changed since the last call, for the serving layer to refresh."""
        taken = sorted(self._unserved)
        self._unserved.clear()
        return taken

    def give_back_unserved(self, public_ids: list[str]) -> None:
        """The serving layer could not refresh these: offer them again next time."""
        self._unserved.update(p for p in public_ids if p in self._partition_of)

    def settle(self) -> None:
        """A periodic tick (every ``SETTLE_EVERY_S``): ids older than two ticks are surely committed
        and become sweepable (see ``streams.state.IdMemory``)."""
        for st in self.engine.publics.values():
            for memory in st.memories:
                memory.settle()

    def held(self) -> Mapping[str, int]:
        """The publics this worker has applied events of since it got their partition, by partition."""
        return self._partition_of

    def forget_partitions(self, partitions: set[int]) -> None:
        """Drop in-memory states of publics whose partitions this worker no longer owns."""
        gone = [p for p, part in self._partition_of.items() if part in partitions]
        for public_id in gone:
            self.engine.publics.pop(public_id, None)
            del self._partition_of[public_id]
            self._dirty.discard(public_id)
            self._unserved.discard(public_id)
            self._layouts.pop(public_id, None)
            self._written.pop(public_id, None)
