"""Breaches live (contract §4): every public the worker owns is judged by its KPI profile in rounds:
after the batches that change it, when its partition or registry record is new, and when it is due
(a public that posts nothing sends nothing: silence is found by the clock, ``streams.core.due``),
with a full sweep as an hourly safety net; each breach that opens or closes is told once.

- Open breaches per public live in a changelogged table (``<app-id>-breaches-changelog``), so a
  restarted or new owner knows what is open and never repeats a transition.
- Transitions go to ``<prefix>kpi-breaches``, keyed by ``public_id``: a plain topic (delete
  retention), since they are a history of events; compacting it by public_id would keep one
  transition per public and lose the state of its other KPIs.
- With Redis, the current breaches of each public are kept in the hash ``<app-id>:breaches``.
- Evaluation runs in slices that yield to the event loop, so a round or a sweep never stalls consumption.
"""

from __future__ import annotations

import asyncio
import logging
import time
from bisect import bisect_right
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from heapq import heapify, heappop, heappush
from typing import Any

import faust
import orjson

from agents.edge.delivery import DeliveryGuard
from agents.readiness import unsettled
from agents.routing import partition_of
from agents.state_table import StateTable, assigned_partitions
from streams import redis_keys
from streams.core.breach_tally import BreachTally, segment_of
from streams.core.breaches import Breach, OpenBreaches, breaches, transitions
from streams.core.due import next_change
from streams.core.profiles import Profiles, ProfilesError
from streams.core.timebase import now_ms
from streams.pipeline import Pipeline
from streams.profiles_file import read_profiles

log = logging.getLogger(__name__)

#: Longest a slice of evaluation holds the event loop before it yields, in seconds.
SLICE_S = 0.02
#: Records a KPI round lets wait for the broker's acknowledgement before it goes on judging.
MAX_IN_FLIGHT = 5000
#: How often the profiles file is checked for a change, and pending publics evaluated, in seconds.
CHECK_EVERY_S = 2.0


class BreachTable(StateTable):
    """Open breaches per public (JSON, ``OpenBreaches``), in the partition Kafka's default partitioner
    gives the public: registered publics that never sent an event have no source partition to learn."""

    def __init__(self, *args: Any, event_partitions: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.event_partitions = event_partitions

    def partition_for_key(self, key: Any) -> int | None:
        return partition_of(bytes(key).decode(), self.event_partitions)


@dataclass
class ProfilesWatcher:
    """The profiles file in force, reread when it changes or on request (SIGHUP)."""

    path: Any
    profiles: Profiles
    error: str | None = None
    _stamp: tuple[int, int] | None = None
    _requested: bool = False

    def request(self) -> None:
        self._requested = True

    def check(self) -> Profiles | None:
        """New profiles when the file changed (or a reload was asked) and reads well; else None, with
        ``error`` saying why a changed file was refused (the old profiles stay)."""
        try:
            stat = self.path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
        except OSError as exc:
            stamp = None
            if self.error is None:
                self.error = f"{self.path}: cannot be read ({exc.strerror}); keeping {self.profiles.source}"
                log.error("profiles not reloaded: %s", self.error)
            return None
        if stamp == self._stamp and not self._requested:
            return None
        self._stamp, self._requested = stamp, False
        try:
            fresh = read_profiles(self.path)
        except ProfilesError as exc:
            self.error = f"{exc}; the previous profiles stay in force"
            log.error("profiles not reloaded: %s", self.error)
            return None
        self.error = None
        self.profiles = fresh
        log.info("profiles reloaded from %s", self.path)
        return fresh


@dataclass
class KpiStats:
    sweeps: int = 0
    last_sweep_s: float = 0.0
    sweeps_s: float = 0.0
    longest_slice_s: float = 0.0
    evaluated: int = 0
    transitions: int = 0
    redis_failures: int = 0
    #: The instant the last sweep judged every owned public at (epoch ms; None before one).
    judged_at: int | None = None


class KpiLive:
    """Evaluates owned publics and keeps their open breaches; a ``ChangeSink`` of the pipeline."""

    def __init__(
        self,
        pipeline: Pipeline,
        table: BreachTable,
        send: Callable[[str, bytes], object],
        owned_partitions: Callable[[], set[int]],
        owned_with_state: Callable[[], Sequence[str]],
        event_partitions: int,
        redis: Any = None,
        redis_key: str = redis_keys.breaches("gospulse"),
        clock: Callable[[], int] = now_ms,
        owned_all: Callable[[], Sequence[str]] | None = None,
        room: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """``clock`` gives now in epoch ms (the tests move it by hand); ``owned_all`` lists what
        ``owned`` computes, kept between rebalances (``agents.owned``); ``room()`` is awaited after
        each slice, until the records sent so far leave room for more (the producer's backlog)."""
        self.owned_all = owned_all
        self.room = room
        self.clock = clock
        self.pipeline = pipeline
        self.table = table
        self.send = send
        self.owned_partitions = owned_partitions
        self.owned_with_state = owned_with_state
        self.event_partitions = event_partitions
        self.redis = redis
        self.redis_key = redis_key
        self.pending: set[str] = set()
        #: When each judged public must be judged again with no event (``streams.core.due``), and a
        #: heap of (due, public_id) over it; entries no longer in ``due`` are stale and skipped.
        self.due: dict[str, int] = {}
        self._due_heap: list[tuple[int, str]] = []
        #: The partitions owned at the last round: a partition new since is judged whole.
        self._seen_partitions: frozenset[int] = frozenset()
        self.stats = KpiStats()
        #: The last judgement of every owned public, counted per segment (the KPI metrics).
        self.tally = BreachTally()

    def partition(self, public_id: str) -> int:
        """The event partition of ``public_id`` (Kafka's default partitioner, the broker's count)."""
        return partition_of(public_id, self.event_partitions)

    def revoked(self, partitions: set[int]) -> None:
        """Forget the judgements of publics in ``partitions``: their new owner judges them now."""
        self.tally.drop([p for p in list(self.tally) if self.partition(p) in partitions])
        for public_id in [p for p in self.due if self.partition(p) in partitions]:
            del self.due[public_id]
        self._seen_partitions = self._seen_partitions - partitions

    def registered(self, public_id: str) -> None:
        """The registry gave ``public_id`` a record: judge it (if it is this worker's) by it."""
        self.pending.add(public_id)

    # -- ChangeSink ------------------------------------------------------------------------------

    def changed(self, public_ids: Iterable[str]) -> None:
        self.pending.update(public_ids)

    def forgotten(self, public_ids: Iterable[str]) -> None:
        public_ids = list(public_ids)
        self.pending.difference_update(public_ids)
        self.tally.drop(public_ids)
        for public_id in public_ids:
            self.due.pop(public_id, None)

    # -- what is owned -------------------------------------------------------------------------------

    def owned(self) -> Sequence[str]:
        """Every public this worker judges: those with state in its partitions and the registered
        ones of its partitions, events or not; sorted."""
        if self.owned_all is not None:
            return self.owned_all()
        partitions = self.owned_partitions()
        if not partitions:
            return []
        registered = (p for p in self.pipeline.registered() if self.partition(p) in partitions)
        return sorted(set(self.owned_with_state()).union(registered))

    # -- evaluation ----------------------------------------------------------------------------------

    def table_now(self, public_id: str, at: int) -> dict[str, Any]:
        """The public's table at ``at`` (one with no state: zero counts, §4)."""
        return self.pipeline.table_of(self.pipeline.state_or_empty(public_id), at)

    def breaches_now(self, public_id: str, at: int) -> list[Breach]:
        return breaches(self.table_now(public_id, at), self.pipeline.profile_of(public_id))

    def open_breaches(self, public_id: str) -> OpenBreaches:
        raw = self.table.get(public_id.encode())
        return orjson.loads(raw) if raw else {}

    async def evaluate(self, public_ids: Sequence[str], at: int | None = None) -> int:
        """Judge ``public_ids`` now (or at ``at``), in slices; returns the transitions sent."""
        sent = 0
        redis_fields: dict[str, bytes] = {}
        gone: list[str] = []
        started = time.perf_counter()
        owned_at_start = self.owned_partitions()
        lost: set[int] = set()
        for public_id in public_ids:
            if lost and self.partition(public_id) in lost:
                continue  # revoked since it was listed: its new owner judges it
            when = at if at is not None else self.clock()
            opened = self.open_breaches(public_id)
            state = self.pipeline.state_or_empty(public_id)
            profile = self.pipeline.profile_of(public_id)
            table = self.pipeline.table_of(state, when)
            current = breaches(table, profile)
            self._schedule(public_id, next_change(state, profile, when))
            after, moves = transitions(current, opened, when)
            was_breaching = public_id in self.tally.breaching
            self.tally.judged(
                public_id,
                segment_of(table),
                ({**b, "since": after[b["kpi"]]["since"]} for b in current),
                table["posts_7d"],
                table["response_wh_p90_s_7d"],
            )
            self.stats.evaluated += 1
            for move in moves:
                self.send(public_id, orjson.dumps(move))
            if moves:
                sent += len(moves)
                key = public_id.encode()
                if after:
                    self.table[key] = orjson.dumps(after)
                else:
                    self.table.pop(key, None)
            if self.redis is not None:
                if current:
                    redis_fields[public_id] = orjson.dumps(current)
                elif opened or moves or was_breaching:
                    gone.append(public_id)
            if time.perf_counter() - started >= SLICE_S:
                self._slice_done(time.perf_counter() - started)
                await self._flush_redis(redis_fields, gone)
                redis_fields, gone = {}, []
                await asyncio.sleep(0)
                if self.room is not None:
                    await self.room()
                started = time.perf_counter()
                lost = owned_at_start - self.owned_partitions()
        self._slice_done(time.perf_counter() - started)
        await self._flush_redis(redis_fields, gone)
        self.stats.transitions += sent
        return sent

    def _slice_done(self, seconds: float) -> None:
        self.stats.longest_slice_s = max(self.stats.longest_slice_s, seconds)

    async def _flush_redis(self, fields: dict[str, bytes], gone: list[str]) -> None:
        if self.redis is None or not (fields or gone):
            return
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                if fields:
                    pipe.hset(self.redis_key, mapping=fields)
                if gone:
                    pipe.hdel(self.redis_key, *gone)
                await pipe.execute()
        except Exception as exc:  # Redis is a cache for readers: never stop the stream for it
            self.stats.redis_failures += 1
            log.warning("could not write %d publics' breaches to Redis (%r)", len(fields) + len(gone), exc)

    async def write_segments(self, key: str, ttl_s: int) -> bool:
        """Replace the hash ``key`` with this worker's per-segment counts (publics, in breach per KPI),
        expiring after ``ttl_s`` unless written again: readers add up the hashes of live workers.
        Returns whether Redis took it (a failure is counted, never raised)."""
        if self.redis is None:
            return False
        tally = self.tally
        counts: dict[tuple[str, ...], dict[str, Any]] = {
            segment: {"publics": n, "in_breach": {}} for segment, n in tally.publics.items()
        }
        for (kpi, segment), n in tally.in_breach.items():
            if segment in counts:
                counts[segment]["in_breach"][kpi] = n
        fields = {"|".join(segment): orjson.dumps(body) for segment, body in counts.items()}
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.delete(key)
                if fields:
                    pipe.hset(key, mapping=fields)
                    pipe.expire(key, ttl_s)
                await pipe.execute()
        except Exception as exc:  # Redis is a cache for readers: never stop the stream for it
            self.stats.redis_failures += 1
            log.warning("could not write the segment counts to Redis (%r)", exc)
            return False
        return True

    def _schedule(self, public_id: str, due: int | None) -> None:
        if due is None:
            self.due.pop(public_id, None)
            return
        self.due[public_id] = due
        heappush(self._due_heap, (due, public_id))
        if len(self._due_heap) > 2 * len(self.due) + 1024:  # stale entries of rejudged publics
            self._due_heap = [(d, p) for p, d in self.due.items()]
            heapify(self._due_heap)

    async def judge_due(self, at: int | None = None) -> int:
        """One round, all at one instant (``at``, default now): the publics of partitions owned since
        the last round, the ones that changed (``pending``) and the ones due. Every other owned public
        keeps its last judgement, which holds until its due time: so after a round every count
        (``tally``) is that of ``breaches_at`` its instant, as after a sweep, at the cost of what
        changed rather than of every public owned."""
        at = self.clock() if at is None else at
        partitions = frozenset(self.owned_partitions())
        new = partitions - self._seen_partitions
        self._seen_partitions = partitions
        if new:
            self.pending.update(p for p in self.owned() if self.partition(p) in new)
        heap = self._due_heap
        while heap and heap[0][0] <= at:
            due, public_id = heappop(heap)
            if self.due.get(public_id) == due:
                del self.due[public_id]
                self.pending.add(public_id)
        public_ids = sorted(p for p in self.pending if self.partition(p) in partitions)
        self.pending.clear()
        sent = await self.evaluate(public_ids, at)
        self.stats.judged_at = at  # owning nothing, it judged all it owns: none
        return sent

    async def evaluate_pending(self) -> int:
        """The changed publics now (a round: ``judge_due``)."""
        return await self.judge_due()

    async def sweep(self, at: int | None = None) -> int:
        """Judge every owned public at one instant (``at``, default now), and forget the rest: after
        it, every count (``tally``) is that of ``breaches_at`` that instant."""
        started = time.perf_counter()
        at = self.clock() if at is None else at
        owned = self.owned()
        sent = await self.evaluate(owned, at)
        kept = set(self.owned())  # as owned now: a partition assigned meanwhile was judged by pending
        dropped = [p for p in self.tally.breaching if p not in kept]
        self.tally.keep_only(kept)
        await self._flush_redis({}, dropped)  # publics this worker no longer judges at all
        self.stats.sweeps += 1
        self.stats.judged_at = at
        self.stats.last_sweep_s = time.perf_counter() - started
        self.stats.sweeps_s += self.stats.last_sweep_s
        return sent

    async def breaches_at(
        self, at: int, after: str = "", limit: int | None = None, keep: Callable[[Breach], bool] | None = None
    ) -> tuple[list[Breach], bool]:
        """The owned publics' breaches at ``at`` (computed, not from the open set) that ``keep``
        admits, by ``public_id`` then ``kpi``, of the publics after ``after``: whole publics until at
        least ``limit`` breaches (all without a limit), and whether publics are left past them. A
        page costs the publics it walks, not every public owned."""
        out: list[Breach] = []
        started = time.perf_counter()
        owned = self.owned()
        for i in range(bisect_right(owned, after) if after else 0, len(owned)):
            if limit is not None and len(out) >= limit:
                return out, True
            found = self.breaches_now(owned[i], at)
            out += found if keep is None else filter(keep, found)
            if time.perf_counter() - started >= SLICE_S:
                await asyncio.sleep(0)
                started = time.perf_counter()
        return out, False


def register(
    app: faust.App,
    pipeline: Pipeline,
    settings: Any,
    guard: DeliveryGuard,
    owned_with_state: Callable[[], Sequence[str]],
    redis: Any = None,
    catching_up: Callable[[], bool] = lambda: False,
    owned_all: Callable[[], Sequence[str]] | None = None,
) -> tuple[KpiLive, ProfilesWatcher | None]:
    """Wire the breach table, the transitions topic, the timers and the profiles watcher. While
    ``catching_up()``, no round or sweep runs: the changed publics wait in ``pending``
    (``agents.catchup``)."""
    table = BreachTable(
        app,
        guard=guard,
        event_partitions=settings.partitions,
        name="breaches",
        key_type=bytes,
        value_type=bytes,
        partitions=settings.partitions,
        help="open KPI breaches per public (agents.kpi)",
    )
    app.tables.add(table)
    topic = app.topic(
        settings.topics.kpi_breaches,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        partitions=settings.partitions,
    )

    def send(public_id: str, value: bytes) -> None:
        future = topic.send_soon(key=public_id.encode(), value=value)
        guard.track(future, f"KPI transition of {public_id}")

    async def room() -> None:
        # judging every public at once (after a catch-up, a new profiles file) opens breaches by the
        # hundred thousand: unbounded, their records flooded the producer and held every commit
        # (bench.national: a stall of 121 s); so a round waits while many are unacknowledged
        while len(guard.pending) > MAX_IN_FLIGHT and guard.failure is None:
            await asyncio.sleep(0.05)

    live = KpiLive(
        pipeline,
        table,
        send,
        assigned_partitions(app, settings.topics.events),
        owned_with_state,
        settings.partitions,
        redis=redis,
        redis_key=redis_keys.breaches(settings.app_id),
        owned_all=owned_all,
        room=room,
    )
    pipeline.add_sink(live)
    events = set(settings.topics.events)

    @app.on_partitions_revoked.connect
    async def on_revoked(app_: faust.App, revoked: set, **kwargs: object) -> None:
        live.revoked({tp.partition for tp in revoked if tp.topic in events})

    watcher = None
    if settings.profiles is not None:
        watcher = ProfilesWatcher(settings.profiles, pipeline.profiles)
        watcher.check()  # takes the file's stamp: the profiles are the ones the worker started with

    def settled() -> bool:
        """Open breaches are known only once the table is recovered and no rebalance is under way:
        judging before would repeat transitions the previous owner already sent."""
        return unsettled(app) is None

    @app.timer(CHECK_EVERY_S)
    async def kpi_pending() -> None:
        if watcher is not None and watcher.check() is not None:
            pipeline.use_profiles(watcher.profiles)
            live.pending.update(live.owned())  # every public is judged by the new thresholds
        if settled() and not catching_up():
            await live.evaluate_pending()

    @app.timer(settings.kpi_sweep_s)
    async def kpi_sweep() -> None:
        if settled() and not catching_up():
            await live.sweep()

    if redis is not None:
        segments_key = redis_keys.segments(settings.app_id, str(app.conf.canonical_url).rstrip("/"))

        @app.timer(settings.redis_push_s)
        async def segments_to_redis() -> None:
            if settled():
                await live.write_segments(segments_key, ttl_s=max(15, int(settings.redis_push_s * 3)))

    if watcher is not None:

        @app.task
        async def reload_on_sighup() -> None:
            import signal

            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, watcher.request)

    return live, watcher
