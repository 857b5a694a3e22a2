"""Realistic synthetic traffic: publics with habits, and the contract v1 events those habits produce.

Shared by the benchmarks and the live simulator. Figures follow shared/context/domain.md: 3–5 posts
a week for most pages, answers within hours, daily subscriber counts; a few publics break their KPIs
on purpose (silent, slow to answer, losing subscribers) so alerting has something to find.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from schemas.contract import LEVELS, THEMES
from streams.core.timebase import DAY_MS, HOUR_MS
from streams.produce.names import Namer

#: Share of pages per level and theme (education is about half of all госпаблики).
LEVEL_WEIGHTS = {"federal": 0.01, "regional": 0.09, "municipal": 0.35, "settlement": 0.55}
THEME_WEIGHTS = {
    "education": 0.45,
    "culture": 0.12,
    "administration": 0.14,
    "sport": 0.06,
    "health": 0.07,
    "social": 0.05,
    "youth": 0.04,
    "transport": 0.01,
    "housing": 0.02,
    "security": 0.01,
    "other": 0.03,
}
#: Median subscribers by level.
SUBSCRIBERS = {"federal": 150_000, "regional": 15_000, "municipal": 2_500, "settlement": 500}
REGIONS = ["RU-NIZ", "RU-ROS", "RU-KDA", "RU-VLA", "RU-ORL", "RU-BA", "RU-MOW", "RU-SPE", "RU-SVE", "RU-TA"]
ZONES = {"RU-SVE": "Asia/Yekaterinburg", "RU-BA": "Asia/Yekaterinburg"}
#: Views snapshots after publication (a bridge polls a post's counters on this schedule).
METRICS_AFTER_H = (1, 3, 12, 24, 48, 72, 168)


@dataclass(frozen=True, slots=True)
class Habits:
    """How one public behaves; ``breaks`` names the KPI it breaks on purpose, if any."""

    public_id: str
    name: str
    region: str
    level: str
    theme: str
    tz: str
    subscribers: int
    posts_per_week: float
    answer_share: float
    answer_median_h: float
    churn_per_day: float
    breaks: str | None

    def registry_record(self) -> dict[str, Any]:
        return {
            "v": 1,
            "public_id": self.public_id,
            "name": self.name,
            "region": self.region,
            "level": self.level,
            "theme": self.theme,
            "tz": self.tz,
        }


def make_publics(count: int, seed: int) -> list[Habits]:
    rng = random.Random(seed)
    namer = Namer(seed)
    levels = list(LEVEL_WEIGHTS)
    themes = list(THEME_WEIGHTS)
    out = []
    for i in range(count):
        level = rng.choices(levels, weights=list(LEVEL_WEIGHTS.values()))[0]
        theme = rng.choices(themes, weights=list(THEME_WEIGHTS.values()))[0]
        region = REGIONS[0] if rng.random() < 0.5 else rng.choice(REGIONS)
        platform = rng.choices(["vk", "ok", "tg", "max"], weights=[70, 15, 10, 5])[0]
        subscribers = max(20, int(SUBSCRIBERS[level] * rng.lognormvariate(0, 0.8)))
        breaks = rng.choices([None, "silent", "slow", "churn"], weights=[90, 4, 4, 2])[0]
        out.append(
            Habits(
                public_id=f"{platform}:{'-' if platform == 'vk' else 'p'}{100_000 + i}",
                name=namer(level, theme, region),
                region=region,
                level=level,
                theme=theme,
                tz=ZONES.get(region, "Europe/Moscow"),
                subscribers=subscribers,
                posts_per_week=0.0 if breaks == "silent" else rng.uniform(2.0, 7.0),
                answer_share=0.3 if breaks == "slow" else rng.uniform(0.75, 0.98),
                answer_median_h=30.0 if breaks == "slow" else rng.uniform(1.0, 6.0),
                churn_per_day=0.003 if breaks == "churn" else 0.0003,
                breaks=breaks,
            )
        )
    assert all(p.level in LEVELS and p.theme in THEMES for p in out)
    return out


def liveliest(publics: list[Habits]) -> Habits:
    """A public worth showing first: one that keeps its KPIs, with the most posts and readers."""
    keeping = [p for p in publics if p.breaks is None] or publics
    return max(keeping, key=lambda p: p.posts_per_week * p.subscribers)


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, int(rng.gauss(lam, math.sqrt(lam)) + 0.5))
    threshold, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= threshold:
            return k
        k += 1


class _Ids:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def __call__(self) -> str:
        return f"{self.rng.getrandbits(128):032x}"


class _Public:
    """One public's running traffic: its habits, its own random stream and its counters."""

    def __init__(self, habits: Habits, seed: int) -> None:
        self.habits = habits
        # seeding from a string is stable across runs and Python versions (sha512 of the text)
        self.rng = random.Random(f"{seed}/{habits.public_id}")
        self.new_id = _Ids(self.rng)
        self.subscribers = habits.subscribers
        self.post_seq = 0
        self.comment_seq = 0

    def day(self, day_start: int) -> list[dict[str, Any]]:
        """Every event that the public's activity on the day starting at ``day_start`` causes; they
        all occur at or after ``day_start`` (replies and view counts may fall on later days)."""
        habits, rng, pid = self.habits, self.rng, self.habits.public_id
        out: list[dict[str, Any]] = []

        def emit(kind: str, ts: int, **fields: Any) -> None:
            out.append(
                {
                    "v": 1,
                    "event_id": self.new_id(),
                    "kind": kind,
                    "public_id": pid,
                    "occurred_at": ts,
                    **fields,
                }
            )

        emit("subscribers.counted", day_start + rng.randrange(HOUR_MS), count=self.subscribers)
        joins = _poisson(rng, self.subscribers * 0.0004)
        leaves = _poisson(rng, self.subscribers * habits.churn_per_day)
        for _ in range(joins):
            emit("subscription.joined", day_start + rng.randrange(DAY_MS))
        for _ in range(leaves):
            emit("subscription.left", day_start + rng.randrange(DAY_MS))
        self.subscribers += joins - leaves
        for _ in range(_poisson(rng, habits.posts_per_week / 7)):
            self.post_seq += 1
            post_id = str(self.post_seq)
            # posts go out in working hours, Moscow time (UTC+3)
            posted = day_start + (6 + rng.randrange(11)) * HOUR_MS + rng.randrange(HOUR_MS)
            emit("post.published", posted, post_id=post_id)
            reach = self.subscribers * rng.uniform(0.1, 0.5)
            views = 0
            for after in METRICS_AFTER_H:
                views += int(reach * rng.uniform(0.1, 0.4))
                emit(
                    "post.metrics",
                    posted + after * HOUR_MS + rng.randrange(600_000),
                    post_id=post_id,
                    views=views,
                )
            for _ in range(_poisson(rng, reach * 0.012)):
                emit("reaction.added", posted + int(rng.expovariate(1 / (6 * HOUR_MS))), post_id=post_id)
            for _ in range(_poisson(rng, reach * 0.001)):
                emit("reaction.removed", posted + int(rng.expovariate(1 / (12 * HOUR_MS))), post_id=post_id)
            for _ in range(_poisson(rng, reach * 0.0012)):
                emit("post.reposted", posted + int(rng.expovariate(1 / (8 * HOUR_MS))), post_id=post_id)
            for _ in range(_poisson(rng, min(40.0, 0.5 + reach * 0.0008))):
                self.comment_seq += 1
                cid = f"c{self.comment_seq}"
                asked = posted + int(rng.expovariate(1 / (5 * HOUR_MS)))
                emit("comment.created", asked, post_id=post_id, comment_id=cid, author="citizen")
                if rng.random() < 0.05:
                    emit("comment.deleted", asked + rng.randrange(DAY_MS), post_id=post_id, comment_id=cid)
                elif rng.random() < habits.answer_share:
                    self.comment_seq += 1
                    latency = int(rng.lognormvariate(math.log(habits.answer_median_h * HOUR_MS), 0.9))
                    emit(
                        "comment.created",
                        asked + latency,
                        post_id=post_id,
                        comment_id=f"c{self.comment_seq}",
                        author="official",
                        reply_to_comment_id=cid,
                    )
            if rng.random() < 0.02:
                emit("post.deleted", posted + rng.randrange(3 * DAY_MS), post_id=post_id)
        return out


def public_stream(habits: Habits, start: int, seed: int) -> Iterator[dict[str, Any]]:
    """One public's events from ``start`` on, in ``occurred_at`` order, without end.

    Days are generated lazily: an event caused on day d occurs at or after d's start, so once the
    next event lies past day d's end, day d+1 must be generated before anything more is yielded.
    """
    public = _Public(habits, seed)
    pending: list[tuple[int, int, dict[str, Any]]] = []
    order = 0
    day_start = start
    while True:
        for ev in public.day(day_start):
            order += 1
            heapq.heappush(pending, (ev["occurred_at"], order, ev))
        day_start += DAY_MS
        while pending and pending[0][0] < day_start:
            yield heapq.heappop(pending)[2]


def live_events(
    publics: list[Habits], start: int, seed: int, duplicate_share: float = 0.003
) -> Iterator[dict[str, Any]]:
    """All publics' events from ``start`` on, merged in ``occurred_at`` order, without end, with a
    few redelivered duplicates (as a bridge that retries would send)."""
    rng = random.Random(f"{seed}/duplicates")
    streams = [public_stream(habits, start, seed) for habits in publics]
    for ev in heapq.merge(*streams, key=lambda e: e["occurred_at"]):
        yield ev
        if rng.random() < duplicate_share:
            yield ev


def log_events(
    publics: list[Habits], start: int, end: int, seed: int, duplicate_share: float = 0.003
) -> Iterator[dict[str, Any]]:
    """The events of ``live_events`` with ``occurred_at < end``: a finite log for tests and benchmarks."""
    for ev in live_events(publics, start, seed, duplicate_share):
        if ev["occurred_at"] >= end:
            return
        yield ev


def busy_log(events: int, pending: int, end: int, seed: int) -> Iterator[dict[str, Any]]:
    """Two extreme publics, in log order: ``vk:-1`` with ``events`` events in the day before ``end``
    (reactions, view snapshots of 200 posts, citizen comments answered within the day, joins and
    leaves, 0.3 % redelivered), after ``vk:-2``'s ``pending`` citizen comments over the 14 days before
    it, none answered. What the largest federal pages do on a busy day, for tests and benchmarks."""
    rng = random.Random(seed)
    n = 0

    def ev(public_id: str, kind: str, ts: int, **fields: Any) -> Iterator[dict[str, Any]]:
        nonlocal n
        n += 1
        event = {
            "v": 1,
            "event_id": f"{public_id}#{n}",
            "kind": kind,
            "public_id": public_id,
            "occurred_at": ts,
        }
        event.update(fields)
        yield event
        if rng.random() < 0.003:
            yield event  # redelivered, as a retrying bridge would

    first = end - 14 * DAY_MS
    yield from ev("vk:-2", "subscribers.counted", first - HOUR_MS, count=50_000)
    for i in range(pending):
        ts = first + i * (14 * DAY_MS - HOUR_MS) // max(1, pending)
        yield from ev(
            "vk:-2", "comment.created", ts, post_id=f"p{i % 97}", comment_id=f"c{i}", author="citizen"
        )
    start = end - DAY_MS
    yield from ev("vk:-1", "subscribers.counted", start, count=2_000_000)
    posts = [f"post-{i}" for i in range(200)]
    views = dict.fromkeys(posts, 0)
    waiting: list[str] = []
    every = max(1, events // len(posts))
    for i in range(events):
        ts = start + 1 + i * (DAY_MS - 2) // events
        newest = min(len(posts) - 1, i // every)
        post = posts[max(0, newest - rng.randrange(3))]
        roll = rng.random()
        if i % every == 0:
            yield from ev("vk:-1", "post.published", ts, post_id=posts[newest])
        elif roll < 0.55:
            yield from ev("vk:-1", "reaction.added", ts, post_id=post)
        elif roll < 0.70:
            views[post] += rng.randrange(1, 400)
            yield from ev("vk:-1", "post.metrics", ts, post_id=post, views=views[post])
        elif roll < 0.78:
            yield from ev("vk:-1", "post.reposted", ts, post_id=post)
        elif roll < 0.88:
            waiting.append(f"c{i}")
            yield from ev("vk:-1", "comment.created", ts, post_id=post, comment_id=f"c{i}", author="citizen")
        elif roll < 0.94 and waiting:
            asked = waiting.pop(rng.randrange(len(waiting)))
            yield from ev(
                "vk:-1",
                "comment.created",
                ts,
                post_id=post,
                comment_id=f"o{i}",
                author="official",
                reply_to_comment_id=asked,
            )
        else:
            yield from ev("vk:-1", "subscription.joined" if roll < 0.98 else "subscription.left", ts)
