"""The correlation server: computes on ciphertexts only and never holds a secret key.

For each query ciphertext and each group of ``group_size`` blacklist rows it returns
``mask * prod(query - row)``: a slot is zero exactly when the queried item equals one of the rows in
its bin, and otherwise a uniformly random non-zero value (the mask is fresh, random and non-zero per
slot). Results are re-randomised and switched to the last level before they leave the server.

Parallelism: :mod:`ppcti.fhe.parallel` (forked workers; SEAL through ``tenseal.sealapi`` keeps the GIL).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ppcti.errors import FHEError
from ppcti.fhe.fileformat import FheFile, check_match, read_file, write_file
from ppcti.fhe.keys import LoadedKey, load_public
from ppcti.fhe.parallel import STATE, available_cores, fork_map

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class CorrelateSummary:
    path: str
    batches: int
    skipped_batches: int
    result_ciphertexts: int
    threads: int
    bytes: int


def _row(table: str, felt: int, index: int) -> Any:
    """A blacklist row, deserialised on first use in whichever process needs it (loads run in parallel)."""
    cache = STATE["row_cache"]
    key = (table, felt, index)
    if key not in cache:
        cache[key] = STATE["backend"].loads(STATE["row_blobs"][table][felt][index])
    return cache[key]


def _run_task(task: tuple[int, int, int]) -> bytes:
    """One group product (``group >= 0``) or a random "no match" answer (``group == -1``)."""
    batch, felt, group = task
    backend = STATE["backend"]
    if group < 0:
        return backend.dumps(backend.encrypt_random_nonzero())
    query = STATE["query"][batch][felt]
    table = STATE["batch_table"][batch]
    g = STATE["group_size"]
    count = len(STATE["row_blobs"][table][felt])
    rows = [_row(table, felt, i) for i in range(group * g, min(count, (group + 1) * g))]
    return backend.dumps(backend.correlate_group(query, rows))


def correlate(
    public_path: str | os.PathLike[str],
    query_path: str | os.PathLike[str],
    blacklist_path: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    threads: int | None = None,
    progress: Progress | None = None,
) -> CorrelateSummary:
    """Write the encrypted result for ``query`` against ``blacklist``; ``threads`` worker processes."""
    key = load_public(public_path)
    query_path, blacklist_path = os.fspath(query_path), os.fspath(blacklist_path)
    qfile = read_file(query_path, "query")
    bfile = read_file(blacklist_path, "blacklist")
    header, results, skipped, used = correlate_loaded(
        key,
        qfile,
        bfile,
        query_path=query_path,
        blacklist_path=blacklist_path,
        threads=threads,
        progress=progress,
    )
    size = write_file(out, header, results)
    batches = len(header["batches"])
    return CorrelateSummary(os.fspath(out), batches, skipped, len(results), used, size)


def correlate_loaded(
    key: LoadedKey,
    qfile: FheFile,
    bfile: FheFile,
    *,
    query_path: str = "query",
    blacklist_path: str = "blacklist",
    threads: int | None = None,
    progress: Progress | None = None,
) -> tuple[dict[str, Any], list[bytes], int, int]:
    """Result header, result ciphertexts, skipped batches and processes used, for files already read.

    The correlation service keeps keys and blacklists loaded between requests and calls this directly.
    """
    check_match(qfile.header, fingerprint=key.fingerprint, key_id=key.key_id, what="query", path=query_path)
    check_match(
        bfile.header, fingerprint=key.fingerprint, key_id=key.key_id, what="blacklist", path=blacklist_path
    )
    backend = key.backend
    batches = qfile.header.get("batches") or []
    tables = {t["name"]: t for t in bfile.header.get("tables") or []}
    if sum(b["felts"] for b in batches) != len(qfile.blobs):
        raise FHEError("query header and ciphertext count disagree", file=query_path)
    if sum(t["rows"] * t["felts"] for t in tables.values()) != len(bfile.blobs):
        raise FHEError("blacklist header and ciphertext count disagree", file=blacklist_path)

    cursor = 0
    query_cts: list[list[Any]] = []
    for b in batches:
        query_cts.append([backend.loads(blob) for blob in qfile.blobs[cursor : cursor + b["felts"]]])
        cursor += b["felts"]
    row_blobs: dict[str, list[list[bytes | memoryview]]] = {}
    cursor = 0
    for name, t in tables.items():
        felts = []
        for _ in range(t["felts"]):
            felts.append(bfile.blobs[cursor : cursor + t["rows"]])
            cursor += t["rows"]
        row_blobs[name] = felts

    group = key.params.group_size
    listed = set(bfile.header.get("kinds") or [])
    tasks: list[tuple[int, int, int]] = []
    layout = []
    skipped = 0
    for i, b in enumerate(batches):
        table = tables.get(b["table"])
        if table is None or table["felts"] != b["felts"] or not listed.intersection(b["kinds"]):
            skipped += 1
            layout.append({"felts": b["felts"], "groups": 1})
            tasks += [(i, f, -1) for f in range(b["felts"])]
            continue
        groups = -(-table["rows"] // group)
        layout.append({"felts": b["felts"], "groups": groups})
        tasks += [(i, f, g) for f in range(b["felts"]) for g in range(groups)]

    threads = max(1, threads or available_cores())
    state = {
        "backend": backend,
        "query": query_cts,
        "row_blobs": row_blobs,
        "row_cache": {},
        "batch_table": [b["table"] for b in batches],
        "group_size": group,
    }
    results = fork_map(_run_task, tasks, state, threads=threads, progress=progress)
    header = {
        "kind": "result",
        "params_fingerprint": key.fingerprint,
        "key_id": key.key_id,
        "query_id": qfile.header.get("query_id"),
        "blacklist": bfile.header.get("name"),
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "batches": layout,
    }
    return header, results, skipped, threads
