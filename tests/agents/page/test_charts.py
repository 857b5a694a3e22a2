"""The card's small charts: one bar per known day, losses below the line, the norm dashed."""

from __future__ import annotations

import re

from agents.page.charts import BAD, bars


def test_one_bar_per_known_value_each_with_its_title() -> None:
    svg = bars([1, None, 3, 0], ["a", "b", "c", "d"], "Публикации")
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert re.findall(r"<title>([^<]*)</title>", svg) == ["a", "c", "d"]
    heights = [float(h) for h in re.findall(r'height="([\d.]+)"', svg)[:3]]
    assert heights[1] > heights[0] > heights[2]  # 3 taller than 1, taller than 0


def test_losses_hang_below_a_zero_line_in_red() -> None:
    svg = bars([2, -2], ["up", "down"], "Подписчики")
    rects = re.findall(r"<rect [^>]*>", svg)
    assert BAD not in rects[0] and BAD in rects[1]
    assert "<line" in svg  # the zero line
    floor = bars([0, 0], ["a", "b"], "Подписчики")
    ys = {float(y) + float(h) for y, h in re.findall(r'y="([\d.]+)" width="[\d.]+" height="([\d.]+)"', floor)}
    assert ys == {64.0}  # all zero: the bars sit on the floor, not under the top edge


def test_the_norm_is_drawn_and_text_is_escaped() -> None:
    svg = bars([1.0], ['<b>"x"</b>'], "a & b", limit=4.0)
    assert 'class="norm"' in svg
    assert "<b>" not in svg and "&lt;b&gt;" in svg and 'aria-label="a &amp; b"' in svg
    assert bars([], [], "empty").count("<rect") == 0
