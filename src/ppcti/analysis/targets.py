"""Analysis 1: the holders' own attacked infrastructure (non-public IPs and internal e-mail addresses).

Targets are keyed by holder: 10.0.0.5 at one holder and 10.0.0.5 at another are different machines.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from ppcti.analysis.common import DAY_US, HOUR_US, counted, iso, timeline, with_entry_fields
from ppcti.analysis.options import AnalysisOptions

TARGET_KEY = ["holder", "target_kind", "target"]


def target_counts(hits: pl.DataFrame) -> pl.DataFrame:
    """One row per attacked target (private or not) with its counts, in no order: what both
    :func:`private_target_stats` and the summary's top targets are made of, so one group-by over the
    hits serves both.

    A target's rows are all private or all not (the flag follows from its address and holder); should
    some input mix both under one id, the private ones are counted on their own, as if each half
    were a target, and the summary falls back to counting the hits itself (``None`` from
    :func:`whole_targets`).
    """
    # one integer key instead of three columns: a group-by on one column takes half the time, and
    # ids are 64-bit hashes already (load._ids), so combining them adds no meaningful collision odds
    key = pl.col("tid") ^ pl.col("hid").hash(31) ^ pl.col("private").cast(pl.UInt64)
    return hits.group_by(key.alias("_g")).agg(
        pl.col("hid", "tid", "private").first(),
        *[pl.col(c).first() for c in TARGET_KEY],
        range=pl.col("range").first(),
        attacks=pl.len(),
        first_seen=pl.col("t").min(),
        last_seen=pl.col("t").max(),
        attackers_count=pl.col("aid").drop_nulls().n_unique(),
    )


def whole_targets(counts: pl.DataFrame) -> pl.DataFrame | None:
    """``counts`` of :func:`target_counts` as one row per target, or None if a target is split."""
    split = counts.select(pl.struct("hid", "tid").is_duplicated().any()).item()
    return None if split else counts


def private_target_stats(hits: pl.DataFrame, counts: pl.DataFrame | None = None) -> pl.DataFrame:
    """One row per attacked private target with its counts, most attacked first (``counts``: the
    :func:`target_counts` of ``hits`` when already computed)."""
    counts = target_counts(hits) if counts is None else counts
    columns = ["hid", "tid", *TARGET_KEY, "range", "attacks", "first_seen", "last_seen", "attackers_count"]
    return ordered_stats(counts.filter(pl.col("private")).select(columns))


def ordered_stats(stats: pl.DataFrame) -> pl.DataFrame:
    """Most attacked first, then by holder, kind and address: a total order, so the stats of several
    parts (each target in one) concatenated and ordered are those of the whole."""
    return stats.sort(["attacks", *TARGET_KEY], descending=[True, False, False, False])


def target_order(target: dict[str, Any]) -> tuple[int, str, str, str]:
    """:func:`ordered_stats`' order for rows of the ``targets`` section."""
    return (-target["attacks"], target["holder"], target["kind"], target["target"])


def analyse_targets(
    hits: pl.DataFrame, stats: pl.DataFrame, options: AnalysisOptions, events: pl.DataFrame | None = None
) -> list[dict[str, Any]]:
    """The ``targets`` section: the ``max_targets`` most attacked private targets in full detail.
    ``events``: where the protocol of an entry is found when the hits leave it out (see
    :func:`~ppcti.analysis.common.with_entry_fields`)."""
    top = stats.head(options.max_targets)
    ids = ["hid", "tid"]
    own = [c for c in ("protocol",) if c in hits.columns]
    # the few listed ids by a set look-up first: a join over all hits costs ten times more
    listed = hits.select(*ids, "row", "private", "attacker", "aid", *own, "dst_port", "t").filter(
        pl.col("tid").is_in(top.get_column("tid").implode()) & pl.col("private")
    )
    rows = with_entry_fields(listed.join(top.select(ids), on=ids, how="semi"), events, ["protocol"])
    cap = options.members_cap
    attackers = counted(rows, ids, "attacker", cap, "attackers", value_id="aid")
    protocols = rows.group_by(ids).agg(protocols=pl.col("protocol").drop_nulls().unique().sort())
    ports = counted(rows, ids, "dst_port", cap, "ports")
    hourly = timeline(rows, ids, HOUR_US, "per_hour")
    daily = timeline(rows, ids, DAY_US, "per_day")
    out = top.with_columns(first_seen=iso("first_seen"), last_seen=iso("last_seen"))
    for part in (attackers, protocols, ports, hourly, daily):
        out = out.join(part, on=ids, how="left", maintain_order="left")
    out = out.with_columns(
        pl.col("attackers").fill_null([]),
        pl.col("ports").fill_null([]),
        pl.col("ports_count").fill_null(0),
        pl.col("per_hour").fill_null([]),
        pl.col("per_day").fill_null([]),
    ).drop("attackers_count_right", strict=False)
    out = out.rename({"target_kind": "kind"})
    columns = [
        "holder",
        "kind",
        "target",
        "range",
        "attacks",
        "first_seen",
        "last_seen",
        "attackers_count",
        "attackers",
        "protocols",
        "ports_count",
        "ports",
        "per_hour",
        "per_day",
    ]
    return out.select(columns).to_dicts()


def infrastructure(stats: pl.DataFrame, internal_domains: dict[str, list[str]]) -> dict[str, Any]:
    """Per holder, every attacked private IP and internal e-mail address (this file stays private)."""
    ordered = stats.sort("holder", "target_kind", "target")
    holders: dict[str, Any] = {
        h: {"internal_email_domains": internal_domains.get(h, []), "ips": [], "emails": []}
        for h in sorted(set(internal_domains) | set(ordered.get_column("holder").to_list()))
    }
    for row in ordered.select("holder", "target_kind", "target", "range", "attacks").iter_rows(named=True):
        entry = {"address": row["target"], "range": row["range"], "attacks": row["attacks"]}
        holders[row["holder"]]["ips" if row["target_kind"] == "ip" else "emails"].append(entry)
    return {"holders": holders}
