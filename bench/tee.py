"""TEE service benchmark: the same upload through ``ppcti run`` and through ``ppcti tee submit``.

Method, all in one run on this machine:
1. ``ppcti.samples`` writes an upload of the three formats (firewall text, e-mail CSV, events JSON) as one
   ZIP of about ``--mb`` megabytes (uncompressed: what the pipeline reads).
2. Baseline: ``ppcti run ZIP`` as a subprocess, timed from start to exit.
3. The service (``ppcti tee serve --backend simulation --insecure-simulation``) is started once and left
   running, as a service is; then ``ppcti tee submit ZIP`` as a subprocess, timed from start to exit:
   RA-TLS handshake and verification, streaming upload sealed with AES-GCM, unsealing, the same
   pipeline, CTIEncrypt-K (FHE) of the CTI's addresses, sealing the results, download, receipt checks.
4. Since ``submit`` also does CTIEncrypt-K, which ``run`` does not, ``ppcti fhe encrypt-cti`` on the run
   folder is timed too, and the overhead is stated both ways: submit / run, and
   submit / (run + encrypt-cti).
5. The service is a warm, long-running process while each CLI run pays Python's imports, which flatters
   the service. So the like-for-like baseline is also measured warm: ``run_pipeline`` then
   ``encrypt_cti`` in this (already warmed-up) process, the very calls the service makes. submit / warm
   is the overhead of the TEE path itself (TLS, sealing, unsealing, packing, download, receipt checks),
   the ratio the target refers to. Both warm arms are warmed up once, untimed (the service with one
   submit), since a first run in a process pays imports and caches that later runs do not.
Both arms use the same options (``--nlp`` as given, default ``regex``). The order of the two arms
alternates over ``--repeat`` rounds and the median of each is reported.

Usage: ``python bench/tee.py [--mb 100] [--repeat 1]``; prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the test suite's way of starting the service, shared

from ppcti_process import start_tee_service  # noqa: E402

CLI = [sys.executable, "-c", "from ppcti.cli import main; main()"]
#: Entries per format per uncompressed megabyte of the sample set (measured: 6.6 MB for 8,500 rows).
ROWS_PER_MB = 1290


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT / "src"), "COLUMNS": "300"}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(args: list[str], service_pid: int | None = None) -> tuple[float, float]:
    """Wall seconds and CPU seconds (the command's, plus the running service's when given)."""
    service = psutil.Process(service_pid) if service_pid else None
    cpu0 = _children_cpu() + (sum(service.cpu_times()[:2]) if service else 0.0)
    start = time.perf_counter()
    subprocess.run([*CLI, *args], check=True, env=_env(), stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    cpu1 = _children_cpu() + (sum(service.cpu_times()[:2]) if service else 0.0)
    return wall, cpu1 - cpu0


def warm_baseline(upload: Path, out: Path, public: Path, nlp: str) -> tuple[float, float]:
    """The service's two library calls, in this process: wall and CPU seconds."""
    from ppcti.fhe import encrypt_cti
    from ppcti.pipeline import RunOptions, run_pipeline

    shutil.rmtree(out, ignore_errors=True)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu0, start = usage.ru_utime + usage.ru_stime, time.perf_counter()
    run_pipeline([upload], RunOptions(holder="bench", out=out, nlp=nlp))
    encrypt_cti(out, public, out)
    wall = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return wall, usage.ru_utime + usage.ru_stime - cpu0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=100.0, help="uncompressed upload size in MB")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--nlp", default="regex")
    parser.add_argument("--out", type=Path, default=None, help="work folder (default: a temporary one)")
    args = parser.parse_args()

    from ppcti.fhe import keygen
    from ppcti.samples.build import generate

    work = args.out or Path(tempfile.mkdtemp(prefix="ppcti-bench-tee-"))
    work.mkdir(parents=True, exist_ok=True)
    rows = max(100, int(args.mb * ROWS_PER_MB))
    generated = generate(work / "sample", rows=rows, ground_truth=False)
    assert generated.zip_path is not None
    upload = generated.zip_path
    plain_mb = (
        sum(f.stat().st_size for f in (work / "sample").rglob("*") if f.is_file() and f != upload) / 1e6
    )
    keygen(work / "keys")
    subprocess.run(
        [*CLI, "tee", "policy", "init", "--simulation", "--force", "--out", str(work / "policy.yaml")],
        check=True,
        env=_env(),
        stdout=subprocess.DEVNULL,
    )
    service, url, _ = start_tee_service(work / "state", env=_env())
    run_times, submit_times, fhe_times, warm_times = [], [], [], []
    warm_baseline(upload, work / "warm-out", work / "keys/public.key", args.nlp)  # warm-up, not counted
    submit_args = [
        "tee", "submit", str(upload), "--holder", "bench", "--service", url,
        "--policy", str(work / "policy.yaml"), "--public", str(work / "keys/public.key"),
        "--nlp", args.nlp, "--quiet",
    ]  # fmt: skip
    timed([*submit_args, "--out", str(work / "submit-warm-up")])  # warm-up of the service, not counted
    try:
        for round_ in range(args.repeat):
            warm_times.append(warm_baseline(upload, work / "warm-out", work / "keys/public.key", args.nlp))
            for arm in ("run", "submit") if round_ % 2 == 0 else ("submit", "run"):
                out = work / f"{arm}-out"
                shutil.rmtree(out, ignore_errors=True)
                if arm == "run":
                    run_times.append(
                        timed(
                            [
                                "run",
                                str(upload),
                                "--holder",
                                "bench",
                                "--out",
                                str(out),
                                "--nlp",
                                args.nlp,
                                "--workers",
                                "1",  # as the service runs the pipeline: one process
                                "--quiet",
                            ]
                        )
                    )
                    shutil.rmtree(work / "fhe-out", ignore_errors=True)
                    fhe_times.append(
                        timed(
                            [
                                "fhe",
                                "encrypt-cti",
                                str(out),
                                "--public",
                                str(work / "keys/public.key"),
                                "--out",
                                str(work / "fhe-out"),
                            ]
                        )
                    )
                else:
                    submit_times.append(timed([*submit_args, "--out", str(out)], service_pid=service.pid))
    finally:
        service.send_signal(signal.SIGTERM)
        service.wait(30)
    (run_s, run_c), (submit_s, submit_c), (fhe_s, fhe_c), (warm_s, warm_c) = (
        (statistics.median(w for w, _ in arm), statistics.median(c for _, c in arm))
        for arm in (run_times, submit_times, fhe_times, warm_times)
    )
    print(
        f"upload: {upload.stat().st_size / 1e6:.1f} MB ZIP, {plain_mb:.1f} MB of logs, "
        f"{rows} entries per format; load average {os.getloadavg()[0]:.1f}"
    )
    print()
    print("| arm | wall s (median) | CPU s (median) |")
    print("|---|---|---|")
    print(f"| `ppcti run` | {run_s:.2f} | {run_c:.2f} |")
    print(f"| `ppcti fhe encrypt-cti` on its CTI | {fhe_s:.2f} | {fhe_c:.2f} |")
    print(f"| warm `run_pipeline` + `encrypt_cti` in-process | {warm_s:.2f} | {warm_c:.2f} |")
    print(
        "| `ppcti tee submit` (simulation, loopback; client + service CPU) "
        f"| {submit_s:.2f} | {submit_c:.2f} |"
    )
    print()
    print(
        f"TEE path overhead (like for like, warm): wall {submit_s / warm_s:.2f}x, "
        f"CPU {submit_c / warm_c:.2f}x "
        "(target < 1.3x)"
    )
    print(
        f"overhead, wall: submit / run = {submit_s / run_s:.2f}x; "
        f"submit / (run + encrypt-cti) = {submit_s / (run_s + fhe_s):.2f}x"
    )
    print(
        f"overhead, CPU:  submit / run = {submit_c / run_c:.2f}x; "
        f"submit / (run + encrypt-cti) = {submit_c / (run_c + fhe_c):.2f}x"
    )
    if args.out is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
