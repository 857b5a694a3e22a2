"""The operators' manual's settings table is the settings table in code, rendered: it cannot drift."""

from __future__ import annotations

from pathlib import Path

from streams.settings import SETTINGS, WORKER_SETTINGS

README = Path(__file__).resolve().parents[2] / "docs" / "operators.md"


def rendered() -> str:
    rows = ["| flag | environment | default | what it sets |", "|---|---|---|---|"]
    for name in WORKER_SETTINGS:
        s = SETTINGS[name]
        shown = "—" if s.shown_default is None else f"`{s.shown_default}`"
        rows.append(f"| `{s.option}` | `{s.variable}` | {shown} | {s.help} |")
    return "\n".join(rows)


def test_the_operators_manual_lists_every_worker_setting_as_the_code_defines_it() -> None:
    text = README.read_text()
    table = text.split("<!-- settings -->\n", 1)[1].split("\n<!-- /settings -->", 1)[0].strip()
    assert table == rendered(), "regenerate: python -m tests.streams.test_settings_doc"


if __name__ == "__main__":
    text = README.read_text()
    head, rest = text.split("<!-- settings -->\n", 1)
    README.write_text(
        head
        + "<!-- settings -->\n"
        + rendered()
        + "\n"
        + "<!-- /settings -->"
        + rest.split("<!-- /settings -->", 1)[1]
    )
