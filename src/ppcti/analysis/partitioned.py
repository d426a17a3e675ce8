"""The analysis in partitioned passes: memory set by a partition's size, not by the input's.

The inputs are read once into Parquet partitions (:mod:`.spill`); then every analysis runs on one
partition at a time where its key is the partition key, so each of its groups is whole in one part:

1. hits by target: attacked targets' counts, botnets, the summary's top targets, floods;
2. events by attacker (with the hits by attacker beside them): sweeps, cross-holder attackers, the
   summary's volumes and top attackers, attack classification and the per-attacker attack profiles;
   each event's class is kept in one byte per input row for the third pass;
3. hits by target again: details of the overall most attacked targets (known from the counts of
   pass 1), and with each hit's class, target profiles and per-target anomaly series.

Each part yields what the single-frame code would have given for its keys; the merge sorts with the
same total orders, cuts to the same caps after every part (the overall top ``k`` are among the top
``k`` of what has been seen) and adds up counts and timelines as the parts come. ``attacks.jsonl``
is written per part with each line's input row and merged back into row order by row ranges. The
result is byte for byte the in-memory one (``tests/analysis/test_analysis_partitioned.py``).
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
from ppcti.analysis.attacks.parts import (
    EventsPart,
    HitsPart,
    LineSink,
    events_part,
    finish,
    hits_part,
    merge_events,
    merge_hits,
)
from ppcti.analysis.attacks.taxonomy import CLASS_ORDER
from ppcti.analysis.cross import attacker_counts, cross_holder
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
from ppcti.analysis.targets import (
    analyse_targets,
    ordered_stats,
    private_target_stats,
    target_counts,
    target_order,
)

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


class _Passes:
    """The passes over one spill, keeping of each part's results only what the merge can still use:
    a top list is cut back to its cap after every part (the overall top *k* is among the top *k* of
    what has been seen), counts are added up as they come. So what is kept does not grow with the
    number of partitions either."""

    def __init__(self, data: Spill, options: AnalysisOptions, attack_options: AttackOptions) -> None:
        self.data, self.options, self.attack_options = data, options, attack_options
        self.stats: list[pl.DataFrame] = []
        self.top: pl.DataFrame | None = None
        self.targets: list[dict[str, Any]] = []
        self.botnets: pl.DataFrame | None = None
        self.botnet_total = 0
        self.tops: list[list[dict[str, Any]]] = []
        self.floods: list[pl.DataFrame] = []
        self.sweeps: pl.DataFrame | None = None
        self.sweep_total = 0
        self.crossed: list[dict[str, Any]] = []
        self.cross_total = 0
        self.summaries: list[SummaryPart] = []
        self.attacks: EventsPart | None = None
        self.attack_hits: HitsPart | None = None
        # each input row's class (one byte): the events pass classifies, the hits pass reads it
        self.classes = np.full(data.rows, _NO_CLASS, dtype=np.uint8)

    def _groups(self, kept: pl.DataFrame | None, found: pl.DataFrame, labels: list[str]) -> pl.DataFrame:
        merged = found if kept is None else pl.concat([kept, found])
        return ordered(merged, labels).head(self.options.max_groups)

    def by_target(self, q: int) -> None:
        """Pass 1 on hits partition ``q``: targets' counts, botnets, top targets, floods."""
        hits = self.data.hits_by_target(q)
        counts = target_counts(hits)
        self.stats.append(private_target_stats(hits, counts))
        found, total = botnet_groups(hits, self.options)
        self.botnet_total += total
        self.botnets = self._groups(self.botnets, found, BOTNET_LABELS)
        self.tops.append(top_targets(hits, self.options, counts))
        floods = floods_of_hits(hits, self.attack_options)
        self.floods.append(floods.with_columns(pl.col("_n").cast(pl.UInt32)))

    def by_attacker(self, p: int, lines: LineSink | None) -> None:
        """Pass 2 on partition ``p`` of hits and events by attacker: sweeps, cross-holder, summary,
        classification (with the floods of pass 1 that fall on these events)."""
        found, total = sweep_groups(self.data.hits_by_attacker(p), self.options)
        self.sweep_total += total
        self.sweeps = self._groups(self.sweeps, found, SWEEP_LABELS)
        events = self.data.events(p)
        attackers = attacker_counts(events)
        rows, total = cross_holder(events, self.options, attackers)
        self.crossed = sorted(self.crossed + rows, key=_cross_order)[: self.options.max_cross]
        self.cross_total += total
        self.summaries.append(summary_part(events, self.options, attackers))
        floods = pl.concat(self.floods).join(events.select("row"), on="row", how="semi")
        part, classified = events_part(events, self.attack_options, lines, floods=floods)
        del events
        codes = classified.get_column("cls").replace_strict(_CODES, return_dtype=pl.UInt8)
        self.classes[classified.get_column("row").to_numpy()] = codes.to_numpy()
        self.attacks = part if self.attacks is None else merge_events(self.attacks, part)

    def by_target_again(self, q: int) -> None:
        """Pass 3 on hits partition ``q``: the details of the most attacked targets that are in it (known
        now from pass 1's counts), and, each hit with its event's class, target profiles and anomalies."""
        if self.top is None:
            self.top = ordered_stats(pl.concat(self.stats)).head(self.options.max_targets)
        hits = self.data.hits_by_target(q)
        mine = self.top.filter(pl.col("tid") % self.data.parts == q)
        found = analyse_targets(hits, mine, self.options)
        self.targets = sorted(self.targets + found, key=target_order)[: self.options.max_targets]
        columns = ["row", "holder", "target", "target_kind", "private", "attacker", "t"]
        hits = hits.select(columns).with_columns(cls=_classes_of(hits.get_column("row"), self.classes))
        part = hits_part(hits.filter(pl.col("cls").is_not_null()), self.attack_options)
        kept = self.attack_hits
        self.attack_hits = part if kept is None else merge_hits(kept, part, self.attack_options)

    def sections(self) -> Sections:
        """The merge: the same total orders and caps as one pass, counts added up."""
        options, data = self.options, self.data
        assert self.botnets is not None and self.sweeps is not None
        assert self.attacks is not None and self.attack_hits is not None
        return Sections(
            stats=ordered_stats(pl.concat(self.stats)),
            targets=self.targets,
            botnets=botnet_rows(self.botnets, options, total=self.botnet_total),
            sweeps=sweep_rows(self.sweeps, options, total=self.sweep_total),
            cross=(self.crossed, self.cross_total),
            attacks=finish([self.attacks], [self.attack_hits], self.attack_options, options.members_cap),
            summary=finish_summary(self.summaries, self.tops, options),
            internal_domains=data.internal_domains,
            benign=data.benign,
            outbound=data.outbound,
            no_timestamp=data.no_timestamp,
            inputs=data.inputs,
        )


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
    passes = _Passes(spill(files, options, parts, folder), options, attack_options)
    stage("targets")
    for q in range(parts):
        passes.by_target(q)
    stage("botnets")
    stage("sweeps")
    lines = _Lines(folder) if out_dir is not None else None
    for p in range(parts):
        passes.by_attacker(p, lines)
    stage("cross-holder")
    stage("attacks")
    for q in range(parts):
        passes.by_target_again(q)
    if lines is not None:
        lines.merge(Path(out_dir) / ATTACKS_FILE, passes.data.rows)
    return passes.sections()
