"""The segment a request asks for (``region``, ``level``, ``theme``): one parser for the API and the
curators' page, its messages in English (the API) and Russian (the page) from one table."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

from schemas.contract import LEVELS, REGION_RE, THEMES
from streams.core.rankings import ANY

SEGMENT_FILTERS: Final = ("region", "level", "theme")
Language = Literal["en", "ru"]

#: What is wrong with a value of each filter, per language ({value}: what was given, {allowed}: the
#: choices). The page's words tell a curator what to do; the API's, a programmer.
PROBLEMS: Final[dict[str, dict[Language, str]]] = {
    "region": {
        "en": "region: {value!r} is not an ISO 3166-2 code such as RU-NIZ",
        "ru": "Регион «{value}» — не код ISO 3166-2 (например, RU-NIZ); выберите регион из списка.",
    },
    "level": {
        "en": "level: {value!r} is not one of {allowed}",
        "ru": "Уровень «{value}» неизвестен; выберите уровень из списка.",
    },
    "theme": {
        "en": "theme: {value!r} is not one of {allowed}",
        "ru": "Тема «{value}» неизвестна; выберите тему из списка.",
    },
}


@dataclass(frozen=True)
class Filters:
    """A segment: each of region, level and theme chosen, or None for any."""

    region: str | None = None
    level: str | None = None
    theme: str | None = None

    def place(self) -> tuple[str, str, str]:
        """The rankings' key parts, ``ANY`` for a filter not chosen."""
        return (self.region or ANY, self.level or ANY, self.theme or ANY)

    def admits(self, region: str, level: str, theme: str) -> bool:
        wanted = (self.region, self.level, self.theme)
        return all(
            want is None or want == got for want, got in zip(wanted, (region, level, theme), strict=True)
        )

    def place_or_none(self) -> tuple[str | None, str | None, str | None]:
        return (self.region, self.level, self.theme)

    def chosen(self) -> dict[str, str]:
        """The filters chosen, by name (as a query string gives them)."""
        named = zip(SEGMENT_FILTERS, self.place_or_none(), strict=True)
        return {name: value for name, value in named if value}


def _valid(name: str, value: str) -> bool:
    if name == "region":
        return REGION_RE.fullmatch(value) is not None
    return value in (LEVELS if name == "level" else THEMES)


def segment_filters(query: Mapping[str, str], language: Language = "en") -> Filters | str:
    """The segment ``query`` asks for (an empty value is no filter), or what is wrong with it in
    ``language``."""
    values = [query.get(name) or None for name in SEGMENT_FILTERS]
    for name, value in zip(SEGMENT_FILTERS, values, strict=True):
        if value is not None and not _valid(name, value):
            allowed = ", ".join(LEVELS if name == "level" else THEMES)
            return PROBLEMS[name][language].format(value=value, allowed=allowed)
    return Filters(*values)
