"""One STIX 2.1 bundle per normalised event, built as plain dicts.

This is the hot path: the ``stix2`` object model validates every property on construction and manages
about 750 bundles per second, far too slow for millions of log lines. Here each object is a dict literal
in the order STIX documents use, ids come from :mod:`ppcti.stix.ids` (SCO ids equal ``stix2``'s), values
pass through :mod:`ppcti.stix.normalise`, and the result is serialised with orjson. Correctness is
established by the test suite instead: ids against ``stix2`` and every produced bundle against the OASIS
validator in strict mode.

Each SDO's content is a function of exactly the inputs of its id, so one id never names two different
objects, across bundles or runs.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import orjson

from ppcti.netrange import direction, unshareable
from ppcti.stix import normalise as norm
from ppcti.stix.built import Built, Problem
from ppcti.stix.ids import sco_id_from_canonical, sdo_id, sdo_id_from_json, value_sco_id
from ppcti.stix.markings import TLP2_IDS, tlp_marking
from ppcti.stix.options import DEFAULT_CACHE_SIZE, CtiOptions

_DUMPS = orjson.dumps
_MISS = object()
_EMPTY: dict[str, Any] = {}
_ADDRESS_FIELDS = ("src_ip", "dst_ip", "nat_ip")
#: ``extra`` fields :func:`ppcti.netrange.direction` reads before it looks at the addresses.
_DIRECTION_KEYS = frozenset({"direction", "network_direction", "chain"})

#: E-mail verdict words → indicator type. A benign verdict yields no indicator: an indicator asserts
#: suspicion, and would turn an ordinary correspondent's address into shared threat intelligence.
_VERDICT_WORDS: tuple[tuple[tuple[str, ...], str | None], ...] = (
    (("clean", "benign", "legit", "allowlist", "whitelist"), None),
    (("phish", "malware", "virus", "malicious", "spoof", "fraud", "bec", "impersonat"), "malicious-activity"),
    (("spam", "bulk", "suspicious", "quarantin", "junk"), "anomalous-activity"),
)
_PATTERN_LABEL = {"ipv4-addr": "IPv4 address", "ipv6-addr": "IPv6 address", "email-addr": "e-mail sender"}


class BundleBuilder:
    """Builds bundles for one set of options; holds the precomputed marking and identity objects.

    Everything that repeats across entries is made once and reused: the SCO dict of each distinct
    address (with its id), the normalised form of each timestamp, and the text and id prefix of each
    indicator's attacker. Only what is new per entry (traffic, message, indicator and bundle ids) is
    hashed per call. The shared dicts are read-only by contract (see :func:`bundle_for_event`).
    """

    def __init__(self, options: CtiOptions | None = None) -> None:
        self.options = options or CtiOptions()
        self.marking_id = TLP2_IDS[self.options.tlp]
        self.marking = tlp_marking(self.options.tlp)
        self._marks = [self.marking_id]
        self._identity_ids: dict[str, str] = {}
        self._identities: dict[str, dict[str, Any]] = {}
        self._marking_json = orjson.Fragment(_DUMPS(self.marking))
        self._identity_json: dict[str, orjson.Fragment] = {}
        # raw value -> (sco type, normalised value, id, SCO dict, its JSON), or None when invalid;
        # cleared when full
        self._ips: dict[str, tuple[str, str, str, dict[str, Any], orjson.Fragment] | None] = {}
        self._values: dict[str, dict[str, tuple[str, str, dict[str, Any], orjson.Fragment] | None]] = {
            "mac-addr": {},
            "email-addr": {},
        }
        # raw timestamp -> (STIX timestamp, millisecond form), or None when invalid
        self._times: dict[str, tuple[str, str] | None] = {}
        # (holder, format, sco type, value, signature) -> (pattern, name, description, id hash prefix/suffix)
        self._indicators: dict[tuple[Any, ...], tuple[str, str, str, bytes, bytes]] = {}
        self._directions: dict[tuple[Any, Any], str | None] = {}
        #: ``(holder, canonical address)`` of the holders' own infrastructure: never shared as attackers.
        self.own: set[tuple[str, str]] = set()

    def _address(self, raw: Any) -> tuple[str, str, str, dict[str, Any], orjson.Fragment] | None:
        """``(sco type, canonical text, id, SCO dict, its JSON)`` for a raw IP address, memoised."""
        if not isinstance(raw, str):
            return None
        found = self._ips.get(raw, _MISS)
        if found is _MISS:
            normalised = norm.ip_address(raw)
            if normalised is None:
                found = None
            else:
                oid = value_sco_id(*normalised)
                sco = self._sco(normalised[0], oid, normalised[1])
                found = (*normalised, oid, sco, orjson.Fragment(_DUMPS(sco)))
            if len(self._ips) >= DEFAULT_CACHE_SIZE:
                self._ips.clear()
            self._ips[raw] = found
        return found  # type: ignore[return-value]

    def _value(self, sco_type: str, raw: Any) -> tuple[str, str, dict[str, Any], orjson.Fragment] | None:
        """``(canonical text, id, SCO dict, its JSON)`` for a raw MAC or e-mail address, memoised."""
        if not isinstance(raw, str):
            return None
        cache = self._values[sco_type]
        found = cache.get(raw, _MISS)
        if found is _MISS:
            text = norm.mac_address(raw) if sco_type == "mac-addr" else norm.email_address(raw)
            if text is None:
                found = None
            else:
                oid = value_sco_id(sco_type, text)
                sco = self._sco(sco_type, oid, text)
                found = (text, oid, sco, orjson.Fragment(_DUMPS(sco)))
            if len(cache) >= DEFAULT_CACHE_SIZE:
                cache.clear()
            cache[raw] = found
        return found  # type: ignore[return-value]

    def _sco(self, sco_type: str, oid: str, value: str) -> dict[str, Any]:
        return {
            "type": sco_type,
            "spec_version": "2.1",
            "id": oid,
            "value": value,
            "object_marking_refs": self._marks,
        }

    def _timestamp(self, raw: Any) -> tuple[str, str] | None:
        """``(STIX timestamp, millisecond form)`` of a raw event time, memoised (log seconds repeat)."""
        if not isinstance(raw, str):
            return None
        found = self._times.get(raw, _MISS)
        if found is _MISS:
            ts = norm.timestamp(raw)
            found = None if ts is None else (ts, norm.millis(ts))
            if len(self._times) >= DEFAULT_CACHE_SIZE:
                self._times.clear()
            self._times[raw] = found
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
        """Everything one event supports; invalid values become :class:`Problem` records.

        Written flat (no closures, cached SCO dicts) because it runs once per log entry; the order of
        objects and of problems is part of the output and must not change.
        """
        get = event.get
        file = get("source_file")
        line = get("line")
        if not isinstance(file, str):
            file = None
        if not isinstance(line, int) or isinstance(line, bool):
            line = None
        problems: list[Problem] = []
        holder = get("holder")
        if not isinstance(holder, str) or not holder.strip():
            problems.append(Problem(file, line, "holder", "missing data holder"))
            return Built(None, problems, "no data holder")
        holder = holder.strip()
        fmt = get("format")
        if not isinstance(fmt, str):
            fmt = "unknown"
        extra = get("extra")
        if not isinstance(extra, dict):
            extra = _EMPTY

        ts = created = None
        raw_ts = get("timestamp")
        if raw_ts is not None:
            times = self._times.get(raw_ts, _MISS) if isinstance(raw_ts, str) else None
            if times is _MISS:
                times = self._timestamp(raw_ts)
            if times is None:
                problems.append(Problem(file, line, "timestamp", "not a STIX timestamp (UTC, Z suffix)"))
            else:
                ts, created = times

        scos: list[dict[str, Any]] = []
        parts: list[Any] = []  # the same objects for serialising: cached ones as their JSON
        seen: set[str] = set()
        src = dst = None
        for name in _ADDRESS_FIELDS:
            value = get(name)
            if value is None:
                continue
            found = self._address(value)
            if found is None:
                problems.append(Problem(file, line, name, "not an IPv4 or IPv6 address"))
                continue
            oid = found[2]
            if oid not in seen:
                seen.add(oid)
                scos.append(found[3])
                parts.append(found[4])
            if name == "src_ip":
                src = found
            elif name == "dst_ip":
                dst = found

        for name, value in (("src_mac", get("src_mac")), ("extra.dst_mac", extra.get("dst_mac"))):
            if value is None:
                continue
            mac = self._value("mac-addr", value)
            if mac is None:
                problems.append(Problem(file, line, name, "not a MAC address"))
                continue
            oid = mac[1]
            if oid not in seen:
                seen.add(oid)
                scos.append(mac[2])
                parts.append(mac[3])

        if src is not None or dst is not None:
            traffic = self._traffic(event, src, dst, ts, file, line, problems)
            if traffic is not None:
                scos.append(traffic)
                parts.append(traffic)

        sender_id = sender = None
        if fmt == "email-csv" or "sender" in extra or get("emails"):
            sender, sender_id, recipient_ids = self._emails(
                event, extra, scos, parts, seen, file, line, problems
            )
            if fmt == "email-csv":
                message = self._message(extra, sender_id, recipient_ids, ts)
                if message is not None:
                    scos.append(message)
                    parts.append(message)

        if not scos:
            return Built(None, problems, "no valid address or e-mail address", holder, ts)

        identity = self._identities.get(holder)
        if identity is None:
            identity = self._identities[holder] = self.identity(holder)
            self._identity_json[holder] = orjson.Fragment(_DUMPS(identity))
        objects = [self.marking, identity, *scos]
        parts[:0] = (self._marking_json, self._identity_json[holder])
        built = Built(None, problems, None, holder, ts)
        if ts is not None:
            if fmt == "email-csv" and sender is not None:
                attacker: tuple[str, str] | None = ("email-addr", sender)
            elif src is not None:
                attacker = (src[0], src[1])
            else:
                attacker = None
            types = self._indicator_types(fmt, extra) if fmt == "email-csv" else self.options.indicator_types
            if attacker is not None and attacker[0] != "email-addr":
                built.withheld = self._withheld(event, holder, attacker)
                if built.withheld is not None:
                    attacker = None
            if attacker is not None and types:
                indicator = self._indicator(holder, identity["id"], fmt, attacker, ts, created, types, extra)
                objects.append(indicator)
                parts.append(indicator)
                built.attacker = (attacker[0], attacker[1], indicator["pattern"])
                built.indicator_types = types
        bundle_id = sdo_id("bundle", holder, file, line, [o["id"] for o in objects])
        built.bundle = {"type": "bundle", "id": bundle_id, "objects": objects}
        built.json = _DUMPS({"type": "bundle", "id": bundle_id, "objects": parts})
        return built

    # -- parts --------------------------------------------------------------------------------------------

    def _traffic(self, event, src, dst, ts, file, line, problems) -> dict[str, Any] | None:
        """network-traffic: refs, ports, protocols (IP layer first, as STIX orders them) and start.

        STIX says traffic SHOULD carry both ports and the strict validator enforces it, so port-less
        traffic (ICMP, or a log that lacks one port) is left out unless ``options.portless_traffic``.
        """
        get = event.get
        layer = "ipv4" if (src or dst)[0] == "ipv4-addr" else "ipv6"
        protocols = [layer]
        raw_proto = get("protocol")
        if raw_proto is not None:
            proto = norm.protocol(raw_proto)
            if proto is None:
                problems.append(Problem(file, line, "protocol", "not a protocol name STIX accepts"))
            else:
                protocols.append(proto)
        dst_port = get("dst_port")
        if dst_port is not None and not (type(dst_port) is int and 0 <= dst_port <= 65535):
            dst_port = norm.port(dst_port)
            if dst_port is None:
                problems.append(Problem(file, line, "dst_port", "not a port number 0-65535"))
        src_port = get("src_port")
        if src_port is not None and not (type(src_port) is int and 0 <= src_port <= 65535):
            src_port = norm.port(src_port)
            if src_port is None:
                problems.append(Problem(file, line, "src_port", "not a port number 0-65535"))
        if (src_port is None or dst_port is None) and not self.options.portless_traffic:
            return None
        if (
            src is not None
            and dst is not None
            and ts is not None
            and src_port is not None
            and dst_port is not None
        ):
            # the usual case, written out: both ends, both ports and a time
            return {
                "type": "network-traffic",
                "spec_version": "2.1",
                "id": sco_id_from_canonical(
                    "network-traffic",
                    _DUMPS(
                        {
                            "dst_port": dst_port,
                            "dst_ref": dst[2],
                            "protocols": protocols,
                            "src_port": src_port,
                            "src_ref": src[2],
                            "start": ts,
                        }
                    ),
                ),
                "start": ts,
                "src_ref": src[2],
                "dst_ref": dst[2],
                "src_port": src_port,
                "dst_port": dst_port,
                "protocols": protocols,
                "object_marking_refs": self._marks,
            }
        # ID contributing properties in canonical (sorted) key order, serialised as RFC 8785 JSON.
        contrib: dict[str, Any] = {}
        if dst_port is not None:
            contrib["dst_port"] = dst_port
        if dst is not None:
            contrib["dst_ref"] = dst[2]
        contrib["protocols"] = protocols
        if src_port is not None:
            contrib["src_port"] = src_port
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
        if src_port is not None:
            traffic["src_port"] = src_port
        if dst_port is not None:
            traffic["dst_port"] = dst_port
        traffic["protocols"] = protocols
        traffic["object_marking_refs"] = self._marks
        return traffic

    def _emails(self, event, extra, scos, parts, seen, file, line, problems):
        """email-addr objects for sender, recipients and other addresses; returns the refs they got.

        Each address is looked up in the memo directly (the common case, a hit) and only falls back to
        :meth:`_value` on a miss: this runs for every address of every e-mail entry.
        """
        memo = self._values["email-addr"]
        value_of = self._value
        found: tuple[str, str, dict[str, Any], orjson.Fragment] | None
        sender = sender_id = None
        raw_sender = extra.get("sender")
        if raw_sender is not None:
            found = memo.get(raw_sender, _MISS) if isinstance(raw_sender, str) else None
            if found is _MISS:
                found = value_of("email-addr", raw_sender)
            if found is None:
                problems.append(Problem(file, line, "extra.sender", "not an e-mail address"))
            else:
                sender, sender_id = found[0], found[1]
                if sender_id not in seen:
                    seen.add(sender_id)
                    scos.append(found[2])
                    parts.append(found[3])
        recipients = extra.get("recipients")
        if isinstance(recipients, str):
            recipients = [recipients]
        recipient_ids: list[str] = []
        emails = event.get("emails")
        if not isinstance(recipients, list):
            if recipients is not None:
                problems.append(Problem(file, line, "extra.recipients", "not a list of e-mail addresses"))
            recipients = []
        for field_name, values in (("extra.recipients", recipients), ("emails", emails)):
            if not isinstance(values, list):
                continue
            for value in values:
                found = memo.get(value, _MISS) if isinstance(value, str) else None
                if found is _MISS:
                    found = value_of("email-addr", value)
                if found is None:
                    problems.append(Problem(file, line, field_name, "not an e-mail address"))
                    continue
                oid = found[1]
                if oid not in seen:
                    seen.add(oid)
                    scos.append(found[2])
                    parts.append(found[3])
                if field_name == "extra.recipients" and oid not in recipient_ids:
                    recipient_ids.append(oid)
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
        message["object_marking_refs"] = self._marks
        return message

    @staticmethod
    def _attacker(fmt, sender, src) -> tuple[str, str] | None:
        """The attacking side: the sender of an e-mail entry, otherwise (or failing that) the source IP.

        :meth:`build` inlines this rule; :mod:`ppcti.stix.reference` calls it.
        """
        if fmt == "email-csv" and sender is not None:
            return "email-addr", sender
        if src is not None:
            return src[0], src[1]
        return None

    def _withheld(self, event: dict[str, Any], holder: str, attacker: tuple[str, str] | None) -> str | None:
        """Why an IP attacker must not be shared (see :mod:`ppcti.netrange`), None when it may be."""
        if attacker is None or attacker[0] == "email-addr":
            return None
        way = self._direction(event)
        if way == "outbound" or (way == "internal" and not self.options.share_private):
            return f"{way} traffic"
        if (holder, attacker[1]) in self.own:
            return "holder infrastructure"
        if not self.options.share_private:
            reason = unshareable(attacker[1])
            if reason is not None:
                return f"{reason} address"
        return None

    def _direction(self, event: dict[str, Any]) -> str | None:
        """:func:`ppcti.netrange.direction`, memoised per address pair when no field names a direction.

        Without a direction or chain field the rule depends on the two addresses alone, which repeat.
        """
        extra = event.get("extra")
        if isinstance(extra, dict) and not _DIRECTION_KEYS.isdisjoint(extra):
            return direction(event)
        if "direction" in event or "network_direction" in event:
            return direction(event)
        key = (event.get("src_ip"), event.get("dst_ip"))
        if not isinstance(key[0], str) or not isinstance(key[1], str):
            return direction(event)  # not both addresses: nothing to memoise (and maybe unhashable)
        found = self._directions.get(key, _MISS)
        if found is _MISS:
            found = direction({"src_ip": key[0], "dst_ip": key[1]})
            if len(self._directions) >= DEFAULT_CACHE_SIZE:
                self._directions.clear()
            self._directions[key] = found
        return found  # type: ignore[return-value]

    def _indicator_types(self, fmt: str, extra: dict[str, Any]) -> tuple[str, ...]:
        verdict = extra.get("verdict")
        if fmt != "email-csv" or not isinstance(verdict, str):
            return self.options.indicator_types
        text = verdict.lower()
        for words, kind in _VERDICT_WORDS:
            if any(w in text for w in words):
                return (kind,) if kind else ()
        return self.options.indicator_types

    def _indicator(self, holder, identity_id, fmt, attacker, ts, created, types, extra) -> dict[str, Any]:
        """The indicator of one entry's attacker; what does not depend on the time is made once."""
        kind, value = attacker
        signature = extra.get("signature")
        key = (holder, fmt, kind, value, signature if isinstance(signature, str) else None, types)
        fixed = self._indicators.get(key)
        if fixed is None:
            pattern = stix_pattern(kind, value)
            description = f"Attacking side of an entry in a {fmt} log recorded by {holder}."
            if isinstance(signature, str) and signature.strip():
                description += f" Signature: {signature.strip()}"
            # the id hashes the JSON array [holder, pattern, ts, description, types, tlp]: only ts varies
            head = _DUMPS((holder, pattern))[:-1] + b","
            tail = b"," + _DUMPS((description, types, self.options.tlp))[1:]
            fixed = (pattern, f"Attacking {_PATTERN_LABEL[kind]}", description, head, tail)
            if len(self._indicators) >= DEFAULT_CACHE_SIZE:
                self._indicators.clear()
            self._indicators[key] = fixed
        pattern, name, description, head, tail = fixed
        return {
            "type": "indicator",
            "spec_version": "2.1",
            "id": sdo_id_from_json("indicator", head + _DUMPS(ts) + tail),
            "created_by_ref": identity_id,
            "created": created,
            "modified": created,
            "name": name,
            "description": description,
            "indicator_types": list(types),
            "pattern": pattern,
            "pattern_type": "stix",
            "pattern_version": "2.1",
            "valid_from": ts,
            "object_marking_refs": self._marks,
        }


def stix_pattern(sco_type: str, value: str) -> str:
    """``[ipv4-addr:value = '203.0.113.7']``, with quotes and backslashes escaped as STIX patterns need."""
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"[{sco_type}:value = '{escaped}']"


_SINGLE_VALUE = re.compile(r"^\[([a-z0-9-]+):value = '((?:[^'\\]|\\.)*)'\]$")


def pattern_value(pattern: str) -> tuple[str, str] | None:
    """``(sco_type, value)`` of a pattern :func:`stix_pattern` writes, or ``None`` for any other pattern.

    The inverse by string match, not a pattern parser: readers of ppcti's own indicators (enrichment,
    the assessment) read one per attacker, and ``stix2-patterns`` takes about 0.35 ms a pattern (100x).
    """
    found = _SINGLE_VALUE.match(pattern)
    if found is None:
        return None
    return found.group(1), re.sub(r"\\(.)", r"\1", found.group(2))


@lru_cache(maxsize=16)
def builder_for(options: CtiOptions) -> BundleBuilder:
    """One builder per distinct options value, so module-level calls reuse its caches."""
    return BundleBuilder(options)


def build_event(event: dict[str, Any], *, options: CtiOptions = CtiOptions()) -> Built:
    """The full outcome for one event (bundle, problems, reason); its bundle shares objects with other
    bundles of the same options (see :func:`bundle_for_event`)."""
    return builder_for(options).build(event)


def bundle_for_event(event: dict[str, Any], *, options: CtiOptions = CtiOptions()) -> dict[str, Any] | None:
    """The STIX bundle for one event, or ``None`` when nothing in it is valid (see :func:`build_event`).

    Objects inside are shared between the bundles of one builder (the marking-definition and identity,
    each address's observable, marking lists): ``copy.deepcopy`` a bundle before changing it in place.
    """
    return builder_for(options).build(event).bundle


def bundle_json(event: dict[str, Any], *, options: CtiOptions = CtiOptions()) -> bytes | None:
    """:func:`bundle_for_event` serialised compactly with orjson: one line of ``bundles.jsonl``."""
    return builder_for(options).build(event).json
