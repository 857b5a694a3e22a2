"""``gospulse replay``: an event log through the engine offline, one table per public."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import IO

import orjson

from gospulse.common import (
    EXIT_OK,
    EXIT_USAGE,
    StatusLine,
    add_command,
    add_progress_option,
    fail,
    progress_shown,
)
from streams.core.engine import Engine
from streams.core.profiles import BUILT_IN_PROFILES, ProfilesError
from streams.core.registry import Registry
from streams.core.timebase import TimeError, format_instant, parse_instant
from streams.profiles_file import read_profiles
from streams.replay import ReplayReport, StrictError, load_registry, open_log, replay_lines

HELP = """\
Replay a contract v1 event log offline and print every public's engagement table at time T, or
with --breaches the KPI breaches at T (contract §4).

The log is JSON Lines (optionally gzip-compressed), one event per line in log order, exactly as
the contract (docs/contract.md §1) describes; a line may also hold a batch (a JSON array of one
public's events), as a dump of the Kafka topics would. Only events with occurred_at <= T take
part; duplicates (a repeated event_id of the same public) are skipped.

Output: one JSON object per public per line, sorted by public_id, with the fields of contract §2 and
§4 (working time by the public's time zone and the Russian production calendar, and its profile).
With --breaches: one JSON object per breach, sorted by public_id then kpi, covering every public
with an event and every public in --registry (one with no events breaks the posting and silence
KPIs). --profiles gives the KPI profiles (TOML, contract §4); without it the built-in defaults apply.
A summary goes to stderr: lines read, events applied, duplicates, events after T, and bad events
grouped by reason with the first line numbers. Bad lines do not stop the replay unless --strict.
"""

EPILOG = """\
examples:
  gospulse replay events.jsonl.gz --at 2026-11-27T12:00:00+03:00
  gospulse replay events.jsonl --registry publics.jsonl --at 1764234000000 --out tables.jsonl
  gospulse replay events.jsonl --at 2026-11-27T09:00:00Z --strict   # fail on the first bad line
  gospulse replay events.jsonl --registry publics.jsonl --profiles deploy/kpi/profiles.toml \
      --at 2026-11-27T18:00:00+03:00 --breaches

exit status: 0 done; 1 a bad line under --strict, or an unreadable file; 2 wrong arguments or a
profiles file with a fault (the message names the file, the key and the fix).
"""


def add_parser(commands: argparse._SubParsersAction) -> None:
    replay = add_command(
        commands,
        "replay",
        "replay an event log offline and print every public's table at time T",
        HELP,
        EPILOG,
    )
    replay.add_argument("events", type=Path, metavar="EVENTS.jsonl[.gz]", help="the event log")
    replay.add_argument(
        "--at",
        required=True,
        metavar="T",
        help="the time to evaluate at: epoch milliseconds, or ISO 8601 with a zone "
        "(2026-11-27T12:00:00+03:00, 2026-11-27T09:00:00Z)",
    )
    replay.add_argument(
        "--registry",
        type=Path,
        metavar="R.jsonl",
        help="public registry records (contract §1) giving each public's region, level and theme; "
        "publics not in it get null segment fields",
    )
    replay.add_argument(
        "--profiles",
        type=Path,
        metavar="P.toml",
        help="KPI profiles (contract §4; e.g. deploy/kpi/profiles.toml); default: the built-in ones",
    )
    replay.add_argument(
        "--breaches", action="store_true", help="print the KPI breaches at T instead of the tables"
    )
    replay.add_argument("--out", type=Path, metavar="FILE", help="write the output here instead of stdout")
    replay.add_argument("--strict", action="store_true", help="stop with exit status 1 at the first bad line")
    add_progress_option(replay)
    replay.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        at = parse_instant(args.at)
    except TimeError as exc:
        return fail("replay", f"--at: {exc}", EXIT_USAGE)
    report = ReplayReport()
    registry = Registry()
    profiles = BUILT_IN_PROFILES
    if args.profiles is not None:
        try:
            profiles = read_profiles(args.profiles)
        except ProfilesError as exc:
            return fail("replay", str(exc), EXIT_USAGE)
    try:
        if args.registry is not None:
            stream, _, _ = open_log(args.registry)
            with stream:
                load_registry(stream, registry, report, args.strict)
        engine = Engine(registry, profiles)
        stream, position, size = open_log(args.events)
        status = StatusLine(live=True) if progress_shown(args) else None

        def tick(lines: int) -> None:
            assert status is not None
            done = position()
            frac = min(1.0, done / size) if size else 1.0
            elapsed = status.elapsed()
            eta = (elapsed / frac - elapsed) if frac > 0 else 0.0
            bar = "#" * int(frac * 30)
            rate = lines / elapsed
            status.show(
                f"replay [{bar:<30}] {frac:6.1%}  {lines:,} lines  {rate:,.0f} lines/s  eta {eta:4.0f}s"
            )

        with stream:
            replay_lines(stream, at, engine, report, strict=args.strict, tick=tick if status else None)
            if status is not None:
                tick(report.lines)
                status.close()
    except FileNotFoundError as exc:
        return fail("replay", f"{exc.filename}: no such file")
    except (OSError, EOFError) as exc:
        return fail("replay", f"cannot read input: {exc}")
    except StrictError as exc:
        return fail("replay", f"{exc} (--strict stops at the first bad line)")
    out: IO[bytes] = open(args.out, "wb") if args.out else sys.stdout.buffer  # noqa: SIM115
    try:
        written = 0
        for row in engine.breaches(at) if args.breaches else engine.tables(at):
            out.write(orjson.dumps(row))
            out.write(b"\n")
            written += 1
    finally:
        if args.out:
            out.close()
        else:
            out.flush()
    print(report.summary(), file=sys.stderr)
    what = "breaches" if args.breaches else "tables"
    print(
        f"wrote {written} {what} at {format_instant(at)} ({at}); profiles: {profiles.source}", file=sys.stderr
    )
    return EXIT_OK
