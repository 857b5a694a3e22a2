"""``gospulse up``: the one command on a machine with nothing but the project installed."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import redis

from streams.broker import free_port
from tests.integration.test_worker import get_json
from tests.integration.worker import eventually


def test_up_runs_everything_and_ctrl_c_stops_it_all(tmp_path: Path) -> None:
    port = free_port()
    env = dict(os.environ, PATH=str(Path(sys.executable).parent))  # no system redis-server on PATH
    args = ["--publics", "40", "--days", "1", "--web-port", str(port), "--workdir", str(tmp_path)]
    up = subprocess.Popen(
        [sys.executable, "-m", "streams.cli", "up", *args],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )
    lines: list[str] = []
    try:
        assert up.stderr is not None
        while not any("Ctrl-C stops everything" in line for line in lines):
            line = up.stderr.readline()
            assert line, "gospulse up ended early:\n" + "".join(lines)
            lines.append(line)
        out = "".join(lines)
        api = re.search(r"API +(http://\S+)/publics/(\S+)", out)
        redis_url = re.search(r"redis +(redis://\S+)", out)
        assert api and redis_url, out

        def filled() -> None:
            assert redis.Redis.from_url(redis_url[1]).hlen("gospulse:tables") == 40
            status, table = get_json(f"{api[1]}/publics/{api[2]}")
            assert status == 200 and table["public_id"] == api[2] and table["level"] is not None

        eventually(filled, timeout_s=90)
    finally:
        os.killpg(up.pid, signal.SIGINT)  # Ctrl-C
        rest = up.communicate(timeout=60)[1]
    assert up.returncode == 0, rest
    assert "gospulse up: stopped" in rest
    broker_port = int(re.search(r"tansu \(memory storage\) at 127.0.0.1:(\d+)", out)[1])
    redis_port = int(re.search(r"redis://127.0.0.1:(\d+)", out)[1])
    for gone in (port, broker_port, redis_port):
        with socket.socket() as s, contextlib.suppress(OSError):
            s.connect(("127.0.0.1", gone))
            raise AssertionError(f"something still listens on {gone} after Ctrl-C")
    simulator = f"simulate --broker 127.0.0.1:{broker_port}"
    simulators = subprocess.run(["pgrep", "-f", simulator], capture_output=True)
    assert simulators.returncode == 1, "the simulator is still running"
