"""The worker's HTTP API: answers as pure functions of the pipeline, and the Faust views that serve
them (any worker answers for any public, forwarding to the one that holds it)."""

from __future__ import annotations

import asyncio
import gzip
import math
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
import faust
import orjson
from yarl import URL

from agents.catchup import CatchUp
from agents.kpi import KpiLive, ProfilesWatcher
from agents.looplag import LoopLag
from agents.page import export
from agents.page.render import HEADERS as PAGE_HEADERS
from agents.query import decode_cursor, encode_cursor, whole_number
from agents.readiness import not_ready, retry_later
from agents.registry_feed import RegistryFeed
from agents.routing import ROUTED_HEADER, owner_of, partition_of
from agents.segment_filter import SEGMENT_FILTERS, Filters, segment_filters
from agents.state_table import StateTable
from schemas.contract import PUBLIC_ID_PATTERN
from schemas.validate import valid_public_id
from streams.core.breach_tally import badness, worst_keys
from streams.core.days import daily
from streams.core.due import aged
from streams.core.profiles import KPIS, Profiles
from streams.core.timebase import HOUR_MS, LONGEST_WINDOW_HOURS, YEAR_MS, TimeError, now_ms, parse_instant
from streams.pipeline import Pipeline

#: A status and a body: JSON (a dict) or a page (HTML text).
Answer = tuple[int, dict[str, Any] | str]
#: ``owner_elsewhere``'s answer while the assignment names no worker for a partition.
UNKNOWN_OWNER = "?"


@dataclass(frozen=True)
class Views:
    """What other pages of the web port reuse: every worker's open breaches, and an answer given by
    the worker holding a public (forwarded there when this one does not)."""

    open_breaches: Callable[
        [Any, dict[str, str], int | None], Awaitable[tuple[int, list[dict[str, Any]], bool] | str]
    ]
    #: ``(web, request, public_id, answer, busy_page=None)``: see ``register_views``.
    where_held: Callable[..., Awaitable[Any]]
    #: ``(request, at, filters)``: every worker's export rows (``agents.page.export``), sorted by
    #: name; a str says why not (a worker did not answer, or the segment is too large).
    export_rows: Callable[[Any, int, dict[str, str]], Awaitable[list[dict[str, Any]] | str]]


def instant(at_param: str | None, now_ms: int) -> int | str:
    """The ``at`` query parameter as epoch ms (default now), or why it cannot be used."""
    at = now_ms
    if at_param is not None:
        try:
            at = parse_instant(at_param)
        except TimeError as exc:
            return f"at: {exc}"
    if at < now_ms - LONGEST_WINDOW_HOURS * HOUR_MS:
        return "at: older than the 30-day retention; no window can be computed that far back"
    if at > now_ms + YEAR_MS:
        return "at: more than a year ahead; give a time between 30 days ago and a year ahead"
    return at


def _public_at(public_id: str, at_param: str | None, now_ms: int) -> int | Answer:
    """The instant a public's answer is asked for, or the 400 that says why it cannot be given."""
    if not valid_public_id(public_id):
        return 400, {"error": f"{public_id!r} is not a public_id (pattern {PUBLIC_ID_PATTERN})"}
    at = instant(at_param, now_ms)
    return (400, {"error": at}) if isinstance(at, str) else at


def _unknown(public_id: str) -> Answer:
    return 404, {"error": f"unknown public {public_id}: no event of it has been applied"}


def public_table(pipeline: Pipeline, public_id: str, at_param: str | None, now_ms: int) -> Answer:
    """``GET /publics/{public_id}?at=T``: the table of contract §2, or an error that says why."""
    at = _public_at(public_id, at_param, now_ms)
    if not isinstance(at, int):
        return at
    table = pipeline.current_table(public_id, at)
    return _unknown(public_id) if table is None else (200, table)


def public_days(pipeline: Pipeline, public_id: str, at_param: str | None, now_ms: int) -> Answer:
    """``GET /publics/{public_id}/days?at=T``: the public's last 30 local days, or why not."""
    at = _public_at(public_id, at_param, now_ms)
    if not isinstance(at, int):
        return at
    st = pipeline.current_state(public_id)
    if st is None:
        return _unknown(public_id)
    return 200, {
        "public_id": public_id,
        "at": at,
        "tz": getattr(st.calendar, "tz", None),
        "days": daily(st, at),
    }


BREACH_FILTERS = ("kpi", "region", "level", "theme", "profile")


def breach_query(query: Any, profiles: Profiles, now_ms: int) -> tuple[int, dict[str, str]] | str:
    """``GET /breaches``'s parameters checked: ``at`` and the filters, or why they cannot be used."""
    for name in query:
        if name != "at" and name not in BREACH_FILTERS:
            return f"unknown parameter {name!r}; use at, {', '.join(BREACH_FILTERS)}"
    at = instant(query.get("at"), now_ms)
    if isinstance(at, str):
        return at
    kpi, profile = query.get("kpi"), query.get("profile")
    if kpi and kpi not in KPIS:
        return f"kpi: {kpi!r} is not one of {', '.join(KPIS)}"
    segment = segment_filters(query)
    if isinstance(segment, str):
        return segment
    if profile and profile not in profiles.profiles:
        return f"profile: {profile!r} is not one of {', '.join(profiles.profiles)}"
    filters = {"kpi": kpi, **segment.chosen(), "profile": profile}
    filters = {name: filters[name] for name in BREACH_FILTERS if filters.get(name)}
    return at, filters


#: Breaches one ``GET /breaches`` page holds when no ``limit`` is asked, and the most it may hold.
DEFAULT_BREACH_LIMIT = 1000
MAX_BREACH_LIMIT = 10_000


@dataclass(frozen=True)
class BreachPage:
    """A ``GET /breaches`` request: the instant, the filters, and which page."""

    at: int
    filters: dict[str, str]
    limit: int
    after: str  # the last public_id of the previous page ("" for the first)


def encode_breach_cursor(public_id: str) -> str:
    return encode_cursor("p", public_id)


def decode_breach_cursor(cursor: str) -> str | None:
    public_id = decode_cursor("p", cursor)
    return public_id if public_id is not None and valid_public_id(public_id) else None


def breach_page_query(query: Any, profiles: Profiles, now_ms: int) -> BreachPage | str:
    """``GET /breaches``'s parameters checked (``at``, the filters, ``limit``, ``cursor``), or why
    they cannot be used."""
    checked = breach_query({k: v for k, v in query.items() if k not in ("limit", "cursor")}, profiles, now_ms)
    if isinstance(checked, str):
        return checked.replace("use at,", "use at, limit, cursor,")
    raw = query.get("limit", str(DEFAULT_BREACH_LIMIT))
    limit = whole_number(raw, 1, MAX_BREACH_LIMIT)
    if limit is None:
        return f"limit: {raw!r} is not a whole number from 1 to {MAX_BREACH_LIMIT}"
    after = ""
    if query.get("cursor"):
        decoded = decode_breach_cursor(query["cursor"])
        if decoded is None:
            return "cursor: not a cursor this API gave (take next_cursor from the previous page)"
        after = decoded
    return BreachPage(checked[0], checked[1], limit, after)


def cut_page(found: list[dict[str, Any]], limit: int, more: bool) -> tuple[list[dict[str, Any]], str | None]:
    """The first page of ``found`` (sorted by ``public_id``, ``kpi``): whole publics, at most
    ``limit`` breaches unless one public alone has more; and the cursor to the next page (``None``
    when nothing is left: none of ``found`` past the page, and ``more`` false)."""
    taken = 0
    while taken < len(found):
        public_id = found[taken]["public_id"]
        end = taken
        while end < len(found) and found[end]["public_id"] == public_id:
            end += 1
        if taken and end > limit:
            break
        taken = end
    page = found[:taken]
    left = taken < len(found) or more
    return page, encode_breach_cursor(page[-1]["public_id"]) if page and left else None


#: Most publics one ``GET /breaches/open`` lists.
MAX_OPEN_LIMIT = 1000


def open_breach_query(query: Any, profiles: Profiles) -> tuple[dict[str, str], int | None] | str:
    """``GET /breaches/open``'s filters and ``limit``, or why they cannot be used (no ``at``: open
    breaches are as last judged)."""
    if "at" in query:
        return "at: open breaches are those of the last judgement; ask GET /breaches?at=T for another time"
    limit = None
    raw = query.get("limit")
    if raw is not None:
        limit = whole_number(raw, 1, MAX_OPEN_LIMIT)
        if limit is None:
            return f"limit: {raw!r} is not a whole number from 1 to {MAX_OPEN_LIMIT}"
    checked = breach_query({k: v for k, v in query.items() if k != "limit"}, profiles, 0)
    return checked if isinstance(checked, str) else (checked[1], limit)


def worst_first(breaches: Iterable[dict[str, Any]], limit: int | None) -> tuple[int, list[dict[str, Any]]]:
    """How many publics ``breaches`` name, and the breaches of the ``limit`` worst of them (all
    without a limit): most breaches first, then the longest-standing, then by ``public_id``
    (``streams.core.breach_tally.badness``); each public's breaches by ``kpi``. Merges the workers'
    own worst."""
    by_public: dict[str, list[dict[str, Any]]] = {}
    for b in breaches:
        by_public.setdefault(b["public_id"], []).append(b)
    keys = [badness(p, tuple(held)) for p, held in by_public.items()]
    order = worst_keys(keys, limit)
    return len(by_public), [b for key in order for b in sorted(by_public[key[2]], key=lambda b: b["kpi"])]


def register_views(
    app: faust.App,
    table: StateTable,
    pipeline: Pipeline,
    feed: RegistryFeed,
    partitions: int,
    kpi: KpiLive,
    watcher: ProfilesWatcher | None,
    stalled_s: Callable[[], float] = lambda: 0.0,
    stall_after_s: float = float("inf"),
    loop_lag: LoopLag | None = None,
    catch_up: CatchUp | None = None,
) -> Views:
    """``GET /publics/{public_id}?at=T``, its days, ``GET /breaches``, ``GET /breaches/open`` and
    ``GET /health`` on the worker's web port; returns what the curators' page builds on."""
    changelog = table.changelog_topic.get_topic_name()
    here = str(app.conf.canonical_url).rstrip("/")

    def owner_elsewhere(request: Any, public_id: str) -> str | None:
        """The worker holding the public's partition when it is not this one (``UNKNOWN_OWNER``
        while the assignment names nobody). Any worker answers for any public: one that does not hold
        it forwards the request there (once: a forwarded request is answered where it lands)."""
        if public_id in pipeline.held() or ROUTED_HEADER in request.headers or not valid_public_id(public_id):
            return None
        distribution = app.router.tables_metadata()
        owner = owner_of(distribution, changelog, partition_of(public_id, partitions))
        if owner is None:
            return UNKNOWN_OWNER
        return owner if owner.rstrip("/") != here else None

    def not_exact() -> str | None:
        return not_ready(app, feed.caught_up.is_set())

    async def where_held(
        web: Any, request: Any, public_id: str, answer: Any, busy_page: Callable[[str], str] | None = None
    ) -> Any:
        """``answer`` here when this worker holds the public, else from the worker that does. While
        no worker can answer exactly: 503 with ``Retry-After``, and a JSON body saying why (or the
        HTML page ``busy_page(reason)`` gives)."""
        owner = owner_elsewhere(request, public_id)
        if owner == UNKNOWN_OWNER:
            reason: str | None = "no worker holds this public's partition right now"
        elif owner is not None:
            return await _forward(app, web, request, owner)
        else:
            reason = not_exact()
        if reason is not None:
            status, body, headers = retry_later(reason)
            if busy_page is not None:
                return web.html(busy_page(reason), status=status, headers={**headers, **PAGE_HEADERS})
            return web.json(body, status=status, headers=headers)
        status, answered = answer(pipeline, public_id, request.query.get("at"), now_ms())
        if isinstance(answered, str):
            return web.html(answered, status=status, headers=dict(PAGE_HEADERS))
        return web.json(answered, status=status)

    @app.page("/publics/{public_id}")
    async def get_public(web: Any, request: Any, public_id: str) -> Any:
        return await where_held(web, request, public_id, public_table)

    @app.page("/publics/{public_id}/days")
    async def get_public_days(web: Any, request: Any, public_id: str) -> Any:
        return await where_held(web, request, public_id, public_days)

    async def others(request: Any, path_qs: str) -> list[dict[str, Any]] | str:
        """Every other worker's answer to ``path_qs`` (none when this request was routed here: the
        worker asked gathers, once); a str says why not all of them answered."""
        if ROUTED_HEADER in request.headers:
            return []
        distribution = app.router.tables_metadata()
        owners = {owner_of(distribution, changelog, p) for p in range(partitions)}
        if None in owners:
            return "partitions are being reassigned between workers; retry in a few seconds"
        bodies = []
        for owner in sorted(o.rstrip("/") for o in owners if o is not None and o.rstrip("/") != here):
            status, body = await _ask(app, owner, path_qs)
            if status != 200:
                return str(body.get("error", body))
            bodies.append(body)
        return bodies

    @app.page("/breaches")
    async def get_breaches(web: Any, request: Any) -> Any:
        # Every worker judges the publics of its partitions, from the cursor on, until it has a
        # page; the one asked merges their pages and cuts its own: a page costs what it holds.
        q = breach_page_query(request.query, pipeline.profiles, now_ms())
        if isinstance(q, str):
            return web.json({"error": q}, status=400)
        if (reason := not_exact()) is not None:
            return busy(web, reason)

        def keep(b: dict[str, Any]) -> bool:
            return all(b[name] == value for name, value in q.filters.items())

        found, more = await kpi.breaches_at(q.at, q.after, q.limit, keep if q.filters else None)
        if ROUTED_HEADER in request.headers:  # a part for the worker gathering the page
            return compressed(web, request, {"at": q.at, "breaches": found, "more": more})
        cursor = {"cursor": encode_breach_cursor(q.after)} if q.after else {}
        answers = await others(
            request, "/breaches?" + urlencode({"at": q.at, **q.filters, "limit": q.limit, **cursor})
        )
        if isinstance(answers, str):
            return busy(web, answers)
        for body in answers:
            found += body["breaches"]
            more = more or body["more"]
        found.sort(key=lambda b: (b["public_id"], b["kpi"]))
        page, next_cursor = cut_page(found, q.limit, more)
        return compressed(web, request, {"at": q.at, "breaches": page, "next_cursor": next_cursor})

    @app.page("/breaches/open")
    async def get_open_breaches(web: Any, request: Any) -> Any:
        checked = open_breach_query(request.query, pipeline.profiles)
        if isinstance(checked, str):
            return web.json({"error": checked}, status=400)
        if (reason := not_exact()) is not None:
            return busy(web, reason)
        found = await open_breaches(request, *checked)
        if isinstance(found, str):
            return busy(web, found)
        publics, breaches, catching_up = found
        return web.json({"publics": publics, "breaches": breaches, "catching_up": catching_up})

    async def open_breaches(
        request: Any, filters: dict[str, str], limit: int | None = None
    ) -> tuple[int, list[dict[str, Any]], bool] | str:
        """The open breaches every worker holds (its last judgement of its publics), filtered: how
        many publics have one, the breaches of the ``limit`` worst (all without a limit), and whether
        a worker is catching up (its judgements wait for its backlog). Each worker sends only its own
        worst ``limit``, so a national list costs what its first page does."""
        publics, found = kpi.tally.worst(filters, limit)
        found = aged(found, now_ms())  # each judged when last due: an open silence has grown since
        query = urlencode({**filters, **({"limit": limit} if limit is not None else {})})
        answers = await others(request, f"/breaches/open?{query}")
        if isinstance(answers, str):
            return answers
        catching_up = catch_up is not None and catch_up.active
        for body in answers:
            publics += body["publics"]
            found += body["breaches"]
            catching_up = catching_up or bool(body.get("catching_up"))
        return publics, worst_first(found, limit)[1], catching_up

    @app.page("/health")
    async def health(web: Any, request: Any) -> Any:
        reason = not_exact()
        stalled = stalled_s()
        body = {
            "status": "stalled" if stalled >= stall_after_s else "ready" if reason is None else "recovering",
            "not_ready": reason,
            "stalled_s": round(stalled, 1),
            "events_applied": pipeline.applied,
            "duplicates": pipeline.duplicates,
            "messages_redelivered": pipeline.redelivered,
            "events_rejected": pipeline.rejected,
            "publics_held": len(pipeline.held()),
            "registry_records": len(feed.records),
            "profiles": pipeline.profiles.source,
            "profiles_error": watcher.error if watcher is not None else None,
            "kpi_sweeps": kpi.stats.sweeps,
            "kpi_last_sweep_s": round(kpi.stats.last_sweep_s, 3),
            "kpi_publics_judged": len(kpi.tally),
            "kpi_publics_in_breach": len(kpi.tally.breaching),
            "kpi_open_breaches": kpi.tally.open_breaches,
            "kpi_judged_at": kpi.stats.judged_at,
            "kpi_evaluated": kpi.stats.evaluated,
            "kpi_transitions": kpi.stats.transitions,
            "kpi_longest_slice_s": round(kpi.stats.longest_slice_s, 3),
            "kpi_redis_failures": kpi.stats.redis_failures,
        }
        if catch_up is not None:  # a backlog is read: judging waits for it (agents.catchup)
            body["catching_up"] = catch_up.active
            body["backlog_s"] = None if math.isinf(catch_up.worst_s) else round(catch_up.worst_s, 1)
            body["kpi_publics_waiting"] = len(kpi.pending)
        if loop_lag is not None:
            body["loop_lag_longest_s"] = round(loop_lag.longest_s, 3)
            body["loop_lag_last_minute_s"] = round(loop_lag.last_minute_s, 3)
        return web.json(body, status=200 if body["status"] == "ready" else 503)

    async def own_export_rows(at: int, filters: dict[str, str]) -> list[dict[str, Any]] | None:
        """The export rows of the owned publics in ``filters``' segment (the registry says which,
        so only theirs are computed), in slices; None past ``MAX_EXPORT_PUBLICS``."""
        wanted = Filters(*(filters.get(name) for name in SEGMENT_FILTERS))
        rows: list[dict[str, Any]] = []
        started = time.perf_counter()
        for public_id in kpi.owned():
            info = pipeline.info(public_id)
            segment = info.segment if info is not None else None
            if filters and (
                segment is None or not wanted.admits(segment.region, segment.level, segment.theme)
            ):
                continue
            profile = pipeline.profile_of(public_id)
            if filters.get("profile") not in (None, profile.name):
                continue
            rows.append(export.row_of(kpi.table_now(public_id, at), profile, info))
            if len(rows) > MAX_EXPORT_PUBLICS:
                return None
            if time.perf_counter() - started >= EXPORT_SLICE_S:
                await asyncio.sleep(0)
                started = time.perf_counter()
        return rows

    @app.page("/export/rows")
    async def get_export_rows(web: Any, request: Any) -> Any:
        checked = export_query(request.query, pipeline.profiles, now_ms())
        if isinstance(checked, str):
            return web.json({"error": checked}, status=400)
        if (reason := not_exact()) is not None:
            return busy(web, reason)
        rows = await own_export_rows(*checked)
        if rows is None:
            return web.json({"error": TOO_MANY_TO_EXPORT}, status=400)
        return compressed(web, request, {"rows": rows})

    async def export_rows(request: Any, at: int, filters: dict[str, str]) -> list[dict[str, Any]] | str:
        if (reason := not_exact()) is not None:
            return reason
        rows = await own_export_rows(at, filters)
        if rows is None:
            return TOO_MANY_TO_EXPORT
        answers = await others(request, f"/export/rows?{urlencode({'at': at, **filters})}")
        if isinstance(answers, str):
            return answers
        for body in answers:
            rows += body["rows"]
        if len(rows) > MAX_EXPORT_PUBLICS:
            return TOO_MANY_TO_EXPORT
        return sorted(rows, key=lambda r: (r["name"], r["public_id"]))

    return Views(open_breaches, where_held, export_rows)


#: Most publics one export holds: a region's list is thousands; the nation is asked region by region.
MAX_EXPORT_PUBLICS = 20_000
TOO_MANY_TO_EXPORT = f"the segment has more than {MAX_EXPORT_PUBLICS} publics; export it region by region"
#: The longest the export rows keep the loop before yielding.
EXPORT_SLICE_S = 0.02


def export_query(query: Any, profiles: Profiles, now: int) -> tuple[int, dict[str, str]] | str:
    """``GET /export/rows``'s ``at`` and segment filters (the worker gathering passes its ``at`` in
    epoch ms, so every worker computes the same instant)."""
    if "kpi" in query:
        return "kpi: an export holds every KPI; filter by region, level, theme or profile"
    return breach_query(query, profiles, now)


def compressed(web: Any, request: Any, body: dict[str, Any]) -> Any:
    """``body`` as JSON, gzipped when the client accepts it (a national page is megabytes of text)."""
    data = orjson.dumps(body)
    if "gzip" in request.headers.get("Accept-Encoding", "") and len(data) > 1024:
        headers = {"Content-Encoding": "gzip", "Vary": "Accept-Encoding"}
        return web.bytes(gzip.compress(data, 5), content_type="application/json", headers=headers)
    return web.bytes(data, content_type="application/json")


def busy(web: Any, reason: str) -> Any:
    """503 with ``Retry-After``: no exact answer can be given now (``agents.readiness``)."""
    status, body, headers = retry_later(reason)
    return web.json(body, status=status, headers=headers)


async def _ask(app: faust.App, owner: str, path_qs: str) -> tuple[int, Any]:
    """Another worker's local answer (JSON) to ``path_qs``."""
    url = URL(owner).join(URL(path_qs))
    try:
        async with app.http_client.get(
            url, headers={ROUTED_HEADER: "1"}, timeout=aiohttp.ClientTimeout(total=60)
        ) as response:
            return response.status, await response.json()
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        return 503, {"error": f"the worker at {owner} did not answer: {exc!r}; retry shortly"}


async def _forward(app: faust.App, web: Any, request: Any, owner: str) -> Any:
    url = URL(owner).join(URL(request.path_qs))
    try:
        async with app.http_client.get(
            url, headers={ROUTED_HEADER: "1"}, timeout=aiohttp.ClientTimeout(total=10)
        ) as response:
            content_type = response.content_type or "application/json"
            kept = {k: v for k, v in response.headers.items() if k in PAGE_HEADERS}
            return web.bytes(
                await response.read(), content_type=content_type, status=response.status, headers=kept
            )
    except (aiohttp.ClientError, TimeoutError) as exc:
        return busy(web, f"the worker holding this public ({owner}) did not answer: {exc!r}")
