"""The serving layer's feed: each changed public's current table, pushed to Redis.

Every few seconds a worker writes the tables (contract §2, at the push time) of the publics it
changed since the last push into one Redis hash, ``<app_id>:tables`` (field ``public_id``, value
the JSON snapshot). Readers (dashboards, the later ranking layer) get every public's table without
asking every worker. The hash is a cache: Kafka and the state changelog remain the truth.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson

from streams.pipeline import Pipeline

log = logging.getLogger(__name__)

#: Seconds between pushes: the freshness of Redis, against one snapshot per changed public per push.
PUSH_EVERY_S = 5.0


def tables_key(app_id: str) -> str:
    return f"{app_id}:tables"


class RedisTables:
    """Pushes changed publics' tables to Redis; ``client`` is a ``redis.asyncio.Redis``."""

    def __init__(self, client: Any, app_id: str) -> None:
        self.client = client
        self.key = tables_key(app_id)
        self.pushed = 0
        self.failures = 0

    async def push(self, pipeline: Pipeline, now_ms: int) -> int:
        """Write the changed publics' tables at ``now_ms``; on a Redis error they wait for the next push."""
        public_ids = pipeline.take_unserved()
        fields: dict[str, bytes] = {}
        for public_id in public_ids:
            table = pipeline.engine.table(public_id, now_ms)
            if table is not None:
                fields[public_id] = orjson.dumps(table)
        if not fields:
            return 0
        try:
            await self.client.hset(self.key, mapping=fields)
        except Exception as exc:  # any Redis or connection failure: keep them for the next push
            self.failures += 1
            pipeline.give_back_unserved(public_ids)
            log.warning("could not push %d tables to Redis (%r); will retry", len(fields), exc)
            return 0
        self.pushed += len(fields)
        return len(fields)
