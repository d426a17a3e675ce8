"""What a file is, judged from its bytes: encoding, then kind (JSON, NDJSON, CSV/TSV, text).

Extensions lie (exports named ``.txt`` that are CSV, ``.json`` files that are NDJSON, spreadsheets named
``.dat``), so the extension is only a tie-breaker where the content is ambiguous. The encoding is
checked over the *whole* file, not a sample: a cp1252 export whose first accented name is on line
50,000 would otherwise be decoded as UTF-8 with replacement characters and lose data silently.

A file that is not text is refused (:class:`~ppcti.errors.FormatError` carrying the reason); nothing
here ever quotes file content in a message.
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

import orjson

from ppcti.errors import FormatError

#: Bytes of a file read to judge its kind (the encoding check reads everything).
SAMPLE_BYTES = 65536

#: Chunk size of the whole-file encoding check.
_CHUNK = 8 * 1024**2

#: More than this share of control characters in the sample means binary, not text.
_MAX_CONTROL_SHARE = 0.05

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

#: Control characters that do not occur in text (tab, LF, VT, FF, CR and ESC do).
_CONTROL = re.compile("[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]")

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


def detect_encoding(path: Path, head: bytes | None = None) -> TextEncoding:
    """Pick the codec of a text file, or raise :class:`FormatError` when it is not text.

    Order: BOM; known binary magic; NUL bytes (UTF-16 without BOM, else binary); whole-file strict
    UTF-8; cp1252 (Windows exports); latin-1, which decodes any byte. The last two carry a warning; the
    original bytes stay untouched on disk either way.
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
        if encoding16 is None:
            raise FormatError("unrecognised binary content")
        warning = f"UTF-16 without byte-order mark: read as {encoding16}"
        if not _decodes(path, encoding16, 0):
            warning += f"; invalid sequences replaced with U+FFFD; original bytes kept at {path}"
        return TextEncoding(encoding16, 0, warning)
    if _decodes(path, "utf-8", 0):
        return TextEncoding("utf-8")
    fallback = "cp1252" if _decodes(path, "cp1252", 0) else "latin-1"
    return TextEncoding(
        fallback, 0, f"not valid UTF-8/UTF-16: decoded as {fallback}; original bytes kept at {path}"
    )


def decode_head(head: bytes, encoding: TextEncoding) -> str:
    """Decode a file's first bytes, dropping a character cut in half at the end of the sample."""
    decoder = codecs.getincrementaldecoder(encoding.encoding)(errors="replace")
    return decoder.decode(head[encoding.skip_bytes :], False)


def looks_binary(text: str) -> bool:
    """Whether a decoded sample has too many control characters to be a log."""
    if not text:
        return False
    return len(_CONTROL.findall(text)) > _MAX_CONTROL_SHARE * len(text)


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
_NDJSON_SHARE = 0.8


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
    # A stream of concatenated documents (e.g. pretty-printed objects one after another), or the head of
    # one large document: parse value after value; running out of text is fine only when truncated.
    decoder = json.JSONDecoder()
    pos, end = 0, len(text.rstrip())
    while True:
        while pos < end and text[pos].isspace():
            pos += 1
        if pos >= end:
            return "json"
        if text[pos] not in "{[":
            return None
        try:
            _, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            ran_out = exc.msg.startswith("Unterminated string") or exc.pos >= end - 16
            return "json" if truncated and ran_out else None


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
