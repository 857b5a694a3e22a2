"""Why the delivery guard exists, shown on Faust itself, and what it changes.

Faust awaits ``producer.flush()`` right before it commits offsets, so a commit looks safe. But its
buffer's flush gives up once no record has been sent for 0.1 s, with records still queued: under
load (a slow broker, a large backlog of state records at a rebalance or a stop) offsets were
committed ahead of the state records that cover them, and a worker that then left the group or
died took those records with it. The guard's flush returns only when every tracked record is
acknowledged, and fails when one is refused.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import faust
import pytest

from agents.edge.delivery import DeliveryGuard, RecordNotWritten


def _slow_buffer(seconds_per_record: float, fail: set[int] | None = None) -> tuple[Any, list[asyncio.Future]]:
    """Faust's own producer buffer, with a broker that takes ``seconds_per_record`` per record."""
    app = faust.App("t-delivery")  # no broker is contacted: the buffer alone is started
    buffer = app.producer.buffer
    futures: list[asyncio.Future] = []

    async def send(fut: asyncio.Future) -> None:
        await asyncio.sleep(seconds_per_record)
        if fail and futures.index(fut) in fail:
            fut.set_exception(RuntimeError("broker refused the record"))
        else:
            fut.set_result(None)

    buffer._send_pending = send
    return buffer, futures


def test_fausts_flush_returns_with_records_unsent_and_the_guards_does_not() -> None:
    async def scenario() -> None:
        buffer, futures = _slow_buffer(0.15)
        await buffer.start()
        futures.extend(asyncio.get_running_loop().create_future() for _ in range(8))
        for fut in futures:
            buffer.put(fut)
        await buffer.flush()
        unsent = sum(not f.done() for f in futures)
        assert unsent >= 5, "Faust's flush waited for the records after all"  # it gave up after 0.1 s

        guard = DeliveryGuard(timeout_s=10, on_failure=pytest.fail)
        for n, fut in enumerate(futures):
            guard.track(fut, f"record {n}")
        started = time.monotonic()
        await guard.settle()
        assert all(f.done() for f in futures) and guard.acknowledged == len(futures)
        assert time.monotonic() - started >= 0.15 * (unsent - 1)
        await buffer.stop()

    asyncio.run(scenario())


def test_a_refused_record_fails_the_guard_before_any_commit() -> None:
    async def scenario() -> None:
        buffer, futures = _slow_buffer(0.01, fail={2})
        await buffer.start()
        failures: list[str] = []
        guard = DeliveryGuard(timeout_s=10, on_failure=failures.append)
        futures.extend(asyncio.get_running_loop().create_future() for _ in range(4))
        for n, fut in enumerate(futures):
            guard.track(fut, f"state record {n}")
            buffer.put(fut)
        with pytest.raises(RecordNotWritten, match="state record 2 was not written"):
            await guard.settle()
        assert failures == ["state record 2 was not written: RuntimeError('broker refused the record')"]
        await buffer.stop()

    asyncio.run(scenario())


def test_a_record_never_acknowledged_fails_the_guard_after_its_timeout() -> None:
    async def scenario() -> None:
        failures: list[str] = []
        guard = DeliveryGuard(timeout_s=0.2, on_failure=failures.append)
        guard.track(asyncio.get_running_loop().create_future(), "state record 'vk:-1'")
        with pytest.raises(RecordNotWritten):
            await guard.settle()
        assert failures == ["1 records were not acknowledged, and none was acknowledged for 0.2 s"]

    asyncio.run(scenario())


def test_a_backlog_the_broker_keeps_acknowledging_is_waited_for_past_the_timeout() -> None:
    """A national catch-up queues tens of thousands of records before a commit: as long as the
    broker acknowledges some every ``timeout_s``, that is load, not a dead broker (two workers
    stopped themselves that way at 175 000 publics)."""

    async def scenario() -> None:
        failures: list[str] = []
        guard = DeliveryGuard(timeout_s=0.2, on_failure=failures.append)
        loop = asyncio.get_running_loop()
        backlog = [loop.create_future() for _ in range(10)]
        for n, future in enumerate(backlog):
            guard.track(future, f"state record {n}")
            loop.call_later(0.1 * (n + 1), future.set_result, None)  # one every 0.1 s: 1 s in all
        started = loop.time()
        await guard.settle()
        assert failures == [] and guard.acknowledged == 10 and loop.time() - started >= 0.9

    asyncio.run(scenario())


def test_a_gap_in_an_event_topic_is_never_acknowledged_and_is_sought_back(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Faust counts skipped offsets as processed (right for compacted topics). On event topics a
    gap means a rebalance dropped fetched messages: it stays unacknowledged, and the consumer is
    sought back to its committed offsets, with its flow stopped meanwhile, so they come again."""
    from collections import defaultdict
    from types import SimpleNamespace

    from faust.transport.consumer import Consumer
    from faust.types import TP
    from intervaltree import IntervalTree

    from agents.edge.delivery import never_commit_unprocessed

    never_commit_unprocessed(["t-gap.posts"])
    calls: list[str] = []

    async def perform_seek() -> None:
        calls.append("seek")

    async def idle() -> None:
        return None

    consumer = SimpleNamespace(
        app=SimpleNamespace(rebalancing=False),
        _committed_offset=defaultdict(lambda: None),
        _gap=defaultdict(IntervalTree),
        stop_flow=lambda: calls.append("stop"),
        resume_flow=lambda: calls.append("resume"),
        wait_for_stopped_flow=idle,
        perform_seek=perform_seek,
    )

    async def scenario() -> None:
        consumer._committed_offset[TP("t-gap.posts", 2)] = 30
        await Consumer._add_gap(consumer, TP("t-gap.posts", 2), 10, 30)  # all committed: not a loss
        await Consumer._add_gap(consumer, TP("t-gap.posts", 3), 10, 14)
        await Consumer._add_gap(consumer, TP("t-gap.posts", 1), 20, 22)  # one seek mends both
        await asyncio.sleep(0.3)
        await Consumer._add_gap(consumer, TP("t-gap.compacted", 0), 10, 14)

    asyncio.run(scenario())
    assert not consumer._gap[TP("t-gap.posts", 3)] and not consumer._gap[TP("t-gap.posts", 1)]
    assert calls == ["stop", "seek", "resume"]
    assert "skipped offsets 10 to 13 of t-gap.posts/3" in caplog.text
    assert consumer._gap[TP("t-gap.compacted", 0)]  # other topics keep Faust's behaviour


def test_a_message_skipped_by_its_stream_is_never_acknowledged_and_is_delivered_again() -> None:
    """Faust acks a message its stream skips (flow suspended, or fetched under the previous
    generation) without processing it; on event topics that ack is refused, so that no commit can
    pass it, and every partition is sought back to its committed offset, so that it comes again now
    (seen: a worker that had read past such a message served a table without it until a restart)."""
    from collections import defaultdict
    from types import SimpleNamespace

    from faust.transport.consumer import Consumer
    from faust.types import TP
    from faust.types.tuples import Message

    from agents.edge.delivery import decline, never_commit_unprocessed

    never_commit_unprocessed(["t-skip.posts"])
    calls: list[str] = []

    async def wait_for_stopped_flow() -> None:
        calls.append("waited")

    async def perform_seek() -> None:
        calls.append("sought back")

    consumer = SimpleNamespace(
        app=SimpleNamespace(topics=SimpleNamespace(acks_enabled_for=lambda topic: True), rebalancing=False),
        stop_flow=lambda: calls.append("flow stopped"),
        wait_for_stopped_flow=wait_for_stopped_flow,
        perform_seek=perform_seek,
        resume_flow=lambda: calls.append("flow resumed"),
        _committed_offset=defaultdict(lambda: None),
        _acked_index=defaultdict(set),
        _acked=defaultdict(list),
        _unacked_messages=set(),
        _n_acked=0,
        _waiting_for_ack=None,
    )

    def message(offset: int, tracked: bool) -> Message:
        m = Message("t-skip.posts", 0, offset, 0.0, 0, [], b"k", b"v", None)
        m.tracked = tracked
        return m

    async def scenario() -> None:
        assert not Consumer.ack(consumer, message(7, tracked=False))  # skipped: not acknowledged
        assert Consumer.ack(consumer, message(8, tracked=True))  # delivered to the agent and processed
        assert not Consumer.ack(consumer, message(9, tracked=False))  # one seek-back at a time
        await consumer._gospulse_seeking_back

    asyncio.run(scenario())
    assert consumer._acked[TP("t-skip.posts", 0)] == [8]
    assert calls == ["flow stopped", "waited", "sought back", "flow resumed"]

    # a message the agent declined (it waits for one missing before it) is not acknowledged either,
    # and is not waited for as unacknowledged: it is delivered again
    declined = message(10, tracked=True)
    consumer._unacked_messages.add(declined)
    decline(declined)
    assert not Consumer.ack(consumer, declined)
    assert declined not in consumer._unacked_messages and 10 not in consumer._acked[TP("t-skip.posts", 0)]


def test_a_commit_never_waits_on_the_producers_own_flush() -> None:
    """Seen under load on the embedded broker: a produce request never answered held the producer's
    flush (and with it every commit) for Faust's 20-minute request timeout, the worker silent. The
    commit waits for the tracked records only, and fails when none is acknowledged in time."""
    from types import SimpleNamespace

    async def scenario() -> None:
        failures: list[str] = []
        guard = DeliveryGuard(timeout_s=0.2, on_failure=failures.append)
        never = asyncio.Event()
        app = SimpleNamespace(producer=SimpleNamespace(flush=never.wait))
        guard.hold_commits_of(app)
        loop = asyncio.get_running_loop()
        written = loop.create_future()
        guard.track(written, "state record 'vk:-2'")
        loop.call_later(0.05, written.set_result, None)
        await asyncio.wait_for(
            app.producer.flush(), timeout=30
        )  # returns: the flush that never does is not awaited
        guard.track(loop.create_future(), "state record 'vk:-1'")
        with pytest.raises(RecordNotWritten):
            await app.producer.flush()
        assert failures == ["1 records were not acknowledged, and none was acknowledged for 0.2 s"]

    asyncio.run(scenario())


def test_a_commit_waits_for_the_records_before_it_not_for_a_stream_that_goes_on() -> None:
    """A KPI round judging a whole nation keeps records coming for minutes; Faust's buffer flush
    drains until the buffer stays empty for 0.1 s, so a commit behind it waited for the whole round
    (bench.national: no offset committed for 121 s). The guard's commit returns once the records
    sent before it are acknowledged, while the stream still goes on."""
    from types import SimpleNamespace

    async def scenario() -> None:
        buffer, futures = _slow_buffer(0.002)
        await buffer.start()
        guard = DeliveryGuard(timeout_s=30, on_failure=pytest.fail)
        loop = asyncio.get_running_loop()
        committed = asyncio.Event()

        def send_one() -> asyncio.Future:
            future = loop.create_future()
            futures.append(future)
            guard.track(future, f"record {len(futures)}")
            buffer.put(future)
            return future

        async def stream() -> None:  # two records each time the buffer sends one: it never drains
            deadline = loop.time() + 30
            while not committed.is_set() and loop.time() < deadline:
                send_one(), send_one()
                await asyncio.sleep(0.002)

        before = [send_one() for _ in range(20)]
        producing = asyncio.ensure_future(stream())
        await asyncio.sleep(0.01)  # the stream has begun
        faust_flush = asyncio.ensure_future(buffer.flush())
        app = SimpleNamespace(producer=SimpleNamespace(flush=buffer.flush))
        guard.hold_commits_of(app)
        await app.producer.flush()  # what Faust awaits right before a commit
        assert all(f.done() for f in before)
        assert not producing.done() and not faust_flush.done(), "the stream went on; Faust's flush with it"
        committed.set()
        await producing
        await faust_flush
        await buffer.stop()

    asyncio.run(scenario())


def test_only_partitions_the_broker_says_have_no_commit_are_read_from_their_start(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """aiokafka leaves a partition with nothing committed wherever an earlier fetch left it, past
    messages dropped then: such event partitions are sought to offset 0. The broker's answer to this
    seek decides: judged from the assignment against Faust's record of commits instead, a partition
    assigned while the seek ran (absent from its answer) was read again from its start."""
    from types import SimpleNamespace

    from faust.transport.consumer import Consumer
    from faust.types import TP

    from agents.edge.delivery import never_commit_unprocessed

    never_commit_unprocessed(["t-start.posts"])
    app = faust.App("t-start", broker="kafka://127.0.0.1:1")  # nothing is contacted
    consumer = app.consumer
    sought: list[tuple[TP, int]] = []
    answer = {TP("t-start.posts", 0): None, TP("t-start.posts", 1): 1208, TP("t-start.other", 0): None}

    async def seek_to_committed() -> dict[TP, int | None]:
        return answer

    async def seek(tp: TP, offset: int) -> None:
        sought.append((tp, offset))

    consumer._thread = SimpleNamespace(seek_to_committed=seek_to_committed)
    consumer.seek = seek
    asyncio.run(Consumer.perform_seek(consumer))
    assert sought == [(TP("t-start.posts", 0), 0)]  # not the one with commits, nor another topic
    assert consumer._committed_offset[TP("t-start.posts", 1)] == 1208
    assert "no offset committed for t-start.posts/0 (the broker's answer)" in caplog.text
