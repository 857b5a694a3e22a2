"""The worker's Prometheus metrics, served on ``GET /metrics`` of its web port.

The hot path never touches prometheus-client: the pipeline and the KPI evaluator keep plain
counters and tallies, and a sampler on the event loop copies what only the loop may read (the
consumer's offsets) every few seconds. A scrape renders all of it in a worker thread, so a scrape
never holds the event loop: at 175 000 publics the per-segment gauges come from ``BreachTally``,
kept current one judged public at a time, not from a walk over every public, and they and the breach
series are written as text (``tally_text``) rather than as prometheus-client sample objects.

Labels are bounded: topics, partitions, event kinds, dead-letter reason codes and segments (region
× level × theme × profile × KPI). The only per-public series are those of publics in breach, capped
per worker (``metrics_breach_series``), with a gauge of how many were left out.
"""

from __future__ import annotations

import asyncio
import gzip
import platform
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
    SummaryMetricFamily,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from agents.edge import committed_offset
from streams.core.breach_tally import UNKNOWN, BreachTally
from streams.core.due import aged_value
from streams.core.profiles import KPIS

#: How often the loop-side sampler copies consumer offsets and recovery state, in seconds.
SAMPLE_EVERY_S = 5.0
#: Per-public breach series a worker exports at most, by default.
DEFAULT_BREACH_SERIES = 10_000
#: Messages per batch: the buckets of ``gospulse_batch_messages``.
BATCH_BUCKETS = (1, 5, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10_000)


def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"


@dataclass(frozen=True)
class Sample:
    """What the loop-side sampler saw: offsets per ``(topic, partition)`` and the worker's state."""

    taken_at: float = 0.0
    end_offsets: dict[tuple[str, int], int] = field(default_factory=dict)
    lag: dict[tuple[str, int], int] = field(default_factory=dict)
    committed: dict[tuple[str, int], int | None] = field(default_factory=dict)
    #: Seconds behind per partition with messages past the committed offset (``lag_seconds``).
    lag_s: dict[tuple[str, int], float] = field(default_factory=dict)
    assigned: int = 0
    recovering: bool = False
    state_records: int = 0
    publics_held: int = 0


@dataclass
class Sources:
    """Where the collector reads from: callables and objects owned by the loop (read, never written)."""

    pipeline: Any
    kpi: Any
    registry_records: Callable[[], int]
    state_values: Callable[[], list[bytes]]
    redis_tables: Any = None
    profiles_error: Callable[[], str | None] = lambda: None
    #: Whether the derived work waits for a backlog (``agents.catchup``).
    catching_up: Callable[[], bool] = lambda: False


class WorkerMetrics:
    """A worker's registry: counters the agent bumps per batch, and a collector for the rest."""

    def __init__(self, sources: Sources, breach_series: int = DEFAULT_BREACH_SERIES) -> None:
        self.sources = sources
        self.breach_series = breach_series
        self.sample = Sample()
        #: Seconds the worst event partition has been behind with no commit (``agents.stall``).
        self.stalled_s = 0.0
        #: The offset and broker timestamp (epoch s) of the last message applied per event partition
        #: (the ingest agent keeps it; the sampler reads it on the loop).
        self.applied_at: dict[tuple[str, int], tuple[int, float]] = {}
        disable_created_metrics()  # a ``_created`` series per counter doubles the series for nothing
        self.registry = CollectorRegistry(auto_describe=False)
        self.messages = Counter(
            "gospulse_messages",
            "Kafka messages the ingest agent was handed (an event or a batch of one public's events).",
            ["topic"],
            registry=self.registry,
        )
        self.batch_messages = Histogram(
            "gospulse_batch_messages",
            "Messages per batch the ingest agent applied and wrote at once.",
            buckets=BATCH_BUCKETS,
            registry=self.registry,
        )
        self.rebalances = Counter(
            "gospulse_rebalances",
            "Partition assignments this worker received (each one after a rebalance).",
            registry=self.registry,
        )
        self.scrape_seconds = Histogram(
            "gospulse_metrics_render_seconds",
            "Time to render a scrape of these metrics (in a worker thread, off the event loop).",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=self.registry,
        )
        self.loop_lag = Histogram(
            "gospulse_event_loop_lag_seconds",
            "How much later than asked the event loop woke a task sleeping 50 ms: the time something "
            "else held the loop that ingests, commits and answers (agents.looplag).",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.registry.register(_Collector(self))
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="metrics")

    def observe_batch(self, topics: dict[str, int], messages: int) -> None:
        for topic, n in topics.items():
            self.messages.labels(topic).inc(n)
        self.batch_messages.observe(messages)

    def render(self, gzipped: bool = False) -> bytes:
        """The exposition text (call it in a thread: it walks the breach series)."""
        started = time.perf_counter()
        body = generate_latest(self.registry)
        kpi = self.sources.kpi
        body += tally_text(kpi.tally, self.breach_series, describe=describer(kpi.pipeline)).encode()
        self.scrape_seconds.observe(time.perf_counter() - started)
        return gzip.compress(body, compresslevel=1) if gzipped else body

    async def render_off_loop(self, gzipped: bool = False) -> bytes:
        return await asyncio.get_running_loop().run_in_executor(self._executor, self.render, gzipped)

    def close(self) -> None:
        self._executor.shutdown(wait=False)


CONTENT_TYPE = CONTENT_TYPE_LATEST


class _Collector:
    """Yields the metric families built from the sources at scrape time."""

    def __init__(self, metrics: WorkerMetrics) -> None:
        self.metrics = metrics

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        src = self.metrics.sources
        yield from _build_info()
        yield from _pipeline(src.pipeline)
        yield from _sampled(self.metrics.sample, src, self.metrics.stalled_s)
        yield from _redis(src)
        yield from _kpi(src.kpi, src.profiles_error())


def _build_info() -> Iterator[Metric]:
    info = GaugeMetricFamily(
        "gospulse_build_info",
        "Versions this worker runs (always 1).",
        labels=["version", "faust", "python"],
    )
    info.add_metric(
        [package_version("gospulse"), package_version("faust-streaming"), platform.python_version()], 1
    )
    yield info


def _pipeline(pipeline: Any) -> Iterator[Metric]:
    applied = CounterMetricFamily(
        "gospulse_events_applied",
        "Events applied to the publics' state (duplicates excluded), by topic and kind.",
        labels=["topic", "kind"],
    )
    for topic, kinds in list(pipeline.applied_by.items()):
        for kind, n in list(kinds.items()):
            applied.add_metric([topic, kind], n)
    yield applied
    duplicates = CounterMetricFamily(
        "gospulse_events_duplicate",
        "Valid events skipped because their event_id was already applied (a producer's retry).",
        labels=["topic"],
    )
    for topic, n in list(pipeline.duplicates_by.items()):
        duplicates.add_metric([topic], n)
    yield duplicates
    yield CounterMetricFamily(
        "gospulse_messages_redelivered",
        "Messages skipped because the public's state had applied them already (read again after a "
        "restart or a takeover, from the last commit).",
        value=pipeline.redelivered,
    )
    dead = CounterMetricFamily(
        "gospulse_dead_letters",
        "Messages or batch events sent to the dead-letter topic, by source topic and reason code.",
        labels=["topic", "reason"],
    )
    for (topic, reason), n in list(pipeline.dead_by.items()):
        dead.add_metric([topic, reason], n)
    yield dead
    yield GaugeMetricFamily(
        "gospulse_states_decoded",
        "Publics whose state is held decoded in memory; the others held are records only, decoded by "
        "their next event (--state-idle-s).",
        value=pipeline.decoded(),
    )
    yield CounterMetricFamily(
        "gospulse_states_evicted",
        "Decoded states dropped from memory after --state-idle-s without an event (their records stay).",
        value=pipeline.evicted,
    )
    yield CounterMetricFamily(
        "gospulse_changelog_records_written",
        "State records written to the changelog (one per changed page of a public's state).",
        value=pipeline.records_written,
    )
    yield CounterMetricFamily(
        "gospulse_changelog_written_bytes",
        "Bytes of state record values written to the changelog.",
        value=pipeline.bytes_written,
    )
    newest = pipeline.newest_occurred_at
    if newest is not None:
        yield GaugeMetricFamily(
            "gospulse_event_freshness_seconds",
            "Now minus the newest occurred_at applied: how far event time trails the clock.",
            value=max(0.0, time.time() - newest / 1000),
        )


def _sampled(sample: Sample, src: Sources, stalled_s: float) -> Iterator[Metric]:
    lag = GaugeMetricFamily(
        "gospulse_consumer_lag_messages",
        "Messages in an assigned event partition past the committed offset.",
        labels=["topic", "partition"],
    )
    for (topic, partition), n in sorted(sample.lag.items()):
        lag.add_metric([topic, str(partition)], n)
    yield lag
    lag_s = GaugeMetricFamily(
        "gospulse_consumer_lag_seconds",
        "How long the oldest message of an assigned event partition not yet applied has waited, at most: "
        "now minus the broker time of the last message applied (0 when none waits; absent until one "
        "was applied since the partition was assigned). A backlog shows here, whatever the events' "
        "own times.",
        labels=["topic", "partition"],
    )
    for (topic, partition), seconds in sorted(sample.lag_s.items()):
        lag_s.add_metric([topic, str(partition)], seconds)
    yield lag_s
    end = GaugeMetricFamily(
        "gospulse_partition_end_offset",
        "The end offset (high watermark) of an assigned event partition: it grows as events arrive.",
        labels=["topic", "partition"],
    )
    for (topic, partition), n in sorted(sample.end_offsets.items()):
        end.add_metric([topic, str(partition)], n)
    yield end
    yield GaugeMetricFamily(
        "gospulse_assigned_partitions", "Event partitions assigned to this worker.", value=sample.assigned
    )
    yield GaugeMetricFamily(
        "gospulse_consumer_stalled_seconds",
        "How long the worst assigned event partition has been behind with no offset committed (0: none).",
        value=stalled_s,
    )
    yield GaugeMetricFamily(
        "gospulse_catching_up",
        "1 while a backlog older than --catch-up-after-s is read: KPI rounds and the Redis tables wait for "
        "it, so no breach opens or closes on a partial history (agents.catchup).",
        value=int(src.catching_up()),
    )
    yield GaugeMetricFamily(
        "gospulse_recovery_in_progress",
        "1 while the worker rebuilds its tables from their changelogs (no KPI is judged meanwhile).",
        value=int(sample.recovering),
    )
    yield GaugeMetricFamily(
        "gospulse_publics_held",
        "Publics whose state this worker holds (applied since it got their partition), decoded or as "
        "records (gospulse_states_decoded).",
        value=sample.publics_held,
    )
    yield GaugeMetricFamily(
        "gospulse_state_records", "Records in this worker's state table.", value=sample.state_records
    )
    yield GaugeMetricFamily(
        "gospulse_state_bytes",
        "Bytes of the state records' values held in this worker's state table.",
        value=sum(map(len, src.state_values())),
    )
    yield GaugeMetricFamily(
        "gospulse_registry_records",
        "Publics in the registry this worker follows.",
        value=src.registry_records(),
    )
    yield GaugeMetricFamily(
        "gospulse_sample_timestamp_seconds",
        "When the offsets above were sampled on the event loop (it stops moving if the loop stalls).",
        value=sample.taken_at,
    )


def _redis(src: Sources) -> Iterator[Metric]:
    tables = src.redis_tables
    written = CounterMetricFamily(
        "gospulse_redis_tables_written",
        "Publics' tables written to Redis: pushed after a change, or rewritten by the refresh round.",
        labels=["mode"],
    )
    failures = CounterMetricFamily(
        "gospulse_redis_write_failures",
        "Writes to Redis that failed (they are retried; the stream never waits for Redis).",
        labels=["what"],
    )
    if tables is not None:
        written.add_metric(["push"], tables.pushed)
        written.add_metric(["refresh"], tables.refreshed)
        failures.add_metric(["tables"], tables.failures)
    failures.add_metric(["breaches"], src.kpi.stats.redis_failures)
    yield written
    yield failures


def _kpi(kpi: Any, profiles_error: str | None) -> Iterator[Metric]:
    stats = kpi.stats
    yield SummaryMetricFamily(
        "gospulse_kpi_sweep_duration_seconds",
        "Time a sweep takes to judge every public this worker owns.",
        count_value=stats.sweeps,
        sum_value=stats.sweeps_s,
    )
    yield CounterMetricFamily(
        "gospulse_kpi_evaluations", "Judgements of a public against its KPI profile.", value=stats.evaluated
    )
    yield CounterMetricFamily(
        "gospulse_kpi_transitions",
        "Breaches opened or closed (each told once on the kpi-breaches topic).",
        value=stats.transitions,
    )
    yield GaugeMetricFamily(
        "gospulse_kpi_longest_slice_seconds",
        "The longest the KPI evaluator held the event loop in one slice since the worker started.",
        value=stats.longest_slice_s,
    )
    yield GaugeMetricFamily(
        "gospulse_profiles_error",
        "1 when the profiles file changed but was refused (the previous profiles stay in force).",
        value=int(profiles_error is not None),
    )


#: Help texts of the families ``tally_text`` renders.
_TALLY_HELP = {
    "gospulse_publics": "Publics this worker judges, by segment (region, level, theme) and KPI profile.",
    "gospulse_publics_in_breach": "Publics in breach of a KPI at their last judgement, by KPI, segment "
    "and profile.",
    "gospulse_public_kpi_breach_value": "A public's KPI value while it is in breach (seconds for silence "
    "and response_time, percent for engagement and subscribers, counts otherwise; NaN: never posted).",
    "gospulse_public_kpi_breach_threshold": "The threshold of a KPI a public is in breach of, in the unit "
    "of its value.",
    "gospulse_public_kpi_breach_since_timestamp_seconds": "When a public's breach of a KPI opened "
    "(Unix time).",
    "gospulse_public_info": "1 for each public with a breach series: its name, region, level, theme and "
    "profile as curators read them (alerts join it by public_id).",
    "gospulse_segment_info": "1 for each segment with publics: its region, level and theme as curators "
    "read them (the segment alert joins it).",
    "gospulse_kpi_info": "1 for each KPI: its name as curators read it (the segment alert joins it).",
    "gospulse_public_kpi_breaches_omitted": "Breaches left out of the per-public series because of the "
    "per-worker cap.",
    "gospulse_segment_posts_7d": "Posts in the last 7 days, summed over a segment's publics.",
    "gospulse_segment_response_p90_working_seconds": "The publics' response p90 over 7 days (working "
    "seconds), summed over those of a segment that answered any comment.",
    "gospulse_segment_publics_responding": "Publics of a segment with a response p90 (they answered a "
    "citizen comment in 7 days).",
}


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float | int | None) -> str:
    if value is None or value != value:
        return "NaN"
    if isinstance(value, int):
        return str(value)
    return repr(value) if value not in (float("inf"), float("-inf")) else ("+Inf" if value > 0 else "-Inf")


def _head(name: str) -> str:
    return f"# HELP {name} {_TALLY_HELP[name]}\n# TYPE {name} gauge\n"


#: A public's words for its alerts: (public_id, region, level, theme, profile name) -> label values.
Describe = Callable[[str, str | None, str | None, str | None, str], dict[str, str]]


def segment_words(region: str | None, level: str | None, theme: str | None) -> dict[str, str]:
    """A segment as the curators' page names it."""
    from agents.page.regions import region_name
    from agents.page.words import LEVELS_RU, THEMES_RU

    return {
        "region_name": region_name(region) if region and region != UNKNOWN else "регион не указан",
        "level_name": LEVELS_RU.get(level or "", "уровень не указан"),
        "theme_name": THEMES_RU.get(theme or "", "тема не указана"),
    }


#: The longest name a label carries (the registry bounds no name; an alert needs no more to be read).
NAME_LABEL_MAX = 200


def describer(pipeline: Any) -> Describe:
    """``Describe`` from the registry and profiles (``streams.pipeline.Pipeline``'s reads): what the
    curators' page shows."""

    def describe(
        public_id: str, region: str | None, level: str | None, theme: str | None, profile: str
    ) -> dict[str, str]:
        info = pipeline.info(public_id)
        found = pipeline.profiles.profiles.get(profile)
        name = info.name if info is not None else public_id
        return {
            "name": name if len(name) <= NAME_LABEL_MAX else name[: NAME_LABEL_MAX - 1] + "…",
            **segment_words(region, level, theme),
            "profile_title": found.shown if found is not None else profile,
        }

    return describe


def tally_text(
    tally: BreachTally, cap: int, now_ms: int | None = None, describe: Describe | None = None
) -> str:
    """The per-segment gauges and the per-public breach series, as exposition text.

    Rendered to strings directly rather than through prometheus-client's metric objects: at 175 000
    publics these families are tens of thousands of samples, and a sample object per line, all alive
    until the scrape ends, would be promoted to the oldest GC generation and bring on full collections
    over the worker's whole heap (hundreds of milliseconds to seconds, every thread stopped). Strings
    are not tracked by the collector.
    """
    now = int(time.time() * 1000) if now_ms is None else now_ms
    publics_by = dict(tally.publics)
    in_breach = dict(tally.in_breach)
    posts, response_sum, response_count = (
        dict(tally.posts_7d),
        dict(tally.response_p90_sum),
        dict(tally.response_p90_count),
    )
    publics, breaching = [_head("gospulse_publics")], [_head("gospulse_publics_in_breach")]
    trends = [_head("gospulse_segment_posts_7d")]
    responding = [_head("gospulse_segment_response_p90_working_seconds")]
    responding_n = [_head("gospulse_segment_publics_responding")]
    seen_segments: set[tuple[str, str, str]] = set()
    segment_infos = [_head("gospulse_segment_info")]
    for segment in sorted(publics_by):
        region, level, theme, profile = (_escape(v) for v in segment)
        if describe is not None and (region, level, theme) not in seen_segments:
            seen_segments.add((region, level, theme))
            said = ",".join(f'{k}="{_escape(v)}"' for k, v in segment_words(*segment[:3]).items())
            segment_infos.append(
                f'gospulse_segment_info{{region="{region}",level="{level}",theme="{theme}",{said}}} 1\n'
            )
        where = f'region="{region}",level="{level}",theme="{theme}",profile="{profile}"'
        publics.append(f"gospulse_publics{{{where}}} {publics_by[segment]}\n")
        trends.append(f"gospulse_segment_posts_7d{{{where}}} {posts.get(segment, 0)}\n")
        response = _number(response_sum.get(segment, 0.0))
        responding.append(f"gospulse_segment_response_p90_working_seconds{{{where}}} {response}\n")
        responding_n.append(
            f"gospulse_segment_publics_responding{{{where}}} {response_count.get(segment, 0)}\n"
        )
        for name in KPIS:
            n = in_breach.get((name, segment), 0)
            breaching.append(f'gospulse_publics_in_breach{{kpi="{name}",{where}}} {n}\n')
    value = [_head("gospulse_public_kpi_breach_value")]
    threshold = [_head("gospulse_public_kpi_breach_threshold")]
    since = [_head("gospulse_public_kpi_breach_since_timestamp_seconds")]
    infos = [_head("gospulse_public_info")]
    exported = omitted = 0
    for public_id in list(tally.breaching):
        breaches = tally.breaching.get(public_id)
        if breaches is None:  # closed since the keys were copied
            continue
        if exported + len(breaches) > cap:
            omitted += len(breaches)
            continue
        if describe is not None and breaches:
            first = breaches[0]
            words = describe(public_id, first["region"], first["level"], first["theme"], first["profile"])
            said = ",".join(f'{k}="{_escape(v)}"' for k, v in words.items())
            infos.append(f'gospulse_public_info{{public_id="{_escape(public_id)}",{said}}} 1\n')
        for b in breaches:
            region, level, theme = (_escape(b[k] or UNKNOWN) for k in ("region", "level", "theme"))
            labels = (
                f'public_id="{_escape(public_id)}",kpi="{b["kpi"]}",region="{region}",level="{level}",'
                f'theme="{theme}",profile="{_escape(b["profile"])}"'
            )
            shown = aged_value(b, now)  # judged at b["at"]: an open silence has grown since
            value.append(f"gospulse_public_kpi_breach_value{{{labels}}} {_number(shown)}\n")
            threshold.append(f"gospulse_public_kpi_breach_threshold{{{labels}}} {_number(b['threshold'])}\n")
            since.append(
                f"gospulse_public_kpi_breach_since_timestamp_seconds{{{labels}}} {b['since'] / 1000!r}\n"
            )
            exported += 1
    tail = f"{_head('gospulse_public_kpi_breaches_omitted')}gospulse_public_kpi_breaches_omitted {omitted}\n"
    segments = (
        "".join(publics) + "".join(breaching) + "".join(trends) + "".join(responding) + "".join(responding_n)
    )
    described = ""
    if describe is not None:
        from agents.page.words import KPI_NAMES

        kpis = "".join(f'gospulse_kpi_info{{kpi="{k}",kpi_name="{_escape(KPI_NAMES[k])}"}} 1\n' for k in KPIS)
        described = "".join(infos) + "".join(segment_infos) + _head("gospulse_kpi_info") + kpis
    return segments + "".join(value) + "".join(threshold) + "".join(since) + described + tail


def lag_seconds(
    end_offsets: dict[tuple[str, int], int], applied_at: dict[tuple[str, int], tuple[int, float]], now: float
) -> dict[tuple[str, int], float]:
    """Per partition, at most how long its oldest unapplied message has waited: it came after the
    last applied one, so no earlier than that one's broker time. 0 with nothing unapplied; a
    partition nothing was applied from since it was assigned is left out (unknown, not 0)."""
    out = {}
    for tp, end in end_offsets.items():
        last = applied_at.get(tp)
        if last is not None:
            offset, timestamp = last
            out[tp] = max(0.0, now - timestamp) if end > offset + 1 else 0.0
    return out


def sample(app: Any, events: tuple[str, ...], table: Any, pipeline: Any, applied_at: Any = None) -> Sample:
    """What only the event loop may read, copied for the scrape thread."""
    consumer = app.consumer
    end_offsets: dict[tuple[str, int], int] = {}
    lag: dict[tuple[str, int], int] = {}
    committed_at: dict[tuple[str, int], int | None] = {}
    assigned = 0
    try:
        assignment = [tp for tp in consumer.assignment() if tp.topic in events]
    except Exception:  # not started yet, or between assignments
        assignment = []
    for tp in assignment:
        assigned += 1
        try:
            end = consumer.highwater(tp)
        except Exception:
            end = None
        if end is None:
            continue  # no fetch answered yet for this partition
        end_offsets[(tp.topic, tp.partition)] = end
        committed = committed_offset(consumer, tp)
        lag[(tp.topic, tp.partition)] = max(0, end - (committed or 0))
        committed_at[(tp.topic, tp.partition)] = committed
    recovery = app.tables.recovery
    return Sample(
        taken_at=time.time(),
        end_offsets=end_offsets,
        lag=lag,
        lag_s=lag_seconds(end_offsets, applied_at or {}, time.time()),
        committed=committed_at,
        assigned=assigned,
        recovering=bool(recovery.in_recovery) or not recovery.completed.is_set(),
        state_records=len(table),
        publics_held=len(pipeline.held()),
    )


def register(app: Any, metrics: WorkerMetrics, events: tuple[str, ...], table: Any, pipeline: Any) -> None:
    """The sampler timer, the rebalance counter and ``GET /metrics``."""

    @app.timer(SAMPLE_EVERY_S)
    async def sample_metrics() -> None:
        metrics.sample = sample(app, events, table, pipeline, metrics.applied_at)

    @app.on_partitions_assigned.connect
    async def count_assignment(app_: Any, assigned: set, **kwargs: object) -> None:
        metrics.rebalances.inc()

    @app.page("/metrics")
    async def get_metrics(web: Any, request: Any) -> Any:
        gzipped = "gzip" in request.headers.get("Accept-Encoding", "")
        body = await metrics.render_off_loop(gzipped)
        headers = {"Content-Type": CONTENT_TYPE}
        if gzipped:
            headers["Content-Encoding"] = "gzip"
        return web.bytes(body, headers=headers)
