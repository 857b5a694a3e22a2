"""Counting bad input by reason, with the first few places each reason was seen."""

from __future__ import annotations

from dataclasses import dataclass, field

#: Places kept per reason for a summary.
FIRST_PLACES = 5


@dataclass
class BadGroup:
    count: int = 0
    first: list[str] = field(default_factory=list)


@dataclass
class BadTally:
    """Rejections grouped by reason; ``where`` is a line number, or ``line[index]`` in a batch."""

    groups: dict[str, BadGroup] = field(default_factory=dict)

    def add(self, where: str, reason: str) -> None:
        group = self.groups.get(reason)
        if group is None:
            group = self.groups[reason] = BadGroup()
        group.count += 1
        if len(group.first) < FIRST_PLACES:
            group.first.append(where)

    @property
    def total(self) -> int:
        return sum(group.count for group in self.groups.values())

    def __bool__(self) -> bool:
        return bool(self.groups)

    def summary_lines(self, title: str) -> list[str]:
        """``title by reason:`` then one line per reason, commonest first; nothing when empty."""
        if not self.groups:
            return []
        out = [f"{title} by reason:"]
        for reason, group in sorted(self.groups.items(), key=lambda kv: -kv[1].count):
            more = ", …" if group.count > len(group.first) else ""
            out.append(f"  {group.count:>8}  {reason}  (line {', '.join(group.first)}{more})")
        return out
