"""What a finished run folder publishes.

:func:`run_outputs` is the pure part: it reads the folder and yields the messages in a fixed order
(summary first, then PII, knowledge graph, CTI, insights, events), so publishing the same folder twice
produces the same envelopes. :func:`publish_run` hands them to a :class:`Publisher` and waits for
delivery. Files a run did not write (no PII stage, no CTI stage) are skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from ppcti.bus.batches import envelope_batches, jsonl_chunks
from ppcti.bus.envelope import JSON, NTRIPLES, STIX_JSON, TURTLE, JsonBytes, Output
from ppcti.bus.publisher import DeliveryReport, Publisher
from ppcti.bus.settings import BusSettings
from ppcti.errors import FormatError


def _load_json(path: Path) -> Any:
    try:
        return orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise FormatError(f"not valid JSON ({exc.msg})", file=str(path)) from None


def pii_outputs(report: dict[str, Any]) -> list[Output]:
    """A PII report as messages: the report header, then one message per (masked) finding.

    One message per finding lets a consumer filter by type or file without unpacking a whole report;
    the header carries the finding count so a consumer knows when it has them all.
    """
    findings = list(report.get("findings") or [])
    header = {k: v for k, v in report.items() if k != "findings"}
    header["finding_count"] = len(findings)
    out = [Output("pii-report", header)]
    out.extend(Output("pii-finding", finding) for finding in findings)
    return out


def kg_outputs(path: Path, max_bytes: int) -> list[Output]:
    """Knowledge-graph additions: the Turtle file as it is, or N-Triples chunks when it is too big.

    Turtle cannot be cut at arbitrary lines (prefixes, multi-line statements); N-Triples can, one triple
    per line, so large graphs travel as several self-contained messages.
    """
    data = path.read_bytes()
    if len(data) <= max_bytes:
        return [Output("kg-additions", data, TURTLE)]
    import rdflib

    graph = rdflib.Graph()
    try:
        graph.parse(data=data, format="turtle")
    except Exception as exc:  # rdflib raises many types for bad Turtle
        raise FormatError(f"not valid Turtle ({type(exc).__name__})", file=str(path)) from None
    lines = sorted(graph.serialize(format="nt", encoding="utf-8").splitlines(keepends=True))
    chunks: list[Output] = []
    buf: list[bytes] = []
    size = 0
    for line in lines:
        if not line.strip():
            continue
        if buf and size + len(line) > max_bytes:
            chunks.append(Output("kg-additions", b"".join(buf), NTRIPLES))
            buf, size = [], 0
        buf.append(line)
        size += len(line)
    if buf:
        chunks.append(Output("kg-additions", b"".join(buf), NTRIPLES))
    return chunks


def jsonl_lines(path: Path) -> Iterator[tuple[int, JsonBytes]]:
    """Non-blank lines of a JSON-lines file with their 1-based numbers, each checked to be JSON."""
    for numbers, lines in jsonl_chunks(path):
        for number, line in zip(numbers, lines, strict=True):
            yield number, JsonBytes(line)


@dataclass(frozen=True, slots=True)
class JsonLinesFile:
    """A JSON-lines file whose every line becomes one message of ``kind`` (CTI bundles).

    :func:`run_parts` yields it instead of one :class:`Output` per line, so that :func:`publish_run`
    can hand whole chunks of ready envelopes (:func:`~ppcti.bus.batches.envelope_batches`) to
    :meth:`Publisher.send_batch`.
    """

    path: Path
    kind: str
    content_type: str


def event_batches(path: Path, size: int) -> Iterator[Output]:
    """``events.jsonl`` in batches of ``size`` events: ``{"first_line", "count", "events": [...]}``."""
    batch: list[bytes] = []
    first = 0
    for number, line in jsonl_lines(path):
        if not batch:
            first = number
        batch.append(line)
        if len(batch) >= size:
            yield _batch(first, batch)
            batch = []
    if batch:
        yield _batch(first, batch)


def _batch(first_line: int, lines: list[bytes]) -> Output:
    body = b'{"count":%d,"events":[%b],"first_line":%d}' % (len(lines), b",".join(lines), first_line)
    return Output("event-batch", JsonBytes(body), JSON)


def run_parts(
    run_dir: Path, settings: BusSettings, *, include_events: bool = False
) -> Iterator[Output | JsonLinesFile]:
    """What a run folder publishes, in a fixed order; a JSON-lines file of bundles as one part."""
    summary = run_dir / "summary.json"
    if summary.is_file():
        yield Output("run-summary", _load_json(summary))
    pii = run_dir / "pii.json"
    if pii.is_file():
        report = _load_json(pii)
        if not isinstance(report, dict):
            raise FormatError("a PII report must be a JSON object", file=str(pii))
        yield from pii_outputs(report)
    kg = run_dir / "kg.ttl"
    if kg.is_file():
        yield from kg_outputs(kg, settings.max_message_bytes - 4096)
    bundles = run_dir / "cti" / "bundles.jsonl"
    if bundles.is_file():
        yield JsonLinesFile(bundles, "cti-bundle", STIX_JSON)
    insights = run_dir / "insights.json"
    if insights.is_file():
        yield Output("insights", _load_json(insights))
    events = run_dir / "events.jsonl"
    if include_events and events.is_file():
        yield from event_batches(events, settings.events_per_batch)


def run_outputs(run_dir: Path, settings: BusSettings, *, include_events: bool = False) -> Iterator[Output]:
    """Every message a run folder publishes, in a fixed order (one :class:`Output` per message)."""
    for part in run_parts(run_dir, settings, include_events=include_events):
        if isinstance(part, JsonLinesFile):
            for _number, line in jsonl_lines(part.path):
                yield Output(part.kind, line, part.content_type)
        else:
            yield part


def publish_run(
    run_dir: Path, settings: BusSettings, *, run_id: str, holder: str, include_events: bool = False
) -> DeliveryReport:
    """Publish a finished run and wait until the broker has every message; raises ``BusError`` if not.

    ``seq`` numbers the messages of the run in order, so a consumer can tell a gap from a replay.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise FormatError("run folder not found", file=str(run_dir))
    seq = 0
    with Publisher(settings) as publisher:
        for part in run_parts(run_dir, settings, include_events=include_events):
            if isinstance(part, JsonLinesFile):
                batches = envelope_batches(
                    part.path,
                    kind=part.kind,
                    content_type=part.content_type,
                    run_id=run_id,
                    holder=holder,
                    first_seq=seq,
                )
                for batch in batches:
                    seq += publisher.send_batch(
                        part.kind, part.content_type, batch, run_id=run_id, holder=holder
                    )
            else:
                seq += publisher.send_all([part], run_id=run_id, holder=holder, first_seq=seq)
    return publisher.report
