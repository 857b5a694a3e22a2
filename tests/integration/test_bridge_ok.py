"""The OK poller against a local OK API, into a worker's table on a real broker.

OK's API cannot be reached here: a local server checks each request's signature as OK does and
answers ``group.getInfo``, ``mediatopic.getTopics`` and ``discussions.getComments`` in the shapes OK
documents (apiok.ru/dev/methods/rest/group/group.getInfo, …/mediatopic/mediatopic.getTopics,
…/discussions/discussions.getComments; errors as apiok.ru/dev/errors: ``error_code``, ``error_msg``,
``error_data``). Two rounds: the group's first (its past taken as it is), then one after the group
posted, answered a citizen, gained likes and a reshare and deleted a topic; then the token revoked.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from schemas.validate import explain_event
from streams.bridge.config import OkApp
from streams.bridge.metrics import BridgeMetrics
from streams.bridge.ok_poll import OkPoller, Seen
from streams.bridge.publisher import AckedPublisher
from streams.core.engine import Engine
from streams.kafka_client import ensure_topics, producer
from streams.local.tansu import EmbeddedBroker
from streams.replay import replay_events
from streams.topics import Topics
from tests.integration.test_bridge import events_of
from tests.integration.test_worker import PARTITIONS, get_json
from tests.integration.worker import WorkerProcess, eventually

GID = "53038939046008"
PUBLIC = "ok:mincult52"
APP = OkApp("mincult", "CBAFJIICABABABABA", "app-secret-key", "good-token", {GID: PUBLIC})
MINUTE_MS = 60_000


def moscow(ms: int) -> str:
    """A time as OK writes comment dates: Moscow local, to the second."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ms / 1000 + 3 * 3600))


class OkApi:
    """A group's page as OK's API shows it, changed by the test between rounds."""

    def __init__(self, now_ms: int) -> None:
        self.now = now_ms
        self.members = 15230
        self.topics: dict[str, dict[str, Any]] = {
            "155000000001": self.topic(
                "155000000001", now_ms - 3 * 3600_000, likes=12, reshares=1, comments=1
            ),
            "155000000002": self.topic(
                "155000000002", now_ms - 2 * 3600_000, likes=3, reshares=0, comments=0
            ),
        }
        # a member's topic in the group: not the group's post
        self.topics["155000000009"] = self.topic("155000000009", now_ms - 3600_000, 0, 0, 0) | {
            "author_ref": "user:577777777777"
        }
        self.comments: dict[str, list[dict[str, Any]]] = {
            "155000000001": [self.comment("MTU1OjE=", now_ms - 150 * MINUTE_MS, "577000000001")]
        }
        self.reach = {"155000000001": 100, "155000000002": 40}
        self.stats_denied = False
        self.calls: list[str] = []
        self.token = APP.token

    def topic(self, tid: str, created: int, likes: int, reshares: int, comments: int) -> dict[str, Any]:
        return {
            "id": tid,
            "created_ms": created,
            "author_ref": f"group:{GID}",
            "owner_ref": f"group:{GID}",
            "media": [{"type": "text", "text": "Текст публикации"}],
            "like_summary": {"count": likes, "self": False},
            "reshare_summary": {"count": reshares, "self": False},
            "discussion_summary": {"comments_count": comments},
        }

    def comment(self, cid: str, at: int, author: str, **extra: Any) -> dict[str, Any]:
        return {"id": cid, "date": moscow(at), "author_id": author, "text": "Когда откроют каток?", **extra}

    async def handle(self, request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        sig, token = form.pop("sig", ""), form.pop("access_token", "")
        # OK's rule, written out here on its own: every parameter but access_token and sig, sorted by
        # name, as name=value with nothing between, then md5(access_token + application secret key)
        session_secret = hashlib.md5((token + APP.secret).encode()).hexdigest()
        line = "".join(f"{name}={form[name]}" for name in sorted(form)) + session_secret
        expected = hashlib.md5(line.encode()).hexdigest()
        self.calls.append(form.get("method", "?"))
        if request.query_string or sig != expected:
            return web.json_response({"error_code": 104, "error_msg": "PARAM_SIGNATURE : Invalid signature"})
        if token != self.token:
            return web.json_response(
                {
                    "error_code": 102,
                    "error_msg": "PARAM_SESSION_EXPIRED : Session expired",
                    "error_data": None,
                }
            )
        method = form["method"]
        if method == "group.getInfo":
            assert form["uids"] == GID and form["fields"] == "members_count"
            return web.json_response([{"uid": GID, "members_count": self.members}])
        if method == "mediatopic.getTopics":
            topics = sorted(self.topics.values(), key=lambda t: -t["created_ms"])
            return web.json_response({"media_topics": topics, "has_more": False})
        if method == "group.getStatTopics":
            assert form["fields"] == "ID,REACH" and int(form["start_time"]) < int(form["end_time"])
            if self.stats_denied:
                return web.json_response(
                    {"error_code": 10, "error_msg": "PERMISSION_DENIED : no VALUABLE_ACCESS"}
                )
            return web.json_response({"topics": [{"id": t, "reach": r} for t, r in self.reach.items()]})
        assert method == "discussions.getComments" and form["discussionType"] == "GROUP_TOPIC"
        return web.json_response({"comments": self.comments.get(form["discussionId"], []), "has_more": False})


def test_an_ok_group_reaches_a_workers_table_through_two_polls_and_a_revoked_token(
    broker: EmbeddedBroker, workers: list[WorkerProcess], tmp_path: Path
) -> None:
    prefix = "t-bridge-ok."
    topics = Topics(prefix)
    ensure_topics(broker.bootstrap, topics, PARTITIONS)
    now = int(time.time() * 1000) - 30 * MINUTE_MS  # both rounds in the past of the worker's clock
    page = OkApi(now)
    metrics = BridgeMetrics()
    published: list[list[dict[str, Any]]] = []

    async def main() -> None:
        api = web.Application()
        api.router.add_post("/fb.do", page.handle)
        async with TestServer(api) as server, aiohttp.ClientSession() as session:
            publisher = AckedPublisher(lambda: producer(broker.bootstrap, "t-ok", timeout_s=8), topics)

            async def publish(events: list[dict[str, Any]]) -> None:
                published.append(events)
                await publisher.publish(events)

            clock = [now]
            poller = OkPoller(
                [APP],
                publish,
                api_url=str(server.make_url("/fb.do")),
                calls_per_s=50,
                seen=Seen(),
                metrics=metrics,
                clock=lambda: clock[0],
            )
            assert await poller.round(session) == 6  # members, two posts, their views, one comment
            # ten minutes on: a new post with likes, more likes and a reshare on an older one, the
            # group's answer to the citizen, a new citizen comment, and the second post deleted
            clock[0] = page.now = now + 10 * MINUTE_MS
            page.members = 15241
            t1 = page.topics["155000000001"]
            t1["like_summary"]["count"] = 15
            t1["reshare_summary"]["count"] = 2
            t1["discussion_summary"]["comments_count"] = 3
            page.comments["155000000001"] += [
                page.comment(
                    "MTU1OjI=", now + 4 * MINUTE_MS, GID, author_type="GROUP", reply_to_comment_id="MTU1OjE="
                ),
                page.comment("MTU1OjM=", now + 8 * MINUTE_MS, "577000000002"),
            ]
            del page.topics["155000000002"]
            page.reach = {"155000000001": 130, "155000000003": 20}
            page.topics["155000000003"] = page.topic(
                "155000000003", now + 5 * MINUTE_MS, likes=2, reshares=0, comments=0
            )
            second = await poller.round(session)
            # a token without the right to statistics: views are not read, the rest goes on
            page.stats_denied = True
            assert await poller.round(session) == 1 and poller.no_stats == {GID}  # the day's count again
            # the token revoked: said, shown, and no crash
            page.token = "a-new-token-nobody-gave-the-bridge"
            assert await poller.round(session) == 0
            await publisher.close()
            assert second == len(published[1])

    asyncio.run(main())
    first, second = published[0], published[1]
    for event in first + second:
        assert explain_event(event, now + 10 * MINUTE_MS) is None, event
    kinds = sorted(e["kind"] for e in second)
    assert kinds == sorted(
        ["subscribers.counted", "post.published", "post.deleted", "post.reposted"]
        + ["post.metrics"] * 2
        + ["reaction.added"] * (3 + 2)  # 12 → 15 on the first post, 2 on the new one
        + ["comment.created"] * 3  # the first again (a duplicate downstream), the answer, the new one
    ), kinds
    answer = next(e for e in second if e.get("comment_id") == "MTU1OjI=")
    assert (answer["author"], answer["reply_to_comment_id"]) == ("official", "MTU1OjE=")
    # no person's id in any event, not even inside an id
    assert not any("577" in str(v) for e in first + second for v in e.values())
    scrape = metrics.render().decode()
    assert 'gospulse_bridge_token_refused{platform="ok"} 1.0' in scrape
    assert 'gospulse_bridge_poll_errors_total{platform="ok"} 1.0' in scrape
    assert all(call != "?" for call in page.calls)

    # the worker's table, from the events the broker holds
    on_broker = events_of(broker.bootstrap, topics.posts) + events_of(broker.bootstrap, topics.comments)
    assert len(on_broker) == sum(1 for e in first + second if e["kind"] != "subscribers.counted")
    worker = WorkerProcess(broker, "t-bridge-ok", prefix, PARTITIONS, tmp_path).start()
    workers.append(worker)
    worker.wait_ready()
    api_url = f"http://127.0.0.1:{worker.web_port}"

    def counted() -> dict:
        status, table = get_json(f"{api_url}/publics/{PUBLIC}")
        # one count a Moscow day: the second round's is a duplicate of the first's
        assert status == 200 and table["subscribers"] == 15230, table
        return table

    table = eventually(counted, timeout_s=60)
    expected = {t["public_id"]: t for t in replay_events(first + second, table["at"], Engine())}[PUBLIC]
    assert table == expected  # the contract's own reading of what the bridge published
    assert (table["posts_7d"], table["reactions_7d"], table["reposts_7d"]) == (2, 5, 1), table
    assert table["views_7d"] == 130 + 40 + 20, (
        table
    )  # every post's view deltas (contract: views_W), a deleted one's too
    assert (table["citizen_comments_7d"], table["official_comments_7d"], table["answered_7d"]) == (2, 1, 1), (
        table
    )
    assert table["unanswered"] == 1, table
