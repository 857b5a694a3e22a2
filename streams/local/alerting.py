"""Prometheus and Alertmanager on this machine, with the project's own rules and routes: for
``gospulse up`` and the end-to-end test. The binaries are Debian's (``prometheus``,
``prometheus-alertmanager``); nothing here invents a rule or a route, it only points the project's
files at local ports and, where asked, shortens how long a KPI breach must last before it alerts.
"""

from __future__ import annotations

import copy
import shutil
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from streams.local.embedded import EmbeddedServer

#: The project's deploy directory (``gospulse up`` runs from a checkout).
DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
RULES = DEPLOY / "prometheus" / "rules" / "gospulse.rules.yml"
PROMETHEUS_CONFIG = DEPLOY / "prometheus" / "prometheus.yml"
ALERTMANAGER_CONFIG = DEPLOY / "alertmanager" / "alertmanager.yml"
TEMPLATES = DEPLOY / "alertmanager" / "templates"

INSTALL_HINT = (
    "install Debian's prometheus and prometheus-alertmanager "
    "(sudo apt-get install --no-install-recommends prometheus prometheus-alertmanager; or: make tools)"
)


class AlertingError(RuntimeError):
    """A Prometheus or Alertmanager binary is missing or would not start; the message says what to do."""


def binary(*names: str) -> Path | None:
    for name in names:
        found = shutil.which(name)
        if found:
            return Path(found)
    return None


def prometheus_binary() -> Path | None:
    return binary("prometheus")


def alertmanager_binary() -> Path | None:
    return binary("prometheus-alertmanager", "alertmanager")


def _yaml() -> Any:
    """PyYAML (the ``local`` extra), imported late: a command that needs none starts without it."""
    import yaml

    return yaml


def project_rules() -> dict[str, Any]:
    return dict(_yaml().safe_load(RULES.read_text()))


def quick_rules(rules: dict[str, Any], audience: str, for_: str, keep_firing_for: str) -> dict[str, Any]:
    """``rules`` with the ``for:`` and ``keep_firing_for:`` of the alerts for ``audience`` replaced:
    a demo or a test cannot wait an hour for a breach to count."""
    out = copy.deepcopy(rules)
    for group in out["groups"]:
        for rule in group["rules"]:
            if rule.get("labels", {}).get("audience") == audience:
                rule["for"] = for_
                if "keep_firing_for" in rule:
                    rule["keep_firing_for"] = keep_firing_for
    return out


def prometheus_config(
    targets: Sequence[str],
    alertmanager: str,
    rules_file: Path,
    interval_s: float,
    page_url: str | None = None,
) -> dict[str, Any]:
    """The project's ``prometheus.yml`` pointed at local ``targets`` and Alertmanager, scraping and
    evaluating every ``interval_s``; alerts link to the curators' page at ``page_url`` (default: the
    first target's)."""
    config = _yaml().safe_load(PROMETHEUS_CONFIG.read_text())
    config["global"]["external_labels"]["curators_page"] = page_url or f"http://{targets[0]}"
    config["global"]["scrape_interval"] = config["global"]["evaluation_interval"] = f"{interval_s:g}s"
    config["rule_files"] = [str(rules_file)]
    config["alerting"]["alertmanagers"] = [{"static_configs": [{"targets": [alertmanager]}]}]
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    jobs["gospulse"]["static_configs"] = [{"targets": list(targets)}]
    jobs["gospulse"]["scrape_timeout"] = f"{interval_s:g}s"
    config["scrape_configs"] = [jobs["gospulse"]]
    return config


def alertmanager_config(
    receiver: Callable[[str], dict[str, Any]] | None, group_wait: str, group_interval: str
) -> dict[str, Any]:
    """The project's routes, grouping and inhibitions, with every receiver's integrations replaced
    by ``receiver(name)``'s (None: none, the alerts are seen in Alertmanager's UI), waits shortened, and the
    curators' working-hours window lifted (a local run happens at any hour)."""
    config = _yaml().safe_load(ALERTMANAGER_CONFIG.read_text())
    for name in [k for k in config["global"] if k.startswith("smtp_")]:
        del config["global"][name]
    config["receivers"] = [
        {"name": r["name"], **(receiver(r["name"]) if receiver else {})} for r in config["receivers"]
    ]

    def shorten(route: dict[str, Any]) -> None:
        route.pop("active_time_intervals", None)
        for key, value in (("group_wait", group_wait), ("group_interval", group_interval)):
            if key in route:
                route[key] = value
        for child in route.get("routes", []):
            shorten(child)

    config["route"]["group_wait"], config["route"]["group_interval"] = group_wait, group_interval
    shorten(config["route"])
    config.pop("time_intervals", None)
    config["templates"] = [str(TEMPLATES / "*.tmpl")]
    return config


def write_yaml(data: dict[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_yaml().safe_dump(data, allow_unicode=True, sort_keys=False))
    return path


class _Http(EmbeddedServer):
    """A server run with a config file and a data directory, ready once ``/-/ready`` answers 200."""

    error = AlertingError

    def __init__(self, config: Path, data_dir: Path, port: int | None = None, log_path: Path | None = None):
        super().__init__(port, log_path)
        self.config, self.data_dir = config, data_dir

    def answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/-/ready", timeout=1) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class EmbeddedPrometheus(_Http):
    """Prometheus on 127.0.0.1 with ``config`` (a file) and its data under ``data_dir``."""

    name = "prometheus"

    def command(self) -> list[str]:
        found = prometheus_binary()
        if found is None:
            raise AlertingError(f"no prometheus binary: {INSTALL_HINT}")
        return [
            str(found),
            f"--config.file={self.config}",
            f"--storage.tsdb.path={self.data_dir}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--web.enable-lifecycle",
        ]


class EmbeddedAlertmanager(_Http):
    """Alertmanager on 127.0.0.1 with ``config`` (a file), alone (no cluster)."""

    name = "alertmanager"

    def command(self) -> list[str]:
        found = alertmanager_binary()
        if found is None:
            raise AlertingError(f"no alertmanager binary: {INSTALL_HINT}")
        return [
            str(found),
            f"--config.file={self.config}",
            f"--storage.path={self.data_dir}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--cluster.listen-address=",
        ]
