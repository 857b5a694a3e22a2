"""A public's last 30 days, one row per local day: the series behind the curators' card.

Pure, from the same hourly state the table is computed from: the counters of contract §2 summed over
the hours of each day in the public's time zone (its registry ``tz``), its posts by the day they were
(last) published, and the replies of each day with their p90. The last row is today, up to ``at``.
Days older than the state's 30-day retention (contract §3) come out partial or empty.
"""

from __future__ import annotations

import bisect
from datetime import UTC, datetime, time, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from streams.core.state import P_DELETED, P_HOURS, PublicState
from streams.core.table import COUNTER_FIELDS, latency_stats
from streams.core.timebase import HOUR_MS

#: Rows of the series.
DAYS: Final = 30


def day_hours(at: int, zone: ZoneInfo | Any, days: int = DAYS) -> list[tuple[str, int, int]]:
    """The local dates of the ``days`` days ending with the day of ``at``, each with its first and
    last hour (hour numbers since the epoch, as the state counts them); today ends at ``at``'s hour."""
    today = datetime.fromtimestamp(at / 1000, zone).date()
    top = at // HOUR_MS
    out = []
    for back in range(days - 1, -1, -1):
        day = today - timedelta(days=back)
        start = datetime.combine(day, time(0), zone).timestamp() * 1000
        end = datetime.combine(day + timedelta(days=1), time(0), zone).timestamp() * 1000
        out.append((day.isoformat(), int(start) // HOUR_MS, min(int(end) // HOUR_MS - 1, top)))
    return out


def daily(st: PublicState, at: int, days: int = DAYS) -> list[dict[str, Any]]:
    """One row per local day: ``date``, ``posts``, the §2 counters, ``answered``, ``response_p90_s``
    and ``response_wh_p90_s`` (the same answers' p90 in working time, §4)."""
    zone = getattr(st.calendar, "zone", None) or UTC
    bounds = day_hours(at, zone, days)
    firsts = [first for _, first, _ in bounds]
    top, bottom = bounds[-1][2], bounds[0][1]

    def day_of(hour: int) -> int | None:
        if hour < bottom or hour > top:
            return None
        return bisect.bisect_right(firsts, hour) - 1

    rows = [{"date": date, "posts": 0, **{name: 0 for name, _ in COUNTER_FIELDS}} for date, _, _ in bounds]
    for hour, counters in st.hours.items():
        i = day_of(hour)
        if i is not None:
            for name, slot in COUNTER_FIELDS:
                rows[i][name] += counters[slot]
    for rec in st.posts.values():
        if rec[P_DELETED]:
            continue
        newest = max((h for h in rec[P_HOURS] if h <= top), default=None)
        i = None if newest is None else day_of(newest)
        if i is not None:
            rows[i]["posts"] += 1
    wall = _per_day(st.latencies, st.sketches, day_of, len(bounds))
    working = _per_day(st.wh_latencies, st.wh_sketches, day_of, len(bounds))
    for row, (exact, sketched), (wh_exact, wh_sketched) in zip(rows, wall, working, strict=True):
        row["answered"], _, row["response_p90_s"] = latency_stats(exact, sketched)
        row["response_wh_p90_s"] = latency_stats(wh_exact, wh_sketched)[2]
    return rows


def _per_day(
    latencies: dict[int, list[int]], sketches: dict[int, Any], day_of: Any, days: int
) -> list[tuple[list[int], list[Any]]]:
    """Each day's latencies (exact and sketched) from their hourly maps."""
    out: list[tuple[list[int], list[Any]]] = [([], []) for _ in range(days)]
    for hour, values in latencies.items():
        i = day_of(hour)
        if i is not None:
            out[i][0].extend(values)
    for hour, sketch in sketches.items():
        i = day_of(hour)
        if i is not None:
            out[i][1].append(sketch)
    return out
