"""The run-summary part of insights.json: volumes, the busiest attackers and targets, activity over time."""

from __future__ import annotations

from typing import Any

import polars as pl

from ppcti.analysis.common import DAY_US, HOUR_US, iso, timeline
from ppcti.analysis.options import AnalysisOptions


def run_summary(events: pl.DataFrame, hits: pl.DataFrame, options: AnalysisOptions) -> dict[str, Any]:
    """Counts per holder and format, top attackers and targets, and per-holder activity timelines."""
    per_format = (
        events.group_by("hid", "format")
        .agg(pl.col("holder").first(), events=pl.len())
        .select("holder", "format", "events")
        .sort("holder", "format")
    )
    per_holder = per_format.group_by("holder").agg(pl.col("events").sum()).sort("holder")
    span = events.select(first=pl.col("t").min(), last=pl.col("t").max())
    attackers = events.filter(pl.col("attacker").is_not_null())
    top_attackers = (
        attackers.group_by("aid")
        .agg(
            pl.col("attacker_kind", "attacker").first(),
            events=pl.len(),
            first_seen=pl.col("t").min(),
            last_seen=pl.col("t").max(),
        )
        .sort(["events", "attacker"], descending=[True, False])
        .head(options.top_n)
    )
    holders = (
        attackers.join(top_attackers.select("aid"), on="aid", how="semi")
        .group_by("aid")
        .agg(holders=pl.col("holder").unique().sort())
    )
    top_attackers = top_attackers.join(holders, on="aid", maintain_order="left").select(
        kind="attacker_kind",
        attacker="attacker",
        events="events",
        holders="holders",
        first_seen=iso("first_seen"),
        last_seen=iso("last_seen"),
    )
    top_targets = (
        hits.group_by("hid", "tid")
        .agg(
            pl.col("holder", "target_kind", "target").first(),
            attacks=pl.len(),
            attackers_count=pl.col("aid").drop_nulls().n_unique(),
            private=pl.col("private").first(),
            range=pl.col("range").first(),
        )
        .drop("hid", "tid")
        .sort(["attacks", "holder", "target"], descending=[True, False, False])
        .head(options.top_n)
        .rename({"target_kind": "kind"})
    )
    names = events.group_by("hid").agg(pl.col("holder").first())
    activity = (
        timeline(events, ["hid"], HOUR_US, "per_hour")
        .join(timeline(events, ["hid"], DAY_US, "per_day"), on="hid")
        .join(names, on="hid")
        .select("holder", "per_hour", "per_day")
        .sort("holder")
    )
    return {
        "inputs": [],
        "events": events.height,
        "first_seen": span.select(iso("first")).item(),
        "last_seen": span.select(iso("last")).item(),
        "events_per_holder": per_holder.to_dicts(),
        "events_per_format": per_format.to_dicts(),
        "top_attackers": top_attackers.to_dicts(),
        "top_targets": top_targets.to_dicts(),
        "activity": activity.to_dicts(),
    }
