"""JSON Schema documents for producers, built from ``schemas.contract`` so they cannot drift from it.

``python -m schemas.documents`` rewrites ``schemas/*.schema.json``; a test fails when they are stale.
What JSON Schema cannot say is in each document's description: integers are written without a
fraction or exponent, a batch is one public's events, and ``occurred_at`` may not run more than
5 minutes ahead of the processor's clock.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import orjson

from schemas.contract import (
    AUTHORS,
    BATCH_MAX_EVENTS,
    ID_MAX_CHARS,
    KINDS,
    LEVELS,
    MAX_INTEGER,
    MAX_VALUE_BYTES,
    MIN_OCCURRED_AT,
    PUBLIC_ID_PATTERN,
    REGION_PATTERN,
    THEMES,
    VERSION,
)

DRAFT = "https://json-schema.org/draft/2020-12/schema"
EVENT_ID = "urn:gospulse:contract:v1:event"
MESSAGE_ID = "urn:gospulse:contract:v1:message"
PUBLIC_ID = "urn:gospulse:contract:v1:public"
HERE = Path(__file__).parent

_INTEGER_NOTE = "Integers are JSON numbers without a fraction or exponent (1, never 1.0, 1e0 or true)."

_ID: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": ID_MAX_CHARS}
_FIELD_TYPES: dict[str, dict[str, Any]] = {
    "post_id": _ID,
    "comment_id": _ID,
    "views": {
        "type": "integer",
        "minimum": 0,
        "maximum": MAX_INTEGER,
        "description": "cumulative view count at occurred_at",
    },
    "count": {
        "type": "integer",
        "minimum": 0,
        "maximum": MAX_INTEGER,
        "description": "subscriber count at occurred_at",
    },
    "author": {"enum": list(AUTHORS)},
    "reply_to_comment_id": {"oneOf": [_ID, {"type": "null"}]},
}
_OPTIONAL = {"reply_to_comment_id"}


def event_schema() -> dict[str, Any]:
    per_kind = []
    for kind, (topic, fields) in KINDS.items():
        per_kind.append(
            {
                "if": {"properties": {"kind": {"const": kind}}, "required": ["kind"]},
                "then": {
                    "$comment": f"topic: {topic}",
                    "required": [f for f in fields if f not in _OPTIONAL],
                    "properties": {f: _FIELD_TYPES[f] for f in fields},
                },
            }
        )
    return {
        "$schema": DRAFT,
        "$id": EVENT_ID,
        "title": f"gospulse event, contract v{VERSION}",
        "description": (
            "One event of one public (docs/contract.md §1). Unknown extra fields are allowed. "
            + _INTEGER_NOTE
            + " The processor also rejects an occurred_at more than 5 minutes ahead of its clock."
        ),
        "type": "object",
        "required": ["v", "event_id", "kind", "public_id", "occurred_at"],
        "properties": {
            "v": {"type": "integer", "const": VERSION},
            "event_id": _ID,
            "kind": {"type": "string", "enum": list(KINDS)},
            "public_id": {"type": "string", "pattern": PUBLIC_ID_PATTERN},
            "occurred_at": {
                "type": "integer",
                "minimum": MIN_OCCURRED_AT,
                "maximum": MAX_INTEGER,
                "description": "event time, Unix epoch milliseconds, UTC; not before 2000-01-01",
            },
        },
        "allOf": per_kind,
    }


def message_schema() -> dict[str, Any]:
    return {
        "$schema": DRAFT,
        "$id": MESSAGE_ID,
        "title": f"gospulse Kafka message value, contract v{VERSION}",
        "description": (
            "One event, or a batch of 1 to 1000 events of the same public in log order; the message key is "
            "the public_id. JSON Schema cannot say 'the same public': the processor checks it. "
            f"The value is at most {MAX_VALUE_BYTES} bytes (1 MiB), and each kind travels on its own topic "
            "(the $comment of each kind's rule names it); the processor checks both. " + _INTEGER_NOTE
        ),
        "oneOf": [
            {"$ref": EVENT_ID},
            {"type": "array", "minItems": 1, "maxItems": BATCH_MAX_EVENTS, "items": {"$ref": EVENT_ID}},
        ],
    }


def public_schema() -> dict[str, Any]:
    return {
        "$schema": DRAFT,
        "$id": PUBLIC_ID,
        "title": f"gospulse public registry record, contract v{VERSION}",
        "description": (
            "A value of the compacted 'publics' topic, keyed by public_id. tz must name an IANA zone "
            "(the processor checks it against its zone database). " + _INTEGER_NOTE
        ),
        "type": "object",
        "required": ["v", "public_id", "name", "region", "level", "theme"],
        "properties": {
            "v": {"type": "integer", "const": VERSION},
            "public_id": {"type": "string", "pattern": PUBLIC_ID_PATTERN},
            "name": {"type": "string", "minLength": 1},
            "region": {"type": "string", "pattern": REGION_PATTERN, "description": "ISO 3166-2, e.g. RU-NIZ"},
            "level": {"enum": list(LEVELS)},
            "theme": {"enum": list(THEMES)},
            "tz": {"type": ["string", "null"], "default": "Europe/Moscow"},
            "profile": {"type": ["string", "null"], "minLength": 1},
        },
    }


DOCUMENTS = {
    "event.schema.json": event_schema,
    "message.schema.json": message_schema,
    "public.schema.json": public_schema,
}


def render(build: Any) -> bytes:
    return orjson.dumps(build(), option=orjson.OPT_INDENT_2) + b"\n"


def main() -> int:
    for name, build in DOCUMENTS.items():
        (HERE / name).write_bytes(render(build))
        print(f"wrote {HERE / name}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
