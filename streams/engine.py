"""Many publics' states behind one door: the piece that live agents and offline replay share."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from streams.registry import Registry, RegistryView
from streams.state import Event, PublicState
from streams.table import snapshot
from streams.timebase import DEFAULT_SLA_S


class Engine:
    """Validated events in, tables out. Holds no I/O: callers feed it and persist it."""

    def __init__(self, registry: RegistryView | None = None) -> None:
        self.registry: RegistryView = registry if registry is not None else Registry()
        self.publics: dict[str, PublicState] = {}

    def state(self, public_id: str) -> PublicState:
        """The public's state, created empty on first use."""
        st = self.publics.get(public_id)
        if st is None:
            st = self.publics[public_id] = PublicState(public_id)
        return st

    def apply(self, ev: Event) -> bool:
        """Apply a validated event; ``False`` if it was a duplicate."""
        return self.state(ev["public_id"]).apply(ev)

    def table(self, public_id: str, at: int, sla_s: int = DEFAULT_SLA_S) -> dict[str, Any] | None:
        st = self.publics.get(public_id)
        if st is None:
            return None
        return snapshot(st, at, self.registry.segment(public_id), sla_s)

    def tables(self, at: int) -> Iterator[dict[str, Any]]:
        """Every public's table at ``at``, sorted by ``public_id``."""
        for public_id in sorted(self.publics):
            yield snapshot(self.publics[public_id], at, self.registry.segment(public_id))
