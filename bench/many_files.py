"""Benchmark of per-file overhead: uploads of many small files, and other wide or long shapes.

Run: ``.venv/bin/python bench/many_files.py [--members 500,1000,2000,4000] [--rows 20]
[--wide-columns 10000] [--json-records 200000]``

For each member count N, a ZIP of N small firewall logs (``--rows`` lines each, every one distinct) is
run through ingest (:func:`ppcti.ingest.open_upload`) and through the core stages of ``ppcti run``
(detection, parsing, cleaning, deduplication, writing; the later stages skipped). The figure that
matters is the CPU time per member (all threads; wall time on a shared machine varies with its load):
it must stay flat as N grows (constant per-file overhead). The baseline, measured in the same run, is
the same lines in one single file, so the ratio ``N files / 1 file`` is the cost of the files being
separate.

Two more shapes, core stages only: a CSV export of ``--wide-columns`` columns (100 rows), against the
same number of cells as a 5-column CSV; and a one-line JSON array of ``--json-records`` records,
against the same records as NDJSON. Both ratios should stay near 1 (cost per cell, per record).
"""

from __future__ import annotations

import argparse
import tempfile
import time
import zipfile
from pathlib import Path

import orjson

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


def wide_csv(path: Path, columns: int, rows: int) -> None:
    names = ["date", "sender", "recipients", "subject", "verdict"] + [f"c{i}" for i in range(columns - 5)]
    with path.open("w") as fh:
        fh.write(",".join(names) + "\n")
        for r in range(rows):
            fixed = [f"2023-03-07 10:{r // 60 % 60:02d}:{r % 60:02d}", f"s{r}@evil.example", "b@corp.example"]
            fh.write(",".join([*fixed, "hi", "spam", *(str(i) for i in range(columns - 5))]) + "\n")


def narrow_csv(path: Path, cells: int) -> None:
    with path.open("w") as fh:
        fh.write("date,sender,recipients,subject,verdict\n")
        for r in range(cells // 5):
            fh.write(
                f"2023-03-07 10:{r // 60 % 60:02d}:{r % 60:02d},s{r}@evil.example,b@corp.example,hi,spam\n"
            )


def json_records(n: int) -> list[dict[str, object]]:
    return [
        {
            "timestamp": f"2023-03-07T10:{i // 60 % 60:02d}:{i % 60:02d}Z",
            "event_type": "alert",
            "src_ip": f"198.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}",
            "src_port": i % 65535,
            "dest_ip": "10.0.0.6",
            "dest_port": 443,
            "proto": "TCP",
            "flow_id": i,
        }
        for i in range(n)
    ]


def core_seconds(path: Path, out: Path) -> float:
    start = time.perf_counter()
    summary = run_pipeline(path, RunOptions(holder="bench", out=out, skip=SKIP))
    assert summary.events > 0
    return time.perf_counter() - start


def shapes(base: Path, columns: int, records: int) -> None:
    wide, narrow = base / "wide.csv", base / "narrow.csv"
    wide_csv(wide, columns, 100)
    narrow_csv(narrow, columns * 100)
    w, n = core_seconds(wide, base / "out-wide"), core_seconds(narrow, base / "out-narrow")
    print(
        f"CSV {columns} columns x 100 rows: {w:.2f} s; same cells in 5 columns: {n:.2f} s; ratio {w / n:.1f}"
    )
    array, lines = base / "array.json", base / "lines.jsonl"
    data = json_records(records)
    array.write_bytes(orjson.dumps(data))
    lines.write_bytes(b"\n".join(orjson.dumps(r) for r in data) + b"\n")
    a, ln = core_seconds(array, base / "out-array"), core_seconds(lines, base / "out-lines")
    size = array.stat().st_size / 1e6
    print(
        f"JSON array {records} records ({size:.0f} MB): {a:.2f} s; as NDJSON: {ln:.2f} s; ratio {a / ln:.1f}"
    )


def timed(upload: Path, out: Path) -> tuple[float, float, float, dict[str, float]]:
    """Ingest wall seconds, run wall seconds, run CPU seconds (all threads), stage seconds."""
    start = time.perf_counter()
    with open_upload(upload, holder="bench") as up:
        files = len(up.files)
    ingest = time.perf_counter() - start
    start, cpu = time.perf_counter(), time.process_time()
    summary = run_pipeline(upload, RunOptions(holder="bench", out=out, skip=SKIP))
    total, cpu = time.perf_counter() - start, time.process_time() - cpu
    assert summary.events > 0 and files > 0
    return ingest, total, cpu, summary.stage_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", default="500,1000,2000,4000")
    parser.add_argument("--rows", type=int, default=20)
    parser.add_argument("--wide-columns", type=int, default=2000)
    parser.add_argument("--json-records", type=int, default=50000)
    args = parser.parse_args()
    print(
        f"{'members':>8} {'ingest s':>9} {'run s':>8} {'cpu s':>7} {'cpu ms/member':>14} "
        f"{'1 file cpu s':>13} {'cpu ratio':>9}  stages (wall)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        for n in (int(x) for x in args.members.split(",")):
            many, one = base / f"many{n}.zip", base / f"one{n}.zip"
            make_zip(many, n, args.rows)
            make_single(one, n, args.rows)
            ingest, total, cpu, stages = timed(many, base / f"out-many{n}")
            _, _, single, _ = timed(one, base / f"out-one{n}")
            shown = " ".join(f"{k}={v:.2f}" for k, v in stages.items())
            print(
                f"{n:>8} {ingest:>9.2f} {total:>8.2f} {cpu:>7.2f} {1000 * cpu / n:>14.2f} "
                f"{single:>13.2f} {cpu / single:>9.1f}  {shown}",
                flush=True,
            )
        shapes(base, args.wide_columns, args.json_records)


if __name__ == "__main__":
    main()
