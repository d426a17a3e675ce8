"""Benchmark of ppcti.analysis: the three analyses on 5,000,000 synthetic events.

Generates (vectorised, numpy + Polars) an events.jsonl of N events from three holders: firewall
entries from a skewed pool of public attackers against private and public servers, e-mail entries to
the holders' domains, plus injected botnet bursts, sweeps and attackers shared between holders. Then:

* ppcti: ``analyse()`` on the whole file (time per stage, peak RSS);
* baseline: a straightforward pure-Python, dict-based implementation of the same three analyses (per
  line ``orjson.loads``, ``ipaddress`` with a cache, a deque per key for the sliding windows) on the
  first ``--baseline-events`` lines, measured in the same run; reported as events/s and the ratio.

Then the attack classification rate on the same number of events (bench/attacks_rate.py: all
detectors, and the rule paths alone, against a per-event Python loop), unless ``--no-attacks``.

``--repeat N`` then runs the same analysis N more times, each in a fresh process, and reports the best
and the median wall time (this virtual machine's speed moves by up to 1.8x within an hour).

Usage: .venv/bin/python bench/analysis.py [--events 5000000] [--baseline-events 200000] [--no-attacks]
[--repeat N]
"""

from __future__ import annotations

import argparse
import filecmp
import math
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict, deque
from functools import cache
from pathlib import Path

import numpy as np
import orjson
import polars as pl
import psutil

import attacks_rate  # bench/attacks_rate.py, beside this script
from ppcti.analysis import AnalysisOptions, analyse
from ppcti.analysis.load import load
from ppcti.analysis.netclass import private_range
from ppcti.analysis.partitioned import EVENTS_PER_PART
from ppcti.analysis.spill import estimated_rows

OUT = Path(__file__).resolve().parent / "out"
HOLDERS = ("acme", "globex", "initech")
BASE_US = 1_678_000_000 * 1_000_000  # 2023-03-05
SPAN_US = 30 * 24 * 3_600 * 1_000_000
MIN_US = 60 * 1_000_000


def _dotted(n: np.ndarray) -> pl.Series:
    s = pl.Series(n.astype(np.int64))
    return pl.select(
        pl.concat_str(
            [
                (s // 16777216 % 256).cast(pl.String),
                (s // 65536 % 256).cast(pl.String),
                (s // 256 % 256).cast(pl.String),
                (s % 256).cast(pl.String),
            ],
            separator=".",
        )
    ).to_series()


def generate(n: int, path: Path, seed: int = 7, suffix: str = "") -> Path:
    """Write ``n`` synthetic events to ``path`` (NDJSON, the events.jsonl contract); ``suffix`` goes
    into the source file names (``fw<suffix>.log``), so blocks of a larger input keep distinct lines."""
    rng = np.random.default_rng(seed)
    public_pool = rng.integers(0x0B000000, 0x5F000000, 200_000)  # 11.0.0.0 - 94.255.255.255: public
    # 30 % of events from a few very busy attackers (Zipf), the rest spread over the whole pool.
    skewed = public_pool[np.minimum(rng.zipf(1.3, n), public_pool.size) - 1]
    attacker = np.where(rng.random(n) < 0.3, skewed, public_pool[rng.integers(0, public_pool.size, n)])
    private_pool = 0x0A000000 + rng.integers(0, 1 << 16, 5_000)
    server_pool = rng.integers(0x60000000, 0x70000000, 500)
    is_private = rng.random(n) < 0.7
    dst = np.where(
        is_private,
        private_pool[rng.integers(0, private_pool.size, n)],
        server_pool[rng.integers(0, server_pool.size, n)],
    )
    t = BASE_US + rng.integers(0, SPAN_US, n)
    holder = rng.integers(0, len(HOLDERS), n)

    # Botnets: 300 bursts of 40 sources on one private target:port within 5 minutes.
    bursts, size = 300, 40
    b_idx = rng.choice(n, bursts * size, replace=False)
    b_start = np.repeat(BASE_US + rng.integers(0, SPAN_US, bursts), size)
    t[b_idx] = b_start + rng.integers(0, 5 * MIN_US, bursts * size)
    dst[b_idx] = np.repeat(private_pool[rng.integers(0, private_pool.size, bursts)], size)
    attacker[b_idx] = public_pool[rng.integers(0, public_pool.size, bursts * size)]
    holder[b_idx] = np.repeat(rng.integers(0, len(HOLDERS), bursts), size)
    # Sweeps: 200 sources each hitting 25 targets within 5 minutes.
    sweeps, width = 200, 25
    s_idx = rng.choice(np.setdiff1d(np.arange(n), b_idx), sweeps * width, replace=False)
    attacker[s_idx] = np.repeat(public_pool[rng.integers(0, public_pool.size, sweeps)], width)
    t[s_idx] = np.repeat(BASE_US + rng.integers(0, SPAN_US, sweeps), width) + rng.integers(
        0, 5 * MIN_US, sweeps * width
    )
    dst[s_idx] = private_pool[rng.integers(0, private_pool.size, sweeps * width)]
    holder[s_idx] = np.repeat(rng.integers(0, len(HOLDERS), sweeps), width)

    ports = np.array([22, 23, 25, 80, 443, 445, 3389, 8080], dtype=np.int32)
    protos = np.array(["TCP", "TCP", "TCP", "UDP", "ICMP"])
    proto = protos[rng.integers(0, protos.size, n)]
    port = ports[rng.integers(0, ports.size, n)]
    proto[b_idx] = "TCP"  # a burst hits one service
    port[b_idx] = np.repeat(ports[rng.integers(0, ports.size, bursts)], size)
    mail = rng.random(n) < 0.05
    mail[b_idx] = False
    mail[s_idx] = False
    holders = np.array(HOLDERS)[holder]
    sender = pl.select(
        pl.concat_str([pl.lit("user"), pl.Series(attacker % 5_000).cast(pl.String), pl.lit("@spam.example")])
    ).to_series()
    recipient = pl.select(
        pl.concat_str(
            [
                pl.lit("staff"),
                pl.Series(rng.integers(0, 300, n)).cast(pl.String),
                pl.lit("@"),
                pl.Series(holders),
                pl.lit(".example"),
            ]
        )
    ).to_series()
    frame = pl.DataFrame(
        {
            "holder": holders,
            "format": np.where(mail, "email-csv", "firewall-text"),
            "source_file": np.where(mail, f"mail{suffix}.csv", f"fw{suffix}.log"),
            "t": t,
            "src_ip": _dotted(attacker),
            "dst_ip": _dotted(dst),
            "dst_port": np.where(proto == "ICMP", -1, port),
            "protocol": proto,
            "mail": mail,
            "sender": sender,
            "recipient": recipient,
            "verdict": np.array(["phish", "spam", "malware", "clean"])[rng.integers(0, 4, n)],
        }
    )
    is_mail = pl.col("mail")
    frame = frame.sort("t").select(
        "holder",
        "format",
        "source_file",
        line=pl.int_range(1, pl.len() + 1).over("source_file"),
        timestamp=pl.from_epoch("t", time_unit="us").dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
        src_ip=pl.when(~is_mail).then("src_ip"),
        dst_ip=pl.when(~is_mail).then("dst_ip"),
        dst_port=pl.when(~is_mail & (pl.col("dst_port") >= 0)).then("dst_port"),
        protocol=pl.when(~is_mail).then("protocol"),
        emails=pl.when(is_mail).then(pl.concat_list("sender", "recipient")),
        extra=pl.when(is_mail).then(pl.struct("sender", "verdict")),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_ndjson(path)
    return path


def _cpu() -> float:
    """CPU seconds of this process (all threads): less sensitive than wall time to a busy machine."""
    times = os.times()
    return times.user + times.system


class PeakRss:
    """Samples this process's RSS every 50 ms: ru_maxrss alone cannot separate phases."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        proc = psutil.Process()
        while not self._stop.is_set():
            self.peak = max(self.peak, proc.memory_info().rss)
            self._stop.wait(0.05)

    def __enter__(self) -> PeakRss:
        self.peak = psutil.Process().memory_info().rss
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@cache
def _private(address: str) -> bool:
    return private_range(address) is not None


def baseline(path: Path, limit: int, options: AnalysisOptions) -> dict[str, int]:
    """The same three analyses, written the obvious way with dicts and loops (no columnar engine)."""
    window = options.botnet_window_us
    targets: dict[tuple[str, str], list] = {}
    per_key: dict[tuple, deque] = defaultdict(deque)
    per_source: dict[tuple, deque] = defaultdict(deque)
    botnet_hits = sweep_hits = 0
    holders_of: dict[str, set[str]] = defaultdict(set)
    with path.open("rb") as handle:
        for i, raw in enumerate(handle):
            if i >= limit:
                break
            ev = orjson.loads(raw)
            ts = ev.get("timestamp")
            t = int(time.mktime(time.strptime(ts, "%Y-%m-%dT%H:%M:%SZ")) * 1_000_000) if ts else None
            holder = ev["holder"]
            extra = ev.get("extra") or {}
            attacker = extra.get("sender") or ev.get("src_ip")
            if attacker and not (ev.get("src_ip") and _private(attacker)):
                holders_of[attacker].add(holder)
            if ev.get("format") == "email-csv":
                hit_targets = [(e, "EMAIL") for e in ev.get("emails") or [] if e != attacker]
            else:
                service = f"{ev.get('protocol')}/{ev.get('dst_port')}"
                hit_targets = [(ev["dst_ip"], service)] if ev.get("dst_ip") else []
            for target, service in hit_targets:
                if target.endswith(".example") or _private(target):
                    entry = targets.setdefault((holder, target), [0, t, t, set(), defaultdict(int)])
                    entry[0] += 1
                    entry[1], entry[2] = min(entry[1], t), max(entry[2], t)
                    entry[3].add(attacker)
                    entry[4][t // 3_600_000_000] += 1
                if t is None or attacker is None:
                    continue
                q = per_key[(holder, target, service)]
                q.append((t, attacker))
                while q and q[0][0] <= t - window:
                    q.popleft()
                if len({a for _, a in q}) >= options.botnet_min_sources:
                    botnet_hits += 1
                s = per_source[(holder, attacker)]
                s.append((t, target))
                while s and s[0][0] <= t - window:
                    s.popleft()
                if len({x for _, x in s}) >= options.sweep_min_targets:
                    sweep_hits += 1
    shared = sum(1 for hs in holders_of.values() if len(hs) >= options.cross_min_holders)
    return {
        "events": min(limit, i + 1),
        "targets": len(targets),
        "shared": shared,
        "botnet_hits": botnet_hits,
        "sweep_hits": sweep_hits,
    }


BLOCK = 5_000_000


def blocks(millions: int) -> list[Path]:
    """Input of ``millions`` M events as files of 5 M each (block 0 is the default 5 M file): the
    generator holds a whole block in memory, and analyse() reads several files as one input."""
    out = []
    for i in range(math.ceil(millions * 1_000_000 / BLOCK)):
        path = OUT / (f"events-{BLOCK}.jsonl" if i == 0 else f"events-{BLOCK}-block{i}.jsonl")
        if not path.exists():
            t0 = time.perf_counter()
            generate(BLOCK, path, seed=7 + i, suffix="" if i == 0 else f"-{i}")
            print(f"generated {path.name} in {time.perf_counter() - t0:.1f} s", flush=True)
        out.append(path)
    return out


def scale_child(files: list[Path], partitions: int | None, out: Path) -> int:
    """One measured analysis (in a process of its own, so each peak RSS is its own): prints JSON."""
    marks: list[tuple[str, float]] = []
    peaks: list[int] = []
    with PeakRss() as rss:

        def mark(name: str) -> None:  # peak RSS of the stage that ends here, then start afresh
            peaks.append(rss.peak)
            rss.peak = psutil.Process().memory_info().rss
            marks.append((name, time.perf_counter()))

        t0, cpu0 = time.perf_counter(), _cpu()
        insights = analyse(files, out, partitions=partitions, progress=mark)
        wall, cpu = time.perf_counter() - t0, _cpu() - cpu0
    peaks.append(rss.peak)
    marks.append(("end", time.perf_counter()))
    result = {
        "events": insights["summary"]["events"],
        "wall": wall,
        "cpu": cpu,
        "peak_rss": max(peaks),
        "stage_rss": {n: peaks[i + 1] for i, (n, _) in enumerate(marks[:-1])},
        "ru_maxrss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "stages": {n: marks[i + 1][1] - at for i, (n, at) in enumerate(marks[:-1])},
        "botnets": insights["summary"]["counts"]["botnet_groups"],
        "load": os.getloadavg()[0],
    }
    print(orjson.dumps(result).decode())
    return 0


def in_child(files: list[Path], partitions: int, out: Path) -> dict:
    """:func:`scale_child` in a fresh process: its measurements."""
    cmd = [sys.executable, __file__, "--partitions", str(partitions), "--out", str(out)]
    child = subprocess.run([*cmd, "--one", *map(str, files)], capture_output=True, text=True, check=True)
    return orjson.loads(child.stdout.strip().splitlines()[-1])


def scale(sizes: list[int], in_memory_max: int) -> int:
    """Peak RSS and time per size, in memory and partitioned (automatic partitions), each run alone."""
    print(
        f"{'events':>12} {'mode':>12} {'wall s':>8} {'CPU s':>8} {'peak RSS GiB':>13} {'load':>5}", flush=True
    )
    ref: dict[str, float] = {}
    for millions in sizes:
        files = blocks(millions)
        modes = [("in memory", 0)] if millions <= in_memory_max else []
        # as many partitions as the automatic choice would take above its in-memory threshold
        parts_wanted = math.ceil(estimated_rows(files) / EVENTS_PER_PART)
        for mode, parts in [*modes, (f"{parts_wanted} parts", parts_wanted)]:
            out = OUT / f"scale-{millions}m-{'memory' if parts == 0 else 'parts'}"
            r = in_child(files, parts, out)
            ref.setdefault("rss", r["peak_rss"])
            ref.setdefault("wall", r["wall"])
            print(
                f"{r['events']:>12,} {mode:>12} {r['wall']:>8.1f} {r['cpu']:>8.1f} "
                f"{r['peak_rss'] / 2**30:>13.2f} {r['load']:>5.1f}  "
                f"(RSS {r['peak_rss'] / ref['rss']:.2f}x, wall {r['wall'] / ref['wall']:.2f}x the first "
                f"run; {r['botnets']} botnet groups; stages "
                + ", ".join(
                    f"{k} {v:.1f} s {r['stage_rss'][k] / 2**30:.2f} GiB"
                    for k, v in r["stages"].items()
                    if v > 0.05
                )
                + ")",
                flush=True,
            )
        same = [OUT / f"scale-{millions}m-{m}" for m in ("memory", "parts")]
        if all(d.exists() for d in same):
            for name in ("insights.json", "infrastructure.json", "attacks.jsonl"):
                equal = filecmp.cmp(same[0] / name, same[1] / name, shallow=False)
                print(
                    f"  {millions} M: {name} {'identical' if equal else 'DIFFERS'} in memory and partitioned"
                )
    return 0


def repeats(path: Path, n: int) -> None:
    """``n`` more analyses of ``path`` in memory, each in a fresh process (as ``--scale`` runs them)."""
    walls: list[float] = []
    for i in range(n):
        r = in_child([path], 0, OUT / "analysis-repeat")
        walls.append(r["wall"])
        print(
            f"  repeat {i + 1}: {r['wall']:.2f} s wall, {r['cpu']:.2f} s CPU, peak RSS "
            f"{r['peak_rss'] / 2**30:.2f} GiB, load average {r['load']:.1f}",
            flush=True,
        )
    under = sum(w < 10 for w in walls)
    print(
        f"repeats: best {min(walls):.2f} s, median {statistics.median(walls):.2f} s; under 10 s in "
        f"{under} of {n}"
    )


def load_only(path: Path, options: AnalysisOptions) -> int:
    """The load stage alone, with the system time and page faults it costs (``getrusage``)."""
    before, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    loaded = load(path, options)
    wall, after = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF)
    user, system = after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime
    print(
        f"load: {loaded.events.height:,} events, {loaded.hits.height:,} hits in {wall:.2f} s wall, "
        f"{user + system:.2f} s CPU ({system:.2f} s system), "
        f"{after.ru_minflt - before.ru_minflt:,} minor page faults, "
        f"peak RSS {after.ru_maxrss / 2**20:.2f} GiB; load average {os.getloadavg()[0]:.1f}"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--baseline-events", type=int, default=200_000)
    parser.add_argument("--regenerate", action="store_true", help="Rebuild the events file even if present.")
    parser.add_argument("--no-attacks", action="store_true", help="Skip the attack classification rate.")
    parser.add_argument(
        "--scale",
        help="Memory at scale instead: comma-separated sizes in millions of events (e.g. 5,10,20,50), each "
        "analysed in a fresh process in memory (sizes up to --in-memory-max) and partitioned.",
    )
    parser.add_argument(
        "--in-memory-max", type=int, default=10, help="Largest size (millions) run in memory."
    )
    parser.add_argument(
        "--load-only",
        action="store_true",
        help="Only ppcti.analysis.load.load() on the events file: wall, CPU, system CPU, minor page faults "
        "and peak RSS of this process (run it for each side of a change, alternating, in fresh processes).",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=0,
        help="Then run the analysis this many times more, each in a fresh process, and report every "
        "wall time, the best and the median (the machine's speed moves between runs).",
    )
    parser.add_argument("--one", nargs="+", type=Path, help=argparse.SUPPRESS)  # child of --scale
    parser.add_argument("--partitions", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=OUT / "analysis", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        return scale_child(args.one, args.partitions, args.out)
    if args.scale:
        return scale([int(x) for x in args.scale.split(",")], args.in_memory_max)
    path = OUT / f"events-{args.events}.jsonl"
    if args.regenerate or not path.exists():
        t0 = time.perf_counter()
        generate(args.events, path)
        print(
            f"generated {args.events:,} events in {time.perf_counter() - t0:.1f} s "
            f"({path.stat().st_size / 1e9:.2f} GB) -> {path}"
        )
    options = AnalysisOptions()
    if args.load_only:
        return load_only(path, options)

    marks: list[tuple[str, float]] = []
    with PeakRss() as rss:
        t0, cpu0 = time.perf_counter(), _cpu()
        insights = analyse(
            path,
            OUT / "analysis",
            options=options,
            progress=lambda name: marks.append((name, time.perf_counter())),
        )
        total, cpu = time.perf_counter() - t0, _cpu() - cpu0
    marks.append(("end", time.perf_counter()))
    stages = {name: marks[i + 1][1] - at for i, (name, at) in enumerate(marks[:-1])}
    counts = insights["summary"]["counts"]

    t0, cpu0 = time.perf_counter(), _cpu()
    base = baseline(path, args.baseline_events, options)
    base_s, base_cpu = time.perf_counter() - t0, _cpu() - cpu0
    ours_rate = args.events / total
    base_rate = base["events"] / base_s

    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(
        f"ppcti.analysis: {args.events:,} events in {total:.2f} s wall, {cpu:.2f} s CPU "
        f"({ours_rate:,.0f} events/s), "
        f"peak RSS {rss.peak / 2**30:.2f} GiB (ru_maxrss {maxrss:.2f} GiB)"
    )
    print("  stages: " + ", ".join(f"{k} {v:.2f} s" for k, v in stages.items()))
    print(
        f"  found: {counts['private_targets']:,} private targets, {counts['botnet_groups']} botnet groups, "
        f"{counts['sweeps']} sweeps, {counts['cross_holder_attackers']:,} cross-holder attackers"
    )
    print(
        f"baseline (pure Python dicts): {base['events']:,} events in {base_s:.2f} s wall, "
        f"{base_cpu:.2f} s CPU "
        f"({base_rate:,.0f} events/s)"
    )
    cpu_ratio = (args.events / cpu) / (base["events"] / base_cpu)
    print(
        f"ratio: {ours_rate / base_rate:.1f}x events/s wall, {cpu_ratio:.1f}x events per CPU-second; "
        f"target < 30 s: {'met' if total < 30 else 'MISSED'}; under 10 s (issue #17): "
        f"{'met' if total < 10 else 'missed'}; load average at end {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} cores"
    )
    if args.repeat > 0:
        repeats(path, args.repeat)
    if not args.no_attacks:
        del insights  # free the analysis frames before building the classification frame
        attacks_rate.run(args.events, 300_000)
    return 0


if __name__ == "__main__":
    sys.exit(main())
