"""The engagement state of one public: contract v1 §2 applied event by event, with §3 retention.

The hot path is ``PublicState.apply``: one dedup test, one dict dispatch, one counter bump. Reading a
table at a time ``T`` is in ``streams.table``; turning state into bytes is in ``streams.codec``.

Exactness. The snapshot at any ``T`` at or after the newest applied event equals the contract's
brute-force reading, given that each event arrives at most ``LATENESS_MS`` behind the newest event of
its public and that a deleted ``post_id`` is not published again more than 30 days later. Older state
is dropped (§3), which is what keeps memory bounded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from streams.timebase import (
    ANSWER_MS,
    DAY_MS,
    DEDUP_MS,
    HOUR_MS,
    LONGEST_WINDOW_HOURS,
    TRACK_MS,
)

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

Event = dict[str, Any]


class PublicState:
    """Everything needed to answer §2 for one public; nothing older than §3 allows."""

    __slots__ = (
        "hours",
        "last_post_at",
        "latencies",
        "newest",
        "pending",
        "posts",
        "public_id",
        "seen",
        "seen_before",
        "seen_since",
        "subs_at",
        "subs_count",
        "subs_delta",
        "swept_day",
        "touched",
    )

    def __init__(self, public_id: str) -> None:
        self.public_id = public_id
        #: Largest ``occurred_at`` applied; -1 before the first event.
        self.newest = -1
        #: hour -> counters, see the slot constants.
        self.hours: dict[int, list[int]] = {}
        #: hour of the reply -> response latencies in ms.
        self.latencies: dict[int, list[int]] = {}
        #: post_id -> post record, see the ``P_`` slots.
        self.posts: dict[str, list[Any]] = {}
        #: comment_id -> ``occurred_at`` of a citizen comment still waiting for an official reply.
        self.pending: dict[str, int] = {}
        #: The latest ``subscribers.counted`` (time, count) and the joins minus leaves after it.
        self.subs_at: int | None = None
        self.subs_count = 0
        self.subs_delta = 0
        self.last_post_at: int | None = None
        #: Event ids in two generations, each spanning at least ``DEDUP_MS`` of event time, so an
        #: id is remembered while its event lies within 48 h of the newest (§3).
        self.seen: set[str] = set()
        self.seen_before: set[str] = set()
        self.seen_since = -DEDUP_MS
        self.swept_day = -1
        #: Hours whose counters or latencies changed (or were dropped) since the codec last looked.
        self.touched: set[int] = set()

    def apply(self, ev: Event) -> bool:
        """Apply one validated event; ``False`` when it is a duplicate and so changes nothing."""
        event_id = ev["event_id"]
        if event_id in self.seen or event_id in self.seen_before:
            return False
        ts = ev["occurred_at"]
        if ts > self.newest:
            self._advance(ts)
        self.seen.add(event_id)
        _APPLY[ev["kind"]](self, ev, ts)
        return True

    def _advance(self, ts: int) -> None:
        self.newest = ts
        if ts - self.seen_since >= DEDUP_MS:
            self.seen_before = self.seen
            self.seen = set()
            self.seen_since = ts
        day = ts // DAY_MS
        if day != self.swept_day:
            self.swept_day = day
            self.drop_stale()

    def drop_stale(self) -> None:
        """Forget what no window or horizon can reach any more (§3); runs once a day of event time."""
        first_hour = self.newest // HOUR_MS - (LONGEST_WINDOW_HOURS - 1)
        for table in (self.hours, self.latencies):
            old = [h for h in table if h < first_hour]
            for h in old:
                del table[h]
            self.touched.update(old)
        horizon = self.newest - STALE_MS
        stale_posts = [pid for pid, rec in self.posts.items() if rec[P_TOUCH] < horizon]
        for pid in stale_posts:
            del self.posts[pid]
        for rec in self.posts.values():
            if any(h < first_hour for h in rec[P_HOURS]):
                rec[P_HOURS] = [h for h in rec[P_HOURS] if h >= first_hour]
        stale_comments = [cid for cid, tc in self.pending.items() if tc < horizon]
        for cid in stale_comments:
            del self.pending[cid]

    def bump(self, ts: int, slot: int, n: int) -> None:
        hour = ts // HOUR_MS
        counters = self.hours.get(hour)
        if counters is None:
            if hour <= self.newest // HOUR_MS - LONGEST_WINDOW_HOURS:
                return  # older than any window can reach
            counters = self.hours[hour] = [0] * SLOTS
        counters[slot] += n
        self.touched.add(hour)


def _post_published(st: PublicState, ev: Event, ts: int) -> None:
    hour = ts // HOUR_MS
    rec = st.posts.get(ev["post_id"])
    if rec is None:
        st.posts[ev["post_id"]] = [[hour], ts, False, 0, ts]
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
    rec = st.posts.get(ev["post_id"])
    if rec is None:
        st.posts[ev["post_id"]] = [[], -1, True, 0, ts]
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
        st.bump(ts, VIEWS, delta)


def _post_reposted(st: PublicState, ev: Event, ts: int) -> None:
    st.bump(ts, REPOSTS, 1)


def _reaction_added(st: PublicState, ev: Event, ts: int) -> None:
    st.bump(ts, REACTIONS, 1)


def _reaction_removed(st: PublicState, ev: Event, ts: int) -> None:
    st.bump(ts, REACTIONS, -1)


def _comment_created(st: PublicState, ev: Event, ts: int) -> None:
    if ev["author"] == "citizen":
        st.bump(ts, CITIZEN, 1)
        st.pending[ev["comment_id"]] = ts
        return
    st.bump(ts, OFFICIAL, 1)
    replied = ev.get("reply_to_comment_id")
    if replied is None:
        return
    asked = st.pending.get(replied)
    if asked is None or ts - asked > ANSWER_MS:
        return  # a reply to an answered, deleted, unknown or too old comment changes nothing
    del st.pending[replied]
    hour = ts // HOUR_MS
    if hour > st.newest // HOUR_MS - LONGEST_WINDOW_HOURS:
        st.latencies.setdefault(hour, []).append(max(0, ts - asked))
        st.touched.add(hour)


def _comment_deleted(st: PublicState, ev: Event, ts: int) -> None:
    st.pending.pop(ev["comment_id"], None)


def _subscription_joined(st: PublicState, ev: Event, ts: int) -> None:
    st.bump(ts, JOINS, 1)
    if st.subs_at is not None and ts > st.subs_at:
        st.subs_delta += 1


def _subscription_left(st: PublicState, ev: Event, ts: int) -> None:
    st.bump(ts, LEAVES, 1)
    if st.subs_at is not None and ts > st.subs_at:
        st.subs_delta -= 1


def _subscribers_counted(st: PublicState, ev: Event, ts: int) -> None:
    if st.subs_at is None or ts >= st.subs_at:
        st.subs_at = ts
        st.subs_count = ev["count"]
        st.subs_delta = 0


_APPLY: Final[dict[str, Callable[[PublicState, Event, int], None]]] = {
    "post.published": _post_published,
    "post.deleted": _post_deleted,
    "post.metrics": _post_metrics,
    "post.reposted": _post_reposted,
    "reaction.added": _reaction_added,
    "reaction.removed": _reaction_removed,
    "comment.created": _comment_created,
    "comment.deleted": _comment_deleted,
    "subscription.joined": _subscription_joined,
    "subscription.left": _subscription_left,
    "subscribers.counted": _subscribers_counted,
}
