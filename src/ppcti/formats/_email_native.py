"""The compiled row reader of ``email-csv`` (``ppcti_native.EmailCsvReader``), and how the lines it
cannot decide reach the reference.

The reference reads a file as records (:class:`~ppcti.formats._csvrecords.CsvRecords`: the ``csv``
module over numbered lines, with resynchronisation after a broken record) and each record with
``_Rows.add`` (``read_row``, ``clean_email``, ``cached_stix_timestamp`` in Python), about 35 µs a row.
The compiled reader reads a chunk of lines in one call and decides the lines that are whole records it is
certain of: rows as written or with their one repair, with the common date and address spellings, and the
rows it rejects with the reference's reason. Every other line -- a quoted field over several lines, an
unbalanced quote, an unusual date --
goes to the reference, which reads it exactly as it would have: :class:`NativeRows` feeds the
reference the file's lines itself and, whenever the reference stands between two records, skips the
lines the compiled reader decided. A record that the reference is reading goes on over lines the
compiled reader decided on their own (a quoted line break can make any text a continuation): those
decisions are dropped. The header, always read by the reference, gives the column roles the compiled
reader needs. ``tests/formats/test_email_native.py`` proves the outputs byte-identical.
"""

from __future__ import annotations

import array
import bisect
import codecs
import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from ppcti.ingest.lines import LineBatch
from ppcti.native import native_module

if TYPE_CHECKING:
    from ppcti.clean.repair import Role
    from ppcti.clean.timestamps import TimeContext
    from ppcti.formats._csvrecords import BadSpan, CsvRecords
    from ppcti.ingest import SourceFile
    from ppcti.ingest.limits import Limits

#: Encodings whose files the compiled reader is handed as bytes (each chunk checked to be UTF-8).
_UTF8 = frozenset({"utf-8", "utf-8-sig"})

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class NativeChunk:
    """What the compiled reader decided in one chunk of lines: event rows (``line``, ``timestamp``,
    ``src_ip``, ``emails`` and ``recipients`` as lists of addresses, ``sender``, ``subject``,
    ``verdict``, ``raw``, ``cleaned``, ``repaired``), the number of blank rows, and the rows it rejected."""

    events: pl.DataFrame
    blank: int
    rejects: list[tuple[int, str, str, str]]  # line, reason, raw, stage


def native_reader(
    header: Sequence[str],
    roles: Sequence[Role],
    keys: Sequence[str | None],
    delimiter: str,
    quotechar: str,
    time: TimeContext,
) -> Any | None:
    """The compiled reader for a header's columns, or None (not built, switched off, a stale build, a
    dialect it does not read). Outside UTC, dates written without an offset are left to the reference."""
    module = native_module()
    if module is None or not hasattr(module, "EmailCsvReader"):
        return None
    try:
        return module.EmailCsvReader(
            list(header),
            [r.value for r in roles],
            list(keys),
            delimiter,
            quotechar,
            time.timezone == "UTC",
            time.date_order == "DMY",
        )
    except (TypeError, ValueError) as exc:
        _log.warning("compiled email-csv reader not used: %s", exc)
        return None


def native_available() -> bool:
    """Whether a compiled reader can be made at all (decided before the header is read)."""
    module = native_module()
    return module is not None and hasattr(module, "EmailCsvReader")


def byte_chunks(path: Path, *, bom: bool, size: int, max_line_bytes: int) -> Iterator[bytes | None]:
    """The file in chunks of about ``size`` bytes, each of whole lines (the last one's last line may
    lack its newline); a UTF-8 byte-order mark at the start dropped when ``bom`` (as the ``utf-8-sig``
    codec drops it). ``None`` instead, and the end, when the next line is over ``max_line_bytes`` before
    its newline: memory stays bounded, and the caller reads on the way :mod:`ppcti.ingest.lines` does."""
    rest = b""
    with open(path, "rb") as handle:
        block = handle.read(size)
        if bom:
            while len(block) < len(codecs.BOM_UTF8) and (more := handle.read(size)):
                block += more
            if block.startswith(codecs.BOM_UTF8):
                block = block[len(codecs.BOM_UTF8) :]
        while block or (block := handle.read(size)):
            cut = block.rfind(b"\n") + 1
            if cut == 0:
                rest += block
                if len(rest) > max_line_bytes + 1:  # + 1: a carriage return before its newline
                    yield None
                    return
            elif cut == len(block) and not rest:
                yield block
            else:  # one copy of the chunk's lines: a slice, then the join, copied it twice
                yield b"".join((rest, memoryview(block)[:cut]))
                rest = block[cut:]
            block = b""
    if rest:
        yield rest


def lines_from(batches: Iterator[LineBatch], first: int) -> Iterator[LineBatch]:
    """``batches`` from line ``first`` on."""
    for batch in batches:
        if batch.end_line < first:
            continue
        if batch.start_line < first:
            cut = first - batch.start_line
            oversized = [o for o in batch.oversized if o[0] >= first]
            start = first if cut < len(batch.lines) or not oversized else oversized[0][0]
            batch = LineBatch(start, batch.lines[cut:], oversized)
        yield batch


class _ChunkLines(Sequence[str]):
    """The lines of a chunk of UTF-8 bytes (``line_starts`` found them), decoded one by one as the
    reference asks for them: it reads a few lines of most chunks, and decoding and splitting the whole
    chunk in Python cost more than the compiled reader's work on it."""

    def __init__(self, data: bytes, starts: bytes) -> None:
        self._data = data
        self._starts = array.array("I")
        assert self._starts.itemsize == 4
        self._starts.frombytes(starts)
        if sys.byteorder == "big":
            self._starts.byteswap()

    def __len__(self) -> int:
        return len(self._starts) - 1

    def __getitem__(self, index: int) -> str:  # type: ignore[override]  # positions only
        line = self._data[self._starts[index] : self._starts[index + 1] - 1]
        return (line[:-1] if line.endswith(b"\r") else line).decode("utf-8")


#: A chunk of lines: the number of the first, the lines, the oversized lines after them (as in
#: :class:`LineBatch`), and the chunk's bytes when the lines are a :class:`_ChunkLines` of them.
Chunk = tuple[int, Sequence[str], list[tuple[int, str]], bytes | None]


def chunk_lines(
    batches: Iterator[LineBatch],
    chunks: Iterator[bytes | None] | None = None,
    split: Callable[[bytes], bytes | None] | None = None,
    line_batches: Callable[[], Iterator[LineBatch]] | None = None,
) -> Iterator[Chunk]:
    """The lines of a file chunk by chunk: from byte ``chunks`` (see :func:`byte_chunks`) that
    ``split`` splits, until it declines one, then from ``line_batches()`` on; or from ``batches``."""
    if chunks is not None and split is not None and line_batches is not None:
        first = 1
        for data in chunks:
            starts = split(data) if data is not None else None
            if data is None or starts is None:
                getattr(chunks, "close", lambda: None)()  # the file it holds open
                batches = lines_from(line_batches(), first)
                break
            lines = _ChunkLines(data, starts)
            yield first, lines, [], data
            first += len(lines)
    for batch in batches:
        yield batch.start_line, batch.lines, list(batch.oversized), None


class NativeRows:
    """The items of a CSV file in order: the reference's records and spans, and a :class:`NativeChunk`
    after each chunk of lines.

    Until :meth:`use` gives it a reader (once the header is known), every line goes to the reference.
    A UTF-8 file is read in byte chunks whose lines the compiled reader splits itself; a chunk it does
    not split as :mod:`ppcti.ingest.lines` would (not UTF-8, a line over the limit) sends the rest of the
    file through that module.
    """

    @classmethod
    def of(cls, records: CsvRecords, source: SourceFile, limits: Limits, batch_bytes: int) -> NativeRows:
        """The rows of ``source`` (a CSV file)."""

        def line_batches() -> Iterator[LineBatch]:
            return source.iter_line_batches(limits, batch_bytes)

        module = native_module()
        if source.encoding not in _UTF8 or not hasattr(module, "line_starts"):
            return cls(records, line_batches())
        chunks = byte_chunks(
            source.local_path,
            bom=source.encoding == "utf-8-sig",
            size=batch_bytes,
            max_line_bytes=limits.max_line_bytes,
        )
        starts = module.line_starts  # type: ignore[union-attr]
        return cls(
            records, iter(()), chunks=(chunks, lambda data: starts(data, limits.max_line_bytes), line_batches)
        )

    def __init__(
        self,
        records: CsvRecords,
        batches: Iterator[LineBatch],
        *,
        chunks: tuple[
            Iterator[bytes | None],
            Callable[[bytes], bytes | None],
            Callable[[], Iterator[LineBatch]],
        ]
        | None = None,
    ) -> None:
        self.records = records
        self._source = chunk_lines(batches) if chunks is None else chunk_lines(iter(()), *chunks)
        self._data: bytes | None = None  # the current chunk, when it is bytes
        self._reader: Any | None = None
        self._start = 1
        self._lines: Sequence[str] = []
        self._oversized: list[tuple[int, str]] = []
        self._pos = 0
        self._decided_from: int | None = None  # lines from here on were given to the compiled reader
        self._fallback: list[int] = []  # ... and these of them it did not decide
        self._table: pl.DataFrame | None = None
        self._blank: list[int] = []
        self._rejects: list[tuple[int, str, str, str]] = []
        self._overridden: list[int] = []  # decided lines the reference read as part of a record
        self._finished: list[NativeChunk] = []

    def use(self, reader: Any | None) -> None:
        """Decide the lines after the current one with ``reader`` (None: keep the reference)."""
        self._reader = reader
        self._decide()

    def __iter__(self) -> Iterator[tuple[int, list[str]] | BadSpan | NativeChunk]:
        if not self._advance():
            return
        while True:
            self._skip_decided()
            if self._pos < len(self._lines) or self._oversized:
                for item in self.records.read(self._feed()):
                    yield item
                    yield from self._drain()
                yield from self._drain()
                continue
            self._finish()
            yield from self._drain()
            if not self._advance():
                return

    def _decided(self, index: int) -> bool:
        if self._decided_from is None or index < self._decided_from:
            return False
        at = bisect.bisect_left(self._fallback, index)
        return at == len(self._fallback) or self._fallback[at] != index

    def _skip_decided(self) -> None:
        """Move past the lines the compiled reader decided (the reference is between records)."""
        if self._decided_from is None or self._pos < self._decided_from:
            return
        at = bisect.bisect_left(self._fallback, self._pos)
        self._pos = self._fallback[at] if at < len(self._fallback) else len(self._lines)

    def _feed(self) -> Iterator[LineBatch]:
        """Lines for the reference, one at a time, until it stands between records before a decided line
        or the end of the chunk; a record it is reading goes on into the next chunk."""
        while True:
            if self._pos < len(self._lines):
                index = self._pos
                if self._decided(index):
                    if self.records.between_records:
                        return
                    self._overridden.append(index)
                self._pos += 1
                yield LineBatch(self._start + index, [self._lines[index]], [])
            elif self._oversized:
                oversized, self._oversized = self._oversized, []
                yield LineBatch(self._start + len(self._lines), [], oversized)
            elif self.records.between_records:
                return
            else:
                self._finish()
                if not self._advance():
                    return

    def _advance(self) -> bool:
        """Load the next chunk of lines; False at the end of the file."""
        chunk = next(self._source, None)
        if chunk is None:
            return False
        self._start, self._lines, self._oversized, self._data = chunk
        self._pos = 0
        self._decided_from, self._fallback, self._table, self._blank, self._rejects = None, [], None, [], []
        self._overridden = []
        self._decide()
        return True

    def _decide(self) -> None:
        """Give the compiled reader the lines of the chunk from the current one on."""
        if self._reader is None or self._decided_from is not None or self._pos >= len(self._lines):
            return
        if self._data is not None:  # bytes the reader splits itself (line_starts found them UTF-8)
            read = self._reader.read_bytes(self._data, self._pos, self._start + self._pos)
            if read is None:
                return
        else:
            try:  # the lines as they are: no joined copy to encode
                read = self._reader.read(self._lines, self._pos, self._start + self._pos)
            except UnicodeEncodeError:  # a lone surrogate: the reference reads this chunk
                return
        table, fallback, blank, rejects = read
        offset = self._pos
        self._decided_from = offset
        self._fallback = [offset + i for i in fallback]
        self._blank = [offset + i for i in blank]
        self._rejects = [(offset + i, reason, raw, stage) for i, reason, raw, stage in rejects]
        self._table = pl.DataFrame(table)

    def _finish(self) -> None:
        """The compiled reader's part of the chunk, less the lines the reference read after all."""
        if self._table is None:
            return
        table, blank, rejects = self._table, len(self._blank), self._rejects
        if self._overridden:
            lines = [self._start + i for i in self._overridden]
            table = table.filter(~pl.col("line").is_in(lines))
            overridden = set(self._overridden)
            blank -= len(overridden.intersection(self._blank))
            rejects = [r for r in rejects if r[0] not in overridden]
        start = self._start
        self._finished.append(
            NativeChunk(table, blank, [(start + i, reason, raw, stage) for i, reason, raw, stage in rejects])
        )
        self._table = None

    def _drain(self) -> Iterator[NativeChunk]:
        while self._finished:
            yield self._finished.pop(0)
