"""What VK's Callback API never pushes, polled: posts' views and the community's subscriber count.

For each community with an access token, every round asks VK's API ``wall.get`` (the community's own
posts) and ``groups.getById`` (``members_count``). Views become ``post.metrics`` of posts from the
contract's 30 days, with an id of post and view count, so a round that finds the same count again is
a duplicate downstream. The subscriber count becomes ``subscribers.counted`` once a Moscow day (its
id names the day; later rounds that day are duplicates). A round that fails is logged and counted,
and the next round tries again: nothing here is pushed by VK, so nothing is lost but time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from streams.bridge.config import VkCommunity
from streams.core.timebase import DAY_MS, now_ms

log = logging.getLogger(__name__)

API_VERSION: Final = "5.199"
MOSCOW: Final = ZoneInfo("Europe/Moscow")
#: Posts a round reads (wall.get's largest page); older posts' views change little.
POSTS_PER_ROUND: Final = 100


def metrics_events(community: VkCommunity, wall: Mapping[str, Any], at_ms: int) -> list[dict[str, Any]]:
    """``post.metrics`` of the community's posts of the last 30 days in a ``wall.get`` response."""
    items = wall.get("items")
    out = []
    for post in items if isinstance(items, list) else []:
        if not isinstance(post, dict):
            continue
        post_id, date, views = post.get("id"), post.get("date"), post.get("views")
        count = views.get("count") if isinstance(views, dict) else None
        if type(post_id) is not int or type(date) is not int or type(count) is not int or count < 0:
            continue
        if post.get("owner_id") != -community.group_id or date * 1000 < at_ms - 30 * DAY_MS:
            continue
        out.append(
            {
                "v": 1,
                "event_id": f"vk-views:{community.group_id}:{post_id}:{count}",
                "kind": "post.metrics",
                "public_id": community.public_id,
                "occurred_at": at_ms,
                "post_id": str(post_id),
                "views": count,
            }
        )
    return out


def members_count(response: Any) -> int | None:
    """``members_count`` from ``groups.getById`` (a ``groups`` list since 5.139, a bare list before)."""
    groups = response.get("groups") if isinstance(response, dict) else response
    if isinstance(groups, list) and groups and isinstance(groups[0], dict):
        count = groups[0].get("members_count")
        return count if type(count) is int and count >= 0 else None
    return None


def moscow_day(at_ms: int) -> str:
    """The Moscow date of ``at_ms``: a daily count's event id names it (one count a day)."""
    return datetime.fromtimestamp(at_ms / 1000, MOSCOW).date().isoformat()


def count_event(community: VkCommunity, count: int, at_ms: int) -> dict[str, Any]:
    day = moscow_day(at_ms)
    return {
        "v": 1,
        "event_id": f"vk-members:{community.group_id}:{day}",
        "kind": "subscribers.counted",
        "public_id": community.public_id,
        "occurred_at": at_ms,
        "count": count,
    }


class VkApiError(RuntimeError):
    """VK answered a method with an error, or not at all."""


class VkPoller:
    """Rounds over the communities that have a token, publishing what they find."""

    def __init__(
        self,
        communities: list[VkCommunity],
        publish: Callable[[list[dict[str, Any]]], Any],
        api_url: str = "https://api.vk.com/method",
        every_s: float = 3600.0,
        on_error: Callable[[], None] | None = None,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.communities = [c for c in communities if c.token]
        self.publish = publish
        self.api_url = api_url.rstrip("/")
        self.every_s = every_s
        self.on_error = on_error
        self.clock = clock

    async def call(self, session: Any, method: str, token: str, **params: Any) -> Any:
        """One API method; the token travels in the body, never in a URL a log could keep."""
        form = {**{k: str(v) for k, v in params.items()}, "v": API_VERSION, "access_token": token}
        async with session.post(f"{self.api_url}/{method}", data=form) as response:
            body = await response.json(content_type=None)
        if not isinstance(body, dict) or "response" not in body:
            error = body.get("error", {}) if isinstance(body, dict) else {}
            raise VkApiError(f"{method}: {error.get('error_code')} {error.get('error_msg')}")
        return body["response"]

    async def round(self, session: Any) -> int:
        """Poll every community once; the events published."""
        published = 0
        for c in self.communities:
            at = self.clock()
            try:
                wall = await self.call(
                    session,
                    "wall.get",
                    c.token or "",
                    owner_id=-c.group_id,
                    count=POSTS_PER_ROUND,
                    filter="owner",
                )
                group = await self.call(
                    session, "groups.getById", c.token or "", group_id=c.group_id, fields="members_count"
                )
                events = metrics_events(c, wall, at)
                count = members_count(group)
                if count is not None:
                    events.append(count_event(c, count, at))
                await self.publish(events)
                published += len(events)
            except Exception as exc:  # VK, the network or the broker: the next round tries again
                log.warning("polling VK community %d failed: %r", c.group_id, exc)
                if self.on_error is not None:
                    self.on_error()
        return published

    async def run(self) -> None:
        import aiohttp

        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
            while True:
                await self.round(session)
                await asyncio.sleep(self.every_s)
