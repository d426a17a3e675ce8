"""Analysis 3: attackers seen by several data holders, with each holder's supporting entries.

Non-public source addresses are left out by default: 10.0.0.1 at two holders is two machines, and
correlating them would invent links between unrelated networks.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from ppcti.analysis.common import entry_refs, finish_entries, iso
from ppcti.analysis.options import AnalysisOptions

ATTACKER_KEY = ["attacker_kind", "attacker"]


def correlatable(events: pl.DataFrame, options: AnalysisOptions) -> pl.DataFrame:
    """Events whose attacker can be compared across holders."""
    rows = events.filter(pl.col("attacker").is_not_null())
    return rows if options.cross_include_private else rows.filter(~pl.col("attacker_private"))


def attacker_counts(events: pl.DataFrame) -> pl.DataFrame:
    """Per attacker and ``attacker_private`` flag: kind and address, entries, first and last time,
    holders. One group-by over the events that both :func:`cross_holder` and the summary's top
    attackers read (see :func:`whole_attackers`)."""
    return (
        events.select("aid", "attacker_private", *ATTACKER_KEY, "t", "hid")
        .filter(pl.col("attacker").is_not_null())
        # one integer key (the id with its flag in the lowest bit) groups faster than two columns
        .group_by((pl.col("aid") ^ pl.col("attacker_private").cast(pl.UInt64)).alias("_g"))
        .agg(
            pl.col("aid", "attacker_private").first(),
            pl.col(ATTACKER_KEY).first(),
            events=pl.len(),
            first_seen=pl.col("t").min(),
            last_seen=pl.col("t").max(),
            holders_count=pl.col("hid").n_unique(),
        )
    )


def whole_attackers(counts: pl.DataFrame) -> pl.DataFrame | None:
    """:func:`attacker_counts` as one row per attacker, or None if some address was seen both as a
    private source and otherwise (e.g. as a sender): then the caller counts from the events."""
    return None if counts.select(pl.col("aid").is_duplicated().any()).item() else counts


def _per_attacker(rows: pl.DataFrame, options: AnalysisOptions, counts: pl.DataFrame | None) -> pl.DataFrame:
    if counts is not None:
        if not options.cross_include_private:
            return counts.filter(~pl.col("attacker_private"))
        if (whole := whole_attackers(counts)) is not None:
            return whole
    return rows.group_by("aid").agg(
        pl.col(ATTACKER_KEY).first(), holders_count=pl.col("hid").n_unique(), events=pl.len()
    )


def cross_holder(
    events: pl.DataFrame, options: AnalysisOptions, counts: pl.DataFrame | None = None
) -> tuple[list[dict[str, Any]], int]:
    """Attackers seen by at least ``cross_min_holders`` holders, most holders then most entries first
    (``counts``: the :func:`attacker_counts` of ``events`` when already computed)."""
    # the columns read below, before the filters copy rows of all of them
    slim = events.select(
        "aid", "hid", *ATTACKER_KEY, "attacker_private", "holder", "t", "source_file", "line"
    )
    rows = correlatable(slim, options)
    shared = (
        _per_attacker(rows, options, counts)
        .filter(pl.col("holders_count") >= options.cross_min_holders)
        .select("aid", *ATTACKER_KEY, "holders_count", "events")
    )
    total = shared.height
    # Only the rows that can reach the top ``max_cross`` get the full sort (with its strings): those
    # whose (holders, events) is at least that of the max_cross-th largest.
    rank = pl.col("holders_count").cast(pl.UInt64) * (1 << 32) + pl.col("events").cast(pl.UInt64)
    if total > options.max_cross:
        cut = shared.select(rank.top_k(options.max_cross).min()).item()
        shared = shared.filter(rank >= cut)
    shared = shared.sort(
        ["holders_count", "events", *ATTACKER_KEY], descending=[True, True, False, False]
    ).head(options.max_cross)
    # By id first (integers; a superset when one address is both an IP and a sender), then the
    # left join below keeps only the listed (kind, attacker) pairs.
    rows = rows.filter(pl.col("aid").is_in(shared.get_column("aid").implode()))
    shared = shared.drop("aid")
    per_holder = (
        rows.group_by(*ATTACKER_KEY, "holder")
        .agg(
            pl.len().alias("events"),
            pl.col("t").min().alias("_first"),
            pl.col("t").max().alias("_last"),
            *entry_refs(options.entries_cap),
        )
        .with_columns(finish_entries())
        .sort(*ATTACKER_KEY, "holder")
        .group_by(ATTACKER_KEY, maintain_order=True)
        .agg(
            holders=pl.struct(
                "holder",
                "events",
                iso("_first").alias("first_seen"),
                iso("_last").alias("last_seen"),
                "entries_count",
                "entries",
            ),
            first_seen=iso(pl.col("_first").min()),
            last_seen=iso(pl.col("_last").max()),
        )
    )
    out = shared.join(per_holder, on=ATTACKER_KEY, how="left", maintain_order="left").select(
        kind="attacker_kind",
        attacker="attacker",
        holders_count="holders_count",
        events="events",
        first_seen="first_seen",
        last_seen="last_seen",
        holders="holders",
    )
    return out.to_dicts(), total
