"""The overall confidence in an indicator, from what every service said about it.

Rule (documented in docs/enrich.md): each service's score ``s`` (0..100) is taken as the chance that
the service is right that the value is bad, discounted by the service's weight ``w`` (how much its
kind of evidence is worth: engines and abuse reports 1.0, sandbox contacts 0.9, fraud scoring 0.8).
The sources are combined as independent evidence (noisy-OR)::

    confidence = 100 * (1 - prod(1 - w_i * s_i / 100))

so one strong source gives about its own score, and two sources that agree give more than either,
while any number of clean answers never raise it. "Not found" answers count as a score of 0. The
overall verdict follows the confidence: 75 and above malicious, 40 and above suspicious, otherwise
harmless when at least one service knew the value, unknown when none did.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ppcti.enrich.model import VERDICTS, Result

MALICIOUS_AT = 75
SUSPICIOUS_AT = 40


@dataclass(frozen=True, slots=True)
class Overall:
    value: str
    kind: str
    confidence: int
    verdict: str
    sources: tuple[Result, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "value": self.value,
            "kind": self.kind,
            "confidence": self.confidence,
            "verdict": self.verdict,
            "sources": [
                {
                    "service": r.service,
                    "verdict": r.verdict,
                    "score": r.score,
                    "categories": list(r.categories),
                }
                for r in self.sources
            ],
        }


def confidence(results: Iterable[Result], weights: Mapping[str, float]) -> int:
    """The noisy-OR of the weighted scores of the usable results (0..100)."""
    doubt = 1.0
    for result in results:
        if result.usable and result.score is not None:
            weight = weights.get(result.service, 1.0)
            doubt *= 1.0 - weight * max(0, min(100, result.score)) / 100.0
    return round(100 * (1.0 - doubt))


def overall(results: Iterable[Result], weights: Mapping[str, float]) -> list[Overall]:
    """One :class:`Overall` per value that has at least one usable answer, riskiest first."""
    by_value: dict[str, list[Result]] = {}
    for result in results:
        if result.usable:
            by_value.setdefault(result.value, []).append(result)
    out = []
    for value, sources in by_value.items():
        score = confidence(sources, weights)
        known = any(r.status == "ok" and r.verdict != "unknown" for r in sources)
        verdict = (
            "malicious"
            if score >= MALICIOUS_AT
            else "suspicious"
            if score >= SUSPICIOUS_AT
            else "harmless"
            if known
            else "unknown"
        )
        ranked = sorted(sources, key=lambda r: (VERDICTS.index(r.verdict or "unknown"), -(r.score or 0)))
        out.append(Overall(value, sources[0].kind, score, verdict, tuple(ranked)))
    out.sort(key=lambda o: (-o.confidence, o.value))
    return out
