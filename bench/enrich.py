"""Benchmark of ppcti.enrich: the warninglist filter, and a whole enrichment against local fakes.

1. Warninglist filter: the shipped MISP lists compiled into one interval index, asked about
   ``--lookups`` random IPv4 addresses in one batch (``WarninglistIndex.contains_ipv4``, text in,
   booleans out). Baseline, in the same run: the naive loop over the lists as pymispwarninglists does
   it (``address in WarningList`` for every CIDR list, ``slow_search=True``) on ``--naive-lookups``
   addresses. Both must agree on every address of the baseline sample.
2. Enrichment: a run folder with ``--indicators`` public attacker addresses (``cti/aggregate.json``
   built by ppcti.stix), enriched on all four services, each a local fake HTTP server on loopback that
   answers after ``--latency`` seconds (no cache, limits lifted; the fakes run in a process of their
   own). Baseline, in the same run: a
   sequential loop of one httpx request after another against the same fake, on ``--sequential``
   lookups, extrapolated to the same number of lookups.

Usage: PYTHONPATH=src .venv/bin/python bench/enrich.py [--lookups 1000000] [--indicators 10000]
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import random
import sys
import tempfile
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "enrich"))

from enrich_fakes import ENV, FAKE_CLASSES, KEYS  # noqa: E402

from ppcti.analysis.netclass import bogon_range  # noqa: E402
from ppcti.enrich import SERVICES, EnrichSettings, enrich_run  # noqa: E402
from ppcti.enrich.warninglists import WarninglistIndex, load_lists  # noqa: E402
from ppcti.stix import write_cti  # noqa: E402


def random_addresses(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [
        f"{rng.randrange(1, 224)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}"
        for _ in range(n)
    ]


def bench_filter(lookups: int, naive_lookups: int) -> dict[str, float]:
    started = time.perf_counter()
    lists = load_lists()
    loaded = time.perf_counter()
    index = WarninglistIndex.build(lists)
    built = time.perf_counter()
    addresses = random_addresses(lookups, 1)
    t0, c0 = time.perf_counter(), time.process_time()
    hits = index.contains_ipv4(addresses)
    fast, fast_cpu = time.perf_counter() - t0, time.process_time() - c0

    from pymispwarninglists.api import WarningList

    t1 = time.perf_counter()
    cidr_lists = [WarningList(wl, slow_search=True) for wl in lists if wl.get("type") == "cidr"]
    naive_setup = time.perf_counter() - t1
    sample = addresses[:naive_lookups]
    t2, c2 = time.perf_counter(), time.process_time()
    naive_hits = [any(a in wl for wl in cidr_lists) for a in sample]
    naive, naive_cpu = time.perf_counter() - t2, time.process_time() - c2
    # the index also holds IP entries of non-CIDR lists meant for IPs, so it may find more, never fewer
    missed = sum(1 for h, n in zip(hits, naive_hits, strict=False) if n and not h)
    return {
        "load_s": loaded - started,
        "build_s": built - loaded,
        "intervals": index.intervals,
        "lookups": lookups,
        "hits": sum(hits),
        "index_per_s": lookups / fast,
        "index_per_cpu_s": lookups / fast_cpu,
        "naive_setup_s": naive_setup,
        "naive_lookups": len(sample),
        "naive_per_s": len(sample) / naive,
        "naive_per_cpu_s": len(sample) / naive_cpu,
        "missed_vs_naive": missed,
    }


def make_run(root: Path, n: int, index: WarninglistIndex) -> tuple[Path, list[str]]:
    rng = random.Random(7)
    chosen: dict[str, None] = {}
    while len(chosen) < n:
        batch = [
            f"{rng.randrange(1, 224)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
            for _ in range(n)
        ]
        for address, listed in zip(batch, index.contains_ipv4(batch), strict=True):
            if not listed and bogon_range(address) is None and len(chosen) < n:
                chosen.setdefault(address, None)
    run = root / "run"
    run.mkdir()
    events = (
        {
            "holder": "bench",
            "format": "firewall-text",
            "source_file": "fw.log",
            "line": i,
            "timestamp": f"2024-05-01T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z",
            "src_ip": a,
            "src_port": 40000,
            "dst_ip": "10.0.0.5",
            "dst_port": 22,
            "protocol": "TCP",
        }
        for i, a in enumerate(chosen)
    )
    (run / "events.jsonl").write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events))
    write_cti(run / "events.jsonl", run / "cti")
    return run, list(chosen)


def _serve(latency: float, name: str, urls: multiprocessing.Queue, stop: multiprocessing.Event) -> None:
    """One fake in a process of its own, so fakes and client do not share an interpreter lock.

    The answers are the tests' fakes' (same parsing, same documented JSON), served by aiohttp: the
    tests' threaded werkzeug server spends a thread and several times the CPU per request, which
    would measure the fake more than the client.
    """
    import asyncio

    from aiohttp import web
    from werkzeug import Request
    from werkzeug.test import EnvironBuilder

    fake = FAKE_CLASSES[name](name=name, server=None)  # type: ignore[arg-type]

    async def handle(request: web.Request) -> web.Response:
        environ = EnvironBuilder(
            path=request.path,
            method=request.method,
            query_string=request.query_string,
            headers=dict(request.headers),
            data=await request.read(),
        ).get_environ()
        value, key_ok = fake.parse(Request(environ))
        await asyncio.sleep(latency)
        answer = fake.answer(fake.default if key_ok else "401", value)
        extra = {
            k: v for k, v in answer.headers.items() if k.lower() not in ("content-length", "content-type")
        }
        return web.Response(
            body=answer.get_data(), status=answer.status_code, content_type=answer.mimetype, headers=extra
        )

    async def main() -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        prefix = f"PPCTI_{ENV[name]}"
        urls.put({f"{prefix}_KEY": KEYS[name], f"{prefix}_URL": f"http://127.0.0.1:{port}"})
        while not stop.is_set():
            await asyncio.sleep(0.1)
        await runner.cleanup()

    asyncio.run(main())


def bench_enrich(n: int, latency: float, sequential: int, concurrency: int) -> dict[str, float]:
    import httpx

    lists = load_lists()
    index = WarninglistIndex.build(lists)
    urls: multiprocessing.Queue = multiprocessing.Queue()
    stop = multiprocessing.Event()
    servers = [
        multiprocessing.Process(target=_serve, args=(latency, name, urls, stop), daemon=True)
        for name in SERVICES
    ]
    for server in servers:
        server.start()
    try:
        env: dict[str, str] = {}
        for _ in servers:
            env.update(urls.get(timeout=60))
        with tempfile.TemporaryDirectory() as tmp:
            run, values = make_run(Path(tmp), n, index)
            for name in SERVICES:
                env[f"PPCTI_{ENV[name]}_RATE"] = "1000000/s"
                env[f"PPCTI_{ENV[name]}_BURST"] = "100000"
            settings = EnrichSettings.from_sources(env, {"concurrency": concurrency, "timeout": 30})
            import aiohttp  # noqa: F401  (imported before the clock starts, as httpx is for the baseline)
            import vt  # noqa: F401

            t0, c0 = time.perf_counter(), time.process_time()
            summary = enrich_run(run, settings, warninglists=index)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            lookups = sum(s["lookups"] for s in summary["services"].values())
            failed = sum(s["failed"] for s in summary["services"].values())

            t1 = time.perf_counter()
            with httpx.Client(
                base_url=env["PPCTI_ABUSEIPDB_URL"], headers={"Key": KEYS["abuseipdb"]}
            ) as client:
                for value in values[:sequential]:
                    client.get("/api/v2/check", params={"ipAddress": value, "maxAgeInDays": "90"}).json()
            per_lookup = (time.perf_counter() - t1) / sequential
    finally:
        stop.set()
        for server in servers:
            server.join(timeout=30)
    return {
        "indicators": n,
        "lookups": lookups,
        "failed": failed,
        "wall_s": wall,
        "client_cpu_s": cpu,
        "lookups_per_s": lookups / wall,
        "sequential_sample": sequential,
        "sequential_per_lookup_s": per_lookup,
        "sequential_extrapolated_s": per_lookup * lookups,
        "speedup": per_lookup * lookups / wall,
    }


def report_filter(f: dict[str, float]) -> None:
    print(
        f"warninglists: {f['intervals']:,} merged intervals (load {f['load_s']:.2f}s, "
        f"build {f['build_s']:.2f}s); index {f['index_per_s']:,.0f} lookups/s "
        f"({f['index_per_cpu_s']:,.0f} per CPU-second) on {f['lookups']:,} ({f['hits']:,} listed); "
        f"naive loop over the lists {f['naive_per_s']:,.0f} lookups/s ({f['naive_per_cpu_s']:,.0f} per "
        f"CPU-second) on {f['naive_lookups']:,} (setup {f['naive_setup_s']:.1f}s); "
        f"ratio {f['index_per_s'] / f['naive_per_s']:,.0f}x; missed vs naive: {f['missed_vs_naive']}"
    )


def report_enrich(e: dict[str, float], latency: float) -> None:
    print(
        f"enrichment: {e['indicators']:,} indicators, {e['lookups']:,} lookups on 4 services at "
        f"{latency * 1000:.0f} ms latency in {e['wall_s']:.1f}s ({e['lookups_per_s']:,.0f}/s, "
        f"client CPU {e['client_cpu_s']:.1f}s, "
        f"{e['failed']} failed); sequential loop {e['sequential_per_lookup_s'] * 1000:.1f} ms/lookup on "
        f"{e['sequential_sample']} lookups → {e['sequential_extrapolated_s']:,.0f}s for the same lookups; "
        f"speed-up {e['speedup']:.0f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lookups", type=int, default=1_000_000)
    parser.add_argument("--naive-lookups", type=int, default=5_000)
    parser.add_argument("--indicators", type=int, default=10_000)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--sequential", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--skip-enrich", action="store_true")
    parser.add_argument("--skip-filter", action="store_true")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the fakes' request log
    if not args.skip_filter:
        report_filter(bench_filter(args.lookups, args.naive_lookups))
    if not args.skip_enrich:
        report_enrich(
            bench_enrich(args.indicators, args.latency, args.sequential, args.concurrency), args.latency
        )


if __name__ == "__main__":
    main()
