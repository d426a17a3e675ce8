"""Commands of ppcti.analysis: ``ppcti analyse`` and ``ppcti report``."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import typer

from ppcti.analysis.options import AnalysisOptions, option_help

_HELP = option_help()
_DEFAULTS = {f.name: f.default for f in fields(AnalysisOptions)}


def _opt(name: str, flag: str | None = None) -> typer.models.OptionInfo:
    return typer.Option(
        _DEFAULTS[name], flag or "--" + name.replace("_", "-"), help=_HELP[name], show_default=True
    )


def analyse_command(
    events: list[Path] = typer.Argument(
        ..., help="events.jsonl files (or .parquet) or run folders; several holders' runs can be combined."
    ),
    out: Path = typer.Option(
        ..., "--out", "-o", help="Folder for insights.json, infrastructure.json, report.html."
    ),
    botnet_window: str = _opt("botnet_window"),
    botnet_min_sources: int = _opt("botnet_min_sources"),
    botnet_match: str = _opt("botnet_match"),
    sweep_window: str = _opt("sweep_window"),
    sweep_min_targets: int = _opt("sweep_min_targets"),
    cross_min_holders: int = _opt("cross_min_holders"),
    cross_include_private: bool = _opt(
        "cross_include_private", "--cross-include-private/--cross-public-only"
    ),
    include_outbound: bool = _opt("include_outbound", "--include-outbound/--no-outbound"),
    internal_domain: list[str] = typer.Option(
        [], "--internal-domain", help=_HELP["internal_email_domains"] + " Repeat for several."
    ),
    internal_domain_min_share: float = _opt("internal_domain_min_share"),
    benign_verdict: list[str] = typer.Option(
        [],
        "--benign-verdict",
        help=_HELP["benign_verdicts"]
        + f" Repeat for several; replaces the default {', '.join(_DEFAULTS['benign_verdicts'])}.",
    ),
    max_targets: int = _opt("max_targets"),
    max_groups: int = _opt("max_groups"),
    max_cross: int = _opt("max_cross"),
    top_n: int = _opt("top_n"),
    members_cap: int = _opt("members_cap"),
    entries_cap: int = _opt("entries_cap"),
    attack_option: list[str] = typer.Option(
        [],
        "--attack-option",
        help="A threshold of attack classification, campaigns or anomalies as NAME=VALUE (e.g. "
        "brute_force_min_attempts=20); repeat for several. Names and defaults: docs/analysis.md.",
    ),
    report: bool = typer.Option(True, "--report/--no-report", help="Also write report.html."),
    partitions: int | None = typer.Option(
        None,
        "--partitions",
        min=0,
        help="0: analyse in memory (fastest, about 1 GiB per million events); N: in N partitions spilled "
        "to a temporary folder (memory about one partition's, same results). Default: chosen from the "
        "input size.",
    ),
) -> None:
    """Find attacked private infrastructure, botnets, sweeps and attackers shared by several holders."""
    from rich.console import Console
    from rich.markup import escape
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from ppcti.analysis.attacks import AttackOptions
    from ppcti.analysis.engine import STAGES, analyse
    from ppcti.analysis.report import write_report
    from ppcti.outdir import staged_output

    attack_options = AttackOptions.from_pairs(attack_option)
    options = AnalysisOptions(
        botnet_window=botnet_window,
        botnet_min_sources=botnet_min_sources,
        botnet_match=botnet_match,
        sweep_window=sweep_window,
        sweep_min_targets=sweep_min_targets,
        cross_min_holders=cross_min_holders,
        cross_include_private=cross_include_private,
        include_outbound=include_outbound,
        internal_email_domains=tuple(internal_domain),
        internal_domain_min_share=internal_domain_min_share,
        benign_verdicts=tuple(v.strip().lower() for v in benign_verdict) or _DEFAULTS["benign_verdicts"],
        max_targets=max_targets,
        max_groups=max_groups,
        max_cross=max_cross,
        top_n=top_n,
        members_cap=members_cap,
        entries_cap=entries_cap,
    )
    console = Console(stderr=True)
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), TimeElapsedColumn())
    # results appear in --out together when complete (ppcti.outdir); the report links to what --out holds
    with staged_output(out) as stage, Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("analysing", total=len(STAGES) + int(report))

        def step(name: str) -> None:
            bar.update(task, description=name, completed=STAGES.index(name))

        insights = analyse(
            events,
            stage.path,
            options=options,
            attack_options=attack_options,
            progress=step,
            partitions=partitions,
        )
        if report:
            bar.update(task, description="report", completed=len(STAGES))
            write_report(out if out.is_dir() else stage.path, insights, out_dir=stage.path)
        stage.commit()
    counts = insights["summary"]["counts"]
    console.print(
        f"{insights['summary']['events']:,} entries: {counts['private_targets']:,} private targets, "
        f"{counts['botnet_groups']:,} botnet groups, {counts['sweeps']:,} sweeps, "
        f"{counts['cross_holder_attackers']:,} attackers seen by several holders → {escape(str(out))}",
        highlight=False,
    )


def report_command(
    run_dir: Path = typer.Argument(
        ..., help="Folder holding insights.json (and optionally summary.json, cti/)."
    ),
) -> None:
    """Write report.html for a folder that already has insights.json."""
    from ppcti.analysis.report import write_report

    typer.echo(str(write_report(run_dir)))


def register(app: typer.Typer) -> None:
    """Add this capability's commands to the main app."""
    app.command("analyse")(analyse_command)
    app.command("report")(report_command)
