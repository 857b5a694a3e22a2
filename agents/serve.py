"""The serving agent: changed publics' tables go to Redis every few seconds, and every owned
public's table is rewritten once per refresh interval (``streams.serving``)."""

from __future__ import annotations

import time

import faust

from streams.pipeline import Pipeline
from streams.serving import PUSH_EVERY_S, REFRESH_TICK_S, RedisTables


def register(app: faust.App, pipeline: Pipeline, tables: RedisTables) -> None:
    @app.timer(PUSH_EVERY_S)
    async def push_tables() -> None:
        await tables.push(pipeline, time.time_ns() // 1_000_000)

    @app.timer(REFRESH_TICK_S)
    async def refresh_tables() -> None:
        await tables.refresh(pipeline, time.time_ns() // 1_000_000)
