"""``gospulse topics`` on a real broker: creates what is missing, leaves what exists, says when no
broker answers."""

from __future__ import annotations

import subprocess

from kafka import KafkaAdminClient

from streams.local.tansu import EmbeddedBroker, free_port
from tests.integration.worker import GOSPULSE


def topics(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(GOSPULSE), "topics", *args], capture_output=True, text=True, timeout=120)


def test_topics_are_created_once_with_the_partitions_asked(broker: EmbeddedBroker) -> None:
    args = ("--broker", broker.bootstrap, "--topic-prefix", "t-topics.", "--partitions", "3")
    first, second = topics(*args), topics(*args)
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    names = ["t-topics.posts", "t-topics.comments", "t-topics.subscriptions", "t-topics.dead-letter"]
    names.append("t-topics.publics")
    for name in names:
        assert f"{name}  created" in first.stderr and f"{name}  exists" in second.stderr
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    try:
        described = {t["name"]: len(t["partitions"]) for t in admin.describe_topics(names)}
    finally:
        admin.close()
    assert described == dict.fromkeys(names, 3)


def test_no_broker_is_said_plainly() -> None:
    done = topics("--broker", f"127.0.0.1:{free_port()}", "--wait", "1")
    assert done.returncode == 1
    assert "no Kafka broker answers at" in done.stderr and "--broker" in done.stderr
