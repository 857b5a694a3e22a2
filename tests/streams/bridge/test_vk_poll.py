"""The VK poller's readings: views of the last 30 days' posts, and one subscriber count a day."""

from __future__ import annotations

from schemas.validate import explain_event
from streams.bridge.config import VkCommunity
from streams.bridge.vk_poll import count_event, members_count, metrics_events
from tests.streams.bridge.test_vk import CONTRACT_FIELDS, GROUP, NOW, OWN

COMMUNITY = VkCommunity(GROUP, "vk:-48241", "c", "s", token="t")
DAY_S = 86_400


def test_views_of_recent_own_posts_become_post_metrics_named_by_post_and_count() -> None:
    now_s = NOW // 1000
    wall = {
        "count": 4,
        "items": [
            {"id": 10, "owner_id": OWN, "from_id": OWN, "date": now_s - DAY_S, "views": {"count": 1520}},
            {"id": 9, "owner_id": OWN, "date": now_s - 40 * DAY_S, "views": {"count": 9000}},  # too old
            {"id": 8, "owner_id": OWN, "date": now_s - 2 * DAY_S},  # no views (VK hides them on some posts)
            {"id": 7, "owner_id": -1, "date": now_s - DAY_S, "views": {"count": 3}},  # not this wall
        ],
    }
    [event] = metrics_events(COMMUNITY, wall, NOW)
    assert explain_event(event, NOW) is None and set(event) <= CONTRACT_FIELDS
    assert (event["kind"], event["post_id"], event["views"]) == ("post.metrics", "10", 1520)
    assert event["event_id"] == "vk-views:48241:10:1520"  # the same count next round: a duplicate
    assert metrics_events(COMMUNITY, {"error": "x"}, NOW) == []


def test_the_subscriber_count_once_a_moscow_day() -> None:
    assert (
        members_count({"groups": [{"id": GROUP, "name": "Минкульт", "members_count": 15230}], "profiles": []})
        == 15230
    )
    assert members_count([{"id": GROUP, "members_count": 7}]) == 7  # before API 5.139
    assert members_count({"groups": [{"id": GROUP}]}) is None  # hidden by the community
    event = count_event(COMMUNITY, 15230, NOW)
    assert explain_event(event, NOW) is None
    assert event["event_id"] == "vk-members:48241:2026-11-18"  # NOW is 14:06 in Moscow
    later = count_event(COMMUNITY, 15240, NOW + 3_600_000)
    assert later["event_id"] == event["event_id"]  # a later round that day: a duplicate downstream
    next_day = count_event(COMMUNITY, 15240, NOW + DAY_S * 1000)
    assert next_day["event_id"] != event["event_id"]
