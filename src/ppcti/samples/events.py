"""``events-json``: Suricata EVE (JSON array), Elastic Common Schema and Zeek conn (NDJSON).

One shape per file, as each feed is exported by one tool. A JSON array is written with one element per
physical line (``[{..},`` / ``{..},`` / ``{..}]``), so an element's 1-based index *is* its line
number and "line" cannot be read two ways. MAC addresses come in the spellings feeds really use: ECS
specifies upper-case with ``-``; exports also carry Cisco dotted (``0017.1088.bc02``), bare
(``00171088bc02``) and upper-case colon forms. Zeek ICMP records (which put type and code in the port
fields) are not generated, so a port is always a port.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from typing import IO, Any

import orjson

from ppcti.samples import timefmt as tf
from ppcti.samples.common import BurstSchedule, Campaign, Clock, FilePlan, forced_positions
from ppcti.samples.pools import INTERNAL_SERVICES, OUTBOUND, SIGNATURES, WAN_ADDRESSES, BotnetGroup, Pools
from ppcti.samples.truth import KeyGuard, TruthWriter

FORMAT = "events-json"

PLANS: tuple[FilePlan, ...] = (
    FilePlan("suricata-alerts.json", FORMAT, "eve", 40, (2023, 3, 20)),
    FilePlan("ecs-events.jsonl", FORMAT, "ecs", 35, (2023, 3, 22)),
    FilePlan("zeek-conn.jsonl", FORMAT, "zeek", 25, (2023, 3, 24)),
)
#: The Suricata sensor's local offset (written in every timestamp, so no configuration is needed).
EVE_OFFSET_MIN = -360

P_DUP_EXACT = 0.015
P_DUP_NORM = 0.01
P_NOT_OBJECT = 0.007
P_NO_IPS = 0.012
P_INVALID_JSON = 0.008  # NDJSON only: a line cut mid-record
P_ODD_MAC = 0.06

_NOT_OBJECTS: tuple[bytes, ...] = (b"null", b'"keepalive"', b"0", b"true")
_SIG_BY_PORT = {s[4]: s for s in SIGNATURES if s[4]}
_ICMP_SIG = next(s for s in SIGNATURES if s[5] == "ICMP")
_GENERIC_SIG = next(s for s in SIGNATURES if "Dshield" in s[1])
_UID_CHARS = string.ascii_letters + string.digits


def mac_spelling(mac: str, form: str) -> str:
    """``mac`` (lower-case colon) written in one of the forms feeds use."""
    bare = mac.replace(":", "")
    if form == "dash_upper":
        return mac.replace(":", "-").upper()
    if form == "dash":
        return mac.replace(":", "-")
    if form == "upper":
        return mac.upper()
    if form == "dot":
        return f"{bare[0:4]}.{bare[4:8]}.{bare[8:12]}"
    if form == "bare":
        return bare
    return mac


_ODD_FORMS = ("dash", "dash_upper", "upper", "dot", "bare")


def _spell(rng: random.Random, mac: str, usual: str, defects: list[str]) -> str:
    if rng.random() < P_ODD_MAC:
        form = _ODD_FORMS[rng.randrange(len(_ODD_FORMS))]
        if form != usual:
            defects.append(f"mac_{form}")
            return mac_spelling(mac, form)
    return mac_spelling(mac, usual)


def _flow(
    rng: random.Random, pools: Pools, botnet: BotnetGroup | None
) -> tuple[str, int | None, str, int | None, str, bool]:
    """``(src, sport, dst, dport, proto, inbound)`` of one connection."""
    sport = rng.randrange(1024, 65536)
    if botnet is not None:
        src = botnet.members[rng.randrange(len(botnet.members))]
        return src, sport, botnet.target, botnet.port, botnet.protocol, True
    r = rng.random()
    if r < 0.7:
        src = pools.attackers[rng.randrange(len(pools.attackers))]
        if rng.random() < 0.08:
            return src, None, WAN_ADDRESSES[0], None, "ICMP", True
        dst, port, proto = INTERNAL_SERVICES[rng.randrange(len(INTERNAL_SERVICES))]
        return src, sport, dst, port, proto, True
    src = pools.lan_clients[rng.randrange(len(pools.lan_clients))]
    dst, port, proto = OUTBOUND[rng.randrange(len(OUTBOUND))]
    return src, sport, dst, port, proto, False


def _eve(
    rng: random.Random,
    pools: Pools,
    us: int,
    botnet: BotnetGroup | None,
    defects: list[str],
) -> tuple[dict[str, Any], dict[str, Any]]:
    src, sport, dst, dport, proto, inbound = _flow(rng, pools, botnet)
    record: dict[str, Any] = {
        "timestamp": tf.eve(us, EVE_OFFSET_MIN),
        "flow_id": rng.randrange(1 << 50),
        "in_iface": "eth0",
    }
    alert = inbound or rng.random() < 0.15
    record["event_type"] = "alert" if alert else "flow"
    record.update(src_ip=src, src_port=sport, dest_ip=dst, dest_port=dport, proto=proto)
    if proto == "ICMP":
        del record["src_port"], record["dest_port"]
        record.update(icmp_type=8, icmp_code=0)
    extra: dict[str, Any] = {"event_type": record["event_type"]}
    src_mac = dst_mac = None
    if rng.random() < 0.85:
        src_mac = pools.gateway_macs[0] if inbound else pools.lan_macs[rng.randrange(len(pools.lan_macs))]
        dst_mac = pools.sensor_macs[rng.randrange(len(pools.sensor_macs))]
        record["ether"] = {
            "src_mac": _spell(rng, src_mac, "colon", defects),
            "dest_mac": _spell(rng, dst_mac, "colon", defects),
        }
        extra["dst_mac"] = dst_mac
    if alert:
        sig = _ICMP_SIG if proto == "ICMP" else _SIG_BY_PORT.get(dport or 0, _GENERIC_SIG)
        record["alert"] = {
            "action": "allowed",
            "gid": 1,
            "signature_id": sig[0],
            "rev": 1 + sig[0] % 7,
            "signature": sig[1],
            "category": sig[2],
            "severity": sig[3],
        }
        extra["signature"] = sig[1]
    pkts = rng.randrange(1, 12)
    record["flow"] = {
        "pkts_toserver": pkts,
        "pkts_toclient": rng.randrange(0, pkts + 1),
        "bytes_toserver": pkts * rng.randrange(60, 600),
        "bytes_toclient": rng.randrange(0, 4000),
        "start": tf.eve(us - rng.randrange(1, 2_000_000), EVE_OFFSET_MIN),
    }
    fields = {
        "timestamp": tf.stix(us, 6),
        "src_ip": src,
        "src_port": sport,
        "dst_ip": dst,
        "dst_port": dport,
        "protocol": proto,
        "src_mac": src_mac,
        "extra": extra,
    }
    return record, fields


def _ecs(
    rng: random.Random,
    pools: Pools,
    us: int,
    botnet: BotnetGroup | None,
    defects: list[str],
) -> tuple[dict[str, Any], dict[str, Any]]:
    src, sport, dst, dport, proto, inbound = _flow(rng, pools, botnet)
    denied = inbound and rng.random() < 0.85
    action = "connection_denied" if denied else "connection_allowed"
    source: dict[str, Any] = {"ip": src}
    destination: dict[str, Any] = {"ip": dst}
    if sport is not None:
        source["port"], destination["port"] = sport, dport
    src_mac = dst_mac = None
    extra: dict[str, Any] = {"event_type": action}
    if rng.random() < 0.7:
        src_mac = pools.gateway_macs[0] if inbound else pools.lan_macs[rng.randrange(len(pools.lan_macs))]
        source["mac"] = _spell(rng, src_mac, "dash_upper", defects)
    if rng.random() < 0.4:
        dst_mac = pools.sensor_macs[rng.randrange(len(pools.sensor_macs))]
        destination["mac"] = _spell(rng, dst_mac, "dash_upper", defects)
        extra["dst_mac"] = dst_mac
    record = {
        "@timestamp": tf.ecs(us),
        "event": {
            "kind": "event",
            "category": ["network"],
            "action": action,
            "outcome": "failure" if denied else "success",
        },
        "source": source,
        "destination": destination,
        "network": {"transport": proto.lower(), "direction": "inbound" if inbound else "outbound"},
        "observer": {
            "vendor": "Example",
            "product": "edge-firewall",
            "type": "firewall",
            "hostname": "fw-dmz-1",
        },
        "rule": {"name": "wan-default-deny" if denied else "allow-established"},
    }
    fields = {
        "timestamp": tf.stix(us, 3),
        "src_ip": src,
        "src_port": sport,
        "dst_ip": dst,
        "dst_port": dport,
        "protocol": proto,
        "src_mac": src_mac,
        "extra": extra,
    }
    return record, fields


def _zeek(
    rng: random.Random,
    pools: Pools,
    us: int,
    botnet: BotnetGroup | None,
    defects: list[str],
) -> tuple[dict[str, Any], dict[str, Any]]:
    for _ in range(20):
        src, sport, dst, dport, proto, inbound = _flow(rng, pools, botnet)
        if sport is not None:
            break
    else:  # pragma: no cover - ICMP twenty times in a row
        src, sport, dst, dport, proto, inbound = pools.lan_clients[0], 40000, "9.9.9.9", 53, "UDP", False
    uid = "C" + "".join(_UID_CHARS[rng.randrange(62)] for _ in range(17))
    answered = not inbound or rng.random() < 0.2
    record: dict[str, Any] = {
        "ts": float(tf.zeek(us)),
        "uid": uid,
        "id.orig_h": src,
        "id.orig_p": sport,
        "id.resp_h": dst,
        "id.resp_p": dport,
        "proto": proto.lower(),
    }
    if answered:
        record.update(
            duration=round(rng.random() * 3, 6) or 0.000123,
            orig_bytes=rng.randrange(0, 3000),
            resp_bytes=rng.randrange(0, 90000),
            conn_state="SF",
        )
    else:
        record.update(conn_state="S0" if proto == "TCP" else "OTH")
    pkts = rng.randrange(1, 6)
    record.update(
        local_orig=not inbound,
        local_resp=inbound,
        missed_bytes=0,
        history=("ShADadFf" if answered else "S") if proto == "TCP" else "D",
        orig_pkts=pkts,
        orig_ip_bytes=pkts * 52,
        resp_pkts=pkts if answered else 0,
        resp_ip_bytes=pkts * 1200 if answered else 0,
    )
    fields = {
        "timestamp": tf.stix(us, 6),
        "src_ip": src,
        "src_port": sport,
        "dst_ip": dst,
        "dst_port": dport,
        "protocol": proto,
    }
    return record, fields


def _no_ips(style: str, us: int, rng: random.Random) -> dict[str, Any]:
    """A record the feed really carries that has no addresses at all (stats, metrics)."""
    if style == "eve":
        return {
            "timestamp": tf.eve(us, EVE_OFFSET_MIN),
            "event_type": "stats",
            "stats": {
                "uptime": rng.randrange(1000, 900000),
                "capture": {"kernel_packets": rng.randrange(1 << 30), "kernel_drops": rng.randrange(500)},
            },
        }
    if style == "ecs":
        return {
            "@timestamp": tf.ecs(us),
            "event": {"kind": "metric", "dataset": "system.cpu"},
            "host": {"name": "fw-dmz-1"},
            "system": {"cpu": {"total": {"norm": {"pct": 0.125}}}},
        }
    return {
        "ts": float(tf.zeek(us)),
        "uid": "C" + "".join(_UID_CHARS[rng.randrange(62)] for _ in range(17)),
        "proto": "tcp",
        "conn_state": "OTH",
        "missed_bytes": 0,
    }


_BUILDERS: dict[str, Callable[..., tuple[dict[str, Any], dict[str, Any]]]] = {
    "eve": _eve,
    "ecs": _ecs,
    "zeek": _zeek,
}
_DIGITS = {"eve": 6, "ecs": 3, "zeek": 6}


def _respell(rng: random.Random, record: dict[str, Any]) -> bytes:
    """The same record exported again: keys in another order and MACs spelled another way."""
    copy = dict(reversed(list(record.items())))
    for outer, key in (
        ("ether", "src_mac"),
        ("ether", "dest_mac"),
        ("source", "mac"),
        ("destination", "mac"),
    ):
        inner = copy.get(outer)
        if isinstance(inner, dict) and key in inner:
            colon = inner[key].lower().replace("-", "")
            colon = colon.replace(".", "").replace(":", "")
            colon = ":".join(colon[i : i + 2] for i in range(0, 12, 2))
            inner = dict(inner)
            inner[key] = mac_spelling(colon, _ODD_FORMS[rng.randrange(len(_ODD_FORMS))])
            copy[outer] = inner
    return orjson.dumps(copy)


def write_file(
    handle: IO[bytes],
    plan: FilePlan,
    rows: int,
    seed: int,
    pools: Pools,
    truth: TruthWriter,
    campaigns: list[Campaign],
) -> None:
    """Write one JSON feed file of ``rows`` entries and its ground truth."""
    rng = random.Random(f"ppcti-samples:{seed}:{plan.name}")
    clock = Clock(rng, plan.day, rows)
    bursts = BurstSchedule(rng, rows, pools.botnets, every=150)
    guard = KeyGuard()
    build = _BUILDERS[plan.style]
    digits = _DIGITS[plan.style]
    array = plan.name.endswith(".json")
    kinds = ("dup_exact", "dup_norm", "not_object", "no_ips") + (() if array else ("invalid_json",))
    forced = forced_positions(rng, rows, kinds)
    cut = P_DUP_EXACT + P_DUP_NORM
    force_r = {
        "dup_exact": 0.0,
        "dup_norm": P_DUP_EXACT,
        "not_object": cut,
        "no_ips": cut + P_NOT_OBJECT,
        "invalid_json": cut + P_NOT_OBJECT + P_NO_IPS,
    }
    recent: list[tuple[int, dict[str, Any], bytes]] = []
    out: list[bytes] = []
    name = plan.name
    campaign: Campaign | None = None
    started = False
    for number in range(1, rows + 1):
        botnet = bursts.step(number - 1)
        now = clock.now = tf.nonzero_last_digit(clock.tick(burst=botnet is not None), digits)
        if botnet is None and campaign is not None:
            campaigns.append(campaign)
            campaign = None
        r = 1.0 if botnet else rng.random()
        force = None if botnet else forced.get(number - 1)
        if force is not None:
            r = force_r[force]
        if r < cut and recent:
            of_line, record, text = recent[rng.randrange(len(recent))]
            if r >= P_DUP_EXACT:
                text = _respell(rng, record)
            out.append(text)
            original = next(t for n, _, t in recent if n == of_line)
            truth.duplicate(FORMAT, name, number, of_line, "exact" if text == original else "normalised")
        elif r < cut + P_NOT_OBJECT:
            out.append(_NOT_OBJECTS[rng.randrange(len(_NOT_OBJECTS))])
            truth.reject(FORMAT, name, number, "not_an_object")
        elif r < cut + P_NOT_OBJECT + P_NO_IPS:
            out.append(orjson.dumps(_no_ips(plan.style, now, rng)))
            truth.reject(FORMAT, name, number, "missing_ips")
        elif not array and r < cut + P_NOT_OBJECT + P_NO_IPS + P_INVALID_JSON:
            text = orjson.dumps(build(rng, pools, now, None, [])[0])
            out.append(text[: rng.randrange(10, len(text) - 2)])
            truth.reject(FORMAT, name, number, "invalid_json", defects=("truncated_record",))
        else:
            for _ in range(50):
                defects: list[str] = []
                record, fields = build(rng, pools, now, botnet, defects)
                key = (
                    fields["src_ip"],
                    fields.get("src_port"),
                    fields["dst_ip"],
                    fields.get("dst_port"),
                    fields["protocol"],
                    fields.get("src_mac"),
                    orjson.dumps(fields.get("extra")),
                )
                if guard.claim(fields["timestamp"], key):
                    break
            text = orjson.dumps(record)
            out.append(text)
            truth.event(FORMAT, name, number, fields, defects=defects)
            recent.append((number, record, text))
            if len(recent) > 64:
                del recent[:32]
            if botnet is not None:
                if campaign is None:
                    campaign = Campaign(botnet.name, name, number, start=fields["timestamp"])
                campaign.last_line, campaign.end = number, fields["timestamp"]
                campaign.members.add(fields["src_ip"])
        if len(out) >= 4096:
            started = _flush(handle, out, array, started=started)
    if campaign is not None:
        campaigns.append(campaign)
    _flush(handle, out, array, started=started, last=True)


def _flush(handle: IO[bytes], out: list[bytes], array: bool, *, started: bool, last: bool = False) -> bool:
    """Write buffered elements; an array keeps one element per line, ``[`` and ``]`` on the edge lines.

    Returns whether the array has been opened.
    """
    if array:
        body = b",\n".join(out)
        if not started:
            body = b"[" + body
        elif out:
            body = b",\n" + body
        if last:
            body += b"]\n"
        handle.write(body)
    elif out:
        handle.write(b"\n".join(out) + b"\n")
    out.clear()
    return True
