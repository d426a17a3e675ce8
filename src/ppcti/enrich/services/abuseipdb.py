"""AbuseIPDB API v2 ``GET /api/v2/check``: crowd-sourced abuse reports of an IP address.

The key travels in the ``Key`` header. ``abuseConfidenceScore`` (0..100) is the score as is;
``verbose`` brings the recent reports, whose category numbers are named with AbuseIPDB's table.
Errors come as ``{"errors": [{"detail", "status"}]}``; a 429 whose Retry-After runs past the engine's
patience is the daily quota, the rest is the per-minute limit.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ppcti.enrich.model import Finding, Indicator, Kind
from ppcti.enrich.services.base import HttpService, ServiceDefaults, require, verdict_for

#: AbuseIPDB report categories (https://www.abuseipdb.com/categories).
CATEGORIES: dict[int, str] = {
    1: "dns-compromise",
    2: "dns-poisoning",
    3: "fraud-orders",
    4: "ddos-attack",
    5: "ftp-brute-force",
    6: "ping-of-death",
    7: "phishing",
    8: "fraud-voip",
    9: "open-proxy",
    10: "web-spam",
    11: "email-spam",
    12: "blog-spam",
    13: "vpn-ip",
    14: "port-scan",
    15: "hacking",
    16: "sql-injection",
    17: "spoofing",
    18: "brute-force",
    19: "bad-web-bot",
    20: "exploited-host",
    21: "web-app-attack",
    22: "ssh",
    23: "iot-targeted",
}

_KEPT = (
    "abuseConfidenceScore",
    "countryCode",
    "usageType",
    "isp",
    "domain",
    "isTor",
    "isWhitelisted",
    "totalReports",
    "numDistinctUsers",
    "lastReportedAt",
)


class AbuseIPDB(HttpService):
    name: ClassVar[str] = "abuseipdb"
    env: ClassVar[str] = "ABUSEIPDB"
    label: ClassVar[str] = "AbuseIPDB"
    kinds: ClassVar[frozenset[Kind]] = frozenset({"ipv4"})
    defaults: ClassVar[ServiceDefaults] = ServiceDefaults(
        url="https://api.abuseipdb.com", rate="1000/day", burst=1000, quota="1000/day", ttl=86400.0
    )

    def headers(self) -> dict[str, str]:
        return {"Key": self.settings.key}

    async def lookup(self, indicator: Indicator) -> Finding:
        status, body = await self.request(
            "GET",
            "/api/v2/check",
            params={"ipAddress": indicator.value, "maxAgeInDays": "90", "verbose": ""},
        )
        if status == 404:
            return Finding("unknown", 0, status="not_found")
        if status != 200:
            raise self.fail("invalid", f"HTTP {status}")
        data = require(body, self, "data")
        score = data.get("abuseConfidenceScore")
        if not isinstance(score, int | float):
            raise self.fail("malformed", "no abuseConfidenceScore")
        reports: list[Any] = data.get("reports") or []
        categories = sorted(
            {
                CATEGORIES.get(c, f"category-{c}")
                for r in reports
                if isinstance(r, dict)
                for c in r.get("categories") or ()
                if isinstance(c, int)
            }
        )
        dates = sorted(r["reportedAt"] for r in reports if isinstance(r, dict) and r.get("reportedAt"))
        if data.get("isTor"):
            categories.append("tor")
        total = data.get("totalReports") or 0
        verdict = (
            "harmless"
            if data.get("isWhitelisted")
            else verdict_for(int(score), malicious=75, suspicious=25)
            if total
            else "unknown"
        )
        return Finding(
            verdict=verdict,  # type: ignore[arg-type]
            score=int(score),
            categories=tuple(categories),
            first_seen=dates[0] if dates else None,
            last_seen=data.get("lastReportedAt") or (dates[-1] if dates else None),
            raw={k: data[k] for k in _KEPT if k in data},
        )

    @classmethod
    def gui_url(cls, indicator: Indicator) -> str | None:
        return f"https://www.abuseipdb.com/check/{indicator.value}"
