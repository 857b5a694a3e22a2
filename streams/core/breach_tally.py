"""Breaches counted per segment, kept current one judged public at a time (the KPI metrics read it).

A sweep over 175 000 publics is too slow to repeat for every scrape, and counting from scratch
at scrape time would walk them all: instead each evaluation of a public moves its counts, so the
tally is always that of the last judgement of every owned public. Pure: no clock, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from streams.core.breaches import Breach

#: A public's segment as the metrics label it: region, level, theme, profile.
Segment = tuple[str, str, str, str]

#: The label for a segment field a public lacks (not in the registry).
UNKNOWN = "unknown"


def segment_of(table: dict[str, Any]) -> Segment:
    """The segment of a table of contract §2 (which carries ``region``, ``level``, ``theme``, ``profile``)."""
    return (
        table["region"] or UNKNOWN,
        table["level"] or UNKNOWN,
        table["theme"] or UNKNOWN,
        table["profile"] or UNKNOWN,
    )


class BreachTally:
    """Publics per segment, publics in breach per KPI and segment, and the breaches themselves.

    ``breaching`` keeps its publics in the order their breaches began (a public that stays in
    breach keeps its place), so a capped export shows the longest-standing breaches and the same
    series from one scrape to the next.
    """

    def __init__(self) -> None:
        #: Per public judged: its segment and the KPIs it breaks.
        self._of: dict[str, tuple[Segment, frozenset[str]]] = {}
        self._interned: dict[Segment, Segment] = {}
        self.publics: dict[Segment, int] = {}
        self.in_breach: dict[tuple[str, Segment], int] = {}
        #: Per public in breach: its breaches (each with ``since``, when it opened), by ``kpi``.
        self.breaching: dict[str, tuple[Breach, ...]] = {}

    def __len__(self) -> int:
        return len(self._of)

    def judged(self, public_id: str, segment: Segment, breaches: Iterable[Breach]) -> None:
        """Record a public's judgement: its segment now and its breaches (each with ``since``)."""
        current = tuple(breaches)
        segment = self._interned.setdefault(segment, segment)
        kpis = frozenset(b["kpi"] for b in current)
        before = self._of.get(public_id)
        if before != (segment, kpis):
            if before is not None:
                self._count(before, -1)
            self._of[public_id] = (segment, kpis)
            self._count((segment, kpis), +1)
        if current:
            self.breaching[public_id] = current
        else:
            self.breaching.pop(public_id, None)

    def drop(self, public_ids: Iterable[str]) -> None:
        """Forget publics this worker no longer judges."""
        for public_id in public_ids:
            before = self._of.pop(public_id, None)
            if before is not None:
                self._count(before, -1)
            self.breaching.pop(public_id, None)

    def keep_only(self, public_ids: set[str]) -> None:
        """Forget every public but ``public_ids`` (after a sweep: what this worker owns now)."""
        self.drop([p for p in self._of if p not in public_ids])

    def _count(self, judged: tuple[Segment, frozenset[str]], step: int) -> None:
        segment, kpis = judged
        _move(self.publics, segment, step)
        for kpi in kpis:
            _move(self.in_breach, (kpi, segment), step)


def _move(counts: dict[Any, int], key: Any, step: int) -> None:
    n = counts.get(key, 0) + step
    if n:
        counts[key] = n
    else:
        del counts[key]
