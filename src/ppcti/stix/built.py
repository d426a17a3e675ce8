"""What building one event's bundle gives back: the bundle, its bytes, and what went wrong.

Kept apart from :mod:`ppcti.stix.build` so the builder module stays about building.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson


@dataclass(frozen=True, slots=True)
class Problem:
    """A value that could not become valid STIX: where it was and why, never the value itself."""

    file: str | None
    line: int | None
    field: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "field": self.field, "reason": self.reason}


class Built:
    """The outcome for one event: the bundle (or why there is none) plus what the aggregate needs.

    The builder makes the bundle as JSON text (:attr:`json`, one line of ``bundles.jsonl``) with the ids
    and JSON of its objects (:attr:`ids`, :attr:`parts`); :attr:`bundle`, the same bundle as dicts, is
    parsed from that text on first use, since the run's writer and ``bundle_json`` never need it.
    """

    __slots__ = (
        "_bundle",
        "attacker",
        "holder",
        "ids",
        "indicator_types",
        "json",
        "parts",
        "problems",
        "reason",
        "timestamp",
        "withheld",
    )

    def __init__(
        self,
        bundle: dict[str, Any] | None,
        problems: list[Problem] | None = None,
        reason: str | None = None,
        holder: str | None = None,
        timestamp: str | None = None,
        attacker: tuple[str, str, str] | None = None,
        indicator_types: tuple[str, ...] = (),
        withheld: str | None = None,
        json: bytes | None = None,
        ids: list[str] | None = None,
        parts: list[str] | None = None,
    ) -> None:
        self._bundle = bundle
        self.problems: list[Problem] = [] if problems is None else problems
        self.reason = reason
        self.holder = holder
        self.timestamp = timestamp
        #: ``(sco type, value, pattern)`` of the attacking side when an indicator was made.
        self.attacker = attacker
        self.indicator_types = indicator_types
        #: Why the attacking side was kept from the CTI (outbound traffic, non-public or own address).
        self.withheld = withheld
        #: The bundle serialised compactly (one line of ``bundles.jsonl``), or None without a bundle.
        self.json = json
        #: Ids of the bundle's objects in order, and each object's JSON text (empty without a bundle).
        self.ids: list[str] = [] if ids is None else ids
        self.parts: list[str] = [] if parts is None else parts

    @property
    def bundle(self) -> dict[str, Any] | None:
        """The bundle as dicts (a fresh copy per result), or None when the event gave none."""
        if self._bundle is None and self.json is not None:
            self._bundle = orjson.loads(self.json)
        return self._bundle

    @bundle.setter
    def bundle(self, value: dict[str, Any] | None) -> None:
        self._bundle = value

    def __repr__(self) -> str:
        return f"Built(holder={self.holder!r}, reason={self.reason!r}, objects={len(self.ids)})"
