"""ppcti.netrange: which addresses may be shared as attackers, and which way traffic went."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ppcti.netrange import direction, own_addresses, unshareable


@given(st.one_of(st.ip_addresses(v=4), st.ip_addresses(v=6)))
def test_public_exactly_when_globally_reachable_unicast(
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> None:
    """Shareable means what IANA's special-purpose registries say is globally reachable, allocated
    unicast; never a documentation range."""
    effective = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped else ip
    expected_public = effective.is_global and not effective.is_multicast and not effective.is_reserved
    assert (unshareable(str(ip)) is None) == expected_public


@pytest.mark.parametrize(
    ("address", "label"),
    [
        ("10.1.2.3", "private"),
        ("172.31.0.1", "private"),
        ("192.168.88.1", "private"),
        ("100.64.0.1", "cgnat"),
        ("127.0.0.1", "loopback"),
        ("169.254.1.1", "link-local"),
        ("192.0.2.7", "documentation"),
        ("198.51.100.2", "documentation"),
        ("203.0.113.9", "documentation"),
        ("2001:db8::1", "documentation"),
        ("fd00::1", "private"),
        ("fe80::1%eth0", "link-local"),
        ("::1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("224.0.0.251", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("not an address", "invalid"),
        ("45.155.205.7", None),
        ("2a01:4f8::1", None),
    ],
)
def test_labels(address: str, label: str | None) -> None:
    assert unshareable(address) == label


@pytest.mark.parametrize(
    ("event", "way"),
    [
        ({"extra": {"chain": "output"}, "src_ip": "45.155.205.7", "dst_ip": "1.1.1.1"}, "outbound"),
        ({"extra": {"chain": "srcnat"}, "src_ip": "10.0.0.2", "dst_ip": "1.1.1.1"}, "outbound"),
        ({"extra": {"chain": "input"}, "src_ip": "45.155.205.7", "dst_ip": "198.51.100.2"}, "inbound"),
        ({"extra": {"chain": "forward"}, "src_ip": "192.168.88.42", "dst_ip": "1.1.1.1"}, "outbound"),
        ({"extra": {"chain": "forward"}, "src_ip": "79.140.241.47", "dst_ip": "10.0.0.5"}, "inbound"),
        ({"extra": {"direction": "Outbound"}, "src_ip": "45.155.205.7", "dst_ip": "8.8.8.8"}, "outbound"),
        ({"extra": {"direction": "ingress"}, "src_ip": "10.0.0.1", "dst_ip": "8.8.8.8"}, "inbound"),
        ({"src_ip": "10.0.0.1", "dst_ip": "10.0.0.2"}, "internal"),
        ({"src_ip": "45.155.205.7", "dst_ip": "8.8.8.8"}, None),
        ({"src_ip": "45.155.205.7"}, None),
    ],
)
def test_direction(event: dict, way: str | None) -> None:
    assert direction(event) == way


def test_own_addresses_follow_direction() -> None:
    inbound = {"extra": {"chain": "input"}, "src_ip": "45.155.205.7", "dst_ip": "198.51.100.2"}
    outbound = {"extra": {"chain": "output"}, "src_ip": "198.51.100.2", "dst_ip": "1.1.1.1", "nat_ip": "x"}
    assert own_addresses(inbound) == ["198.51.100.2"]
    assert own_addresses(outbound) == ["198.51.100.2", "x"]
    assert own_addresses({"src_ip": "45.155.205.7", "dst_ip": "8.8.8.8"}) == []
