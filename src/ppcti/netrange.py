"""What an address is to the data holder, and which way an entry's traffic went: the sharing rules.

Shared CTI names attackers. An address that is not globally reachable cannot be anyone else's attacker:
RFC 1918 and unique-local space, CGNAT (100.64.0.0/10), loopback, link-local, the documentation ranges
(RFC 5737, RFC 3849), benchmarking, reserved, unspecified and multicast addresses are the holder's own
network, the provider's, or nobody's, and naming them only tells the world about the holder's network.
So they never become indicators (:func:`unshareable` says why not), unless a holder asks for it
(``--share-private``); the holder keeps them in its private insights.

Direction: the attacking side of an entry is its source only when the traffic came *in*. A router's
own outbound DNS or NTP query (the ``output`` chain), a LAN host's connection through source NAT, or an
ECS event with ``network.direction: outbound`` name the holder as the source. :func:`direction` reads
the firewall chain or a direction field first and falls back to which side is non-public.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Any

#: Chains whose packets the holder's own device sends (netfilter, RouterOS).
OUTBOUND_CHAINS = frozenset({"output", "postrouting", "srcnat"})
#: Chains whose packets arrive at the holder's device from a network.
INBOUND_CHAINS = frozenset({"input", "prerouting", "dstnat"})
#: Words of direction fields (ECS ``network.direction``, Zeek ``local_orig``-derived, vendors').
_DIRECTION_WORDS = {
    "inbound": "inbound",
    "ingress": "inbound",
    "incoming": "inbound",
    "in": "inbound",
    "outbound": "outbound",
    "egress": "outbound",
    "outgoing": "outbound",
    "out": "outbound",
    "internal": "internal",
    "local": "internal",
}
_DOCUMENTATION = tuple(
    ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")
)


@lru_cache(maxsize=1 << 16)
def unshareable(address: str) -> str | None:
    """Why ``address`` must not leave the holder as an indicator, or None for a public address.

    Labels: ``private``, ``cgnat``, ``loopback``, ``link-local``, ``documentation``, ``multicast``,
    ``unspecified``, ``reserved``, ``invalid``. IPv4-mapped IPv6 addresses follow their IPv4 part.
    """
    try:
        ip = ipaddress.ip_address(address.strip().split("%", 1)[0])
    except ValueError:
        return "invalid"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip in net for net in _DOCUMENTATION):
        return "documentation"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return "cgnat"
    if ip.is_private:
        return "private"
    if ip.is_reserved or not ip.is_global:
        return "reserved"
    return None


_CGNAT = ipaddress.ip_network("100.64.0.0/10")


def is_public(address: Any) -> bool:
    return isinstance(address, str) and unshareable(address) is None


def direction(event: dict[str, Any]) -> str | None:
    """``inbound``, ``outbound``, ``internal`` or None (unknown) for one normalised event.

    From an explicit direction field, then the firewall chain, then the addresses: traffic from a
    non-public to a public address is outbound, from a public to a non-public one inbound.
    """
    extra = event.get("extra")
    extra = extra if isinstance(extra, dict) else {}
    for key in ("direction", "network_direction"):
        word = extra.get(key, event.get(key))
        if isinstance(word, str) and word.strip().lower() in _DIRECTION_WORDS:
            return _DIRECTION_WORDS[word.strip().lower()]
    chain = extra.get("chain")
    if isinstance(chain, str):
        name = chain.strip().lower()
        if name in OUTBOUND_CHAINS:
            return "outbound"
        if name in INBOUND_CHAINS:
            return "inbound"
    src, dst = event.get("src_ip"), event.get("dst_ip")
    if not isinstance(src, str) or not isinstance(dst, str):
        return None
    src_public, dst_public = is_public(src), is_public(dst)
    if not src_public and dst_public:
        return "outbound"
    if src_public and not dst_public:
        return "inbound"
    if not src_public and not dst_public:
        return "internal"
    return None


def own_addresses(event: dict[str, Any]) -> list[str]:
    """Addresses the entry shows to be the holder's own: the target of inbound traffic (and the NAT
    address it came in through), the source of outbound traffic."""
    way = direction(event)
    names = ("dst_ip", "nat_ip") if way == "inbound" else ("src_ip", "nat_ip") if way == "outbound" else ()
    return [v for v in (event.get(n) for n in names) if isinstance(v, str)]
