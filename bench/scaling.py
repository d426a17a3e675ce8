"""Does a whole ``ppcti run`` scale with cores? The same multi-file upload with one and with two workers.

Method, all in one run on this machine:
1. ``ppcti.samples`` writes an upload of the three formats (firewall text, e-mail CSV and XLSX, events
   JSON in three shapes) as one ZIP of about ``--mb`` megabytes uncompressed.
2. ``ppcti run ZIP --workers 1`` and ``--workers 2`` as subprocesses, each pinned with ``taskset`` to
   as many cores as it has workers (so "one core" means one core even on a larger machine), timed from
   start to exit. Both do everything a default run does (PII, CTI, analysis, report; ``--nlp regex``).
3. The two arms alternate over ``--repeat`` rounds; the median of each is reported, with the CPU time
   of the run and its workers. The outputs of the two arms are compared file by file (times aside).

The ratio that matters is wall(1 worker, 1 core) / wall(2 workers, 2 cores): the target is at least 1.7.

Usage: ``python bench/scaling.py [--mb 30] [--repeat 3]``; prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-c", "from ppcti.cli import main; main()"]
#: Entries per format per uncompressed megabyte of the sample set (measured: 15.3 MB for 20,000 rows).
ROWS_PER_MB = 1300
TIMES = re.compile(rb'"generated_at": "[^"]*"|<urn:uuid:[0-9a-f-]{36}>|"[^"]*"\^\^xsd:dateTime')


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(upload: Path, out: Path, workers: int, cores: list[int]) -> tuple[float, float]:
    """Wall and CPU seconds of one ``ppcti run`` (its worker processes included)."""
    shutil.rmtree(out, ignore_errors=True)
    pin = ["taskset", "-c", ",".join(map(str, cores))]
    args = [*pin, *CLI, "run", str(upload), "--holder", "bench", "--out", str(out), "--nlp", "regex"]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    cpu0, start = _children_cpu(), time.perf_counter()
    subprocess.run([*args, "--workers", str(workers), "-q"], check=True, env=env)
    return time.perf_counter() - start, _children_cpu() - cpu0


def same_outputs(a: Path, b: Path) -> list[str]:
    """Files whose bytes differ between two run folders (times, summary and report aside)."""
    differ = []
    for path in sorted(a.rglob("*")):
        if path.is_file() and path.name not in ("summary.json", "report.html"):
            other = b / path.relative_to(a)
            if not other.is_file() or TIMES.sub(b"", other.read_bytes()) != TIMES.sub(b"", path.read_bytes()):
                differ.append(path.relative_to(a).as_posix())
    return differ


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=30.0, help="uncompressed upload size in MB")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None, help="work folder (default: a temporary one)")
    args = parser.parse_args()
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        raise SystemExit("needs two cores")

    from ppcti.samples.build import generate

    work = args.out or Path(tempfile.mkdtemp(prefix="ppcti-bench-scaling-"))
    generated = generate(work / "sample", rows=max(100, int(args.mb * ROWS_PER_MB)), ground_truth=False)
    assert generated.zip_path is not None
    upload = generated.zip_path
    files = [f for f in (work / "sample").rglob("*") if f.is_file() and f != upload]
    plain_mb = sum(f.stat().st_size for f in files) / 1e6
    times: dict[int, list[tuple[float, float]]] = {1: [], 2: []}
    for round_ in range(args.repeat):
        for workers in (1, 2) if round_ % 2 == 0 else (2, 1):
            times[workers].append(run(upload, work / f"out{workers}", workers, cores[:workers]))
    wall = {w: statistics.median(t[0] for t in times[w]) for w in times}
    cpu = {w: statistics.median(t[1] for t in times[w]) for w in times}
    differ = same_outputs(work / "out1", work / "out2")
    load = os.getloadavg()[0]
    print(
        f"upload: {plain_mb:.1f} MB uncompressed, {len(files)} files; "
        f"load average {load:.1f}; {args.repeat} rounds, medians"
    )
    print()
    print("| `ppcti run` | wall s | CPU s |")
    print("|---|---:|---:|")
    print(f"| `--workers 1`, one core | {wall[1]:.1f} | {cpu[1]:.1f} |")
    print(f"| `--workers 2`, two cores | {wall[2]:.1f} | {cpu[2]:.1f} |")
    print(f"| **speed-up** | **{wall[1] / wall[2]:.2f}x** | |")
    print()
    print("outputs identical" if not differ else f"outputs DIFFER: {', '.join(differ)}")
    if args.out is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
