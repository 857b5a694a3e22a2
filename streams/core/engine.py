"""Many publics' states behind one door: the piece that live agents and offline replay share.

The engine owns the states it holds: callers get, load and evict them through it, and it keeps the
set of publics changed since the last ``take_changed``, which the live pipeline persists and hands
to its sinks.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from streams.core.registry import Registry, RegistryView
from streams.core.state import Event, PublicState
from streams.core.table import snapshot


class Engine:
    """Validated events in, tables out. Holds no I/O: callers feed it and persist it."""

    def __init__(self, registry: RegistryView | None = None) -> None:
        self.registry: RegistryView = registry if registry is not None else Registry()
        self._publics: dict[str, PublicState] = {}
        self._changed: set[str] = set()

    def __len__(self) -> int:
        return len(self._publics)

    def __contains__(self, public_id: object) -> bool:
        return public_id in self._publics

    def held(self) -> Iterator[tuple[str, PublicState]]:
        """Every held public and its state, in no particular order."""
        return iter(self._publics.items())

    def get(self, public_id: str) -> PublicState | None:
        """The public's state if held."""
        return self._publics.get(public_id)

    def state(self, public_id: str) -> PublicState:
        """The public's state, created empty on first use."""
        st = self._publics.get(public_id)
        if st is None:
            st = self._publics[public_id] = PublicState(public_id)
        return st

    def load(self, state: PublicState) -> PublicState:
        """Hold ``state`` (read from a store) in place of whatever was held for its public."""
        self._publics[state.public_id] = state
        return state

    def evict(self, public_ids: Iterable[str]) -> None:
        """Stop holding these publics (their partitions went elsewhere, or their copy is stale)."""
        for public_id in public_ids:
            self._publics.pop(public_id, None)
            self._changed.discard(public_id)

    def apply(self, ev: Event) -> bool:
        """Apply a validated event; ``False`` if it was a duplicate."""
        return self.apply_all(ev["public_id"], (ev,)) == 1

    def apply_all(self, public_id: str, events: Iterable[Event]) -> int:
        """Apply one public's validated events in order; returns how many were not duplicates."""
        self._changed.add(public_id)
        return self.state(public_id).apply_all(events)

    def mark_changed(self, public_id: str) -> None:
        """Count a held public as changed without an event (its state must be written again)."""
        if public_id in self._publics:
            self._changed.add(public_id)

    def take_changed(self) -> list[str]:
        """The publics changed by ``apply``/``apply_all`` since the last call, sorted."""
        changed = sorted(self._changed)
        self._changed.clear()
        return changed

    def table_of(self, state: PublicState, at: int) -> dict[str, Any]:
        """A held or loaded state's table at ``at``, with its public's segment from the registry."""
        return snapshot(state, at, self.registry.segment(state.public_id))

    def table(self, public_id: str, at: int) -> dict[str, Any] | None:
        st = self._publics.get(public_id)
        return None if st is None else self.table_of(st, at)

    def tables(self, at: int) -> Iterator[dict[str, Any]]:
        """Every public's table at ``at``, sorted by ``public_id``."""
        for public_id in sorted(self._publics):
            yield self.table_of(self._publics[public_id], at)
