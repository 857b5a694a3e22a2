"""The validator: strict types, reasons that name the field, batches, keys and the clock."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas import check_event, check_message, decode_message, explain_event, explain_public
from schemas.validate import KEY_REASON, OVERSIZE_REASON, REASON_CODES, Rejection, reason_code
from tests.logs import BASE, event

GOOD = event("comment.created", BASE, post_id="p1", comment_id="c1", author="citizen")


def with_(**changes: object) -> dict:
    ev = dict(GOOD)
    for k, v in changes.items():
        if v is ...:
            ev.pop(k)
        else:
            ev[k] = v
    return ev


@pytest.mark.parametrize(
    ("ev", "reason"),
    [
        (with_(v=True), "field 'v': expected an integer, got boolean"),
        (with_(v=1.0), "field 'v': expected an integer, got number with a fraction or exponent"),
        (with_(v=2), "field 'v': must be 1"),
        (with_(event_id=...), "missing field 'event_id'"),
        (with_(event_id=""), "field 'event_id': must be 1 to 128 characters"),
        (with_(event_id="x" * 129), "field 'event_id': must be 1 to 128 characters"),
        (with_(kind="post.liked"), "field 'kind': unknown kind"),
        (with_(public_id="fb:123"), "field 'public_id': does not match"),
        (with_(public_id="vk:-1\n"), "field 'public_id': does not match"),
        (with_(public_id="vk:" + "a" * 65), "field 'public_id': does not match"),
        (
            with_(occurred_at=BASE / 1),
            "field 'occurred_at': expected an integer (epoch milliseconds), got number",
        ),
        (
            with_(occurred_at=str(BASE)),
            "field 'occurred_at': expected an integer (epoch milliseconds), got string",
        ),
        (with_(occurred_at=BASE // 1000), "field 'occurred_at': before 2000-01-01 (is it in seconds?"),
        (with_(author="bot"), 'field \'author\': must be "citizen" or "official"'),
        (with_(comment_id=7), "field 'comment_id': expected a string, got integer"),
        (with_(reply_to_comment_id=7), "field 'reply_to_comment_id': expected a string or null, got integer"),
        (with_(post_id=...), "missing field 'post_id'"),
        (event("post.metrics", BASE, post_id="p", views=-1), "field 'views': must be 0 to"),
        # contract v1.1 bounds: no integer past 2^53 - 1, every id 1 to 128 characters
        (event("post.metrics", BASE, post_id="p", views=2**53), "field 'views': must be 0 to"),
        (event("subscribers.counted", BASE, count=2**64 - 1), "field 'count': must be 0 to"),
        (with_(occurred_at=2**53), "field 'occurred_at': must be at most 9007199254740991"),
        (with_(post_id="p" * 400_000), "field 'post_id': must be 1 to 128 characters"),
        (with_(post_id=""), "field 'post_id': must be 1 to 128 characters"),
        (with_(comment_id="c" * 129), "field 'comment_id': must be 1 to 128 characters"),
        (with_(reply_to_comment_id=""), "field 'reply_to_comment_id': must be 1 to 128 characters, or null"),
        (
            event("post.metrics", BASE, post_id="p", views=False),
            "field 'views': expected an integer, got boolean",
        ),
        (event("subscribers.counted", BASE), "missing field 'count'"),
        ([GOOD], "event is array, expected an object"),
    ],
)
def test_each_rejection_names_the_field_and_the_fault(ev: object, reason: str) -> None:
    got = check_event(ev)
    assert got is not None and got.startswith(reason), got


def test_good_events_of_every_kind_pass_and_extra_fields_are_ignored() -> None:
    samples = [
        event("post.published", BASE, post_id="1"),
        event("post.deleted", BASE, post_id="1"),
        event("post.metrics", BASE, post_id="1", views=0),
        event("post.reposted", BASE, post_id="1"),
        event("reaction.added", BASE, post_id="1"),
        event("reaction.removed", BASE, post_id="1"),
        with_(reply_to_comment_id=None),
        with_(reply_to_comment_id="c0", author="official"),
        event("comment.deleted", BASE, post_id="1", comment_id="2"),
        event("subscription.joined", BASE, "max:city.hall_1"),
        event("subscription.left", BASE, "ok:5"),
        event("subscribers.counted", BASE, "tg:x", count=0, source="bridge", extra={"a": [1]}),
    ]
    for ev in samples:
        assert check_event(ev) is None, ev


def test_the_clock_check_rejects_events_more_than_5_minutes_ahead() -> None:
    now = BASE
    assert check_event(event("reaction.added", now + 300_000, post_id="p"), now_ms=now) is None
    reason = check_event(event("reaction.added", now + 300_001, post_id="p"), now_ms=now)
    assert reason == "field 'occurred_at': more than 5 minutes ahead of the processor's clock"


def test_a_batch_keeps_its_good_events_and_reports_the_bad_one_by_index() -> None:
    batch = [GOOD, with_(event_id="e2", v="1"), with_(event_id="e3")]
    good, bad = check_message(batch, key="vk:-1")
    assert [e["event_id"] for e in good] == [GOOD["event_id"], "e3"]
    assert [(r.index, r.reason) for r in bad] == [(1, "field 'v': expected an integer, got string")]


def test_an_event_keyed_by_another_public_is_rejected() -> None:
    _, bad = check_message(GOOD, key="vk:-2")
    assert bad[0].reason.startswith("field 'public_id': differs from the message key")
    _, bad = check_message([GOOD, with_(public_id="vk:-2")])
    assert bad[0].index == 1 and "differs from the rest of its batch" in bad[0].reason


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"{not json", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"42", "message is integer, expected an event object or a batch array"),
        (b"[]", "batch is empty"),
        (orjson.dumps([GOOD] * 1001), "batch holds 1001 events, at most 1000"),
    ],
)
def test_messages_that_are_not_events_are_one_rejection(raw: bytes, reason: str) -> None:
    good, bad = decode_message(raw)
    assert good == [] and len(bad) == 1 and bad[0].index is None
    assert bad[0].reason.startswith(reason)


_WEIRD = st.sampled_from(
    [
        None,
        True,
        False,
        0,
        -1,
        1,
        1.0,
        1.5,
        "",
        "x",
        "x" * 129,
        [],
        {},
        "vk:-1\n",
        946_684_799_999,
        2**70,
        "citizen",
    ]
)


@given(
    st.sampled_from(["v", "event_id", "kind", "public_id", "occurred_at", "post_id", "comment_id", "author"]),
    _WEIRD,
)
def test_the_fast_path_and_the_explanation_agree(field: str, value: object) -> None:
    ev = with_(**{field: value})
    assert check_event(ev) == explain_event(ev)


def test_registry_records() -> None:
    good = {
        "v": 1,
        "public_id": "vk:-1",
        "name": "Школа №1",
        "region": "RU-NIZ",
        "level": "municipal",
        "theme": "education",
    }
    assert explain_public(good) is None
    assert explain_public(dict(good, tz="Asia/Yekaterinburg", profile="school")) is None
    assert explain_public(dict(good, tz="Mars/Olympus")) == (
        "field 'tz': not a known IANA time zone (e.g. Europe/Moscow, Asia/Yekaterinburg)"
    )
    assert explain_public(dict(good, level="village")).startswith("field 'level': must be one of federal")
    assert explain_public(dict(good, region="Nizhny")).startswith("field 'region': not an ISO 3166-2 code")


def test_a_kind_on_another_kinds_topic_is_rejected_and_the_rest_of_its_batch_counts() -> None:
    comment = GOOD
    reaction = event("reaction.added", BASE, post_id="p1", event_id="r1")
    good, bad = check_message([reaction, comment], key=comment["public_id"], family="posts")
    assert good == [reaction]
    assert bad[0].index == 1
    assert "comment.created travels on the comments topic, not on posts" in bad[0].reason
    assert check_message(comment, family="comments") == ([comment], [])


def test_a_value_over_one_mebibyte_is_one_rejection_whatever_it_holds() -> None:
    raw = orjson.dumps([GOOD] * 1000) + b" " * (1 << 20)
    assert decode_message(raw) == ([], [Rejection(OVERSIZE_REASON)])
    assert decode_message(raw[: 1 << 20].rstrip())[0]  # at the bound it is read as usual


@pytest.mark.parametrize(
    ("raw", "family", "code"),
    [
        (b"x" * (1024 * 1024 + 1), None, "too_large"),
        (b"{broken", None, "not_json"),
        (b"42", None, "bad_batch"),
        (b"[]", None, "bad_batch"),
        (b"[42]", None, "not_an_object"),
        (orjson.dumps(with_(v=2)), None, "wrong_version"),
        (orjson.dumps(with_(v=...)), None, "wrong_version"),
        (orjson.dumps(with_(kind="post.liked")), None, "unknown_kind"),
        (orjson.dumps(GOOD), "posts", "wrong_topic"),
        (orjson.dumps(with_(public_id="nope")), None, "bad_public_id"),
        (orjson.dumps(with_(occurred_at=BASE // 1000)), None, "bad_occurred_at"),
        (orjson.dumps(with_(occurred_at=BASE + 3_600_000)), None, "future_time"),
        (orjson.dumps(with_(post_id=7)), None, "bad_field"),
        (orjson.dumps(with_(comment_id="")), None, "bad_field"),
    ],
)
def test_every_rejection_has_a_code_from_a_fixed_set(raw: bytes, family: str | None, code: str) -> None:
    """Dead letters are counted by reason code: reasons may name any field a producer invents, the
    codes are a fixed set (a metric label must not grow with its input)."""
    _, rejections = decode_message(raw, GOOD["public_id"], BASE, family)
    assert [reason_code(r.reason) for r in rejections] == [code]
    assert code in REASON_CODES and reason_code(KEY_REASON) == "bad_key"
