"""``analyse``: read events once, run the three analyses, write insights.json and infrastructure.json.

insights.json describes attacks (who, when, how many, which groups); infrastructure.json lists every
private address and internal mailbox that was attacked, per holder. The second stays with the holder:
it is the map of its network, and it is kept apart so that sharing insights never requires sharing it.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import orjson

from ppcti.analysis.attacks import ATTACKS_FILE, AttackOptions, analyse_attacks
from ppcti.analysis.cross import attacker_counts, cross_holder
from ppcti.analysis.groups import botnets, sweeps
from ppcti.analysis.load import load, resolve_inputs
from ppcti.analysis.options import AnalysisOptions
from ppcti.analysis.partitioned import Sections, analyse_partitioned, auto_partitions
from ppcti.analysis.summary import run_summary
from ppcti.analysis.targets import analyse_targets, infrastructure, private_target_stats, target_counts
from ppcti.errors import ConfigError
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


def _in_memory(
    files: Sequence[Path],
    out_dir: Path,
    options: AnalysisOptions,
    attack_options: AttackOptions,
    stage: Progress,
) -> Sections:
    """All sections from the two frames of :func:`load`, held in memory for the whole run."""
    loaded = load(files, options)
    # The sections read the two frames and nothing another section computes (the summary reads two
    # shared counts), so they run in two lanes: sweeps and the attack classification on a second
    # thread, the rest on this one. The stages spend most of their time in Polars, which releases the
    # GIL, and many of their steps use one core. Progress marks keep their order; a stage of the second
    # lane is marked where this thread reaches it, so the stage times printed are no per-stage costs.
    # A failure on this thread cancels the second lane's stage not yet started; one already running
    # cannot be stopped, so its attacks.jsonl is taken back and the error raised once it ends.
    done = False
    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ppcti-lane") as pool:
            # the hits leave some entry fields in the events (see ppcti.analysis.load)
            sweeping = pool.submit(sweeps, loaded.hits, options, loaded.events)
            classifying = pool.submit(
                analyse_attacks,
                loaded.events,
                loaded.hits,
                out_dir,
                options=attack_options,
                members_cap=options.members_cap,
            )
            try:
                stage("targets")
                counts = target_counts(loaded.hits)  # shared with the summary's top targets
                stats = private_target_stats(loaded.hits, counts)
                targets = analyse_targets(loaded.hits, stats, options, loaded.events)
                stage("botnets")
                botnet_found = botnets(loaded.hits, options, loaded.events)
                stage("sweeps")
                stage("cross-holder")
                attackers = attacker_counts(loaded.events)  # shared with the summary's top attackers
                shared = cross_holder(loaded.events, options, attackers)
                summary = run_summary(loaded.events, loaded.hits, options, counts, attackers)
                stage("attacks")
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)
                raise
            sweep_found, attacks = sweeping.result(), classifying.result()
        done = True
    finally:
        if not done:
            (Path(out_dir) / ATTACKS_FILE).unlink(missing_ok=True)
    stage("summary")
    return Sections(
        stats=stats,
        targets=targets,
        botnets=botnet_found,
        sweeps=sweep_found,
        cross=shared,
        attacks=attacks,
        summary=summary,
        internal_domains=loaded.internal_domains,
        benign=loaded.benign_email_entries,
        outbound=loaded.outbound_entries,
        no_timestamp=loaded.no_timestamp,
        inputs=loaded.inputs,
    )


def analyse(
    events: Path | Sequence[Path],
    out_dir: Path,
    *,
    options: AnalysisOptions = AnalysisOptions(),
    attack_options: AttackOptions = AttackOptions(),
    progress: Progress | None = None,
    input_names: Sequence[str] | None = None,
    partitions: int | None = None,
) -> dict[str, Any]:
    """Analyse one or more events files (or run folders) and return the insights written to ``out_dir``.

    ``progress`` is called with each name of :data:`STAGES` in order as that stage starts (in memory,
    sweeps and the attack classification run beside the other stages: see :func:`_in_memory`).
    ``input_names`` are recorded as the inputs instead of their paths (a run reads its events from a
    staging folder whose name means nothing once the run is done).

    ``partitions``: 0 analyses in memory (fastest; about 1 GiB per million events), N >= 1 in N
    partitions spilled to a temporary folder inside ``out_dir`` and removed afterwards (memory about
    that of one partition, same results: :mod:`ppcti.analysis.partitioned`); None (default) chooses
    from the input size (:func:`~ppcti.analysis.partitioned.auto_partitions`). Not an
    :class:`AnalysisOptions` field: it changes how, not what, so insights.json does not record it.
    """
    if partitions is not None and partitions < 0:
        raise ConfigError("partitions must be 0 (in memory) or a positive number")
    stage: Progress = progress or (lambda _name: None)
    files = resolve_inputs(events)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    parts = auto_partitions(files) if partitions is None else partitions
    stage("load")
    if parts == 0:
        found = _in_memory(files, out_dir, options, attack_options, stage)
    else:
        with tempfile.TemporaryDirectory(prefix=".spill-", dir=out_dir) as folder:
            found = analyse_partitioned(
                files,
                out_dir,
                parts,
                Path(folder),
                options=options,
                attack_options=attack_options,
                stage=stage,
            )
        stage("summary")
    summary = found.summary
    summary["inputs"] = list(input_names) if input_names is not None else found.inputs
    summary["events_without_timestamp"] = found.no_timestamp
    summary["benign_email_entries_skipped"] = found.benign
    summary["outbound_entries_skipped"] = found.outbound
    (botnet_groups, botnet_total), (sweep_groups, sweep_total) = found.botnets, found.sweeps
    shared, shared_total = found.cross
    summary["counts"] = {
        "private_targets": found.stats.height,
        "private_targets_listed": len(found.targets),
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
        "targets": found.targets,
        "botnets": botnet_groups,
        "sweeps": sweep_groups,
        "cross_holder": shared,
        "attacks": found.attacks,
    }
    stage("write")
    _write_json(out_dir / INSIGHTS_FILE, insights)
    _write_json(out_dir / INFRASTRUCTURE_FILE, infrastructure(found.stats, found.internal_domains))
    write_attack_bundle(found.attacks, out_dir / "cti" / ATTACKS_BUNDLE)
    return insights
