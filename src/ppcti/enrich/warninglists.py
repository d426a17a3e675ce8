"""MISP warninglists compiled into one lookup structure: values on them are never sent to a service.

The lists ship with ``pymispwarninglists`` (119 lists, about 120,000 CIDR entries). Asking each list in
turn, as ``WarningLists.search`` does, costs one walk per list per value. Here every IPv4 network of
every list that matches IP attributes is turned into an integer interval, the intervals are merged
into one sorted, disjoint array, and a lookup is one binary search (``numpy.searchsorted``), so a
batch of addresses is a vectorised pass whatever the number of lists (``bench/enrich.py`` measures
it). Which list an address is on is asked of the original lists only for the few addresses found.

E-mail values are checked against the exact-value lists, the domain lists meant for e-mail attributes
(e.g. disposable mail domains, matched on the domain and its parents) and the e-mail regex lists.
"""

from __future__ import annotations

import functools
import hashlib
import re
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from ppcti.errors import MissingExtra

_IP_ATTRIBUTES = {"ip-src", "ip-dst", "ip-src|port", "ip-dst|port", "domain|ip"}
_EMAIL_ATTRIBUTES = {"email", "email-src", "email-dst", "target-email", "whois-registrant-email"}


def load_lists(skip: Iterable[str] = ()) -> list[dict[str, Any]]:
    """The raw warninglists shipped with pymispwarninglists, minus those named in ``skip``."""
    try:
        import pymispwarninglists
    except ImportError:
        raise MissingExtra("enrich", "the warninglist filter") from None
    # the files WarningLists() reads, read directly: it would also build a set per list, unused here
    root = Path(pymispwarninglists.__file__).parent / "data" / "misp-warninglists" / "lists"
    skipped = set(skip)
    lists = []
    for path in sorted(root.glob("*/list.json")):
        data = orjson.loads(path.read_bytes())
        if isinstance(data, dict) and data.get("name") not in skipped:
            lists.append(data)
    return lists


def lists_version() -> str:
    """Version of the shipped lists, to key a compiled index."""
    from importlib.metadata import version

    return version("pymispwarninglists")


def _network(entry: str) -> tuple[int, int] | None:
    """An IPv4 address or CIDR as (first, last) integers; None for IPv6 or anything unreadable.

    The quick path avoids building 120,000 ``ipaddress`` objects: it is most of the compile time.
    """
    if ":" in entry:
        return None
    address, _, prefix = entry.partition("/")
    start = ipv4_int(address)
    if start is None:
        return None
    bits = 32
    if prefix:
        if not prefix.isdigit() or int(prefix) > 32:
            return None
        bits = int(prefix)
    size = 1 << (32 - bits)
    start &= ~(size - 1) & 0xFFFFFFFF
    return start, start + size - 1


#: Strict dotted-quad parser (unlike inet_aton it refuses "1.2", "01.2.3.4" and surrounding spaces).
_PTON = functools.partial(socket.inet_pton, socket.AF_INET)


def ipv4_int(text: str) -> int | None:
    """A dotted quad as an integer; None for anything else."""
    try:
        return int.from_bytes(_PTON(text), "big")
    except (OSError, TypeError):
        return None


def ipv4_ints(addresses: Sequence[str]) -> np.ndarray:
    """Dotted quads as int64, -1 where the text is not one.

    The batch is packed by the C parser and read by numpy in one go (about 10x a Python loop); only
    a batch holding something unreadable falls back to one address at a time.
    """
    try:
        return np.frombuffer(b"".join(map(_PTON, addresses)), dtype=">u4").astype(np.int64)
    except (OSError, TypeError):
        return np.fromiter(
            (-1 if (n := ipv4_int(a)) is None else n for a in addresses), dtype=np.int64, count=len(addresses)
        )


def _regex(entry: str) -> re.Pattern[str] | None:
    """A MISP regex entry (``/pattern/flags``) compiled, or None when Python cannot read it."""
    match = re.fullmatch(r"/(.*)/([a-z]*)", entry, re.S)
    pattern, flags = (match.group(1), match.group(2)) if match else (entry, "")
    try:
        return re.compile(pattern, re.I if "i" in flags else 0)
    except re.error:
        return None


@dataclass(slots=True)
class WarninglistIndex:
    """Merged IPv4 intervals plus the e-mail rules; build it with :meth:`build`."""

    starts: np.ndarray
    ends: np.ndarray
    names: list[str] = field(default_factory=list)
    email_values: frozenset[str] = frozenset()
    email_domains: frozenset[str] = frozenset()
    email_patterns: tuple[re.Pattern[str], ...] = ()
    _networks: list[tuple[str, list[tuple[int, int]]]] = field(default_factory=list)

    @classmethod
    def build(cls, lists: Sequence[dict[str, Any]]) -> WarninglistIndex:
        intervals: list[tuple[int, int]] = []
        networks: list[tuple[str, list[tuple[int, int]]]] = []
        values: set[str] = set()
        domains: set[str] = set()
        patterns: list[re.Pattern[str]] = []
        for wl in lists:
            kind = wl.get("type")
            attributes = set(wl.get("matching_attributes") or ())
            entries = [str(e).strip() for e in wl.get("list") or ()]
            if kind == "cidr" or (attributes & _IP_ATTRIBUTES and kind in ("string", "substring")):
                spans = [span for span in map(_network, entries) if span is not None]
                if spans:
                    intervals.extend(spans)
                    networks.append((str(wl.get("name")), spans))
            if attributes & _EMAIL_ATTRIBUTES:
                if kind == "string":
                    values.update(e.lower() for e in entries if "@" in e)
                elif kind in ("substring", "hostname"):
                    domains.update(e.lower().lstrip(".") for e in entries if e and "@" not in e)
                elif kind == "regex":
                    patterns.extend(p for p in (_regex(e) for e in entries) if p is not None)
        starts, ends = _merge(intervals)
        return cls(
            starts=starts,
            ends=ends,
            names=[name for name, _ in networks],
            email_values=frozenset(values),
            email_domains=frozenset(domains),
            email_patterns=tuple(patterns),
            _networks=networks,
        )

    @property
    def intervals(self) -> int:
        return int(self.starts.size)

    def contains_ints(self, values: np.ndarray) -> np.ndarray:
        """Boolean mask: which integer IPv4 addresses lie in a listed network."""
        if not self.starts.size:
            return np.zeros(values.shape, dtype=bool)
        slot = np.searchsorted(self.starts, values, side="right") - 1
        return (slot >= 0) & (values <= self.ends[np.maximum(slot, 0)])

    def contains_ipv4(self, addresses: Sequence[str]) -> list[bool]:
        """For each text address, whether it is on a list; text that is not a dotted quad is False."""
        if not len(addresses):
            return []
        ints = ipv4_ints(addresses)
        return (self.contains_ints(ints) & (ints >= 0)).tolist()

    def __contains__(self, value: str) -> bool:
        if "@" in value:
            return self.email_listed(value)
        number = ipv4_int(value)
        return number is not None and bool(self.contains_ints(np.array([number], dtype=np.int64))[0])

    def save(self, path: Path) -> None:
        """Write the compiled index (numpy arrays and JSON text; no pickle)."""
        spans = [(a, b, i) for i, (_, nets) in enumerate(self._networks) for a, b in nets]
        table = np.array(spans, dtype=np.int64).reshape(-1, 3)
        meta = {
            "names": [name for name, _ in self._networks],
            "email_values": sorted(self.email_values),
            "email_domains": sorted(self.email_domains),
            "email_patterns": [[p.pattern, p.flags & re.I] for p in self.email_patterns],
        }
        tmp = path.with_name(path.name + ".part.npz")
        np.savez(
            tmp,
            starts=self.starts,
            ends=self.ends,
            spans=table,
            meta=np.frombuffer(orjson.dumps(meta), np.uint8),
        )
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> WarninglistIndex:
        with np.load(path, allow_pickle=False) as data:
            meta = orjson.loads(data["meta"].tobytes())
            starts, ends, table = data["starts"], data["ends"], data["spans"]
        names = meta["names"]
        networks: list[tuple[str, list[tuple[int, int]]]] = [(name, []) for name in names]
        for a, b, i in table.tolist():
            networks[i][1].append((a, b))
        return cls(
            starts=starts,
            ends=ends,
            names=names,
            email_values=frozenset(meta["email_values"]),
            email_domains=frozenset(meta["email_domains"]),
            email_patterns=tuple(re.compile(p, f) for p, f in meta["email_patterns"]),
            _networks=networks,
        )

    def email_listed(self, address: str) -> bool:
        lowered = address.lower()
        if lowered in self.email_values:
            return True
        domain = lowered.rpartition("@")[2]
        labels = domain.split(".")
        if any(".".join(labels[i:]) in self.email_domains for i in range(len(labels))):
            return True
        return any(p.search(address) for p in self.email_patterns)

    def lists_for(self, address: str) -> list[str]:
        """Names of the lists holding an IPv4 address: the slow walk, for explaining a hit only."""
        number = ipv4_int(address)
        if number is None:
            return []
        return [name for name, spans in self._networks if any(a <= number <= b for a, b in spans)]


def load_index(skip: Iterable[str] = (), cache_dir: Path | None = None) -> WarninglistIndex:
    """The compiled index of the shipped lists, from ``cache_dir`` when it was compiled before.

    Reading the 65 MB of list files takes seconds; the compiled form (``warninglists-<key>.npz``,
    keyed by the package version and the skipped lists) loads in milliseconds.
    """
    skipped = sorted(set(skip))
    path = None
    if cache_dir is not None:
        key = hashlib.sha256(orjson.dumps([lists_version(), skipped])).hexdigest()[:16]
        path = Path(cache_dir) / f"warninglists-{key}.npz"
        if path.is_file():
            try:
                return WarninglistIndex.load(path)
            except (OSError, ValueError, KeyError):
                path.unlink(missing_ok=True)  # a damaged file is rebuilt, never trusted
    index = WarninglistIndex.build(load_lists(skipped))
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        index.save(path)
    return index


def _merge(intervals: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """Sorted, overlapping or touching intervals folded into disjoint ones (starts, ends)."""
    if not intervals:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    array = np.array(sorted(intervals), dtype=np.int64)
    starts, ends = array[:, 0], array[:, 1]
    # running maximum of the ends: an interval starts a new block when it begins after all before it end
    reach = np.maximum.accumulate(ends)
    new_block = np.empty(starts.size, dtype=bool)
    new_block[0] = True
    new_block[1:] = starts[1:] > reach[:-1] + 1
    block = np.cumsum(new_block) - 1
    merged_starts = starts[new_block]
    merged_ends = np.zeros(merged_starts.size, dtype=np.int64)
    np.maximum.at(merged_ends, block, ends)
    return merged_starts, merged_ends
