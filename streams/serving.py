"""The serving layer's feed: every public's current table, kept fresh in Redis.

A worker writes the tables (contract §2, at the push time) of the publics it holds into one Redis
hash, ``<app_id>:tables`` (field ``public_id``, value the JSON snapshot), in two ways:

- every push interval (5 s by default), the publics whose state changed since the last push: the
  pipeline hands them over after each flush, as to any sink (``streams.pipeline.ChangeSink``);
- continuously, every public it owns in turn, a slice each ``REFRESH_TICK_S``, so that each table is
  rewritten at least once per refresh interval whether or not its public had events. A table changes
  with time alone (windows slide, comments become overdue), and the quiet publics are the ones a
  monitor must not leave stale; a Redis that lost its data is refilled within one interval too.

With each table go the public's rankings (``streams.core.rankings``): its score for each ranked KPI
in the sorted sets of its segment, in the same pipelined round trip. A score that did not change since
this worker last wrote it is not written again, unless Redis lost its data (its marker key was gone
at the last write).

The hash is a cache: Kafka and the state changelog remain the truth. A public whose table cannot be
computed is logged and skipped, never allowed to stop the others. Redis failing never stops or slows
the stream: the writes are retried (pushes) or redone (the refresh round), and counted.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Iterable, Sequence
from itertools import islice
from typing import Any, Final

import orjson

from streams import redis_keys
from streams.core.rankings import place, places_of, scores

log = logging.getLogger(__name__)

#: Seconds between two slices of the refresh.
REFRESH_TICK_S: Final = 1.0
#: Most tables written in one pipelined round trip by a push.
PUSH_CHUNK: Final = 2000
#: Default refresh interval: no table in Redis is older than this.
DEFAULT_REFRESH_S: Final = 60.0
#: Longest the table computing holds the event loop before it yields, in seconds: a table costs
#: 26–98 µs, and twice that again for a public held as records only (decoded for it).
_SLICE_S: Final = 0.02


TableOf = Callable[[str, int], dict[str, Any] | None]


class RedisTables:
    """Writes publics' tables to Redis; ``client`` is a ``redis.asyncio.Redis``.

    ``table_of(public_id, at)`` computes a table (``None``: no state); ``owned()`` lists the publics
    whose partitions this worker owns now (with state in its table). As a ``ChangeSink`` it keeps
    the changed publics until the next push.
    """

    def __init__(
        self,
        client: Any,
        app_id: str,
        table_of: TableOf,
        owned: Callable[[], Sequence[str]] = list,
        refresh_s: float = DEFAULT_REFRESH_S,
    ) -> None:
        self.client = client
        self.key = redis_keys.tables(app_id)
        self.table_of = table_of
        self.owned = owned
        #: Changed publics not yet pushed, and those of the push under way.
        self.pending: set[str] = set()
        self._pushing: set[str] = set()
        self.refresh_s = refresh_s
        self.pushed = 0
        self.refreshed = 0
        self.failures = 0
        self.skipped = 0
        self._round: Sequence[str] = ()
        self._cursor = 0
        self._per_tick = 0
        self.app_id = app_id
        #: Per public written: its place (region, level, theme) and its scores, as Redis has them.
        self._ranked: dict[str, tuple[tuple[str, str, str], tuple[float | None, ...]]] = {}
        self.marker = redis_keys.rankings_written(app_id)

    def _keys(self, kpi: str, where: tuple[str, str, str]) -> list[str]:
        """The eight sorted sets a public of ``where`` is ranked in for ``kpi``."""
        return [redis_keys.ranking(self.app_id, kpi, *segment) for segment in places_of(where)]

    def changed(self, public_ids: Iterable[str]) -> None:
        self.pending.update(public_ids)

    def forgotten(self, public_ids: Iterable[str]) -> None:
        gone = set(public_ids)
        self.pending -= gone
        self._pushing -= gone
        for public_id in gone:
            self._ranked.pop(public_id, None)

    async def push(self, now_ms: int) -> int:
        """Write the changed publics' tables at ``now_ms``, ``PUSH_CHUNK`` to a round trip; on a Redis
        error the rest wait for the next push. (After a catch-up every held public is pending at once:
        87 600 tables in one pipeline timed out at the nation, and were retried whole.)"""
        pushed = 0
        while self.pending:
            if len(self.pending) <= PUSH_CHUNK:
                chunk = self.pending
                self.pending = set()
            else:
                chunk = set(islice(self.pending, PUSH_CHUNK))
                self.pending -= chunk
            self._pushing = chunk
            written = await self._write(sorted(chunk), now_ms)
            if written is None:
                self.pending |= self._pushing  # less any forgotten meanwhile
                break
            self.pushed += written
            pushed += written
        self._pushing = set()
        return pushed

    async def refresh(self, now_ms: int) -> int:
        """Write the next slice of the owned publics' tables; a round covers them all in ~90 % of
        ``refresh_s``. A failed slice is not retried: the next round rewrites it anyway."""
        if self._cursor >= len(self._round):
            self._round = self.owned()
            self._cursor = 0
            ticks = max(1.0, 0.9 * self.refresh_s / REFRESH_TICK_S)
            self._per_tick = max(1, math.ceil(len(self._round) / ticks))
        part = self._round[self._cursor : self._cursor + self._per_tick]
        self._cursor += len(part)
        written = await self._write(part, now_ms)
        self.refreshed += written or 0
        return written or 0

    async def _write(self, public_ids: Sequence[str], now_ms: int) -> int | None:
        """HSET the tables of ``public_ids`` at ``now_ms`` and rank them, in one pipelined round trip;
        ``None`` when Redis failed."""
        fields: dict[str, bytes] = {}
        ranked: dict[str, dict[str, float]] = {}
        unranked: dict[str, list[str]] = {}
        written: dict[str, tuple[tuple[str, str, str], tuple[float | None, ...]]] = {}
        started = time.perf_counter()
        for public_id in public_ids:
            try:
                table = self.table_of(public_id, now_ms)
            except Exception:  # one bad public must not stop the others (it is logged, and counted)
                self.skipped += 1
                log.exception("could not compute the table of %s for Redis; skipped", public_id)
                continue
            if table is not None:
                fields[public_id] = orjson.dumps(table)
                self._rank(public_id, table, ranked, unranked, written)
            if time.perf_counter() - started >= _SLICE_S:
                await asyncio.sleep(0)
                started = time.perf_counter()
        if not fields:
            return 0
        try:
            async with self.client.pipeline(transaction=False) as pipe:
                pipe.hset(self.key, mapping=fields)
                for key, members in unranked.items():
                    pipe.zrem(key, *members)
                for key, mapping in ranked.items():
                    pipe.zadd(key, mapping)
                pipe.set(self.marker, 1, nx=True)
                replies = await pipe.execute()
        except Exception as exc:  # any Redis or connection failure
            self.failures += 1
            log.warning("could not write %d tables to Redis (%r); will retry", len(fields), exc)
            return None
        if replies[-1] and self._ranked:
            # the marker was gone: Redis lost its data since this worker's last write, so every
            # ranking it believed written is rewritten by the refresh round
            log.warning("Redis lost the rankings; the refresh round writes them all again")
            self._ranked.clear()
        self._ranked.update(written)
        return len(fields)

    def _rank(
        self,
        public_id: str,
        table: dict[str, Any],
        ranked: dict[str, dict[str, float]],
        unranked: dict[str, list[str]],
        written: dict[str, tuple[tuple[str, str, str], tuple[float | None, ...]]],
    ) -> None:
        """Queue the public's ranking writes: its scores in its segment's sets where they changed, and
        its removal from the sets of a segment it left or a KPI it has no value of any more."""
        where, values = place(table), scores(table)
        now = (where, tuple(values.values()))
        before = self._ranked.get(public_id)
        if before == now:
            return
        written[public_id] = now
        for i, (kpi, score) in enumerate(values.items()):
            if before is not None and before[0] != where:
                for key in self._keys(kpi, before[0]):
                    unranked.setdefault(key, []).append(public_id)
            elif before is not None and before[1][i] == score:
                continue
            for key in self._keys(kpi, where):
                if score is None:
                    unranked.setdefault(key, []).append(public_id)
                else:
                    ranked.setdefault(key, {})[public_id] = score


async def segment_counts(client: Any, app_id: str) -> dict[tuple[str, ...], dict[str, Any]]:
    """Every live worker's segment counts added up: segment (region, level, theme, profile) ->
    ``{"publics": n, "in_breach": {kpi: n}}``."""
    total: dict[tuple[str, ...], dict[str, Any]] = {}
    async for key in client.scan_iter(match=redis_keys.segments_pattern(app_id), count=100):
        for field, raw in (await client.hgetall(key)).items():
            segment = tuple(field.decode().split("|"))
            body = orjson.loads(raw)
            into = total.setdefault(segment, {"publics": 0, "in_breach": {}})
            into["publics"] += body["publics"]
            for kpi, n in body["in_breach"].items():
                into["in_breach"][kpi] = into["in_breach"].get(kpi, 0) + n
    return total
