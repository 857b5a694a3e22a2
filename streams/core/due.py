"""When a public's KPI verdict can next change with no event: what lets a worker judge a public only
when it has events or is due, instead of every public every minute.

Without an event, the breaches of §4 move only with the clock, in three ways:

- the 7-day window moves by whole hours (``hour(T)``), so every windowed value (``posts_7d``, the
  engagement and subscriber sums, the working-time p90) holds until the next hour boundary, and
  not even then when no hour of the window, or after it, holds anything;
- ``silence`` crosses its threshold at ``last_post_at + max_silence``;
- ``overdue_wh`` grows when a pending comment's working time passes the SLA, and shrinks when it
  falls out of ``unanswered`` 30 days after it was asked. Working time grows no faster than the
  clock, so a comment still short of the SLA by ``r`` ms of working time cannot pass it within
  ``r`` ms.

``next_change`` is a lower bound: judging a public at it may find nothing changed (its next one is
then computed again), but nothing changes before it. The one value that moves continuously, the
seconds of an open ``silence`` breach, is aged by whoever shows it (``aged``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from streams.core.breaches import thresholds
from streams.core.profiles import Profile
from streams.core.state import P_HOURS, PublicState
from streams.core.timebase import ANSWER_MS, HOUR_MS

#: Hours in the 7-day window every windowed KPI is computed over, and those KPIs.
WEEK_HOURS = 168
WINDOWED = ("posting", "engagement", "subscribers", "response_time")


def next_change(st: PublicState, profile: Profile, at: int) -> int | None:
    """The earliest instant after ``at`` at which ``st``'s breaches under ``profile`` may differ from
    those at ``at`` with no new event (``None``: never)."""
    limits = thresholds(profile)
    soonest: int | None = None

    def candidate(t: int) -> None:
        nonlocal soonest
        if t > at and (soonest is None or t < soonest):
            soonest = t

    top = at // HOUR_MS
    windowed = any(limits[kpi] is not None for kpi in WINDOWED)
    if windowed and _holds_hours_from(st, top - WEEK_HOURS + 1):
        candidate((top + 1) * HOUR_MS)
    silence_s = limits["silence"]
    if silence_s is not None and st.last_post_at is not None:
        # in breach once (T - last_post_at) / 1000 > the threshold
        candidate(st.last_post_at + int(silence_s * 1000) + 1)
    if limits["overdue"] is not None and st.pending:
        cumulative = st.calendar.cumulative_ms
        bar = cumulative(at) - profile.sla_wh_ms  # overdue while cumulative(asked) < bar
        for asked in st.pending.values():
            candidate(asked + ANSWER_MS)  # leaves ``unanswered`` then
            short = cumulative(asked) - bar  # working ms still to pass before it is overdue
            if short >= 0:
                candidate(at + short + 1)
    return soonest


def _holds_hours_from(st: PublicState, low: int) -> bool:
    """Whether any hour from ``low`` on (in the window now, or entering it later) holds something."""
    for hours in (st.hours, st.wh_latencies, st.wh_sketches, st.latencies, st.sketches):
        if hours and max(hours) >= low:
            return True
    return any(max(rec[P_HOURS], default=low - 1) >= low for rec in st.posts.values())


def aged_value(breach: dict[str, Any], now: int) -> Any:
    """A breach's value as it stands at ``now`` (>= its ``at``) with no event between: only an open
    ``silence`` breach's value moves (seconds since the last post)."""
    value = breach["value"]
    return value + (now - breach["at"]) / 1000 if breach["kpi"] == "silence" and value is not None else value


def aged(breaches: Iterable[dict[str, Any]], now: int) -> list[dict[str, Any]]:
    """Breaches judged at their ``at``, as they stand at ``now`` (``aged_value``)."""
    return [{**b, "value": aged_value(b, now)} if b["kpi"] == "silence" else b for b in breaches]
