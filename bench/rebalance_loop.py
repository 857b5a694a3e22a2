"""Run the join-then-leave scenario again and again: rebalances must lose nothing, in every run.

    python -m bench.rebalance_loop                 # 30 runs of the two-workers test
    python -m bench.rebalance_loop --runs 5 --test test_a_worker_killed_mid_stream_recovers_and_loses_nothing

Each run is the integration test ``test_two_workers_sharing_partitions_give_the_tables_of_one`` (a second
worker joins mid-stream, both answer for every public, the first leaves, more events come) in a fresh
pytest process with its own broker, so no run inherits another's state. A failing run's output is kept
under ``bench/out/rebalance-loop/`` and the loop goes on, so the count of failures is honest.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out" / "rebalance-loop"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--test", default="test_two_workers_sharing_partitions_give_the_tables_of_one")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    failed = []
    for run in range(1, args.runs + 1):
        started = time.monotonic()
        basetemp = OUT / f"run{run}"
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                f"tests/integration/test_worker.py::{args.test}",
                f"--basetemp={basetemp}",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        seconds = time.monotonic() - started
        verdict = "passed" if done.returncode == 0 else "FAILED"
        if done.returncode != 0:
            failed.append(run)
            (OUT / f"run{run}.txt").write_text(done.stdout + done.stderr)
        print(f"run {run}/{args.runs}: {verdict} in {seconds:.0f} s", flush=True)
    print(f"{args.runs - len(failed)} passed, {len(failed)} failed" + (f" (runs {failed})" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
