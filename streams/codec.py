"""Public state as versioned bytes, in chunks so that an update rewrites only what it touched.

A public's state is one *core* chunk (scalars, posts, pending comments, recent event ids) and one
chunk per UTC day of hourly counters and latencies. ``take_changes`` returns the core and only the
days changed since it last ran, with ``None`` for a day that retention emptied (a delete for the
changelog). Every chunk starts with ``MAGIC``, a format version and its kind, so a reader refuses
what it does not understand.

The body is a flat run of LEB128 varints (zigzag for signed values) and length-prefixed UTF-8
strings. Times are stored relative to the public's newest event, counters only where non-zero, and
event ids as 8-byte digests (``streams.state.digest``), which is what keeps a realistic public's
state within a few KiB.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import islice
from typing import Final

from streams.state import (
    P_DELETED,
    P_HOURS,
    P_LAST_PUB,
    P_TOUCH,
    P_VIEWS,
    SLOTS,
    IdMemory,
    PublicState,
    digest,
)
from streams.timebase import DAY_MS, HOUR_MS, HOURS_PER_DAY

MAGIC: Final = b"gp"
#: 2: event ids stored relative to their family's last sweep (1: relative to the newest event).
FORMAT_VERSION: Final = 2
CORE: Final = ord("C")
DAY: Final = ord("D")
_HAS_LATENCIES: Final = 0x20
_DIGEST_BYTES: Final = 8


class StateFormatError(ValueError):
    """Bytes that are not a chunk of a format version this code reads."""


class _Writer:
    __slots__ = ("buf",)

    def __init__(self, kind: int) -> None:
        self.buf = bytearray(MAGIC)
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


class _Reader:
    __slots__ = ("data", "pos")

    def __init__(self, kind: int, data: bytes) -> None:
        if data[:2] != MAGIC or len(data) < 4:
            raise StateFormatError("not a gospulse state chunk")
        if data[2] != FORMAT_VERSION:
            raise StateFormatError(f"state format v{data[2]}; this build reads v{FORMAT_VERSION}")
        if data[3] != kind:
            raise StateFormatError(f"expected a chunk of kind {chr(kind)}, got {chr(data[3])}")
        self.data = data
        self.pos = 4

    def uint(self) -> int:
        data, pos = self.data, self.pos
        n = shift = 0
        while True:
            byte = data[pos]
            pos += 1
            n |= (byte & 0x7F) << shift
            if byte < 0x80:
                self.pos = pos
                return n
            shift += 7

    def sint(self) -> int:
        n = self.uint()
        return n >> 1 if not n & 1 else -((n + 1) >> 1)

    def text(self) -> str:
        size = self.uint()
        start = self.pos
        self.pos += size
        return self.data[start : self.pos].decode()

    def raw(self, size: int) -> bytes:
        start = self.pos
        self.pos += size
        return bytes(self.data[start : self.pos])

    def done(self) -> bool:
        return self.pos >= len(self.data)


def encode_core(st: PublicState, embedded: dict[int, bytes | None] | None = None) -> bytes:
    """The core chunk; ``embedded`` day chunks (``None``: an emptied day) travel inside it.

    Embedding is what makes a flush atomic per public: the core and the days it touched land in one
    message, written before the separate day keys, so a crash between two writes never leaves a
    core that disagrees with its days.
    """
    w = _Writer(CORE)
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
    w.uint(top - st.oldest_hour)
    w.uint(len(st.posts))
    for post_id, rec in st.posts.items():
        w.text(post_id)
        w.uint(len(rec[P_HOURS]))
        for hour in rec[P_HOURS]:
            w.uint(top - hour)
        w.uint(0 if rec[P_LAST_PUB] < 0 else n - rec[P_LAST_PUB] + 1)
        w.uint(n - rec[P_TOUCH])
        w.uint(rec[P_VIEWS] * 2 + (1 if rec[P_DELETED] else 0))
    w.uint(len(st.pending))
    for comment_id, asked in st.pending.items():
        w.text(comment_id)
        w.uint(n - asked)
    # every id the state remembers, not only the last 48 h: a restored state then dedups exactly
    # as the one that was saved would have, which is what makes a restart invisible
    for memory in st.memories:
        w.uint(0 if memory.newest < 0 else n - memory.newest + 1)
        w.sint(n - memory.swept_at)
        w.uint(len(memory.ids) + len(memory.digests or ()))
        w.buf += _ids_block(memory)
        if memory.digests:
            if memory.encoded_digests is None:
                memory.encoded_digests = _entries(memory.digests.items(), memory.swept_at)
            w.buf += memory.encoded_digests
    embedded = embedded or {}
    w.uint(len(embedded))
    for day, chunk in embedded.items():
        w.uint(day)
        w.uint(0 if chunk is None else len(chunk))
        if chunk is not None:
            w.buf += chunk
    return bytes(w.buf)


def _entries(items: Iterable[tuple[bytes, int]], base: int) -> bytes:
    """Digest and ``occurred_at - base`` of each id: independent of the newest event, so reusable."""
    w = _Writer(CORE)
    del w.buf[:]
    for d, ts in items:
        w.buf += d
        w.sint(ts - base)
    return bytes(w.buf)


def _ids_block(memory: IdMemory) -> bytearray:
    """The family's live ids, serialized; only ids added since the last call are hashed and written."""
    cache = memory.encoded
    if cache is None:
        cache = memory.encoded = [0, bytearray()]
    if cache[0] < len(memory.ids):
        fresh = islice(memory.ids.items(), cache[0], None)
        cache[1] += _entries(((digest(eid), ts) for eid, ts in fresh), memory.swept_at)
        cache[0] = len(memory.ids)
    return cache[1]


def encode_day(st: PublicState, day: int) -> bytes | None:
    """The day's hourly counters and latencies, or ``None`` when the day holds nothing."""
    w = _Writer(DAY)
    w.uint(day)
    first = day * HOURS_PER_DAY
    empty = True
    for offset in range(HOURS_PER_DAY):
        counters = st.hours.get(first + offset)
        values = st.latencies.get(first + offset)
        if counters is None and not values:
            continue
        empty = False
        w.buf.append(offset | (_HAS_LATENCIES if values else 0))
        counters = counters or [0] * SLOTS
        mask = 0
        for slot in range(SLOTS):
            if counters[slot]:
                mask |= 1 << slot
        w.buf.append(mask)
        for slot in range(SLOTS):
            if counters[slot]:
                w.sint(counters[slot])
        if values:
            w.uint(len(values))
            for value in values:
                w.uint(value)
    return None if empty else bytes(w.buf)


def take_changed_days(st: PublicState) -> dict[int, bytes | None]:
    """Every day changed or emptied since the last call: its chunk, or ``None`` (delete it)."""
    days: dict[int, bytes | None] = dict.fromkeys(sorted(st.dropped_days))
    first = st.oldest_hour // HOURS_PER_DAY
    for day in sorted(st.dirty_days):
        if day >= first:
            days[day] = encode_day(st, day)
    days = {day: chunk for day, chunk in days.items() if chunk is not None or day in st.dropped_days}
    st.dirty_days = set()
    st.dropped_days = set()
    return days


def take_changes(st: PublicState) -> tuple[bytes, dict[int, bytes | None]]:
    """The core (with the changed days embedded), and every day changed or emptied since the last
    call (``None``: delete it). Write the core first, then the days."""
    days = take_changed_days(st)
    return encode_core(st, days), days


def encode_all(st: PublicState) -> tuple[bytes, dict[int, bytes]]:
    """Every chunk of the state (for a full snapshot or a size measurement)."""
    out: dict[int, bytes] = {}
    for day in sorted({h // HOURS_PER_DAY for h in (*st.hours, *st.latencies)}):
        chunk = encode_day(st, day)
        if chunk is not None:
            out[day] = chunk
    return encode_core(st), out


def decode(public_id: str, core: bytes, days: dict[int, bytes] | list[bytes]) -> PublicState:
    """Rebuild a state from its core and day chunks (in any order); the core's embedded days win."""
    st, embedded = decode_core(public_id, core)
    for chunk in days.values() if isinstance(days, dict) else days:
        day = _Reader(DAY, chunk).uint()
        if day not in embedded:
            add_day(st, chunk)
    return st


def decode_core(public_id: str, core: bytes) -> tuple[PublicState, dict[int, bytes | None]]:
    """A state from its core alone, and the days embedded in it (already merged into the state).

    Embedded days are marked changed, so the next ``take_changes`` writes them to their own keys
    again: a crash may have kept them from getting there.
    """
    r = _Reader(CORE, core)
    st = PublicState(public_id)
    n = st.newest = r.uint()
    top = n // HOUR_MS
    last_post = r.uint()
    st.last_post_at = None if last_post == 0 else n - last_post + 1
    subs_age = r.uint()
    if subs_age:
        st.subs_at = n - subs_age + 1
        st.subs_count = r.uint()
        st.subs_delta = r.sint()
    st.oldest_hour = top - r.uint()
    st.plan_housekeeping()
    for _ in range(r.uint()):
        post_id = r.text()
        hours = [top - r.uint() for _ in range(r.uint())]
        last_pub = r.uint()
        touch = n - r.uint()
        packed = r.uint()
        last_pub_at = -1 if last_pub == 0 else n - last_pub + 1
        st.posts[post_id] = [hours, last_pub_at, bool(packed & 1), packed >> 1, touch]
    for _ in range(r.uint()):
        comment_id = r.text()
        st.pending[comment_id] = n - r.uint()
    for memory in st.memories:
        newest = r.uint()
        memory.newest = -1 if newest == 0 else n - newest + 1
        memory.swept_at = n - r.sint()
        digests = {}
        for _ in range(r.uint()):
            d = r.raw(_DIGEST_BYTES)
            digests[d] = memory.swept_at + r.sint()
        memory.digests = digests or None
        st.restored = st.restored or bool(digests)
    embedded: dict[int, bytes | None] = {}
    for _ in range(r.uint()):
        day = r.uint()
        size = r.uint()
        embedded[day] = r.raw(size) if size else None
    for day, chunk in embedded.items():
        if chunk is None:
            st.dropped_days.add(day)
        else:
            add_day(st, chunk)
            st.dirty_days.add(day)
    return st, embedded


def day_span(st: PublicState) -> range:
    """The days whose chunks a decoded core may have: those its retained hours fall in."""
    return range(st.oldest_hour // HOURS_PER_DAY, st.newest // DAY_MS + 1)


def add_day(st: PublicState, chunk: bytes) -> None:
    """Merge one day chunk into a state decoded from its core."""
    r = _Reader(DAY, chunk)
    first = r.uint() * HOURS_PER_DAY
    while not r.done():
        head = r.data[r.pos]
        mask = r.data[r.pos + 1]
        r.pos += 2
        hour = first + (head & 0x1F)
        counters = [0] * SLOTS
        for slot in range(SLOTS):
            if mask & (1 << slot):
                counters[slot] = r.sint()
        st.hours[hour] = counters
        if head & _HAS_LATENCIES:
            st.latencies[hour] = [r.uint() for _ in range(r.uint())]
