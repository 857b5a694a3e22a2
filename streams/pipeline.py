"""What a worker does with Kafka messages, free of Faust: decode, dead-letter, apply, persist.

The Faust agent (``agents.ingest``) hands it messages and a chunk store (a changelogged Faust
table); tests hand it a dict. Persisting is coalesced: ``flush`` writes each changed public once
per batch of messages, as ``streams.core.layout`` lays it out (records of bounded size, the root last),
and the agent calls it before the batch's offsets can be acknowledged, so a public's state reaches
the changelog before the offsets that cover it are committed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

from schemas.validate import KEY_REASON, decode_message, reason_code
from streams.core.engine import Engine
from streams.core.layout import ROOT_KEY, Layout, Limits, load, plan
from streams.core.profiles import Profile, Profiles
from streams.core.registry import PublicInfo
from streams.core.state import FAMILIES, PublicState
from streams.core.timebase import now_ms
from streams.dead_letter import DeadLetter

#: A message whose newest event occurred longer ago than this when it is applied is history: an
#: archive backfill or the simulator's past, not a platform reporting late (the contract's windows
#: are hours and days; a bridge's poll is minutes behind at worst).
HISTORY_AFTER_MS = 3_600_000


class ChunkStore(Protocol):
    """Where state records live: key ``public_id`` for a root, ``public_id|…`` for its other records."""

    def get(self, key: str) -> bytes | None: ...

    def put(self, key: str, partition: int, value: bytes | None) -> None:
        """Write (``None``: delete) a chunk of a public whose events come from ``partition``."""
        ...


def record_key(public_id: str, suffix: str) -> str:
    return public_id if suffix == ROOT_KEY else f"{public_id}|{suffix}"


class ChangeSink(Protocol):
    """A consumer of changed publics (the Redis tables; next the breach detector and metrics)."""

    def changed(self, public_ids: Sequence[str]) -> None:
        """These publics' state was written (or their segment changed): their tables are new."""
        ...

    def forgotten(self, public_ids: Sequence[str]) -> None:
        """This worker no longer owns these publics: anything pending for them must be dropped."""
        ...


class Pipeline:
    def __init__(
        self,
        store: ChunkStore,
        engine: Engine | None = None,
        clock: Callable[[], int] = now_ms,
        families: Mapping[str, str] | None = None,
        limits: Limits | None = None,
    ):
        """``families`` maps each event topic to its contract family (``Topics.families``), so that a
        kind on the wrong topic is dead-lettered; without it, kinds are not checked against topics."""
        self.store = store
        self.families = families or {}
        self.engine = engine if engine is not None else Engine()
        self.clock = clock
        self.limits = limits or Limits()
        self.sinks: list[ChangeSink] = []
        self._partition_of: dict[str, int] = {}
        #: Where each held public's pages are (``streams.core.layout``).
        self._layouts: dict[str, Layout] = {}
        #: The root bytes this worker last wrote per public: if the store holds another object, a
        #: rebalance gave the public to another worker in between and the memory copy is stale.
        self._written: dict[str, bytes] = {}
        #: Event topic -> its family's index in a state's id memories (``families`` names them).
        self._family_index = {topic: FAMILIES.index(family) for topic, family in self.families.items()}
        self.applied = 0
        self.duplicates = 0
        #: Messages skipped as applied already (their offset is below the public's applied offset).
        self.redelivered = 0
        self.rejected = 0
        #: Counts for metrics (plain ints, read by the metrics thread): events applied per topic and
        #: kind, duplicates per topic, dead letters per topic and reason code, state records written.
        self.applied_by: dict[str, dict[str, int]] = {}
        self.duplicates_by: dict[str, int] = {}
        self.dead_by: dict[tuple[str, str], int] = {}
        self.records_written = 0
        self.bytes_written = 0
        #: The newest ``occurred_at`` applied (epoch ms): event-time freshness is now minus it.
        self.newest_occurred_at: int | None = None
        #: Messages applied whose newest event was older than ``HISTORY_AFTER_MS`` then: history (a
        #: backfill, the simulator's past), on which judging waits (``agents.catchup``).
        self.history_messages = 0
        #: Publics whose state was taken for events since the last ``evict_idle``.
        self._touched: set[str] = set()
        #: Decoded states dropped by ``evict_idle`` (a counter for metrics).
        self.evicted = 0

    def add_sink(self, sink: ChangeSink) -> None:
        """Hand every flush's changed publics to ``sink`` from now on."""
        self.sinks.append(sink)

    def state(self, public_id: str) -> PublicState:
        """The public's state: the one in memory while the store still holds what this worker last
        wrote for it, else loaded from the store (after a start, or after another worker owned it)."""
        self._touched.add(public_id)
        st = self.engine.get(public_id)
        root = self.store.get(public_id)
        if st is not None and root is self._written.get(public_id):
            return st
        self.engine.evict([public_id])
        if root is None:
            st = self.engine.state(public_id)
            layout = Layout()
        else:
            st, layout = load(public_id, root, self.store.get)
            self.engine.load(st)
            self._written[public_id] = root
        st.track_changes()
        for memory in st.memories:
            memory.hold_unsettled()
        self._layouts[public_id] = layout
        return st

    def current_state(self, public_id: str) -> PublicState | None:
        """The public's state for readers (``None`` when it has none): the held state when it is
        current, else the store's, decoded for this answer and not kept (a worker serving every public
        it owns need not hold every one of them in memory)."""
        st = self.engine.get(public_id)
        root = self.store.get(public_id)
        if st is None or root is not self._written.get(public_id):
            if root is None:
                return None
            st = load(public_id, root, self.store.get, ids=False)[0]
            st.calendar = self.engine.calendar_of(public_id)
        return st

    def current_table(self, public_id: str, at: int) -> dict[str, Any] | None:
        """The public's table at ``at`` (``None`` when it has no state), for readers."""
        st = self.current_state(public_id)
        return None if st is None else self.engine.table_of(st, at)

    # -- reads for the serving side: the agents ask the pipeline, never its engine --

    @property
    def profiles(self) -> Profiles:
        """The KPI profiles in force."""
        return self.engine.profiles

    def use_profiles(self, profiles: Profiles) -> None:
        """Judge by ``profiles`` from now on (a reloaded profiles file)."""
        self.engine.use_profiles(profiles)

    def profile_of(self, public_id: str) -> Profile:
        return self.engine.profile_of(public_id)

    def info(self, public_id: str) -> PublicInfo | None:
        """The public's registry record (name, segment), ``None`` when it has none."""
        return self.engine.registry.get(public_id)

    def registered(self) -> Iterable[str]:
        """Every public the registry holds."""
        return self.engine.registry.ids()

    def state_or_empty(self, public_id: str) -> PublicState:
        """``current_state``, or an empty state for a public with no event yet (zero counts)."""
        st = self.current_state(public_id)
        return st if st is not None else self.engine.empty(public_id)

    def table_of(self, state: PublicState, at: int) -> dict[str, Any]:
        """The table of ``state`` at ``at`` (contract §2 and §4), by its public's profile."""
        return self.engine.table_of(state, at)

    def decoded(self) -> int:
        """How many publics' states are held decoded in memory."""
        return len(self.engine)

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
            reason = KEY_REASON
            self._count_dead(topic, reason)
            return [DeadLetter.of(value, key, reason, where)]
        good, rejections = decode_message(value, public_id, self.clock(), self.families.get(topic))
        dead = [DeadLetter.of(value, key, r.reason, where, r.index) for r in rejections]
        for letter in dead:
            self._count_dead(topic, letter.reason)
        if good:
            self._partition_of[public_id] = partition
            st = self.state(public_id)  # current before it changes
            family = self._family_index.get(topic)
            memory = st.memories[family] if family is not None else None
            if memory is not None and memory.source is not None:
                source_partition, next_offset = memory.source
                if source_partition == partition and offset < next_offset:
                    # applied before, and committed or not since: its events must not count twice
                    self.redelivered += 1
                    return dead
            tally = self.applied_by.get(topic)
            if tally is None:
                tally = self.applied_by[topic] = {}
            applied = self.engine.apply_all(public_id, good, tally)
            self.applied += applied
            self.duplicates += len(good) - applied
            if applied < len(good):
                self.duplicates_by[topic] = self.duplicates_by.get(topic, 0) + len(good) - applied
            if memory is not None:
                memory.source = (partition, offset + 1)
            newest = max(ev["occurred_at"] for ev in good)
            if self.newest_occurred_at is None or newest > self.newest_occurred_at:
                self.newest_occurred_at = newest
            if self.clock() - newest > HISTORY_AFTER_MS:
                self.history_messages += 1
        return dead

    def _count_dead(self, topic: str, reason: str) -> None:
        self.rejected += 1
        code = (topic, reason_code(reason))
        self.dead_by[code] = self.dead_by.get(code, 0) + 1

    def rewrite(self, public_id: str, partition: int) -> None:
        """Write the public's state (read from the store) again at the next flush, events or not: it
        moves state written by an older format to the current one."""
        self._partition_of[public_id] = partition
        self.state(public_id)
        self.engine.mark_changed(public_id)

    def flush(self) -> int:
        """Write every public changed since the last flush, then tell the sinks; returns how many records.

        Each public's changed pages go first and its root last (``streams.core.layout``), so a crash
        part-way leaves each public either wholly before or wholly after the flush.
        """
        records = 0
        changed = self.engine.take_changed()
        for public_id in changed:
            st = self.engine.get(public_id)
            assert st is not None, public_id
            partition = self._partition_of[public_id]
            root, writes = plan(st, self._layouts[public_id], self.limits)
            for suffix, value in writes:
                self.store.put(record_key(public_id, suffix), partition, value)
                if value is not None:
                    self.bytes_written += len(value)
            self._written[public_id] = root
            records += len(writes)
        self.records_written += records
        if changed:
            for sink in self.sinks:
                sink.changed(changed)
        return records

    def segment_changed(self, public_id: str) -> None:
        """The registry gave a public a new record: its segment, profile and working time may differ,
        so its table changed without an event."""
        self.engine.refresh(public_id)
        if public_id in self._partition_of:
            for sink in self.sinks:
                sink.changed([public_id])

    def settle(self) -> None:
        """A periodic tick (every ``settle_s``): ids older than two ticks are surely committed and
        become sweepable (see ``streams.core.state.IdMemory``)."""
        for _, st in self.engine.held():
            for memory in st.memories:
                memory.settle()

    def idle_since_last(self) -> list[str]:
        """The publics held decoded that had no events since the last call (a new period starts).

        A decoded state is many times its records (with a week of history ~53 KiB against ~7 KiB in
        the store, ``bench.national``), and a public of the nation gets an event every few hours: so
        the idle ones are held as records only (``drop_decoded``), and decoded again by their next
        event (``state``; ~0.5 ms with a week of history) or for a reader (``current_state``, not kept).
        """
        idle = [p for p, _ in self.engine.held() if p not in self._touched]
        self._touched = set()
        return idle

    def drop_decoded(self, public_ids: Iterable[str]) -> int:
        """Drop the decoded states of ``public_ids`` still idle (no event since ``idle_since_last``,
        nothing unwritten); returns how many. Callable in slices between batches."""
        engine, touched = self.engine, self._touched
        dropped = [p for p in public_ids if p in engine and p not in touched and not engine.is_changed(p)]
        self.engine.evict(dropped)
        for public_id in dropped:
            self._layouts.pop(public_id, None)
            self._written.pop(public_id, None)
        self.evicted += len(dropped)
        return len(dropped)

    def evict_idle(self) -> int:
        """Both at once: drop the decoded states of the publics idle since the last call."""
        return self.drop_decoded(self.idle_since_last())

    def held(self) -> Mapping[str, int]:
        """The publics this worker has applied events of since it got their partition, by partition."""
        return self._partition_of

    def forget_partitions(self, partitions: set[int]) -> None:
        """Drop in-memory states of publics whose partitions this worker no longer owns."""
        gone = [p for p, part in self._partition_of.items() if part in partitions]
        self.engine.evict(gone)
        for public_id in gone:
            del self._partition_of[public_id]
            self._layouts.pop(public_id, None)
            self._written.pop(public_id, None)
        if gone:
            for sink in self.sinks:
                sink.forgotten(gone)
