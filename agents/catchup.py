"""Catching up: while the worker's backlog is old, the work derived from its tables waits for it.

A catch-up (a worker started after an outage, a backfill, a takeover that found a backlog) applies
the waiting events in log order, so a public's table in between is a partial history. Judging it
then opens and closes breaches the contract does not give at that moment, and alerts curators on
them; writing it to Redis serves rankings of a half-read log. Each of those rounds also costs a
table per changed public, and at the nation nearly every message is a different public: judged and
written after every batch, a public is judged once per message instead of once per catch-up
(``bench.national`` runs the nation both ways).

So while the oldest unapplied message has waited longer than ``catch_up_after_s`` (what
``gospulse_consumer_lag_seconds`` shows), or a partition has messages past its commit and none of
them was applied yet since it was assigned (a start onto a backlog: its age is not known until the
first batch), or history was applied less than ``catch_up_after_s`` ago (messages whose events are
over an hour old: a backfill, the simulator's past, which a worker can keep up with while every
public's table is still partial), or the worker started less than ``catch_up_after_s`` ago (a
producer sends the registry first and then the past: judged in between, every registered public
would break posting and silence), the KPI rounds and sweeps and the Redis tables wait: the changed
publics accumulate, each once, and are judged and written when the backlog has shrunk under half the
setting (or the history has stopped for the whole setting).
Readers asking the worker (``/publics``, ``/breaches``) are answered from the tables as applied,
as ever; ``/health`` and ``gospulse_catching_up`` say that a backlog is read.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from typing import Any

from agents.edge import committed_offset

log = logging.getLogger(__name__)


TP = tuple[str, int]


def ages(
    ends: Mapping[TP, int | None],
    committed: Mapping[TP, int | None],
    applied_at: Mapping[TP, tuple[int, float]],
    now: float,
) -> dict[TP, float]:
    """Per assigned partition, at most how long its oldest unapplied message has waited (seconds):
    0 with none waiting; ``inf`` while it is not known (no fetch has told the partition's end yet, or
    messages wait past the commit and none was applied since the assignment)."""
    out: dict[TP, float] = {}
    for tp, end in ends.items():
        last = applied_at.get(tp)
        if end is None:
            out[tp] = math.inf
        elif last is not None:
            offset, timestamp = last
            out[tp] = max(0.0, now - timestamp) if end > offset + 1 else 0.0
        else:
            out[tp] = math.inf if end > (committed.get(tp) or 0) else 0.0
    return out


def catching_up(worst_lag_s: float, was: bool, after_s: float) -> bool:
    """Whether a worker whose oldest unapplied message waited ``worst_lag_s`` is catching up: over
    ``after_s`` to start, still over half of it to go on (so a backlog near the bound does not make
    the derived work start and stop every check). ``after_s`` 0: never."""
    if after_s <= 0:
        return False
    return worst_lag_s > (after_s / 2 if was else after_s)


def consumer_ages(
    app: Any, events: tuple[str, ...], applied_at: Mapping[TP, tuple[int, float]]
) -> Callable[[], dict[TP, float]]:
    """``ages`` of the event partitions ``app``'s consumer holds now (none before it has any)."""
    topics = set(events)

    def now_ages() -> dict[TP, float]:
        consumer = app.consumer
        try:
            assignment = [tp for tp in consumer.assignment() if tp.topic in topics]
        except Exception:  # not started yet, or between assignments
            return {}
        ends: dict[TP, int | None] = {}
        committed: dict[TP, int | None] = {}
        for tp in assignment:
            key = (tp.topic, tp.partition)
            try:
                ends[key] = consumer.highwater(tp)
            except Exception:
                ends[key] = None
            committed[key] = committed_offset(consumer, tp)
        return ages(ends, committed, applied_at, time.time())

    return now_ages


class CatchUp:
    """The worker's catch-up state; the derived work calls ``check()`` before each of its rounds.

    ``lag_s()`` gives the seconds behind per event partition (``ages``); ``waiting()`` how many
    publics the derived work holds for after the backlog.
    """

    def __init__(
        self,
        lag_s: Callable[[], Mapping[Any, float]],
        after_s: float,
        waiting: Callable[[], int] = lambda: 0,
        clock: Callable[[], float] = time.monotonic,
        history: Callable[[], int] = lambda: 0,
    ) -> None:
        self.lag_s = lag_s
        self.history = history
        self._history_count = 0
        #: When the worker started (``clock``): for the first bound after it, what comes first may be
        #: history (a producer publishes the registry, then the past), so nothing is judged yet.
        self.started = clock()
        #: When a history message was last seen applied (``clock``; None: none yet).
        self.history_at: float | None = None
        self.after_s = after_s
        self.waiting = waiting
        self.clock = clock
        self.active = False
        #: When the current catch-up began (``clock``), and how many there were.
        self.since: float | None = None
        self.episodes = 0
        #: The worst age at the last check (``inf``: not known yet).
        self.worst_s = 0.0
        self._told = False

    def check(self) -> bool:
        """Whether the derived work must wait now (and say so when that changes: a backlog of unknown
        age, as at every start until the first fetch answers, is said once it has lasted the bound)."""
        if self.after_s <= 0:
            return False
        now = self.clock()
        count = self.history()
        if count != self._history_count:
            self._history_count, self.history_at = count, now
        reading_history = self.history_at is not None and now - self.history_at < self.after_s
        starting = now - self.started < self.after_s
        worst = self.worst_s = max(self.lag_s().values(), default=0.0)
        backlog = catching_up(worst, self.active, self.after_s)
        now_active = backlog or reading_history or starting  # a start alone is not said: every start
        if now_active and not self.active:
            self.since = now
            self.episodes += 1
        if (
            now_active
            and not self._told
            and (
                reading_history
                or (backlog and (not math.isinf(worst) or now - (self.since or now) >= self.after_s))
            )
        ):
            self._told = True
            log.warning(
                "catching up: %s; KPI rounds and the Redis tables wait until the backlog is read",
                "history is read (events over an hour old)"
                if reading_history
                else f"a message has waited {worst:.0f} s (over {self.after_s:.0f} s)"
                if not math.isinf(worst)
                else f"a backlog of unknown age for {now - (self.since or now):.0f} s",
            )
        elif self.active and not now_active:
            if self._told:
                log.warning(
                    "caught up after %.0f s: judging and writing the %d publics that changed meanwhile",
                    now - (self.since or now),
                    self.waiting(),
                )
            self.since, self._told = None, False
        self.active = now_active
        return now_active


def register(app: Any, catch_up: CatchUp, every_s: float = 1.0) -> None:
    """Check the backlog every ``every_s`` on the loop, for ``/health`` and the metric to say it."""

    @app.timer(every_s)
    async def check_catch_up() -> None:
        catch_up.check()
