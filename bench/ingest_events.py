"""events-json NDJSON ingestion: the compiled reader against the reference path, in the same run.

Method (one run, this machine): ``ppcti.samples`` writes ``--rows`` entries per format; the NDJSON event
feeds (ECS and Zeek, with their defects: truncated lines, broken records, duplicates) go through the core
pipeline (ingest, detect, parse and clean, deduplication, minimisation, writing ``events.jsonl``,
``cleaned/`` and ``rejects.jsonl``) in a fresh process pinned to one core (``taskset -c 0``,
``POLARS_MAX_THREADS=1``, one BLAS thread), alternately with the compiled reader on and off
(``PPCTI_NATIVE=0``: the reference, a per-line loop of orjson and Python dictionaries doing the same
job). Each side runs ``--repeat`` times and the best is kept; wall and CPU time are both reported,
since other jobs may share the cores. The outputs of the two sides, cleaned copies included, are
compared byte for byte. As in
``bench/ingest.py``, each run starts by writing and deleting a 1 GiB scratch file, so that both sides
write into reused page-cache pages (fresh pages cost this virtual machine about 2 µs each to touch),
into a folder emptied first (the outputs of the previous repeat are not freed inside the timed run),
and ``src/`` is byte-compiled first, as an installed package is.

Last, the compiled reader alone (``EventsReader.read_bytes`` on an 8 MiB chunk of each file, best of
seven, pinned likewise) gives its CPU per line.

Usage: ``python bench/ingest_events.py [--rows 200000] [--repeat 3]``; prints a Markdown table.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_CHILD = r"""
import json, os, resource, sys, time
from pathlib import Path
from datetime import date
from ppcti.pipeline import RunOptions, run_pipeline
from ppcti.clean.timestamps import TimeContext
if os.environ.get("BENCH_STREAM_ARRAYS") == "1":  # bench/ingest_arrays.py: every array through ijson
    import ppcti.formats.events_json
    ppcti.formats.events_json.WHOLE_ARRAY_MAX = -1
inputs = [Path(p) for p in sys.argv[2:]]
cpu, wall = time.process_time(), time.perf_counter()
summary = run_pipeline(inputs, RunOptions(holder="bench", out=Path(sys.argv[1]),
    skip=frozenset({"pii", "cti", "analysis", "report"}), time=TimeContext(year=2023, date=date(2023, 3, 7))))
print(json.dumps({"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu,
                  "stages": summary.stage_seconds, "events": summary.events, "rejects": summary.rejects,
                  "peak_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


_READER = r"""
import json, sys, time
from ppcti.clean.timestamps import TimeContext
from ppcti.formats._events_native import native_reader
from ppcti.formats.mapping import builtin_mappings
reader = native_reader(builtin_mappings(), TimeContext())
lines = seconds = 0
for name in sys.argv[1:]:
    data = open(name, "rb").read()
    data = data[: data.rfind(b"\n", 0, 8 << 20) + 1]  # one chunk of the pipeline's 8 MiB
    times = []
    for _ in range(7):
        cpu = time.process_time()
        reader.read_bytes(data, 1)
        times.append(time.process_time() - cpu)
    lines += data.count(b"\n")
    seconds += min(times)
print(json.dumps({"us_per_line": seconds / lines * 1e6}))
"""


def reader_us_per_line(files: list[Path]) -> float:
    """CPU per line of the compiled reader alone (``EventsReader.read_bytes`` on an 8 MiB chunk of each
    file, best of seven), in a child pinned to one core."""
    cmd = [sys.executable, "-c", _READER, *map(str, files)]
    if shutil.which("taskset"):
        cmd = ["taskset", "-c", "0", *cmd]
    env = {**os.environ, "POLARS_MAX_THREADS": "1", "PPCTI_NATIVE": "1"}
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    return float(json.loads(done.stdout.strip().splitlines()[-1])["us_per_line"])


def run(files: list[Path], out: Path, native: bool, stream_arrays: bool = False) -> dict:
    from ingest import byte_compile, warm_page_cache  # bench/ingest.py, beside this script

    byte_compile()
    # the last repeat's outputs are deleted here, not inside the timed run: replacing a 200 MB
    # events.jsonl frees its pages in the pipeline's process (0.13-0.16 s of a 2.5 s run at 600,000)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    warm_page_cache(out)
    env = {
        **os.environ,
        "POLARS_MAX_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "PPCTI_NATIVE": "1" if native else "0",
        "BENCH_STREAM_ARRAYS": "1" if stream_arrays else "0",
    }
    cmd = [sys.executable, "-c", _CHILD, str(out), *map(str, files)]
    if shutil.which("taskset"):
        cmd = ["taskset", "-c", "0", *cmd]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def best_of(files: list[Path], out: Path, repeat: int) -> dict[bool, dict]:
    """Each side ``repeat`` times, alternating, into ``out/native`` and ``out/reference``; the run with
    the least CPU time of each side (keyed by ``native``)."""
    best: dict[bool, dict] = {}
    for _ in range(repeat):
        for native in (True, False):
            result = run(files, out / ("native" if native else "reference"), native)
            if native not in best or result["cpu"] < best[native]["cpu"]:
                best[native] = result
    return best


def same_outputs(a: Path, b: Path, files: list[Path]) -> bool:
    """Whether two run folders hold the same events, rejects and cleaned copies (one per input file),
    byte for byte."""
    cleaned = sorted(p.relative_to(a) for p in (a / "cleaned").rglob("*") if p.is_file())
    if len(cleaned) != len(files) or cleaned != sorted(p.relative_to(b) for p in (b / "cleaned").rglob("*")):
        return False
    names = ["events.jsonl", "rejects.jsonl", *cleaned]
    return all(filecmp.cmp(a / name, b / name, shallow=False) for name in names)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "ingest_events")
    args = parser.parse_args()
    from ppcti.samples import generate

    data = args.out / "data"
    if not (data / "ecs-events.jsonl").exists():
        generate(data, rows=args.rows, seed=17)
    files = [data / "ecs-events.jsonl", data / "zeek-conn.jsonl"]
    entries = sum(sum(1 for line in f.open("rb") if line.strip()) for f in files)
    best = best_of(files, args.out, args.repeat)
    same = same_outputs(args.out / "native", args.out / "reference", files)
    load = os.getloadavg()
    print(f"{entries:,} NDJSON entries (ECS + Zeek), best of {args.repeat}; load average {load[0]:.1f}")
    print(f"outputs byte-identical: {same}\n")
    print("| path | wall s | entries/s wall | CPU s | entries/s CPU | parse s | write s | peak RSS MiB |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for native in (True, False):
        r = best[native]
        name = "compiled reader" if native else "reference (`PPCTI_NATIVE=0`)"
        print(
            f"| {name} | {r['wall']:.2f} | {entries / r['wall']:,.0f} | {r['cpu']:.2f} | "
            f"{entries / r['cpu']:,.0f} | {r['stages'].get('parse', 0):.2f} | "
            f"{r['stages'].get('write', 0):.2f} | {r['peak_kib'] / 1024:.0f} |"
        )
    print(
        f"\nratio, compiled / reference: {best[False]['wall'] / best[True]['wall']:.1f}x wall, "
        f"{best[False]['cpu'] / best[True]['cpu']:.1f}x CPU"
    )
    print(f"compiled reader alone: {reader_us_per_line(files):.2f} µs of CPU per line")


if __name__ == "__main__":
    main()
