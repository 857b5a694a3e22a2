"""VK Callback API notifications to contract v1 events: pure, one notification at a time.

VK posts one notification per request: ``type``, ``group_id``, ``event_id``, ``v``, ``secret`` and
``object`` (VK's own object for the type: ``wall_wallpost`` for ``wall_post_new``, a comment for
``wall_reply_*``, ``callback_like_add_remove``, ``callback_group_join`` …). VK's ``event_id`` is
the contract's, so VK's retries of a notification are duplicates downstream, with one exception:
a comment's ``comment.created`` is named by the comment itself (``vk:<group>:comment:<id>``), so
``wall_reply_restore`` (a deleted comment brought back) is the same event as the ``wall_reply_new``
that created it and never counts twice; its pending state stays as the deletion left it (contract
§3: a deleted comment stops being pending). Only the contract's fields leave: no user id, name or
text.

Fixtures in ``tests/streams/bridge/test_vk.py`` follow VK's own schema of Callback API objects
(github.com/VKCOM/vk-api-schema, ``callback/objects.json``, version 5.199).

A type the contract has no kind for is acknowledged and counted (``ignored``); an object that lacks
what its type must carry is ``bad`` (dead-lettered by the service, without the object's content).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from streams.bridge.config import VkCommunity

#: Outcomes of a notification besides publishing: acknowledged without an event.
IGNORED: Final = "ignored"
#: The Callback API version whose objects the bridge reads (each server's setting in VK).
CALLBACK_API_VERSION: Final = "5.199"


@dataclass(frozen=True)
class Mapped:
    """What one notification becomes: its ``events`` (none or one), or why none (``skipped``: a
    reason the type's events are not the community's own; ``bad``: the object is not what VK
    documents for its type)."""

    events: tuple[dict[str, Any], ...] = ()
    skipped: str | None = None
    bad: str | None = None


def _event(
    kind: str, note: Mapping[str, Any], community: VkCommunity, at_ms: int, **fields: Any
) -> dict[str, Any]:
    return {
        "v": 1,
        "event_id": note["event_id"],
        "kind": kind,
        "public_id": community.public_id,
        "occurred_at": at_ms,
        **fields,
    }


def _int(obj: Mapping[str, Any], key: str) -> int | None:
    value = obj.get(key)
    return value if type(value) is int else None


def _date_ms(obj: Mapping[str, Any], received_ms: int) -> int:
    """``date`` (Unix seconds) as ms; the time received when VK sends none."""
    date = _int(obj, "date")
    return date * 1000 if date is not None and date > 0 else received_ms


def to_events(note: Mapping[str, Any], community: VkCommunity, received_ms: int) -> Mapped:
    """The contract events of one notification of ``community`` (already authenticated)."""
    kind = note.get("type")
    obj = note.get("object")
    if not isinstance(obj, dict):
        return Mapped(bad="object: missing or not an object")
    own = -community.group_id
    handler = _HANDLERS.get(kind) if isinstance(kind, str) else None
    if handler is None:
        return Mapped(skipped=IGNORED)
    return handler(note, obj, community, own, received_ms)


def _post_new(note: Mapping[str, Any], obj: dict[str, Any], c: VkCommunity, own: int, now: int) -> Mapped:
    post_id = _int(obj, "id")
    if post_id is None:
        return Mapped(bad="object.id: missing (a wall_wallpost carries its post id)")
    if obj.get("post_type", "post") != "post":
        return Mapped(skipped=f"post_type {obj.get('post_type')!r} (a suggestion or a scheduled post)")
    if _int(obj, "owner_id") != own or _int(obj, "from_id") not in (own, None):
        return Mapped(skipped="not the community's own post")
    return Mapped((_event("post.published", note, c, _date_ms(obj, now), post_id=str(post_id)),))


def _repost(note: Mapping[str, Any], obj: dict[str, Any], c: VkCommunity, own: int, now: int) -> Mapped:
    history = obj.get("copy_history")
    original = history[0] if isinstance(history, list) and history and isinstance(history[0], dict) else None
    if original is None or _int(original, "id") is None:
        return Mapped(bad="object.copy_history[0].id: missing (a repost names the post it copies)")
    if _int(original, "owner_id") != own:
        return Mapped(skipped="a repost of another wall's post")
    return Mapped((_event("post.reposted", note, c, _date_ms(obj, now), post_id=str(original["id"])),))


def _reply(note: Mapping[str, Any], obj: dict[str, Any], c: VkCommunity, own: int, now: int) -> Mapped:
    comment_id, post_id, author = _int(obj, "id"), _int(obj, "post_id"), _int(obj, "from_id")
    if comment_id is None or post_id is None or author is None:
        return Mapped(bad="object: a wall comment carries id, post_id and from_id")
    owner = _int(obj, "post_owner_id") if "post_owner_id" in obj else _int(obj, "owner_id")
    if owner not in (own, None):
        return Mapped(skipped="a comment on another wall")
    reply_to = _int(obj, "reply_to_comment")
    event = _event(
        "comment.created",
        {"event_id": comment_event_id(c, comment_id)},
        c,
        _date_ms(obj, now),
        post_id=str(post_id),
        comment_id=str(comment_id),
        author="official" if author == own else "citizen",
        reply_to_comment_id=None if reply_to is None else str(reply_to),
    )
    return Mapped((event,))


def comment_event_id(community: VkCommunity, comment_id: int) -> str:
    """The id of a comment's ``comment.created``: the same for its creation, VK's retries of it and
    its restoration."""
    return f"vk:{community.group_id}:comment:{comment_id}"


def _reply_delete(note: Mapping[str, Any], obj: dict[str, Any], c: VkCommunity, own: int, now: int) -> Mapped:
    # VK sends the deleter as deleter_id (older API versions) or user_id; neither travels on
    comment_id, post_id = _int(obj, "id"), _int(obj, "post_id")
    if comment_id is None or post_id is None:
        return Mapped(bad="object: a deleted wall comment carries id and post_id")
    if _int(obj, "owner_id") not in (own, None):
        return Mapped(skipped="a comment on another wall")
    return Mapped(
        (_event("comment.deleted", note, c, now, post_id=str(post_id), comment_id=str(comment_id)),)
    )


def _like(kind: str) -> Any:
    def handle(note: Mapping[str, Any], obj: dict[str, Any], c: VkCommunity, own: int, now: int) -> Mapped:
        if obj.get("object_type") != "post":
            return Mapped(skipped=f"a like of a {obj.get('object_type')!r}, not of a post")
        object_id = _int(obj, "object_id")
        if object_id is None:
            return Mapped(bad="object.object_id: missing (a like names the post)")
        if _int(obj, "object_owner_id") != own:
            return Mapped(skipped="a like of another wall's post")
        return Mapped((_event(kind, note, c, now, post_id=str(object_id)),))

    return handle


def _membership(kind: str) -> Any:
    def handle(note: Mapping[str, Any], obj: dict[str, Any], c: VkCommunity, own: int, now: int) -> Mapped:
        if kind == "subscription.joined" and obj.get("join_type") == "request":
            return Mapped(skipped="a request to join, not a join")
        return Mapped((_event(kind, note, c, now),))

    return handle


_HANDLERS: Final = {
    "wall_post_new": _post_new,
    "wall_repost": _repost,
    "wall_reply_new": _reply,
    "wall_reply_restore": _reply,
    "wall_reply_delete": _reply_delete,
    "like_add": _like("reaction.added"),
    "like_remove": _like("reaction.removed"),
    "group_join": _membership("subscription.joined"),
    "group_leave": _membership("subscription.left"),
}
#: The notification types turned into events.
MAPPED_TYPES: Final = tuple(_HANDLERS)
