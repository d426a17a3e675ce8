"""Line streaming: exact line numbers, CRLF, oversized lines, chunk boundaries, bounded memory."""

from __future__ import annotations

import codecs
import tempfile
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ppcti.ingest import LineBatch
from ppcti.ingest.lines import iter_line_batches


def expected_lines(text: str) -> list[str]:
    """The reference meaning of "lines": split on LF only, one trailing CR dropped, no phantom last line."""
    parts = text.split("\n")
    if parts[-1] == "":
        parts.pop()
    return [p.removesuffix("\r") for p in parts]


def collect(batches: list[LineBatch]) -> tuple[dict[int, str], dict[int, str]]:
    """Line number -> text for normal and oversized lines, checking the batch numbering contract."""
    normal: dict[int, str] = {}
    over: dict[int, str] = {}
    next_line = 1
    for batch in batches:
        assert batch.start_line == next_line
        assert batch.lines or batch.oversized
        assert batch.line_numbers is None
        for n, line in enumerate(batch.lines, batch.start_line):
            assert n not in normal
            normal[n] = line
        for k, (n, prefix) in enumerate(batch.oversized):
            assert n == batch.start_line + len(batch.lines) + k
            over[n] = prefix
        next_line = batch.end_line + 1
    return normal, over


def _write(data: bytes) -> Path:
    fd, name = tempfile.mkstemp(prefix="ppcti-lines-")
    with open(fd, "wb") as fh:
        fh.write(data)
    return Path(name)


def run(text: str, encoding: str, *, max_line_bytes: int, batch_bytes: int, bom: bytes = b""):
    path = _write(bom + text.encode(encoding))
    try:
        batches = list(
            iter_line_batches(
                path, encoding, max_line_bytes=max_line_bytes, batch_bytes=batch_bytes, skip_bytes=len(bom)
            )
        )
    finally:
        path.unlink()
    return collect(batches)


ALPHABET = st.sampled_from(
    ["a", "b", " ", "\n", "\r", "\r\n", "é", "€", "😀", "\u2028", "\x0b", "\x0c", "\x1c"]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pieces=st.lists(st.one_of(ALPHABET, st.text(max_size=12)), max_size=60),
    encoding=st.sampled_from(["utf-8", "utf-16-le", "utf-16-be", "cp1252"]),
    max_line_bytes=st.integers(1, 40),
    batch_bytes=st.integers(1, 33),
)
def test_every_line_exactly_once_with_exact_numbers(pieces, encoding, max_line_bytes, batch_bytes):
    text = "".join(pieces)
    text = text.encode(encoding, errors="replace").decode(encoding)  # cp1252 cannot hold every char
    normal, over = run(text, encoding, max_line_bytes=max_line_bytes, batch_bytes=batch_bytes)
    expected = expected_lines(text)
    assert sorted(normal.keys() | over.keys()) == list(range(1, len(expected) + 1))
    assert not normal.keys() & over.keys()
    for n, line in enumerate(expected, 1):
        too_long = len(line.encode(encoding)) > max_line_bytes
        if too_long:
            assert n in over
            assert line.startswith(over[n])
            # the line is cut as soon as it passes the limit, so a tiny limit can give a shorter prefix
            assert min(len(line), 200, max_line_bytes // 4) <= len(over[n]) <= 200
        else:
            assert normal[n] == line


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        ("", []),
        ("\n", [""]),
        ("a", ["a"]),
        ("a\n", ["a"]),
        ("a\r\nb\r\n", ["a", "b"]),
        ("a\r\nb", ["a", "b"]),
        ("a\rb\n", ["a\rb"]),
        ("a\r\r\n", ["a\r"]),
        ("x\u2028y\x0cz\x1c\n", ["x\u2028y\x0cz\x1c"]),
        ("\n\n\n", ["", "", ""]),
    ],
    ids=[
        "empty",
        "lf",
        "no-eol",
        "one",
        "crlf",
        "crlf-no-eol",
        "lone-cr",
        "cr-cr-lf",
        "no-splitlines",
        "blank",
    ],
)
def test_line_splitting_rules(text, lines):
    for batch_bytes in (1, 2, 3, 1024):
        normal, over = run(text, "utf-8", max_line_bytes=100, batch_bytes=batch_bytes)
        assert over == {}
        assert [normal[n] for n in sorted(normal)] == lines


def test_oversized_lines_in_the_middle_keep_numbers_exact():
    text = "short1\n" + "x" * 5000 + "\nshort3\n" + "y" * 3000 + "\n" + "z" * 3000 + "\nshort6"
    normal, over = run(text, "utf-8", max_line_bytes=1000, batch_bytes=700)
    assert normal == {1: "short1", 3: "short3", 6: "short6"}
    assert over == {2: "x" * 200, 4: "y" * 200, 5: "z" * 200}


def test_utf16_bom_skipped_and_chunk_boundaries_inside_characters():
    text = "zeile één\n😀 zwei\r\ndrei"
    for batch_bytes in range(1, 9):
        normal, _ = run(
            text, "utf-16-le", max_line_bytes=100, batch_bytes=batch_bytes, bom=codecs.BOM_UTF16_LE
        )
        assert [normal[n] for n in sorted(normal)] == ["zeile één", "😀 zwei", "drei"]


def test_line_limit_counts_bytes_not_characters():
    line = "é" * 60  # 60 characters, 120 UTF-8 bytes
    normal, over = run(line + "\nok\n", "utf-8", max_line_bytes=100, batch_bytes=64)
    assert over == {1: line}
    assert normal == {2: "ok"}
    normal, over = run(line + "\n", "utf-8", max_line_bytes=120, batch_bytes=64)
    assert normal == {1: line}


def test_huge_single_line_streams_in_bounded_memory():
    size = 24 * 1024**2
    path = _write(b"A" * size + b"\nlast\n")
    try:
        tracemalloc.start()
        batches = iter_line_batches(path, "utf-8", max_line_bytes=64 * 1024, batch_bytes=1024**2)
        normal, over = collect(list(batches))
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    finally:
        path.unlink()
    assert over == {1: "A" * 200}
    assert normal == {2: "last"}
    assert peak < 8 * 1024**2  # a few chunks, never the 24 MiB line


def test_batches_are_bounded_by_batch_bytes():
    path = _write(("0123456789\n" * 10_000).encode())
    try:
        batches = list(iter_line_batches(path, "utf-8", max_line_bytes=100, batch_bytes=11 * 1000))
    finally:
        path.unlink()
    assert len(batches) >= 10
    assert max(len(b.lines) for b in batches) <= 1001
    assert sum(len(b.lines) for b in batches) == 10_000
