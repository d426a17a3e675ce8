"""The compiled NDJSON reader of ``events-json`` (``ppcti_native.EventsReader``), and how its rows join
the reference's.

The reference (:meth:`ppcti.formats.events_json._Builder.add_line`) reads a line with orjson and a
record with Python dictionaries, about 20 µs a line. The compiled reader is handed each chunk of the
file as bytes (:func:`read_lines`), splits the lines itself, scans each once, and decides the lines whose
every value it is certain of; it hands back the others (IPv6, e-mail fields, floats in ``extra``, escaped
keys, unusual timestamps...) with their text, and the reference reads them. Its events come back already
in the batch schema, their raw text views into the chunk. The two parts of a chunk are merged in line
order into one batch, so a batch holds what the reference alone would give. A chunk the reader does not
split the way :func:`ppcti.formats._lines.chunk_frame` does (a carriage return, invalid UTF-8...) goes
through that frame of lines (:func:`read_chunk`), as do the records of a JSON array, as the text orjson
writes for each (:func:`read_records`). ``tests/formats/test_events_native.py`` proves the outputs
byte-identical.
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Iterable, Iterator
from functools import partial
from itertools import starmap
from typing import TYPE_CHECKING, Any

import orjson
import polars as pl

from ppcti.formats._lines import LineChunk, chunk_frame
from ppcti.formats.base import ParsedBatch
from ppcti.formats.mapping import EXTRA_FIELDS, Mapping
from ppcti.model import Reject
from ppcti.native import native_module

if TYPE_CHECKING:
    from ppcti.clean.timestamps import TimeContext
    from ppcti.formats.events_json import _Builder

_log = logging.getLogger(__name__)


def native_reader(mappings: tuple[Mapping, ...], time: TimeContext) -> Any | None:
    """The compiled reader for these mappings, or None (not built, switched off, a stale build).

    Outside UTC, timestamps written without an offset are left to the reference line by line.
    """
    module = native_module()
    if module is None or not hasattr(module, "EventsReader"):
        return None
    specs = [
        (
            m.name,
            list(m.signature),
            {k: list(v) for k, v in m.fields.items()},
            {k: list(v) for k, v in m.extra.items()},
        )
        for m in mappings
    ]
    try:
        return module.EventsReader(specs, list(EXTRA_FIELDS), time.timezone == "UTC")
    except (TypeError, ValueError) as exc:
        _log.warning("compiled events-json reader not used: %s", exc)
        return None


def read_lines(reader: Any, chunk: LineChunk, builder: _Builder) -> ParsedBatch:
    """One chunk of an NDJSON file (:class:`LineChunk`) as one batch. The compiled reader splits the
    lines itself and keeps its events' raw text as views into the chunk; a chunk it would not split as
    :func:`chunk_frame` does (carriage returns, invalid UTF-8...) goes through the frame of lines."""
    result = reader.read_bytes(chunk.data, chunk.first_line)
    if result is None:
        return read_chunk(reader, chunk_frame(chunk).select("line", "text"), builder)
    table, rejects, fallback, blank, malformed = result
    builder.notes["blank_lines"] += blank
    builder.notes["malformed_mac"] += malformed
    for line, text in fallback:
        builder.add_line(line, text)
    # in line order, as the reader met them
    return _join(table, builder, list(starmap(partial(Reject, builder.path), rejects)))


def read_chunk(reader: Any, frame: pl.DataFrame, builder: _Builder) -> ParsedBatch:
    """One chunk of NDJSON lines (``line``, ``text``) as one batch: the compiled reader's events and
    rejects, and the reference's for the lines it handed back."""
    table, rejects, fallback, blank, malformed = reader.read(frame)
    builder.notes["blank_lines"] += blank
    builder.notes["malformed_mac"] += malformed
    if fallback:
        for line, text in frame[fallback].iter_rows():
            builder.add_line(line, text)
    if rejects:
        rows = frame[[row for row, _, _ in rejects]]
        builder.rejects.extend(
            # the reference keeps the first 2,000 characters of a record it cannot map
            Reject(builder.path, line, reason, text[:2000] if cut else text)
            for (line, text), (_, reason, cut) in zip(rows.iter_rows(), rejects, strict=True)
        )
    return _join(table, builder)


def _join(table: Any, builder: _Builder, ordered: list[Reject] | None = None) -> ParsedBatch:
    """The compiled reader's events (already in the batch schema) and the reference's, in line order.
    ``ordered``: the reader's rejects, already in line order, to merge with the reference's few."""
    batch = builder.flush()
    fast = pl.DataFrame(table)
    if fast.schema != batch.events.schema:  # defensive: the Rust side builds the very same schema
        fast = fast.cast(dict(batch.events.schema))
    if fast.height:
        # both sides are in line order: a merge, not a sort of every column
        batch.events = fast.merge_sorted(batch.events, "line") if batch.events.height else fast
    if ordered is None:
        batch.rejects.sort(key=_line_key)
    else:
        batch.rejects = _merge_rejects(batch.rejects, ordered)
    return batch


def _line_key(reject: Reject) -> int:
    return -1 if reject.line is None else reject.line


def _merge_rejects(others: list[Reject], ordered: list[Reject]) -> list[Reject]:
    """``others + ordered`` sorted stably by line, ``ordered`` being sorted already: the few others
    are sorted and put in place (last first, each before its equals), not the thousand rejects of a
    chunk sorted again."""
    others.sort(key=_line_key)
    for reject in reversed(others):
        bisect.insort_left(ordered, reject, key=_line_key)
    return ordered


def read_records(
    reader: Any, records: Iterable[tuple[int, Any]], builder: _Builder, batch: int
) -> Iterator[ParsedBatch]:
    """The records of a JSON array (index, parsed value) in batches of ``batch``: each record is read by
    the compiled reader from its JSON text as orjson writes it, which is also the raw text the reference
    keeps (``_json_text``); a record nested too deeply for orjson goes to the reference as a value."""
    lines: list[int] = []
    texts: list[str] = []
    for index, record in records:
        text = _round_trip(record)
        if text is None:
            builder.add(index, record)
        else:
            lines.append(index)
            texts.append(text)
        if len(lines) + builder.size >= batch:
            yield read_chunk(reader, _frame(lines, texts), builder)
            lines, texts = [], []
    yield read_chunk(reader, _frame(lines, texts), builder)


def _round_trip(record: Any) -> str | None:
    """``record`` as orjson writes it, or None past orjson's 255 levels of nesting. Reading the text back
    gives the same value: ijson gives only what JSON text holds (integers below 2**63, finite floats,
    strings without lone surrogates)."""
    try:
        return orjson.dumps(record).decode()
    except (TypeError, orjson.JSONEncodeError):
        return None


def _frame(lines: list[int], texts: list[str]) -> pl.DataFrame:
    return pl.DataFrame({"line": lines, "text": texts}, schema={"line": pl.Int64, "text": pl.String})
