"""Frozen copy of ``ppcti.stix.build`` as it was before the bundle builder was made faster.

Test-only: ``test_stix_differential.py`` checks that the optimised builder gives byte-identical bundles,
the same problems and the same aggregate inputs as this reference, for the sample upload and for
hypothesis-generated events. Do not optimise or "fix" this file: it is the oracle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import orjson

from ppcti.netrange import direction, unshareable
from ppcti.stix import normalise as norm
from ppcti.stix.ids import sco_id_from_canonical, sdo_id, value_sco_id
from ppcti.stix.markings import TLP2_IDS, tlp_marking
from ppcti.stix.options import DEFAULT_CACHE_SIZE, CtiOptions

_DUMPS = orjson.dumps
_MISS = object()

#: E-mail verdict words → indicator type. A benign verdict yields no indicator: an indicator asserts
#: suspicion, and would turn an ordinary correspondent's address into shared threat intelligence.
_VERDICT_WORDS: tuple[tuple[tuple[str, ...], str | None], ...] = (
    (("clean", "benign", "legit", "allowlist", "whitelist"), None),
    (("phish", "malware", "virus", "malicious", "spoof", "fraud", "bec", "impersonat"), "malicious-activity"),
    (("spam", "bulk", "suspicious", "quarantin", "junk"), "anomalous-activity"),
)
_PATTERN_LABEL = {"ipv4-addr": "IPv4 address", "ipv6-addr": "IPv6 address", "email-addr": "e-mail sender"}


@dataclass(frozen=True, slots=True)
class Problem:
    """A value that could not become valid STIX: where it was and why, never the value itself."""

    file: str | None
    line: int | None
    field: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "field": self.field, "reason": self.reason}


@dataclass(slots=True)
class Built:
    """The outcome for one event: the bundle (or why there is none) plus what the aggregate needs."""

    bundle: dict[str, Any] | None
    problems: list[Problem] = field(default_factory=list)
    reason: str | None = None
    holder: str | None = None
    timestamp: str | None = None
    #: ``(sco type, value, pattern)`` of the attacking side when an indicator was made.
    attacker: tuple[str, str, str] | None = None
    indicator_types: tuple[str, ...] = ()
    #: Why the attacking side was kept from the CTI (outbound traffic, non-public or own address).
    withheld: str | None = None


class BundleBuilder:
    """Builds bundles for one set of options; holds the precomputed marking and identity objects."""

    def __init__(self, options: CtiOptions | None = None) -> None:
        self.options = options or CtiOptions()
        self.marking_id = TLP2_IDS[self.options.tlp]
        self.marking = tlp_marking(self.options.tlp)
        self._identity_ids: dict[str, str] = {}
        self._identities: dict[str, dict[str, Any]] = {}
        # raw value -> normalised value and id (None: invalid), per SCO type; cleared when full
        self._ips: dict[str, tuple[str, str, str] | None] = {}
        self._values: dict[str, dict[str, tuple[str, str] | None]] = {"mac-addr": {}, "email-addr": {}}
        #: ``(holder, canonical address)`` of the holders' own infrastructure: never shared as attackers.
        self.own: set[tuple[str, str]] = set()

    def _address(self, raw: Any) -> tuple[str, str, str] | None:
        """``(sco type, canonical text, id)`` for a raw IP address, memoised."""
        if not isinstance(raw, str):
            return None
        found = self._ips.get(raw, _MISS)
        if found is _MISS:
            normalised = norm.ip_address(raw)
            found = None if normalised is None else (*normalised, value_sco_id(*normalised))
            if len(self._ips) >= DEFAULT_CACHE_SIZE:
                self._ips.clear()
            self._ips[raw] = found
        return found  # type: ignore[return-value]

    def _value(self, sco_type: str, raw: Any) -> tuple[str, str] | None:
        """``(canonical text, id)`` for a raw MAC or e-mail address, memoised."""
        if not isinstance(raw, str):
            return None
        cache = self._values[sco_type]
        found = cache.get(raw, _MISS)
        if found is _MISS:
            text = norm.mac_address(raw) if sco_type == "mac-addr" else norm.email_address(raw)
            found = None if text is None else (text, value_sco_id(sco_type, text))
            if len(cache) >= DEFAULT_CACHE_SIZE:
                cache.clear()
            cache[raw] = found
        return found  # type: ignore[return-value]

    # -- identities ---------------------------------------------------------------------------------------

    def identity_id(self, name: str, identity_class: str = "organization") -> str:
        key = f"{identity_class}\x00{name}"
        found = self._identity_ids.get(key)
        if found is None:
            found = sdo_id("identity", name, identity_class, self.options.identity_created)
            self._identity_ids[key] = found
        return found

    def identity(self, name: str, identity_class: str = "organization") -> dict[str, Any]:
        created = self.options.identity_created
        return {
            "type": "identity",
            "spec_version": "2.1",
            "id": self.identity_id(name, identity_class),
            "created": created,
            "modified": created,
            "name": name,
            "identity_class": identity_class,
        }

    # -- one event ----------------------------------------------------------------------------------------

    def build(self, event: dict[str, Any]) -> Built:
        """Everything one event supports; invalid values become :class:`Problem` records."""
        file = event.get("source_file")
        line = event.get("line")
        if not isinstance(file, str):
            file = None
        if not isinstance(line, int) or isinstance(line, bool):
            line = None
        problems: list[Problem] = []
        holder = event.get("holder")
        if not isinstance(holder, str) or not holder.strip():
            problems.append(Problem(file, line, "holder", "missing data holder"))
            return Built(None, problems, "no data holder")
        holder = holder.strip()
        fmt = event.get("format") if isinstance(event.get("format"), str) else "unknown"
        extra = event.get("extra")
        if not isinstance(extra, dict):
            extra = {}
        marks = self.marking_id

        ts = None
        raw_ts = event.get("timestamp")
        if raw_ts is not None:
            ts = norm.timestamp(raw_ts)
            if ts is None:
                problems.append(Problem(file, line, "timestamp", "not a STIX timestamp (UTC, Z suffix)"))

        scos: list[dict[str, Any]] = []
        seen: set[str] = set()

        def address(name: str, value: Any) -> tuple[str, str, str] | None:
            if value is None:
                return None
            found = self._address(value)
            if found is None:
                problems.append(Problem(file, line, name, "not an IPv4 or IPv6 address"))
                return None
            oid = found[2]
            if oid not in seen:
                seen.add(oid)
                scos.append(
                    {
                        "type": found[0],
                        "spec_version": "2.1",
                        "id": oid,
                        "value": found[1],
                        "object_marking_refs": [marks],
                    }
                )
            return found

        src = address("src_ip", event.get("src_ip"))
        dst = address("dst_ip", event.get("dst_ip"))
        address("nat_ip", event.get("nat_ip"))

        for name, value in (("src_mac", event.get("src_mac")), ("extra.dst_mac", extra.get("dst_mac"))):
            if value is None:
                continue
            found = self._value("mac-addr", value)
            if found is None:
                problems.append(Problem(file, line, name, "not a MAC address"))
                continue
            oid = found[1]
            if oid not in seen:
                seen.add(oid)
                scos.append(
                    {
                        "type": "mac-addr",
                        "spec_version": "2.1",
                        "id": oid,
                        "value": found[0],
                        "object_marking_refs": [marks],
                    }
                )

        if src is not None or dst is not None:
            traffic = self._traffic(event, src, dst, ts, file, line, problems)
            if traffic is not None:
                scos.append(traffic)

        sender_id = sender = None
        if fmt == "email-csv" or "sender" in extra or event.get("emails"):
            sender, sender_id, recipient_ids = self._emails(event, extra, scos, seen, file, line, problems)
            if fmt == "email-csv":
                message = self._message(extra, sender_id, recipient_ids, ts)
                if message is not None:
                    scos.append(message)

        if not scos:
            return Built(None, problems, "no valid address or e-mail address", holder, ts)

        identity = self._identities.get(holder)
        if identity is None:
            identity = self._identities[holder] = self.identity(holder)
        objects = [self.marking, identity, *scos]
        built = Built(None, problems, None, holder, ts)
        if ts is not None:
            attacker = self._attacker(fmt, sender, src)
            types = self._indicator_types(fmt, extra)
            built.withheld = self._withheld(event, holder, attacker)
            if built.withheld is not None:
                attacker = None
            if attacker is not None and types:
                indicator = self._indicator(holder, identity["id"], fmt, attacker, ts, types, extra)
                objects.append(indicator)
                built.attacker = (attacker[0], attacker[1], indicator["pattern"])
                built.indicator_types = types
        built.bundle = {
            "type": "bundle",
            "id": sdo_id("bundle", holder, file, line, [o["id"] for o in objects]),
            "objects": objects,
        }
        return built

    # -- parts --------------------------------------------------------------------------------------------

    def _traffic(self, event, src, dst, ts, file, line, problems) -> dict[str, Any] | None:
        """network-traffic: refs, ports, protocols (IP layer first, as STIX orders them) and start.

        STIX says traffic SHOULD carry both ports and the strict validator enforces it, so port-less
        traffic (ICMP, or a log that lacks one port) is left out unless ``options.portless_traffic``.
        """
        layer = "ipv4" if (src or dst)[0] == "ipv4-addr" else "ipv6"
        protocols = [layer]
        raw_proto = event.get("protocol")
        if raw_proto is not None:
            proto = norm.protocol(raw_proto)
            if proto is None:
                problems.append(Problem(file, line, "protocol", "not a protocol name STIX accepts"))
            else:
                protocols.append(proto)
        ports: dict[str, int] = {}
        for name in ("dst_port", "src_port"):
            raw = event.get(name)
            if raw is not None:
                value = norm.port(raw)
                if value is None:
                    problems.append(Problem(file, line, name, "not a port number 0-65535"))
                else:
                    ports[name] = value
        if len(ports) < 2 and not self.options.portless_traffic:
            return None
        # ID contributing properties in canonical (sorted) key order, serialised as RFC 8785 JSON.
        contrib: dict[str, Any] = {}
        if "dst_port" in ports:
            contrib["dst_port"] = ports["dst_port"]
        if dst is not None:
            contrib["dst_ref"] = dst[2]
        contrib["protocols"] = protocols
        if "src_port" in ports:
            contrib["src_port"] = ports["src_port"]
        if src is not None:
            contrib["src_ref"] = src[2]
        if ts is not None:
            contrib["start"] = ts
        traffic: dict[str, Any] = {
            "type": "network-traffic",
            "spec_version": "2.1",
            "id": sco_id_from_canonical("network-traffic", _DUMPS(contrib)),
        }
        if ts is not None:
            traffic["start"] = ts
        if src is not None:
            traffic["src_ref"] = src[2]
        if dst is not None:
            traffic["dst_ref"] = dst[2]
        if "src_port" in ports:
            traffic["src_port"] = ports["src_port"]
        if "dst_port" in ports:
            traffic["dst_port"] = ports["dst_port"]
        traffic["protocols"] = protocols
        traffic["object_marking_refs"] = [self.marking_id]
        return traffic

    def _emails(self, event, extra, scos, seen, file, line, problems):
        """email-addr objects for sender, recipients and other addresses; returns the refs they got."""
        marks = self.marking_id

        def add(name: str, value: Any) -> str | None:
            found = self._value("email-addr", value)
            if found is None:
                problems.append(Problem(file, line, name, "not an e-mail address"))
                return None
            text, oid = found
            if oid not in seen:
                seen.add(oid)
                scos.append(
                    {
                        "type": "email-addr",
                        "spec_version": "2.1",
                        "id": oid,
                        "value": text,
                        "object_marking_refs": [marks],
                    }
                )
            return oid

        sender = sender_id = None
        raw_sender = extra.get("sender")
        if raw_sender is not None:
            sender_id = add("extra.sender", raw_sender)
            if sender_id is not None:
                sender = self._value("email-addr", raw_sender)[0]  # type: ignore[index]
        recipients = extra.get("recipients")
        if isinstance(recipients, str):
            recipients = [recipients]
        recipient_ids: list[str] = []
        if isinstance(recipients, list):
            for value in recipients:
                oid = add("extra.recipients", value)
                if oid is not None and oid not in recipient_ids:
                    recipient_ids.append(oid)
        elif recipients is not None:
            problems.append(Problem(file, line, "extra.recipients", "not a list of e-mail addresses"))
        emails = event.get("emails")
        if isinstance(emails, list):
            for value in emails:
                add("emails", value)
        return sender, sender_id, recipient_ids

    def _message(self, extra, sender_id, recipient_ids, ts) -> dict[str, Any] | None:
        """email-message for an e-mail entry; the subject only if the privacy profile left one in."""
        subject = extra.get("subject") if self.options.include_subject else None
        if not isinstance(subject, str) or not subject:
            subject = None
        if sender_id is None and subject is None:
            return None  # no ID contributing property: the spec would demand a random id
        contrib: dict[str, Any] = {}
        if sender_id is not None:
            contrib["from_ref"] = sender_id
        if subject is not None:
            contrib["subject"] = subject
        message: dict[str, Any] = {
            "type": "email-message",
            "spec_version": "2.1",
            "id": sco_id_from_canonical("email-message", _DUMPS(contrib)),
            "is_multipart": False,
        }
        if ts is not None:
            message["date"] = ts
        if sender_id is not None:
            message["from_ref"] = sender_id
        if recipient_ids:
            message["to_refs"] = recipient_ids
        if subject is not None:
            message["subject"] = subject
        message["object_marking_refs"] = [self.marking_id]
        return message

    @staticmethod
    def _attacker(fmt, sender, src) -> tuple[str, str] | None:
        """The attacking side: the sender of an e-mail entry, otherwise (or failing that) the source IP."""
        if fmt == "email-csv" and sender is not None:
            return "email-addr", sender
        if src is not None:
            return src[0], src[1]
        return None

    def _withheld(self, event: dict[str, Any], holder: str, attacker: tuple[str, str] | None) -> str | None:
        """Why an IP attacker must not be shared (see :mod:`ppcti.netrange`), None when it may be."""
        if attacker is None or attacker[0] == "email-addr":
            return None
        way = direction(event)
        if way == "outbound" or (way == "internal" and not self.options.share_private):
            return f"{way} traffic"
        if (holder, attacker[1]) in self.own:
            return "holder infrastructure"
        if not self.options.share_private:
            reason = unshareable(attacker[1])
            if reason is not None:
                return f"{reason} address"
        return None

    def _indicator_types(self, fmt: str, extra: dict[str, Any]) -> tuple[str, ...]:
        verdict = extra.get("verdict")
        if fmt != "email-csv" or not isinstance(verdict, str):
            return self.options.indicator_types
        text = verdict.lower()
        for words, kind in _VERDICT_WORDS:
            if any(w in text for w in words):
                return (kind,) if kind else ()
        return self.options.indicator_types

    def _indicator(self, holder, identity_id, fmt, attacker, ts, types, extra) -> dict[str, Any]:
        kind, value = attacker
        pattern = stix_pattern(kind, value)
        description = f"Attacking side of an entry in a {fmt} log recorded by {holder}."
        signature = extra.get("signature")
        if isinstance(signature, str) and signature.strip():
            description += f" Signature: {signature.strip()}"
        created = norm.millis(ts)
        return {
            "type": "indicator",
            "spec_version": "2.1",
            "id": sdo_id("indicator", holder, pattern, ts, description, types, self.options.tlp),
            "created_by_ref": identity_id,
            "created": created,
            "modified": created,
            "name": f"Attacking {_PATTERN_LABEL[kind]}",
            "description": description,
            "indicator_types": list(types),
            "pattern": pattern,
            "pattern_type": "stix",
            "pattern_version": "2.1",
            "valid_from": ts,
            "object_marking_refs": [self.marking_id],
        }


def stix_pattern(sco_type: str, value: str) -> str:
    """``[ipv4-addr:value = '203.0.113.7']``, with quotes and backslashes escaped as STIX patterns need."""
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"[{sco_type}:value = '{escaped}']"


@lru_cache(maxsize=16)
def builder_for(options: CtiOptions) -> BundleBuilder:
    """One builder per distinct options value, so module-level calls reuse its caches."""
    return BundleBuilder(options)


def build_event(event: dict[str, Any], *, options: CtiOptions = CtiOptions()) -> Built:
    """The full outcome for one event (bundle, problems, reason)."""
    return builder_for(options).build(event)


def bundle_for_event(event: dict[str, Any], *, options: CtiOptions = CtiOptions()) -> dict[str, Any] | None:
    """The STIX bundle for one event, or ``None`` when nothing in it is valid (see :func:`build_event`).

    The marking-definition and identity dicts are shared between bundles of one builder; copy a bundle
    before changing it in place.
    """
    return builder_for(options).build(event).bundle


def bundle_json(event: dict[str, Any], *, options: CtiOptions = CtiOptions()) -> bytes | None:
    """:func:`bundle_for_event` serialised compactly with orjson: one line of ``bundles.jsonl``."""
    bundle = builder_for(options).build(event).bundle
    return None if bundle is None else _DUMPS(bundle)
