"""One test per edge the contract names: each feeds a few events and reads one table."""

from __future__ import annotations

from typing import Any

import pytest

from streams.core.engine import Engine
from streams.core.registry import PublicInfo, Registry
from streams.core.table import Segment, nearest_rank
from streams.replay import replay_events
from tests.logs import BASE, DAY, HOUR, citizen, counted, deleted, event, metrics, official, published

# BASE is 2026-11-01T00:00:00Z, an hour edge.


def table(log: list[dict], at: int, registry: Registry | None = None) -> dict[str, Any]:
    tables = list(replay_events(log, at, Engine(registry)))
    assert len(tables) == 1
    return tables[0]


# --- duplicates -------------------------------------------------------------------------------


def test_a_repeated_event_id_is_skipped_entirely_even_with_other_content() -> None:
    log = [
        event("reaction.added", BASE, event_id="x", post_id="p"),
        event("reaction.added", BASE, event_id="x", post_id="p"),
        event("subscription.left", BASE + 5, event_id="x"),  # same id, different kind: still a duplicate
    ]
    t = table(log, BASE + HOUR)
    assert t["reactions_24h"] == 1
    assert t["leaves_24h"] == 0


def test_the_same_event_id_in_two_publics_is_two_events() -> None:
    log = [
        event("reaction.added", BASE, "vk:-1", event_id="x", post_id="p"),
        event("reaction.added", BASE, "tg:news", event_id="x", post_id="p"),
    ]
    tables = list(replay_events(log, BASE, Engine()))
    assert [t["reactions_24h"] for t in tables] == [1, 1]


def test_duplicates_are_caught_while_the_first_copy_is_within_48h_of_the_newest() -> None:
    first = event("reaction.added", BASE, event_id="old", post_id="p")
    log = [first, event("reaction.added", BASE + 48 * HOUR, post_id="p"), dict(first)]
    assert table(log, BASE + 48 * HOUR)["reactions_7d"] == 2


# --- posts and deletions ----------------------------------------------------------------------


def test_a_deleted_post_is_not_counted_in_any_window_but_keeps_last_post_at() -> None:
    log = [published(BASE, "p1"), published(BASE + 1, "p2"), deleted(BASE + 2 * HOUR, "p1")]
    t = table(log, BASE + 3 * HOUR)
    assert (t["posts_24h"], t["posts_7d"], t["posts_30d"]) == (1, 1, 1)
    assert t["last_post_at"] == BASE + 1


def test_a_deletion_earlier_in_log_order_than_the_publication_still_removes_the_post() -> None:
    assert table([deleted(BASE + HOUR, "p1"), published(BASE, "p1")], BASE + HOUR)["posts_24h"] == 0


def test_a_deletion_after_T_does_not_take_part() -> None:
    log = [published(BASE, "p1"), deleted(BASE + 2 * HOUR, "p1")]
    assert table(log, BASE + HOUR)["posts_24h"] == 1


def test_a_post_published_twice_counts_once() -> None:
    log = [published(BASE, "p1"), published(BASE + 30 * HOUR, "p1")]
    t = table(log, BASE + 30 * HOUR)
    assert (t["posts_24h"], t["posts_7d"]) == (1, 1)
    assert t["last_post_at"] == BASE + 30 * HOUR


# --- views -------------------------------------------------------------------------------------


def test_views_count_the_growth_of_a_tracked_post() -> None:
    log = [published(BASE), metrics(BASE + 1, 100), metrics(BASE + 2, 250), metrics(BASE + 3, 240)]
    assert table(log, BASE + 3)["views_24h"] == 250


def test_a_stale_snapshot_adds_nothing_and_does_not_lower_the_maximum() -> None:
    log = [published(BASE), metrics(BASE + 1, 300), metrics(BASE + 2, 100), metrics(BASE + 3, 320)]
    assert table(log, BASE + 3)["views_24h"] == 320


def test_metrics_of_an_unpublished_post_are_untracked_and_not_remembered() -> None:
    log = [metrics(BASE, 500), published(BASE + 1), metrics(BASE + 2, 600)]
    assert table(log, BASE + 2)["views_24h"] == 600


def test_metrics_of_a_deleted_post_add_nothing() -> None:
    log = [published(BASE), metrics(BASE + 1, 10), deleted(BASE + 2), metrics(BASE + 3, 900)]
    assert table(log, BASE + 3)["views_24h"] == 10


def test_tracking_ends_30_days_after_the_publication() -> None:
    edge = BASE + 30 * DAY
    tracked = table([published(BASE), metrics(edge, 40)], edge)
    untracked = table([published(BASE), metrics(edge + 1, 40)], edge + 1)
    assert tracked["views_30d"] == 40
    assert untracked["views_30d"] == 0


def test_a_publication_after_the_snapshot_in_event_time_still_tracks_it() -> None:
    # "no more than 30 days before" holds for a publication that is later than the snapshot
    assert table([published(BASE + HOUR), metrics(BASE, 70)], BASE + HOUR)["views_24h"] == 70


def test_views_lie_at_the_metrics_event_not_at_the_post() -> None:
    log = [published(BASE), metrics(BASE + 3 * DAY, 90)]
    t = table(log, BASE + 3 * DAY)
    assert (t["views_24h"], t["views_7d"]) == (90, 90)
    t = table(log, BASE + 4 * DAY)
    assert (t["views_24h"], t["views_7d"]) == (0, 90)


# --- responses ---------------------------------------------------------------------------------


def test_an_official_reply_answers_a_pending_comment_with_its_latency() -> None:
    log = [citizen(BASE, "c1"), official(BASE + 90_000, "o1", reply_to="c1")]
    t = table(log, BASE + HOUR)
    assert t["answered_24h"] == 1
    assert t["response_mean_s_24h"] == 90.0
    assert t["response_p90_s_24h"] == 90.0
    assert t["unanswered"] == 0
    assert (t["citizen_comments_24h"], t["official_comments_24h"]) == (1, 1)


def test_a_reply_to_an_answered_comment_changes_nothing() -> None:
    log = [
        citizen(BASE, "c1"),
        official(BASE + 1000, "o1", reply_to="c1"),
        official(BASE + 9000, "o2", reply_to="c1"),
    ]
    t = table(log, BASE + HOUR)
    assert t["answered_24h"] == 1
    assert t["response_mean_s_24h"] == 1.0


def test_a_reply_to_an_unknown_comment_changes_nothing_but_counts_as_an_official_comment() -> None:
    t = table([official(BASE, "o1", reply_to="nobody")], BASE)
    assert t["answered_24h"] == 0
    assert t["official_comments_24h"] == 1


def test_a_reply_to_a_deleted_comment_changes_nothing_and_the_comment_still_counts() -> None:
    log = [
        citizen(BASE, "c1"),
        event("comment.deleted", BASE + 1, post_id="p1", comment_id="c1"),
        official(BASE + 2, "o1", reply_to="c1"),
    ]
    t = table(log, BASE + 2)
    assert (t["answered_24h"], t["unanswered"], t["citizen_comments_24h"]) == (0, 0, 1)


def test_a_reply_before_the_comment_in_event_time_has_latency_zero() -> None:
    log = [citizen(BASE + 5000, "c1"), official(BASE, "o1", reply_to="c1")]
    assert table(log, BASE + 5000)["response_mean_s_24h"] == 0.0


def test_a_reply_more_than_30_days_later_does_not_answer() -> None:
    asked = BASE
    on_time = table([citizen(asked, "c1"), official(asked + 30 * DAY, "o", reply_to="c1")], asked + 30 * DAY)
    too_late = table(
        [citizen(asked, "c1"), official(asked + 30 * DAY + 1, "o", reply_to="c1")], asked + 30 * DAY + 1
    )
    assert on_time["answered_30d"] == 1
    assert too_late["answered_30d"] == 0


def test_a_response_lies_in_the_window_of_the_reply() -> None:
    log = [citizen(BASE, "c1"), official(BASE + 2 * DAY, "o", reply_to="c1")]
    t = table(log, BASE + 2 * DAY + HOUR)
    assert t["answered_24h"] == 1
    assert t["response_mean_s_24h"] == 2 * 86_400.0


def test_p90_is_the_nearest_rank() -> None:
    assert nearest_rank(list(range(1, 11)), 90) == 9
    assert nearest_rank(list(range(1, 12)), 90) == 10
    assert nearest_rank([7], 90) == 7
    log = []
    for i in range(1, 21):
        log += [citizen(BASE, f"c{i}"), official(BASE + i * 1000, f"o{i}", reply_to=f"c{i}")]
    assert table(log, BASE + HOUR)["response_p90_s_24h"] == 18.0


def test_unanswered_and_overdue_at_their_edges() -> None:
    sla = 86_400_000
    log = [
        citizen(BASE, "old"),  # exactly 30 days before T: no longer unanswered
        citizen(BASE + 1, "fresh"),
        citizen(BASE + 30 * DAY - sla, "due"),  # exactly the SLA: not yet overdue
        citizen(BASE + 30 * DAY - sla - 1, "late"),
    ]
    t = table(log, BASE + 30 * DAY)
    assert t["unanswered"] == 3
    assert t["overdue"] == 2


# --- subscribers -------------------------------------------------------------------------------


def test_subscribers_is_null_until_counted_and_then_follows_later_joins_and_leaves() -> None:
    join = event("subscription.joined", BASE)
    assert table([join], BASE)["subscribers"] is None
    log = [
        counted(BASE + 10, 100),
        event("subscription.joined", BASE + 11),
        event("subscription.joined", BASE + 10),  # not after the count in event time
        event("subscription.left", BASE + 12),
        event("subscription.joined", BASE + 12),
    ]
    assert table(log, BASE + HOUR)["subscribers"] == 101


def test_a_late_count_older_than_the_latest_is_ignored() -> None:
    log = [counted(BASE + 10, 100), event("subscription.joined", BASE + 11), counted(BASE + 5, 7)]
    assert table(log, BASE + HOUR)["subscribers"] == 101


def test_a_tied_count_later_in_log_order_wins_and_resets_the_deltas() -> None:
    log = [counted(BASE + 10, 100), event("subscription.joined", BASE + 11), counted(BASE + 10, 50)]
    assert table(log, BASE + HOUR)["subscribers"] == 50


def test_joins_processed_before_the_count_are_not_added() -> None:
    log = [event("subscription.joined", BASE + 20), counted(BASE + 10, 100)]
    assert table(log, BASE + HOUR)["subscribers"] == 100


# --- windows -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (0, (1, 1, 1)),
        (23 * HOUR + HOUR - 1, (1, 1, 1)),  # still in the 24th hour
        (24 * HOUR, (0, 1, 1)),  # first ms of the 25th hour
        (168 * HOUR - 1, (0, 1, 1)),
        (168 * HOUR, (0, 0, 1)),
        (720 * HOUR - 1, (0, 0, 1)),
        (720 * HOUR, (0, 0, 0)),
    ],
)
def test_window_edges_are_whole_hours(offset: int, expected: tuple[int, int, int]) -> None:
    t = table([event("reaction.added", BASE, post_id="p")], BASE + offset)
    assert (t["reactions_24h"], t["reactions_7d"], t["reactions_30d"]) == expected


def test_an_event_at_the_last_millisecond_of_an_hour_shares_the_window_of_its_hour() -> None:
    log = [event("reaction.added", BASE - 1, post_id="p")]  # the hour before BASE
    t = table(log, BASE + 23 * HOUR)
    assert t["reactions_24h"] == 0
    t = table(log, BASE + 22 * HOUR + HOUR - 1)
    assert t["reactions_24h"] == 1


def test_reactions_may_be_negative_within_a_window() -> None:
    log = [event("reaction.added", BASE - DAY, post_id="p"), event("reaction.removed", BASE, post_id="p")]
    t = table(log, BASE)
    assert (t["reactions_24h"], t["reactions_7d"]) == (-1, 0)


# --- events after T ----------------------------------------------------------------------------


def test_events_after_T_take_no_part_not_even_in_dedup() -> None:
    later = event("reaction.added", BASE + HOUR, event_id="x", post_id="p")
    now = event("reaction.added", BASE, event_id="x", post_id="p")
    assert table([later, now], BASE)["reactions_24h"] == 1


def test_a_public_whose_events_are_all_after_T_gets_no_table() -> None:
    log = [
        event("reaction.added", BASE, "vk:-1", post_id="p"),
        event("reaction.added", BASE + 1, "tg:x", post_id="p"),
    ]
    assert [t["public_id"] for t in replay_events(log, BASE, Engine())] == ["vk:-1"]


# --- engagement rates and segments -------------------------------------------------------------


def test_engagement_rates() -> None:
    log = [
        counted(BASE, 200),
        published(BASE, "p1"),
        published(BASE, "p2"),
        metrics(BASE + 1, 50, "p1"),
        event("reaction.added", BASE, post_id="p1"),
        event("reaction.added", BASE, post_id="p1"),
        event("post.reposted", BASE, post_id="p1"),
        citizen(BASE, "c1"),
        official(BASE, "o1"),  # official comments are not engagement
    ]
    t = table(log, BASE + HOUR)
    assert t["er_day_7d"] == pytest.approx(4 / 200 / 7 * 100, rel=1e-12)
    assert t["er_post_7d"] == pytest.approx(4 / 200 / 2 * 100, rel=1e-12)
    assert t["er_view_7d"] == pytest.approx(4 / 50 * 100, rel=1e-12)


def test_engagement_rates_are_null_without_a_denominator() -> None:
    t = table([counted(BASE, 0), event("reaction.added", BASE, post_id="p")], BASE)
    assert (t["er_day_7d"], t["er_post_7d"], t["er_view_7d"]) == (None, None, None)


def test_segment_fields_come_from_the_registry_or_are_null() -> None:
    registry = Registry()
    registry.put(PublicInfo("vk:-1", "Минкультуры", Segment("RU-NIZ", "regional", "culture")))
    log = [
        event("reaction.added", BASE, "vk:-1", post_id="p"),
        event("reaction.added", BASE, "tg:x", post_id="p"),
    ]
    tables = list(replay_events(log, BASE, Engine(registry)))
    assert [(t["region"], t["level"], t["theme"]) for t in tables] == [
        (None, None, None),
        ("RU-NIZ", "regional", "culture"),
    ]
