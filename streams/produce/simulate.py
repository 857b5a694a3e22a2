"""Live simulated traffic: the synthetic publics' events, sent to Kafka as a bridge would send them.

The simulator first plays a stretch of history (the last ``days`` days, as fast as ``rate`` allows)
and then keeps going in real time: an event is never sent before its ``occurred_at`` has come, so
the processor's 5-minute clock rule holds. Time and sleeping are injected, so tests run it on a
fake clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from streams.core.timebase import DAY_MS, now_ms
from streams.produce.batching import DEFAULT_BATCH_EVENTS, Batcher
from streams.produce.publish import Send
from streams.produce.synth import Habits, live_events
from streams.topics import Topics


@dataclass
class SimulateReport:
    events: int = 0
    messages: int = 0
    registry_records: int = 0
    #: ``occurred_at`` of the newest event sent.
    simulated_at: int | None = None
    #: True once every event of the history has been sent and the simulator follows the clock.
    live: bool = False

    def summary(self) -> str:
        return (
            f"sent {self.events} events in {self.messages} messages and "
            f"{self.registry_records} registry records"
        )


class Simulator:
    def __init__(
        self,
        publics: list[Habits],
        seed: int,
        topics: Topics,
        send: Send,
        days: float = 7.0,
        rate: float = 5_000.0,
        max_batch: int = DEFAULT_BATCH_EVENTS,
        flush_every_s: float = 1.0,
        clock: Callable[[], int] = now_ms,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate < 0:
            raise ValueError(f"rate must be 0 (no limit) or more events per second, not {rate}")
        if days < 0:
            raise ValueError(f"days of history must be 0 or more, not {days}")
        self.publics = publics
        self.topics = topics
        self.send = send
        self.rate = rate
        self.flush_every_s = flush_every_s
        self.clock = clock
        self.monotonic = monotonic
        self.sleep = sleep
        self.batcher = Batcher(topics, max_events=max_batch)
        now = clock()
        #: Events are generated from a UTC midnight, so a public's daily rhythm lines up with real
        #: days, and sent from ``now - days`` on: ``days=0`` follows the clock from now, with no burst
        #: of the hours since midnight.
        self.start = (now - int(days * DAY_MS)) // DAY_MS * DAY_MS
        self.history_from = now - int(days * DAY_MS)
        self.events = (
            ev for ev in live_events(publics, self.start, seed) if ev["occurred_at"] >= self.history_from
        )
        self.report = SimulateReport()

    def send_registry(self) -> None:
        for habits in self.publics:
            self.send(self.topics.publics, habits.public_id, orjson.dumps(habits.registry_record()))
            self.report.registry_records += 1

    def run(
        self,
        stop: Callable[[], bool] = lambda: False,
        until_live: bool = False,
        tick: Callable[[SimulateReport], None] | None = None,
        tick_every_s: float = 2.0,
    ) -> SimulateReport:
        """Send events until ``stop()`` is true (or, with ``until_live``, until the history is out)."""
        report = self.report
        began = last_flush = last_tick = self.monotonic()
        sent_at_begin = report.events
        pending: dict[str, Any] | None = None
        while not stop():
            ev = pending if pending is not None else next(self.events)
            pending = None
            now = self.monotonic()
            if tick is not None and now - last_tick >= tick_every_s:
                tick(report)  # while history plays and while waiting for the clock alike
                last_tick = now
            if ev["occurred_at"] > self.clock():
                # the history is out: from here on, follow the clock
                if not report.live:
                    report.live = True
                    self._drain()
                    if until_live:
                        break
                pending = ev
                self._drain()
                wait_s = (ev["occurred_at"] - self.clock()) / 1000
                self.sleep(min(max(wait_s, 0.0), 0.5))
                continue
            if self.rate:
                ahead_s = (report.events - sent_at_begin) / self.rate - (now - began)
                if ahead_s > 0.01:
                    self.sleep(ahead_s)
            for message in self.batcher.add(ev):
                self._send(message)
            report.events += 1
            report.simulated_at = ev["occurred_at"]
            if now - last_flush >= self.flush_every_s:
                self._drain()
                last_flush = now
        self._drain()
        return report

    def _drain(self) -> None:
        for message in self.batcher.drain():
            self._send(message)

    def _send(self, message: tuple[str, str, bytes, int]) -> None:
        topic, key, value, _ = message
        self.send(topic, key, value)
        self.report.messages += 1
