"""``ppcti.formats._lines.iter_line_chunks`` counts lines with ``ppcti_native.count_newlines`` and
``ppcti.ingest.detect._scan_lines`` checks ASCII chunks in pieces of one reused buffer: the chunks, line
numbers, oversized and binary lines, and the encoding counts must be exactly those of the references
(the same chunker counting with ``bytes.count``; the encoding scan as it was, a fresh ``bytes`` per
read, kept here)."""

from __future__ import annotations

import codecs
import tempfile
from collections.abc import Iterable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ppcti.formats import _lines
from ppcti.formats._lines import LineChunk, iter_line_chunks, line_count
from ppcti.ingest import SourceFile, detect
from ppcti.ingest import textcodec as _textcodec
from ppcti.native import native_module


def _reference_count(data: bytes) -> int:
    return data.count(b"\n") + (0 if not data or data.endswith(b"\n") else 1)


def reference_chunks(source: SourceFile, *, batch_bytes: int, max_line_bytes: int) -> list[LineChunk]:
    """``iter_line_chunks`` counting lines with ``bytes.count``: the reference of the compiled count."""
    with pytest.MonkeyPatch.context() as m:
        m.setattr(_lines, "line_count", _reference_count)
        return list(iter_line_chunks(source, batch_bytes=batch_bytes, max_line_bytes=max_line_bytes))


def reference_scan(path: Path, skip_bytes: int = 0) -> _textcodec.LineCounts:
    """``detect._scan_lines`` as it was before the reused buffer."""
    counts = _textcodec.LineCounts()
    rest = b""
    with path.open("rb") as fh:
        fh.seek(skip_bytes)
        while chunk := fh.read(detect._CHUNK):
            if not rest and chunk.isascii():
                continue
            data = rest + chunk if rest else chunk
            cut = data.rfind(b"\n") + 1
            if cut == 0 and len(data) < detect._CHUNK:
                rest = data
                continue
            cut = cut or len(data)
            _textcodec.count_lines(data[:cut], counts)
            rest = data[cut:]
    _textcodec.count_lines(rest, counts)
    return counts


def _file(data: bytes) -> Path:
    fd, name = tempfile.mkstemp(prefix="ppcti-chunks-")
    with open(fd, "wb") as handle:
        handle.write(data)
    return Path(name)


def _as_tuples(chunks: Iterable[LineChunk]) -> list[tuple[bytes, int, list, list]]:
    return [(c.data, c.first_line, c.oversized, c.binary) for c in chunks]


PIECES = st.sampled_from(
    [b"a", b"bc", b"\n", b"\r\n", b"\r", b"\x00", "é".encode(), "€".encode(), b"\xe9", b"\xef\xbb\xbf", b"{}"]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pieces=st.lists(st.one_of(PIECES, st.binary(max_size=9)), max_size=50),
    bom=st.booleans(),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", None, "cp1252", _textcodec.NAME]),
    batch_bytes=st.integers(1, 40),
    max_line_bytes=st.integers(1, 30),
)
def test_chunks_are_those_of_fresh_reads(
    pieces: list[bytes], bom: bool, encoding: str | None, batch_bytes: int, max_line_bytes: int
) -> None:
    data = (codecs.BOM_UTF8 if bom else b"") + b"".join(pieces)
    path = _file(data)
    try:
        source = SourceFile("f.jsonl", "ndjson", encoding, len(data), (), path)
        got = _as_tuples(iter_line_chunks(source, batch_bytes=batch_bytes, max_line_bytes=max_line_bytes))
        want = _as_tuples(reference_chunks(source, batch_bytes=batch_bytes, max_line_bytes=max_line_bytes))
    finally:
        path.unlink()
    assert got == want


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pieces=st.lists(st.one_of(PIECES, st.binary(max_size=9)), max_size=50),
    chunk=st.integers(1, 24),
    piece=st.integers(1, 10),
    skip=st.integers(0, 3),
)
def test_encoding_scan_counts_as_fresh_reads(pieces: list[bytes], chunk: int, piece: int, skip: int) -> None:
    path = _file(b"".join(pieces))
    try:
        with pytest.MonkeyPatch.context() as m:
            m.setattr(detect, "_CHUNK", chunk)
            m.setattr(detect, "_PIECE", piece)
            got = detect._scan_lines(path, skip)
            want = reference_scan(path, skip)
    finally:
        path.unlink()
    assert got == want


def test_a_file_larger_than_a_chunk_is_read_in_whole_chunks() -> None:
    lines = [f'{{"n": {i}, "s": "{"é" * (i % 7)}"}}\n'.encode() for i in range(5000)]
    data = b"".join(lines) + b'{"last": true}'
    path = _file(data)
    try:
        source = SourceFile("f.jsonl", "ndjson", "utf-8", len(data), (), path)
        got = _as_tuples(iter_line_chunks(source, batch_bytes=4096, max_line_bytes=1000))
        want = _as_tuples(reference_chunks(source, batch_bytes=4096, max_line_bytes=1000))
    finally:
        path.unlink()
    assert got == want
    assert len(got) > 20 and b"".join(c[0] for c in got) == data


@pytest.mark.parametrize("data", [b"", b"a", b"\n", b"a\nb", b"a\n\n", b"x" * 5000 + b"\n" * 3 + b"y"])
def test_line_count_counts_as_bytes_count(data: bytes) -> None:
    assert line_count(data) == _reference_count(data)


def test_line_count_uses_the_compiled_counter_when_built(monkeypatch: pytest.MonkeyPatch) -> None:
    module = native_module()
    if module is None:
        pytest.skip("ppcti-native is not built")
    calls: list[int] = []

    class Spy:
        def count_newlines(self, data: bytes) -> int:
            calls.append(len(data))
            return module.count_newlines(data)

    monkeypatch.setattr(_lines, "native_module", lambda: Spy())
    assert line_count(b"a\nb\nc") == 3
    assert calls == [5]
    assert module.count_newlines(b"a\nb\n\n", 3) == 1
    assert module.count_newlines(b"a\nb\n\n", 99) == 3
