"""Which addresses are non-public, i.e. a data holder's own infrastructure rather than the Internet.

The ranges are the IANA special-purpose registries' "not globally reachable" entries that can hold a
holder's machines. The documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24,
2001:db8::/32) are deliberately *not* listed: RFC 5737/3849 reserve them to stand in for public
addresses in examples and test data, which is exactly how sample logs use them. Multicast is left out
too: a multicast group is not a victim host.

IPv4 is classified with Polars expressions on the distinct addresses (integer arithmetic on the four
octets), so millions of events cost one ``unique()``. IPv6 is rare in these logs and its compressed text
form is awkward to expand column-wise, so the distinct IPv6 values go through :mod:`ipaddress`.
"""

from __future__ import annotations

import ipaddress
from functools import cache

import polars as pl

#: (CIDR, label) of non-public IPv4 ranges.
PRIVATE_V4: tuple[tuple[str, str], ...] = (
    ("0.0.0.0/8", "this-network"),
    ("10.0.0.0/8", "rfc1918"),
    ("100.64.0.0/10", "cgnat"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"),
    ("172.16.0.0/12", "rfc1918"),
    ("192.0.0.0/24", "ietf-protocol"),
    ("192.168.0.0/16", "rfc1918"),
    ("198.18.0.0/15", "benchmarking"),
    ("240.0.0.0/4", "reserved"),
)

#: (CIDR, label) of non-public IPv6 ranges; IPv4-mapped addresses (::ffff:0:0/96) follow their IPv4 part.
PRIVATE_V6: tuple[tuple[str, str], ...] = (
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("64:ff9b:1::/48", "local-nat64"),
    ("100::/64", "discard"),
    ("fc00::/7", "ula"),
    ("fe80::/10", "link-local"),
    ("fec0::/10", "site-local"),
)

#: (CIDR, label) of IPv4 ranges that are not private yet never a routable attacker worth asking the
#: Internet about: together with :data:`PRIVATE_V4` they are the IPv4 bogons. Kept apart because the
#: analysis treats documentation addresses as public (see the module docstring).
UNROUTABLE_V4: tuple[tuple[str, str], ...] = (
    ("192.0.2.0/24", "documentation"),
    ("198.51.100.0/24", "documentation"),
    ("203.0.113.0/24", "documentation"),
    ("192.88.99.0/24", "6to4-relay"),
    ("224.0.0.0/4", "multicast"),
)

_V4_NETS = tuple((ipaddress.IPv4Network(c), label) for c, label in PRIVATE_V4)
_V6_NETS = tuple((ipaddress.IPv6Network(c), label) for c, label in PRIVATE_V6)
_UNROUTABLE_NETS = tuple((ipaddress.IPv4Network(c), label) for c, label in UNROUTABLE_V4)


@cache
def private_range(address: str) -> str | None:
    """Label of the non-public range holding ``address``; None for public or unparsable text.

    The scalar reference: :func:`classify` must agree with it on every address.
    """
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return private_range(str(ip.ipv4_mapped))
        return next((label for net, label in _V6_NETS if ip in net), None)
    return next((label for net, label in _V4_NETS if ip in net), None)


def bogon_range(address: str) -> str | None:
    """Label of the private, reserved, documentation or other non-routable range holding ``address``.

    None for a public, routable address; ``"invalid"`` for text that is not an address, so a caller
    deciding what may leave the machine never mistakes garbage for public.
    """
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "invalid"
    private = private_range(address)
    if private is not None:
        return private
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return bogon_range(str(ip.ipv4_mapped))
        return None if ip.is_global else "reserved"
    return next((label for net, label in _UNROUTABLE_NETS if ip in net), None)


def _v4_int(col: pl.Expr) -> pl.Expr:
    """The address as an integer, null unless the text is a dotted quad of 0..255 octets."""
    parts = col.str.splitn(".", 5)  # a fifth field means too many dots
    octets = [parts.struct.field(f"field_{i}").cast(pl.Int64, strict=False) for i in range(4)]
    value = octets[0] * 16777216 + octets[1] * 65536 + octets[2] * 256 + octets[3]
    valid = parts.struct.field("field_4").is_null() & pl.all_horizontal(
        [(o >= 0) & (o <= 255) for o in octets]
    )
    return pl.when(valid).then(value)


def private_range_expr(ip: pl.Expr) -> pl.Expr:
    """Polars expression: the non-public range label of an IPv4 address given as an integer, else null."""
    chain: pl.Expr | None = None
    for net, label in _V4_NETS:
        size = 2 ** (32 - net.prefixlen)
        cond = (ip // size) == (int(net.network_address) // size)
        chain = pl.when(cond).then(pl.lit(label)) if chain is None else chain.when(cond).then(pl.lit(label))
    assert chain is not None
    return chain.otherwise(pl.lit(None, dtype=pl.String))


def classify(addresses: pl.Series, *, distinct: bool = False) -> pl.DataFrame:
    """Addresses → DataFrame(address, range), one row per distinct address, range null if public.

    ``distinct=True`` promises the input has no duplicates and skips the ``unique()``.
    """
    values = addresses.drop_nulls()
    frame = pl.DataFrame({"address": values if distinct else values.unique()}, schema={"address": pl.String})
    # Two steps: an eager frame would re-split the text in every branch of the range chain.
    frame = (
        frame.with_columns(_ip=_v4_int(pl.col("address")))
        .with_columns(range=private_range_expr(pl.col("_ip")))
        .drop("_ip")
    )
    v6 = frame.filter(pl.col("address").str.contains(":", literal=True))
    if v6.height:
        labels = [private_range(a) for a in v6["address"].to_list()]  # distinct IPv6 values only
        v6 = v6.with_columns(range=pl.Series(labels, dtype=pl.String))
        frame = pl.concat([frame.filter(~pl.col("address").str.contains(":", literal=True)), v6])
    return frame
