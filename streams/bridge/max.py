"""Max Bot API webhook updates of channels to contract v1 events: pure, one update at a time.

A bot subscribed with ``POST /subscriptions`` (a ``secret`` checked from ``X-Max-Bot-Api-Secret``)
receives ``Update`` objects: ``update_type``, ``timestamp`` (Unix ms) and the type's fields. For a
channel the Bot API documents: ``message_created`` (``message.recipient.chat_id``/``chat_type``,
``message.body.mid``), ``message_removed`` (``chat_id``, ``message_id``), ``user_added`` and
``user_removed`` (``chat_id``, ``user``, ``is_channel``). It has no reactions, reposts, views,
comments or subscriber counts for a bot (docs/bridges.md's table), so those fields of a Max public's
table stay at zero, knowingly.

An update carries no id of its own. The event id is an HMAC, under the deployment's key (the
bridge file's ``[ids]``), of what identifies it (chat, type, message or member, time): Max's
redelivery of an update is a duplicate downstream, and no user id travels, not even inside an id —
an unkeyed digest of a member's update could be matched by trying user ids in order, the key makes
that impossible for whoever lacks it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any, Final

from streams.bridge.vk import IGNORED, Mapped

MEMBERSHIP: Final = {"user_added": "subscription.joined", "user_removed": "subscription.left"}


def chat_of(update: Mapping[str, Any]) -> int | None:
    if update.get("update_type") == "message_created":
        message = update.get("message")
        recipient = message.get("recipient") if isinstance(message, dict) else None
        chat = recipient.get("chat_id") if isinstance(recipient, dict) else None
    else:
        chat = update.get("chat_id")
    return chat if type(chat) is int else None


def _id(key: bytes, *parts: object) -> str:
    return "max:" + hmac.new(key, "|".join(map(str, parts)).encode(), hashlib.sha256).hexdigest()[:40]


def _base(kind: str, eid: str, public_id: str, at_ms: int, **fields: Any) -> dict[str, Any]:
    return {"v": 1, "event_id": eid, "kind": kind, "public_id": public_id, "occurred_at": at_ms, **fields}


def to_events(update: Mapping[str, Any], chat: int, public_id: str, received_ms: int, key: bytes) -> Mapped:
    kind = update.get("update_type")
    if not isinstance(kind, str):
        return Mapped(skipped=IGNORED)
    stamp = update.get("timestamp")
    at = stamp if type(stamp) is int and stamp > 0 else received_ms
    if kind == "message_created":
        message = update["message"]
        recipient, body = message.get("recipient"), message.get("body")
        if not isinstance(recipient, dict) or recipient.get("chat_type") != "channel":
            return Mapped(skipped="a message in a chat or dialog, not a channel post")
        mid = body.get("mid") if isinstance(body, dict) else None
        if not isinstance(mid, str) or not 1 <= len(mid) <= 128:
            return Mapped(bad="message.body.mid: missing")
        return Mapped((_base("post.published", _id(key, chat, kind, mid), public_id, at, post_id=mid),))
    if kind == "message_removed":
        mid = update.get("message_id")
        if not isinstance(mid, str) or not 1 <= len(mid) <= 128:
            return Mapped(bad="message_id: missing")
        return Mapped((_base("post.deleted", _id(key, chat, kind, mid), public_id, at, post_id=mid),))
    if kind in MEMBERSHIP:
        user = update.get("user")
        user_id = user.get("user_id") if isinstance(user, dict) else None
        if type(user_id) is not int:
            return Mapped(bad="user.user_id: missing")
        if update.get("is_channel") is False:
            return Mapped(skipped="a member of a chat, not a channel's subscriber")
        return Mapped((_base(MEMBERSHIP[kind], _id(key, chat, kind, user_id, at), public_id, at),))
    return Mapped(skipped=IGNORED)
