"""Each upstream defect gospulse works around still reproduces: the day one is fixed, this fails,
and the workaround in agents/edge can be reviewed and dropped (docs/upstream/README.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

UPSTREAM = Path(__file__).resolve().parents[1] / "docs" / "upstream"


@pytest.mark.parametrize("script", ["tansu_end_offsets.py", "faust_flush.py", "faust_gap_acks.py"])
def test_the_defect_still_reproduces(script: str) -> None:
    done = subprocess.run(
        [sys.executable, str(UPSTREAM / script)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=UPSTREAM.parents[1],
    )
    assert done.returncode == 1, f"{script} no longer reproduces (or broke):\n{done.stdout}{done.stderr}"
    assert done.stdout.strip() and "Traceback" not in done.stderr
