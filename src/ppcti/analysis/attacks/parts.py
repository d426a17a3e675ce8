"""The attack analysis in parts: what each part of the input contributes, and the sums that finish it.

An in-memory run is one part; a partitioned run (:mod:`ppcti.analysis.partitioned`) has one
:class:`EventsPart` per part of the events split by attacker and one :class:`HitsPart` per part of the
hits split by target. Everything kept per part is either keyed by a key that lives in one part only
(attacker profiles, target profiles), a count that adds up (classes, timelines, volumes), or the
distinct (key, target) pairs a distinct count needs — bounded by distinct keys, not by events.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import polars as pl

from ppcti.analysis.attacks.anomalies import anomalies_of, busiest_targets, target_counts, volume_counts
from ppcti.analysis.attacks.campaigns import campaigns
from ppcti.analysis.attacks.classify import classify, from_loaded, techniques_frame
from ppcti.analysis.attacks.options import AttackOptions
from ppcti.analysis.attacks.payload import HAVE_LIBINJECTION
from ppcti.analysis.attacks.profiles import attacker_profiles, classes_of_counts, network_of, target_profiles
from ppcti.analysis.attacks.taxonomy import CLASS_ORDER, CLASSES, capec_of, techniques_of
from ppcti.analysis.common import HOUR_US, bucket_counts, iso, summed, timeline_of

#: Receives the ``attacks.jsonl`` lines of one part (with their ``row``, sorted by it).
LineSink = Callable[[pl.DataFrame], None]


@dataclass(slots=True)
class EventsPart:
    """One part of the events (every attacker's events in one part), classified and summed up."""

    scanned: int
    attacked: int
    profiles: pl.DataFrame
    classes: pl.DataFrame  # cls, events, attackers_count, holders, _conf, _first, _last
    class_targets: pl.DataFrame  # distinct cls, target
    rules: pl.DataFrame  # cls, rule, n
    per_hour: pl.DataFrame  # cls, _b, n
    networks: pl.DataFrame  # network, attackers_count, events, holders
    network_classes: pl.DataFrame  # network, cls, n
    holders: pl.DataFrame  # holder, events, attackers_count
    holder_targets: pl.DataFrame  # distinct holder, target
    holder_classes: pl.DataFrame  # holder, cls, n
    volume: pl.DataFrame  # holder, _b, n
    class_volume: pl.DataFrame  # holder, cls, _b, n


@dataclass(slots=True)
class HitsPart:
    """One part of the classified hits (every target's hits in one part)."""

    targets: list[dict[str, Any]]
    top: pl.DataFrame  # holder, target, total
    counts: pl.DataFrame  # holder, target, _b, n


def event_lines(attacked: pl.DataFrame) -> pl.DataFrame:
    """``attacks.jsonl`` lines with their ``row``: where, who, what, how sure, and why (no payload)."""
    out = attacked.join(techniques_frame(), on="cls", how="left").sort("row")
    return out.select(
        "row",
        file=pl.col("source_file"),
        line=pl.col("line"),
        holder=pl.col("holder"),
        timestamp=iso("t"),
        attacker=pl.col("attacker"),
        target=pl.col("target"),
        attack=pl.struct(
            pl.col("cls").alias("class"),
            pl.col("label"),
            pl.col("technique_ids").alias("techniques"),
            pl.col("technique_names"),
            pl.col("capec"),
            pl.col("confidence").round(3),
            pl.struct("rule", "field", "detail").alias("evidence"),
            pl.col("classes").alias("also"),
        ),
    )


def events_part(
    events: pl.DataFrame,
    options: AttackOptions,
    lines: LineSink | None,
    floods: pl.DataFrame | None = None,
) -> tuple[EventsPart, pl.DataFrame]:
    """Classify ``events`` (see :func:`~.classify.classify` for ``floods``) and sum the part up.
    Returns the part and the ``row, cls`` of every classified event, for the hits."""
    scanned = from_loaded(events)
    classified = classify(scanned, options, floods=floods)
    attacked = scanned.select(
        "row",
        "holder",
        "source_file",
        "line",
        "t",
        "attacker",
        "attacker_kind",
        "attacker_private",
        "dst_ip",
        "dst_port",
    ).join(classified, on="row", how="inner")
    attacked = attacked.with_columns(target=pl.col("dst_ip")).filter(pl.col("attacker").is_not_null())
    if lines is not None:
        lines(event_lines(attacked))
    nets = attacked.filter(pl.col("attacker_kind") == "ip").with_columns(
        network=network_of(pl.col("attacker"))
    )
    nets = nets.filter(pl.col("network").is_not_null())
    volume, class_volume = volume_counts(attacked, options)
    part = EventsPart(
        scanned=scanned.height,
        attacked=attacked.height,
        profiles=attacker_profiles(attacked) if not attacked.is_empty() else pl.DataFrame(),
        classes=attacked.group_by("cls").agg(
            pl.len().alias("events"),
            pl.col("attacker").n_unique().alias("attackers_count"),
            pl.col("holder").unique().alias("holders"),
            pl.col("confidence").sum().alias("_conf"),
            pl.col("t").min().alias("_first"),
            pl.col("t").max().alias("_last"),
        ),
        class_targets=attacked.select("cls", "target").unique(),
        rules=attacked.group_by("cls", "rule").len("n"),
        per_hour=bucket_counts(attacked, ["cls"], HOUR_US),
        networks=nets.group_by("network").agg(
            pl.col("attacker").n_unique().alias("attackers_count"),
            pl.len().alias("events"),
            pl.col("holder").unique().alias("holders"),
        ),
        network_classes=nets.group_by("network", "cls").len("n"),
        holders=attacked.group_by("holder").agg(
            pl.len().alias("events"), pl.col("attacker").n_unique().alias("attackers_count")
        ),
        holder_targets=attacked.select("holder", "target").unique(),
        holder_classes=attacked.group_by("holder", "cls").len("n"),
        volume=volume,
        class_volume=class_volume,
    )
    return part, classified.select("row", "cls")


def hits_part(hits: pl.DataFrame, options: AttackOptions) -> HitsPart:
    """``hits`` joined with their event's class (``cls``; unclassified hits left out)."""
    top, counts = target_counts(hits, options)
    return HitsPart(targets=target_profiles(hits, options.max_listed), top=top, counts=counts)


def _target_order(target: dict[str, Any]) -> tuple[int, str, str]:
    return (-target["events"], target["holder"], target["target"])


def merge_events(a: EventsPart, b: EventsPart) -> EventsPart:
    """Two parts as one: what :func:`finish` gives for ``[merged]`` is what it gives for ``[a, b]``
    (counts added, distinct pairs united, profiles of disjoint attackers concatenated)."""
    profiles = [p for p in (a.profiles, b.profiles) if not p.is_empty()]
    networks = pl.concat([a.networks, b.networks])
    return EventsPart(
        scanned=a.scanned + b.scanned,
        attacked=a.attacked + b.attacked,
        profiles=pl.concat(profiles) if profiles else pl.DataFrame(),
        classes=pl.concat([a.classes, b.classes])
        .group_by("cls")
        .agg(
            pl.col("events").sum(),
            pl.col("attackers_count").sum(),
            pl.col("holders").list.explode().unique(),
            pl.col("_conf").sum(),
            pl.col("_first").min(),
            pl.col("_last").max(),
        ),
        class_targets=pl.concat([a.class_targets, b.class_targets]).unique(),
        rules=summed([a.rules, b.rules], ["cls", "rule"]),
        per_hour=summed([a.per_hour, b.per_hour], ["cls", "_b"]),
        networks=networks.group_by("network").agg(
            pl.col("attackers_count").sum(), pl.col("events").sum(), pl.col("holders").list.explode().unique()
        ),
        network_classes=summed([a.network_classes, b.network_classes], ["network", "cls"]),
        holders=pl.concat([a.holders, b.holders])
        .group_by("holder")
        .agg(pl.col("events").sum(), pl.col("attackers_count").sum()),
        holder_targets=pl.concat([a.holder_targets, b.holder_targets]).unique(),
        holder_classes=summed([a.holder_classes, b.holder_classes], ["holder", "cls"]),
        volume=summed([a.volume, b.volume], ["holder", "_b"]),
        class_volume=summed([a.class_volume, b.class_volume], ["holder", "cls", "_b"]),
    )


def merge_hits(a: HitsPart, b: HitsPart, options: AttackOptions) -> HitsPart:
    """Two parts of hits (disjoint targets) as one, cut back to the ``max_listed`` caps."""
    targets = sorted(a.targets + b.targets, key=_target_order)[: options.max_listed]
    top = busiest_targets(pl.concat([a.top, b.top]), options)
    counts = pl.concat([a.counts, b.counts]).join(
        top.select("holder", "target"), on=["holder", "target"], how="semi"
    )
    return HitsPart(targets=targets, top=top, counts=counts)


def _union_sorted(column: str) -> pl.Expr:
    return pl.col(column).list.explode().unique().sort().alias(column)


def _classes(parts: list[EventsPart]) -> list[dict[str, Any]]:
    if not sum(p.attacked for p in parts):
        return []
    per = (
        pl.concat([p.classes for p in parts])
        .group_by("cls")
        .agg(
            pl.col("events").sum(),
            pl.col("attackers_count").sum(),
            pl.col("holders").list.explode().unique().sort(),
            pl.col("_conf").sum(),
            pl.col("_first").min(),
            pl.col("_last").max(),
        )
        .join(
            pl.concat([p.class_targets for p in parts]).unique().group_by("cls").len("targets_count"),
            on="cls",
        )
    )
    rules = (
        summed([p.rules for p in parts], ["cls", "rule"])
        .sort(["cls", "n", "rule"], descending=[False, True, False])
        .group_by("cls", maintain_order=True)
        .agg(pl.struct("rule", "n").alias("rules"))
    )
    rows = (
        per.join(rules, on="cls")
        .select(
            "cls",
            "events",
            "attackers_count",
            "targets_count",
            "holders",
            (pl.col("_conf") / pl.col("events")).round(3).alias("confidence"),
            "rules",
            first_seen=iso("_first"),
            last_seen=iso("_last"),
        )
        .to_dicts()
    )
    order = {c: i for i, c in enumerate(CLASS_ORDER)}
    for row in rows:
        row["label"] = CLASSES[row["cls"]].label
        row["techniques"] = techniques_of(row["cls"])
        row["capec"] = capec_of(row["cls"])
        row["tactic"] = CLASSES[row["cls"]].tactic
    return sorted(rows, key=lambda r: (-r["events"], order[r["cls"]]))


def _networks(parts: list[EventsPart], cap: int) -> list[dict[str, Any]]:
    nets = [p.networks for p in parts if not p.networks.is_empty()]
    if not nets:
        return []
    base = (
        pl.concat(nets)
        .group_by("network")
        .agg(pl.col("attackers_count").sum(), pl.col("events").sum(), _union_sorted("holders"))
    )
    classes = classes_of_counts(summed([p.network_classes for p in parts], ["network", "cls"]), ["network"])
    out = base.join(classes, on="network").sort(
        ["attackers_count", "events", "network"], descending=[True, True, False]
    )
    return out.head(cap).to_dicts()


def _holders(parts: list[EventsPart]) -> list[dict[str, Any]]:
    if not sum(p.attacked for p in parts):
        return []
    base = (
        summed([p.holders for p in parts], ["holder"], "events")
        .join(summed([p.holders for p in parts], ["holder"], "attackers_count"), on="holder")
        .join(
            pl.concat([p.holder_targets for p in parts]).unique().group_by("holder").len("targets_count"),
            on="holder",
        )
    )
    classes = classes_of_counts(summed([p.holder_classes for p in parts], ["holder", "cls"]), ["holder"])
    return base.join(classes, on="holder").sort("holder").to_dicts()


def finish(
    parts: list[EventsPart], hit_parts: list[HitsPart], options: AttackOptions, members_cap: int
) -> dict[str, Any]:
    """The ``attacks`` section of insights.json from all parts."""
    found = [p.profiles for p in parts if not p.profiles.is_empty()]
    profiles = (
        pl.concat(found).sort(["events", "attacker"], descending=[True, False]) if found else pl.DataFrame()
    )
    grouped = campaigns(profiles, options, members_cap)
    attackers: list[dict[str, Any]] = []
    if not profiles.is_empty():
        listed = profiles.head(options.max_listed)
        if grouped["assignment"].height:
            listed = listed.join(grouped["assignment"], on="attacker", how="left")
        keep = [c for c in listed.columns if not c.startswith(("share_", "_"))]
        attackers = listed.select(keep).sort(["events", "attacker"], descending=[True, False]).to_dicts()
    attacked = sum(p.attacked for p in parts)
    per_class = (
        timeline_of(summed([p.per_hour for p in parts], ["cls", "_b"]), ["cls"], "per_hour")
        .sort("cls")
        .to_dicts()
        if attacked
        else []
    )
    targets = sorted((t for h in hit_parts for t in h.targets), key=_target_order)
    return {
        "options": options.to_dict(),
        "detectors": {"libinjection": HAVE_LIBINJECTION},
        "notes": [n for n in (grouped["note"],) if n],
        "counts": {
            "events": sum(p.scanned for p in parts),
            "classified": attacked,
            "attackers": profiles.height,
            "campaigns": len(grouped["campaigns"]),
            "outliers": len(grouped["outliers"]),
        },
        "classes": _classes(parts),
        "timeline": per_class,
        "attackers": attackers,
        "networks": _networks(parts, options.max_listed),
        "targets": targets[: options.max_listed],
        "holders": _holders(parts),
        "campaigns": grouped["campaigns"],
        "outliers": grouped["outliers"],
        "anomalies": anomalies_of(
            summed([p.volume for p in parts], ["holder", "_b"]),
            summed([p.class_volume for p in parts], ["holder", "cls", "_b"]),
            [h.top for h in hit_parts],
            [h.counts for h in hit_parts],
            options,
        ),
    }
