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
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

import orjson
from aiohttp import web

from schemas.validate import explain_event
from streams.bridge import max as max_api
from streams.bridge import telegram, vk
from streams.bridge.config import BridgeConfig
from streams.bridge.metrics import BridgeMetrics
from streams.bridge.publisher import AckedPublisher, BrokerUnavailable
from streams.bridge.slow import one_request
from streams.core.timebase import now_ms
from streams.dead_letter import DeadLetter

log = logging.getLogger(__name__)

#: Seconds a platform is asked to wait before delivering again while the broker is away.
RETRY_AFTER_S: Final = 5


#: The update fields Telegram names its types by (one per update), and Max's update types.
TELEGRAM_TYPES: Final = [
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_message",
    "message_reaction",
    "message_reaction_count",
    "chat_member",
    "my_chat_member",
    "chat_join_request",
    "chat_boost",
    "callback_query",
]
MAX_TYPES: Final = frozenset(
    [
        "message_created",
        "message_callback",
        "message_edited",
        "message_removed",
        "bot_added",
        "bot_removed",
        "user_added",
        "user_removed",
        "bot_started",
        "bot_stopped",
        "chat_title_changed",
        "message_chat_created",
        "dialog_muted",
        "dialog_unmuted",
        "dialog_cleared",
        "dialog_removed",
    ]
)
#: How long a channel post's last reaction total is kept: the contract's longest window.
REACTION_TTL_S: Final = 30 * 86_400


class Counts:
    """The last reaction total of each Telegram channel post: in Redis when the bridge has one (it
    survives a restart and is shared by replicas), else in this process."""

    def __init__(self, redis: Any = None, prefix: str = "gospulse:bridge:tg") -> None:
        self.redis, self.prefix = redis, prefix
        self.local: dict[str, int] = {}

    async def get(self, key: str) -> int:
        if self.redis is None:
            return self.local.get(key, 0)
        value = await self.redis.get(f"{self.prefix}:{key}")
        return int(value) if value is not None else 0

    async def set(self, key: str, value: int) -> None:
        if self.redis is None:
            self.local[key] = value
        else:
            await self.redis.set(f"{self.prefix}:{key}", value, ex=REACTION_TTL_S)


class Bridge:
    """The endpoints over one config, one publisher and one set of metrics."""

    def __init__(
        self,
        config: BridgeConfig,
        publisher: AckedPublisher,
        metrics: BridgeMetrics,
        clock: Callable[[], int] = now_ms,
        counts: Counts | None = None,
        max_events: int = 10_000,
        body_timeout_s: float = 30.0,
    ) -> None:
        self.config = config
        #: Most events one request may become (``--bridge-max-events-per-request``).
        self.max_events = max_events
        #: Longest a request's body may take to arrive (``--bridge-body-timeout-s``).
        self.body_timeout_s = body_timeout_s
        if config.max and config.id_key is None:
            raise ValueError("Max bots need the deployment's id key (the bridge file's [ids])")
        self.id_key = config.id_key or b""
        self.publisher = publisher
        self.metrics = metrics
        self.clock = clock
        self.counts = counts or Counts()
        #: When each VK community was last said to send no event_id (``vk``).
        self._said_no_event_id: dict[int, float] = {}
        #: A lock per post while its reaction total is being moved (gone once nobody holds it).
        self._post_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        metrics.configured.labels("vk").set(len(config.vk))
        metrics.configured.labels("telegram").set(sum(len(b.channels) for b in config.telegram.values()))
        metrics.configured.labels("max").set(sum(len(b.chats) for b in config.max.values()))
        metrics.configured.labels("ok").set(sum(len(a.groups) for a in config.ok.values()))
        polled = (("vk", config.vk), ("telegram", config.telegram), ("max", config.max), ("ok", config.ok))
        for platform, configured in polled:
            if configured:  # silence is measured from the start until the first notification
                metrics.last_request.labels(platform).set_to_current_time()

    def refuse(self, platform: str, reason: str, status: int, text: str) -> web.Response:
        self.metrics.rejected.labels(platform, reason).inc()
        return web.Response(status=status, text=text)

    async def body(self, request: web.Request, platform: str) -> dict[str, Any] | web.Response:
        try:
            raw = await asyncio.wait_for(request.read(), self.body_timeout_s)
        except web.HTTPRequestEntityTooLarge:
            return self.refuse(platform, "too_large", 413, "body too large")
        except TimeoutError:  # a client trickling its body holds a connection: cut off, counted
            return self.refuse(platform, "slow_body", 408, "body not received in time")
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
                    DeadLetter.of_notification(
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
        group_id = note.get("group_id")
        community = self.config.vk.get(group_id) if type(group_id) is int else None
        if community is None:
            return self.refuse("vk", "unknown_community", 403, "unknown community")
        if kind == "confirmation":
            return web.Response(text=community.confirmation)
        secret = note.get("secret")
        if not isinstance(secret, str) or not hmac.compare_digest(secret.encode(), community.secret.encode()):
            return self.refuse("vk", "bad_secret", 403, "bad secret")
        self.metrics.requests.labels("vk", self.metrics.vk_type(kind)).inc()  # authentic ones only
        self.metrics.last_request.labels("vk").set_to_current_time()
        event_id = note.get("event_id")
        if not isinstance(event_id, str) or not 1 <= len(event_id) <= 128:
            # Older Callback API versions send no event_id: without it VK's retries could not be
            # told from new notifications. Not ``ok``, so VK delivers it again and nothing is lost
            # while the operator selects the version (docs/bridges.md).
            if self._said_no_event_id.get(group_id, -1e9) < time.monotonic() - 600:  # once in 10 min
                self._said_no_event_id[group_id] = time.monotonic()
                log.warning(
                    "VK community %d sends notifications without event_id: select Callback API version %s "
                    "in its settings (Manage → API usage → Callback API); VK will deliver them again",
                    group_id,
                    vk.CALLBACK_API_VERSION,
                )
            return self.refuse(
                "vk",
                "no_event_id",
                400,
                f"event_id missing: select Callback API version {vk.CALLBACK_API_VERSION} for this server",
            )
        mapped = vk.to_events(note, community, self.clock())
        return await self.answer("vk", kind, mapped, group_id=group_id, event_id=event_id)

    def authentic(self, request: web.Request, header: str, secret: str) -> bool:
        given = request.headers.get(header, "")
        return bool(given) and hmac.compare_digest(given.encode(), secret.encode())

    def dead(self, platform: str, kind: object, reason: str, **what: Any) -> DeadLetter:
        self.metrics.rejected.labels(platform, "bad_payload").inc()
        return DeadLetter.of_notification(
            {"platform": platform, "type": str(kind)[:64], **what}, f"{platform} {kind}: {reason}"
        )

    async def webhook(
        self, request: web.Request, platform: str, bots: Mapping[str, Any], header: str
    ) -> tuple[Any, dict[str, Any]] | web.Response:
        """A bot's webhook request: its bot and update once the secret header matched, else the
        answer (404 unknown bot, 403 wrong secret, 413, 400)."""
        bot = bots.get(request.match_info["bot"])
        if bot is None:
            return self.refuse(platform, "unknown_community", 404, "unknown bot")
        if not self.authentic(request, header, bot.secret):
            return self.refuse(platform, "bad_secret", 403, "bad secret")
        update = await self.body(request, platform)
        if isinstance(update, web.Response):
            return update
        self.metrics.last_request.labels(platform).set_to_current_time()
        return bot, update

    def ignored(self, platform: str) -> web.Response:
        self.metrics.ignored.labels(platform).inc()
        return web.Response(text="ok")

    async def telegram(self, request: web.Request) -> web.Response:
        checked = await self.webhook(
            request, "telegram", self.config.telegram, "X-Telegram-Bot-Api-Secret-Token"
        )
        if isinstance(checked, web.Response):
            return checked
        bot, update = checked
        kind = next((key for key in TELEGRAM_TYPES if key in update), "other")
        self.metrics.requests.labels("telegram", kind).inc()
        chat = telegram.chat_of(update)
        public_id = bot.channels.get(chat) if chat is not None else None
        if public_id is None or chat is None:
            return self.ignored("telegram")
        total = telegram.reaction_total(update)
        if isinstance(total, tuple):
            message_id, now_total, at = total
            key = f"{chat}:{message_id}"
            lock = self._post_locks.setdefault(key, asyncio.Lock())
            async with lock:  # one post's totals one at a time: each counts from the last
                before = await self.counts.get(key)
                if abs(now_total - before) > self.max_events:
                    # never built: one small body must not become millions of events. Dead-lettered
                    # with what locates it; the total moves on, so the next update counts from it
                    events, dead = (), [self._too_many(update, chat, message_id, before, now_total)]
                else:
                    events = telegram.reaction_events(
                        update, chat, public_id, message_id, before, now_total, at
                    )
                    dead = []
                refused = await self.publish("telegram", events, dead)
                if refused is None:
                    await self.counts.set(key, now_total)  # only once the events are held: a retry recounts
            return refused or web.Response(text="ok")
        if isinstance(total, str):
            mapped = vk.Mapped(bad=total)
        else:
            mapped = telegram.to_events(update, chat, public_id, self.clock())
        return await self.answer("telegram", kind, mapped, chat=chat, update_id=update.get("update_id"))

    def _too_many(
        self, update: Mapping[str, Any], chat: int, message_id: int, before: int, now: int
    ) -> DeadLetter:
        self.metrics.rejected.labels("telegram", "too_many_events").inc()
        what = {
            "platform": "telegram",
            "type": "message_reaction_count",
            "chat": chat,
            "message_id": message_id,
        }
        reason = (
            f"telegram message_reaction_count: the total moved from {before} to {now}, more than "
            f"--bridge-max-events-per-request {self.max_events} events; not published"
        )
        return DeadLetter.of_notification({**what, "update_id": update.get("update_id")}, reason)

    async def max(self, request: web.Request) -> web.Response:
        checked = await self.webhook(request, "max", self.config.max, "X-Max-Bot-Api-Secret")
        if isinstance(checked, web.Response):
            return checked
        bot, update = checked
        kind = update.get("update_type")
        self.metrics.requests.labels(
            "max", kind if isinstance(kind, str) and kind in MAX_TYPES else "other"
        ).inc()
        chat = max_api.chat_of(update)
        public_id = bot.chats.get(chat) if chat is not None else None
        if public_id is None or chat is None:
            return self.ignored("max")
        return await self.answer(
            "max",
            kind,
            max_api.to_events(update, chat, public_id, self.clock(), self.config.id_key or b""),
            chat=chat,
        )

    async def answer(self, platform: str, kind: object, mapped: vk.Mapped, **what: Any) -> web.Response:
        """Publish what an update became (or dead-letter why not), then 200, or 503 from the broker."""
        dead = [self.dead(platform, kind, mapped.bad, **what)] if mapped.bad is not None else []
        if mapped.bad is None and not mapped.events:
            self.metrics.ignored.labels(platform).inc()  # acknowledged below, like any other
        refused = await self.publish(platform, mapped.events, dead)
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
    app = web.Application(client_max_size=max_body_bytes, middlewares=[one_request])
    app.router.add_post("/vk", bridge.vk)
    app.router.add_post("/telegram/{bot}", bridge.telegram)
    app.router.add_post("/max/{bot}", bridge.max)
    app.router.add_get("/health", bridge.health)
    app.router.add_get("/metrics", bridge.render_metrics)
    return app
