"""The compiled part of the cleaned copy (shared by the CSV formats) against its reference, in the same run.

Method (one process pinned to one core, ``POLARS_MAX_THREADS=1`` set by the caller; best of
``--repeat`` by CPU time): the inputs are the e-mail sample of ``bench/ingest_email.py`` (three exports,
180,000 rows) and the outputs of its compiled run, so that run must have been made first.

- cleaned copy: ``ppcti_native.risky_rows`` (rows that may start a formula) against the Polars regex.

The writers' chunked output has no reference left to run beside it (the one-piece write is gone); its
effect was measured on whole runs against the build before it (docs/benchmarks.md).

Usage: ``python bench/cleaned_copy.py [--repeat 5]``; prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import polars as pl

from timing import best  # beside this script

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "out" / "ingest_email"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    import ppcti_native as native

    cleaned = pl.concat(
        [
            pl.read_csv(p, has_header=False, separator="\x01", quote_char=None, schema={"line": pl.String})
            for p in sorted((DATA / "native" / "cleaned").iterdir())
        ]
    )
    risky = r'(?:^|[,])"?[=+\-@\t]|[\r\n]'
    rows: list[tuple[str, float, float]] = []
    assert native.risky_rows(cleaned, ",") == cleaned.to_series().str.contains(risky).arg_true().to_list()
    rows.append(
        (
            f"cleaned copy, risky rows of {cleaned.height:,}",
            best(lambda: native.risky_rows(cleaned, ","), args.repeat, time.process_time),
            best(lambda: cleaned.to_series().str.contains(risky).arg_true(), args.repeat, time.process_time),
        )
    )
    load = os.getloadavg()[0]
    print(f"best of {args.repeat} by CPU time, one core; load average {load:.1f}\n")
    print("| part | compiled CPU s | reference CPU s | ratio |")
    print("|---|---:|---:|---:|")
    for name, compiled, reference in rows:
        print(f"| {name} | {compiled:.4f} | {reference:.4f} | {reference / compiled:.1f}x |")


if __name__ == "__main__":
    main()
