"""The worker's HTTP API described as OpenAPI 3.1, served at ``GET /openapi.json``.

The table's schema is derived from the engine's own snapshot (every field of contract §2 and §4), so
a field added to the table appears here without a second list to keep; a test checks real answers
against this document.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from schemas.contract import LEVELS, PUBLIC_ID_PATTERN, REGION_RE, THEMES
from streams.core.engine import Engine
from streams.core.profiles import KPIS
from streams.core.rankings import RANKED
from streams.core.table import COUNTER_FIELDS
from streams.core.timebase import HOUR_MS

NULLABLE_NUMBER = {"type": ["number", "null"]}
NULLABLE_INTEGER = {"type": ["integer", "null"]}
NULLABLE_STRING = {"type": ["string", "null"]}


def _field_schema(name: str) -> dict[str, Any]:
    if name in ("public_id", "profile"):
        return {"type": "string"}
    if name in ("region", "level", "theme"):
        return NULLABLE_STRING
    if name in ("subscribers", "last_post_at"):
        return NULLABLE_INTEGER
    if name.startswith(("response_", "er_")):
        return NULLABLE_NUMBER
    return {"type": "integer"}


def table_schema() -> dict[str, Any]:
    engine = Engine()
    fields = list(engine.table_of(engine.state("vk:-1"), 100 * HOUR_MS))
    return {
        "type": "object",
        "description": "A public's table at T (contract §2 and §4).",
        "required": fields,
        "properties": {name: _field_schema(name) for name in fields},
        "additionalProperties": False,
    }


DAY = {
    "type": "object",
    "required": [
        "date",
        "posts",
        *(name for name, _ in COUNTER_FIELDS),
        "answered",
        "response_p90_s",
        "response_wh_p90_s",
    ],
    "properties": {
        "date": {
            "type": "string",
            "format": "date",
            "description": "the local date in the public's time zone",
        },
        "posts": {"type": "integer"},
        **{name: {"type": "integer"} for name, _ in COUNTER_FIELDS},
        "answered": {"type": "integer", "description": "citizen comments first answered that day"},
        "response_p90_s": {**NULLABLE_NUMBER, "description": "p90 of those answers' latency, seconds"},
        "response_wh_p90_s": {
            **NULLABLE_NUMBER,
            "description": "p90 of the same latencies counted in working time (contract §4), seconds",
        },
    },
    "additionalProperties": False,
}
DAYS = {
    "type": "object",
    "required": ["public_id", "at", "tz", "days"],
    "properties": {
        "public_id": {"type": "string"},
        "at": {"type": "integer"},
        "tz": NULLABLE_STRING,
        "days": {
            "type": "array",
            "minItems": 30,
            "maxItems": 30,
            "items": {"$ref": "#/components/schemas/Day"},
        },
    },
    "additionalProperties": False,
}
ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "string", "description": "what is wrong and what to do"}},
}
BREACH = {
    "type": "object",
    "required": ["public_id", "at", "kpi", "value", "threshold", "profile", "region", "level", "theme"],
    "properties": {
        "public_id": {"type": "string"},
        "at": {"type": "integer"},
        "kpi": {"enum": list(KPIS)},
        "value": NULLABLE_NUMBER,
        "threshold": {"type": "number"},
        "profile": {"type": "string"},
        "region": NULLABLE_STRING,
        "level": NULLABLE_STRING,
        "theme": NULLABLE_STRING,
    },
}
OPEN_BREACH = {
    **BREACH,
    "required": [*BREACH["required"], "since"],
    "properties": {
        **BREACH["properties"],
        "at": {"type": "integer", "description": "when it was last judged, epoch ms"},
        "since": {"type": "integer", "description": "when it opened, epoch ms"},
    },
}
SEGMENT = {
    "type": "object",
    "required": ["region", "level", "theme", "publics", "in_breach", "medians"],
    "properties": {
        "region": {"type": "string"},
        "level": {"type": "string"},
        "theme": {"type": "string"},
        "publics": {"type": "integer", "minimum": 0},
        "in_breach": {
            "type": "object",
            "propertyNames": {"enum": list(KPIS)},
            "additionalProperties": {"type": "integer", "minimum": 0},
        },
        "medians": {
            "type": "object",
            "required": list(RANKED),
            "properties": {kpi: NULLABLE_NUMBER for kpi in RANKED},
            "additionalProperties": False,
        },
    },
    "additionalProperties": False,
}
RANKING = {
    "type": "object",
    "required": ["kpi", "order", "region", "level", "theme", "total", "items", "next_cursor"],
    "properties": {
        "kpi": {"enum": list(RANKED)},
        "order": {"enum": ["asc", "desc"]},
        "region": NULLABLE_STRING,
        "level": NULLABLE_STRING,
        "theme": NULLABLE_STRING,
        "total": {"type": "integer", "minimum": 0},
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["rank", "public_id", "value"],
                "properties": {
                    "rank": {"type": "integer", "minimum": 1},
                    "public_id": {"type": "string"},
                    "value": {"type": "number"},
                },
                "additionalProperties": False,
            },
        },
        "next_cursor": NULLABLE_STRING,
    },
    "additionalProperties": False,
}


def _query(name: str, description: str, schema: dict[str, Any], required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "description": description, "schema": schema}


SEGMENT_PARAMETERS = [
    _query("region", "ISO 3166-2 code, e.g. RU-NIZ", {"type": "string", "pattern": f"^{REGION_RE.pattern}$"}),
    _query("level", "territorial level", {"enum": list(LEVELS)}),
    _query("theme", "theme of the public", {"enum": list(THEMES)}),
]


PUBLIC_ID = {
    "name": "public_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": PUBLIC_ID_PATTERN},
}


_CELL = {
    "type": "array",
    "prefixItems": [{"type": ["number", "null"]}, {"type": ["number", "null"]}, {"type": "string"}],
    "minItems": 3,
    "maxItems": 3,
}
EXPORT_ROW = {
    "type": "object",
    "required": ["public_id", "name", "region", "level", "theme", "profile", "kpis"],
    "properties": {
        "public_id": {"type": "string"},
        "name": {"type": "string"},
        "region": {"type": ["string", "null"]},
        "level": {"type": ["string", "null"]},
        "theme": {"type": ["string", "null"]},
        "profile": {"type": "string"},
        "kpis": {"type": "object", "additionalProperties": _CELL},
    },
}


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    why = {
        400: "a parameter is wrong (the error says which and why)",
        404: "not known here",
        503: "not answerable exactly right now (the worker is recovering its tables or reading the "
        "registry, partitions are being reassigned, or Redis or another worker is unreachable); ask "
        "again after the Retry-After header's seconds",
    }
    out = {str(code): _json(why[code], {"$ref": "#/components/schemas/Error"}) for code in codes}
    if "503" in out:
        retry = {"description": "seconds to wait before asking again", "schema": {"type": "integer"}}
        out["503"]["headers"] = {"Retry-After": retry}
    return out


@cache
def document() -> dict[str, Any]:
    try:
        api_version = version("gospulse")
    except PackageNotFoundError:
        api_version = "0"
    at = _query("at", "the instant T: epoch milliseconds or ISO 8601 (default: now)", {"type": "string"})
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "gospulse worker API",
            "version": api_version,
            "description": "Tables, breaches, segments and leaderboards of government social-media pages. "
            "Any worker answers for any public and segment.",
        },
        "paths": {
            "/publics/{public_id}": {
                "get": {
                    "summary": "A public's table at T",
                    "parameters": [
                        PUBLIC_ID,
                        at,
                    ],
                    "responses": {
                        "200": _json("the table", {"$ref": "#/components/schemas/Table"}),
                        **_errors(400, 404, 503),
                    },
                }
            },
            "/publics/{public_id}/days": {
                "get": {
                    "summary": "A public's last 30 local days, one row a day (today up to T)",
                    "parameters": [
                        PUBLIC_ID,
                        at,
                    ],
                    "responses": {
                        "200": _json("the days", {"$ref": "#/components/schemas/Days"}),
                        **_errors(400, 404, 503),
                    },
                }
            },
            "/breaches": {
                "get": {
                    "summary": "Every public's KPI breaches at T, optionally filtered, a page at a time "
                    "(gzip-compressed when the request accepts it)",
                    "parameters": [
                        at,
                        _query("kpi", "one KPI", {"enum": list(KPIS)}),
                        *SEGMENT_PARAMETERS,
                        _query("profile", "a KPI profile's name", {"type": "string"}),
                        _query(
                            "limit",
                            "breaches per page (whole publics: a page ends before a public that would pass "
                            "it)",
                            {"type": "integer", "minimum": 1, "maximum": 10_000, "default": 1000},
                        ),
                        _query("cursor", "next_cursor of the previous page", {"type": "string"}),
                    ],
                    "responses": {
                        "200": _json(
                            "a page of the breaches, by public_id then kpi, and the cursor to the next "
                            "(null after the last page)",
                            {
                                "type": "object",
                                "required": ["at", "breaches", "next_cursor"],
                                "properties": {
                                    "at": {"type": "integer"},
                                    "breaches": {
                                        "type": "array",
                                        "items": {"$ref": "#/components/schemas/Breach"},
                                    },
                                    "next_cursor": {"type": ["string", "null"]},
                                },
                            },
                        ),
                        **_errors(400, 503),
                    },
                }
            },
            "/breaches/open": {
                "get": {
                    "summary": "The breaches open now (each public's last judgement), optionally filtered, "
                    "the worst publics first",
                    "parameters": [
                        _query("kpi", "one KPI", {"enum": list(KPIS)}),
                        *SEGMENT_PARAMETERS,
                        _query("profile", "a KPI profile's name", {"type": "string"}),
                        _query(
                            "limit",
                            "list the breaches of this many publics only, the worst",
                            {"type": "integer", "minimum": 1, "maximum": 1000},
                        ),
                    ],
                    "responses": {
                        "200": _json(
                            "the publics in breach, most breaches first, then the longest-standing, "
                            "then by public_id; each public's breaches by kpi",
                            {
                                "type": "object",
                                "required": ["publics", "breaches", "catching_up"],
                                "properties": {
                                    "publics": {
                                        "type": "integer",
                                        "minimum": 0,
                                        "description": "publics with an open breach, listed or not",
                                    },
                                    "breaches": {
                                        "type": "array",
                                        "items": {"$ref": "#/components/schemas/OpenBreach"},
                                    },
                                    "catching_up": {
                                        "type": "boolean",
                                        "description": "a worker reads a backlog or history: its "
                                        "publics' breaches are those judged before it, judged again "
                                        "once it is read",
                                    },
                                },
                            },
                        ),
                        **_errors(400, 503),
                    },
                }
            },
            "/export/rows": {
                "get": {
                    "summary": "This worker's rows of a segment's report at T (the worker asked for "
                    "/export.xlsx gathers every worker's)",
                    "parameters": [
                        at,
                        *SEGMENT_PARAMETERS,
                        _query("profile", "a KPI profile's name", {"type": "string"}),
                    ],
                    "responses": {
                        "200": _json(
                            "a row per public: its name and segment, and per KPI [value, norm, verdict] "
                            "in the file's units (hours, per cent)",
                            {
                                "type": "object",
                                "required": ["rows"],
                                "properties": {"rows": {"type": "array", "items": EXPORT_ROW}},
                            },
                        ),
                        **_errors(400, 503),
                    },
                }
            },
            "/export.xlsx": {
                "get": {
                    "summary": "The curators' report of a segment at T as a workbook: «Паблики» (a row "
                    "per public, every KPI's value, norm and verdict) and «Сводка» (a line per KPI)",
                    "parameters": [at, *SEGMENT_PARAMETERS],
                    "responses": {
                        "200": {
                            "description": "the workbook, as an attachment",
                            "content": {
                                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}
                            },
                        },
                        "400": {"description": "a parameter is wrong: a Russian page says which"},
                        "503": {
                            "description": "not every worker answered, or over 20 000 publics: a Russian page"
                        },
                    },
                }
            },
            "/export.csv": {
                "get": {
                    "summary": "The same report's «Паблики» as CSV for a spreadsheet set to Russian "
                    "(UTF-8 with a byte-order mark, «;» between fields, decimal commas)",
                    "parameters": [at, *SEGMENT_PARAMETERS],
                    "responses": {
                        "200": {"description": "the CSV, as an attachment", "content": {"text/csv": {}}},
                        "400": {"description": "a parameter is wrong: a Russian page says which"},
                        "503": {
                            "description": "not every worker answered, or over 20 000 publics: a Russian page"
                        },
                    },
                }
            },
            "/segments": {
                "get": {
                    "summary": "Per segment: publics, in breach per KPI, the median of each ranked KPI",
                    "parameters": SEGMENT_PARAMETERS,
                    "responses": {
                        "200": _json(
                            "the segments the filters admit",
                            {
                                "type": "object",
                                "required": ["segments"],
                                "properties": {
                                    "segments": {
                                        "type": "array",
                                        "items": {"$ref": "#/components/schemas/Segment"},
                                    }
                                },
                            },
                        ),
                        **_errors(400, 503),
                    },
                }
            },
            "/segments/ranking": {
                "get": {
                    "summary": "A leaderboard: the publics of a segment ranked by one KPI",
                    "parameters": [
                        _query("kpi", "the KPI to rank by", {"enum": list(RANKED)}, required=True),
                        *SEGMENT_PARAMETERS,
                        _query("order", "desc (largest first, default) or asc", {"enum": ["asc", "desc"]}),
                        _query("limit", "rows per page", {"type": "integer", "minimum": 1, "maximum": 100}),
                        _query("cursor", "next_cursor of the previous page", {"type": "string"}),
                    ],
                    "responses": {
                        "200": _json("one page", {"$ref": "#/components/schemas/Ranking"}),
                        **_errors(400, 503),
                    },
                }
            },
            "/health": {
                "get": {
                    "summary": "Readiness and counters",
                    "responses": {
                        "200": _json("ready", {"type": "object"}),
                        "503": _json("recovering, or stalled (no commit while behind)", {"type": "object"}),
                    },
                }
            },
            "/metrics": {
                "get": {
                    "summary": "Prometheus metrics (text exposition format)",
                    "responses": {
                        "200": {
                            "description": "metrics",
                            "content": {"text/plain": {"schema": {"type": "string"}}},
                        }
                    },
                }
            },
        },
        "components": {
            "schemas": {
                "Table": table_schema(),
                "Days": DAYS,
                "Day": DAY,
                "Breach": BREACH,
                "OpenBreach": OPEN_BREACH,
                "Segment": SEGMENT,
                "Ranking": RANKING,
                "Error": ERROR,
            }
        },
    }
