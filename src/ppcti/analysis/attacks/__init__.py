"""Attack classification, profiles, campaigns and anomalies: the ``attacks`` part of insights.json.

:func:`analyse_attacks` classifies every event the analysis kept (:mod:`.classify`), writes one line
per classified event to ``attacks.jsonl`` and returns the summary written under ``attacks`` in
insights.json: classes with their ATT&CK techniques and CAPEC patterns, a timeline per class, profiles
per attacker, /24 network, target and holder, campaigns of similar attackers, unusual attackers and
anomalous windows. Payload text never leaves: evidence names the field, the rule and a token summary.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from ppcti.analysis.attacks.anomalies import anomalies
from ppcti.analysis.attacks.campaigns import HAVE_SKLEARN, campaigns
from ppcti.analysis.attacks.classify import classify, from_loaded, scan, techniques_frame
from ppcti.analysis.attacks.options import AttackOptions
from ppcti.analysis.attacks.payload import HAVE_LIBINJECTION
from ppcti.analysis.attacks.profiles import (
    attacker_profiles,
    holder_profiles,
    network_profiles,
    target_profiles,
)
from ppcti.analysis.attacks.taxonomy import CLASS_ORDER, CLASSES, capec_of, techniques_of
from ppcti.analysis.common import HOUR_US, iso, timeline

ATTACKS_FILE = "attacks.jsonl"

__all__ = ["ATTACKS_FILE", "CLASSES", "AttackOptions", "analyse_attacks", "classify", "scan"]


def _classes(attacked: pl.DataFrame) -> list[dict[str, Any]]:
    if attacked.is_empty():
        return []
    per = attacked.group_by("cls").agg(
        pl.len().alias("events"),
        pl.col("attacker").n_unique().alias("attackers_count"),
        pl.col("target").n_unique().alias("targets_count"),
        pl.col("holder").unique().sort().alias("holders"),
        pl.col("confidence").mean().round(3).alias("confidence"),
        pl.col("t").min().alias("_first"),
        pl.col("t").max().alias("_last"),
    )
    rules = (
        attacked.group_by("cls", "rule")
        .len("n")
        .sort(["cls", "n", "rule"], descending=[False, True, False])
        .group_by("cls", maintain_order=True)
        .agg(pl.struct("rule", "n").alias("rules"))
    )
    rows = (
        per.join(rules, on="cls")
        .with_columns(first_seen=iso("_first"), last_seen=iso("_last"))
        .drop("_first", "_last")
        .to_dicts()
    )
    order = {c: i for i, c in enumerate(CLASS_ORDER)}
    for row in rows:
        row["label"] = CLASSES[row["cls"]].label
        row["techniques"] = techniques_of(row["cls"])
        row["capec"] = capec_of(row["cls"])
        row["tactic"] = CLASSES[row["cls"]].tactic
    return sorted(rows, key=lambda r: (-r["events"], order[r["cls"]]))


def _write_events(attacked: pl.DataFrame, path: Path) -> None:
    """One line per classified event: where it is, who, what, how sure, and why (no payload text)."""
    out = attacked.join(techniques_frame(), on="cls", how="left").sort("row")
    tmp = path.with_name(path.name + ".tmp")
    out.select(
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
    ).write_ndjson(tmp)
    tmp.replace(path)


def analyse_attacks(
    events: pl.DataFrame,
    hits: pl.DataFrame,
    out_dir: Path | None,
    *,
    options: AttackOptions = AttackOptions(),
    members_cap: int = 100,
) -> dict[str, Any]:
    """Classify, profile, cluster and find anomalies. ``events`` and ``hits`` are the frames of
    :func:`ppcti.analysis.load.load` (only their rows are classified: benign mail and outbound traffic
    stay out); ``events`` keeps the ``extra`` fields classification reads, so nothing is parsed twice."""
    scanned = from_loaded(events)
    classified = classify(scanned, options)
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
    attacked = attacked.with_columns(target=pl.col("dst_ip"))
    attacked = attacked.filter(pl.col("attacker").is_not_null())
    attack_hits = hits.select("row", "holder", "target", "target_kind", "private", "attacker", "t").join(
        classified.select("row", "cls"), on="row", how="inner"
    )
    if out_dir is not None:
        _write_events(attacked, Path(out_dir) / ATTACKS_FILE)

    profiles = attacker_profiles(attacked) if not attacked.is_empty() else pl.DataFrame()
    grouped = campaigns(profiles, options, members_cap)
    attackers: list[dict[str, Any]] = []
    if not profiles.is_empty():
        listed = profiles.head(options.max_listed)
        if grouped["assignment"].height:
            listed = listed.join(grouped["assignment"], on="attacker", how="left")
        keep = [c for c in listed.columns if not c.startswith(("share_", "_"))]
        attackers = listed.select(keep).sort(["events", "attacker"], descending=[True, False]).to_dicts()
    per_class = (
        timeline(attacked, ["cls"], HOUR_US, "per_hour").sort("cls").to_dicts()
        if not attacked.is_empty()
        else []
    )
    return {
        "options": options.to_dict(),
        "detectors": {
            "libinjection": HAVE_LIBINJECTION,
            "scikit_learn": HAVE_SKLEARN,
        },
        "notes": [n for n in (grouped["note"],) if n],
        "counts": {
            "events": scanned.height,
            "classified": attacked.height,
            "attackers": profiles.height,
            "campaigns": len(grouped["campaigns"]),
            "outliers": len(grouped["outliers"]),
        },
        "classes": _classes(attacked),
        "timeline": per_class,
        "attackers": attackers,
        "networks": network_profiles(attacked, options.max_listed),
        "targets": target_profiles(attack_hits, options.max_listed),
        "holders": holder_profiles(attacked),
        "campaigns": grouped["campaigns"],
        "outliers": grouped["outliers"],
        "anomalies": anomalies(attacked, attack_hits, options),
    }
