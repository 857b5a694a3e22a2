"""The curators' page on the worker's web port: ``/`` (breaching publics and the leaderboard of the
chosen segment) and ``/card/{public_id}`` (one public's KPIs and its 30 days).

I/O only: the open breaches every worker holds, the leaderboards and segment counts in Redis, and
the public's table and days where it is held; ``agents.page.model`` decides what to show and
``agents.page.render`` writes it.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any, Final

from agents.page import export, model, render
from agents.page.model import MOSCOW
from agents.page.regions import REGIONS
from agents.query import whole_number
from agents.readiness import RETRY_AFTER_S
from agents.segment_filter import segment_filters
from agents.segments import MAX_CURSOR_OFFSET, RankingQuery, decode_cursor, ranking
from agents.web import MAX_OPEN_LIMIT, Answer, Views, instant
from schemas.contract import REGION_RE
from schemas.validate import valid_public_id
from streams.core.breaches import breaches
from streams.core.days import daily
from streams.core.rankings import RANKED
from streams.core.timebase import now_ms
from streams.pipeline import Pipeline
from streams.serving import segment_counts

log = logging.getLogger(__name__)

#: Publics of the breaching list per page, and leaderboard rows.
SHOWN: Final = 50
LEADERS: Final = 20
PAGE_PARAMETERS: Final = ("region", "level", "theme", "kpi", "offset", "cursor")


def chosen_of(query: Any) -> tuple[render.Chosen, int, int] | str:
    """The page's parameters (segment, leaderboard KPI, list offset, leaderboard offset), or what is
    wrong with them, in Russian."""
    for name in query:
        if name not in PAGE_PARAMETERS:
            return f"Неизвестный параметр «{name}»: ссылка устарела или набрана с ошибкой."
    segment = segment_filters(query, "ru")
    if isinstance(segment, str):
        return segment
    kpi = query.get("kpi") or "er_day_7d"
    if kpi not in RANKED:
        return f"Показатель «{kpi}» не ранжируется; выберите вкладку рейтинга."
    raw_offset = query.get("offset") or "0"
    offset = whole_number(raw_offset, 0, MAX_CURSOR_OFFSET)
    if offset is None:
        return f"Смещение списка «{raw_offset}» — не число; откройте страницу заново."
    if offset + SHOWN > MAX_OPEN_LIMIT:
        return (
            f"Список нарушителей листается до {MAX_OPEN_LIMIT}-го; сузьте выбор регионом, уровнем или темой."
        )
    cursor = 0
    if query.get("cursor"):
        decoded = decode_cursor(query["cursor"])
        if decoded is None:
            return "Ссылка на следующую страницу рейтинга испорчена; откройте рейтинг заново."
        cursor = decoded
    return render.Chosen(*segment.place_or_none(), kpi), offset, cursor


def card_answer(pipeline: Pipeline, public_id: str, at_param: str | None, now: int) -> Answer:
    """``/card/{public_id}`` where the public is held: its card, or a page that says why not."""
    if not valid_public_id(public_id):
        return 400, render.problem_page("Нет такого паблика", f"«{public_id}» — не идентификатор паблика.")
    at = instant(at_param, now)
    if isinstance(at, str):
        return 400, render.problem_page("Неверное время", at)
    info = pipeline.info(public_id)
    st = pipeline.current_state(public_id)
    if st is None and info is None:
        message = f"О паблике {public_id} нет ни записи в реестре, ни событий."
        return 404, render.problem_page("Паблик не найден", message)
    st = st if st is not None else pipeline.state_or_empty(public_id)  # registered, no event yet
    table = pipeline.table_of(st, at)
    profile = pipeline.profile_of(public_id)
    days = daily(st, at)
    breached = {b["kpi"] for b in breaches(table, profile)}
    return 200, render.card(model.card(table, days, profile, breached, info))


def card_busy(reason: str) -> str:
    """The card while no worker can show the public's numbers exactly (a restart or a rebalance)."""
    return render.problem_page(
        "Данные обновляются",
        "Сервис сейчас восстанавливает данные этого паблика после перезапуска или перераспределения "
        f"нагрузки между воркерами. Обновите страницу через {RETRY_AFTER_S} секунд.",
        f"Причина для администратора: {reason}",
    )


#: The notice while a worker reads a backlog or history (``agents.catchup``): its publics' breaches
#: are those of before it, and are judged again once it is read.
CATCHING_UP = (
    "Данные догружаются: воркер читает накопившиеся события, нарушения пересчитаются, когда они будут "
    "прочитаны. Пока список и счётчики могут быть неполными."
)


def register(app: Any, views: Views, pipeline: Pipeline, client: Any, app_id: str) -> None:
    """``GET /`` and ``GET /card/{public_id}``."""

    @app.page("/")
    async def get_overview(web: Any, request: Any) -> Any:
        checked = chosen_of(request.query)
        if isinstance(checked, str):
            page = render.problem_page("Неверная ссылка", checked)
            return web.html(page, status=400, headers=dict(render.HEADERS))
        chosen, offset, cursor = checked
        filters = chosen.segment()
        found, board, counted = await asyncio.gather(
            views.open_breaches(request, filters, offset + SHOWN),
            _leaderboard(client, app_id, chosen, cursor),
            _segments(client, app_id),
        )
        notices = []
        if isinstance(found, str):
            log.warning("the page's breach list is incomplete: %s", found)
            notices.append(
                "Список нарушений сейчас неполон: не все воркеры ответили (идёт перераспределение "
                "или один недоступен). Обновите страницу через несколько секунд."
            )
            found = (0, [], False)
        breaching_total, breaching, catching_up = found
        if catching_up:
            notices.append(CATCHING_UP)
        if isinstance(board, str):
            notices.append(board)
            board = {"items": [], "total": 0, "next_cursor": None, "kpi": chosen.kpi}
        if isinstance(counted, str):
            notices.append(counted)
            counted = []
        known = REGIONS.keys() | {s["region"] for s in counted}
        if chosen.region is not None and counted and chosen.region not in known:
            problem = (
                f"Регион «{chosen.region}» неизвестен: такого субъекта нет, и пабликов с ним нет; "
                "выберите регион из списка."
            )
            return _refused(web, "Неверная ссылка", problem)
        lookup = pipeline.info
        wanted = chosen.filters()
        publics = sum(s["publics"] for s in counted if wanted.admits(s["region"], s["level"], s["theme"]))
        regions = sorted({s["region"] for s in counted if REGION_RE.fullmatch(s["region"])})
        html = render.overview(
            chosen,
            regions,
            publics,
            model.breaching(breaching, lookup, pipeline.profiles),
            breaching_total,
            model.leaders(board, lookup),
            board["total"],
            board["next_cursor"],
            offset=offset,
            shown=SHOWN,
            notice=" ".join(notices) or None,
        )
        return web.html(html, headers=dict(render.HEADERS))

    @app.page("/export.xlsx")
    async def get_export_xlsx(web: Any, request: Any) -> Any:
        return await _export(web, request, views, "xlsx")

    @app.page("/export.csv")
    async def get_export_csv(web: Any, request: Any) -> Any:
        return await _export(web, request, views, "csv")

    @app.page("/card/{public_id}")
    async def get_card(web: Any, request: Any, public_id: str) -> Any:
        return await views.where_held(web, request, public_id, card_answer, busy_page=card_busy)


EXPORT_PARAMETERS: Final = ("region", "level", "theme", "at")
CONTENT_TYPES: Final = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


def _refused(web: Any, title: str, problem: str) -> Any:
    return web.html(render.problem_page(title, problem), status=400, headers=dict(render.HEADERS))


async def _export(web: Any, request: Any, views: Views, kind: str) -> Any:
    """The chosen segment's publics at ``at`` (default now) as a file, or a Russian page saying why not."""
    query = request.query
    unknown = [name for name in query if name not in EXPORT_PARAMETERS]
    if unknown:
        problem = f"Неизвестный параметр «{unknown[0]}»: выгрузка берёт регион, уровень, тему и момент (at)."
        return _refused(web, "Неверная ссылка", problem)
    checked = chosen_of({k: v for k, v in query.items() if k != "at"})
    if isinstance(checked, str):
        return _refused(web, "Неверная ссылка", checked)
    chosen = checked[0]
    at = instant(query.get("at"), now_ms())
    if isinstance(at, str):
        moment = "момент выгрузки (at) — время ISO 8601 с часовым поясом или миллисекунды Unix"
        return _refused(web, "Неверный момент", f"Не подходит {moment} за последние 30 дней: {at}")
    filters = chosen.segment()
    rows = await views.export_rows(request, at, filters)
    if isinstance(rows, str):
        page = render.problem_page(
            "Выгрузка не готова",
            "Выгрузку сейчас не собрать: " + rows + ". Сузьте выбор или повторите через несколько секунд.",
        )
        return web.html(page, status=503, headers={**render.HEADERS, "Retry-After": str(RETRY_AFTER_S)})
    if kind == "xlsx":
        body = export.xlsx_bytes(rows, render.chosen_text(chosen), at)
    else:
        body = export.csv_bytes(rows)
    name = (
        f"gospulse-{chosen.region or 'RU'}-{datetime.fromtimestamp(at / 1000, MOSCOW):%Y-%m-%d-%H%M}.{kind}"
    )
    headers = {**render.HEADERS, "Content-Disposition": f'attachment; filename="{name}"'}
    return web.bytes(body, content_type=CONTENT_TYPES[kind], headers=headers)


async def _leaderboard(client: Any, app_id: str, chosen: render.Chosen, offset: int) -> dict[str, Any] | str:
    if client is None:
        return "Рейтинги недоступны: воркер запущен без Redis (--redis)."
    order = model.RANKINGS[chosen.kpi][1]
    q = RankingQuery(chosen.kpi, chosen.filters(), order, LEADERS, offset)
    try:
        return await ranking(client, app_id, q)
    except Exception as exc:  # Redis down: the page still shows the breaches
        log.warning("the page's leaderboard: Redis did not answer: %r", exc)
        return (
            "Рейтинги временно недоступны: хранилище рейтингов (Redis) не ответило. Обновите страницу позже."
        )


async def _segments(client: Any, app_id: str) -> list[dict[str, Any]] | str:
    if client is None:
        return []
    try:
        counts = await segment_counts(client, app_id)
    except Exception as exc:
        log.warning("the page's segment counts: Redis did not answer: %r", exc)
        return "Число пабликов в сегменте временно неизвестно: хранилище (Redis) не ответило."
    return [
        {"region": region, "level": level, "theme": theme, "publics": body["publics"]}
        for (region, level, theme, _profile), body in counts.items()
    ]
