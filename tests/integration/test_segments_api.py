"""The segments API on a real worker fed through the broker, with Redis: aggregates and medians per
segment, a leaderboard paged by cursor, 400s that say why, and every answer — tables, breaches,
segments, rankings, errors — valid against the OpenAPI document the worker serves.

Responses are checked against the document as served (``GET /openapi.json``), not a copy."""

from __future__ import annotations

import time
import urllib.parse
from pathlib import Path
from typing import Any

import orjson
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from streams.local.redis_server import EmbeddedRedis
from streams.local.tansu import EmbeddedBroker
from tests.integration.test_kpi_live import PROFILES
from tests.integration.test_worker import PARTITIONS, get_json, publish
from tests.integration.worker import WorkerProcess, eventually
from tests.logs import published

CULTURE = {"region": "RU-NIZ", "level": "municipal", "theme": "culture"}
SPORT = {"region": "RU-NIZ", "level": "settlement", "theme": "sport"}
#: public -> (segment, posts in the last days)
PUBLICS = {"vk:-401": (CULTURE, 1), "vk:-402": (CULTURE, 4), "vk:-403": (CULTURE, 2), "vk:-404": (SPORT, 0)}


def validator(document: dict, schema: str) -> Draft202012Validator:
    registry = Registry().with_resource(
        "urn:api",
        Resource.from_contents(document | {"$schema": "https://json-schema.org/draft/2020-12/schema"}),
    )
    return Draft202012Validator({"$ref": f"urn:api#/components/schemas/{schema}"}, registry=registry)


def response_schema(document: dict, path: str, status: str) -> dict:
    return document["paths"][path]["get"]["responses"][status]["content"]["application/json"]["schema"]


def check(document: dict, path: str, status: int, body: Any) -> None:
    schema = response_schema(document, path, str(status))
    registry = Registry().with_resource(
        "urn:api",
        Resource.from_contents(document | {"$schema": "https://json-schema.org/draft/2020-12/schema"}),
    )
    rebased = orjson.loads(orjson.dumps(schema).replace(b'"#/components', b'"urn:api#/components'))
    errors = list(Draft202012Validator(rebased, registry=registry).iter_errors(body))
    assert not errors, f"{path} {status}: {[e.message for e in errors]}"


def test_segments_and_leaderboards_answer_as_the_published_schema_says(
    broker: EmbeddedBroker, redis_server: EmbeddedRedis, workers: list[WorkerProcess], tmp_path: Path
) -> None:
    prefix, app_id = "t-seg.", "t-seg"
    profiles = tmp_path / "profiles.toml"
    profiles.write_bytes(PROFILES)  # posting only: at least 2 posts in 7 days
    env = {"GOSPULSE_PROFILES": str(profiles), "GOSPULSE_KPI_SWEEP_S": "2", "GOSPULSE_REDIS_PUSH_S": "1"}
    worker = WorkerProcess(broker, app_id, prefix, PARTITIONS, tmp_path, redis_server.url, env=env).start()
    workers.append(worker)
    worker.wait_ready()
    api = f"http://127.0.0.1:{worker.web_port}"
    now = int(time.time() * 1000)
    records = [{"v": 1, "public_id": p, "name": p, **segment} for p, (segment, _) in PUBLICS.items()]
    events = [
        published(now - 3_600_000 * (i + 1), f"p{i}", public_id=p)
        for p, (_, n) in PUBLICS.items()
        for i in range(n)
    ]
    publish(broker, prefix, [orjson.dumps(e) for e in events], tmp_path / "events.jsonl", records)

    status, document = get_json(f"{api}/openapi.json")
    assert status == 200 and document["openapi"] == "3.1.0"
    Draft202012Validator.check_schema(document["components"]["schemas"]["Table"])

    def aggregated() -> dict:
        status, body = get_json(f"{api}/segments?region=RU-NIZ")
        assert status == 200 and len(body["segments"]) == 2, body
        culture = next(s for s in body["segments"] if s["theme"] == "culture")
        assert culture["publics"] == 3 and culture["in_breach"] == {"posting": 1}, culture
        assert culture["medians"]["posts_7d"] == 2, culture
        return body

    body = eventually(aggregated, timeout_s=60)
    check(document, "/segments", 200, body)
    sport = next(s for s in body["segments"] if s["theme"] == "sport")
    # vk:-404 is registered but sent no event: judged (in breach), not ranked (it has no table yet)
    assert sport == {
        **SPORT,
        "publics": 1,
        "in_breach": {"posting": 1},
        "medians": dict.fromkeys(sport["medians"]),
    }

    # this worker's rows of the region's report: every public, registered only too
    status, exported = get_json(f"{api}/export/rows?region=RU-NIZ")
    assert status == 200 and sorted(r["public_id"] for r in exported["rows"]) == sorted(PUBLICS), exported
    check(document, "/export/rows", 200, exported)
    assert get_json(f"{api}/export/rows?kpi=posting")[0] == 400

    # the leaderboard of the culture segment, two rows a page
    query = {"kpi": "posts_7d", "region": "RU-NIZ", "level": "municipal", "theme": "culture", "limit": "2"}
    status, first = get_json(f"{api}/segments/ranking?{urllib.parse.urlencode(query)}")
    assert status == 200, first
    check(document, "/segments/ranking", 200, first)
    assert [(r["rank"], r["public_id"], r["value"]) for r in first["items"]] == [
        (1, "vk:-402", 4),
        (2, "vk:-403", 2),
    ]
    assert first["total"] == 3 and first["next_cursor"]
    status, second = get_json(
        f"{api}/segments/ranking?{urllib.parse.urlencode(query | {'cursor': first['next_cursor']})}"
    )
    assert [(r["rank"], r["public_id"]) for r in second["items"]] == [(3, "vk:-401")] and second[
        "next_cursor"
    ] is None
    status, every = get_json(f"{api}/segments/ranking?kpi=posts_7d&order=asc&limit=100")
    assert [r["public_id"] for r in every["items"]] == ["vk:-401", "vk:-403", "vk:-402"]

    # wrong parameters are named, in the published error shape
    status, error = get_json(f"{api}/segments/ranking?kpi=likes")
    assert status == 400 and error["error"].startswith("kpi: 'likes' is not one of")
    check(document, "/segments/ranking", 400, error)
    status, error = get_json(f"{api}/segments?level=village")
    assert status == 400 and "level: 'village'" in error["error"]

    # the other answers of the worker match the document too
    status, table = get_json(f"{api}/publics/vk:-402")
    assert status == 200
    check(document, "/publics/{public_id}", 200, table)
    status, days = get_json(f"{api}/publics/vk:-402/days")
    assert status == 200 and len(days["days"]) == 30 and days["tz"] == "Europe/Moscow"
    assert sum(d["posts"] for d in days["days"]) == 4  # its four posts of the last hours
    check(document, "/publics/{public_id}/days", 200, days)
    status, missing = get_json(f"{api}/publics/vk:-999/days")
    assert status == 404
    check(document, "/publics/{public_id}/days", 404, missing)
    status, breaches = get_json(f"{api}/breaches")
    assert status == 200 and {b["public_id"] for b in breaches["breaches"]} == {"vk:-401", "vk:-404"}
    check(document, "/breaches", 200, breaches)
    status, opened = get_json(f"{api}/breaches/open?region=RU-NIZ")
    assert status == 200 and {b["public_id"] for b in opened["breaches"]} == {"vk:-401", "vk:-404"}
    assert opened["publics"] == 2
    status, worst = get_json(f"{api}/breaches/open?region=RU-NIZ&limit=1")
    assert status == 200 and worst["publics"] == 2 and len({b["public_id"] for b in worst["breaches"]}) == 1
    check(document, "/breaches/open", 200, worst)
    assert all(b["since"] <= b["at"] for b in opened["breaches"])
    check(document, "/breaches/open", 200, opened)
    status, error = get_json(f"{api}/breaches/open?at=0")
    assert status == 400 and error["error"].startswith("at: open breaches are those of the last judgement")
    check(document, "/breaches/open", 400, error)
