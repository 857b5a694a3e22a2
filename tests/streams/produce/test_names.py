"""Simulated publics are named as a region's real list reads: in Russian, each name once, in the
places of its own region, and naming them changes nothing else about them."""

from __future__ import annotations

import dataclasses
import re

from streams.produce import names, synth
from streams.produce.names import COMMON_VILLAGES, PLACES


def test_a_regions_publics_have_distinct_russian_names_of_its_own_places() -> None:
    publics = synth.make_publics(3723, seed=1)
    assert len({p.name for p in publics}) == len(publics)
    for p in publics:
        assert not re.search(r"[A-Za-z]", p.name), p.name
        assert "{" not in p.name and not re.search(r"г\. (\S+ )?района", p.name) and len(p.name) <= 120, (
            p.name
        )
        _, towns, villages = PLACES[p.region]
        if p.level == "municipal":
            assert any(town in p.name for town in towns), p
        elif p.level == "settlement":
            assert any(village in p.name for village in villages + COMMON_VILLAGES), p
    # every level and theme reads like its kind of page
    by_segment = {(p.level, p.theme): p.name for p in publics}
    assert any(
        n.startswith(("Министерство", "Правительство"))
        for (lv, _), n in by_segment.items()
        if lv == "regional"
    )
    schools = [p.name for p in publics if p.level == "municipal" and p.theme == "education"]
    assert any("№" in n for n in schools)


def test_names_come_from_their_own_random_stream() -> None:
    """The simulator's other draws (segments, habits, events) are those of an unnamed public."""

    def unnamed(publics: list[synth.Habits]) -> list[synth.Habits]:
        return [dataclasses.replace(p, name="") for p in publics]

    named = synth.make_publics(300, seed=5)
    original = names.Namer.__call__
    try:
        names.Namer.__call__ = lambda self, level, theme, region: "x"  # type: ignore[method-assign]
        plain = synth.make_publics(300, seed=5)
    finally:
        names.Namer.__call__ = original  # type: ignore[method-assign]
    assert unnamed(named) == unnamed(plain)
