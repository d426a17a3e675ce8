"""Benchmark of per-file overhead: uploads of many small files, and other wide or long shapes.

Run: ``.venv/bin/python bench/many_files.py [--members 500,1000,2000,4000] [--rows 20]``

For each member count N, a ZIP of N small firewall logs (``--rows`` lines each, every one distinct) is
run through ingest (:func:`ppcti.ingest.open_upload`) and through the core stages of ``ppcti run``
(detection, parsing, cleaning, deduplication, writing; the later stages skipped). The figure that
matters is the time per member: it must stay flat as N grows (constant per-file overhead). The
baseline, measured in the same run, is the same number of lines in one single file, so the ratio
``N files / 1 file`` is the cost of the files being separate.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import zipfile
from pathlib import Path

from ppcti.ingest import open_upload
from ppcti.pipeline import RunOptions, run_pipeline

SKIP = frozenset({"pii", "cti", "analysis", "report"})


def line(i: int) -> str:
    return (
        f"Mar/07/2023 10:{i // 60 % 60:02d}:{i % 60:02d} firewall,info prerouting: in:ether1 "
        f"out:(unknown 0), src-mac 00:17:10:88:bc:02, proto TCP (SYN), "
        f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}:{1024 + i % 60000}->203.0.113.5:22, len 60"
    )


def make_zip(path: Path, members: int, rows: int) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for m in range(members):
            text = "\n".join(line(m * rows + r) for r in range(rows)) + "\n"
            zf.writestr(f"logs/host{m:05d}.log", text)


def make_single(path: Path, members: int, rows: int) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("all.log", "\n".join(line(i) for i in range(members * rows)) + "\n")


def timed(upload: Path, out: Path) -> tuple[float, float, dict[str, float]]:
    start = time.perf_counter()
    with open_upload(upload, holder="bench") as up:
        files = len(up.files)
    ingest = time.perf_counter() - start
    start = time.perf_counter()
    summary = run_pipeline(upload, RunOptions(holder="bench", out=out, skip=SKIP))
    total = time.perf_counter() - start
    assert summary.events > 0 and files > 0
    return ingest, total, summary.stage_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", default="500,1000,2000,4000")
    parser.add_argument("--rows", type=int, default=20)
    args = parser.parse_args()
    print(f"{'members':>8} {'ingest s':>9} {'run s':>8} {'ms/member':>10} {'1 file s':>9} {'ratio':>6}  stages")
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        for n in (int(x) for x in args.members.split(",")):
            many, one = base / f"many{n}.zip", base / f"one{n}.zip"
            make_zip(many, n, args.rows)
            make_single(one, n, args.rows)
            ingest, total, stages = timed(many, base / f"out-many{n}")
            _, single, _ = timed(one, base / f"out-one{n}")
            shown = " ".join(f"{k}={v:.2f}" for k, v in stages.items())
            print(
                f"{n:>8} {ingest:>9.2f} {total:>8.2f} {1000 * total / n:>10.2f} {single:>9.2f} "
                f"{total / single:>6.1f}  {shown}"
            )


if __name__ == "__main__":
    main()
