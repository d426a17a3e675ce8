"""Value pools the generators draw from, built once per seed.

Generating a million lines per second-ish budget leaves no room for per-line Faker calls or address
arithmetic, so every address, MAC, user and subject a generator can emit is computed here up front and
the hot loops only index into tuples. The pools are also where realism lives: attackers spread over
many /16s of routable space, victims in RFC 1918 ranges, the upstream gateway MAC that a WAN interface
sees for all inbound traffic, and botnet groups that hit one internal service inside short windows.

Public attacker addresses are synthetic picks in globally routable space (plus the RFC 5737
documentation ranges); any match with a real host is coincidence. E-mail domains are reserved names
(``example.com``, ``example.org``, ``*.example``, ``*.test``) and the holder's own domain is
``corp.example``.
"""

from __future__ import annotations

import ipaddress
import random
from dataclasses import dataclass

#: First octets of routable unicast space used for synthetic attacker addresses.
# fmt: off
_PUBLIC_FIRST_OCTETS: tuple[int, ...] = (
    5, 23, 31, 37, 41, 45, 46, 49, 58, 59, 61, 62, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 91,
    92, 93, 94, 95, 101, 103, 104, 106, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 121, 122,
    123, 124, 125, 138, 139, 141, 142, 146, 147, 149, 151, 154, 156, 157, 159, 161, 162, 164, 165, 167, 171,
    175, 176, 177, 178, 179, 180, 181, 182, 183, 185, 186, 187, 188, 189, 190, 191, 193, 194, 195, 196, 197,
    200, 201, 202, 210, 211, 212, 213, 217, 218, 219, 220, 221, 222,
)
# fmt: on

#: Servers of the holder that attackers go after: (address, port, protocol).
# fmt: off
INTERNAL_SERVICES: tuple[tuple[str, int, str], ...] = (
    ("10.0.0.5", 22, "TCP"), ("10.0.0.10", 443, "TCP"), ("10.0.0.10", 80, "TCP"), ("10.0.0.12", 25, "TCP"),
    ("10.0.1.20", 3389, "TCP"), ("10.0.1.21", 445, "TCP"), ("172.16.5.10", 5060, "UDP"),
    ("172.16.5.11", 3306, "TCP"), ("192.168.88.1", 8291, "TCP"), ("192.168.88.1", 53, "UDP"),
)
# fmt: on

#: The holder's public address as the router's WAN interface sees it (RFC 5737).
WAN_ADDRESSES: tuple[str, ...] = ("198.51.100.2", "198.51.100.3")

#: Ports scanners probe on the WAN address.
# fmt: off
SCANNED_PORTS: tuple[int, ...] = (
    22, 23, 25, 53, 80, 81, 110, 123, 135, 139, 143, 161, 443, 445, 1433, 1521, 1723, 2323, 3306, 3389,
    5060, 5432, 5900, 6379, 7547, 8080, 8291, 8443, 8728, 9200,
)
# fmt: on

#: Outbound destinations of ordinary LAN traffic: (address, port, protocol).
# fmt: off
OUTBOUND: tuple[tuple[str, int, str], ...] = (
    ("9.9.9.9", 53, "UDP"), ("1.1.1.1", 53, "UDP"), ("203.0.113.80", 443, "TCP"),
    ("203.0.113.81", 443, "TCP"), ("192.0.2.25", 587, "TCP"), ("198.51.100.123", 123, "UDP"),
    ("203.0.113.90", 80, "TCP"),
)
# fmt: on

#: OUIs of devices plausible on a small office LAN (MikroTik, VMware, Apple, Raspberry Pi, Dell, HP...).
# fmt: off
_OUIS: tuple[str, ...] = (
    "4c:5e:0c", "00:0c:29", "3c:22:fb", "b8:27:eb", "f8:bc:12", "00:1b:21", "a4:83:e7", "d4:be:d9",
    "00:50:56", "3c:52:82", "dc:a6:32", "18:66:da",
)
# fmt: on

# fmt: off
_FIRST_NAMES: tuple[str, ...] = (
    "anna", "ben", "carla", "david", "elena", "farid", "greta", "hugo", "ines", "jonas", "karin", "liam",
    "maria", "nils", "olga", "pedro", "quinn", "rosa", "sven", "tara", "umar", "vera", "wei", "yusuf",
    "zoe", "amir", "bianca", "chen", "dario", "emma", "felix", "hana", "ivan", "julia", "kofi", "lena",
)
# fmt: on
# fmt: off
_LAST_NAMES: tuple[str, ...] = (
    "schmidt", "rossi", "novak", "garcia", "meyer", "dubois", "kowalski", "jensen", "silva", "yilmaz",
    "andersen", "weber", "ferrari", "horvat", "moreau", "nowak", "santos", "keller", "berg", "lindqvist",
)
# fmt: on

#: Local parts used by organisations rather than people.
# fmt: off
_ROLE_LOCALS: tuple[str, ...] = (
    "noreply", "billing", "support", "info", "newsletter", "security", "hr", "accounts", "it-helpdesk",
    "invoices", "no-reply", "alerts",
)
# fmt: on

INTERNAL_DOMAIN = "corp.example"
# fmt: off
EXTERNAL_DOMAINS: tuple[str, ...] = (
    "example.com", "example.org", "example.net", "partner.example", "supplier.example", "mail.example.org",
    "shop.example.com",
)
# fmt: on
#: Look-alike and throw-away domains phishing and spam come from.
# fmt: off
HOSTILE_DOMAINS: tuple[str, ...] = (
    "corp-example.test", "secure-pay.test", "invoice-portal.test", "account-verify.test",
    "delivery-notice.test", "promo-mail.test",
)
# fmt: on

#: Subjects of ordinary mail: free text that never contains ``@`` nor starts or ends with white space.
# fmt: off
SUBJECTS: tuple[str, ...] = (
    "Quarterly report Q1", "Meeting notes", "Invoice 2023-0412", "Your order has shipped",
    "Re: project timeline", "Fwd: contract draft", "Lunch on Friday?", "Rechnung fällig", "Facture impayée",
    "Weekly newsletter", "Re: budget 2023", "Holiday schedule", "Shared document: Q2 plan",
    "Team offsite agenda", "Re: Re: server upgrade", "Invitation: design review", "Out of office",
    "Job application - backend engineer", "Ihre Bestellung #88231", "Pedido confirmado",
)
# fmt: on
#: Subjects of phishing, malware and spam (same rules).
# fmt: off
LURE_SUBJECTS: tuple[str, ...] = (
    "Password expires in 3 days", "Action required: verify your account", "Payment failed",
    "Unusual sign-in activity", "Delivery attempt failed", "Security update for your mailbox",
    "Your parcel is on hold", "Reset your password now", "Congratulations! You have won",
    "Voicemail message (0:42)", "Invoice overdue - final notice", "Docusign: please review and sign",
)
# fmt: on
#: Subjects that a careful exporter would quote because they contain a comma.
# fmt: off
COMMA_SUBJECTS: tuple[str, ...] = (
    "Hi Anna, your invoice is attached", "Urgent, please review", "Re: offer, final version",
    "Payment overdue, account suspended", "Thanks, see you tomorrow",
)
# fmt: on
#: Subjects whose comma a broken exporter leaves unquoted; no white space touches the comma, so the
#: repaired subject is the two fields joined with ``,`` and nothing has to be guessed.
# fmt: off
STRAY_COMMA_SUBJECTS: tuple[str, ...] = (
    "Invoice 2023-0413,urgent", "Payment failed,action required", "Order 4711,please confirm",
    "Account locked,verify now", "Re: Q2 figures,draft",
)
# fmt: on

VERDICTS: tuple[str, ...] = ("clean", "spam", "phishing", "malware", "bulk", "suspicious")
_VERDICT_WEIGHTS: tuple[int, ...] = (70, 12, 7, 3, 6, 2)

#: Suricata signatures: (sid, signature, category, severity, port or 0, protocol).
# fmt: off
SIGNATURES: tuple[tuple[int, str, str, int, int, str], ...] = (
    (2001219, "ET SCAN Potential SSH Scan", "Attempted Information Leak", 2, 22, "TCP"),
    (2002910, "ET SCAN Potential VNC Scan 5800-5820", "Attempted Information Leak", 2, 5800, "TCP"),
    (2008578, "ET SCAN Sipvicious Scan", "Attempted Information Leak", 2, 5060, "UDP"),
    (2010935, "ET SCAN Suspicious inbound to MSSQL port 1433", "Potentially Bad Traffic", 2, 1433, "TCP"),
    (2010937, "ET SCAN Suspicious inbound to mySQL port 3306", "Potentially Bad Traffic", 2, 3306, "TCP"),
    (2402000, "ET DROP Dshield Block Listed Source", "Misc Attack", 2, 0, "TCP"),
    (2100366, "GPL ICMP_INFO PING *NIX", "Misc activity", 3, 0, "ICMP"),
    (2023753, "ET SCAN MS Terminal Server Traffic on Non-standard Port", "Attempted Information Leak", 2,
     3389, "TCP"),
    (2024792, "ET POLICY Possible Kali Linux hostname in DHCP Request Packet",
     "Potential Corporate Privacy Violation", 1, 0, "UDP"),
    (2027865, "ET INFO Observed DNS Query to .cloud TLD", "Potentially Bad Traffic", 2, 53, "UDP"),
    (2013028, "ET POLICY curl User-Agent Outbound", "Attempted Information Leak", 2, 80, "TCP"),
    (2019401, "ET SCAN Suspicious inbound to PostgreSQL port 5432", "Potentially Bad Traffic", 2, 5432,
     "TCP"),
)
# fmt: on


@dataclass(frozen=True, slots=True)
class BotnetGroup:
    """Attackers from many /16s that hit one internal service within short windows."""

    name: str
    members: tuple[str, ...]
    target: str
    port: int
    protocol: str


@dataclass(frozen=True, slots=True)
class Pools:
    """Everything a generator may emit, fixed by the seed."""

    attackers: tuple[str, ...]
    lan_clients: tuple[str, ...]
    lan_macs: tuple[str, ...]
    gateway_macs: tuple[str, ...]
    sensor_macs: tuple[str, ...]
    internal_users: tuple[str, ...]
    external_users: tuple[str, ...]
    hostile_users: tuple[str, ...]
    botnets: tuple[BotnetGroup, ...]
    verdict_weights: tuple[int, ...] = _VERDICT_WEIGHTS


def _mac(rng: random.Random) -> str:
    oui = rng.choice(_OUIS)
    return f"{oui}:{rng.randrange(256):02x}:{rng.randrange(256):02x}:{rng.randrange(256):02x}"


def _public_address(rng: random.Random, first: int) -> str:
    while True:
        text = f"{first}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        if ipaddress.IPv4Address(text).is_global:
            return text


def _distinct(rng: random.Random, count: int, make) -> tuple[str, ...]:  # type: ignore[no-untyped-def]
    seen: dict[str, None] = {}
    while len(seen) < count:
        seen.setdefault(make(rng), None)
    return tuple(seen)


def build_pools(seed: int) -> Pools:
    """Deterministic pools for ``seed`` (independent of row counts, so every file shares them)."""
    rng = random.Random(f"ppcti-samples-pools:{seed}")
    attackers: dict[str, None] = {}
    while len(attackers) < 420:
        attackers.setdefault(_public_address(rng, rng.choice(_PUBLIC_FIRST_OCTETS)), None)
    for doc_net in ("203.0.113", "192.0.2"):
        for _ in range(15):
            attackers.setdefault(f"{doc_net}.{rng.randrange(100, 250)}", None)
    attacker_list = tuple(attackers)

    botnets = []
    used: set[str] = set()
    for index, (target, port, proto) in enumerate(rng.sample(INTERNAL_SERVICES, 4)):
        members: list[str] = []
        prefixes: set[str] = set()
        size = rng.randrange(10, 22)
        while len(members) < size:
            addr = _public_address(rng, rng.choice(_PUBLIC_FIRST_OCTETS))
            prefix = addr.rsplit(".", 2)[0]
            if prefix in prefixes or addr in used or addr in attackers:
                continue
            prefixes.add(prefix)
            used.add(addr)
            members.append(addr)
        botnets.append(BotnetGroup(f"botnet-{index + 1}", tuple(members), target, port, proto))

    lan_clients = tuple(f"192.168.88.{n}" for n in rng.sample(range(10, 250), 40))
    people = [f"{f}.{last}" for f in _FIRST_NAMES for last in _LAST_NAMES]
    internal = tuple(f"{local}@{INTERNAL_DOMAIN}" for local in rng.sample(people, 120)) + tuple(
        f"{local}@{INTERNAL_DOMAIN}" for local in ("it-helpdesk", "security", "hr", "accounts")
    )
    external = _distinct(
        rng,
        160,
        lambda r: f"{r.choice(people if r.random() < 0.7 else _ROLE_LOCALS)}@{r.choice(EXTERNAL_DOMAINS)}",
    )
    hostile = _distinct(rng, 40, lambda r: f"{r.choice(_ROLE_LOCALS)}@{r.choice(HOSTILE_DOMAINS)}")
    return Pools(
        attackers=attacker_list,
        lan_clients=lan_clients,
        lan_macs=_distinct(rng, 40, _mac),
        gateway_macs=_distinct(rng, 2, _mac),
        sensor_macs=_distinct(rng, 6, _mac),
        internal_users=internal,
        external_users=external,
        hostile_users=hostile,
        botnets=tuple(botnets),
    )
