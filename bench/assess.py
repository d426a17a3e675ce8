"""Benchmark: re-identification risk of a large table, ppcti's Polars path against pandas.

Generates N rows x 6 quasi-identifiers (age, birth year-month, sex, postal code, nationality, marital
status) plus one sensitive column, with realistic skew (postal codes and ages drawn from uneven
distributions), as strings like the assessment reads them. Both sides compute the same figures — k, the
number of classes, maximum and average prosecutor risk, the share of records above a threshold, distinct
and entropy l-diversity and t-closeness of the sensitive column — and the script checks that they agree
before it reports the rates. The pandas baseline is the textbook approach (``groupby(...).size()``, then
per (class, value) counts and the same sums), run in the same process on the same data. The
generalisation search (``suggest``) is timed on its own: it works on the class table.

    .venv/bin/python bench/assess.py --rows 10000000
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import polars as pl
import psutil

from ppcti.assess.generalise import suggest
from ppcti.assess.reid import assess_table

QIS = ["age", "birth_month", "sex", "postal_code", "nationality", "marital_status"]


def columns(rows: int, seed: int = 7) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    age = np.clip(rng.normal(45, 18, rows), 0, 100).astype(int)
    year = 2026 - age
    month = rng.integers(1, 13, rows)
    postal = (rng.zipf(1.3, rows) % 9000 + 1000).astype(int)
    nat = rng.choice(["PL", "DE", "FR", "IT", "ES", "NL", "AT", "CZ", "SK", "HU", "RO", "BG"], rows,
                     p=[0.5, 0.1, 0.08, 0.07, 0.06, 0.05, 0.04, 0.03, 0.03, 0.02, 0.01, 0.01])
    return {
        "age": age.astype(str),
        "birth_month": np.char.add(np.char.add(year.astype(str), "-"), np.char.zfill(month.astype(str), 2)),
        "sex": rng.choice(["F", "M", "X"], rows, p=[0.49, 0.49, 0.02]),
        "postal_code": postal.astype(str),
        "nationality": nat,
        "marital_status": rng.choice(["single", "married", "divorced", "widowed"], rows),
        "diagnosis": rng.choice([f"C{i:02d}" for i in range(40)], rows),
    }


def pandas_baseline(df: object, threshold: float) -> dict[str, float]:
    """The same figures the textbook way: groupby sizes, then per (class, value) counts for l and t."""
    import numpy as np

    sizes = df.groupby(QIS, dropna=False, sort=False).size()  # type: ignore[attr-defined]
    n = int(sizes.sum())
    pairs = df.groupby([*QIS, "diagnosis"], dropna=False, sort=False).size()  # type: ignore[attr-defined]
    p = pairs / pairs.groupby(level=QIS, dropna=False, sort=False).transform("sum")
    entropy = (-p * np.log(p)).groupby(level=QIS, dropna=False, sort=False).sum()
    distinct = pairs.groupby(level=QIS, dropna=False, sort=False).size()
    q = df["diagnosis"].value_counts(normalize=True, dropna=False)  # type: ignore[index]
    qv = q.reindex(p.index.get_level_values("diagnosis")).to_numpy()
    l1 = pd_series(np.abs(p.to_numpy() - qv) - qv, p.index).groupby(level=QIS, dropna=False, sort=False).sum()
    return {
        "k": int(sizes.min()),
        "classes": len(sizes),
        "prosecutor_max": 1 / int(sizes.min()),
        "prosecutor_avg": len(sizes) / n,
        "at_risk": float(sizes[1 / sizes > threshold].sum()) / n,
        "l_distinct": int(distinct.min()),
        "l_entropy": round(float(np.exp(entropy.min())), 6),
        "t_closeness": round((1 + float(l1.max())) / 2, 9),
    }


def pd_series(values: object, index: object) -> object:
    import pandas as pd

    return pd.Series(values, index=index)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--threshold", type=float, default=0.2)
    args = ap.parse_args()

    import pandas as pd

    t0 = time.perf_counter()
    data = columns(args.rows)
    df = pl.DataFrame(data)
    pdf = pd.DataFrame({k: v.astype(object) for k, v in data.items()})
    del data
    gen = time.perf_counter() - t0

    t0 = time.perf_counter()
    r = assess_table(df, QIS, sensitive=["diagnosis"], threshold=args.threshold)
    ppcti_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    base = pandas_baseline(pdf, args.threshold)
    pandas_s = time.perf_counter() - t0
    del pdf

    ours = {"k": r.k, "classes": r.classes, "prosecutor_max": r.prosecutor_max,
            "prosecutor_avg": r.prosecutor_avg, "at_risk": r.records_at_risk,
            "l_distinct": r.l_diversity["diagnosis"]["distinct"],
            "l_entropy": r.l_diversity["diagnosis"]["entropy"], "t_closeness": r.t_closeness["diagnosis"]}
    for key, value in base.items():
        assert abs(ours[key] - value) < 1e-6, (key, ours[key], value)

    kinds = {"age": "numeric", "birth_month": "categorical", "postal_code": "prefix"}
    t0 = time.perf_counter()
    s = suggest(df, QIS, kinds, target_k=5, max_suppression=0.05)
    suggest_s = time.perf_counter() - t0

    print(json.dumps({
        "rows": args.rows,
        "quasi_identifiers": len(QIS),
        "generate_s": round(gen, 2),
        "ppcti_s": round(ppcti_s, 3),
        "pandas_s": round(pandas_s, 3),
        "ratio": round(pandas_s / ppcti_s, 2),
        "ppcti_rows_per_s": round(args.rows / ppcti_s),
        "results_equal": True,
        "k": r.k,
        "classes": r.classes,
        "suggest_s": round(suggest_s, 2),
        "suggest_reached": s["reached"],
        "suggest_steps": [f"{x['column']}: {x['generalisation']}" for x in s["steps"]],
        "peak_rss_mib": round(psutil.Process().memory_info().rss / 2**20),
    }, indent=2))


if __name__ == "__main__":
    main()
