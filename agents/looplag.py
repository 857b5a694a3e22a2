"""How late the event loop runs: the ingest, the commits and every answer share it.

A task asks the loop to wake it every ``every_s``; how much later than asked it wakes is the time
something else held the loop. Kept as the longest since start, the longest in the last minute (for
``/health`` and the benchmarks) and a histogram (``gospulse_event_loop_lag_seconds``, for alerts and
Grafana): work that grows with the number of publics shows here first.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from typing import Any

#: How often the loop is asked to wake the watcher (seconds): the finest stall it can see.
EVERY_S = 0.05
#: The window of ``last_minute_s``.
WINDOW_S = 60.0


class LoopLag:
    def __init__(self, clock: Callable[[], float] = time.monotonic, window_s: float = WINDOW_S) -> None:
        self.clock = clock
        self.window_s = window_s
        self.longest_s = 0.0
        self.observed = 0
        self.on_lag: Callable[[float], None] | None = None
        #: (when, lag) of lags that are the longest of everything after them: the window's maximum
        #: is the first one still inside the window.
        self._recent: deque[tuple[float, float]] = deque()

    def observe(self, lag_s: float) -> None:
        lag_s = max(0.0, lag_s)
        now = self.clock()
        self.observed += 1
        self.longest_s = max(self.longest_s, lag_s)
        while self._recent and self._recent[-1][1] <= lag_s:
            self._recent.pop()
        self._recent.append((now, lag_s))
        if self.on_lag is not None:
            self.on_lag(lag_s)

    @property
    def last_minute_s(self) -> float:
        horizon = self.clock() - self.window_s
        while self._recent and self._recent[0][0] < horizon:
            self._recent.popleft()
        return self._recent[0][1] if self._recent else 0.0


async def watch(lag: LoopLag, every_s: float = EVERY_S) -> None:
    """Observe the loop's lateness forever (run it as a task of the loop watched)."""
    while True:
        asked = time.monotonic()
        await asyncio.sleep(every_s)
        lag.observe(time.monotonic() - asked - every_s)


def register(app: Any, lag: LoopLag) -> None:
    @app.task
    async def watch_the_loop() -> None:
        await watch(lag)
