"""Worker settings: flags over environment over defaults; a bad value names its source and the fix."""

from __future__ import annotations

import argparse
import socket

import pytest

from streams.settings import (
    SETTINGS,
    WORKER_SETTINGS,
    SettingsError,
    WorkerSettings,
    add_options,
    load_settings,
)


def test_defaults_then_environment_then_flags() -> None:
    assert load_settings({}, {}).broker.url == "kafka://127.0.0.1:9092"
    env = {
        "GOSPULSE_BROKER": "kafka:9092",
        "GOSPULSE_PARTITIONS": "12",
        "GOSPULSE_REDIS_URL": "redis://r:6379/1",
    }
    from_env = load_settings({}, env)
    assert (from_env.broker.url, from_env.partitions, from_env.redis_url) == (
        "kafka://kafka:9092",
        12,
        "redis://r:6379/1",
    )
    from_flags = load_settings({"partitions": "3", "redis_url": None}, env)
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
        ({"topics": "bad prefix"}, {}, "--topic-prefix: topic prefix 'bad prefix' may hold only"),
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
        ({"broker": "http://k:9092"}, {}, "--broker: broker 'http://k:9092' has scheme 'http'; use kafka://"),
        ({}, {"GOSPULSE_SETTLE_S": "0"}, "GOSPULSE_SETTLE_S: settle_s must be between 1 and 3600 seconds"),
        (
            {"advertised_url": "w1:6066"},
            {},
            "--advertised-url: advertised_url 'w1:6066' is not an http:// URL",
        ),
    ],
)
def test_a_bad_value_names_where_it_came_from_and_the_fix(flags: dict, env: dict, message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(flags, env)
    assert message in str(caught.value)


def test_the_broker_address_is_normalised_in_one_place() -> None:
    several = load_settings({"broker": "k1:9092; k2:9093"}, {}).broker
    assert (several.bootstrap, several.url) == ("k1:9092,k2:9093", "kafka://k1:9092;k2:9093")
    tansu = load_settings({}, {"GOSPULSE_BROKER": "tansu://127.0.0.1:5000"}).broker
    assert (tansu.scheme, tansu.bootstrap) == ("tansu", "127.0.0.1:5000")


def test_every_worker_setting_has_a_flag_a_variable_and_a_bounded_parser() -> None:
    parser = argparse.ArgumentParser()
    add_options(parser, WORKER_SETTINGS)
    text = parser.format_help()
    for name in WORKER_SETTINGS:
        setting = SETTINGS[name]
        assert setting.option in text and setting.variable in text, name
    # the knobs that were module constants are settings now
    assert {"settle_s", "redis_push_s", "batch_within_s"} <= set(WORKER_SETTINGS)


def test_the_advertised_address_is_where_other_workers_reach_this_one() -> None:
    from agents.worker import advertised_url

    assert advertised_url(WorkerSettings(web_host="10.0.0.5", web_port=7000)) == "http://10.0.0.5:7000"
    assert advertised_url(WorkerSettings(web_port=7000)) == f"http://{socket.gethostname()}:7000"
    given = load_settings({"advertised_url": "http://w1.internal:6066/"}, {})
    assert advertised_url(given) == "http://w1.internal:6066"
