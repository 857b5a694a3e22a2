"""The ingest agent: the three event topics in, state chunks and dead letters out."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import faust

from agents.edge import committed_offset
from agents.edge.delivery import DeliveryGuard, decline, seek_back
from streams.dead_letter import DeadLetter
from streams.pipeline import Pipeline
from streams.settings import WorkerSettings
from streams.topics import DEAD_LETTER_TOPIC_CONFIG

log = logging.getLogger(__name__)

#: Decoded states dropped between two yields to the event loop (``evict_idle``).
EVICT_SLICE = 100
#: ``fenced``'s reason while the worker stops (nothing is sought back then).
STOPPING = "the worker is stopping"


def fenced(app: Any, message: Any) -> str | None:
    """Why ``message`` must not be applied by this worker now (``None``: it may be).

    A batch gathered before a rebalance or a stop can reach the body after it: Faust's stop commits
    and leaves the group without waiting for the agent, and a message of an older generation can sit
    in the batch's buffer past the revocation. Applied then, its state records would reach the
    changelog after the partition's next owner had recovered it, over that owner's newer records: a
    restart would then lose events. (A rebalance under way is no reason on its own: Faust's
    revocation waits for the agent to finish what it was handed, so those records land first; and
    declining the first batch after a recovery, while the flag is still up, let later messages'
    acknowledgements commit past it in a chaos soak.)
    """
    if app.consumer.should_stop or app.should_stop:
        return STOPPING
    if message.generation_id != app.consumer_generation_id:
        return f"read in generation {message.generation_id}; the group is at {app.consumer_generation_id}"
    return None


def register(
    app: faust.App,
    pipeline: Pipeline,
    settings: WorkerSettings,
    guard: DeliveryGuard,
    send_dead: Callable[[DeadLetter], object] | None = None,
    on_batch: Callable[[dict[str, int], int], None] | None = None,
    applied_at: dict[tuple[str, int], tuple[int, float]] | None = None,
) -> faust.types.AgentT:
    """Wire the ingest agent, its settle timer and revocation hook into ``app``; returns the agent.

    ``guard`` tracks every dead letter as it does state records, so no offset is committed before
    the dead letters of its batch are written. ``send_dead`` replaces the dead-letter topic (Faust's
    test context has no broker to send to). ``on_batch(messages per topic, messages)`` is told of
    every batch (the metrics). ``applied_at`` is kept as the offset and broker timestamp (epoch
    seconds) of the last message applied per event partition, for the lag in time.
    """
    last_applied = applied_at if applied_at is not None else {}
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
        config=DEAD_LETTER_TOPIC_CONFIG,
    )

    if send_dead is None:

        def send_dead(letter: DeadLetter) -> object:
            future = dead_letter.send_soon(key=letter.key, value=letter.value, headers=letter.headers())
            guard.track(future, f"dead letter of {letter.where()}")
            return future

    #: The last offset the agent was handed per event partition. A jump means a message the consumer
    #: read never reached the agent (seen when the flow is suspended while a message is handed over:
    #: Faust marks it read and drops it). Its offset cannot be committed (it was never acknowledged),
    #: so seeking back to the committed offsets delivers it again; until it comes, the messages after
    #: it are declined, so that a public's events are applied in log order (view deltas depend on it).
    handed: dict[tuple[str, int], int] = {}
    #: The first missing offset per partition, while the agent waits for it.
    missing: dict[tuple[str, int], int] = {}

    checks: set[asyncio.Future[None]] = set()

    def check_retained(tp: Any, awaited: int) -> None:
        """A committed offset the broker no longer holds (its retention deleted the messages while
        nobody read the partition) never comes again: then the partition is awaited from its first
        retained offset, and said loudly, since those events are lost to every worker."""

        async def check() -> None:
            key = (tp.topic, tp.partition)
            while missing.get(key) == awaited:
                try:
                    first = (await app.consumer.earliest_offsets(tp)).get(tp)
                except Exception as exc:  # the partition waits meanwhile: asked again shortly
                    log.warning("could not ask the broker where %s/%d starts (%r)", *key, exc)
                    await asyncio.sleep(5.0)
                    continue
                if first is not None and first > awaited and missing.get(key) == awaited:
                    log.error(
                        "offsets %d to %d of %s/%d were never processed and are no longer on the "
                        "broker (its retention deleted them): their events are lost; reading on from %d",
                        awaited,
                        first - 1,
                        *key,
                        first,
                    )
                    missing[key] = first
                    seek_back(app.consumer, f"{tp.topic}/{tp.partition} now starts at {first}")
                return

        task = asyncio.ensure_future(check())
        checks.add(task)
        task.add_done_callback(checks.discard)

    def in_order(message: Any) -> bool:
        """Whether ``message`` may be applied now (else it is declined, and comes again)."""
        tp, offset = (message.topic, message.partition), message.offset
        committed = committed_offset(app.consumer, message.tp)  # the next offset a restart reads
        awaited = missing.get(tp)
        if awaited is not None and committed is not None and committed > awaited:
            # committed past by the worker that held the partition meanwhile: nothing is missing
            del missing[tp]
            awaited = None
        if awaited is not None:
            if offset > awaited:
                decline(message)
                return False
            if offset == awaited:
                del missing[tp]
        else:
            # the first message of a partition since it was assigned comes from its committed offset
            last = handed.get(tp)
            expected = last + 1 if last is not None else committed
            if expected is not None and offset > expected and (committed is None or offset > committed):
                missing[tp] = max(expected, committed or 0)
                seek_back(
                    app.consumer,
                    f"offsets {missing[tp]} to {offset - 1} of {tp[0]}/{tp[1]} were read but never "
                    "reached the agent"
                    + ("" if last is not None else " (the first message since its assignment)")
                    + "; they stay uncommitted, and the messages after them wait for them",
                )
                if last is None:
                    check_retained(message.tp, missing[tp])
                decline(message)
                return False
        if offset > handed.get(tp, -1):
            handed[tp] = offset
        return True

    @app.agent(events, name="ingest")
    async def ingest(stream: faust.StreamT) -> None:
        # The body never awaits: a batch is applied, and its state records and dead letters are
        # queued, before take_events can acknowledge it, and the guard holds every commit until
        # they are written. take_events acknowledges a batch however the body ends, so a body
        # that fails must stop the worker before a commit can follow.
        async for batch in stream.take_events(settings.batch_messages, within=settings.batch_within_s):
            try:
                dead = []
                per_topic: dict[str, int] = {}
                declined = 0
                reason = ""
                for event in batch:
                    m = event.message
                    why = fenced(app, m)
                    if why is not None:
                        decline(m)
                        declined, reason = declined + 1, why
                        # awaited like a message that never arrived: no acknowledgement of a later
                        # one may let a commit pass it (Faust commits the first run of acked offsets)
                        tp = (m.topic, m.partition)
                        missing[tp] = min(missing.get(tp, m.offset), m.offset)
                    elif in_order(m):
                        per_topic[m.topic] = per_topic.get(m.topic, 0) + 1
                        dead += pipeline.apply_message(m.topic, m.partition, m.offset, m.key, m.value)
                        last_applied[(m.topic, m.partition)] = (m.offset, m.timestamp)
                if declined:
                    if reason != STOPPING:
                        seek_back(app.consumer, f"{declined} messages were declined ({reason})")
                    log.warning(
                        "%d messages of a batch were not applied (%s): they stay uncommitted for the "
                        "partitions' owner",
                        declined,
                        reason,
                    )
                pipeline.flush()
                for letter in dead:
                    send_dead(letter)
                if on_batch is not None:
                    on_batch(per_topic, sum(per_topic.values()))
            except Exception as exc:
                log.exception("ingest failed on a batch of %d messages", len(batch))
                guard.fail(f"a batch could not be applied and written ({exc!r})")
                raise

    @app.timer(settings.settle_s)
    async def settle() -> None:
        pipeline.settle()

    if settings.state_idle_s > 0:

        @app.timer(settings.state_idle_s)
        async def evict_idle() -> None:
            # in slices between batches (the agent's body never awaits inside one); freeing a
            # week-long state is thousands of objects, so a national eviction is seconds of work
            started = time.perf_counter()
            idle = pipeline.idle_since_last()
            evicted = 0
            for at in range(0, len(idle), EVICT_SLICE):
                evicted += pipeline.drop_decoded(idle[at : at + EVICT_SLICE])
                await asyncio.sleep(0)
            if evicted:
                log.info(
                    "dropped %d idle publics' decoded states in %.1f s (%d stay decoded)",
                    evicted,
                    time.perf_counter() - started,
                    pipeline.decoded(),
                )

    @app.on_partitions_revoked.connect
    async def on_revoked(app_: faust.App, revoked: set, **kwargs: object) -> None:
        pipeline.forget_partitions({tp.partition for tp in revoked if tp.topic in topics.events})
        for tp in revoked:
            handed.pop((tp.topic, tp.partition), None)  # whoever owns it next starts where it was committed
            missing.pop((tp.topic, tp.partition), None)
            last_applied.pop((tp.topic, tp.partition), None)

    return ingest
