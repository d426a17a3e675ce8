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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--split", default="dev")
    ap.add_argument("--errors", action="store_true")
    ap.add_argument("--nlp", default="regex")
    ap.add_argument("--root", type=Path, default=ROOT)
    args = ap.parse_args(argv)
    from ppcti.pii import PiiOptions

    res = eval_tables(args.split, PiiOptions(nlp=args.nlp), args.root)
    print(f"tables {res['split']}: {res['files']} files, {res['columns']} columns, "
          f"{len(res['languages'])} languages; P {res['precision']:.3f} R {res['recall']:.3f} "
          f"F1 {res['f1']:.3f} ({res['seconds']:.1f} s)")  # fmt: skip
    for t, (p, r, f1, n) in res["per_type"].items():
        print(f"  {t:16} P {p:.2f} R {r:.2f} F1 {f1:.2f} n={n}")
    if args.errors:
        for e in res["errors"]:
            print("  ", *e)
    return 0


if __name__ == "__main__":
    sys.exit(main())
