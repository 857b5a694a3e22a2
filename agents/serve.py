"""The serving agent: changed publics' tables go to Redis every few seconds, and every owned
public's table is rewritten once per refresh interval (``streams.serving``)."""

from __future__ import annotations

import faust

from streams.core.timebase import now_ms
from streams.serving import REFRESH_TICK_S, RedisTables


def register(app: faust.App, tables: RedisTables, push_every_s: float) -> None:
    @app.timer(push_every_s)
    async def push_tables() -> None:
        await tables.push(now_ms())

    @app.timer(REFRESH_TICK_S)
    async def refresh_tables() -> None:
        await tables.refresh(now_ms())
