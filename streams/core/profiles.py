"""KPI profiles (contract §4): thresholds per segment, read from a TOML file and checked whole.

``[profiles.default]`` must exist; another profile names only what it changes and takes the rest
from ``default``, which takes what it leaves out from ``BUILT_IN``. A threshold may be ``"off"``
(``None`` here), which disables its KPI. ``[[segments]]`` entries map registry segments to
profiles, first match wins. A file with any fault is refused whole, with the file, the key and what
to write instead: a worker keeps running on the profiles it had, a starting one stops.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final

from schemas.contract import LEVELS, REGION_RE, THEMES
from streams.core.worktime import DEFAULT_WORKDAY, parse_clock

#: The KPIs of §4, in the order breaches are listed for one public.
KPIS: Final = ("engagement", "overdue", "posting", "response_time", "silence", "subscribers")

DEFAULT_PROFILE: Final = "default"


class ProfilesError(ValueError):
    """A profiles file that cannot be used; ``str()`` names the file, the key and the fix."""


@dataclass(frozen=True, slots=True)
class Profile:
    """One profile's thresholds; ``None`` is ``"off"``."""

    name: str = DEFAULT_PROFILE
    #: What curators read for it («Обычный», «Флагман»); not inherited from the default profile.
    title: str | None = None
    min_posts_7d: int | None = 3
    max_silence_h: float | None = 72
    max_response_wh_p90_h: float | None = 4
    sla_wh_h: float = 8
    max_overdue_wh: int | None = 0
    min_er_day_7d: float | None = 0.05
    min_net_subscribers_pct_7d: float | None = -1.0
    #: Minutes after local midnight: start and end of the working day.
    workday: tuple[int, int] = DEFAULT_WORKDAY

    @property
    def sla_wh_ms(self) -> int:
        return round(self.sla_wh_h * 3_600_000)

    @property
    def shown(self) -> str:
        """The profile as curators read it: its title, else its name."""
        return self.title or self.name


#: The built-in values of §4, for the keys ``[profiles.default]`` leaves out (and with no file).
BUILT_IN: Final = Profile()


@dataclass(frozen=True, slots=True)
class SegmentRule:
    """A ``[[segments]]`` entry: each of level, theme, region is the set of values it matches, or
    ``None`` for anything."""

    profile: str
    level: frozenset[str] | None = None
    theme: frozenset[str] | None = None
    region: frozenset[str] | None = None

    def matches(self, level: str | None, theme: str | None, region: str | None) -> bool:
        return all(
            allowed is None or value in allowed
            for allowed, value in ((self.level, level), (self.theme, theme), (self.region, region))
        )


@dataclass(frozen=True)
class Profiles:
    """Every profile by name, and the segment rules; ``source`` names where they came from."""

    profiles: Mapping[str, Profile] = field(default_factory=lambda: {DEFAULT_PROFILE: BUILT_IN})
    rules: tuple[SegmentRule, ...] = ()
    source: str = "built-in defaults"

    def choose(
        self, level: str | None, theme: str | None, region: str | None, registry_profile: str | None = None
    ) -> Profile:
        """The profile of a public: its registry ``profile`` when this file has it, else the first
        matching segment rule's, else ``default``."""
        if registry_profile is not None and registry_profile in self.profiles:
            return self.profiles[registry_profile]
        for rule in self.rules:
            if rule.matches(level, theme, region):
                return self.profiles[rule.profile]
        return self.profiles[DEFAULT_PROFILE]


BUILT_IN_PROFILES: Final = Profiles()

# -- reading and checking a file ----------------------------------------------------------------

_NUMBER_KEYS: Final = {
    # key: (integer only, lowest allowed, may be "off", what it is)
    "min_posts_7d": (True, 0, True, "posts a week, a whole number such as 3"),
    "max_silence_h": (False, 0.0, True, "hours since the last post, such as 72"),
    "max_response_wh_p90_h": (False, 0.0, True, "working hours, such as 4"),
    "sla_wh_h": (False, 0.0, False, "working hours a comment may wait, such as 8 (more than 0)"),
    "max_overdue_wh": (True, 0, True, "overdue comments allowed, a whole number such as 0"),
    "min_er_day_7d": (False, 0.0, True, "percent, such as 0.05"),
    "min_net_subscribers_pct_7d": (False, -100.0, True, "percent, such as -1.0"),
}
_PROFILE_KEYS: Final = ("title", *_NUMBER_KEYS, "workday")
#: The longest profile title (it is shown in alerts and on the card).
TITLE_MAX: Final = 60
_SEGMENT_KEYS: Final = ("level", "theme", "region", "profile")


def _fault(source: str, key: str, problem: str) -> ProfilesError:
    return ProfilesError(f"{source}: {key}: {problem}")


def _number(source: str, key: str, name: str, value: Any) -> int | float | None:
    integer, low, may_be_off, what = _NUMBER_KEYS[name]
    if value == "off" and may_be_off:
        return None
    off = ' or "off"' if may_be_off else ""
    ok_type = type(value) is int if integer else type(value) in (int, float)
    if not ok_type:
        kind = "a whole number" if integer else "a number"
        raise _fault(source, key, f"{value!r} is not {kind}; write {what}{off}")
    if value < low or (name == "sla_wh_h" and value <= 0):
        raise _fault(source, key, f"{value!r} is out of range; write {what}{off}")
    return value


def _workday(source: str, key: str, value: Any) -> tuple[int, int]:
    fix = 'write two local times, such as ["09:00", "18:00"]'
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)):
        raise _fault(source, key, f"{value!r} is not a pair of times; {fix}")
    try:
        start, end = parse_clock(value[0]), parse_clock(value[1])
    except ValueError as exc:
        raise _fault(source, key, f"{exc}; {fix}") from None
    if start >= end:
        raise _fault(source, key, f"the workday ends ({value[1]}) before it starts ({value[0]}); {fix}")
    return start, end


def _profile(source: str, name: str, table: Any, base: Profile) -> Profile:
    where = f"profiles.{name}"
    if not isinstance(table, dict):
        raise _fault(source, where, "is not a table; write [profiles.NAME] with thresholds under it")
    changes: dict[str, Any] = {"name": name, "title": None}
    for key, value in table.items():
        if key == "title":
            if not (isinstance(value, str) and 0 < len(value.strip()) <= TITLE_MAX):
                raise _fault(
                    source,
                    f"{where}.title",
                    f'{value!r} is not a name of 1 to {TITLE_MAX} characters; write e.g. title = "Флагман"',
                )
            changes["title"] = value.strip()
        elif key == "workday":
            changes["workday"] = _workday(source, f"{where}.workday", value)
        elif key in _NUMBER_KEYS:
            changes[key] = _number(source, f"{where}.{key}", key, value)
        else:
            known = ", ".join(_PROFILE_KEYS)
            raise _fault(source, f"{where}.{key}", f"unknown key; a profile may set {known}")
    return replace(base, **changes)


def _choices(source: str, key: str, value: Any, allowed: tuple[str, ...] | None) -> frozenset[str]:
    values = [value] if isinstance(value, str) else value
    if not (isinstance(values, list) and values and all(isinstance(v, str) for v in values)):
        raise _fault(source, key, f"{value!r} is not a string or a list of strings")
    for v in values:
        if allowed is not None and v not in allowed:
            raise _fault(source, key, f"{v!r} is not one of {', '.join(allowed)}")
        if allowed is None and not REGION_RE.fullmatch(v):
            raise _fault(source, key, f"{v!r} is not an ISO 3166-2 region code such as RU-NIZ")
    return frozenset(values)


def parse_profiles(data: bytes, source: str) -> Profiles:
    """The profiles in ``data`` (the bytes of a TOML file named ``source``), checked whole."""
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise _fault(source, "(file)", f"not UTF-8 text ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise _fault(source, "(file)", f"not valid TOML: {exc}") from None
    for key in doc:
        if key not in ("profiles", "segments"):
            raise _fault(source, key, "unknown key; the file holds [profiles.NAME] tables and [[segments]]")
    tables = doc.get("profiles")
    if not isinstance(tables, dict) or DEFAULT_PROFILE not in tables:
        raise _fault(source, "profiles.default", "missing; write [profiles.default] (it may be empty)")
    default = _profile(source, DEFAULT_PROFILE, tables[DEFAULT_PROFILE], BUILT_IN)
    profiles = {DEFAULT_PROFILE: default}
    for name, table in tables.items():
        if name != DEFAULT_PROFILE:
            profiles[name] = _profile(source, name, table, default)
    segments = doc.get("segments", [])
    if not isinstance(segments, list):
        raise _fault(source, "segments", "is not an array of tables; write [[segments]] entries")
    rules = []
    for i, entry in enumerate(segments):
        where = f"segments[{i}]"
        if not isinstance(entry, dict):
            raise _fault(source, where, "is not a table; write [[segments]] with keys under it")
        for key in entry:
            if key not in _SEGMENT_KEYS:
                known = ", ".join(_SEGMENT_KEYS)
                raise _fault(source, f"{where}.{key}", f"unknown key; a segment may set {known}")
        target = entry.get("profile")
        if not isinstance(target, str):
            raise _fault(source, f"{where}.profile", "missing; name the profile this segment gets")
        if target not in profiles:
            named = ", ".join(profiles)
            fix = f"define [profiles.{target}] or name one of {named}"
            raise _fault(source, f"{where}.profile", f"no profile {target!r}; {fix}")
        matched = {
            key: _choices(source, f"{where}.{key}", entry[key], allowed) if key in entry else None
            for key, allowed in (("level", LEVELS), ("theme", THEMES), ("region", None))
        }
        rules.append(SegmentRule(target, **matched))
    return Profiles(profiles, tuple(rules), source)
