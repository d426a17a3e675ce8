"""The pure layers (no FHE): prefix encoding, list parsing, cuckoo layout — checked against ipaddress."""

from __future__ import annotations

import ipaddress
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ppcti.errors import FormatError
from ppcti.fhe.cuckoo import blacklist_layout, candidates, cuckoo_insert
from ppcti.fhe.encoding import BlacklistParser, canonical_address, ipv4_prefix_value, query_items
from ppcti.fhe.params import DUMMY_LOW, FheParams

PARAMS = FheParams(hash_key="00" * 32)

addresses = st.integers(min_value=0, max_value=2**32 - 1)


@given(addresses, addresses, st.integers(min_value=0, max_value=32))
def test_prefix_value_matches_exactly_when_network_matches(a: int, b: int, length: int) -> None:
    same_net = ipaddress.ip_network((a, length), strict=False) == ipaddress.ip_network(
        (b, length), strict=False
    )
    assert (ipv4_prefix_value(a, length) == ipv4_prefix_value(b, length)) == same_net
    assert ipv4_prefix_value(a, length) < 2**34


@given(addresses, st.integers(min_value=0, max_value=31), st.integers(min_value=0, max_value=31))
def test_prefix_values_of_different_lengths_never_collide(a: int, p: int, q: int) -> None:
    if p != q:
        assert ipv4_prefix_value(a, p) != ipv4_prefix_value(a, q)
    assert ipv4_prefix_value(a, p) != a  # never equal to a /32 item


def _plain_slot_match(query: list[str], lines: list[str], params: FheParams) -> dict[str, bool]:
    """The server's computation done in the clear: zero iff the query slot equals some row."""
    parser = BlacklistParser(params)
    for n, line in enumerate(lines, 1):
        parser.feed_line(line, "list", n)
    xs = np.unique(np.array(parser.ipv4 + [i.x for i in parser.items if i.table == "ip"], dtype=np.uint64))
    rows = blacklist_layout(xs, None, params, np.random.default_rng(0))[0]
    out = {}
    for value in query:
        kind, canon = canonical_address(value)  # type: ignore[misc]
        items = [i.x for i in query_items(kind, canon, params)]
        slot_of, used = cuckoo_insert(items, params, random.Random(0))
        _, vals = candidates(np.array(items, dtype=np.uint64), params)
        out[canon] = any((rows[:, slot_of[k]] == vals[used[k], k]).any() for k in range(len(items)))
    return out


networks = st.builds(
    lambda a, p: str(ipaddress.ip_network((a, p), strict=False)),
    addresses,
    st.sampled_from([8, 11, 12, 16, 17, 20, 23, 24, 25, 28, 30, 32]),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(networks, min_size=0, max_size=6), st.lists(addresses, min_size=1, max_size=8))
def test_layout_membership_equals_network_membership(nets: list[str], extra: list[int]) -> None:
    # query addresses near the listed blocks' edges, and random ones
    query = []
    for text in nets:
        net = ipaddress.ip_network(text)
        for v in (
            int(net.network_address) - 1,
            int(net.network_address),
            int(net.broadcast_address),
            int(net.broadcast_address) + 1,
        ):
            if 0 <= v < 2**32:
                query.append(str(ipaddress.IPv4Address(v)))
    query += [str(ipaddress.IPv4Address(a)) for a in extra]
    got = _plain_slot_match(query, nets, PARAMS)
    want = {q: any(ipaddress.ip_address(q) in ipaddress.ip_network(n) for n in nets) for q in query}
    assert got == want


def test_rows_are_padded_with_dummies_outside_the_item_range() -> None:
    xs = np.arange(1000, dtype=np.uint64)
    rows = blacklist_layout(xs, None, PARAMS, np.random.default_rng(1))[0]
    bins, _ = candidates(xs, PARAMS)
    assert rows.shape[0] == np.bincount(bins.reshape(-1)).max()  # exactly the fullest bin's height
    assert rows.shape[1] == PARAMS.poly_degree
    real = rows < DUMMY_LOW
    assert real.sum() == 3 * 1000  # every item in all three candidate bins
    assert (rows[~real] < PARAMS.plain_modulus - 1).all()  # never the empty-query value t-1


@pytest.mark.parametrize(
    ("line", "items"),
    [
        pytest.param("1.10.16.0/20 ; SBL256894", 16, id="drop"),
        pytest.param("192.0.2.0/24   # comment", 1, id="netset-24"),
        pytest.param("192.0.2.7", 1, id="plain"),
        pytest.param("10.0.0.0/8", 256, id="slash8-as-256-slash16"),
        pytest.param("  ", 0, id="blank"),
        pytest.param("; only a comment", 0, id="comment"),
        pytest.param("Abuse@Example.COM", 1, id="email"),
        pytest.param("2001:db8::/48", 1, id="ipv6-48"),
    ],
)
def test_list_formats(line: str, items: int) -> None:
    parser = BlacklistParser(PARAMS)
    parser.feed_line(line, "list", 1)
    assert len(parser.ipv4) + len(parser.items) == items


@pytest.mark.parametrize("line", ["300.1.1.1", "01.2.3.4", "1.2.3.4/33", "hello", "@nowhere", "1.2.3"])
def test_bad_list_lines(line: str) -> None:
    with pytest.raises(FormatError) as info:
        BlacklistParser(PARAMS).feed_line(line, "list", 9)
    assert info.value.line == 9


def test_hashed_items_use_the_key_for_domain_separation() -> None:
    other = FheParams(hash_key="11" * 32)
    a = query_items("email", "x@y.example", PARAMS)[0]
    b = query_items("email", "x@y.example", other)[0]
    assert a.x != b.x
    assert a.table == b.table == "hash"
    assert len(a.extras) == 2


def test_file_fast_path_equals_line_path(tmp_path) -> None:  # type: ignore[no-untyped-def]
    lines = [
        "# FireHOL netset",
        "192.0.2.1",
        "192.0.2.1  # again",
        "10.0.0.0/8 ; SBL1",
        "8.8.8.8\r",
        "",
        "  198.51.100.7  ",
        "x@y.example",
        "2001:db8::1",
        "255.255.255.255",
        "0.0.0.0",
    ]
    path = tmp_path / "list.netset"
    path.write_text("\n".join(lines))
    by_file = BlacklistParser(PARAMS)
    by_file.feed_file(str(path))
    by_line = BlacklistParser(PARAMS)
    for number, line in enumerate(lines, 1):
        by_line.feed_line(line, str(path), number)
    assert sorted(by_file.ipv4_array().tolist()) == sorted(by_line.ipv4_array().tolist())
    assert sorted((i.kind, i.x) for i in by_file.items) == sorted((i.kind, i.x) for i in by_line.items)
    assert by_file.entries == by_line.entries == 9


def test_file_error_names_the_line_after_fast_lines(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "list.txt"
    path.write_text("\n".join(["192.0.2.1"] * 500 + ["192.0.2.256"] + ["192.0.2.2"] * 10))
    with pytest.raises(FormatError) as info:
        BlacklistParser(PARAMS).feed_file(str(path))
    assert info.value.line == 501
