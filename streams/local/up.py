"""``gospulse up``: the whole thing on one machine with nothing installed but the project.

It starts the embedded broker (tansu, memory storage) and an embedded Redis unless given external
ones, then a worker and the simulator as child processes, and Prometheus and Alertmanager with the
project's rules and routes when their binaries are installed; it prints where to look, reports
progress, and on Ctrl-C stops everything in reverse order.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from streams import redis_keys
from streams.local.alerting import (
    INSTALL_HINT,
    EmbeddedAlertmanager,
    EmbeddedPrometheus,
    alertmanager_binary,
    alertmanager_config,
    project_rules,
    prometheus_binary,
    prometheus_config,
    quick_rules,
    write_yaml,
)
from streams.local.embedded import Child
from streams.local.redis_server import EmbeddedRedis
from streams.local.tansu import EmbeddedBroker
from streams.ports import port_taken
from streams.produce.synth import liveliest, make_publics

GOSPULSE = [sys.executable, "-m", "gospulse"]
#: The worker's exit status asking for a restart (``agents.edge.delivery.EXIT_NOT_WRITTEN``).
RESTART_ME = 75
APP_ID = "gospulse"
#: The worker's catch-up bound here: the simulator's week of history is judged once it is read, so
#: the first minutes alert curators on nothing the contract would not give (``agents.catchup``).
CATCH_UP_AFTER_S = 30
#: The shipped KPI profiles, when running from a checkout (an installed wheel has the built-in ones).
SHIPPED_PROFILES = Path(__file__).resolve().parents[2] / "deploy" / "kpi" / "profiles.toml"


class StackError(RuntimeError):
    """A part of the stack would not start or died; the message says which and where its log is."""


@dataclass
class UpOptions:
    publics: int = 3723
    seed: int = 1
    rate: float = 5000.0
    days: float = 7.0
    partitions: int = 8
    web_port: int = 6066
    broker: str | None = None
    redis_url: str | None = None
    workdir: Path | None = None
    duration_s: float | None = None
    #: Start Prometheus and Alertmanager when their binaries are here.
    alerting: bool = True
    #: ``for:`` of the curators' alerts here (an hour in production: a demo cannot wait that long).
    alert_for: str = "1m"


def get_json(url: str, timeout_s: float = 2.0) -> tuple[int, object]:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


class Stack:
    def __init__(self, options: UpOptions, out: IO[str] = sys.stderr) -> None:
        self.options = options
        self.out = out
        self.workdir = options.workdir or Path(tempfile.mkdtemp(prefix="gospulse-up-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.broker: EmbeddedBroker | None = None
        self.redis: EmbeddedRedis | None = None
        self.children: list[Child] = []
        self.prometheus: EmbeddedPrometheus | None = None
        self.alertmanager: EmbeddedAlertmanager | None = None
        self.bootstrap = options.broker or ""
        #: What the worker is given: tansu:// for the embedded broker (``agents.edge.highwater``).
        self.worker_broker = self.bootstrap
        self.redis_url = options.redis_url or ""

    def say(self, text: str) -> None:
        print(f"gospulse up: {text}", file=self.out, flush=True)

    def start(self) -> None:
        o = self.options
        if not o.broker:
            self.broker = EmbeddedBroker(log_path=self.workdir / "tansu.log").start()
            self.bootstrap, self.worker_broker = self.broker.bootstrap, self.broker.url
            self.say(f"broker  tansu (memory storage) at {self.bootstrap}")
        else:
            self.say(f"broker  {self.bootstrap} (external)")
        if not o.redis_url:
            self.redis = EmbeddedRedis(log_path=self.workdir / "redis.log").start()
            self.redis_url = self.redis.url
            self.say(f"redis   {self.redis_url}")
        else:
            self.say(f"redis   {self.redis_url} (external)")
        if port_taken("127.0.0.1", o.web_port):
            raise StackError(
                f"web port {o.web_port} is taken by another process; stop it or pick another port with "
                "--web-port (env GOSPULSE_WEB_PORT)"
            )
        partitions = ["--partitions", str(o.partitions)]
        worker = Child(
            "worker",
            [
                *GOSPULSE,
                "worker",
                "--broker",
                self.worker_broker,
                *partitions,
                "--web-host",
                "127.0.0.1",
                "--redis",
                self.redis_url,
                "--web-port",
                str(o.web_port),
                "--data-dir",
                str(self.workdir / "worker"),
                *(["--profiles", str(SHIPPED_PROFILES)] if SHIPPED_PROFILES.is_file() else []),
                "--app-id",
                APP_ID,
                *(
                    []
                    if "GOSPULSE_CATCH_UP_AFTER_S" in os.environ
                    else ["--catch-up-after-s", str(CATCH_UP_AFTER_S)]
                ),
                "--loglevel",
                "info",
            ],
            self.workdir / "worker.log",
        )
        self.children.append(worker.start())
        self.wait_ready(worker)
        simulate = [
            *GOSPULSE,
            "simulate",
            "--broker",
            self.bootstrap,
            *partitions,
            "--publics",
            str(o.publics),
            "--seed",
            str(o.seed),
        ]
        simulate += ["--rate", str(o.rate), "--days", str(o.days), "--progress", "never"]
        self.children.append(Child("simulator", simulate, self.workdir / "simulate.log").start())
        self.say(
            f"simulator  {o.publics} publics, {o.days:g} days of history at {o.rate:,.0f} events/s, then live"
        )
        sample = liveliest(make_publics(o.publics, o.seed)).public_id
        self.say(
            f"API     http://127.0.0.1:{o.web_port}/publics/{sample}  (any public_id; ?at=T for the past)"
        )
        self.say(f"page    http://127.0.0.1:{o.web_port}/  (the curators' page, in Russian)")
        self.say(f"breaches http://127.0.0.1:{o.web_port}/breaches  (?kpi=silence&level=municipal…)")
        self.say(f"health  http://127.0.0.1:{o.web_port}/health")
        self.say(f"tables  redis-cli -u {self.redis_url} HGETALL {redis_keys.tables(APP_ID)}")
        self.say(f"metrics http://127.0.0.1:{o.web_port}/metrics")
        self.start_alerting()
        self.say(f"logs    {self.workdir}")
        self.say("Ctrl-C stops everything")

    def start_alerting(self) -> None:
        """Prometheus with the project's rules and Alertmanager with its routes, when installed."""
        if not self.options.alerting:
            return
        if prometheus_binary() is None or alertmanager_binary() is None:
            self.say(f"alerting  not started: no Prometheus/Alertmanager here; {INSTALL_HINT}")
            return
        o = self.options
        am_port = 9093 if not port_taken("127.0.0.1", 9093) else None
        self.alertmanager = EmbeddedAlertmanager(
            write_yaml(alertmanager_config(None, "10s", "1m"), self.workdir / "alertmanager" / "config.yml"),
            self.workdir / "alertmanager" / "data",
            port=am_port,
            log_path=self.workdir / "alertmanager.log",
        ).start(timeout_s=30)
        # an alert stops firing with its breach here (production keeps it for hours against flapping):
        # what fires is what /breaches gives, give or take the minute for: waits
        rules = quick_rules(project_rules(), "curator", o.alert_for, "0s")
        rules_file = write_yaml(rules, self.workdir / "prometheus" / "rules.yml")
        target, manager = f"127.0.0.1:{o.web_port}", f"127.0.0.1:{self.alertmanager.port}"
        config = prometheus_config([target], manager, rules_file, interval_s=5)
        self.prometheus = EmbeddedPrometheus(
            write_yaml(config, self.workdir / "prometheus" / "prometheus.yml"),
            self.workdir / "prometheus" / "data",
            port=9090 if not port_taken("127.0.0.1", 9090) else None,
            log_path=self.workdir / "prometheus.log",
        ).start(timeout_s=30)
        self.say(
            f"alerts  {self.prometheus.url}/alerts  (the project's rules; curators' alerts after "
            f"{o.alert_for} in breach here and gone with it, an hour and hours in production)"
        )
        self.say(
            f"routed  {self.alertmanager.url}/#/alerts  (Alertmanager: the project's routes and grouping)"
        )

    def alerts_firing(self) -> str:
        if self.alertmanager is None:
            return ""
        try:
            alerts = get_json(f"{self.alertmanager.url}/api/v2/alerts?active=true&silenced=false")[1]
        except (OSError, ValueError):
            return "; alertmanager not answering"
        return f"; alerts firing: {len(alerts) if isinstance(alerts, list) else '?'}"

    def wait_ready(self, worker: Child, timeout_s: float = 90.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not worker.alive():
                raise StackError(f"the worker exited; its log ({worker.log_path}) ends:\n{worker.tail()}")
            try:
                if get_json(f"http://127.0.0.1:{self.options.web_port}/health")[0] == 200:
                    self.say(f"worker  ready after {timeout_s - (deadline - time.monotonic()):.1f} s")
                    return
            except (OSError, ValueError):
                pass
            time.sleep(0.5)
        raise StackError(f"the worker was not ready in {timeout_s:.0f} s; see {worker.log_path}")

    def status(self) -> str:
        """One line: the worker's health and how many publics Redis holds tables of."""
        import redis

        try:
            health = get_json(f"http://127.0.0.1:{self.options.web_port}/health")[1]
        except (OSError, ValueError):
            health = None
        if isinstance(health, dict):
            state = (
                f"worker {health['status']}: {health['events_applied']:,} events applied, "
                f"{health['duplicates']:,} duplicates skipped, {health['events_rejected']:,} rejected, "
                f"{health.get('kpi_open_breaches', 0):,} KPI breaches open"
            )
        else:
            state = "worker not answering"
        try:
            tables = redis.Redis.from_url(self.redis_url, socket_timeout=2).hlen(redis_keys.tables(APP_ID))
        except redis.RedisError:
            tables = "?"
        return f"{state}; tables in Redis: {tables}{self.alerts_firing()}; {self.simulator_progress()}"

    def simulator_progress(self) -> str:
        """The simulator's last progress line: events sent, its simulated time and phase."""
        simulator = next((c for c in self.children if c.name == "simulator"), None)
        if simulator is None:
            return "simulator not started"
        lines = [line for line in simulator.tail(5).splitlines() if line.startswith("simulate ")]
        if not lines:
            return "simulator starting"
        # "simulate  N events  R events/s  simulated time T (history|live)"
        parts = lines[-1].split("  ")
        events = parts[1] if len(parts) > 1 else "?"
        when = lines[-1].rsplit("simulated time ", 1)[-1]
        return f"simulator {events} sent, at {when}"

    def watch(self, stop: Callable[[], bool], every_s: float = 10.0) -> None:
        """Report progress until ``stop()``; a child that dies stops the stack."""
        deadline = None if self.options.duration_s is None else time.monotonic() + self.options.duration_s
        last = time.monotonic()
        while not stop() and (deadline is None or time.monotonic() < deadline):
            for child in self.children:
                if not child.alive():
                    if child.name == "worker" and child.wait(1) == RESTART_ME:
                        # it stopped uncommitted (a record the broker did not acknowledge in time): a
                        # restart resumes from its last commit, as an orchestrator would do
                        self.say(f"worker  stopped uncommitted (status {RESTART_ME}); restarting it")
                        child.start()
                        continue
                    raise StackError(
                        f"the {child.name} exited; its log ({child.log_path}) ends:\n{child.tail()}"
                    )
            if time.monotonic() - last >= every_s:
                self.say(self.status())
                last = time.monotonic()
            time.sleep(0.2)

    def stop(self) -> None:
        for server in (self.prometheus, self.alertmanager):
            if server is not None:
                server.stop()
        for child in reversed(self.children):
            child.stop()
        if self.redis is not None:
            self.redis.stop()
        if self.broker is not None:
            self.broker.stop()
        self.say("stopped")
