"""The ingest agent in Faust's test context: messages in, state and dead letters out, no broker."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
import pytest

from agents import ingest
from streams.app import Records, create_app
from streams.codec import decode
from streams.pipeline import DeadLetter
from streams.settings import WorkerSettings
from streams.table import snapshot
from tests.logs import event


@pytest.fixture
def wired(tmp_path: Path) -> tuple:
    """The agent wired as a worker wires it, with the changelog sends recorded (no broker here)."""
    settings = WorkerSettings(data_dir=tmp_path, app_id="t-agent", batch_within_s=0.01)
    sent: list[tuple[int, Records]] = []

    async def send(partition: int, records: Records) -> None:
        sent.append((partition, records))

    dead: list[DeadLetter] = []

    async def send_dead(letter: DeadLetter) -> None:
        dead.append(letter)

    app, store, pipeline = create_app(settings, send)
    agent = ingest.register(app, pipeline, store, settings, send_dead)
    app.finalize()
    app.flow_control.resume()
    return agent, store.table, pipeline, sent, dead


def test_good_events_reach_the_state_and_bad_ones_the_dead_letters(wired: tuple) -> None:
    agent, table, pipeline, sent, dead = wired
    now = pipeline.clock()
    good = [event("reaction.added", now - 1000 * i, public_id="vk:-7", post_id="p") for i in range(3)]

    async def scenario() -> None:
        async with agent.test_context() as tested:
            await tested.put(orjson.dumps(good), key=b"vk:-7")
            await tested.put(b"{broken", key=b"vk:-7")
            for _ in range(100):
                if pipeline.applied == 3 and sent and dead:
                    break
                await asyncio.sleep(0.02)
            assert tested.crash_reason is None

    asyncio.run(scenario())
    assert (pipeline.applied, pipeline.rejected) == (3, 1)
    assert pipeline.engine.table("vk:-7", now)["reactions_24h"] == 3
    # the batch's state is in the table and went to its changelog, where a restarted worker finds it
    restored = decode("vk:-7", table[b"vk:-7"], [])
    assert snapshot(restored, now)["reactions_24h"] == 3
    assert [key for _, records in sent for key, _ in records] == [b"vk:-7"]
    assert sent[-1][1][-1][1] == table[b"vk:-7"]
    assert [(d.value, d.key, d.reason.split(":")[0]) for d in dead] == [(b"{broken", b"vk:-7", "not JSON")]


def test_records_whose_send_failed_are_sent_again_before_newer_ones(tmp_path: Path) -> None:
    attempts: list[tuple[int, Records]] = []

    async def send(partition: int, records: Records) -> None:
        attempts.append((partition, list(records)))
        if len(attempts) == 1:
            raise ConnectionError("broker away")

    _, store, _ = create_app(WorkerSettings(data_dir=tmp_path, app_id="t-store"), send)
    store.put("vk:-1", 3, b"core")
    with pytest.raises(ConnectionError):
        asyncio.run(store.write_out())
    assert store.get("vk:-1") == b"core"  # readers see the state meanwhile
    store.put("vk:-1|20758", 3, b"day")
    assert asyncio.run(store.write_out()) == 2
    assert attempts[1] == (3, [(b"vk:-1", b"core"), (b"vk:-1|20758", b"day")])
    assert asyncio.run(store.write_out()) == 0
    assert len(attempts) == 2
