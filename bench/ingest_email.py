"""email-csv ingestion: the compiled row reader against the reference path, in the same run.

Method (one run, this machine): ``ppcti.samples`` writes ``--rows`` e-mail entries (three CSV exports:
ISO dates, RFC 2822 dates with a byte-order mark and CRLF, day-first dates; with their defects: stray
characters around addresses, upper-case domains, spilled recipients, stray and missing commas,
ambiguous rows, a repeated header, duplicates). The three files go through the core pipeline (ingest,
detect, parse and clean, deduplication, minimisation, writing ``events.jsonl``, ``cleaned/`` and
``rejects.jsonl``) in a fresh process pinned to one core, alternately with the compiled reader on and
off (``PPCTI_NATIVE=0``: the reference, a per-row loop of the csv module, ``read_row`` and
``clean_email`` doing the same job), as ``bench/ingest_events.py`` runs them (same child, same page-cache
warm-up). Each side runs ``--repeat`` times and the best by CPU time is kept; the outputs of the two
sides are compared byte for byte, the cleaned copies included.

Usage: ``python bench/ingest_email.py [--rows 200000] [--repeat 3]``; prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from ingest_events import best_of, same_outputs  # beside this script

ROOT = Path(__file__).resolve().parents[1]
FILES = ("mail-export.csv", "mail-gateway.csv", "mail-quarantine.csv")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "ingest_email")
    args = parser.parse_args()
    from ppcti.samples import generate

    data = args.out / "data"
    if not (data / FILES[0]).exists():
        generate(data, rows=args.rows, seed=17, formats=("email-csv",), ground_truth=False, make_zip=False)
    files = [data / name for name in FILES]
    entries = sum(sum(1 for line in f.open("rb") if line.strip()) - 1 for f in files)  # less the headers
    best = best_of(files, args.out, args.repeat)
    same = same_outputs(args.out / "native", args.out / "reference", files)
    load = os.getloadavg()
    print(f"{entries:,} e-mail CSV rows (3 exports), best of {args.repeat}; load average {load[0]:.1f}")
    print(f"outputs byte-identical: {same}\n")
    print(
        "| path | wall s | entries/s wall | CPU s | entries/s CPU | parse s | clean s | write s | RSS MiB |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for native in (True, False):
        r = best[native]
        name = "compiled reader" if native else "reference (`PPCTI_NATIVE=0`)"
        stages = r["stages"]
        print(
            f"| {name} | {r['wall']:.2f} | {entries / r['wall']:,.0f} | {r['cpu']:.2f} | "
            f"{entries / r['cpu']:,.0f} | {stages.get('parse', 0):.2f} | {stages.get('clean', 0):.2f} | "
            f"{stages.get('write', 0):.2f} | {r['peak_kib'] / 1024:.0f} |"
        )
    print(
        f"\nratio, compiled / reference: {best[False]['wall'] / best[True]['wall']:.1f}x wall, "
        f"{best[False]['cpu'] / best[True]['cpu']:.1f}x CPU"
    )


if __name__ == "__main__":
    main()
