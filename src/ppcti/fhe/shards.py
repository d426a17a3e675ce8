"""Sharded blacklists: one encrypted blacklist split by row groups, and the merge of the shards' answers.

Why rows: a blacklist file holds, per table, ``rows`` ciphertexts, each one value per cuckoo bin, and the
server answers a query with one ciphertext per group of ``group_size`` rows (zero in a slot iff a row of
that group equals the queried item in that bin). Every listed item sits in every row position at random
(``blacklist_layout`` shuffles each bin), so cutting the rows into consecutive runs of whole groups gives
shards that

* are ordinary blacklist files (``ppcti fhe correlate`` answers one alone, for the rows it holds);
* answer with exactly the group ciphertexts the unsharded list would have produced for those rows, so the
  union of the shards' groups is the unsharded answer: same zero slots, same found/not-found bits;
* need neither the plain list nor any key: whoever holds ``bl.fhe`` can shard it.

Which shard holds the matching row is decided by the owner's random shuffle, not by the item: learning
it tells nothing about the list. The merge (:func:`merge_results`) still shuffles the groups of every
query ciphertext, so the merged result file carries no shard or row order at all.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from ppcti.errors import FHEError
from ppcti.fhe.fileformat import FheFile, check_match, parse_bytes, write_file
from ppcti.fhe.keys import LoadedKey, load_public
from ppcti.fhe.server import correlate_loaded
from ppcti.outdir import write_atomic

MANIFEST_NAME = "shards.json"
MANIFEST_FORMAT = "ppcti-fhe-shards/1"


@dataclass(frozen=True, slots=True)
class ShardSummary:
    manifest_path: str
    name: str
    set_id: str
    shards: int
    #: rows of each table per shard, e.g. ``[{"ip": 16, "hash": 8}, {"ip": 9, "hash": 0}]``
    rows: list[dict[str, int]]
    bytes: int


def shard_name(index: int, count: int) -> str:
    return f"shard-{index:03d}-of-{count:03d}.fhe"


def _group_ranges(rows: int, group: int, count: int) -> list[tuple[int, int]]:
    """Row ranges of ``count`` shards: whole groups, as even as possible (a shard may get none)."""
    groups = -(-rows // group)
    bounds = [g * groups // count for g in range(count + 1)]
    return [(min(rows, bounds[k] * group), min(rows, bounds[k + 1] * group)) for k in range(count)]


def shard_blacklist(
    blacklist_path: str | os.PathLike[str],
    public_path: str | os.PathLike[str],
    count: int,
    out_dir: str | os.PathLike[str],
) -> ShardSummary:
    """Split an encrypted blacklist into ``count`` shard files plus a manifest (``shards.json``).

    The public key gives the group size (a public parameter). Refuses more shards than the largest
    table has row groups: such a shard could hold nothing.
    """
    key = load_public(public_path)
    path = os.fspath(blacklist_path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise FHEError(f"cannot read blacklist file: {exc.strerror}", file=path) from exc
    bfile = parse_bytes(data, "blacklist", path)
    header = bfile.header
    check_match(header, fingerprint=key.fingerprint, key_id=key.key_id, what="blacklist", path=path)
    if "shard" in header:
        raise FHEError("this file is already a shard; shard the whole blacklist", file=path)
    tables = header.get("tables") or []
    if sum(t["rows"] * t["felts"] for t in tables) != len(bfile.blobs):
        raise FHEError("blacklist header and ciphertext count disagree", file=path)
    group = key.params.group_size
    most = max((-(-t["rows"] // group) for t in tables), default=0)
    if count < 1 or count > most:
        raise FHEError(f"this blacklist has {most} row groups: it splits into 1 to {most} shards", file=path)
    # the container's own SHA-256 names the set: shards of different lists or splits never mix
    set_id = data[-32:].hex()[:16]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ranges = {t["name"]: _group_ranges(t["rows"], group, count) for t in tables}
    per_shard_rows: list[dict[str, int]] = []
    files = []
    total = 0
    for k in range(count):
        blobs: list[bytes | memoryview] = []
        shard_tables = []
        cursor = 0
        for t in tables:
            start, stop = ranges[t["name"]][k]
            for _ in range(t["felts"]):
                blobs.extend(bfile.blobs[cursor + start : cursor + stop])
                cursor += t["rows"]
            shard_tables.append({"name": t["name"], "rows": stop - start, "felts": t["felts"]})
        shard_header = dict(header, tables=shard_tables, shard={"index": k, "count": count, "set": set_id})
        name = shard_name(k, count)
        total += write_file(out / name, shard_header, blobs)  # views into the source: no copies
        files.append(name)
        per_shard_rows.append({t["name"]: t["rows"] for t in shard_tables})
    manifest = {
        "format": MANIFEST_FORMAT,
        "name": header.get("name"),
        "set": set_id,
        "count": count,
        "key_id": header.get("key_id"),
        "params_fingerprint": header.get("params_fingerprint"),
        "kinds": header.get("kinds") or [],
        "files": files,
        "rows": per_shard_rows,
    }
    manifest_path = out / MANIFEST_NAME
    write_atomic(manifest_path, orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    return ShardSummary(str(manifest_path), str(header.get("name")), set_id, count, per_shard_rows, total)


class ShardSet:
    """The shards of one blacklist a worker may be asked to answer for, read when first needed.

    A consumer-group worker does not choose its partitions: after a rebalance it may own any shard, so
    it is given the whole shard folder and reads a shard on its first request (and keeps it).
    """

    def __init__(self, directory: str | os.PathLike[str], public_path: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        manifest_path = self.directory / MANIFEST_NAME
        try:
            manifest = orjson.loads(manifest_path.read_bytes())
        except OSError as exc:
            raise FHEError(f"cannot read shard manifest: {exc.strerror}", file=str(manifest_path)) from exc
        except orjson.JSONDecodeError as exc:
            raise FHEError("shard manifest is not valid JSON", file=str(manifest_path)) from exc
        if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
            raise FHEError("not a ppcti FHE shard manifest", file=str(manifest_path))
        self.key: LoadedKey = load_public(public_path)
        check_match(
            manifest,
            fingerprint=self.key.fingerprint,
            key_id=self.key.key_id,
            what="sharded blacklist",
            path=str(manifest_path),
        )
        self.name = str(manifest.get("name"))
        self.set_id = str(manifest["set"])
        self.count = int(manifest["count"])
        self.files = [str(f) for f in manifest["files"]]
        if len(self.files) != self.count:
            raise FHEError("shard manifest lists more or fewer files than shards", file=str(manifest_path))
        self._loaded: dict[int, FheFile] = {}

    def shard(self, index: int) -> FheFile:
        if not 0 <= index < self.count:
            raise FHEError(f"no shard {index}: this blacklist has shards 0 to {self.count - 1}")
        found = self._loaded.get(index)
        if found is None:
            path = self.directory / self.files[index]
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise FHEError(f"cannot read shard file: {exc.strerror}", file=str(path)) from exc
            found = parse_bytes(data, "blacklist", str(path))
            meta = found.header.get("shard") or {}
            if (meta.get("index"), meta.get("count"), meta.get("set")) != (index, self.count, self.set_id):
                raise FHEError("shard file does not belong to this manifest at this position", file=str(path))
            self._loaded[index] = found
        return found

    @property
    def loaded(self) -> list[int]:
        return sorted(self._loaded)

    def correlate(self, query: bytes, index: int, *, threads: int = 1) -> tuple[dict[str, Any], list[bytes]]:
        """Result header and ciphertexts of one shard for a query container's bytes."""
        qfile = parse_bytes(query, "query", "request")
        header, results, _skipped, _used = correlate_loaded(
            self.key,
            qfile,
            self.shard(index),
            query_path="request",
            blacklist_path=f"{self.name} shard {index}",
            threads=threads,
        )
        return header, results


def merge_results(
    query_header: dict[str, Any], partials: dict[int, tuple[dict[str, Any], list[bytes]]]
) -> tuple[dict[str, Any], list[bytes]]:
    """One result (header, ciphertexts) from every shard's: the groups of each query ciphertext, pooled
    and shuffled (OS CSPRNG). A slot decrypts to zero in some group of the merged result exactly when it
    does in some shard's answer, so :func:`ppcti.fhe.decrypt` reads it like an unsharded result."""
    if not partials:
        raise FHEError("no shard answers to merge")
    batches = query_header.get("batches") or []
    pooled: list[list[list[bytes]]] = [[[] for _ in range(b["felts"])] for b in batches]
    first = next(iter(partials.values()))[0]
    created = []
    for shard, (header, blobs) in sorted(partials.items()):
        where = f"shard {shard} answer"
        for field in ("query_id", "key_id", "params_fingerprint", "blacklist"):
            if header.get(field) != (query_header if field == "query_id" else first).get(field):
                raise FHEError(f"{where} differs in {field} from the query or the other shards")
        layout = header.get("batches") or []
        if [b["felts"] for b in layout] != [b["felts"] for b in batches]:
            raise FHEError(f"{where} does not have the query's batches")
        if sum(b["felts"] * b["groups"] for b in layout) != len(blobs):
            raise FHEError(f"{where}: header and ciphertext count disagree")
        cursor = 0
        for i, b in enumerate(layout):
            for f in range(b["felts"]):
                pooled[i][f].extend(blobs[cursor : cursor + b["groups"]])
                cursor += b["groups"]
        created.append(str(header.get("created")))
    rng = secrets.SystemRandom()
    out: list[bytes] = []
    layout_out = []
    for felts in pooled:
        groups = len(felts[0]) if felts else 0
        if any(len(f) != groups for f in felts):
            raise FHEError("shard answers disagree on the number of groups within a batch")
        for groups_of_felt in felts:
            rng.shuffle(groups_of_felt)
            out.extend(groups_of_felt)
        layout_out.append({"felts": len(felts), "groups": groups})
    header = {
        "kind": "result",
        "params_fingerprint": first.get("params_fingerprint"),
        "key_id": first.get("key_id"),
        "query_id": query_header.get("query_id"),
        "blacklist": first.get("blacklist"),
        "created": max(created),
        "batches": layout_out,
    }
    return header, out
