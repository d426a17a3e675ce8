"""The run-wide deduplicated bundles: ``aggregate.json`` (the shared CTI) and ``observations.json``.

Per-entry bundles say "holder H saw this entry"; the aggregate says it once per fact: one indicator per
attacker and one ``sighting`` per (indicator, holder) with ``count``, ``first_seen`` and ``last_seen``. An
attacker seen by two holders therefore has two sightings of the same indicator, each
``where_sighted_refs`` its holder's identity, which is how "seen by more than one holder" shows in STIX.

The distinct observations (addresses, traffic, messages: every SCO once) go to a bundle of their own.
Two reasons. They are the holder's evidence, not the intelligence it shares: the targets inside them are
the holder's own (often private) addresses. And a consumer that links indicators to observables carrying
the same value loses the sightings: MISP's import (misp-stix) folds such an indicator into the
observable's attributes under new uuids, so the sightings, which point at the indicator, find nothing.
With the indicators alone, each becomes one attribute with the indicator's uuid and keeps its sightings.

Memory holds distinct objects only, each SCO as its serialised bytes; per-attacker state is a few
strings and counters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from hashlib import sha1
from typing import Any

import orjson

from ppcti.stix import normalise as norm
from ppcti.stix.build import Built, BundleBuilder
from ppcti.stix.ids import sdo_id
from ppcti.stix.parts import PATTERN_LABEL


@dataclass(slots=True)
class _Sighting:
    count: int = 0
    first: str = ""
    last: str = ""
    first_key: str = "~"
    last_key: str = ""


@dataclass(slots=True)
class _Attacker:
    sco_type: str
    pattern: str
    first: str = ""
    first_key: str = "~"
    types: set[str] = field(default_factory=set)
    holders: dict[str, _Sighting] = field(default_factory=dict)


class Aggregator:
    """Collects :class:`~ppcti.stix.build.Built` results into one deduplicated bundle."""

    def __init__(self, builder: BundleBuilder) -> None:
        self.builder = builder
        self._scos: dict[str, bytes] = {}
        self._holders: dict[str, None] = {}
        self._attackers: dict[str, _Attacker] = {}
        self.object_count = 0
        self.observation_count = 0
        self._skip = {"indicator"}
        if not builder.options.aggregate_observations:
            self._skip |= {"network-traffic", "email-message"}

    def add(self, built: Built) -> None:
        if built.json is None or built.holder is None:
            return
        self._holders.setdefault(built.holder, None)
        scos = self._scos
        skip = self._skip
        # marking and identity come first and are rebuilt at the end; each part is its object's JSON
        for oid, part in zip(built.ids[2:], built.parts[2:], strict=True):
            if oid not in scos and oid[: oid.index("--")] not in skip:
                scos[oid] = part.encode()
        if built.attacker is None or built.timestamp is None:
            return
        sco_type, _value, pattern = built.attacker
        attacker = self._attackers.get(pattern)
        if attacker is None:
            attacker = self._attackers[pattern] = _Attacker(sco_type, pattern)
        attacker.types.update(built.indicator_types)
        ts = built.timestamp
        key = norm.sort_key(ts)
        if key < attacker.first_key:
            attacker.first, attacker.first_key = ts, key
        sighting = attacker.holders.get(built.holder)
        if sighting is None:
            sighting = attacker.holders[built.holder] = _Sighting()
        sighting.count += 1
        if key < sighting.first_key:
            sighting.first, sighting.first_key = ts, key
        if key > sighting.last_key:
            sighting.last, sighting.last_key = ts, key

    @property
    def holders(self) -> list[str]:
        return list(self._holders)

    @property
    def attackers(self) -> int:
        return len(self._attackers)

    @property
    def attackers_seen_by_several(self) -> int:
        return sum(1 for a in self._attackers.values() if len(a.holders) > 1)

    def observation_objects(self) -> list[Any]:
        """Marking, producer identity and the distinct SCOs (as serialised bytes), in a fixed order."""
        b = self.builder
        return [b.marking, b.identity(b.options.producer, "system"), *self._scos.values()]

    def objects(self) -> list[Any]:
        """Marking, identities, indicators and sightings, in a fixed order."""
        b = self.builder
        opts = b.options
        marks = [b.marking_id]
        producer = b.identity(opts.producer, "system")
        out: list[Any] = [b.marking, producer, *(b.identity(h) for h in self._holders)]
        sightings: list[dict[str, Any]] = []
        for attacker in self._attackers.values():
            types = sorted(attacker.types)
            created = norm.millis(attacker.first)
            indicator_id = sdo_id(
                "indicator", opts.producer, attacker.pattern, attacker.first, types, opts.tlp
            )
            out.append(
                {
                    "type": "indicator",
                    "spec_version": "2.1",
                    "id": indicator_id,
                    "created_by_ref": producer["id"],
                    "created": created,
                    "modified": created,
                    "name": f"Attacking {PATTERN_LABEL[attacker.sco_type]}",
                    "description": f"Attacking side seen by {len(attacker.holders)} data holder(s).",
                    "indicator_types": types,
                    "pattern": attacker.pattern,
                    "pattern_type": "stix",
                    "pattern_version": "2.1",
                    "valid_from": attacker.first,
                    "object_marking_refs": marks,
                }
            )
            for holder, s in attacker.holders.items():
                identity_id = b.identity_id(holder)
                sightings.append(
                    {
                        "type": "sighting",
                        "spec_version": "2.1",
                        "id": sdo_id("sighting", indicator_id, identity_id, opts.tlp),
                        "created_by_ref": identity_id,
                        "created": norm.millis(s.first),
                        "modified": norm.millis(s.last),
                        "first_seen": s.first,
                        "last_seen": s.last,
                        "count": s.count,
                        "sighting_of_ref": indicator_id,
                        "where_sighted_refs": [identity_id],
                        "object_marking_refs": marks,
                    }
                )
        out.extend(sightings)
        return out

    def _report(self, ids: list[str], content: str, name: str) -> dict[str, Any] | None:
        """One ``report`` over the whole bundle, carrying its TLP marking.

        A consumer that turns a bundle into one record (MISP's import through misp-stix makes the report
        its event) then marks that record as a whole; without it the TLP of objects nested inside other
        objects is lost on import. Only with attackers: their times date the report reproducibly.
        """
        if not self._attackers:
            return None
        opts = self.builder.options
        first = min((a.first for a in self._attackers.values()), key=norm.sort_key)
        last = max((s.last for a in self._attackers.values() for s in a.holders.values()), key=norm.sort_key)
        return {
            "type": "report",
            "spec_version": "2.1",
            "id": sdo_id("report", opts.producer, content, opts.tlp),
            "created_by_ref": self.builder.identity_id(opts.producer, "system"),
            "created": norm.millis(first),
            "modified": norm.millis(last),
            "name": f"{name} from {', '.join(self._holders)}",
            "report_types": ["threat-report"],
            "published": norm.millis(last),
            "object_refs": [i for i in ids if not i.startswith("marking-definition--")],
            "object_marking_refs": [self.builder.marking_id],
        }

    def to_json(self) -> bytes:
        """The aggregate bundle, serialised; the bundle id hashes the ids of everything in it."""
        data, self.object_count = self._bundle(self.objects(), "aggregate", "CTI")
        return data

    def observations_json(self) -> bytes:
        """The observations bundle, serialised like the aggregate."""
        data, self.observation_count = self._bundle(
            self.observation_objects(), "observations", "Observations"
        )
        return data

    def _bundle(self, objects: list[Any], kind: str, name: str) -> tuple[bytes, int]:
        digest = sha1()
        parts: list[bytes] = []
        ids: list[str] = []
        for obj in objects:
            if isinstance(obj, bytes):
                parts.append(obj)
                oid = obj[obj.index(b'"id":"') + 6 : obj.index(b'"', obj.index(b'"id":"') + 6)]
                digest.update(oid)
                ids.append(oid.decode())
            else:
                parts.append(orjson.dumps(obj))
                digest.update(obj["id"].encode())
                ids.append(obj["id"])
        report = self._report(ids, digest.hexdigest(), name)
        if report is not None:
            parts.append(orjson.dumps(report))
            digest.update(report["id"].encode())
        bundle_id = sdo_id("bundle", kind, self.builder.options.producer, digest.hexdigest())
        data = b'{"type":"bundle","id":"' + bundle_id.encode() + b'","objects":[' + b",".join(parts) + b"]}"
        return data, len(parts)
