"""Which publics this worker owns: the sorted lists the KPI rounds, ``/breaches`` pages and the Redis
refresh walk, kept between rebalances instead of rebuilt per request.

Listing them by walking every state record and the whole registry cost 0.4–0.6 s at the national scale
(87 500 publics held of 175 000 registered), on the event loop, for every ``/breaches`` page and every
refresh round. The owned set changes only when the assignment does (a rebalance, then a recovery that
fills the table), when a public gets its first state record here (the pipeline's flush tells its
sinks) or when the registry adds or drops one. So the index is built once per assignment, after its
recovery, and kept up to date by those events; a list is sorted again only after a change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from agents.routing import partition_of
from agents.state_table import assigned_partitions


class OwnedPublics:
    """The publics of this worker's event partitions: with state in ``table``, or registered.

    ``registered(public_id)`` says whether the registry names a public now (its feed tells
    ``registry_changed`` of every change); ``registry_ids()`` lists them all (for a rebuild).
    A ``ChangeSink`` of the pipeline: a public written for the first time joins the index.
    """

    def __init__(
        self,
        app: Any,
        table: Mapping[bytes, Any],
        events: tuple[str, ...],
        partitions: int,
        registry_ids: Callable[[], Iterable[str]],
        registered: Callable[[str], bool],
    ) -> None:
        self.app = app
        self.table = table
        self.partitions = partitions
        self.registry_ids = registry_ids
        self.is_registered = registered
        self.assigned = assigned_partitions(app, events)
        #: What the index was built for: (consumer generation, assigned partitions); None: rebuild.
        self._built_for: tuple[Any, frozenset[int]] | None = None
        self._with_state: dict[int, set[str]] = {}
        self._registered: dict[int, set[str]] = {}
        #: Sorted lists per (kind, assigned partitions), dropped at any change.
        self._lists: dict[tuple[bool, frozenset[int]], list[str]] = {}
        self.rebuilds = 0

    def _recovering(self) -> bool:
        recovery = self.app.tables.recovery
        return bool(recovery.in_recovery) or not recovery.completed.is_set()

    def _current(self) -> frozenset[int]:
        """The assigned partitions, with the index built for them (again while a recovery fills the
        table: a list built then would lack the publics it has not read yet)."""
        assigned = frozenset(self.assigned())
        key = (self.app.consumer_generation_id, assigned)
        if key != self._built_for:
            self._rebuild()
            self._built_for = None if self._recovering() else key
        return assigned

    def _rebuild(self) -> None:
        self.rebuilds += 1
        self._with_state, self._registered, self._lists = {}, {}, {}
        for key in list(self.table.keys()):
            if b"|" not in key:  # a public's root record
                public_id = key.decode()
                self._with_state.setdefault(partition_of(public_id, self.partitions), set()).add(public_id)
        for public_id in self.registry_ids():
            self._registered.setdefault(partition_of(public_id, self.partitions), set()).add(public_id)

    def _list(self, registered_too: bool) -> list[str]:
        assigned = self._current()
        if not assigned:
            return []
        found = self._lists.get((registered_too, assigned))
        if found is None:
            publics: set[str] = set()
            for partition in assigned:
                publics |= self._with_state.get(partition, set())
                if registered_too:
                    publics |= self._registered.get(partition, set())
            found = self._lists[(registered_too, assigned)] = sorted(publics)
        return found

    def with_state(self) -> list[str]:
        """The owned publics with state here, sorted (do not change the list: it is shared)."""
        return self._list(False)

    def all(self) -> list[str]:
        """The owned publics with state or registered, sorted (shared, as ``with_state``'s)."""
        return self._list(True)

    # -- what changes it ------------------------------------------------------------------------

    def changed(self, public_ids: Sequence[str]) -> None:
        for public_id in public_ids:
            held = self._with_state.setdefault(partition_of(public_id, self.partitions), set())
            if public_id not in held:
                held.add(public_id)
                self._lists.clear()

    def forgotten(self, public_ids: Sequence[str]) -> None:
        """Their partitions went elsewhere: lists name only assigned partitions, so nothing to do."""

    def registry_changed(self, public_id: str) -> None:
        named = self._registered.setdefault(partition_of(public_id, self.partitions), set())
        if self.is_registered(public_id):
            if public_id not in named:
                named.add(public_id)
                self._lists.clear()
        elif public_id in named:
            named.discard(public_id)
            self._lists.clear()
