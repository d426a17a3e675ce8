"""The analysis in partitioned passes: memory set by a partition's size, not by the input's.

The inputs are read once into Parquet partitions (:mod:`.spill`); then every analysis runs on one
partition at a time where its key is the partition key, so each of its groups is whole in one part:

1. hits by target: attacked targets (stats and details), botnets, the summary's top targets, floods;
2. events by attacker (with the hits by attacker beside them): sweeps, cross-holder attackers, the
   summary's volumes and top attackers, attack classification and the per-attacker attack profiles;
   each event's class is kept in one byte per input row for the third pass;
3. hits by target again, with their event's class: target profiles and per-target anomaly series.

Each part yields what the single-frame code would have given for its keys (already capped to the
listed number: the overall top ``k`` are among the parts' top ``k``); the merge sorts with the same
total orders and adds up counts and timelines. ``attacks.jsonl`` is written per part with each line's
input row and merged back into row order by row ranges. The result is byte for byte the in-memory
one (``tests/analysis/test_analysis_partitioned.py``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from ppcti.analysis.attacks import ATTACKS_FILE, AttackOptions
from ppcti.analysis.attacks.behaviour import floods_of_hits
from ppcti.analysis.attacks.parts import EventsPart, HitsPart, events_part, finish, hits_part
from ppcti.analysis.attacks.taxonomy import CLASS_ORDER
from ppcti.analysis.cross import cross_holder
from ppcti.analysis.groups import (
    BOTNET_LABELS,
    SWEEP_LABELS,
    botnet_groups,
    botnet_rows,
    ordered,
    sweep_groups,
    sweep_rows,
)
from ppcti.analysis.options import AnalysisOptions
from ppcti.analysis.spill import Spill, estimated_rows, spill
from ppcti.analysis.summary import EventsPart as SummaryPart
from ppcti.analysis.summary import events_part as summary_part
from ppcti.analysis.summary import finish_summary, top_targets
from ppcti.analysis.targets import analyse_targets, ordered_stats, private_target_stats, target_order

#: Inputs estimated at more events than this are analysed in partitions unless told otherwise: below,
#: one pass in memory is faster (5 M events in ~10 s) and its peak (~1 GiB per million) still fits.
IN_MEMORY_MAX_EVENTS = 6_000_000
#: Events per partition aimed at (the busiest attackers make some partitions larger).
EVENTS_PER_PART = 1_000_000
#: Rows of ``attacks.jsonl`` merged at a time.
MERGE_ROWS = 1_000_000
_NO_CLASS = 255

Progress = Callable[[str], None]


def auto_partitions(files: Sequence[Path]) -> int:
    """0 (one pass in memory) for inputs up to :data:`IN_MEMORY_MAX_EVENTS`, else partitions of about
    :data:`EVENTS_PER_PART` events."""
    rows = estimated_rows(files)
    return 0 if rows <= IN_MEMORY_MAX_EVENTS else math.ceil(rows / EVENTS_PER_PART)


@dataclass(slots=True)
class Sections:
    """Everything insights.json and infrastructure.json are made of, however it was computed."""

    stats: pl.DataFrame
    targets: list[dict[str, Any]]
    botnets: tuple[list[dict[str, Any]], int]
    sweeps: tuple[list[dict[str, Any]], int]
    cross: tuple[list[dict[str, Any]], int]
    attacks: dict[str, Any]
    summary: dict[str, Any]
    internal_domains: dict[str, list[str]]
    benign: int
    outbound: int
    no_timestamp: int
    inputs: list[str]


def _cross_order(row: dict[str, Any]) -> tuple[int, int, str, str]:
    return (-row["holders_count"], -row["events"], row["kind"], row["attacker"])


_CODES = {c: i for i, c in enumerate(CLASS_ORDER)}


def _classes_of(rows: pl.Series, classes: np.ndarray) -> pl.Series:
    codes = pl.Series("cls", classes[rows.to_numpy()])
    return codes.replace_strict(list(range(len(CLASS_ORDER))), list(CLASS_ORDER), default=None)


class _Lines:
    """``attacks.jsonl`` parts on disk (each in row order), merged into one file in row order."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.files: list[Path] = []

    def __call__(self, lines: pl.DataFrame) -> None:
        path = self.folder / f"lines-{len(self.files):05d}.parquet"
        lines.write_parquet(path, compression="lz4", row_group_size=100_000)
        self.files.append(path)

    def merge(self, path: Path, rows: int) -> None:
        tmp = path.with_name(path.name + ".tmp")
        with tmp.open("wb") as out:
            if self.files:
                scan = pl.scan_parquet(self.files)
                for start in range(0, max(rows, 1), MERGE_ROWS):
                    block = scan.filter(pl.col("row").is_between(start, start + MERGE_ROWS, closed="left"))
                    block.collect().sort("row").drop("row").write_ndjson(out)
        tmp.replace(path)


def analyse_partitioned(
    files: Sequence[Path],
    out_dir: Path | None,
    parts: int,
    folder: Path,
    *,
    options: AnalysisOptions,
    attack_options: AttackOptions,
    stage: Progress,
) -> Sections:
    """All sections from ``parts`` partitions spilled under ``folder`` (see the module docstring)."""
    data = spill(files, options, parts, folder)
    stage("targets")
    stats, targets, botnets, tops, floods = [], [], [], [], []
    for q in range(parts):
        hits = data.hits_by_target(q)
        part_stats = private_target_stats(hits)
        stats.append(part_stats)
        targets += analyse_targets(hits, part_stats, options)
        botnets.append(botnet_groups(hits, options))
        tops.append(top_targets(hits, options))
        floods.append(floods_of_hits(hits, attack_options).with_columns(pl.col("_n").cast(pl.UInt32)))
    del hits
    all_floods = pl.concat(floods)
    stage("botnets")
    stage("sweeps")
    lines = _Lines(folder)
    sweeps, crossed, summaries, attack_parts = [], [], [], []
    cross_total = 0
    classes = np.full(data.rows, _NO_CLASS, dtype=np.uint8)
    for p in range(parts):
        sweeps.append(sweep_groups(data.hits_by_attacker(p), options))
        events = data.events(p)
        rows, total = cross_holder(events, options)
        crossed += rows
        cross_total += total
        summaries.append(summary_part(events, options))
        mine = all_floods.join(events.select("row"), on="row", how="semi")
        part, classified = events_part(
            events, attack_options, lines if out_dir is not None else None, floods=mine
        )
        del events
        codes = classified.get_column("cls").replace_strict(_CODES, return_dtype=pl.UInt8)
        classes[classified.get_column("row").to_numpy()] = codes.to_numpy()
        attack_parts.append(part)
    stage("cross-holder")
    stage("attacks")
    hit_parts = [_attack_hits(data, q, classes, attack_options) for q in range(parts)]
    if out_dir is not None:
        lines.merge(Path(out_dir) / ATTACKS_FILE, data.rows)
    return _sections(
        data,
        stats,
        targets,
        botnets,
        sweeps,
        (crossed, cross_total),
        summaries,
        tops,
        attack_parts,
        hit_parts,
        options,
        attack_options,
    )


def _attack_hits(data: Spill, q: int, classes: np.ndarray, options: AttackOptions) -> HitsPart:
    hits = data.hits_by_target(q).select("row", "holder", "target", "target_kind", "private", "attacker", "t")
    hits = hits.with_columns(cls=_classes_of(hits.get_column("row"), classes)).filter(
        pl.col("cls").is_not_null()
    )
    return hits_part(hits, options)


def _sections(
    data: Spill,
    stats: list[pl.DataFrame],
    targets: list[dict[str, Any]],
    botnets: list[pl.DataFrame],
    sweeps: list[pl.DataFrame],
    cross: tuple[list[dict[str, Any]], int],
    summaries: list[SummaryPart],
    tops: list[list[dict[str, Any]]],
    attack_parts: list[EventsPart],
    hit_parts: list[HitsPart],
    options: AnalysisOptions,
    attack_options: AttackOptions,
) -> Sections:
    crossed, cross_total = cross
    return Sections(
        stats=ordered_stats(pl.concat(stats)),
        targets=sorted(targets, key=target_order)[: options.max_targets],
        botnets=botnet_rows(ordered(pl.concat(botnets), BOTNET_LABELS), options),
        sweeps=sweep_rows(ordered(pl.concat(sweeps), SWEEP_LABELS), options),
        cross=(sorted(crossed, key=_cross_order)[: options.max_cross], cross_total),
        attacks=finish(attack_parts, hit_parts, attack_options, options.members_cap),
        summary=finish_summary(summaries, tops, options),
        internal_domains=data.internal_domains,
        benign=data.benign,
        outbound=data.outbound,
        no_timestamp=data.no_timestamp,
        inputs=data.inputs,
    )
