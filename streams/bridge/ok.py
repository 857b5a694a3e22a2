"""OK (Одноклассники) REST API answers to contract v1 events: pure, one group's poll at a time.

OK pushes nothing a group's page does, so the bridge polls its public REST API (``ok_poll``) with the
shapes OK documents for each method (apiok.ru/dev/methods/rest/…):

- ``group.getInfo`` (``uids``, ``fields=members_count``): a list of groups, each with ``uid`` and
  ``members_count`` → one ``subscribers.counted`` a Moscow day;
- ``mediatopic.getTopics`` (``gid``, ``count``, ``fields``): ``media_topics``, each with ``id``,
  ``created_ms``, ``author_ref`` (``group:<gid>`` when the group posted it), ``like_summary.count``,
  ``reshare_summary.count`` and ``discussion_summary.comments_count`` → ``post.published`` for the
  group's own topics; likes and reshares moved since the last poll → that many ``reaction.added``
  / ``reaction.removed`` and ``post.reposted`` (OK gives totals, not who); a topic gone from the
  newest page while younger than its oldest topic → ``post.deleted``;
- ``group.getStatTopics`` (``gid``, ``fields=ID,REACH``, ``start_time``, ``end_time``; it needs the
  group's administrator's token with ``VALUABLE_ACCESS``): ``topics``, each with ``id`` and ``reach``
  → ``post.metrics`` with ``views`` = the topic's reach (people who saw it, as VK counts views);
  without the right, views are not read and the rest goes on;
- ``discussions.getComments`` (``discussionId``, ``discussionType=GROUP_TOPIC``): ``comments``, each
  with ``id``, ``date`` (``yyyy-MM-dd HH:mm:ss``, Moscow time), ``author_id`` and, for an answer,
  ``reply_to_comment_id`` → ``comment.created``, ``official`` when the group itself wrote it
  (``author_type`` ``GROUP`` or the group's id as ``author_id``), else ``citizen``.

Event ids name the group and the object (a topic, a comment, a day, a total's step), never a person:
OK's ids of users are read to tell the group's answers apart and dropped. What OK does not give the
bridge: who liked or reshared (totals only), deleted comments (a deletion is not listed), a
withdrawn reshare.

Requests are signed as OK documents: ``sig = md5(sorted "key=value" of every parameter but
access_token + md5(access_token + application secret key))``, in lower-case hex.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from streams.bridge.vk_poll import MOSCOW, moscow_day
from streams.core.timebase import DAY_MS

#: The contract's longest window: older topics are read no more.
WINDOW_MS: Final = 30 * DAY_MS
#: OK's error codes the poller acts on (apiok.ru/dev/errors).
LIMIT_REACHED: Final = frozenset({8, 11})  # FLOOD_BLOCKED, LIMIT_REACHED: wait, then go on
TOKEN_REFUSED: Final = frozenset({102, 103})  # PARAM_SESSION_EXPIRED, PARAM_SESSION_KEY: a new token
NO_RIGHT: Final = frozenset({10})  # PERMISSION_DENIED: the token lacks a right (statistics)


def signed(params: Mapping[str, str], token: str, secret: str) -> dict[str, str]:
    """``params`` with ``access_token`` and OK's ``sig`` added."""
    session_secret = hashlib.md5((token + secret).encode()).hexdigest().lower()
    line = "".join(f"{k}={params[k]}" for k in sorted(params)) + session_secret
    return {**params, "access_token": token, "sig": hashlib.md5(line.encode()).hexdigest().lower()}


def _base(kind: str, eid: str, public_id: str, at_ms: int, **fields: Any) -> dict[str, Any]:
    return {"v": 1, "event_id": eid, "kind": kind, "public_id": public_id, "occurred_at": at_ms, **fields}


def _count(obj: Any, summary: str, field: str) -> int | None:
    part = obj.get(summary) if isinstance(obj, dict) else None
    value = part.get(field) if isinstance(part, dict) else None
    return value if type(value) is int and value >= 0 else None


def _id(value: Any) -> str | None:
    """OK writes ids as strings of digits (sometimes as numbers)."""
    if type(value) is int and value >= 0:
        return str(value)
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 32:
        return value
    return None


_COMMENT_ID = re.compile(r"[A-Za-z0-9_=+/-]{1,96}")


def _comment_id(value: Any) -> str | None:
    """OK's comment ids are opaque strings (base64 of the discussion and a position)."""
    if isinstance(value, str) and _COMMENT_ID.fullmatch(value):
        return value
    return _id(value)


def members_count(response: Any, gid: str) -> int | None:
    """``members_count`` of group ``gid`` in a ``group.getInfo`` answer."""
    for group in response if isinstance(response, list) else []:
        if isinstance(group, dict) and _id(group.get("uid")) == gid:
            count = group.get("members_count")
            return count if type(count) is int and count >= 0 else None
    return None


def count_event(gid: str, public_id: str, count: int, at_ms: int) -> dict[str, Any]:
    day = moscow_day(at_ms)
    return _base("subscribers.counted", f"ok:{gid}:members:{day}", public_id, at_ms, count=count)


@dataclass(frozen=True, slots=True)
class Topic:
    """What a poll reads of one of the group's topics."""

    id: str
    created_ms: int
    likes: int
    reshares: int
    comments: int


def topics(response: Any, gid: str, at_ms: int) -> list[Topic]:
    """The group's own topics of the contract's 30 days in a ``mediatopic.getTopics`` answer."""
    items = response.get("media_topics") if isinstance(response, dict) else None
    out = []
    for t in items if isinstance(items, list) else []:
        if not isinstance(t, dict):
            continue
        topic_id, created = _id(t.get("id")), t.get("created_ms")
        if topic_id is None or type(created) is not int or not 0 < created <= at_ms + DAY_MS:
            continue  # no time, or one no clock could give
        if t.get("author_ref", f"group:{gid}") != f"group:{gid}" or created < at_ms - WINDOW_MS:
            continue  # a member's topic in the group, or older than any table counts
        out.append(
            Topic(
                topic_id,
                created,
                _count(t, "like_summary", "count") or 0,
                _count(t, "reshare_summary", "count") or 0,
                _count(t, "discussion_summary", "comments_count") or 0,
            )
        )
    return out


def published(gid: str, public_id: str, topic: Topic) -> dict[str, Any]:
    return _base("post.published", f"ok:{gid}:post:{topic.id}", public_id, topic.created_ms, post_id=topic.id)


def deleted(gid: str, public_id: str, topic_id: str, at_ms: int) -> dict[str, Any]:
    return _base("post.deleted", f"ok:{gid}:deleted:{topic_id}", public_id, at_ms, post_id=topic_id)


def moved(
    gid: str, public_id: str, topic_id: str, what: str, step: int, before: int, now: int, at_ms: int
) -> list[dict[str, Any]]:
    """The change of a total (``likes`` or ``reshares``) from ``before`` to ``now``, one event each.

    ``step`` counts the changes of that total the bridge has published: ids name it, so a poll
    repeated after a crash (the same step, the same totals) is a duplicate downstream, while a
    total that goes back and forth (5, 6, 5, 6) is counted each time."""
    if what == "likes":
        kind = "reaction.added" if now > before else "reaction.removed"
    else:
        kind = "post.reposted"
        if now < before:
            return []  # a reshare withdrawn: the contract has no kind for it
    return [
        _base(kind, f"ok:{gid}:{what}:{topic_id}:{step}:{n}", public_id, at_ms, post_id=topic_id)
        for n in range(abs(now - before))
    ]


def views(response: Any, gid: str, public_id: str, own: set[str], at_ms: int) -> list[dict[str, Any]]:
    """``post.metrics`` of the group's topics ``own`` in a ``group.getStatTopics`` answer: a topic's
    ``reach`` (the people who saw it, each once, as VK counts views); ids name the count, so a round
    that finds it unchanged is a duplicate downstream."""
    items = response.get("topics") if isinstance(response, dict) else None
    out = []
    for t in items if isinstance(items, list) else []:
        topic_id = _id(t.get("id")) if isinstance(t, dict) else None
        reach = t.get("reach") if isinstance(t, dict) else None
        if topic_id in own and type(reach) is int and 0 <= reach <= 2**53:
            eid = f"ok-views:{gid}:{topic_id}:{reach}"
            out.append(_base("post.metrics", eid, public_id, at_ms, post_id=topic_id, views=reach))
    return out


def _date_ms(value: Any) -> int | None:
    if not isinstance(value, str):
        return None
    try:
        ms = int(datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=MOSCOW).timestamp() * 1000)
    except ValueError:
        return None
    return ms if ms > 0 else None


def comments(response: Any, gid: str, public_id: str, topic_id: str) -> tuple[list[dict[str, Any]], int]:
    """``comment.created`` of a ``discussions.getComments`` answer; and how many were unreadable."""
    items = response.get("comments") if isinstance(response, dict) else None
    out, bad = [], 0
    for c in items if isinstance(items, list) else []:
        comment_id = _comment_id(c.get("id")) if isinstance(c, dict) else None
        at = _date_ms(c.get("date")) if isinstance(c, dict) else None
        if comment_id is None or at is None:
            bad += 1
            continue
        official = c.get("author_type") == "GROUP" or _id(c.get("author_id")) == gid
        reply_to = _comment_id(c.get("reply_to_comment_id"))
        out.append(
            _base(
                "comment.created",
                f"ok:{gid}:comment:{comment_id}",
                public_id,
                at,
                post_id=topic_id,
                comment_id=comment_id,
                author="official" if official else "citizen",
                reply_to_comment_id=reply_to,
            )
        )
    return out, bad
