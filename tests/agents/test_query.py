"""One reading of a whole number for every numeric parameter: what ``isdigit`` lets through and
``int`` refuses ("²") is a 400 that names the parameter, never a 500 or a Redis error."""

from __future__ import annotations

import base64

import pytest

from agents.page.views import chosen_of
from agents.query import whole_number
from agents.segments import decode_cursor, ranking_query
from agents.web import open_breach_query
from streams.core.profiles import BUILT_IN_PROFILES


@pytest.mark.parametrize("text", ["²", "٣", "1²", "", "-1", "+1", " 1", "1e3", "9" * 40])
def test_what_is_not_ascii_digits_in_bounds_is_no_whole_number(text: str) -> None:
    assert whole_number(text, 0, 10**9) is None


def test_ascii_digits_in_bounds_are_read() -> None:
    assert whole_number("0", 0, 5) == 0 and whole_number("5", 0, 5) == 5 and whole_number("6", 0, 5) is None


def cursor_of(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize("text", ["o²", "o" + "9" * 30, "o10000001"])
def test_a_cursor_of_no_real_page_is_refused(text: str) -> None:
    assert decode_cursor(cursor_of(text)) is None
    got = ranking_query({"kpi": "posts_7d", "cursor": cursor_of(text)})
    assert isinstance(got, str) and got.startswith("cursor:")


def test_limits_and_offsets_of_superscripts_are_named() -> None:
    assert str(ranking_query({"kpi": "posts_7d", "limit": "²"})).startswith("limit: '²'")
    assert str(open_breach_query({"limit": "²"}, BUILT_IN_PROFILES)).startswith("limit: '²'")
    assert "Смещение списка «²»" in str(chosen_of({"offset": "²"}))
