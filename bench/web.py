"""Benchmark: ``ppcti serve`` under concurrent uploads and readers, against the CLI doing the same work.

Starts ``ppcti serve`` on a loopback port (SQLite, process workers), then
1. uploads the sample ZIP ``--uploads`` times at once and waits until every job is done: uploads/s and
   p95 time from upload to done; baseline: ``ppcti run`` on the same ZIP, the same number of times, one
   after the other (what a holder without the server does), same options;
2. runs ``--readers`` concurrent readers, each fetching ``--reads`` pages and API results (overview,
   CTI page, summary, PII, CTI, insights) of the finished uploads: requests/s and p95 latency; baseline:
   one process reading and parsing the same result files sequentially.

    PYTHONPATH=src .venv/bin/python bench/web.py --uploads 20 --readers 200 --reads 5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import httpx

from ppcti.api.accounts import ensure_holder
from ppcti.api.security import hash_password
from ppcti.store import Database, Role, User

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "sample-upload.zip"
PASSWORD = "bench-password-123"
CLI = [sys.executable, "-c", "from ppcti.cli import main; main()"]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1] if len(values) >= 2 else values[0]


def start_server(tmp: Path, workers: int, nlp: str) -> tuple[subprocess.Popen[bytes], str]:
    db_url = f"sqlite:///{tmp / 'ppcti.db'}"
    db = Database(db_url)
    db.migrate()
    with db.session() as s:
        holder = ensure_holder(s, "bench")
        s.add(
            User(
                email="bench@bench.test",
                password_hash=hash_password(PASSWORD),
                role=Role.HOLDER_USER,
                holder_id=holder.id,
            )
        )
    db.dispose()
    port = _port()
    command = [
        *CLI,
        "serve",
        "--db",
        db_url,
        "--data",
        str(tmp / "data"),
        "--listen",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--nlp",
        nlp,
    ]
    log = (tmp / "server.log").open("wb")
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(base + "/signin", timeout=2).read()
            return proc, base
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("ppcti serve did not start") from None
            time.sleep(0.3)


async def uploads(base: str, n: int) -> tuple[list[str], float, list[float], str]:
    async with httpx.AsyncClient(base_url=base, timeout=600) as client:
        r = await client.post("/api/v1/auth/signin", json={"email": "bench@bench.test", "password": PASSWORD})
        csrf = {"X-CSRF-Token": r.json()["csrf_token"]}
        token = (await client.post("/api/v1/tokens", json={"name": "bench"}, headers=csrf)).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    data = SAMPLE.read_bytes()
    limits = httpx.Limits(max_connections=n + 10)
    async with httpx.AsyncClient(base_url=base, timeout=600, headers=headers, limits=limits) as client:
        started = time.perf_counter()

        async def one(i: int) -> tuple[str, float]:
            t0 = time.perf_counter()
            r = await client.post("/api/v1/uploads", files={"file": (f"sample-{i}.zip", data)})
            r.raise_for_status()
            upload_id = r.json()["id"]
            while True:
                job = (await client.get(f"/api/v1/uploads/{upload_id}")).json()["job"]
                if job["state"] in ("done", "failed"):
                    if job["state"] != "done":
                        raise SystemExit(f"job failed: {job['error']}")
                    return upload_id, time.perf_counter() - t0
                await asyncio.sleep(0.5)

        results = await asyncio.gather(*(one(i) for i in range(n)))
        elapsed = time.perf_counter() - started
    return [r[0] for r in results], elapsed, [r[1] for r in results], token


READ_PATHS = (
    "/uploads/{id}",
    "/uploads/{id}/cti",
    "/api/v1/uploads/{id}/summary",
    "/api/v1/uploads/{id}/pii",
    "/api/v1/uploads/{id}/cti?limit=100",
    "/api/v1/uploads/{id}/insights",
)


async def readers(
    base: str, token: str, ids: list[str], n: int, reads: int
) -> tuple[float, list[float], int]:
    async with httpx.AsyncClient(base_url=base, timeout=600) as signin:
        r = await signin.post("/api/v1/auth/signin", json={"email": "bench@bench.test", "password": PASSWORD})
        cookie = r.cookies.get("ppcti_session")
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=n)
    async with (
        httpx.AsyncClient(
            base_url=base, timeout=600, limits=limits, headers={"Authorization": f"Bearer {token}"}
        ) as api,
        httpx.AsyncClient(
            base_url=base, timeout=600, limits=limits, cookies={"ppcti_session": cookie}
        ) as web,
    ):

        async def reader(k: int) -> None:
            for j in range(reads):
                path = READ_PATHS[(k + j) % len(READ_PATHS)].format(id=ids[(k + j) % len(ids)])
                client = api if path.startswith("/api/") else web
                t0 = time.perf_counter()
                r = await client.get(path)
                r.raise_for_status()
                latencies.append(time.perf_counter() - t0)

        started = time.perf_counter()
        await asyncio.gather(*(reader(k) for k in range(n)))
        elapsed = time.perf_counter() - started
    return elapsed, latencies, len(latencies)


def cli_runs(tmp: Path, n: int, nlp: str) -> tuple[float, list[Path]]:
    outs = []
    started = time.perf_counter()
    for i in range(n):
        out = tmp / "cli" / str(i)
        subprocess.run(
            [*CLI, "run", str(SAMPLE), "--holder", "bench", "--out", str(out), "--nlp", nlp, "-q"], check=True
        )
        outs.append(out)
    return time.perf_counter() - started, outs


def cli_reads(outs: list[Path], total: int) -> tuple[float, list[float]]:
    files = ("summary.json", "pii.json", "cti/aggregate.json", "insights.json")
    latencies = []
    started = time.perf_counter()
    for i in range(total):
        t0 = time.perf_counter()
        json.loads((outs[i % len(outs)] / files[i % len(files)]).read_bytes())
        latencies.append(time.perf_counter() - t0)
    return time.perf_counter() - started, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=20)
    parser.add_argument("--readers", type=int, default=200)
    parser.add_argument("--reads", type=int, default=5, help="requests per reader")
    parser.add_argument("--workers", type=int, default=2, help="server job workers (processes)")
    parser.add_argument("--nlp", default="regex", help="PII free-text engine, both sides")
    args = parser.parse_args()
    os.environ.setdefault("PYTHONPATH", str(ROOT / "src"))
    with tempfile.TemporaryDirectory(prefix="ppcti-bench-web-") as name:
        tmp = Path(name)
        proc, base = start_server(tmp, args.workers, args.nlp)
        try:
            ids, up_elapsed, up_latency, token = asyncio.run(uploads(base, args.uploads))
            rd_elapsed, rd_latency, requests = asyncio.run(
                readers(base, token, ids, args.readers, args.reads)
            )
        except BaseException:
            out = ROOT / "bench" / "out"
            out.mkdir(parents=True, exist_ok=True)
            (out / "web-server.log").write_bytes((tmp / "server.log").read_bytes())
            sys.stderr.write(f"server log: {out / 'web-server.log'}\n")
            raise
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
        cli_elapsed, outs = cli_runs(tmp, args.uploads, args.nlp)
        base_elapsed, base_latency = cli_reads(outs, requests)
    report = {
        "cpus": os.cpu_count(),
        "uploads": args.uploads,
        "server_workers": args.workers,
        "server_upload_seconds": round(up_elapsed, 2),
        "server_uploads_per_s": round(args.uploads / up_elapsed, 3),
        "server_upload_to_done_p95_s": round(p95(up_latency), 2),
        "cli_sequential_seconds": round(cli_elapsed, 2),
        "cli_runs_per_s": round(args.uploads / cli_elapsed, 3),
        "upload_throughput_ratio_server_vs_cli": round(cli_elapsed / up_elapsed, 2),
        "readers": args.readers,
        "requests": requests,
        "server_requests_per_s": round(requests / rd_elapsed, 1),
        "server_request_p95_ms": round(1000 * p95(rd_latency), 1),
        "baseline_file_reads_per_s": round(requests / base_elapsed, 1),
        "baseline_read_p95_ms": round(1000 * p95(base_latency), 2),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
