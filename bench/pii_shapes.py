"""PII stage cost on awkward upload shapes, as a ratio against a plain table measured in the same run.

    .venv/bin/python bench/pii_shapes.py          # 500 members, 200,000 records, 10,000 columns
    .venv/bin/python bench/pii_shapes.py --quick    # a tenth of each

Shapes (regex mode, no model: the cost measured is ppcti's own):
- ``zip``: a ZIP of N small CSV members (20 rows, 3 columns each): per-file overhead.
- ``json``: one JSON array of R records with nested objects (~245 bytes each): cost per record.
- ``wide``: one CSV of C columns and 50 rows: cost per column.
- ``baseline``: one CSV of 10,000 rows x 20 columns of the same kinds of values.

The figure that matters is each shape's time over the baseline's, which stays comparable when the
machine is shared; docs/benchmarks.md records the method and a run.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import orjson


def make_zip(path: Path, members: int, rng: random.Random) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for i in range(members):
            rows = ["name,email,amount"] + [
                f"Person {j},p{j}.{i}@example.org,{rng.randint(1, 999)}" for j in range(20)
            ]
            z.writestr(f"m{i:04}.csv", "\n".join(rows) + "\n")
    return path


def make_json(path: Path, records: int, rng: random.Random) -> Path:
    data = [
        {
            "id": i,
            "user": {
                "name": f"User {i}",
                "email": f"u{i}@example.org",
                "ip": f"10.{i % 256}.{i // 256 % 256}.7",
            },
            "amount": round(rng.random() * 100, 2),
            "tags": ["a", "b"],
            "note": "lorem ipsum dolor sit amet " * 3,
        }
        for i in range(records)
    ]
    path.write_bytes(orjson.dumps(data))
    return path


def make_wide(path: Path, columns: int, rng: random.Random) -> Path:
    with path.open("w") as f:
        f.write(",".join(f"c{i}" for i in range(columns)) + "\n")
        for _ in range(50):
            f.write(",".join(str(rng.randint(0, 99999)) for _ in range(columns)) + "\n")
    return path


def make_baseline(path: Path, rng: random.Random) -> Path:
    with path.open("w") as f:
        f.write(",".join(f"c{i}" for i in range(17)) + ",name,email,ip\n")
        for r in range(10_000):
            nums = ",".join(str(rng.randint(0, 99999)) for _ in range(17))
            f.write(f"{nums},Person {r},p{r}@example.org,10.0.{r % 256}.{r // 256}\n")
    return path


def timed(path: Path) -> tuple[float, int]:
    from ppcti.pii import PiiOptions, scan_paths

    t0 = time.perf_counter()
    report = scan_paths([path], options=PiiOptions(nlp="regex"))
    return time.perf_counter() - t0, len(report.findings)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    scale = 10 if args.quick else 1
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        shapes = {
            "baseline (10,000 rows x 20 columns)": make_baseline(d / "base.csv", rng),
            f"zip ({500 // scale} small CSV members)": make_zip(d / "many.zip", 500 // scale, rng),
            f"json ({200_000 // scale:,} records)": make_json(d / "big.json", 200_000 // scale, rng),
            f"wide ({10_000 // scale:,} columns x 50 rows)": make_wide(d / "wide.csv", 10_000 // scale, rng),
        }
        timed(shapes["baseline (10,000 rows x 20 columns)"])  # warm-up: vocabularies and detectors load once
        results = {name: timed(path) for name, path in shapes.items()}
    base = next(iter(results.values()))[0]
    print("| shape | seconds | x baseline | findings |\n|---|---|---|---|")
    for name, (secs, n) in results.items():
        print(f"| {name} | {secs:.2f} | {secs / base:.1f} | {n} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
