"""The engagement state of one public: contract v1 §2 applied event by event, with §3 retention.

The hot path is ``PublicState.apply``: one dedup test, one dict dispatch, one counter bump. Reading a
table at a time ``T`` is in ``streams.core.table``; turning state into bytes is in ``streams.core.codec``.

Exactness. The snapshot at any ``T`` at or after the newest applied event equals the contract's
brute-force reading, given that each event arrives at most ``LATENESS_MS`` behind the newest event of
its public and that a deleted ``post_id`` is not published again more than 30 days later. Older state
is dropped (§3), which is what keeps memory bounded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from hashlib import blake2b
from math import ceil, log
from typing import Any, Final

from schemas.contract import COMMENTS, KINDS, POSTS, SUBSCRIPTIONS
from streams.core.timebase import (
    ANSWER_MS,
    DEDUP_MS,
    HOUR_MS,
    HOURS_PER_DAY,
    LONGEST_WINDOW_HOURS,
    TRACK_MS,
)
from streams.core.worktime import DEFAULT_CALENDAR, WorkCalendar

#: Slots of an hour's counters (one list of ``SLOTS`` ints per hour that saw any of them).
REACTIONS, REPOSTS, VIEWS, CITIZEN, OFFICIAL, JOINS, LEAVES = range(7)
SLOTS: Final = 7

#: Slots of a post record: publish hours, newest publish ms (-1: none), deleted, max tracked views,
#: newest publish-or-delete ms (drives retention).
P_HOURS, P_LAST_PUB, P_DELETED, P_VIEWS, P_TOUCH = range(5)

#: How late an event may arrive (behind its public's newest) and still be counted exactly.
LATENESS_MS: Final = 48 * 3_600_000
#: State whose times all lie this far behind the newest event can no longer change any figure.
STALE_MS: Final = max(ANSWER_MS, TRACK_MS) + LATENESS_MS

#: Retention sweeps run when the oldest kept hour falls this far behind the 30-day window.
SWEEP_EVERY_HOURS: Final = 72

#: An hour's response latencies are kept exactly up to this many; past it, as a ``LatencySketch``.
EXACT_LATENCIES: Final = 256


Event = dict[str, Any]


class PublicState:
    """Everything needed to answer §2 for one public; nothing older than §3 allows."""

    __slots__ = (
        "calendar",
        "dirty_days",
        "dropped_days",
        "hours",
        "housekeep_at",
        "last_post_at",
        "latencies",
        "memories",
        "newest",
        "oldest_hour",
        "pending",
        "posts",
        "public_id",
        "restored",
        "sketches",
        "subs_at",
        "subs_count",
        "subs_delta",
        "touched_pending",
        "touched_posts",
        "wh_latencies",
        "wh_sketches",
    )

    def __init__(self, public_id: str) -> None:
        self.public_id = public_id
        #: Largest ``occurred_at`` applied; -1 before the first event.
        self.newest = -1
        #: When ``newest`` reaches this, the next daily housekeeping (dedup rotation, retention) is due.
        self.housekeep_at = -1
        #: hour -> counters, see the slot constants.
        self.hours: dict[int, list[int]] = {}
        #: hour of the reply -> response latencies in ms, while the hour has at most ``EXACT_LATENCIES``.
        self.latencies: dict[int, list[int]] = {}
        #: hour of the reply -> its latencies as a sketch, once there were more (a busy public's hour).
        self.sketches: dict[int, LatencySketch] = {}
        #: The same for working latencies (§4), kept apart: an hour restored from a format that had
        #: none holds wall-clock latencies only.
        self.wh_latencies: dict[int, list[int]] = {}
        self.wh_sketches: dict[int, LatencySketch] = {}
        #: The public's working time (§4): its zone and its profile's workday, set by the engine.
        self.calendar: WorkCalendar = DEFAULT_CALENDAR
        #: No hour below this is held in ``hours`` or ``latencies``; set by the first sweep.
        self.oldest_hour = -(1 << 40)
        #: post_id -> post record, see the ``P_`` slots.
        self.posts: dict[str, list[Any]] = {}
        #: comment_id -> ``occurred_at`` of a citizen comment still waiting for an official reply.
        self.pending: dict[str, int] = {}
        #: The latest ``subscribers.counted`` (time, count) and the joins minus leaves after it.
        self.subs_at: int | None = None
        self.subs_count = 0
        self.subs_delta = 0
        self.last_post_at: int | None = None
        #: Event ids seen, one memory per topic family (posts, comments, subscriptions).
        self.memories = (IdMemory(), IdMemory(), IdMemory())
        #: Whether any memory holds digests restored from bytes (checked before hashing an id).
        self.restored = False
        #: The days whose hours changed since the codec last took the changes.
        self.dirty_days: set[int] = set()
        #: Days whose hours retention dropped since the codec last took the changes.
        self.dropped_days: set[int] = set()
        #: post_ids and comment_ids whose entry changed since the codec last took the changes; ``None``
        #: where nothing persists the state (offline replay), so that nothing is collected for nobody.
        self.touched_posts: set[str] | None = None
        self.touched_pending: set[str] | None = None

    def track_changes(self) -> None:
        """Remember which posts and pending comments change, so a paged write rewrites only their pages."""
        self.touched_posts = set()
        self.touched_pending = set()

    def apply(self, ev: Event) -> bool:
        """Apply one validated event; ``False`` when it is a duplicate and so changes nothing."""
        kind = ev["kind"]
        event_id = ev["event_id"]
        posts, comments, subscriptions = self.memories
        if event_id in posts.ids or event_id in comments.ids or event_id in subscriptions.ids:
            return False  # an id is a duplicate whatever its kind (§2)
        if self.restored:
            hashed = digest(event_id)
            if any(m.digests and hashed in m.digests for m in self.memories):
                return False
        memory = self.memories[_FAMILY[kind]]
        ts = ev["occurred_at"]
        if ts > memory.newest:
            memory.newest = ts
            if ts - memory.swept_at >= DEDUP_MS:
                memory.sweep()
        memory.ids[event_id] = ts
        if ts > self.newest:
            self.newest = ts
            if ts >= self.housekeep_at:
                self.housekeep()
        step = _COUNTER_ONLY.get(kind)
        if step is None:
            _APPLY[kind](self, ev, ts)
            return True
        # the commonest kinds (reactions, reposts) only move one counter: done inline
        hour = ts // HOUR_MS
        counters = self.hours.get(hour)
        if counters is None:
            counters = self.counters(ts)
            if counters is None:
                return True
        else:
            self.dirty_days.add(hour // HOURS_PER_DAY)
        counters[step[0]] += step[1]
        return True

    def apply_all(self, events: Iterable[Event], tally: dict[str, int] | None = None) -> int:
        """Apply validated events of this public in log order; returns how many were not duplicates.

        ``tally`` (kind -> count), when given, counts the applied events by kind (for metrics)."""
        apply = self.apply
        if tally is None:
            return sum(1 for ev in events if apply(ev))
        applied = 0
        for ev in events:
            if apply(ev):
                applied += 1
                kind = ev["kind"]
                tally[kind] = tally.get(kind, 0) + 1
        return applied

    def housekeep(self) -> None:
        """Now and then drop what §3 lets go."""
        first_hour = self.newest // HOUR_MS - (LONGEST_WINDOW_HOURS - 1)
        if first_hour - self.oldest_hour >= SWEEP_EVERY_HOURS:
            self.drop_stale(first_hour)
        self.plan_housekeeping()

    def plan_housekeeping(self) -> None:
        """Set the event time at which ``housekeep`` is next due."""
        self.housekeep_at = (self.oldest_hour + LONGEST_WINDOW_HOURS - 1 + SWEEP_EVERY_HOURS) * HOUR_MS

    def drop_stale(self, first_hour: int) -> None:
        """Forget hours no window reaches and posts and comments past every horizon (§3)."""
        old: Iterable[int] = range(self.oldest_hour, first_hour)
        held = (self.hours, self.latencies, self.sketches, self.wh_latencies, self.wh_sketches)
        if first_hour - self.oldest_hour > sum(map(len, held)):
            old = {h for hours in held for h in hours if h < first_hour}
        for hour in old:
            dropped = False
            for hours in held:
                dropped = hours.pop(hour, None) is not None or dropped
            if dropped:
                self.dropped_days.add(hour // HOURS_PER_DAY)
        self.oldest_hour = first_hour
        horizon = self.newest - STALE_MS
        stale = [pid for pid, rec in self.posts.items() if rec[P_TOUCH] < horizon]
        for pid in stale:
            del self.posts[pid]
        if stale and self.touched_posts is not None:
            self.touched_posts.update(stale)
        stale = [cid for cid, asked in self.pending.items() if asked < horizon]
        for cid in stale:
            del self.pending[cid]
        if stale and self.touched_pending is not None:
            self.touched_pending.update(stale)

    def add_latency(self, hour: int, latency_ms: int, working_ms: int | None) -> None:
        """Record a response in its reply's hour, its wall-clock and its working latency (``None``:
        unknown, for a response read from a format without working latencies)."""
        _add_latency(self.latencies, self.sketches, hour, latency_ms)
        if working_ms is not None:
            _add_latency(self.wh_latencies, self.wh_sketches, hour, working_ms)

    def counters(self, ts: int) -> list[int] | None:
        """The counters of ``ts``'s hour, created on first use; ``None`` if no window can reach it."""
        hour = ts // HOUR_MS
        counters = self.hours.get(hour)
        if counters is None:
            if hour < self.oldest_hour or hour <= self.newest // HOUR_MS - LONGEST_WINDOW_HOURS:
                return None
            counters = self.hours[hour] = [0] * SLOTS
        self.dirty_days.add(hour // HOURS_PER_DAY)
        return counters


def _add_latency(
    exact: dict[int, list[int]], sketches: dict[int, LatencySketch], hour: int, value: int
) -> None:
    """Exactly while the hour is small, else in its sketch."""
    sketch = sketches.get(hour)
    if sketch is not None:
        sketch.add(value)
        return
    values = exact.setdefault(hour, [])
    values.append(value)
    if len(values) > EXACT_LATENCIES:
        sketches[hour] = LatencySketch.of(values)
        del exact[hour]


class LatencySketch:
    """An hour's response latencies past ``EXACT_LATENCIES``: exact count and sum, and a log-bucketed
    histogram for the percentile, so that a busy hour's size is bounded whatever its traffic.

    Bucket ``i`` holds the latencies in ``(GAMMA^(i-1), GAMMA^i]`` ms (bucket -1: zero); its
    representative value is within ``(GAMMA - 1) / (GAMMA + 1)`` (0.5 %) of each of them, inside the
    contract's 1 % for ``response_p90_s_W``; the mean stays exact.
    """

    __slots__ = ("buckets", "count", "total")

    def __init__(self) -> None:
        self.count = 0
        self.total = 0
        self.buckets: dict[int, int] = {}

    @classmethod
    def of(cls, values: Iterable[int]) -> LatencySketch:
        sketch = cls()
        for value in values:
            sketch.add(value)
        return sketch

    def add(self, latency_ms: int) -> None:
        self.count += 1
        self.total += latency_ms
        bucket = bucket_of(latency_ms)
        self.buckets[bucket] = self.buckets.get(bucket, 0) + 1


GAMMA: Final = 1.01
_LOG_GAMMA: Final = log(GAMMA)


def bucket_of(latency_ms: int) -> int:
    return -1 if latency_ms <= 0 else ceil(log(latency_ms) / _LOG_GAMMA)


def bucket_value(bucket: int) -> float:
    """The value a bucket stands for, in ms: within 0.5 % of every latency it holds."""
    return 0.0 if bucket < 0 else 2 * GAMMA**bucket / (GAMMA + 1)


class IdMemory:
    """The event ids of one topic family, each with the ``occurred_at`` of its first copy.

    A family's events travel in their own partition and progress in their own time, so 48 h is
    measured against the newest event of the family: a public's posts may be replayed days behind
    its subscriptions, and a redelivery after a crash must still find the posts' ids. Every 48 h of
    the family's event time, ids more than 48 h behind its newest are swept out, so each id is
    remembered at least as long as §3 asks and memory stays bounded.

    A live worker also holds back ids that may not be committed yet: after ``hold_unsettled`` only
    ids present at the last-but-one ``settle`` (a periodic tick, far longer than the commit
    interval) may be swept, because a crash redelivers everything after the last commit however
    far event time has run since. Offline replay never holds anything back.
    """

    __slots__ = (
        "digests",
        "digests_serialized",
        "digests_settled",
        "epoch",
        "ids",
        "newest",
        "page_counts",
        "pages",
        "pending",
        "serialized",
        "settled",
        "source",
        "swept_at",
    )

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        #: Where this family's events of the public come from, and how far they are applied: the
        #: source partition and the offset after the last message applied (``None``: not known, e.g.
        #: offline replay or state written before it was kept). A redelivered message (a restart or a
        #: takeover reads from the last commit, or from a partition's start when none is known) sits
        #: below it and is skipped whatever its events' age: the ids' 48 h horizon is not enough then.
        self.source: tuple[int, int] | None = None
        #: Digests of ids restored from bytes (see ``streams.core.codec``); ``None`` when there are none.
        self.digests: dict[bytes, int] | None = None
        self.newest = -1
        self.swept_at = -DEDUP_MS
        #: How many of the oldest ``ids`` (in insertion order) may be swept; ``None``: all of them.
        self.settled: int | None = None
        #: How many were present at the last ``settle``: they become sweepable at the next one.
        self.pending = 0
        self.digests_settled = True
        # ``streams.core.codec``'s serialized entries (digests first, then ids in arrival order), kept between
        # flushes in pages of a bounded number of entries. Entries only get appended between sweeps, so
        # each is serialized once and only the last page changes; a sweep starts a new ``epoch``.
        self.pages: list[bytearray] = []
        self.page_counts: list[int] = []
        #: How many of ``ids`` (in insertion order) the pages hold; whether they hold the digests.
        self.serialized = 0
        self.digests_serialized = False
        self.epoch = 0

    def hold_unsettled(self) -> None:
        self.settled = 0
        self.pending = 0
        self.digests_settled = False

    def settle(self) -> None:
        if self.settled is not None:
            self.settled, self.pending = self.pending, len(self.ids)
        self.digests_settled = True

    def sweep(self) -> None:
        keep = self.newest - DEDUP_MS
        if self.settled is None:
            self.ids = {eid: ts for eid, ts in self.ids.items() if ts >= keep}
        else:
            items = list(self.ids.items())
            head, tail = items[: self.settled], items[self.settled :]
            self.ids = {eid: ts for eid, ts in head if ts >= keep}
            removed = len(head) - len(self.ids)
            self.ids.update(tail)
            self.settled -= removed
            self.pending = max(self.settled, self.pending - removed)
        if self.digests is not None and self.digests_settled:
            self.digests = {d: ts for d, ts in self.digests.items() if ts >= keep} or None
        self.swept_at = self.newest
        # serialized relative to swept_at, and the sweep took entries out of the middle: start again
        self.pages, self.page_counts = [], []
        self.serialized = 0
        self.digests_serialized = False
        self.epoch += 1

    def __len__(self) -> int:
        return len(self.ids) + len(self.digests or ())


def digest(event_id: str) -> bytes:
    """A stable 8-byte digest of an event id: what a serialized state keeps instead of the id."""
    return blake2b(event_id.encode(), digest_size=8).digest()


def _post_published(st: PublicState, ev: Event, ts: int) -> None:
    hour = ts // HOUR_MS
    post_id = ev["post_id"]
    if st.touched_posts is not None:
        st.touched_posts.add(post_id)
    rec = st.posts.get(post_id)
    if rec is None:
        st.posts[post_id] = [[hour], ts, False, 0, ts]
    else:
        if hour not in rec[P_HOURS]:
            rec[P_HOURS].append(hour)
        if ts > rec[P_LAST_PUB]:
            rec[P_LAST_PUB] = ts
        if ts > rec[P_TOUCH]:
            rec[P_TOUCH] = ts
    if st.last_post_at is None or ts > st.last_post_at:
        st.last_post_at = ts


def _post_deleted(st: PublicState, ev: Event, ts: int) -> None:
    post_id = ev["post_id"]
    if st.touched_posts is not None:
        st.touched_posts.add(post_id)
    rec = st.posts.get(post_id)
    if rec is None:
        st.posts[post_id] = [[], -1, True, 0, ts]
    else:
        rec[P_DELETED] = True
        if ts > rec[P_TOUCH]:
            rec[P_TOUCH] = ts


def _post_metrics(st: PublicState, ev: Event, ts: int) -> None:
    rec = st.posts.get(ev["post_id"])
    if rec is None or rec[P_DELETED] or ts - rec[P_LAST_PUB] > TRACK_MS:
        return  # untracked: contributes nothing and is not remembered
    delta = ev["views"] - rec[P_VIEWS]
    if delta > 0:
        rec[P_VIEWS] = ev["views"]
        if st.touched_posts is not None:
            st.touched_posts.add(ev["post_id"])
        counters = st.counters(ts)
        if counters is not None:
            counters[VIEWS] += delta


def _comment_created(st: PublicState, ev: Event, ts: int) -> None:
    counters = st.counters(ts)
    if ev["author"] == "citizen":
        if counters is not None:
            counters[CITIZEN] += 1
        st.pending[ev["comment_id"]] = ts
        if st.touched_pending is not None:
            st.touched_pending.add(ev["comment_id"])
        return
    if counters is not None:
        counters[OFFICIAL] += 1
    replied = ev.get("reply_to_comment_id")
    if replied is None:
        return
    asked = st.pending.get(replied)
    if asked is None or ts - asked > ANSWER_MS:
        return  # a reply to an answered, deleted, unknown or too old comment changes nothing
    del st.pending[replied]
    if st.touched_pending is not None:
        st.touched_pending.add(replied)
    if counters is not None:  # the reply's hour is within reach of the windows
        st.add_latency(ts // HOUR_MS, max(0, ts - asked), st.calendar.work_ms(asked, ts))


def _comment_deleted(st: PublicState, ev: Event, ts: int) -> None:
    if st.pending.pop(ev["comment_id"], None) is not None and st.touched_pending is not None:
        st.touched_pending.add(ev["comment_id"])


def _subscription_joined(st: PublicState, ev: Event, ts: int) -> None:
    counters = st.counters(ts)
    if counters is not None:
        counters[JOINS] += 1
    if st.subs_at is not None and ts > st.subs_at:
        st.subs_delta += 1


def _subscription_left(st: PublicState, ev: Event, ts: int) -> None:
    counters = st.counters(ts)
    if counters is not None:
        counters[LEAVES] += 1
    if st.subs_at is not None and ts > st.subs_at:
        st.subs_delta -= 1


def _subscribers_counted(st: PublicState, ev: Event, ts: int) -> None:
    if st.subs_at is None or ts >= st.subs_at:
        st.subs_at = ts
        st.subs_count = ev["count"]
        st.subs_delta = 0


#: Kinds that move one hourly counter and nothing else: kind -> (slot, step).
_COUNTER_ONLY: Final = {
    "reaction.added": (REACTIONS, 1),
    "reaction.removed": (REACTIONS, -1),
    "post.reposted": (REPOSTS, 1),
}

#: Kind -> index of its topic family in ``PublicState.memories``.
FAMILIES: Final = (POSTS, COMMENTS, SUBSCRIPTIONS)
_FAMILY: Final = {kind: FAMILIES.index(topic) for kind, (topic, _) in KINDS.items()}

#: Kind -> its handler, for every kind not in ``_COUNTER_ONLY``.
_APPLY: Final[dict[str, Callable[[PublicState, Event, int], None]]] = {
    "post.published": _post_published,
    "post.deleted": _post_deleted,
    "post.metrics": _post_metrics,
    "comment.created": _comment_created,
    "comment.deleted": _comment_deleted,
    "subscription.joined": _subscription_joined,
    "subscription.left": _subscription_left,
    "subscribers.counted": _subscribers_counted,
}
