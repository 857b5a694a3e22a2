"""The serving layer's feed: every public's current table, kept fresh in Redis.

A worker writes the tables (contract §2, at the push time) of the publics it holds into one Redis
hash, ``<app_id>:tables`` (field ``public_id``, value the JSON snapshot), in two ways:

- every ``PUSH_EVERY_S``, the publics whose state changed since the last push;
- continuously, every public it owns in turn, a slice each ``REFRESH_TICK_S``, so that each table is
  rewritten at least once per refresh interval whether or not its public had events. A table changes
  with time alone (windows slide, comments become overdue), and the quiet publics are the ones a
  monitor must not leave stale; a Redis that lost its data is refilled within one interval too.

The hash is a cache: Kafka and the state changelog remain the truth. A public whose table cannot be
computed is logged and skipped, never allowed to stop the others.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Sequence
from typing import Any, Final

import orjson

from streams.pipeline import Pipeline

log = logging.getLogger(__name__)

#: Seconds between pushes of the changed publics.
PUSH_EVERY_S: Final = 5.0
#: Seconds between two slices of the refresh.
REFRESH_TICK_S: Final = 1.0
#: Default refresh interval: no table in Redis is older than this.
DEFAULT_REFRESH_S: Final = 60.0
#: Publics computed between two yields to the event loop, so ingest never waits long behind a slice.
_YIELD_EVERY: Final = 256


def tables_key(app_id: str) -> str:
    return f"{app_id}:tables"


class RedisTables:
    """Writes publics' tables to Redis; ``client`` is a ``redis.asyncio.Redis``.

    ``owned()`` lists the publics whose partitions this worker owns now (with state in its table).
    """

    def __init__(
        self,
        client: Any,
        app_id: str,
        owned: Callable[[], Sequence[str]] = list,
        refresh_s: float = DEFAULT_REFRESH_S,
    ) -> None:
        self.client = client
        self.key = tables_key(app_id)
        self.owned = owned
        self.refresh_s = refresh_s
        self.pushed = 0
        self.refreshed = 0
        self.failures = 0
        self.skipped = 0
        self._round: Sequence[str] = ()
        self._cursor = 0
        self._per_tick = 0

    async def push(self, pipeline: Pipeline, now_ms: int) -> int:
        """Write the changed publics' tables at ``now_ms``; on a Redis error they wait for the next push."""
        public_ids = pipeline.take_unserved()
        written = await self._write(pipeline, public_ids, now_ms)
        if written is None:
            pipeline.give_back_unserved(public_ids)
            return 0
        self.pushed += written
        return written

    async def refresh(self, pipeline: Pipeline, now_ms: int) -> int:
        """Write the next slice of the owned publics' tables; a round covers them all in ~90 % of
        ``refresh_s``. A failed slice is not retried: the next round rewrites it anyway."""
        if self._cursor >= len(self._round):
            self._round = self.owned()
            self._cursor = 0
            ticks = max(1.0, 0.9 * self.refresh_s / REFRESH_TICK_S)
            self._per_tick = max(1, math.ceil(len(self._round) / ticks))
        part = self._round[self._cursor : self._cursor + self._per_tick]
        self._cursor += len(part)
        written = await self._write(pipeline, part, now_ms)
        self.refreshed += written or 0
        return written or 0

    async def _write(self, pipeline: Pipeline, public_ids: Sequence[str], now_ms: int) -> int | None:
        """HSET the tables of ``public_ids`` at ``now_ms``; ``None`` when Redis failed."""
        fields: dict[str, bytes] = {}
        for n, public_id in enumerate(public_ids, 1):
            try:
                table = pipeline.current_table(public_id, now_ms)
            except Exception:  # one bad public must not stop the others (it is logged, and counted)
                self.skipped += 1
                log.exception("could not compute the table of %s for Redis; skipped", public_id)
                continue
            if table is not None:
                fields[public_id] = orjson.dumps(table)
            if n % _YIELD_EVERY == 0:
                await asyncio.sleep(0)
        if not fields:
            return 0
        try:
            await self.client.hset(self.key, mapping=fields)
        except Exception as exc:  # any Redis or connection failure
            self.failures += 1
            log.warning("could not write %d tables to Redis (%r); will retry", len(fields), exc)
            return None
        return len(fields)
