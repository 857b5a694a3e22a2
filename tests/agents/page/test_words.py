"""What a curator reads: Russian plurals and numbers, and each breach as a phrase."""

from __future__ import annotations

import pytest

from agents.page import words
from streams.core.profiles import Profile

NB = words.NBSP


@pytest.mark.parametrize(
    ("n", "form"),
    [(1, "день"), (2, "дня"), (4, "дня"), (5, "дней"), (11, "дней"), (12, "дней"), (14, "дней"),
     (21, "день"), (22, "дня"), (25, "дней"), (101, "день"), (111, "дней"), (0, "дней"), (1.5, "дня")],
)  # fmt: skip
def test_a_noun_agrees_with_its_number(n: float, form: str) -> None:
    assert words.plural(n, words.DAY) == form


def test_numbers_are_written_the_russian_way() -> None:
    assert words.number(3723) == f"3{NB}723"
    assert words.number(0.05, 2) == "0,05"
    assert words.number(-1.5) == f"{words.MINUS}1,5"
    assert words.number(2.0) == "2"
    assert words.number(-0.01) == "0"  # never "−0"
    assert words.counted(1.5, words.WORK_HOUR) == f"1,5{NB}рабочего часа"
    assert words.counted(21, words.POST) == f"21{NB}публикация"


def plain(text: str) -> str:
    return text.replace(NB, " ").replace(words.MINUS, "-")


def test_each_breach_reads_as_a_phrase() -> None:
    profile = Profile()
    day = 86_400
    assert plain(words.breach_text("silence", 4 * day + 3600, 72 * 3600, profile)).startswith(
        "нет публикаций 4 дня"
    )
    assert plain(words.breach_text("silence", None, 72 * 3600, profile)) == "публикаций нет ни одной"
    assert (
        plain(words.breach_text("response_time", 11 * 3600, 4 * 3600, profile))
        == "ответ на комментарии — 11 рабочих часов при норме 4"
    )
    assert plain(words.breach_text("posting", 2, 3, profile)) == "2 публикации за 7 дней при норме 3"
    assert (
        plain(words.breach_text("overdue", 7, 0, profile))
        == "7 комментариев без ответа дольше 8 рабочих часов (допустимо 0)"
    )
    assert (
        plain(words.breach_text("engagement", 0.02, 0.05, profile))
        == "вовлечённость 0,02 % в день при норме 0,05 %"
    )
    assert (
        plain(words.breach_text("subscribers", -1.53, -1.0, profile))
        == "подписчиков за неделю -1,5 % при норме не ниже -1 %"
    )


def test_short_spans_are_hours_and_long_ones_days() -> None:
    assert plain(words.span(30 * 3600)) == "30 часов"
    assert plain(words.span(0.5 * 3600)) == "0,5 часа"
    assert plain(words.span(49 * 3600)) == "2 дня"
    assert plain(words.work_hours(4.04 * 3600)) == "4 рабочих часа"


def test_norms_say_which_way_and_off_is_not_checked() -> None:
    assert plain(words.norm_text("posting", 3)) == "не меньше 3 публикаций"
    assert plain(words.norm_text("response_time", 4 * 3600)) == "не больше 4 рабочих часов"
    assert plain(words.norm_text("subscribers", -1.0)) == "не ниже -1 %"
    assert words.norm_text("engagement", None) == "не проверяется"
    assert words.value_text("silence", None) == "публикаций не было"
    assert plain(words.value_text("engagement", 0.071)) == "0,07 %"


def test_a_segment_is_named_in_russian() -> None:
    assert words.segment("Нижегородская область", "municipal", "culture") == (
        "Нижегородская область · муниципальный · культура"
    )
    assert "уровень не указан" in words.segment("x", None, None)
