"""The worker's HTTP API: answers as pure functions of the pipeline, and the Faust views that serve
them (any worker answers for any public, forwarding to the one that holds it)."""

from __future__ import annotations

from typing import Any

import aiohttp
import faust
from yarl import URL

from agents.registry_feed import RegistryFeed
from agents.routing import ROUTED_HEADER, owner_of, partition_of
from agents.table import StateTable
from schemas.contract import PUBLIC_ID_PATTERN
from schemas.validate import valid_public_id
from streams.core.timebase import HOUR_MS, LONGEST_WINDOW_HOURS, YEAR_MS, TimeError, now_ms, parse_instant
from streams.pipeline import Pipeline

Answer = tuple[int, dict[str, Any]]


def public_table(pipeline: Pipeline, public_id: str, at_param: str | None, now_ms: int) -> Answer:
    """``GET /publics/{public_id}?at=T``: the table of contract §2, or an error that says why."""
    if not valid_public_id(public_id):
        return 400, {"error": f"{public_id!r} is not a public_id (pattern {PUBLIC_ID_PATTERN})"}
    at = now_ms
    if at_param is not None:
        try:
            at = parse_instant(at_param)
        except TimeError as exc:
            return 400, {"error": f"at: {exc}"}
    if at < now_ms - LONGEST_WINDOW_HOURS * HOUR_MS:
        return 400, {"error": "at: older than the 30-day retention; no window can be computed that far back"}
    if at > now_ms + YEAR_MS:
        return 400, {"error": "at: more than a year ahead; give a time between 30 days ago and a year ahead"}
    table = pipeline.current_table(public_id, at)
    if table is None:
        return 404, {"error": f"unknown public {public_id}: no event of it has been applied"}
    return 200, table


def register_views(
    app: faust.App, table: StateTable, pipeline: Pipeline, feed: RegistryFeed, partitions: int
) -> None:
    """``GET /publics/{public_id}?at=T`` and ``GET /health`` on the worker's web port."""
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
                owner = owner_of(distribution, changelog, partition_of(public_id, partitions))
            if owner is not None and owner.rstrip("/") != here:
                return await _forward(app, web, request, owner)
        status, body = public_table(pipeline, public_id, request.query.get("at"), now_ms())
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
