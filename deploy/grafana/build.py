"""The Grafana dashboards as code, with Grafana's own Python SDK (grafana-foundation-sdk).

    python deploy/grafana/build.py            # write deploy/grafana/dashboards/*.json
    python deploy/grafana/build.py --check    # exit 1 when the committed JSON is stale

The committed JSON is what Grafana loads (deploy/grafana/provisioning); tests fail when it differs
from what this file builds, lint every panel, and evaluate every panel's query with promtool.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grafana_foundation_sdk.builders.common import GraphThresholdsStyleConfig
from grafana_foundation_sdk.builders.dashboard import (
    Dashboard,
    DashboardLink,
    DatasourceVariable,
    QueryVariable,
    Row,
    TextBoxVariable,
    ThresholdsConfig,
)
from grafana_foundation_sdk.builders.prometheus import Dataquery
from grafana_foundation_sdk.builders.stat import Panel as Stat
from grafana_foundation_sdk.builders.table import Panel as Table
from grafana_foundation_sdk.builders.timeseries import Panel as Timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.common import GraphTresholdsStyleMode  # the SDK's spelling
from grafana_foundation_sdk.models.dashboard import (
    DataSourceRef,
    Threshold,
    ThresholdsMode,
    VariableRefresh,
)

OUT = Path(__file__).resolve().parent / "dashboards"
DATASOURCE = DataSourceRef(type_val="prometheus", uid="${datasource}")
#: The worker selector of the Pipeline dashboard, and the segment selector of the KPI dashboard.
WORKERS = 'job="gospulse", instance=~"$instance"'
SEGMENT = 'region=~"$region", level=~"$level", theme=~"$theme", profile=~"$profile"'


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str = ""
    instant: bool = False


def thresholds(*steps: tuple[float, str]) -> ThresholdsConfig:
    """Green below the first step, then each step's colour from its value up."""
    marks = [Threshold(value=None, color="green")] + [Threshold(value=v, color=c) for v, c in steps]
    return ThresholdsConfig().mode(ThresholdsMode.ABSOLUTE).steps(marks)


def dressed(
    panel: Any,
    panel_id: int,
    title: str,
    description: str,
    unit: str,
    queries: Sequence[Query],
    steps: Sequence[tuple[float, str]],
    width: int,
    height: int,
) -> Any:
    """What every panel carries: id, texts, unit, the datasource variable, thresholds, size, queries."""
    panel = (
        panel.id(panel_id)
        .title(title)
        .description(description)
        .unit(unit)
        .datasource(DATASOURCE)
        .thresholds(thresholds(*steps))
        .span(width)
        .height(height)
    )
    for ref, q in zip("ABCDEFGH", queries, strict=False):
        query = Dataquery().expr(q.expr).ref_id(ref).legend_format(q.legend or "__auto")
        if q.instant:
            query = query.instant().format("table")
        panel = panel.with_target(query)
    return panel


def series(
    panel_id: int,
    title: str,
    description: str,
    unit: str,
    queries: Sequence[Query],
    steps: Sequence[tuple[float, str]] = (),
    width: int = 12,
) -> Timeseries:
    panel = Timeseries().min(0)
    if steps:  # draw the thresholds as lines on the graph
        panel = panel.thresholds_style(GraphThresholdsStyleConfig().mode(GraphTresholdsStyleMode.LINE))
    return dressed(panel, panel_id, title, description, unit, queries, steps, width, 8)


def table(
    panel_id: int,
    title: str,
    description: str,
    unit: str,
    queries: Sequence[Query],
    steps: Sequence[tuple[float, str]] = (),
    width: int = 24,
    links: Sequence[DashboardLink] = (),
) -> Table:
    panel = Table()
    if links:
        panel = panel.data_links(list(links))
    return dressed(panel, panel_id, title, description, unit, queries, steps, width, 10)


def stat(
    panel_id: int,
    title: str,
    description: str,
    unit: str,
    queries: Sequence[Query],
    steps: Sequence[tuple[float, str]] = (),
    width: int = 6,
) -> Stat:
    return dressed(Stat(), panel_id, title, description, unit, queries, steps, width, 4)


def label_variable(name: str, label: str, metric: str, selector: str = "") -> QueryVariable:
    return (
        QueryVariable(name)
        .label(label)
        .datasource(DATASOURCE)
        .query(f"label_values({metric}{selector}, {name})")
        .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
        .multi(True)
        .include_all(True)
        .all_value(".*")
        .sort(1)
    )


def base(uid: str, title: str, description: str) -> Dashboard:
    return (
        Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(["gospulse"])
        .refresh("30s")
        .time("now-6h", "now")
        .timezone("browser")
        .with_variable(DatasourceVariable("datasource").label("Prometheus").type("prometheus"))
    )


def pipeline() -> Dashboard:
    d = base(
        "gospulse-pipeline",
        "gospulse · Pipeline",
        "Is every event reaching the tables? Throughput, lag, freshness, bad input and the workers' health.",
    ).with_variable(label_variable("instance", "Worker", "up", '{job="gospulse"}'))
    d = d.with_row(Row("Flow").id(100))
    d = d.with_panel(
        series(
            1,
            "Events applied per second, by topic",
            "Events applied to the publics' state (duplicates excluded), per topic. Flat at zero while the "
            "topics receive events: see Consumer lag and the GospulseNotApplying alert.",
            "ops",
            [
                Query(
                    f"sum by (topic) (rate(gospulse_events_applied_total{{{WORKERS}}}[$__rate_interval]))",
                    "{{topic}}",
                )
            ],
        )
    )
    d = d.with_panel(
        series(
            2,
            "Consumer lag",
            "Messages in the event partitions past the committed offset, per topic. Red above 10 000: "
            "events arrive faster than they are applied (GospulseConsumerLagGrowing).",
            "short",
            [Query(f"sum by (topic) (gospulse_consumer_lag_messages{{{WORKERS}}})", "{{topic}}")],
            steps=[(10_000, "red")],
        )
    )
    d = d.with_panel(
        series(
            3,
            "Event-time freshness",
            "Now minus the newest occurred_at a worker applied. Red above 3 hours: the sources "
            "(bridges, producers) have gone quiet (GospulseEventsStale).",
            "s",
            [Query(f"max by (instance) (gospulse_event_freshness_seconds{{{WORKERS}}})", "{{instance}}")],
            steps=[(3600, "orange"), (10_800, "red")],
        )
    )
    d = d.with_panel(
        series(
            14,
            "Consumer lag in time",
            "How long the oldest unapplied event of each partition has waited, at most (now minus the "
            "broker time of the last message applied). Unlike freshness it shows a backlog of old "
            "events too. Red above 15 minutes (GospulseConsumerBehind).",
            "s",
            [
                Query(
                    f"max by (instance, topic) (gospulse_consumer_lag_seconds{{{WORKERS}}})",
                    "{{instance}} {{topic}}",
                )
            ],
            steps=[(300, "orange"), (900, "red")],
        )
    )
    d = d.with_panel(
        series(
            4,
            "Dead letters per second, by reason",
            "Messages sent to the dead-letter topic, by reason code. Above 0.1/s for one reason "
            "GospulseDeadLetters fires: read the dead-letter topic's gospulse-reason headers.",
            "ops",
            [
                Query(
                    f"sum by (reason) (rate(gospulse_dead_letters_total{{{WORKERS}}}[$__rate_interval]))",
                    "{{reason}}",
                )
            ],
            steps=[(0.1, "red")],
        )
    )
    d = d.with_panel(
        series(
            5,
            "Duplicates skipped per second",
            "Valid events whose event_id was already applied: producers' retries and redeliveries. "
            "Harmless, counted once; a sustained rise points at a producer resending.",
            "ops",
            [
                Query(
                    f"sum by (topic) (rate(gospulse_events_duplicate_total{{{WORKERS}}}[$__rate_interval]))",
                    "{{topic}}",
                )
            ],
        )
    )
    d = d.with_panel(
        series(
            6,
            "Messages per batch",
            "Median and 99th percentile of the messages the agent applies and writes at once. Small "
            "batches under load mean many state writes per event.",
            "short",
            [
                Query(
                    f"histogram_quantile(0.5, sum by (le) (rate(gospulse_batch_messages_bucket{{{WORKERS}}}[$__rate_interval])))",
                    "p50",
                ),
                Query(
                    f"histogram_quantile(0.99, sum by (le) (rate(gospulse_batch_messages_bucket{{{WORKERS}}}[$__rate_interval])))",
                    "p99",
                ),
            ],
        )
    )
    d = d.with_row(Row("Workers").id(101))
    d = d.with_panel(
        series(
            7,
            "Rebalances and recovery",
            "Partition assignments received, and 1 while a worker rebuilds its tables from the changelog. "
            "Recovery over 15 minutes raises GospulseRecoveryStuck.",
            "short",
            [
                Query(
                    f"sum by (instance) (increase(gospulse_rebalances_total{{{WORKERS}}}[$__rate_interval]))",
                    "rebalances {{instance}}",
                ),
                Query(
                    f"max by (instance) (gospulse_recovery_in_progress{{{WORKERS}}})",
                    "recovering {{instance}}",
                ),
            ],
        )
    )
    d = d.with_panel(
        series(
            8,
            "State size",
            "Bytes of state records each worker holds; they grow with the publics it owns and shrink as "
            "retention drops old hours (contract §3).",
            "bytes",
            [Query(f"sum by (instance) (gospulse_state_bytes{{{WORKERS}}})", "{{instance}}")],
        )
    )
    d = d.with_panel(
        series(
            9,
            "Publics held in memory",
            "Publics a worker has applied events of since it got their partition.",
            "short",
            [Query(f"sum by (instance) (gospulse_publics_held{{{WORKERS}}})", "{{instance}}")],
        )
    )
    d = d.with_panel(
        series(
            10,
            "KPI sweep duration",
            "Mean time a sweep takes to judge every public a worker owns. Approaching --kpi-sweep-s (60 s) "
            "means breaches are found late: add workers.",
            "s",
            [
                Query(
                    f"sum by (instance) (rate(gospulse_kpi_sweep_duration_seconds_sum{{{WORKERS}}}[$__rate_interval])) "
                    f"/ sum by (instance) (rate(gospulse_kpi_sweep_duration_seconds_count{{{WORKERS}}}[$__rate_interval]))",
                    "{{instance}}",
                )
            ],
            steps=[(30, "orange"), (60, "red")],
        )
    )
    d = d.with_panel(
        series(
            11,
            "Redis writes per second",
            "Tables pushed after a change or rewritten by the refresh round, and failed writes (red: "
            "GospulseRedisWritesFailing after 15 minutes).",
            "ops",
            [
                Query(
                    f"sum by (mode) (rate(gospulse_redis_tables_written_total{{{WORKERS}}}[$__rate_interval]))",
                    "{{mode}}",
                ),
                Query(
                    f"sum by (what) (rate(gospulse_redis_write_failures_total{{{WORKERS}}}[$__rate_interval]))",
                    "failed {{what}}",
                ),
            ],
        )
    )
    d = d.with_panel(
        series(
            12,
            "Scrape health",
            "1 while Prometheus reads a worker's /metrics (0: GospulseWorkerDown), and how long the "
            "scrape takes in seconds.",
            "short",
            [
                Query(f"up{{{WORKERS}}}", "up {{instance}}"),
                Query(f"scrape_duration_seconds{{{WORKERS}}}", "seconds {{instance}}"),
            ],
        )
    )
    d = d.with_panel(
        table(
            13,
            "Firing pipeline alerts",
            "Ops alerts firing now. Those labelled inhibits=kpi hold back every curator alert meanwhile.",
            "short",
            [Query('ALERTS{alertstate="firing", audience="ops"}', instant=True)],
        )
    )
    return d


def kpi() -> Dashboard:
    d = base(
        "gospulse-kpi",
        "gospulse · KPI",
        "Which publics and segments break their KPIs, and how posting and response times trend.",
    )
    for name, label in (("region", "Region"), ("level", "Level"), ("theme", "Theme"), ("profile", "Profile")):
        d = d.with_variable(label_variable(name, label, "gospulse_publics"))
    d = d.with_variable(
        TextBoxVariable("api")
        .label("Worker API")
        .default_value("http://localhost:6066")
        .description("Where a public's table is served (any worker answers for any public)")
    )
    d = d.with_row(Row("Breaches").id(102))
    d = d.with_panel(
        stat(
            20,
            "Publics judged",
            "Publics of the selected segments the workers judge (registered or with events).",
            "short",
            [Query(f"sum(gospulse_publics{{{SEGMENT}}})")],
        )
    )
    d = d.with_panel(
        stat(
            21,
            "Publics in breach of any KPI",
            "Publics with at least one KPI broken now (each counted once).",
            "short",
            [Query(f"count(count by (public_id) (gospulse_public_kpi_breach_value{{{SEGMENT}}}))")],
        )
    )
    d = d.with_panel(
        stat(
            22,
            "Share in breach of posting",
            "Share of the selected publics below their weekly posting norm. Orange above 10 %, red above "
            "30 % (where a segment raises GospulseSegmentKpiBreachShare).",
            "percentunit",
            [
                Query(
                    f'sum(gospulse_publics_in_breach{{kpi="posting", {SEGMENT}}}) / sum(gospulse_publics{{{SEGMENT}}})'
                )
            ],
            steps=[(0.1, "orange"), (0.3, "red")],
        )
    )
    d = d.with_panel(
        stat(
            23,
            "Breaches left out of Prometheus",
            "Breaches over the workers' series cap: they reach no curator. Non-zero: raise "
            "--metrics-breach-series and sample_limit, or check the profiles.",
            "short",
            [Query("sum(gospulse_public_kpi_breaches_omitted)")],
            steps=[(1, "red")],
        )
    )
    d = d.with_panel(
        series(
            24,
            "Publics in breach, by KPI",
            "Publics of the selected segments in breach of each KPI over time.",
            "short",
            [Query(f"sum by (kpi) (gospulse_publics_in_breach{{{SEGMENT}}})", "{{kpi}}")],
            width=24,
        )
    )
    d = d.with_panel(
        table(
            25,
            "Publics in breach, by segment",
            "Per segment (region × level × theme) and KPI: publics in breach now.",
            "short",
            [
                Query(
                    f"sum by (region, level, theme, kpi) (gospulse_publics_in_breach{{{SEGMENT}}}) > 0",
                    instant=True,
                )
            ],
            width=12,
        )
    )
    d = d.with_panel(
        table(
            26,
            "Segments with the largest share in breach",
            "The ten segment × KPI pairs with the largest share of their publics in breach. Red from 30 %: "
            "the norm may not suit the segment, or the segment needs a joint review.",
            "percentunit",
            [
                Query(
                    f"topk(10, sum by (region, level, theme, kpi) (gospulse_publics_in_breach{{{SEGMENT}}}) "
                    f"/ on (region, level, theme) group_left () sum by (region, level, theme) (gospulse_publics{{{SEGMENT}}}))",
                    instant=True,
                )
            ],
            steps=[(0.1, "orange"), (0.3, "red")],
            width=12,
        )
    )
    d = d.with_panel(
        table(
            27,
            "Publics in breach now",
            "Every public in breach (up to the workers' cap) with its value; a row links to the public's "
            "table on the worker API. Values: seconds for silence and response_time, percent for "
            "engagement and subscribers, counts otherwise.",
            "none",
            [
                Query(
                    f"max without (instance, job) (gospulse_public_kpi_breach_value{{{SEGMENT}}})",
                    instant=True,
                )
            ],
            links=[
                DashboardLink("Table of ${__data.fields.public_id}").url(
                    "${api}/publics/${__data.fields.public_id}"
                )
            ],
        )
    )
    d = d.with_row(Row("Trends").id(103))
    d = d.with_panel(
        series(
            28,
            "Posts per public in 7 days, by segment",
            "Posts in the last 7 days per public of each segment. The default norm is at least 3 a week.",
            "short",
            [
                Query(
                    f"sum by (region, level, theme) (gospulse_segment_posts_7d{{{SEGMENT}}}) "
                    f"/ sum by (region, level, theme) (gospulse_publics{{{SEGMENT}}})",
                    "{{region}} {{level}} {{theme}}",
                )
            ],
            steps=[(3, "green")],
        )
    )
    d = d.with_panel(
        series(
            29,
            "Response time, mean p90 by segment",
            "The publics' p90 time to the first official reply over 7 days, in working time, averaged "
            "over a segment's publics that answered. Red above the default 4 working hours.",
            "s",
            [
                Query(
                    f"sum by (region, level, theme) (gospulse_segment_response_p90_working_seconds{{{SEGMENT}}}) "
                    f"/ sum by (region, level, theme) (gospulse_segment_publics_responding{{{SEGMENT}}})",
                    "{{region}} {{level}} {{theme}}",
                )
            ],
            steps=[(4 * 3600, "red")],
        )
    )
    return d


DASHBOARDS = {"pipeline.json": pipeline, "kpi.json": kpi}


def render(dashboard: Dashboard) -> str:
    return json.dumps(dashboard.build(), cls=JSONEncoder, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="exit 1 when the committed JSON is stale")
    args = parser.parse_args()
    stale = []
    for name, build in DASHBOARDS.items():
        text, path = render(build()), OUT / name
        if args.check:
            if not path.is_file() or path.read_text() != text:
                stale.append(name)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            print(f"wrote {path}", file=sys.stderr)
    if stale:
        print(f"stale: {', '.join(stale)}; run python deploy/grafana/build.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
