"""Enrichment of attacker indicators with what reputation services already know about them.

IPv4 addresses and e-mail senders of a run's CTI are looked up on IPQualityScore, VirusTotal,
AbuseIPDB and Hybrid Analysis (one module each under :mod:`ppcti.enrich.services`), within each
service's free-tier rate, through an on-disk cache; private, reserved, documentation and bogon
addresses, the holder's own infrastructure and values on MISP warninglists are never sent. The public
face is :func:`enrich_run` and :class:`EnrichSettings`; see docs/enrich.md.
"""

from ppcti.enrich.cache import Cache
from ppcti.enrich.engine import Engine, EngineOptions, Lane
from ppcti.enrich.model import Finding, Indicator, Result
from ppcti.enrich.options import EnrichSettings
from ppcti.enrich.run import OVERVIEW_FILE, RESULTS_FILE, enrich_run, record_in_summary
from ppcti.enrich.services import SERVICES, Service, ServiceSettings
from ppcti.enrich.warninglists import WarninglistIndex, load_lists

__all__ = [
    "OVERVIEW_FILE",
    "RESULTS_FILE",
    "SERVICES",
    "Cache",
    "Engine",
    "EngineOptions",
    "EnrichSettings",
    "Finding",
    "Indicator",
    "Lane",
    "Result",
    "Service",
    "ServiceSettings",
    "WarninglistIndex",
    "enrich_run",
    "load_lists",
    "record_in_summary",
]
