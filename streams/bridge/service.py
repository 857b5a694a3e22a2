"""``gospulse bridge``'s HTTP service: the platforms' push endpoints, ``/metrics`` and ``/health``.

``POST /vk`` serves every configured VK community (told apart by ``group_id``). A request is
answered ``ok`` only once the broker acknowledged what it became; while the broker does not answer,
503 with ``Retry-After``, so VK delivers it again and nothing is lost. A request without the
community's secret is refused (403) and publishes nothing. Bodies over the size limit are refused
before they are read whole.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Callable, Sequence
from typing import Any, Final

import orjson
from aiohttp import web

from schemas.validate import explain_event
from streams.bridge import vk
from streams.bridge.config import BridgeConfig
from streams.bridge.metrics import BridgeMetrics
from streams.bridge.publisher import AckedPublisher, BrokerUnavailable, DeadLetter
from streams.core.timebase import now_ms

log = logging.getLogger(__name__)

#: Seconds a platform is asked to wait before delivering again while the broker is away.
RETRY_AFTER_S: Final = 5


class Bridge:
    """The endpoints over one config, one publisher and one set of metrics."""

    def __init__(
        self,
        config: BridgeConfig,
        publisher: AckedPublisher,
        metrics: BridgeMetrics,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.config = config
        self.publisher = publisher
        self.metrics = metrics
        self.clock = clock
        metrics.configured.labels("vk").set(len(config.vk))
        metrics.configured.labels("telegram").set(sum(len(b.channels) for b in config.telegram.values()))
        metrics.configured.labels("max").set(sum(len(b.chats) for b in config.max.values()))

    def refuse(self, platform: str, reason: str, status: int, text: str) -> web.Response:
        self.metrics.rejected.labels(platform, reason).inc()
        return web.Response(status=status, text=text)

    async def body(self, request: web.Request, platform: str) -> dict[str, Any] | web.Response:
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return self.refuse(platform, "too_large", 413, "body too large")
        try:
            note = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return self.refuse(platform, "not_json", 400, "not JSON")
        if not isinstance(note, dict):
            return self.refuse(platform, "not_json", 400, "not a JSON object")
        return note

    async def publish(
        self, platform: str, events: Sequence[dict[str, Any]], dead: Sequence[DeadLetter]
    ) -> web.Response | None:
        """Publish, and None once acknowledged; the 503 to answer when the broker did not."""
        checked, dead = [], list(dead)
        for ev in events:
            reason = explain_event(ev, self.clock())
            if reason is None:
                checked.append(ev)
            else:  # a mapping that breaks the contract: kept, never published as an event
                dead.append(
                    DeadLetter(
                        {"platform": platform, "event_id": ev.get("event_id"), "kind": ev.get("kind")}, reason
                    )
                )
                self.metrics.rejected.labels(platform, "not_contract").inc()
        try:
            await self.publisher.publish(checked, dead)
        except BrokerUnavailable:
            self.metrics.unavailable.labels(platform).inc()
            return web.Response(
                status=503,
                text="the event store is unavailable; deliver again later",
                headers={"Retry-After": str(RETRY_AFTER_S)},
            )
        for ev in checked:
            self.metrics.events.labels(ev["kind"]).inc()
        return None

    async def vk(self, request: web.Request) -> web.Response:
        note = await self.body(request, "vk")
        if isinstance(note, web.Response):
            return note
        kind = note.get("type")
        self.metrics.requests.labels("vk", self.metrics.vk_type(kind)).inc()
        group_id = note.get("group_id")
        community = self.config.vk.get(group_id) if type(group_id) is int else None
        if community is None:
            return self.refuse("vk", "unknown_community", 403, "unknown community")
        if kind == "confirmation":
            return web.Response(text=community.confirmation)
        secret = note.get("secret")
        if not isinstance(secret, str) or not hmac.compare_digest(secret.encode(), community.secret.encode()):
            return self.refuse("vk", "bad_secret", 403, "bad secret")
        self.metrics.last_request.labels("vk").set_to_current_time()
        event_id = note.get("event_id")
        if not isinstance(event_id, str) or not 1 <= len(event_id) <= 128:
            mapped = vk.Mapped(bad="event_id: missing or not 1 to 128 characters")
        else:
            mapped = vk.to_events(note, community, self.clock())
        dead: list[DeadLetter] = []
        if mapped.bad is not None:
            self.metrics.rejected.labels("vk", "bad_payload").inc()
            what = {
                "platform": "vk",
                "type": str(kind)[:64],
                "group_id": group_id,
                "event_id": str(event_id)[:128],
            }
            dead.append(DeadLetter(what, f"vk {kind}: {mapped.bad}"))
        elif not mapped.events:
            self.metrics.ignored.labels("vk").inc()
        refused = await self.publish("vk", mapped.events, dead)
        return refused or web.Response(text="ok")

    async def health(self, request: web.Request) -> web.Response:
        body = {
            "status": "ok",
            "vk_communities": len(self.config.vk),
            "telegram_bots": len(self.config.telegram),
            "max_bots": len(self.config.max),
        }
        return web.json_response(body)

    async def render_metrics(self, request: web.Request) -> web.Response:
        body = await asyncio.get_running_loop().run_in_executor(None, self.metrics.render)
        return web.Response(body=body, headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})


def build_app(bridge: Bridge, max_body_bytes: int) -> web.Application:
    app = web.Application(client_max_size=max_body_bytes)
    app.router.add_post("/vk", bridge.vk)
    app.router.add_get("/health", bridge.health)
    app.router.add_get("/metrics", bridge.render_metrics)
    return app
