"""What a file is, judged from its bytes: encoding, then kind (JSON, NDJSON, CSV/TSV, text).

Extensions lie (exports named ``.txt`` that are CSV, ``.json`` files that are NDJSON, spreadsheets named
``.dat``), so the extension is only a tie-breaker where the content is ambiguous. The encoding is
checked over the *whole* file, not a sample: a cp1252 export whose first accented name is on line
50,000 would otherwise be decoded as UTF-8 with replacement characters and lose data silently.

Text versus binary is decided here only (:func:`detect_encoding`), on the share of control bytes over
a sample of the whole file; a mostly-text file is read as text and its few bad lines are rejected by
the line readers. A file that is not text is refused (:class:`~ppcti.errors.FormatError` carrying
the reason); nothing here ever quotes file content in a message.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

import orjson

from ppcti.errors import FormatError
from ppcti.ingest import textcodec as _textcodec
from ppcti.ingest.jsonrecords import BadRecord, iter_json_records

#: Bytes of a file read to judge its kind (the encoding check reads everything).
SAMPLE_BYTES = 65536

#: Chunk size of the whole-file encoding check.
_CHUNK = 8 * 1024**2
#: Read size of its check for ASCII chunks (:func:`_ascii_chunks`): well inside the CPU's cache.
_PIECE = 256 * 1024

#: More than this share of control bytes over a sample of the whole file means binary, not text.
#: Random or compressed bytes hold about 10.5 %; a log with a few lines of NULs far less.
MAX_CONTROL_SHARE = 0.05

#: Bytes that text never holds: C0 controls except tab, LF, VT, FF, CR, ESC and the separators
#: 0x1c-0x1e (which real log fields use), and DEL.
CONTROL_BYTES = bytes([*range(0x00, 0x09), *range(0x0E, 0x1B), 0x1F, 0x7F])

_CONTROL_CHARS = dict.fromkeys(CONTROL_BYTES)

#: A file up to this size is sampled whole; a larger one at :data:`_PROBES` places of
#: :data:`_PROBE_BYTES` each, besides its head.
_WHOLE_SAMPLE_BYTES = 1024**2
_PROBES = 16
_PROBE_BYTES = 16384

#: Lines of the sample used for NDJSON and CSV sniffing.
_SNIFF_LINES = 200

CSV_DELIMITERS = (",", ";", "\t", "|")
_CSV_EXTENSIONS = {".csv", ".tsv", ".tab", ".psv"}
_NDJSON_EXTENSIONS = {".jsonl", ".ndjson"}

#: Magic numbers of binary formats people upload by mistake, so the refusal can say what it was.
_BINARY_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x1f\x8b", "gzip archive (unsupported: upload a ZIP)"),
    (b"BZh", "bzip2 archive (unsupported: upload a ZIP)"),
    (b"\xfd7zXZ\x00", "xz archive (unsupported: upload a ZIP)"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip archive (unsupported: upload a ZIP)"),
    (b"Rar!\x1a\x07", "RAR archive (unsupported: upload a ZIP)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "legacy Office document (unsupported: save as XLSX or CSV)"),
    (b"%PDF-", "PDF document (unsupported)"),
    (b"\x89PNG", "PNG image (unsupported)"),
    (b"\x7fELF", "executable (unsupported)"),
    (b"MZ", "Windows executable (unsupported)"),
)

_BOMS: tuple[tuple[bytes, str, int], ...] = (
    (b"\xef\xbb\xbf", "utf-8-sig", 0),  # the utf-8-sig codec strips its BOM itself
    (b"\xff\xfe\x00\x00", "utf-32-le", 4),  # before UTF-16 LE, whose BOM is its prefix
    (b"\x00\x00\xfe\xff", "utf-32-be", 4),
    (b"\xff\xfe", "utf-16-le", 2),
    (b"\xfe\xff", "utf-16-be", 2),
)

_DATA_LIKE = re.compile(r"@|^[\d\s.:/+-]*\d[\d\s.:/+-]*$")


@dataclass(frozen=True, slots=True)
class CsvDialect:
    """How to read a CSV/TSV file, as found by sniffing a sample.

    ``has_header`` is a hint: true when the first row holds no data-like value (an e-mail address, a
    number, a date, an IP) in a column where later rows do.
    """

    delimiter: str
    quotechar: str = '"'
    has_header: bool = False

    def reader_kwargs(self) -> dict[str, object]:
        """Keyword arguments for :func:`csv.reader` that read this dialect without raising on bad rows."""
        return {
            "delimiter": self.delimiter,
            "quotechar": self.quotechar,
            "doublequote": True,
            "strict": False,
        }


@dataclass(frozen=True, slots=True)
class TextEncoding:
    """The codec to read a file with, the BOM bytes to skip, and any warning about the choice."""

    encoding: str
    skip_bytes: int = 0
    warning: str | None = None


def read_head(path: Path, max_bytes: int = SAMPLE_BYTES) -> bytes:
    with path.open("rb") as fh:
        return fh.read(max_bytes)


def _decodes(path: Path, encoding: str, skip_bytes: int) -> bool:
    """Whether the whole file decodes strictly, read in chunks (bounded memory)."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        with path.open("rb") as fh:
            fh.seek(skip_bytes)
            while chunk := fh.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", True)
    except UnicodeDecodeError:
        return False
    return True


def _utf16_without_bom(head: bytes) -> str | None:
    """UTF-16 of mostly-ASCII text has a NUL in every other byte: odd bytes for LE, even bytes for BE."""
    if len(head) < 4:
        return None
    even, odd = head[0::2], head[1::2]
    even_nul, odd_nul = even.count(0) / len(even), odd.count(0) / len(odd)
    if odd_nul > 0.3 and even_nul < 0.02:
        return "utf-16-le"
    if even_nul > 0.3 and odd_nul < 0.02:
        return "utf-16-be"
    return None


def spread_sample(path: Path, head: bytes, size: int | None = None) -> bytes:
    """The head plus :data:`_PROBES` slices spread evenly over the rest of the file.

    Judging a file by its first bytes alone refuses a 2,000-line log whose first line holds the NUL
    bytes an unclean shutdown leaves, and accepts a text header glued onto a binary blob.
    """
    size = path.stat().st_size if size is None else size
    if size <= len(head):
        return head
    if size <= _WHOLE_SAMPLE_BYTES:
        return path.read_bytes()
    parts = [head]
    step = (size - len(head)) // _PROBES
    with path.open("rb") as fh:
        for i in range(1, _PROBES + 1):
            fh.seek(min(len(head) + i * step, size) - _PROBE_BYTES)
            parts.append(fh.read(_PROBE_BYTES))
    return b"".join(parts)


def control_share(data: bytes) -> float:
    """Share of bytes in ``data`` that text never holds (see :data:`CONTROL_BYTES`)."""
    if not data:
        return 0.0
    return (len(data) - len(data.translate(None, CONTROL_BYTES))) / len(data)


def _scan_lines(path: Path, skip_bytes: int = 0) -> _textcodec.LineCounts:
    """Read the whole file once (in chunks of whole lines) and count UTF-8 and non-UTF-8 lines."""
    counts = _textcodec.LineCounts()
    with path.open("rb") as fh:
        fh.seek(skip_bytes)
        start = _ascii_chunks(fh)
        if start is None:
            return counts  # ASCII, as most logs are: nothing to count
        fh.seek(start)
        rest = b""
        while chunk := fh.read(_CHUNK):
            if not rest and chunk.isascii():
                continue  # nothing to count, no copy (a line cut here by the chunk's end is judged
                # by its rest alone, which decodes the same)
            data = rest + chunk if rest else chunk
            cut = data.rfind(b"\n") + 1
            if cut == 0 and len(data) < _CHUNK:
                rest = data
                continue
            cut = cut or len(data)  # a line longer than a chunk: judged in pieces
            _textcodec.count_lines(data[:cut], counts)
            rest = data[cut:]
    _textcodec.count_lines(rest, counts)
    return counts


def _ascii_chunks(fh: BinaryIO) -> int | None:
    """Skip the chunks of :data:`_CHUNK` bytes from ``fh``'s position on that are all ASCII; the
    offset of the first that is not, or None at the end of the file.

    Each chunk is read in pieces of at most :data:`_PIECE` bytes into one small buffer, reused: fresh
    memory for every chunk cost this machine more to touch (page faults) than the read itself, and
    a piece stays in the CPU's cache for its check.
    """
    size = min(_CHUNK, _PIECE)
    buffer = bytearray(size)
    view = memoryview(buffer)
    while True:
        start = fh.tell()
        left = _CHUNK
        while left:
            n = fh.readinto(view[: min(size, left)])
            if not n:
                return None  # the end: the last chunk, short or empty, was ASCII too
            if not (buffer if n == size else buffer[:n]).isascii():
                return start
            left -= n


def detect_encoding(path: Path, head: bytes | None = None, size: int | None = None) -> TextEncoding:
    """Pick the codec of a text file, or raise :class:`FormatError` when it is not text.

    This is the one place that decides text versus binary. Order: BOM; known binary magic; UTF-16
    without BOM (a NUL in every other byte); the share of control bytes over a sample spread across the
    whole file (over :data:`MAX_CONTROL_SHARE` is binary; below, the file is text and the readers reject
    the few lines that hold such bytes); then a whole-file pass over the lines: all UTF-8 is
    ``utf-8``; no UTF-8 beyond ASCII at all is cp1252 (Windows exports), else latin-1, which decodes
    any byte; both kinds of line is the per-line codec :data:`ppcti.ingest.textcodec.NAME`. The last
    three carry a warning; the original bytes stay untouched on disk either way.
    """
    if head is None:
        head = read_head(path)
    for bom, encoding, skip in _BOMS:
        if head.startswith(bom):
            warning = None
            if not _decodes(path, encoding, skip):
                warning = f"invalid {encoding} sequences replaced with U+FFFD; original bytes kept at {path}"
            return TextEncoding(encoding, skip, warning)
    for magic, what in _BINARY_MAGIC:
        if head.startswith(magic) and (magic != b"MZ" or b"\x00" in head):
            raise FormatError(f"unrecognised binary content: {what}")
    if b"\x00" in head:
        encoding16 = _utf16_without_bom(head)
        if encoding16 is not None:
            text = codecs.decode(head[: len(head) // 2 * 2], encoding16, "replace")
            text_share = 1 - len(text.translate(_CONTROL_CHARS)) / max(len(text), 1)
            if text_share > MAX_CONTROL_SHARE:
                raise FormatError("unrecognised binary content")
            warning = f"UTF-16 without byte-order mark: read as {encoding16}"
            if not _decodes(path, encoding16, 0):
                warning += f"; invalid sequences replaced with U+FFFD; original bytes kept at {path}"
            return TextEncoding(encoding16, 0, warning)
    share = control_share(spread_sample(path, head, size))
    if share > MAX_CONTROL_SHARE:
        raise FormatError("unrecognised binary content")
    counts = _scan_lines(path)
    if not counts.fallback_lines:
        return TextEncoding("utf-8")
    if counts.utf8_seen:
        return TextEncoding(
            _textcodec.NAME,
            0,
            f"mixed encodings: {counts.fallback_lines} lines not valid UTF-8 decoded as cp1252 (else "
            f"latin-1), the others as UTF-8; original bytes kept at {path}",
        )
    fallback = "cp1252" if _decodes(path, "cp1252", 0) else "latin-1"
    return TextEncoding(
        fallback, 0, f"not valid UTF-8/UTF-16: decoded as {fallback}; original bytes kept at {path}"
    )


def decode_head(head: bytes, encoding: TextEncoding) -> str:
    """Decode a file's first bytes, dropping a character cut in half at the end of the sample."""
    decoder = codecs.getincrementaldecoder(encoding.encoding)(errors="replace")
    return decoder.decode(head[encoding.skip_bytes :], False)


def _sample_lines(text: str, truncated: bool) -> list[str]:
    lines = text.split("\n")
    if truncated and len(lines) > 1:
        lines.pop()  # cut in the middle
    out = []
    for line in lines:
        line = line.removesuffix("\r")
        if line.strip():
            out.append(line)
            if len(out) >= _SNIFF_LINES:
                break
    return out


#: Share of sampled lines that must be JSON objects for a file to be NDJSON.
_NDJSON_SHARE = 0.5


def _object_lines(lines: list[str]) -> int:
    count = 0
    for line in lines:
        with contextlib.suppress(orjson.JSONDecodeError):
            count += isinstance(orjson.loads(line), dict)
    return count


def _json_kind(text: str, truncated: bool, suffix: str) -> str | None:
    """``"json"``, ``"ndjson"`` or ``None`` for a sample starting with ``{`` or ``[``."""
    lines = _sample_lines(text, truncated)
    if not truncated:
        try:
            value = json.loads(text)
        except ValueError:
            pass
        else:
            if isinstance(value, dict) and suffix in _NDJSON_EXTENSIONS:
                return "ndjson"
            return "json" if isinstance(value, dict | list) else None
    if lines and _object_lines(lines) >= _NDJSON_SHARE * len(lines):
        # a feed with a few broken records is still NDJSON: the parser rejects those lines one by one
        return "ndjson"
    # Documents one after another (e.g. pretty-printed objects), the head of one large document, or a
    # feed with a broken record: read record by record; most records must decode (the last one may be
    # cut when the sample is)
    good = bad = 0
    last_bad = False
    for item in iter_json_records(text):
        last_bad = isinstance(item, BadRecord)
        if last_bad:
            bad += 1
        elif isinstance(item[1], dict | list):
            good += 1
        else:
            bad += 1  # a number or string where a record belongs: a broken record, not another kind
        if good + bad >= _SNIFF_LINES:
            break
    if truncated and last_bad:
        bad -= 1
    return "json" if good and good >= bad else None


def _looks_like_data(field: str) -> bool:
    return bool(_DATA_LIKE.search(field.strip()))


def sniff_csv(text: str, truncated: bool, suffix: str) -> CsvDialect | None:
    """Find the delimiter among ``, ; TAB |`` that splits the sample into consistent rows.

    A delimiter qualifies when 90 % of rows have at least two fields, most rows (60 %; only 90 % with
    two or more fields for a ``.csv``/``.tsv`` name, since exports with a variable number of e-mail
    columns exist) share one field count, and fields do not start with a blank: prose and text logs
    (``firewall, prerouting: ..., proto TCP``) write ``", "`` while CSV does not.
    """
    lines = _sample_lines(text, truncated)
    min_rows = 1 if suffix in _CSV_EXTENSIONS else 2
    if len(lines) < min_rows:
        return None
    best: tuple[tuple[float, int], str, list[list[str]]] | None = None
    for delimiter in CSV_DELIMITERS:
        if not any(delimiter in line for line in lines):
            continue
        try:
            rows = list(csv.reader(lines, delimiter=delimiter, quotechar='"', strict=False))
        except csv.Error:  # e.g. a NUL character (possible in UTF-16 text)
            continue
        if not rows:
            continue
        counts = [len(row) for row in rows]
        multi = sum(c >= 2 for c in counts) / len(counts)
        modal_count, modal_rows = Counter(counts).most_common(1)[0]
        modal = modal_rows / len(counts)
        later = [field for row in rows for field in row[1:]]
        blank_led = sum(field[:1].isspace() for field in later) / max(len(later), 1)
        if multi < 0.9 or blank_led > 0.5:
            continue
        if modal < 0.6 and suffix not in _CSV_EXTENSIONS:
            continue
        score = (modal, modal_count)
        if best is None or score > best[0]:
            best = (score, delimiter, rows)
    if best is None:
        return None
    _, delimiter, rows = best
    return CsvDialect(delimiter=delimiter, has_header=_has_header(rows))


def _has_header(rows: list[list[str]]) -> bool:
    if len(rows) < 2:
        return False
    first = rows[0]
    if any(not field.strip() or _looks_like_data(field) for field in first):
        return False
    if len(set(first)) != len(first):
        return False
    return any(_looks_like_data(row[i]) for row in rows[1:] for i in range(min(len(row), len(first))))


def detect_kind(text: str, *, truncated: bool, name: str) -> tuple[str, CsvDialect | None]:
    """Kind of a text sample: ``"json"``, ``"ndjson"``, ``"csv"`` (with its dialect) or ``"text"``."""
    suffix = PurePosixPath(name).suffix.lower()
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped[:1] in ("{", "["):
        try:
            kind = _json_kind(stripped, truncated, suffix)
        except RecursionError:  # thousands of nested brackets: not a log export
            kind = None
        if kind is not None:
            return kind, None
    dialect = sniff_csv(text.lstrip("\ufeff"), truncated, suffix)
    if dialect is not None:
        return "csv", dialect
    return "text", None
