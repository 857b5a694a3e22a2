"""The public registry (the compacted ``publics`` topic): who a public is and which segment it is in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from schemas.contract import DEFAULT_TZ
from streams.table import Segment


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


class Registry:
    """Latest record per public, as a compacted topic keeps it."""

    def __init__(self) -> None:
        self._publics: dict[str, PublicInfo] = {}

    def put(self, info: PublicInfo) -> None:
        self._publics[info.public_id] = info

    def remove(self, public_id: str) -> None:
        self._publics.pop(public_id, None)

    def get(self, public_id: str) -> PublicInfo | None:
        return self._publics.get(public_id)

    def segment(self, public_id: str) -> Segment:
        info = self._publics.get(public_id)
        return info.segment if info else Segment()

    def __len__(self) -> int:
        return len(self._publics)

    def __contains__(self, public_id: object) -> bool:
        return public_id in self._publics
