"""STIX 2.1 cyber threat intelligence from normalised events.

One bundle per log entry (``bundles.jsonl``) and one deduplicated bundle with per-holder sightings for the
whole run (``aggregate.json``); TLP 2.0 markings; deterministic ids (SCO ids exactly as the STIX 2.1
specification and ``stix2`` compute them). Built as plain dicts and serialised with orjson; ``stix2`` and
the OASIS validator are used by the tests and :mod:`ppcti.stix.reference`, not on the hot path.
"""

from __future__ import annotations

from ppcti.stix.aggregate import Aggregator
from ppcti.stix.build import (
    Built,
    BundleBuilder,
    Problem,
    build_event,
    bundle_for_event,
    bundle_json,
    stix_pattern,
)
from ppcti.stix.ids import canonical_json, sco_id, sdo_id, value_sco_id
from ppcti.stix.markings import TLP2_EXTENSION_ID, TLP2_IDS, tlp_marking
from ppcti.stix.options import CtiOptions
from ppcti.stix.writer import CtiSummary, read_events, write_cti

__all__ = [
    "TLP2_EXTENSION_ID",
    "TLP2_IDS",
    "Aggregator",
    "Built",
    "BundleBuilder",
    "CtiOptions",
    "CtiSummary",
    "Problem",
    "build_event",
    "bundle_for_event",
    "bundle_json",
    "canonical_json",
    "read_events",
    "sco_id",
    "sdo_id",
    "stix_pattern",
    "tlp_marking",
    "value_sco_id",
    "write_cti",
]
