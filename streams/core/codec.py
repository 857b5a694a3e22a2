"""Public state as versioned bytes, in pages of bounded size (format v4; v3 is still read).

A public's state is one *root* (scalars, the id memories' clocks, and a table of its pages) and
*pages*: one per UTC day of hourly counters and latencies (``d<day>``), the posts and the pending
comments hashed into ``n`` pages each (``p<i>``, ``c<i>``), and each topic family's remembered event
ids in arrival order, a bounded number per page (``i<family>.<j>``). A page travels inside the root
when it is small, else as a record of its own; which, and where, is ``streams.core.layout``'s business.
This module only says what the bytes are.

Every chunk starts with ``MAGIC``, the format version and its kind, so a reader refuses what it does
not understand. The body is a flat run of LEB128 varints (zigzag for signed values) and
length-prefixed UTF-8 strings. Each page carries the time its relative values are counted from, so
that a page written long ago still reads right under a newer root. Event ids are kept as 8-byte
digests (``streams.core.state.digest``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final
from zlib import crc32

from streams.core.codec_v2 import Reader, read_hour, read_scalars
from streams.core.state import (
    P_DELETED,
    P_HOURS,
    P_LAST_PUB,
    P_TOUCH,
    P_VIEWS,
    SLOTS,
    IdMemory,
    LatencySketch,
    PublicState,
)
from streams.core.timebase import HOUR_MS, HOURS_PER_DAY

MAGIC: Final = b"gp"
#: 4: v3 with working latencies (§4) in the day pages; 3: paged state; 2: one core per public with
#: its remembered ids (``streams.core.codec_v2``).
FORMAT_VERSION: Final = 4
#: Versions this module reads: v3 pages are v4 pages without working latencies.
READS: Final = (3, 4)
ROOT: Final = ord("R")
DAY: Final = ord("D")
POSTS: Final = ord("P")
PENDING: Final = ord("C")
IDS: Final = ord("I")
_HAS_LATENCIES: Final = 0x20
_HAS_SKETCH: Final = 0x40
#: Working latencies follow, with a byte of their own: ``_HAS_LATENCIES`` / ``_HAS_SKETCH`` bits.
_HAS_WORKING: Final = 0x80
DIGEST_BYTES: Final = 8


class StateFormatError(ValueError):
    """Bytes that are not a chunk of a format version this code reads."""


class Writer:
    __slots__ = ("buf",)

    def __init__(self, kind: int | None = None) -> None:
        self.buf = bytearray()
        if kind is not None:
            self.buf += MAGIC
            self.buf += bytes((FORMAT_VERSION, kind))

    def uint(self, n: int) -> None:
        buf = self.buf
        while n > 0x7F:
            buf.append((n & 0x7F) | 0x80)
            n >>= 7
        buf.append(n)

    def sint(self, n: int) -> None:
        self.uint(n * 2 if n >= 0 else -n * 2 - 1)

    def text(self, s: str) -> None:
        raw = s.encode()
        self.uint(len(raw))
        self.buf += raw

    def bytes(self) -> bytes:
        return bytes(self.buf)


def reader(kind: int, data: bytes) -> Reader:
    """A reader positioned after the header, once the header says ``kind`` in this format."""
    if data[:2] != MAGIC or len(data) < 4:
        raise StateFormatError("not a gospulse state chunk")
    if data[2] not in READS:
        raise StateFormatError(f"state format v{data[2]}; this build reads v{FORMAT_VERSION} (and v2, v3)")
    if data[3] != kind:
        raise StateFormatError(f"expected a chunk of kind {chr(kind)}, got {chr(data[3])}")
    return Reader(data, 4)


def kind_of(data: bytes) -> int:
    if data[:2] != MAGIC or len(data) < 4:
        raise StateFormatError("not a gospulse state chunk")
    return data[3]


def page_of(key: str, pages: int) -> int:
    """Which of ``pages`` (a power of two) hash pages a post_id or comment_id lives in; stable across
    processes, unlike ``hash``."""
    return crc32(key.encode()) & (pages - 1)


# -- pages ---------------------------------------------------------------------------------------


def encode_day(st: PublicState, day: int) -> bytes | None:
    """The day's hourly counters and latencies, or ``None`` when the day holds nothing."""
    w = Writer(DAY)
    w.uint(day)
    first = day * HOURS_PER_DAY
    empty = True
    for offset in range(HOURS_PER_DAY):
        hour = first + offset
        counters = st.hours.get(hour)
        values, sketch = st.latencies.get(hour), st.sketches.get(hour)
        working, working_sketch = st.wh_latencies.get(hour), st.wh_sketches.get(hour)
        if counters is None and not values and sketch is None and not working and working_sketch is None:
            continue
        empty = False
        has_working = _HAS_WORKING if working or working_sketch else 0
        w.buf.append(
            offset | (_HAS_LATENCIES if values else 0) | (_HAS_SKETCH if sketch else 0) | has_working
        )
        counters = counters or [0] * SLOTS
        mask = 0
        for slot in range(SLOTS):
            if counters[slot]:
                mask |= 1 << slot
        w.buf.append(mask)
        for slot in range(SLOTS):
            if counters[slot]:
                w.sint(counters[slot])
        _write_latencies(w, values, sketch)
        if has_working:
            w.buf.append((_HAS_LATENCIES if working else 0) | (_HAS_SKETCH if working_sketch else 0))
            _write_latencies(w, working, working_sketch)
    return None if empty else w.bytes()


def _write_latencies(w: Writer, values: list[int] | None, sketch: LatencySketch | None) -> None:
    if values:
        w.uint(len(values))
        for value in values:
            w.uint(value)
    if sketch is not None:
        w.uint(sketch.count)
        w.uint(sketch.total)
        w.uint(len(sketch.buckets))
        previous = -1
        for bucket in sorted(sketch.buckets):
            w.uint(bucket - previous)
            w.uint(sketch.buckets[bucket])
            previous = bucket


def _read_latencies(
    r: Reader, head: int, hour: int, exact: dict[int, list[int]], sketches: dict[int, LatencySketch]
) -> None:
    if head & _HAS_LATENCIES:
        exact[hour] = [r.uint() for _ in range(r.uint())]
    if head & _HAS_SKETCH:
        sketch = sketches[hour] = LatencySketch()
        sketch.count = r.uint()
        sketch.total = r.uint()
        bucket = -1
        for _ in range(r.uint()):
            bucket += r.uint()
            sketch.buckets[bucket] = r.uint()


def read_day(st: PublicState, chunk: bytes) -> int:
    """Merge a day page into ``st``; returns the day."""
    r = reader(DAY, chunk)
    day = r.uint()
    first = day * HOURS_PER_DAY
    while not r.done():
        hour, head = read_hour(r, st, first)
        _read_latencies(r, head, hour, st.latencies, st.sketches)
        if head & _HAS_WORKING:
            _read_latencies(r, r.byte(), hour, st.wh_latencies, st.wh_sketches)
    return day


def encode_posts(st: PublicState, post_ids: Iterable[str]) -> bytes:
    w = Writer(POSTS)
    n = st.newest
    top = n // HOUR_MS
    w.uint(n)
    ids = list(post_ids)
    w.uint(len(ids))
    for post_id in ids:
        rec = st.posts[post_id]
        w.text(post_id)
        w.uint(len(rec[P_HOURS]))
        for hour in rec[P_HOURS]:
            w.sint(top - hour)
        w.uint(0 if rec[P_LAST_PUB] < 0 else n - rec[P_LAST_PUB] + 1)
        w.uint(n - rec[P_TOUCH])
        w.uint(rec[P_VIEWS] * 2 + (1 if rec[P_DELETED] else 0))
    return w.bytes()


def read_posts(st: PublicState, chunk: bytes) -> None:
    r = reader(POSTS, chunk)
    n = r.uint()
    top = n // HOUR_MS
    for _ in range(r.uint()):
        post_id = r.text()
        hours = [top - r.sint() for _ in range(r.uint())]
        last_pub = r.uint()
        touch = n - r.uint()
        packed = r.uint()
        last_pub_at = -1 if last_pub == 0 else n - last_pub + 1
        st.posts[post_id] = [hours, last_pub_at, bool(packed & 1), packed >> 1, touch]


def encode_pending(st: PublicState, comment_ids: Iterable[str]) -> bytes:
    w = Writer(PENDING)
    n = st.newest
    w.uint(n)
    ids = list(comment_ids)
    w.uint(len(ids))
    for comment_id in ids:
        w.text(comment_id)
        w.uint(n - st.pending[comment_id])
    return w.bytes()


def read_pending(st: PublicState, chunk: bytes) -> None:
    r = reader(PENDING, chunk)
    n = r.uint()
    for _ in range(r.uint()):
        comment_id = r.text()
        st.pending[comment_id] = n - r.uint()


def entries(items: Iterable[tuple[bytes, int]], base: int) -> bytes:
    """Digest and ``occurred_at - base`` of each id: the body of an ids page."""
    w = Writer()
    for d, ts in items:
        w.buf += d
        w.sint(ts - base)
    return w.bytes()


def encode_ids(family: int, memory: IdMemory, page: int) -> bytes:
    """One page of a family's remembered ids, as ``memory.pages`` holds it serialized."""
    w = Writer(IDS)
    w.uint(family)
    w.uint(page)
    w.sint(memory.swept_at)
    w.uint(memory.page_counts[page])
    w.buf += memory.pages[page]
    return w.bytes()


def read_ids(st: PublicState, chunk: bytes) -> tuple[int, int]:
    """Add an ids page's digests to its family's memory (pages must come in order); returns
    ``(family, page)``."""
    r = reader(IDS, chunk)
    family = r.uint()
    page = r.uint()
    base = r.sint()
    count = r.uint()
    start = r.pos
    memory = st.memories[family]
    digests = memory.digests if memory.digests is not None else {}
    for _ in range(count):
        d = r.raw(DIGEST_BYTES)
        digests[d] = base + r.sint()
    if len(memory.pages) != page:
        raise StateFormatError(f"ids page {page} of family {family} read out of order")
    body = chunk[start : r.pos]
    if base != memory.swept_at:  # pages of one sweep share its time; re-base one that does not
        body = entries(
            ((d, digests[d]) for d in (body[i : i + DIGEST_BYTES] for i in _offsets(body))), memory.swept_at
        )
    memory.pages.append(bytearray(body))
    memory.page_counts.append(count)
    memory.digests = digests or None
    memory.digests_serialized = True
    st.restored = st.restored or bool(digests)
    return family, page


def _offsets(body: bytes) -> Iterable[int]:
    """Where each entry of an ids page body starts."""
    r = Reader(body, 0)
    while not r.done():
        start = r.pos
        r.pos += DIGEST_BYTES
        r.sint()
        yield start


# -- the root ------------------------------------------------------------------------------------

#: Where a page is: inside the root, or in the record ``public_id|name|slot`` of slot 0 or 1.
INLINE: Final = None


@dataclass(slots=True)
class RootTable:
    """What a root says beyond the scalars: the hash page counts, every page and where it is, and
    the records left over from earlier layouts that the records after this root delete."""

    posts_pages: int = 1
    pending_pages: int = 1
    #: name -> (slot or ``INLINE``, the page's bytes when inline)
    pages: dict[str, tuple[int | None, bytes | None]] = field(default_factory=dict)
    garbage: list[str] = field(default_factory=list)


def encode_root(st: PublicState, table: RootTable) -> bytes:
    w = Writer(ROOT)
    n = st.newest
    top = n // HOUR_MS
    w.uint(n)
    w.uint(0 if st.last_post_at is None else n - st.last_post_at + 1)
    if st.subs_at is None:
        w.uint(0)
    else:
        w.uint(n - st.subs_at + 1)
        w.uint(st.subs_count)
        w.sint(st.subs_delta)
    w.sint(top - st.oldest_hour)
    for memory in st.memories:
        w.uint(0 if memory.newest < 0 else n - memory.newest + 1)
        w.sint(n - memory.swept_at)
    w.uint(table.posts_pages)
    w.uint(table.pending_pages)
    w.uint(len(table.pages))
    for name, (slot, inline) in table.pages.items():
        w.text(name)
        if slot is INLINE:
            assert inline is not None
            w.uint(0)
            w.uint(len(inline))
            w.buf += inline
        else:
            w.uint(1 + slot)
    w.uint(len(table.garbage))
    for key in table.garbage:
        w.text(key)
    # Appended to v4 roots, so that a reader that stops at the garbage list still reads them: each
    # family's source partition + 1 (0: not known) and, when known, the offset after the last applied.
    for memory in st.memories:
        if memory.source is None:
            w.uint(0)
        else:
            w.uint(memory.source[0] + 1)
            w.uint(memory.source[1])
    return w.bytes()


def decode_root(public_id: str, data: bytes) -> tuple[PublicState, RootTable]:
    """The root's scalars as a state (no pages merged yet), and its table."""
    r = reader(ROOT, data)
    st = read_scalars(r, public_id, signed_oldest=True)
    n = st.newest
    for memory in st.memories:
        newest = r.uint()
        memory.newest = -1 if newest == 0 else n - newest + 1
        memory.swept_at = n - r.sint()
    table = RootTable(posts_pages=r.uint(), pending_pages=r.uint())
    for _ in range(r.uint()):
        name = r.text()
        placement = r.uint()
        if placement == 0:
            table.pages[name] = (INLINE, r.raw(r.uint()))
        else:
            table.pages[name] = (placement - 1, None)
    table.garbage = [r.text() for _ in range(r.uint())]
    if r.pos < len(data):  # written since the sources were kept
        for memory in st.memories:
            partition = r.uint()
            if partition:
                memory.source = (partition - 1, r.uint())
    return st, table


def read_page(st: PublicState, chunk: bytes) -> Any:
    """Merge any page into ``st``, whatever its kind."""
    kind = kind_of(chunk)
    if kind == DAY:
        return read_day(st, chunk)
    if kind == POSTS:
        return read_posts(st, chunk)
    if kind == PENDING:
        return read_pending(st, chunk)
    if kind == IDS:
        return read_ids(st, chunk)
    raise StateFormatError(f"unknown page kind {chr(kind)}")
