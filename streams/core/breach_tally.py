"""Breaches counted per segment, kept current one judged public at a time (the KPI metrics read it).

A sweep over 175 000 publics is too slow to repeat for every scrape, and counting from scratch
at scrape time would walk them all: instead each evaluation of a public moves its counts, so the
tally is always that of the last judgement of every owned public. Pure: no clock, no I/O.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
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
        #: Per public judged: its segment, the KPIs it breaks, its posts in 7 days and its response
        #: p90 in working seconds (None: no response counted).
        self._of: dict[str, tuple[Segment, frozenset[str], int, float | None]] = {}
        self._interned: dict[Segment, Segment] = {}
        self.publics: dict[Segment, int] = {}
        self.in_breach: dict[tuple[str, Segment], int] = {}
        #: Per segment: posts in 7 days summed over its publics, and the sum and count of their
        #: response p90s (publics with none are not counted): the segment's trends.
        self.posts_7d: dict[Segment, int] = {}
        self.response_p90_sum: dict[Segment, float] = {}
        self.response_p90_count: dict[Segment, int] = {}
        #: Per public in breach: its breaches (each with ``since``, when it opened), by ``kpi``.
        self.breaching: dict[str, tuple[Breach, ...]] = {}
        #: Per public in breach: how bad it is, as ``worst`` orders publics (kept with ``breaching``:
        #: a list of the worst of 170 000 publics then compares tuples, computing nothing).
        self.badness: dict[str, tuple[int, int, str]] = {}
        #: Breaches open at the last judgement of every public (the sum of ``breaching``'s lengths).
        self.open_breaches = 0

    def __len__(self) -> int:
        return len(self._of)

    def __iter__(self) -> Iterator[str]:
        """The publics judged."""
        return iter(self._of)

    def judged(
        self,
        public_id: str,
        segment: Segment,
        breaches: Iterable[Breach],
        posts_7d: int = 0,
        response_p90_s: float | None = None,
    ) -> None:
        """Record a public's judgement: its segment now, its breaches (each with ``since``), and the
        measures the segment trends sum (``posts_7d``, ``response_wh_p90_s_7d``)."""
        current = tuple(breaches)
        segment = self._interned.setdefault(segment, segment)
        kpis = frozenset(b["kpi"] for b in current)
        judgement = (segment, kpis, posts_7d, response_p90_s)
        before = self._of.get(public_id)
        if before != judgement:
            if before is not None:
                self._count(before, -1)
            self._of[public_id] = judgement
            self._count(judgement, +1)
        self.open_breaches += len(current) - len(self.breaching.get(public_id, ()))
        if current:
            self.breaching[public_id] = current
            self.badness[public_id] = badness(public_id, current)
        else:
            self.breaching.pop(public_id, None)
            self.badness.pop(public_id, None)

    def drop(self, public_ids: Iterable[str]) -> None:
        """Forget publics this worker no longer judges."""
        for public_id in public_ids:
            before = self._of.pop(public_id, None)
            if before is not None:
                self._count(before, -1)
            self.open_breaches -= len(self.breaching.pop(public_id, ()))
            self.badness.pop(public_id, None)

    def keep_only(self, public_ids: set[str]) -> None:
        """Forget every public but ``public_ids`` (after a sweep: what this worker owns now)."""
        self.drop([p for p in self._of if p not in public_ids])

    def _count(self, judged: tuple[Segment, frozenset[str], int, float | None], step: int) -> None:
        segment, kpis, posts, response = judged
        _move(self.publics, segment, step)
        for kpi in kpis:
            _move(self.in_breach, (kpi, segment), step)
        _move(self.posts_7d, segment, step * posts, keep_zero=segment in self.publics)
        if response is not None:
            _move(self.response_p90_count, segment, step)
            if segment in self.response_p90_count:
                self.response_p90_sum[segment] = self.response_p90_sum.get(segment, 0.0) + step * response
            else:
                self.response_p90_sum.pop(segment, None)  # no float residue once none is counted

    def worst(self, filters: dict[str, str], limit: int | None) -> tuple[int, list[Breach]]:
        """The publics in breach that ``filters`` admit (``kpi``, ``region``, ``level``, ``theme``,
        ``profile``): how many, and the breaches of the ``limit`` worst of them (all without a
        limit), in ``badness`` order, each public's by ``kpi``. Filters are matched once per segment,
        not per public: a region of 170 000 publics costs a set lookup each."""
        fields = ("region", "level", "theme", "profile")
        wanted = {
            segment
            for segment in self._interned
            if all(segment[fields.index(name)] == value for name, value in filters.items() if name != "kpi")
        }
        kpi = filters.get("kpi")
        if kpi is None:
            keys = [self.badness[p] for p in self.breaching if self._of[p][0] in wanted]
            return len(keys), [b for key in worst_keys(keys, limit) for b in self.breaching[key[2]]]
        picked: dict[str, Breach] = {}
        for p, held in self.breaching.items():
            judged = self._of[p]
            if kpi in judged[1] and judged[0] in wanted:
                picked[p] = next(b for b in held if b["kpi"] == kpi)
        keys = [badness(p, (b,)) for p, b in picked.items()]
        return len(keys), [picked[key[2]] for key in worst_keys(keys, limit)]


def _move(counts: dict[Any, int], key: Any, step: int, keep_zero: bool = False) -> None:
    n = counts.get(key, 0) + step
    if n or keep_zero:
        counts[key] = n
    else:
        counts.pop(key, None)


def badness(public_id: str, held: tuple[Breach, ...]) -> tuple[int, int, str]:
    """Orders publics worst first: the most breaches, then the longest-standing, then by id."""
    return -len(held), min(b.get("since", b.get("at", 0)) for b in held), public_id


def worst_keys(keys: list[tuple[int, int, str]], limit: int | None) -> list[tuple[int, int, str]]:
    """The ``limit`` smallest ``badness`` keys in order (all of them without a limit)."""
    return sorted(keys) if limit is None else heapq.nsmallest(limit, keys)
