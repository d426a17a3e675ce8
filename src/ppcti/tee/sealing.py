"""Sealed storage: per-session keys and chunked AES-256-GCM files.

A session key is HKDF-SHA256 of the enclave's sealing key and a random 32-byte session nonce that lives
only in enclave memory. Only this enclave can derive it (the sealing key), and only while the session
lives (the nonce): forgetting the nonce and the key is the crypto-shredding, and it holds even where a
disk does not really overwrite deleted blocks. Python cannot promise that no copy of a key survives in
freed memory; inside an enclave that memory is encrypted by the CPU, in the simulation it is not.

A sealed file is ``MAGIC`` then records ``u32 length || AES-GCM(chunk)``, each chunk at most
:data:`CHUNK` bytes of plaintext. The nonce is an 8-byte random file prefix plus a 4-byte chunk counter;
the associated data names the file, the chunk number and whether it is the last one, so chunks cannot be
reordered, moved between files or cut off at the end without the reader noticing.
"""

from __future__ import annotations

import os
import secrets
import struct
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import IO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ppcti.errors import TeeError

MAGIC = b"PPCTI-SEALED/1\n"
CHUNK = 1024 * 1024
_LEN = struct.Struct("<I")


class SessionKey:
    """The AES-256-GCM key of one session, derived from the sealing key; :meth:`destroy` shreds it."""

    def __init__(self, sealing_key: bytes, session_id: str) -> None:
        self._nonce = bytearray(secrets.token_bytes(32))
        self._key: bytearray | None = bytearray(
            HKDF(
                algorithm=hashes.SHA256(),
                length=32,
                salt=bytes(self._nonce),
                info=b"ppcti-tee session " + session_id.encode(),
            ).derive(sealing_key)
        )
        self.destroyed_at: float | None = None

    def aead(self) -> AESGCM:
        if self._key is None:
            raise TeeError(
                "the session key was destroyed: this session's data can no longer be read", http_status=410
            )
        return AESGCM(bytes(self._key))

    def destroy(self) -> float:
        """Overwrite and forget the key and its nonce; returns the time it happened."""
        if self._key is not None:
            for buffer in (self._key, self._nonce):
                for i in range(len(buffer)):
                    buffer[i] = 0
            self._key = None
            self.destroyed_at = time.time()
        assert self.destroyed_at is not None
        return self.destroyed_at


def _aad(label: str, index: int, final: bool) -> bytes:
    return b"ppcti-sealed\0" + label.encode() + struct.pack("<Q?", index, final)


class SealedWriter:
    """Stream plaintext in; only ciphertext reaches the disk. Usable as a file object (``write``)."""

    def __init__(self, path: Path, key: SessionKey, label: str) -> None:
        self._aead = key.aead()
        self._label = label
        self._prefix = secrets.token_bytes(8)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._file: IO[bytes] = os.fdopen(fd, "wb")
        self._file.write(MAGIC + self._prefix)
        self._buffer = bytearray()
        self._index = 0
        self.plaintext_bytes = 0

    def write(self, data: bytes | bytearray | memoryview) -> int:
        self._buffer += data
        self.plaintext_bytes += len(data)
        while len(self._buffer) > CHUNK:
            self._emit(bytes(self._buffer[:CHUNK]), final=False)
            del self._buffer[:CHUNK]
        return len(data)

    def _emit(self, chunk: bytes, *, final: bool) -> None:
        nonce = self._prefix + struct.pack("<I", self._index)
        sealed = self._aead.encrypt(nonce, chunk, _aad(self._label, self._index, final))
        self._file.write(_LEN.pack(len(sealed)) + sealed)
        self._index += 1
        if self._index >= 2**32:
            raise TeeError("sealed file too large")

    def close(self) -> None:
        if not self._file.closed:
            self._emit(bytes(self._buffer), final=True)
            self._buffer.clear()
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()

    def abort(self) -> None:
        self._buffer.clear()
        self._file.close()

    def __enter__(self) -> SealedWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()


def read_sealed(path: Path, key: SessionKey, label: str) -> Iterator[bytes]:
    """Yield the plaintext chunks of a sealed file; :class:`TeeError` on any tampering or truncation."""
    aead = key.aead()
    with open(path, "rb") as handle:
        head = handle.read(len(MAGIC) + 8)
        if head[: len(MAGIC)] != MAGIC or len(head) != len(MAGIC) + 8:
            raise TeeError("not a sealed file")
        prefix = head[len(MAGIC) :]
        index = 0
        while True:
            size_bytes = handle.read(_LEN.size)
            if len(size_bytes) != _LEN.size:
                raise TeeError("sealed file truncated")
            (size,) = _LEN.unpack(size_bytes)
            if size > CHUNK + 16:
                raise TeeError("sealed file corrupt (chunk too large)")
            sealed = handle.read(size)
            nonce = prefix + struct.pack("<I", index)
            final = handle.peek(1)[:1] == b"" if hasattr(handle, "peek") else False
            try:
                plain = aead.decrypt(nonce, sealed, _aad(label, index, final))
            except InvalidTag:
                raise TeeError("sealed file corrupt, truncated or not from this session") from None
            yield plain
            if final:
                return
            index += 1


def unseal_to(path: Path, key: SessionKey, label: str, target: Path) -> int:
    """Decrypt a sealed file into ``target`` (a folder only this session uses); returns its size."""
    size = 0
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        for chunk in read_sealed(path, key, label):
            out.write(chunk)
            size += len(chunk)
    return size
