"""``events-json``: JSON security event feeds (JSON arrays, single documents, NDJSON).

Fields are pulled out with declarative mappings (:mod:`ppcti.formats.mapping`); Suricata EVE, Elastic
Common Schema and Zeek ship built in, and each record is matched to the mapping whose identifying keys it
carries, so a feed that mixes shapes still parses. For NDJSON ``line`` is the file's line number; for a
JSON array or document it is the record's 1-based position, since a parsed array keeps no line numbers.
NDJSON streams in batches; a JSON array up to 64 MiB is read in one orjson call, a larger one streams
through ijson's C parser after a first streaming pass has found it well-formed. A single JSON document,
or an array ijson refuses, is read whole; one that orjson refuses too is read record by record
(:mod:`ppcti.ingest.jsonrecords`: a truncated record, documents one after another, a ``NaN``), so one
broken record costs one reject, not the file.
"""

from __future__ import annotations

import codecs
import ipaddress
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

import orjson
import polars as pl

from ppcti.clean.emails import clean_email
from ppcti.clean.mac import normalise_mac
from ppcti.clean.timestamps import TimeContext, to_stix_timestamp
from ppcti.formats._events_native import native_reader, read_lines, read_records
from ppcti.formats.base import BATCH_COLUMNS, ParsedBatch, ParseOptions
from ppcti.formats.mapping import EXTRA_FIELDS, Mapping, builtin_mappings, flatten
from ppcti.ingest.jsonrecords import BadRecord, iter_json_records
from ppcti.model import Reject

if TYPE_CHECKING:
    from ppcti.ingest import SourceFile

EXTRA_TYPE = pl.Struct(
    {"mapping": pl.String(), **{name: pl.String() for name in EXTRA_FIELDS}, "mac_malformed": pl.Boolean()}
)
_BATCH_RECORDS = 50_000
#: Arrays up to this size are read in one orjson call (:func:`_whole_array`): the parsed document takes
#: about six times the file in memory (about 400 MB at the limit). Larger ones stream, so memory holds
#: one batch of records rather than the document.
WHOLE_ARRAY_MAX = 64 * 1024 * 1024
_UTF8_NAMES = frozenset({"utf-8", "utf8", "ascii", "utf-8-sig"})
#: Digits made one, so that a run of 19 digits is one ``bytes.find`` (a regular expression took as
#: long as parsing the array).
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
#: Below this share of identifying keys a record matches no mapping.
_MIN_MATCH = 0.5


@lru_cache(maxsize=65536)
def canonical_ip(value: str) -> str | None:
    """Canonical text of an IP address (compressed IPv6), or ``None``."""
    try:
        return str(ipaddress.ip_address(value.strip().strip("[]")))
    except ValueError:
        return None


@lru_cache(maxsize=4096)
def _mac(value: str) -> str | None:
    return normalise_mac(value)


class EventsJson:
    name = "events-json"
    description = "JSON event feeds: Suricata EVE, Elastic Common Schema, Zeek, or a mapping of your own."
    #: "text" too: an NDJSON feed with a few broken lines does not sniff as NDJSON, and is still one.
    kinds = frozenset({"json", "ndjson", "text"})

    def __init__(self, mappings: tuple[Mapping, ...] | None = None) -> None:
        self._mappings = mappings

    @property
    def mappings(self) -> tuple[Mapping, ...]:
        return self._mappings if self._mappings is not None else builtin_mappings()

    def cleaned_name(self, source: SourceFile) -> str:
        path = PurePosixPath(source.path)
        return str(path.with_suffix(".jsonl")) if path.suffix != ".jsonl" else source.path

    def score(self, source: SourceFile, sample: str) -> float:
        if source.kind == "text":
            lines = [ln.strip() for ln in sample.splitlines()[:200] if ln.strip()]
            objects = sum(1 for ln in lines if ln.startswith("{") and ln.endswith("}"))
            if not lines or objects / len(lines) < 0.5:
                return 0.0
            return round(self._shape_score(sample) * objects / len(lines), 3)
        return self._shape_score(sample)

    def _shape_score(self, sample: str) -> float:
        best = 0.0
        for mapping in self.mappings:
            found = sum(1 for key in mapping.signature if f'"{key}"' in sample or _nested_hint(key, sample))
            best = max(best, found / len(mapping.signature))
        return round(best, 3)

    def parse(self, source: SourceFile, options: ParseOptions) -> Iterator[ParsedBatch]:
        builder = _Builder(source.path, options.json_mappings + self.mappings, options.time)
        if source.kind != "json":
            yield from self._parse_ndjson(source, options, builder)
            return
        if _first_byte(source) == b"[":
            whole = _whole_array(source)
            if whole is not None:
                yield from self._parse_list(whole, options, builder)
                return
            if _well_formed(source):
                yield from self._parse_array(source, options, builder)
                return
        # a single document, or an array ijson refuses (an integer of 2**63 or more, which orjson still
        # reads up to 2**64 - 1, or a broken record): read whole, and record by record if orjson refuses
        with open(source.local_path, "rb") as handle:
            data = _to_utf8(handle.read(), source.encoding)
        try:
            document = orjson.loads(data)
        except orjson.JSONDecodeError:
            # not one document: a truncated record, documents one after another, a NaN... each broken
            # record costs one reject, and the records around it are read
            text = data.decode("utf-8", "replace").removeprefix("\ufeff")
            del data
            yield from self._parse_records(text, builder)
            return
        records = document if isinstance(document, list) else [document]
        for start in range(0, len(records), _BATCH_RECORDS):
            for index, record in enumerate(records[start : start + _BATCH_RECORDS], start=start + 1):
                builder.add(index, record)
            yield builder.flush()

    def _parse_records(self, text: str, builder: _Builder) -> Iterator[ParsedBatch]:
        for item in iter_json_records(text):
            if isinstance(item, BadRecord):
                builder.rejects.append(Reject(builder.path, item.index, item.reason, item.raw))
            else:
                builder.add(*item)
            if builder.size >= _BATCH_RECORDS:
                yield builder.flush()
        yield builder.flush()

    def _parse_list(
        self, records: Iterable[Any], options: ParseOptions, builder: _Builder
    ) -> Iterator[ParsedBatch]:
        """The records of a top-level array, read whole (:func:`_whole_array`) or streamed."""
        reader = native_reader(builder.mappings, options.time)
        numbered = enumerate(records, start=1)
        if reader is not None:
            yield from read_records(reader, numbered, builder, _BATCH_RECORDS)
            return
        for index, record in numbered:
            builder.add(index, record)
            if builder.size >= _BATCH_RECORDS:
                yield builder.flush()
        yield builder.flush()

    def _parse_array(
        self, source: SourceFile, options: ParseOptions, builder: _Builder
    ) -> Iterator[ParsedBatch]:
        """The records of a top-level array, streamed: memory holds one batch, not the document."""
        import ijson  # imported here: its import costs as much as reading a small NDJSON file

        with _utf8_stream(source) as stream:
            yield from self._parse_list(ijson.items(stream, "item", use_float=True), options, builder)

    def _parse_ndjson(
        self, source: SourceFile, options: ParseOptions, builder: _Builder
    ) -> Iterator[ParsedBatch]:
        from ppcti.formats._lines import BINARY_LINE, chunk_frame, iter_line_chunks
        from ppcti.ingest import Limits

        limits = options.limits or Limits()
        reader = native_reader(builder.mappings, options.time)
        for chunk in iter_line_chunks(
            source, batch_bytes=options.batch_bytes, max_line_bytes=limits.max_line_bytes
        ):
            for line, prefix in chunk.binary:
                builder.rejects.append(Reject(source.path, line, BINARY_LINE, prefix, "ingest"))
                builder.notes["blank_lines"] -= 1  # emptied by the reader, rejected here
            for line, prefix in chunk.oversized:
                builder.rejects.append(
                    Reject(
                        source.path, line, f"line longer than {limits.max_line_bytes} bytes", prefix, "ingest"
                    )
                )
            if reader is not None:
                yield read_lines(reader, chunk, builder)
                continue
            for line, text in chunk_frame(chunk).select("line", "text").iter_rows():
                builder.add_line(line, text)
                if builder.size >= _BATCH_RECORDS:
                    yield builder.flush()
            yield builder.flush()


def _nested_hint(key: str, sample: str) -> bool:
    """``source.ip`` written nested: ``"source": {... "ip"``."""
    head, _, tail = key.partition(".")
    return bool(tail) and f'"{head}"' in sample and f'"{tail.split(".")[-1]}"' in sample


def _to_utf8(data: bytes, encoding: str | None) -> bytes:
    if encoding in (None, "utf-8", "utf8", "ascii"):
        return data
    if encoding == "utf-8-sig":
        return data.removeprefix(b"\xef\xbb\xbf")
    return data.decode(encoding, "replace").encode("utf-8")


class _Utf8Reader:
    """A binary stream of another encoding, read as UTF-8 bytes (what ijson parses)."""

    def __init__(self, raw: Any, encoding: str) -> None:
        self._raw = raw
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        self._start = True

    def read(self, size: int = -1) -> bytes:
        if size == 0:  # ijson probes the stream's type with read(0)
            return b""
        while True:
            chunk = self._raw.read(size if size > 0 else -1)
            text = self._decoder.decode(chunk, final=not chunk)
            if self._start and text:
                text = text.removeprefix("\ufeff")  # a byte-order mark the codec kept
                self._start = False
            if text or not chunk:
                return text.encode("utf-8")


@contextmanager
def _utf8_stream(source: SourceFile) -> Iterator[Any]:
    """The file as a stream of UTF-8 bytes without a byte-order mark."""
    encoding = (source.encoding or "utf-8").lower()
    with open(source.local_path, "rb") as handle:
        if encoding in ("utf-8", "utf8", "ascii", "utf-8-sig"):
            if handle.read(3) != codecs.BOM_UTF8:
                handle.seek(0)
            yield handle
        else:
            yield _Utf8Reader(handle, encoding)


def _first_byte(source: SourceFile) -> bytes:
    """The first character that is not white space, as UTF-8 (``[`` for an array)."""
    with _utf8_stream(source) as stream:
        head = stream.read(4096)
        while head and not head.strip():
            head = stream.read(4096)
    return head.lstrip()[:1]


def _whole_array(source: SourceFile) -> list[Any] | None:
    """The records of a top-level array of at most :data:`WHOLE_ARRAY_MAX` bytes, in one orjson call; or
    ``None``, and the streaming path decides as before.

    The streaming path parses the array twice with ijson (is it well-formed? then its records), which
    cost more than the rest of reading it. orjson gives the same values wherever both accept the text;
    where they differ, ``None`` leaves the file to the streaming path: a text orjson refuses (a lone
    surrogate, which ijson reads as '?'), and one with 19 digits in a row anywhere, even in a string or a
    fraction (ijson refuses integers outside 64 bits and the whole array with them, orjson does not).
    """
    if (source.encoding or "utf-8").lower() not in _UTF8_NAMES or source.size > WHOLE_ARRAY_MAX:
        return None
    with open(source.local_path, "rb") as handle:
        data = handle.read().removeprefix(codecs.BOM_UTF8)
    if data.translate(_DIGITS_AS_ZERO).find(b"0" * 19) >= 0:
        return None
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    return document if isinstance(document, list) else None


def _well_formed(source: SourceFile) -> bool:
    """Whether the whole file is one valid JSON document: a streaming pass, so memory stays flat."""
    import ijson

    try:
        with _utf8_stream(source) as stream:
            for _ in ijson.items(stream, "item", use_float=True):
                pass
    except (ijson.JSONError, ValueError):
        return False
    return True


def _json_text(value: Any) -> str:
    """``value`` as JSON text. orjson writes 255 levels of nesting at most, and a record from a parsed
    array can be deeper: Python's encoder takes over, and past its recursion limit a marker stands in."""
    try:
        return orjson.dumps(value).decode()
    except (TypeError, orjson.JSONEncodeError):
        try:
            return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        except RecursionError:
            return '"(nested too deeply to write back)"'


def _where(exc: orjson.JSONDecodeError) -> str:
    """The parser's complaint without its position: the reject already names the line, and reasons
    that differ only by column would scatter the summary's rejects-by-reason table."""
    return exc.msg


_BATCH_SCHEMA: dict[str, pl.DataType] = {**BATCH_COLUMNS, "extra": EXTRA_TYPE, "raw": pl.String()}
#: a batch without rows, copied (``clear``) for each batch the reference has no row of
_EMPTY_BATCH = pl.DataFrame(schema=_BATCH_SCHEMA)


class _Builder:
    """Turns records into column lists; flushes them as a batch frame."""

    def __init__(self, path: str, mappings: tuple[Mapping, ...], time: TimeContext) -> None:
        self.path = path
        self.mappings = mappings
        self.time = time
        self.rows: list[tuple[Any, ...]] = []
        self.rejects: list[Reject] = []
        self.notes: Counter[str] = Counter()
        self._shapes: dict[frozenset[str], Mapping | None] = {}

    @property
    def size(self) -> int:
        return len(self.rows)

    def add_line(self, line: int, text: str | None) -> None:
        """One NDJSON line: blank, not JSON (a reject), or a record for :meth:`add`."""
        if text is None or not text.strip():
            self.notes["blank_lines"] += 1
            return
        try:
            record = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            self.rejects.append(Reject(self.path, line, f"not valid JSON: {_where(exc)}", text))
            return
        self.add(line, record, raw=text)

    def add(self, line: int, record: Any, raw: str | None = None) -> None:
        raw_text = raw if raw is not None else _json_text(record)
        if not isinstance(record, dict):
            self.rejects.append(Reject(self.path, line, "record is not a JSON object", raw_text[:2000]))
            return
        flat = flatten(record)
        mapping = self._pick(frozenset(flat))
        if mapping is None:
            self.rejects.append(Reject(self.path, line, "no mapping recognises this record", raw_text[:2000]))
            return
        src_ip = _ip(mapping.first(flat, "src_ip"))
        dst_ip = _ip(mapping.first(flat, "dst_ip"))
        emails = list(
            dict.fromkeys(e for e in (clean_email(str(v)) for v in mapping.values(flat, "emails")) if e)
        )
        if src_ip is None and dst_ip is None and not emails:
            self.rejects.append(Reject(self.path, line, "no valid source or destination address", raw_text))
            return
        raw_time = mapping.first(flat, "timestamp")
        timestamp = to_stix_timestamp(raw_time, self.time) if raw_time is not None else None
        if timestamp is None:
            reason = "no timestamp" if raw_time is None else "invalid timestamp"
            self.rejects.append(Reject(self.path, line, reason, raw_text))
            return
        mac_raw = mapping.first(flat, "src_mac")
        src_mac = _mac(str(mac_raw)) if mac_raw is not None else None
        if mac_raw is not None and src_mac is None:
            self.notes["malformed_mac"] += 1
        dst_mac_raw = mapping.first(flat, "dst_mac", extra=True)
        extra = {"mapping": mapping.name}
        for name in EXTRA_FIELDS:
            value = mapping.first(flat, name, extra=True)
            extra[name] = None if value is None else (value if isinstance(value, str) else _json_text(value))
        extra["dst_mac"] = _mac(str(dst_mac_raw)) if dst_mac_raw is not None else None
        extra["mac_malformed"] = True if (mac_raw is not None and src_mac is None) else None
        protocol = mapping.first(flat, "protocol")
        self.rows.append(
            (
                line,
                timestamp,
                src_ip,
                _port(mapping.first(flat, "src_port")),
                dst_ip,
                _port(mapping.first(flat, "dst_port")),
                None,
                str(protocol).upper() if protocol is not None else None,
                src_mac,
                emails or None,
                extra,
                raw_text,
            )
        )

    def _pick(self, keys: frozenset[str]) -> Mapping | None:
        """The best mapping for a record shape; a feed repeats a few shapes, so choices are cached."""
        if keys in self._shapes:
            return self._shapes[keys]
        best, best_score = None, 0.0
        for mapping in self.mappings:
            score = mapping.score(keys)
            if score > best_score:
                best, best_score = mapping, score
        choice = best if best_score >= _MIN_MATCH else None
        if len(self._shapes) < 4096:
            self._shapes[keys] = choice
        return choice

    def flush(self) -> ParsedBatch:
        if self.rows:
            columns = zip(*self.rows, strict=True)
            frame = pl.DataFrame(
                {name: list(col) for name, col in zip(_BATCH_SCHEMA, columns, strict=True)},
                schema=_BATCH_SCHEMA,
            )
        else:
            # with the compiled reader most batches have no row of the reference's: an empty frame of
            # the schema, without building twelve empty columns (a struct of twenty fields) each time
            frame = _EMPTY_BATCH.clear()
        batch = ParsedBatch(events=frame, rejects=self.rejects, notes=self.notes)
        self.rows, self.rejects, self.notes = [], [], Counter()
        return batch


def _ip(value: Any) -> str | None:
    return canonical_ip(value) if isinstance(value, str) else None


def _port(value: Any) -> int | None:
    try:
        port = int(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: 1e400 reads as an infinite float
        return None
    return port if 0 <= port <= 65535 else None
