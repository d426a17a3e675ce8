"""The official STIX → MISP conversion (misp-stix) of a run's aggregate, next to ppcti's own export.

MISP imports STIX 2.1 through misp-stix's ``ExternalSTIX2toMISPParser``; what survives that import is
what a MISP user of ppcti's STIX sees. :func:`compare` converts the aggregate bundle with it and with
:mod:`ppcti.misp.export` and counts, per side, what docs/misp.md discusses: objects and attributes by
kind, sightings, TLP tags (on the event, or on each attribute when the event has none), duplicate
attribute uuids and the converter's warnings.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import orjson

from ppcti.misp.export import build_event, load_aggregate


def misp_stix_events(bundle: dict[str, Any]) -> tuple[list[Any], int]:
    """The MISP events misp-stix makes of the bundle, and how many warnings it raised."""
    from misp_stix_converter import ExternalSTIX2toMISPParser
    from stix2.parsing import parse as stix_parse

    parsed = stix_parse(orjson.dumps(bundle).decode(), allow_custom=True, interoperability=True)
    parser = ExternalSTIX2toMISPParser()
    parser.load_stix_bundle(parsed)
    parser.parse_stix_bundle()
    events = parser.misp_events
    events = events if isinstance(events, list) else [parser.misp_event]
    warnings = parser.warnings
    count = sum(len(v) for v in warnings.values()) if isinstance(warnings, dict) else len(warnings or [])
    return events, count


def describe(events: list[Any]) -> dict[str, Any]:
    """Counts a reviewer compares between two conversions of the same CTI."""
    objects: Counter[str] = Counter()
    attributes: Counter[str] = Counter()
    sightings = untagged = 0
    uuids: Counter[str] = Counter()
    event_tags: set[str] = set()
    for event in events:
        tlp_on_event = any(t.name.startswith("tlp:") for t in event.tags)
        event_tags.update(t.name for t in event.tags)
        flat = list(event.attributes)
        for obj in event.objects:
            objects[obj.name] += 1
            flat += obj.attributes
        for attr in flat:
            attributes[attr.type] += 1
            sightings += len(attr.sightings)
            uuids[attr.uuid] += 1
            if not tlp_on_event and not any(t.name.startswith("tlp:") for t in attr.tags):
                untagged += 1
    return {
        "events": len(events),
        "objects": sum(objects.values()),
        "objects_by_name": dict(sorted(objects.items())),
        "attributes": sum(attributes.values()),
        "attributes_by_type": dict(sorted(attributes.items())),
        "to_ids": sum(
            1
            for e in events
            for a in [*e.attributes, *(x for o in e.objects for x in o.attributes)]
            if a.to_ids
        ),
        "sightings": sightings,
        "event_tags": sorted(event_tags),
        "untagged_attributes": untagged,
        "duplicate_uuids": sum(n - 1 for n in uuids.values() if n > 1),
    }


def compare(source: str | Path) -> dict[str, Any]:
    """Both conversions of one run's CTI, described side by side: misp-stix reads the aggregate bundle
    as MISP imports it, ppcti's export the aggregate with the run's observations."""
    aggregate = load_aggregate(source, observations=False)
    full = load_aggregate(source, observations=True)
    event, _summary = build_event(full)
    converted, warnings = misp_stix_events(aggregate)
    return {
        "ppcti": {**describe([event]), "warnings": 0},
        "misp-stix": {**describe(converted), "warnings": warnings},
        "stix": _types(aggregate),
        "stix_with_observations": _types(full),
    }


def _types(bundle: dict[str, Any]) -> dict[str, int]:
    return dict(sorted(Counter(o.get("type") for o in bundle.get("objects") or []).items()))
