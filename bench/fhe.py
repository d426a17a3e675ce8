"""Benchmark of the four FHE tools: time per tool, server on 1 and 2 cores, file sizes, exactness.

    .venv/bin/python bench/fhe.py                       # 1,000x10,000  4,096x100,000  4,096x1,000,000
    .venv/bin/python bench/fhe.py --sizes 4096x1000000 --repeat-server 2
    .venv/bin/python bench/fhe.py --sizes '' --service 256x20000      # HTTP service against the CLI

The baseline measured in the same run is plaintext set membership of the same queries in the same list
(what the parties would do if they trusted each other). Exactness: the FHE answer must equal it.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import random
import resource
import tempfile
import time
from pathlib import Path

import orjson

from ppcti.fhe import correlate, decrypt, encrypt_blacklist, encrypt_cti, keygen


def _ip(rng: random.Random) -> str:
    return f"{rng.randrange(1, 224)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}"


def _cpu() -> tuple[float, float]:
    """CPU seconds of this process and of its (forked, finished) workers: robust to a shared machine."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


class _Clock:
    """Wall time, CPU time, and an idle-machine estimate for 2 cores: the parent's CPU (serial part:
    parsing, loading, writing) plus half the workers' CPU (parallel part). Polars' own threads count as
    parent CPU, so the estimate is pessimistic for list parsing."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self.idle2: dict[str, float] = {}

    def __call__(self, name: str, func, *args, **kwargs):  # type: ignore[no-untyped-def]
        w, (p0, k0) = time.perf_counter(), _cpu()
        out = func(*args, **kwargs)
        p1, k1 = _cpu()
        self.wall[name] = time.perf_counter() - w
        self.cpu[name] = (p1 - p0) + (k1 - k0)
        self.idle2[name] = (p1 - p0) + (k1 - k0) / 2
        return out


def mult_cost(pub: Path) -> float:
    """CPU seconds of one 8-row group (7 multiplications, mask, re-randomisation), median of 5."""
    from ppcti.fhe import load_public

    key = load_public(pub)
    backend = key.backend
    a, b = backend.encrypt(backend.random_nonzero()), backend.encrypt(backend.random_nonzero())  # type: ignore[attr-defined]
    samples = []
    for _ in range(5):
        c0 = time.process_time()
        backend.correlate_group(a, [b] * 8)
        samples.append(time.process_time() - c0)
    return sorted(samples)[len(samples) // 2]


def _blocks(count: int, rng: random.Random) -> list[tuple[int, int]]:
    """DROP-like CIDR blocks: (network int, prefix length) with lengths /12../24."""
    out = []
    for _ in range(count):
        length = rng.randrange(12, 25)
        addr = rng.randrange(1 << 24, 224 << 24)
        out.append((addr >> (32 - length) << (32 - length), length))
    return out


def run(
    queries: int, listed: int, work: Path, rng: random.Random, repeat_server: int, cidr: int = 0
) -> dict[str, object]:
    work.mkdir(parents=True, exist_ok=True)
    blacklist: set[str] = set()
    while len(blacklist) < listed - cidr:
        blacklist.add(_ip(rng))
    blocks = _blocks(cidr, rng)
    hits = rng.sample(sorted(blacklist), queries // 2)
    # a few queried addresses fall inside the blocks
    inside = [
        str(ipaddress.IPv4Address(net + rng.randrange(1 << (32 - ln)))) for net, ln in blocks[: queries // 8]
    ]
    qs = hits + inside + [_ip(rng) for _ in range(queries - len(hits) - len(inside))]
    lines = list(blacklist) + [
        f"{ipaddress.IPv4Address(net)}/{ln} ; SBL{i}" for i, (net, ln) in enumerate(blocks)
    ]
    (work / "list.netset").write_text("# generated\n" + "\n".join(lines) + "\n")
    (work / "query.txt").write_text("\n".join(qs) + "\n")

    t0 = time.perf_counter()
    by_length: dict[int, set[int]] = {}
    for net, ln in blocks:
        by_length.setdefault(ln, set()).add(net)

    def listed_plain(q: str) -> bool:
        a = int(ipaddress.IPv4Address(q))
        return q in blacklist or any((a >> (32 - ln) << (32 - ln)) in nets for ln, nets in by_length.items())

    plain = {q: listed_plain(q) for q in qs}
    baseline = time.perf_counter() - t0

    clock = _Clock()
    clock("keygen", keygen, work / "keys")
    pub = work / "keys/public.key"
    clock("encrypt-cti", encrypt_cti, work / "query.txt", pub, work / "q")
    bl = clock("encrypt-blacklist", encrypt_blacklist, [work / "list.netset"], pub, work / "bl.fhe")
    server: dict[int, list[float]] = {1: [], 2: []}
    server_cpu: dict[int, list[float]] = {1: [], 2: []}
    server_idle2: list[float] = []
    for _ in range(repeat_server):
        for threads in (1, 2):
            clock(
                "correlate",
                correlate,
                pub,
                work / "q/query.fhe",
                work / "bl.fhe",
                work / "r.fhe",
                threads=threads,
            )
            server[threads].append(clock.wall["correlate"])
            server_cpu[threads].append(clock.cpu["correlate"])
            if threads == 2:
                server_idle2.append(clock.idle2["correlate"])
    clock("decrypt", decrypt, work / "r.fhe", work / "keys/secret.key", work / "q/mapping.json", work / "out")
    got = {
        m["value"]: m["found"] for m in orjson.loads((work / "out/fhe_matches.json").read_bytes())["matches"]
    }
    wrong = sum(got.get(q) != f for q, f in plain.items())
    del clock.wall["correlate"], clock.cpu["correlate"], clock.idle2["correlate"]
    clock.idle2["correlate-2"] = min(server_idle2)
    for threads in (1, 2):
        clock.wall[f"correlate-{threads}"] = min(server[threads])
        clock.cpu[f"correlate-{threads}"] = min(server_cpu[threads])
    tools = ("keygen", "encrypt-cti", "encrypt-blacklist", "correlate-2", "decrypt")
    total = sum(clock.wall[k] for k in tools)
    total_idle2 = sum(clock.idle2[k] for k in tools)
    per_group = mult_cost(pub)
    slots = 8192
    # naive design, no hashing: each queried address replicated in all slots and compared with every list
    # ciphertext (the list packed 8192 per ciphertext); cost per row = an 8-row group's cost / 8
    naive_rows = queries * ((listed + slots - 1) // slots)
    return {
        "naive_estimate_s": naive_rows * per_group / 8,
        "naive_rows": naive_rows,
        "group_cpu_s": per_group,
        "size": f"{queries:,} x {listed:,}" + (f" ({cidr:,} of them CIDR blocks /12-/24)" if cidr else ""),
        "times": clock.wall,
        "cpu": clock.cpu,
        "idle2": clock.idle2,
        "total_idle2": total_idle2,
        "server_runs": server,
        "total_2core": total,
        "baseline_s": baseline,
        "rows": bl.rows,
        "bytes": {
            "public.key": os.path.getsize(pub),
            "query.fhe": os.path.getsize(work / "q/query.fhe"),
            "blacklist": os.path.getsize(work / "bl.fhe"),
            "result": os.path.getsize(work / "r.fhe"),
        },
        "exact": wrong == 0,
        "errors": wrong,
        "found": sum(plain.values()),
    }


def service_overhead(
    queries: int, listed: int, work: Path, rng: random.Random, repeat: int
) -> dict[str, float]:
    """One correlation three ways, same files: in-process (the baseline), ``ppcti fhe correlate`` as a
    command (process start, key and list loading included), and a request to ``ppcti fhe serve``
    (the list stays loaded). Best of ``repeat`` each; the service is started once, before timing."""
    import re
    import subprocess
    import sys

    from ppcti.fhe.remote import request_correlation

    work.mkdir(parents=True, exist_ok=True)
    listed_ips = sorted({_ip(rng) for _ in range(listed)})
    qs = rng.sample(listed_ips, queries // 2) + [_ip(rng) for _ in range(queries - queries // 2)]
    (work / "list.txt").write_text("\n".join(listed_ips) + "\n")
    (work / "query.txt").write_text("\n".join(qs) + "\n")
    keygen(work / "keys")
    pub = work / "keys/public.key"
    encrypt_cti(work / "query.txt", pub, work / "q")
    encrypt_blacklist([work / "list.txt"], pub, work / "bl.fhe", name="bench", threads=1)
    cli = [sys.executable, "-c", "from ppcti.cli import main; main()", "fhe"]
    times: dict[str, list[float]] = {"in-process": [], "cli": [], "http": []}
    server = subprocess.Popen(
        [*cli, "serve", "--blacklist", str(work / "bl.fhe"), "--public", str(pub), "--listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        url = re.search(r"(http://\S+)", server.stdout.readline()).group(1)  # type: ignore[union-attr]
        query = (work / "q/query.fhe").read_bytes()
        for _ in range(repeat):
            t = time.perf_counter()
            correlate(pub, work / "q/query.fhe", work / "bl.fhe", work / "r0.fhe", threads=1)
            times["in-process"].append(time.perf_counter() - t)
            t = time.perf_counter()
            subprocess.run(
                [
                    *cli,
                    "correlate",
                    "--public",
                    str(pub),
                    "--query",
                    str(work / "q/query.fhe"),
                    "--blacklist",
                    str(work / "bl.fhe"),
                    "--out",
                    str(work / "r1.fhe"),
                    "--threads",
                    "1",
                ],
                check=True,
                capture_output=True,
            )
            times["cli"].append(time.perf_counter() - t)
            t = time.perf_counter()
            (work / "r2.fhe").write_bytes(request_correlation(url, query))
            times["http"].append(time.perf_counter() - t)
    finally:
        server.terminate()
        server.communicate(timeout=30)
    best = {k: min(v) for k, v in times.items()}
    return {
        **best,
        "http/cli": best["http"] / best["cli"],
        "http/in-process": best["http"] / best["in-process"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000x10000,4096x100000,4096x1000000")
    ap.add_argument("--repeat-server", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cidr", type=int, default=0, help="this many of the list entries are /12-/24 blocks")
    ap.add_argument("--service", default="", help="QxN: also time the HTTP service against the CLI")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each path for --service (best counts)")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="ppcti-bench-fhe-") as tmp:
        if args.service:
            q, n = (int(x) for x in args.service.split("x"))
            r = service_overhead(q, n, Path(tmp) / "service", rng, args.repeat)
            print(f"## correlation service, {q:,} x {n:,}, best of {args.repeat}, 1 core")
            print(
                f"  in-process {r['in-process']:.2f}s  cli {r['cli']:.2f}s  http {r['http']:.2f}s  "
                f"http/cli {r['http/cli']:.2f}  http/in-process {r['http/in-process']:.2f}",
                flush=True,
            )
        for spec in filter(None, args.sizes.split(",")):
            q, n = (int(x) for x in spec.split("x"))
            r = run(q, n, Path(tmp) / spec, rng, args.repeat_server, args.cidr)
            wall, cpu, runs = r["times"], r["cpu"], r["server_runs"]
            assert isinstance(wall, dict) and isinstance(cpu, dict) and isinstance(runs, dict)
            print(f"## {r['size']}  exact={r['exact']} (errors {r['errors']}, {r['found']} listed)")
            print(f"  blacklist rows {r['rows']}")
            print("  wall " + "  ".join(f"{k}={v:.2f}s" for k, v in wall.items()))
            print("  cpu  " + "  ".join(f"{k}={v:.2f}s" for k, v in cpu.items()))
            idle = r["idle2"]
            assert isinstance(idle, dict)
            print("  idle-2-core estimate " + "  ".join(f"{k}={v:.2f}s" for k, v in idle.items()))
            print(f"  server wall, every run: 1 core {runs[1]}  2 cores {runs[2]}")
            print(
                f"  all four tools, 2-core server: {r['total_2core']:.2f}s wall, "
                f"{r['total_idle2']:.2f}s idle-2-core estimate"
            )
            print(f"  baseline, plaintext set membership of the same data: {r['baseline_s'] * 1e3:.2f} ms")
            print(
                f"  naive FHE design without hashing (estimate from the measured group cost): "
                f"{r['naive_rows']:,} ciphertext rows x {r['group_cpu_s'] / 8 * 1e3:.1f} ms"
                f" = {r['naive_estimate_s']:.0f} s CPU"
            )
            sizes = r["bytes"]
            assert isinstance(sizes, dict)
            print("  sizes " + "  ".join(f"{k}={v / 1e6:.1f}MB" for k, v in sizes.items()))
            print(flush=True)


if __name__ == "__main__":
    main()
