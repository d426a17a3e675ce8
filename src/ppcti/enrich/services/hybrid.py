"""Hybrid Analysis (Falcon Sandbox) API v2 ``POST /api/v2/search/terms`` with ``host=IP``: sandbox runs
in which a sample talked to the address.

The key travels in the ``api-key`` header, and the API insists on a ``User-Agent`` of
``Falcon Sandbox``. The answer lists reports with ``verdict`` and ``threat_score`` (0..100); the address
scores as its worst report, and the malware families (``vx_family``) become the categories.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ppcti.enrich.model import Finding, Indicator, Kind
from ppcti.enrich.services.base import HttpService, ServiceDefaults

_RANK = {"malicious": 3, "suspicious": 2, "no specific threat": 1, "whitelisted": 0}


class HybridAnalysis(HttpService):
    name: ClassVar[str] = "hybrid"
    env: ClassVar[str] = "HYBRID"
    label: ClassVar[str] = "Hybrid Analysis"
    kinds: ClassVar[frozenset[Kind]] = frozenset({"ipv4"})
    defaults: ClassVar[ServiceDefaults] = ServiceDefaults(
        url="https://www.hybrid-analysis.com", rate="2000/hour", burst=200, quota="2000/hour", ttl=7 * 86400.0
    )
    weight: ClassVar[float] = 0.9

    def headers(self) -> dict[str, str]:
        return {"api-key": self.settings.key, "User-Agent": "Falcon Sandbox"}

    async def lookup(self, indicator: Indicator) -> Finding:
        status, body = await self.request("POST", "/api/v2/search/terms", data={"host": indicator.value})
        if status == 404:
            return Finding("unknown", 0, status="not_found")
        if status != 200 or not isinstance(body, dict):
            raise self.fail("invalid" if status != 200 else "malformed", f"HTTP {status}")
        reports = body.get("result")
        if not isinstance(reports, list):
            raise self.fail("malformed", "no result list")
        reports = [r for r in reports if isinstance(r, dict)]
        if not reports:
            return Finding("unknown", 0, status="not_found", raw={"count": 0})
        worst = max(reports, key=lambda r: (_RANK.get(str(r.get("verdict")), 1), r.get("threat_score") or 0))
        scores = [r["threat_score"] for r in reports if isinstance(r.get("threat_score"), int | float)]
        score = int(max(scores)) if scores else 0
        verdict = str(worst.get("verdict") or "")
        normalised = (
            "malicious"
            if verdict == "malicious"
            else "suspicious"
            if verdict == "suspicious"
            else "harmless"
            if verdict in ("no specific threat", "whitelisted")
            else "unknown"
        )
        if normalised == "malicious":
            score = max(score, 75)
        families = sorted({str(r["vx_family"]) for r in reports if r.get("vx_family")})
        dates = sorted(str(r["analysis_start_time"]) for r in reports if r.get("analysis_start_time"))
        raw: dict[str, Any] = {
            "count": body.get("count", len(reports)),
            "verdicts": sorted({str(r.get("verdict")) for r in reports if r.get("verdict")}),
            "sha256": [str(r["sha256"]) for r in reports[:5] if r.get("sha256")],
        }
        return Finding(
            verdict=normalised,  # type: ignore[arg-type]
            score=score,
            categories=tuple(families),
            first_seen=dates[0] if dates else None,
            last_seen=dates[-1] if dates else None,
            raw=raw,
        )
