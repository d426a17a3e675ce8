"""SHA-256 of files, streamed: light enough for the client, which must not import the pipeline."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import IO, Any

BLOCK = 1024 * 1024


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(BLOCK):
            digest.update(block)
    return digest.hexdigest()


class HashingReader:
    """A read-only file wrapper that hashes what passes through (one read for packing and hashing)."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self.digest: Any = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        self.digest.update(data)
        return data
