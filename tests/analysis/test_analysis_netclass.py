"""Non-public address classification: the Polars expression must agree with the ipaddress reference."""

from __future__ import annotations

import ipaddress

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ppcti.analysis.netclass import PRIVATE_V4, PRIVATE_V6, classify, private_range


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("10.0.0.5", "rfc1918"),
        ("172.16.0.1", "rfc1918"),
        ("172.31.255.255", "rfc1918"),
        ("172.32.0.1", None),
        ("192.168.1.1", "rfc1918"),
        ("100.64.0.1", "cgnat"),
        ("100.128.0.1", None),
        ("127.0.0.1", "loopback"),
        ("169.254.10.1", "link-local"),
        ("0.0.0.0", "this-network"),
        ("255.255.255.255", "reserved"),
        ("8.8.8.8", None),
        ("203.0.113.7", None),  # documentation range stands for a public address
        ("fd12:3456::1", "ula"),
        ("fe80::1", "link-local"),
        ("::1", "loopback"),
        ("::ffff:10.1.2.3", "rfc1918"),
        ("::ffff:8.8.8.8", None),
        ("2001:4860::8888", None),
        ("not an ip", None),
        ("300.1.1.1", None),
    ],
)
def test_known_addresses(address: str, expected: str | None) -> None:
    assert private_range(address) == expected
    frame = classify(pl.Series([address]))
    assert frame.row(0, named=True)["range"] == expected


def test_every_listed_range_is_caught_at_both_ends() -> None:
    edges = []
    for cidr, label in PRIVATE_V4 + PRIVATE_V6:
        net = ipaddress.ip_network(cidr)
        edges += [(str(net.network_address), label), (str(net.broadcast_address), label)]
    frame = classify(pl.Series([a for a, _ in edges]))
    got = dict(frame.iter_rows())
    assert all(got[a] == label for a, label in edges)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=2**32 - 1), min_size=1, max_size=60))
def test_vectorised_ipv4_matches_reference(values: list[int]) -> None:
    addresses = [str(ipaddress.IPv4Address(v)) for v in values]
    got = dict(classify(pl.Series(addresses)).iter_rows())
    assert got == {a: private_range(a) for a in addresses}


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=2**128 - 1), min_size=1, max_size=20))
def test_ipv6_matches_networks(values: list[int]) -> None:
    addresses = [str(ipaddress.IPv6Address(v)) for v in values]
    got = dict(classify(pl.Series(addresses)).iter_rows())
    nets = [(ipaddress.ip_network(c), label) for c, label in PRIVATE_V6]
    for text in addresses:
        ip = ipaddress.IPv6Address(text)
        if ip.ipv4_mapped is None:
            expected = next((label for net, label in nets if ip in net), None)
            assert got[text] == expected
