"""Offline replay: a JSON Lines log through the same engine the live agents use, at a fixed T."""

from __future__ import annotations

import gc
import gzip
import io
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from schemas.contract import MAX_VALUE_BYTES
from schemas.validate import OVERSIZE_REASON, check_event, check_message, not_json_reason
from streams.badinput import BadTally
from streams.core.engine import Engine
from streams.core.registry import PublicInfo, Registry, parse_record


@dataclass
class ReplayReport:
    """What a replay read, counted; printed as the summary on stderr."""

    lines: int = 0
    events: int = 0
    applied: int = 0
    duplicates: int = 0
    after_at: int = 0
    bad: BadTally = field(default_factory=BadTally)
    registry_records: int = 0
    registry_bad: BadTally = field(default_factory=BadTally)

    @property
    def bad_events(self) -> int:
        return self.bad.total

    def summary(self) -> str:
        out = [
            f"read {self.lines} lines: {self.events} good events, {self.applied} applied, "
            f"{self.duplicates} duplicates skipped, {self.after_at} after --at, {self.bad_events} bad"
        ]
        out += self.bad.summary_lines("bad events")
        out += self.registry_bad.summary_lines("bad registry records")
        return "\n".join(out)


class StrictError(Exception):
    """The first bad input under ``--strict``."""


def open_log(path: Path) -> tuple[IO[bytes], Callable[[], int], int]:
    """Open a plain or gzip JSON Lines file; also return a byte-position probe and the size for progress."""
    raw = open(path, "rb")  # noqa: SIM115 - closed by the caller through the returned stream
    magic = raw.peek(2)[:2] if isinstance(raw, io.BufferedReader) else b""
    size = path.stat().st_size
    if magic == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=raw, mode="rb"), raw.tell, size  # type: ignore[return-value]
    return raw, raw.tell, size


def load_registry(lines: Iterable[bytes], registry: Registry, report: ReplayReport, strict: bool) -> None:
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        parsed = parse_record(line)
        if isinstance(parsed, PublicInfo):
            registry.put(parsed)
            report.registry_records += 1
            continue
        reason = parsed
        if strict:
            raise StrictError(f"registry line {lineno}: {reason}")
        report.registry_bad.add(str(lineno), reason)


def replay_lines(
    lines: Iterable[bytes],
    at: int,
    engine: Engine,
    report: ReplayReport,
    strict: bool = False,
    tick: Callable[[int], None] | None = None,
    tick_every: int = 65_536,
) -> None:
    """Feed log lines to ``engine``: events after ``at`` do not take part; bad ones are counted."""
    loads = orjson.loads
    held = engine.get
    lineno = applied = events = after = 0
    next_tick = tick_every if tick is not None else -1
    with _collector_paused():
        for lineno, line in enumerate(lines, 1):
            if lineno == next_tick:
                tick(lineno)  # type: ignore[misc]
                next_tick += tick_every
            if len(line) > MAX_VALUE_BYTES:
                _bad(report, strict, str(lineno), OVERSIZE_REASON)
                continue
            try:
                value = loads(line)
            except orjson.JSONDecodeError as exc:
                if line.strip():
                    _bad(report, strict, str(lineno), not_json_reason(exc))
                continue
            if type(value) is dict and check_event(value) is None:
                # the common case, kept flat: one good event on its own line
                events += 1
                if value["occurred_at"] > at:
                    after += 1
                    continue
                state = held(value["public_id"])
                if state is None:
                    state = engine.state(value["public_id"])
                applied += state.apply(value)
                continue
            good, rejections = check_message(value)
            for rejection in rejections:
                where = str(lineno) if rejection.index is None else f"{lineno}[{rejection.index}]"
                _bad(report, strict, where, rejection.reason)
            for ev in good:
                events += 1
                if ev["occurred_at"] > at:
                    after += 1
                else:
                    applied += engine.apply(ev)
    report.lines += lineno
    report.events += events
    report.after_at += after
    report.applied += applied
    report.duplicates += events - after - applied


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Switch the cyclic GC off for the replay.

    Decoded JSON and the engine's state are trees of dicts, lists, strings and ints: they hold no
    reference cycles, so reference counting frees everything, and the collector's repeated walks
    over millions of live state objects only cost time (a quarter of the replay, measured).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _bad(report: ReplayReport, strict: bool, where: str, reason: str) -> None:
    if strict:
        raise StrictError(f"line {where}: {reason}")
    report.bad.add(where, reason)


def replay_events(events: Iterable[dict[str, Any]], at: int, engine: Engine) -> Iterator[dict[str, Any]]:
    """Replay already-decoded events (tests, tools) and yield every table at ``at``."""
    report = ReplayReport()
    replay_lines((orjson.dumps(ev) for ev in events), at, engine, report, strict=True)
    return engine.tables(at)
