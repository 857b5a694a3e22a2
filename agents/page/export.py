"""A segment's report to take away: every public's KPIs, norms and verdicts at one moment, as a
spreadsheet (XLSX, numbers as numbers) or CSV, with Russian headers.

ЦУР report upward in spreadsheets. A row is what the card shows, in the units a person reads (hours,
per cent), so the file and the page agree; each worker builds the rows of its own publics
(``row_of``), the worker asked gathers them and writes the file.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from agents.page import words
from agents.page.model import CARD_ORDER, MONTHS, MOSCOW
from agents.page.regions import region_name
from streams.core.breaches import in_breach, kpi_values, thresholds
from streams.core.profiles import Profile
from streams.core.registry import PublicInfo

#: Each KPI's unit in the file, and the factor from its value (seconds for the two durations).
UNITS: Final = {
    "posting": ("публикаций", 1.0),
    "silence": ("ч", 1 / 3600),
    "response_time": ("рабочих ч", 1 / 3600),
    "overdue": ("комментариев", 1.0),
    "engagement": ("% в день", 1.0),
    "subscribers": ("%", 1.0),
}
BREACH: Final = "нарушение"
OK: Final = "в норме"
OFF: Final = "не проверяется"
NO_DATA: Final = "нет данных"
#: The columns before the KPIs'.
HEAD: Final = ("Паблик", "Идентификатор", "Регион", "Уровень", "Тема", "Профиль KPI")


def kpi_header(kpi: str) -> tuple[str, str, str]:
    unit = UNITS[kpi][0]
    name = words.KPI_NAMES[kpi]
    return f"{name}, {unit}", f"{name}: норма, {unit}", f"{name}: оценка"


def columns() -> list[str]:
    return [*HEAD, *(c for kpi in CARD_ORDER for c in kpi_header(kpi))]


def _scaled(kpi: str, value: float | None) -> float | None:
    return None if value is None else round(value * UNITS[kpi][1], 4)


def row_of(table: Mapping[str, Any], profile: Profile, info: PublicInfo | None) -> dict[str, Any]:
    """One public's row (JSON, for a worker to send the one gathering them)."""
    at = table["at"]
    values, limits = kpi_values(dict(table), at), thresholds(profile)
    kpis = {}
    for kpi in CARD_ORDER:
        value, limit = values[kpi], limits[kpi]
        if limit is None:
            verdict = OFF
        elif in_breach(kpi, value, limit):
            verdict = BREACH
        else:
            verdict = OK if value is not None else NO_DATA
        kpis[kpi] = [_scaled(kpi, value), _scaled(kpi, limit), verdict]
    return {
        "public_id": table["public_id"],
        "name": info.name if info is not None else table["public_id"],
        "region": table["region"],
        "level": table["level"],
        "theme": table["theme"],
        "profile": profile.shown,
        "kpis": kpis,
    }


def _cells(row: Mapping[str, Any]) -> list[Any]:
    level, theme = row["level"], row["theme"]
    return [
        row["name"],
        row["public_id"],
        region_name(row["region"]) if row["region"] else "",
        words.LEVELS_RU.get(level, level or ""),
        words.THEMES_RU.get(theme, theme or ""),
        row["profile"],
        *(cell for kpi in CARD_ORDER for cell in row["kpis"][kpi]),
    ]


def moment(at: int) -> str:
    """«6 декабря 2026, 14:05 (МСК)»: the file's moment, its zone named."""
    t = datetime.fromtimestamp(at / 1000, MOSCOW)
    return f"{t.day} {MONTHS[t.month - 1]} {t.year}, {t:%H:%M} (МСК)"


def summary(rows: Sequence[Mapping[str, Any]]) -> list[list[Any]]:
    """Per KPI: checked, in breach, their share, without data, and the median value."""
    out = []
    for kpi in CARD_ORDER:
        cells = [row["kpis"][kpi] for row in rows]
        checked = [c for c in cells if c[2] != OFF]
        breached = sum(1 for c in checked if c[2] == BREACH)
        known = [c[0] for c in cells if c[0] is not None]
        out.append(
            [
                words.KPI_NAMES[kpi],
                UNITS[kpi][0],
                len(checked),
                breached,
                round(breached / len(checked) * 100, 1) if checked else None,
                sum(1 for c in checked if c[2] == NO_DATA),
                round(statistics.median(known), 4) if known else None,
            ]
        )
    return out


SUMMARY_HEAD: Final = (
    "Показатель",
    "Единица",
    "Проверяется у пабликов",
    "Нарушают",
    "Доля нарушающих, %",
    "Нет данных",
    "Медиана",
)


def _csv_cell(cell: Any) -> Any:
    if cell is None:
        return ""
    return str(cell).replace(".", ",") if isinstance(cell, float) else cell


def csv_bytes(rows: Sequence[Mapping[str, Any]]) -> bytes:
    """The rows as CSV for a Russian spreadsheet: UTF-8 with a byte-order mark, «;» between fields,
    decimal commas (what a spreadsheet set to Russian opens as numbers)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(columns())
    for row in rows:
        writer.writerow(
            [
                str(c).replace(".", ",") if isinstance(c, float) else "" if c is None else c
                for c in _cells(row)
            ]
        )
    return ("\ufeff" + out.getvalue()).encode()


def xlsx_bytes(rows: Sequence[Mapping[str, Any]], segment: str, at: int) -> bytes:
    """The rows as a workbook: «Паблики» (a row per public, numbers as numbers, breaches marked) and
    «Сводка» (the segment, the moment and a line per KPI)."""
    import xlsxwriter  # only where a file is asked for

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    bold = book.add_format({"bold": True, "text_wrap": True, "valign": "top"})
    bad = book.add_format({"font_color": "#B3261E", "bold": True})
    sheet = book.add_worksheet("Паблики")
    header = columns()
    sheet.write_row(0, 0, header, bold)
    sheet.freeze_panes(1, 1)
    sheet.set_column(0, 0, 48)
    sheet.set_column(1, 5, 16)
    sheet.set_column(6, len(header) - 1, 14)
    for r, row in enumerate(rows, start=1):
        for c, cell in enumerate(_cells(row)):
            if cell is None:
                continue
            if cell == BREACH:
                sheet.write_string(r, c, cell, bad)
            elif isinstance(cell, (int, float)):
                sheet.write_number(r, c, cell)
            else:
                sheet.write_string(r, c, str(cell))
    if rows:
        sheet.autofilter(0, 0, len(rows), len(header) - 1)
    totals = book.add_worksheet("Сводка")
    totals.set_column(0, 0, 44)
    totals.set_column(1, 6, 16)
    totals.write_row(0, 0, ["Сегмент", segment], bold)
    totals.write_row(1, 0, ["Момент", moment(at)])
    totals.write_row(2, 0, ["Пабликов", len(rows)])
    totals.write_row(4, 0, SUMMARY_HEAD, bold)
    for r, line in enumerate(summary(rows), start=5):
        for c, cell in enumerate(line):
            if cell is not None:
                totals.write(r, c, cell)
    book.close()
    return buffer.getvalue()
