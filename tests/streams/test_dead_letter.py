"""One dead-letter record for the worker and the bridges: the headers a reader of the topic relies on."""

from __future__ import annotations

import orjson

from schemas.contract import DEAD_LETTER_CUT_BYTES, MAX_VALUE_BYTES
from streams.dead_letter import DeadLetter


def test_a_message_the_worker_read_says_where_it_was_and_keeps_its_bytes() -> None:
    letter = DeadLetter.of(b'{"v":1}', b"vk:1", "bad_json: ...", ("posts", 3, 41), index=2)
    assert letter.value == b'{"v":1}' and letter.key == b"vk:1"
    assert dict(letter.headers()) == {
        "gospulse-reason": b"bad_json: ...",
        "gospulse-source-topic": b"posts",
        "gospulse-source-partition": b"3",
        "gospulse-source-offset": b"41",
        "gospulse-batch-index": b"2",
    }
    assert letter.where() == "posts/3@41"


def test_an_oversized_message_is_cut_and_says_its_full_size() -> None:
    value = b"x" * (MAX_VALUE_BYTES + 1)
    letter = DeadLetter.of(value, b"k" * (DEAD_LETTER_CUT_BYTES + 5), "too_large", ("posts", 0, 7))
    assert len(letter.value) == DEAD_LETTER_CUT_BYTES and len(letter.key or b"") == DEAD_LETTER_CUT_BYTES
    headers = dict(letter.headers())
    assert headers["gospulse-cut-at"] == str(DEAD_LETTER_CUT_BYTES).encode()
    assert headers["gospulse-value-bytes"] == str(MAX_VALUE_BYTES + 1).encode()


def test_a_notification_a_bridge_could_not_map_says_what_it_was_and_who_refused_it() -> None:
    letter = DeadLetter.of_notification(
        {"platform": "vk", "type": "wall_post_new", "group_id": 1}, "vk: no id"
    )
    assert orjson.loads(letter.value) == {"platform": "vk", "type": "wall_post_new", "group_id": 1}
    assert letter.key is None
    assert dict(letter.headers()) == {"gospulse-reason": b"vk: no id", "gospulse-source": b"bridge"}
    assert letter.where() == "bridge"
