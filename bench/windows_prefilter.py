"""The bucket pre-filter of the window detectors (``ppcti.analysis.windows._in_full_buckets``) on the
hits of bench/analysis.py's events file, against the sort that found the full buckets before.

Both keep the rows whose bucket (key and time, in either of two grids) holds at least ``n`` rows:

* ppcti: counts per bucket id in a table indexed by the id's low bits (``np.bincount``), then one
  look-up per row; a shared slot only keeps more rows;
* baseline: the ids sorted (``np.sort``), the ids occurring ``n`` times taken from the sorted array,
  then ``is_in`` per row (the code before, exact).

Measured in the same process, alternating, for the botnet key (target and service) and the sweep key
(attacker); the rows kept by the baseline must all be kept by ppcti.

Usage: .venv/bin/python bench/windows_prefilter.py [--events 5000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import polars as pl

from analysis import OUT, generate  # bench/analysis.py, beside this script
from ppcti.analysis import AnalysisOptions
from ppcti.analysis.load import load
from ppcti.analysis.windows import _in_full_buckets, bucket_ids


def sorted_filter(rows: pl.DataFrame, keys: list[str], window_us: int, n: int) -> pl.DataFrame:
    """The baseline: full buckets found by sorting their ids."""
    ids = bucket_ids(rows, keys, window_us)

    def full(bucket: pl.Series) -> pl.Series:
        ordered = pl.Series(np.sort(bucket.to_numpy()))
        return ordered.filter(ordered == ordered.shift(1 - n)).unique()

    keep = pl.col("_a").is_in(full(ids.get_column("_a")).implode()) | pl.col("_b").is_in(
        full(ids.get_column("_b")).implode()
    )
    return rows.filter(ids.select(keep).to_series())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    path = OUT / f"events-{args.events}.jsonl"
    if not path.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        generate(args.events, path)
    options = AnalysisOptions()
    hits = load(path, options).hits.select("tid", "sid", "aid", "t").with_row_index("_row")
    cases = [
        ("botnets (target, service)", ["tid", "sid"], options.botnet_window_us, options.botnet_min_sources),
        ("sweeps (attacker)", ["aid"], options.sweep_window_us, options.sweep_min_targets),
    ]
    print(f"{hits.height:,} hits of {args.events:,} events; best of {args.repeat}, alternating")
    for name, keys, window, n in cases:
        times: dict[str, list[float]] = {"sort": [], "count": []}
        kept: dict[str, pl.DataFrame] = {}
        for _ in range(args.repeat):
            for side, run in (("sort", sorted_filter), ("count", _in_full_buckets)):
                start = time.perf_counter()
                kept[side] = run(hits, keys, window, n)
                times[side].append(time.perf_counter() - start)
        missing = kept["sort"].join(kept["count"], on="_row", how="anti").height
        if missing:
            raise SystemExit(f"{name}: the count dropped {missing} rows the sort keeps")
        best = {side: min(t) for side, t in times.items()}
        print(
            f"{name}: sort {best['sort'] * 1000:.0f} ms ({kept['sort'].height:,} rows kept), "
            f"count {best['count'] * 1000:.0f} ms ({kept['count'].height:,} rows kept): "
            f"{best['sort'] / best['count']:.2f}x"
        )


if __name__ == "__main__":
    main()
