"""One truth for counts: whatever opens, closes, is judged again, revoked or reassigned, the evaluator's
counts after a sweep (what /health, /breaches/open, /metrics and the status line read) equal a count
from scratch of the contract's breaches at the sweep's instant, and none is ever negative."""

from __future__ import annotations

import asyncio

import orjson
from hypothesis import example, given, settings
from hypothesis import strategies as st

from agents.kpi import KpiLive
from agents.routing import partition_of
from streams.core.engine import Engine
from streams.core.profiles import BUILT_IN_PROFILES
from streams.core.registry import PublicInfo, Registry
from streams.pipeline import Pipeline
from tests.examples import examples
from tests.logs import BASE, DAY, HOUR, published
from tests.streams.test_pipeline import DictStore

PARTITIONS = 3
PUBLICS = [f"vk:-{n}" for n in range(1, 9)]
TOPIC = "t.posts"
SEGMENT = {"region": "RU-NIZ", "level": "municipal", "theme": "culture"}

steps = st.lists(
    st.one_of(
        # posts of a public, some hours before the clock
        st.tuples(st.just("posts"), st.sampled_from(PUBLICS), st.integers(1, 4), st.integers(0, 200)),
        st.tuples(st.just("time"), st.integers(1, 96)),  # the clock moves on, in hours
        st.tuples(st.just("pending"), st.none()),  # the publics with events are judged now
        st.tuples(st.just("sweep"), st.none()),
        st.tuples(st.just("round"), st.none()),  # the changed, the newly owned and the due publics
        st.tuples(st.just("revoke"), st.integers(0, PARTITIONS - 1)),
        st.tuples(st.just("assign"), st.integers(0, PARTITIONS - 1)),
    ),
    max_size=30,
)


#: A public posts, then nothing for eight days: only its due times bring its breaches to the rounds.
QUIET_WEEK = [("posts", "vk:-1", 4, 2), ("round", None), *[("time", 96), ("round", None)] * 2]


class World:
    """A worker's evaluator over a real pipeline and engine, its partitions set by the steps."""

    def __init__(self) -> None:
        registry = Registry()
        for public_id in PUBLICS[::2]:  # half registered (judged with no events), half not
            record = {"v": 1, "public_id": public_id, "name": public_id, **SEGMENT}
            registry.put(PublicInfo.from_record(record))
        self.now = BASE + 10 * DAY
        self.pipeline = Pipeline(DictStore(), Engine(registry, BUILT_IN_PROFILES), clock=lambda: self.now)
        self.owned: set[int] = set(range(PARTITIONS))
        self.offset = 0
        self.sent: list[bytes] = []
        self.kpi = KpiLive(
            self.pipeline,
            {},  # type: ignore[arg-type]  # the breach table's mapping interface
            lambda public_id, value: self.sent.append(value),
            lambda: set(self.owned),
            lambda: [p for p, part in self.pipeline.held().items() if part in self.owned],
            PARTITIONS,
            clock=lambda: self.now,
        )
        self.pipeline.add_sink(self.kpi)

    def posts(self, public_id: str, n: int, hours_ago: int) -> None:
        partition = partition_of(public_id, PARTITIONS)
        if partition not in self.owned:
            return  # another worker's public: its events go there
        for i in range(n):
            ev = published(self.now - hours_ago * HOUR - i * 60_000, f"p{self.offset}", public_id=public_id)
            self.pipeline.apply_message(TOPIC, partition, self.offset, public_id.encode(), orjson.dumps(ev))
            self.offset += 1
        self.pipeline.flush()

    def revoke(self, partition: int) -> None:
        self.owned.discard(partition)
        self.pipeline.forget_partitions({partition})
        self.kpi.revoked({partition})


@settings(max_examples=examples(300))
@example(
    [("posts", "vk:-1", 4, 2), ("round", None), ("time", 96), ("round", None), ("time", 96), ("round", None)]
)
@given(steps)
def test_counts_after_a_sweep_or_a_round_equal_a_count_from_scratch(script: list) -> None:
    world = World()

    async def run() -> None:
        for step in script:
            match step:
                case ("posts", public_id, n, hours_ago):
                    world.posts(public_id, n, hours_ago)
                case ("time", hours):
                    world.now += hours * HOUR
                case ("pending", _):
                    await world.kpi.evaluate_pending()
                case ("sweep", _):
                    await world.kpi.sweep(world.now)
                    assert_counts(world)
                case ("round", _):
                    # publics left unjudged keep verdicts that hold until they are due
                    await world.kpi.judge_due(world.now)
                    assert_counts(world)
                case ("revoke", partition):
                    world.revoke(partition)
                case ("assign", partition):
                    world.owned.add(partition)
            tally = world.kpi.tally
            assert tally.open_breaches >= 0 and len(tally) >= 0 and len(tally.breaching) >= 0
            # at every moment, only publics of partitions owned now are counted here
            assert {partition_of(p, PARTITIONS) for p in tally} <= world.owned
        await world.kpi.sweep(world.now)
        assert_counts(world)

    asyncio.run(run())


def assert_counts(world: World) -> None:
    at = world.kpi.stats.judged_at
    assert at is not None
    owned = world.kpi.owned()
    from_scratch = [b for public_id in owned for b in world.kpi.breaches_now(public_id, at)]
    tally = world.kpi.tally
    assert sorted(tally) == sorted(owned)
    assert tally.open_breaches == len(from_scratch)
    assert set(tally.breaching) == {b["public_id"] for b in from_scratch}
    # the open set (what transitions were told) says the same
    assert {p for p in owned if world.kpi.open_breaches(p)} == set(tally.breaching)
    publics, listed = tally.worst({}, None)  # /breaches/open
    assert publics == len(tally.breaching) and len(listed) == tally.open_breaches


def test_a_public_the_registry_adds_between_sweeps_is_judged_at_the_next_round() -> None:
    world = World()
    newcomer = "vk:-100"  # a public no script step knows; every partition is owned at first

    async def run() -> None:
        await world.kpi.judge_due(world.now)
        record = {"v": 1, "public_id": newcomer, "name": newcomer, **SEGMENT}
        world.pipeline.engine.registry.put(PublicInfo.from_record(record))
        world.kpi.registered(newcomer)  # as the registry feed tells it
        await world.kpi.judge_due(world.now + 1)
        assert newcomer in world.kpi.tally.breaching  # registered, silent: in breach at once
        assert_counts(world)

    asyncio.run(run())


def test_a_round_waits_for_room_between_its_slices_and_then_judges_all(monkeypatch: object) -> None:
    """Judging every public at once (after a catch-up) waits, between slices, until the records it
    sent are acknowledged enough (``room``): the evaluation pauses there, and ends whole."""
    import agents.kpi

    monkeypatch.setattr(agents.kpi, "SLICE_S", 0.0)  # type: ignore[attr-defined]  # a slice per public
    world = World()
    opened = asyncio.Event()
    waits: list[int] = []

    async def room() -> None:
        waits.append(len(world.sent))
        await opened.wait()

    world.kpi.room = room

    async def run() -> None:
        judging = asyncio.ensure_future(world.kpi.evaluate(PUBLICS, world.now))
        for _ in range(20):
            await asyncio.sleep(0)
        assert len(waits) == 1 and not judging.done()  # held after its first slice
        opened.set()
        await judging
        assert len(waits) == len(PUBLICS) and world.kpi.stats.evaluated == len(PUBLICS)

    asyncio.run(run())
