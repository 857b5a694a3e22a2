"""The changelogged state table and the pipeline's store over it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import faust

from agents.edge.delivery import DeliveryGuard


class StateTable(faust.Table):
    """State records (bytes, ``streams.core.layout``) keyed by the UTF-8 bytes of ``public_id`` or
    ``public_id|…``.

    A record's changelog partition is its public's source partition, taken from the message that
    changed it: the agent writes after a batch, outside Faust's per-event context, and the public's
    partition is what recovery needs to give the record back to the worker that owns the public.
    With a guard, every changelog send is tracked, so no offset is committed before it is written.
    """

    def __init__(self, *args: Any, guard: DeliveryGuard | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.partition_of: dict[str, int] = {}
        self.guard = guard

    def partition_for_key(self, key: Any) -> int | None:
        return self.partition_of[bytes(key).decode().split("|", 1)[0]]

    def send_changelog(self, partition: int | None, key: Any, value: Any, *args: Any, **kwargs: Any) -> Any:
        future = super().send_changelog(partition, key, value, *args, **kwargs)
        if self.guard is not None:
            self.guard.track(future, f"state record {bytes(key).decode()!r}")
        return future


class TableStore:
    """``streams.pipeline.ChunkStore`` over a ``StateTable``."""

    def __init__(self, table: StateTable) -> None:
        self.table = table

    def get(self, key: str) -> bytes | None:
        return self.table.get(key.encode())

    def put(self, key: str, partition: int, value: bytes | None) -> None:
        self.table.partition_of[key.split("|", 1)[0]] = partition
        if value is None:
            self.table.pop(key.encode(), None)
        else:
            self.table[key.encode()] = value


def assigned_partitions(app: faust.App, events: tuple[str, ...]) -> Callable[[], set[int]]:
    """A function giving the event partitions this worker owns now (none before it has any)."""
    topics = set(events)

    def assigned() -> set[int]:
        try:
            return {tp.partition for tp in app.consumer.assignment() if tp.topic in topics}
        except Exception:  # not started yet, or between assignments: nothing is owned right now
            return set()

    return assigned
