"""The simulator: lazy per-public streams, the clock rule, the rate limit, and valid messages."""

from __future__ import annotations

import itertools

import orjson
import pytest

from schemas.validate import check_message, explain_public
from streams.core.timebase import DAY_MS, HOUR_MS
from streams.produce.simulate import Simulator
from streams.produce.synth import _Public, log_events, make_publics, public_stream
from streams.topics import Topics

NOW = 1_764_234_000_000  # 2025-11-27T09:00:00Z


class FakeTime:
    """Wall clock and monotonic clock that move only when the simulator sleeps."""

    def __init__(self, now_ms: int) -> None:
        self.now_ms = now_ms
        self.mono = 0.0
        self.slept = 0.0

    def clock(self) -> int:
        return self.now_ms

    def monotonic(self) -> float:
        return self.mono

    def sleep(self, seconds: float) -> None:
        self.slept += seconds
        self.mono += seconds
        self.now_ms += int(seconds * 1000)


def make_simulator(publics: int = 30, days: float = 2, rate: float = 0.0, **kw: object):
    time = FakeTime(NOW)
    sent: list[tuple[str, str, bytes, int]] = []

    def send(topic: str, key: str, value: bytes) -> None:
        sent.append((topic, key, value, time.now_ms))

    sim = Simulator(
        make_publics(publics, seed=5),
        5,
        Topics(),
        send,
        days=days,
        rate=rate,
        clock=time.clock,
        monotonic=time.monotonic,
        sleep=time.sleep,
        **kw,
    )
    return sim, sent, time


def test_lazy_stream_of_a_public_is_its_days_generated_eagerly_and_sorted() -> None:
    habits = make_publics(20, seed=3)
    start, days = NOW // DAY_MS * DAY_MS, 12
    for h in habits:
        eager = _Public(h, seed=9)
        expected = sorted(
            (ev for d in range(days) for ev in eager.day(start + d * DAY_MS)),
            key=lambda e: e["occurred_at"],
        )
        expected = [e for e in expected if e["occurred_at"] < start + (days - 8) * DAY_MS]
        lazy = list(itertools.islice(public_stream(h, start, seed=9), len(expected)))
        assert [e["event_id"] for e in lazy] == [e["event_id"] for e in expected]


def test_the_same_seed_gives_the_same_traffic_and_another_seed_other_traffic() -> None:
    publics = make_publics(10, seed=1)
    one = [e["event_id"] for e in log_events(publics, NOW, NOW + DAY_MS, seed=1)]
    again = [e["event_id"] for e in log_events(publics, NOW, NOW + DAY_MS, seed=1)]
    other = [e["event_id"] for e in log_events(publics, NOW, NOW + DAY_MS, seed=2)]
    assert one == again and one != other and len(one) > 100


def test_history_is_sent_whole_and_valid_and_nothing_runs_ahead_of_the_clock() -> None:
    sim, sent, _ = make_simulator(days=2)
    sim.send_registry()
    report = sim.run(until_live=True)
    assert report.live
    registry = [orjson.loads(v) for t, _, v, _ in sent if t == Topics().publics]
    assert len(registry) == 30 and all(explain_public(r) is None for r in registry)
    events = []
    for topic, key, value, sent_at in sent:
        if topic == Topics().publics:
            continue
        good, bad = check_message(orjson.loads(value), key=key, now_ms=sent_at)
        assert bad == []
        assert all(Topics().for_kind(e["kind"]) == topic for e in good)
        assert all(e["occurred_at"] <= sent_at for e in good)
        events += good
    generated = log_events(make_publics(30, seed=5), sim.start, NOW + 1, seed=5)
    expected = [e for e in generated if e["occurred_at"] >= NOW - 2 * DAY_MS]
    assert sorted(e["event_id"] for e in events) == sorted(e["event_id"] for e in expected)
    assert min(e["occurred_at"] for e in events) >= NOW - 2 * DAY_MS  # the last two days, no more
    assert report.events == len(expected)


def test_after_the_history_it_follows_the_clock() -> None:
    sim, sent, time = make_simulator(days=0.5)
    stop_at = NOW + 6 * HOUR_MS
    report = sim.run(stop=lambda: time.now_ms >= stop_at)
    assert report.live
    last_sent = max(orjson.loads(v)["occurred_at"] if v[:1] == b"{" else 0 for _, _, v, _ in sent)
    assert NOW + 4 * HOUR_MS < last_sent <= time.now_ms
    for _, _, value, sent_at in sent:
        body = orjson.loads(value)
        for ev in body if isinstance(body, list) else [body]:
            assert ev["occurred_at"] <= sent_at


def test_no_history_follows_the_clock_from_now_without_a_burst_of_today() -> None:
    sim, sent, time = make_simulator(days=0)
    report = sim.run(stop=lambda: time.now_ms >= NOW + 2 * HOUR_MS)
    assert report.live and report.events > 0
    for _, _, value, sent_at in sent:
        body = orjson.loads(value)
        for ev in body if isinstance(body, list) else [body]:
            assert NOW <= ev["occurred_at"] <= sent_at  # nothing from before the start (09:00)


def test_progress_is_told_while_waiting_for_the_clock_too() -> None:
    """A quiet live phase still says how far the simulator is (``gospulse up`` shows it)."""
    sim, _, time = make_simulator(publics=1, days=0)
    ticks: list[tuple[bool, int]] = []
    sim.run(stop=lambda: time.mono >= 60, tick=lambda r: ticks.append((r.live, r.events)), tick_every_s=10)
    assert len(ticks) >= 5 and all(live for live, _ in ticks[1:])


def test_rate_limits_the_history() -> None:
    sim, _, time = make_simulator(publics=100, days=2, rate=1000.0)
    report = sim.run(until_live=True)
    assert report.events > 2000
    assert report.events / time.mono == pytest.approx(1000.0, rel=0.02)


@pytest.mark.parametrize(("days", "rate"), [(-1, 10.0), (1, -5.0)])
def test_bad_arguments_are_refused(days: float, rate: float) -> None:
    with pytest.raises(ValueError):
        make_simulator(days=days, rate=rate)


def test_a_send_the_broker_did_not_take_in_time_is_sent_again_and_a_refusal_is_not() -> None:
    from kafka.errors import KafkaTimeoutError, MessageSizeTooLargeError, NotLeaderForPartitionError

    from gospulse.simulate import retriable

    assert retriable(KafkaTimeoutError("126338 ms has passed since batch creation"))
    assert retriable(NotLeaderForPartitionError())
    assert not retriable(MessageSizeTooLargeError()) and not retriable(ValueError("bad"))
