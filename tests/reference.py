"""A brute-force reading of contract v1.1 §2 and §4, written from the text alone for differential tests.

It never imports the engine: every figure is recomputed from the whole event list, as slowly and as
literally as the contract states it. Dedup is per public and unbounded (the contract's minimum is
48 hours; generators keep duplicates within that). Working time walks local dates one by one with
the production calendar the contract names; profiles are the TOML document's tables, merged and
chosen as §4 says.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import holidays

HOUR = 3_600_000
DAY = 86_400_000
WINDOWS = {"24h": 24, "7d": 168, "30d": 720}


BUILT_IN = {
    "min_posts_7d": 3,
    "max_silence_h": 72,
    "max_response_wh_p90_h": 4,
    "sla_wh_h": 8,
    "max_overdue_wh": 0,
    "min_er_day_7d": 0.05,
    "min_net_subscribers_pct_7d": -1.0,
    "workday": ["09:00", "18:00"],
}
RU = holidays.country_holidays("RU")


def profile_of(record: dict[str, Any] | None, doc: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
    """§4: the registry's profile if the file has it, else the first matching segment, else default;
    a profile is ``default`` overlaid with its own keys, ``default`` the built-ins overlaid likewise."""
    doc = doc or {"profiles": {"default": {}}}
    tables = doc["profiles"]
    name = "default"
    if record is not None:
        if record.get("profile") in tables:
            name = record["profile"]
        else:
            for seg in doc.get("segments", []):
                ok = True
                for key in ("level", "theme", "region"):
                    if key in seg:
                        allowed = [seg[key]] if isinstance(seg[key], str) else seg[key]
                        ok = ok and record[key] in allowed
                if ok:
                    name = seg["profile"]
                    break
    merged = {**BUILT_IN, **tables["default"], **tables[name]}
    return name, merged


def work_s(a: int, b: int, tz: str, workday: list[str]) -> float:
    """Working seconds inside [a, b): each working local date gives workday[0] to workday[1]."""
    if b <= a:
        return 0.0
    zone = ZoneInfo(tz)
    first = datetime.fromtimestamp(a / 1000, zone).date() - timedelta(days=1)
    last = datetime.fromtimestamp(b / 1000, zone).date() + timedelta(days=1)
    total = 0
    day = first
    while day <= last:
        if RU.is_working_day(day):
            start = _local_ms(day, workday[0], zone)
            end = _local_ms(day, workday[1], zone)
            total += max(0, min(b, end) - max(a, start))
        day += timedelta(days=1)
    return total / 1000


def _local_ms(day: date, clock: str, zone: ZoneInfo) -> int:
    hours, minutes = map(int, clock.split(":"))
    local = datetime(day.year, day.month, day.day, tzinfo=zone) + timedelta(hours=hours, minutes=minutes)
    return round(local.timestamp() * 1000)


def reference_tables(
    events: list[dict[str, Any]],
    at: int,
    registry: dict[str, dict[str, Any]] | None = None,
    profiles: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Snapshots of every public with an event taking part, sorted by public_id. ``registry`` maps a
    public_id to its registry record; ``profiles`` is the parsed TOML document (None: built-ins)."""
    registry = registry or {}
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
        out.append(_table(public_id, log, at, registry.get(public_id), profiles))
    return out


def reference_breaches(
    events: list[dict[str, Any]],
    at: int,
    registry: dict[str, dict[str, Any]] | None = None,
    profiles: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """§4's breaches at ``at`` of every public with an event taking part and every registered one."""
    registry = registry or {}
    tables = {t["public_id"]: t for t in reference_tables(events, at, registry, profiles)}
    for public_id in registry:
        if public_id not in tables:
            tables[public_id] = _table(public_id, [], at, registry[public_id], profiles)
    out = []
    for public_id in sorted(tables):
        t = tables[public_id]
        name, p = profile_of(registry.get(public_id), profiles)
        subs = t["subscribers"]
        rows = {
            "posting": (t["posts_7d"], p["min_posts_7d"], lambda v, th: v < th),
            "silence": (
                None if t["last_post_at"] is None else (at - t["last_post_at"]) / 1000,
                None if p["max_silence_h"] == "off" else p["max_silence_h"] * 3600,
                lambda v, th: v is None or v > th,
            ),
            "response_time": (
                t["response_wh_p90_s_7d"],
                None if p["max_response_wh_p90_h"] == "off" else p["max_response_wh_p90_h"] * 3600,
                lambda v, th: v is not None and v > th,
            ),
            "overdue": (t["overdue_wh"], p["max_overdue_wh"], lambda v, th: v > th),
            "engagement": (t["er_day_7d"], p["min_er_day_7d"], lambda v, th: v is not None and v < th),
            "subscribers": (
                (t["joins_7d"] - t["leaves_7d"]) / subs * 100 if subs else None,
                p["min_net_subscribers_pct_7d"],
                lambda v, th: v is not None and v < th,
            ),
        }
        for kpi in sorted(rows):
            value, threshold, breached = rows[kpi]
            if threshold is None or threshold == "off":
                continue
            if breached(value, threshold):
                out.append(
                    {
                        "public_id": public_id,
                        "at": at,
                        "kpi": kpi,
                        "value": value,
                        "threshold": threshold,
                        "profile": name,
                        "region": t["region"],
                        "level": t["level"],
                        "theme": t["theme"],
                    }
                )
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


def _responses(log: list[dict[str, Any]]) -> tuple[list[tuple[int, int, int]], dict[str, int]]:
    """(reply occurred_at, latency ms, comment occurred_at) of every response, and the comments still
    pending."""
    pending: dict[str, int] = {}
    responses = []
    for ev in log:
        if ev["kind"] == "comment.created" and ev["author"] == "citizen":
            pending[ev["comment_id"]] = ev["occurred_at"]
        elif ev["kind"] == "comment.created" and ev["author"] == "official":
            target = ev.get("reply_to_comment_id")
            if target in pending and ev["occurred_at"] - pending[target] <= 30 * DAY:
                asked = pending[target]
                responses.append((ev["occurred_at"], max(0, ev["occurred_at"] - asked), asked))
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
    record: dict[str, Any] | None,
    profiles: dict[str, Any] | None,
) -> dict[str, Any]:
    t: dict[str, Any] = {"public_id": public_id, "at": at}
    deleted_posts = {ev["post_id"] for ev in log if ev["kind"] == "post.deleted"}
    deltas = _views_deltas(log)
    responses, pending = _responses(log)
    profile_name, profile = profile_of(record, profiles)
    tz = (record or {}).get("tz") or "Europe/Moscow"

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
        lats = sorted(lat for ts, lat, _ in responses if _in_window(ts, at, hours))
        t[f"answered_{s}"] = len(lats)
        t[f"response_mean_s_{s}"] = (sum(lats) / len(lats)) / 1000 if lats else None
        t[f"response_p90_s_{s}"] = lats[math.ceil(len(lats) * 9 / 10) - 1] / 1000 if lats else None
    working = sorted(
        work_s(tc, tr, tz, profile["workday"]) for tr, lat, tc in responses if _in_window(tr, at, 168)
    )
    t["response_wh_mean_s_7d"] = sum(working) / len(working) if working else None
    t["response_wh_p90_s_7d"] = working[math.ceil(len(working) * 9 / 10) - 1] if working else None
    fresh = [tc for tc in pending.values() if tc > at - 30 * DAY]
    t["unanswered"] = len(fresh)
    t["overdue"] = sum(1 for tc in fresh if (at - tc) / 1000 > 86_400)
    t["overdue_wh"] = sum(
        1 for tc in fresh if work_s(tc, at, tz, profile["workday"]) > profile["sla_wh_h"] * 3600
    )
    subs = _subscribers(log)
    t["subscribers"] = subs
    published = [ev["occurred_at"] for ev in log if ev["kind"] == "post.published"]
    t["last_post_at"] = max(published) if published else None
    engagement = t["reactions_7d"] + t["reposts_7d"] + t["citizen_comments_7d"]
    t["er_day_7d"] = engagement / subs / 7 * 100 if subs else None
    t["er_post_7d"] = engagement / subs / t["posts_7d"] * 100 if subs and t["posts_7d"] else None
    t["er_view_7d"] = engagement / t["views_7d"] * 100 if t["views_7d"] else None
    t["region"], t["level"], t["theme"] = (
        (record["region"], record["level"], record["theme"]) if record else (None, None, None)
    )
    t["profile"] = profile_name
    return t
