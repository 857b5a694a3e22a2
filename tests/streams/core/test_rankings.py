"""Where a public is ranked, and by what: eight sets per KPI, a score read from the table."""

from __future__ import annotations

from streams.core.rankings import ANY, RANKED, place, places_of, scores


def table(**changes: object) -> dict:
    base = {
        "region": "RU-NIZ", "level": "municipal", "theme": "culture", "profile": "default", "er_day_7d": 0.8,
        "response_wh_p90_s_7d": None, "posts_7d": 4, "joins_7d": 10, "leaves_7d": 13, "overdue_wh": 2,
        "citizen_comments_7d": 5,
    }  # fmt: skip
    return base | changes


def test_a_public_is_ranked_in_every_set_its_segment_falls_in() -> None:
    places = set(places_of(("RU-NIZ", "municipal", "culture")))
    assert len(places) == 8
    assert (ANY, ANY, ANY) in places  # every public
    assert ("RU-NIZ", ANY, ANY) in places
    assert ("RU-NIZ", "municipal", "culture") in places
    assert (ANY, "municipal", "culture") in places
    assert ("RU-NIZ", "regional", ANY) not in places


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
