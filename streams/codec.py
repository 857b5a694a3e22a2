"""Public state as versioned bytes, in chunks so that an update rewrites only what it touched.

A public's state is one *core* chunk (scalars, posts, pending comments, dedup ids) and one chunk per
UTC day of hourly counters and latencies. Applying events to a public dirties its core and the days
those events fall in; ``take_changes`` returns just those, with ``None`` for a day that retention
emptied (a delete for the changelog). Every chunk starts with ``MAGIC``, a format version and a
chunk kind, so a reader can refuse what it does not understand.

Times inside a chunk are stored relative to the public's newest event (core) or to the day's first
hour (day chunks), and counters trailing zeros are dropped, to keep chunks small; payloads above
``COMPRESS_ABOVE`` bytes are deflated when that makes them smaller.
"""

from __future__ import annotations

import zlib
from typing import Any, Final

import orjson

from streams.state import P_DELETED, P_HOURS, P_LAST_PUB, P_TOUCH, P_VIEWS, SLOTS, PublicState
from streams.timebase import HOUR_MS, HOURS_PER_DAY

MAGIC: Final = b"gp"
FORMAT_VERSION: Final = 1
CORE: Final = ord("C")
DAY: Final = ord("D")
_PLAIN: Final = 0
_DEFLATED: Final = 1
COMPRESS_ABOVE: Final = 160


class StateFormatError(ValueError):
    """Bytes that are not a chunk of a format version this code reads."""


def _pack(kind: int, payload: Any) -> bytes:
    raw = orjson.dumps(payload)
    if len(raw) > COMPRESS_ABOVE:
        packed = zlib.compress(raw, 6)
        if len(packed) < len(raw):
            return MAGIC + bytes((FORMAT_VERSION, kind, _DEFLATED)) + packed
    return MAGIC + bytes((FORMAT_VERSION, kind, _PLAIN)) + raw


def _unpack(kind: int, data: bytes) -> Any:
    if data[:2] != MAGIC or len(data) < 5:
        raise StateFormatError("not a gospulse state chunk")
    version, got_kind, encoding = data[2], data[3], data[4]
    if version != FORMAT_VERSION:
        raise StateFormatError(f"state format v{version}; this build reads v{FORMAT_VERSION}")
    if got_kind != kind:
        raise StateFormatError(f"expected chunk kind {chr(kind)}, got {chr(got_kind)}")
    body = data[5:]
    if encoding == _DEFLATED:
        body = zlib.decompress(body)
    return orjson.loads(body)


def encode_core(st: PublicState) -> bytes:
    n = st.newest
    top = n // HOUR_MS
    posts: list[Any] = []
    for post_id, rec in st.posts.items():
        last_pub = rec[P_LAST_PUB]
        posts += (
            post_id,
            [top - h for h in rec[P_HOURS]],
            -1 if last_pub < 0 else n - last_pub,
            n - rec[P_TOUCH],
            rec[P_VIEWS] * 2 + (1 if rec[P_DELETED] else 0),
        )
    pending: list[Any] = []
    for comment_id, asked in st.pending.items():
        pending += (comment_id, n - asked)
    subs = None if st.subs_at is None else [n - st.subs_at, st.subs_count, st.subs_delta]
    return _pack(
        CORE,
        [
            n,
            None if st.last_post_at is None else n - st.last_post_at,
            subs,
            n - st.seen_since,
            st.swept_day,
            posts,
            pending,
            list(st.seen),
            list(st.seen_before),
        ],
    )


def encode_day(st: PublicState, day: int) -> bytes | None:
    """The day's hourly counters and latencies, or ``None`` when the day holds nothing."""
    first = day * HOURS_PER_DAY
    hours: list[Any] = []
    lats: list[Any] = []
    for offset in range(HOURS_PER_DAY):
        counters = st.hours.get(first + offset)
        if counters is not None:
            used = SLOTS
            while used and counters[used - 1] == 0:
                used -= 1
            hours.append([offset, *counters[:used]])
        values = st.latencies.get(first + offset)
        if values:
            lats.append([offset, *values])
    if not hours and not lats:
        return None
    return _pack(DAY, [day, hours, lats])


def take_changes(st: PublicState) -> tuple[bytes, dict[int, bytes | None]]:
    """The core and the touched days since the last call, then forget the touches."""
    days = {h // HOURS_PER_DAY for h in st.touched}
    st.touched.clear()
    return encode_core(st), {day: encode_day(st, day) for day in sorted(days)}


def encode_all(st: PublicState) -> tuple[bytes, dict[int, bytes]]:
    """Every chunk of the state (for a full snapshot or a size measurement)."""
    days = sorted({h // HOURS_PER_DAY for h in st.hours} | {h // HOURS_PER_DAY for h in st.latencies})
    out: dict[int, bytes] = {}
    for day in days:
        chunk = encode_day(st, day)
        if chunk is not None:
            out[day] = chunk
    return encode_core(st), out


def decode(public_id: str, core: bytes, days: dict[int, bytes] | list[bytes]) -> PublicState:
    """Rebuild a state from its core and day chunks (in any order)."""
    n, last_post, subs, seen_age, swept_day, posts, pending, seen, seen_before = _unpack(CORE, core)
    st = PublicState(public_id)
    top = n // HOUR_MS
    st.newest = n
    st.last_post_at = None if last_post is None else n - last_post
    if subs is not None:
        st.subs_at, st.subs_count, st.subs_delta = n - subs[0], subs[1], subs[2]
    st.seen_since = n - seen_age
    st.swept_day = swept_day
    for i in range(0, len(posts), 5):
        post_id, hours, last_pub, touch, packed = posts[i : i + 5]
        st.posts[post_id] = [
            [top - h for h in hours],
            -1 if last_pub < 0 else n - last_pub,
            bool(packed & 1),
            packed >> 1,
            n - touch,
        ]
    for i in range(0, len(pending), 2):
        st.pending[pending[i]] = n - pending[i + 1]
    st.seen = set(seen)
    st.seen_before = set(seen_before)
    for chunk in days.values() if isinstance(days, dict) else days:
        day, hours, lats = _unpack(DAY, chunk)
        first = day * HOURS_PER_DAY
        for offset, *counters in hours:
            st.hours[first + offset] = counters + [0] * (SLOTS - len(counters))
        for offset, *values in lats:
            st.latencies[first + offset] = values
    return st
