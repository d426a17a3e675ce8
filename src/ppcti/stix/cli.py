"""Commands of ppcti.stix: ``ppcti cti``."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Add this capability's commands to the main app."""
    app.command("cti")(cti)


def cti(
    events: list[Path] = typer.Argument(
        ...,
        help="events.jsonl files or run folders; give several data holders' outputs for one aggregate.",
        exists=True,
    ),
    out: Path = typer.Option(
        ..., "--out", "-o", help="Folder for bundles.jsonl, aggregate.json and invalid.jsonl."
    ),
    tlp: str = typer.Option("amber", "--tlp", help="TLP 2.0 level: clear, green, amber, amber+strict, red."),
    portless_traffic: bool = typer.Option(
        False, "--portless-traffic", help="Also emit network-traffic without both ports (e.g. ICMP)."
    ),
    no_subject: bool = typer.Option(False, "--no-subject", help="Never copy e-mail subjects into STIX."),
    lean_aggregate: bool = typer.Option(
        False,
        "--lean-observations",
        "--lean-aggregate",
        help="Keep per-entry traffic and messages out of observations.json (huge runs).",
    ),
    share_private: bool = typer.Option(
        False,
        "--share-private",
        help="Also make indicators of attackers at private, CGNAT, loopback, link-local or documentation "
        "addresses (they stay with the holder by default).",
    ),
) -> None:
    """Build STIX 2.1 CTI: one bundle per entry and one deduplicated bundle with per-holder sightings."""
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from ppcti.stix.options import CtiOptions
    from ppcti.stix.writer import events_file, write_cti

    options = CtiOptions(
        tlp=tlp,
        portless_traffic=portless_traffic,
        include_subject=not no_subject,
        aggregate_observations=not lean_aggregate,
        share_private=share_private,
    )
    paths = [events_file(p) for p in events]  # fail before writing anything if an input is missing
    console = Console(stderr=True)
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    from ppcti.outdir import staged_output

    with staged_output(out) as stage, Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("building STIX bundles", total=None)
        summary = write_cti(
            paths,
            stage.path,
            options=options,
            progress=lambda n: bar.update(task, description=f"building STIX bundles: {n:,} entries"),
        )
        stage.commit()
    summary.bundles_path = out / "bundles.jsonl"
    summary.aggregate_path = out / "aggregate.json"
    summary.observations_path = out / "observations.json"
    typer.echo(
        f"{summary.bundles:,} bundles ({summary.objects:,} objects) from {summary.events:,} entries "
        f"in {summary.elapsed:.1f}s -> {summary.bundles_path}"
    )
    typer.echo(
        f"aggregate: {summary.aggregate_objects:,} objects, {summary.attackers:,} attackers, "
        f"{summary.attackers_seen_by_several:,} seen by more than one holder -> {summary.aggregate_path}"
    )
    typer.echo(f"observations: {summary.observation_objects:,} objects -> {summary.observations_path}")
    if summary.skipped or summary.invalid:
        typer.echo(
            f"{summary.skipped:,} entries without valid values; {summary.invalid:,} invalid values "
            f"reported in {out / 'invalid.jsonl'}"
        )
        for reason, count in list(summary.invalid_by_reason.items())[:5]:
            typer.echo(f"  {count:,} x {reason}")
