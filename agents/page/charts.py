"""Small inline SVG charts of a public's 30 days: drawn on the server, no script, readable on a phone.

Pure: a series in, one ``<svg>`` string out. Each bar carries a ``<title>`` (the day and its value in
words), so a tap or a hover tells the number, and the chart's ``aria-label`` says what it shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Final

WIDTH: Final = 300
HEIGHT: Final = 64
GOOD: Final = "#2b7a4b"
BAD: Final = "#b3261e"
PLAIN: Final = "#3867a8"


def bars(
    values: Sequence[float | None],
    labels: Sequence[str],
    label: str,
    color: str = PLAIN,
    limit: float | None = None,
) -> str:
    """One bar per value (``None``: no bar) on a zero line, negatives below it in red; ``limit``
    draws the norm as a dashed line. ``labels`` are the bars' titles, one per value."""
    known = [v for v in values if v is not None]
    top = max([0.0, *known, *([limit] if limit is not None else [])])
    bottom = min([0.0, *known])
    if top == bottom == 0:
        top = 1.0  # all zero: the bars sit on the floor
    height = (top - bottom) or 1.0
    step = WIDTH / max(len(values), 1)
    zero = HEIGHT * top / height

    def y(v: float) -> float:
        return HEIGHT * (top - v) / height

    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" preserveAspectRatio="none" '
        f'role="img" aria-label="{escape(label)}">'
    ]
    for i, (value, title) in enumerate(zip(values, labels, strict=True)):
        if value is None:
            continue
        top_y, low_y = sorted((y(value), zero))
        if low_y - top_y < 0.5:  # a zero still shows, as a sliver on its side of the line
            top_y, low_y = (zero - 0.5, zero) if value >= 0 else (zero, zero + 0.5)
        fill = BAD if value < 0 else color
        parts.append(
            f'<rect x="{i * step + step * 0.15:.1f}" y="{top_y:.1f}" width="{step * 0.7:.1f}" '
            f'height="{low_y - top_y:.1f}" fill="{fill}"><title>{escape(title)}</title></rect>'
        )
    parts.append(
        f'<line x1="0" x2="{WIDTH}" y1="{zero:.1f}" y2="{zero:.1f}" stroke="#999" stroke-width="0.5"/>'
    )
    if limit is not None:
        parts.append(
            f'<line class="norm" x1="0" x2="{WIDTH}" y1="{y(limit):.1f}" y2="{y(limit):.1f}" '
            f'stroke="{BAD}" stroke-width="1" stroke-dasharray="4 3"/>'
        )
    parts.append("</svg>")
    return "".join(parts)
