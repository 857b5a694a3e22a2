"""A stall is time behind with no commit: reading alone is not progress, being caught up is not a
stall, and recovery or a rebalance starts the count over."""

from __future__ import annotations

from agents.stall import StallWatch

P0, P1 = ("t.posts", 0), ("t.posts", 1)


def test_behind_with_the_same_committed_offset_counts_up_and_a_commit_resets_it() -> None:
    watch = StallWatch()
    assert watch.observe(0, {P0: None, P1: 5}, {P0: 10, P1: 0}) == 0
    assert watch.observe(30, {P0: None, P1: 5}, {P0: 10, P1: 0}) == 30
    assert watch.observe(90, {P0: None, P1: 5}, {P0: 12, P1: 0}) == 90  # more events, still no commit
    assert watch.observe(95, {P0: 4, P1: 5}, {P0: 8, P1: 0}) == 0  # a commit: progress


def test_caught_up_partitions_and_unsettled_moments_are_no_stall() -> None:
    watch = StallWatch()
    watch.observe(0, {P0: 3}, {P0: 0})
    assert watch.observe(500, {P0: 3}, {P0: 0}) == 0  # nothing waits: idle, not stalled
    watch.observe(500, {P0: 3}, {P0: 7})
    assert watch.observe(600, {P0: 3}, {P0: 7}, settled=False) == 0  # recovering: starts over
    assert watch.observe(650, {P0: 3}, {P0: 7}) == 50


def test_the_worst_partition_counts_and_a_revoked_one_is_forgotten() -> None:
    watch = StallWatch()
    watch.observe(0, {P0: 1, P1: 1}, {P0: 5, P1: 5})
    watch.observe(20, {P0: 2, P1: 1}, {P0: 5, P1: 5})
    assert watch.observe(60, {P0: 2, P1: 1}, {P0: 5, P1: 5}) == 60
    assert watch.observe(61, {P0: 2}, {P0: 5}) == 41  # P1 went to another worker
