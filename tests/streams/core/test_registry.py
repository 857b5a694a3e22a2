"""The registry as workers hold it: raw records of the publics topic, parsed on demand."""

from __future__ import annotations

import orjson

from agents.registry_feed import RegistryFeed
from streams.core.registry import RecordsRegistry
from streams.core.table import Segment

RECORD = {
    "v": 1,
    "public_id": "vk:-1",
    "name": "Школа №1",
    "region": "RU-NIZ",
    "level": "municipal",
    "theme": "education",
    "tz": "Europe/Moscow",
}


def test_a_record_gives_the_segment_and_a_newer_record_replaces_it() -> None:
    feed = RegistryFeed("unused:9092", "publics")
    registry = RecordsRegistry(feed.records)
    assert registry.segment("vk:-1") == Segment()
    feed.apply(b"vk:-1", orjson.dumps(RECORD))
    assert registry.segment("vk:-1") == Segment("RU-NIZ", "municipal", "education")
    feed.apply(b"vk:-1", orjson.dumps(RECORD | {"theme": "sport"}))
    assert registry.segment("vk:-1") == Segment("RU-NIZ", "municipal", "sport")
    feed.apply(b"vk:-1", None)  # a tombstone: the public left the registry
    assert registry.segment("vk:-1") == Segment() and registry.get("vk:-1") is None


def test_a_bad_record_or_one_under_another_key_leaves_the_public_unknown() -> None:
    feed = RegistryFeed("unused:9092", "publics")
    registry = RecordsRegistry(feed.records)
    feed.apply(b"vk:-1", orjson.dumps(RECORD | {"level": "galactic"}))
    feed.apply(b"vk:-2", orjson.dumps(RECORD))  # the record names vk:-1
    feed.apply(b"vk:-3", b"{not json")
    assert [registry.get(p) for p in ("vk:-1", "vk:-2", "vk:-3")] == [None, None, None]
