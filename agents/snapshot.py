"""A restart reads the changelog's tail, not all of it: the memory store kept on disk at a clean stop.

Faust's memory store reports no persisted offset, so every start rebuilds a worker's tables from the
whole changelog (a minute at the national scale). ``SnapshotStore`` is that store plus what a restart
needs to skip the prefix it already held:

- it remembers, per changelog partition, the offset of the last record it holds: records applied in
  recovery, and records this worker wrote once the broker acknowledged them (Faust tells the store);
- at a clean stop (``save``, after the last commit, with every record acknowledged: the delivery
  guard settled), each table's records and those offsets go to ``<data-dir>/<table>.snapshot``,
  written whole to a temporary file and renamed;
- at the next start (``load``), a snapshot younger than ``max_age_s`` whose offsets the changelog
  still has is read back, and Faust's recovery then reads each partition from its offset: the
  records after it overwrite or delete what the snapshot holds, exactly as a full read would.

A snapshot is a prefix of the changelog by construction (written only when every record it holds is
acknowledged), so reading the tail on top of it gives the full read's answer; a worker killed without
a clean stop finds the snapshot of its previous clean stop, an older prefix, and reads a longer
tail. A partition's records and offset are dropped together (recovery completed without it), so no
partition is ever resumed from an offset over records it no longer holds. Snapshots older than
``max_age_s`` are ignored: a compacted changelog may have dropped the tombstone of a record they hold.
The worker keeps no standby replicas with this store: Faust drops a standby's records when a recovery
completes but goes on reading it from where it was, which would leave a partition's tail under an
offset that claims its whole prefix.
"""

from __future__ import annotations

import logging
import os
import pickle
import time
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from pathlib import Path
from typing import Any, Final

from faust.stores import STORES
from faust.stores.memory import Store as MemoryStore
from faust.types import TP

log = logging.getLogger(__name__)

#: The store's URL scheme (``store="snapshot://"``).
SCHEME: Final = "snapshot"
FORMAT: Final = 1
#: A snapshot older than this is not read (a compacted changelog keeps a tombstone for a day).
MAX_AGE_S: Final = 12 * 3600.0


class SnapshotStore(MemoryStore):
    """Faust's memory store, with the offsets of what it holds, saved and read back whole."""

    def __post_init__(self) -> None:
        super().__post_init__()
        #: changelog partition -> offset of the last record held
        self.offsets: dict[int, int] = {}
        #: key -> changelog partition, for the keys recovery or a snapshot gave
        self.key_partition: dict[Any, int] = {}
        #: the changelog partitions this worker is active for (None: no assignment yet)
        self.active: set[int] | None = None

    def persisted_offset(self, tp: TP) -> int | None:
        return self.offsets.get(tp.partition)

    def set_persisted_offset(self, tp: TP, offset: int) -> None:
        if self.active is not None and tp.partition not in self.active:
            return  # acknowledged after its partition went: an offset over records no longer held
        if offset > self.offsets.get(tp.partition, -1):
            self.offsets[tp.partition] = offset

    def apply_changelog_batch(
        self, batch: Iterable[Any], to_key: Callable[[Any], Any], to_value: Callable[[Any], Any]
    ) -> None:
        events = list(batch)
        super().apply_changelog_batch(events, to_key, to_value)
        for event in events:
            self.key_partition[to_key(event.key)] = event.message.partition
            self.set_persisted_offset(event.message.tp, event.message.offset)

    async def on_rebalance(
        self, assigned: set[TP], revoked: set[TP], newly_assigned: set[TP], generation_id: int = 0
    ) -> None:
        """Forget the partitions this worker is no longer active for before recovery asks for offsets:
        a partition handed away and back is then read whole, never from an offset of its last tenure
        (the records it held then are gone, and its next owner has written over them since)."""
        changelog = self.changelog()
        self.active = {
            tp.partition for tp in self.table.app.assignor.assigned_actives() if tp.topic == changelog
        }
        self.keep_only(self.active)

    async def on_recovery_completed(self, active_tps: set[TP], standby_tps: set[TP]) -> None:
        self.keep_only({tp.partition for tp in active_tps})

    def keep_only(self, kept: set[int]) -> None:
        """Drop the records and offsets of every partition but ``kept``'s, together."""
        for key in [k for k in self.data if self.partition_of(k) not in (*kept, None)]:
            self.data.pop(key, None)
            self.key_partition.pop(key, None)
        for partition in [p for p in self.offsets if p not in kept]:
            del self.offsets[partition]  # with its records: never resumed over records it lacks

    def partition_of(self, key: Any) -> int | None:
        known = self.key_partition.get(key)
        if known is not None:
            return known
        try:
            return self.table.partition_for_key(key)
        except KeyError:
            return None

    def snapshot(self) -> dict[str, Any]:
        """What ``save`` writes: the records of the partitions whose offsets are known."""
        held = set(self.offsets)
        records = {}
        for key, value in self.data.items():
            partition = self.partition_of(key)
            if partition is None:  # its partition's snapshot would lack it: none at all, rather
                raise SnapshotRefused(f"the partition of record {key!r} is not known")
            if partition in held:
                records[key] = (partition, value)
        return {
            "format": FORMAT,
            "changelog": self.changelog(),
            "saved_at": time.time(),
            "offsets": dict(self.offsets),
            "records": records,
        }

    def changelog(self) -> str:
        """The changelog topic this store's records and offsets belong to."""
        return str(self.table.changelog_topic.get_topic_name())

    def restore(self, snap: Mapping[str, Any]) -> None:
        for key, (partition, value) in snap["records"].items():
            self.data[key] = value
            self.key_partition[key] = partition
        self.offsets.update(snap["offsets"])


class SnapshotRefused(RuntimeError):
    """A snapshot that would not be a prefix of the changelog: not written."""


def register() -> None:
    """Make ``snapshot://`` a store URL Faust knows."""
    STORES.data.setdefault(SCHEME, f"{__name__}:SnapshotStore")


def path_of(data_dir: Path, changelog: str) -> Path:
    """Named by the changelog topic (the app id and the table): workers of two deployments given one
    data directory never read each other's snapshots."""
    return data_dir / f"{changelog}.snapshot"


def save(store: SnapshotStore, path: Path) -> int:
    """Write ``store``'s snapshot to ``path`` (whole, or not at all); returns its records."""
    snap = store.snapshot()
    part = path.with_suffix(f".{os.getpid()}.part")  # two workers given one directory never mix
    with part.open("wb") as f:
        pickle.dump(snap, f, protocol=pickle.HIGHEST_PROTOCOL)
        f.flush()
        os.fsync(f.fileno())
    part.replace(path)
    return len(snap["records"])


def load(
    store: SnapshotStore,
    path: Path,
    end_offsets: Callable[[], Mapping[int, int]],
    max_age_s: float = MAX_AGE_S,
    say: Callable[[str], None] = log.warning,
) -> int:
    """Read ``path`` into ``store`` if it can be trusted; returns its records (0: read from the start).

    ``end_offsets()`` gives the changelog's end offset per partition: a snapshot holding an offset the
    changelog does not reach belongs to another incarnation of the topic and is not read."""
    try:
        with path.open("rb") as f:
            snap = pickle.load(f)  # our own file, written by save(): never from elsewhere
    except FileNotFoundError:
        return 0
    except Exception as exc:
        say(f"state snapshot {path} unreadable ({exc!r}): the tables are read from the changelog")
        return 0
    if not isinstance(snap, dict) or snap.get("format") != FORMAT:
        say(f"state snapshot {path} is of another format: the tables are read from the changelog")
        return 0
    if snap.get("changelog") != store.changelog():
        say(
            f"state snapshot {path} is of changelog {snap.get('changelog')!r}, not {store.changelog()!r}: "
            "the tables are read from the changelog"
        )
        return 0
    age = time.time() - snap["saved_at"]
    if age > max_age_s:
        say(f"state snapshot {path} is {age / 3600:.1f} h old: the tables are read from the changelog")
        return 0
    ends = end_offsets()
    beyond = {p: o for p, o in snap["offsets"].items() if o >= ends.get(p, 0)}
    if beyond:
        say(
            f"state snapshot {path} holds offsets the changelog does not reach ({beyond}; the topic was "
            "made again?): the tables are read from the changelog"
        )
        return 0
    store.restore(snap)
    return len(snap["records"])


def changelog_ends(bootstrap: str, topic: str) -> dict[int, int]:
    """One past the last record of each partition of ``topic``, as the broker holds it (on tansu,
    checked with a fetch: agents.edge.highwater)."""
    import asyncio

    from kafka import KafkaConsumer, TopicPartition

    from agents.edge.highwater import true_end_offsets

    consumer = KafkaConsumer(bootstrap_servers=bootstrap.split(","), enable_auto_commit=False)
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        reported = consumer.end_offsets([TopicPartition(topic, p) for p in partitions])
    finally:
        consumer.close()
    ends = asyncio.run(
        true_end_offsets(bootstrap, {TP(tp.topic, tp.partition): end for tp, end in reported.items()})
    )
    return {tp.partition: end for tp, end in ends.items()}


def load_all(app: Any, data_dir: Path, bootstrap: str, max_age_s: float) -> None:
    """Read each table's snapshot, if it can be trusted (``load``)."""
    said: list[str] = []
    for table in app.tables.values():
        store = table.data
        if not isinstance(store, SnapshotStore):
            continue
        topic = table.changelog_topic.get_topic_name()
        path = path_of(data_dir, topic)
        records = load(store, path, partial(changelog_ends, bootstrap, topic), max_age_s, said.append)
        if records:
            said.append(
                f"read {records} records of table {table.name} from {path}; its changelog is read from "
                f"offsets {dict(sorted(store.offsets.items()))}"
            )

    @app.task
    async def say_what_was_read() -> None:  # once the worker's log is set up
        for line in said:
            log.warning("%s", line)


def save_all(app: Any, data_dir: Path, guard: Any) -> None:
    """At a clean stop: each table's snapshot, if every record it holds is acknowledged."""
    if guard.failure is not None or guard.pending:
        log.warning(
            "no state snapshot at this stop: %s; the next start reads the changelog from the last "
            "snapshot or from the start",
            guard.failure or f"{len(guard.pending)} records were not acknowledged",
        )
        return
    for table in app.tables.values():
        store = table.data
        if isinstance(store, SnapshotStore) and store.offsets:
            started = time.monotonic()
            try:
                records = save(store, path_of(data_dir, store.changelog()))
            except (SnapshotRefused, OSError) as exc:
                log.warning("no snapshot of table %s at this stop: %s", table.name, exc)
                continue
            log.warning(
                "saved %d records of table %s in %.1f s for the next start",
                records,
                table.name,
                time.monotonic() - started,
            )
