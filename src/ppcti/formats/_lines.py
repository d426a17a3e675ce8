"""Text files as Polars frames of lines, read in large byte chunks.

The firewall format's hot path splits lines in Polars' native CSV reader rather than in Python: turning
a million Python strings into a Polars column costs more than parsing them. UTF-8 bytes go to Polars as
they are; other encodings are transcoded chunk by chunk. Lines over the configured limit are cut out and
reported, so a file that is one 500 MB line costs at most one chunk of memory.
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import polars as pl

from ppcti.native import native_module

if TYPE_CHECKING:
    from ppcti.ingest import SourceFile

_UTF8 = frozenset({None, "utf-8", "utf8", "ascii", "us-ascii", "utf-8-sig"})


#: Why a line emptied by :func:`blank_binary_lines` is rejected.
BINARY_LINE = "binary content in the line (NUL bytes)"


@dataclass(slots=True)
class LineChunk:
    """``data`` holds whole lines (UTF-8, the last one possibly without newline), the first of which is
    line ``first_line``; ``oversized`` lists cut lines as (line, prefix); ``binary`` lists lines that
    held binary content as (line, prefix): they are left empty in ``data``, so numbering stays exact."""

    data: bytes
    first_line: int
    oversized: list[tuple[int, str]] = field(default_factory=list)
    binary: list[tuple[int, str]] = field(default_factory=list)


@dataclass(slots=True)
class LineFrame:
    """``frame`` has ``line`` (1-based) and ``text``; ``oversized`` and ``binary`` as in
    :class:`LineChunk`."""

    frame: pl.DataFrame
    oversized: list[tuple[int, str]] = field(default_factory=list)
    binary: list[tuple[int, str]] = field(default_factory=list)


def blank_binary_lines(data: bytes, first_line: int) -> tuple[bytes, list[tuple[int, str]]]:
    """``data`` with the lines that hold a NUL byte emptied, and those lines as (number, first 200 chars).

    A file was accepted as text as a whole (:func:`ppcti.ingest.detect.detect_encoding`); the few lines
    in it that are not (the NUL runs an unclean shutdown leaves in a syslog file) are rejected one by
    one. Text never holds NUL, and finding one is a ``memchr`` over the chunk: other control bytes are
    left to the parsers, since checking for them costs 10x more on every chunk of every file.
    """
    if b"\x00" not in data:
        return data, []
    lines = data.split(b"\n")
    found: list[tuple[int, str]] = []
    for i, line in enumerate(lines):
        if b"\x00" in line:
            found.append((first_line + i, line.rstrip(b"\r")[:200].decode("utf-8", "replace")))
            lines[i] = b""
    return b"\n".join(lines), found


def iter_line_frames(source: SourceFile, *, batch_bytes: int, max_line_bytes: int) -> Iterator[LineFrame]:
    """Every line of ``source`` exactly once, in order, as frames of bounded size."""
    for chunk in iter_line_chunks(source, batch_bytes=batch_bytes, max_line_bytes=max_line_bytes):
        yield LineFrame(chunk_frame(chunk), chunk.oversized, chunk.binary)


def chunk_frame(chunk: LineChunk) -> pl.DataFrame:
    """The lines of ``chunk`` as a frame of ``text`` and ``line``."""
    if not chunk.data:
        return pl.DataFrame(schema={"line": pl.Int64, "text": pl.String})
    return _frame(chunk.data, chunk.first_line)


def line_count(data: bytes) -> int:
    """Lines in ``data``: newlines, plus one for a last line without its newline.

    ``bytes.count`` looks at one byte at a time, which cost a tenth of reading an NDJSON feed with the
    compiled reader; ``ppcti_native.count_newlines`` counts the same with vector instructions.
    """
    module = native_module()
    newlines = data.count(b"\n") if module is None else module.count_newlines(data)
    return newlines + (0 if not data or data.endswith(b"\n") else 1)


def iter_line_chunks(source: SourceFile, *, batch_bytes: int, max_line_bytes: int) -> Iterator[LineChunk]:
    """Every line of ``source`` exactly once, in order, as UTF-8 byte chunks of bounded size."""
    encoding = (source.encoding or "utf-8").lower()
    decoder = None if encoding in _UTF8 else codecs.getincrementaldecoder(encoding)(errors="replace")
    next_line = 1
    pending = b""
    skipping_from: int | None = None  # line number of an oversized line being skipped
    oversized: list[tuple[int, str]] = []
    first = True
    with open(source.local_path, "rb") as handle:
        while True:
            chunk = handle.read(batch_bytes)
            eof = not chunk
            if decoder is not None:
                chunk = decoder.decode(chunk, final=eof).encode("utf-8")
            if first:
                first = False
                if chunk.startswith(codecs.BOM_UTF8):
                    chunk = chunk[3:]
            cut = -1 if skipping_from is not None or eof else chunk.rfind(b"\n")
            if cut >= 0:
                # the usual case: the lines up to the chunk's last newline, copied once (a chunk is
                # most of the time spent here; slicing and concatenating copied it twice more)
                data = b"".join((pending, memoryview(chunk)[: cut + 1]))
                pending = chunk[cut + 1 :]
            else:
                data = pending + chunk
                pending = b""
                if skipping_from is not None:
                    cut = data.find(b"\n")
                    if cut < 0:
                        if eof:
                            skipping_from = None
                            next_line += 1
                            data = b""
                        else:
                            continue
                    else:
                        data = data[cut + 1 :]
                        skipping_from = None
                        next_line += 1
                if not eof:
                    cut = data.rfind(b"\n")
                    if cut < 0:
                        if len(data) > max_line_bytes:
                            oversized.append((next_line, data[:200].decode("utf-8", "replace")))
                            skipping_from = next_line
                        else:
                            pending = data
                        continue
                    pending = data[cut + 1 :]
                    data = data[: cut + 1]
            if len(pending) > max_line_bytes:
                # the line after the last newline is already too long: report it once complete
                oversized.append((next_line + data.count(b"\n"), pending[:200].decode("utf-8", "replace")))
                skipping_from = next_line + data.count(b"\n")
                pending = b""
            if data:
                first_line = next_line
                next_line += line_count(data)
                if skipping_from is not None:
                    skipping_from = next_line
                data, binary = blank_binary_lines(data, first_line)
                yield LineChunk(data, first_line, oversized, binary)
                oversized = []
            elif oversized:
                yield LineChunk(b"", next_line, oversized)
                oversized = []
            if eof:
                return


def _frame(data: bytes, first_line: int) -> pl.DataFrame:
    """Split ``data`` (complete lines, the last one possibly without newline) into a frame."""
    count = line_count(data)
    # NUL is the reader's separator, and the reader drops a byte-order mark at the start of its input
    # (one left inside a file, where concatenated logs meet): such rare chunks take the plain path
    if b"\x00" in data or data.startswith(codecs.BOM_UTF8):
        return _python_frame(data, first_line)
    frame = pl.read_csv(
        io.BytesIO(data),
        has_header=False,
        separator="\x00",
        quote_char=None,
        new_columns=["text"],
        schema={"text": pl.String},
        encoding="utf8-lossy",
        truncate_ragged_lines=True,
        raise_if_empty=False,
    )
    if frame.height != count:  # defensive: Polars and the newline count must agree on line numbers
        return _python_frame(data, first_line)
    return frame.with_columns(
        pl.int_range(first_line, first_line + frame.height, dtype=pl.Int64).alias("line")
    )


def _python_frame(data: bytes, first_line: int) -> pl.DataFrame:
    text = data.decode("utf-8", "replace").split("\n")
    if data.endswith(b"\n"):
        text.pop()
    frame = pl.DataFrame({"text": [t.removesuffix("\r") for t in text]}, schema={"text": pl.String})
    return frame.with_columns(
        pl.int_range(first_line, first_line + frame.height, dtype=pl.Int64).alias("line")
    )
