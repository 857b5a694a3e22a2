"""The HTTP API's answers without a web server."""

from __future__ import annotations

import orjson

from agents.web import public_table
from streams.pipeline import Pipeline
from tests.logs import BASE, DAY, HOUR, event
from tests.streams.test_pipeline import DictStore


def pipeline_with_one_public() -> Pipeline:
    pipeline = Pipeline(DictStore(), clock=lambda: BASE)
    pipeline.apply_message("posts", 0, 0, b"vk:-1", orjson.dumps(event("reaction.added", BASE, post_id="p")))
    pipeline.flush()
    return pipeline


def test_a_known_public_gets_its_table_at_now_or_at_T() -> None:
    pipeline = pipeline_with_one_public()
    status, body = public_table(pipeline, "vk:-1", None, BASE + HOUR)
    assert status == 200 and body["at"] == BASE + HOUR and body["reactions_24h"] == 1
    status, body = public_table(pipeline, "vk:-1", "2026-11-02T00:00:00Z", BASE + 2 * DAY)
    assert status == 200 and body["at"] == BASE + DAY and body["reactions_24h"] == 0


def test_errors_say_why() -> None:
    pipeline = pipeline_with_one_public()
    assert public_table(pipeline, "vk:-2", None, BASE)[0] == 404
    status, body = public_table(pipeline, "facebook:1", None, BASE)
    assert status == 400 and "is not a public_id" in body["error"]
    status, body = public_table(pipeline, "vk:-1", "1793491200", BASE)
    assert status == 400 and "looks like seconds" in body["error"]
    status, body = public_table(pipeline, "vk:-1", str(BASE - 31 * DAY), BASE)
    assert status == 400 and "retention" in body["error"]


def test_an_at_outside_2000_to_a_year_ahead_is_a_400_never_a_500() -> None:
    pipeline = pipeline_with_one_public()
    for at in (str(2**64), "9" * 5000, str(BASE + 400 * DAY), "-1", "1e30", "99999-01-01T00:00:00Z"):
        status, body = public_table(pipeline, "vk:-1", at, BASE)
        assert status == 400 and body["error"].startswith("at: "), (at[:30], body)
    status, body = public_table(pipeline, "vk:-1", str(BASE + 300 * DAY), BASE)
    assert status == 200  # ahead of the clock, within the year: the windows are empty, not an error


def test_open_breaches_list_the_worst_publics_first_and_count_them_all() -> None:
    from agents.web import worst_first

    def b(public_id: str, kpi: str, since: int) -> dict:
        return {"public_id": public_id, "kpi": kpi, "since": since, "at": since + 1}

    found = [
        b("vk:-1", "posting", 100),
        b("vk:-2", "silence", 50),
        b("vk:-3", "posting", 300),
        b("vk:-3", "engagement", 200),
        b("vk:-4", "posting", 50),
    ]
    publics, every = worst_first(found, None)
    assert publics == 4
    # two breaches first; then the longest-standing; a tie on since goes by public_id
    assert [(x["public_id"], x["kpi"]) for x in every] == [
        ("vk:-3", "engagement"),
        ("vk:-3", "posting"),
        ("vk:-2", "silence"),
        ("vk:-4", "posting"),
        ("vk:-1", "posting"),
    ]
    publics, top = worst_first(found, 2)
    assert publics == 4 and [x["public_id"] for x in top] == ["vk:-3", "vk:-3", "vk:-2"]
    # merging workers' own tops gives the same top as one list: each sends its worst two
    halves = worst_first(found[:2], 2)[1] + worst_first(found[2:], 2)[1]
    assert worst_first(halves, 2)[1] == top


def test_open_breaches_take_a_limit_and_never_an_instant() -> None:
    from agents.web import open_breach_query
    from streams.core.profiles import BUILT_IN_PROFILES

    assert open_breach_query({"limit": "50", "region": "RU-NIZ"}, BUILT_IN_PROFILES) == (
        {"region": "RU-NIZ"},
        50,
    )
    assert open_breach_query({}, BUILT_IN_PROFILES) == ({}, None)
    assert str(open_breach_query({"limit": "0"}, BUILT_IN_PROFILES)).startswith("limit: '0' is not")
    assert str(open_breach_query({"at": "0"}, BUILT_IN_PROFILES)).startswith("at: open breaches")


def test_a_breach_page_holds_whole_publics_and_a_cursor_to_the_rest() -> None:
    from agents.web import cut_page, decode_breach_cursor

    def b(public_id: str, *kpis: str) -> list[dict]:
        return [{"public_id": public_id, "kpi": kpi} for kpi in kpis]

    found = (
        b("vk:-1", "posting", "silence")
        + b("vk:-2", "engagement", "posting", "silence")
        + b("vk:-3", "posting")
    )
    page, cursor = cut_page(found, 4, more=False)
    assert page == found[:2]  # vk:-2 would pass the limit: it starts the next page, whole
    assert cursor is not None and decode_breach_cursor(cursor) == "vk:-1"
    page, cursor = cut_page(found, 1, more=False)
    assert page == found[:2]  # one public alone may pass the limit: a page is never empty
    assert cut_page(found, 6, more=False) == (found, None)
    page, cursor = cut_page(found, 6, more=True)  # a worker has publics past what it sent
    assert page == found and cursor is not None and decode_breach_cursor(cursor) == "vk:-3"
    assert cut_page([], 10, more=False) == ([], None)


def test_breach_pages_take_a_limit_and_a_cursor_this_api_gave() -> None:
    from agents.web import DEFAULT_BREACH_LIMIT, BreachPage, breach_page_query, encode_breach_cursor
    from streams.core.profiles import BUILT_IN_PROFILES

    now = BASE
    assert breach_page_query({}, BUILT_IN_PROFILES, now) == BreachPage(now, {}, DEFAULT_BREACH_LIMIT, "")
    cursor = encode_breach_cursor("ok:p7")
    q = breach_page_query({"limit": "50", "cursor": cursor, "kpi": "posting"}, BUILT_IN_PROFILES, now)
    assert q == BreachPage(now, {"kpi": "posting"}, 50, "ok:p7")
    for bad in (
        {"limit": "0"},
        {"limit": "²"},
        {"limit": "10001"},
        {"cursor": "zzz"},
        {"cursor": "cG5vdCBhIGlk"},
    ):
        assert isinstance(breach_page_query(bad, BUILT_IN_PROFILES, now), str), bad
    assert "limit, cursor" in str(breach_page_query({"size": "5"}, BUILT_IN_PROFILES, now))
