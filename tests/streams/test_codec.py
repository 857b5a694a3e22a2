"""State survives bytes: full and incremental (changelog-style) round trips give the same tables."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streams.codec import (
    FORMAT_VERSION,
    MAGIC,
    StateFormatError,
    decode,
    encode_all,
    encode_core,
    take_changes,
)
from streams.engine import Engine
from streams.table import snapshot
from tests.logs import BASE, HOUR, event, long_logs, short_logs

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _states(log: list[dict], at: int) -> Engine:
    engine = Engine()
    for ev in log:
        if ev["occurred_at"] <= at:
            engine.apply(ev)
    return engine


@SETTINGS
@given(st.one_of(short_logs(), long_logs()))
def test_a_decoded_state_gives_the_same_table(case: tuple[list[dict], int]) -> None:
    log, at = case
    for public_id, state in _states(log, at).publics.items():
        core, days = encode_all(state)
        restored = decode(public_id, core, days)
        assert snapshot(restored, at) == snapshot(state, at)


@SETTINGS
@given(st.one_of(short_logs(), long_logs()), st.integers(1, 7))
def test_changelog_of_incremental_changes_rebuilds_the_state_and_goes_on_the_same(
    case: tuple[list[dict], int], flush_every: int
) -> None:
    """Write only what changed after every few events; a restore from that log then keeps counting."""
    log, at = case
    log = [ev for ev in log if ev["occurred_at"] <= at]
    live = Engine()
    changelog: dict[tuple[str, int | None], bytes] = {}
    half = len(log) // 2
    for i, ev in enumerate(log[:half], 1):
        live.apply(ev)
        if i % flush_every == 0 or i == half:
            for public_id, state in live.publics.items():
                core, days = take_changes(state)
                changelog[(public_id, None)] = core
                for day, chunk in days.items():
                    if chunk is None:
                        changelog.pop((public_id, day), None)
                    else:
                        changelog[(public_id, day)] = chunk
    restored = Engine()
    for (public_id, day), chunk in changelog.items():
        if day is None:
            days = [c for (p, d), c in changelog.items() if p == public_id and d is not None]
            restored.publics[public_id] = decode(public_id, chunk, days)
    for ev in log[half:]:
        assert live.apply(ev) == restored.apply(ev)  # duplicates are caught across the restore too
    assert sorted(live.publics) == sorted(restored.publics)
    for public_id in live.publics:
        assert snapshot(restored.publics[public_id], at) == snapshot(live.publics[public_id], at)


def test_a_chunk_names_its_format_and_a_foreign_one_is_refused() -> None:
    engine = Engine()
    engine.apply(event("reaction.added", BASE, post_id="p"))
    core = encode_core(engine.publics["vk:-1"])
    assert core[:3] == MAGIC + bytes([FORMAT_VERSION])
    with pytest.raises(StateFormatError, match="v9"):
        decode("vk:-1", core[:2] + bytes([9]) + core[3:], [])
    with pytest.raises(StateFormatError, match="not a gospulse state chunk"):
        decode("vk:-1", b'{"json": 1}', [])


def test_only_touched_days_are_rewritten() -> None:
    engine = Engine()
    for day in range(10):
        engine.apply(event("reaction.added", BASE + day * 24 * HOUR, post_id="p"))
    state = engine.publics["vk:-1"]
    take_changes(state)
    engine.apply(event("reaction.added", BASE + 9 * 24 * HOUR + 5, post_id="p"))
    _, days = take_changes(state)
    assert list(days) == [(BASE // HOUR + 9 * 24) // 24]
