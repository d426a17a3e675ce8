"""Enrichment as STIX 2.1: a note per (indicator, service), an opinion per indicator, one extension.

* A ``note`` carries what one service said: its name as author and external reference (with a link to
  the service's page for the value), the verdict and score in its abstract and text, and its fetch
  time as ``created``. The structured fields (score, verdict, categories, first/last seen, fetched_at)
  travel in a property extension, because STIX has no property for them on a note and strict
  validation refuses custom properties.
* An ``opinion`` per indicator carries the overall judgement: its ``confidence`` is the overall
  confidence (:mod:`ppcti.enrich.scoring`) and ``opinion`` the coarse STIX scale; the same extension
  holds the verdict and which services contributed.
* The ``extension-definition`` of that property extension is shipped in the bundle, so a consumer
  can look the fields up.

All ids are content-derived (:func:`ppcti.stix.ids.sdo_id`), so a re-run with the same answers
writes the same objects. The bundle is written as ``cti/enrichment.json`` and merged into
``cti/aggregate.json``: objects of an earlier enrichment are replaced, nothing else is touched.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from ppcti.enrich.model import Indicator, Result
from ppcti.enrich.scoring import Overall
from ppcti.errors import InputRefused
from ppcti.stix.ids import sdo_id

ENRICHMENT_FILE = "enrichment.json"
EXTENSION_ID = "extension-definition--" + sdo_id("x", "ppcti-enrichment-v1").split("--", 1)[1]
_EPOCH = "2024-01-01T00:00:00.000Z"
_OPINION = (
    (90, "malicious", "strongly-agree"),
    (0, "malicious", "agree"),
    (0, "suspicious", "neutral"),
    (0, "harmless", "disagree"),
    (0, "unknown", "neutral"),
)


def _millis(stamp: str | None) -> str:
    """``2024-05-01T10:00:00Z`` → ``2024-05-01T10:00:00.000Z`` (STIX timestamps to the millisecond)."""
    if not stamp:
        return _EPOCH
    if "." in stamp:
        return stamp
    return stamp[:-1] + ".000Z" if stamp.endswith("Z") else stamp + ".000Z"


def _ext(**fields: Any) -> dict[str, Any]:
    body = {"extension_type": "property-extension"}
    body.update({k: v for k, v in fields.items() if v is not None and v != []})
    return {EXTENSION_ID: body}


def extension_definition(producer_id: str) -> dict[str, Any]:
    return {
        "type": "extension-definition",
        "spec_version": "2.1",
        "id": EXTENSION_ID,
        "created_by_ref": producer_id,
        "created": _EPOCH,
        "modified": _EPOCH,
        "name": "ppcti enrichment",
        "description": (
            "Reputation of an indicator at one service (on notes: service, verdict, score 0-100, "
            "categories, first_seen, last_seen, fetched_at, from_cache) and overall (on opinions: "
            "verdict, score, services)."
        ),
        "schema": "https://github.com/ppcti/ppcti/blob/main/docs/enrich.md#stix",
        "version": "1.0.0",
        "extension_types": ["property-extension"],
    }


def build_bundle(
    results: Sequence[Result],
    overall: Sequence[Overall],
    indicators: Mapping[str, Indicator],
    *,
    labels: Mapping[str, str],
    links: Mapping[tuple[str, str], str | None],
    marking: dict[str, Any],
    producer: dict[str, Any],
) -> dict[str, Any]:
    """The enrichment bundle: marking, producer, extension definition, notes, opinions."""
    marks = [marking["id"]]
    producer_id = producer["id"]
    objects: list[dict[str, Any]] = [marking, producer, extension_definition(producer_id)]
    for result in results:
        indicator = indicators.get(result.value)
        refs = _refs(indicator)
        if not result.usable or not refs:
            continue
        label = labels.get(result.service, result.service)
        created = _millis(result.fetched_at)
        cats = ", ".join(result.categories) or "none"
        link = links.get((result.service, result.value))
        # the link goes into the description: strict validation wants a hash beside any "url"
        reference = {
            "source_name": label,
            "description": f"{label} reputation lookup" + (f": {link}" if link else ""),
        }
        found = result.status == "ok"
        objects.append(
            {
                "type": "note",
                "spec_version": "2.1",
                "id": sdo_id("note", result.service, result.value, result.fetched_at, result.score),
                "created_by_ref": producer_id,
                "created": created,
                "modified": created,
                "abstract": f"{label}: {result.verdict} ({result.score}/100)"
                if found
                else f"{label}: not known",
                "content": (
                    f"{label} rates this indicator {result.verdict} with a score of {result.score}/100 "
                    f"(categories: {cats}; first seen {result.first_seen or 'n/a'}, last seen "
                    f"{result.last_seen or 'n/a'})."
                    if found
                    else f"{label} holds no record of this indicator."
                ),
                "authors": [label],
                "object_refs": refs,
                "external_references": [reference],
                "object_marking_refs": marks,
                "extensions": _ext(
                    service=result.service,
                    verdict=result.verdict,
                    score=result.score,
                    categories=list(result.categories),
                    first_seen=_millis(result.first_seen) if result.first_seen else None,
                    last_seen=_millis(result.last_seen) if result.last_seen else None,
                    fetched_at=created,
                    from_cache=result.from_cache,
                ),
            }
        )
    for item in overall:
        refs = _refs(indicators.get(item.value))
        if not refs:
            continue
        latest = max((_millis(r.fetched_at) for r in item.sources), default=_EPOCH)
        services = sorted({r.service for r in item.sources})
        opinion = next(o for at, v, o in _OPINION if v == item.verdict and item.confidence >= at)
        objects.append(
            {
                "type": "opinion",
                "spec_version": "2.1",
                "id": sdo_id("opinion", item.value, item.confidence, item.verdict, services, latest),
                "created_by_ref": producer_id,
                "created": latest,
                "modified": latest,
                "explanation": (
                    f"Overall {item.verdict}, confidence {item.confidence}/100, from "
                    + ", ".join(labels.get(s, s) for s in services)
                    + " (noisy-OR of weighted service scores; see docs/enrich.md)."
                ),
                "authors": ["ppcti enrichment"],
                "opinion": opinion,
                "confidence": item.confidence,
                "object_refs": refs,
                "object_marking_refs": marks,
                "extensions": _ext(verdict=item.verdict, score=item.confidence, services=services),
            }
        )
    digest = sdo_id("bundle", "enrichment", *(o["id"] for o in objects))
    return {"type": "bundle", "id": digest, "objects": objects}


def _refs(indicator: Indicator | None) -> list[str]:
    """The indicator the note is about; its address object only without one. The aggregate the notes
    are merged into holds indicators, not addresses (those stay in ``observations.json``), so a
    reference to the address would point outside the bundle that is shared."""
    if indicator is None:
        return []
    ref = indicator.indicator_id or indicator.sco_id
    return [ref] if ref else []


def marking_and_producer(aggregate: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The aggregate's TLP marking and producer identity, reused so the enrichment shares them."""
    objects = aggregate.get("objects") or []
    marking = next((o for o in objects if o.get("type") == "marking-definition"), None)
    producer = next(
        (o for o in objects if o.get("type") == "identity" and o.get("identity_class") == "system"), None
    )
    if marking is None or producer is None:
        raise InputRefused("cti/aggregate.json has no marking or producer identity")
    return marking, producer


def write_and_merge(cti_dir: Path, bundle: dict[str, Any], aggregate: dict[str, Any]) -> int:
    """Write ``cti/enrichment.json`` and merge its objects into ``cti/aggregate.json``.

    Objects of an earlier enrichment (the ids in the previous ``enrichment.json`` that are notes,
    opinions or the extension definition) are removed first, so re-running enrich replaces rather
    than piles up. Returns the number of objects added to the aggregate.
    """
    path = cti_dir / ENRICHMENT_FILE
    stale: set[str] = set()
    if path.is_file():
        try:
            previous = orjson.loads(path.read_bytes())
            stale = {
                o["id"]
                for o in previous.get("objects", [])
                if isinstance(o, dict) and o.get("type") in ("note", "opinion", "extension-definition")
            }
        except (orjson.JSONDecodeError, AttributeError, KeyError, TypeError):
            stale = set()
    _atomic(path, orjson.dumps(bundle))
    kept = [o for o in aggregate["objects"] if o.get("id") not in stale]
    present = {o.get("id") for o in kept}
    added = [o for o in bundle["objects"] if o["id"] not in present]
    merged = {**aggregate, "objects": kept + added}
    _atomic(cti_dir / "aggregate.json", orjson.dumps(merged))
    return len(added)


def _atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(data)
    os.replace(tmp, path)
