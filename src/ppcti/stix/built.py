"""What building one event's bundle gives back: the bundle, its bytes, and what went wrong.

Kept apart from :mod:`ppcti.stix.build` so the builder module stays about building.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Problem:
    """A value that could not become valid STIX: where it was and why, never the value itself."""

    file: str | None
    line: int | None
    field: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "field": self.field, "reason": self.reason}


@dataclass(slots=True)
class Built:
    """The outcome for one event: the bundle (or why there is none) plus what the aggregate needs."""

    bundle: dict[str, Any] | None
    problems: list[Problem] = field(default_factory=list)
    reason: str | None = None
    holder: str | None = None
    timestamp: str | None = None
    #: ``(sco type, value, pattern)`` of the attacking side when an indicator was made.
    attacker: tuple[str, str, str] | None = None
    indicator_types: tuple[str, ...] = ()
    #: Why the attacking side was kept from the CTI (outbound traffic, non-public or own address).
    withheld: str | None = None
    #: ``bundle`` serialised compactly (one line of ``bundles.jsonl``), made with it from cached parts.
    json: bytes | None = None
