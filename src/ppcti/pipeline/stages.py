"""The stages after the core: PII, CTI, analysis, enrichment, report and Kafka.

Each reads what the core stages wrote into the run folder and returns the figures ``summary.json``
keeps under ``stages``. Each is ``stage(ctx) -> dict``, registered in :data:`STAGES`; a stage's own
package is imported when it runs, so a run that skips it does not need its extra installed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ppcti.pipeline.context import RunContext
from ppcti.pipeline.options import OPTIONAL_STAGES

Stage = Callable[[RunContext], dict[str, Any]]


def stage_pii(ctx: RunContext) -> dict[str, Any]:
    from ppcti.pii import scan_upload

    report = scan_upload(ctx.upload, options=pii_options(ctx), limits=ctx.options.limits)
    return finish_pii(ctx, report)


def pii_options(ctx: RunContext) -> Any:
    from ppcti.pii import PiiOptions

    return PiiOptions(nlp=ctx.options.nlp, rules_file=ctx.options.pii_rules)


def finish_pii(ctx: RunContext, report: Any) -> dict[str, Any]:
    """Knowledge-graph inference over the scan's findings, ``pii.json`` and ``kg.ttl``."""
    from ppcti.kg import annotate, export_turtle
    from ppcti.pii import write_pii_json

    annotate(report)
    write_pii_json(report, ctx.out / "pii.json")
    export_turtle(report, ctx.out / "kg.ttl")
    types = sorted({f.type for f in report.findings})
    return {
        "findings": len(report.findings),
        "types": types,
        "use_case": report.use_case,
        "flags": [f["flag"] for f in report.flags],
        "message": f"{len(report.findings)} findings of {len(types)} PII types → pii.json, kg.ttl",
    }


def cti_figures(events: Path, cti_dir: Path, tlp: str, share_private: bool) -> dict[str, Any]:
    """The CTI stage on plain arguments, so a worker process can run it."""
    from ppcti.stix import CtiOptions, write_cti

    result = write_cti(events, cti_dir, options=CtiOptions(tlp=tlp, share_private=share_private))
    data = result.to_dict()
    kept = sum(result.withheld.values())
    data["message"] = (
        f"{data['bundles']} STIX bundles → cti/bundles.jsonl, cti/aggregate.json, cti/observations.json; "
        f"{kept} entries' sources not shared as attackers (outbound, non-public or own)"
    )
    return data


def analysis_figures(events: Path, out: Path) -> dict[str, Any]:
    """The analysis stage on plain arguments, so a worker process can run it."""
    from ppcti.analysis import analyse

    insights = analyse(events, out, input_names=[events.name])
    counts = {key: len(value) for key, value in insights.items() if isinstance(value, list)}
    found = ", ".join(f"{n} {key.replace('_', ' ')}" for key, n in counts.items())
    return {**counts, "message": f"{found} → insights.json, infrastructure.json"}


#: Stages that need only the files the core stages wrote: (function, its arguments from the context).
#: They may run at the same time as each other and as the PII scan.
FILE_STAGES: dict[str, Callable[[RunContext], tuple[Callable[..., dict[str, Any]], tuple[Any, ...]]]] = {
    "cti": lambda ctx: (
        cti_figures,
        (ctx.out / "events.jsonl", ctx.out / "cti", ctx.options.tlp, ctx.options.share_private),
    ),
    "analysis": lambda ctx: (analysis_figures, (ctx.out / "events.jsonl", ctx.out)),
}


def stage_cti(ctx: RunContext) -> dict[str, Any]:
    fn, args = FILE_STAGES["cti"](ctx)
    return fn(*args)


def stage_analysis(ctx: RunContext) -> dict[str, Any]:
    fn, args = FILE_STAGES["analysis"](ctx)
    return fn(*args)


def stage_enrich(ctx: RunContext) -> dict[str, Any]:
    from ppcti.enrich.cli import require_extra

    if not (ctx.out / "cti" / "aggregate.json").is_file():
        return {"message": "skipped: no CTI to enrich"}
    require_extra()
    from ppcti.enrich.run import enrich_run

    return enrich_run(ctx.out, ctx.options.enrich)


def stage_report(ctx: RunContext) -> dict[str, Any]:
    from ppcti.analysis import write_report

    path = write_report(ctx.out)
    return {"path": path.name, "message": f"{path.name}: open it in a browser"}


def stage_kafka(ctx: RunContext) -> dict[str, Any]:
    from ppcti.bus import publish_run

    settings = ctx.options.kafka
    assert settings is not None  # planned only when set
    report = publish_run(
        ctx.out,
        settings,
        run_id=ctx.summary.run_id,
        holder=ctx.options.holder,
        include_events=ctx.options.kafka_events,
    )
    data = report.to_dict()
    data["message"] = f"{report.delivered} messages delivered to {settings.bootstrap}"
    return data


#: The later stages by name, in the order a run takes them.
STAGES: dict[str, Stage] = {
    "pii": stage_pii,
    "cti": stage_cti,
    "analysis": stage_analysis,
    "enrich": stage_enrich,
    "report": stage_report,
    "kafka": stage_kafka,
}

#: Stages that show or publish ``summary.json``: it is written before they run.
NEEDS_SUMMARY = frozenset({"report", "kafka"})


def planned_stages(ctx: RunContext) -> list[str]:
    """The later stages this run takes, from its options."""
    options = ctx.options
    skip = options.skip | ({"report"} if "analysis" in options.skip else set())  # it shows the insights
    steps = [s for s in OPTIONAL_STAGES if s not in skip and (s != "enrich" or options.enrich)]
    if options.kafka is not None:
        steps.append("kafka")
    return steps


def run_later_stages(ctx: RunContext, done: dict[str, tuple[dict[str, Any], float]] | None = None) -> None:
    """Each planned stage in turn, its figures recorded in the summary and its time on the clock.

    ``done`` holds the figures and seconds of stages that already ran elsewhere (worker processes, see
    :mod:`ppcti.pipeline.parallel`); they are recorded in their place in the order.
    """
    done = done or {}
    steps = planned_stages(ctx)
    for count, stage in enumerate(steps):
        if stage in done:
            ctx.summary.stages[stage], seconds = done[stage]
            ctx.summary.stage_seconds[stage] = ctx.summary.stage_seconds.get(stage, 0.0) + seconds
            continue
        ctx.progress(stage, count, len(steps))
        if stage in NEEDS_SUMMARY:
            ctx.summary.write(ctx.out)
        with ctx.timed(stage):
            ctx.summary.stages[stage] = STAGES[stage](ctx)
    if steps:
        ctx.progress("done", len(steps), len(steps))
