"""The serving agent: every few seconds, the changed publics' tables go to Redis."""

from __future__ import annotations

import time

import faust

from streams.pipeline import Pipeline
from streams.serving import PUSH_EVERY_S, RedisTables


def register(app: faust.App, pipeline: Pipeline, tables: RedisTables) -> None:
    @app.timer(PUSH_EVERY_S)
    async def push_tables() -> None:
        await tables.push(pipeline, time.time_ns() // 1_000_000)
