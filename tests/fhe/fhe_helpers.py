"""Plain helpers of the FHE tests (kept out of conftest.py, which is not importable by name)."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from ppcti.fhe.encoding import canonical_address

Pipeline = Callable[..., dict[str, bool]]


def plain_membership(values: list[str], blacklist: list[str]) -> dict[str, bool]:
    """The reference: Python set / network membership on the same inputs."""
    nets, emails = [], set()
    for line in blacklist:
        text = line.split("#", 1)[0].split(";", 1)[0].strip()
        if not text:
            continue
        if "@" in text:
            emails.add(text.lower())
        else:
            nets.append(ipaddress.ip_network(text, strict=False))
    out = {}
    for value in values:
        found = canonical_address(value)
        if found is None:
            continue
        kind, canon = found
        if kind == "email":
            out[canon] = canon in emails
        else:
            ip = ipaddress.ip_address(canon)
            out[canon] = any(n.version == ip.version and ip in n for n in nets)
    return out


