"""Addresses and list entries as items of the correlation domain (pure, no FHE).

Two tables share the 8192 bins:

* ``ip``: IPv4 exactly, as 34-bit integers. ``/32`` is the address itself; a prefix ``/p`` (p < 32) is
  ``2^32 | network | 1 << (31 - p)``: the lowest set bit marks the length, so every (length, network)
  pair has its own value and a block matches an address exactly when the address has that network.
  A queried address becomes one item per queried prefix length; a listed block of another length is
  split into blocks of the next queried length (a /8 becomes 256 /16 items, never 16 million).
* ``hash``: e-mail addresses and IPv6 prefixes through a keyed BLAKE2b into 78 bits: a 34-bit cuckoo
  item plus two 22-bit extra felts compared in the same bin (false-positive arithmetic in docs/fhe.md).
"""

from __future__ import annotations

import hashlib
import ipaddress
import socket
from dataclasses import dataclass

import numpy as np

from ppcti.errors import FormatError
from ppcti.fhe.params import EXTRA_FELT_BITS, MAX_SPLIT, FheParams

_IP_TOP = 1 << 32
_FELT_MASK = (1 << EXTRA_FELT_BITS) - 1
_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_DOTTED_QUAD = rf"^{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}$"


@dataclass(frozen=True, slots=True)
class Item:
    """One comparison unit: ``x`` is placed by cuckoo hashing; ``extras`` are compared in the same bin."""

    table: str
    kind: str
    x: int
    extras: tuple[int, ...] = ()


def ipv4_prefix_value(addr: int, length: int) -> int:
    """The ``ip`` table value of the /length network containing ``addr``."""
    if length == 32:
        return addr
    mask = (0xFFFFFFFF << (32 - length)) & 0xFFFFFFFF
    return _IP_TOP | (addr & mask) | (1 << (31 - length))


def hashed_item(kind: str, data: bytes, params: FheParams) -> Item:
    digest = hashlib.blake2b(
        kind.encode() + b"\x00" + data,
        key=bytes.fromhex(params.hash_key),
        digest_size=10,
        person=b"ppcti-fhe-item",
    ).digest()
    h = int.from_bytes(digest, "big")  # 80 bits
    x = h >> (80 - params.item_bits)
    f2 = (h >> (80 - params.item_bits - EXTRA_FELT_BITS)) & _FELT_MASK
    f3 = (h >> (80 - params.item_bits - 2 * EXTRA_FELT_BITS)) & _FELT_MASK
    return Item("hash", kind, x, (f2, f3))


def canonical_address(value: str) -> tuple[str, str] | None:
    """``("ipv4"|"ipv6"|"email", canonical text)`` for a single address, ``None`` for anything else."""
    text = value.strip()
    if not text:
        return None
    if "@" in text:
        local, _, domain = text.rpartition("@")
        if not local or not domain or "." not in domain or any(c.isspace() for c in text):
            return None
        return "email", f"{local}@{domain}".lower()
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if ip.version == 4:
        return "ipv4", str(ip)
    if ip.ipv4_mapped is not None:
        return "ipv4", str(ip.ipv4_mapped)
    return "ipv6", ip.compressed


def query_items(kind: str, canonical: str, params: FheParams) -> list[Item]:
    """Every item a queried address is looked up as (one per queried prefix length)."""
    if kind == "ipv4":
        addr = int.from_bytes(socket.inet_pton(socket.AF_INET, canonical), "big")
        return [
            Item("ip", f"ip4/{p}", ipv4_prefix_value(addr, p))
            for p in sorted(params.ipv4_prefixes, reverse=True)
        ]
    if kind == "ipv6":
        addr6 = ipaddress.IPv6Address(canonical)
        out = []
        for p in sorted(params.ipv6_prefixes, reverse=True):
            net = ipaddress.IPv6Network((addr6, p), strict=False)
            out.append(hashed_item(f"ip6/{p}", net.network_address.packed, params))
        return out
    return [hashed_item("email", canonical.encode(), params)]


def _target_length(length: int, lengths: tuple[int, ...]) -> int:
    return min(p for p in lengths if p >= length)


class BlacklistParser:
    """Reads plain lists, FireHOL ``.netset``/``.ipset``, Spamhaus DROP and e-mail lists line by line.

    IPv4 ``/32`` values are collected as integers (the hot path of million-entry lists); everything
    else becomes :class:`Item` objects. Comments start with ``#`` or ``;`` (DROP: ``net ; SBL123``).
    """

    def __init__(self, params: FheParams) -> None:
        self.params = params
        self.ipv4: list[int] = []
        self.ipv4_chunks: list[np.ndarray] = []
        self.items: list[Item] = []
        self.entries = 0

    def ipv4_array(self) -> np.ndarray:
        """Every listed IPv4 /32 value (with repeats) as one array."""
        return np.concatenate(
            [np.array(self.ipv4, dtype=np.uint64), *(c.astype(np.uint64) for c in self.ipv4_chunks)]
        )

    def feed_file(self, path: str) -> None:
        """Plain dotted-quad lines take a vectorised (Polars) path; every other line goes through
        :meth:`feed_line` with its line number, so errors still name file and line."""
        import polars as pl

        try:
            with open(path, encoding="utf-8", errors="strict") as fh:
                text = fh.read()
        except UnicodeDecodeError as exc:
            raise FormatError("blacklist is not UTF-8 text", file=path) from exc
        frame = pl.DataFrame({"raw": text.split("\n")}).with_row_index("n", offset=1)
        frame = frame.with_columns(pl.col("raw").str.replace(r"[#;].*$", "").str.strip_chars().alias("text"))
        frame = frame.filter(pl.col("text") != "")
        plain = pl.col("text").str.contains(_DOTTED_QUAD)
        fast = frame.filter(plain).select(pl.col("text").str.split_exact(".", 3)).unnest("text")
        if fast.height:
            octets = fast.select(pl.all().cast(pl.UInt64))
            value = (
                pl.col("field_0") * (1 << 24)
                + pl.col("field_1") * (1 << 16)
                + pl.col("field_2") * 256
                + pl.col("field_3")
            )
            self.ipv4_chunks.append(octets.select(value.alias("v"))["v"].to_numpy())
            self.entries += fast.height
        for number, raw in frame.filter(~plain).select("n", "raw").iter_rows():
            self.feed_line(raw, path, number)

    def feed_line(self, raw: str, path: str, number: int) -> None:
        text = raw.split("#", 1)[0].split(";", 1)[0].strip()
        if not text:
            return
        text = text.split()[0]
        self.entries += 1
        if "/" not in text and ":" not in text and "@" not in text:
            try:
                self.ipv4.append(int.from_bytes(socket.inet_pton(socket.AF_INET, text), "big"))
                return
            except OSError:
                raise FormatError(
                    "not an IPv4 address, network, IPv6 or e-mail entry", file=path, line=number
                ) from None
        if "@" in text:
            found = canonical_address(text)
            if found is None or found[0] != "email":
                raise FormatError("malformed e-mail entry", file=path, line=number)
            self.items.append(hashed_item("email", found[1].encode(), self.params))
            return
        try:
            net = ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise FormatError(
                "not an IPv4 address, network, IPv6 or e-mail entry", file=path, line=number
            ) from None
        self._add_network(net, path, number)

    def _add_network(
        self, net: ipaddress.IPv4Network | ipaddress.IPv6Network, path: str, number: int
    ) -> None:
        lengths = self.params.ipv4_prefixes if net.version == 4 else self.params.ipv6_prefixes
        target = _target_length(net.prefixlen, lengths)
        count = 1 << (target - net.prefixlen)
        if count > MAX_SPLIT:
            raise FormatError(
                f"block /{net.prefixlen} is wider than the queried prefix lengths allow "
                f"(would need {count} /{target} blocks; at most {MAX_SPLIT})",
                file=path,
                line=number,
            )
        base = int(net.network_address)
        width = net.max_prefixlen
        step = 1 << (width - target)
        for k in range(count):
            start = base + k * step
            if net.version == 4:
                if target == 32:
                    self.ipv4.append(start)
                else:
                    self.items.append(Item("ip", f"ip4/{target}", ipv4_prefix_value(start, target)))
            else:
                self.items.append(hashed_item(f"ip6/{target}", start.to_bytes(16, "big"), self.params))


def blacklist_contains(
    entries: list[ipaddress.IPv4Network | ipaddress.IPv6Network | str], value: str
) -> bool:
    """Plain membership (the reference the tests and the benchmark compare against)."""
    found = canonical_address(value)
    if found is None:
        return False
    kind, canon = found
    if kind == "email":
        return any(isinstance(e, str) and e.lower() == canon for e in entries)
    ip = ipaddress.ip_address(canon)
    return any(not isinstance(e, str) and e.version == ip.version and ip in e for e in entries)
