"""The worker's /metrics in Faust's test context: what the agent applied, refused and judged,
counted with bounded labels, and the per-public breach series capped; ``promtool`` finds the
exposition clean."""

from __future__ import annotations

import asyncio
import math
import subprocess
from pathlib import Path

import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from agents.edge.delivery import DeliveryGuard
from agents.worker import Worker, build_worker
from streams.settings import WorkerSettings
from tests.logs import published
from tests.tools import tool

NIZ = {"region": "RU-NIZ", "level": "municipal", "theme": "culture"}
MOW = {"region": "RU-MOW", "level": "regional", "theme": "health"}
#: The topic Faust's test context delivers from.
TOPIC = "<internal>"


@pytest.fixture
def worker(tmp_path: Path) -> Worker:
    settings = WorkerSettings(
        data_dir=tmp_path, app_id="t-metrics", batch_within_s=0.01, metrics_breach_series=2
    )
    worker = build_worker(settings, DeliveryGuard(on_failure=print), [].append)
    worker.app.finalize()
    worker.app.flow_control.resume()
    for public_id, segment in (("vk:-1", NIZ), ("vk:-2", NIZ), ("vk:-3", MOW)):
        record = {"v": 1, "public_id": public_id, "name": public_id, **segment}
        worker.feed.records[public_id.encode()] = orjson.dumps(record)
    return worker


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def run(worker: Worker, publics: list[str]) -> str:
    """Three posts of vk:-1 (one of them sent twice), a broken message; every public judged."""
    now = worker.pipeline.clock()
    posts = [published(now - 3_600_000 * i, post=f"p{i}", public_id="vk:-1") for i in range(3)]

    async def scenario() -> str:
        async with worker.ingest.test_context() as tested:
            for ev in [*posts, posts[0]]:
                await tested.put(orjson.dumps(ev), key=b"vk:-1")
            await tested.put(b"{broken", key=b"vk:-1")
            for _ in range(200):
                if worker.pipeline.applied == 3 and worker.pipeline.rejected == 1:
                    break
                await asyncio.sleep(0.02)
            await worker.kpi.evaluate(publics)
            return (await worker.metrics.render_off_loop()).decode()

    text = asyncio.run(scenario())
    assert worker.pipeline.applied == 3
    return text


def test_what_the_agent_applied_refused_and_judged_is_counted(worker: Worker) -> None:
    text = run(worker, ["vk:-1", "vk:-2", "vk:-3"])
    got = samples(text)
    topic = TOPIC
    assert got[("gospulse_events_applied_total", (("kind", "post.published"), ("topic", topic)))] == 3
    assert got[("gospulse_events_duplicate_total", (("topic", topic),))] == 1
    assert got[("gospulse_dead_letters_total", (("reason", "not_json"), ("topic", topic)))] == 1
    assert got[("gospulse_messages_total", (("topic", topic),))] == 5
    assert got[("gospulse_changelog_records_written_total", ())] >= 1
    assert 0 <= got[("gospulse_event_freshness_seconds", ())] < 60
    niz = (("level", "municipal"), ("profile", "default"), ("region", "RU-NIZ"), ("theme", "culture"))
    mow = (("level", "regional"), ("profile", "default"), ("region", "RU-MOW"), ("theme", "health"))
    assert got[("gospulse_publics", niz)] == 2 and got[("gospulse_publics", mow)] == 1
    # the segment trends: vk:-1's three posts in RU-NIZ, none in RU-MOW; nobody answered a comment
    assert got[("gospulse_segment_posts_7d", niz)] == 3 and got[("gospulse_segment_posts_7d", mow)] == 0
    assert got[("gospulse_segment_publics_responding", niz)] == 0
    # vk:-1 posts; vk:-2 and vk:-3 never did: both break posting and silence (§4)
    for kpi, niz_n, mow_n in (("posting", 1, 1), ("silence", 1, 1), ("overdue", 0, 0)):
        assert got[("gospulse_publics_in_breach", (("kpi", kpi), *niz))] == niz_n
        assert got[("gospulse_publics_in_breach", (("kpi", kpi), *mow))] == mow_n


def test_per_public_breach_series_are_capped_and_the_rest_counted(worker: Worker) -> None:
    got = samples(run(worker, ["vk:-1", "vk:-2", "vk:-3"]))
    series = {
        dict(labels)["public_id"] + "/" + dict(labels)["kpi"]: value
        for (name, labels), value in got.items()
        if name == "gospulse_public_kpi_breach_value"
    }
    # the cap is 2: vk:-2's two breaches (judged first) are exported, vk:-3's two are counted
    assert sorted(series) == ["vk:-2/posting", "vk:-2/silence"]
    assert series["vk:-2/posting"] == 0 and math.isnan(series["vk:-2/silence"])  # never posted
    labels = (("kpi", "posting"), ("level", "municipal"), ("profile", "default"), ("public_id", "vk:-2"))
    labels += (("region", "RU-NIZ"), ("theme", "culture"))
    assert got[("gospulse_public_kpi_breach_threshold", labels)] == 3
    assert got[("gospulse_public_kpi_breach_since_timestamp_seconds", labels)] > 1.7e9
    assert got[("gospulse_public_kpi_breaches_omitted", ())] == 2
    # the exported public in curators' words, once: alerts join it by public_id
    infos = [dict(labels) for (name, labels), _ in got.items() if name == "gospulse_public_info"]
    assert infos == [
        {
            "public_id": "vk:-2",
            "name": "vk:-2",
            "region_name": "Нижегородская область",
            "level_name": "муниципальный",
            "theme_name": "культура",
            "profile_title": "default",
        }
    ]
    segments = {
        dict(labels)["region_name"] for (name, labels), _ in got.items() if name == "gospulse_segment_info"
    }
    assert segments == {"Нижегородская область", "Москва"}
    kpis = {
        dict(labels)["kpi"]: dict(labels)["kpi_name"]
        for (name, labels), _ in got.items()
        if name == "gospulse_kpi_info"
    }
    assert kpis["posting"] == "Публикации за 7 дней" and len(kpis) == 6


def test_promtool_finds_the_exposition_clean(worker: Worker) -> None:
    promtool = tool("promtool")
    text = run(worker, ["vk:-1", "vk:-2", "vk:-3"])
    checked = subprocess.run(
        [promtool, "check", "metrics"], input=text.encode(), capture_output=True, timeout=60
    )
    assert checked.returncode == 0, checked.stderr.decode() + checked.stdout.decode()


def test_lag_in_time_bounds_how_long_the_oldest_unapplied_message_waited() -> None:
    from agents.metrics import lag_seconds

    ends = {("posts", 0): 10, ("posts", 1): 5, ("posts", 2): 7}
    applied = {("posts", 0): (4, 1000.0), ("posts", 1): (4, 1000.0)}
    got = lag_seconds(ends, applied, now=1600.0)
    # five messages wait behind offset 4 (applied at broker time 1000): none came before it
    assert got[("posts", 0)] == 600.0
    # nothing waits, however old the last message is: a quiet partition is not behind
    assert got[("posts", 1)] == 0.0
    # nothing applied since the partition was assigned: unknown, never reported as 0
    assert ("posts", 2) not in got


def test_a_name_label_is_bounded_however_long_the_registry_name() -> None:
    from types import SimpleNamespace

    from agents.metrics import NAME_LABEL_MAX, describer
    from streams.core.profiles import BUILT_IN_PROFILES

    info = SimpleNamespace(name="Ш" * 10_000)
    pipeline = SimpleNamespace(info=lambda _: info, profiles=BUILT_IN_PROFILES)
    words = describer(pipeline)("vk:-1", "RU-NIZ", "municipal", "culture", "default")
    assert len(words["name"]) == NAME_LABEL_MAX and words["name"].endswith("…")
    assert words["region_name"] == "Нижегородская область" and words["profile_title"] == "default"
