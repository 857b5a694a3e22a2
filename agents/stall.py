"""A worker that owns partitions with events waiting and commits nothing says so, loudly.

Reading is not progress: a worker can read every message and still commit none (its commit waits on a
producer that never hears back from the broker), and then a restart would redo everything and the
tables served meanwhile are stale. So progress is the committed offset. An event partition is
*stalled* while it is behind (lag > 0) and its committed offset has not moved; recovery and
rebalances are not stalls. Past ``stall_after_s`` the worker logs what its consumer, fetcher and
producer are doing (``agents.edge.diagnose``), ``/health`` answers 503 with ``stalled_s``, and the gauge
``gospulse_consumer_stalled_seconds`` feeds the alert ``GospulseConsumerStalled``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Hashable, Mapping
from typing import Any

log = logging.getLogger(__name__)


class StallWatch:
    """Seconds the worst partition has been behind without a commit; pure (the caller gives the time)."""

    def __init__(self) -> None:
        #: Per partition: its committed offset when last seen, and since when it has not moved while behind.
        self._since: dict[Hashable, tuple[int | None, float]] = {}

    def observe(
        self,
        now: float,
        committed: Mapping[Hashable, int | None],
        lag: Mapping[Hashable, int],
        settled: bool = True,
    ) -> float:
        """Take one look (``settled``: no recovery or rebalance under way); returns the seconds stalled."""
        since = {}
        for tp, behind in lag.items():
            offset = committed.get(tp)
            seen = self._since.get(tp)
            if not settled or behind <= 0 or seen is None or seen[0] != offset:
                since[tp] = (offset, now)
            else:
                since[tp] = seen
        self._since = since
        return max((now - t for _, t in since.values()), default=0.0)


def register(
    app: Any,
    metrics: Any,
    stall_after_s: float,
    report: Callable[[], None],
    every_s: float = 5.0,
) -> StallWatch:
    """Watch ``metrics.sample`` every ``every_s``: keep ``metrics.stalled_s`` current, and once a stall
    passes ``stall_after_s``, log it with ``report()`` (once per stall)."""
    watch = StallWatch()
    told = False

    @app.timer(every_s)
    async def watch_for_stalls() -> None:
        nonlocal told
        sample = metrics.sample
        settled = not sample.recovering and not app.rebalancing
        metrics.stalled_s = watch.observe(time.monotonic(), sample.committed, sample.lag, settled)
        if metrics.stalled_s >= stall_after_s and not told:
            told = True
            behind = sum(sample.lag.values())
            log.error(
                "STALLED: %d messages wait in the assigned event partitions and no offset was committed for "
                "%.0f s (--stall-after-s %g); the tables served are stale. What the consumer is doing "
                "follows; restarting the worker resumes from the last commit",
                behind,
                metrics.stalled_s,
                stall_after_s,
            )
            report()
        elif metrics.stalled_s == 0 and told:
            told = False
            log.warning("the stall is over: offsets are committed again")

    return watch
