"""events-json arrays: read in one orjson call against streamed through ijson, in the same run.

Method (one run, this machine): ``ppcti.samples`` writes ``--rows`` entries per format; the ECS feed's
whole records are written again as one pretty-printed JSON array, and the sample's Suricata alerts are
an array already. Both go through the core pipeline (ingest, detect, parse and clean, deduplication,
minimisation, writing ``events.jsonl``, ``cleaned/``, ``rejects.jsonl``) in a fresh process pinned to one
core, as ``bench/ingest_events.py`` runs it, in four arms alternating over ``--repeat`` rounds: compiled
reader or reference (``PPCTI_NATIVE=0``), each with arrays read whole (today's path for arrays up to
``WHOLE_ARRAY_MAX``) or streamed through ijson (the path before, forced by setting the limit below every
size). The least CPU time of each arm is kept; the four outputs are compared byte for byte.

Usage: ``python bench/ingest_arrays.py [--rows 200000] [--repeat 2]``; prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import orjson

from ingest_events import run, same_outputs  # beside this script

ROOT = Path(__file__).resolve().parents[1]
ARMS = {
    "compiled reader, array read whole": (True, False),
    "compiled reader, array streamed (ijson, two passes)": (True, True),
    "reference, array read whole": (False, False),
    "reference, array streamed (ijson, two passes)": (False, True),
}


def arrays(data: Path) -> list[Path]:
    """The ECS sample feed as one array (its truncated lines left out), and the Suricata sample array."""
    out = data / "ecs-events-array.json"
    if not out.exists():
        records = []
        for line in (data / "ecs-events.jsonl").read_bytes().splitlines():
            try:
                records.append(orjson.loads(line))
            except orjson.JSONDecodeError:
                continue
        out.write_bytes(orjson.dumps(records, option=orjson.OPT_INDENT_2))
    return [out, data / "suricata-alerts.json"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "ingest_arrays")
    args = parser.parse_args()
    from ppcti.samples import generate

    data = args.out / "data"
    if not (data / "ecs-events.jsonl").exists():
        generate(data, rows=args.rows, seed=17)
    files = arrays(data)
    entries = sum(len(orjson.loads(f.read_bytes())) for f in files)
    best: dict[str, dict] = {}
    for _ in range(args.repeat):
        for arm, (native, streamed) in ARMS.items():
            result = run(files, args.out / f"arm{list(ARMS).index(arm)}", native, stream_arrays=streamed)
            if arm not in best or result["cpu"] < best[arm]["cpu"]:
                best[arm] = result
    same = all(same_outputs(args.out / "arm0", args.out / f"arm{i}", files) for i in range(1, len(ARMS)))
    print(f"{entries:,} array records (ECS + Suricata), best of {args.repeat}; load {os.getloadavg()[0]:.1f}")
    print(f"outputs byte-identical: {same}\n")
    print("| path | wall s | CPU s | entries per CPU-second | parse s | peak RSS MiB |")
    print("|---|---:|---:|---:|---:|---:|")
    for arm, r in best.items():
        print(
            f"| {arm} | {r['wall']:.2f} | {r['cpu']:.2f} | {entries / r['cpu']:,.0f} | "
            f"{r['stages'].get('parse', 0):.2f} | {r['peak_kib'] / 1024:.0f} |"
        )
    cpu = [best[arm]["cpu"] for arm in ARMS]
    print(f"\ncompiled reader, read whole / streamed: {cpu[1] / cpu[0]:.2f}x CPU")
    print(f"compiled, whole / reference, streamed (the per-record loop): {cpu[3] / cpu[0]:.2f}x CPU")


if __name__ == "__main__":
    main()
