"""Kafka topic names: one place that turns a prefix into the contract's five topics."""

from __future__ import annotations

import re
from dataclasses import dataclass

from schemas.contract import COMMENTS, DEAD_LETTER_MAX_BYTES, KINDS, POSTS, SUBSCRIPTIONS

DEFAULT_PREFIX = "gospulse."
#: The dead-letter topic takes a bad message of up to 1 MiB unchanged, with its key and headers.
DEAD_LETTER_TOPIC_CONFIG = {"max.message.bytes": str(DEAD_LETTER_MAX_BYTES)}
#: Kafka's legal topic characters; the prefix must keep every name legal.
_LEGAL = re.compile(r"[A-Za-z0-9._-]{0,200}")


@dataclass(frozen=True, slots=True)
class Topics:
    """The topics of one deployment; ``prefix`` separates deployments sharing a cluster."""

    prefix: str = DEFAULT_PREFIX

    def __post_init__(self) -> None:
        if _LEGAL.fullmatch(self.prefix) is None:
            raise ValueError(
                f"topic prefix {self.prefix!r} may hold only letters, digits, '.', '_' and '-' "
                "(at most 200 characters), e.g. 'gospulse.' or 'nn-prod.'"
            )

    @property
    def posts(self) -> str:
        return self.prefix + POSTS

    @property
    def comments(self) -> str:
        return self.prefix + COMMENTS

    @property
    def subscriptions(self) -> str:
        return self.prefix + SUBSCRIPTIONS

    @property
    def publics(self) -> str:
        """The compacted registry."""
        return self.prefix + "publics"

    @property
    def dead_letter(self) -> str:
        return self.prefix + "dead-letter"

    @property
    def kpi_breaches(self) -> str:
        """KPI breach transitions (``agents.kpi``), keyed by public_id."""
        return self.prefix + "kpi-breaches"

    @property
    def events(self) -> tuple[str, str, str]:
        return (self.posts, self.comments, self.subscriptions)

    def families(self) -> dict[str, str]:
        """Event topic name -> the contract's topic family (``posts``, ``comments``, ``subscriptions``)."""
        return {self.prefix + family: family for family in (POSTS, COMMENTS, SUBSCRIPTIONS)}

    def for_kind(self, kind: str) -> str:
        """The topic an event kind travels on (contract §1)."""
        return self.prefix + KINDS[kind][0]
