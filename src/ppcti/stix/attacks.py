"""STIX 2.1 for the attack analysis: attack patterns, campaigns, indicators and their relationships.

Built from the ``attacks`` section of insights.json (the analysis and STIX meet through that record,
not through each other's code), and written as one bundle, ``cti/attacks.json``:

* one ``attack-pattern`` per attack class seen, with its MITRE ATT&CK technique(s) and CAPEC pattern as
  ``external_references`` and its ATT&CK tactic as kill-chain phase;
* one ``campaign`` per cluster of similar attackers, ``uses`` → the attack patterns of its classes;
* one ``indicator`` per public IP address listed as a campaign member, ``indicates`` → its campaign and
  → the campaign's main attack pattern. Non-public addresses never become indicators.

Every object carries the TLP marking and is created by the producer identity; ids are content-derived
(:func:`~ppcti.stix.ids.sdo_id`), and ``created`` comes from the data, so a re-run is byte-identical.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import orjson

from ppcti.stix.ids import sdo_id
from ppcti.stix.markings import TLP2_IDS, tlp_marking
from ppcti.stix.normalise import millis
from ppcti.stix.options import CtiOptions

ATTACKS_BUNDLE = "attacks.json"


def _references(cls: dict[str, Any]) -> list[dict[str, str]]:
    """ATT&CK and CAPEC ids as STIX names them (no URLs: the strict validator wants a hash with each)."""
    refs = [
        {
            "source_name": "mitre-attack",
            "external_id": t["id"],
            "description": t["name"],
        }
        for t in cls.get("techniques", [])
    ]
    refs += [{"source_name": "capec", "external_id": c} for c in cls.get("capec", [])]
    return refs


def _ip_pattern(value: str) -> str | None:
    try:
        ip = ipaddress.ip_address(value)
    except ValueError:
        return None
    kind = "ipv4-addr" if ip.version == 4 else "ipv6-addr"
    return f"[{kind}:value = '{ip.compressed}']"


class _Bundle:
    def __init__(self, options: CtiOptions) -> None:
        self.options = options
        self.marking = tlp_marking(options.tlp)
        self.marking_id = TLP2_IDS[options.tlp]
        created = options.identity_created
        self.producer = {
            "type": "identity",
            "spec_version": "2.1",
            "id": sdo_id("identity", options.producer, "system", created),
            "created": created,
            "modified": created,
            "name": options.producer,
            "identity_class": "system",
        }
        self.objects: list[dict[str, Any]] = [self.marking, self.producer]

    def sdo(self, kind: str, key: tuple[Any, ...], created: str, **props: Any) -> dict[str, Any]:
        obj = {
            "type": kind,
            "spec_version": "2.1",
            "id": sdo_id(kind, *key),
            "created_by_ref": self.producer["id"],
            "created": created,
            "modified": created,
            **props,
            "object_marking_refs": [self.marking_id],
        }
        self.objects.append(obj)
        return obj

    def relate(self, source: str, kind: str, target: str, created: str) -> None:
        self.sdo(
            "relationship",
            (source, kind, target),
            created,
            relationship_type=kind,
            source_ref=source,
            target_ref=target,
        )


def attack_objects(attacks: dict[str, Any], options: CtiOptions = CtiOptions()) -> list[dict[str, Any]]:
    """The STIX objects for an ``attacks`` section of insights.json (see the module docstring)."""
    b = _Bundle(options)
    fixed = options.identity_created
    patterns: dict[str, str] = {}
    for cls in attacks.get("classes", []):
        props: dict[str, Any] = {"name": cls["label"], "description": f"ppcti attack class '{cls['cls']}'"}
        refs = _references(cls)
        if refs:
            props["external_references"] = refs
        tactic = cls.get("tactic")
        if tactic:
            props["kill_chain_phases"] = [{"kill_chain_name": "mitre-attack", "phase_name": tactic}]
        obj = b.sdo("attack-pattern", ("ppcti-attack-class", cls["cls"]), fixed, **props)
        patterns[cls["cls"]] = obj["id"]
    for camp in attacks.get("campaigns", []):
        created = millis(camp["first_seen"]) if camp.get("first_seen") else fixed
        props = {
            "name": f"{camp['campaign']}: {camp['name']}",
            "description": (
                f"{camp['members_count']} attackers with similar behaviour, {camp['events']} entries, "
                f"holders: {', '.join(camp['holders'])}"
            ),
        }
        if camp.get("first_seen"):
            props["first_seen"] = millis(camp["first_seen"])
            props["last_seen"] = millis(camp["last_seen"])
        key = ("ppcti-campaign", camp["campaign"], camp["holders"], sorted(camp["members"]))
        campaign = b.sdo("campaign", key, created, **props)
        for mix in camp.get("classes", []):
            if mix["cls"] in patterns:
                b.relate(campaign["id"], "uses", patterns[mix["cls"]], created)
        main = patterns.get(camp.get("main_class", ""))
        for member in camp.get("public_members", []):
            pattern = _ip_pattern(member)
            if pattern is None:
                continue
            indicator = b.sdo(
                "indicator",
                ("ppcti-campaign-member", pattern, campaign["id"]),
                created,
                name=f"{member} ({camp['campaign']})",
                description=f"Member of campaign {camp['campaign']}: {camp['name']}",
                indicator_types=["malicious-activity"],
                pattern=pattern,
                pattern_type="stix",
                valid_from=created,
            )
            b.relate(indicator["id"], "indicates", campaign["id"], created)
            if main:
                b.relate(indicator["id"], "indicates", main, created)
    return b.objects


def attack_bundle(attacks: dict[str, Any], options: CtiOptions = CtiOptions()) -> dict[str, Any]:
    objects = attack_objects(attacks, options)
    return {"type": "bundle", "id": sdo_id("bundle", [o["id"] for o in objects]), "objects": objects}


def write_attack_bundle(attacks: dict[str, Any], path: Path, options: CtiOptions = CtiOptions()) -> Path:
    """Write :func:`attack_bundle` to ``path`` (atomically: a crashed run leaves no half file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(orjson.dumps(attack_bundle(attacks, options), option=orjson.OPT_INDENT_2) + b"\n")
    tmp.replace(path)
    return path
