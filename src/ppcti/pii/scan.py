"""The PII stage over a whole upload: read each file into columns or text, classify, report.

This is the adapter between ``ppcti.ingest`` (files on disk, kinds, encodings) and the pure classifiers
(:func:`ppcti.pii.columns.classify_table`, :func:`ppcti.pii.text.analyze_text`). A file that cannot be
read is recorded in ``report.files`` with a reason and the scan goes on: one bad member never hides what
the others contain.
"""

from __future__ import annotations

import io
import logging
import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import polars as pl

from ppcti.errors import PpctiError
from ppcti.pii.columns import classify_table_with_profiles
from ppcti.pii.model import Finding, PiiReport
from ppcti.pii.options import PiiOptions
from ppcti.pii.text import analyze_text

if TYPE_CHECKING:
    from ppcti.ingest import SourceFile, Upload

log = logging.getLogger(__name__)

#: Records of a JSON/NDJSON file (and rows of an XLSX sheet) read for column classification.
MAX_RECORDS = 200_000
#: Characters of a text file analysed (the head of very long logs; the report says when truncated).
MAX_TEXT_CHARS = 5_000_000

Progress = Callable[[str, int, int], None]


def flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Leaves of a JSON value as ``(path, scalar)``: ``user.address.zip``, list items as ``tags[]``."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from flatten(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(value, list):
        for item in value:
            yield from flatten(item, f"{prefix}[]")
    elif value is not None:
        yield prefix or "$", value


def records_frame(records: Iterator[Any], limit: int = MAX_RECORDS) -> pl.DataFrame:
    """One string column per JSON path; list leaves contribute every item to the same column.

    Built in two passes (flatten each record once, then fill each column once), so the cost is the
    number of leaves, not records times columns."""
    flat: list[dict[str, list[str]]] = []
    order: dict[str, None] = {}
    for n, record in enumerate(records):
        if n >= limit:
            break
        row: dict[str, list[str]] = {}
        for path, leaf in flatten(record):
            row.setdefault(path, []).append(leaf if isinstance(leaf, str) else orjson.dumps(leaf).decode())
        order.update(dict.fromkeys(row))
        flat.append(row)
    columns: dict[str, list[str | None]] = {path: [] for path in order}
    for row in flat:
        width = max((len(v) for v in row.values()), default=1)
        for path, col in columns.items():
            items = row.get(path)
            if items is None:
                col.extend([None] * width)
            else:
                col.extend(items)
                if len(items) < width:
                    col.extend([None] * (width - len(items)))
    return pl.DataFrame({k: pl.Series(k, v, dtype=pl.String) for k, v in columns.items()})


#: Records of one JSON/NDJSON file classified: an even spread over the file (every k-th record of an
#: array, a seeded reservoir of a stream), so PII cost follows the sample, not the file's size.
SAMPLE_RECORDS = 20_000


def sample_records(
    records: Iterator[Any], size: int = SAMPLE_RECORDS, seed: int = 7
) -> tuple[list[Any], int]:
    """A seeded reservoir sample of ``records`` (in file order) and how many records there were."""
    rng = random.Random(seed)
    kept: list[tuple[int, Any]] = []
    total = 0
    for i, record in enumerate(records):
        total = i + 1
        if i < size:
            kept.append((i, record))
        else:
            j = rng.randrange(i + 1)
            if j < size:
                kept[j] = (i, record)
    kept.sort(key=lambda ir: ir[0])
    return [r for _, r in kept], total


def _json_records(source: SourceFile, limits: Any) -> Iterator[Any]:
    if source.kind == "ndjson":
        for batch in source.iter_line_batches(limits):
            for line in batch.lines:
                if line.strip():
                    try:
                        yield orjson.loads(line)
                    except orjson.JSONDecodeError:
                        continue
        return
    data = orjson.loads(source.local_path.read_bytes().decode(source.encoding or "utf-8").lstrip("\ufeff"))
    if isinstance(data, dict):
        lists = [v for v in data.values() if isinstance(v, list) and v and isinstance(v[0], dict)]
        if len(lists) == 1 and len(data) <= 3:
            data = lists[0]  # {"records": [...]} wrappers: the list is the table
    yield from data if isinstance(data, list) else [data]


def read_csv(source: SourceFile) -> pl.DataFrame:
    """All columns as strings (no type inference: leading zeros and long digit strings stay intact)."""
    dialect = source.csv_dialect
    kwargs: dict[str, Any] = {
        "separator": dialect.delimiter if dialect else ",",
        "quote_char": dialect.quotechar if dialect else '"',
        "has_header": dialect.has_header if dialect else True,
        "infer_schema": False,
        "truncate_ragged_lines": True,
        "ignore_errors": True,
    }
    encoding = (source.encoding or "utf-8").lower().replace("_", "-")
    if encoding in ("utf-8", "utf8", "ascii", "us-ascii", "utf-8-sig"):
        return pl.read_csv(source.local_path, encoding="utf8-lossy", **kwargs)
    text = source.local_path.read_bytes().decode(encoding, errors="replace").lstrip("\ufeff")
    return pl.read_csv(io.BytesIO(text.encode("utf-8")), **kwargs)


def _xlsx_frames(source: SourceFile) -> Iterator[tuple[str, pl.DataFrame]]:
    sheets: dict[str, list[list[object]]] = {}
    for sheet, _row_no, values in source.iter_xlsx_rows():
        rows = sheets.setdefault(sheet, [])
        if len(rows) <= MAX_RECORDS:
            rows.append(values)
    for sheet, rows in sheets.items():
        if not rows:
            continue
        width = max(len(r) for r in rows)
        first = rows[0]
        has_header = all(isinstance(v, str) and v.strip() for v in first[:width])
        header = [str(v).strip() for v in first] if has_header else [f"column_{i + 1}" for i in range(width)]
        header += [f"column_{i + 1}" for i in range(len(header), width)]
        body = rows[1:] if has_header else rows
        data = {
            f"{sheet}!{header[i]}": [None if i >= len(r) or r[i] is None else str(r[i]) for r in body]
            for i in range(width)
        }
        yield sheet, pl.DataFrame({k: pl.Series(k, v, dtype=pl.String) for k, v in data.items()})


def _read_text(source: SourceFile, limits: Any) -> tuple[str, bool]:
    parts: list[str] = []
    size = 0
    for batch in source.iter_line_batches(limits):
        for line in batch.lines:
            parts.append(line)
            size += len(line) + 1
            if size >= MAX_TEXT_CHARS:
                return "\n".join(parts), True
    return "\n".join(parts), False


def _add_lines(text: str, findings: list[Finding]) -> None:
    """1-based line numbers for text findings (offsets stay the primary location)."""
    import bisect

    starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]
    for f in findings:
        if f.start is not None:
            f.line = bisect.bisect_right(starts, f.start)


def scan_file(
    source: SourceFile, *, options: PiiOptions, limits: Any
) -> tuple[dict[str, Any], list[Finding]]:
    """Findings of one source file and its entry for ``report.files``."""
    entry: dict[str, Any] = {"path": source.path, "kind": source.kind, "status": "scanned"}
    findings: list[Finding] = []
    if source.kind == "csv":
        df = read_csv(source)
        found, profiles = classify_table_with_profiles(df, file=source.path, options=options)
        entry.update(rows=df.height, columns=[p.to_dict() for p in profiles])
        findings.extend(found)
    elif source.kind in ("json", "ndjson"):
        sample, total = sample_records(_json_records(source, limits))
        df = records_frame(iter(sample))
        found, profiles = classify_table_with_profiles(df, file=source.path, options=options)
        entry.update(records=total, sampled_records=len(sample), rows=df.height)
        entry["columns"] = [p.to_dict() for p in profiles]
        findings.extend(found)
    elif source.kind == "xlsx":
        entry["columns"] = []
        for _sheet, df in _xlsx_frames(source):
            found, profiles = classify_table_with_profiles(df, file=source.path, options=options)
            entry["columns"].extend(p.to_dict() for p in profiles)
            findings.extend(found)
    else:
        text, truncated = _read_text(source, limits)
        found = analyze_text(text, file=source.path, options=options)
        _add_lines(text, found)
        entry.update(chars=len(text), truncated=truncated)
        if len(found) >= options.max_text_findings_per_file:
            entry["findings_truncated"] = True
        findings.extend(found)
    entry["findings"] = len(findings)
    return entry, findings


def scan_one(source: SourceFile, options: PiiOptions, limits: Any) -> tuple[dict[str, Any], list[Finding]]:
    """:func:`scan_file`, with a file that cannot be read reported as skipped rather than raised: the
    unit of work :func:`scan_upload` runs per file, here or in a worker process."""
    try:
        return scan_file(source, options=options, limits=limits)
    except PpctiError:
        raise
    except Exception as exc:  # a broken member must not stop the scan; message names no values
        log.warning("%s: skipped (%s)", source.path, type(exc).__name__)
        entry = {
            "path": source.path,
            "kind": source.kind,
            "status": "skipped",
            "reason": f"could not be read ({type(exc).__name__})",
        }
        return entry, []


def assemble_report(upload: Upload, results: Iterable[tuple[dict[str, Any], list[Finding]]]) -> PiiReport:
    """The report of ``upload`` from the results of :func:`scan_one`, one per file in the upload's order."""
    report = PiiReport(
        upload=upload.root,
        holder=upload.holder,
        generated_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    for entry, findings in results:
        report.files.append(entry)
        report.findings.extend(findings)
    for refusal in upload.refused:
        report.files.append({"path": refusal.member, "status": "refused", "reason": refusal.reason})
    return report


def scan_upload(
    upload: Upload,
    *,
    options: PiiOptions = PiiOptions(),
    progress: Progress | None = None,
    limits: Any = None,
) -> PiiReport:
    """Scan every accepted file of ``upload``; refused members are listed, unreadable files skipped with
    a reason. ``flags`` and ``use_case`` stay empty: the caller (pipeline, CLI) asks ``ppcti.kg`` for
    them (:func:`ppcti.kg.annotate`), so detection never depends on the graph."""
    from ppcti.ingest import Limits

    limits = limits or Limits()
    total = len(upload.files)

    def each() -> Iterator[tuple[dict[str, Any], list[Finding]]]:
        for i, source in enumerate(upload.files, start=1):
            if progress is not None:
                progress(source.path, i, total)
            yield scan_one(source, options, limits)

    return assemble_report(upload, each())


def scan_paths(
    inputs: Sequence[Path],
    *,
    holder: str | None = None,
    options: PiiOptions = PiiOptions(),
    progress: Progress | None = None,
) -> PiiReport:
    """Open ``inputs`` as one upload (files, folders, ZIPs) and scan it."""
    from ppcti.ingest import open_upload

    with open_upload([Path(p) for p in inputs], holder=holder or "unknown") as upload:
        return scan_upload(upload, options=options, progress=progress)


def write_pii_json(report: PiiReport, path: Path) -> None:
    """Write ``pii.json`` atomically (temporary name, then rename)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(orjson.dumps(report.to_dict(), option=orjson.OPT_INDENT_2) + b"\n")
    tmp.replace(path)
