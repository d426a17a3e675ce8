"""CSV records that survive a bad row: resynchronisation on the next line after a broken record.

:func:`csv.reader` reads a quoted field across line breaks until its closing quote. One stray ``"``
early in an export therefore swallows the rows after it into one field until the reader gives up
(``field larger than field limit``) -- and a reader that stops there silently loses every later row.
Here the physical lines come from the line reader (exact numbers, per-line decoding, over-long and
binary lines already cut out), the csv module parses them, and a record is checked as it completes:

* a record that runs over :data:`MAX_RECORD_LINES` lines or ``max_record_bytes`` bytes, or that the csv
  module refuses, is broken;
* a record spread over several lines whose field count differs from the header's is an unbalanced
  quote, not a multi-line field; a header never spans lines (its first line is read alone).

A broken record costs its first line only: that line is rejected with the reason, and reading starts
again at the line after it, which is where the next record begins when the quote was the defect.
"""

from __future__ import annotations

import csv
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ppcti.formats._lines import BINARY_LINE

if TYPE_CHECKING:
    from ppcti.ingest import Limits, SourceFile
    from ppcti.ingest.lines import LineBatch

#: A quoted field may span this many lines at most before the record counts as broken.
MAX_RECORD_LINES = 1000

#: Characters of a rejected line kept when it is cut (an over-long record).
_PREFIX = 200


@dataclass(frozen=True, slots=True)
class BadSpan:
    """A line that could not be read as (the start of) a record, and why."""

    line: int
    reason: str
    raw: str
    stage: str = "ingest"


class _Overrun(Exception):
    """Internal: the record being read is longer than a record may be."""


class CsvRecords:
    """``(line, fields)`` or :class:`BadSpan` for every record of a CSV file, in order.

    Set :attr:`expected_fields` once the header is known: only then can a multi-line record be told
    from an unbalanced quote.
    """

    def __init__(self, source: SourceFile, limits: Limits, *, delimiter: str, quotechar: str = '"') -> None:
        self.source = source
        self.limits = limits
        self.delimiter = delimiter
        self.quotechar = quotechar
        self.expected_fields: int | None = None
        self.max_record_bytes = limits.max_line_bytes
        self._spans: deque[BadSpan] = deque()
        self._replay: deque[tuple[int, str]] = deque()
        self._current: list[tuple[int, str]] = []
        self._size = 0

    @property
    def between_records(self) -> bool:
        """Whether the next line read starts a record (no record is part-read, no line waits for a
        second reading)."""
        return not self._current and not self._replay

    def _physical(self, batches: Iterable[LineBatch]) -> Iterator[tuple[int, str]]:
        """Numbered lines; over-long and binary ones become spans instead."""
        too_long = f"line longer than {self.limits.max_line_bytes} bytes"
        for batch in batches:
            for number, text in enumerate(batch.lines, batch.start_line):
                if "\x00" in text:  # text never holds NUL
                    self._spans.append(BadSpan(number, BINARY_LINE, text[:_PREFIX]))
                    continue
                yield number, text
            for number, prefix in batch.oversized:
                self._spans.append(BadSpan(number, too_long, prefix))

    def _feed(self, lines: Iterator[tuple[int, str]]) -> Iterator[str]:
        while True:
            if self._replay:
                item = self._replay.popleft()
            else:
                found = next(lines, None)
                if found is None:
                    return
                item = found
            self._current.append(item)
            self._size += len(item[1])
            if len(self._current) > 1 and (
                len(self._current) > MAX_RECORD_LINES or self._size > self.max_record_bytes
            ):
                raise _Overrun
            yield item[1] + "\n"

    def _resync(self, reason: str, *, cut: bool = False) -> BadSpan:
        """Reject the first line of the record being read; read its other lines again."""
        (first, text), rest = self._current[0], self._current[1:]
        self._replay.extendleft(reversed(rest))
        self._current, self._size = [], 0
        return BadSpan(first, reason, text[:_PREFIX] if cut else text)

    def __iter__(self) -> Iterator[tuple[int, list[str]] | BadSpan]:
        return self.read(self.source.iter_line_batches(self.limits))

    def read(self, batches: Iterable[LineBatch]) -> Iterator[tuple[int, list[str]] | BadSpan]:
        """The records of ``batches``, the file's lines in order (or a run of them that starts a record:
        the compiled reader hands the lines it cannot decide to the reference this way, and the state
        between records, the header's field count, carries over from one run to the next)."""
        lines = self._physical(batches)
        while True:
            feed = self._feed(lines)
            reader = csv.reader(feed, **self._dialect())
            try:
                for fields in reader:
                    yield from self._drain()
                    current = self._current
                    expected = self.expected_fields
                    if len(current) > 1 and expected is None:
                        # a header never spans lines: read its first line alone, the others again
                        (first, text), rest = current[0], current[1:]
                        self._replay.extendleft(reversed(rest))
                        self._current, self._size = [], 0
                        # the quote that opened is unbalanced: taken as a character of the name
                        yield (
                            first,
                            next(csv.reader([text], delimiter=self.delimiter, quoting=csv.QUOTE_NONE), []),
                        )
                        break
                    if len(current) > 1 and expected is not None and len(fields) != expected:
                        yield self._resync(
                            f"unbalanced quote: a record over {len(current)} lines does not fit the header"
                        )
                        break  # a fresh reader: the replayed lines start a new record
                    self._current, self._size = [], 0
                    yield current[0][0], fields
                else:
                    yield from self._drain()
                    if not self._replay:
                        return
            except _Overrun:
                yield from self._drain()
                yield self._resync(
                    f"unbalanced quote: record longer than {MAX_RECORD_LINES} lines or "
                    f"{self.max_record_bytes} bytes",
                    cut=True,
                )
            except csv.Error as exc:
                yield from self._drain()
                if not self._current:
                    return
                yield self._resync(f"unreadable CSV record ({_csv_reason(exc)})", cut=True)

    def _dialect(self) -> dict[str, Any]:
        return {
            "delimiter": self.delimiter,
            "quotechar": self.quotechar,
            "doublequote": True,
            "strict": False,
        }

    def _drain(self) -> Iterator[BadSpan]:
        while self._spans:
            yield self._spans.popleft()


def _csv_reason(exc: csv.Error) -> str:
    """The csv module's complaint without numbers from the data (``field larger than field limit``)."""
    text = str(exc)
    return text.split(" (", 1)[0] if text else "csv error"
