"""The segments API's parameters: each wrong one named in the 400, defaults, and cursors."""

from __future__ import annotations

import pytest

from agents.segments import (
    DEFAULT_LIMIT,
    Filters,
    RankingQuery,
    decode_cursor,
    encode_cursor,
    ranking_query,
    segments_query,
)


def test_a_ranking_query_has_defaults_and_reads_its_cursor() -> None:
    assert ranking_query({"kpi": "posts_7d"}) == RankingQuery("posts_7d", Filters(), "desc", DEFAULT_LIMIT, 0)
    query = {"kpi": "er_day_7d", "region": "RU-NIZ", "theme": "culture", "order": "asc", "limit": "5"}
    got = ranking_query(query | {"cursor": encode_cursor(40)})
    assert got == RankingQuery("er_day_7d", Filters("RU-NIZ", None, "culture"), "asc", 5, 40)
    assert got.filters.place() == ("RU-NIZ", "*", "culture")


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ({}, "kpi: give one of er_day_7d"),
        ({"kpi": "likes"}, "kpi: 'likes' is not one of"),
        ({"kpi": "posts_7d", "region": "Nizhny"}, "region: 'Nizhny' is not an ISO 3166-2 code"),
        ({"kpi": "posts_7d", "level": "village"}, "level: 'village' is not one of federal"),
        ({"kpi": "posts_7d", "theme": "cats"}, "theme: 'cats' is not one of"),
        ({"kpi": "posts_7d", "order": "up"}, "order: 'up' is neither asc nor desc"),
        ({"kpi": "posts_7d", "limit": "0"}, "limit: '0' is not a whole number from 1 to 100"),
        ({"kpi": "posts_7d", "limit": "101"}, "limit: '101'"),
        ({"kpi": "posts_7d", "limit": "ten"}, "limit: 'ten'"),
        ({"kpi": "posts_7d", "cursor": "!!"}, "cursor: not a cursor this API gave"),
        ({"kpi": "posts_7d", "sort": "x"}, "unknown parameter 'sort'"),
    ],
)
def test_a_wrong_ranking_parameter_is_named(query: dict, says: str) -> None:
    got = ranking_query(query)
    assert isinstance(got, str) and got.startswith(says), got


def test_segment_filters_are_checked_and_admit_what_they_name() -> None:
    assert segments_query({"region": "RU-NIZ"}) == Filters("RU-NIZ")
    assert segments_query({"kpi": "x"}) == "unknown parameter 'kpi'; use region, level, theme"
    assert Filters("RU-NIZ", None, "sport").admits("RU-NIZ", "municipal", "sport")
    assert not Filters("RU-NIZ", None, "sport").admits("RU-NIZ", "municipal", "culture")


def test_cursors_round_trip_and_foreign_ones_are_refused() -> None:
    assert decode_cursor(encode_cursor(12345)) == 12345
    assert decode_cursor("bm90LWEtY3Vyc29y") is None  # base64 of something else
