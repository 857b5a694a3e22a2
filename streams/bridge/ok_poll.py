"""OK groups polled through OK's REST API: posts, likes, reshares, comments and members (``ok``).

Each round asks, per group, ``group.getInfo``, ``mediatopic.getTopics``, ``group.getStatTopics``
(views, when the token may read statistics) and, for each topic whose comment count moved,
``discussions.getComments``; and publishes what changed since the last round it
published. What the last round saw of each topic (its totals, and how many changes of each total were
published) is kept in Redis when the bridge has one (it survives a restart and is shared by
replicas), else in this process; it is written only once the broker holds the round's events, so a
round repeated after a crash publishes the same event ids again (duplicates downstream), never new
ones for old changes. A group's first round takes its topics' totals as they are (the likes a topic
had before the bridge watched it are not news); its topics and comments are published as what they
are, with their own times.

OK's limits are respected: one call at a time, at most ``calls_per_s``; a ``FLOOD_BLOCKED`` or
``LIMIT_REACHED`` answer ends the round and the next waits its turn. A token OK refuses (expired,
revoked) is said once per group, shown as ``gospulse_bridge_token_refused{platform="ok"}`` (an
alert), and asked again every round: a new token in the file or variable is read at restart.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any, Final

import orjson

from streams.bridge import ok
from streams.bridge.config import OkApp
from streams.core.timebase import now_ms

log = logging.getLogger(__name__)

#: Topics a round reads per group (the newest; older ones' totals change little).
TOPICS_PER_ROUND: Final = 50
#: Comments read of a topic whose count moved (the newest).
COMMENTS_PER_TOPIC: Final = 100
TOPIC_FIELDS: Final = "media_topic.*"


class OkApiError(RuntimeError):
    def __init__(self, method: str, code: object, message: object) -> None:
        super().__init__(f"{method}: error {code} {message}")
        self.code = code


class Seen:
    """What the last published round saw of each group's topics: in Redis, or in this process."""

    def __init__(self, redis: Any = None, prefix: str = "gospulse:bridge:ok") -> None:
        self.redis, self.prefix = redis, prefix
        self.local: dict[str, dict[str, dict[str, int]]] = {}

    async def load(self, gid: str) -> dict[str, dict[str, int]] | None:
        """Topic id → what was seen of it; None before the group's first round."""
        if self.redis is None:
            return self.local.get(gid)
        raw = await self.redis.get(f"{self.prefix}:{gid}")
        return None if raw is None else orjson.loads(raw)

    async def save(self, gid: str, topics: dict[str, dict[str, int]]) -> None:
        if self.redis is None:
            self.local[gid] = topics
        else:
            await self.redis.set(f"{self.prefix}:{gid}", orjson.dumps(topics), ex=40 * 86_400)


class OkPoller:
    """Rounds over the OK groups of the bridge file, publishing what changed."""

    def __init__(
        self,
        apps: list[OkApp],
        publish: Callable[[list[dict[str, Any]]], Any],
        api_url: str = "https://api.ok.ru/fb.do",
        every_s: float = 600.0,
        calls_per_s: float = 3.0,
        seen: Seen | None = None,
        metrics: Any = None,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.apps = apps
        self.publish = publish
        self.api_url = api_url
        self.every_s = every_s
        self.gap_s = 1.0 / calls_per_s
        self.seen = seen or Seen()
        self.metrics = metrics
        self.clock = clock
        self._last_call = 0.0
        #: Groups whose token OK refuses now (said once each).
        self.refused: set[str] = set()
        #: Groups whose statistics (views) the token may not read.
        self.no_stats: set[str] = set()

    async def call(self, session: Any, app: OkApp, method: str, **params: Any) -> Any:
        """One signed call (a form body, so the token is in no URL a log keeps)."""
        wait = self._last_call + self.gap_s - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        self._last_call = time.monotonic()
        form = {k: str(v) for k, v in params.items()}
        form |= {"application_key": app.application_key, "format": "json", "method": method}
        async with session.post(self.api_url, data=ok.signed(form, app.token, app.secret)) as response:
            body = await response.json(content_type=None)
        if isinstance(body, dict) and "error_code" in body:
            raise OkApiError(method, body.get("error_code"), body.get("error_msg"))
        return body

    async def group_round(self, session: Any, app: OkApp, gid: str, public_id: str) -> int:
        """Poll one group; the events published."""
        at = self.clock()
        info = await self.call(session, app, "group.getInfo", uids=gid, fields="members_count")
        answer = await self.call(
            session, app, "mediatopic.getTopics", gid=gid, count=TOPICS_PER_ROUND, fields=TOPIC_FIELDS
        )
        fetched = ok.topics(answer, gid, at)
        before = await self.seen.load(gid)
        first_round = before is None
        seen = dict(before or {})
        events: list[dict[str, Any]] = []
        count = ok.members_count(info, gid)
        if count is not None:
            events.append(ok.count_event(gid, public_id, count, at))
        for t in fetched:
            was = seen.get(t.id)
            if was is None:
                events.append(ok.published(gid, public_id, t))
                # a new topic's likes and reshares came since the last round; at the first, they are the past
                likes, reshares = (t.likes, t.reshares) if first_round else (0, 0)
                was = {"likes": likes, "reshares": reshares, "comments": 0, "ls": 0, "rs": 0}
            now = dict(was)
            for what, step in (("likes", "ls"), ("reshares", "rs")):
                total = getattr(t, what)
                if total != was[what]:
                    now[step] = was[step] + 1
                    events += ok.moved(gid, public_id, t.id, what, now[step], was[what], total, at)
                    now[what] = total
            if t.comments != was["comments"]:
                got = await self.call(
                    session,
                    app,
                    "discussions.getComments",
                    discussionId=t.id,
                    discussionType="GROUP_TOPIC",
                    count=COMMENTS_PER_TOPIC,
                )
                said, unreadable = ok.comments(got, gid, public_id, t.id)
                if unreadable:
                    log.warning("OK group %s topic %s: %d comments unreadable", gid, t.id, unreadable)
                events += said
                now["comments"] = t.comments
            now["created"] = t.created_ms
            seen[t.id] = now
        ids = {t.id for t in fetched}
        if ids and gid not in self.no_stats:
            try:
                stats = await self.call(
                    session,
                    app,
                    "group.getStatTopics",
                    gid=gid,
                    fields="ID,REACH",
                    start_time=at - ok.WINDOW_MS,
                    end_time=at,
                )
                events += ok.views(stats, gid, public_id, ids, at)
            except OkApiError as exc:
                if exc.code not in ok.NO_RIGHT:
                    raise
                log.warning("OK group %s: no right to its statistics (%s): views are not read", gid, exc)
                self.no_stats.add(gid)  # asked again after a restart
        oldest = min((t.created_ms for t in fetched), default=None)
        for topic_id, was in list(seen.items()):
            if topic_id in ids:
                continue
            if was.get("created", 0) < at - ok.WINDOW_MS:
                del seen[topic_id]  # past every window: forgotten, not deleted
            elif oldest is not None and was.get("created", 0) >= oldest:
                events.append(ok.deleted(gid, public_id, topic_id, at))  # gone from within the page
                del seen[topic_id]
        await self.publish(events)
        await self.seen.save(gid, seen)
        return len(events)

    async def round(self, session: Any) -> int:
        """Poll every group once; the events published."""
        published = 0
        for app in self.apps:
            for gid, public_id in app.groups.items():
                try:
                    published += await self.group_round(session, app, gid, public_id)
                    self._token(gid, refused=False)
                    if self.metrics is not None:
                        self.metrics.last_request.labels("ok").set_to_current_time()
                except OkApiError as exc:
                    self._error()
                    if exc.code in ok.TOKEN_REFUSED:
                        self._token(gid, refused=True, why=str(exc))
                    elif exc.code in ok.LIMIT_REACHED:
                        log.warning("OK limits the bridge's calls (%s): the next round goes on", exc)
                        return published
                    else:
                        log.warning("polling OK group %s failed: %s", gid, exc)
                except Exception as exc:  # the network or the broker: the next round tries again
                    self._error()
                    log.warning("polling OK group %s failed: %r", gid, exc)
        return published

    def _error(self) -> None:
        if self.metrics is not None:
            self.metrics.poll_errors.labels("ok").inc()

    def _token(self, gid: str, refused: bool, why: str = "") -> None:
        if refused and gid not in self.refused:
            log.error(
                "OK refuses the token of group %s (%s): nothing of it is read until a new token is given "
                "(token_env or token_file of its [[ok]] entry) and the bridge restarted",
                gid,
                why,
            )
        (self.refused.add if refused else self.refused.discard)(gid)
        if self.metrics is not None:
            self.metrics.token_refused.labels("ok").set(len(self.refused))

    async def run(self) -> None:
        import aiohttp

        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
            while True:
                await self.round(session)
                await asyncio.sleep(self.every_s)
