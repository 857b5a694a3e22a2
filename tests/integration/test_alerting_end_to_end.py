"""End to end, for real: events through the broker into a worker, its /metrics scraped by Prometheus
with the project's rules, alerts routed by Alertmanager with the project's routes and templates, and
the notifications caught by a webhook and a Telegram Bot API on loopback.

Only the waits are shortened (a curator alert's ``for:`` 5 s and ``keep_firing_for:`` 10 s, scrapes and
evaluations every second, Alertmanager's group waits); the curators' working-hours window is lifted.
"""

from __future__ import annotations

import re
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
import yaml

from streams.local.alerting import (
    RULES,
    EmbeddedAlertmanager,
    EmbeddedPrometheus,
    alertmanager_binary,
    alertmanager_config,
    prometheus_config,
    quick_rules,
    write_yaml,
)
from streams.local.tansu import EmbeddedBroker
from tests.integration.receiver import Receiver
from tests.integration.test_kpi_live import PROFILES
from tests.integration.test_worker import PARTITIONS, publish
from tests.integration.worker import WorkerProcess, eventually
from tests.logs import published
from tests.tools import tool

CULTURE = {"region": "RU-NIZ", "level": "municipal", "theme": "culture"}
SPORT = {"region": "RU-NIZ", "level": "settlement", "theme": "sport"}
PUBLICS = {"vk:-301": CULTURE, "vk:-302": CULTURE, "vk:-303": CULTURE, "vk:-304": SPORT}
NAMES = {
    "vk:-301": "Дом культуры «Юность», г. Кстово",
    "vk:-302": "Краеведческий музей г. Городец",
    "vk:-303": "Центральная библиотека, г. Арзамас",
    "vk:-304": "Стадион с. Дивеево",
}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    yield running
    running.close()


def integrations(receiver: Receiver):
    def of(name: str) -> dict:
        return {
            "webhook_configs": [{"url": f"{receiver.url}/hook/{name}", "send_resolved": True}],
            "telegram_configs": [
                {
                    "api_url": f"{receiver.url}/tg/{name}",
                    "bot_token": "123:test",
                    "chat_id": 1,
                    "parse_mode": "HTML",
                    "message": '{{ template "gospulse.telegram" . }}',
                    "send_resolved": True,
                }
            ],
        }

    return of


def breach_exported(api: str, public_id: str) -> bool:
    with urllib.request.urlopen(f"{api}/metrics", timeout=10) as response:
        text = response.read().decode()
    return any(
        line.startswith("gospulse_public_kpi_breach_value{") and f'public_id="{public_id}"' in line
        for line in text.splitlines()
    )


def test_a_breach_reaches_the_curators_as_one_digest_per_segment_and_resolves(
    broker: EmbeddedBroker, workers: list[WorkerProcess], receiver: Receiver, tmp_path: Path
) -> None:
    tool("prometheus")
    if alertmanager_binary() is None:
        tool("prometheus-alertmanager")
    prefix, app_id = "t-alert.", "t-alert"
    profiles = tmp_path / "profiles.toml"
    profiles.write_bytes(PROFILES)  # posting only: at least 2 posts in 7 days
    worker = WorkerProcess(
        broker,
        app_id,
        prefix,
        PARTITIONS,
        tmp_path,
        env={"GOSPULSE_PROFILES": str(profiles), "GOSPULSE_KPI_SWEEP_S": "2"},
    ).start()
    workers.append(worker)
    worker.wait_ready()
    api = f"http://127.0.0.1:{worker.web_port}"

    alertmanager = EmbeddedAlertmanager(
        write_yaml(alertmanager_config(integrations(receiver), "1s", "2s"), tmp_path / "am" / "am.yml"),
        tmp_path / "am" / "data",
        log_path=tmp_path / "alertmanager.log",
    ).start(timeout_s=30)
    rules = write_yaml(
        quick_rules(yaml.safe_load(RULES.read_text()), "curator", "5s", "10s"), tmp_path / "rules.yml"
    )
    config = prometheus_config([f"127.0.0.1:{worker.web_port}"], f"127.0.0.1:{alertmanager.port}", rules, 1)
    prometheus = EmbeddedPrometheus(
        write_yaml(config, tmp_path / "prometheus.yml"), tmp_path / "tsdb", log_path=tmp_path / "prom.log"
    ).start(timeout_s=30)
    try:
        now = int(time.time() * 1000)
        records = [{"v": 1, "public_id": p, "name": NAMES[p], **s} for p, s in PUBLICS.items()]
        fine = [published(now - 60_000 * i, f"ok{i}", public_id="vk:-303") for i in (1, 2)]
        publish(broker, prefix, [orjson.dumps(e) for e in fine], tmp_path / "first.jsonl", records)

        eventually(lambda: _assert(breach_exported(api, "vk:-301")), timeout_s=60, every_s=0.2)
        breached_at = time.monotonic()
        # a real worker's scrape follows Prometheus's conventions
        with urllib.request.urlopen(f"{api}/metrics", timeout=10) as response:
            scrape = response.read()
        checked = subprocess.run([tool("promtool"), "check", "metrics"], input=scrape, capture_output=True)
        assert checked.returncode == 0, checked.stdout + checked.stderr

        def digest_arrived() -> dict:
            firing = [b for _, b in receiver.hooks("curators-ru-niz") if b["status"] == "firing"]
            culture = [b for b in firing if b["groupLabels"].get("theme") == "culture"]
            assert culture and len(culture[-1]["alerts"]) == 2, receiver.posts
            return culture[-1]

        digest = eventually(digest_arrived, timeout_s=90, every_s=0.2)
        delay_s = receiver.hooks("curators-ru-niz")[0][0] - breached_at
        print(f"\nbreach exported -> webhook: {delay_s:.1f} s")

        # one digest for the segment: both publics in one notification, grouped by the segment
        assert digest["groupLabels"] == CULTURE
        assert digest["commonLabels"]["alertname"] == "GospulsePublicNotPosting"
        alerts = sorted(digest["alerts"], key=lambda a: a["labels"]["public_id"])
        assert [a["labels"]["public_id"] for a in alerts] == ["vk:-301", "vk:-302"]
        assert all(a["labels"]["audience"] == "curator" and a["labels"]["kpi"] == "posting" for a in alerts)
        # in a curator's words: the public's name and segment, Moscow time, no code
        annotations = alerts[0]["annotations"]
        assert annotations["summary"] == "Дом культуры «Юность», г. Кстово: мало публикаций за неделю"
        description = annotations["description"]
        assert description.startswith(
            "Дом культуры «Юность», г. Кстово "
            "(Нижегородская область, муниципальный, культура; профиль «default»): "
        ), description
        assert "публикаций за 7 дней — 0 при норме не менее 2" in description
        assert re.search(r"Замечено \d\d\.\d\d\.20\d\d \d\d:\d\d \(МСК\)\.", description), description
        assert annotations["segment"] == "Нижегородская область · муниципальный · культура"
        assert alerts[0]["annotations"]["runbook_url"] == "docs/runbook.md#gospulsepublicnotposting"
        # the alert links to the public's card on the curators' page, and the link opens it
        card_url = alerts[0]["annotations"]["page_url"]
        assert card_url == f"{api}/card/vk:-301"
        with urllib.request.urlopen(card_url, timeout=10) as response:
            assert response.status == 200 and "text/html" in response.headers["Content-Type"]
            assert 'data-kpi="posting"' in response.read().decode()
        # the other segment is another digest; the public in line is in none
        sport = [b for _, b in receiver.hooks("curators-ru-niz") if b["groupLabels"].get("theme") == "sport"]
        assert sport and {a["labels"]["public_id"] for a in sport[-1]["alerts"]} == {"vk:-304"}
        assert all(
            a["labels"]["public_id"] != "vk:-303"
            for _, b in receiver.hooks("curators-ru-niz")
            for a in b["alerts"]
        )
        # the Telegram message is the Russian template, rendered by Alertmanager
        texts = [t["text"] for t in receiver.telegrams("curators-ru-niz") if isinstance(t, dict)]
        assert any("Нижегородская область · муниципальный · культура: нарушений — 2" in t for t in texts), (
            texts
        )
        assert any(f'<a href="{card_url}">карточка</a>' in t for t in texts), texts

        # pushed back into line, the segment's digest resolves
        posts = [
            published(now - 1000 * i, f"fix{i}-{p}", public_id=p)
            for p in ("vk:-301", "vk:-302")
            for i in (1, 2)
        ]
        publish(broker, prefix, [orjson.dumps(e) for e in posts], tmp_path / "fix.jsonl")

        def resolved() -> None:
            last = [b for _, b in receiver.hooks("curators-ru-niz") if b["groupLabels"] == CULTURE][-1]
            assert last["status"] == "resolved" and len(last["alerts"]) == 2, last

        eventually(resolved, timeout_s=90, every_s=0.5)
        assert not any(b["groupLabels"] == CULTURE for _, b in receiver.hooks("ops"))
    finally:
        prometheus.stop()
        alertmanager.stop()


def _assert(condition: bool) -> None:
    assert condition
