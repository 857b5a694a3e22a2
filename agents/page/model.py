"""What the curators' page shows, built from the API's answers by pure functions (no I/O, no HTML):
the breaching publics with their breaches in words, a leaderboard's rows, a public's card."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from agents.page import words
from agents.page.regions import region_name
from streams.core.breaches import kpi_values, thresholds
from streams.core.profiles import KPIS, Profile, Profiles
from streams.core.registry import PublicInfo

MONTHS: Final = (
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
)
MOSCOW: Final = ZoneInfo("Europe/Moscow")

#: The ranked KPIs as the page names them, each with the order that puts the best first.
RANKINGS: Final = {
    "er_day_7d": ("Вовлечённость", "desc"),
    "response_wh_p90_s_7d": ("Скорость ответа", "asc"),
    "posts_7d": ("Публикации", "desc"),
    "net_subscribers_7d": ("Прирост подписчиков", "desc"),
    "overdue_wh": ("Просроченные ответы", "asc"),
}
#: The card's KPIs in reading order.
CARD_ORDER: Final = ("posting", "silence", "response_time", "overdue", "engagement", "subscribers")

Lookup = Callable[[str], PublicInfo | None]


def when(ms: int, zone: ZoneInfo = MOSCOW) -> str:
    """«26 ноября, 14:05 МСК», «26 ноября, 16:05 МСК+2»: in ``zone``, named as Russians name zones
    (by their difference from Moscow), so times of two regions side by side never mislead."""
    t = datetime.fromtimestamp(ms / 1000, zone)
    return f"{t.day} {MONTHS[t.month - 1]}, {t:%H:%M} {zone_label(t)}"


def zone_label(t: datetime) -> str:
    """«МСК», «МСК+2», «МСК−1»: ``t``'s offset from Moscow."""
    offset = t.utcoffset()
    minutes = round((offset.total_seconds() if offset is not None else 0) / 60) - 180
    if minutes == 0:
        return "МСК"
    hours = f"{abs(minutes) // 60}" + (f":{abs(minutes) % 60:02d}" if minutes % 60 else "")
    return f"МСК{'+' if minutes > 0 else words.MINUS}{hours}"


def zone_of(info: PublicInfo | None) -> ZoneInfo:
    try:
        return ZoneInfo(info.tz) if info is not None else MOSCOW
    except (ValueError, KeyError):
        return MOSCOW


def title_of(public_id: str, info: PublicInfo | None) -> str:
    return info.name if info is not None else public_id


def segment_text(region: str | None, level: str | None, theme: str | None) -> str:
    return words.segment(region_name(region), level, theme)


@dataclass(frozen=True)
class Problem:
    kpi: str
    text: str
    since: str


@dataclass(frozen=True)
class BreachingPublic:
    public_id: str
    name: str
    segment: str
    problems: tuple[Problem, ...]
    #: When its oldest open breach began (epoch ms): the list shows the longest-standing first.
    oldest: int


def breaching(
    breaches: Sequence[Mapping[str, Any]], lookup: Lookup, profiles: Profiles
) -> list[BreachingPublic]:
    """One entry per public in breach, its breaches in words, in the order the publics come (the
    API's: worst first)."""
    by_public: dict[str, list[Mapping[str, Any]]] = {}
    for b in breaches:
        by_public.setdefault(b["public_id"], []).append(b)
    out = []
    for public_id, held in by_public.items():
        info = lookup(public_id)
        zone = zone_of(info)
        first = held[0]
        profile = profiles.profiles.get(first["profile"]) or profiles.profiles["default"]
        ordered = sorted(held, key=lambda b: CARD_ORDER.index(b["kpi"]))
        kinds = {b["kpi"]: b for b in ordered}
        silent = "silence" in kinds and "posting" in kinds and kinds["posting"]["value"] == 0
        problems = tuple(
            Problem(
                b["kpi"], problem_text(b, profile, kinds["posting"] if silent else None), since_text(b, zone)
            )
            for b in ordered
            if not (silent and b["kpi"] == "posting")  # said by the silence line: one line a problem
        )
        out.append(
            BreachingPublic(
                public_id,
                title_of(public_id, info),
                segment_text(first["region"], first["level"], first["theme"]),
                problems,
                min(b.get("since", b["at"]) for b in held),
            )
        )
    return out


def problem_text(b: Mapping[str, Any], profile: Profile, posting: Mapping[str, Any] | None = None) -> str:
    """A breach in words; a silence with ``posting`` (no post in 7 days either) says both norms."""
    text = words.breach_text(b["kpi"], b["value"], b["threshold"], profile)
    if posting is None:
        return text
    least = words.counted(posting["threshold"], words.POST, genitive=True)
    if b["value"] is None:
        return f"{text} (норма — не меньше {least} за 7 дней)"
    return text.removesuffix(")") + f", не меньше {least} за 7 дней)"


def since_text(b: Mapping[str, Any], zone: ZoneInfo) -> str:
    """Since when: a silence began when the last post plus the norm passed, which the state tells;
    any other breach is dated by when a worker first judged it so, and says «замечено»."""
    seen = b.get("since", b["at"])
    if b["kpi"] == "silence" and b["value"] is not None:
        began = round(b["at"] - b["value"] * 1000 + b["threshold"] * 1000)
        return f"с {when(min(began, seen), zone)}"
    return f"замечено {when(seen, zone)}"


def ranked_value(kpi: str, value: float) -> str:
    """A leaderboard score in words."""
    if kpi == "er_day_7d":
        return words.percent(value)
    if kpi == "response_wh_p90_s_7d":
        return words.work_hours(value)
    if kpi == "posts_7d":
        return words.counted(value, words.POST)
    if kpi == "overdue_wh":
        return words.counted(value, words.COMMENT)
    return signed(value)  # net subscribers


def signed(value: float) -> str:
    """«+12», «−3», «0»."""
    return ("+" if value > 0 else "") + words.number(value)


@dataclass(frozen=True)
class Leader:
    rank: int
    public_id: str
    name: str
    value: str


def leaders(ranking: Mapping[str, Any], lookup: Lookup) -> list[Leader]:
    """The rows of one page of ``GET /segments/ranking``, named."""
    return [
        Leader(
            item["rank"],
            item["public_id"],
            title_of(item["public_id"], lookup(item["public_id"])),
            ranked_value(ranking["kpi"], item["value"]),
        )
        for item in ranking["items"]
    ]


@dataclass(frozen=True)
class KpiRow:
    kpi: str
    name: str
    value: str
    norm: str
    #: "bad" in breach, "ok" within its norm, "off" not checked.
    status: str


@dataclass(frozen=True)
class Chart:
    title: str
    summary: str
    values: tuple[float | None, ...]
    labels: tuple[str, ...]
    limit: float | None = None


@dataclass(frozen=True)
class Card:
    public_id: str
    name: str
    segment: str
    profile: str
    at: str
    kpis: tuple[KpiRow, ...]
    charts: tuple[Chart, ...]
    link: str | None
    #: «30 октября — 28 ноября»: the days the charts cover.
    period: str


def platform_link(public_id: str) -> str | None:
    """The public's own page where its id says which: VK community ids and Telegram channel names."""
    platform, _, local = public_id.partition(":")
    if platform == "vk":
        return (
            f"https://vk.com/club{local.lstrip('-')}"
            if local.lstrip("-").isdigit()
            else f"https://vk.com/{local}"
        )
    if platform == "tg" and not local.lstrip("-").isdigit():
        return f"https://t.me/{local}"
    if platform == "ok" and local.isdigit():
        return f"https://ok.ru/group/{local}"
    return None


def kpi_rows(table: Mapping[str, Any], profile: Profile, breached: set[str]) -> tuple[KpiRow, ...]:
    values, limits = kpi_values(dict(table), table["at"]), thresholds(profile)
    assert set(CARD_ORDER) == set(KPIS)
    return tuple(
        KpiRow(
            kpi,
            words.KPI_NAMES[kpi],
            words.value_text(kpi, values[kpi], words.card_digits(kpi, values[kpi], limits[kpi])),
            words.norm_text(kpi, limits[kpi], words.card_digits(kpi, values[kpi], limits[kpi])),
            "off" if limits[kpi] is None else "bad" if kpi in breached else "ok",
        )
        for kpi in CARD_ORDER
    )


def _daily(
    days: Sequence[Mapping[str, Any]], of: Callable[[Mapping[str, Any]], float | None]
) -> tuple[float | None, ...]:
    return tuple(of(day) for day in days)


def _date(iso: str) -> str:
    _, month, day = (int(part) for part in iso.split("-"))
    return f"{day} {MONTHS[month - 1]}"


def charts(days: Sequence[Mapping[str, Any]], profile: Profile) -> tuple[Chart, ...]:
    """The card's four small charts over the public's 30 days."""
    dates = [_date(day["date"]) for day in days]

    def chart(
        title: str,
        values: tuple[float | None, ...],
        say: Callable[[float], str],
        summary: str,
        limit: float | None = None,
    ) -> Chart:
        labels = tuple(
            f"{d}: {'нет данных' if v is None else say(v)}" for d, v in zip(dates, values, strict=True)
        )
        return Chart(title, summary, values, labels, limit)

    posts = _daily(days, lambda d: d["posts"])
    engaged = _daily(days, lambda d: d["reactions"] + d["reposts"] + d["citizen_comments"])
    response = _daily(
        days, lambda d: None if d["response_wh_p90_s"] is None else d["response_wh_p90_s"] / 3600
    )
    net = _daily(days, lambda d: d["joins"] - d["leaves"])
    answered = sum(d["answered"] for d in days)
    limit_h = profile.max_response_wh_p90_h
    return (
        chart(
            "Публикации",
            posts,
            lambda v: words.counted(v, words.POST),
            f"за 30 дней: {words.counted(sum(v or 0 for v in posts), words.POST)}",
        ),
        chart(
            "Реакции, репосты и комментарии граждан",
            engaged,
            lambda v: words.number(v),
            f"за 30 дней: {words.number(sum(v or 0 for v in engaged))}",
        ),
        chart(
            "Время ответа (90 % ответов), рабочие часы",
            response,
            lambda v: words.counted(v, words.WORK_HOUR),
            f"ответов за 30 дней: {words.number(answered)}"
            + (
                ""
                if limit_h is None
                else f"; норма — не больше {words.counted(limit_h, words.WORK_HOUR, genitive=True)}"
            ),
            limit_h,
        ),
        chart(
            "Подписчики: пришли минус ушли",
            net,
            signed,
            f"за 30 дней: {signed(sum(v or 0 for v in net))}",
        ),
    )


def card(
    table: Mapping[str, Any],
    days: Sequence[Mapping[str, Any]],
    profile: Profile,
    breached: set[str],
    info: PublicInfo | None,
) -> Card:
    """A public's card: its KPIs against its profile's norms and its last 30 days."""
    public_id = table["public_id"]
    return Card(
        public_id,
        title_of(public_id, info),
        segment_text(table["region"], table["level"], table["theme"]),
        profile.shown,
        when(table["at"], zone_of(info)),
        kpi_rows(table, profile, breached),
        charts(days, profile),
        platform_link(public_id),
        f"{_date(days[0]['date'])} — {_date(days[-1]['date'])}" if days else "",
    )
