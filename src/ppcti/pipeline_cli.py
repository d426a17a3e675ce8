"""The ``ppcti run`` command."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from ppcti.pipeline import OPTIONAL_STAGES
from ppcti.pipeline.options import stage_list

if TYPE_CHECKING:
    from rich.console import Console

    from ppcti.pipeline import RunSummary


def register(app: typer.Typer) -> None:
    """Add the run command to the main app."""
    app.command("run", no_args_is_help=True)(run)
    app.command("formats")(formats)


def formats() -> None:
    """List the registered log formats and the file kinds each reads."""
    from rich.console import Console
    from rich.table import Table

    from ppcti.formats import available

    table = Table(title="log formats")
    for col in ("name", "reads", "description"):
        table.add_column(col)
    for name, fmt in sorted(available().items()):
        table.add_row(name, ", ".join(sorted(fmt.kinds)), fmt.description)
    console = Console()
    console.print(table)
    from ppcti.native import native_module

    if native_module() is not None:
        console.print("compiled scanner (ppcti-native): on for firewall-text in UTC; event writer: on")
    else:
        console.print("compiled scanner (ppcti-native): off, using the Polars path (see docs/formats.md)")


#: Config-file keys that differ from the parameter they set (the rest are the option names with "_").
_CONFIG_ALIASES = {"date": "day", "format": "log_format", "json_mappings": "json_mapping"}


def _load_config(ctx: typer.Context, value: Path | None) -> Path | None:
    """``--config FILE``: a YAML mapping of option names to values, used as defaults for this run.

    Flags on the command line still win; settings come from here or the environment, never from code.
    """
    if value is None:
        return None
    import yaml

    from ppcti.errors import ConfigError

    try:
        data = yaml.safe_load(value.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the configuration: {exc}", file=str(value)) from exc
    if not isinstance(data, dict):
        raise ConfigError("the configuration must be a mapping of option names to values", file=str(value))
    known = {p.name for p in ctx.command.params if p.name}
    defaults: dict[str, object] = {}
    for key, setting in data.items():
        name = _CONFIG_ALIASES.get(str(key), str(key).replace("-", "_"))
        if name not in known or name in ("inputs", "config"):
            raise ConfigError(f"unknown setting {key!r}", file=str(value))
        defaults[name] = setting
    ctx.default_map = {**(ctx.default_map or {}), **defaults}
    return value


def run(
    inputs: list[Path] = typer.Argument(..., help="ZIP archives, folders or files (JSON, CSV, TXT, XLSX)."),
    config: Path | None = typer.Option(
        None,
        "--config",
        envvar="PPCTI_CONFIG",
        is_eager=True,
        callback=_load_config,
        help="YAML file of defaults for these options (e.g. timezone, year, profile, tlp, kafka).",
    ),
    holder: str = typer.Option(..., "--holder", help="The data holder (organisation) these logs belong to."),
    out: Path = typer.Option(Path("out/run"), "--out", help="Run folder to write."),
    log_format: str | None = typer.Option(
        None, "--format", help="Force a log format for every file instead of recognising it."
    ),
    timezone: str = typer.Option(
        "UTC", "--timezone", help="IANA zone of timestamps written without an offset."
    ),
    year: int | None = typer.Option(None, "--year", help="Year for timestamps without one (BSD syslog)."),
    day: str | None = typer.Option(None, "--date", help="Date (YYYY-MM-DD) for time-only log lines."),
    date_order: str = typer.Option("DMY", "--date-order", help="How to read 01/02/2023: DMY or MDY."),
    profile: str | None = typer.Option(
        None, "--profile", help="Feature profile: default, full, network, or a YAML file of kept fields."
    ),
    skip: list[str] = typer.Option(
        [],
        "--skip",
        help=f"Stages to leave out: {', '.join(OPTIONAL_STAGES)} (repeatable, or comma-separated).",
    ),
    tlp: str = typer.Option(
        "amber", "--tlp", help="TLP 2.0 marking of the CTI: clear, green, amber, amber+strict, red."
    ),
    nlp: str = typer.Option("auto", "--nlp", help="PII free-text engine: auto, spacy or regex."),
    pii_rules: Path | None = typer.Option(None, "--pii-rules", help="YAML file of custom PII rules."),
    kafka: str | None = typer.Option(
        None, "--kafka", envvar="PPCTI_KAFKA_BOOTSTRAP", help="Kafka bootstrap servers to publish results to."
    ),
    kafka_events: bool = typer.Option(False, "--kafka-events", help="Also publish the normalised events."),
    json_mapping: list[Path] = typer.Option(
        [], "--json-mapping", help="YAML field mapping for a JSON feed shape of your own (repeatable)."
    ),
    share_private: bool = typer.Option(
        False,
        "--share-private",
        help="Also make indicators of attackers at private, CGNAT, loopback, link-local or documentation "
        "addresses (they stay with the holder by default).",
    ),
    enrich_config: Path | None = typer.Option(
        None,
        "--enrich-config",
        envvar="PPCTI_ENRICH_CONFIG",
        help="YAML file of reputation-service keys and limits; the enrich stage runs when a key is set.",
    ),
    workers: int = typer.Option(
        0,
        "--workers",
        min=0,
        help="Processes for the PII scan, CTI and analysis, which run side by side (0: one per core; "
        "uploads under 8 MB always use one).",
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars or summary table."),
) -> None:
    """Turn security logs into normalised events, PII findings, STIX 2.1 CTI and an analyst report."""
    del config  # applied by its callback, as defaults of the other options
    from rich.console import Console

    from ppcti.bus.settings import BusSettings
    from ppcti.clean.minimise import load_profile
    from ppcti.clean.timestamps import TimeContext
    from ppcti.enrich.cli import settings_for_run
    from ppcti.errors import ConfigError
    from ppcti.pipeline import RunOptions, run_pipeline
    from ppcti.progress import stage_bars

    try:
        given_date = date.fromisoformat(day) if day else None
    except ValueError:
        raise ConfigError(f"--date must be YYYY-MM-DD, not {day!r}") from None
    options = RunOptions(
        holder=holder,
        out=out,
        format=log_format,
        time=TimeContext(timezone=timezone, year=year, date=given_date, date_order=date_order.upper()),
        profile=load_profile(profile),
        skip=frozenset(stage_list(skip)),
        tlp=tlp,
        nlp=nlp,
        pii_rules=pii_rules,
        kafka=BusSettings.from_env(bootstrap=kafka) if kafka else None,
        kafka_events=kafka_events,
        json_mappings=tuple(json_mapping),
        share_private=share_private,
        enrich=settings_for_run(enrich_config),
        workers=workers or len(os.sched_getaffinity(0)),
    )
    console = Console(stderr=True, quiet=quiet)
    with stage_bars(console, quiet=quiet) as progress:
        summary = run_pipeline(inputs, options, progress=progress)
    if not quiet:
        _print_summary(console, summary, out)


def _print_summary(console: Console, summary: RunSummary, out: Path) -> None:
    from rich.markup import escape
    from rich.table import Table
    from rich.text import Text

    # names come from the upload and the command line: printed literally, never read as Rich markup
    table = Table(title=Text(f"ppcti run {summary.run_id} — {summary.holder}"), show_lines=False)
    for col in ("file", "format", "entries", "events", "rejects", "duplicates"):
        table.add_column(col, justify="right" if col not in ("file", "format") else "left")
    for f in summary.files:
        table.add_row(
            Text(f.path),
            Text(f.format) if f.format else Text("unrecognised", style="yellow"),
            str(f.entries),
            str(f.events),
            str(f.rejects),
            str(f.duplicates),
        )
    console.print(table)
    for refused in summary.refused:
        console.print(f"[yellow]refused[/] {escape(refused['member'])}: {escape(refused['reason'])}")
    for stage, result in summary.stages.items():
        console.print(
            f"[green]{stage}[/]: {escape(str(result.get('message', '')))}"
            if isinstance(result, dict)
            else escape(stage)
        )
    totals = f"[bold]{summary.events}[/] events, [bold]{summary.rejects}[/] rejects"
    console.print(f"{totals} → {escape(str(out))}")
