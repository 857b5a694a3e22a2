"""The Faust application: topics, the changelogged state table, and the worker's wiring."""

from __future__ import annotations

import time
from typing import Any

import faust

from streams.api import public_table
from streams.pipeline import Pipeline
from streams.settings import WorkerSettings


class StateTable(faust.Table):
    """State chunks (bytes) keyed by the UTF-8 bytes of ``public_id`` or ``public_id|day``.

    A chunk's changelog partition is its public's source partition, taken from the message that
    changed it: the agent writes after a batch, outside Faust's per-event context, and the public's
    partition is what recovery needs to give the chunk back to the worker that owns the public.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.partition_of: dict[str, int] = {}

    def partition_for_key(self, key: Any) -> int | None:
        return self.partition_of[bytes(key).decode().split("|", 1)[0]]


class TableStore:
    """``streams.pipeline.ChunkStore`` over a ``StateTable``."""

    def __init__(self, table: StateTable) -> None:
        self.table = table

    def get(self, key: str) -> bytes | None:
        return self.table.get(key.encode())

    def put(self, key: str, partition: int, value: bytes | None) -> None:
        self.table.partition_of[key.split("|", 1)[0]] = partition
        if value is None:
            self.table.pop(key.encode(), None)
        else:
            self.table[key.encode()] = value


def create_app(settings: WorkerSettings) -> tuple[faust.App, StateTable, Pipeline]:
    app = faust.App(
        settings.app_id,
        broker=settings.broker,
        store="memory://",
        datadir=str(settings.data_dir),
        topic_partitions=settings.partitions,
        topic_allow_declare=True,
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=settings.session_timeout_s,
        broker_rebalance_timeout=settings.rebalance_timeout_s,
        broker_heartbeat_interval=1.0,
        broker_commit_interval=settings.commit_interval_s,
        producer_acks=-1,
        web_host=settings.web_host,
        web_port=settings.web_port,
        web_enabled=True,
    )
    table = StateTable(
        app,
        name="state",
        key_type=bytes,  # raw UTF-8 keys, so any Kafka tool reads the changelog as written
        value_type=bytes,
        partitions=settings.partitions,
        help="engagement state chunks per public (streams.codec)",
    )
    app.tables.add(table)
    pipeline = Pipeline(TableStore(table))
    _add_views(app, pipeline)
    return app, table, pipeline


def _add_views(app: faust.App, pipeline: Pipeline) -> None:
    @app.page("/publics/{public_id}")
    async def get_public(web: Any, request: Any, public_id: str) -> Any:
        status, body = public_table(pipeline, public_id, request.query.get("at"), time.time_ns() // 1_000_000)
        return web.json(body, status=status)

    @app.page("/health")
    async def health(web: Any, request: Any) -> Any:
        ready = app.tables.recovery.completed.is_set()
        return web.json({"status": "ready" if ready else "recovering"}, status=200 if ready else 503)
