"""Batching for the publisher: per public and topic, in order, never over the limit."""

from __future__ import annotations

import orjson
import pytest

from streams.produce.batching import Batcher
from streams.produce.publish import PublishReport, publish_lines
from streams.topics import Topics
from tests.logs import BASE, event


def test_batches_are_per_topic_and_public_in_log_order_and_capped() -> None:
    batcher = Batcher(Topics("x."), max_events=3)
    log = [event("reaction.added", BASE + i, f"vk:-{i % 2}", post_id="p") for i in range(8)]
    log.append(event("subscription.joined", BASE + 9, "vk:-0"))
    messages = [m for ev in log for m in batcher.add(ev)] + list(batcher.drain())
    by_key: dict[tuple[str, str], list[int]] = {}
    for topic, key, value, count in messages:
        decoded = orjson.loads(value)
        batch = decoded if isinstance(decoded, list) else [decoded]
        assert len(batch) == count <= 3
        assert {e["public_id"] for e in batch} == {key}
        by_key.setdefault((topic, key), []).extend(e["occurred_at"] for e in batch)
    assert by_key == {
        ("x.posts", "vk:-0"): [BASE, BASE + 2, BASE + 4, BASE + 6],
        ("x.posts", "vk:-1"): [BASE + 1, BASE + 3, BASE + 5, BASE + 7],
        ("x.subscriptions", "vk:-0"): [BASE + 9],
    }
    single = next(v for t, _, v, _ in messages if t == "x.subscriptions")
    assert orjson.loads(single)["kind"] == "subscription.joined"  # a lone event travels as an object


def test_pending_events_are_drained_when_too_many_wait() -> None:
    batcher = Batcher(Topics(), max_events=1000, max_pending=10)
    out = [m for i in range(10) for m in batcher.add(event("reaction.added", BASE, f"vk:-{i}", post_id="p"))]
    assert len(out) == 10 and not list(batcher.drain())


def test_a_batch_spans_at_most_a_day_of_event_time() -> None:
    batcher = Batcher(Topics())
    hour = 60
    log = [
        event("reaction.added", BASE + minutes * 60_000, post_id="p")
        for minutes in (0, 12 * hour, 24 * hour, 24 * hour + 1, 80 * hour)
    ]
    messages = [m for ev in log for m in batcher.add(ev)] + list(batcher.drain())
    assert [count for *_, count in messages] == [3, 1, 1]


def test_batch_size_is_bounded_by_the_contract() -> None:
    with pytest.raises(ValueError, match="1 to 1000"):
        Batcher(Topics(), max_events=1001)


def test_bad_lines_are_reported_and_not_sent() -> None:
    sent: list[tuple[str, str, bytes]] = []
    report = PublishReport()
    lines = [
        orjson.dumps(event("reaction.added", BASE, post_id="p")),
        b"nope",
        orjson.dumps(event("reaction.added", BASE + 10 * 60_000, post_id="p")),  # 10 min ahead
    ]
    publish_lines(
        lines, lambda t, k, v: sent.append((t, k, v)), Batcher(Topics()), report, clock=lambda: BASE
    )
    assert report.events == 1 and len(sent) == 1
    assert report.bad_lines == 2
    assert "more than 5 minutes ahead" in report.summary()


def test_a_topic_prefix_must_keep_names_legal() -> None:
    with pytest.raises(ValueError, match="may hold only letters"):
        Topics("bad prefix/")
