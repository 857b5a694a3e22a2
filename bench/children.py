"""Measurements in child processes: each starts afresh, pinned to one core, so its peak RSS is its own."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def status_kib(pid: int | str, field: str) -> int | None:
    """A memory figure of ``/proc/<pid>/status`` (``VmRSS``, ``VmHWM``…) in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return None


def peak_rss_mib() -> float:
    """This process's own peak RSS (VmHWM starts afresh at exec, unlike ru_maxrss)."""
    peak = status_kib("self", "VmHWM")
    return peak / 1024 if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker_health(port: int, timeout_s: float = 10.0) -> dict[str, Any] | None:
    """A worker's ``/health`` body (whatever its status), or None while it does not answer."""
    from streams.local.up import get_json

    try:
        body = get_json(f"http://127.0.0.1:{port}/health", timeout_s)[1]
    except (OSError, ValueError):
        return None
    return body if isinstance(body, dict) else None


def pin() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})


def run_child(module: str, args: list[str]) -> dict:
    """``python -m module --child *args`` from the repository root; its JSON answer on stdout."""
    out = subprocess.run(
        [sys.executable, "-m", module, "--child", *args], check=True, capture_output=True, text=True, cwd=ROOT
    )
    return json.loads(out.stdout)
