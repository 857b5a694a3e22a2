"""One segment parser for the API (English) and the page (Russian): the same values are refused in
both, each with its own words."""

from __future__ import annotations

import pytest

from agents.segment_filter import PROBLEMS, SEGMENT_FILTERS, Filters, segment_filters


def test_an_empty_query_is_every_segment_and_empty_values_choose_nothing() -> None:
    assert segment_filters({}) == Filters()
    assert segment_filters({"region": "", "level": "", "theme": ""}, "ru") == Filters()


def test_the_chosen_filters_come_back_by_name() -> None:
    chosen = segment_filters({"region": "RU-NIZ", "theme": "sport"})
    assert chosen == Filters("RU-NIZ", None, "sport")
    assert chosen.chosen() == {"region": "RU-NIZ", "theme": "sport"}
    assert chosen.admits("RU-NIZ", "municipal", "sport")
    assert not chosen.admits("RU-MOW", "municipal", "sport")


@pytest.mark.parametrize(
    ("name", "value", "english", "russian"),
    [
        ("region", "Nizhny", "not an ISO 3166-2 code", "Регион «Nizhny» — не код ISO 3166-2"),
        ("level", "galactic", "is not one of federal", "Уровень «galactic» неизвестен"),
        ("theme", "chess", "is not one of", "Тема «chess» неизвестна"),
    ],
)
def test_a_wrong_value_is_refused_in_either_language(
    name: str, value: str, english: str, russian: str
) -> None:
    en = segment_filters({name: value})
    ru = segment_filters({name: value}, "ru")
    assert isinstance(en, str) and en.startswith(f"{name}: ") and english in en
    assert isinstance(ru, str) and ru.startswith(russian)


def test_every_filter_has_words_in_both_languages() -> None:
    assert set(PROBLEMS) == set(SEGMENT_FILTERS)
    assert all(set(words) == {"en", "ru"} for words in PROBLEMS.values())
