"""The serving agent: changed publics' tables go to Redis every few seconds, and every owned
public's table is rewritten once per refresh interval (``streams.serving``)."""

from __future__ import annotations

from collections.abc import Callable

import faust

from streams.core.timebase import now_ms
from streams.serving import REFRESH_TICK_S, RedisTables


def register(
    app: faust.App, tables: RedisTables, push_every_s: float, catching_up: Callable[[], bool] = lambda: False
) -> None:
    """The push and refresh timers; while ``catching_up()`` they wait (``agents.catchup``): the
    changed publics stay pending, each once, and the refresh goes on from where it was."""

    @app.timer(push_every_s)
    async def push_tables() -> None:
        if not catching_up():
            await tables.push(now_ms())

    @app.timer(REFRESH_TICK_S)
    async def refresh_tables() -> None:
        if not catching_up():
            await tables.refresh(now_ms())
