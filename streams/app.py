"""The Faust application: topics, the changelogged state table, and the worker's wiring."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import aiohttp
import faust
from yarl import URL

from schemas.contract import DEAD_LETTER_MAX_BYTES
from schemas.validate import valid_public_id
from streams.api import public_table
from streams.delivery import DeliveryGuard, never_commit_unprocessed
from streams.engine import Engine
from streams.highwater import install_for_faust
from streams.layout import Limits
from streams.pipeline import Pipeline
from streams.registry import RecordsRegistry
from streams.registry_feed import RegistryFeed
from streams.routing import ROUTED_HEADER, owner_of, partition_of
from streams.settings import WorkerSettings


class StateTable(faust.Table):
    """State records (bytes, ``streams.layout``) keyed by the UTF-8 bytes of ``public_id`` or ``public_id|…``.

    A record's changelog partition is its public's source partition, taken from the message that
    changed it: the agent writes after a batch, outside Faust's per-event context, and the public's
    partition is what recovery needs to give the record back to the worker that owns the public.
    With a guard, every changelog send is tracked, so no offset is committed before it is written.
    """

    def __init__(self, *args: Any, guard: DeliveryGuard | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.partition_of: dict[str, int] = {}
        self.guard = guard

    def partition_for_key(self, key: Any) -> int | None:
        return self.partition_of[bytes(key).decode().split("|", 1)[0]]

    def send_changelog(self, partition: int | None, key: Any, value: Any, *args: Any, **kwargs: Any) -> Any:
        future = super().send_changelog(partition, key, value, *args, **kwargs)
        if self.guard is not None:
            self.guard.track(future, f"state record {bytes(key).decode()!r}")
        return future


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


def create_app(
    settings: WorkerSettings, guard: DeliveryGuard | None = None
) -> tuple[faust.App, StateTable, Pipeline]:
    """The app, its state table, and the pipeline that the ingest agent drives.

    ``guard`` (default: one that stops the process) holds every commit until the records before it
    are written (``streams.delivery``).
    """
    bootstrap = settings.broker.removeprefix("kafka://").replace(";", ",")
    install_for_faust(bootstrap)  # recovery must read every changelog record (streams.highwater)
    never_commit_unprocessed(settings.topics.events)  # streams.delivery: Faust's acks of skipped messages
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
        # a dead letter carries a bad value of up to 1 MiB unchanged (contract §1), key and headers too
        producer_max_request_size=DEAD_LETTER_MAX_BYTES,
        web_host=settings.web_host,
        web_port=settings.web_port,
        web_enabled=True,
    )
    guard = guard or DeliveryGuard(settings.delivery_timeout_s)
    app.producer.flush = guard.before(app.producer.flush)  # type: ignore[method-assign]
    table = StateTable(
        app,
        guard=guard,
        name="state",
        key_type=bytes,  # raw UTF-8 keys, so any Kafka tool reads the changelog as written
        value_type=bytes,
        partitions=settings.partitions,
        help="engagement state chunks per public (streams.codec)",
    )
    app.tables.add(table)
    records: dict[bytes, bytes] = {}
    pipeline = Pipeline(
        TableStore(table),
        Engine(RecordsRegistry(records)),
        families=settings.topics.families(),
        limits=Limits(settings.max_record_bytes),
    )
    feed = RegistryFeed(
        bootstrap,
        settings.topics.publics,
        records,
        on_change=lambda public_id: pipeline.give_back_unserved([public_id]),
    )

    @app.task
    async def follow_registry() -> None:
        await feed.run()

    _add_views(app, table, pipeline, feed, settings)
    return app, table, pipeline


def owned_publics(app: faust.App, table: StateTable, settings: WorkerSettings) -> Callable[[], list[str]]:
    """A function listing the publics with state in ``table`` whose partitions this worker owns now."""
    events = set(settings.topics.events)
    partitions: dict[bytes, int] = {}  # murmur2 is pure Python here: once per public, not per round

    def owned() -> list[str]:
        try:
            assigned = {tp.partition for tp in app.consumer.assignment() if tp.topic in events}
        except Exception:  # not started yet, or between assignments: nothing is owned right now
            return []
        out = []
        for key in list(table.keys()):
            if b"|" in key:
                continue
            partition = partitions.get(key)
            if partition is None:
                partition = partitions[key] = partition_of(key.decode(), settings.partitions)
            if partition in assigned:
                out.append(key.decode())
        return out

    return owned


def _add_views(
    app: faust.App, table: StateTable, pipeline: Pipeline, feed: RegistryFeed, settings: WorkerSettings
) -> None:
    changelog = table.changelog_topic.get_topic_name()
    here = str(app.conf.canonical_url).rstrip("/")

    @app.page("/publics/{public_id}")
    async def get_public(web: Any, request: Any, public_id: str) -> Any:
        # Any worker answers for any public: one that does not hold it forwards the request to the
        # worker owning the public's partition (once: a forwarded request is answered where it lands).
        if public_id not in pipeline.held() and ROUTED_HEADER not in request.headers:
            owner = None
            if valid_public_id(public_id):
                distribution = app.router.tables_metadata()
                owner = owner_of(distribution, changelog, partition_of(public_id, settings.partitions))
            if owner is not None and owner.rstrip("/") != here:
                return await _forward(app, web, request, owner)
        status, body = public_table(pipeline, public_id, request.query.get("at"), time.time_ns() // 1_000_000)
        return web.json(body, status=status)

    @app.page("/health")
    async def health(web: Any, request: Any) -> Any:
        ready = app.tables.recovery.completed.is_set() and feed.caught_up.is_set()
        body = {
            "status": "ready" if ready else "recovering",
            "events_applied": pipeline.applied,
            "duplicates": pipeline.duplicates,
            "events_rejected": pipeline.rejected,
            "publics_held": len(pipeline.held()),
            "registry_records": len(feed.records),
        }
        return web.json(body, status=200 if ready else 503)


async def _forward(app: faust.App, web: Any, request: Any, owner: str) -> Any:
    url = URL(owner).join(URL(request.path_qs))
    try:
        async with app.http_client.get(
            url, headers={ROUTED_HEADER: "1"}, timeout=aiohttp.ClientTimeout(total=10)
        ) as response:
            return web.bytes(await response.read(), content_type="application/json", status=response.status)
    except (aiohttp.ClientError, TimeoutError) as exc:
        body = {"error": f"the worker holding this public ({owner}) did not answer: {exc!r}; retry shortly"}
        return web.json(body, status=503)
