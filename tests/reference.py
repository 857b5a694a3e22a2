"""A brute-force reading of contract v1 §2, written from the text alone for differential tests.

It never imports the engine: every figure is recomputed from the whole event list, as slowly and as
literally as the contract states it. Dedup is per public and unbounded (the contract's minimum is
48 hours; generators keep duplicates within that).
"""

from __future__ import annotations

import math
from typing import Any

HOUR = 3_600_000
DAY = 86_400_000
WINDOWS = {"24h": 24, "7d": 168, "30d": 720}


def reference_tables(
    events: list[dict[str, Any]],
    at: int,
    segments: dict[str, tuple[str | None, str | None, str | None]] | None = None,
    sla_s: int = 86_400,
) -> list[dict[str, Any]]:
    """Snapshots of every public with an event taking part, sorted by public_id."""
    segments = segments or {}
    by_public: dict[str, list[dict[str, Any]]] = {}
    for ev in events:
        if ev["occurred_at"] <= at:  # only events at or before T take part
            by_public.setdefault(ev["public_id"], []).append(ev)
    out = []
    for public_id in sorted(by_public):
        seen: set[str] = set()
        log = []
        for ev in by_public[public_id]:
            if ev["event_id"] in seen:
                continue
            seen.add(ev["event_id"])
            log.append(ev)
        out.append(_table(public_id, log, at, segments.get(public_id, (None, None, None)), sla_s))
    return out


def _in_window(ts: int, at: int, hours: int) -> bool:
    return at // HOUR - hours + 1 <= ts // HOUR <= at // HOUR


def _views_deltas(log: list[dict[str, Any]]) -> list[tuple[int, int]]:
    """(occurred_at, delta) of every post.metrics event, walking the log in order."""
    out = []
    for i, ev in enumerate(log):
        if ev["kind"] != "post.metrics":
            continue
        earlier = log[:i]
        post = ev["post_id"]
        published = any(
            e["kind"] == "post.published"
            and e["post_id"] == post
            and ev["occurred_at"] - e["occurred_at"] <= 30 * DAY
            for e in earlier
        )
        deleted = any(e["kind"] == "post.deleted" and e["post_id"] == post for e in earlier)
        if not published or deleted:
            out.append((ev["occurred_at"], 0))
            continue
        # m: largest views of this post's earlier *tracked* metrics events
        m = 0
        for j, e in enumerate(earlier):
            if e["kind"] == "post.metrics" and e["post_id"] == post and _tracked(log, j):
                m = max(m, e["views"])
        out.append((ev["occurred_at"], max(0, ev["views"] - m)))
    return out


def _tracked(log: list[dict[str, Any]], i: int) -> bool:
    ev = log[i]
    earlier = log[:i]
    published = any(
        e["kind"] == "post.published"
        and e["post_id"] == ev["post_id"]
        and ev["occurred_at"] - e["occurred_at"] <= 30 * DAY
        for e in earlier
    )
    deleted = any(e["kind"] == "post.deleted" and e["post_id"] == ev["post_id"] for e in earlier)
    return published and not deleted


def _responses(log: list[dict[str, Any]]) -> tuple[list[tuple[int, int]], dict[str, int]]:
    """(reply occurred_at, latency ms) of every response, and the comments still pending."""
    pending: dict[str, int] = {}
    responses = []
    for ev in log:
        if ev["kind"] == "comment.created" and ev["author"] == "citizen":
            pending[ev["comment_id"]] = ev["occurred_at"]
        elif ev["kind"] == "comment.created" and ev["author"] == "official":
            target = ev.get("reply_to_comment_id")
            if target in pending and ev["occurred_at"] - pending[target] <= 30 * DAY:
                responses.append((ev["occurred_at"], max(0, ev["occurred_at"] - pending[target])))
                del pending[target]
        elif ev["kind"] == "comment.deleted":
            pending.pop(ev["comment_id"], None)
    return responses, pending


def _subscribers(log: list[dict[str, Any]]) -> int | None:
    counts = [(ev["occurred_at"], i) for i, ev in enumerate(log) if ev["kind"] == "subscribers.counted"]
    if not counts:
        return None
    ts, idx = max(counts)  # latest by occurred_at; on a tie the later in log order
    total = log[idx]["count"]
    for ev in log[idx + 1 :]:
        if ev["occurred_at"] > ts:
            if ev["kind"] == "subscription.joined":
                total += 1
            elif ev["kind"] == "subscription.left":
                total -= 1
    return total


def _table(
    public_id: str,
    log: list[dict[str, Any]],
    at: int,
    segment: tuple[str | None, str | None, str | None],
    sla_s: int,
) -> dict[str, Any]:
    t: dict[str, Any] = {"public_id": public_id, "at": at}
    deleted_posts = {ev["post_id"] for ev in log if ev["kind"] == "post.deleted"}
    deltas = _views_deltas(log)
    responses, pending = _responses(log)

    def count(kind: str, suffix: str, **match: Any) -> int:
        return sum(
            1
            for ev in log
            if ev["kind"] == kind
            and _in_window(ev["occurred_at"], at, WINDOWS[suffix])
            and all(ev.get(k) == v for k, v in match.items())
        )

    for s, hours in WINDOWS.items():
        t[f"posts_{s}"] = len(
            {
                ev["post_id"]
                for ev in log
                if ev["kind"] == "post.published" and _in_window(ev["occurred_at"], at, hours)
            }
            - deleted_posts
        )
        t[f"reactions_{s}"] = count("reaction.added", s) - count("reaction.removed", s)
        t[f"reposts_{s}"] = count("post.reposted", s)
        t[f"views_{s}"] = sum(d for ts, d in deltas if _in_window(ts, at, hours))
        t[f"citizen_comments_{s}"] = count("comment.created", s, author="citizen")
        t[f"official_comments_{s}"] = count("comment.created", s, author="official")
        t[f"joins_{s}"] = count("subscription.joined", s)
        t[f"leaves_{s}"] = count("subscription.left", s)
        lats = sorted(lat for ts, lat in responses if _in_window(ts, at, hours))
        t[f"answered_{s}"] = len(lats)
        t[f"response_mean_s_{s}"] = (sum(lats) / len(lats)) / 1000 if lats else None
        t[f"response_p90_s_{s}"] = lats[math.ceil(len(lats) * 9 / 10) - 1] / 1000 if lats else None
    fresh = [tc for tc in pending.values() if tc > at - 30 * DAY]
    t["unanswered"] = len(fresh)
    t["overdue"] = sum(1 for tc in fresh if (at - tc) / 1000 > sla_s)
    subs = _subscribers(log)
    t["subscribers"] = subs
    published = [ev["occurred_at"] for ev in log if ev["kind"] == "post.published"]
    t["last_post_at"] = max(published) if published else None
    engagement = t["reactions_7d"] + t["reposts_7d"] + t["citizen_comments_7d"]
    t["er_day_7d"] = engagement / subs / 7 * 100 if subs else None
    t["er_post_7d"] = engagement / subs / t["posts_7d"] * 100 if subs and t["posts_7d"] else None
    t["er_view_7d"] = engagement / t["views_7d"] * 100 if t["views_7d"] else None
    t["region"], t["level"], t["theme"] = segment
    return t
