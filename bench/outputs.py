"""Benchmark: what the output-side safety costs, each as a ratio against the unsafe way in the same run.

1. CTI with the sharing rules' first pass (the holders' own addresses, read from the events) against
   the same ``write_cti`` fed the same file as a one-pass stream (direction and range rules only).
2. Cleaned CSV copies with formula cells neutralised and line breaks quoted (``ppcti.cleaned``)
   against writing the cleaned lines verbatim (``ppcti.outputs.write_lines``, the earlier way).

    .venv/bin/python bench/outputs.py --n 200000
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import sys
import tempfile
from pathlib import Path

import orjson
import polars as pl

sys.path.insert(0, str(Path(__file__).parent))

from ppcti.cleaned import CleanedWriter
from ppcti.outputs import write_lines
from ppcti.stix.writer import read_events, write_cti
from stix import synthetic_events
from timing import best


def bench_cti(n: int, folder: Path, repeat: int) -> dict[str, float]:
    events = folder / "events.jsonl"
    events.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in synthetic_events(n)))
    with_pass = best(lambda: write_cti(events, folder / "a"), repeat)
    one_pass = best(lambda: write_cti(read_events([events]), folder / "b"), repeat)
    return {"events": n, "two_pass_s": with_pass, "one_pass_s": one_pass, "ratio": with_pass / one_pass}


def _csv_lines(n: int, risky_share: float) -> list[str]:
    rng = random.Random(3)
    benign = ["Invoice overdue", "Re: meeting", "Ihre Rechnung", "Urgent: wire transfer"]
    risky = ['=HYPERLINK("http://x","y")', "-5 % off", "line\nbreak", "+1+cmd|' /C calc'!A0"]
    lines = []
    for i in range(n):
        subjects = risky if rng.random() < risky_share else benign
        buffer = io.StringIO()
        sender = f"u{i % 977}@spam.example"
        row = ["2023-03-01T10:00:00Z", sender, "bob@corp.example", rng.choice(subjects), "spam"]
        csv.writer(buffer, lineterminator="").writerow(row)
        lines.append(buffer.getvalue())
    return lines


def bench_cleaned(n: int, folder: Path, repeat: int, risky_share: float) -> dict[str, float]:
    frame = pl.DataFrame({"cleaned": _csv_lines(n, risky_share)})
    numbers = pl.Series(range(2, n + 2))

    def safe() -> None:
        with CleanedWriter(folder / "safe.csv") as writer:
            writer.write_header("date,sender,recipients,subject,verdict")
            writer.write(frame, numbers)

    def verbatim() -> None:
        with open(folder / "plain.csv", "wb") as handle:
            handle.write(b"date,sender,recipients,subject,verdict\n")
            write_lines(frame, handle)

    safe_s, plain_s = best(safe, repeat), best(verbatim, repeat)
    return {
        "rows": n,
        "risky_share": risky_share,
        "safe_s": safe_s,
        "verbatim_s": plain_s,
        "ratio": safe_s / plain_s,
        "safe_rows_per_s": n / safe_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        report = {
            "cti": bench_cti(args.n, folder, args.repeat),
            "cleaned_csv_1pct_risky": bench_cleaned(args.n, folder, args.repeat, 0.01),
            "cleaned_csv_all_risky": bench_cleaned(args.n, folder, args.repeat, 1.0),
        }
    print(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode())


if __name__ == "__main__":
    main()
