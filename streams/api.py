"""The HTTP API's answers, as pure functions of the pipeline (the Faust views only wrap them)."""

from __future__ import annotations

from typing import Any

from schemas.contract import PUBLIC_ID_PATTERN
from schemas.validate import valid_public_id
from streams.pipeline import Pipeline
from streams.table import snapshot
from streams.timebase import HOUR_MS, LONGEST_WINDOW_HOURS, YEAR_MS, TimeError, parse_instant

Answer = tuple[int, dict[str, Any]]


def public_table(pipeline: Pipeline, public_id: str, at_param: str | None, now_ms: int) -> Answer:
    """``GET /publics/{public_id}?at=T``: the table of contract §2, or an error that says why."""
    if not valid_public_id(public_id):
        return 400, {"error": f"{public_id!r} is not a public_id (pattern {PUBLIC_ID_PATTERN})"}
    at = now_ms
    if at_param is not None:
        try:
            at = parse_instant(at_param)
        except TimeError as exc:
            return 400, {"error": f"at: {exc}"}
    if at < now_ms - LONGEST_WINDOW_HOURS * HOUR_MS:
        return 400, {"error": "at: older than the 30-day retention; no window can be computed that far back"}
    if at > now_ms + YEAR_MS:
        return 400, {"error": "at: more than a year ahead; give a time between 30 days ago and a year ahead"}
    if public_id not in pipeline.engine.publics and pipeline.store.get(public_id) is None:
        return 404, {"error": f"unknown public {public_id}: no event of it has been applied"}
    return 200, snapshot(pipeline.state(public_id), at, pipeline.engine.registry.segment(public_id))
