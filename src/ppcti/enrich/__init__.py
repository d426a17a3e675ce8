"""Enrichment of attacker indicators with what reputation services already know about them.

IPv4 addresses and e-mail senders of a run's CTI are looked up on IPQualityScore, VirusTotal,
AbuseIPDB and Hybrid Analysis (one module each under :mod:`ppcti.enrich.services`), within each
service's free-tier rate, through an on-disk cache; private, reserved, documentation and bogon
addresses, the holder's own infrastructure and values on MISP warninglists are never sent. The public
face is :func:`enrich_run` and :class:`EnrichSettings`; see docs/enrich.md.

Names are exported lazily: ``ppcti run`` reads the enrichment settings on every run, and that must
not need the optional ``[enrich]`` dependencies (numpy, httpx, vt-py, pymispwarninglists) when no
service is configured.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Cache": "ppcti.enrich.cache",
    "EnrichSettings": "ppcti.enrich.options",
    "Engine": "ppcti.enrich.engine",
    "EngineOptions": "ppcti.enrich.engine",
    "Finding": "ppcti.enrich.model",
    "Indicator": "ppcti.enrich.model",
    "Lane": "ppcti.enrich.engine",
    "OVERVIEW_FILE": "ppcti.enrich.run",
    "RESULTS_FILE": "ppcti.enrich.run",
    "Result": "ppcti.enrich.model",
    "SERVICES": "ppcti.enrich.services",
    "Service": "ppcti.enrich.services",
    "ServiceSettings": "ppcti.enrich.services",
    "WarninglistIndex": "ppcti.enrich.warninglists",
    "enrich_run": "ppcti.enrich.run",
    "load_lists": "ppcti.enrich.warninglists",
    "record_in_summary": "ppcti.enrich.run",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'ppcti.enrich' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
