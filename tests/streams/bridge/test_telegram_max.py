"""Telegram channel updates and Max channel updates, shaped as their Bot APIs document them."""

from __future__ import annotations

from typing import Any

from schemas.validate import explain_event
from streams.bridge import max as max_api
from streams.bridge import telegram
from tests.streams.bridge.test_vk import CONTRACT_FIELDS, NOW

CHAT = -1001234567890
CHANNEL = {"id": CHAT, "type": "channel", "title": "Минкульт НО", "username": "mincult52"}
DATE = 1_794_990_000


def valid(events: tuple[dict[str, Any], ...]) -> tuple[dict[str, Any], ...]:
    for e in events:
        assert explain_event(e, NOW) is None, explain_event(e, NOW)
        assert set(e) <= CONTRACT_FIELDS
    return events


def test_a_channel_post_is_published_with_an_id_of_chat_and_update() -> None:
    update = {
        "update_id": 918273,
        "channel_post": {
            "message_id": 77,
            "sender_chat": CHANNEL,
            "chat": CHANNEL,
            "date": DATE,
            "text": "Анонс",
        },
    }
    assert telegram.chat_of(update) == CHAT
    [event] = valid(telegram.to_events(update, CHAT, "tg:mincult52", NOW).events)
    assert event == event | {
        "kind": "post.published",
        "post_id": "77",
        "event_id": f"tg:{CHAT}:918273",
        "occurred_at": DATE * 1000,
    }


def member(status: str, **more: Any) -> dict[str, Any]:
    return {"status": status, "user": {"id": 555, "is_bot": False, "first_name": "Иван"}} | more


def test_joins_and_leaves_from_chat_member_changes() -> None:
    def change(old: dict, new: dict) -> dict[str, Any]:
        body = {
            "chat": CHANNEL,
            "from": {"id": 555},
            "date": DATE,
            "old_chat_member": old,
            "new_chat_member": new,
        }
        return {"update_id": 5, "chat_member": body}

    joined = telegram.to_events(change(member("left"), member("member")), CHAT, "tg:mincult52", NOW)
    assert [e["kind"] for e in valid(joined.events)] == ["subscription.joined"]
    left = telegram.to_events(change(member("member"), member("kicked")), CHAT, "tg:mincult52", NOW)
    assert [e["kind"] for e in valid(left.events)] == ["subscription.left"]
    restricted = member("restricted", is_member=True)
    assert telegram.to_events(change(member("member"), restricted), CHAT, "tg:mincult52", NOW).skipped
    assert telegram.to_events({"update_id": 6, "edited_channel_post": {}}, CHAT, "tg:x", NOW).skipped


def test_reaction_totals_become_one_event_per_reaction_gained_or_lost() -> None:
    update = {
        "update_id": 7,
        "message_reaction_count": {
            "chat": CHANNEL,
            "message_id": 77,
            "date": DATE,
            "reactions": [
                {"type": {"type": "emoji", "emoji": "👍"}, "total_count": 3},
                {"type": {"type": "emoji", "emoji": "❤"}, "total_count": 2},
            ],
        },
    }
    assert telegram.reaction_total(update) == (77, 5, DATE * 1000)
    gained = valid(telegram.reaction_events(update, CHAT, "tg:mincult52", 77, 2, 5, DATE * 1000))
    assert [e["kind"] for e in gained] == ["reaction.added"] * 3
    assert len({e["event_id"] for e in gained}) == 3  # each its own, the same on redelivery
    lost = telegram.reaction_events(update, CHAT, "tg:mincult52", 77, 5, 4, DATE * 1000)
    assert [e["kind"] for e in lost] == ["reaction.removed"]
    assert telegram.reaction_total({"update_id": 1, "channel_post": {}}) is None
    assert isinstance(telegram.reaction_total({"message_reaction_count": {"message_id": 1}}), str)


def test_max_channel_posts_removals_and_subscribers() -> None:
    post = {
        "update_type": "message_created",
        "timestamp": DATE * 1000,
        "message": {
            "sender": {"user_id": 42, "first_name": "Админ", "is_bot": False},
            "recipient": {"chat_id": -68123, "chat_type": "channel"},
            "timestamp": DATE * 1000,
            "body": {"mid": "mid.0000abc", "seq": 1, "text": "Новость"},
        },
    }
    assert max_api.chat_of(post) == -68123
    [published] = valid(max_api.to_events(post, -68123, "max:mincult", NOW).events)
    assert (published["kind"], published["post_id"]) == ("post.published", "mid.0000abc")
    again = max_api.to_events(post, -68123, "max:mincult", NOW).events[0]
    assert again["event_id"] == published["event_id"]  # a redelivery is a duplicate downstream
    in_chat = post | {"message": post["message"] | {"recipient": {"chat_id": -5, "chat_type": "chat"}}}
    assert max_api.to_events(in_chat, -5, "max:x", NOW).skipped
    removed = {
        "update_type": "message_removed",
        "timestamp": DATE * 1000,
        "message_id": "mid.0000abc",
        "chat_id": -68123,
    }
    assert valid(max_api.to_events(removed, -68123, "max:mincult", NOW).events)[0]["kind"] == "post.deleted"
    user = {"user_id": 987654, "first_name": "Пётр", "is_bot": False}
    added = {
        "update_type": "user_added",
        "timestamp": DATE * 1000,
        "chat_id": -68123,
        "user": user,
        "is_channel": True,
    }
    [joined] = valid(max_api.to_events(added, -68123, "max:mincult", NOW).events)
    assert (
        joined["kind"] == "subscription.joined" and "987654" not in joined["event_id"]
    )  # no user id, even hidden
    gone = added | {"update_type": "user_removed", "admin_id": None}
    assert valid(max_api.to_events(gone, -68123, "max:mincult", NOW).events)[0]["kind"] == "subscription.left"
    assert max_api.to_events({"update_type": "bot_started", "chat_id": 1}, 1, "max:x", NOW).skipped
