"""What a run folder says about the data: PII categories found, records, holders, and what leaves the
holder in each use. Read from the files a run writes (``summary.json``, ``pii.json``,
``cti/aggregate.json``), never from the pipeline's internals, so an assessment can be made of any run.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ppcti.errors import ConfigError, InputRefused
from ppcti.pii.vocabulary import load_vocabulary
from ppcti.stix.build import pattern_value

#: Findings below this confidence are not counted as present (the knowledge graph's threshold too).
MIN_CONFIDENCE = 0.5


@dataclass(slots=True)
class RunEvidence:
    run_dir: Path
    summary: dict[str, Any]
    pii: dict[str, Any]
    aggregate: dict[str, Any] | None
    kinds: dict[str, str] = field(default_factory=dict)
    special: set[str] = field(default_factory=set)

    @property
    def findings(self) -> list[dict[str, Any]]:
        return [f for f in self.pii.get("findings", []) if f.get("confidence", 0) >= MIN_CONFIDENCE]

    def types(self) -> set[str]:
        return {f["type"] for f in self.findings}

    def of_kind(self, kind: str) -> set[str]:
        return {t for t in self.types() if self.kinds.get(t, "attribute") == kind}

    def special_types(self) -> set[str]:
        return self.types() & self.special

    def reid_flag(self) -> bool:
        return any(f.get("flag") == "reidentification-risk" for f in self.pii.get("flags", []))


def _read_json(path: Path, what: str, *, required: bool) -> Any:
    if not path.is_file():
        if required:
            raise InputRefused(f"{path.parent.name}/{path.name} is missing: {what}")
        return None
    try:
        return orjson.loads(path.read_bytes())
    except (orjson.JSONDecodeError, OSError):
        raise InputRefused(f"{path.name} is not valid JSON: {what}") from None


def read_run(run_dir: Path) -> RunEvidence:
    """The evidence of one run folder; ``pii.json`` and ``summary.json`` are required."""
    if not run_dir.is_dir():
        raise ConfigError(f"{run_dir.name}: not a run folder (run `ppcti run` first)")
    summary = _read_json(run_dir / "summary.json", "the run's summary (ppcti run writes it)", required=True)
    pii = _read_json(run_dir / "pii.json", "the PII report (run without --skip pii)", required=True)
    if not isinstance(summary, dict) or not isinstance(pii, dict) or not isinstance(
        pii.get("findings", []), list
    ):
        raise InputRefused("summary.json or pii.json does not have the shape ppcti writes")
    aggregate = _read_json(run_dir / "cti" / "aggregate.json", "the CTI aggregate", required=False)
    vocab = load_vocabulary()
    kinds = {c.type_id: c.identifier_kind for c in vocab.categories.values()}
    special = {c.type_id for c in vocab.categories.values() if c.special_category}
    return RunEvidence(run_dir, summary, pii, aggregate if isinstance(aggregate, dict) else None, kinds,
                       special)


def data_profile(ev: RunEvidence, subjects: list[str]) -> dict[str, Any]:
    """Categories of personal data present and how much of it there is."""
    counts = Counter(f["type"] for f in ev.findings)
    return {
        "types": dict(sorted(counts.items())),
        "direct_identifiers": sorted(ev.of_kind("direct")),
        "quasi_identifiers": sorted(ev.of_kind("quasi")),
        "special_categories": sorted(ev.special_types()),
        "minors": "minors" in subjects,
        "records": int(ev.summary.get("events", 0)),
        "files": len(ev.pii.get("files", [])),
        "holders": sorted({h for h in [ev.summary.get("holder"), ev.pii.get("holder")] if h}),
        "use_case": ev.pii.get("use_case"),
        "flags": [{k: f.get(k) for k in ("flag", "severity", "types", "reason")}
                  for f in ev.pii.get("flags", [])],
    }


def _indicator_counts(aggregate: dict[str, Any] | None) -> dict[str, Any]:
    if not aggregate:
        return {"objects": 0}
    objects = aggregate.get("objects", [])
    by_type = Counter(o.get("type") for o in objects if isinstance(o, dict))
    nonpublic = sum(1 for value in _shared_addresses(objects) if not _is_global(value))
    return {"objects": len(objects), "by_type": dict(sorted(by_type.items())),
            "non_public_addresses": nonpublic}


def _shared_addresses(objects: list[Any]) -> list[str]:
    """Addresses the bundle shares: address objects, and the value of single-address indicators."""
    found: list[str] = []
    for o in objects:
        if not isinstance(o, dict):
            continue
        if o.get("type") in ("ipv4-addr", "ipv6-addr"):
            found.append(str(o.get("value")))
        elif o.get("type") == "indicator":
            single = pattern_value(str(o.get("pattern") or ""))
            if single is not None and single[0] in ("ipv4-addr", "ipv6-addr"):
                found.append(single[1])
    return found


def _is_global(value: str) -> bool:
    try:
        return ipaddress.ip_network(value, strict=False).is_global
    except ValueError:
        return True  # not an address: nothing private to count


def exposure(ev: RunEvidence, uses: list[str]) -> dict[str, Any]:
    """What leaves the holder in each use the profile names, as far as the run shows it."""
    out: dict[str, Any] = {}
    if "cti-sharing" in uses:
        counts = _indicator_counts(ev.aggregate)
        out["cti-sharing"] = {
            "what": "the STIX aggregate (indicators and sightings) to the sharing community",
            **counts,
            "warning": "non-public addresses are in the shared CTI" if counts.get("non_public_addresses")
            else None,
        }
    if "enrichment" in uses:
        stages = ev.summary.get("stages")
        enrich = stages.get("enrich") if isinstance(stages, dict) else None
        sent = enrich.get("sent") if isinstance(enrich, dict) else None
        out["enrichment"] = {
            "what": "public attacker addresses and e-mail addresses to the enrichment services",
            # counts only: the values themselves stay in the run folder's summary
            "sent": {svc: len(v) for svc, v in sent.items() if isinstance(v, list)}
            if isinstance(sent, dict) else None,
            "note": None if isinstance(sent, dict) else "no enrichment in this run",
        }
    if "fhe-correlation" in uses:
        out["fhe-correlation"] = {
            "what": "ciphertexts of the holder's addresses (CTIEncrypt-K); one found/not-found per address "
                    "returns, readable only with the holder's secret key",
        }
    if "tee-processing" in uses:
        out["tee-processing"] = {
            "what": "the upload, over attested TLS into the enclave; sealed at rest, erased after the "
                    "session",
        }
    return out
