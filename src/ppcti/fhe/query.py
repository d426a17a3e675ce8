"""CTIEncrypt-K: the holder's addresses as an encrypted cuckoo-hashed query plus a secret slot mapping."""

from __future__ import annotations

import os
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import orjson

from ppcti.errors import FHEError
from ppcti.fhe.cuckoo import candidates, cuckoo_insert
from ppcti.fhe.encoding import query_items
from ppcti.fhe.fileformat import write_file
from ppcti.fhe.keys import load_public
from ppcti.fhe.params import HASH_FELTS, FheParams
from ppcti.fhe.sources import select_addresses
from ppcti.outdir import write_atomic

QUERY_NAME = "query.fhe"
MAPPING_NAME = "mapping.json"
MAPPING_FORMAT = "ppcti-fhe-mapping/1"

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class QuerySummary:
    query_path: str
    mapping_path: str
    addresses: int
    items: int
    batches: int
    ciphertexts: int
    query_bytes: int


@dataclass(slots=True)
class _Batch:
    table: str
    kinds: list[str]
    slots: list[tuple[int, list[int]]]
    felts: list[np.ndarray]


def _pack(
    table: str, items: list[tuple[int, tuple[int, ...], str, list[int]]], params: FheParams
) -> list[_Batch]:
    """Cut deduplicated items into batches and cuckoo-insert each one."""
    rng = random.Random(int.from_bytes(os.urandom(8), "big"))
    nfelts = 1 if table == "ip" else HASH_FELTS
    empty = params.plain_modulus - 1
    out = []
    for start in range(0, len(items), params.batch_capacity):
        chunk = items[start : start + params.batch_capacity]
        xs = [c[0] for c in chunk]
        for attempt in range(4):
            try:
                slot_of, used = cuckoo_insert(xs, params, rng)
                break
            except FHEError:
                if attempt == 3:
                    raise
        _, vals = candidates(np.array(xs, dtype=np.uint64), params)
        felts = [np.full(params.poly_degree, empty, dtype=np.int64) for _ in range(nfelts)]
        slots = []
        for idx, (_, extras, _, owners) in enumerate(chunk):
            slot = slot_of[idx]
            felts[0][slot] = vals[used[idx], idx]
            for f, extra in enumerate(extras, start=1):
                felts[f][slot] = extra
            slots.append((slot, owners))
        out.append(_Batch(table, sorted({c[2] for c in chunk}), slots, felts))
    return out


def encrypt_cti(
    input_path: str | os.PathLike[str],
    public_path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    progress: Progress | None = None,
) -> QuerySummary:
    """Write ``query.fhe`` (for the server) and ``mapping.json`` (secret, stays with the holder)."""
    key = load_public(public_path)
    params = key.params
    selection = select_addresses(input_path)
    values = list(selection.addresses.values())
    per_table: dict[str, dict[tuple[int, tuple[int, ...], str], list[int]]] = {"ip": {}, "hash": {}}
    for index, address in enumerate(values):
        for item in query_items(address.kind, address.value, params):
            per_table[item.table].setdefault((item.x, item.extras, item.kind), []).append(index)
    batches: list[_Batch] = []
    kind_order = {f"ip4/{p}": -p for p in params.ipv4_prefixes}
    for table, items in per_table.items():
        ordered = sorted(items.items(), key=lambda kv: (kind_order.get(kv[0][2], 0), kv[0][2]))
        batches += _pack(table, [(k[0], k[1], k[2], owners) for k, owners in ordered], params)
    total = sum(len(b.felts) for b in batches)
    blobs = []
    for b in batches:
        for felt in b.felts:
            blobs.append(key.backend.dumps(key.backend.encrypt(felt)))
            if progress:
                progress(len(blobs), total)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    query_id = uuid.uuid4().hex
    header = {
        "kind": "query",
        "params_fingerprint": key.fingerprint,
        "key_id": key.key_id,
        "query_id": query_id,
        "batches": [{"table": b.table, "kinds": b.kinds, "felts": len(b.felts)} for b in batches],
    }
    query_path = out / QUERY_NAME
    size = write_file(query_path, header, blobs)
    mapping = {
        "format": MAPPING_FORMAT,
        "query_id": query_id,
        "key_id": key.key_id,
        "params_fingerprint": key.fingerprint,
        "input": str(input_path),
        "input_kind": selection.input_kind,
        "bundles_path": selection.bundles_path,
        "values": [{"value": v.value, "kind": v.kind, "entries": v.entries} for v in values],
        "batches": [{"slots": [[s, owners] for s, owners in b.slots]} for b in batches],
    }
    mapping_path = out / MAPPING_NAME
    write_atomic(mapping_path, orjson.dumps(mapping), private=True)
    n_items = sum(len(b.slots) for b in batches)
    return QuerySummary(str(query_path), str(mapping_path), len(values), n_items, len(batches), total, size)
