"""The ingest agent in Faust's test context: messages in, state and dead letters out, no broker."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
import pytest

from agents import ingest
from agents.edge import delivery
from agents.edge.delivery import DeliveryGuard, RecordNotWritten
from agents.worker import build_worker
from streams.core.layout import StateTooLarge, decode
from streams.core.table import snapshot
from streams.dead_letter import DeadLetter
from streams.settings import WorkerSettings
from tests.logs import event


@pytest.fixture
def wired(tmp_path: Path) -> tuple:
    """The agent wired as a worker wires it, with dead letters recorded (no broker to send them to)."""
    settings = WorkerSettings(data_dir=tmp_path, app_id="t-agent", batch_within_s=0.01)
    dead: list[DeadLetter] = []
    failures: list[str] = []
    worker = build_worker(settings, DeliveryGuard(on_failure=failures.append), dead.append)
    worker.app.finalize()
    worker.app.flow_control.resume()
    return worker.ingest, worker.table, worker.pipeline, dead, failures


def test_good_events_reach_the_state_and_bad_ones_the_dead_letters(wired: tuple) -> None:
    agent, table, pipeline, dead, failures = wired
    now = pipeline.clock()
    good = [event("reaction.added", now - 1000 * i, public_id="vk:-7", post_id="p") for i in range(3)]

    async def scenario() -> None:
        async with agent.test_context() as tested:
            await tested.put(orjson.dumps(good), key=b"vk:-7")
            await tested.put(b"{broken", key=b"vk:-7")
            for _ in range(100):
                if pipeline.applied == 3 and dead:
                    break
                await asyncio.sleep(0.02)
            assert tested.crash_reason is None

    asyncio.run(scenario())
    assert (pipeline.applied, pipeline.rejected) == (3, 1)
    assert pipeline.engine.table("vk:-7", now)["reactions_24h"] == 3
    # the batch's state was written to the changelogged table, where a restarted worker finds it
    restored = decode("vk:-7", {k.decode(): v for k, v in table.items()})
    assert snapshot(restored, now)["reactions_24h"] == 3
    assert [(d.value, d.key, d.reason.split(":")[0]) for d in dead] == [(b"{broken", b"vk:-7", "not JSON")]
    assert failures == [] and len(table.guard.pending) >= 1  # the record is tracked until acknowledged


def test_a_batch_that_cannot_be_written_stops_the_worker_before_any_commit(wired: tuple) -> None:
    agent, table, pipeline, _, failures = wired

    def refuse() -> int:
        raise StateTooLarge("state record vk:-7 would be 300000 bytes")

    pipeline.flush = refuse
    now = pipeline.clock()

    async def scenario() -> None:
        async with agent.test_context() as tested:
            await tested.put(
                orjson.dumps(event("reaction.added", now, public_id="vk:-7", post_id="p")), key=b"vk:-7"
            )
            for _ in range(100):
                if failures:
                    break
                await asyncio.sleep(0.02)

    asyncio.run(scenario())
    assert (
        len(failures) == 1 and "could not be applied and written" in failures[0] and "300000" in failures[0]
    )
    with pytest.raises(RecordNotWritten):
        asyncio.run(table.guard.settle())  # and any commit attempted after it is refused


def test_a_message_read_but_never_handed_to_the_agent_is_sought_back_and_waited_for(
    wired: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The consumer marks a message read and drops it when the flow is suspended while it is handed
    over. The agent sees the jump in offsets, has every partition sought back to its committed
    offset (which cannot have passed the dropped message: it was never acknowledged), and declines
    the messages after it until it comes, so that a public's events are applied in log order."""
    agent, _, pipeline, _, _ = wired
    sought: list[str] = []
    monkeypatch.setattr(ingest, "seek_back", lambda consumer, why: sought.append(why))
    now = pipeline.clock()
    # snapshots of one post, a message each, hours apart: each view delta depends on the one before
    # it and lands in its own hour, so applying them out of order moves views between windows
    hours_ago = [40, 30, 26, 15, 10, 5, 1]
    snapshots = [
        orjson.dumps(
            event("post.metrics", now - h * 3_600_000, public_id="vk:-7", post_id="p", views=10 * (i + 1))
        )
        for i, h in enumerate(hours_ago)
    ]

    async def deliver(offsets: list[int]) -> None:
        async with agent.test_context() as tested:
            for offset in offsets:
                tested.sent_offset = offset
                await tested.put(snapshots[offset], key=b"vk:-7", partition=0)

    pipeline.apply_message(
        "posts",
        0,
        0,
        b"vk:-7",
        orjson.dumps(event("post.published", now - 50 * 3_600_000, public_id="vk:-7", post_id="p")),
    )
    asyncio.run(deliver([0, 1, 4, 3, 5]))  # 2 and 3 never came before 4; 3 comes late
    assert pipeline.applied == 1 + 2 and len(sought) == 1 and "offsets 2 to 3 of" in sought[0]
    asyncio.run(deliver([1, 2, 3, 4, 5, 6]))  # the seek-back redelivers from the committed offset
    assert pipeline.applied == 1 + 7 and len(sought) == 1
    table = pipeline.current_table("vk:-7", now)
    assert table is not None and (table["views_24h"], table["views_7d"]) == (40, 70)  # in log order


def test_a_batch_of_an_older_generation_is_declined_and_waited_for(
    wired: tuple, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A batch gathered before a rebalance can reach the body after it. Applied then, its state
    records could land in the changelog after the partition's next owner recovered it, over that
    owner's newer records. Declined, its offsets stay uncommitted; and the messages after it wait
    for it (sought back), since Faust commits the first run of acknowledged offsets and would pass
    it once a later one is acknowledged (seen in a chaos soak)."""
    agent, table, pipeline, _, _ = wired
    sought: list[str] = []
    monkeypatch.setattr(ingest, "seek_back", lambda consumer, why: sought.append(why))
    stale = {0, 1}  # offsets read in the old generation
    monkeypatch.setattr(
        ingest,
        "fenced",
        lambda app, m: "read in generation 7; the group is at 8" if m.offset in stale else None,
    )
    now = pipeline.clock()
    declined = delivery._declined
    declined.clear()

    async def deliver(offsets: list[int]) -> None:
        async with agent.test_context() as tested:
            for offset in offsets:
                tested.sent_offset = offset
                ev = event(
                    "reaction.added", now - offset, public_id="vk:-7", post_id="p", event_id=f"r{offset}"
                )
                await tested.put(orjson.dumps(ev), key=b"vk:-7", partition=0)

    with caplog.at_level("WARNING"):
        asyncio.run(deliver([0, 1, 2, 3]))  # 0 and 1 stale, 2 and 3 read after them
    assert pipeline.applied == 0 and len(table) == 0 and len(declined) == 4  # no ack lets a commit pass
    assert len(sought) == 1 and "declined (read in generation 7" in sought[0]
    assert "messages of a batch were not applied (read in generation 7; the group is at 8)" in caplog.text
    stale.clear()
    declined.clear()
    asyncio.run(deliver([0, 1, 2, 3]))  # delivered again from the committed offset, in the new generation
    assert pipeline.applied == 4 and not declined


def test_the_fence_names_a_stop_and_an_older_generation() -> None:
    from types import SimpleNamespace

    def app(stopping: bool, generation: int) -> SimpleNamespace:
        return SimpleNamespace(
            consumer=SimpleNamespace(should_stop=stopping),
            should_stop=False,
            consumer_generation_id=generation,
        )

    message = SimpleNamespace(generation_id=3)
    assert ingest.fenced(app(False, 3), message) is None
    assert ingest.fenced(app(True, 3), message) == "the worker is stopping"
    assert ingest.fenced(app(False, 4), message) == "read in generation 3; the group is at 4"


@pytest.mark.parametrize("retained_from", [0, 3])
def test_the_first_message_since_an_assignment_must_be_the_committed_one(
    wired: tuple,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    retained_from: int,
) -> None:
    """A partition newly assigned is read from its committed offset; a first message past it means
    the ones between were read and dropped on the way (no earlier offset shows the jump). Applied,
    its acknowledgement would let a commit pass them (Faust commits the first run of acknowledged
    offsets): they are awaited instead, unless the broker no longer holds them (retention), which
    is said as a loss."""
    agent, _, pipeline, _, _ = wired
    sought: list[str] = []
    asked: list[object] = []
    monkeypatch.setattr(ingest, "seek_back", lambda consumer, why: sought.append(why))
    monkeypatch.setattr(ingest, "committed_offset", lambda consumer, tp: 2)

    async def earliest(*tps: object) -> dict:
        asked.extend(tps)
        return {tp: retained_from for tp in tps}

    monkeypatch.setattr(agent.app.consumer, "earliest_offsets", earliest)
    delivery._declined.clear()
    now = pipeline.clock()

    async def deliver(offsets: list[int]) -> None:
        async with agent.test_context() as tested:
            for offset in offsets:
                tested.sent_offset = offset
                ev = event(
                    "reaction.added", now - offset, public_id="vk:-7", post_id="p", event_id=f"r{offset}"
                )
                await tested.put(orjson.dumps(ev), key=b"vk:-7", partition=0)
            for _ in range(50):  # the broker's answer on retention, asked beside the batch
                if len(sought) == 1 + (retained_from > 2):
                    break
                await asyncio.sleep(0.02)

    with caplog.at_level("WARNING"):
        asyncio.run(deliver([4, 5]))  # 2 and 3 dropped before the agent saw them
    assert pipeline.applied == 0 and len(asked) == 1
    assert "offsets 2 to 3 of" in sought[0] and "the first message since its assignment" in sought[0]
    if retained_from == 0:
        assert len(sought) == 1
        asyncio.run(deliver([2, 3, 4, 5]))  # sought back to the committed offset: in order
        assert pipeline.applied == 4
    else:  # 2 is gone from the broker: a loss said loudly, and the partition goes on from 3
        assert len(sought) == 2 and "now starts at 3" in sought[1]
        assert "offsets 2 to 2 of" in caplog.text and "their events are lost" in caplog.text
        asyncio.run(deliver([3, 4, 5]))
        assert pipeline.applied == 3
