"""Addresses of a log line, IPv4 and IPv6, read in Python for the lines the fast paths cannot take.

The hot paths (the compiled scanner and the Polars regex pass) read IPv4 only, which is nearly every
line of a firewall log. A line that may hold an IPv6 address (:data:`IPV6_HINT`) is read here instead:
every candidate is validated by :mod:`ipaddress` and IPv6 is written in its canonical compressed form.
"""

from __future__ import annotations

import ipaddress
import re

_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
IPV4 = rf"{_OCTET}(?:\.{_OCTET}){{3}}"

#: Where an IPv6 address may be: in brackets, with ``::``, or eight groups. Lines that match have their
#: addresses read by :func:`addresses` (IPv4 and IPv6, validated); the others stay on the fast path.
IPV6_HINT = (
    r"\[[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*\]|[0-9A-Fa-f]{0,4}::[0-9A-Fa-f]{0,4}"
    r"|(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}"
)
IPV6_HINT_PY = re.compile(IPV6_HINT)
_ADDRESS_PY = re.compile(
    r"\[(?P<b6>[0-9A-Fa-f:.]+)\](?::(?P<bport>[0-9]{1,5}))?"
    r"|(?<![0-9A-Za-z:.])(?P<v6>[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)"
    rf"|\b(?P<v4>{IPV4})\b(?::(?P<port>[0-9]{{1,5}}))?",
    re.ASCII,
)
_HOST_V4 = re.compile(rf"{IPV4}", re.ASCII)


def _v6(text: str) -> str | None:
    try:
        return ipaddress.IPv6Address(text).compressed
    except ValueError:
        return None


def addresses(text: str, host: str | None = None) -> list[tuple[str, int | None]]:
    """Every IPv4 and IPv6 address of a line with its port, in order, less a relay host that is one.

    IPv6 is written ``[2001:db8::1]:443`` with a port, or bare without one; a bare address whose last
    group is not hex-valid (``2001:db8::5:51234``) is read as address and port. The fast paths read
    IPv4 only (``PATTERNS``); lines that may hold IPv6 (:data:`IPV6_HINT`) come here.
    """
    found: list[tuple[str, int | None]] = []
    for match in _ADDRESS_PY.finditer(text):
        if match.group("v4"):
            port = match.group("port")
            found.append((match.group("v4"), _port_value(port)))
        elif match.group("b6"):
            ip = _v6(match.group("b6"))
            if ip is not None:
                found.append((ip, _port_value(match.group("bport"))))
        else:
            token = match.group("v6").rstrip(".:")
            ip = _v6(token)
            if ip is not None:
                found.append((ip, None))
                continue
            head, _, last = token.rpartition(":")
            ip = _v6(head) if last.isdigit() else None
            if ip is not None:
                found.append((ip, _port_value(last)))
    if host is not None and found and (_HOST_V4.fullmatch(host) or _v6(host.strip("[]"))):
        found = found[1:]
    return found


def _port_value(port: str | None) -> int | None:
    if port is None:
        return None
    value = int(port)
    return value if value <= 65535 else None
