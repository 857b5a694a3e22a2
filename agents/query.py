"""The one reading of a whole number in a query parameter (limit, offset, a cursor's offset).

``str.isdigit`` accepts "²" and "٣", which ``int`` then refuses or reads as another digit: a
parameter is a whole number only when it is ASCII digits, of a sane length, within its bounds.
"""

from __future__ import annotations

from typing import Final

#: More digits than any bound here has: a longer text is refused before it is converted.
_MAX_DIGITS: Final = 12


def whole_number(text: str | None, low: int, high: int) -> int | None:
    """``text`` as an int in ``[low, high]``, else None."""
    if text is None or not text or len(text) > _MAX_DIGITS or not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if low <= value <= high else None
