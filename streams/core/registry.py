"""The public registry (the compacted ``publics`` topic): who a public is and which segment it is in."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from schemas.contract import DEFAULT_TZ
from schemas.validate import explain_public, not_json_reason
from streams.core.table import Segment

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PublicInfo:
    public_id: str
    name: str
    segment: Segment
    tz: str = DEFAULT_TZ
    profile: str | None = None

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> PublicInfo:
        """Build from a record that ``schemas.explain_public`` accepted."""
        return cls(
            public_id=record["public_id"],
            name=record["name"],
            segment=Segment(record["region"], record["level"], record["theme"]),
            tz=record.get("tz") or DEFAULT_TZ,
            profile=record.get("profile"),
        )


def parse_record(raw: bytes) -> PublicInfo | str:
    """A registry record as it travels on the ``publics`` topic; the reason (str) if it is bad."""
    try:
        record = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return not_json_reason(exc)
    reason = explain_public(record)
    return reason if reason is not None else PublicInfo.from_record(record)


class RegistryView(Protocol):
    """What the engine asks of a registry: who a public is and which segment it is in."""

    def get(self, public_id: str) -> PublicInfo | None: ...

    def segment(self, public_id: str) -> Segment: ...

    def ids(self) -> Iterable[str]:
        """Every registered public_id (breaches cover registered publics with no events)."""
        ...


class Registry:
    """Latest record per public, as a compacted topic keeps it (replay loads it from a file)."""

    def __init__(self) -> None:
        self._publics: dict[str, PublicInfo] = {}

    def put(self, info: PublicInfo) -> None:
        self._publics[info.public_id] = info

    def get(self, public_id: str) -> PublicInfo | None:
        return self._publics.get(public_id)

    def segment(self, public_id: str) -> Segment:
        info = self._publics.get(public_id)
        return info.segment if info else Segment()

    def ids(self) -> Iterable[str]:
        return list(self._publics)

    def __len__(self) -> int:
        return len(self._publics)

    def __contains__(self, public_id: object) -> bool:
        return public_id in self._publics


class RecordsRegistry:
    """A registry over raw records keyed by the UTF-8 ``public_id`` (the live workers' global table
    of the ``publics`` topic). A record is parsed when first asked for and again only when it changed;
    a bad one leaves its public in the unknown segment, logged once.
    """

    def __init__(self, records: Mapping[bytes, bytes]) -> None:
        self.records = records
        self._parsed: dict[str, tuple[bytes, PublicInfo | None]] = {}

    def get(self, public_id: str) -> PublicInfo | None:
        raw = self.records.get(public_id.encode())
        if raw is None:
            return None
        cached = self._parsed.get(public_id)
        if cached is not None and cached[0] == raw:
            return cached[1]
        parsed = parse_record(raw)
        if isinstance(parsed, str):
            log.warning("registry record of %s ignored: %s", public_id, parsed)
            info = None
        elif parsed.public_id != public_id:
            log.warning("registry record keyed %s names %s; ignored", public_id, parsed.public_id)
            info = None
        else:
            info = parsed
        self._parsed[public_id] = (raw, info)
        return info

    def segment(self, public_id: str) -> Segment:
        info = self.get(public_id)
        return info.segment if info else Segment()

    def ids(self) -> Iterable[str]:
        return [key.decode(errors="replace") for key in list(self.records)]
