"""``ppcti run``: the pipeline that turns an upload into normalised events, CTI and reports.

Stages, in order: ingest (safe extraction, type detection) → recognise the log format of each file →
parse and clean (timestamps, e-mails, MACs, repairs, in the format) → deduplicate across the run →
minimise features → write ``events.jsonl``, ``cleaned/``, ``rejects.jsonl`` (:mod:`.core`) → later
stages that read those files: PII, knowledge graph, STIX, analysis, enrichment, report, Kafka
(:mod:`.stages`). Every stage takes one :class:`RunContext`; :func:`run_pipeline` composes them for
``ppcti run``, the TEE service and the Kafka job worker alike. The package reads no environment and no
configuration file: its callers make :class:`RunOptions`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from ppcti.errors import InputRefused
from ppcti.ingest import open_upload
from ppcti.outdir import Staged, check_out, staged_output
from ppcti.pipeline.context import ProgressFn, RunContext, no_progress
from ppcti.pipeline.core import run_core
from ppcti.pipeline.options import OPTIONAL_STAGES, RunOptions
from ppcti.pipeline.parallel import WorkerProcesses, workers_for
from ppcti.pipeline.stages import STAGES, Stage, planned_stages, run_later_stages
from ppcti.pipeline.summary import FileStats, RunSummary

__all__ = [
    "OPTIONAL_STAGES",
    "RUN_OUTPUTS",
    "STAGES",
    "FileStats",
    "ProgressFn",
    "RunContext",
    "RunOptions",
    "RunSummary",
    "Stage",
    "planned_stages",
    "run_pipeline",
]

#: What a run writes into --out; a new run replaces all of them (those it skips are removed).
RUN_OUTPUTS = ("cleaned", "cti", "events.jsonl", "rejects.jsonl", "summary.json", "pii.json", "kg.ttl")
RUN_OUTPUTS += ("insights.json", "infrastructure.json", "report.html")
RUN_OUTPUTS += ("enrichment.jsonl", "enrichment-overview.json")


def run_pipeline(
    inputs: Path | Sequence[Path],
    options: RunOptions,
    *,
    progress: ProgressFn | None = None,
    started: datetime | None = None,
) -> RunSummary:
    """Run every stage on ``inputs`` and write the run folder ``options.out``.

    ``started`` names the run (its id and ``started_at``); the caller's clock by default.
    """
    summary = RunSummary.start(options.holder, started or datetime.now(UTC))
    # Everything is written into a staging folder and moved into --out at the end (ppcti.outdir): an
    # interrupted or failed run leaves nothing that looks complete, and no link inside --out is followed.
    check_out(options.out)  # fail before any work; the staging folder is made after ingest reads the inputs
    start = time.perf_counter()
    upload = open_upload(inputs, holder=options.holder, limits=options.limits)
    summary.stage_seconds["ingest"] = time.perf_counter() - start
    with upload, staged_output(options.out) as stage:
        ctx = RunContext(options, summary, upload, progress or no_progress).writing_to(stage.path)
        summary.refused = [{"member": r.member, "reason": r.reason} for r in upload.refused]
        workers = workers_for(ctx)
        if workers > 1:
            with WorkerProcesses(workers) as pool:
                pii = pool.start_pii(ctx)
                run_core(ctx)
                _check_completed(ctx, stage)
                done = pool.finish(ctx, pii)
        else:
            run_core(ctx)
            _check_completed(ctx, stage)
            done = {}
        run_later_stages(ctx, done)
        summary.write(stage.path)
        stage.commit(remove=RUN_OUTPUTS)
    return summary


def _check_completed(ctx: RunContext, stage: Staged) -> None:
    """Refuse a run in which no file was parsed, leaving only its summary."""
    if ctx.summary.completed:
        return
    ctx.summary.write(stage.path)
    stage.commit(remove=RUN_OUTPUTS)
    if ctx.upload.refused and not ctx.upload.files:
        raise InputRefused("every member of the upload was refused; see summary.json")
    raise InputRefused("no file in the upload holds a recognised log format; see summary.json")
