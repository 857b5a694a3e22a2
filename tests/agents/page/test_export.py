"""A segment's report: each public's row says what its card says, in hours and per cent; the
workbook opens with Russian headers, numbers as numbers and a summary per KPI; the CSV opens in a
spreadsheet set to Russian."""

from __future__ import annotations

import csv
import io

import openpyxl

from agents.page import export, model, words
from streams.core.breaches import breaches
from streams.core.engine import Engine
from streams.core.profiles import BUILT_IN
from streams.core.registry import PublicInfo
from streams.core.table import Segment
from tests.logs import BASE, DAY, HOUR, citizen, counted, published

AT = BASE + 10 * DAY + 10 * HOUR


def rows() -> list[dict]:
    """Two publics: a lively school and a page silent for five days that lost subscribers."""
    engine = Engine()
    infos = {
        "vk:-1": PublicInfo(
            "vk:-1", "Средняя школа № 5, г. Арзамас", Segment("RU-NIZ", "municipal", "education")
        ),
        "vk:-2": PublicInfo("vk:-2", "Дом культуры с. Дивеево", Segment("RU-NIZ", "settlement", "culture")),
    }
    lively = [counted(BASE + 2 * DAY, 1000, public_id="vk:-1")]
    lively += [published(AT - d * DAY - HOUR, f"p{d}", public_id="vk:-1") for d in range(4)]
    lively += [citizen(AT - 2 * HOUR, "c1", post="p0", public_id="vk:-1")]
    silent = [
        counted(BASE + 2 * DAY, 500, public_id="vk:-2"),
        published(AT - 5 * DAY, "q", public_id="vk:-2"),
    ]
    out = []
    for public_id, events in (("vk:-1", lively), ("vk:-2", silent)):
        engine.apply_all(public_id, events)
        table = engine.table_of(engine.get(public_id), AT)
        table.update(
            region=infos[public_id].segment.region,
            level=infos[public_id].segment.level,
            theme=infos[public_id].segment.theme,
        )
        out.append((table, export.row_of(table, BUILT_IN, infos[public_id])))
    return out


def test_a_row_says_what_the_card_says_in_the_files_units() -> None:
    for table, row in rows():
        breached = {b["kpi"] for b in breaches(table, BUILT_IN)}
        card = {r.kpi: r.status for r in model.kpi_rows(table, BUILT_IN, breached)}
        verdicts = {kpi: cells[2] for kpi, cells in row["kpis"].items()}
        for kpi, status in card.items():
            expected = {"bad": export.BREACH, "off": export.OFF}.get(status)
            assert verdicts[kpi] == expected if expected else verdicts[kpi] in (export.OK, export.NO_DATA)
    (_, lively), (_, silent) = rows()
    assert lively["kpis"]["posting"] == [4.0, 3.0, export.OK]
    assert silent["kpis"]["silence"] == [120.0, 72.0, export.BREACH]  # hours, against its norm in hours
    assert silent["kpis"]["posting"][2] == export.BREACH
    assert lively["kpis"]["response_time"][0] is None and lively["kpis"]["response_time"][2] == export.NO_DATA


def test_the_workbook_opens_with_russian_headers_numbers_and_a_summary_per_kpi() -> None:
    data = [row for _, row in rows()]
    book = openpyxl.load_workbook(io.BytesIO(export.xlsx_bytes(data, "Нижегородская область", AT)))
    assert book.sheetnames == ["Паблики", "Сводка"]
    sheet = book["Паблики"]
    header = [c.value for c in sheet[1]]
    assert header[:6] == list(export.HEAD) and "С последней публикации, ч" in header
    line = {header[i]: c.value for i, c in enumerate(sheet[3])}
    assert line["Паблик"] == "Дом культуры с. Дивеево" and line["Регион"] == "Нижегородская область"
    assert (line["Уровень"], line["Тема"]) == (words.LEVELS_RU["settlement"], words.THEMES_RU["culture"])
    assert line["С последней публикации, ч"] == 120 and isinstance(
        line["С последней публикации, ч"], (int, float)
    )
    assert line["С последней публикации: оценка"] == "нарушение"
    totals = book["Сводка"]
    assert totals["B1"].value == "Нижегородская область" and totals["B3"].value == 2
    assert "(МСК)" in totals["B2"].value
    by_kpi = {r[0].value: [c.value for c in r] for r in totals.iter_rows(min_row=6)}
    posting = by_kpi["Публикации за 7 дней"]
    assert posting[2:6] == [2, 1, 50, 0]  # checked, in breach, their share %, without data


def test_the_csv_opens_in_a_russian_spreadsheet() -> None:
    data = [row for _, row in rows()]
    raw = export.csv_bytes(data)
    assert raw.startswith("\ufeff".encode())
    lines = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert lines[0] == export.columns() and len(lines) == 3
    line = dict(zip(lines[0], lines[2], strict=True))
    assert line["С последней публикации, ч"] == "120,0"  # a decimal comma
