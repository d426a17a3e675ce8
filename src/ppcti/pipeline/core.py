"""The core stages: recognise each file's log format, parse and clean it, deduplicate across the run,
minimise features, and write ``events.jsonl``, ``rejects.jsonl`` and ``cleaned/``.

Files stream through in batches, so memory stays bounded by the batch size plus the deduplication index
(see ``docs/benchmarks.md``). Every entry ends as an event, a reject with file, line and reason, or a
counted duplicate.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import IO

import orjson
import polars as pl

from ppcti.clean.datesource import MEMBER_TIME, UPLOAD, file_dates, latest_date, rename_notes
from ppcti.clean.dedup import Deduplicator
from ppcti.clean.minimise import Profile
from ppcti.cleaned import CleanedFiles, CleanedWriter
from ppcti.errors import FormatError
from ppcti.formats import ParseOptions, detect, get
from ppcti.formats.base import ParsedBatch
from ppcti.formats.mapping import load_mapping
from ppcti.ingest import SourceFile
from ppcti.model import EVENT_FIELDS, Reject, reason_key
from ppcti.outputs import write_frame, write_lines
from ppcti.pipeline.context import RunContext
from ppcti.pipeline.summary import FileStats, RunSummary

#: Event columns that decide whether two events are the same (everything but where they were written).
DEDUP_KEYS = tuple(f for f in EVENT_FIELDS if f not in ("source_file", "line"))

#: ``extra`` fields that say how an entry was read, not what it says; ignored when deduplicating.
ANNOTATIONS = frozenset({"repaired", "mac_malformed"})


@dataclass(slots=True)
class CoreWriters:
    """Where the core stages write, and the deduplication index shared by every file of the run."""

    events: IO[bytes]
    rejects: IO[bytes]
    cleaned: CleanedFiles
    dedup: Deduplicator

    @classmethod
    @contextmanager
    def open(cls, out: Path) -> Iterator[CoreWriters]:
        with open(out / "events.jsonl", "wb") as events, open(out / "rejects.jsonl", "wb") as rejects:
            yield cls(events, rejects, CleanedFiles(out / "cleaned"), Deduplicator())

    def reject(self, reject: Reject, summary: RunSummary) -> None:
        self.rejects.write(orjson.dumps(reject.to_dict(), option=orjson.OPT_APPEND_NEWLINE))
        summary.rejects_by_reason[reason_key(reject.reason)] += 1

    def reject_batch(
        self, path: str, rejects: Sequence[Reject], dups: pl.DataFrame, summary: RunSummary
    ) -> None:
        """A batch's rejects and duplicates (of file ``path``) in line order, the parser's first where
        a line has both, as :meth:`reject` writes and counts each. Their JSON comes from Polars in one
        pass: a batch can hold thousands of duplicates, and a dict, an orjson call and a count for each
        cost more than the rest of writing them (and wake the garbage collector)."""
        try:
            lines = _reject_lines(path, rejects, dups)
        except UnicodeEncodeError:  # a lone surrogate, which orjson refuses with its own message
            lines = None
        if lines is None:
            dup_rows = dups.select("line", "raw", "duplicate_of", "duplicate_kind").iter_rows()
            every = [
                *rejects,
                *(Reject(path, n, f"duplicate ({k}) of {o}", r, "dedup") for n, r, o, k in dup_rows),
            ]
            for reject in sorted(every, key=lambda r: -1 if r.line is None else r.line):
                self.reject(reject, summary)
            return
        write_lines(lines.select("json"), self.rejects)
        summary.rejects_by_reason.update(lines.get_column("key").to_list())


def _reject_lines(path: str, rejects: Sequence[Reject], dups: pl.DataFrame) -> pl.DataFrame:
    """``json`` (the ``rejects.jsonl`` line, as orjson writes :meth:`Reject.to_dict`) and ``key``
    (:func:`reason_key`) of each reject, in line order (no line first, then stably by line)."""
    text = pl.String
    parsed = pl.DataFrame(
        {
            "file": [r.file for r in rejects],
            "line": [r.line for r in rejects],
            "stage": [r.stage for r in rejects],
            "reason": [r.reason for r in rejects],
            "raw": [r.raw for r in rejects],
            "key": [reason_key(r.reason) for r in rejects],
        },
        schema={"file": text, "line": pl.Int64, "stage": text, "reason": text, "raw": text, "key": text},
    )
    kind = pl.col("duplicate_kind")
    duplicates = dups.select(
        file=pl.lit(path, text),
        line=pl.col("line").cast(pl.Int64),
        stage=pl.lit("dedup", text),
        reason=pl.format("duplicate ({}) of {}", kind, pl.col("duplicate_of")),
        raw=pl.col("raw").cast(text),
        key=pl.format("duplicate ({})", kind),
    )
    both = pl.concat([parsed, duplicates]).sort(pl.col("line").fill_null(-1), maintain_order=True)
    return both.select(
        json=pl.struct("file", "line", "stage", "reason", "raw").struct.json_encode(), key="key"
    )


@dataclass(frozen=True, slots=True)
class FileTask:
    """One recognised file and how to read it."""

    source: SourceFile
    stats: FileStats
    parse: ParseOptions
    cleaned_path: Path


def run_core(ctx: RunContext) -> None:
    """Detect, parse, clean, deduplicate and write every file of the upload."""
    options, summary, upload = ctx.options, ctx.summary, ctx.upload
    parse_options = ParseOptions(
        time=options.time,
        limits=options.limits,
        batch_bytes=options.batch_bytes,
        json_mappings=tuple(load_mapping(path) for path in options.json_mappings),
    )
    total_bytes = sum(f.size for f in upload.files) or 1
    done_bytes = 0
    unreadable: list[SourceFile] = []
    with CoreWriters.open(ctx.out) as writers:
        detected, own_dates = _detect_all(ctx, unreadable)
        # the two latest dates: the latest of the *other* files is one of them, for every file
        latest_two = sorted(own_dates.items(), key=lambda kv: kv[1], reverse=True)[:2]
        for source, stats in detected:
            if stats.format is None:
                summary.unrecognised.append(source.path)
            else:
                dates = file_dates(
                    options.time,
                    own=own_dates.get(source.path),
                    others=next((d for path, d in latest_two if path != source.path), None),
                    member_time=source.modified,
                )
                cleaned = writers.cleaned.place(get(stats.format).cleaned_name(source))
                task = FileTask(source, stats, replace(parse_options, time=dates.time), cleaned)
                try:
                    _parse_file(ctx, writers, task)
                except FormatError as exc:
                    # what was read before the error stays; the rest of the file is one reject
                    _rest_unreadable(ctx, writers, stats, exc)
                    unreadable.append(source)
                notes, stats.date_source = rename_notes(stats.notes, dates)
                stats.notes = Counter(notes)
                if stats.date_source in (UPLOAD, MEMBER_TIME) and dates.assumed is not None:
                    stats.assumed_date = dates.assumed.isoformat()
            done_bytes += source.size
            ctx.progress("parse and clean", done_bytes, total_bytes)
        summary.duplicates = {"exact": writers.dedup.exact, "normalised": writers.dedup.normalised}
    # later stages (PII) read the files again: not those that could not be read
    upload.files[:] = [f for f in upload.files if f not in unreadable]


def _detect_all(
    ctx: RunContext, unreadable: list[SourceFile]
) -> tuple[list[tuple[SourceFile, FileStats]], dict[str, date]]:
    """Each readable file with its recognised format, and the latest date each file holds itself."""
    detected: list[tuple[SourceFile, FileStats]] = []
    own_dates: dict[str, date] = {}
    for source in ctx.upload.files:
        try:
            with ctx.timed("detect"):
                sample = source.sample_text()
                stats = _detect(source, ctx.options.format, sample)
                found = latest_date(sample)
        except FormatError as exc:  # e.g. a workbook whose later sheet openpyxl cannot read
            ctx.summary.refused.append({"member": source.path, "reason": exc.message})
            unreadable.append(source)
            continue
        if found is not None:
            own_dates[source.path] = found
        ctx.summary.files.append(stats)
        detected.append((source, stats))
    return detected, own_dates


def _detect(source: SourceFile, forced: str | None, sample: str) -> FileStats:
    if forced:
        fmt = get(forced)
        name: str | None = fmt.name
        score, scores = 1.0, {fmt.name: 1.0}
        if source.kind not in fmt.kinds:
            name = None
    else:
        detection = detect(source, sample)
        name, score, scores = detection.format, detection.score, detection.scores
    return FileStats(
        path=source.path,
        kind=source.kind,
        encoding=source.encoding,
        format=name,
        score=score,
        scores=scores,
        warnings=list(source.warnings),
    )


def _rest_unreadable(ctx: RunContext, writers: CoreWriters, stats: FileStats, exc: FormatError) -> None:
    reason = f"rest of the file unreadable: {exc.message}"
    writers.reject(Reject(stats.path, exc.line, reason, "", "ingest"), ctx.summary)
    stats.rejects += 1
    stats.entries += 1
    ctx.summary.rejects += 1
    stats.warnings.append(reason)


def _parse_file(ctx: RunContext, writers: CoreWriters, task: FileTask) -> None:
    fmt = get(task.stats.format or "")
    delimiter = getattr(getattr(task.source, "csv_dialect", None), "delimiter", None) or ","
    with CleanedWriter(task.cleaned_path, delimiter=delimiter) as cleaned:
        batches = iter(fmt.parse(task.source, task.parse))
        header_written = False
        while True:
            with ctx.timed("parse"):
                batch = next(batches, None)
            if batch is None:
                break
            if batch.cleaned_header and not header_written:
                cleaned.write_header(batch.cleaned_header)
                header_written = True
            with ctx.timed("clean"):
                events, duplicate, dups = _clean_batch(batch, task, ctx.options.holder, writers.dedup)
            with ctx.timed("write"):
                _write_batch(ctx, writers, task.stats, batch, _Cleaned(events, duplicate, dups), cleaned)


@dataclass(frozen=True, slots=True)
class _Cleaned:
    """A cleaned batch: its events, which of them are duplicates (None: none is), and the duplicates."""

    events: pl.DataFrame
    duplicate: pl.Series | None
    dups: pl.DataFrame

    @property
    def kept(self) -> int:
        return self.events.height - self.dups.height

    def kept_column(self, name: str) -> pl.Series:
        column = self.events.get_column(name)
        return column if self.duplicate is None else column.filter(~self.duplicate)


def _clean_batch(
    batch: ParsedBatch, task: FileTask, holder: str, dedup: Deduplicator
) -> tuple[pl.DataFrame, pl.Series | None, pl.DataFrame]:
    fmt = task.stats.format or ""
    events = batch.events.with_columns(
        holder=pl.lit(holder),
        format=pl.lit(fmt),
        source_file=pl.lit(task.source.path),
    )
    # the holder and the format are the same for every row a deduplicator compares: not hashed
    keys: list[str | pl.Expr] = [
        c for c in DEDUP_KEYS if c in events.columns and c not in ("extra", "holder", "format")
    ]
    extra = events.schema.get("extra")
    if isinstance(extra, pl.Struct):
        # annotations about how an entry was read (a repair, a malformed MAC) do not make it another event
        # field by field: the deduplicator hashes its key columns side by side
        keys.extend(pl.col("extra").struct.field(f.name) for f in extra.fields if f.name not in ANNOTATIONS)
    # the duplicates keep what their rejects say: their line and the text as read
    duplicate, dups = dedup.mark(events, group=fmt, key_columns=keys, keep=("line", "raw"))
    return events, duplicate, dups


def _minimise(events: pl.DataFrame, profile: Profile) -> pl.DataFrame:
    """The profile's fields only; columns and ``extra`` keys that are empty in the whole batch are
    omitted too (absent values are omitted, never written as empty strings), which also spares the
    JSON writer most of its work on sparse formats."""
    height = events.height

    def present(series: pl.Series) -> bool:
        return series.null_count() < height

    columns: list[pl.Expr] = [
        pl.col(c)
        for c in EVENT_FIELDS
        if c in events.columns and c in profile.fields and c != "extra" and present(events.get_column(c))
    ]
    if "extra" in profile.fields and "extra" in events.columns:
        # the fields side by side as the struct holds them (no copy), counted in one call: a
        # ``struct.field`` per name cost a Polars query each, a dozen per batch
        nulls = events.get_column("extra").struct.unnest().null_count().row(0, named=True)
        keep = [name for name, count in nulls.items() if profile.keeps_extra(name) and count < height]
        if keep:
            columns.append(pl.struct([pl.col("extra").struct.field(k) for k in keep]).alias("extra"))
    return events.select(columns)


def _write_batch(
    ctx: RunContext,
    writers: CoreWriters,
    stats: FileStats,
    batch: ParsedBatch,
    result: _Cleaned,
    cleaned: CleanedWriter,
) -> None:
    events, dups = result.events, result.dups
    if result.kept:
        # minimised with the duplicates still in (a column present in them only is written as absent,
        # as it would have been left out), which the writer skips
        skip = None if result.duplicate is None else result.duplicate.arg_true().to_list()
        write_frame(_minimise(events, ctx.options.profile), writers.events, skip=skip)
        column = "cleaned" if "cleaned" in events.columns else "raw"
        # the lines as they are; CSV rows cell by cell, with formula cells neutralised (ppcti.cleaned)
        lines = result.kept_column("line") if "line" in events.columns else None
        cleaned.write(result.kept_column(column).to_frame(), lines)
    rejects = len(batch.rejects) + dups.height
    if rejects:
        writers.reject_batch(stats.path, batch.rejects, dups, ctx.summary)
    stats.events += result.kept
    stats.duplicates += dups.height
    stats.rejects += rejects - dups.height
    stats.entries += result.kept + rejects
    stats.notes.update(batch.notes)
    ctx.summary.events += result.kept
    ctx.summary.rejects += rejects
