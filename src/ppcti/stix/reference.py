"""The same bundles built with the ``stix2`` object model: the yardstick for tests and the benchmark.

``stix2`` checks every property as it constructs an object and computes SCO ids itself, so a bundle built
here is an independent statement of what the hot path in :mod:`ppcti.stix.build` must produce: the tests
require both to be equal object for object, and ``bench/stix.py`` times both on the same entries.

Normalisation and the choices about *what* goes into a bundle (attacker, indicator types, description)
are shared with the hot path; ids of SCOs and the construction and serialisation of every object are not.
SDO ids are passed in, because ``stix2`` would otherwise draw random ones.
"""

from __future__ import annotations

from typing import Any

from ppcti.stix import normalise as norm
from ppcti.stix.build import BundleBuilder
from ppcti.stix.ids import sdo_id
from ppcti.stix.markings import tlp_marking
from ppcti.stix.parts import PATTERN_LABEL, stix_pattern


def stix2_bundle(event: dict[str, Any], builder: BundleBuilder) -> Any:
    """A ``stix2.v21.Bundle`` for the event, or ``None`` when the hot path would produce none."""
    import stix2.v21 as s

    opts = builder.options
    holder = event.get("holder")
    if not isinstance(holder, str) or not holder.strip():
        return None
    holder = holder.strip()
    fmt = event.get("format") if isinstance(event.get("format"), str) else "unknown"
    extra = event.get("extra") if isinstance(event.get("extra"), dict) else {}
    file = event.get("source_file") if isinstance(event.get("source_file"), str) else None
    line = event.get("line") if isinstance(event.get("line"), int) else None
    ts = norm.timestamp(event.get("timestamp"))
    marks = [builder.marking_id]
    scos: dict[str, Any] = {}

    def keep(obj: Any) -> Any:
        scos.setdefault(obj.id, obj)
        return obj

    def ip(value: Any) -> Any:
        found = norm.ip_address(value)
        if found is None:
            return None
        cls = s.IPv4Address if found[0] == "ipv4-addr" else s.IPv6Address
        return keep(cls(value=found[1], object_marking_refs=marks))

    src, dst = ip(event.get("src_ip")), ip(event.get("dst_ip"))
    ip(event.get("nat_ip"))
    for raw in (event.get("src_mac"), extra.get("dst_mac")):
        mac = norm.mac_address(raw)
        if mac is not None:
            keep(s.MACAddress(value=mac, object_marking_refs=marks))
    if src is not None or dst is not None:
        ports = {k: norm.port(event.get(k)) for k in ("src_port", "dst_port")}
        ports = {k: v for k, v in ports.items() if v is not None}
        if len(ports) == 2 or opts.portless_traffic:
            protocols = ["ipv4" if (src or dst).type == "ipv4-addr" else "ipv6"]
            proto = norm.protocol(event.get("protocol"))
            if proto is not None:
                protocols.append(proto)
            refs = {"src_ref": src.id} if src is not None else {}
            if dst is not None:
                refs["dst_ref"] = dst.id
            start = {"start": ts} if ts else {}
            keep(s.NetworkTraffic(**start, **refs, **ports, protocols=protocols, object_marking_refs=marks))

    sender = sender_obj = None
    recipients: list[Any] = []
    if fmt == "email-csv" or "sender" in extra or event.get("emails"):
        sender = norm.email_address(extra.get("sender"))
        if sender is not None:
            sender_obj = keep(s.EmailAddress(value=sender, object_marking_refs=marks))
        raw_recipients = extra.get("recipients")
        raw_recipients = [raw_recipients] if isinstance(raw_recipients, str) else raw_recipients
        for raw in raw_recipients if isinstance(raw_recipients, list) else []:
            text = norm.email_address(raw)
            if text is not None:
                obj = keep(s.EmailAddress(value=text, object_marking_refs=marks))
                if obj.id not in [r.id for r in recipients]:
                    recipients.append(obj)
        for raw in event.get("emails") if isinstance(event.get("emails"), list) else []:
            text = norm.email_address(raw)
            if text is not None:
                keep(s.EmailAddress(value=text, object_marking_refs=marks))
        subject = extra.get("subject") if opts.include_subject else None
        subject = subject if isinstance(subject, str) and subject else None
        if fmt == "email-csv" and (sender_obj is not None or subject is not None):
            props: dict[str, Any] = {"is_multipart": False, "object_marking_refs": marks}
            if ts:
                props["date"] = ts
            if sender_obj is not None:
                props["from_ref"] = sender_obj.id
            if recipients:
                props["to_refs"] = [r.id for r in recipients]
            if subject is not None:
                props["subject"] = subject
            keep(s.EmailMessage(**props))
    if not scos:
        return None

    identity = s.Identity(
        id=builder.identity_id(holder),
        created=opts.identity_created,
        modified=opts.identity_created,
        name=holder,
        identity_class="organization",
    )
    objects = [s.MarkingDefinition(**tlp_marking(opts.tlp)), identity, *scos.values()]
    if ts:
        types = builder._indicator_types(fmt, extra)
        attacker = builder._attacker(fmt, sender, (src.type, src.value) if src is not None else None)
        if builder._withheld(event, holder, attacker) is not None:  # the sharing rules, ppcti.netrange
            attacker = None
        if attacker is not None and types:
            pattern = stix_pattern(*attacker)
            description = f"Attacking side of an entry in a {fmt} log recorded by {holder}."
            signature = extra.get("signature")
            if isinstance(signature, str) and signature.strip():
                description += f" Signature: {signature.strip()}"
            objects.append(
                s.Indicator(
                    id=sdo_id("indicator", holder, pattern, ts, description, types, opts.tlp),
                    created_by_ref=identity.id,
                    created=norm.millis(ts),
                    modified=norm.millis(ts),
                    name=f"Attacking {PATTERN_LABEL[attacker[0]]}",
                    description=description,
                    indicator_types=list(types),
                    pattern=pattern,
                    pattern_type="stix",
                    pattern_version="2.1",
                    valid_from=ts,
                    object_marking_refs=marks,
                )
            )
    bundle_id = sdo_id("bundle", holder, file, line, [o.id for o in objects])
    return s.Bundle(*objects, id=bundle_id)
