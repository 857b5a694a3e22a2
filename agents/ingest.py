"""The ingest agent: the three event topics in, state chunks and dead letters out."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import faust

from streams.pipeline import SETTLE_EVERY_S, DeadLetter, Pipeline
from streams.settings import WorkerSettings

log = logging.getLogger(__name__)


def register(
    app: faust.App,
    pipeline: Pipeline,
    settings: WorkerSettings,
    send_dead: Callable[[DeadLetter], Awaitable[object]] | None = None,
) -> faust.types.AgentT:
    """Wire the ingest agent, its settle timer and revocation hook into ``app``; returns the agent.

    ``send_dead`` replaces the dead-letter topic (Faust's test context has no broker to send to).
    """
    topics = settings.topics
    events = app.topic(
        *topics.events,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        partitions=settings.partitions,
    )
    dead_letter = app.topic(
        topics.dead_letter,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        partitions=settings.partitions,
    )

    if send_dead is None:

        async def send_dead(letter: DeadLetter) -> object:
            return await dead_letter.send(key=letter.key, value=letter.value, headers=letter.headers())

    @app.agent(events, name="ingest")
    async def ingest(stream: faust.StreamT) -> None:
        # take_events acks a batch only after this body has finished with it, and Faust flushes the
        # producer before committing offsets: chunks written here reach the changelog first.
        async for batch in stream.take_events(settings.batch_messages, within=settings.batch_within_s):
            dead = []
            for event in batch:
                m = event.message
                dead += pipeline.apply_message(m.topic, m.partition, m.offset, m.key, m.value)
            pipeline.flush()
            for letter in dead:
                await send_dead(letter)

    @app.timer(SETTLE_EVERY_S)
    async def settle() -> None:
        pipeline.settle()

    @app.on_partitions_revoked.connect
    async def on_revoked(app_: faust.App, revoked: set, **kwargs: object) -> None:
        pipeline.forget_partitions({tp.partition for tp in revoked if tp.topic in topics.events})

    return ingest
