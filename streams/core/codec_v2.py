"""Reading state written in format v2 (before state was paged): a worker upgraded in place still finds
the publics its predecessor wrote, and its first write turns each into format v3 (``streams.core.layout``).

v2 kept a public as one *core* chunk (scalars, posts, pending comments, every remembered id, and the
day chunks changed since they were last written under their own keys ``public_id|day``) plus one
chunk per UTC day. Nothing writes v2 any more.
"""

from __future__ import annotations

from typing import Final

from streams.core.state import SLOTS, PublicState
from streams.core.timebase import DAY_MS, HOUR_MS, HOURS_PER_DAY

MAGIC: Final = b"gp"
VERSION: Final = 2
CORE: Final = ord("C")
DAY: Final = ord("D")
_HAS_LATENCIES: Final = 0x20
_DIGEST_BYTES: Final = 8


class Reader:
    """LEB128 varints (zigzag for signed values) and length-prefixed strings after a chunk header."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes, pos: int) -> None:
        self.data = data
        self.pos = pos

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

    def byte(self) -> int:
        value = self.data[self.pos]
        self.pos += 1
        return value

    def sint(self) -> int:
        n = self.uint()
        return n >> 1 if not n & 1 else -((n + 1) >> 1)

    def text(self) -> str:
        return self.raw(self.uint()).decode()

    def raw(self, size: int) -> bytes:
        start = self.pos
        self.pos += size
        if self.pos > len(self.data):
            raise IndexError("chunk ends early")
        return bytes(self.data[start : self.pos])

    def done(self) -> bool:
        return self.pos >= len(self.data)


def is_v2(data: bytes) -> bool:
    return data[:2] == MAGIC and len(data) >= 4 and data[2] == VERSION


def read_scalars(r: Reader, public_id: str, signed_oldest: bool) -> PublicState:
    """The scalars both formats open a public with (v3 stores the oldest hour signed)."""
    st = PublicState(public_id)
    n = st.newest = r.uint()
    last_post = r.uint()
    st.last_post_at = None if last_post == 0 else n - last_post + 1
    subs_age = r.uint()
    if subs_age:
        st.subs_at = n - subs_age + 1
        st.subs_count = r.uint()
        st.subs_delta = r.sint()
    st.oldest_hour = n // HOUR_MS - (r.sint() if signed_oldest else r.uint())
    st.plan_housekeeping()
    return st


def decode_core(public_id: str, core: bytes) -> tuple[PublicState, dict[int, bytes | None]]:
    """A state from a v2 core alone, and the day chunks embedded in it (already merged)."""
    r = Reader(core, 4)
    st = read_scalars(r, public_id, signed_oldest=False)
    n = st.newest
    top = n // HOUR_MS
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
    for chunk in embedded.values():
        if chunk is not None:
            add_day(st, chunk)
    return st, embedded


def day_span(st: PublicState) -> range:
    """The days whose v2 chunks (key ``public_id|day``) a decoded core may have."""
    return range(st.oldest_hour // HOURS_PER_DAY, st.newest // DAY_MS + 1)


def add_day(st: PublicState, chunk: bytes) -> None:
    """Merge one v2 day chunk into a state decoded from its core."""
    if chunk[:2] != MAGIC or chunk[2] != VERSION or chunk[3] != DAY:
        raise ValueError("not a v2 day chunk")
    r = Reader(chunk, 4)
    first = r.uint() * HOURS_PER_DAY
    while not r.done():
        hour, head = read_hour(r, st, first)
        if head & _HAS_LATENCIES:
            for value in [r.uint() for _ in range(r.uint())]:
                st.add_latency(hour, value, None)


def read_hour(r: Reader, st: PublicState, first: int) -> tuple[int, int]:
    """One hour of a day chunk, in both formats: its head byte, the counters mask, the non-zero
    counters (merged into ``st``). Returns the hour and the head, whose flags say what follows."""
    head = r.data[r.pos]
    mask = r.data[r.pos + 1]
    r.pos += 2
    hour = first + (head & 0x1F)
    counters = [0] * SLOTS
    for slot in range(SLOTS):
        if mask & (1 << slot):
            counters[slot] = r.sint()
    st.hours[hour] = counters
    return hour, head
