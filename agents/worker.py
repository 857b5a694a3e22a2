"""The worker's composition root: one call builds the Faust app with everything wired into it."""

from __future__ import annotations

import asyncio
import logging
import socket
from dataclasses import dataclass
from typing import Any

import faust

from agents import catchup, gcpolicy, ingest, kpi, looplag, partition_watch, segments, serve, snapshot, stall
from agents import metrics as agents_metrics
from agents.edge import check as check_edge
from agents.edge.delivery import DeliveryGuard, never_commit_unprocessed, stop_now
from agents.edge.diagnose import log_report
from agents.edge.highwater import register_tansu_transport
from agents.edge.shutdown import BoundedStopWorker
from agents.kpi import KpiLive, ProfilesWatcher
from agents.looplag import LoopLag
from agents.metrics import Sources, WorkerMetrics
from agents.owned import OwnedPublics
from agents.page import views as page
from agents.registry_feed import RegistryFeed
from agents.state_table import StateTable, TableStore
from agents.web import register_views
from schemas.contract import DEAD_LETTER_MAX_BYTES
from streams.core.engine import Engine
from streams.core.layout import Limits
from streams.core.profiles import BUILT_IN_PROFILES, Profiles
from streams.core.registry import RecordsRegistry
from streams.pipeline import Pipeline
from streams.profiles_file import read_profiles
from streams.serving import RedisTables
from streams.settings import WorkerSettings

_WILDCARDS = ("0.0.0.0", "::", "")


@dataclass(frozen=True)
class Worker:
    """What ``build_worker`` wired: tests and benches reach the parts through it."""

    settings: WorkerSettings
    app: faust.App
    table: StateTable
    pipeline: Pipeline
    guard: DeliveryGuard
    feed: RegistryFeed
    ingest: Any
    redis_tables: RedisTables | None
    kpi: KpiLive
    profiles: ProfilesWatcher | None
    metrics: WorkerMetrics

    def run(self, loglevel: str = "warn") -> None:
        """Run until stopped (SIGTERM/SIGINT end it within ``stop_timeout_s``)."""
        worker = BoundedStopWorker(
            self.app, loglevel=loglevel, quiet=True, stop_timeout_s=self.settings.stop_timeout_s
        )
        # Faust's changelog buffer warns whenever a batch queues more than 100 records ("producer buffer
        # full", then "producer flush took"): routine here, every batch, and the guard already waits
        # for every record (agents.edge.delivery); a record that fails is logged there.
        logging.getLogger("faust.transport.producer").setLevel(logging.ERROR)
        # The terminal spinner sets the root logger to DEBUG so that it spins on every record: every
        # aiokafka debug line would then be built (and dropped) per request, about a tenth of the CPU.
        worker.spinner = None
        try:
            worker.execute_from_commandline()
        finally:
            if self.settings.state_snapshot_max_age_s > 0:
                snapshot.save_all(self.app, self.settings.data_dir, self.guard)


#: The worker's changelogged tables (Faust names each changelog ``<app-id>-<table>-changelog``).
TABLES = ("state", "breaches")


def changelog_topics(app_id: str) -> tuple[str, ...]:
    """The changelog topics of a worker group's tables: partitioned as its event topics must be."""
    return tuple(f"{app_id}-{table}-changelog" for table in TABLES)


def advertised_url(settings: WorkerSettings) -> str:
    """Where other workers reach this one's HTTP API: the setting, else the listen address, else
    (listening on every address) this host's name."""
    if settings.advertised_url:
        return settings.advertised_url
    host = socket.gethostname() if settings.web_host in _WILDCARDS else settings.web_host
    return f"http://{host}:{settings.web_port}"


def faust_app(settings: WorkerSettings) -> faust.App:
    """The Faust app as the worker configures it (the benchmarks' baselines share it)."""
    check_edge()  # the Faust internals agents.edge patches are as it expects, else stop here
    register_tansu_transport()  # a tansu:// broker gets recovery to true end offsets (agents.edge.highwater)
    snapshot.register()  # snapshot:// (agents.snapshot)
    return faust.App(
        settings.app_id,
        broker=settings.broker.url,
        store="snapshot://" if settings.state_snapshot_max_age_s > 0 else "memory://",
        # a standby's records are dropped when a recovery completes and its reading goes on from
        # where it was: a snapshot store would then hold a partition's tail under a full prefix's
        # offset (a chaos soak lost whole publics that way). Standbys are for the memory store only.
        table_standby_replicas=0 if settings.state_snapshot_max_age_s > 0 else 1,
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
        web_bind=settings.web_host,
        web_port=settings.web_port,
        canonical_url=advertised_url(settings),
        web_enabled=True,
        # Faust's own debug pages list every table key and the assignment: not for a public port
        web_router_enabled=False,
        web_tables_enabled=False,
    )


def build_worker(
    settings: WorkerSettings,
    guard: DeliveryGuard | None = None,
    send_dead: Any = None,
    redis_client: Any = None,
    profiles: Profiles | None = None,
) -> Worker:
    """The app with its state table, ingest agent, registry feed, HTTP views and (with a Redis URL or
    client) the Redis tables.

    ``guard`` (default: one that stops the process) holds every commit until the records before it
    are written (``agents.edge.delivery``); ``send_dead`` replaces the dead-letter topic (for Faust's test
    context, which has no broker). ``profiles`` defaults to ``settings.profiles``'s (a file with a
    fault raises ``ProfilesError``), else the built-in ones.
    """
    if profiles is None:
        profiles = read_profiles(settings.profiles) if settings.profiles is not None else BUILT_IN_PROFILES
    never_commit_unprocessed(settings.topics.events)  # agents.edge.delivery: Faust's acks of skipped messages
    app = faust_app(settings)
    if guard is None:

        def report_then_stop(reason: str) -> None:
            try:  # what the producer and its connections were doing: the evidence of a broker stall
                log_report(app, guard)
            finally:
                stop_now(reason)

        guard = DeliveryGuard(settings.delivery_timeout_s, on_failure=report_then_stop)
    guard.hold_commits_of(app)
    table = StateTable(
        app,
        guard=guard,
        name="state",
        key_type=bytes,  # raw UTF-8 keys, so any Kafka tool reads the changelog as written
        value_type=bytes,
        partitions=settings.partitions,
        help="engagement state records per public (streams.core.layout)",
    )
    app.tables.add(table)
    records: dict[bytes, bytes] = {}

    def state_values() -> list[bytes]:
        return list(table.data.data.values())  # the memory store's dict, copied at once

    pipeline = Pipeline(
        TableStore(table),
        Engine(RecordsRegistry(records), profiles),
        families=settings.topics.families(),
        limits=Limits(settings.max_record_bytes),
    )
    feed = RegistryFeed(settings.broker.bootstrap, settings.topics.publics, records, pipeline.segment_changed)

    @app.task
    async def follow_registry() -> None:
        await feed.run()

    @app.task
    async def report_on_usr1() -> None:
        import signal

        asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, log_report, app, guard)

    metrics = WorkerMetrics(
        Sources(pipeline, None, lambda: len(records), state_values), settings.metrics_breach_series
    )
    agent = ingest.register(
        app, pipeline, settings, guard, send_dead, metrics.observe_batch, metrics.applied_at
    )
    owned = OwnedPublics(
        app,
        table,
        settings.topics.events,
        settings.partitions,
        pipeline.registered,
        lambda public_id: public_id.encode() in records,
    )
    pipeline.add_sink(owned)
    catch_up = catchup.CatchUp(
        catchup.consumer_ages(app, settings.topics.events, metrics.applied_at),
        settings.catch_up_after_s,
        history=lambda: pipeline.history_messages,
    )
    catchup.register(app, catch_up)
    held = catch_up.check  # asked afresh before every round of the derived work

    tables = None
    if redis_client is None and settings.redis_url:
        import redis.asyncio

        redis_client = redis.asyncio.Redis.from_url(settings.redis_url)
    if redis_client is not None:
        tables = RedisTables(
            redis_client,
            settings.app_id,
            pipeline.current_table,
            owned=owned.with_state,
            refresh_s=settings.redis_refresh_s,
        )
        pipeline.add_sink(tables)
        serve.register(app, tables, settings.redis_push_s, held)
    live, watcher = kpi.register(
        app, pipeline, settings, guard, owned.with_state, redis_client, held, owned.all
    )
    catch_up.waiting = lambda: len(live.pending)  # what the derived work has to do once caught up

    def registry_changed(public_id: str) -> None:
        pipeline.segment_changed(public_id)  # its served tables carry the segment
        owned.registry_changed(public_id)
        live.registered(public_id)  # judged by its new record (and judged at all, events or not)

    feed.on_change = registry_changed
    metrics.sources.kpi = live
    metrics.sources.redis_tables = tables
    metrics.sources.catching_up = lambda: catch_up.active
    if watcher is not None:
        metrics.sources.profiles_error = lambda: watcher.error
    agents_metrics.register(app, metrics, settings.topics.events, table, pipeline)
    partition_watch.register(app, settings.topics.events, settings.partitions)
    stall.register(app, metrics, settings.stall_after_s, lambda: log_report(app, guard))
    loop_lag = LoopLag()
    loop_lag.on_lag = metrics.loop_lag.observe
    looplag.register(app, loop_lag)
    gcpolicy.register(app)
    views = register_views(
        app,
        table,
        pipeline,
        feed,
        settings.partitions,
        live,
        watcher,
        lambda: metrics.stalled_s,
        settings.stall_after_s,
        loop_lag,
        catch_up,
    )
    segments.register(app, redis_client, settings.app_id)
    page.register(app, views, pipeline, redis_client, settings.app_id)
    if settings.state_snapshot_max_age_s > 0:
        snapshot.load_all(
            app, settings.data_dir, settings.broker.bootstrap, settings.state_snapshot_max_age_s
        )
    return Worker(settings, app, table, pipeline, guard, feed, agent, tables, live, watcher, metrics)
