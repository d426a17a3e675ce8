"""Benchmark: STIX bundles per second, ppcti's plain-dict builder against the stix2 object model.

Generates N synthetic normalised events (firewall-text, email-csv and events-json mixed), builds one
bundle per event with ``ppcti.stix`` (dicts + orjson) and with ``stix2`` for the same entries in the same
run, reports bundles/s for each and the ratio, and checks that both produce identical ids (in fact
identical objects). ppcti's side is ``BundleBuilder.build(event).json``, the bytes ``bundles.jsonl`` gets
(JSON text written directly, with the repeated objects spliced in as cached JSON). stix2 is slow, so by
default it runs on the first ``--stix2-n`` events only; rates are per bundle either way and the report
says how many each side built. The ratio is given on wall time and on CPU time of this process (the
second is less disturbed by other work on a shared machine); the load average before and after is printed
with them, as other jobs on the machine change both.

    .venv/bin/python bench/stix.py --n 100000 --stix2-n 5000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import orjson

from ppcti.stix.build import BundleBuilder
from ppcti.stix.reference import stix2_bundle
from ppcti.stix.writer import write_cti


def synthetic_events(n: int, seed: int = 1) -> list[dict]:
    """A mix of the three formats with recurring attackers and targets, as real logs have."""
    rng = random.Random(seed)
    attackers = [
        f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        for _ in range(5000)
    ]
    attackers6 = [f"2001:db8:{rng.randint(0, 0xFFFF):x}::{rng.randint(1, 0xFFFF):x}" for _ in range(500)]
    targets = [f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}" for _ in range(500)]
    senders = [f"user{i}@spam{i % 97}.example" for i in range(2000)]
    staff = [f"staff{i}@victim.example" for i in range(300)]
    holders = ["ACME Bank", "City Hospital", "Grid Operator"]
    events = []
    for i in range(n):
        ts = f"2023-03-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:{(i * 7) % 60:02d}.{i % 1000:03d}Z"
        base = {"holder": holders[i % 3], "source_file": "input.log", "line": i + 1, "timestamp": ts}
        kind = i % 3
        if kind == 0:
            event = base | {
                "format": "firewall-text",
                "src_ip": rng.choice(attackers),
                "src_port": rng.randint(1024, 65535),
                "dst_ip": rng.choice(targets),
                "dst_port": rng.choice((22, 23, 80, 443, 3389)),
                "nat_ip": "198.51.100.1",
                "protocol": rng.choice(("TCP", "UDP")),
                "src_mac": f"00:1a:2b:3c:{rng.randint(0, 255):02x}:{rng.randint(0, 255):02x}",
            }
        elif kind == 1:
            sender = rng.choice(senders)
            recipients = rng.sample(staff, 2)
            event = base | {
                "format": "email-csv",
                "emails": [sender, *recipients],
                "extra": {
                    "sender": sender,
                    "recipients": recipients,
                    "verdict": "phishing",
                    "subject": "Invoice",
                },
            }
        else:
            event = base | {
                "format": "events-json",
                "src_ip": rng.choice(attackers6 if i % 5 == 0 else attackers),
                "src_port": rng.randint(1024, 65535),
                "dst_ip": "2001:db8::25" if i % 5 == 0 else rng.choice(targets),
                "dst_port": 443,
                "protocol": "TCP",
                "extra": {"event_type": "alert", "signature": "ET SCAN Nmap"},
            }
        events.append(event)
    return events


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="events to build with ppcti (default 100000)")
    parser.add_argument(
        "--stix2-n", type=int, default=5_000, help="of those, how many to build with stix2 too"
    )
    args = parser.parse_args()
    events = synthetic_events(args.n)
    stix2_n = min(args.stix2_n, args.n)
    load_before = os.getloadavg()[0]

    builder = BundleBuilder()
    dumps = orjson.dumps
    started, cpu = time.perf_counter(), time.process_time()
    lines = [builder.build(e).json for e in events]
    ppcti_s, ppcti_cpu = time.perf_counter() - started, time.process_time() - cpu
    ppcti_rate = args.n / ppcti_s

    ref_builder = BundleBuilder()
    started, cpu = time.perf_counter(), time.process_time()
    reference = [stix2_bundle(e, ref_builder).serialize() for e in events[:stix2_n]]
    stix2_s, stix2_cpu = time.perf_counter() - started, time.process_time() - cpu
    stix2_rate = stix2_n / stix2_s

    mismatched_ids = identical_objects = 0
    for mine, theirs in zip(lines, reference, strict=False):
        a, b = orjson.loads(mine), json.loads(theirs)
        if [o["id"] for o in a["objects"]] != [o["id"] for o in b["objects"]] or a["id"] != b["id"]:
            mismatched_ids += 1
        identical_objects += a == b

    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "events.jsonl"
        source.write_bytes(b"\n".join(dumps(e) for e in events) + b"\n")
        summary = write_cti(source, Path(tmp) / "cti")
        aggregate_size = (Path(tmp) / "cti" / "aggregate.json").stat().st_size

    objects = sum(len(orjson.loads(x)["objects"]) for x in lines[:1000]) / min(1000, len(lines))
    print(
        f"events: {args.n:,} (firewall-text, email-csv, events-json mixed), {objects:.1f} objects per bundle"
    )
    print(
        f"ppcti  (build + JSON):   {args.n:>7,} bundles in {ppcti_s:7.2f} s = {ppcti_rate:10,.0f} bundles/s"
    )
    print(
        f"stix2  (object model):   {stix2_n:>7,} bundles in {stix2_s:7.2f} s = {stix2_rate:10,.0f} bundles/s"
    )
    print(f"ratio: {ppcti_rate / stix2_rate:.1f}x faster than stix2")
    cpu_ratio = (args.n / ppcti_cpu) / (stix2_n / stix2_cpu)
    print(f"CPU time: ppcti {ppcti_cpu:.2f} s, stix2 {stix2_cpu:.2f} s; ratio on CPU time {cpu_ratio:.1f}x")
    print(f"load average (1 min): {load_before:.2f} before, {os.getloadavg()[0]:.2f} after")
    same_ids = stix2_n - mismatched_ids
    print(f"ids identical: {same_ids:,}/{stix2_n:,}; objects identical: {identical_objects:,}/{stix2_n:,}")
    print(
        f"write_cti end to end (read events.jsonl, bundles.jsonl, aggregate.json): {summary.events:,} events "
        f"in {summary.elapsed:.2f} s = {summary.events / summary.elapsed:,.0f} events/s; "
        f"aggregate {summary.aggregate_objects:,} objects ({aggregate_size / 1e6:.1f} MB)"
    )
    return 0 if mismatched_ids == 0 and identical_objects == stix2_n else 1


if __name__ == "__main__":
    sys.exit(main())
