"""A run's CTI as one MISP event (PyMISP), built straight from the aggregate STIX bundle and the run's
observations.

misp-stix, MISP's own STIX import, reads the aggregate alone well (one attribute per indicator, with its
uuid and sightings; docs/misp.md compares both on the same run). This export maps the indicators to
MISP's standard templates and, when asked (``--with-observations``, for the holder's own MISP), adds what
the aggregate leaves to ``observations.json``, each observation as an object; every STIX object keeps
its uuid:

=====================  =========================================================================
STIX                   MISP
=====================  =========================================================================
indicator (IPv4/IPv6)  ``ip-port`` object (uuid of the indicator): ``ip`` (ip-src, to_ids), the
                       ports it attacked, first/last seen; one sighting per data holder
indicator (e-mail)     ``email-src`` attribute (uuid of the indicator, to_ids); sightings per holder
network-traffic        ``network-connection`` object (uuid of the SCO)
email-message          ``email`` object (uuid of the SCO): from, to, cc, subject, send-date
mac-addr               ``mac-address`` attribute (uuid of the SCO)
TLP 2.0 marking        ``tlp:<level>`` tag on the event (MISP's tlp taxonomy)
attack-pattern         ``misp-galaxy:mitre-attack-pattern="<name> - <id>"`` tag on the event and on
                       the indicators that ``indicates`` it
=====================  =========================================================================

Attribute uuids inside objects are UUIDv5 of (object uuid, relation, value), unique per object, so one
e-mail address in several messages never produces two attributes with the same uuid.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from ppcti.errors import FormatError, InputRefused
from ppcti.fhe.feeds import stix_pattern_values

#: Namespace of the uuids given to attributes inside objects.
ATTRIBUTE_NAMESPACE = uuid.UUID("6c1a3a4e-2f0b-5d6b-9a43-2b1d3a6f0c11")
#: Colours of MISP's tlp taxonomy (TLP 2.0), so tags look in MISP as MISP's own do.
_TLP_COLOUR = {
    "tlp:clear": "#FFFFFF",
    "tlp:green": "#33FF00",
    "tlp:amber": "#FFC000",
    "tlp:amber+strict": "#FFC000",
    "tlp:red": "#FF2B2B",
}
_TLP_NAME = {
    "clear": "tlp:clear",
    "green": "tlp:green",
    "amber": "tlp:amber",
    "amber+strict": "tlp:amber+strict",
    "red": "tlp:red",
}


@dataclass(frozen=True, slots=True)
class MispExportSummary:
    event_uuid: str
    objects: int
    attributes: int
    sightings: int
    tags: list[str]


def load_aggregate(source: str | Path, *, observations: bool = False) -> dict[str, Any]:
    """The aggregate bundle of a run folder (``cti/aggregate.json``) or a bundle file.

    With ``observations``, the objects of ``observations.json`` beside it (a run's distinct traffic,
    messages and addresses) are added, so the event gets its ``network-connection`` and ``email``
    objects; a bundle file without that sibling is taken alone. Off by default: the observations hold
    the holder's own addresses and its people's e-mail addresses (the recipients), which belong in the
    holder's own MISP at most, never in an event shared by default.
    """
    path = Path(source)
    if path.is_dir():
        path = path / "cti" / "aggregate.json"
    if not path.is_file():
        raise InputRefused("no aggregate STIX bundle (cti/aggregate.json) found", file=str(path))
    bundle = _read_bundle(path)
    extra = path.with_name("observations.json")
    if observations and path.name == "aggregate.json" and extra.is_file():
        seen = {o.get("id") for o in bundle.get("objects") or [] if isinstance(o, dict)}
        added = [
            o
            for o in _read_bundle(extra).get("objects") or []
            if isinstance(o, dict) and o.get("id") not in seen and o.get("type") != "report"
        ]
        bundle = {**bundle, "objects": [*(bundle.get("objects") or []), *added]}
    return bundle


def _read_bundle(path: Path) -> dict[str, Any]:
    try:
        bundle = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise FormatError(f"not valid JSON ({exc.msg})", file=str(path)) from None
    if not isinstance(bundle, dict) or bundle.get("type") != "bundle":
        raise FormatError("not a STIX bundle", file=str(path))
    return bundle


def _uuid(stix_id: str) -> str:
    return stix_id.split("--", 1)[1]


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _attr_uuid(owner: str, relation: str, value: Any) -> str:
    return str(uuid.uuid5(ATTRIBUTE_NAMESPACE, f"{owner}|{relation}|{value}"))


def _tlp(objects: list[dict[str, Any]]) -> list[str]:
    from ppcti.stix.markings import TLP2_IDS

    levels = {v: k for k, v in TLP2_IDS.items()}
    return [_TLP_NAME[levels[o["id"]]] for o in objects if o.get("id") in levels]


def _galaxy_tag(pattern: dict[str, Any]) -> str | None:
    for ref in pattern.get("external_references") or []:
        if ref.get("source_name") == "mitre-attack" and ref.get("external_id"):
            name = str(pattern.get("name") or ref["external_id"]).replace('"', "'")
            return f'misp-galaxy:mitre-attack-pattern="{name} - {ref["external_id"]}"'
    return None


class _Builder:
    """Turns one aggregate bundle into one MISPEvent; holds the lookups the mapping needs."""

    def __init__(self, bundle: dict[str, Any]) -> None:
        from pymisp import MISPEvent, MISPOrganisation

        self.objects = [o for o in bundle.get("objects") or [] if isinstance(o, dict)]
        self.by_id = {o.get("id"): o for o in self.objects}
        self.event = MISPEvent()
        producer = next((o for o in self.objects if o.get("identity_class") == "system"), None)
        org = MISPOrganisation()
        org.from_dict(
            name=(producer or {}).get("name", "ppcti"),
            uuid=_uuid(producer["id"]) if producer else str(uuid.uuid5(ATTRIBUTE_NAMESPACE, "ppcti")),
        )
        self.event.Orgc = org
        self.event.uuid = _uuid(str(bundle.get("id") or "bundle--" + str(uuid.uuid4())))
        self.holders = {
            o["id"]: o.get("name", "")
            for o in self.objects
            if o.get("type") == "identity" and o.get("identity_class") != "system"
        }
        self.sightings: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.ports: dict[str, set[int]] = defaultdict(set)
        self.galaxy_of: dict[str, list[str]] = defaultdict(list)
        self.sighting_count = 0

    def prepare(self) -> None:
        for o in self.objects:
            kind = o.get("type")
            if kind == "sighting" and o.get("sighting_of_ref"):
                self.sightings[o["sighting_of_ref"]].append(o)
            elif kind == "network-traffic" and "dst_port" in o:
                src = self.by_id.get(o.get("src_ref"), {})
                if "value" in src:
                    self.ports[src["value"]].add(int(o["dst_port"]))
            elif kind == "relationship" and o.get("relationship_type") == "indicates":
                tag = _galaxy_tag(self.by_id.get(o.get("target_ref"), {}))
                if tag:
                    self.galaxy_of[o.get("source_ref", "")].append(tag)

    def _add_sightings(self, attribute: Any, indicator_id: str) -> None:
        from pymisp import MISPSighting

        for s in self.sightings.get(indicator_id, []):
            holder = self.holders.get((s.get("where_sighted_refs") or [""])[0], "")
            sighting = MISPSighting()
            sighting.from_dict(
                uuid=_uuid(s["id"]),
                source=holder,
                type="0",
                date_sighting=int(_ts(s.get("last_seen") or s["modified"]).timestamp()),
            )
            attribute.add_sighting(sighting)
            self.sighting_count += 1

    def indicator(self, o: dict[str, Any]) -> None:
        from pymisp import MISPObject

        values, _reason = stix_pattern_values(str(o.get("pattern") or ""))
        if len(values) != 1:
            return
        value = values[0]
        first = _ts(o["valid_from"])
        tags = self.galaxy_of.get(o["id"], [])
        if "@" in value:
            attr = self.event.add_attribute(
                "email-src",
                value,
                uuid=_uuid(o["id"]),
                to_ids=True,
                category="Payload delivery",
                comment=o.get("name", ""),
                first_seen=first,
            )
            for tag in tags:
                attr.add_tag(tag)
            self._add_sightings(attr, o["id"])
            return
        obj = MISPObject("ip-port", standalone=False)
        obj.uuid = _uuid(o["id"])
        obj.comment = o.get("description", "")
        obj.first_seen = first
        ip = obj.add_attribute(
            "ip", value=value, type="ip-src", to_ids=True, uuid=_attr_uuid(obj.uuid, "ip", value)
        )
        for port in sorted(self.ports.get(value, ())):
            obj.add_attribute(
                "dst-port", value=port, to_ids=False, uuid=_attr_uuid(obj.uuid, "dst-port", port)
            )
        for tag in tags:
            ip.add_tag(tag)
        self._add_sightings(ip, o["id"])
        self.event.add_object(obj)

    def network_traffic(self, o: dict[str, Any]) -> None:
        from pymisp import MISPObject

        obj = MISPObject("network-connection", standalone=False)
        obj.uuid = _uuid(o["id"])
        values: list[tuple[str, Any, str | None]] = []
        for relation, ref in (("ip-src", "src_ref"), ("ip-dst", "dst_ref")):
            sco = self.by_id.get(o.get(ref), {})
            if "value" in sco:
                values.append((relation, sco["value"], relation))
        for relation, key in (("src-port", "src_port"), ("dst-port", "dst_port")):
            if key in o:
                values.append((relation, o[key], None))
        protocols = [str(p) for p in o.get("protocols") or []]
        if protocols:
            values.append(("layer3-protocol", protocols[0].upper(), None))
        if len(protocols) > 1:
            values.append(("layer4-protocol", protocols[1].upper(), None))
        if "start" in o:
            values.append(("first-packet-seen", _ts(o["start"]), None))
        for relation, value, kind in values:
            extra = {"type": kind} if kind else {}
            obj.add_attribute(
                relation, value=value, to_ids=False, uuid=_attr_uuid(obj.uuid, relation, value), **extra
            )
        self.event.add_object(obj)

    def email_message(self, o: dict[str, Any]) -> None:
        from pymisp import MISPObject

        obj = MISPObject("email", standalone=False)
        obj.uuid = _uuid(o["id"])
        sender = self.by_id.get(o.get("from_ref"), {})
        if "value" in sender:
            obj.add_attribute(
                "from",
                value=sender["value"],
                to_ids=False,
                uuid=_attr_uuid(obj.uuid, "from", sender["value"]),
            )
        for relation, key in (("to", "to_refs"), ("cc", "cc_refs"), ("bcc", "bcc_refs")):
            for ref in o.get(key) or []:
                addr = self.by_id.get(ref, {})
                if "value" in addr:
                    obj.add_attribute(
                        relation,
                        value=addr["value"],
                        to_ids=False,
                        uuid=_attr_uuid(obj.uuid, relation, addr["value"]),
                    )
        if o.get("subject"):
            obj.add_attribute(
                "subject", value=o["subject"], uuid=_attr_uuid(obj.uuid, "subject", o["subject"])
            )
        if o.get("date"):
            obj.add_attribute(
                "send-date", value=_ts(o["date"]), uuid=_attr_uuid(obj.uuid, "send-date", o["date"])
            )
        if obj.attributes:
            self.event.add_object(obj)

    def build(self) -> Any:
        self.prepare()
        first: datetime | None = None
        for o in self.objects:
            kind = o.get("type")
            if kind == "indicator" and o.get("pattern_type", "stix") == "stix":
                self.indicator(o)
                ts = _ts(o["valid_from"])
                first = ts if first is None or ts < first else first
            elif kind == "network-traffic":
                self.network_traffic(o)
            elif kind == "email-message":
                self.email_message(o)
            elif kind == "mac-addr":
                self.event.add_attribute(
                    "mac-address", o["value"], uuid=_uuid(o["id"]), to_ids=False, category="Network activity"
                )
            elif kind == "attack-pattern":
                tag = _galaxy_tag(o)
                if tag:
                    self.event.add_tag(tag)
        for tag in _tlp(self.objects):
            self.event.add_tag(name=tag, colour=_TLP_COLOUR[tag])
        names = sorted(n for n in self.holders.values() if n)
        self.event.info = f"ppcti CTI from {', '.join(names) or 'data holders'}"
        self.event.date = (first or datetime.now(UTC)).date()
        self.event.analysis = 2
        self.event.threat_level_id = 2
        self.event.timestamp = datetime.now(UTC)
        self.event.published = True
        return self.event


def build_event(bundle: dict[str, Any]) -> tuple[Any, MispExportSummary]:
    """A ``pymisp.MISPEvent`` for the aggregate bundle, and what it holds."""
    builder = _Builder(bundle)
    event = builder.build()
    attributes = len(event.attributes) + sum(len(o.attributes) for o in event.objects)
    summary = MispExportSummary(
        event.uuid, len(event.objects), attributes, builder.sighting_count, [t.name for t in event.tags]
    )
    return event, summary
