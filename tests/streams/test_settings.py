"""Worker settings: flags over environment over defaults; a bad value names its source and the fix."""

from __future__ import annotations

import pytest

from streams.settings import SettingsError, load_settings


def test_defaults_then_environment_then_flags() -> None:
    assert load_settings({}, {}).broker == "kafka://127.0.0.1:9092"
    env = {
        "GOSPULSE_BROKER": "kafka:9092",
        "GOSPULSE_PARTITIONS": "12",
        "GOSPULSE_REDIS_URL": "redis://r:6379/1",
    }
    from_env = load_settings({}, env)
    assert (from_env.broker, from_env.partitions, from_env.redis_url) == (
        "kafka://kafka:9092",
        12,
        "redis://r:6379/1",
    )
    from_flags = load_settings({"partitions": "3", "redis": None}, env)
    assert (from_flags.partitions, from_flags.redis_url) == (3, "redis://r:6379/1")
    bounds = load_settings({"max_record_bytes": "65536"}, {"GOSPULSE_REDIS_REFRESH_S": "30"})
    assert (bounds.max_record_bytes, bounds.redis_refresh_s, bounds.stop_timeout_s) == (65536, 30, 30)


@pytest.mark.parametrize(
    ("flags", "env", "message"),
    [
        ({"partitions": "many"}, {}, "--partitions: partitions must be a whole number, got 'many'"),
        (
            {},
            {"GOSPULSE_PARTITIONS": "0"},
            "environment variable GOSPULSE_PARTITIONS: partitions must be between 1",
        ),
        ({"broker": "kafka"}, {}, "--broker: broker 'kafka' is not HOST:PORT; write e.g. 127.0.0.1:9092"),
        ({"web_port": "70000"}, {}, "--web-port: web_port must be between 1 and 65535"),
        (
            {},
            {"GOSPULSE_REDIS_URL": "127.0.0.1:6379"},
            "GOSPULSE_REDIS_URL: redis '127.0.0.1:6379' is not a Redis URL",
        ),
        ({"topic_prefix": "bad prefix"}, {}, "--topic-prefix: topic prefix 'bad prefix' may hold only"),
        (
            {"max_record_bytes": "2000000"},
            {},
            "--max-record-bytes: max_record_bytes must be between 16384 and 921600, got 2000000; "
            "keep it well below the broker's message.max.bytes",
        ),
        (
            {},
            {"GOSPULSE_REDIS_REFRESH_S": "1"},
            "GOSPULSE_REDIS_REFRESH_S: redis_refresh_s must be between 2",
        ),
        ({"stop_timeout_s": "soon"}, {}, "--stop-timeout-s: stop_timeout_s must be a whole number"),
    ],
)
def test_a_bad_value_names_where_it_came_from_and_the_fix(flags: dict, env: dict, message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(flags, env)
    assert message in str(caught.value)
