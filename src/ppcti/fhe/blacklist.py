"""BLEncrypt-K: the blacklist owner encrypts its list under the holder's public key.

Every list item goes into all three candidate bins, bins are shuffled and padded with dummies to a
common height, and each row (one value per bin) becomes one ciphertext. CIDR blocks stay blocks: they
are split only up to the next queried prefix length (see :mod:`ppcti.fhe.encoding`).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ppcti.errors import FormatError
from ppcti.fhe.cuckoo import blacklist_layout
from ppcti.fhe.encoding import BlacklistParser
from ppcti.fhe.feeds import read_source
from ppcti.fhe.fileformat import write_file
from ppcti.fhe.keys import load_public
from ppcti.fhe.parallel import STATE, available_cores, fork_map

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class BlacklistSummary:
    path: str
    name: str
    entries: int
    items: int
    rows: dict[str, int]
    ciphertexts: int
    bytes: int
    #: entries of MISP feeds, CSV exports and STIX bundles that could not be used, per reason
    unusable: dict[str, int] = field(default_factory=dict)
    #: source kind per input (``misp-feed``, ``misp-csv``, ``stix``, ``list`` ...)
    sources: list[str] = field(default_factory=list)


def feed_sources(
    parser: BlacklistParser, lists: Sequence[str | os.PathLike[str]]
) -> tuple[Counter[str], list[str]]:
    """Feed every input to ``parser``; structured sources count the entries they cannot use.

    A plain list keeps its strict reading (a bad line is an error naming file and line); in a feed, a
    malformed value is one unusable entry among many, counted rather than fatal.
    """
    unusable: Counter[str] = Counter()
    kinds: list[str] = []
    for path in lists:
        source = read_source(Path(path))
        if source is None:
            kinds.append("list")
            parser.feed_file(os.fspath(path))
            continue
        kinds.append(source.kind)
        unusable.update(source.unusable)
        for number, (value, where) in enumerate(source.entries, start=1):
            before = parser.entries
            try:
                parser.feed_line(value, where, number)
            except FormatError as exc:
                parser.entries = before
                unusable[exc.message] += 1
                continue
            if parser.entries == before:  # a value the list syntax reads as a comment
                unusable["not an IPv4 address, network, IPv6 or e-mail entry"] += 1
    return unusable, kinds


def _unique(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values (sort-based; NumPy 2's hash-based ``unique`` is slower at a million)."""
    values = np.sort(values)
    if values.size == 0:
        return values
    return values[np.concatenate(([True], values[1:] != values[:-1]))]


def _encrypt_row(task: tuple[int, int, int]) -> bytes:
    table, felt, row = task
    backend = STATE["backend"]
    return backend.dumps(backend.encrypt(STATE["tables"][table][felt][row]))


def encrypt_blacklist(
    lists: Sequence[str | os.PathLike[str]],
    public_path: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    name: str | None = None,
    threads: int | None = None,
    progress: Progress | None = None,
) -> BlacklistSummary:
    """Encrypt one or more list files into one blacklist file for the server (``threads`` processes)."""
    key = load_public(public_path)
    params = key.params
    parser = BlacklistParser(params)
    unusable, source_kinds = feed_sources(parser, lists)
    ip_extra = [it.x for it in parser.items if it.table == "ip"]
    listed_v4 = parser.ipv4_array()
    ip_xs = _unique(np.concatenate([listed_v4, np.array(ip_extra, dtype=np.uint64)]))
    hashed = sorted({(it.x, *it.extras) for it in parser.items if it.table == "hash"})
    kinds = sorted({it.kind for it in parser.items} | ({"ip4/32"} if listed_v4.size else set()))
    rng = np.random.default_rng(int.from_bytes(os.urandom(16), "big"))
    tables: dict[str, list[np.ndarray]] = {}
    if ip_xs.size:
        tables["ip"] = blacklist_layout(ip_xs, None, params, rng)
    if hashed:
        arr = np.array(hashed, dtype=np.uint64)
        tables["hash"] = blacklist_layout(arr[:, 0], arr[:, 1:].astype(np.int64), params, rng)
    tasks = [
        (t, f, r)
        for t, felts in enumerate(tables.values())
        for f, matrix in enumerate(felts)
        for r in range(matrix.shape[0])
    ]
    state = {"backend": key.backend, "tables": list(tables.values())}
    blobs = fork_map(
        _encrypt_row, tasks, state, threads=max(1, threads or available_cores()), progress=progress
    )
    total = len(blobs)
    label = name or "+".join(Path(p).name for p in lists) or "blacklist"
    header = {
        "kind": "blacklist",
        "params_fingerprint": key.fingerprint,
        "key_id": key.key_id,
        "name": label,
        "kinds": kinds,
        # a list, not a mapping: blob order must survive the sorted-keys JSON header
        "tables": [{"name": t, "rows": int(f[0].shape[0]), "felts": len(f)} for t, f in tables.items()],
    }
    size = write_file(out, header, blobs)
    rows = {t: int(f[0].shape[0]) for t, f in tables.items()}
    return BlacklistSummary(
        os.fspath(out),
        label,
        parser.entries,
        int(ip_xs.size) + len(hashed),
        rows,
        total,
        size,
        dict(unusable),
        source_kinds,
    )
