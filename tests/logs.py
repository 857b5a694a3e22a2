"""Factories for contract v1 events and hypothesis strategies for whole logs."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import strategies as st

HOUR = 3_600_000
DAY = 24 * HOUR
#: 2026-11-01T00:00:00Z: the base of generated logs.
BASE = 1_793_491_200_000

_ids = itertools.count()


def event(kind: str, ts: int, public_id: str = "vk:-1", event_id: str | None = None, **fields: Any) -> dict:
    """One contract v1 event; ``event_id`` is fresh unless given."""
    ev = {
        "v": 1,
        "event_id": event_id if event_id is not None else f"e{next(_ids)}",
        "kind": kind,
        "public_id": public_id,
        "occurred_at": ts,
    }
    ev.update(fields)
    return ev


def published(ts: int, post: str = "p1", **kw: Any) -> dict:
    return event("post.published", ts, post_id=post, **kw)


def deleted(ts: int, post: str = "p1", **kw: Any) -> dict:
    return event("post.deleted", ts, post_id=post, **kw)


def metrics(ts: int, views: int, post: str = "p1", **kw: Any) -> dict:
    return event("post.metrics", ts, post_id=post, views=views, **kw)


def citizen(ts: int, comment: str, post: str = "p1", **kw: Any) -> dict:
    return event("comment.created", ts, post_id=post, comment_id=comment, author="citizen", **kw)


def official(ts: int, comment: str, reply_to: str | None = None, post: str = "p1", **kw: Any) -> dict:
    return event(
        "comment.created",
        ts,
        post_id=post,
        comment_id=comment,
        author="official",
        reply_to_comment_id=reply_to,
        **kw,
    )


def counted(ts: int, count: int, **kw: Any) -> dict:
    return event("subscribers.counted", ts, count=count, **kw)


KINDS = [
    "post.published",
    "post.deleted",
    "post.metrics",
    "post.reposted",
    "reaction.added",
    "reaction.removed",
    "comment.created",
    "comment.created",
    "comment.deleted",
    "subscription.joined",
    "subscription.left",
    "subscribers.counted",
]


@st.composite
def offsets(draw: st.DrawFn, span_hours: int) -> int:
    """A time offset that likes hour edges: the first and last millisecond of an hour."""
    hour = draw(st.integers(0, span_hours))
    within = draw(st.sampled_from([0, 1, HOUR - 1, None]))
    if within is None:
        within = draw(st.integers(0, HOUR - 1))
    return hour * HOUR + within


@st.composite
def fields_for(draw: st.DrawFn, kind: str, scope: str) -> dict[str, Any]:
    post = draw(st.sampled_from(["p1", "p2", "p3"])) + scope
    comment = draw(st.sampled_from(["c1", "c2", "c3", "c4"])) + scope
    if kind in ("post.published", "post.deleted", "post.reposted", "reaction.added", "reaction.removed"):
        return {"post_id": post}
    if kind == "post.metrics":
        return {"post_id": post, "views": draw(st.integers(0, 60))}
    if kind == "comment.created":
        author = draw(st.sampled_from(["citizen", "official"]))
        reply = draw(
            st.one_of(st.none(), st.sampled_from(["c1", "c2", "c3", "c4", "zz"]).map(lambda c: c + scope))
        )
        out = {"post_id": post, "comment_id": comment, "author": author}
        if reply is not None or draw(st.booleans()):
            out["reply_to_comment_id"] = reply
        return out
    if kind == "comment.deleted":
        return {"post_id": post, "comment_id": comment}
    if kind == "subscribers.counted":
        return {"count": draw(st.integers(0, 40))}
    return {}


def _with_duplicates(draw: st.DrawFn, log: list[dict]) -> list[dict]:
    """Repeat some event_ids later in the log while their first copy lies within 48 h of the newest."""
    out: list[dict] = []
    newest: dict[str, int] = {}
    first_copies: list[dict] = []
    for ev in log:
        if first_copies and draw(st.integers(0, 6)) == 0:
            candidates = [
                e
                for e in first_copies
                if e["public_id"] == ev["public_id"]
                and e["occurred_at"] >= newest.get(e["public_id"], 0) - 48 * HOUR
            ]
            if candidates:
                original = draw(st.sampled_from(candidates))
                # Same id, possibly other content: the id alone makes it a duplicate. The time stays
                # the original's, so that whichever copy is the first to take part (copies after T
                # do not), it lies within 48 h of the newest, as the contract's guarantee needs.
                if draw(st.booleans()):
                    ev = dict(ev, event_id=original["event_id"], occurred_at=original["occurred_at"])
                else:
                    ev = dict(original)
        else:
            first_copies.append(ev)
        out.append(ev)
        newest[ev["public_id"]] = max(newest.get(ev["public_id"], 0), ev["occurred_at"])
    return out


@st.composite
def short_logs(draw: st.DrawFn) -> tuple[list[dict], int]:
    """Logs spanning at most 29 days in any order, with T anywhere from inside the log to 40 days after."""
    span_hours = draw(st.sampled_from([2, 30, 200, 29 * 24]))
    publics = draw(
        st.lists(st.sampled_from(["vk:-1", "tg:mincult52", "ok:55"]), min_size=1, max_size=3, unique=True)
    )
    n = draw(st.integers(0, 60))
    log = []
    for _ in range(n):
        kind = draw(st.sampled_from(KINDS))
        ts = BASE + draw(offsets(span_hours))
        public = draw(st.sampled_from(publics))
        log.append(event(kind, ts, public, f"e{len(log)}", **draw(fields_for(kind, ""))))
    log = _with_duplicates(draw, log)
    top = max((e["occurred_at"] for e in log), default=BASE)
    at = draw(
        st.one_of(
            st.sampled_from([top, top + 1, top + HOUR, top + 23 * HOUR, top + 7 * DAY, top + 31 * DAY]),
            st.integers(BASE - HOUR, top + 40 * DAY),
            st.sampled_from([e["occurred_at"] + d for e in log for d in (-1, 0)] or [top]),
        )
    )
    return log, at


@st.composite
def long_logs(draw: st.DrawFn) -> tuple[list[dict], int]:
    """Logs spanning up to 90 days, each event at most 48 h late, with ids local to 10-day eras.

    These reach the engine's retention (§3), which must not change any figure.
    """
    publics = draw(st.lists(st.sampled_from(["vk:-1", "max:city"]), min_size=1, max_size=2, unique=True))
    n = draw(st.integers(1, 80))
    ts = BASE
    log = []
    for _ in range(n):
        ts += draw(st.sampled_from([0, 1, HOUR, 5 * HOUR, DAY, 3 * DAY, 10 * DAY]))
        ts += draw(st.integers(0, HOUR))
        late = draw(st.sampled_from([0, 0, HOUR, 47 * HOUR, 48 * HOUR]))
        occurred = ts - late
        kind = draw(st.sampled_from(KINDS))
        era = f"@{(ts - BASE) // (10 * DAY)}"
        public = draw(st.sampled_from(publics))
        log.append(event(kind, occurred, public, f"e{len(log)}", **draw(fields_for(kind, era))))
    log = _with_duplicates(draw, log)
    top = max(e["occurred_at"] for e in log)
    at = draw(st.sampled_from([top, top + 1, top + HOUR, top + 6 * DAY, top + 29 * DAY]))
    return log, at
