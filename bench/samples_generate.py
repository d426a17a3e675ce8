"""Benchmark: how fast ``ppcti.samples`` writes firewall lines, against a straightforward generator.

The baseline is what one would write first: per line, ``random.choice`` for every value, ``strftime`` for
the timestamp, ``json.dumps`` for the ground-truth record. Both run in this process on the same machine,
so the ratio is meaningful even on a loaded host. Usage::

    .venv/bin/python bench/samples_generate.py [ROWS]      # default 1,000,000
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ppcti.samples import generate


def baseline(path: Path, rows: int, seed: int) -> None:
    """A plain per-line generator of comparable firewall lines and truth records."""
    rng = random.Random(seed)
    attackers = [
        f"{rng.randrange(1, 224)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        for _ in range(400)
    ]
    ports = [22, 23, 80, 443, 445, 3389, 8080]
    moment = datetime(2023, 3, 8, 7, tzinfo=UTC)
    with path.open("w") as out, path.with_suffix(".truth").open("w") as truth:
        for line in range(1, rows + 1):
            moment += timedelta(seconds=rng.random() * 0.06)
            src, dst = rng.choice(attackers), "198.51.100.2"
            sport, dport = rng.randrange(1024, 65536), rng.choice(ports)
            mac = ":".join(f"{rng.randrange(256):02x}" for _ in range(6))
            out.write(
                f"{moment.strftime('%b/%d/%Y %H:%M:%S')} firewall,info drop-in input: in:ether1-WAN "
                f"out:(unknown 0), connection-state:new src-mac {mac}, proto TCP (SYN), "
                f"{src}:{sport}->{dst}:{dport}, len 60\n"
            )
            truth.write(
                json.dumps(
                    {
                        "source_file": path.name,
                        "line": line,
                        "expect": "event",
                        "timestamp": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "src_ip": src,
                        "src_port": sport,
                        "dst_ip": dst,
                        "dst_port": dport,
                        "protocol": "TCP",
                        "src_mac": mac,
                    },
                    sort_keys=True,
                )
                + "\n"
            )


def _timed(fn: Callable[[], object]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        base = _timed(lambda: baseline(root / "baseline.log", rows, 7))
        ours = _timed(lambda: generate(root / "gt", rows=rows, formats=("firewall-text",), make_zip=False))
        bare = _timed(
            lambda: generate(
                root / "nogt", rows=rows, formats=("firewall-text",), make_zip=False, ground_truth=False
            )
        )
    print(f"firewall-text, {rows:,} lines (lines/s by CPU time; wall time in brackets)")
    for label, (wall, cpu) in (
        ("baseline per-line loop + truth", base),
        ("ppcti.samples + truth", ours),
        ("ppcti.samples, no truth", bare),
    ):
        print(f"  {label:32} {rows / cpu:>10,.0f}/s  ({rows / wall:,.0f}/s wall)  x{base[1] / cpu:.2f}")


if __name__ == "__main__":
    main()
