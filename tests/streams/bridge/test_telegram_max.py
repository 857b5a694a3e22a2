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
#: The deployment's id key (the bridge file's [ids]).
KEY = b"k3y-of-this-deployment-0123456789abcdef"


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


def test_service_messages_are_not_posts_and_an_album_is_one_post() -> None:
    """Shapes of the Bot API's ``Message`` (core.telegram.org/bots/api#message): a pinned message
    and a new title are service messages of the channel; an album arrives as one update per item,
    each with the album's ``media_group_id``."""

    def post(update_id: int, **fields: Any) -> dict[str, Any]:
        body = {"message_id": update_id, "sender_chat": CHANNEL, "chat": CHANNEL, "date": DATE} | fields
        return {"update_id": update_id, "channel_post": body}

    pinned = post(10, pinned_message={"message_id": 77, "chat": CHANNEL, "date": 0})
    titled = post(11, new_chat_title="Минкульт Нижегородской области")
    for service in (pinned, titled, post(12, video_chat_started={})):
        mapped = telegram.to_events(service, CHAT, "tg:mincult52", NOW)
        assert mapped.events == () and mapped.bad is None and mapped.skipped
    photo = [{"file_id": "AgAD", "file_unique_id": "AQAD", "width": 1280, "height": 853}]
    album = [
        post(20 + i, media_group_id="13579", photo=photo, caption="Выставка" if i == 0 else None)
        for i in range(5)
    ]
    events = [e for u in album for e in valid(telegram.to_events(u, CHAT, "tg:mincult52", NOW).events)]
    assert {(e["event_id"], e["post_id"]) for e in events} == {(f"tg:{CHAT}:album:13579", "album:13579")}
    from streams.core.engine import Engine
    from streams.replay import replay_events

    text_post = telegram.to_events(post(30, text="Анонс"), CHAT, "tg:mincult52", NOW).events
    [table] = replay_events([*events, *valid(text_post)], NOW, Engine())
    assert table["posts_7d"] == 2  # the album once, the text post once


def test_a_reaction_update_without_update_id_is_malformed_not_a_crash() -> None:
    counts = {"chat": CHANNEL, "message_id": 77, "date": DATE, "reactions": []}
    for update in ({"message_reaction_count": counts}, {"update_id": None, "message_reaction_count": counts}):
        assert telegram.reaction_total(update) == "update_id: missing (reaction events are named by it)"


def member(status: str, **more: Any) -> dict[str, Any]:
    return {"status": status, "user": {"id": 555, "is_bot": False, "first_name": "Иван"}} | more


def test_joins_and_leaves_from_chat_member_changes() -> None:
    """Shapes of the Bot API's ``ChatMemberUpdated`` (core.telegram.org/bots/api#chatmemberupdated)."""

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
    """Shapes of the Bot API's ``MessageReactionCountUpdated``
    (core.telegram.org/bots/api#messagereactioncountupdated)."""
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
    """Shapes of the Max Bot API's ``Update`` objects (dev.max.ru/docs-api/objects/Update:
    ``message_created``, ``message_removed``, ``user_added``, ``user_removed``, ``bot_started``)."""
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
    [published] = valid(max_api.to_events(post, -68123, "max:mincult", NOW, KEY).events)
    assert (published["kind"], published["post_id"]) == ("post.published", "mid.0000abc")
    again = max_api.to_events(post, -68123, "max:mincult", NOW, KEY).events[0]
    assert again["event_id"] == published["event_id"]  # a redelivery is a duplicate downstream
    in_chat = post | {"message": post["message"] | {"recipient": {"chat_id": -5, "chat_type": "chat"}}}
    assert max_api.to_events(in_chat, -5, "max:x", NOW, KEY).skipped
    removed = {
        "update_type": "message_removed",
        "timestamp": DATE * 1000,
        "message_id": "mid.0000abc",
        "chat_id": -68123,
    }
    assert (
        valid(max_api.to_events(removed, -68123, "max:mincult", NOW, KEY).events)[0]["kind"] == "post.deleted"
    )
    user = {"user_id": 987654, "first_name": "Пётр", "is_bot": False}
    added = {
        "update_type": "user_added",
        "timestamp": DATE * 1000,
        "chat_id": -68123,
        "user": user,
        "is_channel": True,
    }
    [joined] = valid(max_api.to_events(added, -68123, "max:mincult", NOW, KEY).events)
    assert (
        joined["kind"] == "subscription.joined" and "987654" not in joined["event_id"]
    )  # no user id, even hidden
    gone = added | {"update_type": "user_removed", "admin_id": None}
    assert (
        valid(max_api.to_events(gone, -68123, "max:mincult", NOW, KEY).events)[0]["kind"]
        == "subscription.left"
    )
    assert max_api.to_events({"update_type": "bot_started", "chat_id": 1}, 1, "max:x", NOW, KEY).skipped


def test_a_subscribers_user_id_cannot_be_recovered_from_its_event_id() -> None:
    """The event carries the chat, the kind and the time: all that is missing from the id's input is
    the user id. Unkeyed, trying ids in order finds it at once; keyed, trying them without the key
    (here a million, around the real one) finds nothing."""
    import hashlib

    user_id, at = 987_654, DATE * 1000
    added = {"update_type": "user_added", "timestamp": at, "chat_id": -68123, "user": {"user_id": user_id}}
    [joined] = max_api.to_events(added, -68123, "max:mincult", NOW, KEY).events
    target = joined["event_id"].removeprefix("max:")

    def unkeyed(candidate: int) -> str:
        return hashlib.sha256(f"-68123|user_added|{candidate}|{at}".encode()).hexdigest()[:40]

    def recover(event_id: str) -> int | None:
        """Try a million user ids around the real one, as an attacker knowing the scheme would."""
        return next((c for c in range(user_id - 500_000, user_id + 500_000) if unkeyed(c) == event_id), None)

    assert recover(unkeyed(user_id)) == user_id  # the search works on an unkeyed id (the old scheme)
    assert recover(target) is None  # and finds nothing under the deployment's key
    other = max_api.to_events(
        added, -68123, "max:mincult", NOW, b"another-deployment-key-0123456789abc"
    ).events
    assert other[0]["event_id"] != joined["event_id"]  # the key, not the scheme, decides the id
