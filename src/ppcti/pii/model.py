"""PII findings: the contract between detection (``ppcti.pii``), the knowledge graph (``ppcti.kg``),
reports (``pii.json``), Kafka (``ppcti.pii`` topic) and the privacy recommendation.

Findings never hold raw values: examples are masked before they are stored here.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any


@dataclass(slots=True)
class Finding:
    """One PII type found in one place of an upload.

    Structured data: ``column`` is the header (or JSON path) and the evidence counts are over the sampled
    distinct values. Free text: ``start``/``end`` are character offsets in the file's decoded text.
    """

    file: str
    type: str
    confidence: float
    detector: str
    column: str | None = None
    start: int | None = None
    end: int | None = None
    line: int | None = None  # free text: 1-based line of ``start`` (added for reading logs; optional)
    matched: int = 0
    sampled: int = 0
    match_rate: float | None = None
    runner_up: list[dict[str, Any]] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The fields that are set, in declaration order. Not :func:`dataclasses.asdict`: its deep copy
        was most of the cost of writing ``pii.json`` (tens of thousands of findings from log text); the
        two lists are copied one level, which is all a finding nests."""
        out: dict[str, Any] = {}
        for name in _FINDING_FIELDS:
            value = getattr(self, name)
            if value is not None:
                out[name] = (
                    [dict(v) for v in value]
                    if name == "runner_up"
                    else (list(value) if name == "examples" else value)
                )
        return out


_FINDING_FIELDS = tuple(f.name for f in fields(Finding))


@dataclass(slots=True)
class PiiReport:
    """Everything the PII stage learnt about one upload.

    ``flags`` and ``use_case`` are filled by the knowledge graph's inference (quasi-identifier sets,
    special-category data, threat-intelligence logs vs other data).
    """

    upload: str
    holder: str | None
    files: list[dict[str, Any]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    flags: list[dict[str, Any]] = field(default_factory=list)
    use_case: str | None = None
    generated_at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "upload": self.upload,
            "holder": self.holder,
            "generated_at": self.generated_at,
            "use_case": self.use_case,
            "files": self.files,
            "findings": [f.to_dict() for f in self.findings],
            "flags": self.flags,
        }
