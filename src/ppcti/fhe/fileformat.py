"""The container every FHE file uses, so a wrong or damaged file fails loudly instead of computing garbage.

Layout (big-endian)::

    b"PPCTIFHE"  u16 format-version  u32 header-length  header (JSON)
    u32 blob-count  { u64 length  bytes }*          # serialised keys / ciphertexts
    32-byte SHA-256 of everything before it

The JSON header names the file ``kind`` and carries ``params_fingerprint`` and ``key_id``; readers check
both against the key they hold (see :func:`check_match`).
"""

from __future__ import annotations

import hashlib
import os
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from ppcti.errors import FHEError
from ppcti.outdir import open_atomic

MAGIC = b"PPCTIFHE"
FORMAT_VERSION = 1
_DIGEST = 32


@dataclass(slots=True)
class FheFile:
    header: dict[str, Any]
    blobs: list[bytes | memoryview]  # views into the file bytes when read


def write_file(
    path: str | os.PathLike[str],
    header: dict[str, Any],
    blobs: Iterable[bytes | memoryview],
    *,
    private: bool = False,
) -> int:
    """Write atomically (temp file + rename); ``private`` files are 0600 from the first byte."""
    path = os.fspath(path)
    blobs = list(blobs)
    head = orjson.dumps(header, option=orjson.OPT_SORT_KEYS)
    digest = hashlib.sha256()
    with open_atomic(path, private=private) as fh:  # a fresh name, renamed over path: links replaced

        def put(chunk: bytes) -> None:
            digest.update(chunk)
            fh.write(chunk)

        put(MAGIC + struct.pack(">HI", FORMAT_VERSION, len(head)) + head + struct.pack(">I", len(blobs)))
        for blob in blobs:
            put(struct.pack(">Q", len(blob)))
            put(blob)
        fh.write(digest.digest())
    return os.path.getsize(path)


def dump_bytes(header: dict[str, Any], blobs: Iterable[bytes]) -> bytes:
    """The container as bytes (what the correlation service sends back), same layout as on disk."""
    blobs = list(blobs)
    head = orjson.dumps(header, option=orjson.OPT_SORT_KEYS)
    parts = [MAGIC + struct.pack(">HI", FORMAT_VERSION, len(head)) + head + struct.pack(">I", len(blobs))]
    for blob in blobs:
        parts.append(struct.pack(">Q", len(blob)))
        parts.append(bytes(blob))
    body = b"".join(parts)
    return body + hashlib.sha256(body).digest()


def read_file(path: str | os.PathLike[str], kind: str) -> FheFile:
    """Read and verify a container of the expected ``kind``; every failure is an :class:`FHEError`."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise FHEError(f"cannot read {kind} file: {exc.strerror}", file=path) from exc
    return parse_bytes(data, kind, path)


def parse_bytes(data: bytes, kind: str, path: str) -> FheFile:
    """Verify a container held in memory; ``path`` only names it in errors."""
    if not data.startswith(MAGIC):
        raise FHEError(f"not a ppcti FHE {kind} file (bad magic)", file=path)
    if len(data) < len(MAGIC) + 6 + 4 + _DIGEST:
        raise FHEError(f"{kind} file is truncated", file=path)
    view = memoryview(data)
    body, stored = view[:-_DIGEST], bytes(view[-_DIGEST:])
    if hashlib.sha256(body).digest() != stored:
        raise FHEError(f"{kind} file is corrupt or truncated (checksum mismatch)", file=path)
    pos = len(MAGIC)

    def take(size: int) -> memoryview:
        nonlocal pos
        if pos + size > len(body):
            raise FHEError(f"{kind} file is truncated", file=path)
        chunk = body[pos : pos + size]
        pos += size
        return chunk

    try:
        version, head_len = struct.unpack(">HI", take(6))
        if version != FORMAT_VERSION:
            raise FHEError(
                f"{kind} file has format version {version}; this ppcti reads {FORMAT_VERSION}", file=path
            )
        header = orjson.loads(take(head_len))
        (count,) = struct.unpack(">I", take(4))
        blobs: list[bytes | memoryview] = []
        for _ in range(count):
            (size,) = struct.unpack(">Q", take(8))
            blobs.append(take(size))
    except (orjson.JSONDecodeError, struct.error) as exc:
        raise FHEError(f"{kind} file is malformed", file=path) from exc
    if pos != len(body):
        raise FHEError(f"{kind} file has trailing data", file=path)
    if not isinstance(header, dict) or header.get("kind") != kind:
        found = header.get("kind") if isinstance(header, dict) else None
        raise FHEError(f"expected a {kind} file, got {found or 'something else'}", file=path)
    return FheFile(header, blobs)


def check_match(header: dict[str, Any], *, fingerprint: str, key_id: str, what: str, path: str) -> None:
    """Refuse a file made for other parameters or another key, naming which one differs."""
    if header.get("params_fingerprint") != fingerprint:
        raise FHEError(
            f"{what} was made with other FHE parameters (fingerprint {header.get('params_fingerprint')}, "
            f"expected {fingerprint})",
            file=path,
        )
    if header.get("key_id") != key_id:
        raise FHEError(
            f"{what} was encrypted for another key (key id {header.get('key_id')}, expected {key_id})",
            file=path,
        )
