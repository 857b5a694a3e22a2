"""The segments API: aggregates per segment and the leaderboards, read from Redis, so any worker
answers for every segment (``GET /segments``, ``GET /segments/ranking``).

Parameters are checked by pure functions (a 400 says which parameter and why); the Redis reads are
the rankings' sorted sets (``streams.core.rankings``) and the workers' segment counts
(``streams.serving.segment_counts``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agents import query
from agents.query import whole_number
from agents.segment_filter import SEGMENT_FILTERS, Filters, segment_filters
from streams import redis_keys
from streams.core.rankings import RANKED
from streams.serving import segment_counts

#: Most rows a leaderboard page holds, and its default.
MAX_LIMIT = 100
DEFAULT_LIMIT = 20


@dataclass(frozen=True)
class RankingQuery:
    kpi: str
    filters: Filters
    order: str
    limit: int
    offset: int


def _unknown(query: Any, allowed: tuple[str, ...]) -> str | None:
    for name in query:
        if name not in allowed:
            return f"unknown parameter {name!r}; use {', '.join(allowed)}"
    return None


def segments_query(query: Any) -> Filters | str:
    """``GET /segments``'s parameters, or why they cannot be used."""
    return _unknown(query, SEGMENT_FILTERS) or segment_filters(query)


#: The furthest a cursor may point: past every public of the country many times over (a larger one
#: is no cursor this API gave, and Redis would refuse it).
MAX_CURSOR_OFFSET = 10_000_000


def encode_cursor(offset: int) -> str:
    return query.encode_cursor("o", str(offset))


def decode_cursor(cursor: str) -> int | None:
    offset = query.decode_cursor("o", cursor)
    return None if offset is None else whole_number(offset, 0, MAX_CURSOR_OFFSET)


def ranking_query(query: Any) -> RankingQuery | str:
    """``GET /segments/ranking``'s parameters, or why they cannot be used."""
    unknown = _unknown(query, ("kpi", *SEGMENT_FILTERS, "order", "limit", "cursor"))
    if unknown:
        return unknown
    kpi = query.get("kpi")
    if kpi not in RANKED:
        return (
            f"kpi: give one of {', '.join(RANKED)}"
            if kpi is None
            else f"kpi: {kpi!r} is not one of {', '.join(RANKED)}"
        )
    filters = segment_filters(query)
    if isinstance(filters, str):
        return filters
    order = query.get("order", "desc")
    if order not in ("asc", "desc"):
        return f"order: {order!r} is neither asc nor desc"
    raw_limit = query.get("limit", str(DEFAULT_LIMIT))
    limit = whole_number(raw_limit, 1, MAX_LIMIT)
    if limit is None:
        return f"limit: {raw_limit!r} is not a whole number from 1 to {MAX_LIMIT}"
    offset = 0
    if query.get("cursor"):
        decoded = decode_cursor(query["cursor"])
        if decoded is None:
            return "cursor: not a cursor this API gave (take next_cursor from the previous page)"
        offset = decoded
    return RankingQuery(kpi, filters, order, limit, offset)


async def ranking(client: Any, app_id: str, q: RankingQuery) -> dict[str, Any]:
    """One page of a leaderboard: rank (1 = first in ``order``), public, value."""
    key = redis_keys.ranking(app_id, q.kpi, *q.filters.place())
    end = q.offset + q.limit - 1
    async with client.pipeline(transaction=False) as pipe:
        if q.order == "desc":
            pipe.zrevrange(key, q.offset, end, withscores=True)
        else:
            pipe.zrange(key, q.offset, end, withscores=True)
        pipe.zcard(key)
        rows, total = await pipe.execute()
    items = [
        {"rank": q.offset + i + 1, "public_id": member.decode(), "value": _plain(score)}
        for i, (member, score) in enumerate(rows)
    ]
    more = q.offset + len(items) < total
    return {
        "kpi": q.kpi,
        "order": q.order,
        **{name: value for name, value in zip(SEGMENT_FILTERS, q.filters.place_or_none(), strict=True)},
        "total": total,
        "items": items,
        "next_cursor": encode_cursor(q.offset + len(items)) if more else None,
    }


async def segments(client: Any, app_id: str, filters: Filters) -> dict[str, Any]:
    """Every segment (region × level × theme) the filters admit: publics, publics in breach per KPI
    (added up over the workers and the profiles), and the median of each ranked KPI."""
    counts = await segment_counts(client, app_id)
    merged: dict[tuple[str, str, str], dict[str, Any]] = {}
    for (region, level, theme, _profile), body in counts.items():
        if not filters.admits(region, level, theme):
            continue
        into = merged.setdefault((region, level, theme), {"publics": 0, "in_breach": {}})
        into["publics"] += body["publics"]
        for kpi, n in body["in_breach"].items():
            into["in_breach"][kpi] = into["in_breach"].get(kpi, 0) + n
    places = sorted(merged)
    medians = await _medians(client, app_id, places)
    return {
        "segments": [
            {
                "region": region,
                "level": level,
                "theme": theme,
                "publics": merged[(region, level, theme)]["publics"],
                "in_breach": merged[(region, level, theme)]["in_breach"],
                "medians": medians[(region, level, theme)],
            }
            for region, level, theme in places
        ]
    }


async def _medians(
    client: Any, app_id: str, places: list[tuple[str, str, str]]
) -> dict[tuple[str, str, str], dict[str, float | None]]:
    """The median score of each ranked KPI per segment: the lower middle of its sorted set."""
    async with client.pipeline(transaction=False) as pipe:
        for place in places:
            for kpi in RANKED:
                pipe.zcard(redis_keys.ranking(app_id, kpi, *place))
        sizes = await pipe.execute()
    async with client.pipeline(transaction=False) as pipe:
        asked = []
        for i, place in enumerate(places):
            for j, kpi in enumerate(RANKED):
                size = sizes[i * len(RANKED) + j]
                if size:
                    middle = (size - 1) // 2
                    pipe.zrange(redis_keys.ranking(app_id, kpi, *place), middle, middle, withscores=True)
                    asked.append((place, kpi))
        values = await pipe.execute() if asked else []
    out: dict[tuple[str, str, str], dict[str, float | None]] = {p: dict.fromkeys(RANKED) for p in places}
    for (place, kpi), rows in zip(asked, values, strict=True):
        out[place][kpi] = _plain(rows[0][1]) if rows else None
    return out


def _plain(score: float) -> float | int:
    return int(score) if float(score).is_integer() else score


def register(app: Any, client: Any, app_id: str) -> None:
    """``GET /segments``, ``GET /segments/ranking`` and ``GET /openapi.json`` on the worker's web port."""
    from agents.openapi import document

    async def answer(web: Any, work: Any) -> Any:
        if client is None:
            return web.json({"error": "this worker has no Redis; start it with --redis"}, status=503)
        try:
            return web.json(await work)
        except Exception as exc:  # Redis down or slow: say so, the caller retries
            return web.json({"error": f"Redis did not answer ({exc!r}); retry shortly"}, status=503)

    @app.page("/segments")
    async def get_segments(web: Any, request: Any) -> Any:
        checked = segments_query(request.query)
        if isinstance(checked, str):
            return web.json({"error": checked}, status=400)
        return await answer(web, segments(client, app_id, checked))

    @app.page("/segments/ranking")
    async def get_ranking(web: Any, request: Any) -> Any:
        checked = ranking_query(request.query)
        if isinstance(checked, str):
            return web.json({"error": checked}, status=400)
        return await answer(web, ranking(client, app_id, checked))

    @app.page("/openapi.json")
    async def get_openapi(web: Any, request: Any) -> Any:
        return web.json(document())
