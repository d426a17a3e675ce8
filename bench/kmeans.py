"""The campaigns' k-means (ppcti.analysis.attacks.kmeans, NumPy) against scikit-learn's ``KMeans``.

Method (one run, this machine):

* import: CPU of ``import sklearn.cluster, sklearn.preprocessing`` against ``import
  ppcti.analysis.attacks.kmeans``, each in a fresh process after NumPy and Polars (which an analysis
  has loaded anyway), best of three;
* clustering: the attackers' feature matrices of real analyses (captured from ``campaigns.cluster``):
  the 5 M synthetic events of ``bench/analysis.py`` and the public Suricata corpora of
  ``tests/data/corpora`` run through ``ppcti run``. On each, per seed: our inertia over scikit-learn's
  (``KMeans``, ``n_init=2``, the same seed, one OpenMP thread, as the campaigns used it), the adjusted
  Rand index between the two clusterings, and, for scale, between scikit-learn's clusterings with two
  seeds; CPU of each fit.

Usage: ``PYTHONPATH=bench:src python bench/kmeans.py [--seeds 3]`` (needs the dev extra: scikit-learn).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
CORPORA = ROOT / "tests" / "data" / "corpora" / "suricata"


def import_cpu(module: str) -> float:
    """CPU seconds of importing ``module`` in a fresh process that has NumPy and Polars loaded."""
    code = (
        "import time, numpy, polars\n"
        "t = time.process_time()\n"
        f"import {module}\n"
        "print(time.process_time() - t)\n"
    )
    runs = [
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
        for _ in range(3)
    ]
    return min(runs)


def captured_features(events: list[Path]) -> np.ndarray:
    """The standardised attacker features the campaigns clustered in an analysis of ``events``."""
    from ppcti.analysis import analyse
    from ppcti.analysis.attacks import campaigns

    seen: list[np.ndarray] = []
    original = campaigns.cluster

    def spy(profiles: pl.DataFrame, options: object) -> tuple[np.ndarray, np.ndarray]:
        seen.append(campaigns.standardise(campaigns.features(profiles)))
        return original(profiles, options)  # type: ignore[arg-type]

    campaigns.cluster = spy  # type: ignore[assignment]
    try:
        with tempfile.TemporaryDirectory() as out:
            analyse(events, Path(out), partitions=0)
    finally:
        campaigns.cluster = original
    if not seen:
        raise SystemExit(f"no campaigns clustered in {', '.join(map(str, events))}")
    return seen[0]


def corpus_events(folder: Path) -> list[Path]:
    """events.jsonl of ``ppcti run`` on the Suricata corpora, in a scratch folder under bench/out."""
    from ppcti.pipeline import RunOptions, run_pipeline

    out = OUT / "kmeans-corpora"
    if not (out / "events.jsonl").exists():
        run_pipeline(
            sorted(folder.glob("*.json")),
            RunOptions(holder="corpora", out=out, skip=frozenset({"pii", "cti", "analysis", "report"})),
        )
    return [out / "events.jsonl"]


def compare(name: str, x: np.ndarray, seeds: int) -> None:
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score
    from threadpoolctl import threadpool_limits

    from ppcti.analysis.attacks.campaigns import _seedings
    from ppcti.analysis.attacks.kmeans import kmeans

    n = x.shape[0]
    k = int(max(1, min(30, round((n / 2) ** 0.5), np.unique(x.round(9), axis=0).shape[0])))
    ratios, agree, theirs_agree, ours_cpu, theirs_cpu = [], [], [], [], []
    previous = None
    for seed in range(seeds):
        t = time.process_time()
        ours = kmeans(x, k, seed=seed, n_init=_seedings(n))
        ours_cpu.append(time.process_time() - t)
        with threadpool_limits(limits=1, user_api="openmp"):
            t = time.process_time()
            theirs = KMeans(n_clusters=k, n_init=2, random_state=seed).fit(x)
            theirs_cpu.append(time.process_time() - t)
        ratios.append(ours.inertia / theirs.inertia_ if theirs.inertia_ else 1.0)
        agree.append(adjusted_rand_score(theirs.labels_, ours.labels))
        if previous is not None:
            theirs_agree.append(adjusted_rand_score(previous, theirs.labels_))
        previous = theirs.labels_
    print(
        f"| {name} | {n:,} | {k} | {min(ratios):.3f}–{max(ratios):.3f} | "
        f"{min(agree):.2f}–{max(agree):.2f} | "
        + (f"{min(theirs_agree):.2f}–{max(theirs_agree):.2f}" if theirs_agree else "–")
        + f" | {statistics.median(ours_cpu):.3f} | {statistics.median(theirs_cpu):.3f} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    ours_import = import_cpu("ppcti.analysis.attacks.kmeans")
    theirs_import = import_cpu("sklearn.cluster, sklearn.preprocessing")
    print(
        f"import, CPU s (best of 3): scikit-learn {theirs_import:.3f}, ours {ours_import:.3f} "
        f"({theirs_import / max(ours_import, 1e-6):.0f}x)\n"
    )
    synthetic = OUT / "events-5000000.jsonl"
    if not synthetic.exists():
        from analysis import generate  # bench/analysis.py, beside this script

        generate(5_000_000, synthetic)
    print(
        "| attackers of | n | k | inertia, ours / scikit-learn | ARI ours vs scikit-learn | "
        "ARI scikit-learn seed vs seed | ours CPU s | scikit-learn CPU s |"
    )
    print("|---|---:|---:|---|---|---|---:|---:|")
    compare("5 M synthetic events (bench/analysis.py)", captured_features([synthetic]), args.seeds)
    corpora = captured_features(corpus_events(CORPORA))
    compare("public Suricata corpora (tests/data/corpora)", corpora, args.seeds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
