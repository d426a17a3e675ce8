"""Scoring of ppcti.pii on independently made, labelled data (tables and running text).

The data lives in ``tests/data/pii_independent/`` (see its README): ``tables/{dev,test}/<name>.csv`` with
``<name>.labels.json`` (header -> type or null), and ``text/{dev,test}/*.jsonl`` (one sentence per line
with labelled character spans). :mod:`bench.pii_eval` renders these figures beside its own generated
sets; ``tests/pii/test_pii_independent.py`` asserts the targets on the test split.

    .venv/bin/python bench/pii_independent.py --split dev [--errors]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1] / "tests" / "data" / "pii_independent"


@dataclass
class Counts:
    tp: Counter = field(default_factory=Counter)
    fp: Counter = field(default_factory=Counter)
    fn: Counter = field(default_factory=Counter)

    def add(self, truth: str | None, pred: str | None) -> None:
        if truth is not None and pred == truth:
            self.tp[truth] += 1
            return
        if pred is not None:
            self.fp[pred] += 1
        if truth is not None:
            self.fn[truth] += 1

    @staticmethod
    def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
        p = tp / (tp + fp) if tp + fp else 1.0
        r = tp / (tp + fn) if tp + fn else 1.0
        return p, r, (2 * p * r / (p + r) if p + r else 0.0)

    def micro(self) -> tuple[float, float, float]:
        return self._prf(sum(self.tp.values()), sum(self.fp.values()), sum(self.fn.values()))

    def per_type(self) -> dict[str, tuple[float, float, float, int]]:
        types = set(self.tp) | set(self.fp) | set(self.fn)
        return {
            t: (*self._prf(self.tp[t], self.fp[t], self.fn[t]), self.tp[t] + self.fn[t])
            for t in sorted(types)
        }


def table_files(split: str, root: Path = ROOT) -> list[Path]:
    return sorted((root / "tables" / split).glob("*.csv"))


def _read_table(path: Path):
    import polars as pl

    return pl.read_csv(path, infer_schema=False, encoding="utf8-lossy", truncate_ragged_lines=True)


def eval_tables(split: str, options: Any = None, root: Path = ROOT) -> dict[str, Any]:
    """Column micro/per-type P/R/F1 over every table of ``split``; one prediction per column (the
    finding of highest confidence), null when ppcti reports nothing."""
    from ppcti.pii import PiiOptions, classify_table

    options = options or PiiOptions(nlp="regex")
    counts = Counts()
    errors: list[tuple[str, str, str | None, str | None]] = []
    languages: set[str] = set()
    columns = 0
    t0 = time.perf_counter()
    for csv in table_files(split, root):
        labels = json.loads(csv.with_suffix("").with_suffix(".labels.json").read_text(encoding="utf-8"))
        languages.add(labels.get("language", "?"))
        df = _read_table(csv)
        best: dict[str, tuple[float, str]] = {}
        for f in classify_table(df, file=csv.name, options=options):
            if f.column is not None and f.confidence > best.get(f.column, (-1.0, ""))[0]:
                best[f.column] = (f.confidence, f.type)
        for col, truth in labels["columns"].items():
            pred = best.get(col, (0.0, None))[1]
            counts.add(truth, pred)
            columns += 1
            if pred != truth:
                errors.append((csv.name, col, truth, pred))
    p, r, f1 = counts.micro()
    return {
        "split": split, "files": len(table_files(split, root)), "columns": columns,
        "languages": sorted(languages), "precision": p, "recall": r, "f1": f1,
        "per_type": counts.per_type(), "errors": errors, "seconds": time.perf_counter() - t0,
    }  # fmt: skip


#: Types the running-text set labels; predictions of other types (NATIONALITY: the set leaves nationality
#: words unlabelled on purpose) are not scored. Birth and death dates are DATE_TIME there.
TEXT_TYPES = frozenset({
    "PERSON", "LOCATION", "ADDRESS", "DATE_TIME", "PHONE_NUMBER", "AGE", "POSTAL_CODE", "EMAIL_ADDRESS",
    "IP_ADDRESS", "NATIONAL_ID", "URL", "IBAN_CODE", "CREDIT_CARD",
})  # fmt: skip
TEXT_ALIASES = {"BIRTH_DATE": "DATE_TIME", "DECEASED_DATE": "DATE_TIME", "TAX_ID": "NATIONAL_ID"}


def text_records(split: str, root: Path = ROOT) -> list[dict[str, Any]]:
    out = []
    for path in sorted((root / "text" / split).glob("*.jsonl")):
        out.extend(json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    return out


def match_spans(
    truth: list[tuple[int, int, str]], pred: list[tuple[int, int, str]], counts: Counts
) -> list[tuple[str, tuple[int, int, str]]]:
    """Greedy one-to-one matching: same type and intersection-over-union >= 0.5 (the scorer of
    bench/pii_eval.py's free-text part). Returns the misses and false alarms."""
    used: set[int] = set()
    errors: list[tuple[str, tuple[int, int, str]]] = []
    for t in truth:
        hit = None
        for i, p in enumerate(pred):
            if i in used or p[2] != t[2]:
                continue
            inter = min(t[1], p[1]) - max(t[0], p[0])
            union = max(t[1], p[1]) - min(t[0], p[0])
            if inter > 0 and inter / union >= 0.5:
                hit = i
                break
        if hit is None:
            counts.fn[t[2]] += 1
            errors.append(("miss", t))
        else:
            used.add(hit)
            counts.tp[t[2]] += 1
    for i, p in enumerate(pred):
        if i not in used:
            counts.fp[p[2]] += 1
            errors.append(("false", p))
    return errors


def eval_text(
    split: str,
    options: Any = None,
    root: Path = ROOT,
    predict: Callable[[str, str], list[tuple[int, int, str]]] | None = None,
) -> dict[str, Any]:
    """Span P/R/F1 over every labelled sentence of ``split``, overall and per type and language.
    ``predict(text, lang)`` replaces ppcti (a baseline on the same scorer); types are mapped by the caller."""
    from ppcti.pii import PiiOptions, analyze_text

    options = options or PiiOptions()

    def ppcti(text: str, lang: str) -> list[tuple[int, int, str]]:
        opts = _with_language(options, lang) if options.language == "auto" else options
        return [
            (f.start, f.end, TEXT_ALIASES.get(f.type, f.type))
            for f in analyze_text(text, file="t", options=opts)
            if f.start is not None and f.end is not None
        ]

    predict = predict or ppcti
    counts = Counts()
    by_lang: dict[str, Counts] = {}
    errors: list[tuple[str, str, str, str]] = []
    records = text_records(split, root)
    t0 = time.perf_counter()
    for rec in records:
        text = rec["text"]
        lang = rec.get("lang", "en")
        truth = [(s["start"], s["end"], s["type"]) for s in rec["spans"]]
        pred = [p for p in predict(text, lang) if p[2] in TEXT_TYPES]
        match_spans(truth, pred, by_lang.setdefault(lang, Counts()))
        for kind, (a, b, t) in match_spans(truth, pred, counts):
            errors.append((rec["id"], kind, t, text[a:b]))
    p, r, f1 = counts.micro()
    return {
        "split": split, "records": len(records), "precision": p, "recall": r, "f1": f1,
        "per_type": counts.per_type(), "per_language": {k: c.micro() for k, c in sorted(by_lang.items())},
        "errors": errors, "seconds": time.perf_counter() - t0,
        "chars": sum(len(r["text"]) for r in records), "spans": sum(len(r["spans"]) for r in records),
    }  # fmt: skip


def _with_language(options: Any, lang: str) -> Any:
    from dataclasses import replace

    return replace(options, language=lang)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--split", default="dev")
    ap.add_argument("--errors", action="store_true")
    ap.add_argument("--nlp", default="auto")
    ap.add_argument("--part", choices=("tables", "text", "both"), default="both")
    ap.add_argument("--root", type=Path, default=ROOT)
    args = ap.parse_args(argv)
    from ppcti.pii import PiiOptions

    if args.part in ("tables", "both"):
        res = eval_tables(args.split, PiiOptions(nlp=args.nlp), args.root)
        print(f"tables {res['split']}: {res['files']} files, {res['columns']} columns, "
              f"{len(res['languages'])} languages; P {res['precision']:.3f} R {res['recall']:.3f} "
              f"F1 {res['f1']:.3f} ({res['seconds']:.1f} s)")  # fmt: skip
        for t, (p, r, f1, n) in res["per_type"].items():
            print(f"  {t:16} P {p:.2f} R {r:.2f} F1 {f1:.2f} n={n}")
        if args.errors:
            for e in res["errors"]:
                print("  ", *e)
    if args.part in ("text", "both"):
        res = eval_text(args.split, PiiOptions(nlp=args.nlp), args.root)
        print(f"text {res['split']}: {res['records']} records; P {res['precision']:.3f} "
              f"R {res['recall']:.3f} F1 {res['f1']:.3f} ({res['seconds']:.1f} s)")  # fmt: skip
        for lang, (p, r, f1) in res["per_language"].items():
            print(f"  [{lang}] P {p:.3f} R {r:.3f} F1 {f1:.3f}")
        for t, (p, r, f1, n) in res["per_type"].items():
            print(f"  {t:16} P {p:.2f} R {r:.2f} F1 {f1:.2f} n={n}")
        if args.errors:
            for e in res["errors"]:
                print("  ", *e)
    return 0


if __name__ == "__main__":
    sys.exit(main())
