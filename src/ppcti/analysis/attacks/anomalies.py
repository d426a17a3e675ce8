"""Anomalous time windows: per holder, per holder and attack class, and per most attacked target.

Each series is the number of classified events per ``anomaly_bucket`` (1 h) from its first to its last
bucket, empty buckets counted as 0. Its baseline is the median, its spread the MAD (median absolute
deviation); a bucket is anomalous when its robust z-score ``0.6745 (n - median) / MAD`` reaches
``anomaly_z`` (3.5) and it holds at least ``anomaly_min_events`` entries. When more than half the
buckets are empty the MAD is 0; the mean absolute deviation × 1.2533 stands in for it then
(:func:`~.campaigns.robust_z`). Median and MAD are not dragged by the bursts they are meant to find,
which is why they are used instead of mean and standard deviation.

* ``holder``: volume of all attacks of a holder;
* ``class``: volume of one attack class at one holder — a change of mix (a quiet holder suddenly seeing
  SQL injection) shows here even when total volume does not move;
* ``target``: volume on one of the ``max_listed`` most attacked targets.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from ppcti.analysis.attacks.campaigns import robust_z
from ppcti.analysis.attacks.options import AttackOptions
from ppcti.analysis.common import iso

#: Longest series examined (buckets); a longer one keeps its most recent part.
MAX_BUCKETS = 100_000


def _series_anomalies(
    counts: pl.DataFrame, keys: list[str], scope: str, width: int, options: AttackOptions
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if counts.is_empty():
        return out
    for key, group in counts.sort("_b").group_by(keys, maintain_order=True):
        buckets = group.get_column("_b").to_numpy()
        n = group.get_column("n").to_numpy()
        start = max(int(buckets.min()), int(buckets.max()) - MAX_BUCKETS + 1)
        keep = buckets >= start
        series = np.zeros(int(buckets.max()) - start + 1)
        series[buckets[keep] - start] = n[keep]
        if series.size < 3:
            continue
        z = robust_z(series)
        med = float(np.median(series))
        mad = float(np.median(np.abs(series - med)))
        hot = np.nonzero((z >= options.anomaly_z) & (series >= options.anomaly_min_events))[0]
        labels = dict(zip(keys, key if isinstance(key, tuple) else (key,), strict=True))
        for i in hot:
            out.append(
                {
                    "scope": scope,
                    **labels,
                    "_start": (start + int(i)) * width,
                    "events": int(series[i]),
                    "baseline_median": med,
                    "baseline_mad": mad,
                    "z": round(float(z[i]), 2),
                }
            )
    return out


def volume_counts(attacked: pl.DataFrame, options: AttackOptions) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Classified events per (holder, bucket) and per (holder, class, bucket): sums over parts."""
    width = options.us("anomaly_bucket")
    timed = attacked.filter(pl.col("t").is_not_null()).with_columns(_b=pl.col("t") // width)
    return timed.group_by("holder", "_b").len("n"), timed.group_by("holder", "cls", "_b").len("n")


def busiest_targets(totals: pl.DataFrame, options: AttackOptions) -> pl.DataFrame:
    """The ``max_listed`` targets with most timed classified hits, in a total order."""
    return totals.sort(["total", "holder", "target"], descending=[True, False, False]).head(
        options.max_listed
    )


def target_counts(hits: pl.DataFrame, options: AttackOptions) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The ``max_listed`` targets of ``hits`` with most timed classified hits (``holder, target, total``)
    and their hits per bucket; each target's hits must all be in ``hits``."""
    width = options.us("anomaly_bucket")
    timed = hits.filter(pl.col("t").is_not_null())
    top = busiest_targets(timed.group_by("holder", "target").len("total"), options)
    per = timed.join(top.select("holder", "target"), on=["holder", "target"]).with_columns(
        _b=pl.col("t") // width
    )
    return top, per.group_by("holder", "target", "_b").len("n")


def anomalies_of(
    holder_counts: pl.DataFrame,
    class_counts: pl.DataFrame,
    top_parts: list[pl.DataFrame],
    target_parts: list[pl.DataFrame],
    options: AttackOptions,
) -> list[dict[str, Any]]:
    """All anomalous windows, strongest first (capped at ``max_listed``), from the counts of
    :func:`volume_counts` and of :func:`target_counts` (the parts' top targets: the overall top
    targets are among them)."""
    width = options.us("anomaly_bucket")
    found: list[dict[str, Any]] = []
    found += _series_anomalies(holder_counts, ["holder"], "holder", width, options)
    found += _series_anomalies(class_counts, ["holder", "cls"], "class", width, options)
    tops = [t for t in top_parts if not t.is_empty()]
    if tops:
        top = busiest_targets(pl.concat(tops), options)
        per = pl.concat(target_parts).join(
            top.select("holder", "target"), on=["holder", "target"], how="semi"
        )
        found += _series_anomalies(per, ["holder", "target"], "target", width, options)
    if not found:
        return []
    frame = pl.DataFrame(found, infer_schema_length=None).with_columns(
        window_start=iso("_start"), window_end=iso(pl.col("_start") + width)
    )
    # the scope and its key settle ties: the groups arrive in an order that changes between runs
    ties = [c for c in ("scope", "holder", "target", "attacker", "cls") if c in frame.columns]
    keys = ["z", "events", "window_start", *ties]
    frame = frame.sort(keys, descending=[True, True] + [False] * (len(keys) - 2), nulls_last=True)
    frame = frame.drop("_start")
    return frame.head(options.max_listed).to_dicts()


def anomalies(attacked: pl.DataFrame, hits: pl.DataFrame, options: AttackOptions) -> list[dict[str, Any]]:
    """All anomalous windows, strongest first (capped at ``max_listed``)."""
    holder_counts, class_counts = volume_counts(attacked, options)
    top, per = target_counts(hits, options)
    return anomalies_of(holder_counts, class_counts, [top], [per], options)
