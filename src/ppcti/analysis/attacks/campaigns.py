"""Campaigns: attackers with similar behaviour, clustered; and attackers unlike their campaign.

Method:

1. One feature vector per attacker from its profile: ``log1p`` of events, targets, ports, active hours
   and span in hours; number of holders; mean confidence; and the share of its events in each attack
   class (:data:`~.profiles.SHARE_COLUMNS`).
2. Standardised (mean 0, standard deviation 1 per feature), then k-means (:mod:`.kmeans`: k-means++
   seeding, Lloyd's iterations) with ``k = min(max_campaigns, round(sqrt(n / 2)))`` (the usual rule of
   thumb), at least 1 and at most the number of distinct vectors; the tightest of ten seedings up to
   2,000 attackers, of two up to 20,000, of three above, fitted on a sample of 20,000.
   ``cluster_seed`` makes the result reproducible.
3. Outliers: per campaign, the distance of each member to its centre as a robust z-score,
   ``0.6745 (d - median) / MAD``; above ``outlier_z`` (3.5, Iglewicz and Hoaglin) the attacker is
   unusual for its campaign. When the MAD is 0 the mean absolute deviation × 1.2533 stands in for it.
   k-means gives a far-off attacker a campaign of its own; members of campaigns with fewer than three
   attackers are scored against the nearest campaign that has a baseline (its centre, its spread).

Campaigns are numbered by size (``C01`` the largest), members sorted by events, so output is stable.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from ppcti.analysis.attacks.kmeans import kmeans, standardise
from ppcti.analysis.attacks.options import AttackOptions
from ppcti.analysis.attacks.profiles import SHARE_COLUMNS
from ppcti.analysis.attacks.taxonomy import CLASSES

_LOG_FEATURES = ("events", "targets_count", "ports_count", "active_hours", "span_hours")
#: Above this many attackers the centres are fitted on a sample of this many (see ``kmeans``).
_FIT_MAX = 20_000
#: Up to this many attackers, ten seedings instead of two.
_FEW = 2_000


def _seedings(n: int) -> int:
    """k-means runs from this many seedings, the tightest kept: a few attackers have few clusters with
    many poor local optima, and ten runs cost milliseconds there."""
    return 10 if n <= _FEW else 2 if n <= _FIT_MAX else 3


def features(profiles: pl.DataFrame) -> np.ndarray:
    """The attacker × feature matrix (see the module docstring)."""
    cols = [pl.col(c).cast(pl.Float64).log1p() for c in _LOG_FEATURES]
    cols += [pl.col("holders").list.len().cast(pl.Float64), pl.col("confidence").fill_null(0.0)]
    cols += [pl.col(c).cast(pl.Float64) for c in SHARE_COLUMNS]
    return profiles.select(cols).fill_null(0.0).to_numpy()


_MIN_MEMBERS = 3
#: Floor of a campaign's spread (standardised units) when all its members look alike.
_MIN_SPREAD = 0.05


def _spread(values: np.ndarray, med: float) -> float:
    """MAD, or mean absolute deviation × 1.2533 / 0.6745 scaled to the same units when the MAD is 0."""
    dev = np.abs(values - med)
    mad = float(np.median(dev))
    return mad if mad > 0 else float(np.mean(dev)) * 1.2533 * 0.6745


def robust_z(values: np.ndarray) -> np.ndarray:
    """``0.6745 (x - median) / MAD`` (mean absolute deviation × 1.2533 when the MAD is 0); 0 if flat."""
    med = float(np.median(values))
    dev = np.abs(values - med)
    mad = float(np.median(dev))
    if mad > 0:
        return 0.6745 * (values - med) / mad
    mean_ad = float(np.mean(dev))
    if mean_ad > 0:
        return (values - med) / (1.2533 * mean_ad)
    return np.zeros_like(values, dtype=float)


def cluster(profiles: pl.DataFrame, options: AttackOptions) -> tuple[np.ndarray, np.ndarray]:
    """Campaign index and outlier z-score per attacker (rows of ``profiles``)."""
    n = profiles.height
    scaled = standardise(features(profiles))
    distinct = np.unique(scaled.round(9), axis=0).shape[0]
    k = int(max(1, min(options.max_campaigns, round((n / 2) ** 0.5), distinct)))
    if k == 1:
        labels = np.zeros(n, dtype=int)
        centres = scaled.mean(axis=0, keepdims=True)
    else:
        found = kmeans(scaled, k, seed=options.cluster_seed, n_init=_seedings(n), fit_max=_FIT_MAX)
        labels, centres = found.labels, found.centres
    dist = np.linalg.norm(scaled - centres[labels], axis=1)
    z = np.zeros(n)
    stats: dict[int, tuple[float, float]] = {}
    for c in np.unique(labels):
        idx = labels == c
        if idx.sum() >= _MIN_MEMBERS:
            z[idx] = robust_z(dist[idx])
            med = float(np.median(dist[idx]))
            stats[int(c)] = (med, _spread(dist[idx], med))
    # A campaign too small for a baseline of its own: how far are its members from the nearest
    # campaign that has one, on that campaign's scale?
    if stats:
        big = np.array(sorted(stats))
        for i in np.nonzero(~np.isin(labels, big))[0]:
            d = np.linalg.norm(centres[big] - scaled[i], axis=1)
            c = int(big[int(np.argmin(d))])
            med, spread = stats[c]
            z[i] = 0.6745 * (float(d.min()) - med) / max(spread, _MIN_SPREAD)
    return labels, z


def campaigns(profiles: pl.DataFrame, options: AttackOptions, members_cap: int) -> dict[str, Any]:
    """Campaigns, the attacker → campaign map, and the unusual attackers (see the module docstring)."""
    if profiles.is_empty():
        return {"campaigns": [], "outliers": [], "assignment": pl.DataFrame(), "note": None}
    labels, z = cluster(profiles, options)
    frame = profiles.with_columns(_label=pl.Series(labels), outlier_z=pl.Series(np.round(z, 3)))
    sizes = (
        frame.group_by("_label")
        .agg(pl.len().alias("n"), pl.col("events").sum().alias("ev"), pl.col("attacker").min().alias("a"))
        .sort(["n", "ev", "a"], descending=[True, True, False])
        .with_columns(campaign=pl.format("C{}", pl.int_range(1, pl.len() + 1).cast(pl.String).str.zfill(2)))
    )
    frame = frame.join(sizes.select("_label", "campaign"), on="_label")
    exploded = frame.select("campaign", "classes").explode("classes").unnest("classes")
    mix = (
        exploded.group_by("campaign", "cls")
        .agg(pl.col("n").sum())
        .sort(["campaign", "n", "cls"], descending=[False, True, False])
        .group_by("campaign", maintain_order=True)
        .agg(pl.struct("cls", "n").alias("classes"), pl.col("cls").first().alias("main_class"))
    )
    ports = (
        frame.select("campaign", "top_ports")
        .explode("top_ports")
        .drop_nulls()
        .group_by("campaign", "top_ports")
        .len("n")
        .sort(["campaign", "n", "top_ports"], descending=[False, True, False])
        .group_by("campaign", maintain_order=True)
        .agg(pl.col("top_ports").head(5).alias("ports"))
    )
    ordered = frame.sort(["campaign", "events", "attacker"], descending=[False, True, False])
    summary = (
        ordered.group_by("campaign", maintain_order=True)
        .agg(
            pl.len().alias("members_count"),
            pl.col("attacker").head(members_cap).alias("members"),
            pl.col("attacker")
            .filter((pl.col("kind") == "ip") & ~pl.col("private"))
            .head(members_cap)
            .alias("public_members"),
            pl.col("events").sum().alias("events"),
            pl.col("targets_count").sum().alias("targets_hits"),
            pl.col("holders").list.explode().unique().sort().alias("holders"),
            pl.col("first_seen").min().alias("first_seen"),
            pl.col("last_seen").max().alias("last_seen"),
            (pl.col("outlier_z") > options.outlier_z).sum().alias("outliers_count"),
            pl.col("network").drop_nulls().n_unique().alias("networks_count"),
        )
        .join(mix, on="campaign", how="left")
        .join(ports, on="campaign", how="left")
        .sort("campaign")
    )
    rows = summary.to_dicts()
    for row in rows:
        cls = CLASSES[row["main_class"]]
        row["techniques"] = sorted(
            {t.id: t.name for c in row["classes"] for t in CLASSES[c["cls"]].techniques}.items()
        )
        row["techniques"] = [{"id": i, "name": nm} for i, nm in row["techniques"]]
        ports_text = "/".join(str(p) for p in (row["ports"] or [])[:3])
        row["name"] = f"{cls.label}" + (f" on port {ports_text}" if ports_text else "")
    outliers = (
        frame.filter(pl.col("outlier_z") > options.outlier_z)
        .sort(["outlier_z", "attacker"], descending=[True, False])
        .head(options.max_listed)
        .select("attacker", "campaign", "outlier_z", "events", "main_class", "targets_count", "ports_count")
        .to_dicts()
    )
    return {
        "campaigns": rows,
        "outliers": outliers,
        "assignment": frame.select("attacker", "campaign", "outlier_z"),
        "note": None,
    }
