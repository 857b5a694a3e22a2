"""The ``gospulse`` command: one module per subcommand, sharing ``common`` and the settings table.

The top layer: it wires ``streams`` (the engine, producers, replay, the local stack) and ``agents`` (the
Faust worker) into commands, and nothing in them imports it back."""

from __future__ import annotations

import argparse
import sys

from gospulse import bridge, publish, replay, simulate, topics, up, worker
from gospulse.common import EXIT_USAGE, UsageError

COMMANDS = (replay, publish, simulate, topics, up, worker, bridge)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gospulse",
        description="gospulse: real-time KPI monitor for government social-media pages.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return args.run(args)
    except UsageError as exc:
        print(f"gospulse {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
