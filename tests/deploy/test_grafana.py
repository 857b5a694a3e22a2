"""The Grafana dashboards, tested without a Grafana server: the committed JSON is what
``deploy/grafana/build.py`` builds, every panel passes a structural lint, and every panel's query is
evaluated by ``promtool`` against synthetic series with asserted results, so a renamed metric or a
broken query fails here."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.tools import tool

ROOT = Path(__file__).resolve().parents[2]
GRAFANA = ROOT / "deploy" / "grafana"
DASHBOARDS = {
    path.name: json.loads(path.read_text()) for path in sorted((GRAFANA / "dashboards").glob("*.json"))
}
COUNTER = re.compile(r"\b(\w+(?:_total|_bucket|_seconds_sum|_seconds_count))\b")


def panels(dashboard: dict) -> list[dict]:
    return [p for p in dashboard["panels"] if p["type"] != "row"]


def queries() -> list[tuple[str, int, str, str]]:
    """Every (dashboard, panel id, refId, expr)."""
    return [
        (name, panel["id"], target["refId"], target["expr"])
        for name, dashboard in DASHBOARDS.items()
        for panel in panels(dashboard)
        for target in panel["targets"]
    ]


def test_the_committed_json_is_what_the_code_builds() -> None:
    built = subprocess.run(
        [sys.executable, str(GRAFANA / "build.py"), "--check"], capture_output=True, text=True, timeout=120
    )
    assert built.returncode == 0, built.stderr


def test_both_dashboards_are_provisioned() -> None:
    assert set(DASHBOARDS) == {"pipeline.json", "kpi.json"}
    provider = yaml.safe_load((GRAFANA / "provisioning/dashboards/gospulse.yml").read_text())
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"
    datasource = yaml.safe_load((GRAFANA / "provisioning/datasources/prometheus.yml").read_text())
    assert datasource["datasources"][0]["url"] == "http://prometheus:9090"


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_every_panel_has_a_title_description_unit_thresholds_and_the_datasource_variable(name: str) -> None:
    dashboard = DASHBOARDS[name]
    assert dashboard["title"] and dashboard["description"] and dashboard["uid"].startswith("gospulse-")
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert (
        variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    )
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids)), f"{name}: duplicate panel ids"
    for panel in panels(dashboard):
        where = f"{name} panel {panel['id']}"
        assert panel["title"] and len(panel.get("description", "")) > 20, f"{where}: title and description"
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, where
        defaults = panel["fieldConfig"]["defaults"]
        assert defaults.get("unit"), f"{where}: no unit"
        assert defaults["thresholds"]["steps"], f"{where}: no thresholds"
        assert panel["targets"], f"{where}: no query"


def test_uids_and_titles_are_unique() -> None:
    assert len({d["uid"] for d in DASHBOARDS.values()}) == len(DASHBOARDS)
    titles = [p["title"] for d in DASHBOARDS.values() for p in d["panels"]]
    assert len(titles) == len(set(titles))


@pytest.mark.parametrize(("name", "panel", "ref", "expr"), queries(), ids=lambda v: str(v)[:40])
def test_rates_use_the_rate_interval_and_counters_appear_only_inside_rate(
    name: str, panel: int, ref: str, expr: str
) -> None:
    for window in re.findall(r"\b(?:rate|increase|irate)\([^\[]*\[([^\]]+)\]", expr):
        assert window == "$__rate_interval", f"{name} {panel}{ref}: [{window}]"
    for match in COUNTER.finditer(expr):
        before = expr[: match.start()].rstrip()
        assert re.search(r"\b(?:rate|increase)\($", before), f"{name} {panel}{ref}: {match[1]} outside rate()"


def test_the_segment_and_worker_variables_reach_every_query() -> None:
    kpi = {v["name"] for v in DASHBOARDS["kpi.json"]["templating"]["list"]}
    assert {"region", "level", "theme", "profile"} <= kpi
    assert "instance" in {v["name"] for v in DASHBOARDS["pipeline.json"]["templating"]["list"]}
    for name, panel, ref, expr in queries():
        if name == "kpi.json" and "omitted" not in expr:
            for variable in ("$region", "$level", "$theme", "$profile"):
                assert variable in expr, f"kpi panel {panel}{ref} ignores {variable}"
        if name == "pipeline.json" and "ALERTS" not in expr:
            assert "$instance" in expr, f"pipeline panel {panel}{ref} ignores $instance"


# -- every query, evaluated ----------------------------------------------------------------------

W1, W2 = 'job="gospulse", instance="w1:6066"', 'job="gospulse", instance="w2:6066"'
NIZ = 'region="RU-NIZ", level="municipal", theme="culture", profile="default"'
MOW = 'region="RU-MOW", level="regional", theme="health", profile="flagship"'
SERIES = [
    (f'gospulse_events_applied_total{{topic="gospulse.posts", kind="post.published", {W1}}}', "0+60x10"),
    (f'gospulse_events_applied_total{{topic="gospulse.comments", kind="comment.created", {W2}}}', "0+120x10"),
    (f'gospulse_consumer_lag_messages{{topic="gospulse.posts", partition="0", {W1}}}', "100+0x10"),
    (f'gospulse_consumer_lag_messages{{topic="gospulse.posts", partition="1", {W2}}}', "50+0x10"),
    (f"gospulse_event_freshness_seconds{{{W1}}}", "30+0x10"),
    (f"gospulse_event_freshness_seconds{{{W2}}}", "90+0x10"),
    (f'gospulse_consumer_lag_seconds{{topic="gospulse.posts", partition="0", {W1}}}', "0+0x10"),
    (f'gospulse_consumer_lag_seconds{{topic="gospulse.posts", partition="2", {W1}}}', "600+0x10"),
    (f'gospulse_consumer_lag_seconds{{topic="gospulse.comments", partition="1", {W2}}}', "5+0x10"),
    (f'gospulse_dead_letters_total{{topic="gospulse.posts", reason="not_json", {W1}}}', "0+6x10"),
    (f'gospulse_events_duplicate_total{{topic="gospulse.posts", {W1}}}', "0+30x10"),
    (f'gospulse_batch_messages_bucket{{le="50", {W1}}}', "0+0x10"),
    (f'gospulse_batch_messages_bucket{{le="100", {W1}}}', "0+10x10"),
    (f'gospulse_batch_messages_bucket{{le="+Inf", {W1}}}', "0+10x10"),
    (f"gospulse_rebalances_total{{{W1}}}", "0+1x10"),
    (f"gospulse_recovery_in_progress{{{W1}}}", "0+0x10"),
    (f"gospulse_recovery_in_progress{{{W2}}}", "1+0x10"),
    (f"gospulse_state_bytes{{{W1}}}", "1000+0x10"),
    (f"gospulse_state_bytes{{{W2}}}", "2000+0x10"),
    (f"gospulse_publics_held{{{W1}}}", "10+0x10"),
    (f"gospulse_publics_held{{{W2}}}", "20+0x10"),
    (f"gospulse_kpi_sweep_duration_seconds_sum{{{W1}}}", "0+12x10"),
    (f"gospulse_kpi_sweep_duration_seconds_count{{{W1}}}", "0+1x10"),
    (f'gospulse_redis_tables_written_total{{mode="push", {W1}}}', "0+60x10"),
    (f'gospulse_redis_write_failures_total{{what="tables", {W1}}}', "0+0x10"),
    (f"up{{{W1}}}", "1+0x10"),
    (f"up{{{W2}}}", "0+0x10"),
    (f"scrape_duration_seconds{{{W1}}}", "0.04+0x10"),
    (f'ALERTS{{alertname="GospulseWorkerDown", alertstate="firing", audience="ops", {W2}}}', "1+0x10"),
    (f"gospulse_publics{{{NIZ}, {W1}}}", "6+0x10"),
    (f"gospulse_publics{{{NIZ}, {W2}}}", "4+0x10"),
    (f"gospulse_publics{{{MOW}, {W1}}}", "5+0x10"),
    (f'gospulse_publics_in_breach{{kpi="posting", {NIZ}, {W1}}}', "2+0x10"),
    (f'gospulse_publics_in_breach{{kpi="posting", {NIZ}, {W2}}}', "1+0x10"),
    (f'gospulse_publics_in_breach{{kpi="silence", {NIZ}, {W1}}}', "1+0x10"),
    (f'gospulse_publics_in_breach{{kpi="posting", {MOW}, {W1}}}', "0+0x10"),
    (f'gospulse_publics_in_breach{{kpi="silence", {MOW}, {W1}}}', "0+0x10"),
    (f'gospulse_public_kpi_breach_value{{public_id="vk:-1", kpi="posting", {NIZ}, {W1}}}', "1+0x10"),
    (f'gospulse_public_kpi_breach_value{{public_id="vk:-1", kpi="silence", {NIZ}, {W1}}}', "400000+0x10"),
    (f'gospulse_public_kpi_breach_value{{public_id="vk:-2", kpi="posting", {NIZ}, {W1}}}', "0+0x10"),
    (f'gospulse_public_kpi_breach_value{{public_id="vk:-3", kpi="posting", {NIZ}, {W2}}}', "2+0x10"),
    (f"gospulse_public_kpi_breaches_omitted{{{W1}}}", "0+0x10"),
    (f"gospulse_segment_posts_7d{{{NIZ}, {W1}}}", "18+0x10"),
    (f"gospulse_segment_posts_7d{{{NIZ}, {W2}}}", "12+0x10"),
    (f"gospulse_segment_posts_7d{{{MOW}, {W1}}}", "25+0x10"),
    (f"gospulse_segment_response_p90_working_seconds{{{NIZ}, {W1}}}", "7200+0x10"),
    (f"gospulse_segment_response_p90_working_seconds{{{NIZ}, {W2}}}", "3600+0x10"),
    (f"gospulse_segment_response_p90_working_seconds{{{MOW}, {W1}}}", "18000+0x10"),
    (f"gospulse_segment_publics_responding{{{NIZ}, {W1}}}", "2+0x10"),
    (f"gospulse_segment_publics_responding{{{NIZ}, {W2}}}", "1+0x10"),
    (f"gospulse_segment_publics_responding{{{MOW}, {W1}}}", "1+0x10"),
]
POSTS, COMMENTS = 'topic="gospulse.posts"', 'topic="gospulse.comments"'
SEG_NIZ, SEG_MOW = (
    'region="RU-NIZ", level="municipal", theme="culture"',
    'region="RU-MOW", level="regional", theme="health"',
)
I1, I2 = 'instance="w1:6066"', 'instance="w2:6066"'
#: What each panel's query gives on SERIES at 10m: (dashboard, panel id, refId) -> {labels: value}.
EXPECTED: dict[tuple[str, int, str], dict[str, float]] = {
    ("pipeline.json", 1, "A"): {POSTS: 1, COMMENTS: 2},
    ("pipeline.json", 2, "A"): {POSTS: 150},
    ("pipeline.json", 3, "A"): {I1: 30, I2: 90},
    ("pipeline.json", 14, "A"): {f"{I1}, {POSTS}": 600, f"{I2}, {COMMENTS}": 5},
    ("pipeline.json", 4, "A"): {'reason="not_json"': 0.1},
    ("pipeline.json", 5, "A"): {POSTS: 0.5},
    ("pipeline.json", 6, "A"): {"": 75},
    ("pipeline.json", 6, "B"): {"": 99.5},
    ("pipeline.json", 7, "A"): {I1: 1},
    ("pipeline.json", 7, "B"): {I1: 0, I2: 1},
    ("pipeline.json", 8, "A"): {I1: 1000, I2: 2000},
    ("pipeline.json", 9, "A"): {I1: 10, I2: 20},
    ("pipeline.json", 10, "A"): {I1: 12},
    ("pipeline.json", 11, "A"): {'mode="push"': 1},
    ("pipeline.json", 11, "B"): {'what="tables"': 0},
    ("pipeline.json", 12, "A"): {f'__name__="up", {W1}': 1, f'__name__="up", {W2}': 0},
    ("pipeline.json", 12, "B"): {f'__name__="scrape_duration_seconds", {W1}': 0.04},
    ("pipeline.json", 13, "A"): {
        f'__name__="ALERTS", alertname="GospulseWorkerDown", alertstate="firing", audience="ops", {W2}': 1
    },
    ("kpi.json", 20, "A"): {"": 15},
    ("kpi.json", 21, "A"): {"": 3},
    ("kpi.json", 22, "A"): {"": 0.2},
    ("kpi.json", 23, "A"): {"": 0},
    ("kpi.json", 24, "A"): {'kpi="posting"': 3, 'kpi="silence"': 1},
    ("kpi.json", 25, "A"): {f'{SEG_NIZ}, kpi="posting"': 3, f'{SEG_NIZ}, kpi="silence"': 1},
    ("kpi.json", 26, "A"): {
        f'{SEG_NIZ}, kpi="posting"': 0.3,
        f'{SEG_NIZ}, kpi="silence"': 0.1,
        f'{SEG_MOW}, kpi="posting"': 0,
        f'{SEG_MOW}, kpi="silence"': 0,
    },
    ("kpi.json", 27, "A"): {
        f'public_id="vk:-1", kpi="posting", {NIZ}': 1,
        f'public_id="vk:-1", kpi="silence", {NIZ}': 400000,
        f'public_id="vk:-2", kpi="posting", {NIZ}': 0,
        f'public_id="vk:-3", kpi="posting", {NIZ}': 2,
    },
    ("kpi.json", 28, "A"): {SEG_NIZ: 3, SEG_MOW: 5},
    ("kpi.json", 29, "A"): {SEG_NIZ: 3600, SEG_MOW: 18000},
}
ALL = {
    "$__rate_interval": "1m",
    "$instance": ".*",
    "$region": ".*",
    "$level": ".*",
    "$theme": ".*",
    "$profile": ".*",
}


def evaluable(expr: str) -> str:
    """The query as Grafana sends it with every variable on All and a 1m rate interval."""
    for variable, value in ALL.items():
        expr = expr.replace(variable, value)
    return expr


def test_every_panel_query_has_an_asserted_result() -> None:
    assert {(name, panel, ref) for name, panel, ref, _ in queries()} == set(EXPECTED)


def test_every_panel_query_gives_its_asserted_result_in_promtool(tmp_path: Path) -> None:
    cases = [
        {
            "expr": evaluable(expr),
            "eval_time": "10m",
            "exp_samples": [
                {"labels": "{" + labels + "}", "value": value}
                for labels, value in EXPECTED[(name, panel, ref)].items()
            ],
        }
        for name, panel, ref, expr in queries()
    ]
    test = {
        "rule_files": [],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [{"series": s, "values": v} for s, v in SERIES],
                "promql_expr_test": cases,
            }
        ],
    }
    path = tmp_path / "panels.test.yml"
    path.write_text(yaml.safe_dump(test, sort_keys=False))
    done = subprocess.run([tool("promtool"), "test", "rules", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
