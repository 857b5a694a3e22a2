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

import pytest
import redis

from streams.local.tansu import free_port
from tests.integration.test_worker import get_json
from tests.integration.worker import eventually
from tests.tools import tool


def test_up_runs_everything_and_ctrl_c_stops_it_all(tmp_path: Path) -> None:
    port = free_port()
    env = dict(os.environ, PATH=str(Path(sys.executable).parent))  # no system redis-server on PATH
    up, out = _start_up(tmp_path, port, publics=40, days=1, env=env)
    try:
        api = re.search(r"API +(http://\S+)/publics/(\S+)", out)
        redis_url = re.search(r"redis +(redis://\S+)", out)
        assert api and redis_url, out

        def filled() -> None:
            assert redis.Redis.from_url(redis_url[1]).hlen("gospulse:tables") == 40
            status, table = get_json(f"{api[1]}/publics/{api[2]}")
            assert status == 200 and table["public_id"] == api[2] and table["level"] is not None
            # the sample public is a lively one, not a silent page with every count at zero
            assert any(v for k, v in table.items() if k.endswith(("_24h", "_7d")) and isinstance(v, int))

        eventually(filled, timeout_s=90)
        # no Prometheus on this PATH: up says so, and how to get it
        assert "alerting  not started: no Prometheus/Alertmanager here; install Debian's prometheus" in out
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


def test_up_raises_real_alerts_for_the_simulators_kpi_breaking_publics(tmp_path: Path) -> None:
    tool("prometheus")
    tool("amtool")  # the Alertmanager package
    port = free_port()
    up, out = _start_up(tmp_path, port, publics=40, days=1, extra=["--alert-for", "5s"])
    try:
        prometheus = re.search(r"alerts +(http://\S+)/alerts", out)
        alertmanager = re.search(r"routed +(http://\S+)/#/alerts", out)
        assert prometheus and alertmanager, out
        query = f"{prometheus[1]}/api/v1/query?query=up%7Bjob%3D%22gospulse%22%7D"

        def scraped() -> None:
            result = get_json(query)[1]["data"]["result"]
            assert [r["value"][1] for r in result] == ["1"], result

        eventually(scraped, timeout_s=60)

        def curators_alerted() -> list:
            alerts = get_json(f"{alertmanager[1]}/api/v2/alerts?active=true")[1]
            mine = [a for a in alerts if a["labels"].get("audience") == "curator"]
            assert mine, alerts
            return mine

        alerts = eventually(curators_alerted, timeout_s=180, every_s=2)
        print("alerts raised:", sorted({a["labels"]["alertname"] for a in alerts}))
        names = {a["labels"]["alertname"] for a in alerts}
        assert all(n.startswith(("GospulsePublic", "GospulseSegment")) for n in names), names
        assert all(a["annotations"]["summary"] and a["annotations"]["description"] for a in alerts)
    finally:
        os.killpg(up.pid, signal.SIGINT)
        rest = up.communicate(timeout=60)[1]
    assert up.returncode == 0, rest
    for url in (prometheus[1], alertmanager[1]):
        assert not _listening(int(url.rsplit(":", 1)[1])), f"{url} still answers after Ctrl-C"


def _start_up(
    tmp_path: Path,
    port: int,
    publics: int = 20,
    days: float = 0.2,
    env: dict[str, str] | None = None,
    extra: list[str] | None = None,
) -> tuple[subprocess.Popen[str], str]:
    """``gospulse up`` with a small population, once it has printed where to look."""
    args = [
        "--publics",
        str(publics),
        "--days",
        str(days),
        "--web-port",
        str(port),
        "--workdir",
        str(tmp_path),
        *(extra or []),
    ]
    up = subprocess.Popen(
        [sys.executable, "-m", "gospulse", "up", *args],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )
    lines: list[str] = []
    assert up.stderr is not None
    while not any("Ctrl-C stops everything" in line for line in lines):
        line = up.stderr.readline()
        assert line, "gospulse up ended early:\n" + "".join(lines)
        lines.append(line)
    return up, "".join(lines)


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGHUP], ids=["SIGKILL", "SIGHUP"])
def test_up_killed_outright_or_hung_up_on_leaves_no_process_behind(tmp_path: Path, signum: int) -> None:
    port = free_port()
    up, out = _start_up(tmp_path, port)
    broker_port = int(re.search(r"tansu \(memory storage\) at 127.0.0.1:(\d+)", out)[1])
    redis_port = int(re.search(r"redis://127.0.0.1:(\d+)", out)[1])
    os.kill(up.pid, signum)  # up alone: its children are in sessions of their own
    up.wait(timeout=60)

    def all_gone() -> None:
        for gone in (port, broker_port, redis_port):
            assert not _listening(gone), f"something still listens on {gone} after signal {signum}"
        simulators = subprocess.run(["pgrep", "-f", f"simulate --broker 127.0.0.1:{broker_port}"])
        assert simulators.returncode == 1, "the simulator is still running"

    eventually(all_gone, timeout_s=45)


def test_up_says_when_the_web_port_is_taken(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "gospulse", "up", "--web-port", str(port), "--workdir", str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 1
    assert f"web port {port} is taken by another process" in done.stderr
    assert "ready" not in done.stderr
