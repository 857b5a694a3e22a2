"""The one reading of a whole number in a query parameter (limit, offset, a cursor's offset), and
the one cursor format (opaque URL-safe base64 of a tag and a body).

``str.isdigit`` accepts "²" and "٣", which ``int`` then refuses or reads as another digit: a
parameter is a whole number only when it is ASCII digits, of a sane length, within its bounds.
"""

from __future__ import annotations

import base64
from typing import Final

#: More digits than any bound here has: a longer text is refused before it is converted.
_MAX_DIGITS: Final = 12


def whole_number(text: str | None, low: int, high: int) -> int | None:
    """``text`` as an int in ``[low, high]``, else None."""
    if text is None or not text or len(text) > _MAX_DIGITS or not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if low <= value <= high else None


def encode_cursor(tag: str, body: str) -> str:
    """An opaque cursor: ``tag`` (one letter saying what kind) and ``body``, URL-safe base64."""
    return base64.urlsafe_b64encode(f"{tag}{body}".encode()).decode().rstrip("=")


def decode_cursor(tag: str, cursor: str) -> str | None:
    """The body of a cursor ``encode_cursor(tag, …)`` gave, else None (not base64, or another kind)."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    return text[len(tag) :] if text.startswith(tag) else None
