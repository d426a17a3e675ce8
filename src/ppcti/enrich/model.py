"""The records enrichment passes around: an indicator to look up and what one service said about it.

Plain frozen dataclasses, so the engine, the cache, the STIX writer and the tests share one vocabulary
and a result can be written to ``enrichment.jsonl`` or the cache and read back unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

Kind = Literal["ipv4", "email"]
Verdict = Literal["malicious", "suspicious", "harmless", "unknown"]
Status = Literal["ok", "not_found", "error", "skipped"]

#: Verdicts from the worst down; the report and the overall rule rank by this order.
VERDICTS: tuple[str, ...] = ("malicious", "suspicious", "harmless", "unknown")


@dataclass(frozen=True, slots=True)
class Indicator:
    """One attacker-side value from the CTI, with the STIX ids that point at it."""

    value: str
    kind: Kind
    indicator_id: str | None = None
    sco_id: str | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    """What a service knows about a value, normalised: ``score`` 0..100, higher is worse."""

    verdict: Verdict
    score: int
    categories: tuple[str, ...] = ()
    first_seen: str | None = None
    last_seen: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    status: Status = "ok"


@dataclass(frozen=True, slots=True)
class Result:
    """One line of ``enrichment.jsonl``: one indicator, one service."""

    value: str
    kind: Kind
    service: str
    status: Status
    verdict: Verdict | None = None
    score: int | None = None
    categories: tuple[str, ...] = ()
    first_seen: str | None = None
    last_seen: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    fetched_at: str | None = None
    from_cache: bool = False
    error: str | None = None

    @classmethod
    def from_finding(cls, indicator: Indicator, service: str, finding: Finding, fetched_at: str) -> Result:
        return cls(
            value=indicator.value,
            kind=indicator.kind,
            service=service,
            status=finding.status,
            verdict=finding.verdict,
            score=finding.score,
            categories=tuple(finding.categories),
            first_seen=finding.first_seen,
            last_seen=finding.last_seen,
            raw=finding.raw,
            fetched_at=fetched_at,
        )

    def cached(self) -> Result:
        return replace(self, from_cache=True)

    @property
    def usable(self) -> bool:
        """An answer the service gave (found or explicitly unknown), as opposed to a failure."""
        return self.status in ("ok", "not_found")

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "value": self.value,
            "kind": self.kind,
            "service": self.service,
            "status": self.status,
            "verdict": self.verdict,
            "score": self.score,
            "categories": list(self.categories),
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "raw": self.raw,
            "fetched_at": self.fetched_at,
            "from_cache": self.from_cache,
        }
        if self.error is not None:
            data["error"] = self.error
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Result:
        return cls(
            value=str(data["value"]),
            kind=data["kind"],
            service=str(data["service"]),
            status=data["status"],
            verdict=data.get("verdict"),
            score=data.get("score"),
            categories=tuple(data.get("categories") or ()),
            first_seen=data.get("first_seen"),
            last_seen=data.get("last_seen"),
            raw=dict(data.get("raw") or {}),
            fetched_at=data.get("fetched_at"),
            from_cache=bool(data.get("from_cache", False)),
            error=data.get("error"),
        )
