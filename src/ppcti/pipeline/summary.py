"""What a run found and did: per-file statistics and the run summary written as ``summary.json``."""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from ppcti import __version__


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

    @classmethod
    def start(cls, holder: str, started: datetime) -> RunSummary:
        """An empty summary whose run id is unique per holder and start time."""
        digest = hashlib.sha256(f"{holder}\x00{started.isoformat()}".encode()).hexdigest()[:8]
        return cls(
            run_id=f"{started.strftime('%Y%m%dT%H%M%SZ')}-{digest}",
            holder=holder,
            started_at=started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        )

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

    def write(self, out: Path) -> None:
        """``summary.json`` in ``out``; written again whenever a later stage needs the figures so far."""
        data = orjson.dumps(self.to_dict(), option=orjson.OPT_INDENT_2) + b"\n"
        (out / "summary.json").write_bytes(data)
