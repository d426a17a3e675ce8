"""Classification rate of ppcti.analysis.attacks on N synthetic events, against a per-event Python loop.

The frame has the columns classification reads (as :func:`ppcti.analysis.attacks.scan` returns them):
firewall entries (drop/accept chains, login ports, scans and floods injected), IDS alerts from a pool of
200 signature names, e-mail entries with verdicts, and 1 % HTTP events whose URL comes from a pool of
5,000 (a fifth of them attacks). Measured in the same run:

* ppcti: :func:`~ppcti.analysis.attacks.classify` on all N rows (every detector, behavioural windows
  included), and the rule paths alone (signatures, firewall, e-mail, behaviour: no payloads);
* baseline: the same rules written as a per-event Python loop (one dict per event, the signature and
  payload verdicts cached per distinct value as ppcti does, a deque per key for the windows), on the
  first ``--baseline-events`` rows.

Used by bench/analysis.py (``--attacks``); runs alone too:
.venv/bin/python bench/attacks_rate.py [--events 5000000] [--baseline-events 300000]
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections import defaultdict, deque

import numpy as np
import polars as pl

from ppcti.analysis.attacks import AttackOptions, classify
from ppcti.analysis.attacks.classify import EXTRA_FIELDS
from ppcti.analysis.attacks.payload import detect
from ppcti.analysis.attacks.signatures import classify_signature

MIN_US = 60_000_000
BASE_US = 1_678_000_000 * 1_000_000

_SIGS = [
    "ET SCAN Potential SSH Scan",
    "ET SCAN NMAP -sS window 1024",
    "ET POLICY curl User-Agent Outbound",
    "ET WEB_SERVER Possible SQL Injection Attempt UNION SELECT",
    "ET MALWARE Win32/Emotet CnC Activity",
    "ET DOS Possible NTP DDoS Inbound",
    "ET INFO TLS Handshake Failure",
    "SURICATA TLS invalid record",
    "ET EXPLOIT Apache Struts OGNL Injection",
    "ET WEB_SERVER Possible Directory Traversal Attempt",
]
_URLS_OK = [
    "/products/{}?color=white&size=M",
    "/search?q=shoes+{}&page=2",
    "/api/v1/items?limit=100&offset={}",
]
_URLS_BAD = [
    "/item.php?id={}%27%20OR%20%271%27=%271",
    "/p?q=%3Cscript%3Ealert({})%3C/script%3E",
    "/dl?f=../../../../etc/passwd&n={}",
    "/ping?h=127.0.0.1;cat%20/etc/passwd&n={}",
]


def frame(n: int, seed: int = 11) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    kind = rng.choice(np.array(["fw", "ids", "mail", "http"]), n, p=[0.6, 0.29, 0.1, 0.01])
    sigs = np.array([f"{s} {i}" for i in range(20) for s in _SIGS])
    urls = np.array(
        [u.format(i) for i in range(1000) for u in _URLS_OK]
        + [u.format(i) for i in range(250) for u in _URLS_BAD]
    )
    src = rng.integers(0x0B000000, 0x0B000000 + 50_000, n)
    dst = 0x0A000000 + rng.integers(0, 2_000, n)
    ports = np.array([22, 23, 80, 443, 445, 3389, 8080, 25], dtype=np.int32)[rng.integers(0, 8, n)]
    t = BASE_US + np.sort(rng.integers(0, 30 * 24 * 60 * MIN_US, n))
    # injected behaviour: brute force bursts
    m = n // 100
    idx = rng.choice(n, m, replace=False)
    burst = rng.integers(0, 500, m)  # 500 bursts of 5 minutes: one source on one server's SSH
    src[idx] = 0x0C000000 + burst
    dst[idx] = 0x0A000000 + burst % 10
    ports[idx] = 22
    kind[idx] = "fw"
    t[idx] = BASE_US + (burst * 86_400_000_000) % (30 * 24 * 60 * MIN_US) + rng.integers(0, 5 * MIN_US, m)

    def dotted(v: np.ndarray) -> pl.Series:
        s = pl.Series(v.astype(np.int64))
        return pl.select(
            pl.concat_str(
                [(s // 16777216 % 256), (s // 65536 % 256), (s // 256 % 256), (s % 256)], separator="."
            )
        ).to_series()

    columns: dict[str, object] = {
        "row": np.arange(n, dtype=np.uint32),
        "holder": np.array(["acme", "globex"])[rng.integers(0, 2, n)],
        "format": np.where(
            kind == "mail", "email-csv", np.where(kind == "fw", "firewall-text", "events-json")
        ),
        "source_file": np.where(kind == "mail", "mail.csv", "fw.log"),
        "line": np.arange(1, n + 1),
        "t": t,
        "src_ip": dotted(src),
        "dst_ip": dotted(dst),
        "dst_port": ports,
        "protocol": np.array(["TCP", "UDP"])[(rng.random(n) < 0.2).astype(int)],
    }
    empty = pl.lit(None, dtype=pl.String)
    out = pl.DataFrame(columns).with_columns([empty.alias(name) for name in EXTRA_FIELDS])
    k = pl.Series(kind)
    out = out.with_columns(
        signature=pl.when(k == "ids").then(pl.Series(sigs[rng.integers(0, sigs.size, n)])),
        category=pl.when(k == "ids").then(pl.lit("Misc activity")),
        chain=pl.when(k == "fw").then(
            pl.Series(np.array(["input", "forward", "dstnat"])[rng.integers(0, 3, n)])
        ),
        prefix=pl.when(k == "fw").then(
            pl.Series(np.array(["drop-in", "accept", "fw"])[rng.integers(0, 3, n)])
        ),
        verdict=pl.when(k == "mail").then(
            pl.Series(np.array(["phish", "spam", "clean", "malware"])[rng.integers(0, 4, n)])
        ),
        subject=pl.when(k == "mail").then(pl.lit("Invoice overdue")),
        url=pl.when(k == "http").then(pl.Series(urls[rng.integers(0, urls.size, n)])),
    )
    return out.with_columns(
        src_ip=pl.when(k == "mail").then(None).otherwise(pl.col("src_ip")),
        dst_ip=pl.when(k == "mail").then(None).otherwise(pl.col("dst_ip")),
    )


_DROP = re.compile(r"drop|reject|deny|block|refuse", re.IGNORECASE)


def baseline(rows: list[dict], options: AttackOptions) -> int:
    """The rules as a per-event loop; returns how many events got a class."""
    sig_cache: dict = {}
    url_cache: dict = {}
    bf_w, scan_w, flood_w = (
        options.us("brute_force_window"),
        options.us("scan_window"),
        options.us("flood_window"),
    )
    bf: dict = defaultdict(deque)
    vert: dict = defaultdict(deque)
    horiz: dict = defaultdict(deque)
    flood: dict = defaultdict(deque)
    auth = set(options.brute_force_ports)
    classified = 0
    for ev in rows:
        got = None
        if ev["signature"] is not None:
            key = (ev["signature"], ev["category"])
            if key not in sig_cache:
                sig_cache[key] = classify_signature(*key)
            got = got or sig_cache[key]
        if ev["url"] is not None:
            if ev["url"] not in url_cache:
                url_cache[ev["url"]] = detect(ev["url"])
            got = got or url_cache[ev["url"]]
        if ev["format"] == "email-csv":
            got = got or (ev["verdict"] if ev["verdict"] and ev["verdict"] != "clean" else None)
        elif ev["src_ip"] is not None:
            if (ev["chain"] and _DROP.search(ev["chain"])) or (ev["prefix"] and _DROP.search(ev["prefix"])):
                got = got or "probe"
            t = ev["t"]
            if ev["dst_port"] in auth:
                q = bf[(ev["holder"], ev["src_ip"], ev["dst_ip"], ev["dst_port"])]
                q.append(t)
                while q and q[0] <= t - bf_w:
                    q.popleft()
                if len(q) >= options.brute_force_min_attempts:
                    got = got or "brute-force"
            for store, key, value, limit in (
                (
                    vert,
                    (ev["holder"], ev["src_ip"], ev["dst_ip"]),
                    ev["dst_port"],
                    options.vertical_scan_min_ports,
                ),
                (
                    horiz,
                    (ev["holder"], ev["src_ip"], ev["dst_port"]),
                    ev["dst_ip"],
                    options.horizontal_scan_min_targets,
                ),
            ):
                q = store[key]
                q.append((t, value))
                while q and q[0][0] <= t - scan_w:
                    q.popleft()
                if len({v for _, v in q}) >= limit:
                    got = got or "port-scan"
            q = flood[(ev["holder"], ev["dst_ip"])]
            q.append(t)
            while q and q[0] <= t - flood_w:
                q.popleft()
            if len(q) >= options.flood_min_events:
                got = got or "dos"
        classified += got is not None
    return classified


def _cpu() -> float:
    """CPU seconds of this process (all threads): less sensitive than wall time to a busy machine."""
    times = os.times()
    return times.user + times.system


def run(n: int, baseline_events: int) -> dict[str, float]:
    options = AttackOptions()
    t0 = time.perf_counter()
    events = frame(n)
    gen_s = time.perf_counter() - t0
    t0, c0 = time.perf_counter(), _cpu()
    found = classify(events, options)
    all_s, all_cpu = time.perf_counter() - t0, _cpu() - c0
    t0, c0 = time.perf_counter(), _cpu()
    rules_rows = classify(events, options, payloads=False).height
    rules_s, rules_cpu = time.perf_counter() - t0, _cpu() - c0
    rows = events.head(baseline_events).to_dicts()
    t0, c0 = time.perf_counter(), _cpu()
    base_classified = baseline(rows, options)
    base_s, base_cpu = time.perf_counter() - t0, _cpu() - c0
    out = {
        "events": n,
        "generate_s": gen_s,
        "classified": found.height,
        "all_s": all_s,
        "all_rate": n / all_s,
        "rules_rows": rules_rows,
        "rules_s": rules_s,
        "rules_rate": n / rules_s,
        "baseline_events": len(rows),
        "baseline_classified": base_classified,
        "baseline_s": base_s,
        "baseline_rate": len(rows) / base_s,
        "all_cpu_rate": n / all_cpu,
        "rules_cpu_rate": n / rules_cpu,
        "baseline_cpu_rate": len(rows) / base_cpu,
    }
    print(
        f"attack classification: {n:,} events (generated in {gen_s:.1f} s); {found.height:,} classified\n"
        f"  all detectors: {all_s:.2f} s wall, {all_cpu:.2f} s CPU ({out['all_rate']:,.0f} events/s, "
        f"{out['all_cpu_rate']:,.0f} per CPU-second)\n"
        f"  rule paths (signatures, firewall, e-mail, windows): {rules_s:.2f} s wall, {rules_cpu:.2f} s CPU "
        f"({out['rules_rate']:,.0f} events/s, {out['rules_cpu_rate']:,.0f} per CPU-second)\n"
        f"  baseline per-event Python loop: {len(rows):,} events in {base_s:.2f} s wall, "
        f"{base_cpu:.2f} s CPU ({out['baseline_rate']:,.0f} events/s, "
        f"{out['baseline_cpu_rate']:,.0f} per CPU-second)\n"
        f"  ratio: {out['all_rate'] / out['baseline_rate']:.1f}x (all), "
        f"{out['rules_rate'] / out['baseline_rate']:.1f}x (rules) wall; "
        f"{out['rules_cpu_rate'] / out['baseline_cpu_rate']:.1f}x (rules) per CPU-second; "
        f"target >= 1M events/s on the rule paths: "
        f"{'met' if out['rules_cpu_rate'] >= 1e6 else 'MISSED'} (per CPU-second); "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--baseline-events", type=int, default=300_000)
    args = parser.parse_args(argv)
    run(args.events, args.baseline_events)
    return 0


if __name__ == "__main__":
    sys.exit(main())
