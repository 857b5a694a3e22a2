"""The owned publics kept between rebalances: after any run of writes, registry changes, rebalances and
recoveries, each list equals one computed from scratch by walking the table and the registry."""

from __future__ import annotations

from types import SimpleNamespace

from faust.types import TP
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.owned import OwnedPublics
from agents.routing import partition_of
from tests.examples import examples

PARTITIONS = 4
TOPIC = "t.posts"
PUBLICS = [f"vk:-{n}" for n in range(1, 25)]

steps = st.lists(
    st.one_of(
        st.tuples(st.just("write"), st.sampled_from(PUBLICS)),  # a flush: its records, sinks told
        st.tuples(st.just("recovered"), st.sampled_from(PUBLICS)),  # read from the changelog, untold
        st.tuples(st.just("register"), st.sampled_from(PUBLICS)),
        st.tuples(st.just("unregister"), st.sampled_from(PUBLICS)),
        st.tuples(st.just("assign"), st.frozensets(st.integers(0, PARTITIONS - 1))),  # a rebalance begins
        st.tuples(st.just("recovery_done"), st.none()),
        st.tuples(st.just("list"), st.none()),
    ),
    max_size=40,
)


class Consumer:
    def __init__(self) -> None:
        self.partitions: frozenset[int] = frozenset(range(PARTITIONS))

    def assignment(self) -> set[TP]:
        return {TP(TOPIC, p) for p in self.partitions}


class Completed:
    def __init__(self) -> None:
        self.done = True

    def is_set(self) -> bool:
        return self.done


@settings(max_examples=examples(300), deadline=None)
@given(steps)
def test_the_kept_lists_equal_a_walk_from_scratch(script: list) -> None:
    table: dict[bytes, bytes] = {}
    registry: set[str] = set()
    recovery = SimpleNamespace(in_recovery=False, completed=Completed())
    app = SimpleNamespace(
        consumer=Consumer(), consumer_generation_id=1, tables=SimpleNamespace(recovery=recovery)
    )
    owned = OwnedPublics(app, table, (TOPIC,), PARTITIONS, lambda: sorted(registry), registry.__contains__)

    def from_scratch(registered_too: bool) -> list[str]:
        mine = app.consumer.partitions
        publics = {k.decode() for k in table if b"|" not in k}
        if registered_too:
            publics |= registry
        return sorted(p for p in publics if partition_of(p, PARTITIONS) in mine)

    for step, arg in [*script, ("list", None)]:
        if step == "write":
            table[arg.encode()] = b"root"
            table[f"{arg}|d|0".encode()] = b"page"
            owned.changed([arg])
        elif step == "recovered":
            if recovery.in_recovery:  # a recovery fills the table of the new assignment
                table[arg.encode()] = b"root"
        elif step in ("register", "unregister"):
            (registry.add if step == "register" else registry.discard)(arg)
            owned.registry_changed(arg)
        elif step == "assign":
            app.consumer.partitions = arg
            app.consumer_generation_id += 1
            recovery.in_recovery, recovery.completed.done = True, False
        elif step == "recovery_done":
            recovery.in_recovery, recovery.completed.done = False, True
        else:
            assert owned.with_state() == from_scratch(False)
            assert owned.all() == from_scratch(True)


def test_a_list_is_built_once_per_assignment_not_per_request() -> None:
    table = {p.encode(): b"root" for p in PUBLICS}
    recovery = SimpleNamespace(in_recovery=False, completed=Completed())
    app = SimpleNamespace(
        consumer=Consumer(), consumer_generation_id=1, tables=SimpleNamespace(recovery=recovery)
    )
    owned = OwnedPublics(app, table, (TOPIC,), PARTITIONS, list, lambda p: False)
    first = owned.all()
    assert owned.all() is first and owned.with_state() == first and owned.rebuilds == 1
    owned.changed(["vk:-999"])  # a new public's first records
    assert "vk:-999" in owned.all() and owned.rebuilds == 1
    app.consumer_generation_id = 2  # a rebalance
    owned.all()
    assert owned.rebuilds == 2
