"""Routing a public to the worker holding it."""

from __future__ import annotations

from agents.routing import owner_of, partition_of


def test_a_public_always_hashes_to_the_same_partition_within_range() -> None:
    ids = [f"vk:-{n}" for n in range(2000)]
    parts = [partition_of(i, 8) for i in ids]
    assert parts == [partition_of(i, 8) for i in ids]
    assert set(parts) == set(range(8)), "keys spread over every partition"
    # that these are the partitions a broker puts the messages in is checked against a real broker in
    # tests/integration/test_publish.py


def test_owner_is_the_worker_with_the_partition_active() -> None:
    distribution = {
        "http://w1:6066": {"app-state-changelog": [0, 2], "other": [1]},
        "http://w2:6066": {"app-state-changelog": [1, 3]},
    }
    assert owner_of(distribution, "app-state-changelog", 1) == "http://w2:6066"
    assert owner_of(distribution, "app-state-changelog", 2) == "http://w1:6066"
    assert owner_of(distribution, "app-state-changelog", 7) is None
