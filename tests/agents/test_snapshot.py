"""The snapshot store's rules, on the worker's own tables (no broker): a partition's records and its
offset go together, a snapshot is read back only when it can be a prefix of the changelog."""

from __future__ import annotations

import asyncio
import pickle
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from agents import snapshot
from agents.snapshot import SnapshotStore
from agents.worker import build_worker
from streams.settings import WorkerSettings


@pytest.fixture
def store(tmp_path: Path) -> SnapshotStore:
    settings = WorkerSettings(data_dir=tmp_path, app_id="t-snapshot", state_snapshot_max_age_s=3600)
    worker = build_worker(settings, send_dead=lambda letter: None)
    s = worker.table.data
    assert isinstance(s, SnapshotStore)
    return s


def changelog_event(key: bytes, value: bytes | None, partition: int, offset: int) -> SimpleNamespace:
    from faust.types import TP

    message = SimpleNamespace(
        tp=TP("t-snapshot-state-changelog", partition), partition=partition, offset=offset, value=value
    )
    return SimpleNamespace(key=key, value=value, message=message)


def recovered(store: SnapshotStore, *events: SimpleNamespace) -> None:
    store.apply_changelog_batch(list(events), lambda k: k, lambda v: v)


def test_offsets_follow_what_the_store_holds_and_go_with_its_records(store: SnapshotStore) -> None:
    from faust.types import TP

    recovered(
        store,
        changelog_event(b"vk:-1", b"a", 0, 4),
        changelog_event(b"vk:-2", b"b", 1, 9),
        changelog_event(b"vk:-2", None, 1, 11),  # deleted later in the log
        changelog_event(b"vk:-3", b"c", 1, 10),
    )
    store.set_persisted_offset(TP("x", 0), 7)  # a record this worker wrote, acknowledged at 7
    store.set_persisted_offset(TP("x", 0), 5)  # acknowledgements may come late: never backwards
    assert store.offsets == {0: 7, 1: 11} and dict(store.data) == {b"vk:-1": b"a", b"vk:-3": b"c"}
    assert store.persisted_offset(TP("x", 1)) == 11 and store.persisted_offset(TP("x", 2)) is None
    # recovery completed without partition 1: its records and its offset go together
    asyncio.run(store.on_recovery_completed({TP("x", 0)}, set()))
    assert store.offsets == {0: 7} and dict(store.data) == {b"vk:-1": b"a"}


def test_a_snapshot_is_read_back_only_if_it_can_be_a_prefix_of_the_changelog(
    store: SnapshotStore, tmp_path: Path
) -> None:
    recovered(store, changelog_event(b"vk:-1", b"a", 0, 4), changelog_event(b"vk:-3", b"c", 1, 10))
    path = tmp_path / "state.snapshot"
    assert snapshot.save(store, path) == 2 and not list(tmp_path.glob("*.part"))
    said: list[str] = []

    def fresh() -> SnapshotStore:
        store.data.clear()
        store.offsets.clear()
        store.key_partition.clear()
        return store

    ends = {0: 5, 1: 11}
    assert snapshot.load(fresh(), path, lambda: ends, 3600, said.append) == 2
    assert store.offsets == {0: 4, 1: 10} and store.data[b"vk:-3"] == b"c" and said == []
    # the changelog made again (shorter than the snapshot): not read
    assert snapshot.load(fresh(), path, lambda: {0: 5, 1: 3}, 3600, said.append) == 0
    assert "does not reach" in said[-1] and not store.data and not store.offsets
    # too old: a compacted changelog may have dropped a tombstone since
    snap = pickle.loads(path.read_bytes())
    path.write_bytes(pickle.dumps(snap | {"saved_at": time.time() - 7200}))
    assert snapshot.load(fresh(), path, lambda: ends, 3600, said.append) == 0 and "h old" in said[-1]
    # another deployment's changelog (another app id), whatever its offsets
    path.write_bytes(pickle.dumps(snap | {"changelog": "other-state-changelog"}))
    assert (
        snapshot.load(fresh(), path, lambda: ends, 3600, said.append) == 0 and "not 't-snapshot" in said[-1]
    )
    path.write_bytes(b"not a snapshot")
    assert snapshot.load(fresh(), path, lambda: ends, 3600, said.append) == 0 and "unreadable" in said[-1]
    assert snapshot.load(fresh(), tmp_path / "none", lambda: ends, 3600, said.append) == 0


def test_no_snapshot_is_written_while_a_record_waits_for_the_broker(
    store: SnapshotStore, tmp_path: Path
) -> None:
    recovered(store, changelog_event(b"vk:-1", b"a", 0, 4))
    app = SimpleNamespace(tables={"state": SimpleNamespace(name="state", data=store)})
    waiting = SimpleNamespace(failure=None, pending={object()})
    snapshot.save_all(app, tmp_path, waiting)
    assert not (tmp_path / "t-snapshot-state-changelog.snapshot").exists()
    snapshot.save_all(app, tmp_path, SimpleNamespace(failure=None, pending=set()))
    assert (tmp_path / "t-snapshot-state-changelog.snapshot").exists()


def test_a_partition_handed_away_is_forgotten_before_recovery_and_late_acknowledgements_too(
    store: SnapshotStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A partition this worker wrote, handed to another worker and back, is read whole: were its
    offset kept (or set again by an acknowledgement arriving after it went), recovery would resume
    it over records the store no longer holds, or past the changelog's end (ConsistencyError)."""
    from faust.types import TP

    changelog = store.changelog()
    actives = {TP(changelog, 0), TP(changelog, 1)}
    monkeypatch.setattr(store.table.app.assignor, "assigned_actives", lambda: set(actives))
    rebalance = store.on_rebalance
    asyncio.run(rebalance(set(), set(), set(), 1))
    recovered(store, changelog_event(b"vk:-1", b"a", 0, 4), changelog_event(b"vk:-2", b"b", 1, 9))
    store.set_persisted_offset(TP(changelog, 1), 12)  # this worker wrote to partition 1

    actives.discard(TP(changelog, 1))  # partition 1 goes to another worker
    asyncio.run(rebalance(set(), {TP("events", 1)}, set(), 2))
    assert store.offsets == {0: 4} and dict(store.data) == {b"vk:-1": b"a"}
    store.set_persisted_offset(TP(changelog, 1), 13)  # a write acknowledged after the revocation
    assert store.persisted_offset(TP(changelog, 1)) is None

    actives.add(TP(changelog, 1))  # and comes back: read from the start, not from 13
    asyncio.run(rebalance(set(), set(), {TP("events", 1)}, 3))
    assert store.persisted_offset(TP(changelog, 1)) is None and store.offsets == {0: 4}
    store.set_persisted_offset(TP(changelog, 1), 20)  # written in this tenure: kept again
    assert store.offsets == {0: 4, 1: 20}
