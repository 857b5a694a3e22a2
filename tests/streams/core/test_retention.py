"""Retention (§3): a public's state stays bounded however long it runs."""

from __future__ import annotations

from streams.core.engine import Engine
from streams.core.state import STALE_MS, SWEEP_EVERY_HOURS
from streams.core.timebase import LONGEST_WINDOW_HOURS
from tests.logs import BASE, DAY, HOUR, citizen, event, metrics, published


def test_a_year_of_busy_traffic_keeps_only_what_the_windows_and_horizons_need() -> None:
    engine = Engine()
    for hour in range(365 * 24):
        ts = BASE + hour * HOUR
        engine.apply(event("reaction.added", ts, post_id=f"p{hour // 24}"))
        if hour % 24 == 0:
            engine.apply(published(ts, f"p{hour // 24}"))
            engine.apply(citizen(ts, f"c{hour}"))  # never answered
        if hour % 6 == 0:
            engine.apply(metrics(ts, hour, f"p{hour // 24}"))
    state = engine.state("vk:-1")
    assert len(state.hours) <= LONGEST_WINDOW_HOURS + SWEEP_EVERY_HOURS
    kept_days = (STALE_MS // HOUR + SWEEP_EVERY_HOURS) // 24 + 1  # horizons, lateness grace, sweep lag
    assert len(state.posts) <= kept_days
    assert len(state.pending) <= kept_days
    assert sum(map(len, state.memories)) <= 4 * 24 + 4 * 6 + 8  # at most ~96 h of ids
    table = engine.table("vk:-1", BASE + (365 * 24 - 1) * HOUR)
    assert table is not None
    assert table["reactions_30d"] == 720
    assert table["unanswered"] == 30


def test_an_event_older_than_every_window_still_moves_all_time_figures() -> None:
    engine = Engine()
    engine.apply(event("reaction.added", BASE + 60 * DAY, post_id="p"))
    engine.apply(published(BASE, "old"))  # 60 days late: in no window, but it is the only post
    engine.apply(event("reaction.added", BASE, post_id="p"))
    state = engine.state("vk:-1")
    assert min(state.hours) == (BASE + 60 * DAY) // HOUR
    table = engine.table("vk:-1", BASE + 60 * DAY)
    assert table is not None
    assert table["last_post_at"] == BASE
    assert table["reactions_30d"] == 1
