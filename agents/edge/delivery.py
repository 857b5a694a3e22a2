"""Offsets only after what they cover is written: the worker's fail-closed guard.

Faust commits a batch's offsets once the agent has acknowledged its messages, after flushing its
producer. That flush does not make the commit safe on its own: Faust's buffer flush gives up after
0.1 s without progress (records queued behind it are then committed past), and a record the broker
rejects only logs a warning. Either way the state of committed events would never reach the
changelog, and a restart would not bring them back.

``DeliveryGuard`` closes both holes. Every state record and dead letter the worker sends is tracked;
before any commit, the guard waits until each one sent so far is acknowledged by the broker. A
record that fails, or is not acknowledged within ``timeout_s``, stops the worker at once, without
committing (``on_failure``): a restart then resumes from the last commit, before the events whose
records were lost, and dedup absorbs whatever is delivered twice.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from typing import Any, Final

from mode.utils.futures import notify

log = logging.getLogger(__name__)

#: Exit status of a worker stopped because a record was not written (EX_TEMPFAIL: restart it).
EXIT_NOT_WRITTEN: Final = 75


def stop_now(reason: str, status: int = EXIT_NOT_WRITTEN) -> None:
    """The worker's failure action: no commit may follow, so no clean shutdown either."""
    log.critical("%s; stopping without committing offsets: a restart resumes from the last commit", reason)
    logging.shutdown()
    os._exit(status)


class DeliveryGuard:
    def __init__(self, timeout_s: float = 60.0, on_failure: Callable[[str], None] = stop_now) -> None:
        self.timeout_s = timeout_s
        self.on_failure = on_failure
        self.pending: set[asyncio.Future[Any]] = set()
        self.failure: str | None = None
        self.acknowledged = 0

    def track(self, future: asyncio.Future[Any], what: str) -> None:
        """Follow one record's delivery; ``what`` names it in the failure message."""
        self.pending.add(future)
        future.add_done_callback(lambda done: self._done(done, what))

    def _done(self, future: asyncio.Future[Any], what: str) -> None:
        self.pending.discard(future)
        if future.cancelled():
            self.fail(f"{what} was cancelled before the broker acknowledged it")
        elif future.exception() is not None:
            self.fail(f"{what} was not written: {future.exception()!r}")
        else:
            self.acknowledged += 1

    def fail(self, reason: str) -> None:
        if self.failure is None:
            self.failure = reason
            self.on_failure(reason)

    async def settle(self) -> None:
        """Return once every record tracked so far is acknowledged; else fail (and never return).

        Waits as long as the broker acknowledges records: a backlog that moves is load (a national
        catch-up queues tens of thousands of records), one that does not for ``timeout_s`` is a
        broker that stopped answering, and fails the guard."""
        waited = set(self.pending)
        while waited and self.failure is None:
            before = self.acknowledged
            _, late = await asyncio.wait(list(waited), timeout=self.timeout_s)
            waited = set(late)
            if waited and self.acknowledged == before and self.failure is None:
                self.fail(
                    f"{len(waited)} records were not acknowledged, and none was acknowledged for "
                    f"{self.timeout_s:g} s"
                )
        if self.failure is not None:
            raise RecordNotWritten(self.failure)

    def hold_commits_of(self, app: Any) -> None:
        """Make every commit of ``app`` wait for exactly the records sent before it: Faust awaits its
        producer's ``flush`` right before committing offsets (and when partitions are revoked), so
        that ``flush`` becomes ``settle``.

        Faust's own flush is not awaited. It drains its buffer until no record has been sent for
        0.1 s: too early under a slow broker (records left unsent, docs/upstream/faust-flush.md), and
        never while records keep coming. A KPI round judging a whole nation keeps the producer busy
        for minutes, and every commit waited for the round to end (``bench.national``: no offset
        committed for 121 s, a stall report). Every record a commit covers is tracked here (state and
        breach changelogs, dead letters, KPI transitions) and Faust's buffer sends them in the
        background, so the records tracked so far are the whole condition; the aiokafka producer's
        flush, which waited up to Faust's 20-minute request timeout for a broker that never answers,
        is not awaited either.
        """
        app.producer.flush = self.settle


class RecordNotWritten(RuntimeError):
    """A tracked record failed: raised into a commit when ``on_failure`` let the worker go on."""


_guarded_topics: set[str] = set()
#: The broker's committed offsets as heard by the seek under way in this task (``_perform_seek``).
_committed_answer: ContextVar[dict[Any, int | None] | None] = ContextVar("committed_answer", default=None)


def seek_back(consumer: Any, why: str) -> None:
    """Seek every partition back to its committed offset (one seek-back at a time), so that
    what ``why`` says was passed over is delivered again."""
    if not getattr(consumer, "_gospulse_reseeking", False):
        log.warning("%s, and every partition is sought back to its committed offset to deliver it again", why)
        consumer._gospulse_reseeking = True
        consumer.stop_flow()  # the fetch being drained stops here; the seek waits for it
        consumer._gospulse_seeking_back = asyncio.ensure_future(_seek_back(consumer))  # kept


async def _seek_back(consumer: Any) -> None:
    try:
        await consumer.wait_for_stopped_flow()
        await asyncio.sleep(0.1)  # the drain loop records the offset it was delivering first
        while consumer.app.rebalancing:  # a rebalance seeks to the committed offsets itself
            await asyncio.sleep(0.1)
        await consumer.perform_seek()
        log.warning("sought every partition back to its committed offset; delivering again")
    except Exception:  # the next rebalance or restart seeks back anyway; nothing was committed
        log.exception("could not seek back to the committed offsets")
    finally:
        consumer._gospulse_reseeking = False
        if not consumer.app.rebalancing:
            consumer.resume_flow()


#: Messages the agent was handed but declined (topic, partition, offset): they come after a
#: message that never reached it, and are applied only once that one has, in log order.
_declined: set[tuple[str, int, int]] = set()


def decline(message: Any) -> None:
    """Hand ``message`` back unprocessed: its ack is refused, so no commit passes it, and it comes
    again with the seek-back that redelivers the message missing before it."""
    _declined.add((message.topic, message.partition, message.offset))


def never_commit_unprocessed(topics: Iterable[str]) -> None:
    """Never let a commit pass a message of ``topics`` that the agent did not process.

    Faust acknowledges two kinds of messages nobody processed, so that a commit passes them:

    - a jump in a partition's offsets (a *gap*, expected in compacted topics), which it fills with
      acknowledgements. The event topics are never compacted: a gap there means fetched messages
      were dropped. Faust drops the rest of a fetch when a rebalance stops the flow mid-iteration
      and relies on seeking back to the committed offset afterwards; when that seek fails
      (``exception performing seek when flow not active``, seen in the two-workers test), the
      consumer goes on from past the dropped messages and the gap acknowledges them;
    - in its pure-Python stream iterator (used where the Cython one is not built), a message the
      stream skips because a rebalance is under way: it is acked "so that the lag does not grow".

    And a third way, with no gap to show it: aiokafka seeks a partition to its committed offset only
    when there is one, so after a rebalance a partition with nothing committed yet resumes from
    wherever an earlier assignment's fetch left it, past messages that were fetched and dropped.
    Here such partitions are sought to their start.

    Here neither is acknowledged on the event topics: a gap is logged, not filled, and an ack of a
    message never tracked as delivered to the agent is refused, so no commit passes them. And a gap
    is mended at once: the consumer's flow is stopped, every partition is sought back to its
    committed offset (Faust's own ``perform_seek``, which also resets its read offsets), and the
    flow resumes, so the skipped messages are delivered now; whatever is delivered twice, dedup
    absorbs.
    """
    from faust.transport.consumer import Consumer
    from faust.transport.drivers import aiokafka as driver
    from faust.types import TP

    _guarded_topics.update(topics)
    if getattr(Consumer.ack, "gospulse", False):
        return
    ack = Consumer.ack
    add_gap = Consumer._add_gap

    def _ack(self: Any, message: Any) -> bool:
        key = (message.topic, message.partition, message.offset)
        if key in _declined:
            _declined.discard(key)
            self._unacked_messages.discard(message)  # not waited for: it is delivered again
            notify(self._waiting_for_ack)
            return False
        if message.topic in _guarded_topics and not message.tracked:
            # skipped by its stream (its flow was stopped, or it was fetched for an older
            # generation), never delivered to the agent: it must come again. Its offset stays
            # uncommitted, but this consumer has read past it, so it is sought back for now.
            seek_back(
                self,
                f"the stream skipped {message.topic}/{message.partition}@{message.offset} without "
                "delivering it; it stays uncommitted",
            )
            return False
        return ack(self, message)

    async def _add_gap(self: Any, tp: Any, offset_from: int, offset_to: int) -> None:
        if tp.topic not in _guarded_topics:
            await add_gap(self, tp, offset_from, offset_to)
            return
        committed = self._committed_offset[tp]  # the next offset a restart would read
        if committed is not None:
            offset_from = max(offset_from, committed)
        if offset_from >= offset_to:
            return  # everything skipped is committed already (another worker processed it)
        seek_back(
            self,
            f"the consumer skipped offsets {offset_from} to {offset_to - 1} of {tp.topic}/{tp.partition}; "
            "they stay uncommitted",
        )

    perform_seek = Consumer.perform_seek
    seek_to_committed = driver.Consumer.seek_to_committed

    async def _seek_to_committed(self: Any) -> Any:
        answer = await seek_to_committed(self)
        heard = _committed_answer.get()
        if heard is not None:
            heard.update(answer)
        return answer

    async def _perform_seek(self: Any) -> None:
        # aiokafka's seek_to_committed leaves a partition with nothing committed (or 0) where its
        # fetch position happens to be: after a rebalance that is past whatever an earlier
        # assignment fetched and dropped, and no gap shows it (there is no read offset yet). So
        # event partitions the broker answers "nothing committed" for are sought to their start;
        # dedup absorbs what comes twice. The broker's answer to this very seek decides: Faust's
        # own record of commits can lag an assignment made while the seek was under way.
        heard: dict[Any, int | None] = {}
        token = _committed_answer.set(heard)
        try:
            await perform_seek(self)
        finally:
            _committed_answer.reset(token)
        to_start = sorted(
            (tp.topic, tp.partition)
            for tp, offset in heard.items()
            if tp.topic in _guarded_topics and not offset
        )
        if to_start:
            # everything of these partitions comes again: said, since it is what a lost commit looks like
            log.warning(
                "no offset committed for %s (the broker's answer): reading them from their start",
                ", ".join(f"{topic}/{partition}" for topic, partition in to_start),
            )
        for topic, partition in to_start:
            await self.seek(TP(topic, partition), 0)

    _ack.gospulse = True  # type: ignore[attr-defined]
    Consumer.ack = _ack  # type: ignore[method-assign]
    Consumer._add_gap = _add_gap  # type: ignore[method-assign]
    Consumer.perform_seek = _perform_seek  # type: ignore[method-assign]
    driver.Consumer.seek_to_committed = _seek_to_committed  # type: ignore[method-assign]
