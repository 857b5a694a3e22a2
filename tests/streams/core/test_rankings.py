"""Where a public is ranked, and by what: eight sets per KPI, a score read from the table."""

from __future__ import annotations

from streams.core.rankings import RANKED, keys_of, place, ranking_key, scores


def table(**changes: object) -> dict:
    base = {
        "region": "RU-NIZ", "level": "municipal", "theme": "culture", "profile": "default", "er_day_7d": 0.8,
        "response_wh_p90_s_7d": None, "posts_7d": 4, "joins_7d": 10, "leaves_7d": 13, "overdue_wh": 2,
        "citizen_comments_7d": 5,
    }  # fmt: skip
    return base | changes


def test_a_public_is_ranked_in_every_set_its_segment_falls_in() -> None:
    keys = set(keys_of("gp", "posts_7d", ("RU-NIZ", "municipal", "culture")))
    assert len(keys) == 8
    assert ranking_key("gp", "posts_7d") in keys  # every public
    assert ranking_key("gp", "posts_7d", "RU-NIZ") in keys
    assert ranking_key("gp", "posts_7d", "RU-NIZ", "municipal", "culture") in keys
    assert ranking_key("gp", "posts_7d", level="municipal", theme="culture") in keys
    assert ranking_key("gp", "posts_7d", "RU-NIZ", "regional") not in keys


def test_scores_come_from_the_table_and_a_missing_value_is_none() -> None:
    got = scores(table())
    assert list(got) == list(RANKED)
    assert got == {
        "er_day_7d": 0.8,
        "response_wh_p90_s_7d": None,
        "posts_7d": 4,
        "net_subscribers_7d": -3,
        "overdue_wh": 2,
    }


def test_a_page_no_citizen_wrote_to_is_not_ranked_on_late_answers() -> None:
    """Else every silent page would lead «Просроченные ответы» with its 0."""
    assert scores(table(citizen_comments_7d=0, overdue_wh=0))["overdue_wh"] is None
    assert scores(table(citizen_comments_7d=1, overdue_wh=0))["overdue_wh"] == 0


def test_a_public_outside_the_registry_is_placed_in_the_unknown_segment() -> None:
    assert place(table(region=None, level=None, theme=None)) == ("unknown", "unknown", "unknown")
