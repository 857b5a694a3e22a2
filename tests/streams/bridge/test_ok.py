"""OK's REST API answers, shaped as OK documents its objects, into contract v1 events (pure)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.validate import explain_event
from streams.bridge import ok
from tests.examples import examples

GID = "53038939046008"
NOW = 1_795_000_000_000


def test_only_the_groups_own_well_formed_topics_of_the_window_are_read() -> None:
    answer: dict[str, Any] = {
        "media_topics": [
            {"id": "1", "created_ms": NOW - 1000, "author_ref": f"group:{GID}", "like_summary": {"count": 4}},
            {"id": "2", "created_ms": NOW - 1000, "author_ref": "user:577"},  # a member's topic
            {"id": "3", "created_ms": NOW - 31 * 86_400_000, "author_ref": f"group:{GID}"},  # too old
            {"id": "x4", "created_ms": NOW, "author_ref": f"group:{GID}"},  # not an OK id
            {"id": "5", "created_ms": "yesterday"},
            {"id": "7", "created_ms": NOW + 10**12, "author_ref": f"group:{GID}"},  # no clock gives it
            {"id": 6, "created_ms": NOW - 5, "like_summary": {"count": -1}, "reshare_summary": "many"},
            "not a topic",
        ]
    }
    read = ok.topics(answer, GID, NOW)
    assert [(t.id, t.likes, t.reshares) for t in read] == [("1", 4, 0), ("6", 0, 0)]
    for junk in (None, [], {"media_topics": "none"}, {"media_topics": [None]}):
        assert ok.topics(junk, GID, NOW) == []


def test_a_total_that_goes_back_and_forth_counts_each_time_and_a_repeat_does_not() -> None:
    up = ok.moved(GID, "ok:a", "1", "likes", 1, 5, 6, NOW)
    down = ok.moved(GID, "ok:a", "1", "likes", 2, 6, 5, NOW)
    up_again = ok.moved(GID, "ok:a", "1", "likes", 3, 5, 6, NOW)
    assert [e["kind"] for e in up + down + up_again] == [
        "reaction.added",
        "reaction.removed",
        "reaction.added",
    ]
    assert len({e["event_id"] for e in up + down + up_again}) == 3
    assert ok.moved(GID, "ok:a", "1", "likes", 1, 5, 6, NOW) == up  # the same step again: the same ids
    assert ok.moved(GID, "ok:a", "1", "reshares", 4, 3, 2, NOW) == []  # a withdrawn reshare has no kind


def test_comments_keep_no_person_and_unreadable_ones_are_counted() -> None:
    longest = "A" * 96
    answer = {
        "comments": [
            {"id": longest, "date": "2026-12-05 12:00:00", "author_id": "577000000001"},
            {"id": "MTI=", "date": "2026-12-05 12:05:00", "author_id": GID, "reply_to_comment_id": longest},
            {"id": "MTM=", "date": "5 Dec", "author_id": "577"},
            {"id": "MTQ=", "date": "0001-01-01 00:00:00"},
            {"id": "B" * 97, "date": "2026-12-05 12:00:00"},
            {"id": "bad id!", "date": "2026-12-05 12:00:00"},
        ]
    }
    events, unreadable = ok.comments(answer, GID, "ok:a", "1")
    assert unreadable == 4
    citizen, official = events
    assert citizen["occurred_at"] == 1_796_461_200_000  # 12:00 in Moscow is 09:00 UTC
    assert (citizen["author"], official["author"], official["reply_to_comment_id"]) == (
        "citizen",
        "official",
        longest,
    )
    for event in events:
        assert explain_event(event, NOW + 10**10) is None, event
        assert "577" not in str(event)


def test_requests_are_signed_without_the_token_in_the_signed_line() -> None:
    signed = ok.signed({"method": "group.getInfo", "uids": GID}, "tkn", "secret")
    assert signed["access_token"] == "tkn" and len(signed["sig"]) == 32 and signed["sig"].islower()
    assert ok.signed({"uids": GID, "method": "group.getInfo"}, "tkn", "secret") == signed  # order-free
    assert ok.signed({"method": "group.getInfo", "uids": GID}, "other", "secret")["sig"] != signed["sig"]


def test_the_member_count_is_the_groups_own_once_a_moscow_day() -> None:
    assert ok.members_count([{"uid": "1", "members_count": 5}, {"uid": GID, "members_count": 9}], GID) == 9
    assert ok.members_count([{"uid": GID, "members_count": "9"}], GID) is None
    assert ok.members_count({"error": 1}, GID) is None
    late = ok.count_event(GID, "ok:a", 9, 1_796_504_400_000)  # 2026-12-05 21:00 UTC = 6 Dec 00:00 Moscow
    assert late["event_id"] == f"ok:{GID}:members:2026-12-06"


_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=24)
JSON = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
)
FIELDS = st.sampled_from(
    ["media_topics", "comments", "id", "created_ms", "author_ref", "like_summary", "date", "author_id", "uid"]
)


@settings(max_examples=examples(300), deadline=None)
@given(body=JSON, mixed=st.dictionaries(FIELDS, JSON, max_size=4))
def test_any_json_oks_api_answers_gives_valid_events_or_none(body: Any, mixed: dict[str, Any]) -> None:
    """Whatever OK (or something in its place) answers, the mapping never fails and never emits an
    event outside the contract."""
    for answer in (body, mixed, {"media_topics": [mixed]}, {"comments": [mixed]}, [mixed]):
        for topic in ok.topics(answer, GID, NOW):
            assert explain_event(ok.published(GID, "ok:a", topic), NOW) is None
        events, _ = ok.comments(answer, GID, "ok:a", "1")
        for event in events:
            assert explain_event(event, NOW + 10**12) is None, event
        count = ok.members_count(answer, GID)
        assert count is None or count >= 0
