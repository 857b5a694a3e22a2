"""The Redis keys, named in one place: every one starts with the deployment's app id, and the key
patterns a reader scans match exactly what the writers write."""

from __future__ import annotations

from fnmatch import fnmatchcase

from streams import redis_keys


def test_every_key_starts_with_the_app_id() -> None:
    keys = [
        redis_keys.tables("gp"),
        redis_keys.breaches("gp"),
        redis_keys.ranking("gp", "posts_7d", "RU-NIZ"),
        redis_keys.rankings_written("gp"),
        redis_keys.segments("gp", "http://w1:6066"),
    ]
    assert all(key.startswith("gp:") for key in keys)
    assert len(set(keys)) == len(keys)


def test_the_segments_pattern_matches_each_workers_key_and_no_other_deployments() -> None:
    pattern = redis_keys.segments_pattern("gp")
    assert fnmatchcase(redis_keys.segments("gp", "http://w1:6066"), pattern)
    assert not fnmatchcase(redis_keys.segments("gp2", "http://w1:6066"), pattern)
    assert not fnmatchcase(redis_keys.tables("gp"), pattern)


def test_a_ranking_names_its_kpi_and_segment_with_any_for_a_field_left_open() -> None:
    assert redis_keys.ranking("gp", "posts_7d") == "gp:rank:posts_7d:*:*:*"
    assert redis_keys.ranking("gp", "posts_7d", theme="sport") == "gp:rank:posts_7d:*:*:sport"
