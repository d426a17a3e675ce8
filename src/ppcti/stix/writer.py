"""Write ``cti/bundles.jsonl``, ``cti/aggregate.json`` and ``cti/observations.json`` from events; the
filesystem edge of ppcti.stix.

Bundles stream to disk one line per event in event order, so memory stays bounded whatever the input size;
only the aggregate keeps state (distinct objects). Files are written under a temporary name and renamed
when complete, so a crashed run never leaves a truncated file that looks finished. Invalid values go to
``invalid.jsonl`` with file, line, field and reason, never the value.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ppcti.errors import InputRefused
from ppcti.netrange import own_addresses
from ppcti.outdir import open_atomic, write_atomic
from ppcti.stix import normalise as norm
from ppcti.stix.aggregate import Aggregator
from ppcti.stix.build import BundleBuilder, Problem
from ppcti.stix.options import CtiOptions

BUNDLES_FILE = "bundles.jsonl"
AGGREGATE_FILE = "aggregate.json"
#: The distinct observations of the run (see :mod:`ppcti.stix.aggregate` for why they are apart).
OBSERVATIONS_FILE = "observations.json"
INVALID_FILE = "invalid.jsonl"
EVENTS_FILE = "events.jsonl"
#: The holder's private infrastructure, written by ``ppcti analyse`` beside the events of a run.
INFRASTRUCTURE_FILE = "infrastructure.json"
_PROGRESS_EVERY = 2048


@dataclass(slots=True)
class CtiSummary:
    """Counts of one CTI run; ``problems`` holds the first ``options.max_reported`` invalid values."""

    events: int = 0
    bundles: int = 0
    objects: int = 0
    skipped: int = 0
    invalid: int = 0
    aggregate_objects: int = 0
    observation_objects: int = 0
    attackers: int = 0
    attackers_seen_by_several: int = 0
    #: Entries whose attacking side was kept from the CTI, by reason (see :mod:`ppcti.netrange`).
    withheld: dict[str, int] = field(default_factory=dict)
    holders: list[str] = field(default_factory=list)
    invalid_by_reason: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    elapsed: float = 0.0
    bundles_path: Path | None = None
    aggregate_path: Path | None = None
    observations_path: Path | None = None

    @property
    def bundles_per_second(self) -> float:
        return self.bundles / self.elapsed if self.elapsed > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "bundles": self.bundles,
            "objects": self.objects,
            "skipped": self.skipped,
            "invalid": self.invalid,
            "aggregate_objects": self.aggregate_objects,
            "observation_objects": self.observation_objects,
            "attackers": self.attackers,
            "attackers_seen_by_several": self.attackers_seen_by_several,
            "withheld": self.withheld,
            "holders": self.holders,
            "invalid_by_reason": self.invalid_by_reason,
            "problems": [p.to_dict() for p in self.problems],
            "elapsed": round(self.elapsed, 3),
        }


def events_file(path: Path) -> Path:
    """``path`` itself, or ``path/events.jsonl`` for a run folder written by ``ppcti run``."""
    candidate = path / EVENTS_FILE if path.is_dir() else path
    if not candidate.is_file():
        raise InputRefused(f"no {EVENTS_FILE} here", file=str(path))
    return candidate


def read_events(paths: Iterable[Path], problems: list[Problem] | None = None) -> Iterator[dict[str, Any]]:
    """Events from ``events.jsonl`` files or run folders, in order; unreadable lines become problems."""
    for path in paths:
        source = events_file(path)
        with source.open("rb") as handle:
            for number, raw in enumerate(handle, 1):
                if not raw.strip():
                    continue
                try:
                    event = orjson.loads(raw)
                except orjson.JSONDecodeError:
                    event = None
                if isinstance(event, dict):
                    yield event
                elif problems is not None:
                    problems.append(Problem(str(source), number, "event", "not a JSON object"))


def write_cti(
    events: Path | Sequence[Path] | Iterable[dict[str, Any]],
    out_dir: Path,
    *,
    options: CtiOptions = CtiOptions(),
    progress: Callable[[int], None] | None = None,
) -> CtiSummary:
    """Write one bundle per event to ``out_dir/bundles.jsonl``, the deduplicated ``aggregate.json``
    (indicators and sightings) and ``observations.json`` (every distinct observation once).

    ``events`` is an ``events.jsonl`` path or run folder, several of them (e.g. one per data holder, for
    one aggregate), or already loaded event dicts. ``progress`` is called with the number of events done.
    """
    started = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    read_problems: list[Problem] = []
    builder = BundleBuilder(options)
    if isinstance(events, Path):
        stream: Iterable[dict[str, Any]] = read_events([events], read_problems)
        builder.own = _own_infrastructure([events])
    elif isinstance(events, Sequence) and events and all(isinstance(p, Path) for p in events):
        stream = read_events(list(events), read_problems)  # type: ignore[arg-type]
        builder.own = _own_infrastructure(list(events))  # type: ignore[arg-type]
    else:
        stream = events  # type: ignore[assignment]
        if isinstance(events, Sequence):  # a generator is read once: only the direction rule applies
            builder.own = _own_of(events)  # type: ignore[arg-type]
    withheld: Counter[str] = Counter()

    aggregate = Aggregator(builder)
    summary = CtiSummary()
    reasons: Counter[str] = Counter()
    dumps = orjson.dumps
    bundles_path = out_dir / BUNDLES_FILE
    invalid_path = out_dir / INVALID_FILE

    def report(problem: Problem, sink: Any) -> None:
        summary.invalid += 1
        reasons[f"{problem.field}: {problem.reason}"] += 1
        if len(summary.problems) < options.max_reported:
            summary.problems.append(problem)
        sink.write(dumps(problem.to_dict()) + b"\n")

    with open_atomic(bundles_path) as out, open_atomic(invalid_path) as bad:
        write = out.write
        for event in stream:
            while read_problems:
                report(read_problems.pop(0), bad)
            summary.events += 1
            built = builder.build(event)
            if built.withheld is not None:
                withheld[built.withheld] += 1
            for problem in built.problems:
                report(problem, bad)
            if built.json is None:
                summary.skipped += 1
            else:
                write(built.json + b"\n")
                summary.bundles += 1
                summary.objects += len(built.ids)
                aggregate.add(built)
            if progress is not None and summary.events % _PROGRESS_EVERY == 0:
                progress(summary.events)
        for problem in read_problems:
            report(problem, bad)
    aggregate_path = out_dir / AGGREGATE_FILE
    write_atomic(aggregate_path, aggregate.to_json())
    observations_path = out_dir / OBSERVATIONS_FILE
    write_atomic(observations_path, aggregate.observations_json())
    if progress is not None:
        progress(summary.events)

    summary.aggregate_objects = aggregate.object_count
    summary.observation_objects = aggregate.observation_count
    summary.attackers = aggregate.attackers
    summary.attackers_seen_by_several = aggregate.attackers_seen_by_several
    summary.holders = aggregate.holders
    summary.withheld = dict(withheld.most_common())
    summary.invalid_by_reason = dict(reasons.most_common())
    summary.elapsed = time.perf_counter() - started
    summary.bundles_path = bundles_path
    summary.aggregate_path = aggregate_path
    summary.observations_path = observations_path
    return summary


def _own_of(events: Iterable[dict[str, Any]]) -> set[tuple[str, str]]:
    """``(holder, canonical address)`` of every address the events show to be a holder's own."""
    own: set[tuple[str, str]] = set()
    for event in events:
        holder = event.get("holder")
        if not isinstance(holder, str):
            continue
        for raw in own_addresses(event):
            found = norm.ip_address(raw)
            if found is not None:
                own.add((holder.strip(), found[1]))
    return own


def _own_infrastructure(paths: list[Path]) -> set[tuple[str, str]]:
    """The holders' own addresses: from a first pass over the events, and from ``infrastructure.json``
    where a run folder has one, so that none of them is ever shared as an attacker."""
    own = _own_of(read_events(paths))
    for path in paths:
        infra = (path if path.is_dir() else path.parent) / INFRASTRUCTURE_FILE
        try:
            data = orjson.loads(infra.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            continue
        holders = data.get("holders") if isinstance(data, dict) else None
        for holder, entry in (holders or {}).items() if isinstance(holders, dict) else ():
            for item in (entry or {}).get("ips") or [] if isinstance(entry, dict) else []:
                found = norm.ip_address(item.get("address")) if isinstance(item, dict) else None
                if found is not None:
                    own.add((str(holder).strip(), found[1]))
    return own
