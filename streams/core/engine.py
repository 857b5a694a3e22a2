"""Many publics' states behind one door: the piece that live agents and offline replay share.

The engine owns the states it holds: callers get, load and evict them through it, and it keeps the
set of publics changed since the last ``take_changed``, which the live pipeline persists and hands
to its sinks. It also knows each public's KPI profile and working time (contract §4), from the
registry and the profiles, and evaluates breaches.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from schemas.contract import DEFAULT_TZ
from streams.core.breaches import Breach, breaches
from streams.core.profiles import BUILT_IN_PROFILES, DEFAULT_PROFILE, Profile, Profiles
from streams.core.registry import Registry, RegistryView
from streams.core.state import Event, PublicState
from streams.core.table import snapshot
from streams.core.worktime import WorkCalendar, calendar_for


class Engine:
    """Validated events in, tables and breaches out. Holds no I/O: callers feed it and persist it."""

    def __init__(self, registry: RegistryView | None = None, profiles: Profiles = BUILT_IN_PROFILES) -> None:
        self.registry: RegistryView = registry if registry is not None else Registry()
        self.profiles = profiles
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
            st = self._publics[public_id] = self.empty(public_id)
        return st

    def empty(self, public_id: str) -> PublicState:
        """A state with no events, on the public's working time (not held)."""
        st = PublicState(public_id)
        st.calendar = self.calendar_of(public_id)
        return st

    def load(self, state: PublicState) -> PublicState:
        """Hold ``state`` (read from a store) in place of whatever was held for its public."""
        state.calendar = self.calendar_of(state.public_id)
        self._publics[state.public_id] = state
        return state

    def evict(self, public_ids: Iterable[str]) -> None:
        """Stop holding these publics (their partitions went elsewhere, or their copy is stale)."""
        for public_id in public_ids:
            self._publics.pop(public_id, None)
            self._changed.discard(public_id)

    # -- profiles and working time -------------------------------------------------------------

    def profile_of(self, public_id: str) -> Profile:
        """The KPI profile of §4: the registry's ``profile`` if the file has it, else the first
        matching segment rule's, else ``default``."""
        info = self.registry.get(public_id)
        if info is None:
            return self.profiles.profiles[DEFAULT_PROFILE]
        segment = info.segment
        return self.profiles.choose(segment.level, segment.theme, segment.region, info.profile)

    def calendar_of(self, public_id: str) -> WorkCalendar:
        info = self.registry.get(public_id)
        return calendar_for(info.tz if info else DEFAULT_TZ, self.profile_of(public_id).workday)

    def refresh(self, public_id: str) -> None:
        """The public's registry record changed: replies from now on use its new working time."""
        st = self._publics.get(public_id)
        if st is not None:
            st.calendar = self.calendar_of(public_id)

    def use_profiles(self, profiles: Profiles) -> None:
        """Judge by ``profiles`` from now on (a reloaded file)."""
        self.profiles = profiles
        for public_id in self._publics:
            self.refresh(public_id)

    # -- events ------------------------------------------------------------------------------------

    def apply(self, ev: Event) -> bool:
        """Apply a validated event; ``False`` if it was a duplicate."""
        return self.apply_all(ev["public_id"], (ev,)) == 1

    def apply_all(self, public_id: str, events: Iterable[Event], tally: dict[str, int] | None = None) -> int:
        """Apply one public's validated events in order; returns how many were not duplicates
        (``tally``: see ``PublicState.apply_all``)."""
        self._changed.add(public_id)
        return self.state(public_id).apply_all(events, tally)

    def is_changed(self, public_id: str) -> bool:
        """Whether the public changed since the last ``take_changed`` (its state is yet to be written)."""
        return public_id in self._changed

    def mark_changed(self, public_id: str) -> None:
        """Count a held public as changed without an event (its state must be written again)."""
        if public_id in self._publics:
            self._changed.add(public_id)

    def take_changed(self) -> list[str]:
        """The publics changed by ``apply``/``apply_all`` since the last call, sorted."""
        changed = sorted(self._changed)
        self._changed.clear()
        return changed

    # -- reading -----------------------------------------------------------------------------------

    def table_of(self, state: PublicState, at: int) -> dict[str, Any]:
        """A held or loaded state's table at ``at``, with its public's segment and profile."""
        public_id = state.public_id
        return snapshot(state, at, self.registry.segment(public_id), self.profile_of(public_id))

    def table(self, public_id: str, at: int) -> dict[str, Any] | None:
        st = self._publics.get(public_id)
        return None if st is None else self.table_of(st, at)

    def tables(self, at: int) -> Iterator[dict[str, Any]]:
        """Every public's table at ``at``, sorted by ``public_id``."""
        for public_id in sorted(self._publics):
            yield self.table_of(self._publics[public_id], at)

    def breaches_of(self, state: PublicState, at: int) -> list[Breach]:
        return breaches(self.table_of(state, at), self.profile_of(state.public_id))

    def breaches(self, at: int) -> Iterator[Breach]:
        """The breaches of §4 at ``at`` of every held public and every registered one (with no events:
        zero counts), sorted by ``public_id`` then ``kpi``."""
        for public_id in sorted(set(self._publics).union(self.registry.ids())):
            st = self._publics.get(public_id) or self.empty(public_id)
            yield from self.breaches_of(st, at)
