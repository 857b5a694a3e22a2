"""VK Callback API notifications, shaped as VK documents its objects, into contract v1 events."""

from __future__ import annotations

from typing import Any

from schemas.validate import explain_event
from streams.bridge.config import VkCommunity
from streams.bridge.vk import IGNORED, to_events

GROUP = 48241
OWN = -GROUP
COMMUNITY = VkCommunity(GROUP, "vk:-48241", "a1b2c3d4", "s3cret")
NOW = 1_795_000_000_000
DATE = 1_794_990_000  # seconds, as VK sends `date`
#: Every field a contract v1 event may carry: nothing else may leave the bridge.
CONTRACT_FIELDS = {
    "v", "event_id", "kind", "public_id", "occurred_at", "post_id", "comment_id", "author",
    "reply_to_comment_id", "views", "count",
}  # fmt: skip


def note(
    kind: str, obj: dict[str, Any], event_id: str = "0f8a1c2e3b4d5a6978695a4b3c2d1e0f"
) -> dict[str, Any]:
    return {
        "type": kind,
        "event_id": event_id,
        "v": "5.199",
        "object": obj,
        "group_id": GROUP,
        "secret": "s3cret",
    }


def one(n: dict[str, Any]) -> dict[str, Any]:
    mapped = to_events(n, COMMUNITY, NOW)
    assert mapped.bad is None and mapped.skipped is None and len(mapped.events) == 1, mapped
    event = mapped.events[0]
    assert explain_event(event, NOW) is None, explain_event(event, NOW)
    assert set(event) <= CONTRACT_FIELDS  # no user id, name or text travels
    assert event["public_id"] == "vk:-48241"
    if event["kind"] == "comment.created":  # named by the comment: a restore is no second comment
        assert event["event_id"] == f"vk:{GROUP}:comment:{event['comment_id']}"
    else:
        assert event["event_id"] == n["event_id"]
    return event


def wallpost(**fields: Any) -> dict[str, Any]:
    """A ``wall_wallpost`` as VK sends it with wall_post_new (the fields the bridge reads and more).

    Source: VK's Callback API event objects (dev.vk.com/ru/api/community-events/json-schema, "Записи
    на стене": wall_post_new carries a post object) and the post object
    (dev.vk.com/ru/reference/objects/post).
    """
    return {
        "id": 9128,
        "owner_id": OWN,
        "from_id": OWN,
        "created_by": 1234567,
        "date": DATE,
        "text": "Приглашаем на концерт",
        "post_type": "post",
        "attachments": [],
        "comments": {"count": 0},
        "likes": {"count": 0},
        "views": {"count": 1},
    } | fields


def test_a_community_post_is_published() -> None:
    event = one(note("wall_post_new", wallpost()))
    assert event == event | {"kind": "post.published", "post_id": "9128", "occurred_at": DATE * 1000}


def test_suggested_scheduled_and_others_posts_are_not_the_communitys() -> None:
    for post_type in ("suggest", "postpone"):
        assert to_events(note("wall_post_new", wallpost(post_type=post_type)), COMMUNITY, NOW).skipped
    by_member = wallpost(from_id=555)  # a member's post on an open wall
    assert to_events(note("wall_post_new", by_member), COMMUNITY, NOW).skipped
    assert to_events(note("wall_post_new", {"owner_id": OWN}), COMMUNITY, NOW).bad


def test_a_repost_counts_for_the_communitys_original_post() -> None:
    repost = {
        "id": 77,
        "owner_id": 555,
        "from_id": 555,
        "date": DATE,
        "post_type": "post",
        "copy_history": [wallpost(id=9128)],
    }
    event = one(note("wall_repost", repost))
    assert (event["kind"], event["post_id"]) == ("post.reposted", "9128")
    repost["copy_history"] = [wallpost(id=1, owner_id=-999)]
    assert to_events(note("wall_repost", repost), COMMUNITY, NOW).skipped


def comment(**fields: Any) -> dict[str, Any]:
    """A ``wall_wall_comment`` with the post it belongs to, as wall_reply_new carries it."""
    return {
        "id": 501,
        "from_id": 1234567,
        "date": DATE + 60,
        "text": "Когда начало?",
        "post_owner_id": OWN,
        "post_id": 9128,
        "parents_stack": [],
        "thread": {"count": 0},
    } | fields


def test_citizen_and_official_comments() -> None:
    citizen = one(note("wall_reply_new", comment()))
    assert citizen == citizen | {
        "kind": "comment.created",
        "post_id": "9128",
        "comment_id": "501",
        "author": "citizen",
        "reply_to_comment_id": None,
        "occurred_at": (DATE + 60) * 1000,
    }
    answer = comment(id=502, from_id=OWN, reply_to_comment=501, reply_to_user=1234567)
    official = one(note("wall_reply_new", answer, event_id="e2"))
    assert (official["author"], official["reply_to_comment_id"]) == ("official", "501")
    restored = one(note("wall_reply_restore", comment(), event_id="e3"))
    assert restored == citizen  # the same event: downstream a duplicate, never a second comment
    elsewhere = comment(post_owner_id=-999)
    assert to_events(note("wall_reply_new", elsewhere), COMMUNITY, NOW).skipped


def test_a_deleted_comment_in_either_form() -> None:
    for who in ({"deleter_id": 1234567}, {"user_id": 1234567}):
        deleted = one(note("wall_reply_delete", {"owner_id": OWN, "id": 501, "post_id": 9128} | who))
        assert deleted == deleted | {"kind": "comment.deleted", "comment_id": "501", "occurred_at": NOW}


def test_likes_of_posts_are_reactions_and_others_are_not() -> None:
    like = {
        "liker_id": 1234567,
        "object_type": "post",
        "object_owner_id": OWN,
        "object_id": 9128,
        "post_id": 0,
    }
    assert one(note("like_add", like))["kind"] == "reaction.added"
    assert one(note("like_remove", like, event_id="e4"))["kind"] == "reaction.removed"
    photo = like | {"object_type": "photo"}
    assert to_events(note("like_add", photo), COMMUNITY, NOW).skipped


def test_joins_and_leaves() -> None:
    assert one(note("group_join", {"user_id": 1234567, "join_type": "join"}))["kind"] == "subscription.joined"
    assert to_events(note("group_join", {"user_id": 1, "join_type": "request"}), COMMUNITY, NOW).skipped
    left = one(note("group_leave", {"user_id": 1234567, "self": 1}))  # left by themselves
    assert left["kind"] == "subscription.left"
    removed = one(note("group_leave", {"user_id": 1234567, "self": 0}, event_id="e5"))  # removed
    assert removed["kind"] == "subscription.left"


def test_other_types_are_acknowledged_not_failed() -> None:
    mapped = to_events(note("message_new", {"message": {"text": "hi"}}), COMMUNITY, NOW)
    assert mapped.skipped == IGNORED and not mapped.events and mapped.bad is None
    assert to_events({"type": "wall_post_new", "event_id": "x", "group_id": GROUP}, COMMUNITY, NOW).bad


def test_a_comment_answered_deleted_and_restored_counts_once_and_stays_answered() -> None:
    """VK sends wall_reply_restore when a deleted comment is brought back: the same comment, not a
    second one (it was counted as one citizen comment, answered, and stays so)."""
    from streams.core.engine import Engine
    from streams.replay import replay_events

    answer = comment(id=502, from_id=OWN, reply_to_comment=501, date=DATE + 600)
    notes = [
        note("wall_reply_new", comment(), event_id="a1"),
        note("wall_reply_new", answer, event_id="a2"),
        note(
            "wall_reply_delete", {"owner_id": OWN, "id": 501, "post_id": 9128, "deleter_id": 1}, event_id="a3"
        ),
        note("wall_reply_restore", comment(), event_id="a4"),
    ]
    events = [ev for n in notes for ev in to_events(n, COMMUNITY, NOW).events]
    [table] = replay_events(events, NOW, Engine())
    assert (table["citizen_comments_24h"], table["official_comments_24h"], table["unanswered"]) == (1, 1, 0)
