"""Reading a public's engagement table at a time T (contract §2, with the working-time fields of §4):
pure functions over state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from streams.core.profiles import BUILT_IN, Profile
from streams.core.state import (
    CITIZEN,
    JOINS,
    LEAVES,
    OFFICIAL,
    P_DELETED,
    P_HOURS,
    REACTIONS,
    REPOSTS,
    SLOTS,
    VIEWS,
    LatencySketch,
    PublicState,
    bucket_of,
    bucket_value,
)
from streams.core.timebase import ANSWER_MS, HOUR_MS, OVERDUE_S, SECOND_MS, WINDOWS

#: Windowed fields in snapshot order; each is emitted once per window suffix.
COUNTER_FIELDS: Final = (
    ("reactions", REACTIONS),
    ("reposts", REPOSTS),
    ("views", VIEWS),
    ("citizen_comments", CITIZEN),
    ("official_comments", OFFICIAL),
    ("joins", JOINS),
    ("leaves", LEAVES),
)


#: Index of the 7-day window in ``WINDOWS``: the engagement rates are defined over it.
WEEK: Final = [suffix for suffix, _ in WINDOWS].index("7d")


@dataclass(frozen=True, slots=True)
class Segment:
    """Where a public sits in the registry; all ``None`` for a public the registry does not know."""

    region: str | None = None
    level: str | None = None
    theme: str | None = None


UNKNOWN_SEGMENT: Final = Segment()


def nearest_rank(sorted_values: list[int], percent: int) -> int:
    """The nearest-rank percentile of a non-empty ascending list: the ceil(p/100·n)-th value."""
    rank = (percent * len(sorted_values) + 99) // 100
    return sorted_values[rank - 1]


def sketched_p90(exact: list[int], sketches: list[LatencySketch]) -> float:
    """The nearest-rank p90 (ms) of exact latencies and sketches together, within the sketch's 0.5 %."""
    counts: dict[int, int] = {}
    for sketch in sketches:
        for bucket, n in sketch.buckets.items():
            counts[bucket] = counts.get(bucket, 0) + n
    for value in exact:
        bucket = bucket_of(value)
        counts[bucket] = counts.get(bucket, 0) + 1
    rank = (90 * sum(counts.values()) + 99) // 100
    seen = 0
    for bucket in sorted(counts):
        seen += counts[bucket]
        if seen >= rank:
            return bucket_value(bucket)
    raise AssertionError("rank beyond the count")  # pragma: no cover


def latency_stats(exact: list[int], sketches: list[LatencySketch]) -> tuple[int, float | None, float | None]:
    """Count, mean (s) and nearest-rank p90 (s) of latencies held exactly and in sketches."""
    count = len(exact) + sum(s.count for s in sketches)
    if not count:
        return 0, None, None
    mean = (sum(exact) + sum(s.total for s in sketches)) / count / SECOND_MS
    p90 = sketched_p90(exact, sketches) if sketches else nearest_rank(sorted(exact), 90)
    return count, mean, p90 / SECOND_MS


def snapshot(
    st: PublicState,
    at: int,
    segment: Segment = UNKNOWN_SEGMENT,
    profile: Profile = BUILT_IN,
) -> dict[str, Any]:
    """The table of §2 and §4 at ``at`` (epoch ms), as one JSON-ready dict in the contract's field
    order; ``profile`` gives the working-time SLA of ``overdue_wh`` and its name."""
    top = at // HOUR_MS
    lows = [top - hours + 1 for _, hours in WINDOWS]
    in_reach = [(hour, counters) for hour, counters in st.hours.items() if lows[-1] <= hour <= top]
    sums: list[list[int]] = []
    lats: list[list[int]] = []
    sketched: list[list[LatencySketch]] = []
    for low in lows:
        picked = [counters for hour, counters in in_reach if hour >= low]
        sums.append([sum(column) for column in zip(*picked, strict=True)] if picked else [0] * SLOTS)
        lats.append([v for hour, values in st.latencies.items() if low <= hour <= top for v in values])
        sketched.append([s for hour, s in st.sketches.items() if low <= hour <= top] if st.sketches else [])
    posts = [0] * len(WINDOWS)
    for rec in st.posts.values():
        if rec[P_DELETED]:
            continue
        newest = max((h for h in rec[P_HOURS] if h <= top), default=None)
        if newest is None:
            continue
        for w, low in enumerate(lows):
            if newest >= low:
                posts[w] += 1

    out: dict[str, Any] = {"public_id": st.public_id, "at": at}
    suffixes = [suffix for suffix, _ in WINDOWS]
    for w, suffix in enumerate(suffixes):
        out[f"posts_{suffix}"] = posts[w]
    for name, slot in COUNTER_FIELDS:
        for w, suffix in enumerate(suffixes):
            out[f"{name}_{suffix}"] = sums[w][slot]
    stats = [latency_stats(lats[w], sketched[w]) for w in range(len(WINDOWS))]
    for w, suffix in enumerate(suffixes):
        out[f"answered_{suffix}"] = stats[w][0]
    for w, suffix in enumerate(suffixes):
        out[f"response_mean_s_{suffix}"] = stats[w][1]
    for w, suffix in enumerate(suffixes):
        out[f"response_p90_s_{suffix}"] = stats[w][2]
    low = lows[WEEK]
    _, wh_mean, wh_p90 = latency_stats(
        [v for hour, values in st.wh_latencies.items() if low <= hour <= top for v in values],
        [s for hour, s in st.wh_sketches.items() if low <= hour <= top],
    )
    out["response_wh_mean_s_7d"] = wh_mean
    out["response_wh_p90_s_7d"] = wh_p90

    fresh_after = at - ANSWER_MS
    overdue_before = at - OVERDUE_S * SECOND_MS
    # overdue_wh: work_s(t_c, T) > sla, i.e. the cumulative working time at t_c is below a bar
    calendar = st.calendar
    working_bar = calendar.cumulative_ms(at) - profile.sla_wh_ms
    cumulative = calendar.cumulative_ms
    unanswered = overdue = overdue_wh = 0
    for asked in st.pending.values():
        if asked > fresh_after:
            unanswered += 1
            if asked < overdue_before:
                overdue += 1
            if cumulative(asked) < working_bar:
                overdue_wh += 1
    out["unanswered"] = unanswered
    out["overdue"] = overdue
    out["overdue_wh"] = overdue_wh
    subscribers = None if st.subs_at is None else st.subs_count + st.subs_delta
    out["subscribers"] = subscribers
    out["last_post_at"] = st.last_post_at
    week = WEEK
    engagement = sums[week][REACTIONS] + sums[week][REPOSTS] + sums[week][CITIZEN]
    out["er_day_7d"] = engagement / subscribers / 7 * 100 if subscribers else None
    out["er_post_7d"] = engagement / subscribers / posts[week] * 100 if subscribers and posts[week] else None
    out["er_view_7d"] = engagement / sums[week][VIEWS] * 100 if sums[week][VIEWS] else None
    out["region"] = segment.region
    out["level"] = segment.level
    out["theme"] = segment.theme
    out["profile"] = profile.name
    return out
