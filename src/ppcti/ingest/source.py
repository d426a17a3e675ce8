"""One accepted file of an upload: where it is, what it is, and how to stream it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ppcti.ingest import lines as _lines
from ppcti.ingest import xlsx as _xlsx
from ppcti.ingest.detect import CsvDialect, decode_head, read_head
from ppcti.ingest.detect import TextEncoding as _TextEncoding
from ppcti.ingest.limits import Limits

KINDS = ("json", "ndjson", "csv", "text", "xlsx")

#: Byte-order marks the codec of the same name leaves in the text, so readers skip them.
_BOMS = {
    "utf-16-le": b"\xff\xfe",
    "utf-16-be": b"\xfe\xff",
    "utf-32-le": b"\xff\xfe\x00\x00",
    "utf-32-be": b"\x00\x00\xfe\xff",
}


@dataclass(frozen=True)
class SourceFile:
    """A file accepted for processing.

    ``path`` is a safe relative POSIX path (no empty, ``.`` or ``..`` parts), so it can name outputs
    such as ``cleaned/<path>``. ``local_path`` is the bytes on disk: an extracted copy inside the
    upload's working directory for archive members, the original file for directory and single-file
    inputs (only ever read). ``modified`` is the member's time recorded in its ZIP, a hint for
timestamps that lack a date. ``encoding`` is the codec every reader must use; ``warnings`` explain any
    doubt about it.
    """

    path: str
    kind: str
    encoding: str | None
    size: int
    warnings: tuple[str, ...]
    local_path: Path
    csv_dialect: CsvDialect | None = None
    #: When the archive says the file was last modified (naive, as ZIP stores it); None outside ZIPs.
    modified: datetime | None = None

    def _skip_bytes(self) -> int:
        bom = _BOMS.get(self.encoding or "")
        return len(bom) if bom and read_head(self.local_path, len(bom)) == bom else 0

    def sample_text(self, max_bytes: int = 65536) -> str:
        """The decoded head of the file (for XLSX: the first rows as CSV text), for format scoring."""
        if self.kind == "xlsx":
            return _xlsx.sample_text(self.local_path, max_bytes)
        assert self.encoding is not None
        head = read_head(self.local_path, max_bytes)
        return decode_head(head, _TextEncoding(self.encoding, self._skip_bytes()))

    def iter_line_batches(self, limits: Limits, batch_bytes: int = 8 * 1024**2) -> Iterator[_lines.LineBatch]:
        """Stream the file as :class:`~ppcti.ingest.lines.LineBatch` objects (see its numbering rule).

        Memory stays around ``batch_bytes`` plus ``limits.max_line_bytes`` whatever the file size.
        """
        if self.kind == "xlsx":
            raise ValueError(f"{self.path}: an XLSX file has rows, not lines: use iter_xlsx_rows()")
        assert self.encoding is not None
        return _lines.iter_line_batches(
            self.local_path,
            self.encoding,
            max_line_bytes=limits.max_line_bytes,
            batch_bytes=batch_bytes,
            skip_bytes=self._skip_bytes(),
        )

    def iter_xlsx_rows(self) -> Iterator[tuple[str, int, list[object]]]:
        """``(sheet name, 1-based row number, cell values)`` streamed with openpyxl in read-only mode."""
        if self.kind != "xlsx":
            raise ValueError(f"{self.path}: not an XLSX file (kind {self.kind!r})")
        return _xlsx.iter_rows(self.local_path)
