"""Profiles: what each attacker, /24 network, target and holder did, from the classified events.

``attacked`` (see :func:`ppcti.analysis.attacks.summarise`) has one row per classified event with its
attacker, holder, target, port, time and class. Profiles are plain group-bys; the attacker profile is
also the feature source for :mod:`.campaigns`.
"""

from __future__ import annotations

import polars as pl

from ppcti.analysis.attacks.taxonomy import CLASS_ORDER
from ppcti.analysis.common import HOUR_US, iso

#: Per-class share columns of the attacker profile, in class order.
SHARE_COLUMNS: tuple[str, ...] = tuple(f"share_{c}" for c in CLASS_ORDER)


def class_counts(frame: pl.DataFrame, keys: list[str], name: str = "classes") -> pl.DataFrame:
    """Per key, ``[{cls, n}]`` most frequent first (ties by class name) and the main class."""
    return classes_of_counts(frame.group_by(*keys, "cls").len("n"), keys, name)


def classes_of_counts(counts: pl.DataFrame, keys: list[str], name: str = "classes") -> pl.DataFrame:
    """:func:`class_counts` from the counts ``n`` per key and ``cls`` (sums over parts)."""
    return (
        counts.sort([*keys, "n", "cls"], descending=[*([False] * len(keys)), True, False])
        .group_by(keys, maintain_order=True)
        .agg(pl.struct("cls", "n").alias(name), pl.col("cls").first().alias("main_class"))
    )


def network_of(attacker: pl.Expr) -> pl.Expr:
    """The /24 of an IPv4 attacker (``a.b.c.0/24``); the /48 is not attempted for IPv6 (rare)."""
    octets = attacker.str.extract(r"^(\d{1,3}\.\d{1,3}\.\d{1,3})\.\d{1,3}$", 1)
    return pl.when(octets.is_not_null()).then(pl.concat_str(octets, pl.lit(".0/24")))


def attacker_profiles(attacked: pl.DataFrame) -> pl.DataFrame:
    """One row per attacker: volume, breadth, timing and class mix (the clustering features)."""
    base = attacked.group_by("attacker").agg(
        pl.col("attacker_kind").first().alias("kind"),
        pl.col("attacker_private").first().fill_null(False).alias("private"),
        pl.len().alias("events"),
        pl.col("target").n_unique().alias("targets_count"),
        pl.col("dst_port").drop_nulls().n_unique().alias("ports_count"),
        pl.col("holder").unique().sort().alias("holders"),
        (pl.col("t") // HOUR_US).drop_nulls().n_unique().alias("active_hours"),
        # time pattern: the hours of the day (UTC) it was active in, e.g. office hours vs around the clock
        (pl.col("t") // HOUR_US % 24).drop_nulls().unique().sort().cast(pl.Int8).alias("hours_of_day"),
        pl.col("t").min().alias("_first"),
        pl.col("t").max().alias("_last"),
        pl.col("confidence").mean().round(3).alias("confidence"),
        *[(pl.col("cls") == c).mean().alias(f"share_{c}") for c in CLASS_ORDER],
    )
    ports = (
        attacked.filter(pl.col("dst_port").is_not_null())
        .group_by("attacker", "dst_port")
        .len("n")
        .sort(["attacker", "n", "dst_port"], descending=[False, True, False])
        .group_by("attacker", maintain_order=True)
        .agg(pl.col("dst_port").head(5).alias("top_ports"))
    )
    return (
        base.join(class_counts(attacked, ["attacker"]), on="attacker", how="left")
        .join(ports, on="attacker", how="left")
        .with_columns(
            network=pl.when(pl.col("kind") == "ip").then(network_of(pl.col("attacker"))),
            first_seen=iso("_first"),
            last_seen=iso("_last"),
            # times the reciprocal, as Polars divides a column of several rows by a constant: a one-row
            # frame would divide exactly, one bit apart, and a partition's profile must equal the whole's
            span_hours=((pl.col("_last") - pl.col("_first")) * (1 / HOUR_US)).fill_null(0.0),
        )
        .sort(["events", "attacker"], descending=[True, False])
    )


def target_profiles(hits: pl.DataFrame, cap: int) -> list[dict]:
    """Per (holder, target): attack classes received, attackers, ports."""
    if hits.is_empty():
        return []
    base = hits.group_by("holder", "target").agg(
        pl.col("target_kind").first().alias("kind"),
        pl.col("private").first().alias("private"),
        pl.len().alias("events"),
        pl.col("attacker").n_unique().alias("attackers_count"),
        pl.col("t").min().alias("_first"),
        pl.col("t").max().alias("_last"),
    )
    out = (
        base.join(class_counts(hits, ["holder", "target"]), on=["holder", "target"])
        .with_columns(first_seen=iso("_first"), last_seen=iso("_last"))
        .drop("_first", "_last")
        .sort(["events", "holder", "target"], descending=[True, False, False])
    )
    return out.head(cap).to_dicts()
