"""Alertmanager's configuration, checked by amtool: valid, every route goes where it is meant to,
curators' alerts grouped per segment and held back while the pipeline is blind."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.deploy.alertmanager_config import for_debian_025, production, write
from tests.tools import tool


@pytest.fixture(scope="module")
def checked_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write(for_debian_025(production()), tmp_path_factory.mktemp("alertmanager"))


def amtool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([tool("amtool"), *args], capture_output=True, text=True, timeout=60)


def test_amtool_accepts_the_config_and_its_templates(checked_config: Path) -> None:
    checked = amtool("check-config", str(checked_config))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "1 templates" in checked.stdout and "1 inhibit rules" in checked.stdout


def test_only_the_telegram_token_differs_for_the_debian_amtool() -> None:
    config = production()
    shimmed = for_debian_025(config)
    for receiver in config["receivers"]:
        for telegram in receiver.get("telegram_configs", []):
            assert telegram.pop("bot_token_file").startswith("/run/secrets/")  # secrets come from files
    for receiver in shimmed["receivers"]:
        for telegram in receiver.get("telegram_configs", []):
            assert telegram.pop("bot_token") == "checked-only"
    assert shimmed == config


CURATOR = ("audience=curator", "alertname=GospulsePublicNotPosting", "kpi=posting")


@pytest.mark.parametrize(
    ("labels", "receivers"),
    [
        (("audience=ops", "alertname=GospulseWorkerDown", "severity=critical"), "ops"),
        ((*CURATOR, "region=RU-NIZ", "level=municipal", "theme=culture"), "curators-ru-niz"),
        ((*CURATOR, "region=RU-NIZ", "level=settlement", "theme=sport"), "curators-ru-niz"),
        ((*CURATOR, "region=RU-NIZ", "level=regional", "theme=culture"), "curators-ru-niz-regional"),
        ((*CURATOR, "region=RU-NIZ", "level=federal", "theme=culture"), "curators-ru-niz-regional"),
        ((*CURATOR, "region=RU-NIZ", "level=municipal", "theme=health"), "curators-health,curators-ru-niz"),
        ((*CURATOR, "region=RU-MOW", "level=regional", "theme=health"), "curators-health"),
        ((*CURATOR, "region=RU-MOW", "level=federal", "theme=culture"), "curators-federal"),
        ((*CURATOR, "region=RU-TAT", "level=municipal", "theme=sport"), "curators-unrouted"),
        (("alertname=Watchdog",), "ops"),
        (("audience=ops", "alertname=GospulseCatchingUp", "severity=info", "inhibits=kpi"), "nobody"),
    ],
    ids=lambda v: v if isinstance(v, str) else "+".join(x.split("=")[1] for x in v[-3:]),
)
def test_each_route_reaches_its_receivers(checked_config: Path, labels: tuple, receivers: str) -> None:
    routed = amtool(
        "config",
        "routes",
        "test",
        f"--config.file={checked_config}",
        f"--verify.receivers={receivers}",
        *labels,
    )
    assert routed.returncode == 0, routed.stdout + routed.stderr


def test_curators_get_one_digest_per_segment_in_working_hours_and_ops_any_hour() -> None:
    routes = {tuple(r["matchers"]): r for r in production()["route"]["routes"]}
    curators, ops = routes[('audience="curator"',)], routes[('audience="ops"',)]
    assert curators["group_by"] == ["region", "level", "theme"]
    assert curators["active_time_intervals"] == ["workday-msk"] and "active_time_intervals" not in ops
    assert curators["repeat_interval"] == "24h"  # a daily reminder, not an hourly one


def test_pipeline_alerts_that_blind_the_kpis_hold_back_every_curator_alert() -> None:
    (inhibit,) = production()["inhibit_rules"]
    assert inhibit == {"source_matchers": ['inhibits="kpi"'], "target_matchers": ['audience="curator"']}


def test_the_templates_render() -> None:
    rendered = amtool(
        "template",
        "render",
        f"--template.glob={Path(__file__).resolve().parents[2]}/deploy/alertmanager/templates/*.tmpl",
        '--template.text={{ template "gospulse.telegram" . }}{{ template "gospulse.email" . }}',
    )
    assert rendered.returncode == 0, rendered.stderr
    assert '<html lang="ru">' in rendered.stdout
