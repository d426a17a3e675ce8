"""Attack classification, profiles, campaigns and anomalies: the ``attacks`` part of insights.json.

:func:`analyse_attacks` classifies every event the analysis kept (:mod:`.classify`), writes one line
per classified event to ``attacks.jsonl`` and returns the summary written under ``attacks`` in
insights.json: classes with their ATT&CK techniques and CAPEC patterns, a timeline per class, profiles
per attacker, /24 network, target and holder, campaigns of similar attackers, unusual attackers and
anomalous windows. Payload text never leaves: evidence names the field, the rule and a token summary.
The work is split in parts (:mod:`.parts`) so that a partitioned run adds up to the same result.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from ppcti.analysis.attacks.classify import classify, scan
from ppcti.analysis.attacks.options import AttackOptions
from ppcti.analysis.attacks.parts import events_part, finish, hits_part
from ppcti.analysis.attacks.taxonomy import CLASSES

ATTACKS_FILE = "attacks.jsonl"

__all__ = [
    "ATTACKS_FILE",
    "CLASSES",
    "AttackOptions",
    "analyse_attacks",
    "classify",
    "scan",
]


def write_lines(lines: pl.DataFrame, path: Path) -> None:
    """Write ``attacks.jsonl`` lines (from :func:`.parts.event_lines`, in row order) atomically."""
    tmp = path.with_name(path.name + ".tmp")
    lines.drop("row").write_ndjson(tmp)
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
    sink = None if out_dir is None else (lambda lines: write_lines(lines, Path(out_dir) / ATTACKS_FILE))
    part, classified = events_part(events, options, sink)
    attack_hits = hits.select("row", "holder", "target", "target_kind", "private", "attacker", "t").join(
        classified, on="row", how="inner"
    )
    return finish([part], [hits_part(attack_hits, options)], options, members_cap)
