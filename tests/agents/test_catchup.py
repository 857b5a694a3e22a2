"""Catching up, as pure logic: how old a partition's backlog is, when the derived work waits for it,
and that it starts again once the backlog has shrunk under half the bound."""

from __future__ import annotations

import math

from agents.catchup import CatchUp, ages, catching_up

P0, P1 = ("t.posts", 0), ("t.posts", 1)


def test_a_backlogs_age_is_the_broker_time_of_the_last_applied_message() -> None:
    applied = {P0: (9, 100.0), P1: (4, 130.0)}
    # P0: offsets 10 and 11 wait, so the oldest came no earlier than offset 9 (t=100); P1 is read
    assert ages({P0: 12, P1: 5}, {P0: 8, P1: 5}, applied, now=160.0) == {P0: 60.0, P1: 0.0}


def test_a_backlog_not_yet_touched_since_the_assignment_is_of_unknown_age() -> None:
    assert ages({P0: 12}, {P0: 3}, {}, now=0.0) == {P0: math.inf}  # a start onto a backlog
    assert ages({P0: 3}, {P0: 3}, {}, now=0.0) == {P0: 0.0}  # nothing waits past the commit
    assert ages({P0: 2}, {P0: None}, {}, now=0.0) == {P0: math.inf}  # a new group reads from the start
    assert ages({P0: None}, {P0: 3}, {}, now=0.0) == {P0: math.inf}  # no fetch answered yet


def test_the_bound_is_crossed_upward_at_it_and_downward_at_half_of_it() -> None:
    assert not catching_up(30.0, was=False, after_s=30.0)
    assert catching_up(30.5, was=False, after_s=30.0)
    assert catching_up(16.0, was=True, after_s=30.0)
    assert not catching_up(15.0, was=True, after_s=30.0)
    assert not catching_up(math.inf, was=False, after_s=0.0)  # 0: the derived work never waits


def test_the_derived_work_waits_through_a_catch_up_and_is_told_how_much_waits_for_it() -> None:
    lag: dict[tuple[str, int], float] = {P0: math.inf}
    clock = iter(range(100)).__next__
    catch_up = CatchUp(lambda: lag, after_s=30.0, waiting=lambda: 7, clock=lambda: float(clock()))
    catch_up.started = -1e9  # long since started
    assert catch_up.check() and catch_up.active and catch_up.episodes == 1
    lag[P0] = 400.0
    assert catch_up.check()
    lag[P0] = 20.0  # under the bound, not yet under half of it
    assert catch_up.check()
    lag[P0] = 14.0
    assert not catch_up.check() and not catch_up.active and catch_up.since is None
    lag[P0] = 31.0
    assert catch_up.check() and catch_up.episodes == 2
    assert not CatchUp(lambda: lag, after_s=0.0).check()


def test_history_read_as_fast_as_it_comes_still_holds_the_derived_work_until_it_stops() -> None:
    """The simulator's past or a backfill arrives no faster than the worker applies it, so nothing
    waits; the tables are partial all the same until the history ends."""
    now = [0.0]
    history = [0]
    catch_up = CatchUp(lambda: {P0: 0.0}, after_s=30.0, clock=lambda: now[0], history=lambda: history[0])
    catch_up.started = -1e9  # long since started
    assert not catch_up.check()  # live traffic only
    history[0] = 5  # history messages applied
    now[0] = 1.0
    assert catch_up.check() and catch_up.episodes == 1
    for t in (10.0, 20.0, 40.0):  # more history keeps coming
        history[0] += 100
        now[0] = t
        assert catch_up.check()
    now[0] = 69.0  # 29 s without history
    assert catch_up.check()
    now[0] = 70.5  # the bound without history: judged again
    assert not catch_up.check() and catch_up.episodes == 1


def test_nothing_is_judged_in_the_first_bound_after_a_start() -> None:
    """A producer sends the registry, then the past: judged in between, every registered public
    would break posting and silence. A start holds for the bound, then history holds on its own."""
    now = [100.0]
    history = [0]
    catch_up = CatchUp(lambda: {P0: 0.0}, after_s=30.0, clock=lambda: now[0], history=lambda: history[0])
    assert catch_up.check()  # just started: the registry may have come, the history not yet
    now[0] = 129.0
    assert catch_up.check()
    now[0] = 131.0  # nothing old came in the bound: live from the start
    assert not catch_up.check() and catch_up.episodes == 1
    started_onto_history = CatchUp(lambda: {}, after_s=30.0, clock=lambda: now[0], history=lambda: history[0])
    history[0] = 3
    now[0] = 150.0
    assert started_onto_history.check()
    now[0] = 175.0  # past the start's bound, history 25 s ago: still held
    assert started_onto_history.check() and started_onto_history.episodes == 1


def test_a_message_of_events_over_an_hour_old_is_counted_as_history() -> None:
    import orjson

    from streams.pipeline import HISTORY_AFTER_MS, Pipeline
    from tests.logs import BASE, event
    from tests.streams.test_pipeline import DictStore

    pipeline = Pipeline(DictStore(), clock=lambda: BASE + 10 * HISTORY_AFTER_MS)
    late = [event("post.published", BASE + 9 * HISTORY_AFTER_MS - 1, post_id="1")]
    on_time = [event("post.published", BASE + 9 * HISTORY_AFTER_MS, post_id="2"), *late]
    assert not pipeline.apply_message("posts", 0, 0, b"vk:-1", orjson.dumps(on_time))  # newest: 1 h old
    assert pipeline.history_messages == 0
    assert not pipeline.apply_message(
        "posts", 0, 1, b"vk:-2", orjson.dumps([{**late[0], "public_id": "vk:-2"}])
    )
    assert pipeline.history_messages == 1
