"""The page's HTML: every name escaped, the choices kept, the next pages linked, errors in words."""

from __future__ import annotations

from html.parser import HTMLParser

from agents.page import render
from agents.page.model import BreachingPublic, Leader, Problem
from agents.page.views import chosen_of


class Parsed(HTMLParser):
    """Tags and attributes as a browser would read them: a test never greps for markup."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for t, attrs in self.tags if t == tag]


EVIL = '<script>alert("x")</script>'


def rows(n: int) -> list[BreachingPublic]:
    return [
        BreachingPublic(f"vk:-{i}", f"{EVIL} {i}", "сегмент", (Problem("posting", "мало", "с 1 января"),), i)
        for i in range(n)
    ]


def test_names_are_escaped_and_choices_kept() -> None:
    chosen = render.Chosen(region="RU-NIZ", theme="culture", kpi="posts_7d")
    leaders = [Leader(1, "vk:-1", EVIL, "5 публикаций")]
    html = render.overview(chosen, ["RU-NIZ", "RU-MOW"], 10, rows(2), 2, leaders, 1, None)
    page = Parsed(html)
    assert not page.all("script")
    assert any(EVIL in t for t in page.text)  # shown as text, never run
    selected = {a.get("value") for a in page.all("option") if "selected" in a}
    assert selected == {"RU-NIZ", "culture"}
    links = [a["href"] for a in page.all("a")]
    assert "/card/vk:-1" in links
    assert page.tags[0] == ("html", {"lang": "ru"})
    assert any(a.get("name") == "viewport" for a in page.all("meta"))


def test_long_lists_and_leaderboards_link_their_next_page() -> None:
    chosen = render.Chosen(region="RU-NIZ")
    html = render.overview(chosen, [], 200, rows(100), 120, [], 0, "bzIw", offset=50, shown=50)
    links = [a["href"] or "" for a in Parsed(html).all("a")]
    assert any("offset=100" in h and "region=RU-NIZ" in h for h in links)
    board = render.leaderboard_section([Leader(1, "vk:-1", "a", "1")], chosen, 40, "bzIw")
    assert any("cursor=bzIw" in (a["href"] or "") for a in Parsed(board).all("a"))
    # a leaderboard says how many of the segment it leaves out for lack of data, and why
    answers = render.leaderboard_section([], render.Chosen(kpi="overdue_wh"), 12, None, publics=40)
    assert "Без данных и не ранжированы: 28" in answers and "жители не писали" in answers
    assert "Без данных" not in render.leaderboard_section([], chosen, 40, None, publics=40)
    assert "В выбранном сегменте нарушений нет" in render.breaching_section([], 0, 50, chosen, 0)
    deep = render.breaching_section(rows(1000), 5000, 50, chosen, 950)
    assert "offset=" not in deep and "сузьте выбор" in deep  # the list pages 1 000 deep, no further


def test_wrong_links_are_explained_in_russian() -> None:
    assert chosen_of({"region": "Нижний"}) == (
        "Регион «Нижний» — не код ISO 3166-2 (например, RU-NIZ); выберите регион из списка."
    )
    assert "Неизвестный параметр «foo»" in str(chosen_of({"foo": "1"}))
    assert "не ранжируется" in str(chosen_of({"kpi": "likes"}))
    assert "испорчена" in str(chosen_of({"cursor": "!!"}))
    assert "сузьте выбор" in str(chosen_of({"offset": "1000"}))
    chosen, offset, cursor = chosen_of({"level": "municipal", "offset": "50"})  # type: ignore[misc]
    assert (chosen.level, chosen.kpi, offset, cursor) == ("municipal", "er_day_7d", 50, 0)
