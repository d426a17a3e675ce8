"""``analyse``: read events once, run the three analyses, write insights.json and infrastructure.json.

insights.json describes attacks (who, when, how many, which groups); infrastructure.json lists every
private address and internal mailbox that was attacked, per holder. The second stays with the holder:
it is the map of its network, and it is kept apart so that sharing insights never requires sharing it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import orjson

from ppcti.analysis.attacks import AttackOptions, analyse_attacks
from ppcti.analysis.cross import cross_holder
from ppcti.analysis.groups import botnets, sweeps
from ppcti.analysis.load import load
from ppcti.analysis.options import AnalysisOptions
from ppcti.analysis.summary import run_summary
from ppcti.analysis.targets import analyse_targets, infrastructure, private_target_stats
from ppcti.outdir import write_atomic
from ppcti.stix.attacks import ATTACKS_BUNDLE, write_attack_bundle

INSIGHTS_FILE = "insights.json"
INFRASTRUCTURE_FILE = "infrastructure.json"
SCHEMA_VERSION = 1

#: Names passed to ``progress`` in order, so a caller can size its progress bar.
STAGES: tuple[str, ...] = (
    "load",
    "targets",
    "botnets",
    "sweeps",
    "cross-holder",
    "attacks",
    "summary",
    "write",
)

Progress = Callable[[str], None]


def _write_json(path: Path, data: Any) -> None:
    write_atomic(path, orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n")


def analyse(
    events: Path | Sequence[Path],
    out_dir: Path,
    *,
    options: AnalysisOptions = AnalysisOptions(),
    attack_options: AttackOptions = AttackOptions(),
    progress: Progress | None = None,
    input_names: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Analyse one or more events files (or run folders) and return the insights written to ``out_dir``.

    ``progress`` is called with each name of :data:`STAGES` as that stage starts. ``input_names`` are
    recorded as the inputs instead of their paths (a run reads its events from a staging folder whose
    name means nothing once the run is done).
    """
    stage: Progress = progress or (lambda _name: None)
    stage("load")
    loaded = load(events, options)
    stage("targets")
    stats = private_target_stats(loaded.hits)
    targets = analyse_targets(loaded.hits, stats, options)
    stage("botnets")
    botnet_groups, botnet_total = botnets(loaded.hits, options)
    stage("sweeps")
    sweep_groups, sweep_total = sweeps(loaded.hits, options)
    stage("cross-holder")
    shared, shared_total = cross_holder(loaded.events, options)
    stage("attacks")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    attacks = analyse_attacks(
        loaded.events, loaded.hits, out_dir, options=attack_options, members_cap=options.members_cap
    )
    stage("summary")
    summary = run_summary(loaded.events, loaded.hits, options)
    summary["inputs"] = list(input_names) if input_names is not None else loaded.inputs
    summary["events_without_timestamp"] = loaded.no_timestamp
    summary["benign_email_entries_skipped"] = loaded.benign_email_entries
    summary["outbound_entries_skipped"] = loaded.outbound_entries
    summary["counts"] = {
        "private_targets": stats.height,
        "private_targets_listed": len(targets),
        "botnet_groups": botnet_total,
        "botnet_groups_listed": len(botnet_groups),
        "sweeps": sweep_total,
        "sweeps_listed": len(sweep_groups),
        "cross_holder_attackers": shared_total,
        "cross_holder_attackers_listed": len(shared),
    }
    insights = {
        "schema_version": SCHEMA_VERSION,
        "options": options.to_dict(),
        "summary": summary,
        "targets": targets,
        "botnets": botnet_groups,
        "sweeps": sweep_groups,
        "cross_holder": shared,
        "attacks": attacks,
    }
    stage("write")
    _write_json(out_dir / INSIGHTS_FILE, insights)
    _write_json(out_dir / INFRASTRUCTURE_FILE, infrastructure(stats, loaded.internal_domains))
    write_attack_bundle(attacks, out_dir / "cti" / ATTACKS_BUNDLE)
    return insights
