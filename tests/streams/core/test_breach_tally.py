"""The per-segment breach tally: counts kept one judgement at a time equal counts made from scratch."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from streams.core.breach_tally import BreachTally, Segment

NIZ: Segment = ("RU-NIZ", "municipal", "culture", "default")
MOW: Segment = ("RU-MOW", "regional", "health", "flagship")


def breach(public_id: str, kpi: str, since: int = 0) -> dict:
    return {"public_id": public_id, "kpi": kpi, "since": since}


def test_a_public_moves_between_counts_as_it_is_judged_again() -> None:
    tally = BreachTally()
    tally.judged("vk:-1", NIZ, [breach("vk:-1", "posting"), breach("vk:-1", "silence")])
    tally.judged("vk:-2", NIZ, [])
    assert tally.publics == {NIZ: 2}
    assert tally.in_breach == {("posting", NIZ): 1, ("silence", NIZ): 1}
    # posts came, and the registry moved it to another segment
    tally.judged("vk:-1", MOW, [breach("vk:-1", "silence")])
    assert tally.publics == {NIZ: 1, MOW: 1}
    assert tally.in_breach == {("silence", MOW): 1}
    assert list(tally.breaching) == ["vk:-1"]
    tally.judged("vk:-1", MOW, [])
    assert tally.in_breach == {} and tally.breaching == {}


def test_a_public_that_stays_in_breach_keeps_its_place() -> None:
    tally = BreachTally()
    for public_id in ("vk:-1", "vk:-2", "vk:-3"):
        tally.judged(public_id, NIZ, [breach(public_id, "posting")])
    tally.judged("vk:-1", NIZ, [breach("vk:-1", "posting"), breach("vk:-1", "overdue")])
    tally.judged("vk:-2", NIZ, [])
    tally.judged("vk:-2", NIZ, [breach("vk:-2", "posting")])
    assert list(tally.breaching) == ["vk:-1", "vk:-3", "vk:-2"]  # oldest breach first; -2 began anew


def test_dropped_and_unowned_publics_leave_the_counts() -> None:
    tally = BreachTally()
    tally.judged("vk:-1", NIZ, [breach("vk:-1", "posting")])
    tally.judged("vk:-2", MOW, [breach("vk:-2", "posting")])
    tally.judged("vk:-3", MOW, [])
    tally.drop(["vk:-1", "vk:-404"])
    assert tally.publics == {MOW: 2} and tally.in_breach == {("posting", MOW): 1}
    tally.keep_only({"vk:-3"})
    assert tally.publics == {MOW: 1} and tally.in_breach == {} and len(tally) == 1


KPIS = ("posting", "silence", "overdue")
judgements = st.lists(
    st.tuples(
        st.sampled_from(["vk:-1", "vk:-2", "vk:-3", "vk:-4"]),
        st.sampled_from([NIZ, MOW]),
        st.sets(st.sampled_from(KPIS)),
        st.booleans(),  # True: this step drops the public instead
        st.integers(0, 30),  # posts in 7 days
        st.none() | st.integers(0, 100_000).map(float),  # response p90, working seconds
    ),
    max_size=40,
)


@given(judgements)
def test_counts_equal_a_count_from_scratch(steps: list) -> None:
    tally = BreachTally()
    last: dict[str, tuple[Segment, set[str], int, float | None]] = {}
    for public_id, segment, kpis, dropped, posts, response in steps:
        if dropped:
            tally.drop([public_id])
            last.pop(public_id, None)
        else:
            tally.judged(public_id, segment, [breach(public_id, k) for k in sorted(kpis)], posts, response)
            last[public_id] = (segment, kpis, posts, response)
    publics: dict[Segment, int] = {}
    in_breach: dict[tuple[str, Segment], int] = {}
    posts_7d: dict[Segment, int] = {}
    responses: dict[Segment, list[float]] = {}
    for segment, kpis, posts, response in last.values():
        publics[segment] = publics.get(segment, 0) + 1
        posts_7d[segment] = posts_7d.get(segment, 0) + posts
        if response is not None:
            responses.setdefault(segment, []).append(response)
        for kpi in kpis:
            in_breach[(kpi, segment)] = in_breach.get((kpi, segment), 0) + 1
    assert tally.publics == publics and tally.in_breach == in_breach and tally.posts_7d == posts_7d
    assert tally.response_p90_count == {s: len(r) for s, r in responses.items()}
    assert tally.response_p90_sum == {s: sum(r) for s, r in responses.items()}
    assert set(tally.breaching) == {p for p, (_, kpis, _, _) in last.items() if kpis}
    assert tally.open_breaches == sum(len(kpis) for _, kpis, _, _ in last.values()) >= 0


def full(public_id: str, segment: Segment, kpi: str, since: int) -> dict:
    region, level, theme, profile = segment
    return {
        "public_id": public_id,
        "kpi": kpi,
        "since": since,
        "at": since,
        "region": region,
        "level": level,
        "theme": theme,
        "profile": profile,
    }


@given(
    st.lists(
        st.tuples(
            st.sampled_from([f"vk:-{i}" for i in range(8)]),
            st.sampled_from([NIZ, MOW]),
            st.sets(st.sampled_from(KPIS)),
            st.integers(0, 5),  # when its breaches began
        )
    ),
    st.sampled_from([{}, {"region": "RU-NIZ"}, {"kpi": "silence"}, {"theme": "health", "kpi": "posting"}]),
    st.one_of(st.none(), st.integers(1, 5)),
)
def test_the_worst_publics_are_those_a_sort_of_every_breach_gives(
    steps: list[tuple[str, Segment, set[str], int]], filters: dict[str, str], limit: int | None
) -> None:
    from agents.web import worst_first

    tally = BreachTally()
    for public_id, segment, kpis, since in steps:
        tally.judged(public_id, segment, [full(public_id, segment, k, since) for k in sorted(kpis)])
    every = [b for held in tally.breaching.values() for b in held]
    picked = sorted(
        (b for b in every if all(b[name] == value for name, value in filters.items())),
        key=lambda b: (b["public_id"], b["kpi"]),
    )
    assert tally.worst(filters, limit) == worst_first(picked, limit)
