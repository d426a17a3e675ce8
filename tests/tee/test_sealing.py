"""Sealed files: round trips of any size, and every tampering noticed."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ppcti.errors import TeeError
from ppcti.tee import sealing
from ppcti.tee.sealing import MAGIC, SealedWriter, SessionKey, read_sealed


def seal(path: Path, key: SessionKey, pieces: list[bytes], label: str = "upload") -> Path:
    with SealedWriter(path, key, label) as writer:
        for piece in pieces:
            writer.write(piece)
    return path


@settings(max_examples=40)
@given(pieces=st.lists(st.binary(max_size=300), max_size=8), chunk=st.integers(min_value=1, max_value=64))
def test_round_trip_any_chunking(tmp_path_factory, pieces: list[bytes], chunk: int) -> None:
    folder = tmp_path_factory.mktemp("seal")
    key = SessionKey(b"k" * 32, "s1")
    original = sealing.CHUNK
    sealing.CHUNK = chunk
    try:
        path = seal(folder / "f", key, pieces)
        assert b"".join(read_sealed(path, key, "upload")) == b"".join(pieces)
    finally:
        sealing.CHUNK = original
    data = b"".join(pieces)
    if len(data) >= 8:
        assert data not in path.read_bytes()


@pytest.fixture
def sealed(tmp_path: Path) -> tuple[Path, SessionKey]:
    key = SessionKey(b"k" * 32, "s1")
    original = sealing.CHUNK
    sealing.CHUNK = 16
    try:
        path = seal(tmp_path / "f", key, [b"0123456789abcdef" * 4 + b"tail"])
    finally:
        sealing.CHUNK = original
    return path, key


def test_flipped_byte_is_noticed(sealed: tuple[Path, SessionKey]) -> None:
    path, key = sealed
    data = bytearray(path.read_bytes())
    data[len(MAGIC) + 8 + 4 + 3] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(TeeError, match="corrupt"):
        b"".join(read_sealed(path, key, "upload"))


def test_truncation_at_a_chunk_boundary_is_noticed(sealed: tuple[Path, SessionKey]) -> None:
    path, key = sealed
    record = 4 + 16 + 16
    data = path.read_bytes()
    path.write_bytes(data[: len(MAGIC) + 8 + 2 * record])
    with pytest.raises(TeeError):
        b"".join(read_sealed(path, key, "upload"))


def test_wrong_label_other_session_or_destroyed_key_cannot_read(sealed: tuple[Path, SessionKey]) -> None:
    path, key = sealed
    with pytest.raises(TeeError):
        b"".join(read_sealed(path, key, "result"))
    with pytest.raises(TeeError):
        b"".join(read_sealed(path, SessionKey(b"k" * 32, "s1"), "upload"))  # same id, new nonce
    key.destroy()
    with pytest.raises(TeeError, match="destroyed"):
        b"".join(read_sealed(path, key, "upload"))
    assert key.destroyed_at is not None


def test_a_large_upload_is_streamed_in_chunks(tmp_path: Path) -> None:
    key = SessionKey(b"k" * 32, "s2")
    block = bytes(range(256)) * 4096  # 1 MiB
    path = seal(tmp_path / "big", key, [block] * 3 + [b"end"])
    sizes = [len(c) for c in read_sealed(path, key, "upload")]
    assert sizes == [sealing.CHUNK, sealing.CHUNK, sealing.CHUNK, 3]


def test_memory_stays_bounded_by_the_chunk_not_the_file(tmp_path: Path) -> None:
    import tracemalloc

    key = SessionKey(b"k" * 32, "s3")
    block = b"x" * (256 * 1024)
    tracemalloc.start()
    try:
        with SealedWriter(tmp_path / "big", key, "upload") as writer:
            for _ in range(128):  # 32 MiB
                writer.write(block)
        total = sum(len(chunk) for chunk in read_sealed(tmp_path / "big", key, "upload"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == 32 * 1024 * 1024
    assert peak < 6 * sealing.CHUNK, f"peak {peak} bytes for a 32 MiB file"
