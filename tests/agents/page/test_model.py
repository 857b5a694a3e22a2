"""What the page shows, from the API's answers: breaching publics in words, named leaders, a card."""

from __future__ import annotations

from typing import Any

from agents.page import model
from agents.page.words import NBSP
from streams.core.profiles import BUILT_IN_PROFILES, Profile
from streams.core.registry import PublicInfo
from streams.core.table import Segment

T0 = 1_795_000_000_000


def info(public_id: str, name: str, tz: str = "Europe/Moscow") -> PublicInfo:
    return PublicInfo(public_id, name, Segment("RU-NIZ", "municipal", "culture"), tz)


def breach(public_id: str, kpi: str, value: Any, threshold: float, since: int) -> dict[str, Any]:
    return {
        "public_id": public_id,
        "at": since + 1000,
        "since": since,
        "kpi": kpi,
        "value": value,
        "threshold": threshold,
        "profile": "default",
        "region": "RU-NIZ",
        "level": "municipal",
        "theme": "culture",
    }


def test_breaching_publics_are_named_with_their_problems_in_words() -> None:
    t = T0
    found = [
        breach("vk:-1", "posting", 1, 3, t),
        breach("vk:-2", "response_time", 11 * 3600, 4 * 3600, t + 3_600_000),
        breach("vk:-2", "silence", 4 * 86_400, 72 * 3600, t),
    ]
    names = {"vk:-1": info("vk:-1", "Школа №1"), "vk:-2": info("vk:-2", "Дом культуры")}
    rows = model.breaching(found, names.get, BUILT_IN_PROFILES)
    assert [r.name for r in rows] == ["Школа №1", "Дом культуры"]  # in the order the API gave
    culture = rows[1]
    assert [p.kpi for p in culture.problems] == ["silence", "response_time"]  # the card's order
    assert culture.problems[0].text.replace(NBSP, " ").startswith("нет публикаций 4 дня")
    # a silence is dated by the state: the last post (4 days before t) plus the 72-hour norm; any
    # other breach by when it was first judged so, and says so
    assert culture.problems[0].since == f"с {model.when(t - 86_400_000 + 1000)}"
    assert culture.problems[1].since == f"замечено {model.when(t + 3_600_000)}"
    assert culture.segment == "Нижегородская область · муниципальный · культура"
    unknown = model.breaching([breach("vk:-9", "posting", 0, 3, t)], {}.get, BUILT_IN_PROFILES)
    assert unknown[0].name == "vk:-9"  # not in the registry: its id


def test_times_are_local_to_the_public() -> None:
    t = 1_795_000_000_000
    from zoneinfo import ZoneInfo

    assert model.when(t, ZoneInfo("Asia/Kamchatka")) != model.when(t)
    assert model.when(0, ZoneInfo("UTC")) == "1 января, 00:00 МСК−3"
    assert model.when(t).endswith(" МСК") and model.when(t, ZoneInfo("Asia/Yekaterinburg")).endswith(" МСК+2")
    assert model.when(t, ZoneInfo("Asia/Kolkata")).endswith(" МСК+2:30")


def test_a_silent_page_is_one_line_with_both_norms() -> None:
    t = T0
    never = [breach("vk:-3", "posting", 0, 3, t), breach("vk:-3", "silence", None, 72 * 3600, t)]
    [row] = model.breaching(never, {}.get, BUILT_IN_PROFILES)
    assert [(p.kpi, p.text.replace(NBSP, " ")) for p in row.problems] == [
        ("silence", "публикаций нет ни одной (норма — не меньше 3 публикаций за 7 дней)")
    ]
    assert row.problems[0].since.startswith("замечено ")  # no post: the state cannot date it
    quiet = [breach("vk:-4", "posting", 0, 3, t), breach("vk:-4", "silence", 9 * 86_400, 72 * 3600, t)]
    [row] = model.breaching(quiet, {}.get, BUILT_IN_PROFILES)
    assert [p.text.replace(NBSP, " ") for p in row.problems] == [
        "нет публикаций 9 дней (норма — не больше 3 дней, не меньше 3 публикаций за 7 дней)"
    ]


def test_leaders_are_named_and_their_values_read_in_words() -> None:
    ranking = {"kpi": "response_wh_p90_s_7d", "items": [{"rank": 1, "public_id": "vk:-1", "value": 5400}]}
    [row] = model.leaders(ranking, {"vk:-1": info("vk:-1", "Школа")}.get)
    assert (row.rank, row.name, row.value.replace(NBSP, " ")) == (1, "Школа", "1,5 рабочего часа")
    assert model.ranked_value("net_subscribers_7d", 12) == "+12"
    assert model.ranked_value("er_day_7d", 0.123).replace(NBSP, " ") == "0,12 %"


def day(date: str, **fields: Any) -> dict[str, Any]:
    base = {
        "date": date,
        "posts": 0,
        "reactions": 0,
        "reposts": 0,
        "views": 0,
        "citizen_comments": 0,
        "official_comments": 0,
        "joins": 0,
        "leaves": 0,
        "answered": 0,
        "response_p90_s": None,
        "response_wh_p90_s": None,
    }
    return base | fields


def test_a_card_holds_every_kpi_against_its_norm_and_four_charts() -> None:
    table = {
        "public_id": "vk:-1",
        "at": 1_795_000_000_000,
        "posts_7d": 1,
        "last_post_at": 1_795_000_000_000 - 5 * 86_400_000,
        "response_wh_p90_s_7d": None,
        "overdue_wh": 0,
        "er_day_7d": 0.2,
        "joins_7d": 1,
        "leaves_7d": 3,
        "subscribers": 100,
        "region": "RU-NIZ",
        "level": "municipal",
        "theme": "culture",
    }
    profile = Profile(name="card", min_er_day_7d=None)
    days = [day("2026-11-25", posts=1, reactions=4, reposts=1, citizen_comments=2, joins=1, leaves=3)]
    days.append(day("2026-11-26", answered=2, response_wh_p90_s=7200))
    c = model.card(table, days, profile, {"posting", "silence", "subscribers"}, info("vk:-1", "Школа"))
    status = {r.kpi: r.status for r in c.kpis}
    assert status == {
        "posting": "bad",
        "silence": "bad",
        "response_time": "ok",
        "overdue": "ok",
        "engagement": "off",
        "subscribers": "bad",
    }
    assert [r.kpi for r in c.kpis] == list(model.CARD_ORDER)
    posts, engaged, response, net = c.charts
    assert posts.values == (1, 0) and engaged.values == (7, 0)
    assert response.values == (None, 2.0) and response.limit == 4
    assert net.values == (-2, 0) and net.summary.replace("\u2212", "-") == "за 30 дней: -2"
    assert posts.labels[0].startswith("25 ноября: 1")
    assert c.profile == "card" and c.link == "https://vk.com/club1"


def test_platform_links_only_where_the_id_says_where() -> None:
    assert model.platform_link("vk:-48241") == "https://vk.com/club48241"
    assert model.platform_link("vk:mincult") == "https://vk.com/mincult"
    assert model.platform_link("tg:nnov_news") == "https://t.me/nnov_news"
    assert model.platform_link("tg:-100123") is None
    assert model.platform_link("max:abc") is None
