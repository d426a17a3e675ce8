"""Decrypt-K: the holder turns the encrypted result into one found/not-found bit per queried address."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from ppcti.errors import FHEError
from ppcti.fhe.fileformat import check_match, read_file
from ppcti.fhe.keys import load_secret
from ppcti.fhe.query import MAPPING_FORMAT
from ppcti.outdir import write_atomic

MATCHES_NAME = "fhe_matches.json"


@dataclass(frozen=True, slots=True)
class DecryptSummary:
    matches_path: str
    addresses: int
    found: int
    blacklist: str
    stix_path: str | None
    marked_objects: int


def read_mapping(path: str | os.PathLike[str]) -> dict[str, Any]:
    path = os.fspath(path)
    try:
        with open(path, "rb") as fh:
            mapping = orjson.loads(fh.read())
    except OSError as exc:
        raise FHEError(f"cannot read mapping file: {exc.strerror}", file=path) from exc
    except orjson.JSONDecodeError as exc:
        raise FHEError("mapping file is not valid JSON (corrupt or truncated)", file=path) from exc
    if not isinstance(mapping, dict) or mapping.get("format") != MAPPING_FORMAT:
        raise FHEError("not a ppcti FHE mapping file", file=path)
    if not _well_formed(mapping):
        raise FHEError("mapping file is damaged: values or slots unlike what encrypt-cti writes", file=path)
    return mapping


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _well_formed(mapping: dict[str, Any]) -> bool:
    """Every value an address with its entries, every slot ``[index, [owner, ...]]`` naming a value."""
    values, batches = mapping.get("values"), mapping.get("batches")
    if not isinstance(values, list) or not isinstance(batches, list):
        return False
    for v in values:
        if not isinstance(v, dict) or not isinstance(v.get("value"), str):
            return False
        if not isinstance(v.get("entries"), list):
            return False
    for batch in batches:
        slots = batch.get("slots") if isinstance(batch, dict) else None
        if not isinstance(slots, list):
            return False
        for slot in slots:
            if not isinstance(slot, list) or len(slot) != 2 or not _is_int(slot[0]):
                return False
            owners = slot[1]
            if not isinstance(owners, list) or not all(_is_int(o) and o < len(values) for o in owners):
                return False
    return True


def zero_slots(
    result_path: str, secret_path: str, mapping: dict[str, Any]
) -> tuple[list[np.ndarray], dict[str, Any]]:
    """Per query batch, a boolean array of slots whose every felt decrypted to zero in some group."""
    key = load_secret(secret_path)
    rfile = read_file(result_path, "result")
    check_match(rfile.header, fingerprint=key.fingerprint, key_id=key.key_id, what="result", path=result_path)
    if rfile.header.get("query_id") != mapping.get("query_id"):
        raise FHEError("result answers another query than this mapping file describes", file=result_path)
    layout = rfile.header.get("batches") or []
    if len(layout) != len(mapping.get("batches") or []):
        raise FHEError("result and mapping disagree on the number of batches", file=result_path)
    if sum(b["felts"] * b["groups"] for b in layout) != len(rfile.blobs):
        raise FHEError("result header and ciphertext count disagree", file=result_path)
    backend = key.backend
    cursor = 0
    out = []
    for b in layout:
        hit = np.ones(key.params.poly_degree, dtype=bool)
        for _ in range(b["felts"]):
            felt_zero = np.zeros(key.params.poly_degree, dtype=bool)
            for _ in range(b["groups"]):
                felt_zero |= backend.decrypt(backend.loads(rfile.blobs[cursor])) == 0
                cursor += 1
            hit &= felt_zero
        out.append(hit)
    return out, rfile.header


def decrypt(
    result_path: str | os.PathLike[str],
    secret_path: str | os.PathLike[str],
    mapping_path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    stix: str | os.PathLike[str] | None = None,
) -> DecryptSummary:
    """Write ``fhe_matches.json``; mark matching STIX objects when bundles are known (``stix`` or mapping)."""
    mapping = read_mapping(mapping_path)
    hits, header = zero_slots(os.fspath(result_path), os.fspath(secret_path), mapping)
    blacklist = str(header.get("blacklist") or "blacklist")
    values = mapping.get("values") or []
    found = [False] * len(values)
    for hit, batch in zip(hits, mapping["batches"], strict=True):
        for slot, owners in batch["slots"]:
            if slot >= len(hit):
                raise FHEError("mapping file names a slot the result does not have", file=str(mapping_path))
            if hit[slot]:
                for owner in owners:
                    found[owner] = True
    matches = [
        {"value": v["value"], "found": f, "entries": v["entries"]} for v, f in zip(values, found, strict=True)
    ]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    matches_path = out / MATCHES_NAME
    write_atomic(matches_path, orjson.dumps({"matches": matches}, option=orjson.OPT_INDENT_2))
    stix_path, marked = None, 0
    bundles = stix if stix is not None else mapping.get("bundles_path")
    if bundles is not None and (stix is not None or Path(bundles).exists()):
        from ppcti.fhe.stixmark import mark_bundles

        stix_path, marked = mark_bundles(
            bundles, [m["value"] for m in matches if m["found"]], blacklist, str(header["created"])
        )
    return DecryptSummary(str(matches_path), len(values), sum(found), blacklist, stix_path, marked)
