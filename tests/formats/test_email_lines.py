"""The lines of an e-mail CSV file read as byte chunks (``byte_chunks``, ``line_starts``, ``chunk_lines``)
against :func:`ppcti.ingest.lines.iter_line_batches`, the specification: the same lines with the same
numbers, the same oversized lines, whatever the chunk size (CRLF, lone CRs, a byte-order mark, non-ASCII,
invalid UTF-8 and over-long lines send the rest of a file down the reference's path)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from native_marks import native_part
from ppcti.formats._email_native import byte_chunks, chunk_lines
from ppcti.ingest.lines import iter_line_batches

ppcti_native, pytestmark = native_part("line_starts")

_PIECES = st.sampled_from(
    [
        *(b"a", b"bc,d", b'"q"', b"\r", b"\n", b"\r\n", b"\n\n", "é".encode(), "\u2028".encode()),
        *(b"\xef\xbb\xbf", b"x" * 30, b"\xff", b"\xc3", b"\x00", b"\x1c"),
    ]
)


def _flat(chunks: object) -> list[tuple[str, int, str]]:
    out = []
    for start, lines, oversized, _data in chunks:  # type: ignore[attr-defined]
        out += [("line", start + i, lines[i]) for i in range(len(lines))]
        out += [("oversized", n, text) for n, text in oversized]
    return out


def _reference(path: Path, encoding: str, max_line_bytes: int, size: int) -> list[tuple[str, int, str]]:
    batches = iter_line_batches(path, encoding, max_line_bytes=max_line_bytes, batch_bytes=size)
    return _flat(chunk_lines(batches))


def _chunked(path: Path, encoding: str, max_line_bytes: int, size: int) -> tuple[list, int]:
    bytes_read = 0

    def split(data: bytes) -> bytes | None:
        nonlocal bytes_read
        starts = ppcti_native.line_starts(data, max_line_bytes)
        bytes_read += starts is not None
        return starts

    chunks = byte_chunks(path, bom=encoding == "utf-8-sig", size=size, max_line_bytes=max_line_bytes)
    lines = chunk_lines(
        iter(()),
        chunks,
        split,
        lambda: iter_line_batches(path, encoding, max_line_bytes=max_line_bytes, batch_bytes=size),
    )
    return _flat(lines), bytes_read


@settings(max_examples=300, deadline=None)
@given(
    st.lists(_PIECES, max_size=30).map(b"".join),
    st.sampled_from(["utf-8", "utf-8-sig"]),
    st.integers(4, 64),
    st.integers(1, 90),
)
def test_byte_chunks_give_the_lines_of_the_reference(
    tmp_path_factory: object, data: bytes, encoding: str, max_line_bytes: int, size: int
) -> None:
    path = tmp_path_factory.mktemp("lines") / "mail.csv"  # type: ignore[attr-defined]
    path.write_bytes(data)
    chunked, bytes_read = _chunked(path, encoding, max_line_bytes, size)
    assert chunked == _reference(path, encoding, max_line_bytes, size)
    plain = all(len(line) <= max_line_bytes for line in data.split(b"\n"))
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        plain = False
    if plain and data.removeprefix(b"\xef\xbb\xbf" if encoding == "utf-8-sig" else b""):
        assert bytes_read > 0  # the compiled splitter read this file


def test_a_plain_file_is_read_as_bytes_only(tmp_path: Path) -> None:
    path = tmp_path / "mail.csv"
    path.write_bytes(b"\xef\xbb\xbfdate,sender\r\n" + b"2023-03-07 10:00,a@b.example\r\n" * 50 + b"last\r")
    chunked, bytes_read = _chunked(path, "utf-8-sig", 1000, 256)
    assert chunked == _reference(path, "utf-8-sig", 1000, 256)
    assert chunked[0] == ("line", 1, "date,sender") and chunked[-1] == ("line", 52, "last")
    assert bytes_read == len(list(byte_chunks(path, bom=True, size=256, max_line_bytes=1000)))
