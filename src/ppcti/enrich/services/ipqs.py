"""IPQualityScore: IP reputation (``GET /api/json/ip?ip=``) and e-mail validation
(``GET /api/json/email?email=``).

The key travels in the ``IPQS-KEY`` header, which IPQS documents as the alternative to its usual
``/api/json/ip/{key}/{ip}`` form, so that the key is never part of a URL. The API answers HTTP 200
even for errors, with ``"success": false`` and a ``message``; a bad key and an exhausted credit
balance are told apart by that message, and a rate limit comes as 403 (or 429). ``fraud_score``
(0..100) is the score; IPQS itself calls 75+ suspicious and 85+ high risk, the thresholds here.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ppcti.enrich.model import Finding, Indicator, Kind
from ppcti.enrich.services.base import HttpService, ServiceDefaults, verdict_for

_IP_FLAGS = ("proxy", "vpn", "tor", "active_vpn", "active_tor", "bot_status", "recent_abuse", "is_crawler")
_IP_KEPT = ("fraud_score", "country_code", "ISP", "ASN", "organization", "connection_type", "abuse_velocity")
_EMAIL_FLAGS = (
    "disposable",
    "honeypot",
    "recent_abuse",
    "leaked",
    "frequent_complainer",
    "suspect",
    "catch_all",
)
_EMAIL_KEPT = ("fraud_score", "valid", "deliverability", "smtp_score", "overall_score", "spam_trap_score")


class IPQualityScore(HttpService):
    name: ClassVar[str] = "ipqs"
    env: ClassVar[str] = "IPQS"
    label: ClassVar[str] = "IPQualityScore"
    kinds: ClassVar[frozenset[Kind]] = frozenset({"ipv4", "email"})
    defaults: ClassVar[ServiceDefaults] = ServiceDefaults(
        url="https://www.ipqualityscore.com",
        rate="5000/month",
        burst=200,
        quota="5000/month",
        ttl=3 * 86400.0,
    )
    weight: ClassVar[float] = 0.8

    rate_limit_statuses: ClassVar[frozenset[int]] = frozenset({403, 429})

    def headers(self) -> dict[str, str]:
        return {"IPQS-KEY": self.settings.key}

    async def lookup(self, indicator: Indicator) -> Finding:
        endpoint = "email" if indicator.kind == "email" else "ip"
        params = {"ip": indicator.value, "strictness": "1"}
        if endpoint == "email":
            params = {"email": indicator.value, "timeout": "7"}
        status, body = await self.request("GET", f"/api/json/{endpoint}", params=params)
        if status == 404:
            return Finding("unknown", 0, status="not_found")
        if status != 200 or not isinstance(body, dict):
            raise self.fail("invalid" if status != 200 else "malformed", f"HTTP {status}")
        if body.get("success") is not True:
            message = str(body.get("message") or "").lower()
            if "quota" in message or "credits" in message or "exceeded" in message:
                raise self.fail("quota")
            if "key" in message:
                raise self.fail("auth")
            raise self.fail("invalid")
        score = body.get("fraud_score")
        if not isinstance(score, int | float):
            raise self.fail("malformed", "no fraud_score")
        return self._ip(body, int(score)) if endpoint == "ip" else self._email(body, int(score))

    @staticmethod
    def _ip(body: dict[str, Any], score: int) -> Finding:
        categories = tuple(flag.replace("_", "-") for flag in _IP_FLAGS if body.get(flag) is True)
        return Finding(
            verdict=verdict_for(score, malicious=85, suspicious=75),  # type: ignore[arg-type]
            score=score,
            categories=categories,
            raw={k: body[k] for k in _IP_KEPT if k in body},
        )

    @staticmethod
    def _email(body: dict[str, Any], score: int) -> Finding:
        categories = [flag.replace("_", "-") for flag in _EMAIL_FLAGS if body.get(flag) is True]
        if body.get("valid") is False:
            categories.append("invalid")
        if body.get("spam_trap_score") in ("high", "medium"):
            categories.append("spam-trap")
        first = body.get("first_seen")
        first_seen = first.get("iso") if isinstance(first, dict) else None
        verdict = verdict_for(score, malicious=85, suspicious=75)
        if body.get("honeypot") is True and verdict == "harmless":
            verdict = "suspicious"
        return Finding(
            verdict=verdict,  # type: ignore[arg-type]
            score=score,
            categories=tuple(categories),
            first_seen=first_seen if isinstance(first_seen, str) else None,
            raw={k: body[k] for k in _EMAIL_KEPT if k in body},
        )
