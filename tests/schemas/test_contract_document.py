"""The contract document (``docs/contract.md``) and the JSON Schemas name the same kinds and fields,
each kind on the same topic: a field added to one and not the other fails here."""

from __future__ import annotations

import json
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOC = (REPO / "docs" / "contract.md").read_text()
SCHEMAS = REPO / "schemas"


def _table(heading: str) -> list[list[str]]:
    """The rows (cells, backticks kept) of the first table after ``heading``."""
    section = DOC.split(heading, 1)[1]
    rows = []
    for line in section.splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
            rows.append(cells)
        elif rows:
            break
    return [r for r in rows[2:]]  # header and rule


def _fields(cell: str) -> set[str]:
    """The field names a cell lists: its backticked names outside parentheses (which explain them)."""
    return set(re.findall(r"`([a-z_]+)`", re.sub(r"\([^)]*\)", "", cell)))


def test_every_kind_its_topic_and_its_fields_agree_with_the_event_schema() -> None:
    schema = json.loads((SCHEMAS / "event.schema.json").read_text())
    from_schema = {
        rule["if"]["properties"]["kind"]["const"]: (
            rule["then"]["$comment"].removeprefix("topic: "),
            set(rule["then"].get("properties", {})),
        )
        for rule in schema["allOf"]
    }
    from_doc = {}
    for kind, topic, fields in _table("### Kinds"):
        from_doc[kind.strip("`")] = (topic, _fields(fields))
    assert from_doc == from_schema
    assert set(from_doc) == set(schema["properties"]["kind"]["enum"])


def test_the_fields_of_every_event_agree_with_the_event_schema() -> None:
    schema = json.loads((SCHEMAS / "event.schema.json").read_text())
    fields = {row[0].strip("`") for row in _table("### Fields of every event")}
    assert fields == set(schema["properties"]) == set(schema["required"])


def test_the_registry_fields_agree_with_the_public_schema() -> None:
    schema = json.loads((SCHEMAS / "public.schema.json").read_text())
    rows = _table("### The registry of publics")
    fields = {row[0].strip("`") for row in rows}
    optional = {row[0].strip("`") for row in rows if "optional" in row[1] or "when absent" in row[1]}
    assert fields == set(schema["properties"])
    assert fields - optional == set(schema["required"])
    levels = re.findall(r"`([a-z]+)`", dict((r[0].strip("`"), r[1]) for r in rows)["level"])
    themes = re.findall(r"`([a-z]+)`", dict((r[0].strip("`"), r[1]) for r in rows)["theme"])
    assert levels == schema["properties"]["level"]["enum"]
    assert themes == schema["properties"]["theme"]["enum"]
