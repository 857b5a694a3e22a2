"""A directory of its own for each bench run, so that runs started in the same second never share one."""

from __future__ import annotations

import os
import time
from pathlib import Path


def new_run_dir(base: Path, label: str = "") -> Path:
    """``base/<YYYYmmdd-HHMMSS>[-label]``, suffixed ``-2``, ``-3``… when another run already took it.

    Two soaks started together once wrote their workers' data directories into one folder; ``mkdir``
    without ``exist_ok`` is the lock, so the race is settled by the file system, not by timing.
    """
    base.mkdir(parents=True, exist_ok=True)
    stem = time.strftime("%Y%m%d-%H%M%S") + (f"-{label}" if label else "")
    for n in range(1, 1000):
        path = base / (stem if n == 1 else f"{stem}-{n}")
        try:
            path.mkdir()
        except FileExistsError:
            continue
        return path
    raise RuntimeError(f"{base}: no free run directory for {stem} after 999 tries (pid {os.getpid()})")
