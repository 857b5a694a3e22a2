"""A profiles file is checked whole: each fault stops with the file, the key and what to write."""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.core.profiles import ProfilesError, parse_profiles

SHIPPED = Path(__file__).resolve().parents[3] / "deploy" / "kpi" / "profiles.toml"


def test_the_shipped_file_reads_and_its_profiles_take_defaults_from_default() -> None:
    profiles = parse_profiles(SHIPPED.read_bytes(), str(SHIPPED))
    assert set(profiles.profiles) == {"default", "flagship", "card"}
    flagship, default = profiles.profiles["flagship"], profiles.profiles["default"]
    assert flagship.min_posts_7d == 5 and flagship.sla_wh_h == default.sla_wh_h
    assert profiles.profiles["card"].min_er_day_7d is None  # "off"
    assert profiles.choose("federal", "health", "RU-NIZ").name == "flagship"
    assert profiles.choose("settlement", "culture", "RU-NIZ").name == "card"
    assert profiles.choose("municipal", "culture", "RU-NIZ").name == "default"
    # each with the title curators read; a title is never inherited from default
    assert [profiles.profiles[n].shown for n in ("default", "flagship", "card")] == [
        "Обычный",
        "Флагманский",
        "Визитка",
    ]
    untitled = parse_profiles('[profiles.default]\ntitle = "Обычный"\n[profiles.x]\n'.encode(), "p.toml")
    assert untitled.profiles["x"].title is None and untitled.profiles["x"].shown == "x"


def test_an_empty_default_takes_the_built_in_values() -> None:
    default = parse_profiles(b"[profiles.default]\n", "p.toml").profiles["default"]
    assert (default.min_posts_7d, default.max_silence_h, default.sla_wh_h, default.workday) == (
        3,
        72,
        8,
        (540, 1080),
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b"[profiles.default\n", "p.toml: (file): not valid TOML"),
        (b"\xff\xfe", "p.toml: (file): not UTF-8 text"),
        (b"[profiles.flagship]\n", "p.toml: profiles.default: missing; write [profiles.default]"),
        (
            b"[profiles.default]\nmin_post_7d = 3\n",
            "p.toml: profiles.default.min_post_7d: unknown key; a profile",
        ),
        (
            b"[profiles.default]\nmin_posts_7d = 2.5\n",
            "profiles.default.min_posts_7d: 2.5 is not a whole number",
        ),
        (
            b'[profiles.default]\nmin_posts_7d = "3"\n',
            "profiles.default.min_posts_7d: '3' is not a whole number",
        ),
        (b"[profiles.default]\nmax_overdue_wh = -1\n", "profiles.default.max_overdue_wh: -1 is out of range"),
        (b'[profiles.default]\nsla_wh_h = "off"\n', "profiles.default.sla_wh_h: 'off' is not a number"),
        (b"[profiles.default]\nsla_wh_h = 0\n", "profiles.default.sla_wh_h: 0 is out of range"),
        (
            b'[profiles.default]\nworkday = ["9:00", "18:00"]\n',
            "profiles.default.workday: '9:00' is not a time",
        ),
        (b'[profiles.default]\nworkday = ["18:00", "09:00"]\n', "profiles.default.workday: the workday ends"),
        (
            b'[profiles.default]\nworkday = "09:00-18:00"\n',
            "profiles.default.workday: '09:00-18:00' is not a pair",
        ),
        (b'[profiles.default]\n[[segments]]\nlevel = "regional"\n', "segments[0].profile: missing"),
        (
            b'[profiles.default]\n[[segments]]\nprofile = "flagship"\n',
            "segments[0].profile: no profile 'flagship'; define [profiles.flagship] or name one of default",
        ),
        (
            b'[profiles.default]\n[[segments]]\nlevel = "city"\nprofile = "default"\n',
            "segments[0].level: 'city' is",
        ),
        (
            b'[profiles.default]\n[[segments]]\nregion = "NIZ"\nprofile = "default"\n',
            "segments[0].region: 'NIZ'",
        ),
        (
            b'[profiles.default]\n[[segments]]\ntier = 1\nprofile = "default"\n',
            "segments[0].tier: unknown key",
        ),
        (b"thresholds = 1\n[profiles.default]\n", "p.toml: thresholds: unknown key"),
        (b"[profiles.default]\ntitle = 5\n", "profiles.default.title: 5 is not a name of 1 to 60 characters"),
        (b'[profiles.default]\ntitle = "  "\n', 'write e.g. title = "Флагман"'),
    ],
)
def test_each_fault_names_the_file_the_key_and_the_fix(text: bytes, message: str) -> None:
    with pytest.raises(ProfilesError) as caught:
        parse_profiles(text, "p.toml")
    assert message in str(caught.value)
    assert str(caught.value).startswith("p.toml: ")
