"""``ppcti run``: the pipeline that turns an upload into normalised events, CTI and reports.

Stages, in order: ingest (safe extraction, type detection) → recognise the log format of each file →
parse and clean (timestamps, e-mails, MACs, repairs, in the format) → deduplicate across the run →
minimise features → write ``events.jsonl``, ``cleaned/``, ``rejects.jsonl`` → later stages that read
those files (PII, knowledge graph, STIX, analysis, report, Kafka). The core stages stream batches, so
memory stays bounded by the batch size plus the deduplication index (see ``docs/benchmarks.md``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any

import orjson
import polars as pl

from ppcti import __version__
from ppcti.clean.datesource import MEMBER_TIME, UPLOAD, file_dates, latest_date, rename_notes
from ppcti.clean.dedup import Deduplicator
from ppcti.clean.minimise import Profile, load_profile
from ppcti.clean.timestamps import TimeContext
from ppcti.cleaned import CleanedFiles, CleanedWriter
from ppcti.errors import ConfigError, FormatError, InputRefused
from ppcti.formats import ParseOptions, detect, get
from ppcti.formats.base import ParsedBatch
from ppcti.formats.mapping import load_mapping
from ppcti.ingest import Limits, SourceFile, Upload, open_upload
from ppcti.model import EVENT_FIELDS, Reject, reason_key
from ppcti.outdir import check_out, staged_output
from ppcti.outputs import write_frame

#: Post-processing stages that can be switched off with ``--skip``.
OPTIONAL_STAGES = ("pii", "cti", "analysis", "enrich", "report")

#: Event columns that decide whether two events are the same (everything but where they were written).
DEDUP_KEYS = tuple(f for f in EVENT_FIELDS if f not in ("source_file", "line"))

#: ``extra`` fields that say how an entry was read, not what it says; ignored when deduplicating.
ANNOTATIONS = frozenset({"repaired", "mac_malformed"})

ProgressFn = Callable[[str, int, int], None]
"""``progress(stage_description, done, total)``; ``total`` 0 means unknown."""


@dataclass(frozen=True, slots=True)
class RunOptions:
    """Everything a run needs besides its inputs; defaults are the embedded defaults of the quickstart."""

    holder: str
    out: Path
    format: str | None = None
    time: TimeContext = field(default_factory=TimeContext)
    profile: Profile = field(default_factory=lambda: load_profile(None))
    limits: Limits = field(default_factory=Limits)
    skip: frozenset[str] = frozenset()
    tlp: str = "amber"
    nlp: str = "auto"
    pii_rules: Path | None = None
    kafka: str | None = None
    kafka_events: bool = False
    #: Bytes of input per batch: peak memory is about 30x this for firewall text (see docs/benchmarks.md).
    batch_bytes: int = 8 * 1024 * 1024
    json_mappings: tuple[Path, ...] = ()
    #: Also share attackers at non-public addresses (see :mod:`ppcti.netrange`); off by default.
    share_private: bool = False
    #: ``ppcti.enrich.EnrichSettings`` with at least one service key; None switches the enrich stage off.
    enrich: Any = None

    def __post_init__(self) -> None:
        if not self.holder.strip():
            raise ConfigError("--holder must name the data holder")
        unknown = set(self.skip) - set(OPTIONAL_STAGES)
        if unknown:
            raise ConfigError(
                f"unknown stages to skip {sorted(unknown)}; choose from {list(OPTIONAL_STAGES)}"
            )


@dataclass(slots=True)
class FileStats:
    path: str
    kind: str
    encoding: str | None
    format: str | None
    score: float
    scores: dict[str, float]
    entries: int = 0
    events: int = 0
    rejects: int = 0
    duplicates: int = 0
    notes: Counter[str] = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)
    #: Where a missing year or date came from (:mod:`ppcti.clean.datesource`), when a line needed one.
    date_source: str | None = None
    assumed_date: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "kind": self.kind,
            "encoding": self.encoding,
            "format": self.format,
            "format_score": self.score,
            "format_scores": self.scores,
            "entries": self.entries,
            "events": self.events,
            "rejects": self.rejects,
            "duplicates": self.duplicates,
            "notes": {k: v for k, v in sorted(self.notes.items()) if v},
            "warnings": self.warnings,
            **({"date_source": self.date_source} if self.date_source else {}),
            **({"assumed_date": self.assumed_date} if self.assumed_date else {}),
        }


@dataclass(slots=True)
class RunSummary:
    run_id: str
    holder: str
    started_at: str
    files: list[FileStats] = field(default_factory=list)
    refused: list[dict[str, str]] = field(default_factory=list)
    unrecognised: list[str] = field(default_factory=list)
    rejects_by_reason: Counter[str] = field(default_factory=Counter)
    duplicates: dict[str, int] = field(default_factory=dict)
    stage_seconds: dict[str, float] = field(default_factory=dict)
    stages: dict[str, Any] = field(default_factory=dict)
    events: int = 0
    rejects: int = 0

    @property
    def completed(self) -> bool:
        """Something was processed: at least one file was parsed."""
        return any(f.format for f in self.files)

    def to_dict(self) -> dict[str, Any]:
        per_format: dict[str, Counter[str]] = defaultdict(Counter)
        for f in self.files:
            if f.format:
                per_format[f.format].update(
                    {
                        "files": 1,
                        "entries": f.entries,
                        "events": f.events,
                        "rejects": f.rejects,
                        "duplicates": f.duplicates,
                    }
                )
        return {
            "ppcti_version": __version__,
            "run_id": self.run_id,
            "holder": self.holder,
            "started_at": self.started_at,
            "events": self.events,
            "rejects": self.rejects,
            "duplicates": self.duplicates,
            "formats": {k: dict(v) for k, v in sorted(per_format.items())},
            "files": [f.to_dict() for f in self.files],
            "unrecognised_files": self.unrecognised,
            "refused_members": self.refused,
            "rejects_by_reason": dict(self.rejects_by_reason.most_common()),
            "stage_seconds": {k: round(v, 4) for k, v in self.stage_seconds.items()},
            "stages": self.stages,
        }


def run_pipeline(
    inputs: Path | Sequence[Path], options: RunOptions, *, progress: ProgressFn | None = None
) -> RunSummary:
    """Run every stage on ``inputs`` and write the run folder ``options.out``."""
    started = datetime.now(UTC)
    summary = RunSummary(
        run_id=_run_id(options.holder, started),
        holder=options.holder,
        started_at=started.strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    clock = _Clock(summary)
    # Everything is written into a staging folder and moved into --out at the end (ppcti.outdir): an
    # interrupted or failed run leaves nothing that looks complete, and no link inside --out is followed.
    check_out(options.out)  # fail before any work; the staging folder is made after ingest reads the inputs
    with clock("ingest"):
        upload = open_upload(inputs, holder=options.holder, limits=options.limits)
    with upload, staged_output(options.out) as stage:
        options = dataclasses.replace(options, out=stage.path)
        summary.refused = [{"member": r.member, "reason": r.reason} for r in upload.refused]
        _core(upload, options, summary, clock, progress)
        if not summary.completed:
            _write_summary(stage.path, summary)
            stage.commit(remove=RUN_OUTPUTS)
            if upload.refused and not upload.files:
                raise InputRefused("every member of the upload was refused; see summary.json")
            raise InputRefused("no file in the upload holds a recognised log format; see summary.json")
        _later_stages(upload, options, summary, clock, progress)
        _write_summary(stage.path, summary)
        stage.commit(remove=RUN_OUTPUTS)
    return summary


def _run_id(holder: str, started: datetime) -> str:
    digest = hashlib.sha256(f"{holder}\x00{started.isoformat()}".encode()).hexdigest()[:8]
    return f"{started.strftime('%Y%m%dT%H%M%SZ')}-{digest}"


#: What a run writes into --out; a new run replaces all of them (those it skips are removed).
RUN_OUTPUTS = ("cleaned", "cti", "events.jsonl", "rejects.jsonl", "summary.json", "pii.json", "kg.ttl")
RUN_OUTPUTS += ("insights.json", "infrastructure.json", "report.html")
RUN_OUTPUTS += ("enrichment.jsonl", "enrichment-overview.json")


class _Clock:
    """Adds the elapsed seconds of each ``with clock(stage):`` block to the summary's stage times."""

    def __init__(self, summary: RunSummary) -> None:
        self.seconds = summary.stage_seconds

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - start


def _core(
    upload: Upload, options: RunOptions, summary: RunSummary, clock: _Clock, progress: ProgressFn | None
) -> None:
    out = options.out
    dedup = Deduplicator()
    parse_options = ParseOptions(
        time=options.time,
        limits=options.limits,
        batch_bytes=options.batch_bytes,
        json_mappings=tuple(load_mapping(path) for path in options.json_mappings),
    )
    cleaned_files = CleanedFiles(out / "cleaned")
    total_bytes = sum(f.size for f in upload.files) or 1
    done_bytes = 0
    with open(out / "events.jsonl", "wb") as events_out, open(out / "rejects.jsonl", "wb") as rejects_out:
        unreadable: list[SourceFile] = []
        detected: list[tuple[SourceFile, FileStats]] = []
        own_dates: dict[str, date] = {}
        for source in upload.files:
            try:
                with clock("detect"):
                    sample = source.sample_text()
                    stats = _detect(source, options, sample)
                    found = latest_date(sample)
            except FormatError as exc:  # e.g. a workbook whose later sheet openpyxl cannot read
                summary.refused.append({"member": source.path, "reason": exc.message})
                unreadable.append(source)
                continue
            if found is not None:
                own_dates[source.path] = found
            summary.files.append(stats)
            detected.append((source, stats))
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
                file_options = replace(parse_options, time=dates.time)
                cleaned = cleaned_files.place(get(stats.format or "").cleaned_name(source))
                try:
                    args = (source, stats, file_options, options, dedup, events_out, rejects_out, summary)
                    _parse_file(*args, clock, cleaned)
                except FormatError as exc:
                    # what was read before the error stays; the rest of the file is one reject
                    reject = Reject(
                        source.path, exc.line, f"rest of the file unreadable: {exc.message}", "", "ingest"
                    )
                    rejects_out.write(orjson.dumps(reject.to_dict()) + b"\n")
                    summary.rejects_by_reason[reject.reason] += 1
                    stats.rejects += 1
                    stats.entries += 1
                    summary.rejects += 1
                    stats.warnings.append(reject.reason)
                    unreadable.append(source)
                notes, stats.date_source = rename_notes(stats.notes, dates)
                stats.notes = Counter(notes)
                if stats.date_source in (UPLOAD, MEMBER_TIME) and dates.assumed is not None:
                    stats.assumed_date = dates.assumed.isoformat()
            done_bytes += source.size
            if progress:
                progress("parse and clean", done_bytes, total_bytes)
    summary.duplicates = {"exact": dedup.exact, "normalised": dedup.normalised}
    # later stages (PII) read the files again: not those that could not be read
    upload.files[:] = [f for f in upload.files if f not in unreadable]


def _detect(source: SourceFile, options: RunOptions, sample: str) -> FileStats:
    if options.format:
        fmt = get(options.format)
        name, score, scores = fmt.name, 1.0, {fmt.name: 1.0}
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


def _parse_file(
    source: SourceFile,
    stats: FileStats,
    parse_options: ParseOptions,
    options: RunOptions,
    dedup: Deduplicator,
    events_out: IO[bytes],
    rejects_out: IO[bytes],
    summary: RunSummary,
    clock: _Clock,
    cleaned_path: Path,
) -> None:
    fmt = get(stats.format or "")
    delimiter = getattr(getattr(source, "csv_dialect", None), "delimiter", None) or ","
    with CleanedWriter(cleaned_path, delimiter=delimiter) as cleaned:
        batches = iter(fmt.parse(source, parse_options))
        header_written = False
        while True:
            with clock("parse"):
                batch = next(batches, None)
            if batch is None:
                break
            if batch.cleaned_header and not header_written:
                cleaned.write_header(batch.cleaned_header)
                header_written = True
            with clock("clean"):
                kept, dups = _clean_batch(batch, source.path, stats.format or "", options, dedup)
            with clock("write"):
                _write_batch(
                    kept,
                    batch,
                    dups,
                    source.path,
                    stats,
                    events_out,
                    rejects_out,
                    cleaned,
                    summary,
                    options.profile,
                )


def _clean_batch(
    batch: ParsedBatch, path: str, fmt: str, options: RunOptions, dedup: Deduplicator
) -> tuple[pl.DataFrame, pl.DataFrame]:
    events = batch.events.with_columns(
        holder=pl.lit(options.holder),
        format=pl.lit(fmt),
        source_file=pl.lit(path),
    )
    # the holder and the format are the same for every row a deduplicator compares: not hashed
    keys = [c for c in DEDUP_KEYS if c in events.columns and c not in ("extra", "holder", "format")]
    extra = events.schema.get("extra")
    if isinstance(extra, pl.Struct):
        # annotations about how an entry was read (a repair, a malformed MAC) do not make it another event
        fields = [f.name for f in extra.fields if f.name not in ANNOTATIONS]
        kept_fields = [pl.col("extra").struct.field(f) for f in fields]
        events = events.with_columns(_dedup_extra=pl.struct(kept_fields))
        keys.append("_dedup_extra")
    kept, dups = dedup.split(events, group=fmt, key_columns=keys)
    return kept.drop("_dedup_extra", strict=False), dups.drop("_dedup_extra", strict=False)


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
        extra = events.get_column("extra")
        keep = [
            name
            for name in extra.struct.fields
            if profile.keeps_extra(name) and present(extra.struct.field(name))
        ]
        if keep:
            columns.append(pl.struct([pl.col("extra").struct.field(k) for k in keep]).alias("extra"))
    return events.select(columns)


def _write_batch(
    kept: pl.DataFrame,
    batch: ParsedBatch,
    dups: pl.DataFrame,
    path: str,
    stats: FileStats,
    events_out: IO[bytes],
    rejects_out: IO[bytes],
    cleaned: CleanedWriter,
    summary: RunSummary,
    profile: Profile,
) -> None:
    profile_events = _minimise(kept, profile)
    if profile_events.height:
        write_frame(profile_events, events_out)
        column = "cleaned" if "cleaned" in kept.columns else "raw"
        # the lines as they are; CSV rows cell by cell, with formula cells neutralised (ppcti.cleaned)
        cleaned.write(kept.select(column), kept.get_column("line") if "line" in kept.columns else None)
    rejects = list(batch.rejects)
    for line, raw, of, kind in dups.select("line", "raw", "duplicate_of", "duplicate_kind").iter_rows():
        rejects.append(Reject(path, line, f"duplicate ({kind}) of {of}", raw, "dedup"))
    rejects.sort(key=lambda r: -1 if r.line is None else r.line)
    for reject in rejects:
        rejects_out.write(orjson.dumps(reject.to_dict()) + b"\n")
        summary.rejects_by_reason[reason_key(reject.reason)] += 1
    stats.events += kept.height
    stats.duplicates += dups.height
    stats.rejects += len(rejects) - dups.height
    stats.entries += kept.height + len(rejects)
    stats.notes.update(batch.notes)
    summary.events += kept.height
    summary.rejects += len(rejects)


def _later_stages(
    upload: Upload, options: RunOptions, summary: RunSummary, clock: _Clock, progress: ProgressFn | None
) -> None:
    """PII, STIX, analysis, report and Kafka: each reads what the core stages wrote."""
    skip = options.skip | ({"report"} if "analysis" in options.skip else set())  # it shows the insights
    steps = [s for s in OPTIONAL_STAGES if s not in skip and (s != "enrich" or options.enrich)]
    if options.kafka:
        steps.append("kafka")
    for done, stage in enumerate(steps):
        if progress:
            progress(f"{stage}", done, len(steps))
        if stage in ("report", "kafka"):
            _write_summary(options.out, summary)  # the report shows it; Kafka publishes it
        with clock(stage):
            summary.stages[stage] = _STAGES[stage](upload, options, summary)
    if progress and steps:
        progress("done", len(steps), len(steps))


def _stage_pii(upload: Upload, options: RunOptions, summary: RunSummary) -> dict[str, Any]:
    from ppcti.kg import annotate, export_turtle
    from ppcti.pii import PiiOptions, scan_upload, write_pii_json

    report = scan_upload(
        upload, options=PiiOptions(nlp=options.nlp, rules_file=options.pii_rules), limits=options.limits
    )
    annotate(report)
    write_pii_json(report, options.out / "pii.json")
    export_turtle(report, options.out / "kg.ttl")
    types = sorted({f.type for f in report.findings})
    return {
        "findings": len(report.findings),
        "types": types,
        "use_case": report.use_case,
        "flags": [f["flag"] for f in report.flags],
        "message": f"{len(report.findings)} findings of {len(types)} PII types → pii.json, kg.ttl",
    }


def _stage_cti(upload: Upload, options: RunOptions, summary: RunSummary) -> dict[str, Any]:
    from ppcti.stix import CtiOptions, write_cti

    cti_options = CtiOptions(tlp=options.tlp, share_private=options.share_private)
    result = write_cti(options.out / "events.jsonl", options.out / "cti", options=cti_options)
    data = result.to_dict()
    kept = sum(result.withheld.values())
    data["message"] = (
        f"{data['bundles']} STIX bundles → cti/bundles.jsonl, cti/aggregate.json; "
        f"{kept} entries' sources not shared as attackers (outbound, non-public or own)"
    )
    return data


def _stage_analysis(upload: Upload, options: RunOptions, summary: RunSummary) -> dict[str, Any]:
    from ppcti.analysis import analyse

    insights = analyse(options.out / "events.jsonl", options.out)
    counts = {key: len(value) for key, value in insights.items() if isinstance(value, list)}
    found = ", ".join(f"{n} {key.replace('_', ' ')}" for key, n in counts.items())
    return {**counts, "message": f"{found} → insights.json, infrastructure.json"}


def _stage_enrich(upload: Upload, options: RunOptions, summary: RunSummary) -> dict[str, Any]:
    from ppcti.enrich.cli import require_extra

    if not (options.out / "cti" / "aggregate.json").is_file():
        return {"message": "skipped: no CTI to enrich"}
    require_extra()
    from ppcti.enrich.run import enrich_run

    return enrich_run(options.out, options.enrich)


def _stage_report(upload: Upload, options: RunOptions, summary: RunSummary) -> dict[str, Any]:
    from ppcti.analysis import write_report

    path = write_report(options.out)
    return {"path": path.name, "message": f"{path.name}: open it in a browser"}


def _stage_kafka(upload: Upload, options: RunOptions, summary: RunSummary) -> dict[str, Any]:
    from ppcti.bus import BusSettings, publish_run

    settings = BusSettings.from_env(bootstrap=options.kafka)
    if settings is None:
        raise ConfigError("--kafka needs bootstrap servers")
    report = publish_run(
        options.out,
        settings,
        run_id=summary.run_id,
        holder=options.holder,
        include_events=options.kafka_events,
    )
    data = report.to_dict()
    data["message"] = f"{report.delivered} messages delivered to {options.kafka}"
    return data


_STAGES: dict[str, Callable[[Upload, RunOptions, RunSummary], dict[str, Any]]] = {
    "pii": _stage_pii,
    "cti": _stage_cti,
    "analysis": _stage_analysis,
    "enrich": _stage_enrich,
    "report": _stage_report,
    "kafka": _stage_kafka,
}


def _write_summary(out: Path, summary: RunSummary) -> None:
    (out / "summary.json").write_bytes(orjson.dumps(summary.to_dict(), option=orjson.OPT_INDENT_2) + b"\n")
