"""Telegram Bot API webhook updates of channels to contract v1 events: pure, one update at a time.

A bot, admin of the channels it reports, receives ``Update`` objects (``update_id`` and one of
``channel_post``, ``message_reaction_count``, ``chat_member`` …). Event ids derive from the chat and
``update_id``, so Telegram's redelivery of an update is a duplicate downstream.

A ``channel_post`` is a post when it carries content (``CONTENT``); a service message (a pinned
message, a new title or photo, a video chat starting…) carries none and is acknowledged, not
counted. The items of an album share a ``media_group_id`` and arrive as one update each: they are one
post, named by the album (event id ``tg:<chat>:album:<media_group_id>``, post id ``album:<id>``), so
the items after the first are duplicates downstream. Fixtures follow the Bot API's documented
``Update`` and ``Message`` objects (core.telegram.org/bots/api#update, #message).

Channel reactions are anonymous: Telegram sends ``message_reaction_count``, the post's current
totals, not who reacted. ``reaction_events`` turns the change since the last known total (kept by
the service in Redis) into that many ``reaction.added`` or ``reaction.removed`` events.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from streams.bridge.vk import IGNORED, Mapped

#: Message fields that make a channel post a post (the Bot API's content fields of ``Message``);
#: a message with none of them is a service message.
CONTENT: Final = frozenset(
    {
        "text", "photo", "video", "animation", "audio", "document", "voice", "video_note", "sticker",
        "poll", "location", "venue", "contact", "dice", "game", "invoice", "story", "paid_media",
        "giveaway", "giveaway_winners", "checklist",
    }
)  # fmt: skip
#: A member's statuses (ChatMember) that count as subscribed.
MEMBER: Final = frozenset({"creator", "administrator", "member"})


def _subscribed(member: Any) -> bool | None:
    if not isinstance(member, dict) or not isinstance(member.get("status"), str):
        return None
    status = member["status"]
    return status in MEMBER or (status == "restricted" and member.get("is_member") is True)


def chat_of(update: Mapping[str, Any]) -> int | None:
    """The chat an update is about (None: none this bridge reads)."""
    for key in ("channel_post", "message_reaction_count", "chat_member"):
        body = update.get(key)
        if (
            isinstance(body, dict)
            and isinstance(body.get("chat"), dict)
            and type(body["chat"].get("id")) is int
        ):
            return body["chat"]["id"]
    return None


def event_id(update: Mapping[str, Any], chat: int, n: int | None = None) -> str:
    suffix = "" if n is None else f":{n}"
    return f"tg:{chat}:{update['update_id']}{suffix}"


def _base(kind: str, eid: str, public_id: str, at_ms: int, **fields: Any) -> dict[str, Any]:
    return {"v": 1, "event_id": eid, "kind": kind, "public_id": public_id, "occurred_at": at_ms, **fields}


def to_events(update: Mapping[str, Any], chat: int, public_id: str, received_ms: int) -> Mapped:
    """The events of an update other than reaction counts (see ``reaction_total``)."""
    if type(update.get("update_id")) is not int:
        return Mapped(bad="update_id: missing")
    post = update.get("channel_post")
    if isinstance(post, dict):
        message_id, date = post.get("message_id"), post.get("date")
        if type(message_id) is not int:
            return Mapped(bad="channel_post.message_id: missing")
        if CONTENT.isdisjoint(post):
            return Mapped(skipped="a service message (pinned, title, photo, video chat…), not a post")
        at = date * 1000 if type(date) is int and date > 0 else received_ms
        album = post.get("media_group_id")
        if isinstance(album, str) and 1 <= len(album) <= 64:
            eid, post_id = f"tg:{chat}:album:{album}", f"album:{album}"
        else:
            eid, post_id = event_id(update, chat), str(message_id)
        return Mapped((_base("post.published", eid, public_id, at, post_id=post_id),))
    change = update.get("chat_member")
    if isinstance(change, dict):
        before, after = _subscribed(change.get("old_chat_member")), _subscribed(change.get("new_chat_member"))
        if before is None or after is None:
            return Mapped(bad="chat_member: old_chat_member and new_chat_member carry a status")
        if before == after:
            return Mapped(skipped="a member's rights changed, not their membership")
        date = change.get("date")
        at = date * 1000 if type(date) is int and date > 0 else received_ms
        kind = "subscription.joined" if after else "subscription.left"
        return Mapped((_base(kind, event_id(update, chat), public_id, at),))
    return Mapped(skipped=IGNORED)


def reaction_total(update: Mapping[str, Any]) -> tuple[int, int, int] | str | None:
    """``(message_id, total reactions now, date ms)`` of a ``message_reaction_count`` update, a
    reason when it is malformed, or None when the update is another type."""
    counts = update.get("message_reaction_count")
    if not isinstance(counts, dict):
        return None
    if type(update.get("update_id")) is not int:
        return "update_id: missing (reaction events are named by it)"
    message_id, reactions, date = counts.get("message_id"), counts.get("reactions"), counts.get("date")
    if type(message_id) is not int or not isinstance(reactions, list) or type(date) is not int:
        return "message_reaction_count: message_id, date and reactions"
    total = 0
    for r in reactions:
        count = r.get("total_count") if isinstance(r, dict) else None
        if type(count) is not int or count < 0:
            return "message_reaction_count.reactions[].total_count: not a count"
        total += count
    return message_id, total, date * 1000


def reaction_events(
    update: Mapping[str, Any], chat: int, public_id: str, message_id: int, before: int, now: int, at_ms: int
) -> tuple[dict[str, Any], ...]:
    """The change from ``before`` to ``now`` reactions on a post, as one event per reaction."""
    kind = "reaction.added" if now > before else "reaction.removed"
    return tuple(
        _base(kind, event_id(update, chat, n), public_id, at_ms, post_id=str(message_id))
        for n in range(abs(now - before))
    )
