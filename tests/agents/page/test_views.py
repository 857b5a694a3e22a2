"""The page's reads when Redis is not there: the page still renders, and says so in Russian."""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from agents.page.render import Chosen
from agents.page.views import _leaderboard, _segments
from streams.local.tansu import free_port


def test_without_redis_or_with_it_down_the_leaderboard_says_why() -> None:
    async def run() -> tuple[object, ...]:
        # nothing listens there; asked once, not retried
        down = aioredis.Redis(port=free_port(), socket_connect_timeout=1, retry=Retry(NoBackoff(), 0))
        try:
            return (
                await _leaderboard(None, "t", Chosen(), 0),
                await _leaderboard(down, "t", Chosen(), 0),
                await _segments(down, "t"),
                await _segments(None, "t"),
            )
        finally:
            await down.aclose()

    no_redis, board_down, counts_down, no_counts = asyncio.run(run())
    assert no_redis == "Рейтинги недоступны: воркер запущен без Redis (--redis)."
    assert isinstance(board_down, str) and board_down.startswith("Рейтинги временно недоступны")
    assert isinstance(counts_down, str) and "Redis" in counts_down
    assert no_counts == []
