"""The curators' page as HTML: pure functions from the page's models to text.

Server-rendered with no script and no build step: a curator opens a link from an alert on a phone
and reads it at once. Every dynamic text is escaped here, and nowhere else.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Final
from urllib.parse import quote, urlencode

from agents.page import charts as svg
from agents.page import words
from agents.page.model import RANKINGS, BreachingPublic, Card, Leader
from agents.page.regions import region_name
from agents.segment_filter import Filters
from schemas.contract import LEVELS, THEMES

STYLE: Final = """
*{box-sizing:border-box}
body{font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1b1f24;
background:#f3f5f8;overflow-wrap:anywhere}
header{background:#1f3b63;color:#fff;padding:10px 16px}
header a{color:#fff;text-decoration:none;font-weight:600}
header small{opacity:.8;margin-left:8px}
main{max-width:980px;margin:0 auto;padding:8px 12px 32px}
h1{font-size:1.35em;margin:12px 0 4px}
h2{font-size:1.1em;margin:0 0 8px}
section{background:#fff;border-radius:8px;padding:12px 14px;margin:12px 0;box-shadow:0 1px 2px #0002}
form.filters{display:flex;flex-wrap:wrap;gap:8px;align-items:end}
form.filters label{display:flex;flex-direction:column;font-size:.85em;color:#555;flex:1 1 150px}
select,button{font:inherit;padding:6px 8px;border:1px solid #bbb;border-radius:6px;background:#fff}
button{background:#1f3b63;color:#fff;border-color:#1f3b63;cursor:pointer}
ul.breaching{list-style:none;margin:0;padding:0}
ul.breaching>li{border-top:1px solid #e6e8eb;padding:8px 0}
ul.breaching>li:first-child{border-top:0}
ul.problems{margin:4px 0 0;padding-left:20px}
.problem{color:#b3261e}
.since,.segment,.muted{color:#666;font-size:.88em}
a{color:#1f5aa6}
nav.kpis{display:flex;flex-wrap:wrap;gap:6px;margin-bottom:8px}
nav.kpis a{padding:4px 10px;border-radius:14px;background:#e8eef7;text-decoration:none}
nav.kpis a.current{background:#1f3b63;color:#fff}
table{width:100%;border-collapse:collapse}
th,td{text-align:left;padding:6px 4px;border-bottom:1px solid #eceef1;vertical-align:top}
td.num,th.num{text-align:right;white-space:nowrap}
.status-bad{color:#b3261e;font-weight:600}
.status-ok{color:#2b7a4b}
.status-off{color:#888}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(260px,1fr));gap:14px}
.charts figure{margin:0}
.charts figcaption{font-size:.9em;margin-bottom:4px}
svg.chart{width:100%;height:64px;background:#f7f9fb;border-radius:4px;display:block}
.more{margin-top:8px}
@media (max-width:600px){
table.kpis thead{display:none}
table.kpis tr{display:grid;grid-template-columns:1fr auto;border-bottom:1px solid #eceef1;padding:6px 0}
table.kpis td{border:0;padding:1px 4px}
table.kpis td.norm{color:#666;font-size:.88em}
}
"""

#: What every HTML answer carries: the page's one inline stylesheet is allowed by its hash, and
#: nothing else (no script, no frame around it, no other origin's image, form or base).
HEADERS: Final[Mapping[str, str]] = {
    "Content-Security-Policy": (
        "default-src 'none'; "
        f"style-src 'sha256-{base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()}'; "
        "img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}

#: How deep the breaching list pages (``agents.web.MAX_OPEN_LIMIT``).
MAX_LISTED: Final = 1000
LEVEL_CHOICES: Final = tuple((level, words.LEVELS_RU[level]) for level in LEVELS)
THEME_CHOICES: Final = tuple((theme, words.THEMES_RU[theme]) for theme in THEMES)


@dataclass(frozen=True)
class Chosen:
    """The segment and leaderboard a curator chose (``None``: any)."""

    region: str | None = None
    level: str | None = None
    theme: str | None = None
    kpi: str = "er_day_7d"

    def filters(self) -> Filters:
        return Filters(self.region, self.level, self.theme)

    def segment(self) -> dict[str, str]:
        """The chosen region, level and theme, those chosen only (the API's filters)."""
        return self.filters().chosen()

    def query(self, **changes: str | None) -> str:
        params = {"region": self.region, "level": self.level, "theme": self.theme, "kpi": self.kpi}
        params.update(changes)
        return urlencode({k: v for k, v in params.items() if v})


def page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="ru"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)} — gospulse</title><style>{STYLE}</style></head><body>"
        '<header><a href="/">gospulse</a><small>KPI госпабликов</small></header>'
        f"<main>{body}</main></body></html>"
    )


def named(name: str) -> str:
    """A public's name as its admins typed it, isolated: a right-to-left mark or override inside it
    cannot reorder the text around it."""
    return f"<bdi>{escape(name)}</bdi>"


def card_href(public_id: str) -> str:
    return f"/card/{quote(public_id, safe=':')}"


def _select(name: str, label: str, choices: Sequence[tuple[str, str]], chosen: str | None) -> str:
    options = [f'<option value="">{escape("все")}</option>']
    for value, text in choices:
        selected = " selected" if value == chosen else ""
        options.append(f'<option value="{escape(value)}"{selected}>{escape(text)}</option>')
    return f'<label>{escape(label)}<select name="{name}">{"".join(options)}</select></label>'


def filters_form(chosen: Chosen, regions: Sequence[str]) -> str:
    region_choices = sorted(
        ((r, region_name(r)) for r in {*regions, *filter(None, [chosen.region])}), key=lambda c: c[1]
    )
    return (
        '<form class="filters" method="get" action="/">'
        + _select("region", "Регион", region_choices, chosen.region)
        + _select("level", "Уровень", LEVEL_CHOICES, chosen.level)
        + _select("theme", "Тема", THEME_CHOICES, chosen.theme)
        + f'<input type="hidden" name="kpi" value="{escape(chosen.kpi)}">'
        + "<button>Показать</button></form>"
    )


def chosen_text(chosen: Chosen) -> str:
    parts = [
        region_name(chosen.region) if chosen.region else "вся страна",
        words.LEVELS_RU[chosen.level] if chosen.level else "все уровни",
        words.THEMES_RU[chosen.theme] if chosen.theme else "все темы",
    ]
    return " · ".join(parts)


def breaching_section(
    rows: Sequence[BreachingPublic], total: int, shown: int, chosen: Chosen, offset: int
) -> str:
    """The publics in breach from ``offset``: ``rows`` are the worst ``offset + shown`` of ``total``."""
    if not total:
        return (
            '<section id="breaching"><h2>Нарушают KPI сейчас</h2>'
            '<p class="muted">В выбранном сегменте нарушений нет.</p></section>'
        )
    items = []
    for row in rows[offset : offset + shown]:
        problems = "".join(
            f'<li data-kpi="{p.kpi}"><span class="problem">{escape(p.text)}</span> '
            f'<span class="since">{escape(p.since)}</span></li>'
            for p in row.problems
        )
        items.append(
            f'<li class="public" data-public="{escape(row.public_id)}">'
            f'<a href="{escape(card_href(row.public_id))}">{named(row.name)}</a>'
            f'<div class="segment">{escape(row.segment)}</div><ul class="problems">{problems}</ul></li>'
        )
    more = ""
    if offset + shown < total and offset + 2 * shown > MAX_LISTED:
        more = (
            f'<p class="more muted">Листать можно до {MAX_LISTED}-го паблика: '
            "сузьте выбор регионом, уровнем или темой.</p>"
        )
    elif offset + shown < total:
        href = "/?" + chosen.query(offset=str(offset + shown)) + "#breaching"
        following = min(shown, total - offset - shown)
        more = f'<p class="more"><a href="{escape(href)}">Следующие {following} →</a></p>'
    heading = f"Нарушают KPI сейчас: {words.counted(total, words.PUBLIC)}"
    listed = f'<ul class="breaching">{"".join(items)}</ul>'
    return f'<section id="breaching"><h2>{escape(heading)}</h2>{listed}{more}</section>'


#: Why a public of the segment has no score for a ranked KPI (and is left out of its leaderboard).
UNRANKED_WHY: Final = {
    "er_day_7d": "не известно число подписчиков",
    "response_wh_p90_s_7d": "за 7 дней не было ни одного ответа жителям",
    "posts_7d": "ещё не пришло ни одного события",
    "net_subscribers_7d": "ещё не пришло ни одного события",
    "overdue_wh": "жители не писали комментариев за 7 дней",
}


def leaderboard_section(
    rows: Sequence[Leader], chosen: Chosen, total: int, next_cursor: str | None, publics: int | None = None
) -> str:
    """The leaderboard; ``publics`` (the segment's) says how many are left out for lack of data."""
    tabs = "".join(
        f'<a href="{escape("/?" + chosen.query(kpi=kpi) + "#leaders")}"'
        f"{' class=current' if kpi == chosen.kpi else ''}>{escape(name)}</a>"
        for kpi, (name, _) in RANKINGS.items()
    )
    if not rows:
        body = '<p class="muted">Пока некого ранжировать: в сегменте нет пабликов с этим показателем.</p>'
    else:
        lines = "".join(
            f'<tr data-public="{escape(r.public_id)}"><td class="num">{r.rank}</td>'
            f'<td><a href="{escape(card_href(r.public_id))}">{named(r.name)}</a></td>'
            f'<td class="num">{escape(r.value)}</td></tr>'
            for r in rows
        )
        body = (
            f'<table class="leaders"><thead><tr><th class="num">№</th><th>Паблик</th>'
            f'<th class="num">{escape(RANKINGS[chosen.kpi][0])}</th></tr></thead>'
            f"<tbody>{lines}</tbody></table>"
        )
        if next_cursor:
            href = "/?" + chosen.query(cursor=next_cursor) + "#leaders"
            body += f'<p class="more"><a href="{escape(href)}">Дальше →</a></p>'
    counted = words.counted(total, words.PUBLIC)
    left = ""
    if publics is not None and publics > total:
        without = words.counted(publics - total, words.PUBLIC)
        left = f" Без данных и не ранжированы: {without} ({UNRANKED_WHY[chosen.kpi]})."
    return (
        f'<section id="leaders"><h2>Лучшие в сегменте</h2><nav class="kpis">{tabs}</nav>'
        f'<p class="muted">Ранжировано {escape(counted)}; лучшие — первыми.{escape(left)}</p>{body}</section>'
    )


def overview(
    chosen: Chosen,
    regions: Sequence[str],
    publics: int,
    breaching: Sequence[BreachingPublic],
    breaching_total: int,
    leaders: Sequence[Leader],
    ranked_total: int,
    next_cursor: str | None,
    offset: int = 0,
    shown: int = 50,
    notice: str | None = None,
) -> str:
    """``/``: the filters, the breaching publics of the chosen segment and its leaderboard."""
    summary = (
        f"{chosen_text(chosen)}: {words.counted(publics, words.PUBLIC)} под наблюдением, "
        f"нарушают хотя бы один KPI — {words.number(breaching_total)}."
    )
    warn = f'<p class="problem" role="alert">{escape(notice)}</p>' if notice else ""
    segment = urlencode(chosen.segment())
    download = (
        '<p class="export muted">Выгрузить сегмент со всеми KPI на этот момент: '
        f'<a href="{escape("/export.xlsx?" + segment)}" download>таблица XLSX</a> · '
        f'<a href="{escape("/export.csv?" + segment)}" download>CSV</a></p>'
    )
    body = (
        f"<h1>Госпаблики: нарушения и лучшие практики</h1>"
        f'<section>{filters_form(chosen, regions)}<p class="summary">{escape(summary)}</p>'
        f"{download}{warn}</section>"
        + breaching_section(breaching, breaching_total, shown, chosen, offset)
        + leaderboard_section(leaders, chosen, ranked_total, next_cursor, publics)
    )
    return page("Нарушения и лучшие практики", body)


def card(c: Card) -> str:
    """``/card/{public_id}``: a public's KPIs against its norms and its last 30 days."""
    rows = "".join(
        f'<tr data-kpi="{r.kpi}" class="status-row"><td>{escape(r.name)}</td>'
        f'<td class="num value">{escape(r.value)}</td><td class="norm">{escape(r.norm)}</td>'
        f'<td class="status-{r.status}">{_status(r.status)}</td></tr>'
        for r in c.kpis
    )
    figures = "".join(
        f'<figure data-chart="{i}"><figcaption><b>{escape(ch.title)}</b><br>'
        f'<span class="muted">{escape(ch.summary)}</span></figcaption>'
        + svg.bars(ch.values, ch.labels, f"{ch.title}, {ch.summary}", limit=ch.limit)
        + "</figure>"
        for i, ch in enumerate(c.charts)
    )
    link = f' · <a href="{escape(c.link)}" rel="noopener">страница паблика</a>' if c.link else ""
    body = (
        f'<h1 data-public="{escape(c.public_id)}">{named(c.name)}</h1>'
        f'<p class="segment">{escape(c.segment)} · профиль KPI «{escape(c.profile)}»{link}</p>'
        f'<section id="kpis"><h2>KPI на {escape(c.at)}</h2><table class="kpis"><thead><tr><th>Показатель</th>'
        f'<th class="num">Сейчас</th><th>Норма</th><th></th></tr></thead>'
        f"<tbody>{rows}</tbody></table></section>"
        f'<section id="days"><h2>Последние 30 дней</h2><p class="muted">{escape(c.period)}, по дням; '
        "наведите на столбец или коснитесь его, чтобы увидеть число.</p>"
        f'<div class="charts">{figures}</div></section>'
        '<p><a href="/">← ко всем пабликам</a></p>'
    )
    return page(f"\u2068{c.name}\u2069", body)  # isolated in the title too (FSI … PDI)


def _status(status: str) -> str:
    return {"bad": "✗ нарушение", "ok": "✓ в норме", "off": "не проверяется"}[status]


def problem_page(title: str, message: str, status_hint: str = "") -> str:
    """A page that says what went wrong and what to do, in words."""
    hint = f'<p class="muted">{escape(status_hint)}</p>' if status_hint else ""
    return page(
        title,
        f"<h1>{escape(title)}</h1><section><p>{escape(message)}</p>{hint}"
        '<p><a href="/">← ко всем пабликам</a></p></section>',
    )
