"""How a public's state is laid out in records of bounded size, and written so a crash never mixes two.

A public is a *root* record (key ``public_id``) and its pages (``streams.core.codec``). A small page travels
inside the root; a big one, or one that no longer fits the root's budget, is a record of its own under
``public_id|name|slot``, with two slots per page used in turn. A write of a public is:

1. the changed out-of-line pages, each into the slot the current root does *not* name;
2. the new root, naming the slots just written;
3. deletes (tombstones) of records no page uses any more, which the root lists too.

All of a public's records share its changelog partition, so they land in this order. Until the root
lands, the previous root and every slot it names are intact: a crash anywhere in a write leaves the
public wholly before or wholly after it (the property ``tests/streams/test_pipeline.py`` checks by
crashing between any two writes). A restored root re-sends the deletes it lists, so a crash between
root and deletes leaks nothing.

Sizes: a hash page aims at ``page_bytes / 2`` and the maps are re-paged (doubled or shrunk) as they
grow; an ids page holds ``ids_per_page`` entries; a day page is bounded because a busy hour keeps its
latencies as a sketch. So no record exceeds ``record_bytes``, whatever a public's traffic; a write that
would is refused (``StateTooLarge``) rather than sent for the broker to reject.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import chain, islice
from typing import Final

from streams.core import codec, codec_v2
from streams.core.codec import INLINE, RootTable, StateFormatError, page_of
from streams.core.state import IdMemory, PublicState, digest
from streams.core.timebase import HOURS_PER_DAY

#: Key suffix of the root record (the record keyed by the bare ``public_id``).
ROOT_KEY: Final = ""
DEFAULT_RECORD_BYTES: Final = 256 * 1024


class StateTooLarge(RuntimeError):
    """A state record would pass the configured bound: a bug or a bound set too low, never sent."""


@dataclass(frozen=True, slots=True)
class Limits:
    """Record sizes; everything follows from ``record_bytes`` (far below Kafka's 1 MB default)."""

    record_bytes: int = DEFAULT_RECORD_BYTES

    @property
    def page_bytes(self) -> int:
        """A hash page's ceiling before its map is re-paged; pages aim at half of it."""
        return self.record_bytes // 8

    @property
    def inline_bytes(self) -> int:
        """A page at most this big may travel inside its root."""
        return min(4096, self.record_bytes // 64)

    @property
    def root_inline_bytes(self) -> int:
        """The most bytes of pages a root carries inside it."""
        return self.record_bytes // 4

    @property
    def ids_per_page(self) -> int:
        """Entries of an ids page (8-byte digest and a time of at most 10 bytes each)."""
        return max(16, self.page_bytes // 18)


@dataclass(slots=True)
class Placed:
    """A page as the last root written (or read) has it."""

    slot: int | None  # INLINE (None) or 0/1
    data: bytes | None  # the bytes, when inline (re-sent inside each root)
    size: int
    #: For ids pages: (the memory's epoch, entries) when written; a change means rewrite.
    version: tuple[int, int] | None = None


@dataclass(slots=True)
class MapPaging:
    """How a map (posts, pending comments) is split: ``pages`` (a power of two) by ``page_of``."""

    pages: int = 1
    #: Which keys each page holds, while ``pages > 1`` (built on first use after a restore).
    members: list[set[str]] | None = None


@dataclass(slots=True)
class Layout:
    """Where each page of one public is, as of the last root written or read."""

    pages: dict[str, Placed] = field(default_factory=dict)
    posts: MapPaging = field(default_factory=MapPaging)
    pending: MapPaging = field(default_factory=MapPaging)
    #: Records the last root listed for deletion that have not been deleted since.
    garbage: list[str] = field(default_factory=list)
    #: Nothing is known to be written: every page counts as changed.
    fresh: bool = True


def page_order(name: str) -> tuple[str, tuple[int, ...]]:
    """Pages in a stable order: days, posts, pending, ids by family and page (ids load in order)."""
    return name[0], tuple(int(part) for part in name[1:].split("."))


def serialize_ids(memory: IdMemory, per_page: int) -> None:
    """Append the ids remembered since the last call to the memory's serialized pages."""
    fresh: list[tuple[bytes, int]] = []
    if not memory.digests_serialized:
        if memory.digests:
            fresh.extend(memory.digests.items())
        memory.digests_serialized = True
    if memory.serialized < len(memory.ids):
        new = islice(memory.ids.items(), memory.serialized, None)
        fresh.extend((digest(event_id), ts) for event_id, ts in new)
        memory.serialized = len(memory.ids)
    done = 0
    while done < len(fresh):
        if not memory.pages or memory.page_counts[-1] >= per_page:
            memory.pages.append(bytearray())
            memory.page_counts.append(0)
        part = fresh[done : done + per_page - memory.page_counts[-1]]
        memory.pages[-1] += codec.entries(part, memory.swept_at)
        memory.page_counts[-1] += len(part)
        done += len(part)


def _map_pages(
    prefix: str,
    paging: MapPaging,
    items: dict[str, object],
    touched: set[str] | None,
    encode: Callable[[Iterable[str]], bytes],
    layout: Layout,
    limits: Limits,
    changed: dict[str, bytes],
    gone: set[str],
) -> None:
    """Encode the pages of a hashed map that changed, re-paging it when it outgrew or shrank."""
    everything = layout.fresh or touched is None
    if not everything and not touched:
        return
    n = paging.pages
    if n == 1:
        chunk = encode(items)
        if len(chunk) <= limits.page_bytes:
            changed[f"{prefix}0"] = chunk
            return
        _repage(prefix, paging, _pages_for(len(chunk), limits), items, encode, changed, gone)
        return
    members = paging.members
    if members is None or everything:  # after a restore: who is where follows from the keys
        members = paging.members = [set() for _ in range(n)]
        for key in items:
            members[page_of(key, n)].add(key)
    pages: Iterable[int] = range(n)
    if not everything:
        pages = set()
        for key in touched or ():
            page = page_of(key, n)
            pages.add(page)
            if key in items:
                members[page].add(key)
            else:
                members[page].discard(key)
    for page in pages:
        changed[f"{prefix}{page}"] = encode(members[page])
    sizes = [
        len(changed[f"{prefix}{i}"]) if f"{prefix}{i}" in changed else layout.pages[f"{prefix}{i}"].size
        for i in range(n)
    ]
    wanted = _pages_for(sum(sizes), limits)
    if wanted > n or wanted * 4 <= n or max(sizes) > limits.page_bytes:
        _repage(
            prefix,
            paging,
            max(wanted, n * 2 if max(sizes) > limits.page_bytes else 1),
            items,
            encode,
            changed,
            gone,
        )


def _pages_for(total: int, limits: Limits) -> int:
    """The power of two of pages that keeps their mean at half the page ceiling."""
    n = 1
    while total > n * (limits.page_bytes // 2):
        n *= 2
    return n


def _repage(
    prefix: str,
    paging: MapPaging,
    n: int,
    items: dict[str, object],
    encode: Callable[[Iterable[str]], bytes],
    changed: dict[str, bytes],
    gone: set[str],
) -> None:
    for page in range(n, max(n, paging.pages)):
        changed.pop(f"{prefix}{page}", None)
        gone.add(f"{prefix}{page}")
    paging.pages = n
    if n == 1:
        paging.members = None
        changed[f"{prefix}0"] = encode(items)
        return
    members = paging.members = [set() for _ in range(n)]
    for key in items:
        members[page_of(key, n)].add(key)
    for page in range(n):
        changed[f"{prefix}{page}"] = encode(members[page])


def _both_slots(name: str) -> list[str]:
    return [f"{name}|0", f"{name}|1"]


def plan(st: PublicState, layout: Layout, limits: Limits) -> tuple[bytes, list[tuple[str, bytes | None]]]:
    """The public's changes since the last plan as records to write in order: ``(key suffix, value)``
    with ``ROOT_KEY`` for the root and ``None`` for a delete. Returns the root too; updates ``layout``."""
    changed: dict[str, bytes] = {}
    gone: set[str] = set()
    versions: dict[str, tuple[int, int]] = {}

    if layout.fresh:
        days = {hour // HOURS_PER_DAY for hour in chain(st.hours, st.latencies, st.sketches)}
    else:
        days = st.dirty_days | st.dropped_days
    for day in days:
        chunk = codec.encode_day(st, day)
        if chunk is not None:
            changed[f"d{day}"] = chunk
        elif f"d{day}" in layout.pages:
            gone.add(f"d{day}")
    st.dirty_days = set()
    st.dropped_days = set()

    _map_pages(
        "p",
        layout.posts,
        st.posts,
        st.touched_posts,
        lambda keys: codec.encode_posts(st, keys),
        layout,
        limits,
        changed,
        gone,
    )
    _map_pages(
        "c",
        layout.pending,
        st.pending,
        st.touched_pending,
        lambda keys: codec.encode_pending(st, keys),
        layout,
        limits,
        changed,
        gone,
    )
    if st.touched_posts is not None:
        st.touched_posts.clear()
    if st.touched_pending is not None:
        st.touched_pending.clear()

    for family, memory in enumerate(st.memories):
        serialize_ids(memory, limits.ids_per_page)
        prefix = f"i{family}."
        for page in range(len(memory.pages)):
            name = f"{prefix}{page}"
            version = (memory.epoch, memory.page_counts[page])
            placed = layout.pages.get(name)
            if layout.fresh or placed is None or placed.version != version:
                changed[name] = codec.encode_ids(family, memory, page)
            versions[name] = version
        gone.update(
            name
            for name in layout.pages
            if name.startswith(prefix) and int(name[len(prefix) :]) >= len(memory.pages)
        )

    writes: list[tuple[str, bytes | None]] = []
    garbage = set(layout.garbage)
    placed_now: dict[str, Placed] = {}
    budget = limits.root_inline_bytes

    def out_of_line(name: str, data: bytes, old: Placed | None) -> Placed:
        slot = 0 if old is None or old.slot is INLINE else 1 - old.slot
        writes.append((f"{name}|{slot}", data))
        return Placed(slot, None, len(data), versions.get(name))

    for name, old in layout.pages.items():  # unchanged pages keep their place while there is room
        if name in changed or name in gone:
            continue
        if old.slot is INLINE:
            if old.size <= budget:
                budget -= old.size
                placed_now[name] = old
            else:
                assert old.data is not None
                placed_now[name] = out_of_line(name, old.data, old)
        else:
            placed_now[name] = old
    for name in sorted(changed, key=page_order):
        data = changed[name]
        old = layout.pages.get(name)
        if len(data) <= limits.inline_bytes and len(data) <= budget:
            budget -= len(data)
            placed_now[name] = Placed(INLINE, data, len(data), versions.get(name))
            if old is not None and old.slot is not INLINE:
                garbage.update(_both_slots(name))
        else:
            placed_now[name] = out_of_line(name, data, old)
    for name in gone:
        old = layout.pages.get(name)
        if old is not None and old.slot is not INLINE:
            garbage.update(_both_slots(name))
    garbage.difference_update(f"{name}|{p.slot}" for name, p in placed_now.items() if p.slot is not INLINE)

    ordered = dict(sorted(placed_now.items(), key=lambda item: page_order(item[0])))
    table = RootTable(
        posts_pages=layout.posts.pages,
        pending_pages=layout.pending.pages,
        pages={name: (p.slot, p.data) for name, p in ordered.items()},
        garbage=sorted(garbage),
    )
    root = codec.encode_root(st, table)
    for key, value in [*writes, (st.public_id, root)]:
        if value is not None and len(value) > limits.record_bytes:
            raise StateTooLarge(
                f"state record {key} of {st.public_id} would be {len(value)} bytes, over the "
                f"{limits.record_bytes} allowed (--max-record-bytes)"
            )
    layout.pages = ordered
    layout.garbage = []  # deleted right after this root; a restore of this root deletes them again
    layout.fresh = False
    return root, [*writes, (ROOT_KEY, root), *((key, None) for key in table.garbage)]


def load(
    public_id: str, root: bytes, get: Callable[[str], bytes | None], ids: bool = True
) -> tuple[PublicState, Layout]:
    """A public's state and layout from its root and ``get(key)`` of the store holding its records.

    Reads format v3 and, for a worker upgraded in place, v2 (``streams.core.codec_v2``): a v2 state is laid
    out afresh on its first write, which also deletes its old day records. ``ids=False`` leaves the
    remembered event ids out (most of a busy public's bytes): enough to read a table, never to apply
    events to.
    """
    if codec_v2.is_v2(root):
        st, embedded = codec_v2.decode_core(public_id, root)
        layout = Layout(fresh=True)
        for day in codec_v2.day_span(st):
            chunk = get(f"{public_id}|{day}")
            if chunk is None:
                continue
            layout.garbage.append(str(day))
            if day not in embedded:
                codec_v2.add_day(st, chunk)
        return st, layout
    st, table = codec.decode_root(public_id, root)
    layout = Layout(fresh=False)
    layout.posts.pages = table.posts_pages
    layout.pending.pages = table.pending_pages
    for name in sorted(table.pages, key=page_order):
        if not ids and name[0] == "i":
            continue
        slot, inline = table.pages[name]
        data = inline if slot is INLINE else get(f"{public_id}|{name}|{slot}")
        if data is None:
            raise StateFormatError(f"page {name} (slot {slot}) of {public_id} is missing from the store")
        read = codec.read_page(st, data)
        version = None
        if name[0] == "i":
            family, page = read
            version = (st.memories[family].epoch, st.memories[family].page_counts[page])
        layout.pages[name] = Placed(slot, inline, len(data), version)
    layout.garbage = list(table.garbage)
    return st, layout


def records_of(st: PublicState, limits: Limits | None = None) -> list[tuple[str, bytes | None]]:
    """Every record of a state written from scratch (for a full snapshot or a size measurement)."""
    return plan(st, Layout(), limits or Limits())[1]


def decode(public_id: str, records: dict[str, bytes]) -> PublicState:
    """A state from records keyed as the changelog keys them (``public_id``, ``public_id|…``)."""
    return load(public_id, records[public_id], records.get)[0]
