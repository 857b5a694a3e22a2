"""The loop's lateness: what a blocking call costs everyone else on the loop."""

from __future__ import annotations

import asyncio
import time

from agents.looplag import LoopLag, watch


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_last_minute_keeps_the_longest_lag_until_it_leaves_the_window() -> None:
    clock = Clock()
    lag = LoopLag(clock=clock, window_s=60)
    for at, seen in [(0, 0.01), (10, 2.5), (20, 0.3), (65, 0.02)]:
        clock.now = at
        lag.observe(seen)
    assert (lag.longest_s, lag.last_minute_s) == (2.5, 2.5)  # seen at 10, still inside at 65
    clock.now = 71
    assert lag.last_minute_s == 0.3  # 2.5 left the window; 0.3 (at 20) had not
    clock.now = 81
    assert (lag.last_minute_s, lag.longest_s, lag.observed) == (0.02, 2.5, 4)
    lag.observe(-0.001)  # a timer that fires a hair early is no lag
    assert lag.longest_s == 2.5 and lag.last_minute_s == 0.02


def test_a_blocking_call_on_the_loop_is_seen_as_lag() -> None:
    lag = LoopLag()
    seen: list[float] = []
    lag.on_lag = seen.append

    async def scenario() -> None:
        watcher = asyncio.ensure_future(watch(lag, every_s=0.01))
        await asyncio.sleep(0.05)
        time.sleep(0.3)  # holds the loop: the watcher wakes late
        await asyncio.sleep(0.05)
        watcher.cancel()

    asyncio.run(scenario())
    assert lag.longest_s >= 0.25 and max(seen) == lag.longest_s and lag.observed >= 3
