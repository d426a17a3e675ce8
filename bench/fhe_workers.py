"""Benchmark of sharded FHE correlation on Kafka: 1 ``ppcti worker fhe`` process against 2, same run.

    .venv/bin/python bench/fhe_workers.py                                  # 4,000,000 listed addresses
    .venv/bin/python bench/fhe_workers.py --entries 1000000 --requests 6   # a smaller list

Needs the local broker (``scripts/kafka start``). The blacklist is encrypted once and split into
``--shards`` shards; then the same requests are timed against a group of one worker process (owning every
shard) and a group of two (one shard each, Kafka spreads the partitions). The figure is requests per second
of the two-worker group over the one-worker group, both measured in this run. Each group answers one
warm-up request first (shards are read on first use), and one answer per run is decrypted and checked
against plaintext membership.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import orjson

from ppcti.bus import BusSettings
from ppcti.bus.fhe import DEFAULT_FHE_MESSAGE_BYTES, correlate_over_kafka
from ppcti.fhe import decrypt, encrypt_blacklist, encrypt_cti, keygen
from ppcti.fhe.shards import shard_blacklist

SRC = Path(__file__).resolve().parents[1] / "src"


def _ips(count: int, rng: random.Random) -> list[str]:
    """``count`` distinct public-looking IPv4 addresses (as integers first: 4M strings are slow)."""
    seen: set[int] = set()
    while len(seen) < count:
        seen.update(rng.randrange(1 << 24, 224 << 24) for _ in range(count - len(seen)))
    return [f"{a >> 24}.{a >> 16 & 255}.{a >> 8 & 255}.{a & 255}" for a in seen]


def _start_workers(count: int, settings: BusSettings, shards: Path, public: Path, group: str) -> list:
    env = dict(os.environ, PPCTI_KAFKA_TOPIC_PREFIX=settings.topic_prefix, PYTHONPATH=str(SRC))
    cmd = [sys.executable, "-c", "from ppcti.cli import main; main()", "worker", "fhe"]
    cmd += ["--shards", str(shards), "--public", str(public), "--group", group]
    cmd += ["--bootstrap", settings.bootstrap]
    out = subprocess.DEVNULL
    return [subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE, env=env) for _ in range(count)]


def _cpu(pid: int) -> float:
    """CPU seconds (user + system) a live process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _wait_members(settings: BusSettings, group: str, count: int, timeout: float = 180.0) -> None:
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": settings.bootstrap})
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            members = admin.describe_consumer_groups([group])[group].result(timeout=10).members
        except Exception:  # no group until the first member joins
            members = []
        if sum(1 for m in members if m.assignment.topic_partitions) >= count:
            return
        time.sleep(0.5)
    raise SystemExit(f"{count} workers did not join group {group} within {timeout:g}s")


def _timed_requests(
    settings: BusSettings, query: bytes, shards: int, requests: int, concurrency: int
) -> tuple[float, bytes]:
    """Wall seconds for ``requests`` requests, ``concurrency`` in flight; and one of the results."""
    todo = list(range(requests))
    lock = threading.Lock()
    out: list[bytes] = []
    errors: list[BaseException] = []

    def client() -> None:
        while True:
            with lock:
                if not todo:
                    return
                todo.pop()
            try:
                result = correlate_over_kafka(settings, query, shards, timeout=1800)
            except BaseException as exc:  # reported after the run
                errors.append(exc)
                return
            out.append(result)

    start = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise errors[0]
    return elapsed, out[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entries", type=int, default=4_000_000, help="listed IPv4 addresses")
    ap.add_argument("--queries", type=int, default=256, help="addresses per query")
    ap.add_argument("--shards", type=int, default=2)
    ap.add_argument("--requests", type=int, default=8, help="timed requests per group")
    ap.add_argument("--concurrency", type=int, default=2, help="requests in flight")
    ap.add_argument("--bootstrap", default=os.environ.get("PPCTI_KAFKA_BOOTSTRAP", "127.0.0.1:9092"))
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    phases: dict[str, float] = {}

    with tempfile.TemporaryDirectory(prefix="ppcti-bench-fhe-workers-") as tmp:
        work = Path(tmp)
        t = time.perf_counter()
        listed = _ips(args.entries, rng)
        hits = rng.sample(listed, args.queries // 2)
        listed_set = set(listed)
        misses = [q for q in _ips(args.queries, rng) if q not in listed_set]
        queries = hits + misses[: args.queries - len(hits)]
        (work / "list.txt").write_text("\n".join(listed) + "\n")
        (work / "query.txt").write_text("\n".join(queries) + "\n")
        del listed
        phases["generate"] = time.perf_counter() - t
        keygen(work / "keys")
        pub = work / "keys/public.key"
        encrypt_cti(work / "query.txt", pub, work / "q")
        t = time.perf_counter()
        bl = encrypt_blacklist([work / "list.txt"], pub, work / "bl.fhe", name="bench", threads=2)
        phases["encrypt-blacklist"] = time.perf_counter() - t
        t = time.perf_counter()
        split = shard_blacklist(work / "bl.fhe", pub, args.shards, work / "shards")
        phases["shard"] = time.perf_counter() - t
        print(f"## {args.entries:,} listed x {args.queries} queried, {args.shards} shards", flush=True)
        print(f"  blacklist rows {bl.rows}, {bl.bytes / 1e6:.0f} MB; shard rows {split.rows}")
        print("  " + "  ".join(f"{k} {v:.1f}s" for k, v in phases.items()), flush=True)

        query = (work / "q/query.fhe").read_bytes()
        rates: dict[int, float] = {}
        idle: dict[int, float] = {}
        for count in (1, 2):
            settings = BusSettings(
                args.bootstrap,
                topic_prefix=f"bench-{uuid.uuid4().hex[:10]}.",
                max_message_bytes=DEFAULT_FHE_MESSAGE_BYTES,
            )
            group = f"bench-{uuid.uuid4().hex[:8]}"
            procs = _start_workers(count, settings, work / "shards", pub, group)
            try:
                _wait_members(settings, group, count)
                t = time.perf_counter()
                warm = correlate_over_kafka(settings, query, args.shards, timeout=1800)
                warmup = time.perf_counter() - t
                before = [_cpu(p.pid) for p in procs]
                mine = _self_cpu()
                elapsed, result = _timed_requests(
                    settings, query, args.shards, args.requests, args.concurrency
                )
                mine = (_self_cpu() - mine) / args.requests
                worker_cpu = [(_cpu(p.pid) - b) / args.requests for p, b in zip(procs, before, strict=True)]
            finally:
                for p in procs:
                    p.terminate()
                for p in procs:
                    p.communicate(timeout=120)
            out = work / f"out{count}"
            out.mkdir()
            (out / "r.fhe").write_bytes(result)
            decrypt(out / "r.fhe", work / "keys/secret.key", work / "q/mapping.json", out)
            found = orjson.loads((out / "fhe_matches.json").read_bytes())["matches"]
            wrong = sum(m["found"] != (m["value"] in listed_set) for m in found)
            rates[count] = args.requests / elapsed
            # on 2 idle cores a request costs the busiest worker's CPU, or all CPU spread over 2 cores
            idle[count] = 1 / max(max(worker_cpu), (sum(worker_cpu) + mine) / 2)
            print(
                f"  {count} worker(s): warm-up {warmup:.1f}s, {args.requests} requests in {elapsed:.1f}s = "
                f"{rates[count]:.4f} requests/s ({len(warm) / 1e6:.0f} MB result each), errors {wrong}; "
                f"CPU per request: workers {' + '.join(f'{c:.1f}s' for c in worker_cpu)}, "
                f"requester {mine:.1f}s; idle-2-core estimate {idle[count]:.4f} requests/s",
                flush=True,
            )
        print(f"  ratio 2 workers / 1 worker: {rates[2] / rates[1]:.2f}x wall", flush=True)
        print(f"  ratio on the idle-2-core estimate: {idle[2] / idle[1]:.2f}x", flush=True)
        print(f"  load average at the end: {os.getloadavg()}", flush=True)


if __name__ == "__main__":
    main()
