"""Evaluation of attack classification on labelled data that ppcti did not generate.

A split folder (``tests/data/attacks/{dev,test}``) holds one payload per line per class
(``sqli.txt``, ``xss.txt``, ``path_traversal.txt``, ``cmd_injection.txt``), benign request parts and
URLs (``benign.txt``, ``benign_urls.txt``), and IDS alerts with their expected class
(``ids_signatures.jsonl``). Every payload and benign line goes through the payload detector
(:func:`ppcti.analysis.attacks.payload.detect`), every alert through the signature mapping; per class we
report precision and recall (a payload detected as another class counts against both), and the share
of benign lines flagged as anything.

Usage: .venv/bin/python bench/attacks_eval.py [tests/data/attacks/test] [--markdown]
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from ppcti.analysis.attacks.payload import detect
from ppcti.analysis.attacks.signatures import classify_signature

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "attacks"
#: Payload file → the class ppcti should give its lines.
PAYLOAD_FILES: dict[str, str] = {
    "sqli.txt": "sql-injection",
    "xss.txt": "xss",
    "path_traversal.txt": "path-traversal",
    "cmd_injection.txt": "command-injection",
}
BENIGN_FILES: tuple[str, ...] = ("benign.txt", "benign_urls.txt")


@dataclass
class Scores:
    """Confusion counts per class, and benign lines flagged."""

    tp: Counter[str] = field(default_factory=Counter)
    fp: Counter[str] = field(default_factory=Counter)
    fn: Counter[str] = field(default_factory=Counter)
    support: Counter[str] = field(default_factory=Counter)
    benign: Counter[str] = field(default_factory=Counter)  # file -> lines
    benign_flagged: Counter[str] = field(default_factory=Counter)  # file -> lines flagged
    errors: list[tuple[str, str, str | None]] = field(default_factory=list)  # (expected, line, got)

    def add(self, expected: str | None, got: str | None, line: str) -> None:
        if expected is not None:
            self.support[expected] += 1
        if got == expected:
            if expected is not None:
                self.tp[expected] += 1
            return
        if got is not None:
            self.fp[got] += 1
        if expected is not None:
            self.fn[expected] += 1
        self.errors.append((expected or "benign", line, got))

    def precision(self, cls: str) -> float:
        found = self.tp[cls] + self.fp[cls]
        return self.tp[cls] / found if found else 1.0

    def recall(self, cls: str) -> float:
        return self.tp[cls] / self.support[cls] if self.support[cls] else 1.0

    def benign_rate(self, name: str | None = None) -> float:
        names = [name] if name else list(self.benign)
        lines = sum(self.benign[n] for n in names)
        return sum(self.benign_flagged[n] for n in names) / lines if lines else 0.0


def _lines(path: Path) -> list[str]:
    if not path.is_file():
        return []
    text = path.read_text(encoding="utf-8", errors="replace")
    return [ln for ln in text.splitlines() if ln.strip()]


def evaluate_payloads(folder: Path) -> Scores:
    scores = Scores()
    for name, cls in PAYLOAD_FILES.items():
        for line in _lines(folder / name):
            found = detect(line)
            scores.add(cls, found.cls if found else None, line)
    for name in BENIGN_FILES:
        for line in _lines(folder / name):
            found = detect(line)
            scores.benign[name] += 1
            scores.benign_flagged[name] += found is not None
            scores.add(None, found.cls if found else None, line)
    return scores


#: Labels of the IDS file → ppcti classes; "policy", "other" and "benign" mean "not an attack".
LABELS: dict[str, str] = {
    "sql_injection": "sql-injection",
    "sqli": "sql-injection",
    "xss": "xss",
    "path_traversal": "path-traversal",
    "command_injection": "command-injection",
    "cmd_injection": "command-injection",
    "brute_force": "brute-force",
    "scan": "port-scan",
    "malware": "malware-callback",
    "exploit": "exploit",
    "dos": "dos",
    "phishing": "phishing",
}


def _label(record: dict) -> str | None:
    label = str(record.get("class", record.get("label", "")) or "").strip().lower()
    if label in ("", "benign", "none", "policy", "info", "other"):
        return None
    return LABELS.get(label, label)


def evaluate_signatures(folder: Path) -> Scores:
    scores = Scores()
    path = folder / "ids_signatures.jsonl"
    if not path.is_file():
        return scores
    for raw in path.read_bytes().splitlines():
        if not raw.strip():
            continue
        record = orjson.loads(raw)
        alert = record.get("alert") if isinstance(record.get("alert"), dict) else record
        verdict = classify_signature(alert.get("signature"), alert.get("category"))
        expected = _label(record)
        if expected is None:
            scores.benign["ids_signatures.jsonl"] += 1
            scores.benign_flagged["ids_signatures.jsonl"] += verdict is not None
        scores.add(expected, verdict.cls if verdict else None, str(alert.get("signature")))
    return scores


def table(scores: Scores, classes: list[str]) -> list[str]:
    rows = ["| class | support | precision | recall |", "|---|---:|---:|---:|"]
    for cls in classes:
        rows.append(
            f"| {cls} | {scores.support[cls]} | {scores.precision(cls):.3f} | {scores.recall(cls):.3f} |"
        )
    for name in scores.benign:
        rows.append(
            f"| benign ({name}) | {scores.benign[name]} | flagged {scores.benign_flagged[name]} "
            f"| FP rate {scores.benign_rate(name):.2%} |"
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path, default=DATA / "test")
    parser.add_argument("--errors", action="store_true", help="List misclassified lines.")
    args = parser.parse_args(argv)
    payload = evaluate_payloads(args.folder)
    print(f"payloads ({args.folder}):")
    print("\n".join(table(payload, list(PAYLOAD_FILES.values()))))
    sig = evaluate_signatures(args.folder)
    if sig.support or sig.benign:
        print("\nIDS signatures:")
        print("\n".join(table(sig, sorted(sig.support))))
    if args.errors:
        for expected, line, got in payload.errors + sig.errors:
            print(f"{expected:>18} -> {got!s:<18} {line[:140]!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
