"""The registered reputation services, by name: adding a service is one module and one line here."""

from __future__ import annotations

from ppcti.enrich.services.abuseipdb import AbuseIPDB
from ppcti.enrich.services.base import (
    FATAL,
    RETRYABLE,
    HttpService,
    Service,
    ServiceDefaults,
    ServiceSettings,
    check_url,
)
from ppcti.enrich.services.hybrid import HybridAnalysis
from ppcti.enrich.services.ipqs import IPQualityScore
from ppcti.enrich.services.virustotal import VirusTotal

#: Every service ppcti can ask, in the order of ``--services`` and of the docs.
SERVICES: dict[str, type[Service]] = {
    cls.name: cls for cls in (IPQualityScore, VirusTotal, AbuseIPDB, HybridAnalysis)
}

__all__ = [
    "FATAL",
    "RETRYABLE",
    "SERVICES",
    "AbuseIPDB",
    "HttpService",
    "HybridAnalysis",
    "IPQualityScore",
    "Service",
    "ServiceDefaults",
    "ServiceSettings",
    "VirusTotal",
    "check_url",
]
