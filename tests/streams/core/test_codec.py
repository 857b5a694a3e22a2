"""State survives bytes: full and incremental (changelog-style) round trips give the same tables, in
records of bounded size, and state written by the previous format is still read."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streams.core.codec import FORMAT_VERSION, MAGIC, StateFormatError
from streams.core.engine import Engine
from streams.core.layout import Layout, Limits, decode, plan, records_of
from streams.core.state import EXACT_LATENCIES, PublicState
from streams.core.table import nearest_rank, snapshot
from streams.pipeline import Pipeline, record_key
from streams.replay import replay_events
from tests.examples import examples
from tests.logs import BASE, DAY, HOUR, citizen, event, long_logs, official, short_logs
from tests.streams.test_pipeline import TINY, DictStore

SETTINGS = settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
DATA = Path(__file__).parent / "data"


def _states(log: list[dict], at: int) -> Engine:
    engine = Engine()
    for ev in log:
        if ev["occurred_at"] <= at:
            engine.apply(ev)
    return engine


def _store(public_id: str, records: list[tuple[str, bytes | None]], into: dict[str, bytes]) -> None:
    for suffix, value in records:
        key = record_key(public_id, suffix)
        if value is None:
            into.pop(key, None)
        else:
            into[key] = value


@SETTINGS
@given(st.one_of(short_logs(), long_logs()), st.sampled_from([Limits(), TINY]))
def test_a_decoded_state_gives_the_same_table(case: tuple[list[dict], int], limits: Limits) -> None:
    log, at = case
    for public_id, state in _states(log, at).held():
        records: dict[str, bytes] = {}
        _store(public_id, records_of(state, limits), records)
        assert all(len(value) <= limits.record_bytes for value in records.values())
        assert snapshot(decode(public_id, records), at) == snapshot(state, at)


@SETTINGS
@given(st.one_of(short_logs(), long_logs()), st.integers(1, 7), st.sampled_from([Limits(), TINY]))
def test_changelog_of_incremental_changes_rebuilds_the_state_and_goes_on_the_same(
    case: tuple[list[dict], int], flush_every: int, limits: Limits
) -> None:
    """Write only what changed after every few events; a restore from that log then keeps counting."""
    log, at = case
    log = [ev for ev in log if ev["occurred_at"] <= at]
    live = Engine()
    layouts: dict[str, Layout] = {}
    changelog: dict[str, bytes] = {}
    half = len(log) // 2
    for i, ev in enumerate(log[:half], 1):
        if ev["public_id"] not in live:
            live.state(ev["public_id"]).track_changes()  # as a worker's states do
        live.apply(ev)
        if i % flush_every == 0 or i == half:
            for public_id, state in live.held():
                _store(public_id, plan(state, layouts.setdefault(public_id, Layout()), limits)[1], changelog)
    restored = Engine()
    for public_id in [key for key in changelog if "|" not in key]:
        restored.load(decode(public_id, changelog))
    for ev in log[half:]:
        assert live.apply(ev) == restored.apply(ev)  # duplicates are caught across the restore too
    assert sorted(p for p, _ in live.held()) == sorted(p for p, _ in restored.held())
    for public_id, _ in live.held():
        assert snapshot(restored.get(public_id), at) == snapshot(live.get(public_id), at)


def test_a_record_names_its_format_and_a_foreign_one_is_refused() -> None:
    engine = Engine()
    engine.apply(event("reaction.added", BASE, post_id="p"))
    records = dict(records_of(engine.state("vk:-1")))
    root = records[""]
    assert root[:3] == MAGIC + bytes([FORMAT_VERSION])
    with pytest.raises(StateFormatError, match="v9"):
        decode("vk:-1", {"vk:-1": root[:2] + bytes([9]) + root[3:]})
    with pytest.raises(StateFormatError, match="not a gospulse state chunk"):
        decode("vk:-1", {"vk:-1": b'{"json": 1}'})


def _written(pipeline: Pipeline, store: DictStore, events: list[dict]) -> dict[str, bytes | None]:
    """Apply ``events`` and flush; the records the flush wrote."""
    before = dict(store.data)
    for ev in events:
        pipeline.apply_message("posts", 0, 0, ev["public_id"].encode(), orjson.dumps(ev))
    pipeline.flush()
    return {k: v for k, v in store.data.items() if before.get(k) is not v} | {
        k: None for k in before if k not in store.data
    }


def test_a_busy_public_is_paged_and_a_change_rewrites_only_its_pages() -> None:
    """100 000 pending comments: no record passes the bound, and one more comment rewrites its page."""
    limits = Limits()
    store = DictStore()
    pipeline = Pipeline(store, clock=lambda: BASE + 30 * DAY, limits=limits)
    comments = [citizen(BASE + i * 20_000, f"c{i}", event_id=f"e{i}") for i in range(100_000)]
    for start in range(0, len(comments), 5_000):
        _written(pipeline, store, comments[start : start + 5_000])
    assert max(len(v) for v in store.data.values()) <= limits.record_bytes
    pending_pages = [k for k in store.data if k.startswith("vk:-1|c")]
    assert len(pending_pages) >= 16
    changed = _written(pipeline, store, [citizen(BASE + 2_000_000_001, "one-more", event_id="x")])
    pages = sorted(k.split("|")[1][0] for k in changed if "|" in k)
    assert pages.count("c") <= 1 and len(changed) <= 4, sorted(changed)  # its pending page, ids, day, root
    restored = Pipeline(store, clock=lambda: BASE + 30 * DAY, limits=limits).state("vk:-1")
    assert (
        snapshot(restored, BASE + 24 * DAY)["unanswered"]
        == snapshot(pipeline.state("vk:-1"), BASE + 24 * DAY)["unanswered"]
    )


def test_a_busy_hour_keeps_its_latencies_as_a_sketch_within_the_p90_tolerance() -> None:
    st_ = PublicState("vk:-1")
    exact: list[int] = []
    for i in range(3 * EXACT_LATENCIES):
        asked = BASE + i * 1000
        answered = BASE + HOUR - 1 - (i * 7919) % 3_000_000
        st_.apply(citizen(asked, f"c{i}"))
        st_.apply(official(max(asked, answered), f"o{i}", reply_to=f"c{i}"))
        exact.append(max(0, max(asked, answered) - asked))
    assert st_.sketches and not st_.latencies  # the hour went over the exact bound
    table = snapshot(st_, BASE + 2 * HOUR)
    assert table["answered_24h"] == len(exact)
    assert table["response_mean_s_24h"] == pytest.approx(sum(exact) / len(exact) / 1000, rel=1e-12)
    p90 = nearest_rank(sorted(exact), 90) / 1000
    assert table["response_p90_s_24h"] == pytest.approx(p90, rel=0.005)
    records: dict[str, bytes] = {}
    _store("vk:-1", records_of(st_), records)
    assert snapshot(decode("vk:-1", records), BASE + 2 * HOUR) == table


#: The fields a state written before working time (formats v2, v3) cannot give for its old responses.
WORKING = ("response_wh_mean_s_7d", "response_wh_p90_s_7d")


def _without_working(tables: dict[str, dict]) -> dict[str, dict]:
    return {p: {k: v for k, v in t.items() if k not in WORKING} for p, t in tables.items()}


@pytest.mark.parametrize("version", [2, 3])
def test_state_written_by_an_earlier_format_is_read_and_rewritten_in_the_current_one(version: int) -> None:
    """Bytes workers of earlier releases wrote (``data/state-v2.json.gz``, ``data/state-v3.json.gz``):
    every field reads as before; their responses carry no working latency, so the working-time
    fields count only responses applied since (null until there are some)."""
    fixture = orjson.loads(gzip.decompress((DATA / f"state-v{version}.json.gz").read_bytes()))
    at, events = fixture["at"], fixture["events"]
    store = DictStore()
    store.data = {k: bytes.fromhex(v) for k, v in fixture["store"].items()}
    assert any("|" in k for k in store.data) and all(v[2] == version for v in store.data.values())
    pipeline = Pipeline(store, clock=lambda: at)
    want = {t["public_id"]: t for t in replay_events(events, at, Engine())}
    restored = {p: pipeline.current_table(p, at) for p in want}
    assert _without_working(restored) == _without_working(want)
    assert all(t[k] is None for t in restored.values() for k in WORKING)
    assert any(t["answered_7d"] for t in want.values())  # the fixture has responses to lose
    for ev in events[-50:]:  # redelivered: every one is caught as a duplicate
        pipeline.apply_message("posts", 0, 0, ev["public_id"].encode(), orjson.dumps(ev))
    assert pipeline.duplicates == 50 and pipeline.applied == 0
    for public_id in want:
        pipeline.rewrite(public_id, 0)
    pipeline.flush()
    assert all(v[2] in (3, FORMAT_VERSION) for v in store.data.values())  # the v2 records are gone
    assert any(v[2] == FORMAT_VERSION for v in store.data.values())
    again = Pipeline(store, clock=lambda: at)
    assert _without_working({p: again.current_table(p, at) for p in want}) == _without_working(want)
