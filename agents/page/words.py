"""What a curator reads: numbers, plurals, segments and each KPI's breach in Russian words.

Pure functions over the values of ``streams.core.breaches`` (seconds for ``silence`` and
``response_time``, percent for ``engagement`` and ``subscribers``, counts otherwise), so the page, its
tests and any other text for alert recipients say the same thing the same way.
"""

from __future__ import annotations

import math
from typing import Final

from streams.core.profiles import Profile

NBSP: Final = "\u00a0"
MINUS: Final = "\u2212"

LEVELS_RU: Final = {
    "federal": "федеральный",
    "regional": "региональный",
    "municipal": "муниципальный",
    "settlement": "поселение",
}
THEMES_RU: Final = {
    "administration": "органы власти",
    "culture": "культура",
    "sport": "спорт",
    "education": "образование",
    "health": "здравоохранение",
    "social": "соцзащита",
    "transport": "транспорт",
    "housing": "ЖКХ",
    "security": "безопасность",
    "youth": "молодёжь",
    "other": "другое",
}

#: Each KPI's name on the card, in the order the card lists them.
KPI_NAMES: Final = {
    "posting": "Публикации за 7 дней",
    "silence": "С последней публикации",
    "response_time": "Время ответа на комментарии (90 % ответов)",
    "overdue": "Комментарии без ответа сверх срока",
    "engagement": "Вовлечённость (ER в день)",
    "subscribers": "Прирост подписчиков за 7 дней",
}

#: A noun's forms after a number: (one, few, many, genitive singular) — 1 день, 2 дня, 5 дней, and
#: «не больше 1 дня». The genitive plural is the "many" form (не больше 2 дней).
Noun = tuple[str, str, str, str]
DAY: Final = ("день", "дня", "дней", "дня")
HOUR: Final = ("час", "часа", "часов", "часа")
WORK_HOUR: Final = ("рабочий час", "рабочих часа", "рабочих часов", "рабочего часа")
POST: Final = ("публикация", "публикации", "публикаций", "публикации")
COMMENT: Final = ("комментарий", "комментария", "комментариев", "комментария")
PUBLIC: Final = ("паблик", "паблика", "пабликов", "паблика")


def plural(n: float, forms: Noun, genitive: bool = False) -> str:
    """The form of a noun after ``n`` (in the genitive after «не больше», «не меньше»); a fraction
    takes the genitive singular (1,5 часа)."""
    if not float(n).is_integer():
        return forms[3]
    n = abs(int(n))
    if n % 10 == 1 and n % 100 != 11:
        return forms[3] if genitive else forms[0]
    if genitive:
        return forms[2]
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return forms[1]
    return forms[2]


def number(x: float, digits: int = 1) -> str:
    """``x`` as Russians write it: decimal comma, no-break space between thousands, a true minus;
    at most ``digits`` decimals, none when they are zero."""
    rounded = float(round(x, digits))
    if rounded == 0:
        rounded = 0.0  # no "−0"
    whole = rounded.is_integer()
    text = f"{abs(rounded):,.0f}" if whole else f"{abs(rounded):,.{digits}f}".rstrip("0")
    text = text.replace(",", NBSP).replace(".", ",")
    return (MINUS if rounded < 0 else "") + text


def counted(n: float, forms: Noun, digits: int = 1, genitive: bool = False) -> str:
    """``n`` and its noun: «4 дня», «1,5 рабочего часа»; genitive: «4 дней»."""
    shown = round(n, digits)
    return f"{number(shown, digits)}{NBSP}{plural(shown, forms, genitive)}"


def hours_between(seconds: float) -> float:
    """Seconds as hours to show: whole hours from 10 up, one decimal below."""
    hours = seconds / 3600
    return round(hours) if hours >= 10 else round(hours, 1)


def span(seconds: float, genitive: bool = False) -> str:
    """A wall-clock span: «4 дня» from two days up, else hours («30 часов», «0,5 часа»)."""
    if seconds >= 2 * 86_400:
        return counted(math.floor(seconds / 86_400), DAY, genitive=genitive)
    return counted(hours_between(seconds), HOUR, genitive=genitive)


def days_hours(seconds: float) -> str:
    """A long wall-clock span as a person says it: «6 дней 3 часа», «2 дня», «30 часов» under two days."""
    if seconds < 2 * 86_400:
        return span(seconds)
    days, rest = divmod(int(seconds), 86_400)
    hours = rest // 3600
    return counted(days, DAY) + (f" {counted(hours, HOUR)}" if hours else "")


def apart(value: float, threshold: float, digits: int, most: int = 4) -> int:
    """The fewest decimals (from ``digits``) at which ``value`` and ``threshold`` read differently: a
    breach is never shown as equal to its norm («0,049 % при норме 0,05 %», not «0,05 % при норме
    0,05 %»)."""
    for d in range(digits, most + 1):
        if number(value, d) != number(threshold, d):
            return d
    return most


def work_hours(seconds: float, genitive: bool = False) -> str:
    return counted(hours_between(seconds), WORK_HOUR, genitive=genitive)


def percent(x: float, digits: int = 2) -> str:
    return f"{number(x, digits)}{NBSP}%"


def segment(region_name: str, level: str | None, theme: str | None) -> str:
    """«Нижегородская область · региональный · культура»."""
    parts = [
        region_name,
        LEVELS_RU.get(level or "", "уровень не указан"),
        THEMES_RU.get(theme or "", "тема не указана"),
    ]
    return " · ".join(parts)


def value_text(kpi: str, value: float | None, digits: int | None = None) -> str:
    """A KPI's value as the card shows it (``digits``: decimals of a percentage, ``card_digits``)."""
    if value is None:
        return {"silence": "публикаций не было", "response_time": "ответов не было"}.get(kpi, "нет данных")
    if kpi == "posting":
        return counted(value, POST)
    if kpi == "silence":
        return days_hours(value)
    if kpi == "response_time":
        return work_hours(value)
    if kpi == "overdue":
        return counted(value, COMMENT)
    if kpi == "engagement":
        return percent(value, digits or 2)
    return percent(value, digits or 1)  # subscribers


def card_digits(kpi: str, value: float | None, threshold: float | None) -> int | None:
    """Decimals that keep a percentage apart from its norm on the card (None: the usual)."""
    if kpi not in ("engagement", "subscribers") or value is None or threshold is None:
        return None
    return apart(value, threshold, 2 if kpi == "engagement" else 1)


def norm_text(kpi: str, threshold: float | None, digits: int | None = None) -> str:
    """A KPI's threshold as a norm: «не меньше 3», «не больше 4 рабочих часов»; off: not checked."""
    if threshold is None:
        return "не проверяется"
    if kpi == "posting":
        return f"не меньше {counted(threshold, POST, genitive=True)}"
    if kpi == "silence":
        return f"не больше {span(threshold, genitive=True)}"
    if kpi == "response_time":
        return f"не больше {work_hours(threshold, genitive=True)}"
    if kpi == "overdue":
        return f"не больше {number(threshold)}"
    if kpi == "engagement":
        return f"не меньше {percent(threshold, digits or 2)}"
    return f"не ниже {percent(threshold, digits or 1)}"  # subscribers


def breach_text(kpi: str, value: float | None, threshold: float, profile: Profile) -> str:
    """What is wrong, in one phrase: «нет публикаций 4 дня», «ответ на комментарии — 11 рабочих
    часов при норме 4»."""
    if kpi == "silence":
        if value is None:
            return "публикаций нет ни одной"
        return f"нет публикаций {days_hours(value)} (норма — не больше {span(threshold, genitive=True)})"
    if kpi == "response_time":
        assert value is not None
        hours, norm = value / 3600, threshold / 3600
        d = apart(hours_between(value), hours_between(threshold), 1)
        if d > 1 or number(hours_between(value)) == number(hours_between(threshold)):
            d = apart(hours, norm, 2)
            shown = f"{number(hours, d)}{NBSP}{plural(round(hours, d), WORK_HOUR)}"
            return f"ответ на комментарии — {shown} при норме {number(norm, d)}"
        return f"ответ на комментарии — {work_hours(value)} при норме {number(hours_between(threshold))}"
    if kpi == "posting":
        assert value is not None
        return f"{counted(value, POST)} за 7 дней при норме {number(threshold)}"
    if kpi == "overdue":
        assert value is not None
        sla = work_hours(profile.sla_wh_h * 3600)
        return f"{counted(value, COMMENT)} без ответа дольше {sla} (допустимо {number(threshold)})"
    if kpi == "engagement":
        assert value is not None
        d = apart(value, threshold, 2)
        return f"вовлечённость {percent(value, d)} в день при норме {percent(threshold, d)}"
    assert value is not None
    d = apart(value, threshold, 1)
    return f"подписчиков за неделю {percent(value, d)} при норме не ниже {percent(threshold, d)}"
