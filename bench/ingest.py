"""Ingestion benchmark: lines per second per stage and end to end, and peak memory, per log format.

Method (all in one run, on this machine):
1. ``ppcti.samples`` writes 1,000,000 entries per format (with the usual defects) under ``bench/out``.
2. Each format's files run through the core pipeline (ingest → detect → parse+clean → dedup → minimise →
   write; the later stages are skipped) in a fresh subprocess pinned to one core (``taskset -c 0``,
   ``POLARS_MAX_THREADS=1``), so peak RSS and time belong to that run alone.
3. The firewall files again on the Polars reference path (``PPCTI_NATIVE=0``): what the compiled
   scanner and writer are worth.
4. Baselines, pinned to the same core: a straightforward per-line Python loop (regexes,
   ``datetime.strptime``, ``json.dumps``) that extracts the firewall features, and a per-line loop that
   does ppcti's whole job on the same files, output for output (same rules, rejects, dedup, cleaned copy).
5. Memory bound: the firewall run is repeated at a quarter of the size; peak RSS must not grow with input.
6. Page cache: on this virtual machine a page of memory the guest has not used for a while costs about
   2 µs to touch the first time, so writing 500 MB into fresh page-cache pages costs 1.2 s of kernel time
   where reused pages cost 0.1 s. That is a property of the machine, not of the code, and it is paid by
   ppcti and the baselines alike (they write the same outputs). Each measured run is therefore preceded by
   writing and deleting a 1 GiB scratch file, so every run writes into reused pages; one firewall run
   without it is reported as "cold".
7. Bytecode: ``src/`` is byte-compiled before the first run, as an installed package is, so no run
   compiles the modules it imports lazily (this machine sets ``PYTHONDONTWRITEBYTECODE``).

Usage: ``python bench/ingest.py [--rows 1000000] [--out bench/out/ingest]``; prints a Markdown table.
"""

from __future__ import annotations

import argparse
import compileall
import functools
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from ppcti.pipeline import RunOptions, run_pipeline
from ppcti.clean.timestamps import TimeContext
from datetime import date
inputs = [Path(p) for p in sys.argv[2:]]
t0 = time.perf_counter()
summary = run_pipeline(inputs, RunOptions(holder="bench", out=Path(sys.argv[1]),
    skip=frozenset({"pii", "cti", "analysis", "report"}), time=TimeContext(year=2023, date=date(2023, 3, 7))))
wall = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"wall": wall, "stages": summary.stage_seconds, "events": summary.events,
                  "rejects": summary.rejects, "peak_kib": peak}))
"""


def warm_page_cache(folder: Path, size: int = 1 << 30) -> None:
    """Write and delete ``size`` bytes in ``folder``: the next writes reuse those page-cache pages."""
    scratch = folder / "warm-up.bin"
    block = bytes(8 << 20)
    with open(scratch, "wb") as handle:
        for _ in range(size // len(block)):
            handle.write(block)
    scratch.unlink()


@functools.cache
def byte_compile() -> None:
    """Write the bytecode of ``src/`` once, as ``pip install`` does for an installed package.

    Run from a checkout with ``PYTHONDONTWRITEBYTECODE`` set (as on this machine), every module the
    pipeline imports lazily is compiled from source inside the timed run, every run: 0.02 s of a 0.67 s
    events-json run, a cost no installed copy pays.
    """
    compileall.compile_dir(ROOT / "src", quiet=1)


def run_core(files: list[Path], out: Path, *, native: bool = True) -> dict:
    byte_compile()
    env = {
        **os.environ,
        "POLARS_MAX_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "PPCTI_NATIVE": "1" if native else "0",
    }
    cmd = [sys.executable, "-c", _CHILD, str(out), *map(str, files)]
    if shutil.which("taskset"):
        cmd = ["taskset", "-c", "0", *cmd]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


_TS = re.compile(
    r"^(?:<\d+>)?\s*([A-Za-z]{3}/\d{2}/\d{4} \d{2}:\d{2}:\d{2}|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})"
)
_IP = re.compile(r"\b(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})(?::(\d{1,5}))?")
_MAC = re.compile(r"src-mac ([^\s,]+)")
_PROTO = re.compile(r"proto ([^\s(,]+)")


def baseline_loop(path: Path, out: Path) -> tuple[int, float]:
    """The obvious implementation: one line at a time, regexes and a dict per line."""
    count = 0
    start = time.perf_counter()
    with open(path, encoding="utf-8", errors="replace") as src, open(out, "w", encoding="utf-8") as dst:
        for number, line in enumerate(src, start=1):
            line = line.rstrip("\n")
            m = _TS.match(line)
            ips = _IP.findall(line)
            if not m or not ips:
                continue
            text = m.group(1)
            try:
                if "/" in text:
                    ts = datetime.strptime(text, "%b/%d/%Y %H:%M:%S").replace(tzinfo=UTC)
                else:
                    ts = datetime.fromisoformat(text).replace(tzinfo=UTC)
            except ValueError:
                continue
            mac = _MAC.search(line)
            proto = _PROTO.search(line)
            event = {
                "line": number,
                "timestamp": ts.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "src_ip": ips[0][0],
                "src_port": int(ips[0][1]) if ips[0][1] else None,
                "dst_ip": ips[1][0] if len(ips) > 1 else None,
                "dst_port": int(ips[1][1]) if len(ips) > 1 and ips[1][1] else None,
                "nat_ip": ips[-1][0] if len(ips) > 2 else None,
                "protocol": proto.group(1).upper() if proto else None,
                "src_mac": mac.group(1).lower() if mac else None,
            }
            dst.write(json.dumps(event) + "\n")
            count += 1
    return count, time.perf_counter() - start


def baseline_equivalent(paths: list[Path], out: Path, year: int, day: date) -> tuple[int, int, float]:
    """A per-line loop that does the same job as ppcti's firewall path, output for output.

    Same header styles and feature rules (it reuses the format's regex texts), timestamps through
    ``datetime``, MACs through the row normaliser, deduplication through a dict, and the same three
    outputs: events as JSON lines, rejects with reasons, and the cleaned copy. Returns
    ``(events, rejects, seconds)``.
    """
    from ppcti.clean.mac import normalise_mac
    from ppcti.formats.firewall_text import _HEAD, _IP_PORT, IPV4

    head, ip_port, ipv4 = (
        re.compile(_HEAD),
        re.compile(_IP_PORT.replace("(?-u:\\b)", "\\b")),
        re.compile(IPV4),
    )
    mac_re, proto_re = re.compile(r"src-mac ([^\s,]+)"), re.compile(r"\bproto ([^\s(,]+)(?: \(([^)]*)\))?")
    from ppcti.clean.timestamps import _MONTHS

    seen: dict[tuple, str] = {}
    events = rejects = 0
    start = time.perf_counter()
    with open(out / "events.jsonl", "w") as ev, open(out / "rejects.jsonl", "w") as rj:
        for path in paths:
            with open(path, encoding="utf-8", errors="replace") as src, open(out / path.name, "w") as cl:
                for number, line in enumerate(src, start=1):
                    line = line.rstrip("\r\n")
                    if not line.strip():
                        continue
                    m = head.match(line)
                    reason = None
                    ts = None
                    if m is None:
                        reason = "no timestamp at the start of the line"
                    else:
                        g = m.groupdict()
                        try:
                            if g["r_clock"]:
                                y, mo, d, clock = (
                                    int(g["r_year"]),
                                    _MONTHS[g["r_mon"].lower()],
                                    int(g["r_day"]),
                                    g["r_clock"],
                                )
                            elif g["i_clock"]:
                                y, mo, d, clock = (
                                    int(g["i_year"]),
                                    int(g["i_mon"]),
                                    int(g["i_day"]),
                                    g["i_clock"],
                                )
                            elif g["b_clock"]:
                                y, mo, d, clock = (
                                    year,
                                    _MONTHS[g["b_mon"].lower()],
                                    int(g["b_day"]),
                                    g["b_clock"],
                                )
                            else:
                                y, mo, d, clock = day.year, day.month, day.day, g["t_clock"]
                            moment = datetime(y, mo, d, *map(int, clock.split(":")), tzinfo=UTC)
                            off = g["i_off"]
                            if off and off != "Z":
                                digits = off[1:].replace(":", "")
                                delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:4]))
                                moment = moment - delta if off[0] == "+" else moment + delta
                            ts = (
                                moment.strftime("%Y-%m-%dT%H:%M:%S")
                                + (f".{g['i_frac']}" if g["i_frac"] else "")
                                + "Z"
                            )
                        except (ValueError, KeyError):
                            reason = "invalid timestamp"
                    ips = ip_port.findall(line)
                    t1, t2 = (m.group("t1"), m.group("t2")) if m else (None, None)
                    host = (
                        t1
                        if (
                            m
                            and (m.group("i_clock") or m.group("b_clock"))
                            and t2
                            and "," in t2
                            and not any(c in t1 for c in ":,")
                        )
                        else None
                    )
                    if host and ipv4.fullmatch(host):
                        ips = ips[1:]
                    if not ips:
                        reason = "no IP address"
                    if reason:
                        rj.write(
                            json.dumps({"file": path.name, "line": number, "reason": reason, "raw": line})
                            + "\n"
                        )
                        rejects += 1
                        continue
                    src_ip, _, src_port = ips[0].partition(":")
                    dst_ip, _, dst_port = ips[1].partition(":") if len(ips) > 1 else (None, "", "")
                    nat_ip = ips[-1].partition(":")[0] if len(ips) > 2 else None
                    mac = mac_re.search(line)
                    proto = proto_re.search(line)
                    event = {
                        "holder": "bench",
                        "format": "firewall-text",
                        "source_file": path.name,
                        "line": number,
                        "timestamp": ts,
                        "src_ip": src_ip,
                        "src_port": int(src_port) if src_port else None,
                        "dst_ip": dst_ip,
                        "dst_port": int(dst_port) if dst_port else None,
                        "nat_ip": nat_ip,
                        "protocol": proto.group(1).upper() if proto else None,
                        "src_mac": normalise_mac(mac.group(1)) if mac else None,
                        "extra": {"host": host, "tcp_flags": proto.group(2) if proto else None},
                    }
                    key = tuple(v for k, v in event.items() if k not in ("source_file", "line", "extra"))
                    if key in seen:
                        rj.write(
                            json.dumps(
                                {
                                    "file": path.name,
                                    "line": number,
                                    "reason": f"duplicate of {seen[key]}",
                                    "raw": line,
                                }
                            )
                            + "\n"
                        )
                        rejects += 1
                        continue
                    seen[key] = f"{path.name}:{number}"
                    ev.write(json.dumps(event) + "\n")
                    cl.write(line + "\n")
                    events += 1
    return events, rejects, time.perf_counter() - start


def count_lines(files: list[Path]) -> int:
    total = 0
    for path in files:
        with open(path, "rb") as handle:
            total += sum(chunk.count(b"\n") for chunk in iter(lambda h=handle: h.read(1 << 24), b""))
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "ingest")
    args = parser.parse_args()
    from ppcti.samples import generate

    data = args.out / f"data-{args.rows}"
    if not data.exists():
        print(f"generating {args.rows} entries per format in {data} ...", file=sys.stderr)
        generate(data, rows=args.rows, seed=1, make_zip=False, ground_truth=False)
    from ppcti.samples.build import PLANS

    by_format = {
        fmt: [data / plan.name for plan in PLANS[fmt]]
        for fmt in ("firewall-text", "email-csv", "events-json")
    }
    rows = []
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})  # the baselines run in this process: the same single core
    with tempfile.TemporaryDirectory() as tmp:
        cold = run_core(by_format["firewall-text"], Path(tmp) / "cold")
        for fmt, paths in by_format.items():
            entries = count_lines(paths)
            warm_page_cache(Path(tmp))
            result = run_core(paths, Path(tmp) / fmt)
            parse = result["stages"].get("parse", 0) + result["stages"].get("clean", 0)
            rows.append((fmt, entries, result, parse))
        fw_paths = by_format["firewall-text"]
        quarter = Path(tmp) / "quarter.log"
        with open(fw_paths[0], "rb") as src, open(quarter, "wb") as dst:
            lines = src.read().splitlines(keepends=True)
            dst.writelines(lines[: len(lines) // 4])
        small = run_core([quarter], Path(tmp) / "quarter")
        warm_page_cache(Path(tmp))
        reference = run_core(by_format["firewall-text"], Path(tmp) / "reference", native=False)
        warm_page_cache(Path(tmp))
        base_count, base_time = baseline_loop(fw_paths[0], Path(tmp) / "baseline.jsonl")
        base_lines = count_lines([fw_paths[0]])
        (Path(tmp) / "equivalent").mkdir()
        warm_page_cache(Path(tmp))
        eq_events, eq_rejects, eq_time = baseline_equivalent(
            fw_paths, Path(tmp) / "equivalent", 2023, date(2023, 3, 7)
        )

    print(f"\n### ingest benchmark, {args.rows:,} entries per format, one core\n")
    print(
        "| format | entries | events | end to end (lines/s) | parse+clean (lines/s) | write (s) "
        "| peak RSS (MiB) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for fmt, entries, result, parse in rows:
        print(
            f"| {fmt} | {entries:,} | {result['events']:,} | {entries / result['wall']:,.0f} | "
            f"{entries / parse:,.0f} | {result['stages'].get('write', 0):.2f} | "
            f"{result['peak_kib'] / 1024:,.0f} |"
        )
    fw = rows[0]
    fw_file_rate = fw[1] / fw[2]["wall"]
    base_rate = base_lines / base_time
    print(
        f"\nbaseline per-line Python loop on {base_lines:,} firewall lines: {base_rate:,.0f} lines/s "
        f"({base_count:,} events); ppcti end to end: {fw_file_rate:,.0f} lines/s "
        f"→ **{fw_file_rate / base_rate:.1f}x**"
    )
    eq_rate = fw[1] / eq_time
    print(
        f"baseline per-line loop doing the same job ({eq_events:,} events, {eq_rejects:,} rejects; ppcti: "
        f"{fw[2]['events']:,} events, {fw[2]['rejects']:,} rejects): {eq_rate:,.0f} lines/s "
        f"→ ppcti **{fw_file_rate / eq_rate:.1f}x**"
    )
    ref_rate = fw[1] / reference["wall"]
    print(
        f"firewall-text on the Polars reference path (PPCTI_NATIVE=0): {ref_rate:,.0f} lines/s "
        f"(parse {reference['stages'].get('parse', 0):.2f} s, "
        f"write {reference['stages'].get('write', 0):.2f} s)"
        f" → compiled **{fw_file_rate / ref_rate:.1f}x**"
    )
    cold_rate = fw[1] / cold["wall"]
    print(
        f"firewall-text cold (first run, fresh page-cache pages): {cold_rate:,.0f} lines/s, "
        f"write {cold['stages'].get('write', 0):.2f} s → {cold_rate / eq_rate:.1f}x the same-job loop"
    )
    print(
        f"peak RSS at 1/4 of the firewall input: {small['peak_kib'] / 1024:,.0f} MiB "
        f"vs {fw[2]['peak_kib'] / 1024:,.0f} MiB at full size"
    )
    print(
        f"(machine load average at the end: {os.getloadavg()[0]:.2f}; "
        f"ru_maxrss of this process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB)"
    )


if __name__ == "__main__":
    main()
