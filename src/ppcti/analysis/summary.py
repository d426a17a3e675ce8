"""The run-summary part of insights.json: volumes, the busiest attackers and targets, activity over time.

Built in two steps so that a partitioned run gives the same summary as one pass: :func:`events_part`
and :func:`top_targets` describe one part of the input (events split by attacker, hits by target),
and :func:`finish_summary` adds the parts up (volumes and timelines are sums; the top lists are the
parts' own top lists merged with the same total order).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from ppcti.analysis.common import DAY_US, HOUR_US, bucket_counts, iso, summed, timeline_of
from ppcti.analysis.cross import whole_attackers
from ppcti.analysis.options import AnalysisOptions
from ppcti.analysis.targets import whole_targets


@dataclass(slots=True)
class EventsPart:
    """What the summary needs from one part of ``events`` (every attacker's rows in one part)."""

    events: int
    per_format: pl.DataFrame  # hid, format, holder, events
    first: int | None
    last: int | None
    top_attackers: list[dict[str, Any]]
    hourly: pl.DataFrame  # hid, _b, n
    daily: pl.DataFrame
    names: pl.DataFrame  # hid, holder


def events_part(
    events: pl.DataFrame, options: AnalysisOptions, counts: pl.DataFrame | None = None
) -> EventsPart:
    """Counts per holder and format, time span, this part's top attackers and activity counts
    (``counts``: the :func:`~ppcti.analysis.cross.attacker_counts` of ``events``, if already known)."""
    per_format = events.group_by("hid", "format").agg(pl.col("holder").first(), events=pl.len())
    span = events.select(first=pl.col("t").min(), last=pl.col("t").max())
    # the few columns read below, before a filter copies rows of all of them
    columns = events.select("aid", "attacker_kind", "attacker", "t", "holder")
    attackers = columns.filter(pl.col("attacker").is_not_null())
    whole = None if counts is None else whole_attackers(counts)
    if whole is None:
        whole = attackers.group_by("aid").agg(
            pl.col("attacker_kind", "attacker").first(),
            events=pl.len(),
            first_seen=pl.col("t").min(),
            last_seen=pl.col("t").max(),
        )
    if whole.height > options.top_n:  # only rows that can make the list get the sort by address
        whole = whole.filter(pl.col("events") >= pl.col("events").top_k(options.top_n).min())
    top_attackers = (
        whole.select("aid", "attacker_kind", "attacker", "events", "first_seen", "last_seen")
        .sort(["events", "attacker"], descending=[True, False])
        .head(options.top_n)
    )
    holders = (
        attackers.filter(pl.col("aid").is_in(top_attackers.get_column("aid").implode()))
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
    return EventsPart(
        events=events.height,
        per_format=per_format,
        first=span.item(0, "first"),
        last=span.item(0, "last"),
        top_attackers=top_attackers.to_dicts(),
        hourly=bucket_counts(events, ["hid"], HOUR_US),
        daily=bucket_counts(events, ["hid"], DAY_US),
        names=events.group_by("hid").agg(pl.col("holder").first()),
    )


def top_targets(
    hits: pl.DataFrame, options: AnalysisOptions, counts: pl.DataFrame | None = None
) -> list[dict[str, Any]]:
    """The most attacked targets of ``hits`` (every target's rows in this part), most attacked first
    (``counts``: the :func:`~ppcti.analysis.targets.target_counts` of ``hits``, if already known)."""
    whole = None if counts is None else whole_targets(counts)
    if whole is None:
        whole = hits.group_by("hid", "tid").agg(
            pl.col("holder", "target_kind", "target").first(),
            attacks=pl.len(),
            attackers_count=pl.col("aid").drop_nulls().n_unique(),
            private=pl.col("private").first(),
            range=pl.col("range").first(),
        )
    return (
        whole.select("holder", "target_kind", "target", "attacks", "attackers_count", "private", "range")
        .sort(["attacks", "holder", "target"], descending=[True, False, False])
        .head(options.top_n)
        .rename({"target_kind": "kind"})
        .to_dicts()
    )


def _iso(us: int | None) -> str | None:
    return pl.select(iso(pl.lit(us, pl.Int64))).item()


def finish_summary(
    parts: list[EventsPart], targets: list[list[dict[str, Any]]], options: AnalysisOptions
) -> dict[str, Any]:
    """The summary from the parts (one part each for an in-memory run)."""
    per_format = (
        pl.concat([p.per_format for p in parts])
        .group_by("hid", "format")
        .agg(pl.col("holder").first(), pl.col("events").sum())
        .select("holder", "format", "events")
        .sort("holder", "format")
    )
    per_holder = per_format.group_by("holder").agg(pl.col("events").sum()).sort("holder")
    firsts = [p.first for p in parts if p.first is not None]
    lasts = [p.last for p in parts if p.last is not None]
    attackers = sorted(
        (a for p in parts for a in p.top_attackers), key=lambda a: (-a["events"], a["attacker"])
    )[: options.top_n]
    top = sorted(
        (t for part in targets for t in part), key=lambda t: (-t["attacks"], t["holder"], t["target"])
    )
    names = pl.concat([p.names for p in parts]).unique("hid")
    hourly = timeline_of(summed([p.hourly for p in parts], ["hid", "_b"]), ["hid"], "per_hour")
    daily = timeline_of(summed([p.daily for p in parts], ["hid", "_b"]), ["hid"], "per_day")
    activity = (
        hourly.join(daily, on="hid")
        .join(names, on="hid")
        .select("holder", "per_hour", "per_day")
        .sort("holder")
    )
    return {
        "inputs": [],
        "events": sum(p.events for p in parts),
        "first_seen": _iso(min(firsts) if firsts else None),
        "last_seen": _iso(max(lasts) if lasts else None),
        "events_per_holder": per_holder.to_dicts(),
        "events_per_format": per_format.to_dicts(),
        "top_attackers": attackers,
        "top_targets": top[: options.top_n],
        "activity": activity.to_dicts(),
    }


def run_summary(
    events: pl.DataFrame,
    hits: pl.DataFrame,
    options: AnalysisOptions,
    counts: pl.DataFrame | None = None,
    attackers: pl.DataFrame | None = None,
) -> dict[str, Any]:
    """Counts per holder and format, top attackers and targets, and per-holder activity timelines
    (``counts``, ``attackers``: see :func:`top_targets` and :func:`events_part`)."""
    part = events_part(events, options, attackers)
    return finish_summary([part], [top_targets(hits, options, counts)], options)
