"""One STIX 2.1 bundle per normalised event, written directly as JSON text.

This is the hot path: the ``stix2`` object model validates every property on construction and manages
a few hundred bundles per second, far too slow for millions of log lines. Here each bundle is written as
the compact JSON ``orjson`` would give for its objects in the order STIX documents use: what repeats
(marking, identity, each address's observable) is serialised once per builder and spliced in, and the
per-entry objects are filled into templates (:mod:`ppcti.stix.parts`). Ids come from
:mod:`ppcti.stix.ids` (SCO ids equal ``stix2``'s) and values pass through :mod:`ppcti.stix.normalise`.
The dict form of a bundle (:attr:`Built.bundle`) is parsed from that text only when someone asks for it.
Correctness is established by the test suite instead of by validation on construction: ids against
``stix2``, every produced bundle against the OASIS validator in strict mode, and bytes against the
frozen dict builder of before (``tests/stix/test_stix_differential.py``).

Each SDO's content is a function of exactly the inputs of its id, so one id never names two different
objects, across bundles or runs.
"""

from __future__ import annotations

from functools import lru_cache
from hashlib import sha1
from typing import Any

import orjson

from ppcti.netrange import direction, unshareable
from ppcti.stix import normalise as norm
from ppcti.stix.built import Built, Problem
from ppcti.stix.ids import PPCTI_NAMESPACE_BYTES as _PPCTI_NS
from ppcti.stix.ids import SCO_NAMESPACE_BYTES as _SCO_NS
from ppcti.stix.ids import VARIANT_DIGIT as _VARIANT
from ppcti.stix.ids import sdo_id
from ppcti.stix.markings import TLP2_IDS, tlp_marking
from ppcti.stix.options import DEFAULT_CACHE_SIZE, CtiOptions
from ppcti.stix.parts import (
    IndicatorTemplate,
    message,
    pattern_value,
    stix_pattern,
    text,
    traffic,
    verdict_types,
)

__all__ = [
    "Built",
    "BundleBuilder",
    "Problem",
    "build_event",
    "bundle_for_event",
    "bundle_json",
    "pattern_value",
    "stix_pattern",
]

_DUMPS = orjson.dumps
_MISS = object()
#: What :func:`ppcti.stix.ids.value_sco_id` hashes before the JSON of an observable's value.
_SCO_VALUE_PREFIX = _SCO_NS + b'{"value":'
_EMPTY: dict[str, Any] = {}
#: ``extra`` fields :func:`ppcti.netrange.direction` reads before it looks at the addresses.
_DIRECTION_KEYS = frozenset({"direction", "network_direction", "chain"})
#: :func:`ppcti.netrange.direction` from the addresses alone: (source public, target public) → direction.
_WAY = {(False, True): "outbound", (True, False): "inbound", (False, False): "internal", (True, True): None}
#: A raw IP address → (sco type, canonical text, id, JSON, raw text public, why the canonical address
#: may not be shared as "<reason> address" or None).
_Address = tuple[str, str, str, str, bool, str | None]
#: A raw MAC or e-mail address → (canonical text, id, JSON).
_Value = tuple[str, str, str]


class BundleBuilder:
    """Builds bundles for one set of options; holds everything that repeats across entries, made once.

    Per distinct value: each address's canonical form, id and serialised observable (with what the
    sharing rules need to know of it), each timestamp's normalised and millisecond forms, each file
    name's JSON, each e-mail verdict's indicator types, and each attacker's indicator template. Only
    what is new per entry (traffic, message, indicator and bundle ids, and their text) is made per call.
    Caches are cleared when they reach ``DEFAULT_CACHE_SIZE`` entries.
    """

    def __init__(self, options: CtiOptions | None = None) -> None:
        self.options = options or CtiOptions()
        self.marking_id = TLP2_IDS[self.options.tlp]
        self.marking = tlp_marking(self.options.tlp)
        self._marks = [self.marking_id]
        self._marks_json = text(self._marks)
        self._marking_json = text(self.marking)
        self._identity_ids: dict[str, str] = {}
        # holder -> (identity id, identity JSON, holder as JSON)
        self._holders: dict[str, tuple[str, str, str]] = {}
        self._ips: dict[str, _Address | None] = {}
        self._values: dict[str, dict[str, _Value | None]] = {"mac-addr": {}, "email-addr": {}}
        # raw timestamp -> (STIX timestamp, millisecond form, timestamp as JSON), or None when invalid
        self._times: dict[str, tuple[str, str, bytes] | None] = {}
        self._files: dict[str, str] = {}
        self._verdicts: dict[str, tuple[str, ...]] = {}
        # (holder, format, sco type, value, signature, types) -> template
        self._indicators: dict[tuple[Any, ...], IndicatorTemplate] = {}
        self._directions: dict[tuple[Any, Any], str | None] = {}
        self._protocols: dict[str, str | None] = {}
        # options read per entry, as plain attributes
        self._types = self.options.indicator_types
        self._share_private = self.options.share_private
        self._portless = self.options.portless_traffic
        #: ``(holder, canonical address)`` of the holders' own infrastructure: never shared as attackers.
        self.own: set[tuple[str, str]] = set()

    # -- memoised values ----------------------------------------------------------------------------------

    def _address(self, raw: Any) -> _Address | None:
        """What the builder needs of a raw IP address (see ``_Address``), memoised."""
        if not isinstance(raw, str):
            return None
        found = self._ips.get(raw, _MISS)
        if found is _MISS:
            normalised = norm.ip_address(raw)
            if normalised is None:
                found = None
            else:
                sco_type, canonical = normalised
                reason = unshareable(canonical)
                found = (
                    sco_type,
                    canonical,
                    *self._sco(sco_type, canonical),
                    unshareable(raw) is None,  # what netrange.direction reads: the raw text
                    None if reason is None else f"{reason} address",
                )
            if len(self._ips) >= DEFAULT_CACHE_SIZE:
                self._ips.clear()
            self._ips[raw] = found
        return found  # type: ignore[return-value]

    def _value(self, sco_type: str, raw: Any) -> _Value | None:
        """``(canonical text, id, JSON)`` for a raw MAC or e-mail address, memoised."""
        if not isinstance(raw, str):
            return None
        cache = self._values[sco_type]
        found = cache.get(raw, _MISS)
        if found is _MISS:
            canonical = norm.mac_address(raw) if sco_type == "mac-addr" else norm.email_address(raw)
            found = None if canonical is None else (canonical, *self._sco(sco_type, canonical))
            if len(cache) >= DEFAULT_CACHE_SIZE:
                cache.clear()
            cache[raw] = found
        return found  # type: ignore[return-value]

    def _sco(self, sco_type: str, value: str) -> tuple[str, str]:
        """``(id, JSON)`` of the observable of a canonical address: the value is serialised once for both
        (orjson's string escaping coincides with RFC 8785's, see :func:`ppcti.stix.ids.value_sco_id`)."""
        value_json = _DUMPS(value)
        h = sha1(_SCO_VALUE_PREFIX + value_json + b"}").hexdigest()
        oid = f"{sco_type}--{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"
        return oid, (
            f'{{"type":"{sco_type}","spec_version":"2.1","id":"{oid}","value":{value_json.decode()}'
            f',"object_marking_refs":{self._marks_json}}}'
        )

    def _timestamp(self, raw: Any) -> tuple[str, str, bytes] | None:
        """``(STIX timestamp, millisecond form, JSON)`` of a raw event time, memoised (seconds repeat)."""
        if not isinstance(raw, str):
            return None
        found = self._times.get(raw, _MISS)
        if found is _MISS:
            ts = norm.timestamp(raw)
            found = None if ts is None else (ts, norm.millis(ts), _DUMPS(ts))
            if len(self._times) >= DEFAULT_CACHE_SIZE:
                self._times.clear()
            self._times[raw] = found
        return found  # type: ignore[return-value]

    def _protocol(self, raw: str) -> str | None:
        """:func:`ppcti.stix.normalise.protocol` of an event's protocol text, memoised per builder."""
        if len(self._protocols) >= DEFAULT_CACHE_SIZE:
            self._protocols.clear()
        found = self._protocols[raw] = norm.protocol(raw)
        return found

    def _holder(self, holder: str) -> tuple[str, str, str]:
        """``(identity id, identity JSON, holder name as JSON)`` of a data holder, memoised."""
        found = self._holders.get(holder)
        if found is None:
            identity = self.identity(holder)
            found = self._holders[holder] = (identity["id"], text(identity), text(holder))
        return found

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

        Written flat (no closures, cached text) because it runs once per log entry; the order of
        objects and of problems is part of the output and must not change.
        """
        get = event.get
        file = get("source_file")
        line = get("line")
        if type(file) is not str and not isinstance(file, str):
            file = None
        if type(line) is not int and (not isinstance(line, int) or isinstance(line, bool)):
            line = None
        problems: list[Problem] = []
        holder = get("holder")
        holder = holder.strip() if isinstance(holder, str) else ""
        if not holder:
            problems.append(Problem(file, line, "holder", "missing data holder"))
            return Built(None, problems, "no data holder")
        fmt = get("format")
        if type(fmt) is not str and not isinstance(fmt, str):
            fmt = "unknown"
        extra = get("extra")
        if type(extra) is not dict and not isinstance(extra, dict):
            extra = _EMPTY

        ts = created = ts_json = None
        raw_ts = get("timestamp")
        if raw_ts is not None:
            times = self._times.get(raw_ts, _MISS) if isinstance(raw_ts, str) else None
            if times is _MISS:
                times = self._timestamp(raw_ts)
            if times is None:
                problems.append(Problem(file, line, "timestamp", "not a STIX timestamp (UTC, Z suffix)"))
            else:
                ts, created, ts_json = times

        ids = [self.marking_id, ""]  # every object's id, in bundle order (the identity's comes below)
        parts = [self._marking_json, ""]  # and its JSON
        # the three address fields, written out: a hit in the memo is the common case
        ips = self._ips
        src = get("src_ip")
        if src is not None:
            src = ips.get(src, _MISS) if isinstance(src, str) else None
            if src is _MISS:
                src = self._address(get("src_ip"))
            if src is None:
                problems.append(Problem(file, line, "src_ip", "not an IPv4 or IPv6 address"))
            else:
                ids.append(src[2])
                parts.append(src[3])
        dst = get("dst_ip")
        if dst is not None:
            dst = ips.get(dst, _MISS) if isinstance(dst, str) else None
            if dst is _MISS:
                dst = self._address(get("dst_ip"))
            if dst is None:
                problems.append(Problem(file, line, "dst_ip", "not an IPv4 or IPv6 address"))
            elif dst[2] not in ids:
                ids.append(dst[2])
                parts.append(dst[3])
        found = get("nat_ip")
        if found is not None:
            found = ips.get(found, _MISS) if isinstance(found, str) else None
            if found is _MISS:
                found = self._address(get("nat_ip"))
            if found is None:
                problems.append(Problem(file, line, "nat_ip", "not an IPv4 or IPv6 address"))
            elif found[2] not in ids:
                ids.append(found[2])
                parts.append(found[3])

        macs = self._values["mac-addr"]
        found = get("src_mac")
        if found is not None:
            found = macs.get(found, _MISS) if isinstance(found, str) else None
            if found is _MISS:
                found = self._value("mac-addr", get("src_mac"))
            if found is None:
                problems.append(Problem(file, line, "src_mac", "not a MAC address"))
            elif found[1] not in ids:
                ids.append(found[1])
                parts.append(found[2])
        found = extra.get("dst_mac")
        if found is not None:
            found = self._value("mac-addr", found)
            if found is None:
                problems.append(Problem(file, line, "extra.dst_mac", "not a MAC address"))
            elif found[1] not in ids:
                ids.append(found[1])
                parts.append(found[2])

        if src is not None or dst is not None:
            # network-traffic: refs, ports, protocols (IP layer first, as STIX orders them) and start.
            # STIX says traffic SHOULD carry both ports and the strict validator enforces it, so
            # port-less traffic (ICMP, or a log that lacks one port) is left out unless
            # options.portless_traffic. Inline, as it runs for most entries.
            layer = "ipv4" if (src or dst)[0] == "ipv4-addr" else "ipv6"
            proto = get("protocol")
            if proto is not None:
                proto = self._protocols.get(proto, _MISS) if type(proto) is str else norm.protocol(proto)
                if proto is _MISS:
                    proto = self._protocol(get("protocol"))
                if proto is None:
                    problems.append(Problem(file, line, "protocol", "not a protocol name STIX accepts"))
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
            if (src_port is None or dst_port is None) and not self._portless:
                pass
            elif (
                src is not None
                and dst is not None
                and ts is not None
                and type(src_port) is type(dst_port) is int
            ):
                # the usual case, written out: both ends, both ports and a time
                protocols = f'["{layer}"]' if proto is None else f'["{layer}","{proto}"]'
                h = sha1(
                    _SCO_NS
                    + f'{{"dst_port":{dst_port},"dst_ref":"{dst[2]}","protocols":{protocols}'
                    f',"src_port":{src_port},"src_ref":"{src[2]}","start":"{ts}"}}'.encode()
                ).hexdigest()
                uid = f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"
                ids.append(f"network-traffic--{uid}")
                parts.append(
                    f'{{"type":"network-traffic","spec_version":"2.1","id":"network-traffic--{uid}"'
                    f',"start":"{ts}","src_ref":"{src[2]}","dst_ref":"{dst[2]}","src_port":{src_port}'
                    f',"dst_port":{dst_port},"protocols":{protocols},"object_marking_refs":{self._marks_json}}}'
                )
            else:
                oid, made = traffic(
                    None if src is None else src[2],
                    None if dst is None else dst[2],
                    src_port,
                    dst_port,
                    [layer] if proto is None else [layer, proto],
                    ts,
                    self._marks_json,
                )
                ids.append(oid)
                parts.append(made)

        sender = None
        if fmt == "email-csv" or "sender" in extra or get("emails"):
            sender, sender_id, recipient_ids = self._emails(event, extra, ids, parts, file, line, problems)
            if fmt == "email-csv":
                subject = extra.get("subject") if self.options.include_subject else None
                made = message(
                    sender_id,
                    recipient_ids,
                    subject if isinstance(subject, str) and subject else None,
                    ts,
                    self._marks_json,
                )
                if made is not None:
                    ids.append(made[0])
                    parts.append(made[1])

        if len(ids) == 2:
            return Built(None, problems, "no valid address or e-mail address", holder, ts)

        identity_id, parts[1], holder_json = self._holder(holder)
        ids[1] = identity_id
        attacker_of = withheld = None
        types: tuple[str, ...] = ()
        if ts is not None:
            types = self._indicator_types(fmt, extra) if fmt == "email-csv" else self._types
            if fmt == "email-csv" and sender is not None:
                attacker: tuple[str, str] | None = ("email-addr", sender)
            elif src is None:
                attacker = None
            else:
                # the sharing rules (see _withheld), inline: without a direction or chain field and with
                # both addresses valid, the direction follows from whether each raw address is public
                if (
                    dst is not None
                    and (extra is _EMPTY or _DIRECTION_KEYS.isdisjoint(extra))
                    and "direction" not in event
                    and "network_direction" not in event
                ):
                    way = _WAY[src[4], dst[4]]
                else:
                    way = self._direction(event)
                if way == "outbound" or (way == "internal" and not self._share_private):
                    withheld = f"{way} traffic"
                elif (holder, src[1]) in self.own:
                    withheld = "holder infrastructure"
                elif not self._share_private:
                    withheld = src[5]
                attacker = None if withheld is not None else (src[0], src[1])
            if attacker is not None and types:
                signature = extra.get("signature")
                if not isinstance(signature, str):
                    signature = None
                key = (holder, fmt, attacker[0], attacker[1], signature, types)
                template = self._indicators.get(key) or self._template(key, identity_id)
                # IndicatorTemplate.json, inline
                h = sha1(template.head + ts_json + template.tail).hexdigest()  # type: ignore[operator]
                uid = f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"
                ids.append(f"indicator--{uid}")
                parts.append(
                    f'{template.before_id}{uid}{template.before_created}{created}","modified":"{created}'
                    f"{template.before_valid}{ts}{template.end}"
                )
                attacker_of = template.attacker
            else:
                types = ()
        file_json = "null" if file is None else self._files.get(file) or self._file_json(file)
        line_json = str(line) if type(line) is int and -(2**63) <= line < 2**64 else text(line)
        joined = '","'.join(ids)
        h = sha1(_PPCTI_NS + f'[{holder_json},{file_json},{line_json},["{joined}"]]'.encode()).hexdigest()
        data = (
            f'{{"type":"bundle","id":"bundle--{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}'
            f'-{h[20:32]}","objects":[{",".join(parts)}]}}'
        ).encode()
        return Built(None, problems, None, holder, ts, attacker_of, types, withheld, data, ids, parts)

    def _template(self, key: tuple[Any, ...], identity_id: str) -> IndicatorTemplate:
        """The indicator template for ``(holder, format, sco type, value, signature, types)``, memoised."""
        holder, fmt, kind, value, signature, types = key
        template = IndicatorTemplate(
            holder, identity_id, fmt, (kind, value), signature, types, self.options.tlp, self._marks_json
        )
        if len(self._indicators) >= DEFAULT_CACHE_SIZE:
            self._indicators.clear()
        self._indicators[key] = template
        return template

    def _file_json(self, file: str) -> str:
        """A source file name as JSON, for the bundle id; memoised, as every entry of a file repeats it."""
        if len(self._files) >= DEFAULT_CACHE_SIZE:
            self._files.clear()
        found = self._files[file] = text(file)
        return found

    # -- parts --------------------------------------------------------------------------------------------

    def _emails(self, event, extra, ids, parts, file, line, problems):
        """email-addr objects for sender, recipients and other addresses; returns the refs they got.

        Each address is looked up in the memo directly (the common case, a hit) and only falls back to
        :meth:`_value` on a miss: this runs for every address of every e-mail entry.
        """
        memo = self._values["email-addr"]
        value_of = self._value
        found: _Value | None
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
                if sender_id not in ids:
                    ids.append(sender_id)
                    parts.append(found[2])
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
                if oid not in ids:
                    ids.append(oid)
                    parts.append(found[2])
                if field_name == "extra.recipients" and oid not in recipient_ids:
                    recipient_ids.append(oid)
        return sender, sender_id, recipient_ids

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
        found = self._verdicts.get(verdict)
        if found is None:
            found = verdict_types(verdict, self.options.indicator_types)
            if len(self._verdicts) >= DEFAULT_CACHE_SIZE:
                self._verdicts.clear()
            self._verdicts[verdict] = found
        return found


@lru_cache(maxsize=16)
def builder_for(options: CtiOptions) -> BundleBuilder:
    """One builder per distinct options value, so module-level calls reuse its caches."""
    return BundleBuilder(options)


def build_event(event: dict[str, Any], *, options: CtiOptions = CtiOptions()) -> Built:
    """The full outcome for one event (bundle, problems, reason)."""
    return builder_for(options).build(event)


def bundle_for_event(event: dict[str, Any], *, options: CtiOptions = CtiOptions()) -> dict[str, Any] | None:
    """The STIX bundle for one event, or ``None`` when nothing in it is valid (see :func:`build_event`).

    A fresh dict, parsed from the bundle's JSON (:func:`bundle_json`, which is what the builder makes).
    """
    return builder_for(options).build(event).bundle


def bundle_json(event: dict[str, Any], *, options: CtiOptions = CtiOptions()) -> bytes | None:
    """One line of ``bundles.jsonl``: the bundle for one event serialised compactly, or ``None``."""
    return builder_for(options).build(event).json
