"""Turn event values into the canonical text STIX expects, or refuse them.

Events are already normalised by the cleaning stage, but CTI creation must not trust that: a value that
would make an invalid STIX object (or a different id for the same address) is refused here and reported
by the caller with file and line, never emitted. Every function returns ``None`` for a refused value;
they are memoised because the same addresses recur across millions of log lines.
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache

from ppcti.stix.options import DEFAULT_CACHE_SIZE

_MAC_RE = re.compile(r"^[0-9a-f]{2}([:\-]?)(?:[0-9a-f]{2}\1){4}[0-9a-f]{2}$")
_MAC_DOTTED_RE = re.compile(r"^[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}$")
# Narrower than RFC 5322 on purpose: the OASIS validator's ``email`` format accepts only letters, digits
# and ``_ . + -`` in the local part, so an address outside that set cannot be valid STIX.
_EMAIL_RE = re.compile(
    r"^[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"
)
_TS_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$")
_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)

#: Event protocol names (upper-case in events) → STIX ``protocols`` entries. Only names in the IANA
#: Service Name and Transport Protocol Port Number Registry are valid in strict STIX; ICMPv6 has no
#: entry there, so it is carried as ``icmp`` on an ``ipv6`` layer.
PROTOCOL_ALIASES: dict[str, str] = {"ICMPV6": "icmp", "IPV6-ICMP": "icmp", "ICMP6": "icmp", "HTTPS": "https"}
STIX_PROTOCOLS: frozenset[str] = frozenset(
    {
        "tcp", "udp", "icmp", "sctp", "esp", "dccp", "http", "https", "dns", "smtp", "ssh", "ftp",
        "telnet", "ssl", "ntp", "snmp", "ldap", "imap", "pop3", "rdp", "sip", "tftp", "ipv4", "ipv6",
    }
)  # fmt: skip


def ip_address(value: object) -> tuple[str, str] | None:
    """``("ipv4-addr" | "ipv6-addr", canonical text)``; IPv6 compressed, no zone ids, no leading zeros."""
    return _ip(value) if isinstance(value, str) and 0 < len(value) <= 64 else None


@lru_cache(maxsize=DEFAULT_CACHE_SIZE)
def _ip(value: str) -> tuple[str, str] | None:
    text = value.strip()
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if address.version == 4:
        return "ipv4-addr", str(address)
    if "%" in text:
        return None
    return "ipv6-addr", address.compressed


def mac_address(value: object) -> str | None:
    """Lower-case colon form (``00:1a:2b:3c:4d:5e``) from colon, hyphen, bare or Cisco dotted notation."""
    return _mac(value) if isinstance(value, str) and len(value) <= 32 else None


@lru_cache(maxsize=DEFAULT_CACHE_SIZE)
def _mac(value: str) -> str | None:
    text = value.strip().lower()
    found = _MAC_RE.match(text)
    if found is not None and found.group(1) == ":":
        return text  # already the canonical form
    if found is not None or _MAC_DOTTED_RE.match(text):
        digits = text.replace(":", "").replace("-", "").replace(".", "")
        return ":".join(digits[i : i + 2] for i in range(0, 12, 2))
    return None


def email_address(value: object) -> str | None:
    """Stripped address with lower-case domain (the local part is case-sensitive by RFC 5321)."""
    return _email(value) if isinstance(value, str) and len(value) <= 512 else None


@lru_cache(maxsize=DEFAULT_CACHE_SIZE)
def _email(value: str) -> str | None:
    text = value.strip().removeprefix("<").removesuffix(">").strip()
    local, at, domain = text.rpartition("@")
    if not at or len(text) > 254 or len(local) > 64:
        return None
    text = f"{local}@{domain.lower()}"
    return text if _EMAIL_RE.match(text) else None


def port(value: object) -> int | None:
    """A TCP/UDP port 0…65535; digit strings are accepted, booleans are not."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, int) and 0 <= value <= 65535:
        return value
    return None


def protocol(value: object) -> str | None:
    """The STIX ``protocols`` name for an event protocol (``TCP`` → ``tcp``), or ``None`` if unknown."""
    return _protocol(value) if isinstance(value, str) and len(value) <= 32 else None


@lru_cache(maxsize=256)
def _protocol(value: str) -> str | None:
    upper = value.strip().upper()
    name = PROTOCOL_ALIASES.get(upper, upper.lower())
    return name if name in STIX_PROTOCOLS and name not in ("ipv4", "ipv6") else None


def timestamp(value: object) -> str | None:
    """STIX timestamp in the form ``stix2`` serialises: UTC ``Z``, fraction without trailing zeros.

    The form matters: ``network-traffic`` ids hash ``start`` as text, so ``…03.100Z`` and ``…03.1Z`` must
    become the same string. More than six fractional digits are truncated to microseconds.
    """
    if not isinstance(value, str):
        return None
    m = _TS_RE.match(value)
    if m is None:
        return None
    year, month, day, hour, minute, second, fraction = m.groups()
    mo, d = int(month), int(day)
    if not (
        1 <= mo <= 12 and 1 <= d <= _DAYS[mo - 1] and int(hour) < 24 and int(minute) < 60 and int(second) < 60
    ):
        return None
    if mo == 2 and d == 29 and not _leap(int(year)):
        return None
    base = value[:19]
    if fraction:
        fraction = fraction[:6].rstrip("0")
        if fraction:
            return f"{base}.{fraction}Z"
    return f"{base}Z"


def millis(ts: str) -> str:
    """Millisecond form of a normalised timestamp, as ``created``/``modified`` require."""
    if len(ts) == 20:
        return f"{ts[:19]}.000Z"
    return f"{ts[:19]}.{ts[20:-1][:3].ljust(3, '0')}Z"


def sort_key(ts: str) -> str:
    """A key that sorts normalised timestamps chronologically (their text does not: ``Z`` > ``.``)."""
    if len(ts) == 20:
        return f"{ts[:19]}.000000"
    return f"{ts[:19]}.{ts[20:-1].ljust(6, '0')}"


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
