"""Every Redis key gospulse writes or reads, named in one place.

All of a deployment's keys start with its app id (``--app-id``), so two deployments can share one
Redis. Readers (the segments API, ``gospulse up``, the tests) and writers (the tables, the rankings,
the live KPIs) take their names from here.
"""

from __future__ import annotations

from streams.core.rankings import ANY


def tables(app_id: str) -> str:
    """The hash public_id -> its current table (``streams.serving.RedisTables``)."""
    return f"{app_id}:tables"


def breaches(app_id: str) -> str:
    """The hash public_id -> its open breaches (``agents.kpi``)."""
    return f"{app_id}:breaches"


def ranking(app_id: str, kpi: str, region: str = ANY, level: str = ANY, theme: str = ANY) -> str:
    """The sorted set of ``kpi`` for a segment (``*``: any value of that field)."""
    return f"{app_id}:rank:{kpi}:{region}:{level}:{theme}"


def rankings_written(app_id: str) -> str:
    """Set once the rankings have been written whole (the segments API says so until then)."""
    return f"{app_id}:rank:written"


def segments(app_id: str, worker: str) -> str:
    """One worker's segment counts (expiring, so a dead worker stops counting)."""
    return f"{app_id}:segments:{worker}"


def segments_pattern(app_id: str) -> str:
    """Every live worker's segment counts, for ``SCAN``."""
    return segments(app_id, "*")
