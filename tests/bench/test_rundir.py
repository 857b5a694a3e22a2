"""Bench runs started in the same second each get a directory of their own."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.rundir import new_run_dir


def test_runs_started_together_never_share_a_directory(tmp_path: Path) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        dirs = list(pool.map(lambda _: new_run_dir(tmp_path, "seed1"), range(8)))
    assert len(set(dirs)) == 8
    assert all(d.is_dir() and d.parent == tmp_path and "-seed1" in d.name for d in dirs)


def test_a_label_names_the_run(tmp_path: Path) -> None:
    assert new_run_dir(tmp_path, "seed7").name.endswith("-seed7")
    assert "-" in new_run_dir(tmp_path).name
