"""The worker's core without Kafka: dead letters, and crashes between any two state writes."""

from __future__ import annotations

from collections.abc import Sequence

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streams.core.layout import Limits
from streams.core.table import snapshot
from streams.pipeline import Pipeline, record_key
from tests.examples import examples
from tests.logs import BASE, DAY, event, long_logs, published, short_logs

#: Records of at most 1 KiB: even the small generated logs spill pages out of their roots and re-page.
TINY = Limits(record_bytes=1024)


class Crash(Exception):
    pass


def assert_no_leftover_records(store: DictStore, pipeline: Pipeline) -> None:
    """Every record in the store is a root, a slot of a page its root names, or listed by the root
    for deletion (a crash came between the root and the deletes; the next write sends them again)."""
    for public_id in [key for key in store.data if "|" not in key]:
        pipeline.state(public_id)
        layout = pipeline._layouts[public_id]
        named = {public_id} | {
            record_key(public_id, f"{name}|{p.slot}")
            for name, p in layout.pages.items()
            if p.slot is not None
        }
        alternates = {
            record_key(public_id, f"{name}|{1 - p.slot}")
            for name, p in layout.pages.items()
            if p.slot is not None
        }
        listed = {record_key(public_id, key) for key in layout.garbage}
        mine = {key for key in store.data if key.split("|", 1)[0] == public_id}
        assert mine - named <= alternates | listed, sorted(mine - named - alternates - listed)


class DictStore:
    """A chunk store that can die after a given number of writes, like a worker under kill -9."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}
        self.writes_left: int | None = None

    def get(self, key: str) -> bytes | None:
        return self.data.get(key)

    def put(self, key: str, partition: int, value: bytes | None) -> None:
        if self.writes_left is not None:
            if self.writes_left == 0:
                raise Crash
            self.writes_left -= 1
        if value is None:
            self.data.pop(key, None)
        else:
            self.data[key] = value


def run_batches(pipeline: Pipeline, batches: list[list[dict]]) -> None:
    """Apply and flush batch by batch, as the agent does."""
    for batch in batches:
        for ev in batch:
            pipeline.apply_message("posts", 0, 0, ev["public_id"].encode(), orjson.dumps(ev))
        pipeline.flush()


@settings(max_examples=examples(200), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(short_logs(), long_logs()),
    st.integers(1, 6),
    st.integers(0, 40),
    st.integers(0, 3),
    st.integers(1, 3),
    st.sampled_from([Limits(), TINY]),
    st.integers(0, 3),
)
def test_a_crash_between_any_two_writes_is_a_rollback_to_a_flush(
    case: tuple[list[dict], int],
    batch_size: int,
    crash_after_writes: int,
    rewind: int,
    settle_every: int,
    limits: Limits,
    evict_every: int,
) -> None:
    """Kill the worker between any two record writes, restore, redeliver from a committed offset.

    Each public must then be exactly where an uninterrupted worker would be after the same events:
    the batches it finished (or, if its root made it out, the crashed one too) followed by the
    redelivered ones, duplicates and all. Settle ticks come every ``settle_every`` batches, so ids get
    swept and their pages rewritten; as in a worker (a tick every 30 s, a commit every 2 s), what was
    applied before the last-but-one tick counts as committed, so redelivery never goes back past it.
    Every ``evict_every`` batches (0: never) the idle publics' decoded states are dropped.
    """
    log, at = case
    log = [ev for ev in log if ev["occurred_at"] <= at]
    batches = [log[i : i + batch_size] for i in range(0, len(log), batch_size)]
    clock = lambda: at  # noqa: E731

    store = DictStore()
    store.writes_left = crash_after_writes
    crashed = Pipeline(store, clock=clock, limits=limits)
    done = 0
    ticks = [0, 0]  # batches done at each settle tick
    try:
        for batch in batches:
            run_batches(crashed, [batch])
            done += 1
            if done % settle_every == 0:
                crashed.settle()
                ticks.append(done)
            if evict_every and done % evict_every == 0:
                crashed.evict_idle()  # idle publics held as records only, decoded by their next event
    except Crash:
        pass
    resume = max(ticks[-2], done - rewind)  # offsets are committed only for fully written batches
    store.writes_left = None
    restarted = Pipeline(store, clock=clock, limits=limits)
    run_batches(restarted, batches[resume:])
    publics = sorted({ev["public_id"] for ev in log})
    got = {p: snapshot(restarted.state(p), at) for p in publics}
    assert_no_leftover_records(store, restarted)

    outcomes = []
    for finished in {done, min(done + 1, len(batches))}:
        uninterrupted = Pipeline(DictStore(), clock=clock)
        run_batches(uninterrupted, batches[:finished] + batches[resume:])
        outcomes.append({p: snapshot(uninterrupted.state(p), at) for p in publics})
    for p in publics:
        assert got[p] in [outcome[p] for outcome in outcomes], p


def test_bad_messages_become_dead_letters_with_their_origin() -> None:
    pipeline = Pipeline(DictStore(), clock=lambda: BASE)
    good = event("reaction.added", BASE, post_id="p")
    letters = pipeline.apply_message("p.posts", 3, 17, b"vk:-1", orjson.dumps([good, {"v": 1}]))
    assert [(x.index, x.partition, x.offset, x.topic) for x in letters] == [(1, 3, 17, "p.posts")]
    assert pipeline.applied == 1
    assert pipeline.apply_message("p.posts", 0, 1, None, b"{}")[0].reason.startswith("message key is missing")
    assert pipeline.apply_message("p.posts", 0, 2, b"vk:-1", b"\\xff")[0].reason.startswith("not JSON")


def test_a_public_handed_back_and_forth_between_workers_never_uses_a_stale_copy() -> None:
    """Rebalances move a public between workers; the store decides whose copy is current."""
    store = DictStore()
    first, second = Pipeline(store, clock=lambda: BASE), Pipeline(store, clock=lambda: BASE)
    log = [event("reaction.added", BASE - i, post_id="p") for i in range(6)]
    for owner, ev in zip([first, second, first, first, second, first], log, strict=True):
        owner.apply_message("posts", 0, 0, b"vk:-1", orjson.dumps(ev))
        owner.flush()
    first.settle()
    second.settle()  # a late tick of a worker that no longer owns the public must change nothing
    earlier = event("reaction.added", BASE - 2 * DAY, post_id="p")
    first.apply_message("posts", 0, 0, b"vk:-1", orjson.dumps(earlier))
    first.flush()
    assert snapshot(first.state("vk:-1"), BASE)["reactions_7d"] == 7
    assert snapshot(second.state("vk:-1"), BASE)["reactions_7d"] == 7
    assert snapshot(Pipeline(store, clock=lambda: BASE).state("vk:-1"), BASE)["reactions_7d"] == 7


def test_a_fast_backlog_never_sweeps_the_id_of_an_event_a_crash_may_redeliver() -> None:
    """Event time may run days ahead within one commit interval; uncommitted ids must survive."""
    from tests.logs import citizen

    store = DictStore()
    log = [citizen(BASE, "c1"), citizen(BASE + 3 * DAY, "c2"), citizen(BASE + 6 * DAY, "c3")]
    clock = lambda: BASE + 7 * DAY  # noqa: E731
    first = Pipeline(store, clock=clock)
    run_batches(first, [[ev] for ev in log])  # sweeps ran at +3 d and +6 d of event time
    restarted = Pipeline(store, clock=clock)  # nothing was committed: everything comes again
    run_batches(restarted, [[ev] for ev in log])
    assert snapshot(restarted.state("vk:-1"), BASE + 7 * DAY)["citizen_comments_30d"] == 3


def test_settled_ids_are_swept_after_two_ticks() -> None:
    from streams.core.state import IdMemory

    memory = IdMemory()
    memory.hold_unsettled()
    memory.ids = {"old": BASE, "older": BASE - 1}
    memory.newest = BASE + 3 * 86_400_000
    memory.sweep()
    assert set(memory.ids) == {"old", "older"}  # not yet known to be committed
    memory.settle()
    memory.sweep()
    assert set(memory.ids) == {"old", "older"}
    memory.settle()
    memory.sweep()
    assert memory.ids == {}


def test_poison_values_are_dead_lettered_cut_to_64_kib_and_never_applied() -> None:
    families = {"p.posts": "posts", "p.comments": "comments"}
    pipeline = Pipeline(DictStore(), clock=lambda: BASE, families=families)
    huge = orjson.dumps([event("reaction.added", BASE, post_id="p")]) + b" " * (1 << 20)
    (letter,) = pipeline.apply_message("p.posts", 1, 5, b"vk:-1", huge)
    assert letter.value == huge[: 64 << 10] and letter.size == len(huge)
    headers = dict(letter.headers())
    assert headers["gospulse-value-bytes"] == str(len(huge)).encode()
    assert headers["gospulse-cut-at"] == b"65536" and b"1 MiB" in headers["gospulse-reason"]
    comment = event("comment.created", BASE, post_id="p", comment_id="c", author="citizen")
    (letter,) = pipeline.apply_message("p.posts", 1, 6, b"vk:-1", orjson.dumps(comment))
    assert "travels on the comments topic" in letter.reason and letter.size is None
    assert pipeline.apply_message("p.comments", 1, 7, b"vk:-1", orjson.dumps(comment)) == []
    almost = b"[" + b" " * ((1 << 20) - 2) + b"]"  # a bad value within the bound goes whole
    (letter,) = pipeline.apply_message("p.posts", 1, 7, b"vk:-1", almost)
    assert (
        letter.value == almost
        and letter.size is None
        and "gospulse-value-bytes" not in dict(letter.headers())
    )
    (letter,) = pipeline.apply_message("p.posts", 1, 8, b"k" * (1 << 20), b"{}")
    assert len(letter.key) == 64 << 10  # a poison key is cut as a value is
    long_post = event("post.published", BASE, post_id="p" * 400_000)
    (letter,) = pipeline.apply_message("p.posts", 1, 9, b"vk:-1", orjson.dumps(long_post))
    assert "must be 1 to 128" in letter.reason
    big_count = event("subscribers.counted", BASE, count=2**64 - 1)
    assert pipeline.apply_message("p.subscriptions", 1, 10, b"vk:-1", orjson.dumps(big_count))
    assert pipeline.applied == 1 and pipeline.rejected == 6


class RecordingSink:
    def __init__(self) -> None:
        self.calls: list[tuple[str, list[str]]] = []

    def changed(self, public_ids: Sequence[str]) -> None:
        self.calls.append(("changed", list(public_ids)))

    def forgotten(self, public_ids: Sequence[str]) -> None:
        self.calls.append(("forgotten", list(public_ids)))


def test_a_flush_hands_its_changed_publics_to_every_sink_and_a_revocation_tells_them_to_forget() -> None:
    pipeline, sink = Pipeline(DictStore()), RecordingSink()
    pipeline.add_sink(sink)
    run_batches(
        pipeline, [[event("post.published", BASE, public_id=p, post_id="1") for p in ("vk:-2", "vk:-1")]]
    )
    run_batches(pipeline, [[]])  # an empty batch changes nothing and tells nobody
    pipeline.segment_changed("vk:-1")  # a new registry record: its table changed without an event
    pipeline.segment_changed("vk:-404")  # not held here: nothing to tell
    pipeline.forget_partitions({0})
    assert sink.calls == [
        ("changed", ["vk:-1", "vk:-2"]),
        ("changed", ["vk:-1"]),
        ("forgotten", ["vk:-2", "vk:-1"]),
    ]
    assert len(pipeline.engine) == 0


def test_a_public_read_from_the_store_is_judged_on_its_own_working_time() -> None:
    """A reader's copy of a public it does not hold (after a restart) keeps the public's time zone:
    Kamchatka's working hours, not Moscow's, decide which comments are overdue."""
    from streams.core.registry import PublicInfo, Registry
    from tests.logs import citizen, published

    def registered(pipeline: Pipeline) -> Pipeline:
        registry = Registry()
        record = {"v": 1, "public_id": "vk:-9", "name": "x", "region": "RU-KAM", "level": "municipal"}
        registry.put(PublicInfo.from_record(record | {"theme": "culture", "tz": "Asia/Kamchatka"}))
        pipeline.engine.registry = registry
        return pipeline

    store = DictStore()
    writer = registered(Pipeline(store))
    # 2026-11-02 (a Monday) 09:00 in Kamchatka (UTC+12) is 21:00 UTC on the 1st
    asked = BASE + 21 * 3_600_000
    run_batches(
        writer, [[published(asked - 1000, public_id="vk:-9"), citizen(asked, "c1", public_id="vk:-9")]]
    )
    reader = registered(Pipeline(store))  # a restarted worker: nothing held, the state in its table
    at = asked + 9 * 3_600_000  # nine working hours later in Kamchatka, still night in Moscow
    held, restored = writer.current_table("vk:-9", at), reader.current_table("vk:-9", at)
    assert held is not None and restored is not None
    assert held["overdue_wh"] == restored["overdue_wh"] == 1
    assert len(reader.engine) == 0


def test_a_message_read_again_after_its_ids_were_swept_never_counts_twice() -> None:
    """A restart reads from the last commit, or from a partition's start when none is known: the
    messages it re-reads were applied already, however long ago in event time."""
    from tests.logs import citizen

    families = {"p.comments": "comments"}
    store = DictStore()
    clock = lambda: BASE + 7 * DAY  # noqa: E731
    log = [citizen(BASE, "c1"), citizen(BASE + 3 * DAY, "c2"), citizen(BASE + 6 * DAY, "c3")]
    first = Pipeline(store, clock=clock, families=families)
    for offset, ev in enumerate(log):
        first.apply_message("p.comments", 2, offset, b"vk:-1", orjson.dumps(ev))
        first.flush()
        for memory in first.state("vk:-1").memories:  # as settled as a live worker's ever get
            memory.settle()
            memory.settle()
    assert "c1" not in str(first.state("vk:-1").memories[1].ids)  # swept: its id alone cannot tell
    restarted = Pipeline(store, clock=clock, families=families)  # the whole partition comes again
    for offset, ev in enumerate(log):
        restarted.apply_message("p.comments", 2, offset, b"vk:-1", orjson.dumps(ev))
    restarted.flush()
    assert restarted.redelivered == 3
    assert snapshot(restarted.state("vk:-1"), BASE + 7 * DAY)["citizen_comments_30d"] == 3
    # a new message, and one of another partition (the topic was repartitioned), are applied
    restarted.apply_message("p.comments", 2, 3, b"vk:-1", orjson.dumps(citizen(BASE + 6 * DAY + 1, "c4")))
    restarted.apply_message("p.comments", 0, 0, b"vk:-1", orjson.dumps(citizen(BASE + 6 * DAY + 2, "c5")))
    restarted.flush()
    assert snapshot(restarted.state("vk:-1"), BASE + 7 * DAY)["citizen_comments_30d"] == 5


def test_where_each_family_is_applied_to_survives_the_store() -> None:
    from streams.core.codec import RootTable, decode_root, encode_root
    from streams.core.state import PublicState

    st = PublicState("vk:-1")
    st.newest = BASE
    st.memories[0].source = (3, 120)
    st.memories[2].source = (0, 0)
    back, _ = decode_root("vk:-1", encode_root(st, RootTable()))
    assert [m.source for m in back.memories] == [(3, 120), None, (0, 0)]
    # a root written before sources were kept reads as not known
    unknown = PublicState("vk:-1")
    unknown.newest = BASE
    old = encode_root(unknown, RootTable())[:-3]  # three zeros: no family's source known
    assert [m.source for m in decode_root("vk:-1", old)[0].memories] == [None, None, None]


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(short_logs(), long_logs()),
    st.integers(1, 6),
    st.lists(st.booleans(), min_size=1, max_size=40),
    st.sampled_from([Limits(), TINY]),
)
def test_dropping_idle_decoded_states_between_batches_changes_no_table_and_no_record(
    case: tuple[list[dict], int], batch_size: int, evict_after: list[bool], limits: Limits
) -> None:
    """``evict_idle`` after any batch (``evict_after``, cycled), redelivered messages too: the
    publics dropped are decoded again by their next event, and every table, every record in the store
    and every count equals a pipeline that kept every state decoded. (No settle ticks here: a
    redelivery from the start of the log goes back further than a commit ever lets one, and the
    sweeps of settled ids are the crash test's subject.)"""
    log, at = case
    log = [ev for ev in log if ev["occurred_at"] <= at]
    batches = [log[i : i + batch_size] for i in range(0, len(log), batch_size)]
    clock = lambda: at  # noqa: E731

    def run(evicting: bool) -> tuple[Pipeline, DictStore]:
        store = DictStore()
        pipeline = Pipeline(store, clock=clock, limits=limits)
        offset = 0
        for n, batch in enumerate([*batches, *batches[: len(batches) // 2]]):  # then half read again
            for ev in batch:
                pipeline.apply_message(
                    "posts", 0, offset if n < len(batches) else 0, ev["public_id"].encode(), orjson.dumps(ev)
                )
                offset += 1
            pipeline.flush()
            if evicting and evict_after[n % len(evict_after)]:
                pipeline.evict_idle()
        return pipeline, store

    evicted, evicted_store = run(True)
    kept, kept_store = run(False)
    publics = sorted({ev["public_id"] for ev in log})
    for p in publics:
        a, b = evicted.current_table(p, at), kept.current_table(p, at)
        assert a == b, (p, {k: (a[k], b.get(k)) for k in a if a[k] != b.get(k)})
    assert evicted_store.data == kept_store.data
    assert (evicted.applied, evicted.duplicates) == (kept.applied, kept.duplicates)
    if any(evict_after) and len(batches) > 2:
        assert evicted.evicted > 0 or len(publics) == len(evicted.engine)


def test_a_public_touched_between_listing_and_dropping_keeps_its_decoded_state() -> None:
    """Idle states are dropped in slices between batches: one that got an event since it was listed
    (written or not yet) stays decoded, and the others come back whole from their records."""
    at = BASE + DAY
    pipeline = Pipeline(DictStore(), clock=lambda: at)
    run_batches(
        pipeline,
        [[published(BASE + n, f"p{n}", public_id=p) for n, p in enumerate(["vk:-1", "vk:-2", "vk:-3"])]],
    )
    pipeline.idle_since_last()  # the period in which all three had events
    idle = pipeline.idle_since_last()
    assert sorted(idle) == ["vk:-1", "vk:-2", "vk:-3"]
    tables = {p: pipeline.current_table(p, at) for p in idle}
    run_batches(pipeline, [[published(BASE + 10, "p10", public_id="vk:-1")]])  # written
    pipeline.apply_message(
        "posts", 0, 0, b"vk:-2", orjson.dumps(published(BASE + 11, "p11", public_id="vk:-2"))
    )
    assert pipeline.drop_decoded(idle) == 1 and "vk:-3" not in pipeline.engine
    assert "vk:-1" in pipeline.engine and "vk:-2" in pipeline.engine
    pipeline.flush()
    assert pipeline.current_table("vk:-3", at) == tables["vk:-3"]
    assert pipeline.current_table("vk:-2", at)["posts_7d"] == 2
