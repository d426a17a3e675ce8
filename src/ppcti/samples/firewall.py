"""``firewall-text``: MikroTik RouterOS firewall logs in four timestamp styles, with rsyslog's defects.

Each file is one device or relay writing one style (RouterOS local log, rsyslog RFC 3339 with the
sending device's address or name, BSD syslog with a priority and no year, console time-only). Lines
follow the RouterOS layout::

    <time> firewall,info [prefix ]<chain>: in:<if> out:<if>, connection-state:<s> src-mac <mac>,
        proto TCP (SYN), <src>:<port>-><dst>:<port>[, NAT <src>:<port>->(<wan>:<port>-><lan>:<port>)], len 60

The expected event follows the feature rules literally on the message after the header (timestamp and,
for syslog styles, the host, which may be an IP address as rsyslog's ``%fromhost-ip%`` writes it):
source = first IP, destination = second, NAT IP = last IP when there are more than two, a port is the
number after ``IP:``, protocol = the word after ``proto``, source MAC = first MAC. Source-NAT lines
(whose last IP is the remote peer, not a translated address) are not generated, so "NAT IP" has one
reading. Truncations are cut at points that leave no partial address or
port that could parse as a different valid value.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import IO

from ppcti.samples import timefmt as tf
from ppcti.samples.common import BurstSchedule, Campaign, Clock, FilePlan, forced_positions
from ppcti.samples.pools import INTERNAL_SERVICES, OUTBOUND, SCANNED_PORTS, WAN_ADDRESSES, BotnetGroup, Pools
from ppcti.samples.truth import KeyGuard, TruthWriter

FORMAT = "firewall-text"

PLANS: tuple[FilePlan, ...] = (
    FilePlan("firewall.log", FORMAT, "routeros", 35, (2023, 3, 8)),
    FilePlan("firewall-rsyslog.log", FORMAT, "rfc3339", 30, (2023, 3, 18)),
    FilePlan("firewall-syslog.txt", FORMAT, "bsd", 20, (2023, 3, 2)),
    FilePlan("router-console.txt", FORMAT, "time_only", 15, (2023, 3, 7)),
)
#: Offset of the rsyslog relay's local time (the relay writes its zone, so no configuration is needed).
RSYSLOG_OFFSET_MIN = 60
#: Devices the rsyslog relay collects from, written as rsyslog's ``%fromhost-ip%`` or a host name; the
#: relay host is part of the header, never the flow's source (see the module docstring).
RSYSLOG_HOSTS = ("10.120.127.1", "10.120.127.1", "10.120.127.2", "gw-branch1")
BSD_HOSTS = ("router1", "router2")

# Rates (per entry) of the defects and line kinds; together about 10% defective entries.
P_DUP = 0.02
P_SYSTEM_IP = 0.03
P_SYSTEM_NO_IP = 0.012
P_BAD_MAC = 0.02
P_TRUNC_KEEP = 0.04  # only in relayed files (rsyslog, BSD)
P_TRUNC_REJECT = 0.03

_TCP_FLAGS = ("SYN", "SYN", "SYN", "SYN", "ACK", "ACK,PSH", "ACK,FIN", "RST", "SYN,ACK", "ACK,RST")
_BAD_MACS = ("1:1:1:1:", "0:0:0:0:", "ff:ff:ff:", "00:17:10:88:bc")
_NO_IP_LINES = (
    "system,info device changed by admin",
    "interface,info ether2 link down",
    "interface,info ether2 link up (speed 1G, full duplex)",
    "system,info router rebooted",
    "script,info backup saved to flash",
    "system,error,critical router was rebooted without proper shutdown",
    "wireless,info {mac}@wlan1: disconnected, received deauth: sending station leaving (3)",
    "system,info,account user admin logged out via winbox",
)


def _renderer(style: str, rng: random.Random) -> Callable[[int], tuple[str, str]]:
    """``us -> (line prefix, expected STIX timestamp)`` for one file's style, cached per second."""
    cache: dict[int, tuple[str, str]] = {}
    host = BSD_HOSTS[int(rng.random() * len(BSD_HOSTS))]

    def second(sec_us: int) -> tuple[str, str]:
        hit = cache.get(sec_us)
        if hit is None:
            if len(cache) > 4:
                cache.clear()
            if style == "routeros":
                hit = (tf.routeros_local(sec_us) + " ", tf.stix(sec_us))
            elif style == "bsd":
                hit = (f"<134>{tf.bsd(sec_us)} {host} ", tf.stix(sec_us))
            elif style == "time_only":
                hit = (tf.time_only(sec_us) + " ", tf.stix(sec_us))
            else:
                text = tf.rfc3339(sec_us, RSYSLOG_OFFSET_MIN)
                hit = (text[:19], tf.stix(sec_us)[:-1])
            cache[sec_us] = hit
        return hit

    if style == "rfc3339":
        offset = f"+{RSYSLOG_OFFSET_MIN // 60:02d}:{RSYSLOG_OFFSET_MIN % 60:02d}"
        suffixes = tuple(f"{offset} {h} " for h in RSYSLOG_HOSTS)

        def render(us: int) -> tuple[str, str]:
            base, stix_base = second(us - us % tf.US)
            frac = f".{us % tf.US:06d}"
            suffix = suffixes[int(rng.random() * len(suffixes))]
            return f"{base}{frac}{suffix}", f"{stix_base}{frac}Z"

        return render
    return lambda us: second(us - us % tf.US)


class _Line:
    """A firewall line in pieces, so truncation can cut at safe points."""

    __slots__ = ("dport", "dst", "head", "mac", "nat", "proto", "sport", "src", "tail")

    def __init__(
        self,
        head: str,
        src: str,
        sport: int | None,
        dst: str,
        dport: int | None,
        tail: str,
        proto: str,
        mac: str | None,
        nat: str | None,
    ) -> None:
        self.head, self.src, self.sport, self.dst, self.dport = head, src, sport, dst, dport
        self.tail, self.proto, self.mac, self.nat = tail, proto, mac, nat

    def flow(self) -> str:
        if self.sport is None:
            return f"{self.src}->{self.dst}"
        return f"{self.src}:{self.sport}->{self.dst}:{self.dport}"


def _proto_part(rng: random.Random, proto: str, syn_only: bool) -> str:
    if proto == "TCP":
        flags = "SYN" if syn_only else _TCP_FLAGS[int(rng.random() * len(_TCP_FLAGS))]
        return f"proto TCP ({flags})"
    if proto == "ICMP":
        return "proto ICMP (type 8, code 0)" if rng.random() < 0.8 else "proto ICMP (type 3, code 3)"
    return "proto UDP"


def _firewall_line(rng: random.Random, pools: Pools, botnet: BotnetGroup | None, bad_mac: bool) -> _Line:
    """One firewall entry: a scan of the WAN address, a port-forwarded attack, or LAN traffic."""
    r = rng.random()
    gw_mac = pools.gateway_macs[0] if rng.random() < 0.85 else pools.gateway_macs[1]
    sport = 1024 + int(rng.random() * 64512)
    if botnet is not None or r < 0.2:
        # Port-forwarded traffic to an internal server, logged in forward after dst-nat.
        if botnet is not None:
            src = botnet.members[int(rng.random() * len(botnet.members))]
            lan, port, proto = botnet.target, botnet.port, botnet.protocol
        else:
            src = pools.attackers[int(rng.random() * len(pools.attackers))]
            lan, port, proto = INTERNAL_SERVICES[int(rng.random() * len(INTERNAL_SERVICES))]
        wan = WAN_ADDRESSES[0]
        mac = gw_mac
        if botnet is not None or rng.random() < 0.75:
            head = "firewall,info forward: in:ether1-WAN out:bridge-lan, connection-state:new,dnat src-mac "
            tail = f", NAT {src}:{sport}->({wan}:{port}->{lan}:{port}), len "
            nat = lan
        else:
            head = "firewall,info prerouting: in:ether1-WAN out:(unknown 0), connection-state:new src-mac "
            tail = f", NAT ({wan}:{port}->{lan}:{port}), len "
            nat, lan = lan, wan
        if bad_mac:
            mac = None
        head += f"{_BAD_MACS[int(rng.random() * len(_BAD_MACS))] if bad_mac else gw_mac}, "
        head += _proto_part(rng, proto, syn_only=True) + ", "
        tail += "60" if proto == "TCP" else str(rng.randrange(40, 400))
        return _Line(head, src, sport, lan, port, tail, proto, mac, nat)
    if r < 0.75:
        # Internet noise against the router's own address, dropped in input.
        src = pools.attackers[int(rng.random() * len(pools.attackers))]
        dst = WAN_ADDRESSES[int(rng.random() * len(WAN_ADDRESSES))]
        q = rng.random()
        proto = "TCP" if q < 0.72 else ("UDP" if q < 0.9 else "ICMP")
        prefix = (
            ("drop-in ", "drop-tcp ", "", "wan-scan ")[int(rng.random() * 4)]
            if proto == "TCP"
            else "drop-in "
        )
        state = "connection-state:new " if rng.random() < 0.8 else ""
        mac = None if bad_mac else gw_mac
        mac_text = _BAD_MACS[int(rng.random() * len(_BAD_MACS))] if bad_mac else gw_mac
        head = (
            f"firewall,info {prefix}input: in:ether1-WAN out:(unknown 0), {state}src-mac {mac_text}, "
            f"{_proto_part(rng, proto, syn_only=False)}, "
        )
        if proto == "ICMP":
            return _Line(head, src, None, dst, None, f", len {rng.choice((56, 60, 84))}", proto, mac, None)
        port = SCANNED_PORTS[int(rng.random() * len(SCANNED_PORTS))]
        return _Line(head, src, sport, dst, port, f", len {40 + rng.randrange(0, 60, 4)}", proto, mac, None)
    if r < 0.97:
        # LAN clients going out.
        idx = int(rng.random() * len(pools.lan_clients))
        src = pools.lan_clients[idx]
        mac = pools.lan_macs[idx % len(pools.lan_macs)]
        dst, port, proto = OUTBOUND[int(rng.random() * len(OUTBOUND))]
        state = "new" if rng.random() < 0.6 else "established"
        mac_text = _BAD_MACS[int(rng.random() * len(_BAD_MACS))] if bad_mac else mac
        head = (
            f"firewall,info accept-out forward: in:bridge-lan out:ether1-WAN, connection-state:{state} "
            f"src-mac {mac_text}, {_proto_part(rng, proto, syn_only=state == 'new')}, "
        )
        size = (
            rng.randrange(40, 1500)
            if proto != "TCP" or state != "new"
            else (60, 52, 44)[int(rng.random() * 3)]
        )
        return _Line(
            head,
            src,
            sport,
            dst,
            port,
            f", len {size}",
            proto,
            None if bad_mac else mac,
            None,
        )
    # The router itself talking (output chain has no src-mac).
    dst, port, proto = OUTBOUND[int(rng.random() * len(OUTBOUND))]
    head = f"firewall,info output: in:(unknown 0) out:ether1-WAN, {_proto_part(rng, proto, syn_only=True)}, "
    return _Line(
        head, WAN_ADDRESSES[0], sport, dst, port, f", len {rng.randrange(40, 200)}", proto, None, None
    )


def _system_line(rng: random.Random, pools: Pools) -> tuple[str, str, str | None]:
    """A non-firewall line that carries one IP: ``(text, ip, mac)``."""
    r = rng.random()
    if r < 0.45:
        ip = pools.attackers[int(rng.random() * len(pools.attackers))]
        user = ("admin", "admin", "root", "user", "support", "test")[int(rng.random() * 6)]
        via = ("winbox", "ssh", "web", "telnet", "api")[int(rng.random() * 5)]
        return f"system,error,critical login failure for user {user} from {ip} via {via}", ip, None
    idx = int(rng.random() * len(pools.lan_clients))
    ip = pools.lan_clients[idx]
    if r < 0.7:
        via = ("winbox", "ssh", "web")[int(rng.random() * 3)]
        return f"system,info,account user admin logged in from {ip} via {via}", ip, None
    mac = pools.lan_macs[idx % len(pools.lan_macs)]
    verb = "assigned" if rng.random() < 0.7 else "deassigned"
    word = "to" if verb == "assigned" else "from"
    return f"dhcp,info dhcp-lan {verb} {ip} {word} {mac.upper()}", ip, mac


def write_file(
    handle: IO[str],
    plan: FilePlan,
    rows: int,
    seed: int,
    pools: Pools,
    truth: TruthWriter,
    campaigns: list[Campaign],
) -> None:
    """Write ``rows`` lines of one firewall file and their ground truth."""
    rng = random.Random(f"ppcti-samples:{seed}:{plan.name}")
    clock = Clock(rng, plan.day, rows)
    bursts = BurstSchedule(rng, rows, pools.botnets)
    render = _renderer(plan.style, rng)
    relayed = plan.style in ("rfc3339", "bsd")
    kinds = ("dup", "no_ip", "bad_mac") + (("trunc_reject", "trunc_keep") if relayed else ())
    forced = forced_positions(rng, rows, kinds)
    guard = KeyGuard()
    recent: list[tuple[int, str]] = []
    out: list[str] = []
    name = plan.name
    campaign: Campaign | None = None
    for number in range(1, rows + 1):
        botnet = bursts.step(number - 1)
        now = clock.tick(burst=botnet is not None)
        if plan.style == "rfc3339":
            now = clock.now = tf.nonzero_last_digit(now, 6)
        prefix, ts = render(now)
        if botnet is None and campaign is not None:
            campaigns.append(campaign)
            campaign = None
        r = 1.0 if botnet else rng.random()
        force = None if botnet else forced.get(number - 1)
        if force is not None:
            r = {"dup": 0.0, "no_ip": P_DUP}.get(force, 1.0)
        if r < P_DUP and recent:
            of_line, text = recent[int(rng.random() * len(recent))]
            out.append(text)
            truth.duplicate(FORMAT, name, number, of_line, "exact")
        elif r < P_DUP + P_SYSTEM_NO_IP:
            body = _NO_IP_LINES[int(rng.random() * len(_NO_IP_LINES))]
            text = prefix + body.replace(
                "{mac}", pools.lan_macs[int(rng.random() * len(pools.lan_macs))].upper()
            )
            if not guard.claim(ts, text):
                text = prefix + "system,info,account user admin logged in via local"
            out.append(text)
            truth.reject(FORMAT, name, number, "no_ip", defects=("no_ip",))
        elif r < P_DUP + P_SYSTEM_NO_IP + P_SYSTEM_IP:
            for _ in range(50):
                body, ip, mac = _system_line(rng, pools)
                if guard.claim(ts, (ip, mac)):
                    break
            text = prefix + body
            out.append(text)
            truth.event(
                FORMAT,
                name,
                number,
                {"timestamp": ts, "src_ip": ip, "src_mac": mac},
                defects=("non_firewall", "uppercase_mac") if mac else ("non_firewall",),
            )
            recent.append((number, text))
        else:
            bad_mac = botnet is None and (rng.random() < P_BAD_MAC or force == "bad_mac")
            for _ in range(50):
                line = _firewall_line(rng, pools, botnet, bad_mac)
                key = (line.src, line.sport, line.dst, line.dport, line.nat, line.proto, line.mac)
                if guard.claim(ts, key):
                    break
            t = rng.random() if relayed and botnet is None else 1.0
            if force in ("trunc_reject", "trunc_keep"):
                t = 0.0 if force == "trunc_reject" else P_TRUNC_REJECT
            bad_mac = bad_mac and "src-mac" in line.head  # the output chain logs no MAC at all
            defects: list[str] = ["malformed_mac"] if bad_mac else []
            if t < P_TRUNC_REJECT:
                # Cut before any address is complete: at most one dot of the first address survives.
                partial = line.src[: line.src.index(".", line.src.index(".") + 1)]
                cut = rng.randrange(len(line.head) // 2, len(line.head) + len(partial))
                out.append(prefix + (line.head + partial)[:cut] + ">")
                truth.reject(FORMAT, name, number, "no_ip", defects=("truncated_before_ip",))
                continue
            body = line.head + line.flow()
            if t < P_TRUNC_REJECT + P_TRUNC_KEEP:
                # Cut after the flow, before any NAT address: ", NAT " or inside ", len NN".
                safe = (
                    line.tail.index("(") + 1
                    if line.tail.startswith(", NAT (")
                    else (6 if line.tail.startswith(", NAT") else len(line.tail) - 1)
                )
                text = prefix + body + line.tail[: rng.randrange(2, safe + 1)] + ">"
                nat = None
                defects.append("truncated")
            else:
                text = prefix + body + line.tail
                nat = line.nat
            out.append(text)
            truth.event(
                FORMAT,
                name,
                number,
                {
                    "timestamp": ts,
                    "src_ip": line.src,
                    "src_port": line.sport,
                    "dst_ip": line.dst,
                    "dst_port": line.dport,
                    "nat_ip": nat,
                    "protocol": line.proto,
                    "src_mac": line.mac,
                },
                defects=defects,
                flags=("malformed_mac",) if bad_mac else (),
            )
            recent.append((number, text))
            if botnet is not None:
                if campaign is None:
                    campaign = Campaign(botnet.name, name, number, start=ts)
                campaign.last_line, campaign.end = number, ts
                campaign.members.add(line.src)
        if len(recent) > 64:
            del recent[:32]
        if len(out) >= 4096:
            handle.write("\n".join(out) + "\n")
            out.clear()
    if campaign is not None:
        campaigns.append(campaign)
    if out:
        handle.write("\n".join(out) + "\n")
    if clock.now >= tf.epoch_us(*plan.day) + 86_400 * tf.US:  # pragma: no cover - Clock's bound
        raise AssertionError(f"{plan.name} ran past the end of its day")
