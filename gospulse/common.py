"""What every command shares: exit statuses, progress lines, stop signals, settings as options."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Final

from streams.settings import SettingsError, load

EXIT_OK: Final = 0
EXIT_BAD_INPUT: Final = 1
EXIT_USAGE: Final = 2


class UsageError(Exception):
    """Wrong arguments or settings: the message goes to stderr and the exit status is 2."""


def say(command: str, message: str) -> None:
    print(f"gospulse {command}: {message}", file=sys.stderr)


def fail(command: str, message: str, status: int = EXIT_BAD_INPUT) -> int:
    say(command, message)
    return status


def unusable_dir(path: Path, option: str) -> str | None:
    """Why ``path`` (given by ``option``) cannot hold the command's files, after creating it and any
    missing parents; None when it can."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return f"{option} {path}: cannot create it ({exc.strerror}); give one this user may create or write"
    if not os.access(path, os.W_OK | os.X_OK):
        return f"{option} {path}: this user may not write there; give a directory it may write"
    return None


def load_settings_of(names: Iterable[str], args: argparse.Namespace) -> dict[str, Any]:
    """The command's settings from its flags, the environment and the defaults (``streams.settings``)."""
    try:
        return load(names, vars(args))
    except SettingsError as exc:
        raise UsageError(str(exc)) from None


def add_command(
    commands: argparse._SubParsersAction, name: str, summary: str, help_text: str, epilog: str | None = None
) -> argparse.ArgumentParser:
    """A subcommand whose ``--help`` keeps its text's line breaks (examples, exit statuses)."""
    return commands.add_parser(
        name,
        help=summary,
        description=help_text,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def add_progress_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--progress",
        choices=("auto", "always", "never"),
        default="auto",
        help="a progress line on stderr: auto shows it when stderr is a terminal (default: auto)",
    )


def progress_shown(args: argparse.Namespace) -> bool:
    return args.progress == "always" or (args.progress == "auto" and sys.stderr.isatty())


class StatusLine:
    """One line of progress on stderr, redrawn in place on a terminal (``live``), else appended."""

    def __init__(self, live: bool) -> None:
        self.live = live
        self.started = time.monotonic()
        self.drawn = False

    def elapsed(self) -> float:
        return max(time.monotonic() - self.started, 1e-9)

    def show(self, line: str) -> None:
        sys.stderr.write(("\r" + line) if self.live else (line + "\n"))
        sys.stderr.flush()
        self.drawn = True

    def close(self) -> None:
        if self.live and self.drawn:
            sys.stderr.write("\n")
            sys.stderr.flush()


class StopSignals:
    """Turns SIGINT, SIGTERM and SIGHUP into a flag a loop polls, for a clean stop."""

    def __init__(self) -> None:
        self.received: int | None = None
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, self._on_signal)

    def _on_signal(self, signum: int, frame: object) -> None:
        self.received = signum

    def __bool__(self) -> bool:
        return self.received is not None
